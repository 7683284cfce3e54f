"""A simulation may change its step while it runs (the kiosk's time-lapses take coarse
steps, its close-ups fine ones): the run goes on where it was, with the answers of a run
at one step."""

from __future__ import annotations

import pytest

from twin.scenario import load
from twin.sim.engine import Simulation

WATCHED = ("it_power_kw", "facility_power_kw", "tcs_supply_c", "fws_supply_c", "gpu_temp_max_c")


def test_a_run_that_changes_its_step_midway_agrees_with_one_at_one_second() -> None:
    scenario = load("single-rack")
    steady = Simulation.from_scenario(scenario, dt_s=1.0)
    steady.step(750)
    switched = Simulation.from_scenario(scenario, dt_s=1.0)
    switched.step(300)
    switched.set_step(30.0)
    switched.step(5)  # 150 s
    assert switched.dt_s == 30.0 and switched.time_s == pytest.approx(450.0)
    switched.set_step(1.0)
    switched.step(300)
    assert switched.time_s == pytest.approx(steady.time_s)
    want, got = steady.snapshot(robots=False).site, switched.snapshot(robots=False).site
    for column in WATCHED:
        assert got[column] == pytest.approx(want[column], rel=0.01, abs=0.2), column


@pytest.mark.parametrize("dt_s", [0.0, 0.05, 301.0])
def test_a_step_outside_the_checked_range_is_refused(dt_s: float) -> None:
    simulation = Simulation.from_scenario(load("single-rack"))
    with pytest.raises(ValueError, match=r"dt_s must lie in 0.1 .. 300 s"):
        simulation.set_step(dt_s)
    assert simulation.dt_s == 1.0
