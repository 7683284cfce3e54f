"""Lumped thermal nodes and first-order lags: exact exponentials, energy closure."""

from __future__ import annotations

import math

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from hypothesis.extra.numpy import arrays

from twin.sim.thermal import exprel_neg, first_order_lag, first_order_lag_alpha, relax_node

DTS = [0.1, 1.0, 10.0, 60.0, 300.0]


def test_exprel_neg_values():
    x = np.array([0.0, 1e-12, 1e-8, 1e-3, 0.5, 1.0, 30.0, 1e6, np.inf])
    with np.errstate(all="raise"):
        got = exprel_neg(x)
    expected = [
        1.0,
        1.0 - 5e-13,
        1.0 - 5e-9,
        -math.expm1(-1e-3) / 1e-3,
        (1 - math.exp(-0.5)) / 0.5,
        1 - math.exp(-1.0),
        -math.expm1(-30.0) / 30.0,
        1e-6,
        0.0,
    ]
    np.testing.assert_allclose(got, expected, rtol=1e-14, atol=0)
    assert got[0] == 1.0 and got[-1] == 0.0
    assert np.all(np.diff(got) <= 0)


def test_exprel_neg_in_place():
    x = np.array([0.0, 2.0])
    res = exprel_neg(x, out=x)
    assert res is x
    np.testing.assert_allclose(x, [1.0, (1 - math.exp(-2.0)) / 2.0], rtol=1e-15)


def test_no_conductance_is_exactly_heating():
    t = np.array([20.0, 35.5, -3.0])
    c = np.array([1e3, 4.2e5, 7.0])
    q = np.array([100.0, 1.3e5, 0.0])
    for dt in DTS:
        t_new, heat_out = relax_node(t, c, 0.0, 99.0, q, dt)
        assert np.array_equal(t_new, t + q * dt / c)
        # Only the rounding of t_new - t remains of the residual: ulp(t) * C / dt.
        assert np.all(np.abs(heat_out) <= 4 * np.spacing(np.abs(t_new)) * c / dt)


def test_steady_rise_is_heat_over_capacity_rate():
    # A coolant node fed at t_in by m_dot cp: steady outlet rise is Q / (m_dot cp).
    m_dot_cp = np.array([2.0 * 3969.0, 0.5 * 4180.0])  # W/K
    q = np.array([120e3, 15e3])  # W
    c = np.array([40.0 * 4000.0, 800.0 * 4000.0])  # J/K
    t_in = 35.0
    for dt in (10.0, 60.0, 300.0):
        t = np.full(2, t_in)
        for _ in range(int(60_000 / dt)):  # ~40 time constants of the slower node
            t, heat_out = relax_node(t, c, m_dot_cp, t_in, q, dt)
        np.testing.assert_allclose(t - t_in, q / m_dot_cp, rtol=1e-9)
        np.testing.assert_allclose(heat_out, q, rtol=1e-9)
    # Started at the steady state it stays there in one step of any length.
    steady = t_in + q / m_dot_cp
    for dt in DTS:
        t_new, heat_out = relax_node(steady, c, m_dot_cp, t_in, q, dt)
        np.testing.assert_allclose(t_new, steady, rtol=1e-14)
        np.testing.assert_allclose(heat_out, q, rtol=1e-9)


@pytest.mark.parametrize("dt", DTS)
def test_step_response_is_exact_exponential(dt):
    c, g, q, t_sink = 2.0e6, 4.0e3, 8.0e4, 30.0
    tau = c / g  # 500 s
    t_final = t_sink + q / g
    t = np.array([t_sink])
    for n in range(1, int(3000 / dt) + 1):
        t, _ = relax_node(t, c, g, t_sink, q, dt)
        if n % max(1, int(300 / dt)) == 0:
            expected = t_sink + (t_final - t_sink) * -math.expm1(-n * dt / tau)
            assert t[0] == pytest.approx(expected, rel=1e-12)


def test_energy_closes_for_every_step():
    rng = np.random.default_rng(7)
    n = 1000
    t = rng.uniform(10, 90, n)
    c = rng.uniform(1e2, 1e9, n)
    g = np.where(rng.random(n) < 0.2, 0.0, rng.uniform(0, 1e6, n))
    t_sink = rng.uniform(0, 60, n)
    q = rng.uniform(0, 2e5, n)
    for dt in DTS:
        t_new, heat_out = relax_node(t, c, g, t_sink, q, dt)
        stored_w = c * (t_new - t) / dt
        np.testing.assert_allclose(
            q - heat_out, stored_w, rtol=1e-12, atol=1e-12 * np.max(np.abs(stored_w))
        )
        # The heat to the sink equals the time-averaged G (T - T_sink) of the exact path.
        tau = c / np.where(g > 0, g, 1.0)
        t_eq = t_sink + q / np.where(g > 0, g, 1.0)
        mean_t = t_eq + (t - t_eq) * tau / dt * -np.expm1(-dt / tau)
        expected = np.where(g > 0, g * (mean_t - t_sink), 0.0)
        rounding_w = 4 * np.spacing(np.maximum(np.abs(t), np.abs(t_new))) * c / dt
        assert np.all(np.abs(heat_out - expected) <= 1e-7 * np.abs(expected) + rounding_w)


def test_in_place_update_and_output_buffers():
    t = np.array([40.0, 50.0])
    t0 = t.copy()
    heat = np.empty(2)
    t_new, heat_out = relax_node(t, 1e5, 100.0, 30.0, 500.0, 5.0, out_t_c=t, out_heat_out_w=heat)
    assert t_new is t and heat_out is heat
    np.testing.assert_allclose(500.0 - heat, 1e5 * (t - t0) / 5.0, rtol=1e-12)


def test_dt_must_be_positive():
    with pytest.raises(ValueError):
        relax_node(np.zeros(1), 1.0, 1.0, 0.0, 0.0, 0.0)


def finite(lo, hi):
    return st.floats(lo, hi, allow_nan=False, allow_infinity=False, allow_subnormal=False)


@settings(max_examples=300, deadline=None)
@given(
    t=arrays(np.float64, 8, elements=finite(-50, 150)),
    c=arrays(np.float64, 8, elements=finite(1e-3, 1e10)),
    g=arrays(np.float64, 8, elements=st.one_of(st.just(0.0), finite(0, 1e8))),
    t_sink=arrays(np.float64, 8, elements=finite(-50, 150)),
    q=arrays(np.float64, 8, elements=finite(0, 1e8)),
    dt=st.sampled_from(DTS),
)
def test_node_is_finite_bounded_and_closes(t, c, g, t_sink, q, dt):
    with np.errstate(divide="raise", over="raise", invalid="raise"):
        t_new, heat_out = relax_node(t, c, g, t_sink, q, dt)
    assert np.all(np.isfinite(t_new)) and np.all(np.isfinite(heat_out))
    # Never beyond the equilibrium temperature: the exact solution cannot overshoot.
    has_g = g > 0
    with np.errstate(over="ignore"):  # t_eq may be huge: then the bound is loose, fine
        t_eq = t_sink[has_g] + q[has_g] / g[has_g]
    lo = np.minimum(t[has_g], t_eq)
    hi = np.maximum(t[has_g], t_eq)
    tol = 1e-9 * (1 + np.abs(lo) + np.abs(hi))
    assert np.all(t_new[has_g] >= lo - tol) and np.all(t_new[has_g] <= hi + tol)
    stored = c * (t_new - t) / dt
    np.testing.assert_allclose(
        q - heat_out, stored, rtol=1e-9, atol=1e-9 * (1 + np.max(np.abs(stored)) + np.max(q))
    )


@pytest.mark.parametrize("dt", DTS)
def test_first_order_lag_step_response(dt):
    tau = 45.0
    y = np.zeros(3)
    for n in range(1, int(1800 / dt) + 1):
        y = first_order_lag(y, np.array([1.0, 2.0, -1.0]), tau, dt, out=y)
        expected = -math.expm1(-n * dt / tau)
        np.testing.assert_allclose(y, [expected, 2 * expected, -expected], rtol=1e-11, atol=1e-15)


def test_first_order_lag_limits():
    with np.errstate(all="raise"):
        alpha = first_order_lag_alpha(np.array([0.0, 1.0, np.inf]), 300.0)
    assert alpha[0] == 1.0 and alpha[2] == 0.0
    assert alpha[1] == pytest.approx(1.0)
    y = first_order_lag(np.array([5.0, 5.0]), np.array([7.0, 9.0]), 0.0, 0.1)
    assert np.array_equal(y, [7.0, 9.0])
