"""Run reports: one self-contained HTML file (inline CSS and SVG charts, nothing fetched).

A report first states what it could not read or what is missing (a run that did not finish,
rows cut off or missing, a damaged part, a partial or unreadable journal), then holds the
scenario summary, the KPIs (beside a second run's, with the differences,
when comparing), the energy ledger, charts of the main site series, the scenario's event
timeline and the alarm statistics of the run's journal.

The ledger is rebuilt from the site table: energy in (grid import + generators) and heat
rejected are the rows' interval means times their intervals, thermal storage and the closure
error are the last row's values, and the batteries' share is what balances the ledger. The
scenario is the one the run output carries (its ``scenario_toml``), never looked up by name.

``report_content`` builds the sections as HTML for both the HTML file and the PDF
(``twin.runs.report_pdf`` lays the same sections out on pages, its charts as images).
"""

from __future__ import annotations

import html
import sqlite3
from collections import Counter
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

import numpy as np

from twin.runs.readable import (
    SETTING_NAMES,
    SI_PREFIXES,
    format_count,
    format_fixed,
    format_ratio,
    format_si,
    series_name,
)
from twin.runs.recording import MANIFEST, Recording, RecordingError
from twin.runs.replay import COMPARABLE, KPI_LABELS, SiteSeries, compare, comparison_problem, kpis
from twin.runs.runtable import PARTIAL_SUFFIX
from twin.scenario.units import format_duration


@dataclass(frozen=True)
class Chart:
    title: str
    unit: str
    columns: tuple[str, ...]
    # on an axis of their own, on the right: a magnitude the left axis would flatten
    right_columns: tuple[str, ...] = ()
    right_unit: str = ""


CHARTS = (
    Chart("Power", "kW", ("facility_power_kw", "it_power_kw", "cooling_power_kw")),
    Chart("Hottest GPU", "°C", ("gpu_temp_max_c",)),
    Chart("Coolant (rack side)", "°C", ("tcs_supply_c", "tcs_return_c")),
    Chart("PUE", "", ("pue",)),
    Chart("Tokens per second", "tokens/s", ("tokens_per_s",)),
    Chart("Grid import and battery", "kW", ("grid_import_kw",), ("bess_power_kw",), "kW"),
)
GRID = "#e5e7eb"  # gridlines
LIMIT_COLOUR = "#b91c1c"
# time-axis tick spacings, the first that gives at most 8 ticks: 1, 5, 10, 15, 30 min,
# 1, 2, 3, 6, 12 h, 1 day
TIME_TICK_STEPS_S = (60, 300, 600, 900, 1800, 3600, 7200, 10800, 21600, 43200, 86400)
COLOURS = ("#2563eb", "#dc2626", "#16a34a", "#9333ea", "#ea580c")
OTHER_RUN = " (other)"  # a line of the run compared with: dashed, in its series' colour
CHART_POINTS = 800  # more points than an A4 page width shows only make the file larger
CSS = """
body{font-family:system-ui,sans-serif;margin:2em auto;max-width:60em;color:#111}
h1{font-size:1.6em}h2{font-size:1.2em;border-bottom:1px solid #ccc;margin-top:2em}
table{border-collapse:collapse;margin:.5em 0}td,th{padding:.2em .8em;text-align:left;
border-bottom:1px solid #eee}td.n{text-align:right;font-variant-numeric:tabular-nums}
.worse{color:#b91c1c}.better{color:#15803d}.note{color:#555;font-size:.9em}
td.late{color:#888;font-style:italic}
.missing{color:#b91c1c}
svg{display:block;margin:.5em 0 1.5em}
"""


def write_report(
    run_output: str | Path,
    out: Path,
    *,
    compare_with: str | Path | None = None,
    journal: Path | None = None,
) -> Path:
    out.write_text(
        build_report(run_output, compare_with=compare_with, journal=journal), encoding="utf-8"
    )
    return out


@dataclass(frozen=True)
class ReportContent:
    """A report's sections as HTML, in order, the title first."""

    scenario: str  # the scenario's name, or the run output's when the run does not name one
    run_name: str  # the run output's file or folder name
    sections: list[str]
    title: str = "twin run report"  # the PDF's title and footer, before the scenario's name


def build_report(
    run_output: str | Path, *, compare_with: str | Path | None = None, journal: Path | None = None
) -> str:
    content = report_content(run_output, compare_with=compare_with, journal=journal)
    return (
        "<!DOCTYPE html><html lang='en'><head><meta charset='utf-8'>"
        f"<title>twin report {_e(content.run_name)}</title><style>{CSS}</style></head>"
        f"<body>{''.join(content.sections)}</body></html>"
    )


def report_content(
    run_output: str | Path,
    *,
    compare_with: str | Path | None = None,
    journal: Path | None = None,
    embed_chart: Callable[[str], str] = str,
) -> ReportContent:
    """The report's sections; ``embed_chart`` turns each chart's SVG into the HTML that shows
    it (by default the inline SVG itself)."""
    run_output = Path(run_output)
    series = SiteSeries.read(run_output)
    other = SiteSeries.read(compare_with) if compare_with is not None else None
    if other is not None:
        problem = comparison_problem(series, other)
        if problem is not None:
            raise RecordingError(f"--compare: {problem}; it takes {COMPARABLE}")
    scenario, scenario_note = _scenario(run_output, series)
    journal_problems: list[str] = []
    if journal is None:
        journal, journal_problems = _default_journal(run_output)
    alarms, alarm_problems = _alarm_section(journal, scenario)
    name = str(series.metadata.get("scenario", run_output.name))
    return ReportContent(
        scenario=name,
        run_name=run_output.name,
        sections=[
            f"<h1>twin run report: {_e(name)}</h1>",
            _problem_section(series, other, [*journal_problems, *alarm_problems]),
            _run_section(series, scenario, scenario_note),
            _kpi_section(series, other),
            _ledger_section(series),
            _chart_section(series, other, scenario, embed_chart),
            _event_section(scenario, float(series.columns["time_s"][-1])),
            alarms,
        ],
    )


def _e(value: object) -> str:
    return html.escape(str(value))


def _scenario(run_output: Path, series: SiteSeries) -> tuple[Any, str]:
    """The run's own scenario, from the text its output carries (never looked up by name:
    a scenario file may have changed since, or share a built-in's name)."""
    from twin.runs.runtable import scenario_text
    from twin.scenario import ScenarioError, loads

    try:
        if run_output.is_dir() and (run_output / MANIFEST).exists():
            return Recording.open(run_output).scenario(), ""
        text = scenario_text(series.metadata)
        if text is None:
            return None, (
                "the run output does not carry its scenario's text (written by an "
                "older twin): scenario details and events are left out"
            )
        return loads(text, source=f"{run_output} (the scenario it carries)"), ""
    except ScenarioError as exc:
        return None, f"the scenario could not be loaded: {exc.report().splitlines()[0]}"


def _default_journal(run_output: Path) -> tuple[Path | None, list[str]]:
    """The journal next to a site table (site.csv -> site.alarms.sqlite), or its partial
    file when its run did not finish."""
    if run_output.is_dir() and (run_output / MANIFEST).exists():
        return None, []
    base = Path(run_output.name.removesuffix(PARTIAL_SUFFIX))
    journal = run_output.with_name(f"{base.stem}.alarms.sqlite")
    partial = journal.with_name(journal.name + PARTIAL_SUFFIX)
    if not journal.exists() and partial.exists():
        return partial, [
            f"the alarm journal is partial ({partial.name}): its run did not "
            "finish; alarms after its last commit are missing"
        ]
    return journal, []


def _problem_section(
    series: SiteSeries, other: SiteSeries | None, journal_problems: list[str]
) -> str:
    """First on the first page: everything the report could not read or that is missing."""
    items = [
        *(f"This run: {p}" for p in series.problems),
        *(f"Other run: {p}" for p in (other.problems if other is not None else ())),
        *(f"Alarms: {p}" for p in journal_problems),
    ]
    if not items:
        return ""
    rows = "".join(f"<li>{_e(item)}</li>" for item in items)
    return (
        f"<h2 class='missing'>Incomplete data</h2><ul class='missing'>{rows}</ul>"
        "<p class='note'>The figures below cover what could be read.</p>"
    )


def _table(rows: list[list[str]], header: list[str] | None = None) -> str:
    head = "".join(f"<th>{h}</th>" for h in header) if header else ""
    body = "".join("<tr>" + "".join(rows_cell for rows_cell in row) + "</tr>" for row in rows)
    # a <thead> row is repeated on each page a long table spans in the PDF
    return f"<table>{f'<thead><tr>{head}</tr></thead>' if head else ''}{body}</table>"


def _td(value: object, numeric: bool = False, css: str = "") -> str:
    classes = " ".join(c for c in ("n" if numeric else "", css) if c)
    return f"<td class='{classes}'>{_e(value)}</td>" if classes else f"<td>{_e(value)}</td>"


def format_number(value: float) -> str:
    """A KPI for a table: thousands separated, two decimals below 10,000, an SI prefix from
    a million (549.4 G), never an exponent; "–" when unknown."""
    if not np.isfinite(value):
        return "–"
    if abs(value) >= 1e6:
        return format_si(value)
    return f"{value:,.2f}" if abs(value) < 1e4 else f"{value:,.0f}"


def format_difference(value: float) -> str:
    """A KPI difference: ``format_number`` with a + on increases."""
    return f"{'+' if value > 0 else ''}{format_number(value)}"


# each KPI (``KPI_LABELS``) as read: value, and whether it is a signed difference
KPI_FORMATS: dict[str, Callable[[float, bool], str]] = {
    "duration_h": lambda v, signed: format_fixed(v, "h", 2, signed=signed),
    "energy_mwh": lambda v, signed: format_si(v * 1e6, "Wh", signed=signed),
    "it_energy_mwh": lambda v, signed: format_si(v * 1e6, "Wh", signed=signed),
    # a difference of temperatures is in kelvin
    "peak_gpu_temp_c": lambda v, signed: format_fixed(v, "K" if signed else "°C", 1, signed=signed),
    "tokens": lambda v, signed: format_si(v, "tokens", signed=signed),
    "cost_krw": lambda v, signed: format_si(v, "KRW", signed=signed),
    "co2_t": lambda v, signed: format_fixed(v, "t", 2, signed=signed),
    "water_m3": lambda v, signed: format_fixed(v, "m³", 1, signed=signed),
    "max_tripped_racks": lambda v, signed: format_count(v, "racks", signed=signed),
}


def kpi_name(key: str) -> str:
    """A KPI's name without its unit (the value carries it): "Peak GPU temperature"."""
    label = KPI_LABELS[key].split(" (")[0]
    return label[0].upper() + label[1:]


def format_kpi(key: str, value: float, *, signed: bool = False) -> str:
    return KPI_FORMATS[key](value, signed)


def _run_section(series: SiteSeries, scenario: Any, note: str) -> str:
    meta = series.metadata
    settings = {
        "start": lambda v: f"{datetime.fromisoformat(v):%Y-%m-%d %H:%M} (local)",
        "dt_s": lambda v: format_duration(float(v)),
        "every_s": lambda v: format_duration(float(v)),
        "racks": lambda v: format_count(float(v)),
        "cdus": lambda v: format_count(float(v)),
    }
    rows = [[_td("Source"), _td(series.source)]]
    for key, name in SETTING_NAMES.items():
        if key in meta:
            try:
                value = settings.get(key, str)(meta[key])
            except ValueError:  # a foreign table's own words
                value = meta[key]
            rows.append([_td(name), _td(value)])
    if scenario is not None:
        from twin.scenario import it_nameplate_kw

        racks = sum(r.count * r.racks_per_row for h in scenario.halls for r in h.rows)
        rows += [
            [_td("Title"), _td(scenario.scenario.title)],
            [_td("Site"), _td(scenario.site.name)],
            [_td("Racks in the scenario"), _td(format_count(racks))],
            [_td("IT nameplate"), _td(format_si(it_nameplate_kw(scenario) * 1e3, "W"))],
            [_td("Scheduled events"), _td(format_count(len(scenario.events)))],
        ]
    extra = f"<p class='note'>{_e(note)}</p>" if note else ""
    return f"<h2>Run</h2>{_table(rows)}{extra}"


def _kpi_section(series: SiteSeries, other: SiteSeries | None) -> str:
    if other is None:
        values = kpis(series)
        rows = [[_td(kpi_name(k)), _td(format_kpi(k, v), True)] for k, v in values.items()]
        return f"<h2>KPIs</h2>{_table(rows)}"
    comparison = compare(series, other)
    rows = []
    for key in KPI_LABELS:
        # read from this run's side: this - other, red where this run did worse
        this_minus_other = -comparison.differences[key]
        other_did = comparison.outcome(key)
        css = {"better": "worse", "worse": "better"}.get(other_did, "")
        rows.append(
            [
                _td(kpi_name(key)),
                _td(format_kpi(key, comparison.kpis_a[key]), True),
                _td(format_kpi(key, comparison.kpis_b[key]), True),
                _td(format_kpi(key, this_minus_other, signed=True), True, css),
            ]
        )
    rows.append(
        [
            _td("Lost tokens (other run fewer than this run)"),
            _td(""),
            _td(""),
            _td(format_si(comparison.lost_tokens, "tokens", signed=True), True),
        ]
    )
    note = (
        f"<p class='note'>Both runs over the {format_duration(comparison.time_s[-1])} "
        f"they share; other run: {_e(other.source)}. Differences are this run − other "
        "run: <span class='worse'>red where this run did worse</span> (hotter, more "
        "energy, cost, emissions, water or tripped racks, fewer tokens), "
        "<span class='better'>green where it did better</span>.</p>"
    )
    return f"<h2>KPIs</h2>{_table(rows, ['', 'this run', 'other run', 'this − other'])}{note}"


def ledger(series: SiteSeries) -> dict[str, float]:
    """The site energy ledger in kWh, from the site table (see the module's notes)."""
    # a column a table lacks (an older or a foreign one) makes its figures unknown (NaN)
    c = {
        name: series.columns.get(name, np.full(series.columns["time_s"].shape, np.nan))
        for name in (
            "time_s",
            "grid_import_kw",
            "generator_kw",
            "heat_rejected_kw",
            "thermal_stored_kwh",
            "energy_closure_error",
        )
    }
    dt_h = np.diff(c["time_s"], prepend=0.0) / 3600
    energy_in = float(np.sum((c["grid_import_kw"] + c["generator_kw"]) * dt_h))
    rejected = float(np.sum(c["heat_rejected_kw"] * dt_h))
    stored = float(c["thermal_stored_kwh"][-1])
    closure = float(c["energy_closure_error"][-1])
    return {
        "energy_in_kwh": energy_in,
        "heat_rejected_kwh": rejected,
        "thermal_stored_kwh": stored,
        "battery_stored_kwh": energy_in - rejected - stored - closure * max(energy_in, 1.0),
        "closure_error": closure,
    }


def _ledger_section(series: SiteSeries) -> str:
    led = ledger(series)

    def energy(kwh: float) -> str:
        return format_si(kwh * 1e3, "Wh", signed=False)

    rows = [
        [_td("Energy in (grid import + generators)"), _td(energy(led["energy_in_kwh"]), True)],
        [_td("Heat rejected to the ambient"), _td(energy(led["heat_rejected_kwh"]), True)],
        [_td("Thermal storage, change"), _td(energy(led["thermal_stored_kwh"]), True)],
        [_td("Batteries, change (balance)"), _td(energy(led["battery_stored_kwh"]), True)],
        [
            _td("Closure error (simulation, at the end, of the energy in)"),
            _td(format_ratio(led["closure_error"]), True),
        ],
    ]
    return f"<h2>Energy ledger</h2>{_table(rows)}"


def _chart_section(
    series: SiteSeries, other: SiteSeries | None, scenario: Any, embed_chart: Callable[[str], str]
) -> str:
    charts = []
    start = _start_time(series, scenario)
    time_s = series.columns["time_s"]
    for chart in CHARTS:

        def lines_of(names: tuple[str, ...]) -> list[tuple[str, np.ndarray, np.ndarray]]:
            found = [
                (name, time_s, series.columns[name]) for name in names if name in series.columns
            ]
            if other is not None:
                found += [
                    (f"{name}{OTHER_RUN}", other.columns["time_s"], other.columns[name])
                    for name in names
                    if name in other.columns
                ]
            return found

        left, right = lines_of(chart.columns), lines_of(chart.right_columns)
        if left or right:
            end_s = float(time_s[-1])
            charts.append(
                embed_chart(
                    svg_chart(
                        chart.title,
                        chart.unit,
                        left,
                        right_lines=right,
                        right_unit=chart.right_unit,
                        limits=_chart_limits(chart.title, scenario, end_s),
                        start=start,
                    )
                )
            )
    undefined = _undefined_pue(series)
    return "<h2>Site series</h2>" + "".join(charts) + undefined


def _start_time(series: SiteSeries, scenario: Any) -> datetime | None:
    """The run's local start time, for a time-of-day axis; None when it does not say."""
    if scenario is not None:
        return scenario.scenario.start
    try:
        return datetime.fromisoformat(series.metadata["start"])
    except (KeyError, ValueError):
        return None


def _chart_limits(title: str, scenario: Any, end_s: float) -> list[Limit]:
    """The limits a chart's series are held to, from the run's scenario: the GPUs' throttle
    and trip temperatures (each rack type's), the grid import cap (as grid-cap events move
    it)."""
    if scenario is None:
        return []
    if title == "Hottest GPU":
        types = scenario.rack_types.values()
        return [
            *(
                Limit(f"GPU throttle {c:g} °C", ((0.0, c), (end_s, c)))
                for c in sorted({t.gpu_throttle_c for t in types})
            ),
            *(
                Limit(f"GPU trip {c:g} °C", ((0.0, c), (end_s, c)))
                for c in sorted({t.gpu_critical_c for t in types})
            ),
        ]
    if title == "Grid import and battery":
        cap_kw = scenario.power.utility.import_cap_mw * 1000
        points = [(0.0, cap_kw)]
        for event in sorted(scenario.events, key=lambda e: e.at_s):
            if event.kind == "grid-cap" and event.at_s < end_s:
                points += [(event.at_s, cap_kw), (event.at_s, event.import_cap_mw * 1000)]
                cap_kw = event.import_cap_mw * 1000
        points.append((end_s, cap_kw))
        return [Limit("Import cap", tuple(points))]
    return []


def _undefined_pue(series: SiteSeries) -> str:
    """PUE is facility over IT energy: undefined (NaN, not plotted) where no IT power
    flowed, never 0."""
    pue = series.columns.get("pue")
    if pue is None:
        return ""
    undefined = int(np.count_nonzero(~np.isfinite(pue)))
    if not undefined:
        return ""
    return (
        f"<p class='note'>PUE is undefined in {undefined:,} of {pue.size:,} rows: no IT "
        "power flowed (not plotted).</p>"
    )


def nice_ticks(low: float, high: float, count: int = 5) -> np.ndarray:
    """Round values (1, 2, 2.5 or 5 times a power of ten apart) that span low..high in about
    ``count`` steps."""
    raw = (high - low) / count
    power = 10.0 ** np.floor(np.log10(raw))
    step = next(m * power for m in (1, 2, 2.5, 5, 10) if m * power >= raw)
    first = np.ceil(low / step - 1e-9) * step
    ticks = np.arange(first, high + step * 1e-9, step)
    # a tick a rounding error from zero is zero (not "-0" on the axis)
    return np.where(np.abs(ticks) < 1e-9 * step, 0.0, ticks)


def _axis_label(value: float, step: float) -> str:
    """A tick's value: SI prefix from a thousand, decimals enough to tell ticks apart."""
    factor, prefix = next(((f, p) for f, p in SI_PREFIXES if max(abs(value), step) >= f), (1.0, ""))
    decimals = max(0, -int(np.floor(np.log10(step / factor) + 1e-9)))
    return f"{value / factor:,.{decimals}f}{f' {prefix}' if prefix else ''}"


def time_ticks(end_s: float, start: datetime | None) -> list[tuple[float, str]]:
    """Ticks on the time axis, at round times of day when the start is known ("06:00", the
    date at midnight), else at round hours since the start."""
    step = next((s for s in TIME_TICK_STEPS_S if end_s / s <= 8), TIME_TICK_STEPS_S[-1])
    while end_s / step > 8:
        step *= 2
    if start is None:
        return [(t, f"{t / 3600:g} h") for t in np.arange(0.0, end_s + 1e-9, step)]
    offset = start.hour * 3600 + start.minute * 60 + start.second
    first = np.ceil(offset / step) * step - offset
    ticks = []
    for t in np.arange(first, end_s + 1e-9, step):
        moment = start + timedelta(seconds=float(t))
        midnight = moment.hour == moment.minute == 0
        ticks.append((float(t), f"{moment:%d %b}" if midnight else f"{moment:%H:%M}"))
    return ticks


def svg_chart(
    title: str,
    unit: str,
    lines: list[tuple[str, np.ndarray, np.ndarray]],
    *,
    right_lines: Sequence[tuple[str, np.ndarray, np.ndarray]] = (),
    right_unit: str = "",
    limits: Sequence[Limit] = (),
    start: datetime | None = None,
    width: int = 760,
    height: int = 236,
    x_axis: tuple[str, Sequence[tuple[float, str]]] | None = None,
) -> str:
    """A line chart as inline SVG: time of day across (hours since the start when
    ``start`` is not known; another quantity when ``x_axis`` gives its name and ticks)
    with gridlines, values up on round ticks. ``right_lines`` have
    their own axis on the right (a magnitude the left one would flatten); ``limits`` are
    drawn as dashed red steps, named at their right end. A line named "... (other)" is drawn
    dashed in the colour of the series it repeats, and the legend names each series once."""
    left_m, right_m, top, bottom = 70, 70 if right_lines else 16, 24, 56
    plot_w, plot_h = width - left_m - right_m, height - top - bottom
    everything = [*lines, *right_lines]
    end_s = max(float(t[-1]) for _, t, _ in everything) or 1.0
    series = list(dict.fromkeys(name.removesuffix(OTHER_RUN) for name, _, _ in everything))
    right_series = {name.removesuffix(OTHER_RUN) for name, _, _ in right_lines}
    legend_rows = _legend_rows(
        series,
        right_series,
        right_unit,
        any(n.endswith(OTHER_RUN) for n, _, _ in everything),
        width,
    )
    height += 14 * (len(legend_rows) - 1)
    parts = [
        f"<svg xmlns='http://www.w3.org/2000/svg' width='{width}' height='{height}' "
        f"role='img' aria-label='{_e(title)}'>",
        f"<text x='{left_m}' y='16' font-size='13' font-weight='bold'>{_e(title)}"
        f"{f' ({_e(unit)})' if unit else ''}</text>",
    ]
    if right_lines:
        parts.append(
            f"<text x='{width - 4}' y='16' font-size='11' text-anchor='end' "
            f"fill='#555'>right axis{f' ({_e(right_unit)})' if right_unit else ''}"
            "</text>"
        )

    def x_of(t: np.ndarray | float) -> np.ndarray:
        return left_m + np.asarray(t, dtype=float) / end_s * plot_w

    for tick_s, label in time_ticks(end_s, start) if x_axis is None else x_axis[1]:
        x = float(x_of(tick_s))
        parts.append(
            f"<line x1='{x:.1f}' y1='{top}' x2='{x:.1f}' y2='{top + plot_h}' "
            f"stroke='{GRID}'/><text x='{x:.1f}' y='{top + plot_h + 13}' "
            f"font-size='11' text-anchor='middle'>{label}</text>"
        )
    axis_name = "time of day" if start is not None else "time since the start"
    if start is not None:
        axis_name += f" (from {start:%Y-%m-%d %H:%M})"
    if x_axis is not None:
        axis_name = x_axis[0]
    parts.append(
        f"<text x='{left_m + plot_w / 2:.1f}' y='{top + plot_h + 27}' "
        f"font-size='10' fill='#555' text-anchor='middle'>{axis_name}</text>"
    )

    limit_values = [v for limit in limits for _, v in limit.points]
    scale = _scale(lines, limit_values)
    for value, label in scale.ticks:
        y = scale.y(value, top, plot_h)
        parts.append(
            f"<line x1='{left_m}' y1='{y:.1f}' x2='{left_m + plot_w}' y2='{y:.1f}' "
            f"stroke='{GRID}'/><text x='{left_m - 4}' y='{y + 4:.1f}' "
            f"font-size='11' text-anchor='end'>{label}</text>"
        )
    right_scale = _scale(right_lines, []) if right_lines else None
    if right_scale is not None:
        for value, label in right_scale.ticks:
            y = right_scale.y(value, top, plot_h)
            parts.append(
                f"<line x1='{left_m + plot_w}' y1='{y:.1f}' x2='{left_m + plot_w + 4}'"
                f" y2='{y:.1f}' stroke='#999'/><text x='{left_m + plot_w + 6}' "
                f"y='{y + 4:.1f}' font-size='11'>{label}</text>"
            )
    parts.append(
        f"<rect x='{left_m}' y='{top}' width='{plot_w}' height='{plot_h}' "
        "fill='none' stroke='#999'/>"
    )
    for limit in limits:
        t, v = (np.array(a, dtype=float) for a in zip(*limit.points, strict=True))
        y = scale.y(v, top, plot_h)
        points = " ".join(f"{a:.1f},{b:.1f}" for a, b in zip(x_of(t), y, strict=True))
        parts.append(
            f"<polyline fill='none' stroke='{LIMIT_COLOUR}' stroke-width='1' "
            f"stroke-dasharray='2 2' points='{points}'><title>{_e(limit.name)}"
            f"</title></polyline><text x='{left_m + plot_w - 2}' y='{y[-1] - 3:.1f}' "
            f"font-size='10' text-anchor='end' fill='{LIMIT_COLOUR}'>"
            f"{_e(limit.name)}</text>"
        )
    for name, t, v in everything:
        on_right = name.removesuffix(OTHER_RUN) in right_series
        axis = right_scale if on_right and right_scale is not None else scale
        stride = max(1, len(t) // CHART_POINTS)
        xs = x_of(t[::stride])
        ys = axis.y(v[::stride], top, plot_h)
        ok = np.isfinite(ys)
        points = " ".join(f"{a:.1f},{b:.1f}" for a, b in zip(xs[ok], ys[ok], strict=True))
        colour = COLOURS[series.index(name.removesuffix(OTHER_RUN)) % len(COLOURS)]
        dash = " stroke-dasharray='5 3'" if name.endswith(OTHER_RUN) else ""
        shown = series_name(name.removesuffix(OTHER_RUN)) + (
            OTHER_RUN if name.endswith(OTHER_RUN) else ""
        )
        parts.append(
            f"<polyline fill='none' stroke='{colour}' stroke-width='1.5'{dash} "
            f"points='{points}'><title>{_e(shown)}</title></polyline>"
        )
    for row, items in enumerate(legend_rows):
        y = top + plot_h + 44 + 14 * row
        for x, text, colour in items:
            parts.append(f"<text x='{x}' y='{y}' font-size='11' fill='{colour}'>{_e(text)}</text>")
    parts.append("</svg>")
    return "".join(parts)


@dataclass(frozen=True)
class Limit:
    """A limit line: its name and its (time, value) corners, a step where it changes."""

    name: str
    points: tuple[tuple[float, float], ...]


@dataclass(frozen=True)
class _Scale:
    low: float
    high: float
    ticks: list[tuple[float, str]]

    def y(self, value, top: float, plot_h: float):
        return top + (self.high - np.asarray(value, dtype=float)) / (self.high - self.low) * plot_h


def _scale(lines: Sequence[tuple[str, np.ndarray, np.ndarray]], extra: list[float]) -> _Scale:
    """A value axis from round ticks that take in every line and limit."""
    finite = [v[np.isfinite(v)] for _, _, v in lines]
    values = (
        [float(v.min()) for v in finite if v.size]
        + [float(v.max()) for v in finite if v.size]
        + list(extra)
    )
    low, high = (min(values), max(values)) if values else (0.0, 1.0)
    if high - low < 1e-9 * max(1.0, abs(high)):
        low, high = low - max(1.0, abs(low) * 0.05), high + max(1.0, abs(high) * 0.05)
    high += (high - low) * 0.08  # room above the top line for a limit's name
    ticks = nice_ticks(low, high)
    step = float(ticks[1] - ticks[0]) if ticks.size > 1 else high - low
    low, high = min(low, float(ticks[0])), max(high, float(ticks[-1]))
    return _Scale(low, high, [(float(v), _axis_label(float(v), step)) for v in ticks])


def _legend_rows(
    series: list[str], right: set[str], right_unit: str, other_run: bool, width: int
) -> list[list[tuple[int, str, str]]]:
    """The legend's entries, (x, text, colour), in as many rows as the width needs."""
    entries = []
    for k, name in enumerate(series):
        text = series_name(name)
        if name in right:
            text += " – right axis"
        entries.append((text, COLOURS[k % len(COLOURS)]))
    if other_run:
        entries.append(("dashed: other run", "#555"))
    rows: list[list[tuple[int, str, str]]] = [[]]
    x = 70
    for text, colour in entries:
        span = 7 * len(text) + 24  # about 6.5 px a character at 11 px, and a gap
        if rows[-1] and x + span > width:
            rows.append([])
            x = 70
        rows[-1].append((x, text, colour))
        x += span
    return rows


def _event_section(scenario: Any, end_s: float) -> str:
    """The scenario's events in time order; those after the run's end are marked as not
    reached (the run stopped before them), not listed as if they happened."""
    if scenario is None or not scenario.events:
        return "<h2>Event timeline</h2><p>No scheduled events.</p>"
    rows = []
    late = 0
    for event in sorted(scenario.events, key=lambda e: e.at_s):
        details = {k: v for k, v in event.model_dump().items() if k not in ("at_s", "kind")}
        text = ", ".join(
            f"{k.replace('_', ' ')} {format_duration(v) if k == 'duration_s' else v}"
            for k, v in details.items()
            if v is not None
        )
        reached = event.at_s <= end_s + 1e-9
        late += not reached
        css = "" if reached else "late"
        rows.append(
            [
                _td(format_duration(event.at_s), css=css),
                _td(event.kind, css=css),
                _td(text, css=css),
                _td("applied" if reached else "not reached: after the run's end", css=css),
            ]
        )
    note = (
        (
            f"<p class='note'>{late} of {len(rows)} events lie after the run's end at "
            f"{format_duration(end_s)}: scheduled, never applied.</p>"
        )
        if late
        else ""
    )
    return f"<h2>Event timeline</h2>{_table(rows, ['at', 'event', 'details', 'in this run'])}{note}"


def alarm_names(scenario: Any) -> dict[str, str]:
    """Each alarm point's name (its description, "GPU temperature") by its tag
    ("rack.gpu_temp"), from the run's scenario; empty without one."""
    if scenario is None:
        return {}
    from twin.alarms import default_points
    from twin.sim.topology import build_topology

    points = default_points(scenario, build_topology(scenario))
    return {p.tag: p.description[0].upper() + p.description[1:] for p in points}


def _priority_rank(label: str) -> int:
    """ISA-18.2 order, the most urgent first; an unknown priority last."""
    from twin.alarms.definitions import Priority

    return Priority[label.upper()].value if label.upper() in Priority.__members__ else 99


def _alarm_section(journal: Path | None, scenario: Any) -> tuple[str, list[str]]:
    """The alarm statistics, and what of the journal could not be read."""
    if journal is None or not journal.is_file():
        where = f" at {_e(journal)}" if journal is not None else ""
        return f"<h2>Alarms</h2><p>No alarm journal{where}.</p>", []
    from twin.alarms import JournalError, read_journal

    try:
        rows = read_journal(journal)
    except (JournalError, sqlite3.Error, OSError) as exc:
        problem = f"the alarm journal {journal} cannot be read ({exc})"
        return f"<h2>Alarms</h2><p>{_e(problem)}.</p>", [problem]
    raised = [r for r in rows if r.event == "raise"]
    by_priority = Counter(r.priority for r in raised)
    by_tag = Counter(r.tag for r in raised)
    by_component = Counter(r.component for r in raised)
    events = Counter(r.event for r in rows)
    summary = [
        [_td("alarms raised"), _td(f"{len(raised):,}", True)],
        *(
            [_td(f"priority {p}"), _td(f"{n:,}", True)]
            for p, n in sorted(by_priority.items(), key=lambda i: _priority_rank(i[0]))
        ),
        [_td("acknowledged"), _td(f"{events['acknowledge']:,}", True)],
        [_td("shelved"), _td(f"{events['shelve']:,}", True)],
        [_td("suppressed"), _td(f"{events['suppress']:,}", True)],
        [_td("alarm floods"), _td(f"{events['flood-start']:,}", True)],
    ]
    names = alarm_names(scenario)
    tags = [[_td(names.get(t, t)), _td(f"{n:,}", True)] for t, n in by_tag.most_common(10)]
    components = [[_td(c), _td(f"{n:,}", True)] for c, n in by_component.most_common(10)]
    counts = f"<h2>Alarms</h2><p class='note'>From {_e(journal)}.</p>{_table(summary)}"
    if not raised:  # no alarm or component to rank
        return counts, []
    return (
        f"{counts}<h3>Most frequent alarms</h3>{_table(tags, ['alarm', 'raised'])}"
        f"<h3>Components raising the most</h3>{_table(components, ['component', 'raised'])}"
    ), []
