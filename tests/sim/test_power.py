"""The power chain: transformer, UPS, busway and PSU losses, the BESS, generators, outages."""

from __future__ import annotations

import copy
import math
import tomllib
from functools import cache

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from twin.scenario import load
from twin.scenario.files import builtin_scenarios
from twin.scenario.loader import from_dict
from twin.sim.power import (
    POWER_FACTOR,
    TAN_PHI,
    UPS_EMPTY_FRACTION,
    CurveTable,
    PowerChain,
    TransformerGroups,
    curve_efficiency,
    input_through_curve,
)
from twin.sim.topology import build_topology

SCENARIO = "seoul-ai-factory"


@cache
def _scenario():
    return load(SCENARIO)


@cache
def _raw() -> dict:
    with builtin_scenarios()[SCENARIO].open("rb") as f:
        return tomllib.load(f)


def variant(**power_changes):
    """The scenario with ``power.<table>.<key>`` replaced: variant(ups={"mode": "eco"})."""
    data = copy.deepcopy(_raw())
    for table, changes in power_changes.items():
        data["power"][table].update(changes)
    return from_dict(data, source="variant")


def chain(s=None) -> PowerChain:
    s = s or _scenario()
    return PowerChain.from_scenario(s, build_topology(s))


def rack_loads(pc: PowerChain, kw: float = 120.0, spread: float = 0.0, seed: int = 1) -> np.ndarray:
    n = len(pc.topo.rack_row)
    rng = np.random.default_rng(seed)
    return pc.rack_input_w(kw * 1e3 * (1.0 + spread * rng.uniform(-1, 1, n)))


MECH_W = np.array([400e3, 350e3])
PLANT_W = 3.0e6
ROBOT_W = 40e3


# ------------------------------------------------------------------------ transformers


def _fed_at_rated_voltage(group: TransformerGroups, p_w, sweeps: int = 40):
    """Sweep a transformer group alone from rated HV voltage: (loss W, LV current over
    rated); ``p_w`` may be a function of the group (a load that follows its voltage)."""
    group.start()
    for _ in range(sweeps + 1):
        p = (p_w(group) if callable(p_w) else p_w) / group.rating_va
        group.backward(p, p * TAN_PHI)
        group.forward(1.0)
    group.backward(p, p * TAN_PHI)
    return (group.p_hv - p) * group.rating_va, np.sqrt(group.i_lv_sq)


@pytest.mark.parametrize("fraction", [0.0, 0.5, 1.0])
@pytest.mark.parametrize("units", [1, 3])
@pytest.mark.parametrize(
    "which", ["main_transformers", "distribution_transformer", "plant_transformers"]
)
def test_transformer_loss_at_no_half_and_full_current(which, units, fraction):
    spec = getattr(_scenario().power, which)
    group = TransformerGroups.single(spec, units)
    # the load that draws this fraction of rated current at the LV voltage, S = I V
    loss, loading = _fed_at_rated_voltage(
        group, lambda g: fraction * g.rating_va * POWER_FACTOR * math.sqrt(g.v_lv_sq)
    )
    assert loading == pytest.approx(fraction, rel=1e-9, abs=1e-12)
    # no-load loss at the magnetizing branch's voltage, near rated without load
    no_load = units * spec.no_load_loss_kw * 1e3 * group.v_mid_sq
    if fraction == 0.0:
        assert no_load == pytest.approx(units * spec.no_load_loss_kw * 1e3, rel=1e-4)
    # copper loss x current^2; the HV half also carries the magnetizing current
    rated_copper = units * spec.load_loss_kw * 1e3
    assert loss - no_load == pytest.approx(
        rated_copper * fraction**2, rel=2e-3, abs=1e-6 * rated_copper
    )


def test_transformer_groups_vectorised_and_sharing_the_load():
    spec = _scenario().power.distribution_transformer
    units = np.array([8.0, 4.0])
    loss, loading = _fed_at_rated_voltage(TransformerGroups([spec, spec], units), 8e6)
    v_lv = []
    for k in range(2):
        single = TransformerGroups.single(spec, units[k])
        one_loss, one_loading = _fed_at_rated_voltage(single, 8e6)
        assert loss[k] == pytest.approx(one_loss, rel=1e-12)
        assert loading[k] == pytest.approx(one_loading, rel=1e-12)
        v_lv.append(math.sqrt(single.v_lv_sq))
    # the same power over half the units: twice the loading at the same voltage, load loss
    # x 2 in total (the four units' deeper voltage sag draws a little more current)
    assert v_lv[1] < v_lv[0]
    sag = v_lv[0] / v_lv[1]
    assert loading[1] == pytest.approx(2 * loading[0] * sag, rel=1e-9)
    load_loss = loss - units * spec.no_load_loss_kw * 1e3  # at about rated voltage
    assert load_loss[1] == pytest.approx(2 * load_loss[0] * sag**2, rel=1e-2)


# ------------------------------------------------------------------------ UPS and PSU curves


@pytest.mark.parametrize("which", ["ups", "psu"])
def test_efficiency_curves_interpolate_the_scenario_points(which):
    p = _scenario().power
    curve = p.ups.efficiency if which == "ups" else p.rack_psu
    pts = np.asarray(curve.load_pct, float)
    eff = np.asarray(curve.efficiency_pct, float) / 100.0
    np.testing.assert_allclose(curve_efficiency(curve, pts / 100.0), eff, rtol=1e-12)
    mids = (pts[:-1] + pts[1:]) / 2.0
    np.testing.assert_allclose(
        curve_efficiency(curve, mids / 100.0), (eff[:-1] + eff[1:]) / 2.0, rtol=1e-12
    )
    # flat beyond the ends
    assert curve_efficiency(curve, 0.0) == pytest.approx(eff[0])
    assert curve_efficiency(curve, 1.5) == pytest.approx(eff[-1])


@pytest.mark.parametrize("which", ["ups", "psu"])
def test_a_curve_table_gives_the_curve_functions_input_to_the_last_bit(which):
    p = _scenario().power
    curve = p.ups.efficiency if which == "ups" else p.rack_psu
    rating_w = np.random.default_rng(3).uniform(1e3, 2e5, 4000)
    out_w = rating_w * np.random.default_rng(4).uniform(0.0, 1.6, 4000)  # past both ends
    out_w[:10] = 0.0
    np.testing.assert_array_equal(
        CurveTable(curve).input_w(out_w, rating_w), input_through_curve(curve, out_w, rating_w)
    )


def test_psu_curve_known_points():
    psu = _scenario().power.rack_psu  # 80 PLUS Titanium 90/94/96/91 at 10/20/50/100 %
    assert curve_efficiency(psu, 0.35) == pytest.approx(0.95)
    assert curve_efficiency(psu, 0.75) == pytest.approx(0.935)


@pytest.mark.parametrize("which", ["ups", "psu"])
def test_input_through_curve_inverts_the_curve(which):
    p = _scenario().power
    curve = p.ups.efficiency if which == "ups" else p.rack_psu
    rating = 250e3
    out = np.linspace(0.0, 1.3, 27) * rating
    p_in = input_through_curve(curve, out, rating)
    eta = curve_efficiency(curve, out / rating)
    np.testing.assert_allclose(p_in * eta, out, rtol=1e-12, atol=1e-9)
    assert np.all(p_in >= out)
    # at a curve point: P_in = P_out / eta exactly
    k = len(curve.load_pct) // 2
    at = curve.load_pct[k] / 100.0 * rating
    assert float(input_through_curve(curve, at, rating)) == pytest.approx(
        at / (curve.efficiency_pct[k] / 100.0), rel=1e-12
    )


def test_rack_input_uses_psu_rated_at_twice_nameplate():
    s = _scenario()
    pc = chain()
    nameplate = s.rack_types["gb300-nvl72"].nameplate_kw * 1e3
    dc = np.full(len(pc.topo.rack_row), 0.5 * nameplate)  # 25 % of the N+N shelf
    eta = float(curve_efficiency(s.power.rack_psu, 0.25))
    np.testing.assert_allclose(pc.rack_input_w(dc), dc / eta, rtol=1e-12)


# ------------------------------------------------------------------------ busways


def _busway_loss_by_hall(pc: PowerChain, rack_in: np.ndarray) -> np.ndarray:
    """Busway loss per hall, from what the UPS delivers minus what the rows draw."""
    pc.step(0.0, 1.0, rack_in, MECH_W, PLANT_W, ROBOT_W)
    ups_rating = pc.hall_ups_modules * pc.p.ups.module_rating_kw * 1e3
    row_w = np.bincount(pc.topo.rack_hall, weights=rack_in, minlength=pc.hall_count)
    return pc.hall_ups_loading * ups_rating - row_w


def test_busway_loss_scales_with_current_squared():
    s = _scenario()
    b = s.power.busway
    pc = chain()
    rating_va = math.sqrt(3) * b.voltage_v * b.rating_a
    rated_w = rating_va * POWER_FACTOR
    rows = pc.topo.rack_row
    one_row = rows == 0
    rack_in = np.where(one_row, rated_w / one_row.sum(), 0.0)  # row 0 at rated power
    at_rating = _busway_loss_by_hall(pc, rack_in)
    full_current = pc.row_loading[0]
    # rated power at the end of the busway draws a little more than rated current: the
    # voltage there sags by about r cos(phi), r the resistance per unit
    r_pu = b.loss_kw_at_rating * 1e3 / rating_va
    assert full_current == pytest.approx(1.0 / (1.0 - r_pu * POWER_FACTOR), rel=1e-4)
    assert at_rating[0] == pytest.approx(b.loss_kw_at_rating * 1e3 * full_current**2, rel=1e-9)
    assert at_rating[1] == pytest.approx(0.0, abs=1e-6)
    half = _busway_loss_by_hall(pc, rack_in / 2)
    half_current = pc.row_loading[0]
    assert half[0] == pytest.approx(b.loss_kw_at_rating * 1e3 * half_current**2, rel=1e-9)
    assert half_current == pytest.approx(full_current / 2, rel=5e-3)
    assert at_rating[0] == pytest.approx(4.0 * half[0], rel=1e-2)
    # two rows at half power lose about half of one row at full power
    two_rows = np.isin(rows, [0, 1])
    spread = _busway_loss_by_hall(pc, np.where(two_rows, rated_w / two_rows.sum(), 0.0))
    assert spread[0] == pytest.approx(2.0 * half[0], rel=1e-9)
    assert spread[0] == pytest.approx(at_rating[0] / 2, rel=1e-2)


# ------------------------------------------------------------------------ the whole chain


def _t_circuit(spec, units, v_hv: complex, s_va: complex) -> tuple[complex, complex]:
    """(Power into the HV terminals VA, LV voltage pu) of ``units`` parallel transformers,
    each a T circuit, with a constant load ``s_va``: complex phasors, by fixed point on
    the LV voltage, independently of PowerChain's sweep."""
    base = units * spec.rating_kva * 1e3
    r = spec.load_loss_kw / spec.rating_kva
    z_half = complex(r, math.sqrt((spec.impedance_pct / 100.0) ** 2 - r * r)) / 2.0
    y = spec.no_load_loss_kw / spec.rating_kva
    s = s_va / base
    v_lv = v_hv
    for _ in range(100):
        i_lv = (s / v_lv).conjugate()
        v_mid = (v_hv - z_half * i_lv) / (1.0 + z_half * y)
        v_lv = v_mid - z_half * i_lv
    return v_hv * (i_lv + y * v_mid).conjugate() * base, v_lv


def _recompute(pc: PowerChain, rack_in, mech, plant, robot):
    """Demand and losses from the scenario's parameters, independently of PowerChain."""
    s = _scenario()
    p = s.power
    topo = pc.topo
    b = p.busway
    busway_va = math.sqrt(3) * b.voltage_v * b.rating_a
    r_busway = b.loss_kw_at_rating * 1e3 / busway_va
    row_w = np.array([rack_in[topo.rack_row == r].sum() for r in range(len(topo.row_names))])
    busway = np.zeros_like(row_w)
    for r, w in enumerate(row_w):
        s_row, v_end = complex(w, w * TAN_PHI) / busway_va, 1.0 + 0j  # from the UPS at 1 pu
        for _ in range(100):
            v_end = 1.0 - r_busway * (s_row / v_end).conjugate()
        busway[r] = b.loss_kw_at_rating * 1e3 * abs(s_row / v_end) ** 2
    halls = range(len(s.halls))
    ups_out = np.array([(row_w + busway)[topo.row_hall == h].sum() for h in halls])
    ups_rating = np.array(
        [hh.electrical.ups_modules * p.ups.module_rating_kw * 1e3 for hh in s.halls]
    )
    eff = (
        np.interp(
            ups_out / ups_rating * 100, p.ups.efficiency.load_pct, p.ups.efficiency.efficiency_pct
        )
        / 100
    )
    ups_in = ups_out / eff
    hall_through = ups_in + mech

    v_mv = 1.0 + 0j
    for _ in range(30):
        hall_in = [
            _t_circuit(
                p.distribution_transformer,
                hh.electrical.transformers,
                v_mv,
                complex(hall_through[i], hall_through[i] * TAN_PHI),
            )[0]
            for i, hh in enumerate(s.halls)
        ]
        plant_in = _t_circuit(
            p.plant_transformers,
            p.plant_transformers.units,
            v_mv,
            complex(plant + robot, (plant + robot) * TAN_PHI),
        )[0]
        main_in, v_mv = _t_circuit(
            p.main_transformers, p.main_transformers.units, 1.0 + 0j, sum(hall_in) + plant_in
        )
    dist = np.array([x.real for x in hall_in]) - hall_through
    plant_loss = plant_in.real - (plant + robot)
    main_loss = main_in.real - (sum(hall_in) + plant_in).real
    busway_hall = np.array([busway[topo.row_hall == h].sum() for h in halls])
    indoor = busway_hall + (ups_in - ups_out) + dist
    loads = rack_in.sum() + mech.sum() + plant + robot
    return {
        "demand": loads + indoor.sum() + plant_loss + main_loss,
        "indoor": indoor,
        "outdoor": plant_loss + main_loss,
        "loads": loads,
    }


@pytest.mark.parametrize("kw,spread", [(120.0, 0.0), (90.0, 0.4), (20.0, 0.9)])
def test_step_demand_is_loads_plus_losses(kw, spread):
    pc = chain()
    rack_in = rack_loads(pc, kw, spread)
    e0 = pc.bess_energy_j
    g = pc.step(0.0, 1.0, rack_in, MECH_W, PLANT_W, ROBOT_W)
    ref = _recompute(pc, rack_in, MECH_W, PLANT_W, ROBOT_W)
    # the chain's few sweeps against the reference's converged load flow
    assert g.demand_w == pytest.approx(ref["demand"], rel=1e-6)
    assert g.demand_w > ref["loads"]
    np.testing.assert_allclose(pc.losses.hall_indoor_w, ref["indoor"], rtol=1e-6)
    assert np.all(pc.losses.hall_indoor_w >= 0.0)
    # BESS conversion loss from its energy change and its power at the bus
    bess_loss = (e0 - pc.bess_energy_j) - g.bess_w * 1.0
    assert bess_loss >= -1e-6
    assert g.bess_loss_w == pytest.approx(bess_loss, rel=1e-9, abs=1e-6)
    assert g.loss_w == pytest.approx(ref["demand"] - ref["loads"], rel=1e-6)
    assert g.outdoor_loss_w - g.bess_loss_w == pytest.approx(ref["outdoor"], rel=1e-6)
    # and exactly: demand is the loads plus the chain's losses, the BESS's own not among them
    assert g.demand_w == pytest.approx(ref["loads"] + g.loss_w, rel=1e-12)
    assert pc.losses.hall_indoor_w.sum() + g.outdoor_loss_w - g.bess_loss_w == pytest.approx(
        g.loss_w, rel=1e-12
    )
    # every watt of demand comes from some source
    assert (
        g.grid_import_w + g.generator_w + g.bess_w + g.ups_battery_w + g.unserved_w
        == pytest.approx(g.demand_w, rel=1e-12)
    )
    assert g.unserved_w == 0.0


def test_step_losses_at_full_load_are_plausible():
    pc = chain()
    rack_in = rack_loads(pc, 132.0)
    g = pc.step(0.0, 1.0, rack_in, MECH_W, PLANT_W, ROBOT_W)
    share = g.loss_w / g.demand_w
    assert 0.01 < share < 0.08  # UPS ~3 %, transformers and busways ~1 %
    assert 0.0 < pc.main_loading < 1.0
    assert np.all((pc.hall_transformer_loading > 0) & (pc.hall_transformer_loading < 1))


# ------------------------------------------------------------------------ BESS


@settings(max_examples=60, deadline=None)
@given(
    dt=st.sampled_from([0.1, 1.0, 7.5, 60.0, 300.0]),
    requests=st.lists(st.floats(-30e6, 30e6, allow_nan=False), min_size=1, max_size=60),
    soc0=st.floats(0.1, 0.95),
)
def test_bess_limits_and_energy_balance(dt, requests, soc0):
    pc = chain()
    bess = pc.p.bess
    cap = pc.bess_capacity_j
    pc.bess_energy_j = soc0 * cap
    tol = 1e-9 * cap
    for request in requests:
        e0 = pc.bess_energy_j
        power, loss = pc._bess_apply(request, dt)
        e1 = pc.bess_energy_j
        assert bess.soc_min * cap - tol <= e1 <= bess.soc_max * cap + tol
        assert abs(power) <= pc.bess_power_w * (1 + 1e-12)
        assert loss >= 0.0
        # the battery never does more than asked, nor the opposite
        assert power * request >= 0.0 and abs(power) <= abs(request) + 1e-6
        assert e1 - e0 == pytest.approx(-(power * dt) - loss * dt, abs=tol)
        if power:
            eta = pc.eta_one_way
            assert loss == pytest.approx(
                abs(power) * (1 / eta - 1) if power > 0 else abs(power) * (1 - eta), rel=1e-9
            )


def test_bess_round_trip_efficiency():
    pc = chain()
    pc.bess_energy_j = 0.5 * pc.bess_capacity_j
    e0 = pc.bess_energy_j
    charged, _ = pc._bess_apply(-5e6, 60.0)
    mid = pc.bess_energy_j
    pc._bess_apply((mid - e0) / 60.0 * pc.eta_one_way, 60.0)
    discharged_bus = (mid - pc.bess_energy_j) * pc.eta_one_way
    assert pc.bess_energy_j == pytest.approx(e0, rel=1e-12)
    assert discharged_bus / (-charged * 60.0) == pytest.approx(
        pc.p.bess.round_trip_efficiency, rel=1e-12
    )


def test_peak_shaving_holds_import_under_cap_minus_margin_while_energy_lasts():
    pc = chain()
    rack_in = rack_loads(pc, 120.0)
    demand = pc.step(0.0, 1.0, rack_in, MECH_W, PLANT_W, ROBOT_W).demand_w
    pc.reset()
    margin = pc.p.bess.peak_shaving_margin_mw * 1e6
    cap = demand - 8e6 + margin  # ask the BESS for 8 MW
    pc.set_import_cap(cap)
    dt = 60.0
    held = ran_out = 0
    for k in range(200):
        soc_before = pc.bess_energy_j / pc.bess_capacity_j
        g = pc.step(k * dt, dt, rack_in, MECH_W, PLANT_W, ROBOT_W)
        assert g.bess_soc >= pc.p.bess.soc_min - 1e-12
        if soc_before > pc.p.bess.soc_min + 8e6 * dt / pc.bess_capacity_j / pc.eta_one_way:
            assert g.grid_import_w <= cap - margin + 1e-3
            assert g.bess_w == pytest.approx(8e6, rel=1e-9)
            held += 1
        elif g.grid_import_w > cap - margin + 1.0:
            ran_out += 1
    assert held > 60  # 14 MWh usable at 8 MW: ~100 minutes
    assert ran_out > 0  # then the cap is exceeded: the test can tell


def test_peak_shaving_recharges_without_breaking_the_cap():
    pc = chain()
    rack_in = rack_loads(pc, 60.0)
    demand = pc.step(0.0, 1.0, rack_in, MECH_W, PLANT_W, ROBOT_W).demand_w
    pc.reset()
    margin = pc.p.bess.peak_shaving_margin_mw * 1e6
    cap = demand + margin + 0.3e6  # 0.3 MW headroom for recharging
    pc.set_import_cap(cap)
    pc.bess_energy_j = 0.5 * pc.bess_capacity_j
    e0 = pc.bess_energy_j
    for k in range(30):
        g = pc.step(k * 60.0, 60.0, rack_in, MECH_W, PLANT_W, ROBOT_W)
        assert g.grid_import_w <= cap - margin + 1e-3
        assert g.bess_w <= 0.0
    assert pc.bess_energy_j > e0


def test_demand_response_target_met_by_the_bess_while_it_can():
    pc = chain()
    rack_in = rack_loads(pc, 120.0)
    demand = pc.step(0.0, 1.0, rack_in, MECH_W, PLANT_W, ROBOT_W).demand_w
    pc.reset()
    target = demand - 6e6
    pc.set_demand_response(target)
    dt = 120.0
    met = missed = 0
    for k in range(120):
        usable = pc.bess_energy_j - pc.p.bess.soc_min * pc.bess_capacity_j
        g = pc.step(k * dt, dt, rack_in, MECH_W, PLANT_W, ROBOT_W)
        if usable * pc.eta_one_way >= 6e6 * dt:
            assert g.grid_import_w == pytest.approx(target, abs=1.0)
            met += 1
        else:
            assert g.grid_import_w >= target - 1.0
            if g.grid_import_w > target + 1e3:
                missed += 1
    assert met > 60 and missed > 0
    pc.set_demand_response(None)
    g = pc.step(1e6, dt, rack_in, MECH_W, PLANT_W, ROBOT_W)
    assert g.grid_import_w >= demand - 1.0  # the event over: no more discharge


# ------------------------------------------------------------------------ utility outage


def _run_outage(pc: PowerChain, rack_in, dt=0.5, until=60.0, start=5.0):
    pc.start_outage(start, 600.0)
    out = []
    t = 0.0
    while t < until:
        g = pc.step(t, dt, rack_in, MECH_W, PLANT_W, ROBOT_W)
        out.append((t, g, float(pc.ups_energy_j.sum())))
        t += dt
    return out


def _ramp_mean_w(
    t0: float,
    dt: float,
    online_s: float,
    rate_w_per_s: float,
    full_w: float,
    cap_w: float,
    samples: int = 4000,
) -> float:
    """Mean over a step of the sets' ramp held to ``cap_w``, by the midpoint rule."""
    t = t0 + (np.arange(samples) + 0.5) * dt / samples
    return float(np.mean(np.minimum(np.clip(rate_w_per_s * (t - online_s), 0.0, full_w), cap_w)))


def test_outage_generators_start_after_delay_and_ramp():
    """The sets close onto the bus ``start_delay_s`` after the outage, inside the step
    that holds that moment, and ramp from then: each step's generator power is the
    ramp's mean over it, the BESS gives the shortfall up to its rating at every moment,
    the UPS batteries the rest."""
    pc = chain()
    gens = pc.p.generators
    rate = gens.units * gens.ramp_mw_per_s * 1e6
    full_w = gens.units * gens.rating_mw * 1e6
    rack_in = rack_loads(pc, 120.0)
    dt = 0.7  # the sets' start (5 + 10 s) falls inside a step
    start = 5.0
    online = start + gens.start_delay_s
    steps = _run_outage(pc, rack_in, dt=dt, start=start)
    carried = False
    for t, g, _ups_j in steps:
        assert (
            g.grid_import_w + g.generator_w + g.bess_w + g.ups_battery_w + g.unserved_w
            == pytest.approx(g.demand_w, rel=1e-12)
        )
        if t < start:
            assert g.grid_import_w > 0 and g.generator_w == 0
            continue
        assert g.grid_import_w == 0.0
        assert g.generator_w == pytest.approx(
            _ramp_mean_w(t, dt, online, rate, full_w, g.demand_w), rel=1e-6, abs=1.0
        )
        # in the gap the BESS runs flat out and the UPS batteries carry the rest
        bess_w = g.demand_w - _ramp_mean_w(t, dt, online, rate, full_w, g.demand_w)
        bess_w -= (
            g.demand_w
            - pc.bess_power_w
            - _ramp_mean_w(t, dt, online, rate, full_w, g.demand_w - pc.bess_power_w)
        )
        assert g.bess_w == pytest.approx(bess_w, rel=1e-6, abs=1.0)
        assert (
            g.ups_battery_w
            <= float(pc.hall_ups_loading @ (pc.hall_ups_modules * pc.p.ups.module_rating_kw * 1e3))
            + 1e-6
        )
        assert g.unserved_w == 0.0 and pc.hall_powered.all()
        if g.generator_w == pytest.approx(g.demand_w, rel=1e-12):
            carried = True
            assert g.ups_battery_w == 0.0
    assert carried
    assert steps[-1][1].generator_w == pytest.approx(steps[-1][1].demand_w, rel=1e-12)
    assert steps[-1][2] < float(pc.ups_capacity_j.sum())  # the UPS batteries were used


def test_outage_bridging_energy_is_the_same_at_a_coarse_step():
    """One 60 s step over the sets' start gives the generators, the BESS and the UPS
    batteries the energies that 0.5 s steps give them."""
    rack_in = rack_loads(chain(), 120.0)
    energies = {}
    for dt in (0.5, 60.0):
        pc = chain()
        steps = _run_outage(pc, rack_in, dt=dt, until=120.0, start=60.0)
        outage = [g for t, g, _ in steps if t >= 60.0]
        energies[dt] = (
            sum(g.generator_w for g in outage) * dt,
            sum(g.bess_w for g in outage) * dt,
            float(pc.ups_capacity_j.sum() - pc.ups_energy_j.sum()),
        )
    fine, coarse = energies[0.5], energies[60.0]
    assert coarse[0] == pytest.approx(fine[0], rel=1e-3)
    assert fine[1] > 0 and fine[2] > 0  # the BESS and the UPS batteries bridged the start
    assert coarse[1] == pytest.approx(fine[1], rel=0.02)
    assert coarse[2] == pytest.approx(fine[2], rel=0.02)


def test_ups_drops_its_racks_at_end_of_discharge_and_restarts_as_the_sets_take_up_load():
    """With 0.6 s of ride-through the UPS run down before the generators start: they drop
    their racks when their batteries empty, inside a step (the racks run for its share
    before, as the engine runs them; nothing goes unserved), and the halls come back one
    by one, in scenario order, as the sets' ramp makes room for each."""
    s = variant(ups={"battery_ride_through_s": 0.6})
    pc = chain(s)
    rack_in = rack_loads(pc, 120.0)
    start, dt = 1.0, 0.1
    pc.start_outage(start, 600.0)
    powered, t = [], 0.0
    emptied_at = None
    while t < 40.0:
        share = pc.hall_powered_share.copy()
        g = pc.step(t, dt, rack_in * share[pc.topo.rack_hall], MECH_W, PLANT_W, ROBOT_W)
        assert g.unserved_w == pytest.approx(0.0, abs=1e-3)
        if emptied_at is None and (share < 1.0).any():
            emptied_at = t + dt * float(share.min())
            # the batteries are empty when the UPS stop (to within what a draw that
            # changed inside the step leaves)
            assert float(pc.ups_energy_j.sum()) <= UPS_EMPTY_FRACTION * float(
                pc.ups_capacity_j.sum()
            )
        assert g.grid_import_w + g.generator_w + g.bess_w + g.ups_battery_w == pytest.approx(
            g.demand_w, rel=1e-12
        )
        powered.append((t, pc.hall_powered.copy(), g))
        t += dt
    dark = [t for t, on, _ in powered if not on.any()]
    assert dark and dark[0] < start + 1.0  # well before the sets are on the bus
    assert emptied_at is not None and dark[0] < emptied_at <= dark[0] + dt  # in that step
    first_back = {
        hall: min(t for t, on, _ in powered if t > dark[0] and on[hall])
        for hall in range(pc.hall_count)
    }
    assert start + s.power.generators.start_delay_s < first_back[0] < first_back[1]
    for t, on, g in powered:
        if t >= first_back[1]:
            assert on.all()
            assert g.generator_w + g.bess_w == pytest.approx(g.demand_w, rel=1e-9)


def test_ups_batteries_recharge_after_the_outage():
    pc = chain()
    rack_in = rack_loads(pc, 120.0)
    _run_outage(pc, rack_in, dt=0.5, until=20.0, start=0.0)
    pc.outage = (0.0, 20.0)
    low = float(pc.ups_energy_j.sum())
    g = pc.step(30.0, 60.0, rack_in, MECH_W, PLANT_W, ROBOT_W)
    assert float(pc.ups_energy_j.sum()) > low
    assert g.ups_battery_w < 0.0
    assert g.grid_import_w + g.generator_w + g.bess_w + g.ups_battery_w == pytest.approx(
        g.demand_w, rel=1e-12
    )


def test_smoothing_never_charges_the_bess_above_the_cap():
    """A falling demand makes the smoothing filter charge; not past cap - margin."""
    pc = chain()
    high = rack_loads(pc, 120.0)
    low = rack_loads(pc, 100.0)
    d_low = pc.step(0.0, 1.0, low, MECH_W, PLANT_W, ROBOT_W).demand_w
    pc.reset()
    margin = pc.p.bess.peak_shaving_margin_mw * 1e6
    cap = d_low + margin + 0.2e6
    pc.set_import_cap(cap)
    t = 0.0
    for _ in range(30):
        pc.step(t, 1.0, high, MECH_W, PLANT_W, ROBOT_W)
        t += 1.0
    for _ in range(30):
        g = pc.step(t, 1.0, low, MECH_W, PLANT_W, ROBOT_W)
        t += 1.0
        assert g.grid_import_w <= cap - margin + 1e-3


def test_smoothing_never_charges_above_a_demand_response_target():
    pc = chain()
    high = rack_loads(pc, 120.0)
    low = rack_loads(pc, 100.0)
    d_low = pc.step(0.0, 1.0, low, MECH_W, PLANT_W, ROBOT_W).demand_w
    pc.reset()
    target = d_low + 0.2e6
    pc.set_demand_response(target)
    t = 0.0
    for _ in range(30):
        pc.step(t, 1.0, high, MECH_W, PLANT_W, ROBOT_W)
        t += 1.0
    for _ in range(30):
        g = pc.step(t, 1.0, low, MECH_W, PLANT_W, ROBOT_W)
        t += 1.0
        assert g.grid_import_w <= target + 1e-3


def test_ups_recharge_after_outage_stays_under_the_cap():
    pc = chain()
    rack_in = rack_loads(pc, 120.0)
    demand = pc.step(0.0, 1.0, rack_in, MECH_W, PLANT_W, ROBOT_W).demand_w
    pc.reset()
    margin = pc.p.bess.peak_shaving_margin_mw * 1e6
    cap = demand + margin + 0.05e6  # less headroom than the UPS recharge wants
    pc.set_import_cap(cap)
    pc.start_outage(0.0, 20.0)
    t = 0.0
    while t < 20.0:
        pc.step(t, 0.5, rack_in, MECH_W, PLANT_W, ROBOT_W)
        t += 0.5
    # generators ramp down, then the grid alone carries the site and the UPS recharge
    ups_low = float(pc.ups_energy_j.sum())
    for _ in range(200):
        g = pc.step(t, 5.0, rack_in, MECH_W, PLANT_W, ROBOT_W)
        t += 5.0
        assert g.grid_import_w <= cap - margin + 1e-3
        assert g.grid_import_w + g.generator_w + g.bess_w + g.ups_battery_w == pytest.approx(
            g.demand_w, rel=1e-12
        )
    assert float(pc.ups_energy_j.sum()) > ups_low  # the UPS batteries did recharge
