"""PI controllers solved at the step's end: exact integration of a held error for any
dt, limits, anti-windup, bumpless start, per-loop parameters, closed loops."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from hypothesis.extra.numpy import arrays

from twin.sim.control import pi_implicit

DTS = [0.1, 1.0, 10.0, 60.0, 300.0]


def held(error: np.ndarray):
    """A plant whose error does not depend on the output over the step."""
    error = np.atleast_1d(np.asarray(error, dtype=np.float64))
    return lambda u: np.broadcast_to(error, np.shape(u)).copy()


def step(error, integral, dt, guess=None, **kw):
    integral = np.atleast_1d(np.asarray(integral, dtype=np.float64))
    if guess is None:
        guess = np.full(integral.shape, 0.5 * (kw["out_min"] + kw["out_max"]))
    u, i, _ = pi_implicit(held(error), integral, dt, guess=np.asarray(guess, float), **kw)
    return u, i


def run(error, steps, dt, integral=0.0, **kw):
    i = np.broadcast_to(
        np.asarray(integral, dtype=np.float64), np.shape(np.atleast_1d(error))
    ).copy()
    u = None
    for _ in range(steps):
        u, i = step(error, i, dt, guess=u, **kw)
    return u, i


def test_proportional_only():
    e = np.array([-2.0, 0.0, 0.5, 30.0])
    u, _ = step(e, np.zeros(4), 1.0, kp=0.1, ti_s=np.inf, out_min=0.0, out_max=1.0)
    np.testing.assert_allclose(u, [0.0, 0.0, 0.05, 1.0], atol=1e-12)


@pytest.mark.parametrize("dt", DTS)
def test_integral_is_exact_for_any_dt(dt):
    # Held error, wide limits: u(t) = kp e (1 + t / ti) whatever the step.
    kp, ti, e = 0.02, 40.0, np.array([1.5, -0.5])
    u, _ = run(e, int(600 / dt), dt, kp=kp, ti_s=ti, out_min=-100.0, out_max=100.0)
    np.testing.assert_allclose(u, kp * e * (1 + 600 / ti), rtol=1e-9)


def test_output_limits_and_saturated_end_state_do_not_depend_on_dt():
    kw = {"kp": 0.05, "ti_s": 20.0, "out_min": 0.1, "out_max": 1.0}
    one_step = run(np.array([4.0]), 1, 300.0, integral=0.5, **kw)
    many = run(np.array([4.0]), 3000, 0.1, integral=0.5, **kw)
    np.testing.assert_allclose(one_step[0], many[0], rtol=1e-12)
    np.testing.assert_allclose(one_step[1], many[1], rtol=1e-12)
    assert one_step[0][0] == 1.0
    # The integral sits where kp e + I just reaches the limit: no windup beyond it.
    assert one_step[1][0] == pytest.approx(1.0 - 0.05 * 4.0)


@pytest.mark.parametrize("dt", [1.0, 300.0])
def test_anti_windup_recovers_at_once(dt):
    kw = {"kp": 0.01, "ti_s": 30.0, "out_min": 0.15, "out_max": 1.0}
    # Saturate high for a long time (e.g. a dp setpoint that a tripped pump cannot reach).
    u, i = run(np.array([50.0]), int(7200 / dt), dt, integral=0.5, **kw)
    assert u[0] == 1.0
    # The error turns: the output leaves the limit in the very next step.
    u_next, _ = step(np.array([-5.0]), i, dt, guess=u, **kw)
    assert u_next[0] < 1.0
    # A controller without anti-windup would have integrated 50 * 7200 * kp / ti = 120
    # output units and stayed pinned at the limit for hours.
    wound = 0.5 + 0.01 * 50.0 * 7200 / 30.0
    assert 0.01 * -5.0 + wound > 1.0


def test_recovery_from_the_lower_limit():
    kw = {"kp": 0.2, "ti_s": 10.0, "out_min": 0.0, "out_max": 1.0}
    u, i = run(np.array([-3.0]), 500, 1.0, integral=0.3, **kw)
    assert u[0] == 0.0
    u_next, _ = step(np.array([0.5]), i, 1.0, guess=u, **kw)
    assert u_next[0] > 0.0


def test_bumpless_start():
    integral = np.array([0.8, 0.4])  # current outputs
    u, i = step(
        np.zeros(2), integral, 1.0, guess=integral, kp=0.5, ti_s=10.0, out_min=0.15, out_max=1.0
    )
    np.testing.assert_allclose(u, [0.8, 0.4], atol=1e-12)
    np.testing.assert_allclose(i, integral, atol=1e-12)


def test_array_parameters_per_loop():
    e = np.array([1.0, 1.0])
    u, _ = step(
        e,
        np.zeros(2),
        10.0,
        kp=np.array([0.1, 0.2]),
        ti_s=np.array([10.0, 5.0]),
        out_min=np.array([0.0, 0.0]),
        out_max=np.array([1.0, 0.3]),
    )
    np.testing.assert_allclose(u, [0.1 + 0.1, 0.3], atol=1e-9)


@pytest.mark.parametrize("dt", [1.0, 300.0])
def test_closed_loop_removes_offset(dt):
    # Pump speed against an algebraic plant dp = 300 n^2 (kPa): reach a 110 kPa setpoint,
    # at a step far longer than the loop too (without overshoot to undo)
    speed, integral = np.array([0.3]), np.array([0.3])
    for _ in range(200):
        speed, integral, error = pi_implicit(
            lambda n: 110.0 - 300.0 * n**2,
            integral,
            dt,
            kp=0.0015,
            ti_s=3.0,
            out_min=0.15,
            out_max=1.0,
            guess=speed,
        )
    assert 300.0 * speed[0] ** 2 == pytest.approx(110.0, rel=1e-6)
    assert error[0] == pytest.approx(110.0 - 300.0 * speed[0] ** 2, abs=1e-6)


def test_negative_dt_is_rejected():
    with pytest.raises(ValueError):
        pi_implicit(held(np.zeros(1)), np.zeros(1), -1.0, 0.1, 10.0, 0.0, 1.0, guess=np.zeros(1))


@settings(max_examples=300, deadline=None)
@given(
    error=arrays(np.float64, 6, elements=st.floats(-1e6, 1e6)),
    integral=arrays(np.float64, 6, elements=st.floats(-1e3, 1e3)),
    dt=st.floats(0.0, 300.0),
    kp=st.floats(0.0, 100.0),
    ti=st.floats(0.1, 1e4),
    lo=st.floats(-10.0, 10.0),
    width=st.floats(0.0, 10.0),
)
def test_output_always_within_limits(error, integral, dt, kp, ti, lo, width):
    with np.errstate(divide="raise", over="raise", invalid="raise"):
        u, i, _ = pi_implicit(
            held(error), integral, dt, kp, ti, lo, lo + width, guess=np.full(6, lo)
        )
    assert np.all(np.isfinite(u)) and np.all(np.isfinite(i))
    assert np.all(u >= lo) and np.all(u <= lo + width)
