"""Counterflow effectiveness-NTU: textbook values, exact limits, no-flow, energy balance."""

from __future__ import annotations

import math

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from twin.sim.heat_exchange import (
    counterflow_effectiveness,
    exchanger_conductance_w_per_k,
    exchanger_duty_w,
    exchanger_outlets_c,
)


def textbook(ntu: float, cr: float) -> float:
    """Incropera's counterflow relation, valid for cr < 1."""
    e = math.exp(-ntu * (1 - cr))
    return (1 - e) / (1 - cr * e)


def test_textbook_value():
    assert counterflow_effectiveness(1.0, 0.5) == pytest.approx(0.5647, abs=5e-5)


@pytest.mark.parametrize("ntu", [0.01, 0.3, 1.0, 2.5, 7.0, 40.0])
@pytest.mark.parametrize("cr", [0.0, 0.1, 0.5, 0.75, 0.95])
def test_matches_textbook_relation(ntu, cr):
    assert counterflow_effectiveness(ntu, cr) == pytest.approx(textbook(ntu, cr), rel=1e-13)


def test_balanced_limit_is_exact_and_continuous():
    ntu = np.array([0.0, 0.2, 1.0, 3.0, 50.0])
    with np.errstate(all="raise"):
        at_one = counterflow_effectiveness(ntu, 1.0)
    np.testing.assert_allclose(at_one, ntu / (1 + ntu), rtol=1e-15)
    for gap in (1e-4, 1e-8, 1e-12, 1e-16):
        near = counterflow_effectiveness(ntu, 1.0 - gap)
        # The slope in cr is bounded, so the value moves by about the gap, no more.
        np.testing.assert_allclose(near, at_one, rtol=0, atol=max(10 * gap, 1e-15))


def test_no_capacity_ratio_limit():
    ntu = np.array([0.0, 0.5, 1.0, 4.0])
    np.testing.assert_allclose(counterflow_effectiveness(ntu, 0.0), -np.expm1(-ntu), rtol=1e-15)
    assert counterflow_effectiveness(0.0, 0.7) == 0.0


def test_effectiveness_out_buffer():
    out = np.empty(3)
    res = counterflow_effectiveness(np.array([1.0, 1.0, 1.0]), np.array([0.0, 0.5, 1.0]), out=out)
    assert res is out
    np.testing.assert_allclose(out, [1 - math.exp(-1), textbook(1.0, 0.5), 0.5], rtol=1e-14)


def test_conductance_is_effectiveness_times_c_min():
    rng = np.random.default_rng(3)
    ua = rng.uniform(1e3, 1e6, 500)
    c_hot = rng.uniform(1e2, 1e6, 500)
    c_cold = rng.uniform(1e2, 1e6, 500)
    c_min, c_max = np.minimum(c_hot, c_cold), np.maximum(c_hot, c_cold)
    expected = counterflow_effectiveness(ua / c_min, c_min / c_max) * c_min
    np.testing.assert_allclose(
        exchanger_conductance_w_per_k(ua, c_hot, c_cold), expected, rtol=1e-12
    )
    # Which side is hot does not matter for the conductance.
    np.testing.assert_array_equal(
        exchanger_conductance_w_per_k(ua, c_cold, c_hot),
        exchanger_conductance_w_per_k(ua, c_hot, c_cold),
    )


def test_no_flow_and_no_area_give_exactly_zero():
    ua = np.array([4.2e5, 4.2e5, 4.2e5, 0.0, 0.0])
    c_hot = np.array([0.0, 2e5, 0.0, 2e5, 0.0])
    c_cold = np.array([1e5, 0.0, 0.0, 1e5, 1e5])
    with np.errstate(all="raise"):
        g = exchanger_conductance_w_per_k(ua, c_hot, c_cold)
        duty = exchanger_duty_w(ua, c_hot, c_cold, 45.0, 30.0)
        _, t_hot_out, t_cold_out = exchanger_outlets_c(ua, c_hot, c_cold, 45.0, 30.0)
    assert np.array_equal(g, np.zeros(5)) and np.array_equal(duty, np.zeros(5))
    assert np.array_equal(t_hot_out, np.full(5, 45.0))
    assert np.array_equal(t_cold_out, np.full(5, 30.0))


def test_cdu_design_point_and_energy_balance():
    # cdu-2300 of the Seoul scenario: UA 420 kW/K, 2.3 MW, PG25 secondary at ~2,800 L/min,
    # facility water at 2,400 L/min: the approach is a few kelvin (CDU checklists: 3-5 K).
    ua = 420e3
    c_hot = 2800 / 60000 * 1009.9 * 3969.0
    c_cold = 2400 / 60000 * 995.7 * 4180.0
    duty, t_hot_out, t_cold_out = exchanger_outlets_c(ua, c_hot, c_cold, 47.0, 30.0)
    assert float(duty) == pytest.approx(c_hot * (47.0 - t_hot_out), rel=1e-12)
    assert float(duty) == pytest.approx(c_cold * (t_cold_out - 30.0), rel=1e-12)
    assert 2.0e6 < float(duty) < 2.6e6
    assert 2.0 < float(t_hot_out) - 30.0 < 6.0  # approach: secondary supply over FW supply


def test_infinite_area_reaches_the_thermodynamic_limit():
    # Huge UA, hot side the smaller capacity rate: the hot stream leaves at the cold inlet.
    _, t_hot_out, _ = exchanger_outlets_c(1e12, 1e4, 3e4, 60.0, 20.0)
    assert float(t_hot_out) == pytest.approx(20.0, abs=1e-6)
    # Balanced: both outlets meet in the middle of the inlets only as NTU/(1+NTU) -> 1.
    _, t_hot_out, t_cold_out = exchanger_outlets_c(1e12, 1e4, 1e4, 60.0, 20.0)
    assert float(t_hot_out) == pytest.approx(20.0, abs=1e-6)
    assert float(t_cold_out) == pytest.approx(60.0, abs=1e-6)


def test_duty_reverses_with_the_temperature_difference():
    d1 = exchanger_duty_w(1e5, 2e4, 3e4, 50.0, 30.0)
    d2 = exchanger_duty_w(1e5, 2e4, 3e4, 30.0, 50.0)
    assert float(d1) > 0 and float(d2) == -float(d1)


rates = st.one_of(st.just(0.0), st.floats(1e-3, 1e8, allow_subnormal=False))


@settings(max_examples=400, deadline=None)
@given(ntu=st.floats(0.0, 1e4, allow_subnormal=False), cr=st.floats(0.0, 1.0))
def test_effectiveness_in_unit_interval(ntu, cr):
    with np.errstate(divide="raise", over="raise", invalid="raise"):
        eps = float(counterflow_effectiveness(ntu, cr))
    assert 0.0 <= eps <= 1.0
    assert eps <= ntu * (1 + 1e-12)  # never more than NTU (small-exchanger bound)


@settings(max_examples=400, deadline=None)
@given(ua=rates, c_hot=rates, c_cold=rates, t_hot=st.floats(-20, 120), t_cold=st.floats(-20, 120))
def test_conductance_bounded_and_finite(ua, c_hot, c_cold, t_hot, t_cold):
    with np.errstate(divide="raise", over="raise", invalid="raise"):
        g = float(exchanger_conductance_w_per_k(ua, c_hot, c_cold))
        duty, t_hot_out, t_cold_out = exchanger_outlets_c(ua, c_hot, c_cold, t_hot, t_cold)
    assert math.isfinite(g) and g >= 0.0
    assert g <= min(c_hot, c_cold, ua) * (1 + 1e-12)
    lo, hi = min(t_hot, t_cold), max(t_hot, t_cold)
    for t in (float(t_hot_out), float(t_cold_out)):
        assert lo - 1e-9 <= t <= hi + 1e-9  # no outlet beyond the inlets
    assert math.isfinite(float(duty))
