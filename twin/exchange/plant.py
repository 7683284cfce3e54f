"""``twin plant``: the simulation as a virtual BMS on the DSX Exchange bus.

``VirtualBms.observe(snapshot)`` is called after each simulation step (by ``BmsObserver``, the
run observer ``twin plant`` and ``twin gui --plant`` give their run): it
samples every point each ``publish_every_s`` of simulated time (measurements as their mean
over the period) and publishes a value when it moved by more than its deadband, and every
point at least every 100 s (the contract).
Timestamps are the simulated clock: the scenario's start (local time at the site, its UTC
offset applied) plus the simulated seconds, in epoch milliseconds. Points of racks and CDUs
in a hall whose UPS dropped its load go to bad quality (their instrumentation and
controllers lose power with it).

Write-backs, applied as a BMS would (guardrails are engineering choices, see constants):
- ``CDU/LiquidTemperatureSpRequest`` from the owning integration: accepted within
  [facility water setpoint + 2 K, the CDU type's design setpoint + 5 K]; the setpoint in
  force moves towards it at most 0.5 K/min; a value out of range, null or of bad quality is
  refused and the CDU reverts to its design setpoint. The setpoint in force is the CDU's
  ``LiquidTemperature`` point with ``isSetpoint`` (the decision, published back).
- ``Rack/RackLiquidIsolationRequest`` and ``Rack/RackElectricalIsolationRequest`` from the
  owning integration (1 = isolate, 0 = release): isolating shuts the rack's branch
  isolation valves (no coolant flow: its chips heat, throttle and trip as the simulation's
  physics says) or opens its feed breakers (no power, no heat), at once, a safety action is
  never delayed; a release waits until the isolation has held ``ISOLATION_MIN_HOLD_S`` of
  simulated time (no valve or breaker chatter). Any other value, null or bad quality is
  refused and the isolation in force stays. The decision is the rack's
  ``RackLiquidIsolationStatus`` / ``RackElectricalIsolationStatus``, read from the
  simulation.
- ``System/HeartbeatTimestampIntegration``: echoed on ``HeartbeatEchoBms``; when none has
  come for ``HEARTBEAT_TIMEOUT_S`` of wall time, every setpoint the integration moved
  reverts to design, and its isolations are held as they stand (the safe state of a rack
  isolated for a leak is isolated) with any release it asked for dropped.

Optional sensor faults for commissioning tests: Gaussian noise with a typical
instrument's standard deviation times ``noise_scale``, and dropouts (a due sample lost with
probability ``dropout``), both drawn from the run's seed.
"""

from __future__ import annotations

import math
import queue
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import timedelta, timezone
from typing import TextIO

import numpy as np

from twin.exchange import contract
from twin.exchange.broker import publish_frame, topic_field
from twin.exchange.points import (
    BOUNDARY,
    BY_KEY,
    MEASURED,
    Point,
    PointTable,
    metadata_json,
)
from twin.scenario import Scenario
from twin.sim.snapshot import Snapshot
from twin.sim.topology import Topology

PUBLISH_EVERY_S = 2.0  # the contract recommends 1-2 s for live data
HEARTBEAT_TIMEOUT_S = 30.0  # three missed 10 s integration heartbeats (wall time)
SETPOINT_MIN_ABOVE_FACILITY_K = 2.0  # the CDU exchanger needs an approach; engineering choice
SETPOINT_MAX_ABOVE_DESIGN_K = 5.0  # engineering choice
SETPOINT_RATE_K_PER_S = 0.5 / 60.0  # engineering choice: slower than the loop's response
ISOLATION_MIN_HOLD_S = 60.0  # engineering choice: a valve or breaker cycles at most once a minute
ISOLATION_KINDS = {
    "rack.liquid_isolation_request": "liquid",
    "rack.electrical_isolation_request": "electrical",
}
# One standard deviation of a typical instrument (engineering choice, from accuracy classes):
# class-A RTD 0.15 + 0.002|t| K (IEC 60751) ~ 0.1 K; magnetic flow meter 0.5-1 % of
# reading; pressure transmitter 0.25 % of a 200 kPa span; power meter class 0.5
# (IEC 62053-22); positions and speeds 0.5 % of travel.
NOISE_ABSOLUTE = {"C": 0.1, "kPa": 0.5, "%": 0.5, "LPM": 0.0, "kW": 0.0}
NOISE_RELATIVE = {"LPM": 0.01, "kW": 0.005}


def start_epoch_ms(scenario: Scenario) -> int:
    """The scenario's start (local civil time at the site) in Unix epoch milliseconds."""
    offset = timezone(timedelta(hours=scenario.site.utc_offset_h))
    return int(scenario.scenario.start.replace(tzinfo=offset).timestamp() * 1000)


@dataclass
class WriteBackCounters:
    accepted: int = 0
    refused: int = 0
    not_owner: int = 0
    malformed: int = 0
    reverts_heartbeat: int = 0
    holds_heartbeat: int = 0  # integrations whose isolations were held at a heartbeat loss


@dataclass
class VirtualBms:
    """Publishes a simulation's points and applies the integrations' write-backs."""

    scenario: Scenario
    topology: Topology
    points: list[Point]
    publish: Callable[[str, bytes, bool], object]  # (topic, payload, retain)
    apply_setpoint: Callable[[int, float], None]  # (CDU index, setpoint °C)
    # (rack index, liquid=... or electrical=... True/False): ``Simulation.set_rack_isolation``;
    # None: a BMS without isolation valves or breakers to act on refuses every request
    apply_isolation: Callable[..., None] | None = field(default=None, kw_only=True)
    # QoS 0 PUBLISH packets in bulk (``MqttLink.publish_frames``): metadata and values go
    # out as packets built here, the same bytes as ``publish`` would send one by one;
    # None: every message through ``publish``
    publish_frames: Callable[[list[bytes]], object] | None = field(default=None, kw_only=True)
    seed: int = 0
    noise_scale: float = 0.0
    dropout: float = 0.0
    publish_every_s: float = PUBLISH_EVERY_S
    clock: Callable[[], float] = time.monotonic  # wall time for the integration heartbeat
    log: TextIO = field(default_factory=lambda: sys.stderr)
    counters: WriteBackCounters = field(default_factory=WriteBackCounters)

    def __post_init__(self) -> None:
        topo, pts = self.topology, self.points
        n = len(pts)
        self.epoch_ms = start_epoch_ms(self.scenario)
        self.table = PointTable(pts, topo)
        self.value_topics = [
            contract.value_topic(p.object_type, p.point_type, p.tag_path) for p in pts
        ]
        self.meta_topics = [
            contract.metadata_topic(p.object_type, p.point_type, p.tag_path) for p in pts
        ]
        self.meta_payloads = [metadata_json(p) for p in pts]
        if self.publish_frames is not None:
            self.value_heads = [topic_field(topic) for topic in self.value_topics]
            self.meta_frames = [
                publish_frame(topic_field(topic), payload, retain=True)
                for topic, payload in zip(self.meta_topics, self.meta_payloads, strict=True)
            ]
        self.readable = np.zeros(n, dtype=bool)
        for idx in self.table.groups.values():
            self.readable[idx] = True
        self.deadband = np.array([p.deadband for p in pts])
        self.relative = np.array([p.relative_deadband for p in pts])
        roles = [BY_KEY[p.quantity].role for p in pts]
        sensed = np.array([r in (MEASURED, BOUNDARY) for r in roles])
        self.sensed = sensed
        self._sum = np.zeros(n)
        self._steps = 0
        self.noise_abs = np.where(sensed, [NOISE_ABSOLUTE.get(p.eng_unit, 0.0) for p in pts], 0)
        self.noise_rel = np.where(sensed, [NOISE_RELATIVE.get(p.eng_unit, 0.0) for p in pts], 0)
        self.rng = np.random.default_rng([self.seed, 0xB35])
        # the hall whose power the point's instrumentation hangs on (-1: none)
        names = {
            "rack": {topo.rack_name(i): int(topo.rack_hall[i]) for i in range(topo.rack_count)},
            "cdu": {c: int(topo.cdu_hall[k]) for k, c in enumerate(topo.cdu_names)},
        }
        self.point_hall = np.array(
            [names.get(BY_KEY[p.quantity].kind, {}).get(p.component, -1) for p in pts],
            dtype=np.int64,
        )
        self.values = np.full(n, np.nan)
        self.sent_value = np.full(n, np.nan)
        self.sent_quality = np.full(n, -1, dtype=np.int64)
        self.sent_s = np.full(n, -math.inf)
        self._next_sample_s = 0.0
        self._next_metadata_s = 0.0
        self._next_heartbeat_s = 0.0
        self._republish_all = True
        # write-backs
        cdu_types = [self.scenario.cdu_types[name] for name in topo.cdu_type_names]
        self.design_setpoint_c = np.array([cdu_types[t].supply_setpoint_c for t in topo.cdu_type])
        self.setpoint_min_c = (
            self.scenario.facility_water.supply_setpoint_c + SETPOINT_MIN_ABOVE_FACILITY_K
        )
        self.setpoint_max_c = self.design_setpoint_c + SETPOINT_MAX_ABOVE_DESIGN_K
        self.target_c = self.design_setpoint_c.copy()
        self.applied_c = self.design_setpoint_c.copy()
        self.moved_by: dict[int, str] = {}  # CDU index -> integration that moved it
        component_index = {
            "cdu": {c: k for k, c in enumerate(topo.cdu_names)},
            "rack": {topo.rack_name(i): i for i in range(topo.rack_count)},
        }
        # isolation in force per kind and rack, when it last changed, a release waiting
        # for the hold and the integration that isolated
        self.isolated = {
            kind: np.zeros(topo.rack_count, dtype=bool) for kind in ISOLATION_KINDS.values()
        }
        self.isolated_at_s = {
            kind: np.full(topo.rack_count, -math.inf) for kind in ISOLATION_KINDS.values()
        }
        self.release_pending: dict[tuple[str, int], str] = {}  # (kind, rack) -> integration
        self.isolated_by: dict[tuple[str, int], str] = {}
        self.write_points: dict[str, tuple[Point, int]] = {}
        self.echo_point: dict[str, int] = {}  # integration -> HeartbeatEchoBms point
        self.heartbeat_point = -1
        for i, p in enumerate(pts):
            if p.integration:
                topic = contract.value_topic(
                    p.object_type, p.point_type, p.tag_path, publisher=p.integration
                )
                kind = BY_KEY[p.quantity].kind
                self.write_points[topic] = (p, component_index.get(kind, {}).get(p.component, -1))
            elif p.quantity == "system.bms_echo":
                self.echo_point[p.component] = i
            elif p.quantity == "system.bms_heartbeat":
                self.heartbeat_point = i
        self.integration_seen: dict[str, float] = {}
        self._last_t = 0.0

    # ------------------------------------------------------------------ publishing

    @property
    def subscriptions(self) -> tuple[str, ...]:
        return integration_subscriptions(self.points)

    def republish_all(self) -> None:
        """After a (re)connect: metadata and every value again."""
        self._republish_all = True

    def timestamp_ms(self, time_s: float) -> int:
        return self.epoch_ms + round(time_s * 1000.0)

    def observe(self, snapshot: Snapshot) -> int:
        """Publish what is due after a step; returns the messages sent."""
        t = snapshot.time_s
        sent = 0
        if self._republish_all or t >= self._next_metadata_s - 1e-9:
            if self.publish_frames is not None:
                self.publish_frames(self.meta_frames)
            else:
                for topic, payload in zip(self.meta_topics, self.meta_payloads, strict=True):
                    self.publish(topic, payload, True)
            sent += len(self.meta_topics)
            self._next_metadata_s = t + contract.REPUBLISH_S
        if self.heartbeat_point >= 0 and (
            self._republish_all or t >= self._next_heartbeat_s - 1e-9
        ):
            stamp = self.timestamp_ms(t)
            self.publish(
                self.value_topics[self.heartbeat_point],
                contract.encode_value(stamp, stamp, contract.QUALITY_GOOD),
                False,
            )
            self._next_heartbeat_s = t + contract.HEARTBEAT_S
            sent += 1
        self._ramp_setpoints(snapshot)
        self._release_isolations(t)
        # measurements are means over the publishing period (a power meter integrates;
        # a sampled GPU power swing would alias); states and setpoints are as they stand
        instant = self.table.read(snapshot, self.values)
        self._sum += np.where(self.sensed, instant, 0.0)
        self._steps += 1
        if not self._republish_all and t < self._next_sample_s - 1e-9:
            return sent
        self._next_sample_s = t + self.publish_every_s
        values = np.where(self.sensed, self._sum / self._steps, instant)
        self._sum.fill(0.0)
        self._steps = 0
        if self.noise_scale > 0:
            sigma = self.noise_scale * (self.noise_abs + self.noise_rel * np.abs(values))
            values = values + sigma * self.rng.standard_normal(values.size)
        quality = np.full(values.size, contract.QUALITY_GOOD, dtype=np.int64)
        unpowered = ~snapshot.power.hall_powered
        if unpowered.any():
            hung = self.point_hall >= 0
            bad = np.zeros(values.size, dtype=bool)
            bad[hung] = unpowered[self.point_hall[hung]]
            quality[bad] = contract.QUALITY_BAD
        with np.errstate(invalid="ignore"):
            band = np.maximum(self.deadband, self.relative * np.abs(self.sent_value))
            moved = ~(np.abs(values - self.sent_value) <= band)  # NaN compares as moved
        due = self.readable & (
            moved
            | (quality != self.sent_quality)
            | (t - self.sent_s >= contract.REPUBLISH_S - 1e-9)
        )
        if self._republish_all:
            due = self.readable.copy()
        if self.dropout > 0:
            due &= self.rng.random(values.size) >= self.dropout
        index = np.flatnonzero(due)
        payloads = value_payloads(values[index], quality[index], self.timestamp_ms(t))
        if self.publish_frames is not None:
            heads = self.value_heads
            self.publish_frames(
                [
                    publish_frame(heads[i], payload)
                    for i, payload in zip(index.tolist(), payloads, strict=True)
                ]
            )
        else:
            topics = self.value_topics
            for i, payload in zip(index.tolist(), payloads, strict=True):
                self.publish(topics[i], payload, False)
        self.sent_value[due] = values[due]
        self.sent_quality[due] = quality[due]
        self.sent_s[due] = t
        self._republish_all = False
        return sent + int(np.count_nonzero(due))

    # ------------------------------------------------------------------ write-backs

    def handle(self, topic: str, payload: bytes, wall_s: float) -> None:
        """One message from an integration's namespace."""
        try:
            parsed = contract.parse_topic(topic)
            reading = contract.decode_value(payload)
        except contract.MessageError as exc:
            self.counters.malformed += 1
            self._say(f"ignored a malformed write-back on {topic}: {exc.reason}")
            return
        entry = self.write_points.get(topic)
        if entry is None:
            self.counters.not_owner += 1
            self._say(
                f"ignored {topic}: no point of this BMS is written by {parsed.publisher!r} there"
            )
            return
        point, component = entry
        if point.quantity == "system.integration_heartbeat":
            self.integration_seen[point.integration] = wall_s
            echo = self.echo_point.get(point.integration)
            if echo is not None and reading.value is not None:
                self.publish(
                    self.value_topics[echo],
                    contract.encode_value(
                        reading.value, reading.timestamp_ms, contract.QUALITY_GOOD
                    ),
                    False,
                )
            return
        if point.quantity in ISOLATION_KINDS and component >= 0:
            self.integration_seen.setdefault(point.integration, wall_s)
            self._isolation_request(point, ISOLATION_KINDS[point.quantity], component, reading)
            return
        if point.quantity != "cdu.supply_setpoint_request_c" or component < 0:
            return  # the integration's echo of our heartbeat: nothing to apply
        cdu = component
        self.integration_seen.setdefault(point.integration, wall_s)
        value = reading.value
        if (
            value is None
            or not reading.good
            or not (self.setpoint_min_c <= value <= self.setpoint_max_c[cdu])
        ):
            self.counters.refused += 1
            self.target_c[cdu] = self.design_setpoint_c[cdu]
            self.moved_by.pop(cdu, None)
            self._say(
                f"refused {point.component} supply setpoint request {value} from "
                f"{point.integration}: allowed {self.setpoint_min_c:g}-"
                f"{self.setpoint_max_c[cdu]:g} °C with good quality; reverting to "
                f"design {self.design_setpoint_c[cdu]:g} °C"
            )
            return
        self.counters.accepted += 1
        self.target_c[cdu] = value
        self.moved_by[cdu] = point.integration

    def check_heartbeats(self) -> None:
        """Revert the setpoints of an integration whose heartbeat stopped."""
        now = self.clock()
        for integration, seen in list(self.integration_seen.items()):
            if now - seen < HEARTBEAT_TIMEOUT_S:
                continue
            cdus = [k for k, owner in self.moved_by.items() if owner == integration]
            for k in cdus:
                self.target_c[k] = self.design_setpoint_c[k]
                del self.moved_by[k]
            if cdus:
                self.counters.reverts_heartbeat += 1
                self._say(
                    f"no heartbeat from {integration} for {HEARTBEAT_TIMEOUT_S:g} s: "
                    f"{len(cdus)} CDU setpoint(s) back to design"
                )
            dropped = [key for key, owner in self.release_pending.items() if owner == integration]
            for key in dropped:
                del self.release_pending[key]
            held = sum(owner == integration for owner in self.isolated_by.values())
            if held or dropped:
                self.counters.holds_heartbeat += 1
                self._say(
                    f"no heartbeat from {integration} for {HEARTBEAT_TIMEOUT_S:g} s: "
                    f"its {held} rack isolation(s) held as they stand"
                    + (f", {len(dropped)} release(s) it asked for dropped" if dropped else "")
                )
            del self.integration_seen[integration]

    def _isolation_request(
        self, point: Point, kind: str, rack: int, reading: contract.Reading
    ) -> None:
        value = reading.value
        if self.apply_isolation is None:
            self.counters.refused += 1
            self._say(
                f"refused {point.component} {kind} isolation request {value} from "
                f"{point.integration}: this BMS has no rack isolation to act on"
            )
            return
        if not reading.good or value not in (0.0, 1.0):
            self.counters.refused += 1
            state = "isolated" if self.isolated[kind][rack] else "not isolated"
            self._say(
                f"refused {point.component} {kind} isolation request {value} from "
                f"{point.integration}: allowed 1 (isolate) or 0 (release) with good "
                f"quality; the rack stays {state}"
            )
            return
        self.counters.accepted += 1
        key = (kind, rack)
        if value == 1.0:
            self.release_pending.pop(key, None)
            self.isolated_by[key] = point.integration
            if not self.isolated[kind][rack]:
                self._set_isolation(kind, rack, True)
        elif self.isolated[kind][rack]:
            self.release_pending[key] = point.integration
            self._release_isolations(self._last_t)

    def _release_isolations(self, time_s: float) -> None:
        """Apply the releases whose isolation has held long enough."""
        for key in list(self.release_pending):
            kind, rack = key
            if time_s - self.isolated_at_s[kind][rack] >= ISOLATION_MIN_HOLD_S - 1e-9:
                del self.release_pending[key]
                self.isolated_by.pop(key, None)
                self._set_isolation(kind, rack, False, time_s)

    def _set_isolation(
        self, kind: str, rack: int, isolated: bool, time_s: float | None = None
    ) -> None:
        if self.apply_isolation is None:  # _isolation_request refuses every request then
            raise RuntimeError("a rack isolation set on a BMS that has none to act on")
        self.apply_isolation(rack, **{kind: isolated})
        self.isolated[kind][rack] = isolated
        self.isolated_at_s[kind][rack] = self._last_t if time_s is None else time_s

    def _ramp_setpoints(self, snapshot: Snapshot) -> None:
        dt = max(snapshot.time_s - self._last_t, 0.0)
        self._last_t = snapshot.time_s
        gap = self.target_c - self.applied_c
        if not gap.any():
            return
        step = np.clip(gap, -SETPOINT_RATE_K_PER_S * dt, SETPOINT_RATE_K_PER_S * dt)
        for k in np.flatnonzero(step):
            self.applied_c[k] += step[k]
            self.apply_setpoint(int(k), float(self.applied_c[k]))

    def _say(self, text: str) -> None:
        print(f"twin plant: {text}", file=self.log, flush=True)


def integration_subscriptions(points: list[Point]) -> tuple[str, ...]:
    """The integrations' value namespaces a BMS of ``points`` listens on (never its own)."""
    owners = sorted({p.integration for p in points if p.integration})
    return tuple(f"{contract.ROOT}/{owner}/{contract.VALUE}/#" for owner in owners)


class BmsObserver:
    """The virtual BMS as a run observer (``twin.runs.observe``): after every step it
    publishes what is due on ``link``, applies the write-backs waiting in the link's inbox
    and checks the integrations' heartbeats. A run that starts again (a reset) gets a new
    BMS: metadata and every value again from t = 0.

    Unlike a passive observer it acts on the simulation: an accepted setpoint request moves
    the CDU's setpoint and an accepted isolation request isolates or releases a rack, as the
    plant's BMS would, on the stepping thread between two steps.
    """

    def __init__(
        self,
        link,
        points: list[Point],
        *,
        noise_scale: float = 0.0,
        dropout: float = 0.0,
        log: TextIO = sys.stderr,
    ) -> None:
        self.link = link
        self.points = points
        self.noise_scale = noise_scale
        self.dropout = dropout
        self.log = log
        self.bms: VirtualBms | None = None

    @property
    def subscriptions(self) -> tuple[str, ...]:
        return integration_subscriptions(self.points)

    @property
    def counters(self) -> WriteBackCounters:
        """The write-backs of the run (since its last start)."""
        return self.bms.counters if self.bms is not None else WriteBackCounters()

    def on_start(self, run) -> None:
        link = self.link
        self.bms = VirtualBms(
            run.scenario,
            run.topology,
            self.points,
            lambda topic, payload, retain: link.publish(topic, payload, retain=retain),
            run.set_cdu_supply_setpoint,
            apply_isolation=run.set_rack_isolation,
            publish_frames=link.publish_frames,
            seed=run.seed,
            noise_scale=self.noise_scale,
            dropout=self.dropout,
            log=self.log,
        )
        link.on_connect = self.bms.republish_all

    def on_step(self, run, applied) -> None:
        bms = self.bms
        if bms is None:
            raise RuntimeError("on_step before on_start: the BMS observes no run")
        bms.observe(run.snapshot(robots=False))
        inbox = self.link.inbox
        while True:
            try:
                topic, payload, wall_s = inbox.get_nowait()
            except queue.Empty:
                break
            bms.handle(topic, payload, wall_s)
        bms.check_heartbeats()

    def on_finish(self) -> None:
        """Nothing to close: the link belongs to whoever opened it."""


VALUE_PAYLOAD = b'{"value":%.7g,"timestamp":%d,"quality":%d}'  # 7 digits: a float32's
NULL_PAYLOAD = b'{"value":null,"timestamp":%d,"quality":0}'  # no valid reading


def value_payloads(values: np.ndarray, quality: np.ndarray, stamp: int) -> list[bytes]:
    """The value messages of one instant (``contract.decode_value`` reads them back); a
    value that is not finite goes out as null with bad quality."""
    finite = np.isfinite(values)
    if finite.all():
        return [
            VALUE_PAYLOAD % (v, stamp, q)
            for v, q in zip(values.tolist(), quality.tolist(), strict=True)
        ]
    null = NULL_PAYLOAD % stamp
    return [
        VALUE_PAYLOAD % (v, stamp, q) if ok else null
        for v, q, ok in zip(values.tolist(), quality.tolist(), finite.tolist(), strict=True)
    ]
