"""Alarms of a utility outage whose generators fall short: the sets that fail to start,
the hall shed onto its UPS batteries, and the hall whose UPS drop its racks."""

from __future__ import annotations

import copy
import tomllib

import pytest

from twin.alarms import AlarmEngine, AlarmKey, AlarmState, Priority
from twin.scenario import builtin_scenarios
from twin.scenario.loader import from_dict
from twin.scenario.schema import UtilityOutage
from twin.sim.engine import Simulation


@pytest.fixture(scope="module")
def seoul():
    with builtin_scenarios()["seoul-ai-factory"].open("rb") as f:
        data = tomllib.load(f)
    data = copy.deepcopy(data)
    data["events"] = []
    return from_dict(data, source="seoul.toml")


def run(sim: Simulation, engine: AlarmEngine, seconds: int) -> None:
    for _ in range(seconds):
        sim.step()
        engine.update(sim.snapshot(robots=False))


def test_sets_failing_to_start_then_a_dark_hall_raise_critical_alarms(seoul):
    sim = Simulation(seoul, dt_s=1.0)
    engine = AlarmEngine.from_scenario(seoul, sim.topology)
    run(sim, engine, 60)
    sim.apply(
        UtilityOutage(
            at_s=0, kind="utility-outage", duration_s=1200, generators_failing_to_start=14
        )
    )
    lockout_s = int(seoul.power.generators.crank_lockout_s)
    run(sim, engine, lockout_s - 1)
    # still cranking: no set has failed yet, nothing is shed
    assert engine.state(AlarmKey("generator.failed", "ON", 21)) is AlarmState.NORMAL
    assert engine.state(AlarmKey("hall.load_shed", "ON", 1)) is AlarmState.NORMAL
    run(sim, engine, 5)
    for k in range(22):
        expected = AlarmState.UNACKNOWLEDGED if k >= 8 else AlarmState.NORMAL
        assert engine.state(AlarmKey("generator.failed", "ON", k)) is expected
    assert engine.state(AlarmKey("hall.load_shed", "ON", 1)) is AlarmState.UNACKNOWLEDGED
    assert engine.state(AlarmKey("hall.load_shed", "ON", 0)) is AlarmState.NORMAL
    assert engine.state(AlarmKey("hall.power_lost", "ON", 1)) is AlarmState.NORMAL
    run(sim, engine, 900)  # hall 2's UPS batteries run down
    assert engine.state(AlarmKey("hall.power_lost", "ON", 1)) is AlarmState.UNACKNOWLEDGED
    assert engine.state(AlarmKey("hall.power_lost", "ON", 0)) is AlarmState.NORMAL
    alarms = {(a.key.tag, a.key.component): a for a in engine.summary().alarms}
    assert alarms[("generator.failed", 21)].priority is Priority.CRITICAL
    assert alarms[("generator.failed", 21)].source == ("generator", 0)
    assert alarms[("hall.power_lost", 1)].priority is Priority.CRITICAL
    assert alarms[("hall.load_shed", 1)].source == ("hall", 1)
