"""DSX Flex: the site's side of the grid's load targets, as NVIDIA's DSX Flex contract
defines it (AsyncAPI ``schemas/asyncapi/dsx-flex/dsx-flex.yaml`` in the public
``NVIDIA/dsx-exchange`` repository, DSX Flex 1.7.0): CloudEvents 1.0.2 in MQTT 3.1.1
structured mode, the whole event the JSON payload.

twin is both the DSX Flex Agent and the site's Infrastructure Management Agent:

- it takes ``grid.loadtarget.set.v1`` from one ISV on ``grid/v1/isv/{isv}/loadtarget/set``
  (targets: interval, feed_tags, load_constraint or null, strategy.best_effort);
- a target in force holds the feed's load (the site's grid import) with the BESS alone
  first (``Simulation.hold_import`` with no GPU levers);
- while the import stays above the target it raises a breach
  (``grid.powerbreach.alert.v1`` on ``grid/v1/dsx-flex-agent/{agent}/powerbreach``: status
  active, escalated, resolved; severity warning, or critical above 20 % over the target)
  with shed hints: power caps on the training rows (priority 1), the training jobs
  suspended at a checkpoint (2; not with ``best_effort``), power caps on the inference rows
  (3), each row a resource of type ``chassis`` (a Redfish Chassis of type Row);
- as the infrastructure agent it applies those hints (the GPU levers, then generator sets
  where allowed) and, once the target is met or the levers' allowances have passed,
  publishes ``grid.powerbreach.enforcement.v1`` on
  ``grid/v1/infra/{infra}/powerbreach/enforcement``: a result per hint and, in its
  diagnostic message, what each lever gave and how long it took against what it allows;
  ``reverted`` when the target goes;
- ``grid.powerstate.status.v1`` on ``grid/v1/dsx-flex-agent/{agent}/powerstate/status``
  on every transition (target_set, start/end_ramp_down, start/end_ramp_up) and every
  ``status_every_s`` (periodic).

Times are the simulated clock (the scenario's start at the site's UTC offset plus the
simulated seconds, as ``twin plant`` stamps its values), written in UTC.

Bad input never stops the agent: a message that is not a valid load-target event, comes
from another source than its topic names, repeats an event id, or names only feeds that
are not here is counted and reported in one line, and nothing changes. ``data`` is a JWS
compact serialization (the contract's signed wire form, ES256 or RS256, PyJWT) verified
with the ISV's public key where one is given, and then must be; without one, plaintext
``data`` objects (the contract's other form) are taken. With a private key of its own the
agent signs its events' ``data`` likewise.
"""

from __future__ import annotations

import datetime as dt
import json
import math
import queue
import re
import sys
import uuid
from collections import deque
from dataclasses import dataclass, field
from typing import Any, Literal, TextIO

import numpy as np
from pydantic import AwareDatetime, BaseModel, ConfigDict, Field, ValidationError

from twin.exchange.plant import start_epoch_ms
from twin.sim.engine import curtail_levers
from twin.sim.snapshot import SITE_COLUMNS

SPECVERSION = "1.0.2"
TYPE_LOAD_TARGET = "grid.loadtarget.set.v1"
TYPE_STATUS = "grid.powerstate.status.v1"
TYPE_BREACH = "grid.powerbreach.alert.v1"
TYPE_ENFORCEMENT = "grid.powerbreach.enforcement.v1"
# the channels' MQTT bindings
QOS_LOAD_TARGET = 1
QOS_STATUS = 1
QOS_BREACH = 2
QOS_ENFORCEMENT = 2
CRITICAL_OVER = 0.20  # the contract: critical above 20 % over the target
# Engineering choices (no figure in the contract):
COMPLIANCE_TOLERANCE = 0.01  # a meter of class 0.5 (IEC 62053-22) twice over
STATUS_EVERY_S = 30.0  # periodic status
GPU_LEVER_ALLOWANCE_S = 30.0  # twin's demand-response controller settles a step in ~20 s
SEEN_IDS = 1000  # event ids remembered against replays
MAX_TARGETS = 100  # per message and per feed
UNITS_W = {"watt": 1.0, "kilowatt": 1e3, "megawatt": 1e6}
NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]{0,99}$")
SOURCE = re.compile(r"^//grid/v1/(isv|dsx-flex-agent|infra)/([^/]+)$")
TRACEPARENT = re.compile(r"^[0-9a-f]{2}-([0-9a-f]{32})-[0-9a-f]{16}-[0-9a-f]{2}$")
SITE_COLUMN = {name: i for i, (name, _) in enumerate(SITE_COLUMNS)}
JWS_ALGORITHMS = ["ES256", "RS256"]  # the contract's
JWS = re.compile(r"^[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+$")


def load_target_topic(isv: str) -> str:
    return f"grid/v1/isv/{isv}/loadtarget/set"


def status_topic(agent: str) -> str:
    return f"grid/v1/dsx-flex-agent/{agent}/powerstate/status"


def breach_topic(agent: str) -> str:
    return f"grid/v1/dsx-flex-agent/{agent}/powerbreach"


def enforcement_topic(infra: str) -> str:
    return f"grid/v1/infra/{infra}/powerbreach/enforcement"


class FlexMessageError(Exception):
    """A message that is not a valid load-target event; ``reason`` says why."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


# --------------------------------------------------------------------------- the contract


class _Data(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class PowerValue(_Data):
    value: float = Field(ge=0, allow_inf_nan=False)
    unit: Literal["watt", "kilowatt", "megawatt"]

    @property
    def watts(self) -> float:
        return self.value * UNITS_W[self.unit]


class Interval(_Data):
    start_time: AwareDatetime | None = None
    end_time: AwareDatetime | None = None


class Strategy(_Data):
    best_effort: bool = False


class TargetRequest(_Data):
    interval: Interval
    feed_tags: list[str] = Field(default_factory=list, max_length=MAX_TARGETS)
    load_constraint: PowerValue | None = Field(
        description="null: the feed goes back to its unconstrained default"
    )
    strategy: Strategy = Strategy()


class SetLoadTargetData(_Data):
    targets: list[TargetRequest] = Field(min_length=1, max_length=MAX_TARGETS)


class LoadTargetEvent(BaseModel):
    """The CloudEvents envelope of ``grid.loadtarget.set.v1`` (extension attributes
    beyond the contract's are allowed, as CloudEvents allows them)."""

    model_config = ConfigDict(extra="allow", frozen=True)
    specversion: Literal["1.0.2"]
    id: uuid.UUID
    source: str = Field(pattern=SOURCE.pattern)
    type: Literal["grid.loadtarget.set.v1"]
    time: AwareDatetime
    datacontenttype: Literal["application/json"]
    subject: str
    traceparent: str = Field(pattern=TRACEPARENT.pattern)
    tracestate: str | None = None
    correlationid: uuid.UUID | None = None
    data: SetLoadTargetData | str


def parse_load_target(
    topic: str, payload: bytes, isv: str, verify_key: Any = None
) -> tuple[LoadTargetEvent, SetLoadTargetData]:
    """A load-target event from ``isv`` on its topic and its data, or FlexMessageError.
    With ``verify_key`` (the ISV's public key) ``data`` must be JWS-signed with it (ES256
    or RS256); without, it must be a plaintext object."""
    if topic != load_target_topic(isv):
        raise FlexMessageError(f"not the load-target topic of ISV {isv!r}")
    try:
        document = json.loads(payload)
    except (UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise FlexMessageError(f"the payload is not JSON ({exc})") from None
    if not isinstance(document, dict):
        raise FlexMessageError("the payload is not a CloudEvents JSON object")
    try:
        event = LoadTargetEvent.model_validate(document)
    except ValidationError as exc:
        raise FlexMessageError(_first_error(exc)) from None
    if _matched(SOURCE, event.source).group(2) != isv or not event.source.startswith(
        "//grid/v1/isv/"
    ):
        raise FlexMessageError(
            f"source {event.source} is not //grid/v1/isv/{isv}, the ISV whose topic it came on"
        )
    data = event.data
    if isinstance(data, str):
        if not JWS.match(data):
            raise FlexMessageError("data is neither a load-target object nor a JWS string")
        if verify_key is None:
            raise FlexMessageError(
                "data is JWS-signed and no --jws-verify-key was given to verify it"
            )
        data = _verified(data, verify_key)
    elif verify_key is not None:
        raise FlexMessageError(
            "data is not signed; with --jws-verify-key only JWS-signed data is taken"
        )
    for k, target in enumerate(data.targets):
        interval = target.interval
        if interval.start_time and interval.end_time and interval.end_time <= interval.start_time:
            raise FlexMessageError(f"targets.{k}.interval: end_time must lie after start_time")
        if target.load_constraint is not None and target.load_constraint.value <= 0:
            raise FlexMessageError(f"targets.{k}.load_constraint.value must be above 0")
    return event, data


def _first_error(exc: ValidationError) -> str:
    first = exc.errors()[0]
    where = ".".join(str(p) for p in first["loc"]) or "the event"
    return f"{where}: {first['msg']}"


def _verified(token: str, key: Any) -> SetLoadTargetData:
    """The JWS compact serialization's payload, its signature verified (PyJWT)."""
    import jwt

    try:
        payload = jwt.PyJWS().decode_complete(token, key, algorithms=JWS_ALGORITHMS)["payload"]
    except jwt.PyJWTError as exc:
        raise FlexMessageError(f"data's JWS signature does not verify ({exc})") from None
    try:
        return SetLoadTargetData.model_validate_json(payload)
    except ValidationError as exc:
        raise FlexMessageError(f"data (signed): {_first_error(exc)}") from None


def load_key(path, *, private: bool) -> Any:
    """A PEM key for JWS (EC P-256 for ES256, or RSA for RS256); ValueError names the
    problem."""
    try:
        from cryptography.hazmat.primitives import serialization
        from cryptography.hazmat.primitives.asymmetric import ec, rsa
    except ImportError:
        raise ValueError(
            "JWS keys need PyJWT with cryptography: pip install 'twin[flex]'"
        ) from None
    try:
        text = path.read_bytes()
        key = (
            serialization.load_pem_private_key(text, password=None)
            if private
            else serialization.load_pem_public_key(text)
        )
    except (OSError, ValueError, TypeError) as exc:
        kind = "private" if private else "public"
        raise ValueError(f"{path} is not a readable unencrypted PEM {kind} key ({exc})") from None
    if isinstance(key, ec.EllipticCurvePrivateKey | ec.EllipticCurvePublicKey):
        if key.curve.name != "secp256r1":
            raise ValueError(f"{path}: an EC key must be on P-256 for ES256, not {key.curve.name}")
    elif not isinstance(key, rsa.RSAPrivateKey | rsa.RSAPublicKey):
        raise ValueError(f"{path}: the key must be EC P-256 (ES256) or RSA (RS256)")
    return key


def sign(data: dict[str, Any], key: Any, kid: str) -> str:
    """``data`` as a JWS compact serialization: ES256 with an EC key, RS256 with RSA."""
    import jwt
    from cryptography.hazmat.primitives.asymmetric import ec

    algorithm = "ES256" if isinstance(key, ec.EllipticCurvePrivateKey) else "RS256"
    return jwt.PyJWS().encode(
        json.dumps(data, separators=(",", ":")).encode(),
        key,
        algorithm=algorithm,
        headers={"kid": kid},
    )


def iso(epoch_ms: float) -> str:
    """ISO 8601 UTC with milliseconds."""
    stamp = dt.datetime.fromtimestamp(epoch_ms / 1000.0, dt.UTC)
    return stamp.isoformat(timespec="milliseconds").replace("+00:00", "Z")


def power(watts: float) -> dict[str, Any]:
    """A PowerUnit in kilowatts (never negative: the contract's minimum is 0)."""
    return {"value": round(max(watts, 0.0) / 1e3, 3), "unit": "kilowatt"}


def traceparent(trace_id: str | None = None) -> str:
    return f"00-{trace_id or uuid.uuid4().hex}-{uuid.uuid4().hex[:16]}-01"


def envelope(
    event_type: str,
    source: str,
    subject: str,
    time_ms: float,
    data: dict[str, Any] | str,
    *,
    trace_id: str | None = None,
    correlation_id: str | None = None,
) -> bytes:
    event: dict[str, Any] = {
        "specversion": SPECVERSION,
        "id": str(uuid.uuid4()),
        "source": source,
        "type": event_type,
        "time": iso(time_ms),
        "datacontenttype": "application/json",
        "subject": subject,
        "traceparent": traceparent(trace_id),
    }
    if correlation_id is not None:
        event["correlationid"] = correlation_id
    event["data"] = data
    return json.dumps(event, separators=(",", ":")).encode()


# --------------------------------------------------------------------------- the agent


@dataclass(frozen=True, slots=True)
class FlexOptions:
    isv: str  # the ISV whose load targets are taken
    agent: str = "twin"  # this DSX Flex Agent's identifier
    infra: str = "twin-infra"  # this site's Infrastructure Management Agent
    feed: str = "main"  # the feed tag of the site's grid connection
    generators: bool = False  # whether the sets may carry load in parallel with the grid
    status_every_s: float = STATUS_EVERY_S
    verify_key: Any = None  # the ISV's public key: its data must be JWS-signed with it
    sign_key: Any = None  # this agent's private key: its events' data are JWS-signed
    sign_kid: str = ""  # the key id in the JWS header

    def check(self) -> None:
        for option, value in (
            ("--isv", self.isv),
            ("--agent-id", self.agent),
            ("--infra-id", self.infra),
            ("--feed", self.feed),
        ):
            if not NAME.match(value):
                raise ValueError(
                    f"{option} {value!r} must be 1-100 letters, digits, '.', "
                    "'_' or '-', starting with a letter or digit (a topic "
                    "level: no '/', '+' or '#')"
                )


@dataclass
class FlexCounters:
    accepted: int = 0
    malformed: int = 0
    duplicate: int = 0
    other_feed: int = 0
    breaches: int = 0
    enforcements: int = 0
    statuses: int = 0


@dataclass
class Target:
    correlation_id: str
    trace_id: str
    start_s: float
    end_s: float
    constraint_w: float | None
    best_effort: bool
    request: TargetRequest

    @property
    def in_force_w(self) -> float:
        """The constraint of a target in force (``follow`` puts no null target in force)."""
        if self.constraint_w is None:
            raise ValueError(f"the load target {self.correlation_id} constrains nothing")
        return self.constraint_w

    def as_feed_target(self, active: bool) -> dict[str, Any]:
        interval = {}
        if self.request.interval.start_time is not None:
            interval["start_time"] = _utc(self.request.interval.start_time)
        if self.request.interval.end_time is not None:
            interval["end_time"] = _utc(self.request.interval.end_time)
        constraint = self.request.load_constraint
        return {
            "active": active,
            "load_constraint": constraint.model_dump() if constraint else None,
            "interval": interval,
            "strategy": {"best_effort": self.best_effort},
            "correlation_id": self.correlation_id,
        }


@dataclass
class Lever:
    """One priority of shed hints: GPU caps down to ``cap_to`` of TDP on its rows' racks."""

    priority: int
    action: str  # power_cap | suspend
    cap_to: float
    rows: list[tuple[str, np.ndarray]]  # (row name, its racks in the lever)


@dataclass(frozen=True, slots=True)
class Sample:
    """One step of a breach: the site's sources and the rows' draw, the levers' depth."""

    time_s: float
    import_w: float
    bess_w: float
    generator_w: float
    rows_w: np.ndarray
    depth: float


@dataclass
class Breach:
    breach_id: str
    target: Target
    detected_s: float
    start_s: float  # when the target took effect
    levers: list[Lever]
    status: str = "active"
    enforced_s: float | None = None
    reported: bool = False  # the enforcement's outcome published
    history: list[Sample] = field(default_factory=list)  # from its detection on


class FlexAgent:
    """The DSX Flex agent as a run observer on the stepping thread: ``link`` an MqttLink
    subscribed to ``subscriptions``; it reads the link's inbox after every step."""

    def __init__(self, link, options: FlexOptions, *, log: TextIO = sys.stderr) -> None:
        options.check()
        self.link = link
        self.options = options
        self.log = log
        self.counters = FlexCounters()
        self.targets: list[Target] = []
        self.seen: deque[str] = deque(maxlen=SEEN_IDS)
        self.active: Target | None = None
        self.breach: Breach | None = None
        self.last_breach: Breach | None = None
        self.met_s: float | None = None  # when the active target was first met
        self.ramp: str | None = None  # in flight: "down" or "up"
        self.event_start_s: float | None = None
        self.sim: Any = None  # the Simulation observed (set at on_start)
        self.next_status_s = 0.0

    @property
    def subscriptions(self) -> tuple[str, ...]:
        return (load_target_topic(self.options.isv),)

    def _say(self, text: str) -> None:
        print(f"twin flex: {text}", file=self.log, flush=True)

    # ------------------------------------------------------------------ run observer

    def on_start(self, sim) -> None:
        self.sim = sim
        self.epoch_ms = start_epoch_ms(sim.scenario)
        topo = sim.topology
        self.row_names = topo.row_names
        self.rack_row = topo.rack_row
        self.rack_tdp_w = np.asarray(sim.rack_tdp_w, dtype=float)
        self.power_minimum_w = float(np.sum(sim.rack_idle_w))
        self.power_maximum_w = sim.scenario.power.utility.import_cap_mw * 1e6
        self.targets.clear()
        self.active = self.breach = self.last_breach = None
        self.ramp = None
        self.next_status_s = 0.0

    def on_step(self, sim, applied) -> None:
        while True:
            try:
                topic, payload, _ = self.link.inbox.get_nowait()
            except queue.Empty:
                break
            self.handle(topic, payload)
        self.follow()

    def on_finish(self) -> None:
        """Nothing to close: the link belongs to whoever opened it."""

    # ------------------------------------------------------------------ input

    def now_s(self) -> float:
        return float(self.sim.time_s)

    def handle(self, topic: str, payload: bytes) -> None:
        """One message from the broker: a load-target event, or counted and reported."""
        try:
            event, data = parse_load_target(
                topic, payload, self.options.isv, self.options.verify_key
            )
        except FlexMessageError as exc:
            self.counters.malformed += 1
            self._say(f"ignored a message on {topic}: {exc.reason}")
            return
        if str(event.id) in self.seen:
            self.counters.duplicate += 1
            self._say(f"ignored event {event.id}: seen already (a replay)")
            return
        self.seen.append(str(event.id))
        feed = self.options.feed
        mine = [t for t in data.targets if not t.feed_tags or feed in t.feed_tags]
        if not mine:
            self.counters.other_feed += 1
            self._say(f"ignored event {event.id}: it names no target for feed {feed!r}")
            return
        correlation = str(event.correlationid or event.id)
        trace = _matched(TRACEPARENT, event.traceparent).group(1)
        now = self.now_s()
        self.targets = [
            Target(
                correlation,
                trace,
                self._sim_s(r.interval.start_time, now),
                self._sim_s(r.interval.end_time, math.inf),
                r.load_constraint.watts if r.load_constraint else None,
                r.strategy.best_effort,
                r,
            )
            for r in mine
        ]
        self.counters.accepted += 1
        self._say(
            f"load target {correlation} from {self.options.isv}: "
            + "; ".join(_describe(t) for t in self.targets)
        )
        self.publish_status("target_set", self.targets[0])

    def _sim_s(self, when: dt.datetime | None, default: float) -> float:
        if when is None:
            return default
        return (when.timestamp() * 1000.0 - self.epoch_ms) / 1000.0

    # ------------------------------------------------------------------ per step

    def follow(self) -> None:
        now = self.now_s()
        self.targets = [t for t in self.targets if t.end_s > now]
        due = [t for t in self.targets if t.start_s <= now]
        active = max(due, key=lambda t: t.start_s) if due else None
        if active is not None and active.constraint_w is None:
            active = None  # null: back to the unconstrained default
        if active is not self.active:
            self._switch(active, now)
        sim = self.sim
        site = sim.site_values()
        col = SITE_COLUMN
        import_w = float(site[col["grid_import_kw"]]) * 1e3
        self.import_w = import_w
        target = self.active
        if target is not None:
            limit = target.in_force_w * (1.0 + COMPLIANCE_TOLERANCE)
            compliant = import_w <= limit
            sample = None
            # the breach's samples until its outcome is reported (memory stays bounded)
            recording = self.breach is not None and not self.breach.reported
            if recording or (self.breach is None and not compliant):
                rows_w = np.bincount(
                    self.rack_row,
                    weights=sim.snapshot(robots=False).racks.power_kw * 1e3,
                    minlength=len(self.row_names),
                )
                sample = Sample(
                    now,
                    import_w,
                    float(site[col["bess_power_kw"]]) * 1e3,
                    float(site[col["generator_kw"]]) * 1e3,
                    rows_w,
                    float(sim.state.curtail_depth),
                )
            if self.breach is not None and sample is not None:  # recording
                self.breach.history.append(sample)
            if compliant and self.met_s is None:
                self.met_s = now
                if self.ramp == "down":
                    self.ramp = None
                    self.publish_status("end_ramp_down")
            if (
                not compliant
                and self.breach is None
                and sample is not None
                and now > target.start_s
            ):
                breach = self._raise_breach(target, import_w, now)
                breach.history.append(sample)  # before the hints act
            elif self.breach is not None:
                self._follow_breach(self.breach, import_w, compliant, now)
        elif self.ramp == "up" and self._released():
            self.ramp = None
            self.publish_status("end_ramp_up")
        if now >= self.next_status_s - 1e-9:
            self.publish_status("periodic")

    def _released(self) -> bool:
        sim = self.sim
        return sim.state.curtail_depth == 0.0 and sim.power_chain.generators_w == 0.0

    def _switch(self, target: Target | None, now: float) -> None:
        """A target takes effect, changes or goes: the BESS alone at first (the shed
        hints follow a breach)."""
        before = self.active
        if self.breach is not None or self.last_breach is not None:
            self._revert(now)
        self.active = target
        self.met_s = None
        sim = self.sim
        if target is None:
            sim.hold_import(None)
            self.event_start_s = None
            self.ramp = "up"
            self._say(f"t={now:.0f}s load target lifted")
            self.publish_status("start_ramp_up")
            return
        sim.hold_import(
            target.in_force_w,
            suspend=not target.best_effort,
            generators=self.options.generators,
            levers=0,
        )
        self.event_start_s = now
        looser = before is not None and target.in_force_w > before.in_force_w
        self.ramp = "up" if looser else "down"
        self._say(f"t={now:.0f}s load target {target.in_force_w / 1e3:,.1f} kW in force")
        self.publish_status("start_ramp_up" if looser else "start_ramp_down")

    # ------------------------------------------------------------------ breaches

    def _levers(self, target: Target) -> list[Lever]:
        out = []
        for k, (racks, _, cap_to) in enumerate(
            curtail_levers(
                self.sim.workload, self.sim.topology.rack_count, suspend=not target.best_effort
            )
        ):
            rows = [
                (self.row_names[r], racks & (self.rack_row == r))
                for r in np.unique(self.rack_row[racks])
            ]
            out.append(Lever(k + 1, "suspend" if cap_to == 0.0 else "power_cap", cap_to, rows))
        return out

    def _raise_breach(self, target: Target, import_w: float, now: float) -> Breach:
        breach = Breach(
            str(uuid.uuid4()), target, now, self.event_start_s or now, self._levers(target)
        )
        self.breach = breach
        self.counters.breaches += 1
        self._publish_breach(breach, import_w, now)
        # the infrastructure agent applies the hints: every GPU lever, then the sets
        sim = self.sim
        sim.hold_import(
            target.in_force_w, suspend=not target.best_effort, generators=self.options.generators
        )
        breach.enforced_s = now
        self._say(
            f"t={now:.0f}s breach {breach.breach_id}: import {import_w / 1e3:,.1f} kW, "
            f"over the target {target.in_force_w / 1e3:,.1f} kW; shed hints applied"
        )
        return breach

    def _follow_breach(self, breach: Breach, import_w: float, compliant: bool, now: float) -> None:
        allowance_s = sum(self._allowances(breach).values())  # pulled one after another
        waited_s = now - breach.start_s
        if (compliant or waited_s >= allowance_s) and not breach.reported:
            self._publish_enforcement(breach, "applied", now, met=compliant)
            breach.reported = True
        if compliant:
            breach.status = "resolved"
            self._publish_breach(breach, import_w, now)
            self.last_breach = breach
            self.breach = None
            self._say(f"t={now:.0f}s breach {breach.breach_id} resolved: {import_w / 1e3:,.1f} kW")
        elif breach.status == "active" and waited_s >= allowance_s:
            breach.status = "escalated"
            self._publish_breach(breach, import_w, now)

    def _revert(self, now: float) -> None:
        """The target changed or went: the hints in force are taken back, and a breach
        still open is resolved."""
        breach = self.breach
        if breach is not None:
            breach.status = "resolved"
            self._publish_breach(breach, self.import_w, now)
            self.breach = None
        else:
            breach = self.last_breach
        if breach is not None and breach.enforced_s is not None:
            self._publish_enforcement(breach, "reverted", now, met=False)
        self.last_breach = None

    def _allowances(self, breach: Breach) -> dict[str, float]:
        """How long each lever needs, s: the BESS one step; the GPU caps twin's
        controller's settling; the generator sets their start and their ramp to all they
        can give (only where allowed)."""
        sim = self.sim
        out = {"BESS": sim.dt_s}
        if breach.levers:
            out["GPU levers"] = GPU_LEVER_ALLOWANCE_S
        if self.options.generators and sim.power_chain.p.generators.units > 0:
            gens = sim.power_chain.p.generators
            out["generators"] = gens.start_delay_s + gens.rating_mw / gens.ramp_mw_per_s
        return out

    def hints(self, breach: Breach) -> list[dict[str, Any]]:
        out = []
        for lever in breach.levers:
            for row, racks in lever.rows:
                hint = {
                    "resource_id": row,
                    "resource_type": "chassis",
                    "action": lever.action,
                    "priority": lever.priority,
                }
                if lever.action == "power_cap":
                    hint["target_power"] = power(lever.cap_to * float(self.rack_tdp_w[racks].sum()))
                out.append(hint)
        return out

    def _publish_breach(self, breach: Breach, import_w: float, now: float) -> None:
        target = breach.target
        over = import_w / target.in_force_w - 1.0
        constraint = target.request.load_constraint
        data: dict[str, Any] = {
            "feed_tag": self.options.feed,
            "status": breach.status,
            "severity": "critical" if over > CRITICAL_OVER else "warning",
            "breach": {"breach_id": breach.breach_id, "detected_at": self._iso(breach.detected_s)},
            "target": {
                "correlation_id": target.correlation_id,
                "load_constraint": constraint.model_dump() if constraint else None,
            },
            "measured_load": power(import_w),
            # twin models no escalation beyond the hints (no node or rack shutdown)
            "infrastructure_actions": [],
        }
        if breach.status == "resolved":
            data["breach"]["resolved_at"] = self._iso(now)
        else:
            data["shed_hints"] = self.hints(breach)
        self._publish(
            breach_topic(self.options.agent),
            QOS_BREACH,
            envelope(
                TYPE_BREACH,
                f"//grid/v1/dsx-flex-agent/{self.options.agent}",
                "powerbreach",
                self._ms(now),
                self._data(data),
                trace_id=target.trace_id,
                correlation_id=target.correlation_id,
            ),
        )

    def lever_report(self, breach: Breach, now: float) -> tuple[list[dict], list[str]]:
        """Per hint an EnforcementResult, and per lever a line: what it gave, and how
        long it took from being pulled to 90 % of that, against what it allows. The
        levers are pulled one after another: each is timed from its own start (the BESS
        from the target's, lever k from the step the controller first pulled it, the sets
        from their start), its contribution taken up to the next lever's start."""
        sim = self.sim
        history = breach.history
        allow = self._allowances(breach)
        depth = sim.state.curtail_depth
        results, lines = [], []
        times = np.array([h.time_s for h in history])
        depths = np.array([h.depth for h in history])

        def pulled_at(level: float) -> int | None:
            """The first sample in which the controller went past ``level``."""
            past = np.flatnonzero(depths > level)
            return int(past[0]) if past.size else None

        def took_s(start: int, end: int, given: np.ndarray, since_s: float) -> float | None:
            """Seconds from ``since_s`` to 90 % of what ``given`` reached at ``end``."""
            final = given[end]
            if final <= 0:
                return None
            reached = np.flatnonzero(given[start : end + 1] >= 0.9 * final)
            return float(times[start + reached[0]] - since_s)

        last = len(history) - 1
        bess = np.array([h.bess_w for h in history])
        bess_s = took_s(0, last, bess, breach.start_s) if history else None
        if history:
            lines.append(
                f"BESS {bess[last] / 1e3:,.1f} kW"
                + (f" within {bess_s:g} s" if bess_s is not None else "")
                + f" (allows {allow['BESS']:g} s)"
            )
        for k, lever in enumerate(breach.levers):
            first = pulled_at(k)
            following = pulled_at(k + 1)
            end = last if following is None else following - 1
            for row, racks in lever.rows:
                row_index = self.row_names.index(row)
                # a lever the next one went past is at its own floor; later levers on the
                # same racks (a suspend after a cap) cap them further, not this one
                cap = (
                    lever.cap_to
                    if following is not None
                    else float(sim.state.curtail_cap_fraction[racks].min())
                )
                result: dict[str, Any] = {
                    "resource_id": row,
                    "resource_type": "chassis",
                    "requested_action": lever.action,
                    "code": "applied" if first is not None else "skipped",
                }
                if first is None:
                    result["message"] = "not needed: the target was met before this lever"
                    results.append(result)
                    continue
                # the row's draw from the sample before the lever was pulled
                row_w = np.array([h.rows_w[row_index] for h in history])
                before = row_w[max(first - 1, 0)]
                taken = took_s(first, end, before - row_w, times[first] - sim.dt_s)
                result["message"] = (
                    f"cap {cap:.0%} of TDP; row {before / 1e3:,.1f} -> "
                    f"{row_w[end] / 1e3:,.1f} kW"
                    + (f", 90 % of it within {taken:g} s" if taken is not None else "")
                    + f" (allows {allow['GPU levers']:g} s)"
                )
                if lever.action == "power_cap":
                    result["applied_power"] = power(cap * float(self.rack_tdp_w[racks].sum()))
                results.append(result)
            if first is not None:
                lines.append(
                    f"priority {lever.priority} {lever.action} on "
                    f"{len(lever.rows)} row(s) pulled to "
                    f"{min(depth - k, 1.0):.0%}"
                )
        if "generators" in allow and history:
            gens = np.array([h.generator_w for h in history])
            first = pulled_at(len(breach.levers))
            line = f"generators {gens[last] / 1e3:,.1f} kW"
            if first is not None:
                taken = took_s(first, last, gens, times[first] - sim.dt_s)
                if taken is not None:
                    line += f" within {taken:g} s of their start"
            lines.append(line + f" (allow {allow['generators']:g} s)")
        return results, lines

    def _publish_enforcement(self, breach: Breach, action: str, now: float, *, met: bool) -> None:
        target = breach.target
        results, lines = self.lever_report(breach, now)
        if action == "reverted":
            results = [
                {
                    **r,
                    "code": "applied" if r["code"] == "applied" else "skipped",
                    "message": "released",
                }
                for r in results
            ]
            results = [{k: v for k, v in r.items() if k != "applied_power"} for r in results]
            code = "success"
            diag = "the load target went; the levers are let go"
        else:
            code = "success" if met else "partial"
            allowed_s = sum(self._allowances(breach).values())
            when = (
                f"met {self.met_s - breach.start_s:g} s after it took effect"
                if met and self.met_s is not None
                else f"not met within {now - breach.start_s:g} s"
            )
            when += f" (the levers allow {allowed_s:g} s in all)"
            diag = f"target {target.in_force_w / 1e3:,.1f} kW {when}; " + "; ".join(lines)
        data = {
            "breach_id": breach.breach_id,
            "feed_tag": self.options.feed,
            "action": action,
            "code": code,
            "diag_msg": diag,
            "results": results,
            "timestamp": self._iso(now),
        }
        self.counters.enforcements += 1
        self._say(f"t={now:.0f}s enforcement {action} ({code}): {diag}")
        self._publish(
            enforcement_topic(self.options.infra),
            QOS_ENFORCEMENT,
            envelope(
                TYPE_ENFORCEMENT,
                f"//grid/v1/infra/{self.options.infra}",
                "powerbreach",
                self._ms(now),
                self._data(data),
                trace_id=target.trace_id,
                correlation_id=target.correlation_id,
            ),
        )

    # ------------------------------------------------------------------ status

    def publish_status(self, event: str, about: Target | None = None) -> None:
        """A power-state snapshot; its correlation id and trace those of ``about`` (the
        target just set), else of the target in force."""
        now = self.now_s()
        target = self.active
        import_w = getattr(self, "import_w", 0.0)
        compliant = target is None or import_w <= target.in_force_w * (1.0 + COMPLIANCE_TOLERANCE)
        feed = {
            "metadata": {
                "power_minimum": power(self.power_minimum_w),
                "power_maximum": power(self.power_maximum_w),
                "default_constraint": power(self.power_maximum_w),
            },
            "targets": [t.as_feed_target(t is target) for t in self.targets],
            "calculated_load": power(import_w),
            "in_flight": self.ramp is not None,
            "event": event,
            "power_event_start_time": (
                self._iso(self.event_start_s) if self.event_start_s is not None else None
            ),
            "compliant": compliant,
        }
        data = {"snapshot_time": self._iso(now), "feeds": {self.options.feed: feed}}
        self.counters.statuses += 1
        of = about or target
        self._publish(
            status_topic(self.options.agent),
            QOS_STATUS,
            envelope(
                TYPE_STATUS,
                f"//grid/v1/dsx-flex-agent/{self.options.agent}",
                "powerstate",
                self._ms(now),
                self._data(data),
                trace_id=of.trace_id if of else None,
                correlation_id=of.correlation_id if of else None,
            ),
        )
        self.next_status_s = now + self.options.status_every_s

    # ------------------------------------------------------------------ helpers

    def _publish(self, topic: str, qos: int, payload: bytes) -> None:
        self.link.publish(topic, payload, qos=qos)

    def _data(self, data: dict[str, Any]) -> dict[str, Any] | str:
        """An event's data as sent: JWS-signed where the agent has a key."""
        if self.options.sign_key is None:
            return data
        return sign(data, self.options.sign_key, self.options.sign_kid or self.options.agent)

    def _ms(self, time_s: float) -> float:
        return self.epoch_ms + time_s * 1000.0

    def _iso(self, time_s: float) -> str:
        return iso(self._ms(time_s))


def _matched(pattern: re.Pattern[str], text: str) -> re.Match[str]:
    """``pattern``'s match of ``text``, which the message's model checked against it."""
    found = pattern.match(text)
    if found is None:
        raise FlexMessageError(f"{text!r} does not match {pattern.pattern}")
    return found


def _utc(when: dt.datetime) -> str:
    return when.astimezone(dt.UTC).isoformat().replace("+00:00", "Z")


def _describe(target: Target) -> str:
    limit = (
        "no constraint" if target.constraint_w is None else f"{target.constraint_w / 1e3:,.1f} kW"
    )
    end = "until replaced" if math.isinf(target.end_s) else f"to t={target.end_s:.0f}s"
    return f"{limit} from t={target.start_s:.0f}s {end}" + (
        " (best effort)" if target.best_effort else ""
    )
