"""Counterflow heat exchangers by the effectiveness-NTU method, vectorized.

Simplifications: pure counterflow (plate exchangers in CDUs are close to it); UA is a
constant given per exchanger (no dependence on flow or temperature); constant specific
heats across the exchanger; no heat loss to the room. Capacity rates are ``m_dot * cp``
in W/K; a zero rate means no flow on that side.

The formulas are rearranged so that the limits are exact and finite rather than special
cases: with ``z = NTU (1 - Cr)`` and ``phi(z) = (1 - exp(-z)) / z`` (``exprel_neg``),

    effectiveness = NTU phi(z) / (1 + Cr NTU phi(z))

which is ``NTU / (1 + NTU)`` at ``Cr = 1`` and ``1 - exp(-NTU)`` at ``Cr = 0`` with no
0/0 anywhere, and the exchanger's conductance ``effectiveness * C_min`` is computed from
``UA``, ``C_min`` and ``C_max`` directly so that ``C_min = 0`` gives exactly 0 instead
of an infinite NTU.
"""

from __future__ import annotations

import numpy as np

from twin.sim.thermal import exprel_neg


def counterflow_effectiveness(
    ntu: np.ndarray | float, cr: np.ndarray | float, *, out: np.ndarray | None = None
) -> np.ndarray:
    """Counterflow effectiveness (dimensionless, in [0, 1]).

    ``ntu = UA / C_min`` finite and >= 0; ``cr = C_min / C_max`` in [0, 1]. Exact at
    ``cr = 1`` (``ntu / (1 + ntu)``), ``cr = 0`` (``1 - exp(-ntu)``) and ``ntu = 0`` (0).
    For a side without flow use ``exchanger_conductance_w_per_k``, where NTU would be
    infinite.
    """
    ntu = np.asarray(ntu, dtype=np.float64)
    a = exprel_neg(np.multiply(ntu, np.subtract(1.0, cr)))
    a *= ntu
    denom = np.multiply(a, cr)
    denom += 1.0
    eps = np.divide(a, denom, out=out)
    # Large NTU can round one ulp above 1; keep the promise of [0, 1] exact.
    return np.minimum(eps, 1.0, out=eps if isinstance(eps, np.ndarray) else None)


def exchanger_conductance_w_per_k(
    ua_w_per_k: np.ndarray | float,
    c_hot_w_per_k: np.ndarray | float,
    c_cold_w_per_k: np.ndarray | float,
    *,
    out: np.ndarray | None = None,
) -> np.ndarray:
    """``effectiveness * C_min`` in W/K: duty per kelvin of inlet temperature difference.

    All arguments >= 0 and finite, in W/K. Exactly 0 when either side has no flow or
    ``UA = 0``. Written as ``1 / G = 1 / (UA phi(z)) + 1 / C_max`` with
    ``z = UA (1/C_min - 1/C_max)``, which is the counterflow effectiveness times C_min
    rearranged to need no division by C_min.
    """
    c_min = np.minimum(c_hot_w_per_k, c_cold_w_per_k)
    c_max = np.maximum(c_hot_w_per_k, c_cold_w_per_k)
    # ``out``, when given, has the arguments' broadcast shape
    shape = out.shape if out is not None else np.broadcast_shapes(np.shape(ua_w_per_k), c_min.shape)
    product = np.multiply(c_min, c_max)
    if out is not None and product.shape == shape and product.min() > 0.0:
        # both sides flow everywhere (as in a running plant): the same operations as
        # below, without the masks that only the exchangers without flow need
        z = np.subtract(c_max, c_min)
        z *= ua_w_per_k
        z /= product
        if z.min() > 0.0:
            w = np.negative(z, out=z)  # exprel_neg(z) for z > 0: expm1(-z) / -z
            w = np.divide(np.expm1(w), w, out=w)
            w *= ua_w_per_k
            denom = np.add(c_max, w)
            w *= c_max
            return np.divide(w, denom, out=out)
    # No flow on one side: z is infinite, phi(z) = 0, and so is the conductance.
    z = np.empty(shape)
    z.fill(np.inf)
    np.divide(np.multiply(np.subtract(c_max, c_min), ua_w_per_k), product, out=z, where=product > 0)
    w = exprel_neg(z, out=z)
    w *= ua_w_per_k
    denom = np.add(c_max, w)
    w *= c_max
    if out is None:
        out = np.zeros(shape)
    else:
        out.fill(0.0)
    # denom = 0 only when both sides have no flow.
    return np.divide(w, denom, out=out, where=denom > 0)


def exchanger_duty_w(
    ua_w_per_k: np.ndarray | float,
    c_hot_w_per_k: np.ndarray | float,
    c_cold_w_per_k: np.ndarray | float,
    t_hot_in_c: np.ndarray | float,
    t_cold_in_c: np.ndarray | float,
    *,
    out: np.ndarray | None = None,
) -> np.ndarray:
    """Heat passed from the hot stream to the cold one, W (negative if the "hot" inlet
    is the colder one: the relation is linear and holds either way)."""
    g = exchanger_conductance_w_per_k(ua_w_per_k, c_hot_w_per_k, c_cold_w_per_k, out=out)
    g *= np.subtract(t_hot_in_c, t_cold_in_c)
    return g


def exchanger_outlets_c(
    ua_w_per_k: np.ndarray | float,
    c_hot_w_per_k: np.ndarray | float,
    c_cold_w_per_k: np.ndarray | float,
    t_hot_in_c: np.ndarray | float,
    t_cold_in_c: np.ndarray | float,
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """``(duty_w, t_hot_out_c, t_cold_out_c)`` of counterflow exchangers.

    A side without flow reports its inlet temperature as its outlet (no fluid leaves,
    so the value is only a placeholder that keeps arrays finite).
    """
    g = exchanger_conductance_w_per_k(ua_w_per_k, c_hot_w_per_k, c_cold_w_per_k)
    d_t = np.subtract(t_hot_in_c, t_cold_in_c)
    duty = np.multiply(g, d_t)
    # g <= min(c_hot, c_cold), so these fractions lie in [0, 1]; zero where no flow.
    c_hot = np.broadcast_to(c_hot_w_per_k, g.shape)
    c_cold = np.broadcast_to(c_cold_w_per_k, g.shape)
    hot_frac = np.divide(g, c_hot, out=np.zeros_like(g), where=c_hot > 0)
    cold_frac = np.divide(g, c_cold, out=np.zeros_like(g), where=c_cold > 0)
    t_hot_out = np.subtract(t_hot_in_c, np.multiply(hot_frac, d_t))
    t_cold_out = np.add(t_cold_in_c, np.multiply(cold_frac, d_t))
    return duty, t_hot_out, t_cold_out
