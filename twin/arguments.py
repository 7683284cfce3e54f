"""The kinds of value twin's commands take on the command line, as argparse types: each
turns the text into a value or says, in one line, what is wrong and what is accepted
(argparse reports it with the option's name)."""

from __future__ import annotations

import argparse
import math
from collections.abc import Callable

from twin.scenario.problems import range_text
from twin.scenario.units import parse_duration

MAX_RUN_S = 100 * 365 * 86400.0  # a century: longer than any plant runs unchanged
MAX_SPEED = 1e6  # times real time; beyond it a paced run is "as fast as it steps" anyway


def duration(text: str) -> float:
    """A simulated duration (``6h``, ``90s``, ``2d``), seconds; a bare number is refused
    with the unit it probably lacks."""
    try:
        return parse_duration(text)
    except ValueError as exc:
        message = str(exc)
        try:  # a bare number the unit is missing from (not 'nan' or 'inf')
            parse_duration(f"{text.strip()}s")
        except ValueError:
            pass
        else:
            message += f"; did you mean '{text.strip()}s'?"
        raise argparse.ArgumentTypeError(message) from None


def positive_duration(text: str) -> float:
    """A simulated duration above zero and at most ``MAX_RUN_S``."""
    seconds = duration(text)
    if seconds <= 0:
        raise argparse.ArgumentTypeError(f"{text!r} must be longer than zero")
    if seconds > MAX_RUN_S:
        raise argparse.ArgumentTypeError(
            f"{text!r} is longer than a run can mean; at most {MAX_RUN_S / 86400:,.0f}d (100 years)"
        )
    return seconds


def seed(text: str) -> int:
    """A random seed: a whole number from 0 to 2^63-1."""
    return whole_number(0, 2**63 - 1, shown="0 .. 2^63-1")(text)


def speed(text: str) -> float | None:
    """``1x``, ``60x``, ``0.5x`` or ``max`` (None: as fast as the model steps)."""
    if text.strip().lower() == "max":
        return None
    try:
        value = float(text.strip().lower().removesuffix("x"))
    except ValueError:
        raise argparse.ArgumentTypeError(
            f"{text!r} is not a speed such as 1x, 60x or max"
        ) from None
    if not 0 < value <= MAX_SPEED:
        raise argparse.ArgumentTypeError(f"{text!r} must lie above 0x and at most {MAX_SPEED:.0f}x")
    return value


def whole_number(low: int, high: int, *, shown: str | None = None) -> Callable[[str], int]:
    """A whole number from ``low`` to ``high`` (``shown``: how the range is written)."""

    def parse(text: str) -> int:
        try:
            value = int(text)
        except ValueError:  # also a number with more digits than int() converts
            raise argparse.ArgumentTypeError(f"{text!r} is not a whole number") from None
        if not low <= value <= high:
            raise argparse.ArgumentTypeError(f"{value} is outside {shown or f'{low} .. {high}'}")
        return value

    return parse


def number(
    low: float = -math.inf,
    high: float = math.inf,
    *,
    unit: str = "",
    above: bool = False,
    below: bool = False,
) -> Callable[[str], float]:
    """A finite number from ``low`` to ``high`` in ``unit``; ``above`` / ``below``: that
    end itself is excluded. Out of range, it says so as the scenario loader does."""
    of_unit = f" of {unit}" if unit else ""
    bounds: dict[str, float] = {}
    if math.isfinite(low):
        bounds["gt" if above else "ge"] = low
    if math.isfinite(high):
        bounds["lt" if below else "le"] = high

    def parse(text: str) -> float:
        try:
            value = float(text)
        except ValueError:
            raise argparse.ArgumentTypeError(f"{text!r} is not a number{of_unit}") from None
        if not math.isfinite(value):
            raise argparse.ArgumentTypeError(f"{text!r} is not a finite number{of_unit}")
        if (value <= low if above else value < low) or (value >= high if below else value > high):
            raise argparse.ArgumentTypeError(f"{text!r} must be {range_text(bounds, unit)}")
        return value

    return parse
