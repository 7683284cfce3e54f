"""Live state estimation inside ``twin shadow``: drifting quantities tracked per CDU from the
plant's measurements, and a divergence's likely cause told from redundant measurements.

Tracked per CDU, by the recursive least squares of ``twin.calibration.online`` (each with
its band of two standard deviations), from fresh, good measurements at every evaluation
after the shadow's warm-up:

* series resistance (exchanger + manifolds + strainer, kPa/(L/min)^2) from the secondary
  flow, the pumps' speed and the branch differential pressure on the pump curve; the
  number of pumps running is the model's (the point list says only whether one runs).
  Alarm at twice design: strainer or exchanger clogging.
* exchanger UA (kW/K) inverted from the counterflow effectiveness of the secondary return
  and supply, the secondary flow, the facility water supply and the facility flow (the
  valve's flow fraction at its opening times the CDU's design facility flow, through the
  valve's characteristic as tracked below once it is trusted (a narrow band, samples over
  15 min of plant time, and a departure from the model's beyond the band), the model's
  until then). Alarm 15 % below design: fouling.
* facility valve characteristic (its equal-percentage share: 0 linear, 1 equal
  percentage) tracked with the exchanger's UA from the heat the exchanger moves at each
  opening (``ValveCharacteristicTracker``: the two separate as the valve moves). Alarm
  when it departs from the model's by more than 0.25 with its band inside that: the
  valve is not the model's.
* sensor offsets between two sensors of one water: the CDU's secondary supply against its
  racks' inlet (alarm past 0.5 K), the CDU's secondary flow against the sum of its racks'
  flows (alarm past 3 % of the racks' design flow).

Each drift past its limit, held ``confirm_s``, is alarmed through the shadow's alarm engine
(``shadow.drift_*`` points on the CDUs), printed ("L-CDU-01 exchanger UA 18 % below design
(...): fouling"), and every ``PRINT_EVERY_S`` of plant time the largest drifts are printed.

Sensor or process: when a divergence is raised on a point, its redundant estimate (the same
quantity from other sensors: a rack's inlet for its CDU's supply, the racks' summed flow
for the CDU's flow, the energy balance across the CDU (supply + (racks' liquid heat +
pump heat) / secondary capacity rate) for its return, the one across a rack for the rack's
return...) is computed from the measurements and from the model the same way. When the
redundant estimate agrees with the model while the point does not, the point's sensor is
the likely fault: stuck (unchanged while the model moved), noisy (its residual's spread
beyond three of its learned bands, about zero mean) or offset. When the redundant estimate
moved with the point, the plant itself differs from the model: a process fault, named by a
drifting tracker of its CDU where one drifts. A point with no redundant measurement (valve
opening, pump speed) is called a process fault only when a tracker of its CDU drifts.
The per-CDU primary temperatures are not in the point list, so the energy balance is the
secondary side's heat against the racks' measured power (its liquid share), not primary
against secondary.
"""

from __future__ import annotations

import csv
import math
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, TextIO

import numpy as np

from twin.alarms import AlarmPoint, Condition, Limit, Priority
from twin.calibration.online import (
    DriftTracker,
    PumpCurve,
    ValveCharacteristicTracker,
    exchanger_ua_sample,
    exchanger_ua_tracker,
    sensor_offset_tracker,
    series_resistance_sample,
    series_resistance_tracker,
    valve_characteristic_tracker,
)
from twin.sim.snapshot import Snapshot

if TYPE_CHECKING:
    from twin.exchange.shadow import Shadow

PRINT_EVERY_S = 600.0  # plant time between the printed estimates
PRINTED_CDUS = 5  # the CDUs with the largest drifts printed by name
RECORD_EVERY_S = 60.0  # plant time between the recorded estimates
# Memories: a strainer clogs over hours, an exchanger fouls over weeks; the UA inversion
# amplifies temperature noise (high NTU), so it averages longer. Engineering choices.
RESISTANCE_MEMORY_S = 300.0
UA_MEMORY_S = 900.0
OFFSET_MEMORY_S = 600.0
VALVE_MEMORY_S = 1800.0  # a valve's trim is fixed; its wear takes months
VALVE_TRUSTED_BAND = 0.1  # the tracked characteristic feeds the UA tracker once its
# band (two standard deviations) is this narrow, its samples span VALVE_TRUSTED_SPAN_S and
# it departs from the model's by more than its band: a start-up transient (the exchanger
# away from the steady state the inversion assumes) can give an early band that is narrow
# but wrong, and a valve the data find to be the model's is the model's
VALVE_TRUSTED_SPAN_S = 0.5 * VALVE_MEMORY_S
CONFIRM_S = 300.0  # a drift stands this long before it alarms
RESISTANCE_HIGH_RATIO = 2.0  # twice design: the strainer wants cleaning
UA_LOW_RATIO = 0.85  # 15 % below design: fouling (cleaning is due at 10-25 % loss)
SUPPLY_OFFSET_LIMIT_K = 0.5  # over a class-A RTD pair's combined tolerance (IEC 60751)
FLOW_OFFSET_LIMIT = 0.03  # of the racks' design flow: two flowmeters of 1-2 % accuracy
DP_AGREE_KPA = 3.0  # two pressure transmitters of ~1 kPa accuracy each, and noise
# the secondary heat (flow x capacity x (return - supply)) against the racks' liquid heat
# and the pumps': the sensors' noise gives ~2 %, a transient in the loop's capacity more
BALANCE_TOLERANCE = 0.10
# coolant properties where the temperature is not measured: a warm-water loop's return
# (cp and density move ~0.1 % per K, so this matters little)
UNMEASURED_PROPERTY_C = 40.0
# Sensor or process
STUCK_MIN_S = 120.0  # a value unchanged this long ...
STUCK_MODEL_MOVE = 3.0  # ... while the model moved this many noise bands is stuck
NOISE_RATIO = 3.0  # a residual spread this many learned bands is a noisy sensor
RECENT_S = 300.0  # time constant of a residual's recent mean and spread
AGREE_SHARE = 0.5  # a redundant estimate within this share of the point's residual agrees
# a tracker this share of the way to its limit, with design outside its band (two standard
# deviations), names a process fault
DRIFT_NAMED = 0.1
# a residual shared by this share of the point's peers (same quantity, other components),
# each beyond a band the same way, has a common cause: not one sensor
COMMON_SHARE = 0.5

DRIFT_TAGS = {
    "series_resistance": (
        "shadow.drift_series_resistance",
        "secondary series resistance over its limit: clogging",
    ),
    "exchanger_ua": ("shadow.drift_exchanger_ua", "exchanger UA under its limit: fouling"),
    "valve_characteristic": (
        "shadow.drift_valve_characteristic",
        "facility valve characteristic past its limit: not the model's",
    ),
    "supply_offset": ("shadow.drift_supply_offset", "CDU supply and rack inlet sensors disagree"),
    "flow_offset": ("shadow.drift_flow_offset", "CDU flow and racks' flow sensors disagree"),
}
SHORT_NAMES = {
    "series_resistance": "resistance",
    "exchanger_ua": "UA",
    "valve_characteristic": "valve equal-% share",
    "supply_offset": "supply offset",
    "flow_offset": "flow offset",
}
RECORD_COLUMNS = (
    "time_s",
    "component",
    "quantity",
    "unit",
    "value",
    "band_low",
    "band_high",
    "design",
    "ratio",
    "alarm",
)


@dataclass(frozen=True)
class TrackedValue:
    """One tracked quantity as it stands: value and its band (two standard deviations)."""

    component: str
    quantity: str  # a key of DRIFT_TAGS
    unit: str
    value: float
    band_low: float
    band_high: float
    design: float  # for an offset: its limit
    ratio: float  # value over design
    alarm: str | None


def _indices(shadow: Shadow, quantity: str, names: list[str]) -> np.ndarray:
    where = {p.component: i for i, p in enumerate(shadow.points) if p.quantity == quantity}
    return np.array([where.get(name, -1) for name in names], dtype=np.int64)


def _take(values: np.ndarray, ok: np.ndarray, index: np.ndarray) -> np.ndarray:
    out = np.full(index.shape, np.nan)
    has = index >= 0
    picked = index[has]
    out[has] = np.where(ok[picked], values[picked], np.nan)
    return out


class ShadowEstimation:
    """The shadow's trackers and its sensor-or-process judgement (module docstring)."""

    def __init__(self, shadow: Shadow, warmup_s: float, evaluate_every_s: float) -> None:
        self.shadow = shadow
        self.warmup_s = warmup_s
        self.recent_weight = min(1.0, evaluate_every_s / RECENT_S)
        sim = shadow.sim
        topo = sim.topology
        self.cdu_names = list(topo.cdu_names)
        self.rack_names = [topo.rack_name(i) for i in range(topo.rack_count)]
        self.rack_cdu = np.asarray(topo.rack_cdu, dtype=np.int64)
        self.cdu_racks = [np.flatnonzero(self.rack_cdu == k) for k in range(topo.cdu_count)]
        self.tcs = sim.tcs
        c = sim.cdus
        self.curves = [
            PumpCurve(float(c.shutoff_head_kpa[k]), float(c.curve_a_kpa_per_lpm2[k]))
            for k in range(topo.cdu_count)
        ]
        self.cold_rate_full_kw_per_k = c.facility_design_flow_kg_per_s * sim.fw_cp / 1e3
        design_flow = np.bincount(
            self.rack_cdu, weights=sim.racks.design_flow_lpm, minlength=topo.cdu_count
        )
        cdu = {
            q: _indices(shadow, f"cdu.{q}", self.cdu_names)
            for q in (
                "flow_lpm",
                "dp_kpa",
                "pump_speed_pct",
                "supply_temp_c",
                "return_temp_c",
                "valve_pct",
            )
        }
        rack = {
            q: _indices(shadow, f"rack.{q}", self.rack_names)
            for q in ("supply_temp_c", "return_temp_c", "flow_lpm", "dp_kpa")
        }
        self.cdu_points, self.rack_points = cdu, rack
        fws = [i for i, p in enumerate(shadow.points) if p.quantity == "plant.fws_supply_c"]
        self.fws_point = fws[0] if fws else -1
        self.trackers: list[dict[str, DriftTracker]] = []
        for k, name in enumerate(self.cdu_names):
            mine = {}
            if min(cdu["flow_lpm"][k], cdu["dp_kpa"][k], cdu["pump_speed_pct"][k]) >= 0:
                mine["series_resistance"] = series_resistance_tracker(
                    name,
                    float(c.hx_k_kpa_per_lpm2[k]),
                    RESISTANCE_HIGH_RATIO,
                    memory_s=RESISTANCE_MEMORY_S,
                    confirm_s=CONFIRM_S,
                )
            if (
                min(
                    cdu["flow_lpm"][k],
                    cdu["supply_temp_c"][k],
                    cdu["return_temp_c"][k],
                    cdu["valve_pct"][k],
                    self.fws_point,
                )
                >= 0
            ):
                mine["exchanger_ua"] = exchanger_ua_tracker(
                    name,
                    float(c.hx_ua_w_per_k[k]) / 1e3,
                    UA_LOW_RATIO,
                    memory_s=UA_MEMORY_S,
                    confirm_s=CONFIRM_S,
                )
                mine["valve_characteristic"] = valve_characteristic_tracker(
                    name,
                    float(sim.valve_equal_share[k]),
                    float(sim.valve_rangeability[k]),
                    float(c.hx_ua_w_per_k[k]) / 1e3,
                    memory_s=VALVE_MEMORY_S,
                    confirm_s=CONFIRM_S,
                )
            racks = self.cdu_racks[k]
            if cdu["supply_temp_c"][k] >= 0 and np.any(rack["supply_temp_c"][racks] >= 0):
                mine["supply_offset"] = sensor_offset_tracker(
                    f"{name} supply vs rack inlet",
                    SUPPLY_OFFSET_LIMIT_K,
                    "K",
                    memory_s=OFFSET_MEMORY_S,
                    confirm_s=CONFIRM_S,
                )
            if cdu["flow_lpm"][k] >= 0 and np.all(rack["flow_lpm"][racks] >= 0) and racks.size:
                mine["flow_offset"] = sensor_offset_tracker(
                    f"{name} flow vs racks' flow",
                    FLOW_OFFSET_LIMIT * float(design_flow[k]),
                    "L/min",
                    memory_s=OFFSET_MEMORY_S,
                    confirm_s=CONFIRM_S,
                )
            for tracker in mine.values():
                tracker.keep_history = False
            self.trackers.append(mine)
        n = len(shadow.points)
        # per point: when its value last changed and how far the model moved since
        self.last_value = np.full(n, np.nan)
        self.changed_at_s = np.full(n, np.nan)
        self.model_low = np.full(n, np.nan)
        self.model_high = np.full(n, np.nan)
        # the residual's recent mean and spread, and its redundant estimate's residual
        self.recent_mean = np.zeros(n)
        self.recent_var = np.zeros(n)
        self.partner_residual = np.full(n, np.nan)
        self.partner_name = [""] * n
        self._name_partners()
        self.modelled = np.full(n, np.nan)
        self._next_print_s = 0.0
        self._next_record_s = 0.0
        self._record_file: TextIO | None = None

    def _name_partners(self) -> None:
        for index, words in (
            (self.cdu_points["supply_temp_c"], "its racks' inlet"),
            (
                self.cdu_points["return_temp_c"],
                "the energy balance across the CDU (supply + racks' heat)",
            ),
            (self.cdu_points["flow_lpm"], "its racks' summed flow"),
            (self.cdu_points["dp_kpa"], "its racks' differential pressure"),
            (self.rack_points["supply_temp_c"], "its CDU's supply"),
            (
                self.rack_points["return_temp_c"],
                "the energy balance across the rack (inlet + its heat)",
            ),
            (self.rack_points["flow_lpm"], "its CDU's flow less the other racks'"),
            (self.rack_points["dp_kpa"], "its CDU's differential pressure"),
        ):
            for i in index[index >= 0]:
                self.partner_name[int(i)] = words

    # ------------------------------------------------------------------ redundancy

    def _rate_w_per_k(self, flow_lpm: np.ndarray, temp_c: np.ndarray) -> np.ndarray:
        """The coolant's capacity rate; 0 where the flow is not measured."""
        return self.tcs.heat_capacity_rate_w_per_k(
            np.nan_to_num(flow_lpm, nan=0.0), np.nan_to_num(temp_c, nan=UNMEASURED_PROPERTY_C)
        )

    def _partners(self, values: np.ndarray, ok: np.ndarray, snapshot: Snapshot) -> np.ndarray:
        """Each point's redundant estimate from the other sensors (NaN: none)."""
        cdu, rack = self.cdu_points, self.rack_points
        m = len(self.cdu_names)
        out = np.full(values.size, np.nan)
        rc = self.rack_cdu

        def per_cdu_mean(series: np.ndarray) -> np.ndarray:
            have = np.isfinite(series)
            total = np.bincount(rc, weights=np.where(have, series, 0.0), minlength=m)
            count = np.bincount(rc, weights=have.astype(float), minlength=m)
            with np.errstate(invalid="ignore", divide="ignore"):
                return np.where(count > 0, total / count, np.nan)

        def put(index: np.ndarray, estimate: np.ndarray) -> None:
            has = index >= 0
            out[index[has]] = estimate[has]

        cdu_supply = _take(values, ok, cdu["supply_temp_c"])
        cdu_flow = _take(values, ok, cdu["flow_lpm"])
        cdu_dp = _take(values, ok, cdu["dp_kpa"])
        rack_supply = _take(values, ok, rack["supply_temp_c"])
        rack_flow = _take(values, ok, rack["flow_lpm"])
        rack_dp = _take(values, ok, rack["dp_kpa"])
        flow_sum = np.bincount(rc, weights=np.nan_to_num(rack_flow, nan=0.0), minlength=m)
        missing = np.bincount(rc, weights=~np.isfinite(rack_flow), minlength=m)
        flow_sum[missing > 0] = np.nan
        put(cdu["supply_temp_c"], per_cdu_mean(rack_supply))
        put(cdu["flow_lpm"], flow_sum)
        put(cdu["dp_kpa"], per_cdu_mean(rack_dp))
        put(rack["supply_temp_c"], cdu_supply[rc])
        put(rack["dp_kpa"], cdu_dp[rc])
        put(rack["flow_lpm"], cdu_flow[rc] - (flow_sum[rc] - rack_flow))
        # energy balances: the heat the racks' liquid takes (their measured power drives
        # the model) and the pumps' heat, carried by the measured flow
        rack_heat_w = snapshot.racks.liquid_heat_kw * 1e3
        cdu_heat_w = (
            np.bincount(rc, weights=rack_heat_w, minlength=m) + snapshot.cdus.pump_power_kw * 1e3
        )
        cdu_return = _take(values, ok, cdu["return_temp_c"])
        hot = self._rate_w_per_k(cdu_flow, cdu_return)
        with np.errstate(invalid="ignore", divide="ignore"):
            put(cdu["return_temp_c"], np.where(hot > 0, cdu_supply + cdu_heat_w / hot, np.nan))
            rack_rate = self._rate_w_per_k(rack_flow, rack_supply)
            put(
                rack["return_temp_c"],
                np.where(rack_rate > 0, rack_supply + rack_heat_w / rack_rate, np.nan),
            )
        return out

    # ------------------------------------------------------------------ update

    def update(self, t: float, snapshot: Snapshot, modelled: np.ndarray, use: np.ndarray) -> None:
        """One evaluation: ``use`` marks the fresh, good measurements."""
        shadow = self.shadow
        measured = shadow.measured
        self._follow_changes(t, measured, modelled, use)
        residual = np.where(use, measured - modelled, np.nan)
        self.modelled = modelled
        weight = self.recent_weight
        has = np.isfinite(residual)
        delta = np.where(has, residual - self.recent_mean, 0.0)
        self.recent_mean += weight * delta
        self.recent_var = np.where(
            has, (1 - weight) * (self.recent_var + weight * delta**2), self.recent_var
        )
        readable = np.isfinite(modelled)
        self.partner_residual = self._partners(measured, use, snapshot) - self._partners(
            modelled, readable, snapshot
        )
        if t < self.warmup_s:
            return
        self._track(t, snapshot, measured, use)
        if t >= self._next_print_s:
            self._next_print_s = t + PRINT_EVERY_S
            print(f"twin shadow: t={t:.0f}s {self.summary()}", file=shadow.log, flush=True)
        if self._record_file is not None and t >= self._next_record_s:
            self._next_record_s = t + RECORD_EVERY_S
            self._write_record(self._record_file, t)

    def _follow_changes(
        self, t: float, measured: np.ndarray, modelled: np.ndarray, use: np.ndarray
    ) -> None:
        changed = use & ((measured != self.last_value) | np.isnan(self.changed_at_s))
        self.last_value[changed] = measured[changed]
        self.changed_at_s[changed] = t
        self.model_low[changed] = modelled[changed]
        self.model_high[changed] = modelled[changed]
        held = use & ~changed
        self.model_low[held] = np.fmin(self.model_low[held], modelled[held])
        self.model_high[held] = np.fmax(self.model_high[held], modelled[held])

    def _track(self, t: float, snapshot: Snapshot, measured: np.ndarray, use: np.ndarray) -> None:
        cdu, rack = self.cdu_points, self.rack_points
        flow = _take(measured, use, cdu["flow_lpm"])
        dp = _take(measured, use, cdu["dp_kpa"])
        speed = _take(measured, use, cdu["pump_speed_pct"]) / 100.0
        supply = _take(measured, use, cdu["supply_temp_c"])
        ret = _take(measured, use, cdu["return_temp_c"])
        valve = _take(measured, use, cdu["valve_pct"]) / 100.0
        fws = measured[self.fws_point] if self.fws_point >= 0 and use[self.fws_point] else math.nan
        rack_supply = _take(measured, use, rack["supply_temp_c"])
        rack_flow = _take(measured, use, rack["flow_lpm"])
        rack_dp = _take(measured, use, rack["dp_kpa"])
        running = snapshot.cdus.pumps_running
        hot = self._rate_w_per_k(flow, ret) / 1e3
        m = len(self.cdu_names)
        heat_kw = (
            np.bincount(self.rack_cdu, weights=snapshot.racks.liquid_heat_kw, minlength=m)
            + snapshot.cdus.pump_power_kw
        )
        # a sample is used only where the redundant sensors agree: a sensor fault must
        # not pass for a drift of the process
        with np.errstate(invalid="ignore", divide="ignore"):
            balance = np.abs(hot * (ret - supply) - heat_kw) / np.maximum(heat_kw, 1e-9)
        heat_agrees = ~(balance > BALANCE_TOLERANCE)  # NaN (not measured): no objection
        for k, trackers in enumerate(self.trackers):
            racks = self.cdu_racks[k]
            inlet = rack_supply[racks]
            supply_agrees = not (
                np.isfinite(inlet).any()
                and abs(supply[k] - np.nanmean(inlet)) > SUPPLY_OFFSET_LIMIT_K
            )
            flows = rack_flow[racks]
            flow_agrees = not (
                np.isfinite(flows).all()
                and abs(flow[k] - flows.sum()) > self.trackers_limit(k, "flow_offset")
            )
            dps = rack_dp[racks]
            dp_agrees = not (np.isfinite(dps).any() and abs(dp[k] - np.nanmean(dps)) > DP_AGREE_KPA)
            tracker = trackers.get("series_resistance")
            if (
                tracker is not None
                and np.isfinite(flow[k] + dp[k] + speed[k])
                and flow_agrees
                and dp_agrees
            ):
                sample = series_resistance_sample(
                    self.curves[k], float(flow[k]), float(speed[k]), int(running[k]), float(dp[k])
                )
                tracker.update(t, *sample)
            exchanger_ok = (
                np.isfinite(supply[k] + ret[k] + valve[k] + fws)
                and supply_agrees
                and flow_agrees
                and heat_agrees[k]
            )
            fraction = float(valve[k])  # a linear valve's
            characteristic = trackers.get("valve_characteristic")
            if isinstance(characteristic, ValveCharacteristicTracker):
                if exchanger_ok:
                    characteristic.observe(
                        t,
                        float(valve[k]),
                        float(ret[k]),
                        float(supply[k]),
                        float(hot[k]),
                        float(fws),
                        float(self.cold_rate_full_kw_per_k[k]),
                    )
                e = characteristic.history[-1] if characteristic.history else None
                trusted = (
                    e is not None
                    and 2.0 * e.std <= VALVE_TRUSTED_BAND
                    and characteristic.span_s >= VALVE_TRUSTED_SPAN_S
                    and abs(e.value - characteristic.design) > 2.0 * e.std
                )
                fraction = characteristic.flow_fraction(
                    float(valve[k]), e.value if trusted and e is not None else None
                )
            tracker = trackers.get("exchanger_ua")
            if tracker is not None and exchanger_ok:
                sample = exchanger_ua_sample(
                    float(ret[k]),
                    float(supply[k]),
                    float(hot[k]),
                    float(fws),
                    fraction * float(self.cold_rate_full_kw_per_k[k]),
                )
                tracker.update(t, *sample)
            tracker = trackers.get("supply_offset")
            if tracker is not None and np.isfinite(supply[k]) and np.isfinite(inlet).any():
                tracker.update(t, 1.0, float(supply[k] - np.nanmean(inlet)))
            tracker = trackers.get("flow_offset")
            if tracker is not None and np.isfinite(flow[k]) and np.isfinite(rack_flow[racks]).all():
                tracker.update(t, 1.0, float(flow[k] - rack_flow[racks].sum()))

    def trackers_limit(self, cdu: int, quantity: str) -> float:
        tracker = self.trackers[cdu].get(quantity)
        return math.inf if tracker is None else tracker.design

    # ------------------------------------------------------------------ reading

    def values(self) -> list[TrackedValue]:
        """Every tracked quantity with its band, CDU by CDU."""
        out = []
        for k, trackers in enumerate(self.trackers):
            for quantity, tracker in trackers.items():
                if not tracker.history:
                    continue
                e = tracker.history[-1]
                out.append(
                    TrackedValue(
                        self.cdu_names[k],
                        quantity,
                        tracker.unit,
                        e.value,
                        e.value - 2 * e.std,
                        e.value + 2 * e.std,
                        tracker.design,
                        e.ratio,
                        tracker.alarm,
                    )
                )
        return out

    @staticmethod
    def _drift_share(quantity: str, ratio: float) -> float:
        """How far a tracked value went towards its alarm limit (1: at the limit)."""
        if quantity == "series_resistance":
            return (ratio - 1.0) / (RESISTANCE_HIGH_RATIO - 1.0)
        if quantity == "exchanger_ua":
            return (1.0 - ratio) / (1.0 - UA_LOW_RATIO)
        return abs(ratio)  # offsets and the valve: the ratio is already over the limit

    @staticmethod
    def _short(v: TrackedValue) -> str:
        half = (v.band_high - v.band_low) / 2
        if v.quantity.endswith("offset"):
            return f"{SHORT_NAMES[v.quantity]} {v.value:+.2f} ± {half:.2f} {v.unit}"
        if v.quantity == "valve_characteristic":
            return f"{SHORT_NAMES[v.quantity]} {v.value:.2f} ± {half:.2f}"
        return f"{SHORT_NAMES[v.quantity]} {v.ratio:.2f} ± {half / v.design:.2f}"

    def summary(self) -> str:
        """The tracked quantities of the CDUs that drifted most, one printable line."""
        values = self.values()
        if not values:
            return "drift estimates: none yet"
        by_cdu: dict[str, list[TrackedValue]] = {}
        for v in values:
            by_cdu.setdefault(v.component, []).append(v)
        drift = {
            c: max(self._drift_share(v.quantity, v.ratio) for v in vs) for c, vs in by_cdu.items()
        }
        shown = sorted(by_cdu, key=lambda c: -drift[c])[:PRINTED_CDUS]
        parts = [f"{c} " + ", ".join(self._short(v) for v in by_cdu[c]) for c in shown]
        rest = len(by_cdu) - len(shown)
        more = ""
        if rest:
            most = max(drift[c] for c in by_cdu if c not in shown)
            more = f"; {rest} more CDUs, none more than {100 * most:.0f} % of the way to a limit"
        return (
            f"drift estimates (resistance and UA over design, ± their band): "
            f"{'; '.join(parts)}{more}"
        )

    def drift_alarm(self, quantity: str) -> np.ndarray:
        """1 per CDU whose ``quantity`` tracker is in alarm (the alarm engine reads it)."""
        return np.array(
            [
                1.0 if (t := trackers.get(quantity)) is not None and t.alarm else 0.0
                for trackers in self.trackers
            ]
        )

    def alarms_raised(self) -> int:
        """Drift alarms raised so far (cleared ones included)."""
        return sum(
            1
            for trackers in self.trackers
            for tracker in trackers.values()
            for _, text in tracker.alarms
            if not text.endswith("(cleared)")
        )

    def alarm_text(self, tag: str, cdu: int) -> str:
        for quantity, (drift_tag, description) in DRIFT_TAGS.items():
            if drift_tag == tag:
                tracker = self.trackers[cdu].get(quantity)
                if tracker is not None and tracker.alarm:
                    return tracker.alarm
                return f"{description}: {self.cdu_names[cdu]}"
        raise KeyError(tag)

    def alarm_points(self, current: Callable[[], ShadowEstimation]) -> list[AlarmPoint]:
        points = []
        for quantity, (tag, description) in DRIFT_TAGS.items():
            if not any(quantity in t for t in self.trackers):
                continue
            points.append(
                AlarmPoint(
                    tag,
                    description,
                    "",
                    tuple(self.cdu_names),
                    _drift_reader(current, quantity),
                    (Limit(Condition.ON, 1.0, Priority.MEDIUM),),
                    source_kind="cdu",
                    source_index=np.arange(len(self.cdu_names)),
                )
            )
        return points

    # ------------------------------------------------------------------ cause

    def cause(self, point: int, mean_residual: float, t: float) -> str:
        """A divergence's likely cause on ``point``: a sensor fault or a process fault,
        with the evidence in words."""
        shadow = self.shadow
        p = shadow.points[point]
        unit = {"C": "K"}.get(p.eng_unit, p.eng_unit)
        modelled = float(self.modelled[point])
        floor = max(
            float(shadow.floor_abs[point]),
            float(shadow.floor_rel[point]) * abs(modelled) if math.isfinite(modelled) else 0.0,
        )
        sigma = float(np.fmax(shadow.sigma[point], floor))
        held_s = t - self.changed_at_s[point]
        moved = self.model_high[point] - self.model_low[point]
        if held_s >= STUCK_MIN_S and moved >= STUCK_MODEL_MOVE * sigma:
            return (
                f"likely sensor fault (stuck): {self.last_value[point]:.4g} "
                f"{p.eng_unit} unchanged for {held_s / 60:.0f} min while the model "
                f"moved {moved:.1f} {unit}"
            )
        partner = self.partner_residual[point]
        drifting = self._drifting(point)
        common = self._common(point, mean_residual)
        if common:
            return f"likely a process or model difference common to {common}" + (
                f"; {drifting}" if drifting else ""
            )
        if math.isfinite(partner):
            name = self.partner_name[point]
            if abs(partner) <= max(2.0 * sigma, AGREE_SHARE * abs(mean_residual)):
                spread = math.sqrt(self.recent_var[point])
                if spread > NOISE_RATIO * sigma and abs(self.recent_mean[point]) < spread:
                    return (
                        f"likely sensor fault (noise): spread ±{spread:.2g} {unit} "
                        f"against a band of {sigma:.2g}, while {name} agrees with the "
                        f"model ({partner:+.1f} {unit})"
                    )
                return (
                    f"likely sensor fault (offset {mean_residual:+.1f} {unit}): {name} "
                    f"agrees with the model ({partner:+.1f} {unit})"
                )
            return f"likely process fault: {name} shows it too ({partner:+.1f} {unit})" + (
                f"; {drifting}" if drifting else ""
            )
        if drifting:
            return f"likely process fault: {drifting}"
        return "sensor or process not told: no redundant measurement of this point"

    def _common(self, point: int, mean_residual: float) -> str:
        """'n of m peers' when at least ``COMMON_SHARE`` of the point's peers (its quantity
        on other components) show a recent residual beyond their band the same way."""
        shadow = self.shadow
        quantity = shadow.points[point].quantity
        peers = np.array(
            [i for i, p in enumerate(shadow.points) if p.quantity == quantity and i != point],
            dtype=np.int64,
        )
        if peers.size < 2:
            return ""
        modelled = np.abs(self.modelled[peers])
        band = np.fmax(
            shadow.sigma[peers],
            np.fmax(shadow.floor_abs[peers], shadow.floor_rel[peers] * np.nan_to_num(modelled)),
        )
        same = np.sign(self.recent_mean[peers]) == np.sign(mean_residual)
        count = int(np.count_nonzero(same & (np.abs(self.recent_mean[peers]) > band)))
        if count < COMMON_SHARE * peers.size:
            return ""
        p = shadow.points[point]
        return f"{count} of {peers.size} other {p.point_type} points, which show it too"

    def _drifting(self, point: int) -> str:
        """The drift of the point's CDU furthest towards its limit, in words ('' if none
        is past ``DRIFT_NAMED`` of the way with design outside its band)."""
        shadow = self.shadow
        kind = shadow.kind_of[point]
        component = int(shadow.component_index[point])
        if kind == "rack":
            component = int(self.rack_cdu[component])
        elif kind != "cdu" or component < 0:
            return ""
        best, words = DRIFT_NAMED, ""
        for quantity, tracker in self.trackers[component].items():
            if quantity.endswith("offset") or not tracker.history:
                continue
            e = tracker.history[-1]
            share = self._drift_share(quantity, e.ratio)
            if share >= best and abs(e.value - tracker.design) > 2 * e.std:
                best = share
                if quantity == "valve_characteristic":
                    words = (
                        f"{tracker.name} {e.value:.2f} {tracker.unit} against "
                        f"{tracker.design:.2f}: {tracker.meaning_high}"
                    )
                elif quantity == "exchanger_ua":
                    words = (
                        f"{tracker.name} {100 * (1 - e.ratio):.0f} % below design: "
                        f"{tracker.meaning_low}"
                    )
                else:
                    words = f"{tracker.name} {e.ratio:.2f} x design: {tracker.meaning_high}"
        return words

    # ------------------------------------------------------------------ recording

    def record(self, path: Path) -> None:
        """Write the tracked values to ``path`` (CSV, a row per quantity every
        ``RECORD_EVERY_S`` of plant time; flushed as written)."""
        self._record_file = path.open("x", newline="", encoding="utf-8")
        csv.writer(self._record_file, lineterminator="\n").writerow(RECORD_COLUMNS)
        self._record_file.flush()

    def _write_record(self, record_file: TextIO, t: float) -> None:
        writer = csv.writer(record_file, lineterminator="\n")
        for v in self.values():
            writer.writerow(
                [
                    f"{t:g}",
                    v.component,
                    v.quantity,
                    v.unit,
                    f"{v.value:.6g}",
                    f"{v.band_low:.6g}",
                    f"{v.band_high:.6g}",
                    f"{v.design:.6g}",
                    f"{v.ratio:.6g}",
                    v.alarm or "",
                ]
            )
        record_file.flush()

    def close(self) -> None:
        if self._record_file is not None:
            self._record_file.close()
            self._record_file = None


def _drift_reader(
    current: Callable[[], ShadowEstimation], quantity: str
) -> Callable[[Snapshot], np.ndarray]:
    """The alarm engine's reader of ``quantity``'s drift alarms in the estimation in force."""
    return lambda _snapshot: current().drift_alarm(quantity)
