"""Rack isolation on the default scenario: a shut branch carries no coolant and its chips heat
until they throttle and trip while its CDU's other branches keep their flow; open breakers
take a rack's power and heat away; both show in the snapshot and the ledger still closes."""

from __future__ import annotations

import numpy as np
import pytest

from twin.scenario import load
from twin.sim.engine import Simulation

DT_S = 5.0
WARM_S = 600.0
CLOSURE = 1e-9  # the ledger's relative closure error stays at rounding


@pytest.fixture(scope="module")
def seoul():
    return load("seoul-ai-factory").model_copy(update={"events": []})


def warm(scenario) -> Simulation:
    sim = Simulation(scenario, dt_s=DT_S)
    sim.step(int(WARM_S / DT_S))
    return sim


def test_a_liquid_isolated_rack_gets_no_flow_heats_and_trips(seoul):
    sim = warm(seoul)
    topo = sim.topology
    on_cdu = np.flatnonzero(topo.rack_cdu == 0)
    rack, neighbour = int(on_cdu[0]), int(on_cdu[1])
    before = sim.snapshot(robots=False)
    assert not before.racks.liquid_isolated.any()
    sim.set_rack_isolation(rack, liquid=True)
    sim.step()
    first = sim.snapshot(robots=False)
    assert first.racks.liquid_isolated[rack] and first.racks.liquid_isolated.sum() == 1
    assert first.racks.flow_lpm[rack] == 0.0
    # the other branches see the pressure the pumps made for one more: a little more flow
    assert first.racks.flow_lpm[neighbour] > before.racks.flow_lpm[neighbour]
    throttled_at = tripped_at = None
    for _ in range(int(600 / DT_S)):
        sim.step()
        snap = sim.snapshot(robots=False)
        assert abs(snap.site["energy_closure_error"]) < CLOSURE
        if throttled_at is None and snap.racks.throttled[rack]:
            throttled_at = snap.time_s
        if snap.racks.tripped[rack]:
            tripped_at = snap.time_s
            break
    assert throttled_at is not None and tripped_at is not None and throttled_at < tripped_at
    assert snap.racks.outlet_temp_c[rack] > before.racks.outlet_temp_c[rack] + 10.0
    # the pumps slowed to hold the branch pressure: the others are back at their flow and
    # the CDU's flow is short of the shut branch's
    assert snap.racks.flow_lpm[neighbour] == pytest.approx(
        before.racks.flow_lpm[neighbour], rel=0.01
    )
    assert snap.cdus.flow_lpm[0] == pytest.approx(
        before.cdus.flow_lpm[0] - before.racks.flow_lpm[rack], rel=0.01
    )
    assert snap.cdus.pump_speed[0] < before.cdus.pump_speed[0]
    assert not snap.racks.tripped[neighbour]
    sim.set_rack_isolation(rack, liquid=False)
    sim.step()
    assert sim.snapshot(robots=False).racks.flow_lpm[rack] == pytest.approx(
        before.racks.flow_lpm[rack], rel=0.05
    )


def test_an_electrically_isolated_rack_draws_nothing_until_it_is_released(seoul):
    sim = warm(seoul)
    rack = 5
    before = sim.snapshot(robots=False)
    sim.set_rack_isolation(rack, electrical=True)
    sim.step(int(300 / DT_S))
    isolated = sim.snapshot(robots=False)
    assert isolated.racks.electrical_isolated[rack]
    assert isolated.racks.power_kw[rack] == 0.0 and isolated.racks.tokens_per_s[rack] == 0.0
    # the stored heat leaves with the coolant, then the rack sits at its supply temperature
    assert isolated.racks.liquid_heat_kw[rack] < 0.05 * before.racks.liquid_heat_kw[rack]
    assert isolated.racks.gpu_temp_c[rack] == pytest.approx(
        isolated.racks.inlet_temp_c[rack], abs=1.0
    )
    assert abs(isolated.site["energy_closure_error"]) < CLOSURE
    sim.set_rack_isolation(rack, electrical=False)
    sim.step()
    assert sim.snapshot(robots=False).racks.power_kw[rack] > 0.5 * before.racks.power_kw[rack]


def test_isolation_is_undone_by_a_reset_and_refuses_unknown_racks(seoul):
    sim = warm(seoul)
    sim.set_rack_isolation(0, liquid=True, electrical=True)
    sim.reset()
    sim.step()
    snap = sim.snapshot(robots=False)
    assert not snap.racks.liquid_isolated.any() and not snap.racks.electrical_isolated.any()
    with pytest.raises(ValueError, match="no rack number"):
        sim.set_rack_isolation(sim.topology.rack_count, liquid=True)
