"""CDU loop hydraulics: affinity laws, pumps in parallel, flow split, zero-flow states."""

from __future__ import annotations

import math

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from hypothesis.extra.numpy import arrays

from twin.sim.hydraulics import (
    W_PER_KPA_LPM,
    CduLoopParams,
    LoopSolution,
    branch_conductance_lpm_per_sqrt_kpa,
    branch_flow_lpm,
    conductance_sum_per_cdu,
    quadratic_resistance_kpa_per_lpm2,
    solve_loops,
    speed_for_branch_dp,
    valve_flow_fraction,
)

# cdu-2300 of the Seoul scenario, racks gb300-nvl72 (180 L/min at 100 kPa), 14 per CDU.
H0_KPA, QD_LPM, HD_KPA, EFF = 380.0, 2800.0, 260.0, 0.65
A_KPA_PER_LPM2 = (H0_KPA - HD_KPA) / QD_LPM**2


def params(n: int = 1, series_dp_kpa: float = 60.0, series_flow_lpm: float = 2800.0):
    return CduLoopParams.from_design(
        np.full(n, H0_KPA), QD_LPM, HD_KPA, series_dp_kpa, series_flow_lpm, EFF
    )


def one(x) -> np.ndarray:
    return np.atleast_1d(np.asarray(x, dtype=np.float64))


def test_from_design_coefficients():
    p = params()
    assert p.curve_a_kpa_per_lpm2[0] == pytest.approx(A_KPA_PER_LPM2, rel=1e-15)
    assert p.series_k_kpa_per_lpm2[0] == pytest.approx(60.0 / 2800.0**2, rel=1e-15)
    assert quadratic_resistance_kpa_per_lpm2(100.0, 180.0) == pytest.approx(100 / 180**2)
    assert branch_conductance_lpm_per_sqrt_kpa(180.0, 100.0) == pytest.approx(18.0)


def test_single_pump_at_its_design_point():
    # A system that passes exactly the design flow at the design head: only branches.
    g = QD_LPM / math.sqrt(HD_KPA)
    p = CduLoopParams.from_design(H0_KPA, QD_LPM, HD_KPA, 0.0, 1.0, EFF)
    sol = solve_loops(p, one(1.0), np.array([1]), one(g))
    assert sol.flow_lpm[0] == pytest.approx(QD_LPM, rel=1e-13)
    assert sol.pump_head_kpa[0] == pytest.approx(HD_KPA, rel=1e-13)
    assert sol.branch_dp_kpa[0] == pytest.approx(HD_KPA, rel=1e-13)
    # 260 kPa x 2800 L/min = 12.13 kW hydraulic; / 0.65 = 18.67 kW electrical.
    assert sol.pump_power_w[0] == pytest.approx(260e3 * 2800 / 60000 / 0.65, rel=1e-13)


def test_operating_point_satisfies_pump_and_system_curves():
    p = params(3)
    speed = np.array([1.0, 0.7, 0.4])
    running = np.array([1, 2, 3])
    g = np.array([14 * 18.0, 10 * 18.0, 20 * 18.0])
    sol = solve_loops(p, speed, running, g)
    q, h, dp = sol.flow_lpm, sol.pump_head_kpa, sol.branch_dp_kpa
    k_s = p.series_k_kpa_per_lpm2
    np.testing.assert_allclose(
        h, speed**2 * H0_KPA - A_KPA_PER_LPM2 * (q / running) ** 2, rtol=1e-12
    )
    np.testing.assert_allclose(h, k_s * q**2 + (q / g) ** 2, rtol=1e-12)
    np.testing.assert_allclose(dp, (q / g) ** 2, rtol=1e-12)
    np.testing.assert_allclose(sol.pump_power_w, h * q * W_PER_KPA_LPM / EFF, rtol=1e-12)


def test_affinity_laws_for_a_pure_quadratic_system():
    p = params(2)
    g = one([14 * 18.0, 14 * 18.0])
    sol = solve_loops(p, np.array([1.0, 0.5]), np.array([1, 1]), g)
    assert sol.flow_lpm[1] == pytest.approx(sol.flow_lpm[0] / 2, rel=1e-14)
    assert sol.pump_head_kpa[1] == pytest.approx(sol.pump_head_kpa[0] / 4, rel=1e-14)
    assert sol.branch_dp_kpa[1] == pytest.approx(sol.branch_dp_kpa[0] / 4, rel=1e-14)
    assert sol.pump_power_w[1] == pytest.approx(sol.pump_power_w[0] / 8, rel=1e-14)


def test_two_pumps_in_parallel():
    # Against a system K, N pumps give Q = sqrt(H0 / (K + a / N^2)).
    p = params(2)
    g = 14 * 18.0
    k_sys = p.series_k_kpa_per_lpm2[0] + 1 / g**2
    sol = solve_loops(p, np.ones(2), np.array([1, 2]), one([g, g]))
    for i, n in enumerate((1, 2)):
        assert sol.flow_lpm[i] == pytest.approx(
            math.sqrt(H0_KPA / (k_sys + A_KPA_PER_LPM2 / n**2)), rel=1e-13
        )
    # The second pump adds flow, but less than doubles it (the system curve rises).
    assert sol.flow_lpm[0] < sol.flow_lpm[1] < 2 * sol.flow_lpm[0]
    # With a negligible system resistance the flow does double (each pump runs out).
    flat = CduLoopParams.from_design(np.full(2, H0_KPA), QD_LPM, HD_KPA, 0.0, 1.0, EFF)
    wide = solve_loops(flat, np.ones(2), np.array([1, 2]), one([1e9, 1e9]))
    assert wide.flow_lpm[1] == pytest.approx(2 * wide.flow_lpm[0], rel=1e-9)


def test_flow_split_between_unequal_branches():
    # Two racks on one CDU: k of the second is 4x the first, so it gets half the flow.
    k = np.array([100.0 / 180.0**2, 400.0 / 180.0**2])
    g_rack = 1 / np.sqrt(k)
    rack_cdu = np.array([0, 0])
    p = params(1)
    g = conductance_sum_per_cdu(g_rack, rack_cdu, 1)
    sol = solve_loops(p, one(0.8), np.array([1]), g)
    q = branch_flow_lpm(g_rack, rack_cdu, sol.branch_dp_kpa)
    assert q[0] == pytest.approx(2 * q[1], rel=1e-14)
    assert q.sum() == pytest.approx(sol.flow_lpm[0], rel=1e-14)
    np.testing.assert_allclose(k * q**2, sol.branch_dp_kpa[0], rtol=1e-13)


def test_branch_flows_over_many_cdus_sum_to_cdu_flow():
    rng = np.random.default_rng(11)
    cdus, racks = 50, 700
    rack_cdu = rng.integers(0, cdus - 1, racks)  # the last CDU has no racks
    g_rack = branch_conductance_lpm_per_sqrt_kpa(
        rng.uniform(100, 300, racks), rng.uniform(50, 150, racks)
    )
    g_rack *= valve_flow_fraction(rng.uniform(0, 1, racks))
    g = conductance_sum_per_cdu(g_rack, rack_cdu, cdus)
    expected_g = np.array([g_rack[rack_cdu == c].sum() for c in range(cdus)])
    np.testing.assert_allclose(g, expected_g, rtol=1e-12)
    assert g[-1] == 0.0
    sol = solve_loops(params(cdus), rng.uniform(0.15, 1, cdus), rng.integers(0, 3, cdus), g)
    q = branch_flow_lpm(g_rack, rack_cdu, sol.branch_dp_kpa)
    per_cdu = np.bincount(rack_cdu, weights=q, minlength=cdus)
    np.testing.assert_allclose(per_cdu, sol.flow_lpm, rtol=1e-12, atol=1e-9)
    assert sol.flow_lpm[-1] == 0.0 and sol.pump_power_w[-1] == 0.0


def test_vectorized_matches_one_cdu_at_a_time():
    rng = np.random.default_rng(5)
    n = 40
    p = CduLoopParams(
        shutoff_head_kpa=rng.uniform(100, 500, n),
        curve_a_kpa_per_lpm2=rng.uniform(1e-6, 1e-4, n),
        series_k_kpa_per_lpm2=rng.uniform(0, 1e-5, n),
        pump_efficiency=rng.uniform(0.3, 0.9, n),
    )
    speed, running, g = rng.uniform(0, 1, n), rng.integers(0, 4, n), rng.uniform(0, 500, n)
    sol = solve_loops(p, speed, running, g)
    for i in range(n):
        pi = CduLoopParams(
            p.shutoff_head_kpa[i],
            p.curve_a_kpa_per_lpm2[i],
            p.series_k_kpa_per_lpm2[i],
            p.pump_efficiency[i],
        )
        si = solve_loops(pi, one(speed[i]), np.array([running[i]]), one(g[i]))
        for name in ("flow_lpm", "pump_head_kpa", "branch_dp_kpa", "pump_power_w"):
            assert getattr(si, name)[0] == pytest.approx(getattr(sol, name)[i], rel=1e-14)


def test_no_pump_or_no_speed_gives_exactly_zero():
    p = params(4)
    g = one([252.0, 252.0, 0.0, 252.0])
    with np.errstate(all="raise"):
        sol = solve_loops(p, np.array([0.0, 1.0, 1.0, 0.0]), np.array([2, 0, 0, 0]), g)
    for arr in (sol.flow_lpm, sol.pump_head_kpa, sol.branch_dp_kpa, sol.pump_power_w):
        assert np.array_equal(arr, np.zeros(4))


def test_all_valves_shut_dead_heads_the_pumps():
    p = params(2)
    with np.errstate(all="raise"):
        sol = solve_loops(p, np.array([1.0, 0.6]), np.array([1, 2]), np.zeros(2))
    np.testing.assert_allclose(sol.branch_dp_kpa, [H0_KPA, 0.36 * H0_KPA], rtol=1e-15)
    np.testing.assert_allclose(sol.pump_head_kpa, sol.branch_dp_kpa, rtol=1e-15)
    assert np.array_equal(sol.flow_lpm, np.zeros(2))


def test_solution_buffers_are_reused():
    p = params(3)
    out = LoopSolution.empty(3)
    arrays_before = [out.flow_lpm, out.pump_head_kpa, out.branch_dp_kpa, out.pump_power_w]
    sol = solve_loops(p, np.ones(3), np.array([1, 1, 1]), np.full(3, 200.0), out=out)
    assert sol is out
    assert [sol.flow_lpm, sol.pump_head_kpa, sol.branch_dp_kpa, sol.pump_power_w] == arrays_before
    assert np.all(sol.flow_lpm > 0)
    solve_loops(p, np.zeros(3), np.array([1, 1, 1]), np.full(3, 200.0), out=out)
    assert np.array_equal(out.flow_lpm, np.zeros(3))


def test_valve_characteristics():
    v = np.linspace(0, 1, 11)
    f = valve_flow_fraction(v)
    assert f[0] == 0.0 and f[-1] == 1.0
    assert np.all(np.diff(f) > 0)
    # Equal percentage: each equal stroke step multiplies (f + 1/(R-1)) by R^step.
    shifted = f + 1 / (50.0 - 1)
    np.testing.assert_allclose(shifted[1:] / shifted[:-1], 50.0**0.1, rtol=1e-12)
    np.testing.assert_array_equal(valve_flow_fraction(v, "linear"), v)
    with pytest.raises(ValueError):
        valve_flow_fraction(v, "quick-opening")  # type: ignore[arg-type]
    with pytest.raises(ValueError):
        valve_flow_fraction(v, rangeability=1.0)


def test_throttling_one_rack_moves_flow_to_the_others():
    g_design = np.full(3, 18.0)
    rack_cdu = np.zeros(3, dtype=np.int64)
    p = params(1)
    before = branch_flow_lpm(
        g_design,
        rack_cdu,
        solve_loops(
            p, one(1.0), np.array([1]), conductance_sum_per_cdu(g_design, rack_cdu, 1)
        ).branch_dp_kpa,
    )
    g = g_design * valve_flow_fraction(np.array([0.5, 1.0, 1.0]))
    after = branch_flow_lpm(
        g,
        rack_cdu,
        solve_loops(
            p, one(1.0), np.array([1]), conductance_sum_per_cdu(g, rack_cdu, 1)
        ).branch_dp_kpa,
    )
    assert after[0] < before[0] and np.all(after[1:] > before[1:])
    assert after.sum() < before.sum()  # the loop as a whole is more resistive


def test_speed_for_branch_dp_is_exact_feed_forward():
    p = params(4)
    running = np.array([1, 2, 1, 0])
    g = np.array([252.0, 252.0, 30.0, 252.0])
    setpoint = np.array([110.0, 110.0, 5.0, 110.0])
    n = speed_for_branch_dp(p, setpoint, running, g, min_speed=0.15)
    assert n[3] == 1.0  # no pump: full speed asked
    sol = solve_loops(p, n, running, g)
    np.testing.assert_allclose(sol.branch_dp_kpa[:2], 110.0, rtol=1e-13)
    # A setpoint below what minimum speed makes: minimum speed is returned.
    assert n[2] == 0.15 and sol.branch_dp_kpa[2] > 5.0
    # Beyond what the pump can make: clipped at max speed.
    high = speed_for_branch_dp(p, np.full(4, 1000.0), running, g, 0.15, 1.0)
    np.testing.assert_array_equal(high, np.ones(4))


@pytest.mark.parametrize(
    "kwargs",
    [
        {"curve_a_kpa_per_lpm2": 0.0},
        {"pump_efficiency": 0.0},
        {"pump_efficiency": 1.5},
        {"series_k_kpa_per_lpm2": -1e-6},
        {"shutoff_head_kpa": np.nan},
    ],
)
def test_invalid_parameters_are_rejected(kwargs):
    good = {
        "shutoff_head_kpa": 380.0,
        "curve_a_kpa_per_lpm2": 1.5e-5,
        "series_k_kpa_per_lpm2": 7.6e-6,
        "pump_efficiency": 0.65,
    }
    with pytest.raises(ValueError):
        CduLoopParams(**{**good, **kwargs})
    with pytest.raises(ValueError):
        CduLoopParams.from_design(380.0, 2800.0, 380.0, 60.0, 2800.0, 0.65)


N = 16
positive = st.floats(1e-3, 1e3, allow_subnormal=False)


@settings(max_examples=300, deadline=None)
@given(
    h0=arrays(np.float64, N, elements=st.floats(1.0, 2000.0)),
    a=arrays(np.float64, N, elements=st.floats(1e-9, 1.0, allow_subnormal=False)),
    k_s=arrays(np.float64, N, elements=st.one_of(st.just(0.0), st.floats(1e-9, 1.0))),
    eff=arrays(np.float64, N, elements=st.floats(0.05, 1.0)),
    speed=arrays(np.float64, N, elements=st.one_of(st.just(0.0), st.floats(1e-6, 1.2))),
    running=arrays(np.int64, N, elements=st.integers(0, 8)),
    g=arrays(np.float64, N, elements=st.one_of(st.just(0.0), positive)),
)
def test_any_non_negative_state_is_finite_and_consistent(h0, a, k_s, eff, speed, running, g):
    p = CduLoopParams(h0, a, k_s, eff)
    with np.errstate(divide="raise", over="raise", invalid="raise"):
        sol = solve_loops(p, speed, running, g)
    for arr in (sol.flow_lpm, sol.pump_head_kpa, sol.branch_dp_kpa, sol.pump_power_w):
        assert np.all(np.isfinite(arr)) and np.all(arr >= 0)
    # Head never above the speed-scaled shutoff head; flow only with pumps and speed.
    assert np.all(sol.pump_head_kpa <= speed**2 * h0 * (1 + 1e-12))
    assert np.all(sol.flow_lpm[(running == 0) | (speed == 0)] == 0)
    # Head across the pumps equals the system's drop.
    np.testing.assert_allclose(
        sol.pump_head_kpa, k_s * sol.flow_lpm**2 + sol.branch_dp_kpa, rtol=1e-12
    )
