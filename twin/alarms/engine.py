"""The alarm engine: limits, deadbands, delays, ISA-18.2 states, suppression, shelving,
flood detection, and the journal.

``AlarmEngine.update(snapshot)`` scans every alarm point. Each limit of a point is a
family of alarms, one per component, held in numpy arrays. While none of a point's
alarms has its condition present, one look at the reading (its largest value against
the lowest high limit, its smallest against the highest low limit) shows that nothing
changes; otherwise a scan compares the family's values with its thresholds in one
operation and goes into Python only for the components whose condition changed. The
delays are looked at only in a scan where one can end. A scan where nothing changes
costs a read and an argmax per point (see ``benchmarks/sim_speed.py`` for the whole
``twin run`` path against the bare engine).

States follow the ISA-18.2 / IEC 62682 state diagram::

    normal --active--> unacknowledged --ack--> acknowledged --clear--> normal
                       unacknowledged --clear--> returned unacknowledged --ack--> normal
                       returned unacknowledged --active--> unacknowledged
    any --shelve--> shelved --unshelve / expiry--> unacknowledged if active, else normal
    any --cause--> suppressed --cause gone--> unacknowledged if active, else normal

The process condition (``active``) is tracked the same while an alarm is shelved or
suppressed, so it comes back in the right state.

Threading: the engine is not thread-safe. It lives where the simulation is stepped (the
``twin run`` loop, or the GUI runner's worker thread, where it observes the run through
``on_start`` and ``on_step``, see ``twin.runs.observe``): ``update``, ``acknowledge``,
``shelve`` and ``unshelve`` are called there only (the GUI sends them through the
runner's command queue). ``summary()`` returns an immutable ``AlarmSummary`` that any
thread may read; the engine replaces it (one reference assignment) after each change.
"""

from __future__ import annotations

import math
import time
from collections import Counter, deque
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from enum import StrEnum
from typing import NamedTuple

import numpy as np

from twin.alarms.definitions import (
    AlarmPoint,
    Condition,
    Priority,
    SuppressionRule,
    default_points,
    default_suppression,
)
from twin.alarms.journal import AlarmJournal, JournalRow
from twin.scenario import Scenario
from twin.sim.snapshot import Snapshot
from twin.sim.topology import Topology, build_topology

SCAN_INTERVAL_S = 1.0  # simulated time between scans; every step when dt >= 1 s
FLOOD_THRESHOLD = 10  # more than this many new alarms ...
FLOOD_WINDOW_S = 600.0  # ... in this much simulated time is a flood (ISA-18.2)
MAX_SHELVE_S = 7 * 86400.0  # shelving is always for a limited time
TIME_EPSILON_S = 1e-9


def scan_every_steps(dt_s: float) -> int:
    """Steps between alarm scans for a simulation step of dt_s: about one scan per
    simulated second, and every step when a step is a second or longer."""
    return max(1, round(SCAN_INTERVAL_S / dt_s))


class AlarmState(StrEnum):
    NORMAL = "normal"
    UNACKNOWLEDGED = "unacknowledged"  # active, not acknowledged
    ACKNOWLEDGED = "acknowledged"  # active, acknowledged
    RETURNED_UNACKNOWLEDGED = "returned unacknowledged"  # cleared before acknowledged
    SHELVED = "shelved"
    SUPPRESSED = "suppressed"  # by design, while a cause alarm stands


class AlarmKey(NamedTuple):
    tag: str  # the point, e.g. "rack.gpu_temp"
    condition: str  # HH, H, L, LL or ON
    component: int  # index within the point's components


@dataclass(frozen=True, slots=True)
class AlarmView:
    """One alarm as the GUI and reports see it, frozen at its last transition."""

    key: AlarmKey
    description: str
    component: str
    priority: Priority
    state: AlarmState
    active: bool
    value: float  # at the last transition
    limit: float | None  # None for a discrete state
    unit: str
    source: tuple[str, int] | None  # the object the window selects, if it draws one
    active_since_s: float | None
    changed_s: float  # simulated time of the last transition
    note: str  # acknowledgement note, shelving reason or suppression cause
    shelved_until_s: float | None

    @property
    def condition(self) -> str:
        return self.key.condition


@dataclass(frozen=True, slots=True)
class FloodStatus:
    """New (annunciated) alarms in the last ``window_s`` and whether they make a flood."""

    active: bool
    count: int
    threshold: int
    window_s: float
    since_s: float | None  # when the flood began
    by_priority: tuple[tuple[Priority, int], ...]  # most urgent first
    by_point: tuple[tuple[str, int], ...]  # (description, count), most first

    def text(self) -> str:
        priorities = ", ".join(f"{p.label} {n}" for p, n in self.by_priority)
        points = ", ".join(f"{d} {n}" for d, n in self.by_point)
        return (
            f"Alarm flood: {self.count} new alarms in the last "
            f"{self.window_s / 60:g} min ({priorities}). {points}"
        )


@dataclass(frozen=True, slots=True)
class AlarmSummary:
    """What the alarm list shows: every alarm that is not normal (suppressed ones only
    while their condition is present), the flood status and counts since the start."""

    generation: int  # grows with each change
    time_s: float
    alarms: tuple[AlarmView, ...]
    flood: FloodStatus
    raised_by_priority: tuple[tuple[Priority, int], ...]  # annunciated since the start

    @property
    def unacknowledged(self) -> int:
        return sum(
            a.state in (AlarmState.UNACKNOWLEDGED, AlarmState.RETURNED_UNACKNOWLEDGED)
            for a in self.alarms
        )

    @property
    def active(self) -> int:
        return sum(a.active for a in self.alarms)


LISTED = frozenset(
    {
        AlarmState.UNACKNOWLEDGED,
        AlarmState.ACKNOWLEDGED,
        AlarmState.RETURNED_UNACKNOWLEDGED,
        AlarmState.SHELVED,
    }
)


class _Family:
    """One limit of one point, over all of the point's components."""

    __slots__ = (
        "_cond",
        "_diff",
        "acked",
        "active",
        "active_since",
        "compare",
        "condition",
        "is_high",
        "limit",
        "next_due_s",
        "off_threshold",
        "on_threshold",
        "point",
        "priority",
        "raw",
        "raw_count",
        "raw_since",
        "reading",
        "shelved_until",
        "shortest_delay_s",
        "sources",
        "suppressed",
        "tag",
        "threshold",
        "waiting",
    )

    def __init__(
        self, point: AlarmPoint, condition: Condition, limit: np.ndarray, priority: Priority
    ) -> None:
        n = len(point.components)
        self.point = point
        self.condition = condition
        self.priority = priority
        self.tag = point.tag
        deadband = np.broadcast_to(np.asarray(point.deadband, dtype=float), (n,))
        if condition is Condition.ON:
            self.limit = None
            self.on_threshold = np.full(n, 0.5)
            self.off_threshold = self.on_threshold
        else:
            self.limit = limit
            self.on_threshold = limit
            self.off_threshold = limit - deadband if condition.is_high else limit + deadband
        self.is_high = condition.is_high
        self.shortest_delay_s = min(point.on_delay_s, point.off_delay_s)
        self.compare = np.greater_equal if condition.is_high else np.less_equal
        self.sources = (
            None
            if point.source_kind is None or point.source_index is None
            else np.asarray(point.source_index, dtype=np.int64)
        )
        self._cond = np.zeros(n, dtype=bool)
        self._diff = np.zeros(n, dtype=bool)
        self.reading: _PointScan | None = None  # the point's scan, with its last reading
        self.reset()

    @property
    def values(self) -> np.ndarray:
        """The point's last reading (none before the first scan)."""
        if self.reading is None:
            raise RuntimeError(f"{self.point.tag} has not been scanned yet")
        return self.reading.values

    def reset(self) -> None:
        n = self.on_threshold.size
        self.threshold = self.on_threshold.copy()
        self.raw = np.zeros(n, dtype=bool)  # condition with the deadband, before delays
        self.raw_count = 0  # components whose raw condition is present
        self.raw_since = np.zeros(n)
        self.active = np.zeros(n, dtype=bool)  # after the delays
        self.active_since = np.full(n, np.nan)
        self.acked = np.ones(n, dtype=bool)
        self.suppressed = np.zeros(n, dtype=bool)
        self.shelved_until = np.full(n, np.nan)
        self.waiting = False  # some raw condition differs from active (a delay runs)
        self.next_due_s = math.inf  # no delay ends before this (it may end later)

    def scan(self, values: np.ndarray, t: float) -> None:
        """Update the raw condition; one comparison when nothing changes."""
        cond, diff = self._cond, self._diff
        self.compare(values, self.threshold, out=cond)
        np.not_equal(cond, self.raw, out=diff)
        if not diff.item(diff.argmax()):  # no change (argmax: the first True, or 0)
            return
        # whole-array copies: cheaper than indexing the few that changed, and the same
        # (raw equals cond where nothing changed, and each threshold follows its raw)
        np.copyto(self.raw, cond)
        self.raw_count = int(np.count_nonzero(cond))
        np.copyto(self.raw_since, t, where=diff)
        np.copyto(self.threshold, self.on_threshold)
        np.copyto(self.threshold, self.off_threshold, where=cond)
        self.waiting = True
        self.next_due_s = min(self.next_due_s, t + self.shortest_delay_s)

    def due(self, t: float) -> tuple[np.ndarray, np.ndarray]:
        """Components whose raw condition has stood its delay: (to raise, to clear)."""
        pending = np.flatnonzero(self.raw != self.active)
        rising = self.raw[pending]
        delay = np.where(rising, self.point.on_delay_s, self.point.off_delay_s)
        ends = self.raw_since[pending] + delay
        ready = t - self.raw_since[pending] >= delay - TIME_EPSILON_S
        self.waiting = not ready.all()
        # a condition that flips back and forth within its delay (a loading swinging
        # across its limit) is looked at again when the earliest delay can end, not at
        # every scan
        self.next_due_s = float(ends[~ready].min()) if self.waiting else math.inf
        return pending[ready & rising], pending[ready & ~rising]

    def hidden(self, i: int) -> bool:
        return bool(self.suppressed[i]) or not math.isnan(self.shelved_until[i])

    def state(self, i: int) -> AlarmState:
        if not math.isnan(self.shelved_until[i]):
            return AlarmState.SHELVED
        if self.suppressed[i]:
            return AlarmState.SUPPRESSED
        if self.active[i]:
            return AlarmState.ACKNOWLEDGED if self.acked[i] else AlarmState.UNACKNOWLEDGED
        return AlarmState.NORMAL if self.acked[i] else AlarmState.RETURNED_UNACKNOWLEDGED

    def limit_at(self, i: int) -> float | None:
        return None if self.limit is None else float(self.limit[i])

    def source(self, i: int) -> tuple[str, int] | None:
        if self.sources is None or self.point.source_kind is None:
            return None
        return self.point.source_kind, int(self.sources[i])


class _PointScan:
    """One point's families and the bounds that let a quiet scan stop at one look at its
    reading: while no component's condition is present (the point is not ``busy``), every
    threshold is its on-threshold, so a reading whose largest value is below the lowest
    high limit (and smallest above the highest low limit) changes nothing, and the
    per-component comparison is skipped."""

    __slots__ = ("busy", "families", "high_bound", "low_bound", "point", "read", "values")

    def __init__(self, point: AlarmPoint, families: list[_Family]) -> None:
        self.point = point
        self.read = point.read
        self.families = tuple(families)
        self.values = np.zeros(len(point.components))  # the last reading
        self.busy = False  # some family has a raw condition present
        for family in families:
            family.reading = self
        high = [f for f in families if f.is_high]
        low = [f for f in families if not f.is_high]
        # +inf / -inf: no limit on that side, the check always passes
        self.high_bound = min((float(f.on_threshold.min()) for f in high), default=math.inf)
        self.low_bound = max((float(f.on_threshold.max()) for f in low), default=-math.inf)

    def run(self, snapshot: Snapshot, t: float) -> bool:
        """Read the point and update its families' raw conditions; False when the reading
        was quiet and no family was looked at."""
        values = self.read(snapshot)
        if type(values) is not np.ndarray or values.ndim == 0:
            values = np.asarray(values).reshape(-1)
        self.values = values
        if not self.busy:
            # The largest and smallest value through argmax / argmin and item: one C call
            # each, where a ufunc reduction costs several times more on a short reading.
            # A NaN anywhere is what both return, and it passes neither check, so the
            # full comparison decides (where NaN meets no limit).
            high, low = self.high_bound, self.low_bound
            if (high == math.inf or values.item(values.argmax()) < high) and (
                low == -math.inf or values.item(values.argmin()) > low
            ):
                return False
        busy = False
        for family in self.families:
            family.scan(values, t)
            busy = busy or family.raw_count > 0
        self.busy = busy
        return True


def _any(flags: np.ndarray) -> bool:
    """Whether any of these bools is set: argmax stops at the first True, in one C call
    (``ndarray.any`` goes through Python and a ufunc reduction first)."""
    return flags.size > 0 and bool(flags.item(flags.argmax()))


class _RuleState:
    """A suppression rule's cause per cause component, held ``hold_s`` after it goes."""

    def __init__(self, hold_s: float) -> None:
        self.hold_s = hold_s
        self.cause: np.ndarray | None = None
        self.gone_since = np.zeros(0)  # NaN where not holding
        self.suppressing = np.zeros(0, dtype=bool)
        self.holding = False
        self._any_cause = False

    def update(self, cause: np.ndarray, t: float) -> bool:
        """Take this scan's cause; True if what the rule suppresses changed."""
        if self.cause is None:
            self.cause = cause.copy()
            self._any_cause = bool(cause.any())
            self.gone_since = np.full(cause.shape, np.nan)
            self.suppressing = cause.copy()
            return True
        if not self.holding:
            if not self._any_cause and not _any(cause):  # the usual scan: no cause at all
                return False
            if np.array_equal(cause, self.cause):
                return False
        self.gone_since[self.cause & ~cause] = t
        self.gone_since[cause] = np.nan
        held = t - self.gone_since < self.hold_s  # False where NaN
        self.gone_since[~held] = np.nan
        self.holding = bool(held.any())
        self.cause = cause.copy()
        self._any_cause = _any(cause)
        suppressing = cause | held
        if np.array_equal(suppressing, self.suppressing):
            return False
        self.suppressing = suppressing
        return True


class _Flood:
    def __init__(self, threshold: int, window_s: float) -> None:
        self.threshold = threshold
        self.window_s = window_s
        self.reset()

    def reset(self) -> None:
        self.recent: deque[tuple[float, Priority, str]] = deque()
        self.active = False
        self.since_s: float | None = None
        self.changed = False  # the window's content changed since the last status
        self.status = self._status()

    def add(self, t: float, priority: Priority, description: str) -> None:
        self.recent.append((t, priority, description))
        self.changed = True

    def update(self, t: float) -> str | None:
        """Drop what left the window; returns "flood-start" or "flood-end" on a change.
        A flood starts above the threshold and ends below it."""
        while self.recent and self.recent[0][0] <= t - self.window_s:
            self.recent.popleft()
            self.changed = True
        count = len(self.recent)
        change = None
        if not self.active and count > self.threshold:
            self.active, self.since_s, change = True, t, "flood-start"
        elif self.active and count < self.threshold:
            self.active, self.since_s, change = False, None, "flood-end"
        if self.changed or change:
            self.status = self._status()
            self.changed = False
        return change

    def _status(self) -> FloodStatus:
        priorities = Counter(p for _, p, _ in self.recent)
        points = Counter(d for _, _, d in self.recent)
        return FloodStatus(
            active=self.active,
            count=len(self.recent),
            threshold=self.threshold,
            window_s=self.window_s,
            since_s=self.since_s,
            by_priority=tuple(sorted(priorities.items())),
            by_point=tuple(points.most_common()),
        )


class AlarmEngine:
    """Evaluates alarm points on snapshots and keeps their ISA-18.2 states.

    ``clock`` gives the wall time recorded in the journal (Unix seconds).
    """

    def __init__(
        self,
        points: Iterable[AlarmPoint],
        suppression: Iterable[SuppressionRule] = (),
        *,
        journal: AlarmJournal | None = None,
        flood_threshold: int = FLOOD_THRESHOLD,
        flood_window_s: float = FLOOD_WINDOW_S,
        clock: Callable[[], float] = time.time,
    ) -> None:
        self.points = tuple(points)
        self.suppression = tuple(suppression)
        self.journal = journal
        self._clock = clock
        self._families: dict[tuple[str, str], _Family] = {}
        self._by_point: list[tuple[AlarmPoint, list[_Family]]] = []
        for point in self.points:
            self._by_point.append((point, self._compile(point)))
        self._rule_targets = self._compile_suppression()
        self._scans = [_PointScan(point, families) for point, families in self._by_point]
        self._next_due_s = math.inf  # no family's delay ends before this (see _Family)
        # a rule whose cause is a point's reading (the same function) takes that reading
        self._cause_scans = [
            next((scan for scan in self._scans if scan.read is rule.cause), None)
            for rule in self.suppression
        ]
        self._flood = _Flood(flood_threshold, flood_window_s)
        self._listed: dict[AlarmKey, AlarmView] = {}
        self._raised: Counter[Priority] = Counter()
        self._generation = 0
        self._time_s = 0.0
        self._wall_s = clock()
        self._shelved = 0
        self._rules = [_RuleState(rule.hold_s) for rule in self.suppression]
        self._summary = self._build_summary()
        self._scan_steps = 1  # set by on_start from the observed simulation's step
        self._observed_steps: int | None = None  # steps seen since on_start; None: never
        self._reading: Callable[[], Snapshot] | None = None

    @classmethod
    def from_scenario(
        cls,
        scenario: Scenario,
        topology: Topology | None = None,
        *,
        journal: AlarmJournal | None = None,
        **options,
    ) -> AlarmEngine:
        """The default points and suppression rules of a scenario (``definitions``)."""
        topology = topology or build_topology(scenario)
        return cls(
            default_points(scenario, topology),
            default_suppression(topology),
            journal=journal,
            **options,
        )

    # ------------------------------------------------------------------ compile

    def _compile(self, point: AlarmPoint) -> list[_Family]:
        n = len(point.components)
        if n == 0:
            raise ValueError(f"alarm point {point.tag!r} has no components")
        if point.source_index is not None and len(point.source_index) != n:
            raise ValueError(
                f"alarm point {point.tag!r}: {len(point.source_index)} sources for {n} components"
            )
        if np.ndim(point.deadband) and np.size(point.deadband) != n:
            raise ValueError(
                f"alarm point {point.tag!r}: {np.size(point.deadband)} deadbands for {n} components"
            )
        families = []
        for limit in point.limits:
            key = (point.tag, str(limit.condition))
            if key in self._families:
                raise ValueError(
                    f"alarm point {point.tag!r} has two {limit.condition} limits "
                    "(or two points share the tag)"
                )
            values = np.asarray(limit.value, dtype=float)
            if values.ndim and values.size != n:
                raise ValueError(
                    f"alarm point {point.tag!r}: {values.size} "
                    f"{limit.condition} limits for {n} components"
                )
            family = _Family(
                point, limit.condition, np.broadcast_to(values, (n,)).copy(), limit.priority
            )
            self._families[key] = family
            families.append(family)
        return families

    def _compile_suppression(self) -> list[list[tuple[list[_Family], np.ndarray | None]]]:
        tags = {point.tag: families for point, families in self._by_point}
        compiled = []
        for rule in self.suppression:
            targets = []
            for target in rule.targets:
                if target.tag not in tags:
                    raise ValueError(
                        f"suppression rule {rule.reason!r} names an unknown point {target.tag!r}"
                    )
                targets.append((tags[target.tag], target.cause_index))
            compiled.append(targets)
        return compiled

    # ------------------------------------------------------------------ scanning

    @property
    def time_s(self) -> float:
        """Simulated time of the last scan."""
        return self._time_s

    def update(self, snapshot: Snapshot) -> bool:
        """Scan every point on this snapshot; True if any alarm changed.

        A snapshot earlier than the last one means the simulation was reset: the engine
        resets too (and journals it) before it scans.
        """
        t = snapshot.time_s
        if t < self._time_s - TIME_EPSILON_S:
            self.reset()
        self._time_s = t
        self._wall_s = self._clock()
        generation = self._generation
        next_due_s = self._next_due_s
        for scan in self._scans:
            if scan.run(snapshot, t):
                for family in scan.families:
                    if family.next_due_s < next_due_s:
                        next_due_s = family.next_due_s
        # the causes before any alarm is raised or cleared, so that consequences arriving
        # in the same scan come in suppressed (the readings above change no alarm's state)
        self._update_suppression(snapshot, t)
        if t >= next_due_s - TIME_EPSILON_S:
            # some delay can end now: the families are looked at in their order (the
            # journal's order within a scan), and the next such time is found again
            next_due_s = math.inf
            for family in self._families.values():
                if family.waiting and t >= family.next_due_s - TIME_EPSILON_S:
                    rising, falling = family.due(t)
                    if rising.size:
                        self._activate(family, rising, family.values, t)
                    if falling.size:
                        self._clear(family, falling, family.values, t)
                if family.waiting and family.next_due_s < next_due_s:
                    next_due_s = family.next_due_s
        self._next_due_s = next_due_s
        if self._shelved:
            self._expire_shelving(t)
        status = self._flood.status
        change = self._flood.update(t)
        if change:
            self._journal_flood(change, t)
        if self._flood.status is not status:
            self._generation += 1
        if self.journal is not None:
            self.journal.commit_if_due()
        if self._generation != generation:
            self._summary = self._build_summary()
            return True
        return False

    def reset(self) -> None:
        """Back to all normal (the simulation went back to its start)."""
        for family in self._families.values():
            family.reset()
        for scan in self._scans:
            scan.busy = False
        self._next_due_s = math.inf
        self._listed.clear()
        self._raised.clear()
        self._flood.reset()
        self._rules = [_RuleState(rule.hold_s) for rule in self.suppression]
        self._shelved = 0
        if self.journal is not None:
            self.journal.record(
                JournalRow(
                    self._time_s,
                    self._clock(),
                    "reset",
                    "",
                    "",
                    "site",
                    "",
                    "",
                    None,
                    None,
                    "",
                    "alarm engine reset with the simulation",
                )
            )
        self._time_s = 0.0
        self._generation += 1
        self._summary = self._build_summary()

    def _activate(self, family: _Family, idx: np.ndarray, values: np.ndarray, t: float) -> None:
        family.active[idx] = True
        family.active_since[idx] = t
        for i in idx.tolist():
            if not family.hidden(i):
                family.acked[i] = False
                self._annunciate(family)
            self._transition("raise", family, i, float(values[i]), t)

    def _clear(self, family: _Family, idx: np.ndarray, values: np.ndarray, t: float) -> None:
        family.active[idx] = False
        family.active_since[idx] = np.nan
        for i in idx.tolist():
            self._transition("clear", family, i, float(values[i]), t)

    def _annunciate(self, family: _Family) -> None:
        self._raised[family.priority] += 1
        self._flood.add(self._time_s, family.priority, family.point.description)

    def _update_suppression(self, snapshot: Snapshot, t: float) -> None:
        # in the rules' order, not a set's (by memory address): the journal and the flood
        # summary list what happens in one scan in the same order on every run
        changed: dict[_Family, None] = {}
        for r, rule in enumerate(self.suppression):
            scan = self._cause_scans[r]
            cause = rule.cause(snapshot) if scan is None else scan.values
            if self._rules[r].update(np.asarray(cause, dtype=bool), t):
                for families, _ in self._rule_targets[r]:
                    changed.update(dict.fromkeys(families))
        for family in changed:
            wanted = np.zeros(family.suppressed.size, dtype=bool)
            reasons: dict[int, list[str]] = {}
            for r, targets in enumerate(self._rule_targets):
                cause = self._rules[r].suppressing
                for families, cause_index in targets:
                    if family not in families:
                        continue
                    hit = (
                        np.broadcast_to(cause[0], wanted.shape)
                        if cause_index is None
                        else cause[cause_index]
                    )
                    wanted |= hit
                    for i in np.flatnonzero(hit).tolist():
                        reasons.setdefault(i, []).append(self.suppression[r].reason)
            for i in np.flatnonzero(wanted != family.suppressed).tolist():
                family.suppressed[i] = wanted[i]
                if wanted[i]:
                    self._transition("suppress", family, i, math.nan, t, note="; ".join(reasons[i]))
                    continue
                if math.isnan(family.shelved_until[i]):
                    self._restore(family, i)
                self._transition("unsuppress", family, i, math.nan, t, note="")

    def _restore(self, family: _Family, i: int) -> None:
        """Back from shelved or suppressed: unacknowledged if active, else normal."""
        family.acked[i] = not family.active[i]
        if family.active[i]:
            self._annunciate(family)

    def _expire_shelving(self, t: float) -> None:
        for family in self._families.values():
            expired = np.flatnonzero(family.shelved_until <= t + TIME_EPSILON_S)
            for i in expired.tolist():
                self._unshelve(family, i, t, "shelving expired")

    # ------------------------------------------------------------------ run observer

    def on_start(self, run) -> None:
        """Scan ``run`` as it steps (``twin.runs.observe``): every ``scan_every_steps(dt)``
        steps. When the run starts again (its simulation was reset), the alarms go back to
        normal too."""
        if self._observed_steps is not None:
            self.reset()
        self._scan_steps = scan_every_steps(run.dt_s)
        self._observed_steps = 0
        # a copy-free view where the simulation offers one (twin.sim.live); else a snapshot
        # without the robots, which alarm points never read
        self._reading = getattr(run, "live_view", None) or (lambda: run.snapshot(robots=False))

    def on_step(self, run, applied) -> None:
        if self._reading is None or self._observed_steps is None:
            raise RuntimeError("on_step before on_start: the engine observes no run")
        self._observed_steps += 1
        if self._observed_steps % self._scan_steps == 0:
            self.update(self._reading())

    def on_finish(self) -> None:
        """Nothing to close: the journal belongs to whoever opened it."""

    # ------------------------------------------------------------------ operator actions

    def acknowledge(self, keys: Iterable[AlarmKey], note: str = "") -> int:
        """Acknowledge these alarms (those unacknowledged and neither shelved nor
        suppressed); returns how many were."""
        self._wall_s = self._clock()
        count = 0
        for key in keys:
            family, i = self._find(key)
            if not family.acked[i] and not family.hidden(i):
                count += self._acknowledge(family, i, note)
        return self._changed(count)

    def acknowledge_all(self, note: str = "") -> int:
        self._wall_s = self._clock()
        count = 0
        for family in self._families.values():
            for i in np.flatnonzero(~family.acked).tolist():
                if not family.hidden(i):
                    count += self._acknowledge(family, i, note)
        return self._changed(count)

    def _acknowledge(self, family: _Family, i: int, note: str) -> int:
        family.acked[i] = True
        self._transition("acknowledge", family, i, math.nan, self._time_s, note=note)
        return 1

    def shelve(self, keys: Iterable[AlarmKey], duration_s: float, reason: str) -> int:
        """Shelve alarms for ``duration_s`` of simulated time; a reason is required."""
        if not reason.strip():
            raise ValueError("shelving an alarm needs a reason")
        if not 0 < duration_s <= MAX_SHELVE_S:
            raise ValueError(
                f"a shelving duration lies in (0, {MAX_SHELVE_S / 86400:g} d], not {duration_s:g} s"
            )
        self._wall_s = self._clock()
        count = 0
        until = self._time_s + duration_s
        for key in keys:
            family, i = self._find(key)
            if math.isnan(family.shelved_until[i]):
                self._shelved += 1
            family.shelved_until[i] = until
            self._transition(
                "shelve",
                family,
                i,
                math.nan,
                self._time_s,
                note=reason.strip(),
                duration_s=duration_s,
            )
            count += 1
        return self._changed(count)

    def unshelve(self, keys: Iterable[AlarmKey]) -> int:
        self._wall_s = self._clock()
        count = 0
        for key in keys:
            family, i = self._find(key)
            if not math.isnan(family.shelved_until[i]):
                self._unshelve(family, i, self._time_s, "unshelved by the operator")
                count += 1
        return self._changed(count)

    def _unshelve(self, family: _Family, i: int, t: float, note: str) -> None:
        family.shelved_until[i] = np.nan
        self._shelved -= 1
        if not family.suppressed[i]:
            self._restore(family, i)
        self._transition("unshelve", family, i, math.nan, t, note=note)

    def _changed(self, count: int) -> int:
        if count:
            self._summary = self._build_summary()
            if self.journal is not None:
                self.journal.commit_if_due()
        return count

    def _find(self, key: AlarmKey) -> tuple[_Family, int]:
        family = self._families.get((key.tag, str(key.condition)))
        if family is None:
            raise ValueError(f"no alarm {key.tag} {key.condition}")
        if not 0 <= key.component < family.active.size:
            raise ValueError(f"alarm {key.tag} {key.condition} has no component {key.component}")
        return family, key.component

    # ------------------------------------------------------------------ state out

    def state(self, key: AlarmKey) -> AlarmState:
        family, i = self._find(key)
        return family.state(i)

    def summary(self) -> AlarmSummary:
        """The latest immutable summary; safe to read from any thread."""
        return self._summary

    def close(self) -> None:
        if self.journal is not None:
            self.journal.close()

    def _transition(
        self,
        event: str,
        family: _Family,
        i: int,
        value: float,
        t: float,
        *,
        note: str | None = None,
        duration_s: float | None = None,
    ) -> None:
        """Record one transition: the listed view, the journal, the generation."""
        key = AlarmKey(family.tag, str(family.condition), i)
        state = family.state(i)
        previous = self._listed.get(key)
        if math.isnan(value):  # an operator action or suppression: no new reading
            value = previous.value if previous is not None else math.nan
        if note is None:
            note = previous.note if previous is not None and event != "raise" else ""
        active = bool(family.active[i])
        if state in LISTED or (state is AlarmState.SUPPRESSED and active):
            shelved = family.shelved_until[i]
            since = family.active_since[i]
            self._listed[key] = AlarmView(
                key=key,
                description=family.point.description,
                component=family.point.components[i],
                priority=family.priority,
                state=state,
                active=active,
                value=value,
                limit=family.limit_at(i),
                unit=family.point.unit,
                source=family.source(i),
                active_since_s=None if math.isnan(since) else since,
                changed_s=t,
                note=note,
                shelved_until_s=None if math.isnan(shelved) else float(shelved),
            )
        else:
            self._listed.pop(key, None)
        self._generation += 1
        if self.journal is not None:
            self.journal.record(
                JournalRow(
                    t,
                    self._wall_s,
                    event,
                    family.tag,
                    str(family.condition),
                    family.point.components[i],
                    family.priority.label,
                    str(state),
                    None if math.isnan(value) else value,
                    family.limit_at(i),
                    family.point.unit,
                    family.point.description,
                    note,
                    duration_s,
                )
            )

    def _journal_flood(self, change: str, t: float) -> None:
        if self.journal is None:
            return
        status = self._flood.status
        self.journal.record(
            JournalRow(
                t,
                self._wall_s,
                change,
                "site.flood",
                "",
                "site",
                "",
                "flood" if status.active else "normal",
                float(status.count),
                float(status.threshold),
                "alarms",
                "alarm flood",
                status.text(),
            )
        )

    def _build_summary(self) -> AlarmSummary:
        return AlarmSummary(
            generation=self._generation,
            time_s=self._time_s,
            alarms=tuple(self._listed.values()),
            flood=self._flood.status,
            raised_by_priority=tuple(sorted(self._raised.items())),
        )
