"""Technology-cooling-system (TCS) loop of each CDU, solved in closed form for all CDUs.

Units: flow in L/min, pressure in kPa, power in W (1 kPa x 1 L/min = 1/60 W).

Model of one CDU loop, with its simplifications:

* Rack branches in parallel between a supply and a return manifold, each a quadratic
  resistance ``dp = k_i Q_i^2`` (turbulent flow assumed: friction factor independent of
  Reynolds number, so also of temperature and viscosity). ``k_i`` comes from the
  rack's design flow and design pressure drop; a branch valve scales the branch's
  conductance ``g_i = 1 / sqrt(k_i)`` by its flow characteristic.
* All branches of a CDU see the same differential pressure ``dp_b``: manifold losses
  are lumped into one series resistance with the CDU exchanger and strainer, so there
  is no maldistribution along a row. The branches together are one resistance
  ``1 / G^2`` with ``G = sum g_i``, and ``Q_i = g_i sqrt(dp_b)``.
* In series: the exchanger + manifolds, ``dp_s = k_s Q^2``.
* The pump set: ``N`` identical pumps running in parallel, each following
  ``H = n^2 H0 - a Q_p^2`` with ``Q_p = Q / N`` and ``n`` the speed as a fraction of
  rated speed (affinity laws: flow ~ n, head ~ n^2, for a curve that is a parabola
  through the shutoff head ``H0`` and the design point). Idle pumps have check valves:
  no backflow through them. Static head is zero (closed loop).
* Pump electrical power = hydraulic power / constant wire-to-water efficiency
  (pump, motor and drive together; no part-load efficiency curve). So a dead-headed
  pump (all valves shut) draws no power here, where a real one draws some and heats
  the coolant: an underestimate at shutoff only.

Operating point: ``n^2 H0 - a Q^2 / N^2 = k_s Q^2 + Q^2 / G^2`` gives

    dp_b = n^2 N^2 H0 / (N^2 (k_s G^2 + 1) + a G^2),    Q = G sqrt(dp_b)

which is exactly 0 for ``n = 0`` or ``N = 0``, equals ``n^2 H0`` (dead head) for
``G = 0``, and has a positive denominator unless ``N = 0`` and ``G = 0`` together
(then the flow is 0 by definition). No iteration, no division by a flow.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Literal

import numpy as np

W_PER_KPA_LPM = 1000.0 / 60000.0  # Pa per kPa x (m3/s) per (L/min)
DEFAULT_RANGEABILITY = 50.0  # typical for globe control valves


def quadratic_resistance_kpa_per_lpm2(
    design_dp_kpa: np.ndarray | float, design_flow_lpm: np.ndarray | float
) -> np.ndarray:
    """``k = dp / Q^2`` in kPa/(L/min)^2 of a quadratic resistance through its design
    point. ``design_flow_lpm`` > 0."""
    q = np.asarray(design_flow_lpm, dtype=np.float64)
    return np.divide(design_dp_kpa, q * q)


def branch_conductance_lpm_per_sqrt_kpa(
    design_flow_lpm: np.ndarray | float, design_dp_kpa: np.ndarray | float
) -> np.ndarray:
    """``g = 1 / sqrt(k) = Q / sqrt(dp)`` in (L/min)/sqrt(kPa) of a fully open branch
    through its design point. ``design_dp_kpa`` > 0."""
    return np.divide(design_flow_lpm, np.sqrt(design_dp_kpa))


def valve_flow_fraction(
    position: np.ndarray | float,
    characteristic: Literal["equal-percentage", "linear"] = "equal-percentage",
    rangeability: float = DEFAULT_RANGEABILITY,
    *,
    out: np.ndarray | None = None,
) -> np.ndarray:
    """Relative flow coefficient ``Kv / Kvs`` (dimensionless) of a valve at ``position``
    (0 shut, 1 open; the caller keeps it in [0, 1]).

    "equal-percentage" is the modified form ``(R^v - 1) / (R - 1)``: equal-percentage
    gain over most of the stroke, yet exactly 0 when shut and exactly 1 when open (the
    pure form ``R^(v-1)`` leaks ``1/R`` when shut). ``rangeability`` R > 1.
    "linear" is ``v``. The branch conductance is this fraction times the open one
    (the valve is taken as the branch's only variable resistance and its authority as
    1: a simplification; real authority below 1 flattens the curve).
    """
    v = np.asarray(position, dtype=np.float64)
    if characteristic == "linear":
        return np.multiply(v, 1.0, out=out)
    if characteristic != "equal-percentage":
        raise ValueError(f"unknown valve characteristic {characteristic!r}")
    if not (math.isfinite(rangeability) and rangeability > 1.0):
        raise ValueError(f"rangeability must be finite and above 1, got {rangeability}")
    log_r = math.log(rangeability)
    f = np.multiply(v, log_r, out=np.empty(v.shape) if out is None else out)
    np.expm1(f, out=f)
    f /= math.expm1(log_r)  # same expression as the numerator at v = 1: exactly 1 there
    return f


def conductance_sum_per_cdu(
    rack_conductance_lpm_per_sqrt_kpa: np.ndarray, rack_cdu: np.ndarray, cdu_count: int
) -> np.ndarray:
    """``G`` per CDU: the sum of its racks' branch conductances, (L/min)/sqrt(kPa).

    ``rack_cdu`` holds each rack's CDU index (any order); a CDU without racks gets 0.
    """
    return np.bincount(rack_cdu, weights=rack_conductance_lpm_per_sqrt_kpa, minlength=cdu_count)


def _as_cdu_array(name: str, values: np.ndarray | float, n: int | None) -> np.ndarray:
    a = np.array(values, dtype=np.float64, ndmin=1)
    if n is not None and a.shape != (n,):
        a = np.broadcast_to(a, (n,)).copy()
    if not np.all(np.isfinite(a)):
        raise ValueError(f"{name} must be finite")
    a.flags.writeable = False
    return a


@dataclass(frozen=True, slots=True)
class CduLoopParams:
    """Per-CDU constants of the pump set and the series resistance, validated once.

    Arrays of one shape ``(cdu_count,)``; read-only after construction.
    """

    shutoff_head_kpa: np.ndarray  # H0 of one pump at rated speed, > 0
    curve_a_kpa_per_lpm2: np.ndarray  # per pump, H = n^2 H0 - a Q_pump^2; > 0
    series_k_kpa_per_lpm2: np.ndarray  # exchanger + manifolds + strainer, >= 0
    pump_efficiency: np.ndarray  # wire-to-water, in (0, 1]

    def __post_init__(self) -> None:
        h0 = _as_cdu_array("shutoff_head_kpa", self.shutoff_head_kpa, None)
        n = h0.shape[0]
        fields = {
            "shutoff_head_kpa": h0,
            "curve_a_kpa_per_lpm2": _as_cdu_array(
                "curve_a_kpa_per_lpm2", self.curve_a_kpa_per_lpm2, n
            ),
            "series_k_kpa_per_lpm2": _as_cdu_array(
                "series_k_kpa_per_lpm2", self.series_k_kpa_per_lpm2, n
            ),
            "pump_efficiency": _as_cdu_array("pump_efficiency", self.pump_efficiency, n),
        }
        if np.any(fields["shutoff_head_kpa"] <= 0):
            raise ValueError("shutoff_head_kpa must be positive")
        if np.any(fields["curve_a_kpa_per_lpm2"] <= 0):
            raise ValueError("curve_a_kpa_per_lpm2 must be positive (head falls with flow)")
        if np.any(fields["series_k_kpa_per_lpm2"] < 0):
            raise ValueError("series_k_kpa_per_lpm2 must not be negative")
        eff = fields["pump_efficiency"]
        if np.any((eff <= 0) | (eff > 1)):
            raise ValueError("pump_efficiency must lie in (0, 1]")
        for name, value in fields.items():
            object.__setattr__(self, name, value)  # frozen: store the validated copies

    @classmethod
    def from_design(
        cls,
        shutoff_head_kpa: np.ndarray | float,
        pump_design_flow_lpm: np.ndarray | float,
        pump_design_head_kpa: np.ndarray | float,
        series_design_dp_kpa: np.ndarray | float,
        series_design_flow_lpm: np.ndarray | float,
        pump_efficiency: np.ndarray | float,
    ) -> CduLoopParams:
        """From data-sheet figures: one pump's shutoff head and design point (flow per
        pump, head) at rated speed, and the series pressure drop at a design total flow
        (for a CduType: ``hx_pressure_drop_kpa`` at ``pumps_required *
        pump_design_flow_lpm``, the natural choice)."""
        h0 = np.asarray(shutoff_head_kpa, dtype=np.float64)
        if np.any(np.asarray(pump_design_head_kpa) >= h0):
            raise ValueError("pump_design_head_kpa must be below shutoff_head_kpa")
        return cls(
            shutoff_head_kpa=h0,
            curve_a_kpa_per_lpm2=quadratic_resistance_kpa_per_lpm2(
                h0 - pump_design_head_kpa, pump_design_flow_lpm
            ),
            series_k_kpa_per_lpm2=quadratic_resistance_kpa_per_lpm2(
                series_design_dp_kpa, series_design_flow_lpm
            ),
            pump_efficiency=np.asarray(pump_efficiency, dtype=np.float64),
        )

    @property
    def cdu_count(self) -> int:
        return int(self.shutoff_head_kpa.shape[0])


@dataclass(frozen=True, slots=True)
class LoopSolution:
    """Operating point of every CDU loop; arrays ``(cdu_count,)`` reused across steps
    when passed back to ``solve_loops`` as ``out``."""

    flow_lpm: np.ndarray  # total loop flow = sum of the branch flows
    pump_head_kpa: np.ndarray  # head across the pump set
    branch_dp_kpa: np.ndarray  # supply-to-return manifold differential pressure
    pump_power_w: np.ndarray  # electrical, all running pumps together

    @classmethod
    def empty(cls, cdu_count: int) -> LoopSolution:
        return cls(*(np.zeros(cdu_count) for _ in range(4)))


def branch_dp_per_speed2_kpa(
    params: CduLoopParams, pumps_running: np.ndarray, g_sum: np.ndarray
) -> np.ndarray:
    """``dp_b / n^2`` per CDU, kPa: the branch differential pressure at rated speed,
    which scales with the speed squared (so a controller can solve for its speed)."""
    return _branch_dp_per_speed2_kpa(params, pumps_running, g_sum, np.zeros(len(g_sum)))


def _branch_dp_per_speed2_kpa(
    params: CduLoopParams,
    pumps_running: np.ndarray,
    g_sum: np.ndarray,
    out: np.ndarray,
) -> np.ndarray:
    """``dp_b / n^2``, kPa: the branch pressure at rated speed (it scales with n^2)."""
    n2 = np.multiply(pumps_running, pumps_running, dtype=np.float64)
    g2 = np.multiply(g_sum, g_sum, dtype=np.float64)
    den = params.series_k_kpa_per_lpm2 * g2
    den += 1.0
    den *= n2
    g2 *= params.curve_a_kpa_per_lpm2
    den += g2
    n2 *= params.shutoff_head_kpa
    out.fill(0.0)
    # den = 0 only when no pump runs and every branch is shut: no flow, no pressure.
    return np.divide(n2, den, out=out, where=den > 0)


def solve_loops(
    params: CduLoopParams,
    speed: np.ndarray,
    pumps_running: np.ndarray,
    branch_conductance_sum_lpm_per_sqrt_kpa: np.ndarray,
    *,
    out: LoopSolution | None = None,
) -> LoopSolution:
    """Operating point of all CDU loops at once (closed form, see the module docstring).

    ``speed``: pump speed as a fraction of rated (>= 0, all running pumps of a CDU at
    the same speed); ``pumps_running``: integer count (>= 0) per CDU;
    ``branch_conductance_sum_lpm_per_sqrt_kpa``: ``G`` per CDU from
    ``conductance_sum_per_cdu``. Writes into ``out`` when given (no new arrays for the
    results). Zero speed or zero pumps gives exactly zero flow, head and power.
    """
    sol = LoopSolution.empty(params.cdu_count) if out is None else out
    g = branch_conductance_sum_lpm_per_sqrt_kpa
    dp = _branch_dp_per_speed2_kpa(params, pumps_running, g, sol.branch_dp_kpa)
    dp *= speed
    dp *= speed
    q = np.sqrt(dp, out=sol.flow_lpm)
    q *= g
    head = np.multiply(q, q, out=sol.pump_head_kpa)
    head *= params.series_k_kpa_per_lpm2
    head += dp
    power = np.multiply(head, q, out=sol.pump_power_w)
    power *= W_PER_KPA_LPM
    power /= params.pump_efficiency
    return sol


def branch_flow_lpm(
    rack_conductance_lpm_per_sqrt_kpa: np.ndarray,
    rack_cdu: np.ndarray,
    branch_dp_kpa: np.ndarray,
    *,
    out: np.ndarray | None = None,
) -> np.ndarray:
    """Flow of every rack branch, L/min: ``g_i sqrt(dp_b)`` of the rack's CDU. Over the
    racks of a CDU these sum to the CDU's ``flow_lpm`` (to rounding)."""
    root = np.sqrt(branch_dp_kpa)
    return np.multiply(rack_conductance_lpm_per_sqrt_kpa, root[rack_cdu], out=out)


def speed_for_branch_dp(
    params: CduLoopParams,
    branch_dp_setpoint_kpa: np.ndarray | float,
    pumps_running: np.ndarray,
    branch_conductance_sum_lpm_per_sqrt_kpa: np.ndarray,
    min_speed: np.ndarray | float,
    max_speed: np.ndarray | float = 1.0,
) -> np.ndarray:
    """Pump speed (fraction of rated) that puts ``branch_dp_setpoint_kpa`` across the
    branches, limited to [min_speed, max_speed]: a feed-forward for the dp controller.

    Exact, because ``dp_b`` is proportional to ``n^2`` for a fixed valve state. Where no
    pump runs no speed helps; it returns ``max_speed`` there (what a controller facing a
    missing pressure would ask for).
    """
    per_n2 = _branch_dp_per_speed2_kpa(
        params, pumps_running, branch_conductance_sum_lpm_per_sqrt_kpa, np.empty(params.cdu_count)
    )
    n = np.broadcast_to(np.asarray(max_speed, dtype=np.float64), per_n2.shape).copy()
    np.divide(branch_dp_setpoint_kpa, per_n2, out=n, where=per_n2 > 0)
    np.sqrt(n, out=n, where=per_n2 > 0)
    return np.clip(n, min_speed, max_speed, out=n)
