"""The show's timing, hand-over to visitors, recovery and measured claims, on a fake clock
with a recording stage and a runner without a thread over a simulation of simulated time
and one figure: no window. Steps are followed tick by tick of the fake clock, never by
machine speed."""

from __future__ import annotations

import logging
import math
from datetime import datetime
from types import SimpleNamespace

import pytest

from tests.fakes import SteppedRunner
from twin.gui.kiosk.show import MAX_RESTARTS, VISITOR_SPEED, Show, StepOutcome
from twin.gui.kiosk.story import Step, Story, loads_story

START = datetime(2026, 8, 1, 5, 30)

STORY = """
[story]
name = "three-steps"
title = "Three steps"
idle_return_s = 30

[[steps]]
name = "first"
view = "site"
hold_s = 10
speed = 600
caption = "One"

[[steps]]
name = "second"
view = "hall-1"
hold_s = 20
speed = 20
reset_racks = true
events = [
  { kind = "pump-trip", target = "H2-CDU-05", pumps = 2 },
  { at_s = 100, kind = "pump-restore", target = "H2-CDU-05", pumps = 2 },
]

[[steps]]
name = "third"
view = "yard"
hold_s = 10
speed = "max"
"""


class Clock:
    def __init__(self) -> None:
        self.now = 100.0

    def __call__(self) -> float:
        return self.now


class Stage:
    def __init__(self) -> None:
        self.entered: list[str] = []
        self.touring: list[bool] = []
        self.fail_on: dict[str, int] = {}  # step name: failures still to raise

    def enter_step(self, step: Step) -> None:
        if self.fail_on.get(step.name, 0) > 0:
            self.fail_on[step.name] -= 1
            raise RuntimeError(f"the stage broke on {step.name}")
        self.entered.append(step.name)

    def set_touring(self, touring: bool) -> None:
        self.touring.append(touring)


class Simulation:
    """Simulated time and a tokens figure that falls 1 % per simulated minute once a
    pump trip is applied; a log of what was applied."""

    def __init__(self) -> None:
        self.dt_s = 1.0
        self.time_s = 0.0
        self.has_output = False
        self.tripped_at_s: float | None = None
        self.applied: list[str] = []

    def step(self, n: int = 1) -> None:
        self.time_s += n * self.dt_s
        self.has_output = True

    def reset(self) -> None:
        self.time_s, self.has_output, self.tripped_at_s = 0.0, False, None

    def set_step(self, dt_s: float) -> None:
        self.dt_s = dt_s

    def snapshot(self, *, robots: bool = True) -> SimpleNamespace:
        minutes = 0.0 if self.tripped_at_s is None else (self.time_s - self.tripped_at_s) / 60
        return SimpleNamespace(
            time_s=self.time_s, site={"tokens_per_s": 1e6 * (1 - 0.01 * minutes)}
        )

    def apply(self, event) -> None:
        self.applied.append(event.kind)
        if event.kind == "pump-trip":
            self.tripped_at_s = self.time_s

    def reset_racks(self) -> int:
        self.applied.append("reset-racks")
        return 0


class Runner(SteppedRunner):
    """The runner's GUI side on the simulation above, recording what the show asked;
    ``keeps_up``: the share of the speed asked for that it achieves."""

    def __init__(self, keeps_up: float = 1.0) -> None:
        super().__init__(Simulation())
        self.keeps_up = keeps_up
        self.speeds: list[float | None] = []
        self.resets = 0
        self.resumes = 0

    def reset(self) -> None:
        self.resets += 1
        super().reset()

    def resume(self) -> None:
        self.resumes += 1

    def set_speed(self, speed: float | None) -> None:
        self.speeds.append(speed)
        super().set_speed(speed)

    def advance(self, wall_s: float) -> None:
        super().advance(wall_s * self.keeps_up)


def _show(text: str = STORY, runner: Runner | None = None) -> Show:
    story: Story = loads_story(text)
    show = Show(story, Stage(), runner or Runner(), start=START, clock=Clock())
    show.start()
    return show


@pytest.fixture
def show() -> Show:
    return _show()


def _run(show: Show, seconds: float, tick_s: float = 0.5) -> None:
    """``seconds`` of wall-clock time in ticks: the simulation runs, the show sees each
    newest frame and ticks."""
    for _ in range(round(seconds / tick_s)):
        show.clock.now += tick_s
        show.simulation.advance(tick_s)
        frame = show.simulation.latest()
        show.observe(frame.generation, frame.snapshot)
        show.tick()


def test_steps_follow_on_wall_clock_time_and_each_loop_resets_the_simulation(show) -> None:
    assert show.stage.entered == ["first"]
    assert show.simulation.resets == 1 and show.loops == 1
    _run(show, 9.5)
    assert show.step.name == "first"
    _run(show, 0.5)
    assert show.step.name == "second"
    _run(show, 20 + 10)
    assert show.stage.entered == ["first", "second", "third", "first"]
    assert show.simulation.resets == 2 and show.loops == 2
    assert show.simulation.speeds == [600, 20, None, 600]


def test_events_fire_once_at_their_simulated_time_after_the_step_starts(show) -> None:
    _run(show, 10)  # "second" starts; the restore is 100 simulated s in, 5 s at speed 20
    assert show.simulation.sim.applied == ["reset-racks", "pump-trip"]
    _run(show, 4.5)
    assert show.simulation.sim.applied == ["reset-racks", "pump-trip"]
    _run(show, 0.5)
    assert show.simulation.sim.applied == ["reset-racks", "pump-trip", "pump-restore"]
    _run(show, 15)
    assert show.simulation.sim.applied == ["reset-racks", "pump-trip", "pump-restore"]


def test_a_visitor_pauses_the_tour_and_idle_time_brings_it_back(show) -> None:
    _run(show, 12)  # 2 s into "second": the trip fired, the restore has not
    show.visitor_input()
    assert not show.touring
    assert show.stage.touring == [False]
    assert show.simulation.speeds[-1] == VISITOR_SPEED
    _run(show, 29)
    show.visitor_activity()  # moving keeps the visitor's session alive
    _run(show, 29.5)
    assert not show.touring and show.step.name == "second"  # held far past its 20 s
    assert show.simulation.sim.applied == ["reset-racks", "pump-trip"]
    assert show.seconds_until_tour() == pytest.approx(0.5)
    _run(show, 0.5)
    assert show.touring and show.stage.touring == [False, True]
    assert show.stage.entered[-1] == "second"  # the step starts again for the next visitors
    assert show.simulation.speeds[-1] == 20
    # the visitor's time counted: the restore, due 100 simulated s in, fires at once;
    # nothing fires twice
    _run(show, 5)
    assert show.simulation.sim.applied == ["reset-racks", "pump-trip", "pump-restore"]
    assert show.simulation.resets == 1


def test_an_exception_in_a_step_is_logged_and_the_step_starts_again(
    show, caplog: pytest.LogCaptureFixture
) -> None:
    show.stage.fail_on["second"] = 1
    with caplog.at_level(logging.ERROR, logger="twin.kiosk"):
        _run(show, 10)
    assert show.step.name == "second" and show.restarts == 0
    assert "step 'second' (2 of 3) failed; starting it again" in caplog.text
    assert "the stage broke on second" in caplog.text
    _run(show, 0.5)
    assert show.restarts == 1
    assert show.stage.entered == ["first", "second"]
    assert show.simulation.resumes == 1  # a runner that paused on an error runs again
    _run(show, 20)
    assert show.stage.entered == ["first", "second", "third"]


def test_a_failure_reported_by_the_simulation_restarts_the_step_without_refiring(show) -> None:
    _run(show, 11)
    show.fail("Traceback ...\nAttributeError: the simulation broke")
    _run(show, 0.5)
    assert show.restarts == 1
    assert show.stage.entered == ["first", "second", "second"]
    assert show.simulation.sim.applied == ["reset-racks", "pump-trip"]
    assert show.simulation.resets == 1  # a restart is not a new loop


def test_a_step_that_keeps_failing_is_skipped(show, caplog) -> None:
    show.stage.fail_on["second"] = 100
    with caplog.at_level(logging.ERROR, logger="twin.kiosk"):
        _run(show, 10 + 0.5 * MAX_RESTARTS)
    assert "step 'second' failed 3 times in a row; going on to the next" in caplog.text
    assert show.step.name == "third"
    assert show.stage.entered == ["first", "third"]


TIMED = """
[story]
name = "timed"
title = "Timed"
idle_return_s = 30

[[steps]]
name = "dawn"
view = "site"
until = { clock = "06:00" }
max_s = 60
speed = 60
dt_s = 5

[[steps]]
name = "trip"
view = "hall-2"
until = { event = "pump-trip", after_s = 300 }
max_s = 60
speed = 20
events = [{ at_s = 120, kind = "pump-trip", target = "H2-CDU-05", pumps = 2 }]
expect = [{ kpi = "tokens_per_s", direction = "fall", at_least_pct = 4 }]

[[steps]]
name = "after"
view = "yard"
until = { after_s = 600 }
max_s = 20
speed = 60
expect = [{ kpi = "tokens_per_s", direction = "fall", at_least_pct = 50 }]
"""


def _outcomes(show: Show) -> list[StepOutcome]:
    found: list[StepOutcome] = []
    show.listeners.append(found.append)
    return found


def test_a_step_ends_when_the_simulated_clock_reaches_its_time_at_its_own_step() -> None:
    show = _show(TIMED)
    outcomes = _outcomes(show)
    _run(show, 1)
    assert show.simulation.sim.dt_s == 5
    _run(show, 28.5)  # 05:30 to 06:00 is 1800 simulated s: 30 s at speed 60
    assert show.step.name == "dawn"
    _run(show, 1)
    assert show.step.name == "trip" and show.simulation.sim.dt_s == 1
    [dawn] = outcomes
    assert dawn.ended_by == "condition" and dawn.measured == ()
    assert f"{dawn.started:%H:%M}" == "05:30" and f"{dawn.ended:%H:%M}" == "06:00"


def test_a_step_waits_for_its_event_to_take_effect_and_measures_its_claim() -> None:
    show = _show(TIMED)
    outcomes = _outcomes(show)
    _run(show, 30)  # dawn
    assert show.step.name == "trip"
    _run(show, 5.5)  # the trip is due 120 simulated s in: 6 s at speed 20
    assert show.simulation.sim.applied == []
    _run(show, 1)
    assert show.simulation.sim.applied == ["pump-trip"]
    _run(show, 14)  # 300 simulated s after it took effect: 15 s
    assert show.step.name == "trip"
    _run(show, 1)
    assert show.step.name == "after"
    trip = outcomes[-1]
    assert trip.step == "trip" and trip.ended_by == "condition"
    [measured] = trip.measured
    assert measured.start == pytest.approx(1e6)
    assert measured.end == pytest.approx(0.95e6, rel=0.005)  # 1 % per minute for 5 minutes
    assert measured.shown and trip.claims_shown
    assert "tokens_per_s falls at least 4 %: shown" in trip.text()


def test_a_claim_that_does_not_show_is_reported(caplog: pytest.LogCaptureFixture) -> None:
    show = _show(TIMED)
    outcomes = _outcomes(show)
    with caplog.at_level(logging.INFO, logger="twin.kiosk"):
        _run(show, 30 + 21 + 10.5)
    after = outcomes[-1]
    assert after.step == "after" and after.ended_by == "condition"
    assert not after.claims_shown
    assert after.measured[0].expectation.change(after.measured[0].start, after.measured[0].end) < 50
    assert "step 'after' (loop 1) ended by its condition" in caplog.text
    assert "tokens_per_s falls at least 50 %: NOT shown" in caplog.text
    assert show.outcomes["after"] is after and show.loops == 2


def test_a_machine_that_cannot_keep_up_ends_the_step_at_its_cap() -> None:
    show = _show(TIMED, Runner(keeps_up=0.1))  # 6 simulated s per wall-clock s, not 60
    outcomes = _outcomes(show)
    _run(show, 59.5)
    assert show.step.name == "dawn"
    _run(show, 0.5)
    assert show.step.name == "trip"
    [dawn] = outcomes
    assert dawn.ended_by == "cap" and f"{dawn.ended:%H:%M}" == "05:36"


def test_a_frame_from_before_the_steps_start_does_not_count() -> None:
    runner = Runner()
    runner.sim.time_s = 14 * 3600.0  # the evening of a loop before
    runner.call(lambda sim: None)
    stale = runner.latest()
    show = _show(TIMED, runner)  # a new loop: the simulation starts again at 05:30
    show.observe(stale.generation, stale.snapshot)
    show.tick()
    assert show.step.name == "dawn"
    assert math.isnan(show.simulated_s())


def test_a_visitor_keeps_the_steps_simulated_start_and_gets_a_fresh_cap() -> None:
    show = _show(TIMED, Runner(keeps_up=0.1))
    _run(show, 50)
    show.visitor_input()
    _run(show, 30)  # the tour takes the view back
    assert show.touring and show.step.name == "dawn"
    elapsed_s = show.simulated_s()
    assert elapsed_s == pytest.approx(50 * 6 + 30 * 0.1 * VISITOR_SPEED, abs=6)
    _run(show, 59.5)  # the cap counts from the return
    assert show.step.name == "dawn"
    _run(show, 0.5)
    assert show.step.name == "trip"


def test_a_step_waiting_for_an_event_waits_for_every_event_of_that_kind() -> None:
    show = _show(
        """
[story]
name = "two-trips"
title = "Two trips"

[[steps]]
name = "two"
view = "hall-2"
until = { event = "pump-trip", after_s = 60 }
max_s = 120
speed = 20
events = [
  { at_s = 20, kind = "pump-trip", target = "H2-CDU-05" },
  { at_s = 200, kind = "pump-trip", target = "H2-CDU-06" },
]

[[steps]]
name = "next"
view = "site"
hold_s = 10
speed = 60
"""
    )
    _run(show, 5)  # the first trip took effect 80 simulated s ago, the second is due
    assert show.simulation.sim.applied == ["pump-trip"] and show.step.name == "two"
    _run(show, 7.5)  # 250 s in: the second took effect 50 simulated s ago
    assert show.simulation.sim.applied == ["pump-trip", "pump-trip"]
    assert show.step.name == "two"
    _run(show, 1)  # 270 s in
    assert show.step.name == "next"
