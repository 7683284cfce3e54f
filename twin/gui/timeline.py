"""Events as scenario timeline entries: written back to a scenario's TOML file.

Events the operator injects in the window can be kept in the scenario, so that the
what-if plays again the same way in ``twin run`` or the next session. They are appended
as ``[[events]]`` tables, leaving the rest of the human-edited file (comments included)
untouched, and only after the whole file with them has loaded cleanly.
"""

from __future__ import annotations

import os
from collections.abc import Sequence
from pathlib import Path

from twin.scenario import Scenario, ScenarioError, loads
from twin.scenario.loader import Problem, read_text
from twin.scenario.schema import Event
from twin.scenario.units import format_duration


def event_toml(event: Event) -> str:
    """One event as a ``[[events]]`` table; durations written with their unit."""
    lines = ["[[events]]"]
    for name, value in event.model_dump(exclude_defaults=False).items():
        if value is None or value == []:
            continue
        lines.append(f"{name} = {_toml_value(name, value)}")
    return "\n".join(lines) + "\n"


def _toml_value(name: str, value: object) -> str:
    if name.endswith("_s") and isinstance(value, int | float) and not isinstance(value, bool):
        return f'"{format_duration(float(value))}"'
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int | float):
        return repr(value)
    if isinstance(value, str):
        return '"' + value.replace("\\", "\\\\").replace('"', '\\"') + '"'
    if isinstance(value, list | tuple):
        return "[" + ", ".join(_toml_value(name, v) for v in value) + "]"
    raise TypeError(f"an event field {name} of type {type(value).__name__} has no TOML form")


def with_events(text: str, events: Sequence[Event]) -> str:
    """The scenario text with ``events`` appended as timeline entries."""
    added = "\n".join(event_toml(event) for event in events)
    header = "\n# events added from the twin window\n"
    return text.rstrip("\n") + "\n" + header + added


def save_events(source: Path, events: Sequence[Event], target: Path | None = None
                ) -> Scenario:
    """Append ``events`` to the scenario file ``source`` (or write the result to
    ``target``); the file is replaced only if the result loads. Returns the new scenario;
    raises ScenarioError (nothing written) or OSError."""
    target = target or source
    if not events:
        raise ScenarioError(str(target), [Problem("events", "there are no events to save")])
    text = with_events(read_text(source), events)
    scenario = loads(text, source=str(target))  # raises with every problem, nothing written
    partial = target.with_name(target.name + ".partial")
    partial.write_text(text, encoding="utf-8")
    os.replace(partial, target)  # an interrupted save leaves the old file whole
    return scenario
