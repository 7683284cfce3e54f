"""The show's timing, hand-over to visitors and recovery, on a fake clock with a recording
stage and runner: no window, no simulation thread."""

from __future__ import annotations

import logging

import pytest

from twin.gui.kiosk.show import MAX_RESTARTS, VISITOR_SPEED, Show
from twin.gui.kiosk.story import Step, Story, loads_story

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
  { at_s = 5, kind = "pump-restore", target = "H2-CDU-05", pumps = 2 },
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
    def __init__(self) -> None:
        self.applied: list[str] = []

    def apply(self, event) -> None:
        self.applied.append(event.kind)

    def reset_racks(self) -> int:
        self.applied.append("reset-racks")
        return 0


class Runner:
    """Applies calls at once on a recording simulation."""

    def __init__(self) -> None:
        self.sim = Simulation()
        self.speeds: list[float | None] = []
        self.resets = 0
        self.resumes = 0

    def reset(self) -> None:
        self.resets += 1

    def resume(self) -> None:
        self.resumes += 1

    def set_speed(self, speed: float | None) -> None:
        self.speeds.append(speed)

    def call(self, function) -> None:
        function(self.sim)


@pytest.fixture
def show() -> Show:
    story: Story = loads_story(STORY)
    clock = Clock()
    show = Show(story, Stage(), Runner(), clock=clock)
    show.start()
    return show


def _run(show: Show, seconds: float, tick_s: float = 0.5) -> None:
    for _ in range(round(seconds / tick_s)):
        show.clock.now += tick_s
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


def test_events_fire_once_at_their_time_after_the_step_starts(show) -> None:
    _run(show, 10)  # "second" starts
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
    _run(show, 5)  # what it had not fired yet fires on its own time; nothing fires twice
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
