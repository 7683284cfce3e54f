"""The scenario timeline as the window edits it, and written back to the scenario's TOML.

``Timeline`` holds the scheduled events (the file's ``[[events]]`` and those added in the
editor) and the ones the operator injected, each remembering the ``[[events]]`` table it
came from, with undo and a modified flag. ``save_timeline`` writes it back to the
human-edited file: only the ``[[events]]`` tables whose event changed are rewritten (and
within them only the keys that changed), removed ones are cut, new ones appended; the
comments and every other table stay as they were. The result is loaded before it
replaces the file, atomically, so a file is never left half-written.
"""

from __future__ import annotations

import os
import re
import tomllib
from collections.abc import Sequence
from dataclasses import dataclass, replace
from operator import attrgetter
from pathlib import Path
from typing import Literal

from pydantic import TypeAdapter, ValidationError

from twin.paths import data_dir
from twin.scenario import Scenario, ScenarioError, loads
from twin.scenario.files import parse_toml, read_text
from twin.scenario.problems import Problem
from twin.scenario.schema import Event
from twin.scenario.units import format_duration, parse_duration

Origin = Literal["scenario", "operator"]
"""``scenario``: on the timeline (the file's, or added in the editor); ``operator``:
injected from the window and applied at once, at its time."""

_EVENT = TypeAdapter(Event)


def user_scenario_dir() -> Path:
    """Where a user's own scenarios go by default (a built-in one is saved as a copy there):
    on Linux ``$XDG_DATA_HOME/twin/scenarios``, else ``~/.local/share/twin/scenarios``."""
    return data_dir() / "scenarios"


# --------------------------------------------------------------------------- TOML text


def duration_text(seconds: float) -> str:
    """``4h``, ``90s``; a time no unit gives exactly is written in seconds (``4801.5s``)."""
    text = format_duration(seconds)
    if parse_duration(text) == seconds:
        return text
    return f"{seconds!r}s" if "e" not in repr(seconds) else f"{seconds:f}s"


def _toml_value(name: str, value: object) -> str:
    if name.endswith("_s") and isinstance(value, int | float) and not isinstance(value, bool):
        text = format_duration(float(value))
        # a time that no unit writes exactly stays a number of seconds, to the last digit
        return f'"{text}"' if parse_duration(text) == value else repr(float(value))
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int | float):
        return repr(value)
    if isinstance(value, str):
        return '"' + value.replace("\\", "\\\\").replace('"', '\\"') + '"'
    if isinstance(value, list | tuple):
        return "[" + ", ".join(_toml_value(name, v) for v in value) + "]"
    raise TypeError(f"an event field {name} of type {type(value).__name__} has no TOML form")


def _event_items(event: Event) -> dict[str, str]:
    """The keys an event's table holds, with their TOML values (unset options left out)."""
    return {
        name: _toml_value(name, value)
        for name, value in event.model_dump().items()
        if value is not None and value != []
    }


def event_toml(event: Event) -> str:
    """One event as a ``[[events]]`` table; durations written with their unit."""
    lines = ["[[events]]", *(f"{name} = {value}" for name, value in _event_items(event).items())]
    return "\n".join(lines) + "\n"


_EVENTS_HEADER = re.compile(r"^[ \t]*\[\[[ \t]*events[ \t]*\]\][ \t]*(?:#.*)?$")
_ANY_HEADER = re.compile(r"^[ \t]*\[")
_KEY = re.compile(r"^[ \t]*([A-Za-z0-9_-]+)[ \t]*=")
_NOTHING = re.compile(r"^[ \t]*(?:#.*)?$")  # a blank or comment-only line


def _is_comment(line: str) -> bool:
    return line.lstrip().startswith("#")


@dataclass(frozen=True, slots=True)
class _Table:
    """An ``[[events]]`` table in the text, as line numbers: its header, one past its last
    key line, and one past its end (the next table's header or the end of the file); the
    blank and comment lines after its last key belong to what follows."""

    start: int
    body_end: int
    end: int


def _event_tables(lines: list[str]) -> list[_Table]:
    tables = []
    for start, line in enumerate(lines):
        if not _EVENTS_HEADER.match(line):
            continue
        end = next(
            (k for k in range(start + 1, len(lines)) if _ANY_HEADER.match(lines[k])), len(lines)
        )
        body_end = start + 1
        for k in range(start + 1, end):
            if not _NOTHING.match(lines[k]):
                body_end = k + 1
        tables.append(_Table(start, body_end, end))
    return tables


def _key_spans(lines: list[str]) -> list[tuple[str | None, list[str]]]:
    """A table's body as (key, its lines) items; comment and blank lines have no key. A
    value that continues over several lines (an array) is one item with all its lines."""
    items: list[tuple[str | None, list[str]]] = []
    k = 0
    while k < len(lines):
        match = _KEY.match(lines[k])
        if match is None:
            items.append((None, [lines[k]]))
            k += 1
            continue
        end = k + 1
        while end < len(lines):
            try:
                tomllib.loads("".join(lines[k:end]))
                break
            except tomllib.TOMLDecodeError:
                end += 1
        items.append((match.group(1), lines[k:end]))
        k = end
    return items


def _rewritten_table(lines: list[str], old: Event, new: Event) -> list[str]:
    """An event's table changed from ``old`` to ``new`` with the fewest changed lines: its
    header, comments and unchanged keys stay as written, changed keys get their new value,
    keys the new event lacks go, and keys it needs are added after the last one."""
    header, body = lines[0], lines[1:]
    wanted = _event_items(new)
    old_values, new_values = old.model_dump(), new.model_dump()
    out: list[str] = [header]
    last_key = 0
    seen: set[str] = set()
    for key, item in _key_spans(body):
        if key is None:
            out += item
            continue
        seen.add(key)
        if key not in wanted:
            continue
        out += item if old_values.get(key) == new_values[key] else [f"{key} = {wanted[key]}\n"]
        last_key = len(out)
    fields = type(new).model_fields
    missing = [
        f"{key} = {value}\n"
        for key, value in wanted.items()
        if key not in seen
        and (
            fields[key].is_required()
            or fields[key].get_default(call_default_factory=True) != new_values[key]
        )
    ]
    return out[: last_key or 1] + missing + out[last_key or 1 :]


def with_timeline(text: str, entries: Sequence[tuple[int | None, Event]]) -> str:
    """The scenario text with its timeline made ``entries``: each is the index of the
    ``[[events]]`` table it came from (None for a new event) and the event now. Tables of
    indices left out are removed with the comment lines directly above them; a table whose
    event changed is rewritten key by key; new events are appended. Raises ScenarioError
    when the text's events are not one ``[[events]]`` table each (an inline array, say)."""
    lines = text.splitlines(keepends=True)
    if lines and not lines[-1].endswith("\n"):
        lines[-1] += "\n"
    tables = _event_tables(lines)
    original = _table_events(lines, tables, parse_toml(text, "<scenario>").get("events", []))
    kept = {index: event for index, event in entries if index is not None}
    if not set(kept) <= set(range(len(tables))):
        raise ValueError(f"no [[events]] tables {sorted(set(kept) - set(range(len(tables))))}")
    out: list[str] = []
    position = 0
    for index, table in enumerate(tables):
        out += lines[position : table.start]
        position = table.end
        tail = lines[table.body_end : table.end]
        if index not in kept:
            while out and _is_comment(out[-1]):
                out.pop()
            if not out or not out[-1].strip():  # no blank lines piling up where it was
                while tail and not tail[0].strip():
                    tail = tail[1:]
            out += tail
            continue
        body = lines[table.start : table.body_end]
        out += (
            body
            if kept[index] == original[index]
            else _rewritten_table(body, original[index], kept[index])
        )
        out += tail
    out += lines[position:]
    added = [event_toml(event) for index, event in entries if index is None]
    result = "".join(out).rstrip("\n") + "\n"
    return result + "".join("\n" + table for table in added) if added else result


def _table_events(lines: list[str], tables: list[_Table], events: list[object]) -> list[Event]:
    """The event each located table holds, checked against the whole file's events, so
    that a table is never taken for another (or a line inside a string for a table)."""
    problem = None
    if len(tables) != len(events):
        problem = (
            f"the file has {len(events)} events but {len(tables)} [[events]] tables; "
            "the editor rewrites a timeline written as one [[events]] table per event"
        )
    else:
        for k, table in enumerate(tables):
            try:
                parsed = tomllib.loads("".join(lines[table.start : table.end]))["events"][0]
            except (tomllib.TOMLDecodeError, KeyError, IndexError):
                parsed = None
            if parsed != events[k]:
                problem = (
                    f"the [[events]] table on line {table.start + 1} could not be told "
                    "apart from the text around it"
                )
                break
    if problem is not None:
        raise ScenarioError("<scenario>", [Problem("events", problem)])
    try:
        return [_EVENT.validate_python(event) for event in events]
    except ValidationError:
        raise ScenarioError(
            "<scenario>",
            [Problem("events", "the file's events are not valid; fix them in the file first")],
        ) from None


def save_timeline(
    source: Path,
    entries: Sequence[tuple[int | None, Event]],
    opened: Sequence[Event],
    target: Path | None = None,
) -> Scenario:
    """Write the timeline ``entries`` (see ``with_timeline``) into the scenario file
    ``source``, or into ``target`` with the rest of ``source``. ``opened`` are the events
    the file held when it was opened: if they have changed on disk since, nothing is
    written (the table indices would point at other events). The file is replaced only if
    the result loads, with the intended events and every other table as it was. Returns
    the new scenario; raises ScenarioError (nothing written) or OSError."""
    target = target or source
    text = read_text(source)
    where = str(target)
    try:
        on_disk = loads(text, source=str(source))
    except ScenarioError as exc:
        raise ScenarioError(
            str(source),
            [
                Problem(
                    "",
                    (
                        "the file no longer loads (was it edited outside the window?); nothing was "
                        "written"
                    ),
                ),
                *exc.problems,
            ],
        ) from None
    if list(on_disk.events) != list(opened):
        raise ScenarioError(
            str(source),
            [
                Problem(
                    "events",
                    (
                        "the file's timeline was changed outside the window since it was opened; "
                        "nothing was written: open the file again to edit the timeline it has now"
                    ),
                )
            ],
        )
    try:
        new_text = with_timeline(text, entries)
    except ScenarioError as exc:
        raise ScenarioError(str(source), exc.problems) from None
    scenario = loads(new_text, source=where)  # raises with every problem, nothing written
    intended = [
        event
        for index, event in sorted(
            ((i, e) for i, e in entries if i is not None), key=lambda pair: pair[0]
        )
    ] + [event for index, event in entries if index is None]
    rest_before = {k: v for k, v in parse_toml(text, where).items() if k != "events"}
    rest_after = {k: v for k, v in parse_toml(new_text, where).items() if k != "events"}
    if list(scenario.events) != intended or rest_before != rest_after:
        raise ScenarioError(
            where,
            [
                Problem(
                    "events",
                    (
                        "the timeline could not be written without touching the rest of the file; "
                        "nothing was written"
                    ),
                )
            ],
        )
    target.parent.mkdir(parents=True, exist_ok=True)
    partial = target.with_name(target.name + ".partial")
    partial.write_text(new_text, encoding="utf-8")
    os.replace(partial, target)  # an interrupted save leaves the old file whole
    return scenario


# --------------------------------------------------------------------------- the model


@dataclass(frozen=True, slots=True)
class Entry:
    """One event on the timeline, and the ``[[events]]`` table of the file it is in."""

    event: Event
    origin: Origin
    file_index: int | None = None  # None: not in the file (yet)

    @property
    def at_s(self) -> float:
        return self.event.at_s


def _by_time(entries: list[Entry]) -> list[Entry]:
    return sorted(entries, key=lambda entry: entry.at_s)


class Timeline:
    """The scenario's timeline as the window shows and edits it; no Qt.

    Edits change the scheduled events (``schedule``, what the simulation is to play) and
    can be undone; injected events are what happened, not edits. ``modified`` says whether
    the scheduled events differ from the file's. The simulation is told each new schedule
    with a generation number (``schedule_sent``); if it refuses one (an event became past
    meanwhile), the timeline goes back to the last schedule it took."""

    def __init__(self, events: Sequence[Event]) -> None:
        self.saved: tuple[Event, ...] = tuple(events)  # the file's events, in file order
        self.entries = _by_time([Entry(e, "scenario", i) for i, e in enumerate(events)])
        self._history: list[list[Entry]] = []
        self._generation = 0
        self._sent: dict[int, list[Entry]] = {}
        self._accepted = self.scheduled_entries

    @property
    def scheduled_entries(self) -> list[Entry]:
        return [entry for entry in self.entries if entry.origin == "scenario"]

    @property
    def schedule(self) -> list[Event]:
        """The events the simulation is to play, in time order."""
        return [entry.event for entry in self.scheduled_entries]

    @property
    def injected(self) -> list[Event]:
        """The operator's events, each at the simulated time it was applied."""
        return [entry.event for entry in self.entries if entry.origin == "operator"]

    @property
    def unsaved_injected(self) -> int:
        return sum(
            entry.origin == "operator" and entry.file_index is None for entry in self.entries
        )

    @property
    def modified(self) -> bool:
        """The scheduled events differ from the file's (injected ones aside)."""
        in_file = {e.file_index: e.event for e in self.entries if e.file_index is not None}
        return in_file != dict(enumerate(self.saved)) or any(
            e.file_index is None for e in self.scheduled_entries
        )

    @property
    def can_undo(self) -> bool:
        return bool(self._history)

    def add_injected(self, time_s: float, event: Event) -> None:
        entry = Entry(event.model_copy(update={"at_s": time_s}), "operator")
        self.entries = _by_time([*self.entries, entry])

    def add(self, event: Event) -> Entry:
        entry = Entry(event, "scenario")
        self._edit([*self.scheduled_entries, entry])
        return entry

    def replace(self, entry: Entry, event: Event) -> Entry:
        """Put ``event`` in the place (and the file's table) of a scheduled ``entry``."""
        new = replace(entry, event=event)
        self._edit([new if e is entry else e for e in self._scheduled_with(entry)])
        return new

    def remove(self, entry: Entry) -> None:
        self._edit([e for e in self._scheduled_with(entry) if e is not entry])

    def undo(self) -> bool:
        """Go back to the scheduled events before the last edit; False if there was none."""
        if not self._history:
            return False
        self._set_scheduled(self._history.pop())
        return True

    def _scheduled_with(self, entry: Entry) -> list[Entry]:
        scheduled = self.scheduled_entries
        if not any(e is entry for e in scheduled):
            raise ValueError(
                f"{entry.event.kind} at {entry.at_s:g} s is not a scheduled event of this timeline"
            )
        return scheduled

    def _edit(self, scheduled: list[Entry]) -> None:
        self._history.append(self.scheduled_entries)
        self._set_scheduled(scheduled)

    def _set_scheduled(self, scheduled: list[Entry]) -> None:
        operator = [e for e in self.entries if e.origin == "operator"]
        self.entries = _by_time([*scheduled, *operator])

    # the simulation's side

    def schedule_sent(self) -> tuple[int, list[Event]]:
        """A generation number and the schedule to send the simulation with it."""
        self._generation += 1
        self._sent[self._generation] = self.scheduled_entries
        return self._generation, self.schedule

    def schedule_answered(self, generation: int, accepted: bool) -> bool:
        """The simulation took (or refused) a schedule sent; True when the timeline went
        back to the last one it took (a refusal of the newest schedule sent)."""
        sent = self._sent.pop(generation, None)
        if sent is None:
            return False
        if accepted:
            self._accepted = sent
            return False
        if generation != self._generation:
            return False  # a newer schedule is on its way and will be answered too
        self._set_scheduled(self._accepted)
        return True

    # the file's side

    def file_entries(self) -> list[tuple[int | None, Event]]:
        """Every event for the file (scheduled and injected) with the table it is in;
        new ones in time order."""
        return [(entry.file_index, entry.event) for entry in self.entries]

    def mark_saved(self, events_in_file: Sequence[Event]) -> None:
        """The timeline was written (see ``save_timeline``): tables kept in their order,
        new ones after them in time order."""
        kept = sorted(
            (e for e in self.entries if e.file_index is not None), key=attrgetter("file_index")
        )
        order = kept + [e for e in self.entries if e.file_index is None]
        if [e.event for e in order] != list(events_in_file):
            raise ValueError("the saved file's events are not the timeline's")
        index = {id(entry): k for k, entry in enumerate(order)}
        renumber = {id(e): replace(e, file_index=index[id(e)]) for e in self.entries}
        self.entries = [renumber[id(e)] for e in self.entries]
        self._accepted = [renumber.get(id(e), e) for e in self._accepted]
        self._history.clear()  # an undo would point at tables that are no longer there
        self.saved = tuple(events_in_file)
