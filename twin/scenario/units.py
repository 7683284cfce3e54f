"""Parsing of durations written the way engineers write them: ``90s``, ``15min``, ``6h``, ``2d``."""

from __future__ import annotations

import re

SECONDS_PER_UNIT = {"ms": 1e-3, "s": 1.0, "min": 60.0, "h": 3600.0, "d": 86400.0}
DURATION_FORMS = "a number with a unit: ms, s, min, h or d (for example 90s, 15min, 6h, 2d)"
_DURATION = re.compile(r"^\s*([0-9]+(?:\.[0-9]*)?|\.[0-9]+)\s*(ms|s|min|h|d)\s*$")


def parse_duration(text: str) -> float:
    """Return the duration in seconds, or raise ValueError naming the allowed forms."""
    match = _DURATION.match(text) if isinstance(text, str) else None
    if match is None:
        raise ValueError(f"{text!r} is not a duration; write {DURATION_FORMS}")
    return float(match.group(1)) * SECONDS_PER_UNIT[match.group(2)]


def format_duration(seconds: float) -> str:
    """The shortest exact form among d, h, min, s (used in summaries and file names)."""
    for unit in ("d", "h", "min", "s"):
        count = seconds / SECONDS_PER_UNIT[unit]
        if count >= 1 and abs(count - round(count)) < 1e-9:
            return f"{round(count)}{unit}"
    return f"{seconds:g}s"
