"""Vectorized PI controllers with output limits and anti-windup; state held by the caller.

Form (the "standard" form with the integral kept in output units, so a change of gain
does not bump the output and a bumpless start is ``integral = current output``):

    u = kp e + I,        dI/dt = kp e / ti

solved at the step's end, closed over a model of the plant over the step (backward
Euler): the integral takes the error that the output produces, which is stable whatever
the step is against the loop's own time constants. Choices:

* Anti-windup by back-calculation with instantaneous tracking: after integrating, ``I``
  is clamped to ``[out_min - kp e, out_max - kp e]``, the range in which ``u`` stays
  within its limits. While saturated, ``I`` therefore sits exactly where ``u`` just
  reaches the limit; the moment the error turns, ``u`` leaves the limit in that same
  step.
* For an error that does not depend on the output (held over the step), the step is
  the exact integral for any dt: ``I += kp e dt / ti``.
"""

from __future__ import annotations

import math
from collections.abc import Callable

import numpy as np


def valve_flow_fraction(
    opening: np.ndarray | float,
    equal_share: np.ndarray | float,
    rangeability: np.ndarray | float,
) -> np.ndarray | float:
    """A valve's flow at ``opening`` over its flow fully open, at a constant pressure
    drop (its inherent characteristic, IEC 60534-2-4): a blend of the linear
    characteristic ``x`` and the equal-percentage one ``R^(x - 1)`` with the share
    ``equal_share`` of the latter, ``(1 - b) x + b R^(x - 1)``. A linear valve (b = 0)
    gives its opening back unchanged. The installed characteristic (the valve's share of
    its branch's pressure drop, the pump's curve) is not modelled: the facility loop's
    flow is its design flow at full opening."""
    return (1.0 - equal_share) * opening + equal_share * np.power(rangeability, opening - 1.0)


def pi_implicit(
    error_of: Callable[[np.ndarray], np.ndarray],
    integral: np.ndarray,
    dt_s: float,
    kp: np.ndarray | float,
    ti_s: np.ndarray | float,
    out_min: np.ndarray | float,
    out_max: np.ndarray | float,
    guess: np.ndarray,
    *,
    error_slope: np.ndarray | None = None,
    tolerance: float = 1e-4,
    max_iterations: int = 40,
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """One backward-Euler step of many PI controllers closed over their plant; returns
    ``(output, new_integral, error)``, the error being the plant's at that output.

    ``error_of(u)`` gives the controlled error (measured quantity's unit) at the end of
    the step if the outputs were ``u``, the plant advanced over the step with ``u`` held;
    it must not increase with ``u`` (the controller acts against its error: a cooling
    valve opening on ``supply - setpoint``). The step solves

        u = clip(I + kp e(u) (1 + dt / ti), out_min, out_max)

    the implicit (end-of-step) form of a sampled PI: the integral takes the error the
    output produces, not the one it saw before acting. For a plant that settles within
    the step (a large dt against the loop's own time constants) an explicit PI
    integrates a stale error over the whole step and overshoots by up to the loop gain;
    the implicit one is stable for any dt and any loop gain, and at a dt far below the
    loop's time constants it agrees with the explicit one. Anti-windup as in the
    module's docstring (the integral tracks the limit while saturated).

    ``F(u) = u - clip(...)`` rises with slope >= 1, so the root is unique and lies in
    [out_min, out_max]; it is found by Newton's method, kept inside a shrinking bracket
    (bisection where Newton leaves it), to ``tolerance`` in output units. The error's
    slope ``de/du`` comes from ``error_slope`` when given and finite (the previous
    step's, updated in place: the plant changes little from one step to the next) or a finite
    difference, and from secants after each move. Where the step is short against the
    loop the first Newton step lands within the tolerance: one evaluation of the plant.
    """
    if not dt_s >= 0:
        raise ValueError(f"dt_s must not be negative, got {dt_s}")
    lo = np.asarray(out_min, dtype=float)
    hi = np.asarray(out_max, dtype=float)
    gain = kp * (1.0 + dt_s / ti_s)
    u = np.minimum(np.maximum(guess, lo), hi)
    probe: float | np.ndarray
    if isinstance(out_min, float) and isinstance(out_max, float):
        probe = 1e-6 * max(out_max - out_min, 1e-9)  # the same value on floats
    else:
        probe = 1e-6 * np.maximum(hi - lo, 1e-9)
    error = error_of(u)
    if error_slope is None or not np.logical_and.reduce(np.isfinite(error_slope)):
        slope_e = (error_of(u + probe) - error) / probe
    else:
        slope_e = error_slope  # rebound below, never written in place
    below: np.ndarray | None = None  # the bracket, from the first evaluation on
    above: np.ndarray | None = None
    # the first iteration's (u, f): its bracket is worked out when a second one needs it
    first: tuple[np.ndarray, np.ndarray] | None = None
    for _ in range(max_iterations):
        command = integral + gain * error
        f = u - np.minimum(np.maximum(command, lo), hi)
        slope = 1.0 - gain * np.minimum(slope_e, 0.0)
        np.copyto(slope, 1.0, where=(command <= lo) | (command >= hi))
        candidate = u - f / slope
        if first is not None:  # keep Newton inside the bracket
            if below is None or above is None:
                u_first, f_first = first
                below = np.where(f_first < 0, u_first, lo)
                above = np.where(f_first > 0, u_first, hi)
            np.copyto(below, u, where=f < 0)
            np.copyto(above, u, where=f > 0)
            # a Newton step onto or past a bracket's end bisects (unless it has converged:
            # the root may sit on an end to rounding)
            bisect = ((candidate <= below) | (candidate >= above)) & (
                np.abs(candidate - u) > tolerance
            )
            if np.logical_or.reduce(bisect):
                candidate = np.where(bisect & (f != 0), 0.5 * (below + above), candidate)
        else:
            first = (u, f)
        step = candidate - u
        u = candidate
        step_size = np.abs(step)
        if np.maximum.reduce(step_size) <= tolerance:
            error = error + slope_e * step  # within the tolerance: linear is exact
            break
        new_error = error_of(u)
        moved = step_size > probe
        slope_e = np.where(moved, (new_error - error) / np.where(moved, step, 1.0), slope_e)
        error = new_error
    if error_slope is not None:
        np.copyto(error_slope, slope_e)
    p = kp * error
    new_integral = np.minimum(np.maximum(integral + p * (dt_s / ti_s), lo - p), hi - p)
    output = np.minimum(np.maximum(p + new_integral, lo), hi)
    return output, new_integral, error


def pi_implicit_scalar(
    error_of: Callable[[float], float],
    integral: float,
    dt_s: float,
    kp: float,
    ti_s: float,
    out_min: float,
    out_max: float,
    guess: float,
    error_slope: np.ndarray,
    *,
    tolerance: float = 1e-4,
    max_iterations: int = 40,
) -> tuple[float, float, float]:
    """``pi_implicit`` for one controller on plain floats (the same arithmetic, step for
    step, so the same answer to the last bit, without an array's overhead on a single
    value). ``error_slope`` is a one-element array, carried from step to step as there."""
    if not dt_s >= 0:
        raise ValueError(f"dt_s must not be negative, got {dt_s}")
    lo, hi = float(out_min), float(out_max)
    gain = kp * (1.0 + dt_s / ti_s)
    u = min(max(guess, lo), hi)
    probe = 1e-6 * max(hi - lo, 1e-9)
    error = float(error_of(u))
    slope_e = float(error_slope[0])
    if not math.isfinite(slope_e):
        slope_e = (float(error_of(u + probe)) - error) / probe
    below = lo
    above = hi
    for iteration in range(max_iterations):
        command = integral + gain * error
        f = u - min(max(command, lo), hi)
        slope = 1.0 if command <= lo or command >= hi else 1.0 - gain * min(slope_e, 0.0)
        candidate = u - f / slope
        if iteration:  # keep Newton inside what earlier tries have bracketed
            if f < 0:
                below = u
            if f > 0:
                above = u
            if (
                (candidate <= below or candidate >= above)
                and abs(candidate - u) > tolerance
                and f != 0
            ):
                candidate = 0.5 * (below + above)
        else:
            below = u if f < 0 else lo
            above = u if f > 0 else hi
        step = candidate - u
        u = candidate
        if abs(step) <= tolerance:
            error = error + slope_e * step  # within the tolerance: linear is exact
            break
        new_error = float(error_of(u))
        if abs(step) > probe:
            slope_e = (new_error - error) / step
        error = new_error
    error_slope[0] = slope_e
    p = kp * error
    new_integral = min(max(integral + p * (dt_s / ti_s), lo - p), hi - p)
    output = min(max(p + new_integral, lo), hi)
    return output, new_integral, error
