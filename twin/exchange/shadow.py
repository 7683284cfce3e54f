"""``twin shadow``: the model beside a plant, fed by the plant's BMS messages.

The shadow subscribes to ``BMS/v1/PUB/#`` and places each point from its metadata (by
tagPath in the point list, else by identity: rack location / object id, pointType,
processArea, isSetpoint); values before their metadata, points it cannot place and
malformed messages are counted by reason and never reach the model.

Time: the plant's clock, from its first value's timestamp. Values wait in a time-ordered
queue until the model reaches their timestamp; the model steps until it is ``HOLD_S``
behind the newest one, so it follows a plant published faster than real time or replayed
(each value acts at its own time); a value older than the point's last one is out of order
and dropped. When the bus has gone quiet (``caught_up``: nothing has come for ``QUIET_S``
and everything received is ingested, the end of a publishing burst), the newest instant is
complete as far as can be known and the model steps up to it rather than ``HOLD_S`` behind:
a value is in the model about a burst's length after it was published, not a publishing
period later. A value that arrives after the model passed its timestamp still counts, from
the next step. Boundary conditions drive the model:
measured rack power (turned into the workload that draws it), outdoor air temperature,
the CDU supply setpoints in force and the racks' liquid and electrical isolation status.

Comparison every ``EVALUATE_EVERY_S``: residual = measured - modelled for every measured
point with a fresh, good value. After ``WARMUP_S`` the shadow learns each residual's mean
and spread for ``LEARN_S`` (a band no narrower than the instrument's floor, see
``SIGMA_FLOOR``), then runs a two-sided CUSUM on the standardized residual
(Page 1954; k = 1, h = 8 standard deviations, each residual clipped to 3, engineering
choices for autocorrelated residuals and a model that follows its boundary a sample late).
A CUSUM past h raises "model-plant divergence" on the point's object through
the alarm engine. Stale points (no value within two republish periods, 200 s) and points of
bad quality are alarmed too. These statistics assume the learning window saw the plant
healthy; a fault already present then is learned as normal.

Live state estimation (``twin.exchange.estimation``, ``Shadow.estimation``) tracks drifting
quantities per CDU at each evaluation, alarms their drifts (``shadow.drift_*``) and gives
each divergence its likely cause, sensor or process. The model follows the tracked process
drift (exchanger UA, series resistance) once trusted (``twin.exchange.feedback``,
``Shadow.feedback``); sensor offsets are not applied to it.
"""

from __future__ import annotations

import heapq
import math
import sys
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import TextIO

import numpy as np

from twin.alarms import AlarmEngine, AlarmPoint, Condition, Limit, Priority
from twin.exchange import contract
from twin.exchange.estimation import DRIFT_TAGS, ShadowEstimation
from twin.exchange.feedback import ModelFeedback
from twin.exchange.points import (
    BY_KEY,
    MEASURED,
    SETPOINT,
    Point,
    PointTable,
    components_of,
    identity,
)
from twin.exchange.record import BAD_QUALITY, MISSING, STALE, USED
from twin.sim.snapshot import Snapshot

HOLD_S = 2.0  # the plant's publishing period: values of an instant have arrived by then
QUIET_S = 0.2  # the bus silent this long after a burst: the burst is over
EVALUATE_EVERY_S = 10.0
WARMUP_S = 300.0  # the model's thermal start-up transient (loop volumes, minutes)
LEARN_S = 600.0
CUSUM_K = 1.0  # tuned to a shift of two standard deviations (k = shift / 2)
CUSUM_H = 8.0
# A standardized residual counts at most this much: the model follows the measured boundary
# a sample late, so a fast load step (a checkpoint) leaves one large residual that must not
# alarm alone, while a lasting divergence still adds Z_CLIP - k per evaluation.
Z_CLIP = 3.0
CLEAR_FRACTION = 0.5  # a divergence alarm clears below half its limit
STALE_S = 2 * contract.REPUBLISH_S
MAX_STEPS_PER_CALL = 600  # the model catches up in slices, so ingest keeps going
MAX_PENDING = 2_000_000  # values waiting for the model to reach their time (~100 MB)
# The narrowest noise band: instrument accuracy (see twin.exchange.plant) plus what the
# plant's deadband hides; relative floors of the modelled value for flow and power.
SIGMA_FLOOR = {"C": 0.2, "kPa": 1.0, "%": 1.0, "LPM": 2.0, "kW": 1.0}
SIGMA_FLOOR_RELATIVE = {"LPM": 0.01, "kW": 0.01}
KINDS = ("rack", "cdu", "hall", "site", "plant")
ISOLATION_STATUS = {
    "rack.liquid_isolation_status": "liquid",
    "rack.electrical_isolation_status": "electrical",
}
DRIFT_TAG_SET = frozenset(tag for tag, _ in DRIFT_TAGS.values())


class MeasuredWorkload:
    """The workload that draws the measured rack power: its utilization, found on each
    rack's own power curve (idle to full, through the PSU; caps and smoothing are left out,
    a simplification), stands in for the scenario's workloads."""

    split = False

    def __init__(self, sim, initial: np.ndarray) -> None:
        n = sim.topology.rack_count
        self.levels = np.linspace(0.0, 1.0, 21)
        curve = []
        for u in self.levels:
            dc_w = (
                sim.rack_idle_w
                + u * sim.rack_dynamic_w
                + sim.racks.other_idle_w
                + u * sim.rack_other_dynamic_w
            )
            curve.append(sim.power_chain.rack_input_w(dc_w) / 1e3)
        self.curve_kw = np.array(curve).T  # (racks, levels), rising
        self.level = np.asarray(initial, dtype=float).copy()
        self.high, self.low = self.level.copy(), self.level.copy()
        self.high_share = np.zeros(n)
        self.surge = np.zeros(n)

    def set_power(self, racks: np.ndarray, power_kw: np.ndarray) -> None:
        curve = self.curve_kw[racks]
        below = (curve < power_kw[:, None]).sum(axis=1).clip(1, self.levels.size - 1)
        p0 = curve[np.arange(racks.size), below - 1]
        p1 = curve[np.arange(racks.size), below]
        share = np.clip((power_kw - p0) / np.maximum(p1 - p0, 1e-9), 0.0, 1.0)
        self.level[racks] = self.levels[below - 1] + share * (self.levels[1] - self.levels[0])

    def utilization(self, t0: float, dt: float, out: np.ndarray) -> np.ndarray:
        np.copyto(out, self.level)
        np.copyto(self.high, out)
        np.copyto(self.low, out)
        return out

    def level_changes(self, t0: float, t1: float) -> list[float]:
        """None inside a step: the measured power is one level until the next message."""
        return []


class MeasuredWeather:
    """The scenario's weather with the measured dry-bulb in place of its own (the model's
    wet-bulb depression kept)."""

    def __init__(self, weather) -> None:
        self._weather = weather
        self.dry_bulb_c: float | None = None

    def at(self, time_s: float) -> tuple[float, float]:
        dry, wet = self._weather.at(time_s)
        if self.dry_bulb_c is None:
            return dry, wet
        return self.dry_bulb_c, self.dry_bulb_c - (dry - wet)

    def local_hour(self, time_s: float) -> int:
        return self._weather.local_hour(time_s)


@dataclass
class ShadowStatus:
    messages: int = 0
    values: int = 0
    metadata: int = 0
    dropped: Counter = field(default_factory=Counter)  # reason -> count
    steps: int = 0
    evaluations: int = 0

    def text(self) -> str:
        dropped = ", ".join(f"{n} {reason}" for reason, n in self.dropped.most_common())
        return (
            f"{self.messages} messages ({self.metadata} metadata, {self.values} values "
            f"used); dropped: {dropped or 'none'}"
        )


@dataclass
class Divergence:
    """A divergence alarm's words: which point, by how much, since when."""

    component: str
    point: Point
    mean_residual: float
    since_s: float
    time_s: float
    cause: str = ""  # sensor or process fault, from redundant measurements

    def text(self) -> str:
        area = "/".join(self.point.process_area)
        unit = {"C": "K"}.get(self.point.eng_unit, self.point.eng_unit)
        minutes = (self.time_s - self.since_s) / 60.0
        return (
            f"model-plant divergence: {self.component} {self.point.point_type}"
            f"{' ' + area if area else ''} {self.mean_residual:+.1f} {unit} for "
            f"{minutes:.0f} min" + (f"; {self.cause}" if self.cause else "")
        )


@dataclass(frozen=True, slots=True)
class Comparison:
    """Measured and modelled values of every point at one evaluation, with each point's
    coverage code (``twin.exchange.record``: used, missing, bad quality, stale)."""

    time_s: float
    measured: np.ndarray
    modelled: np.ndarray
    coverage: np.ndarray


class Shadow:
    """A model kept beside a plant from its messages (see the module docstring)."""

    def __init__(
        self,
        sim,
        points: list[Point],
        *,
        journal=None,
        alarms: AlarmEngine | None = None,
        log: TextIO | None = None,
        recorder: Callable[[float, np.ndarray, np.ndarray, np.ndarray, np.ndarray], None]
        | None = None,
        follow_drift: bool = True,
    ) -> None:
        self.sim = sim
        self.points = points
        self.log = log or sys.stderr
        self.recorder = recorder
        topo = sim.topology
        self.table = PointTable(points, topo)
        n = len(points)
        self.by_tag = {(p.object_type, p.point_type, p.tag_path): i for i, p in enumerate(points)}
        self.by_identity = {identity(p.metadata()): i for i, p in enumerate(points)}
        self.placed: dict[tuple[str, str, str], int] = {}  # topic key -> point, -1: unplaced
        roles = [BY_KEY[p.quantity].role for p in points]
        self.compared = np.array([r == MEASURED for r in roles]) & self._readable()
        self.measured = np.full(n, np.nan)
        self.measured_ms = np.full(n, -1, dtype=np.int64)
        self.received_ms = np.full(n, -1, dtype=np.int64)
        # values waiting for the model to reach their time, by timestamp (ms); of one
        # point at one timestamp the last to arrive counts
        self._pending: dict[int, dict[int, tuple[float, int]]] = {}
        self._pending_stamps: list[int] = []  # a heap of the timestamps in _pending
        self.pending_values = 0
        self._newest_ms = -1
        self.caught_up = False  # set by the loop feeding ingest when the bus went quiet
        self.quality = np.full(n, contract.QUALITY_BAD, dtype=np.int64)
        self.seen = np.zeros(n, dtype=bool)
        self.modelled = np.full(n, np.nan)
        self.residual = np.full(n, np.nan)
        self.status = ShadowStatus()
        self.origin_ms: int | None = None
        self.plant_s = 0.0
        # learning and CUSUM
        self.learn_n = np.zeros(n)
        self.learn_sum = np.zeros(n)
        self.learn_sq = np.zeros(n)
        self.mean = np.zeros(n)
        self.sigma = np.full(n, np.nan)
        self.cusum_up = np.zeros(n)
        self.cusum_down = np.zeros(n)
        self.run_since = np.full(n, np.nan)
        self.run_sum = np.zeros(n)
        self.run_count = np.zeros(n)
        self.floor_abs = np.array([SIGMA_FLOOR.get(p.eng_unit, 1.0) for p in points])
        self.floor_rel = np.array([SIGMA_FLOOR_RELATIVE.get(p.eng_unit, 0.0) for p in points])
        self._next_eval_s = EVALUATE_EVERY_S
        # boundaries
        self.workload = MeasuredWorkload(
            sim, sim.workload.utilization(0.0, sim.dt_s, np.zeros(topo.rack_count))
        )
        sim.workload = self.workload
        self.weather = MeasuredWeather(sim.weather)
        sim.weather = self.weather
        self.kind_of = [BY_KEY[p.quantity].kind for p in points]
        self.component_index = np.zeros(n, dtype=np.int64)
        for kind in (*KINDS, "system"):
            names = {c: i for i, c in enumerate(components_of(kind, topo))}
            for i, p in enumerate(points):
                if self.kind_of[i] == kind:
                    self.component_index[i] = names.get(p.component, -1)
        self.power_points = np.array(
            [i for i, p in enumerate(points) if p.quantity == "rack.power_kw"], dtype=np.int64
        )
        self.ambient_points = [i for i, p in enumerate(points) if p.quantity == "site.ambient_c"]
        self.setpoint_points = [
            i for i, p in enumerate(points) if BY_KEY[p.quantity].role == SETPOINT
        ]
        self.applied_setpoint = np.full(n, np.nan)
        # the plant's rack isolations, applied to the model as equipment status
        self.isolation_points = [
            (i, ISOLATION_STATUS[p.quantity])
            for i, p in enumerate(points)
            if p.quantity in ISOLATION_STATUS
        ]
        self.object_statistic = {kind: np.zeros(len(components_of(kind, topo))) for kind in KINDS}
        self.stale = np.zeros(n, dtype=bool)
        self.connected = True
        self.divergences: list[Divergence] = []
        self.comparison: Comparison | None = None  # the latest evaluation's
        self.compared_points: dict[tuple[str, str], list[int]] = {}  # (kind, component)
        for k in np.flatnonzero(self.compared):
            key = (self.kind_of[k], points[k].component)
            self.compared_points.setdefault(key, []).append(int(k))
        self.estimation = ShadowEstimation(self, WARMUP_S, EVALUATE_EVERY_S)
        # the model takes the tracked process drift (False: it keeps the scenario's values)
        self.feedback = ModelFeedback(sim, self.estimation, self.log) if follow_drift else None
        # an engine given (the window's) already holds ``alarm_points`` reading this shadow
        self.alarms = alarms or AlarmEngine(self.alarm_points(lambda: self), journal=journal)
        self._raised: set[tuple[str, int]] = set()
        self._last_snapshot: Snapshot | None = None
        self._topic_index: dict[str, int] = {}  # value topics of placed points

    def _readable(self) -> np.ndarray:
        mask = np.zeros(len(self.points), dtype=bool)
        for idx in self.table.groups.values():
            mask[idx] = True
        return mask

    # ------------------------------------------------------------------ alarms

    def alarm_points(self, current: Callable[[], Shadow]) -> list[AlarmPoint]:
        """The shadow's alarm points; their values are read from ``current()``, the shadow
        in force when the engine scans (a window's shadow is replaced on a reset, its
        alarm engine is not). Every shadow of the same point list has the same points."""
        topo = self.sim.topology
        points = []
        for kind in KINDS:
            if not any(
                self.compared[i] and self.kind_of[i] == kind for i in range(len(self.points))
            ):
                continue
            components = components_of(kind, topo)
            points.append(
                AlarmPoint(
                    f"shadow.{kind}_divergence",
                    "model-plant divergence",
                    "of limit",
                    components,
                    _divergence_reader(current, kind),
                    (Limit(Condition.HIGH, 1.0, Priority.MEDIUM),),
                    deadband=CLEAR_FRACTION,
                    source_kind={"rack": "rack", "cdu": "cdu", "hall": "hall"}.get(kind),
                    source_index=(
                        np.arange(len(components)) if kind in ("rack", "cdu", "hall") else None
                    ),
                )
            )
        points.append(
            AlarmPoint(
                "shadow.stale_points",
                "plant points without a value for 200 s",
                "points",
                ("plant data",),
                lambda s: np.array([float(np.count_nonzero(current().stale))]),
                (Limit(Condition.HIGH, 1.0, Priority.LOW),),
                deadband=0.5,
            )
        )
        points.append(
            AlarmPoint(
                "shadow.bad_quality",
                "plant points of bad quality",
                "points",
                ("plant data",),
                lambda s: np.array(
                    [
                        float(
                            np.count_nonzero(
                                current().seen & (current().quality != contract.QUALITY_GOOD)
                            )
                        )
                    ]
                ),
                (Limit(Condition.HIGH, 1.0, Priority.LOW),),
                deadband=0.5,
            )
        )
        points.append(
            AlarmPoint(
                "shadow.disconnected",
                "no connection to the plant's broker",
                "",
                ("broker",),
                lambda s: np.array([0.0 if current().connected else 1.0]),
                (Limit(Condition.ON, 1.0, Priority.HIGH),),
            )
        )
        points.extend(self.estimation.alarm_points(lambda: current().estimation))
        return points

    # ------------------------------------------------------------------ ingest

    def _drop(self, reason: str) -> None:
        self.status.dropped[reason] += 1

    def ingest(self, topic: str, payload: bytes) -> None:
        """One message from the bus; a bad one is counted, never raised."""
        self.status.messages += 1
        self.caught_up = False
        index = self._topic_index.get(topic)
        if index is not None:  # a placed point's value: the topic was checked before
            try:
                value, stamp, quality = contract.value_fields(payload)
            except contract.MessageError as exc:
                self._drop(exc.reason)
                return
            self._accept(index, value, stamp, quality)
            return
        try:
            parsed = contract.parse_topic(topic)
        except contract.MessageError as exc:
            self._drop(exc.reason)
            return
        if parsed.publisher != contract.BMS_PUBLISHER:
            self._drop("integration value (not the plant's)")
            return
        key = (parsed.object_type, parsed.point_type, parsed.tag_path)
        try:
            if parsed.kind == contract.METADATA:
                self._place(key, contract.decode_metadata(payload, parsed))
            else:
                self._value(key, contract.decode_value(payload))
        except contract.MessageError as exc:
            self._drop(exc.reason)

    def _place(self, key: tuple[str, str, str], meta: dict) -> None:
        self.status.metadata += 1
        self._topic_index.pop(contract.value_topic(*key), None)
        index = self.by_tag.get(key)
        if index is None:
            index = self.by_identity.get(identity(meta), -1)
        if index >= 0 and meta.get("engUnit", "") != self.points[index].eng_unit:
            self._drop("unit differs from the point list")
            index = -1
        if index < 0 and self.placed.get(key) is None:
            self._drop("point the model cannot place")
        self.placed[key] = index

    def _value(self, key: tuple[str, str, str], reading: contract.Reading) -> None:
        index = self.placed.get(key)
        if index is None:
            self._drop("value before its metadata")
            return
        if index < 0:
            self._drop("value of an unplaced point")
            return
        self._topic_index[contract.value_topic(*key)] = index
        self._accept(index, reading.value, reading.timestamp_ms, reading.quality)

    def _accept(self, index: int, value: float | None, stamp: int, quality: int) -> None:
        if stamp < self.received_ms[index]:
            self._drop("out of order")
            return
        if self.pending_values >= MAX_PENDING:
            self._drop("model too far behind")
            return
        if self.origin_ms is None:
            self.origin_ms = stamp
        self.status.values += 1
        self.received_ms[index] = stamp
        batch = self._pending.get(stamp)
        if batch is None:
            batch = self._pending[stamp] = {}
            heapq.heappush(self._pending_stamps, stamp)
        held = len(batch)
        batch[index] = (math.nan if value is None else value, quality)
        self.pending_values += len(batch) - held
        if stamp > self._newest_ms:
            self._newest_ms = stamp
            self.plant_s = max(self.plant_s, (stamp - self.origin_ms) / 1000.0)

    def _take_values_until(self, time_s: float) -> None:
        """Values whose timestamp the model has reached become the measurements."""
        limit_ms = (self.origin_ms or 0) + round(time_s * 1000.0)
        stamps = self._pending_stamps
        while stamps and stamps[0] <= limit_ms:
            stamp = heapq.heappop(stamps)
            batch = self._pending.pop(stamp)
            self.pending_values -= len(batch)
            index = np.fromiter(batch, dtype=np.int64, count=len(batch))
            values, quality = zip(*batch.values(), strict=True)
            self.measured[index] = values
            self.measured_ms[index] = stamp
            self.quality[index] = quality
            self.seen[index] = True

    # ------------------------------------------------------------------ model

    def advance(self) -> int:
        """Step the model towards the plant's clock; returns the steps taken."""
        steps = 0
        while steps < MAX_STEPS_PER_CALL and self.step_once():
            steps += 1
        return steps

    def can_step(self) -> bool:
        hold_s = 0.0 if self.caught_up else HOLD_S
        return self.sim.time_s + self.sim.dt_s <= self.plant_s - hold_s + 1e-9

    def step_once(self) -> bool:
        """One model step, if the plant's clock allows it."""
        if not self.can_step():
            return False
        sim = self.sim
        self._take_values_until(sim.time_s)
        self._apply_boundaries()
        sim.step()
        self._take_values_until(sim.time_s)
        self.status.steps += 1
        if sim.time_s >= self._next_eval_s - 1e-9:
            self._next_eval_s = sim.time_s + EVALUATE_EVERY_S
            self.evaluate(sim.snapshot(robots=False))
        return True

    def _good(self) -> np.ndarray:
        return self.seen & (self.quality == contract.QUALITY_GOOD) & np.isfinite(self.measured)

    def _apply_boundaries(self) -> None:
        if self.feedback is not None:
            self.feedback.apply()
        good = self._good()
        if self.power_points.size:
            use = self.power_points[good[self.power_points]]
            if use.size:
                self.workload.set_power(self.component_index[use], self.measured[use])
        for i in self.ambient_points:
            if good[i]:
                self.weather.dry_bulb_c = float(self.measured[i])
        for i in self.setpoint_points:
            value = self.measured[i]
            if good[i] and value != self.applied_setpoint[i]:
                try:
                    self.sim.set_cdu_supply_setpoint(int(self.component_index[i]), float(value))
                except ValueError:
                    self._drop("setpoint outside the model's range")
                self.applied_setpoint[i] = value
        for i, kind in self.isolation_points:
            value = self.measured[i]
            if good[i] and value != self.applied_setpoint[i] and value in (0.0, 1.0):
                self.sim.set_rack_isolation(int(self.component_index[i]), **{kind: value == 1.0})
                self.applied_setpoint[i] = value

    def evaluate(self, snapshot: Snapshot) -> None:
        """Residuals, noise bands, CUSUMs and alarms at the model's present time."""
        t = snapshot.time_s
        self.status.evaluations += 1
        modelled = self.table.read(snapshot, self.modelled)
        origin = self.origin_ms or 0
        age_s = t - (self.measured_ms - origin) / 1000.0
        self.stale = self.seen & (age_s > STALE_S) | ~self.seen & (t > STALE_S) & self.compared
        use = self.compared & self._good() & ~self.stale
        residual = np.where(use, self.measured - modelled, np.nan)
        self.residual = residual
        # why a point's value was not compared: none (or null), bad quality, stale
        coverage = np.where(
            ~self.seen | ~np.isfinite(self.measured),
            MISSING,
            np.where(
                self.quality != contract.QUALITY_GOOD,
                BAD_QUALITY,
                np.where(self.stale, STALE, USED),
            ),
        )
        # copies, replaced whole: the window reads them on its own thread
        self.comparison = Comparison(t, self.measured.copy(), modelled.copy(), coverage)
        self.estimation.update(t, snapshot, modelled, use)
        if self.feedback is not None:
            self.feedback.update(t)
        if self.recorder is not None:
            self.recorder(t, self.measured, modelled, self.quality, coverage)
        if WARMUP_S <= t < WARMUP_S + LEARN_S:
            self.learn_n += use
            r = np.where(use, residual, 0.0)
            self.learn_sum += r
            self.learn_sq += r * r
        elif t >= WARMUP_S + LEARN_S:
            if np.isnan(self.sigma).all():
                self._finish_learning()
            self._cusum(use, residual, modelled, t)
        self._last_snapshot = snapshot
        self.alarms.update(snapshot)
        self._report_raised(t)

    def _finish_learning(self) -> None:
        n = np.maximum(self.learn_n, 1)
        self.mean = np.where(self.learn_n > 1, self.learn_sum / n, 0.0)
        var = np.maximum(self.learn_sq / n - self.mean**2, 0.0)
        self.sigma = np.sqrt(var)

    def _cusum(self, use: np.ndarray, residual: np.ndarray, modelled: np.ndarray, t: float) -> None:
        floor = np.maximum(self.floor_abs, self.floor_rel * np.abs(modelled))
        sigma = np.fmax(self.sigma, floor)
        z = np.clip(np.where(use, (residual - self.mean) / sigma, 0.0), -Z_CLIP, Z_CLIP)
        self.cusum_up = np.where(use, np.maximum(0.0, self.cusum_up + z - CUSUM_K), self.cusum_up)
        self.cusum_down = np.where(
            use, np.maximum(0.0, self.cusum_down - z - CUSUM_K), self.cusum_down
        )
        running = (self.cusum_up > 0) | (self.cusum_down > 0)
        starting = running & np.isnan(self.run_since)
        self.run_since[starting] = t
        self.run_sum[starting] = 0.0
        self.run_count[starting] = 0
        self.run_since[~running] = np.nan
        self.run_sum += np.where(use & running, residual - self.mean, 0.0)
        self.run_count += use & running
        statistic = np.maximum(self.cusum_up, self.cusum_down) / CUSUM_H
        for kind, per_object in self.object_statistic.items():
            per_object.fill(0.0)
            mask = np.array([k == kind for k in self.kind_of]) & self.compared
            idx = np.flatnonzero(mask)
            if idx.size:
                np.maximum.at(per_object, self.component_index[idx], statistic[idx])

    def _report_raised(self, t: float) -> None:
        for alarm in self.alarms.summary().alarms:
            if not alarm.key.tag.startswith("shadow."):
                continue  # the model's own alarms (a window's engine holds both)
            key = (alarm.key.tag, alarm.key.component)
            if not alarm.active or key in self._raised:
                if not alarm.active:
                    self._raised.discard(key)
                continue
            self._raised.add(key)
            if alarm.key.tag.endswith("_divergence"):
                divergence = self._explain(alarm.key.tag, alarm.key.component, t)
                self.divergences.append(divergence)
                text = divergence.text()
            elif alarm.key.tag in DRIFT_TAG_SET:
                text = self.estimation.alarm_text(alarm.key.tag, alarm.key.component)
            else:
                text = f"{alarm.description}: {alarm.component}"
            print(f"twin shadow: t={t:.0f}s {text}", file=self.log, flush=True)

    def _explain(self, tag: str, component: int, t: float) -> Divergence:
        kind = tag.removeprefix("shadow.").removesuffix("_divergence")
        idx = np.flatnonzero(
            self.compared
            & (self.component_index == component)
            & np.array([k == kind for k in self.kind_of])
        )
        statistic = np.maximum(self.cusum_up[idx], self.cusum_down[idx])
        worst = int(idx[np.argmax(statistic)])
        mean = self.run_sum[worst] / max(self.run_count[worst], 1)
        since = self.run_since[worst]
        return Divergence(
            self.points[worst].component,
            self.points[worst],
            float(mean),
            float(t if math.isnan(since) else since),
            t,
            self.estimation.cause(worst, float(mean), t),
        )

    def set_connected(self, connected: bool) -> None:
        """While the broker is away every point is stale and the loss is alarmed (the
        model waits: it has no plant time to step to)."""
        changed = connected != self.connected
        self.connected = connected
        if changed and self._last_snapshot is not None:
            if not connected:
                self.stale = self.seen.copy()
            self.alarms.update(self._last_snapshot)
            self._report_raised(self._last_snapshot.time_s)


HEARTBEAT_WRITES = ("system.integration_heartbeat", "system.integration_echo")


class HeartbeatWriter:
    """The only writes a shadow may make, and only those ``--allow-write`` names: its
    integration's heartbeat (its own wall clock every 10 s) and the echo of the BMS's
    heartbeat, on ``BMS/v1/{integration}/Value/...`` (never the BMS's namespace)."""

    def __init__(self, points: list[Point], integration: str, allowed: tuple[str, ...]):
        by_tag = {p.tag_path: p for p in points}
        self.topics: dict[str, str] = {}
        for tag in allowed:
            point = by_tag.get(tag)
            if (
                point is None
                or point.quantity not in HEARTBEAT_WRITES
                or point.integration != integration
            ):
                raise ValueError(
                    f"--allow-write {tag}: the shadow writes only the heartbeat points "
                    f"(HeartbeatTimestampIntegration, HeartbeatEchoIntegration) of its "
                    f"integration {integration!r} in the point list"
                )
            self.topics[point.quantity] = contract.value_topic(
                point.object_type, point.point_type, point.tag_path, publisher=integration
            )
        assert all(f"/{contract.BMS_PUBLISHER}/" not in t for t in self.topics.values())
        self.bms_heartbeat = {
            contract.value_topic(p.object_type, p.point_type, p.tag_path)
            for p in points
            if p.quantity == "system.bms_heartbeat"
        }
        self._next_s = 0.0

    def due(self, now_s: float) -> list[tuple[str, bytes]]:
        """The integration heartbeat, every 10 s of wall time (Unix ms of ``now_s``)."""
        topic = self.topics.get("system.integration_heartbeat")
        if topic is None or now_s < self._next_s:
            return []
        self._next_s = now_s + contract.HEARTBEAT_S
        stamp = int(now_s * 1000)
        return [(topic, contract.encode_value(stamp, stamp, contract.QUALITY_GOOD))]

    def echo(self, topic: str, payload: bytes, now_s: float) -> list[tuple[str, bytes]]:
        """The BMS heartbeat's value sent back, if this message is it."""
        echo = self.topics.get("system.integration_echo")
        if echo is None or topic not in self.bms_heartbeat:
            return []
        try:
            reading = contract.decode_value(payload)
        except contract.MessageError:
            return []
        if reading.value is None:
            return []
        return [
            (echo, contract.encode_value(reading.value, int(now_s * 1000), contract.QUALITY_GOOD))
        ]


def _divergence_reader(
    current: Callable[[], Shadow], kind: str
) -> Callable[[Snapshot], np.ndarray]:
    """The alarm engine's reader of ``kind``'s divergence statistic in the shadow in force."""
    return lambda _snapshot: current().object_statistic[kind]
