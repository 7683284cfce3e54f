"""The coupled simulation: steady states by hand, conservation, determinism, dt."""

from __future__ import annotations

import numpy as np
import pytest

from twin.scenario import load
from twin.scenario.schema import DemandResponse, PumpTrip, UtilityOutage
from twin.sim.engine import Simulation
from twin.sim.snapshot import SITE_COLUMNS

COLUMN = {name: i for i, (name, _) in enumerate(SITE_COLUMNS)}


def run_means(sim: Simulation, seconds: float, every_s: float) -> np.ndarray:
    """Site values averaged over consecutive windows of every_s."""
    steps_per_window = round(every_s / sim.dt_s)
    windows = round(seconds / every_s)
    out = np.zeros((windows, len(SITE_COLUMNS)))
    for w in range(windows):
        for _ in range(steps_per_window):
            sim.step()
            out[w] += sim.site_values()
        out[w] /= steps_per_window
    return out


@pytest.fixture(scope="module")
def seoul():
    return load("seoul-ai-factory")


@pytest.fixture(scope="module")
def single():
    return load("single-rack")


@pytest.mark.slow
def test_single_rack_steady_coolant_rise_is_q_over_m_cp(single):
    sim = Simulation(single, dt_s=1.0)
    sim.step(3 * 3600)
    snap = sim.snapshot()
    racks = snap.racks
    rho = sim.tcs.density(racks.outlet_temp_c[0])
    cp = sim.tcs.cp(racks.outlet_temp_c[0])
    m_dot = racks.flow_lpm[0] / 60000.0 * rho
    expected_rise = racks.liquid_heat_kw[0] * 1e3 / (m_dot * cp)
    rise = racks.outlet_temp_c[0] - racks.inlet_temp_c[0]
    assert expected_rise > 5.0  # a real load: ~112 kW into ~180 L/min
    assert rise == pytest.approx(expected_rise, rel=0.01)
    # the CDU holds its supply setpoint and its dp setpoint
    assert snap.cdus.supply_c[0] == pytest.approx(35.0, abs=0.3)
    assert snap.cdus.dp_kpa[0] == pytest.approx(110.0, rel=0.02)


@pytest.mark.slow
def test_energy_ledger_closes_over_a_day_with_swings_and_a_pump_trip(seoul):
    assert any(e.kind == "pump-trip" for e in seoul.events)
    sim = Simulation(seoul, dt_s=10.0)
    sim.step(round(86400 / 10.0))
    ledger = sim.ledger()
    assert ledger["energy_in_kwh"] > 500_000  # ~40 MW for a day
    assert abs(ledger["closure_error"]) < 1e-3
    assert abs(sim.site_values()[COLUMN["energy_closure_error"]]) < 1e-3


def test_deterministic_for_a_seed_however_steps_are_batched(seoul):
    a = Simulation(seoul, seed=7, dt_s=1.0)
    b = Simulation(seoul, seed=7, dt_s=1.0)
    a.step(600)
    for _ in range(60):
        b.step(10)
    np.testing.assert_array_equal(a.site_values(), b.site_values())
    np.testing.assert_array_equal(a.snapshot().racks.gpu_temp_c, b.snapshot().racks.gpu_temp_c)
    c = Simulation(seoul, seed=8, dt_s=1.0)
    c.step(600)
    assert not np.array_equal(a.snapshot().racks.utilization, c.snapshot().racks.utilization)


@pytest.mark.slow
def test_hourly_means_at_60s_within_one_percent_of_1s(seoul):
    fine = run_means(Simulation(seoul, dt_s=1.0), 3 * 3600, 3600)
    coarse = run_means(Simulation(seoul, dt_s=60.0), 3 * 3600, 3600)
    for name in (
        "it_power_kw",
        "facility_power_kw",
        "tokens_per_s",
        "grid_import_kw",
        "tcs_supply_c",
        "tcs_return_c",
        "gpu_temp_max_c",
    ):
        i = COLUMN[name]
        np.testing.assert_allclose(coarse[1:, i], fine[1:, i], rtol=0.01, err_msg=name)


@pytest.mark.parametrize("dt_s", [0.1, 300.0])
def test_stable_and_conserving_at_the_ends_of_the_dt_range(single, dt_s):
    sim = Simulation(single, dt_s=dt_s)
    sim.step(round(min(6 * 3600, 600 * dt_s) / dt_s))
    values = sim.site_values()
    assert np.all(np.isfinite(values))
    assert abs(sim.ledger()["closure_error"]) < 1e-3
    assert 20.0 < sim.snapshot().cdus.supply_c[0] < 45.0


def test_pump_loss_heats_throttles_and_trips_at_the_rate_the_mass_allows(single):
    sim = Simulation(single, dt_s=0.5)
    sim.step(1800)
    before = sim.snapshot()
    sim.apply(PumpTrip(at_s=0, kind="pump-trip", target="CDU", pumps=2))
    sim.step(1)
    after_one = sim.snapshot()
    assert after_one.cdus.flow_lpm[0] == 0.0
    # temperatures rise, but not instantly: bounded by the coolant's thermal mass
    rise = after_one.racks.outlet_temp_c[0] - before.racks.outlet_temp_c[0]
    bound = before.racks.liquid_heat_kw[0] * 1e3 * 0.5 / sim.racks.coolant_capacity_j_per_k[0]
    assert 0 < rise <= bound * 1.01
    throttled_at = tripped_at = None
    for k in range(2400):
        sim.step()
        snap = sim.snapshot()
        if throttled_at is None and snap.racks.throttled[0]:
            throttled_at = k
        if snap.racks.tripped[0]:
            tripped_at = k
            break
    assert throttled_at is not None and tripped_at is not None
    assert throttled_at < tripped_at
    sim.step()
    assert sim.site_values()[COLUMN["tokens_per_s"]] == 0.0
    assert abs(sim.ledger()["closure_error"]) < 1e-3


@pytest.mark.slow
def test_demand_response_is_met_by_the_bess_first(seoul):
    base = Simulation(seoul, dt_s=1.0)
    curtailed = Simulation(seoul, dt_s=1.0)
    base.step(1800)
    curtailed.step(1800)
    curtailed.apply(DemandResponse(at_s=0, kind="demand-response", curtail_mw=5.0, duration_s=900))
    base.step(240)
    curtailed.step(240)
    b, c = run_means(base, 60, 60)[0], run_means(curtailed, 60, 60)[0]
    assert c[COLUMN["grid_import_kw"]] <= b[COLUMN["grid_import_kw"]] - 4500
    assert c[COLUMN["bess_power_kw"]] > 4000
    # the battery carries it; only the training swings' compute peaks, which lift the
    # demand above what its 10 MW can take off, cost a little work
    assert c[COLUMN["tokens_per_s"]] == pytest.approx(b[COLUMN["tokens_per_s"]], rel=3e-2)


@pytest.mark.slow
def test_demand_response_beyond_the_bess_caps_gpus_and_costs_tokens(seoul):
    base = Simulation(seoul, dt_s=1.0)
    curtailed = Simulation(seoul, dt_s=1.0)
    base.step(1800)
    curtailed.step(1800)
    curtailed.apply(
        DemandResponse(at_s=0, kind="demand-response", curtail_mw=15.0, duration_s=1800)
    )
    base.step(540)
    curtailed.step(540)
    b, c = run_means(base, 60, 60)[0], run_means(curtailed, 60, 60)[0]
    assert c[COLUMN["grid_import_kw"]] <= b[COLUMN["grid_import_kw"]] - 14000
    assert c[COLUMN["tokens_per_s"]] < 0.95 * b[COLUMN["tokens_per_s"]]


def test_utility_outage_is_carried_by_batteries_then_generators(seoul):
    sim = Simulation(seoul, dt_s=1.0)
    sim.step(600)
    sim.apply(UtilityOutage(at_s=0, kind="utility-outage", duration_s=1800))
    sim.step(5)
    assert sim.site_values()[COLUMN["grid_import_kw"]] == 0.0
    sim.step(600)
    values = sim.site_values()
    assert values[COLUMN["generator_kw"]] > 0.8 * values[COLUMN["facility_power_kw"]]
    assert values[COLUMN["tripped_racks"]] == 0
    assert abs(sim.ledger()["closure_error"]) < 1e-3


def test_a_new_supply_setpoint_moves_the_cdu_supply_to_it(single):
    sim = Simulation(single, dt_s=1.0)
    sim.step(1800)
    before = float(sim.snapshot().cdus.supply_c[0])
    sim.set_cdu_supply_setpoint(0, before + 3.0)
    sim.step(1800)
    snap = sim.snapshot()
    assert snap.cdus.supply_setpoint_c[0] == before + 3.0
    assert snap.cdus.supply_c[0] == pytest.approx(before + 3.0, abs=0.3)
    with pytest.raises(ValueError, match=r"15 .. 50 °C"):
        sim.set_cdu_supply_setpoint(0, 80.0)
    with pytest.raises(ValueError, match="no CDU number 3"):
        sim.set_cdu_supply_setpoint(3, 30.0)


def test_a_fixed_pump_speed_overrides_dp_control_and_returns_bumplessly(single):
    sim = Simulation(single, dt_s=1.0)
    sim.step(300)
    automatic = float(sim.snapshot().cdus.pump_speed[0])
    automatic_flow = float(sim.snapshot().racks.flow_lpm[0])
    assert automatic < 0.95
    sim.set_cdu_pump_speed(0, 1.0)
    sim.step(60)
    snap = sim.snapshot()
    assert snap.cdus.pump_manual[0] and snap.cdus.pump_speed[0] == 1.0
    assert snap.racks.flow_lpm[0] > automatic_flow * 1.02  # faster pumps, more flow
    sim.set_cdu_pump_speed(0, None)
    sim.step(1)
    assert not sim.snapshot().cdus.pump_manual[0]
    assert sim.snapshot().cdus.pump_speed[0] > 0.9  # starts from the fixed speed, no jump
    sim.step(600)
    assert sim.snapshot().cdus.pump_speed[0] == pytest.approx(automatic, abs=0.02)
    with pytest.raises(ValueError, match="pump speed must lie in"):
        sim.set_cdu_pump_speed(0, 0.01)


def test_a_rack_power_cap_limits_gpu_power_and_costs_tokens(seoul):
    sim = Simulation(seoul, dt_s=1.0)
    sim.step(120)
    full = sim.snapshot()
    busy = int(np.argmax(full.racks.utilization))
    sim.set_rack_power_cap(np.array([busy]), 0.5)
    sim.step(60)
    capped = sim.snapshot()
    assert capped.racks.power_cap_fraction[busy] == 0.5
    gpu_budget_kw = 0.5 * 72 * 1.4 + 40  # half of 72 GPUs' TDP plus the rest of the rack
    assert capped.racks.power_kw[busy] < gpu_budget_kw
    if full.racks.utilization[busy] > 0.6:
        assert capped.racks.tokens_per_s[busy] < full.racks.tokens_per_s[busy]
    with pytest.raises(ValueError, match="fraction of TDP"):
        sim.set_rack_power_cap(None, 1.5)


@pytest.mark.slow
def test_demand_response_beyond_the_bess_takes_training_power_before_inference(seoul):
    # seoul-ai-factory: training in hall-1, inference in hall-2; 15 MW is more than the
    # 10 MW BESS, and less than the training hall's caps and pause can give
    base = Simulation(seoul, dt_s=1.0)
    curtailed = Simulation(seoul, dt_s=1.0)
    base.step(1800)
    curtailed.step(1800)
    curtailed.apply(
        DemandResponse(at_s=0, kind="demand-response", curtail_mw=15.0, duration_s=1800)
    )
    base.step(540)
    curtailed.step(540)
    hall = base.topology.rack_hall
    training, inference = hall == 0, hall == 1
    b_racks, c_racks = base.snapshot().racks, curtailed.snapshot().racks
    assert curtailed.state.curtail_depth > 0
    assert (curtailed.state.curtail_cap_fraction[training] < 1.0).all()
    assert (curtailed.state.curtail_cap_fraction[inference] == 1.0).all()
    assert c_racks.power_kw[training].sum() < 0.9 * b_racks.power_kw[training].sum()
    assert c_racks.tokens_per_s[inference].sum() == pytest.approx(
        b_racks.tokens_per_s[inference].sum(), rel=1e-3
    )
