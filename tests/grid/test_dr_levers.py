"""Demand response acting on the simulation: generator sets as the last lever where the
programme allows them, and plus DR raising the import by charging the BESS, both against
hand calculations on a three-rack site (tests/exchange/flex-site.toml: BESS 30 kW /
50 kWh, two 100 kW sets, 10 s start, 10 kW/s ramp each)."""

from __future__ import annotations

import math
from pathlib import Path

import numpy as np
import pytest

from twin.scenario import loads
from twin.scenario.schema import DemandResponse
from twin.sim.engine import Simulation
from twin.sim.power import PowerChain
from twin.sim.snapshot import SITE_COLUMNS
from twin.sim.topology import build_topology

SITE = Path(__file__).resolve().parents[1] / "exchange" / "flex-site.toml"
COLUMN = {name: i for i, (name, _) in enumerate(SITE_COLUMNS)}
PROGRAMME = """
[demand_response]
programme = "{programme}"
registered_kw = 100
energy_krw_per_kwh = 150
generators_allowed = {generators}
"""


def site(programme: str = "reliability", generators: bool = False):
    return loads(
        SITE.read_text()
        + PROGRAMME.format(programme=programme, generators=str(generators).lower()),
        source=str(SITE),
    )


def column(sim: Simulation, name: str) -> float:
    return float(sim.site_values()[COLUMN[name]])


def test_sets_in_parallel_close_after_their_start_delay_and_ramp_to_the_output_asked():
    s = site()
    chain = PowerChain.from_scenario(s, build_topology(s))
    topo = chain.topo
    racks_w = np.full(topo.rack_count, 120e3)
    mech_w = np.full(len(topo.hall_names), 5e3)
    chain.dispatch_generators(0.0, 150e3)
    out = []
    for t in range(30):
        if t == 20:
            chain.dispatch_generators(float(t), None)
        result = chain.step(float(t), 1.0, racks_w, mech_w, 20e3, 0.0)
        out.append(result.generator_w)
        # utility, sets and BESS share the demand; the BESS stands idle (no dispatch)
        assert result.grid_import_w + result.generator_w + result.bess_w == pytest.approx(
            result.demand_w
        )
    # by hand: both sets on the bus at 10 s, each ramping 10 kW/s; the step means are
    # 10, 30, 50 ... kW; 150 kW reached at 17.5 s (step 17-18: 0.5 s from 140 to 150 kW,
    # then 0.5 s at 150: 147.5 kW mean); let go at 20 s, they unload at 20 kW/s
    expected = [0.0] * 10 + [
        10e3,
        30e3,
        50e3,
        70e3,
        90e3,
        110e3,
        130e3,
        147.5e3,
        150e3,
        150e3,
        140e3,
        120e3,
        100e3,
        80e3,
        60e3,
        40e3,
        20e3,
        2.5e3,
        0.0,
        0.0,
    ]
    assert out == pytest.approx(expected, abs=1e-6)
    assert (chain.generator_state == 0).all()  # stopped again


def _deep_dispatch(generators: bool) -> Simulation:
    sim = Simulation(site(generators=generators), dt_s=1.0)
    sim.step(600)
    # more than the BESS (30 kW) and all GPU levers (training to idle, inference to 30 %)
    sim.apply(DemandResponse(at_s=0, kind="demand-response", curtail_mw=0.32, duration_s=900))
    return sim


def test_generators_are_the_last_lever_and_only_where_the_programme_allows():
    without, allowed = _deep_dispatch(False), _deep_dispatch(True)
    target_kw = allowed.import_target_w / 1e3
    assert without.import_target_w == allowed.import_target_w
    without.step(240)
    allowed.step(240)
    # without them the GPU levers are all pulled and the import stays above the target
    assert without.state.curtail_depth == 3.0
    assert column(without, "generator_kw") == 0.0
    shortfall_kw = column(without, "grid_import_kw") - target_kw
    assert shortfall_kw > 5.0
    # with them: the same GPU levers (all pulled) and the sets give that shortfall
    assert allowed.state.curtail_depth > 3.0
    np.testing.assert_array_equal(
        allowed.state.curtail_cap_fraction, without.state.curtail_cap_fraction
    )
    gen_kw, import_kw = [], []
    for _ in range(60):
        allowed.step()
        gen_kw.append(column(allowed, "generator_kw"))
        import_kw.append(column(allowed, "grid_import_kw"))
    assert np.mean(import_kw) == pytest.approx(target_kw, abs=2.5)
    assert np.mean(gen_kw) == pytest.approx(shortfall_kw, abs=2.5)
    assert abs(allowed.ledger()["closure_error"]) < 1e-3
    # the dispatch ends: the sets unload and stop
    allowed.step(900)
    assert column(allowed, "generator_kw") == 0.0
    assert allowed.snapshot().power.generators_online == 0


def test_plus_dr_raises_the_import_by_charging_the_bess():
    sim = Simulation(site("plus"), dt_s=1.0)
    sim.step(1800)
    before_kw = column(sim, "grid_import_kw")
    energy_j = sim.power_chain.bess_energy_j
    sim.apply(DemandResponse(at_s=0, kind="demand-response", curtail_mw=0.02, duration_s=600))
    floor_kw = sim.import_target_w / 1e3
    assert floor_kw == pytest.approx(before_kw + 20.0, abs=0.5)  # baseline + 20 kW
    imports, charging = [], []
    for _ in range(600):
        sim.step()
        imports.append(column(sim, "grid_import_kw"))
        charging.append(-column(sim, "bess_power_kw"))
    # by hand: the import sits on the floor, the BESS takes ~20 kW (the load drifts a
    # little), storing that times the one-way efficiency sqrt(0.88)
    assert np.mean(imports) == pytest.approx(floor_kw, abs=0.05)
    assert np.mean(charging) == pytest.approx(20.0, abs=1.0)
    stored_j = sim.power_chain.bess_energy_j - energy_j
    assert stored_j == pytest.approx(sum(charging) * 1e3 * math.sqrt(0.88), rel=1e-9)
    assert stored_j == pytest.approx(20e3 * 600 * math.sqrt(0.88), rel=0.05)
    sim.step(60)  # after the window the import drops back
    assert column(sim, "grid_import_kw") == pytest.approx(before_kw, abs=2.0)
    assert column(sim, "bess_power_kw") == 0.0


def test_the_grid_impact_assessment_offers_the_sets_only_where_the_programme_allows():
    from twin.grid.impact import demand_response_levers

    assert "generator sets" not in [lever.name for lever in demand_response_levers(site())]
    levers = demand_response_levers(site(generators=True))
    assert levers[-1].name == "generator sets"
    assert levers[-1].kw == 2 * 100.0  # two 100 kW sets
    assert "10 s + 10 s of ramp" in levers[-1].note
