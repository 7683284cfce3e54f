"""The power-quality check as a self-contained HTML report (``twin power-quality
--report``): the run's settings, each smoothing case's verdict, the cases' spectra against
the limit (the run reports' SVG chart, frequency across), and the search's answer with its
energy cost. Numbers are written as the run reports write them."""

from __future__ import annotations

import html

import numpy as np

from twin.grid.power_quality import PowerQualityCheck, search_text
from twin.runs.readable import format_fixed, format_si
from twin.runs.report import CSS, Limit, nice_ticks, svg_chart
from twin.scenario.units import format_duration

CHART_TITLE = "Swing spectrum of the grid import"
CHART_UNIT = "% of the mean draw"


def _e(value: object) -> str:
    return html.escape(str(value))


def _percent(fraction: float) -> str:
    return format_fixed(100.0 * fraction, "%", 1)


def _whole_percent(fraction: float) -> str:
    return format_fixed(100.0 * fraction, "%", 0)


def _verdict(passes: bool) -> str:
    return "<td class='better'>passes</td>" if passes else "<td class='worse'>fails</td>"


def limit_name(limit: float) -> str:
    return f"limit {_whole_percent(limit)} of the mean draw"


def spectrum_chart(result: PowerQualityCheck) -> str:
    """The cases' spectra (in % of their mean draw) up to the highest frequency seen, with
    the limit across the part of the band the run lets be seen."""
    seen_low, seen_high = result.cases[0].compliance.seen_hz
    lines = []
    for case in result.cases:
        f = case.spectrum.frequency_hz
        shown = (f > 0) & (f <= seen_high)
        lines.append((case.label, f[shown], 100.0 * case.spectrum.relative[shown]))
    ticks = [(float(v), f"{float(v) + 0.0:g} Hz") for v in nice_ticks(0.0, seen_high)]
    limit = Limit(
        limit_name(result.limit),
        ((seen_low, 100.0 * result.limit), (seen_high, 100.0 * result.limit)),
    )
    return svg_chart(CHART_TITLE, CHART_UNIT, lines, limits=[limit], x_axis=("frequency", ticks))


def power_quality_report(result: PowerQualityCheck) -> str:
    band_low, band_high = result.band_hz
    seen_low, seen_high = result.cases[0].compliance.seen_hz
    nyquist_hz = 1.0 / (2.0 * result.dt_s)
    seen = ""
    if (seen_low, seen_high) != (band_low, band_high):
        seen = (
            f" At a step of {format_fixed(result.dt_s * 1000, 'ms', 0)} and over "
            f"{format_duration(result.duration_s)}, {seen_low:.3g}-{seen_high:.3g} Hz of "
            f"it can be seen (nothing above {nyquist_hz:g} Hz, half the sampling rate)."
        )
    settings = [
        ("Scenario", result.scenario_name),
        (
            "Sampled",
            f"{format_duration(result.duration_s)} after "
            f"{format_duration(result.settle_s)} of settling, every "
            f"{format_fixed(result.dt_s * 1000, 'ms', 0)}",
        ),
        (
            "Limit",
            f"no component of the grid import in {band_low:g}-{band_high:g} Hz above "
            f"{_whole_percent(result.limit)} of the mean draw",
        ),
    ]
    rows = []
    for case in result.cases:
        c = case.compliance
        rows.append(
            f"<tr><td>{_e(case.label)}</td><td class='n'>{_percent(c.worst_relative)}</td>"
            f"<td class='n'>{c.worst_hz:.3g} Hz</td>"
            f"<td class='n'>{format_si(case.spectrum.mean_kw * 1000, 'W')}</td>"
            f"<td class='n'>{format_si(case.energy_kwh * 1000, 'Wh')}</td>"
            f"{_verdict(c.passes)}</tr>"
        )
    sections = [
        f"<h1>twin power-quality report: {_e(result.scenario_name)}</h1>",
        "<table>"
        + "".join(f"<tr><th>{_e(k)}</th><td>{_e(v)}</td></tr>" for k, v in settings)
        + "</table>",
        f"<p class='note'>One limit a utility has set for synchronized training: at most "
        f"{_whole_percent(result.limit)} spectral magnitude in {band_low:g}-{band_high:g} Hz "
        "(arXiv 2508.14318), read as the single-sided amplitude of each component over the "
        f"mean draw.{_e(seen)}</p>",
        "<h2>Verdict per case</h2>",
        "<table><tr><th>Case</th><th>Largest component</th><th>At</th><th>Mean draw</th>"
        "<th>Grid energy</th><th>Verdict</th></tr>" + "".join(rows) + "</table>",
        "<h2>Spectra</h2>",
        spectrum_chart(result),
        _hidden_note(result),
    ]
    if result.search is not None:
        sections += ["<h2>Least GPU smoothing that passes</h2>", _search_section(result)]
    return (
        "<!DOCTYPE html><html lang='en'><head><meta charset='utf-8'>"
        f"<title>twin power quality {_e(result.scenario_name)}</title>"
        f"<style>{CSS}</style></head><body>{''.join(sections)}</body></html>"
    )


def _hidden_note(result: PowerQualityCheck) -> str:
    """Which cases' lines lie under another's (the same spectrum: that smoothing changed
    nothing here)."""
    notes = []
    for k, case in enumerate(result.cases):
        same = next(
            (
                other.label
                for other in result.cases[k + 1 :]
                if np.array_equal(other.spectrum.amplitude_kw, case.spectrum.amplitude_kw)
            ),
            None,
        )
        if same is not None:
            notes.append(f"{case.label} lies under {same} (the same spectrum)")
    text = "; ".join(notes)
    return f"<p class='note'>{_e(text[:1].upper() + text[1:])}.</p>" if notes else ""


def _search_section(result: PowerQualityCheck) -> str:
    found = result.search
    assert found is not None
    parts = []
    if found.setting is None or found.compliance is None:
        parts.append(f"<p>{_e(search_text(found, result.duration_s).capitalize())}.</p>")
    else:
        floor, ramp_down = found.setting
        hours = result.duration_s / 3600.0
        baseline_kwh = result.cases[0].energy_kwh
        share = found.extra_kwh / baseline_kwh if baseline_kwh > 0 else np.nan
        parts.append(
            "<table>"
            f"<tr><th>Floor</th><td>{_whole_percent(floor)} of TDP</td></tr>"
            f"<tr><th>Ramp-down</th><td>{format_si(ramp_down, 'W')}/s per GPU</td></tr>"
            f"<tr><th>Largest component</th><td>{_percent(found.compliance.worst_relative)}"
            f" at {found.compliance.worst_hz:.3g} Hz</td></tr>"
            f"<tr><th>Energy cost</th><td>{format_si(found.extra_kwh * 1000, 'Wh')} over "
            f"{format_duration(result.duration_s)} "
            f"({format_si(found.extra_kwh / hours * 1000, 'W')} on average, "
            f"{_percent(share)} of the unsmoothed draw)</td></tr></table>"
        )
    tried = "".join(
        f"<tr><td class='n'>{_whole_percent(floor)}</td>"
        f"<td class='n'>{format_si(ramp_down, 'W')}/s</td>"
        f"<td class='n'>{_percent(c.worst_relative)}</td>{_verdict(c.passes)}</tr>"
        for (floor, ramp_down), c in found.tried
    )
    parts.append(
        "<p class='note'>Settings tried, from least to most smoothing (the BESS's "
        "smoothing off):</p><table><tr><th>Floor of TDP</th><th>Ramp-down per GPU"
        "</th><th>Largest component</th><th>Verdict</th></tr>" + tried + "</table>"
    )
    return "".join(parts)
