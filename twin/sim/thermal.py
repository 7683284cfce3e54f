"""Lumped thermal nodes and sensor lags, advanced by exact exponentials (stable for any dt).

A node is one well-mixed temperature ``T`` with heat capacity ``C`` (J/K), heated by
``Q`` (W) and losing heat through a conductance ``G`` (W/K) to a sink at ``T_s``:

    C dT/dt = Q - G (T - T_s)

Over a step the inputs ``Q``, ``G`` and ``T_s`` are held constant (zero-order hold, the
one simplification); the linear ODE is then solved exactly, so the update is
unconditionally stable and needs no sub-stepping however large dt is or however small C.
"""

from __future__ import annotations

import numpy as np


def exprel_neg(x: np.ndarray | float, out: np.ndarray | None = None) -> np.ndarray:
    """``(1 - exp(-x)) / x`` for ``x >= 0`` (dimensionless), without division by zero.

    Exactly 1 at ``x = 0``, decreasing, 0 at ``x = inf``. ``out`` may be ``x``.
    It scales an explicit Euler increment into the exact exponential one.
    ``expm1`` is accurate to an ulp for every x, so the quotient needs no series for
    small x (for tiny x, ``expm1(-x) == -x`` exactly); only x = 0 is set apart.
    """
    x = np.asarray(x, dtype=np.float64)
    neg_x = np.negative(x)
    quotient = np.expm1(neg_x)
    if x.ndim and x.size and x.min() > 0.0:  # no 0 to set apart: the same quotient
        return np.divide(quotient, neg_x, out=quotient if out is None else out)
    positive = np.greater(x, 0.0)
    res = np.ones(x.shape) if out is None else out
    if out is not None:
        res.fill(1.0)
    return np.divide(quotient, neg_x, out=res, where=positive)


def relax_node(
    t_c: np.ndarray,
    capacity_j_per_k: np.ndarray | float,
    conductance_w_per_k: np.ndarray | float,
    t_sink_c: np.ndarray | float,
    heat_in_w: np.ndarray | float,
    dt_s: float,
    *,
    out_t_c: np.ndarray | None = None,
    out_heat_out_w: np.ndarray | None = None,
) -> tuple[np.ndarray, np.ndarray]:
    """Advance lumped nodes by ``dt_s`` seconds; return ``(t_new_c, heat_out_w)``.

    ``t_c`` (C) node temperatures; ``capacity_j_per_k`` > 0 (a node without heat
    capacity is algebraic and is solved as such by the caller); ``conductance_w_per_k``
    >= 0 to the sink at ``t_sink_c`` (C); ``heat_in_w`` (W) into the node; ``dt_s`` > 0.
    Every other argument broadcasts to the shape of ``t_c``, which sets the result's.

    ``heat_out_w`` is the mean heat flow to the sink over the step, defined as the
    residual ``heat_in_w - C (t_new - t_old) / dt`` of the temperatures actually
    returned, so a caller's energy ledger closes to rounding.

    The exact solution is written as the explicit-Euler increment scaled by
    ``exprel_neg(G dt / C)``: ``t_new = t + (Q - G (t - t_s)) dt / C * phi``. With
    ``G = 0``, ``phi`` is exactly 1 and ``t_new`` is exactly ``t + Q dt / C``.

    ``out_t_c`` may be ``t_c`` itself (in-place update); ``out_heat_out_w`` must not
    alias an input.
    """
    t_c = np.asarray(t_c, dtype=np.float64)
    t_new = relaxed_c(t_c, capacity_j_per_k, conductance_w_per_k, t_sink_c, heat_in_w, dt_s)
    # The change actually representable in t_new, so the residual closes the ledger.
    change = np.subtract(t_new, t_c)
    heat_out = np.multiply(change, capacity_j_per_k, out=out_heat_out_w)
    heat_out /= -dt_s
    heat_out += heat_in_w
    if out_t_c is not None:
        np.copyto(out_t_c, t_new)
        t_new = out_t_c
    return t_new, heat_out


def relaxed_c(
    t_c: np.ndarray,
    capacity_j_per_k: np.ndarray | float,
    conductance_w_per_k: np.ndarray | float,
    t_sink_c: np.ndarray | float,
    heat_in_w: np.ndarray | float,
    dt_s: float,
) -> np.ndarray:
    """``relax_node``'s end temperatures alone, C (the same arithmetic): for a caller
    that only needs them, such as a controller solving for its output over the node."""
    if not dt_s > 0:
        raise ValueError(f"dt_s must be positive, got {dt_s}")
    t_c = np.asarray(t_c, dtype=np.float64)
    gap_k = np.subtract(t_c, t_sink_c, out=np.empty(t_c.shape))
    return relaxed_from_gap_c(t_c, gap_k, capacity_j_per_k, conductance_w_per_k, heat_in_w, dt_s)


def relaxed_from_gap_c(
    t_c: np.ndarray,
    gap_k: np.ndarray,
    capacity_j_per_k: np.ndarray | float,
    conductance_w_per_k: np.ndarray | float,
    heat_in_w: np.ndarray | float,
    dt_s: float,
) -> np.ndarray:
    """``relaxed_c`` given the nodes' start temperatures above the sink, ``gap_k = t_c -
    t_sink_c`` (K, the shape of ``t_c``): for a caller that solves the same nodes at many
    conductances (a controller), the difference taken once. ``dt_s`` > 0."""
    # Net heating rate at the start of the step, W.
    rate = np.multiply(gap_k, conductance_w_per_k)
    np.subtract(heat_in_w, rate, out=rate)
    x = np.multiply(conductance_w_per_k, dt_s)
    x = np.divide(x, capacity_j_per_k)
    phi = exprel_neg(x)
    # Order Q*dt then /C then *phi so that G = 0 reproduces t + Q dt / C bit for bit.
    rate *= dt_s
    rate /= capacity_j_per_k
    rate *= phi
    return np.add(t_c, rate)


def first_order_lag_alpha(tau_s: np.ndarray | float, dt_s: float) -> np.ndarray:
    """Fraction ``1 - exp(-dt/tau)`` (dimensionless) a first-order lag moves towards its
    input in ``dt_s`` seconds; ``tau_s = 0`` gives exactly 1 (no lag). Cache it when tau
    and dt are constant."""
    tau = np.asarray(tau_s, dtype=np.float64)
    ratio = np.full(tau.shape, np.inf)
    np.divide(dt_s, tau, out=ratio, where=tau > 0)
    alpha = np.expm1(np.negative(ratio, out=ratio), out=ratio)
    np.negative(alpha, out=alpha)
    return alpha


def first_order_lag(
    y: np.ndarray,
    u: np.ndarray | float,
    tau_s: np.ndarray | float,
    dt_s: float,
    *,
    out: np.ndarray | None = None,
) -> np.ndarray:
    """Exact step of ``tau dy/dt = u - y`` over ``dt_s`` with ``u`` held (a sensor or
    actuator lag). ``y`` and ``u`` share a unit; ``tau_s >= 0`` seconds. ``out`` may be
    ``y`` (in-place)."""
    alpha = first_order_lag_alpha(tau_s, dt_s)
    step = np.subtract(u, y)
    step *= alpha
    return np.add(y, step, out=out)
