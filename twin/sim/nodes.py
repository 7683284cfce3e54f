"""The coupled nodes one step solves, each in closed form or by exact roots: the chips'
power profile and junction path inside a step (throttles and trips located where they
happen), the heat of racks that stop inside a step into the halls' air, the CDUs'
secondary loops, the facility-water node with the chillers' trim; and the plant's small
helpers (ideal removal by a fast plant, staged fans, units running, weighted means).
The engine (``twin.sim.engine``) builds them every step from its compiled arrays."""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

import numpy as np

from twin.sim.heat_exchange import exchanger_conductance_w_per_k

if TYPE_CHECKING:
    from twin.sim.engine import Simulation

TRIP_TIME_TOLERANCE_S = 0.5  # a located trip time is settled to within this


def ideal_removal(
    t_c: float,
    capacity_j_per_k: float,
    heat_in_w: float,
    setpoint_c: float,
    max_removal_w: float,
    dt: float,
) -> tuple[float, float]:
    """Remove what brings a node to its setpoint by the step's end, within a capacity.

    Models a plant whose own controls are much faster than the site's thermal nodes
    (chillers holding their leaving-water temperature). Returns (removed_w, new_t_c).
    """
    wanted_w = heat_in_w + capacity_j_per_k * (t_c - setpoint_c) / dt
    removed_w = min(max(wanted_w, 0.0), max_removal_w)
    return removed_w, t_c + (heat_in_w - removed_w) * dt / capacity_j_per_k


def staged_fan_power(command: float, min_speed: float) -> float:
    """Fan power fraction of all units: all run together above min speed (cube law), below
    it units are staged off and the rest run at min speed."""
    if command >= min_speed:
        return command**3
    return (command / min_speed) * min_speed**3 if min_speed > 0 else 0.0


def units_running(command: float, count: int, min_speed: float) -> int:
    if command >= min_speed or min_speed <= 0:
        return count if command > 0 else 0
    return int(np.ceil(count * command / min_speed))


def weighted(values: np.ndarray, weights: np.ndarray, total: float) -> float:
    return float(np.dot(values, weights) / total) if total > 0 else float(values.mean())


@dataclass(slots=True)
class ChipProfile:
    """Each rack's GPU power over one step: ``power_w`` (per GPU) from the step's start,
    times the throttle fraction from ``throttle_s`` into the step, nothing from
    ``trip_s`` (both ``dt`` when the rack neither throttles nor trips in the step)."""

    power_w: np.ndarray
    throttle_s: np.ndarray
    trip_s: np.ndarray
    dt_s: float
    throttle_fraction: float
    steady: bool  # no switch inside the step

    @classmethod
    def constant(
        cls,
        power_w: np.ndarray,
        dt_s: float,
        throttle_fraction: float,
        full: np.ndarray | None = None,
    ) -> ChipProfile:
        """``full``: ``dt_s`` for every rack, when the caller holds one (read only)."""
        if full is None:
            full = np.full(power_w.shape, dt_s)
        return cls(power_w, full, full, dt_s, throttle_fraction, True)

    @property
    def mean_w(self) -> np.ndarray:
        if self.steady:
            return self.power_w
        return (
            self.power_w
            * (self.throttle_s + self.throttle_fraction * (self.trip_s - self.throttle_s))
            / self.dt_s
        )

    @property
    def online_share(self) -> np.ndarray | float:
        return 1.0 if self.steady else self.trip_s / self.dt_s

    @property
    def throttled_in_step(self) -> np.ndarray | bool:
        return False if self.steady else self.throttle_s < self.dt_s

    @property
    def tripped_in_step(self) -> np.ndarray | bool:
        return False if self.steady else self.trip_s < self.dt_s

    def relaxed_w(self, tau_s: np.ndarray, decay: np.ndarray) -> np.ndarray:
        """``int_0^dt q(s) exp(-(dt - s)/tau) ds / tau`` (W per GPU): the power whose
        heat is still in the junction at the step's end, in the junction's exact
        solution ``T_end = a T_0 + (1 - a) T_coolant + R q_relaxed`` (``a`` = decay)."""
        if self.steady:
            return self.power_w * (1.0 - decay)
        at_throttle = np.exp((self.throttle_s - self.dt_s) / tau_s)
        at_trip = np.exp((self.trip_s - self.dt_s) / tau_s)
        return self.power_w * (
            (at_throttle - decay) + self.throttle_fraction * (at_trip - at_throttle)
        )

    def junction_end_c(
        self,
        sim: Simulation,
        junction_c: np.ndarray,
        coolant_start_c: np.ndarray,
        coolant_end_c: np.ndarray,
    ) -> np.ndarray:
        """Junction temperatures at the step's end, exact for this power profile over
        the rack coolant moving linearly from ``coolant_start_c`` to ``coolant_end_c``."""
        decay = sim.junction_decay
        _, start_c, relaxed_c = sim.junction_terms(junction_c, coolant_start_c, self.power_w)
        end_c = sim.junction_from_end * coolant_end_c
        end_c = np.add(start_c, end_c, out=end_c)
        if self.steady:
            end_c += relaxed_c
        else:
            end_c += sim.racks.junction_resistance_k_per_w * self.relaxed_w(
                sim.junction_tau_s, decay
            )
        return end_c

    def bracketed(
        self, tried: ChipProfile, brackets: list[tuple[np.ndarray, ...]], last: bool
    ) -> ChipProfile:
        """This profile's throttle and trip times, found with the coolant that the
        ``tried`` profile left, moved towards the fixed point where the two agree.

        A throttle or trip cuts the heat that brought it on: an earlier one leaves the
        coolant cooler and the crossing later. Each rack's fixed point is kept in a
        bracket (early, late, with how far each try's crossing fell from it) per
        switch, narrowed by every try; the next try is the regula falsi point of the
        bracket, or, until both ends are known, the crossing just found if it lies
        inside, else the bracket's middle. On the ``last`` try an unsettled
        rack switches at the bracket's early end, where its GPU has not yet passed the
        limit."""
        times = []
        for found, tried_s, (early, late, early_gap, late_gap) in zip(
            (self.throttle_s, self.trip_s), (tried.throttle_s, tried.trip_s), brackets, strict=True
        ):
            gap = found - tried_s  # falls as the tried time rises; the fixed point is 0
            later = gap > TRIP_TIME_TOLERANCE_S
            sooner = gap < -TRIP_TIME_TOLERANCE_S
            np.copyto(early, tried_s, where=later)
            np.copyto(early_gap, gap, where=later)
            np.copyto(late, tried_s, where=sooner)
            np.copyto(late_gap, gap, where=sooner)
            settled = ~(later | sooner)
            # regula falsi where both ends are known, else the crossing just found
            # (a fixed-point step) if it lies inside, else bisection
            known = np.isfinite(early_gap) & np.isfinite(late_gap)
            falsi = early + early_gap * (late - early) / np.where(known, early_gap - late_gap, 1.0)
            inside = (found > early) & (found < late)
            trial = np.where(
                known & (falsi > early) & (falsi < late),
                falsi,
                np.where(~known & inside, found, 0.5 * (early + late)),
            )
            trial = np.where(settled, found, trial)
            if last:
                trial = np.where(settled, found, early)
            times.append(trial)
        throttle_s, trip_s = times
        throttle_s = np.minimum(throttle_s, trip_s)
        steady = not ((throttle_s < self.dt_s).any() or (trip_s < self.dt_s).any())
        return ChipProfile(
            self.power_w, throttle_s, trip_s, self.dt_s, self.throttle_fraction, steady
        )

    def located(
        self, sim: Simulation, coolant_c: np.ndarray, online: np.ndarray
    ) -> ChipProfile | None:
        """The profile with each throttle and trip at the time the junction reaches its
        limit: roots of its exact solution over the coolant moving linearly from its
        start-of-step temperature to ``coolant_c``. None when that is this profile (to
        within ``TRIP_TIME_TOLERANCE_S``)."""
        r, st = sim.racks, sim.state
        dt = self.dt_s
        start_c = st.junction_c
        # the junction at the step's end without a switch: below every limit, no crossing
        _, from_start_c, relaxed_c = sim.junction_terms(start_c, st.rack_coolant_c, self.power_w)
        end_c = sim.junction_from_end * coolant_c
        end_c = np.add(from_start_c, end_c, out=end_c)
        end_c += relaxed_c
        if self.steady:
            # a throttled rack's next switch is its trip
            limit_c = (
                np.where(st.throttled, r.critical_c, r.throttle_c)
                if np.logical_or.reduce(st.throttled)
                else r.throttle_c
            )
            if not np.logical_or.reduce(end_c >= limit_c):
                return None
        path = JunctionPath(sim, st.rack_coolant_c, coolant_c, self.trip_s)
        may_throttle = online & ~st.throttled & (end_c >= r.throttle_c)
        throttle_s = path.crossing_s(0.0, start_c, self.power_w, r.throttle_c, may_throttle)
        switched = throttle_s < dt
        from_s = np.where(switched, throttle_s, 0.0)
        from_c = np.where(switched, path.at_c(throttle_s, 0.0, start_c, self.power_w), start_c)
        after_w = np.where(switched, self.power_w * self.throttle_fraction, self.power_w)
        hot = online & (path.at_c(dt, from_s, from_c, after_w) >= r.critical_c)
        trip_s = path.crossing_s(from_s, from_c, after_w, r.critical_c, hot)
        if (
            np.max(np.abs(throttle_s - self.throttle_s)) <= TRIP_TIME_TOLERANCE_S
            and np.max(np.abs(trip_s - self.trip_s)) <= TRIP_TIME_TOLERANCE_S
        ):
            return None
        return ChipProfile(
            self.power_w,
            throttle_s,
            trip_s,
            dt,
            self.throttle_fraction,
            not (switched.any() or (trip_s < dt).any()),
        )


class StoppingHeat:
    """Heat into exact exponential nodes (the halls' air) from racks of which some stop
    inside the step (a trip, a UPS at end of discharge): those give ``mean * dt / stop``
    until ``stop_s`` and nothing after. A node with rate ``k = G / C`` ends the step as
    if it got, held over the step, the input

        q_on (exp(-k (dt - stop)) - exp(-k dt)) / (1 - exp(-k dt))

    (the heat still in it at the step's end; ``q_on stop / dt``, the mean, as k -> 0).
    ``end_equivalent_w`` gives what to add to the held mean for that end temperature;
    the energy the node passes on stays the mean's."""

    __slots__ = ("dt_s", "mean_w", "node", "nodes", "on_w", "stop_s")

    def __init__(
        self, node: np.ndarray, mean_w: np.ndarray, stop_s: np.ndarray, dt_s: float, nodes: int
    ):
        early = stop_s < dt_s
        self.node = node[early]
        self.stop_s = stop_s[early]
        self.mean_w = mean_w[early]
        self.on_w = np.divide(
            self.mean_w * dt_s, self.stop_s, out=np.zeros_like(self.mean_w), where=self.stop_s > 0
        )
        self.dt_s = dt_s
        self.nodes = nodes

    def end_equivalent_w(self, rate_per_s: np.ndarray) -> np.ndarray:
        k = np.broadcast_to(rate_per_s, (self.nodes,))[self.node]
        x = k * self.dt_s
        small = x < 1e-9
        safe = np.where(small, 1.0, x)
        weight = np.where(
            small,
            self.stop_s / self.dt_s,
            np.exp(-safe) * np.expm1(k * self.stop_s) / -np.expm1(-safe),
        )
        return np.bincount(
            self.node, weights=self.on_w * weight - self.mean_w, minlength=self.nodes
        )


class JunctionPath:
    """Junction temperatures inside a step: from ``(from_s, from_c)`` at a constant
    power ``q`` over coolant ``X(t) = X_0 + s t`` the exact solution is

        T(t) = X(t) + q R - s tau + (T_from - X(t_from) - q R + s tau) exp(-(t - t_from)/tau)

    The coolant's rate ``s`` is its change over the step spread over the time its rack
    runs (a rack that trips stops heating it; before the trip a rack without flow
    heats its coolant at a near-constant rate): a simplification that the crossings,
    iterated to their fixed point, need for a coolant that heats fast.
    """

    def __init__(
        self,
        sim: Simulation,
        coolant_start_c: np.ndarray,
        coolant_end_c: np.ndarray,
        heated_s: np.ndarray,
    ):
        self.dt_s = sim.dt_s
        self.tau_s = sim.junction_tau_s
        self.resistance = sim.racks.junction_resistance_k_per_w
        self.coolant_start_c = coolant_start_c
        # the coolant changes while its rack runs: until ``heated_s``, its trip
        self.rate_k_per_s = (coolant_end_c - coolant_start_c) / np.maximum(heated_s, 1e-3)

    def at_c(self, t_s, from_s, from_c, power_w, index=slice(None)) -> np.ndarray:
        tau, rate = self.tau_s[index], self.rate_k_per_s[index]
        x0 = self.coolant_start_c[index]
        offset = power_w * self.resistance[index] - rate * tau
        return (
            x0
            + rate * t_s
            + offset
            + (from_c - x0 - rate * from_s - offset) * np.exp((from_s - t_s) / tau)
        )

    def crossing_s(self, from_s, from_c, power_w, limit_c, candidates) -> np.ndarray:
        """When the junction, below ``limit_c`` at ``from_s``, reaches it (bisection to
        a microsecond); at ``from_s`` if it is there already; ``dt`` for racks that are
        no candidates (callers pass those that end the step at or above the limit)."""
        dt = self.dt_s
        out = np.full(candidates.shape, dt)
        index = np.flatnonzero(candidates)
        if not index.size:
            return out
        start = np.broadcast_to(from_s, candidates.shape)[index]
        t0_c = np.broadcast_to(from_c, candidates.shape)[index]
        power = np.broadcast_to(power_w, candidates.shape)[index]
        limit = limit_c[index]
        early, late = start.copy(), np.full(index.size, dt)
        for _ in range(math.ceil(math.log2(max(dt, 1e-3) / 1e-6))):
            middle = 0.5 * (early + late)
            over = self.at_c(middle, start, t0_c, power, index) >= limit
            late = np.where(over, middle, late)
            early = np.where(over, early, middle)
        out[index] = np.where(t0_c >= limit, start, late)
        return out


class CduLoop:
    """The CDUs' secondary nodes over one step (backward Euler), with what the racks
    return given as ``carried = base - slope * supply`` per CDU, the racks' own exact
    and implicit responses summed. For an exchanger conductance ``G`` (facility side
    given by the valve) and the facility water at ``T_fw``:

        C (T - T_0) / dt = base - slope T_s + P - G (T - T_fw),  T_s = T - k (T - T_fw)

    with ``k = G / C_hot``, linear in ``T``: solved in closed form, stable for any dt."""

    def __init__(
        self,
        sim: Simulation,
        carried_base_w: np.ndarray,
        carried_slope: np.ndarray,
        pump_w: np.ndarray,
        hot_rate_w_per_k: np.ndarray,
    ):
        self.start_c = sim.state.cdu_coolant_c
        self.capacity_per_s = sim.cdus.capacity_j_per_k / sim.dt_s
        self.base_w = sim.sum_by_cdu(carried_base_w)
        self.base_w += pump_w + self.capacity_per_s * self.start_c
        self.slope = sim.sum_by_cdu(carried_slope)
        self.hot_rate = hot_rate_w_per_k
        self.ua = sim.cdus.hx_ua_w_per_k
        self.exchanger_g = np.zeros(self.hot_rate.shape)
        # G / C_hot; stays 0 where no coolant flows (only the flowing CDUs are written)
        self.kappa = np.zeros(self.hot_rate.shape)
        self._flowing = self.hot_rate > 0

    def return_affine(self, cold_rate_w_per_k: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """``(offset_c, slope)``: the CDU node's end temperature is offset + slope T_fw."""
        g = exchanger_conductance_w_per_k(
            self.ua, self.hot_rate, cold_rate_w_per_k, out=self.exchanger_g
        )
        np.divide(g, self.hot_rate, out=self.kappa, where=self._flowing)
        denominator = self.capacity_per_s + self.slope * (1.0 - self.kappa) + g
        return self.base_w / denominator, (g - self.slope * self.kappa) / denominator

    def supply_c(self, cold_rate_w_per_k: np.ndarray, facility_c: float) -> np.ndarray:
        offset, slope = self.return_affine(cold_rate_w_per_k)
        return self.supply_from(offset, slope, facility_c)

    def supply_from(self, offset_c: np.ndarray, slope: np.ndarray, facility_c: float) -> np.ndarray:
        """The supply temperature, of the exchanger last given to ``return_affine``."""
        t = offset_c + slope * facility_c
        return t - self.kappa * (t - facility_c)


@dataclass(slots=True)
class FacilityWater:
    """The facility-water node over one step (backward Euler), the CDUs' exchangers as
    affine functions of its temperature, free cooling at a fan command ``x`` and the
    chillers' trim ``W``:

        C (T - T_0)/dt = sum G_i (offset_i + slope_i T - T) + P_pump - x g (T - T_sink) - W

    solved in closed form. The trim holds the water at the top of its band within its
    capacity, inside the solve: the exchangers and the free cooling see the held
    temperature over the step, as they do when the chillers trim continuously. (Trimmed
    after a solve without it, the node would first heat up over the whole step and the
    dry coolers reject more at that temperature: at dt = 300 s in a hot afternoon, 20 %
    more free cooling and less chiller power than at dt = 1 s.)"""

    capacity_j_per_k: float
    start_c: float
    dt_s: float
    exchanger_g: np.ndarray
    cdu_offset_c: np.ndarray
    cdu_slope: np.ndarray
    pump_w: float
    dry_g_w_per_k: float  # at full fan command
    dry_bulb_c: float
    tower_g_w_per_k: float
    wet_bulb_c: float
    trim_to_c: float
    trim_capacity_w: float

    per_s: float = field(init=False)
    inflow_w: float = field(init=False)  # from the CDUs, at 0 C facility water
    loss_w_per_k: float = field(init=False)  # to the CDUs, per K of facility water
    sink_w: float = field(init=False)  # free cooling at full fan, at 0 C facility water
    free_w_per_k: float = field(init=False)  # free cooling at full fan, per K

    def __post_init__(self) -> None:
        self.per_s = self.capacity_j_per_k / self.dt_s
        self.inflow_w = float(np.dot(self.exchanger_g, self.cdu_offset_c))
        self.loss_w_per_k = float(np.dot(self.exchanger_g, 1.0 - self.cdu_slope))
        self.sink_w = self.dry_g_w_per_k * self.dry_bulb_c + self.tower_g_w_per_k * self.wet_bulb_c
        self.free_w_per_k = self.dry_g_w_per_k + self.tower_g_w_per_k

    def before_trim_c(self, fan: float) -> float:
        per_s = self.per_s
        return (per_s * self.start_c + self.inflow_w + self.pump_w + fan * self.sink_w) / (
            per_s + self.loss_w_per_k + fan * self.free_w_per_k
        )

    def trimmed(self, fan: float) -> tuple[float, float]:
        """``(end temperature C, trim W)`` at the fan command ``fan``."""
        t = self.before_trim_c(fan)
        # the node's whole response to a heat sink W: T falls by W / (C/dt + B)
        response = self.per_s + self.loss_w_per_k + fan * self.free_w_per_k
        removed = min(max(response * (t - self.trim_to_c), 0.0), self.trim_capacity_w)
        return t - removed / response, removed

    def after_trim_c(self, fan: float) -> float:
        return self.trimmed(fan)[0]
