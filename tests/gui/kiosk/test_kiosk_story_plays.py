"""The built-in tour played headless on the real simulation: each step ends on what it
waits for in simulated time, and every claim its captions make shows. The show runs on a
fake wall clock over a runner without a thread that achieves exactly the speeds asked
for, so nothing here depends on the machine's speed."""

from __future__ import annotations

import pytest

from tests.fakes import SteppedRunner
from twin.gui.kiosk.app import prepare
from twin.gui.kiosk.show import Show, StepOutcome
from twin.gui.kiosk.story import Step
from twin.sim.engine import Simulation

TICK_S = 0.25
LAST_CLAIM = "demand-response"  # the steps after it claim nothing measurable


class Stage:
    def enter_step(self, step: Step) -> None:
        pass

    def set_touring(self, touring: bool) -> None:
        pass


@pytest.mark.slow
def test_the_builtin_tour_ends_its_steps_in_simulated_time_and_its_claims_show() -> None:
    story, _, scenario, site = prepare(None, None)
    runner = SteppedRunner(Simulation.from_scenario(scenario, site=site))
    wall = [0.0]
    show = Show(story, Stage(), runner, start=scenario.scenario.start, clock=lambda: wall[0])
    outcomes: list[StepOutcome] = []
    show.listeners.append(outcomes.append)
    show.start()
    # bounded by the steps' caps, not by a count of frames
    deadline_s = sum(step.wall_limit_s for step in story.steps)
    while not (outcomes and outcomes[-1].step == LAST_CLAIM) and wall[0] < deadline_s:
        wall[0] += TICK_S
        runner.advance(TICK_S)
        show.observe(runner.frame.generation, runner.frame.snapshot)
        show.tick()
    by_step = {o.step: o for o in outcomes}
    assert LAST_CLAIM in by_step, [o.text() for o in outcomes]
    assert all(o.ended_by == "condition" for o in outcomes), [o.text() for o in outcomes]
    clock = {name: (f"{o.started:%H:%M}", f"{o.ended:%H:%M}") for name, o in by_step.items()}
    assert clock["morning-inference"] == ("06:00", "09:30")
    assert clock["heatwave"][1] >= "18:00" and clock["demand-response"][0] >= "18:00"
    claimed = [o for o in outcomes if o.measured]
    assert {o.step for o in claimed} >= {"morning-inference", "pump-trip", "heatwave", LAST_CLAIM}
    assert all(o.claims_shown for o in claimed), [o.text() for o in claimed]
