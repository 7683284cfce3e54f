"""A rack that trips for heat stays off until someone powers it on; one that only lost
its power comes back with it."""

from __future__ import annotations

import pytest

from twin.scenario import load
from twin.scenario.schema import UtilityOutage
from twin.sim.engine import Simulation
from twin.sim.snapshot import SITE_COLUMNS

COLUMN = {name: i for i, (name, _) in enumerate(SITE_COLUMNS)}
OUTAGE_AT_S, OUTAGE_S = 600.0, 600.0


def _outage_run(scenario, dt_s: float) -> tuple[Simulation, list[tuple[float, float, float]]]:
    """single-rack through a 10 min utility outage: ``(time, tripped racks, IT kW)`` a step."""
    sim = Simulation(scenario, dt_s=dt_s)
    sim.step(round(OUTAGE_AT_S / dt_s))
    sim.apply(UtilityOutage(at_s=0, kind="utility-outage", duration_s=OUTAGE_S))
    rows = []
    for _ in range(round(4 * 3600.0 / dt_s)):
        sim.step()
        values = sim.site_values()
        rows.append(
            (
                sim.state.time_s,
                float(values[COLUMN["tripped_racks"]]),
                float(values[COLUMN["it_power_kw"]]),
            )
        )
    return sim, rows


@pytest.mark.slow
@pytest.mark.parametrize("dt_s", [1.0, 60.0])
def test_a_rack_tripped_in_an_outage_runs_again_after_the_operators_reset(dt_s):
    # single-rack has no generators or BESS: in the outage its UPS carries the rack while
    # the cooling stops, the rack overheats and trips; it has no service robots
    scenario = load("single-rack")
    sim, rows = _outage_run(scenario, dt_s)
    trips = [t for t, tripped, _ in rows if tripped]
    assert trips, "the rack did not trip while its cooling was lost"
    first_trip_s = trips[0]
    assert OUTAGE_AT_S < first_trip_s < OUTAGE_AT_S + OUTAGE_S
    reset_s = scenario.site.operator_reset_s
    # power and cooling are back long before the operators reset it: it stays dark
    for t, tripped, it_kw in rows:
        if OUTAGE_AT_S + OUTAGE_S < t < first_trip_s + reset_s - dt_s:
            assert tripped == 1 and it_kw == 0.0, t
    # then it runs again at full load, and does not trip again
    later = [(tripped, it_kw) for t, tripped, it_kw in rows if t > first_trip_s + reset_s + 900]
    assert later and all(tripped == 0 for tripped, _ in later)
    assert min(it_kw for _, it_kw in later) > 100.0  # ~137 kW at full load
    assert abs(sim.ledger()["closure_error"]) < 1e-3


def test_without_operators_on_call_a_tripped_rack_stays_off():
    scenario = load("single-rack")
    never = scenario.model_copy(
        update={"site": scenario.site.model_copy(update={"operator_reset_s": 10 * 86400.0})}
    )
    _, rows = _outage_run(never, 60.0)
    assert rows[-1][1] == 1 and rows[-1][2] == 0.0


def test_a_reset_from_the_window_clears_the_operators_pending_reset():
    scenario = load("single-rack")
    sim = Simulation(scenario, dt_s=60.0)
    sim.step(10)
    sim.apply(UtilityOutage(at_s=0, kind="utility-outage", duration_s=OUTAGE_S))
    sim.step(25)  # the outage is over, the rack tripped in it and waits for the operators
    assert sim.site_values()[COLUMN["tripped_racks"]] == 1
    assert sim.reset_racks() == 1
    it_kw = []
    for _ in range(round(2 * scenario.site.operator_reset_s / 60.0)):
        sim.step()
        it_kw.append(float(sim.site_values()[COLUMN["it_power_kw"]]))
    # it runs the whole while: the operators' reset, when it falls due, has nothing to do
    assert min(it_kw[5:]) > 100.0
    assert max(it_kw[5:]) - min(it_kw[5:]) < 1.0
