"""Vectorized PI controllers with output limits and anti-windup; state held by the caller.

Form (the "standard" form with the integral kept in output units, so a change of gain
does not bump the output and a bumpless start is ``integral = current output``):

    u = kp e + I,        dI/dt = kp e / ti

Simplifications and choices:

* The error is held constant over the step (zero-order hold, as a sampled controller
  sees it), so ``I += kp e dt / ti`` is the exact integral for any dt.
* Anti-windup by back-calculation with instantaneous tracking: after integrating, ``I``
  is clamped to ``[out_min - kp e, out_max - kp e]``, the range in which ``u`` stays
  within its limits. While saturated, ``I`` therefore sits exactly where ``u`` just
  reaches the limit; the moment the error turns, ``u`` leaves the limit in that same
  step. For a monotone integrator under a held error, clamping after a step of any
  length gives the same end state as clamping continuously, so this too is exact in dt.
* Direct action (output rises with the error) by default; ``reverse=True`` flips the
  sign of the error (e.g. a cooling valve on ``measured - setpoint`` versus
  ``setpoint - measured``, whichever way the caller defines the error).
* ``max_integration_s`` optionally caps the time integrated per step. A real controller
  samples far faster than a long simulation step; when the plant is quasi-static within
  the step (an algebraic loop such as pump speed to pressure), integrating the step's
  first error over the whole step overshoots, whereas capping at ``ti`` moves the
  integral at most one reset time per step and keeps such a loop stable for any dt.
  Off by default (exact integration).
"""

from __future__ import annotations

import numpy as np


def pi_update(
    error: np.ndarray,
    integral: np.ndarray,
    dt_s: float,
    kp: np.ndarray | float,
    ti_s: np.ndarray | float,
    out_min: np.ndarray | float,
    out_max: np.ndarray | float,
    *,
    reverse: bool = False,
    max_integration_s: float | None = None,
    out: np.ndarray | None = None,
    out_integral: np.ndarray | None = None,
) -> tuple[np.ndarray, np.ndarray]:
    """One step of many PI controllers; returns ``(output, new_integral)``.

    ``error`` in the measured quantity's unit (e.g. kPa, K); ``integral`` in output
    units; ``dt_s`` >= 0 seconds; ``kp`` >= 0 in output units per error unit;
    ``ti_s`` > 0 seconds (``np.inf`` for P only); ``out_min <= out_max`` in output
    units. Array arguments broadcast to ``error``'s shape. ``out`` and ``out_integral``
    receive the results when given; ``out_integral`` may be ``integral`` (in place).
    The output always lies within [out_min, out_max].
    """
    if not dt_s >= 0:
        raise ValueError(f"dt_s must not be negative, got {dt_s}")
    horizon_s = dt_s if max_integration_s is None else min(dt_s, max_integration_s)
    shape = np.shape(error)
    p = np.multiply(error, np.negative(kp) if reverse else kp, out=np.empty(shape))
    increment = np.multiply(p, np.divide(horizon_s, ti_s), out=np.empty(shape))
    new_i = np.add(integral, increment,
                   out=np.empty(shape) if out_integral is None else out_integral)
    # Back-calculation: keep kp e + I inside the output limits.
    lower = np.subtract(out_min, p, out=increment)
    upper = np.subtract(out_max, p)
    np.maximum(new_i, lower, out=new_i)
    np.minimum(new_i, upper, out=new_i)
    u = np.add(p, new_i, out=p if out is None else out)
    # p + (out_max - p) can differ from out_max by one rounding: keep the promise exact.
    np.clip(u, out_min, out_max, out=u)
    return u, new_i
