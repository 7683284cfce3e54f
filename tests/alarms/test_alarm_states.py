"""The alarm engine's state machine (ISA-18.2 / IEC 62682), table-driven; deadband and
delays against a chattering value; shelving and its expiry; suppression by design; flood
detection; operator commands and their errors.

The points here read a stand-in for a snapshot (``Scan``: a time and an array of values
per component), so each test sets exactly the values it needs.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
import pytest

from twin.alarms import (
    AlarmEngine,
    AlarmKey,
    AlarmPoint,
    AlarmState,
    Condition,
    JournalRow,
    Limit,
    Priority,
    SuppressedTarget,
    SuppressionRule,
)

LIMIT_C = 80.0
COMPONENTS = tuple(f"R{i:02d}" for i in range(1, 13))


@dataclass
class Scan:
    """What the test points read: one value and one suppression cause per component."""

    time_s: float
    value: np.ndarray
    cause: np.ndarray = field(default_factory=lambda: np.zeros(len(COMPONENTS), dtype=bool))


class RecordingJournal:
    """Keeps the rows the engine writes (the SQLite journal is tested on its own)."""

    def __init__(self) -> None:
        self.rows: list[JournalRow] = []

    def record(self, row: JournalRow) -> None:
        self.rows.append(row)

    def commit_if_due(self) -> None:
        pass

    def close(self) -> None:
        pass

    def events(self, event: str) -> list[JournalRow]:
        return [row for row in self.rows if row.event == event]


def temperature_point(**options) -> AlarmPoint:
    settings = dict(
        limits=(Limit(Condition.HIGH, LIMIT_C, Priority.MEDIUM),),
        deadband=0.0,
        on_delay_s=0.0,
        off_delay_s=0.0,
        source_kind="rack",
        source_index=np.arange(len(COMPONENTS)),
    )
    settings.update(options)
    return AlarmPoint(
        "rack.gpu_temp", "GPU temperature", "°C", COMPONENTS, lambda s: s.value, **settings
    )


class Harness:
    """One point (H at 80 °C) on twelve racks, one suppression rule, scans 1 s apart."""

    def __init__(
        self, point: AlarmPoint | None = None, hold_s: float = 0.0, **engine_options
    ) -> None:
        rule = SuppressionRule(
            "its CDU has no pump running",
            lambda s: s.cause,
            (SuppressedTarget("rack.gpu_temp", np.arange(len(COMPONENTS))),),
            hold_s,
        )
        self.journal = RecordingJournal()
        self.engine = AlarmEngine(
            [point or temperature_point()],
            [rule],
            journal=self.journal,
            clock=lambda: 1.7e9,
            **engine_options,
        )
        self.time_s = 0.0
        self.value = np.full(len(COMPONENTS), 50.0)
        self.cause = np.zeros(len(COMPONENTS), dtype=bool)
        self.key = AlarmKey("rack.gpu_temp", "H", 0)

    def scan(self, seconds: float = 1.0) -> None:
        self.time_s += seconds
        self.engine.update(Scan(self.time_s, self.value.copy(), self.cause.copy()))

    def hold(self, seconds: float) -> None:
        for _ in range(round(seconds)):
            self.scan()

    def set(self, value_c: float, component: int = 0) -> None:
        self.value[component] = value_c
        self.scan()

    @property
    def state(self) -> AlarmState:
        return self.engine.state(self.key)

    # the events of the state diagram, on component 0
    def activate(self) -> None:
        self.set(LIMIT_C + 5)

    def clear(self) -> None:
        self.set(LIMIT_C - 5)

    def ack(self) -> None:
        self.engine.acknowledge([self.key], note="seen")

    def shelve(self) -> None:
        self.engine.shelve([self.key], 600.0, "sensor under maintenance")

    def unshelve(self) -> None:
        self.engine.unshelve([self.key])

    def expire(self) -> None:
        self.scan(600.0)

    def suppress(self) -> None:
        self.cause[0] = True
        self.scan()

    def unsuppress(self) -> None:
        self.cause[0] = False
        self.scan()


N, UNACK, ACKED, RTN, SHELVED, SUPPRESSED = (
    AlarmState.NORMAL,
    AlarmState.UNACKNOWLEDGED,
    AlarmState.ACKNOWLEDGED,
    AlarmState.RETURNED_UNACKNOWLEDGED,
    AlarmState.SHELVED,
    AlarmState.SUPPRESSED,
)

# (how to reach the start state, its state, the event, the state after, journal event)
TRANSITIONS = [
    ((), N, "activate", UNACK, "raise"),
    ((), N, "clear", N, None),
    ((), N, "ack", N, None),
    (("activate",), UNACK, "ack", ACKED, "acknowledge"),
    (("activate",), UNACK, "clear", RTN, "clear"),
    (("activate",), UNACK, "activate", UNACK, None),
    (("activate", "ack"), ACKED, "clear", N, "clear"),
    (("activate", "ack"), ACKED, "ack", ACKED, None),
    (("activate", "clear"), RTN, "ack", N, "acknowledge"),
    (("activate", "clear"), RTN, "activate", UNACK, "raise"),
    ((), N, "shelve", SHELVED, "shelve"),
    (("activate",), UNACK, "shelve", SHELVED, "shelve"),
    (("activate", "ack"), ACKED, "shelve", SHELVED, "shelve"),
    (("activate", "shelve"), SHELVED, "ack", SHELVED, None),
    (("activate", "shelve"), SHELVED, "clear", SHELVED, "clear"),
    (("shelve",), SHELVED, "activate", SHELVED, "raise"),
    (("activate", "shelve"), SHELVED, "unshelve", UNACK, "unshelve"),
    (("activate", "ack", "shelve"), SHELVED, "unshelve", UNACK, "unshelve"),
    (("shelve",), SHELVED, "unshelve", N, "unshelve"),
    (("activate", "clear", "shelve"), SHELVED, "unshelve", N, "unshelve"),
    (("activate", "shelve"), SHELVED, "expire", UNACK, "unshelve"),
    (("shelve",), SHELVED, "expire", N, "unshelve"),
    ((), N, "suppress", SUPPRESSED, "suppress"),
    (("activate",), UNACK, "suppress", SUPPRESSED, "suppress"),
    (("activate", "ack"), ACKED, "suppress", SUPPRESSED, "suppress"),
    (("activate", "clear"), RTN, "suppress", SUPPRESSED, "suppress"),
    (("suppress",), SUPPRESSED, "activate", SUPPRESSED, "raise"),
    (("activate", "suppress"), SUPPRESSED, "ack", SUPPRESSED, None),
    (("activate", "suppress"), SUPPRESSED, "unsuppress", UNACK, "unsuppress"),
    (("activate", "ack", "suppress"), SUPPRESSED, "unsuppress", UNACK, "unsuppress"),
    (("activate", "clear", "suppress"), SUPPRESSED, "unsuppress", N, "unsuppress"),
    (("suppress", "activate", "clear"), SUPPRESSED, "unsuppress", N, "unsuppress"),
    (("activate", "suppress", "shelve"), SHELVED, "unsuppress", SHELVED, "unsuppress"),
    (("activate", "suppress", "shelve"), SHELVED, "unshelve", SUPPRESSED, "unshelve"),
]


@pytest.mark.parametrize(
    ("path", "start", "event", "end", "journaled"),
    TRANSITIONS,
    ids=[f"{t[1]}-{t[2]}" for t in TRANSITIONS],
)
def test_state_diagram(path, start, event, end, journaled):
    h = Harness()
    for step in path:
        getattr(h, step)()
    assert h.state is start
    rows_before = len(h.journal.rows)
    getattr(h, event)()
    assert h.state is end
    new = [row.event for row in h.journal.rows[rows_before:]]
    assert new == ([journaled] if journaled else [])
    if journaled:
        assert h.journal.rows[-1].state == str(end)
        assert h.journal.rows[-1].component == "R01"
    # the other racks never moved
    others = [h.engine.state(AlarmKey("rack.gpu_temp", "H", i)) for i in range(1, 12)]
    assert set(others) == {N}


def test_listed_alarms_are_those_an_operator_must_see():
    h = Harness()
    h.activate()  # R01: unacknowledged
    h.value[1] = LIMIT_C + 1
    h.cause[1] = True
    h.scan()  # R02: suppressed while active: listed
    h.cause[2] = True
    h.scan()  # R03: suppressed but not active: not listed
    h.engine.shelve([AlarmKey("rack.gpu_temp", "H", 3)], 60.0, "noisy sensor")  # R04
    listed = {a.component: a.state for a in h.engine.summary().alarms}
    assert listed == {"R01": UNACK, "R02": SUPPRESSED, "R04": SHELVED}
    view = next(a for a in h.engine.summary().alarms if a.component == "R01")
    assert view.priority is Priority.MEDIUM
    assert view.value == LIMIT_C + 5 and view.limit == LIMIT_C and view.unit == "°C"
    assert view.source == ("rack", 0)
    assert view.active_since_s == 1.0


def test_acknowledge_carries_its_note_and_acknowledge_all_takes_every_unacknowledged():
    h = Harness()
    h.value[:3] = LIMIT_C + 1
    h.scan()
    h.value[2] = LIMIT_C - 1
    h.scan()  # R03 returned to normal unacknowledged
    h.cause[1] = True
    h.scan()  # R02 suppressed: cannot be acknowledged
    assert h.engine.acknowledge([AlarmKey("rack.gpu_temp", "H", 1)], "x") == 0
    assert h.engine.acknowledge_all("pump crew informed") == 2
    assert h.engine.summary().unacknowledged == 0
    acks = h.journal.events("acknowledge")
    assert {row.component for row in acks} == {"R01", "R03"}
    assert {row.note for row in acks} == {"pump crew informed"}
    assert h.engine.state(AlarmKey("rack.gpu_temp", "H", 2)) is N
    view = next(a for a in h.engine.summary().alarms if a.component == "R01")
    assert view.note == "pump crew informed"


def test_deadband_holds_the_alarm_until_the_value_falls_below_limit_minus_deadband():
    h = Harness(temperature_point(deadband=5.0))
    for value, expected in [
        (79.9, N),
        (80.0, UNACK),
        (76.0, UNACK),
        (75.0, UNACK),
        (74.9, RTN),
        (79.9, RTN),
        (80.0, UNACK),
    ]:
        h.set(value)
        assert h.state is expected, value
    assert len(h.journal.events("raise")) == 2
    assert len(h.journal.events("clear")) == 1


def test_low_limits_mirror_high_ones():
    point = temperature_point(
        limits=(Limit(Condition.LOW_LOW, 100.0, Priority.HIGH),), deadband=10.0
    )
    h = Harness(point)
    h.key = AlarmKey("rack.gpu_temp", "LL", 0)
    for value, expected in [(100.1, N), (100.0, UNACK), (110.0, UNACK), (110.1, RTN)]:
        h.set(value)
        assert h.state is expected, value


def test_on_and_off_delays_keep_a_chattering_value_from_raising_or_clearing():
    h = Harness(temperature_point(on_delay_s=10.0, off_delay_s=20.0))
    for k in range(30):  # across the limit every second: never stands 10 s
        h.set(LIMIT_C + 1 if k % 2 == 0 else LIMIT_C - 1)
        assert h.state is N
    h.set(LIMIT_C + 1)
    h.hold(9)
    assert h.state is N  # 9 s above: not yet
    h.hold(1)
    assert h.state is UNACK  # 10 s: raised
    assert h.journal.events("raise")[0].sim_time_s == h.time_s
    for k in range(60):  # chatters for a minute: below for less than 20 s at a time
        h.set(LIMIT_C - 1 if k % 3 else LIMIT_C + 1)
        assert h.state is UNACK
    h.set(LIMIT_C + 1)
    h.set(LIMIT_C - 1)
    h.hold(19)
    assert h.state is UNACK
    h.hold(1)
    assert h.state is RTN
    assert len(h.journal.events("raise")) == 1
    assert len(h.journal.events("clear")) == 1


def test_shelving_lasts_its_duration_in_simulated_time_then_returns_the_alarm():
    h = Harness()
    h.activate()
    h.engine.shelve([h.key], 120.0, "known fault, repair booked")
    view = h.engine.summary().alarms[0]
    assert view.state is SHELVED and view.shelved_until_s == h.time_s + 120.0
    assert view.note == "known fault, repair booked"
    h.hold(119)
    assert h.state is SHELVED
    h.hold(1)
    assert h.state is UNACK
    shelve, unshelve = h.journal.events("shelve")[0], h.journal.events("unshelve")[0]
    assert shelve.duration_s == 120.0 and shelve.note == "known fault, repair booked"
    assert unshelve.note == "shelving expired"
    assert unshelve.sim_time_s - shelve.sim_time_s == 120.0


def test_shelving_needs_a_reason_and_a_limited_duration():
    h = Harness()
    with pytest.raises(ValueError, match="needs a reason"):
        h.engine.shelve([h.key], 60.0, "  ")
    with pytest.raises(ValueError, match="shelving duration"):
        h.engine.shelve([h.key], 0.0, "why")
    with pytest.raises(ValueError, match="shelving duration"):
        h.engine.shelve([h.key], 30 * 86400.0, "why")
    with pytest.raises(ValueError, match=r"no alarm rack\.flow L"):
        h.engine.acknowledge([AlarmKey("rack.flow", "L", 0)])
    with pytest.raises(ValueError, match="has no component 12"):
        h.engine.acknowledge([AlarmKey("rack.gpu_temp", "H", 12)])
    assert h.state is N


def test_suppression_holds_after_its_cause_so_consequences_clear_unseen():
    h = Harness(hold_s=30.0)
    h.suppress()
    h.activate()  # the consequence comes in while suppressed
    assert h.state is SUPPRESSED
    h.unsuppress()  # the cause is gone; the consequence still stands for a while
    h.hold(10)
    assert h.state is SUPPRESSED
    h.clear()
    h.hold(18)
    assert h.state is SUPPRESSED
    h.hold(1)
    assert h.state is N
    assert h.engine.summary().raised_by_priority == ()  # never annunciated
    assert [row.state for row in h.journal.events("raise")] == ["suppressed"]


def test_a_consequence_still_standing_when_the_hold_ends_comes_back_unacknowledged():
    h = Harness(hold_s=30.0)
    h.suppress()
    h.activate()
    h.unsuppress()
    h.hold(29)
    assert h.state is SUPPRESSED
    h.hold(1)
    assert h.state is UNACK
    assert h.journal.events("suppress")[0].note == "its CDU has no pump running"


def _raise_one_each(h: Harness, count: int, every_s: float) -> None:
    for i in range(count):
        h.value[i] = LIMIT_C + 1
        h.scan(every_s)


def test_more_than_ten_alarms_in_ten_minutes_is_a_flood_until_the_rate_falls():
    h = Harness()
    _raise_one_each(h, 10, 10.0)  # ten raised at t = 10 .. 100 s
    assert not h.engine.summary().flood.active
    h.value[10] = LIMIT_C + 1
    h.scan(10.0)  # the eleventh, at 110 s
    flood = h.engine.summary().flood
    assert flood.active and flood.count == 11 and flood.since_s == 110.0
    assert flood.by_priority == ((Priority.MEDIUM, 11),)
    assert flood.by_point == (("GPU temperature", 11),)
    assert "11 new alarms in the last 10 min" in flood.text()
    [start] = h.journal.events("flood-start")
    assert start.sim_time_s == 110.0 and "medium 11" in start.note
    h.scan(600.0 - 110.0 + 10.0)  # t = 610 s: the one of 10 s has left: 10, not below 10
    assert h.engine.summary().flood.active
    h.scan(10.0)  # t = 620 s: 9 left in the window
    flood = h.engine.summary().flood
    assert not flood.active and flood.count == 9
    assert h.journal.events("flood-end")[0].sim_time_s == 620.0


def test_shelved_and_suppressed_alarms_do_not_count_toward_a_flood():
    h = Harness()
    h.engine.shelve([AlarmKey("rack.gpu_temp", "H", i) for i in range(6)], 3600.0, "test")
    h.cause[6:] = True
    h.value[:] = LIMIT_C + 1
    h.scan()
    summary = h.engine.summary()
    assert summary.flood.count == 0 and not summary.flood.active
    assert len(h.journal.events("raise")) == 12


def test_an_earlier_snapshot_resets_the_engine():
    h = Harness()
    h.activate()
    h.hold(5)
    h.time_s = 0.0  # the simulation went back to its start
    h.value[:] = 50.0
    h.scan()
    assert h.state is N
    assert h.engine.summary().alarms == ()
    assert h.journal.rows[-1].event == "reset"


def test_definitions_are_checked_when_the_engine_is_built():
    wrong = temperature_point(limits=(Limit(Condition.HIGH, np.ones(3), Priority.LOW),))
    with pytest.raises(ValueError, match="3 H limits for 12 components"):
        AlarmEngine([wrong])
    twice = temperature_point(limits=(Limit(Condition.HIGH, 1.0, Priority.LOW),) * 2)
    with pytest.raises(ValueError, match="two H limits"):
        AlarmEngine([twice])
    rule = SuppressionRule("x", lambda s: s.cause, (SuppressedTarget("cdu.dp"),))
    with pytest.raises(ValueError, match=r"unknown point 'cdu\.dp'"):
        AlarmEngine([temperature_point()], [rule])
