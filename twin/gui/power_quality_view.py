"""What the window's power-quality view shows of a check (``twin.grid.power_quality``):
each case's spectrum in % of its mean draw against frequency, the limit line over the part
of the band the run lets be seen, and a verdict per case. Qt-free; the widgets are in
``twin.gui._qt.power_quality``."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from twin.grid.power_quality import PowerQualityCheck, search_text, smoothing_cases
from twin.scenario import Scenario

# the check as ``twin power-quality`` runs it by default: 2 min after a minute of settling,
# every 100 ms (frequencies up to 5 Hz are seen)
DURATION_S = 120.0
SETTLE_S = 60.0
DT_S = 0.1


@dataclass(frozen=True)
class Curve:
    label: str
    frequency_hz: np.ndarray
    percent: np.ndarray  # each component's amplitude in % of the case's mean draw
    passes: bool


@dataclass(frozen=True)
class LimitLine:
    label: str
    frequency_hz: tuple[float, float]
    percent: float


def steps_of(scenario: Scenario, search: bool) -> int:
    """How many progress steps a check has: one per case, one for the search."""
    return len(smoothing_cases(scenario)) + int(search)


def curves(result: PowerQualityCheck) -> list[Curve]:
    """The cases' spectra from just above 0 Hz to the highest frequency the run shows."""
    seen_high = result.cases[0].compliance.seen_hz[1]
    shown = []
    for case in result.cases:
        f = case.spectrum.frequency_hz
        inside = (f > 0) & (f <= seen_high)
        shown.append(
            Curve(
                case.label,
                f[inside],
                100.0 * case.spectrum.relative[inside],
                case.compliance.passes,
            )
        )
    return shown


def limit_line(result: PowerQualityCheck) -> LimitLine:
    low, high = result.cases[0].compliance.seen_hz
    return LimitLine(
        f"limit {100 * result.limit:.0f} % of the mean draw", (low, high), 100.0 * result.limit
    )


def verdict_lines(result: PowerQualityCheck) -> list[str]:
    """A line per case ("no smoothing: fails, 39.2 % at 0.5 Hz") and the search's answer."""
    lines = []
    for case in result.cases:
        c = case.compliance
        lines.append(
            f"{case.label}: {'passes' if c.passes else 'fails'}, largest "
            f"{100 * c.worst_relative:.1f} % at {c.worst_hz:.3g} Hz"
        )
    if result.search is not None:
        lines.append("search: " + search_text(result.search, result.duration_s))
    return lines


def title(result: PowerQualityCheck) -> str:
    low, high = result.cases[0].compliance.seen_hz
    return (
        f"{result.scenario_name}: grid import spectrum, {result.duration_s:g} s at "
        f"{1000 * result.dt_s:g} ms ({low:.3g}-{high:.3g} Hz seen)"
    )
