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
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from twin.runs.recording import MANIFEST, Recording, RecordingError
from twin.runs.replay import COMPARABLE, KPI_LABELS, SiteSeries, compare, comparison_problem, kpis
from twin.runs.runtable import PARTIAL_SUFFIX
from twin.scenario.units import format_duration

CHARTS = (
    ("Power", "kW", ("facility_power_kw", "it_power_kw", "cooling_power_kw")),
    ("Hottest GPU", "°C", ("gpu_temp_max_c",)),
    ("Coolant (rack side)", "°C", ("tcs_supply_c", "tcs_return_c")),
    ("PUE", "", ("pue",)),
    ("Tokens per second", "", ("tokens_per_s",)),
    ("Grid import and battery", "kW", ("grid_import_kw", "bess_power_kw")),
)
COLOURS = ("#2563eb", "#dc2626", "#16a34a", "#9333ea")
OTHER_RUN = " (other)"  # a line of the run compared with: dashed, in its series' colour
CHART_POINTS = 800  # more points than an A4 page width shows only make the file larger
CSS = """
body{font-family:system-ui,sans-serif;margin:2em auto;max-width:60em;color:#111}
h1{font-size:1.6em}h2{font-size:1.2em;border-bottom:1px solid #ccc;margin-top:2em}
table{border-collapse:collapse;margin:.5em 0}td,th{padding:.2em .8em;text-align:left;
border-bottom:1px solid #eee}td.n{text-align:right;font-variant-numeric:tabular-nums}
.worse{color:#b91c1c}.better{color:#15803d}.note{color:#555;font-size:.9em}
.missing{color:#b91c1c}
svg{display:block;margin:.5em 0 1.5em}
"""


def write_report(run_output: str | Path, out: Path, *, compare_with: str | Path | None = None,
                 journal: Path | None = None) -> Path:
    out.write_text(build_report(run_output, compare_with=compare_with, journal=journal),
                   encoding="utf-8")
    return out


@dataclass(frozen=True)
class ReportContent:
    """A report's sections as HTML, in order, the title first."""

    scenario: str  # the scenario's name, or the run output's when the run does not name one
    run_name: str  # the run output's file or folder name
    sections: list[str]


def build_report(run_output: str | Path, *, compare_with: str | Path | None = None,
                 journal: Path | None = None) -> str:
    content = report_content(run_output, compare_with=compare_with, journal=journal)
    return ("<!DOCTYPE html><html lang='en'><head><meta charset='utf-8'>"
            f"<title>twin report {_e(content.run_name)}</title><style>{CSS}</style></head>"
            f"<body>{''.join(content.sections)}</body></html>")


def report_content(run_output: str | Path, *, compare_with: str | Path | None = None,
                   journal: Path | None = None,
                   embed_chart: Callable[[str], str] = str) -> ReportContent:
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
    alarms, alarm_problems = _alarm_section(journal)
    name = str(series.metadata.get("scenario", run_output.name))
    return ReportContent(scenario=name, run_name=run_output.name, sections=[
        f"<h1>twin run report: {_e(name)}</h1>",
        _problem_section(series, other, [*journal_problems, *alarm_problems]),
        _run_section(series, scenario, scenario_note),
        _kpi_section(series, other),
        _ledger_section(series),
        _chart_section(series, other, embed_chart),
        _event_section(scenario),
        alarms,
    ])


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
            return None, ("the run output does not carry its scenario's text (written by an "
                          "older twin): scenario details and events are left out")
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
        return partial, [f"the alarm journal is partial ({partial.name}): its run did not "
                         "finish; alarms after its last commit are missing"]
    return journal, []


def _problem_section(series: SiteSeries, other: SiteSeries | None,
                     journal_problems: list[str]) -> str:
    """First on the first page: everything the report could not read or that is missing."""
    items = [*(f"This run: {p}" for p in series.problems),
             *(f"Other run: {p}" for p in (other.problems if other is not None else ())),
             *(f"Alarms: {p}" for p in journal_problems)]
    if not items:
        return ""
    rows = "".join(f"<li>{_e(item)}</li>" for item in items)
    return (f"<h2 class='missing'>Incomplete data</h2><ul class='missing'>{rows}</ul>"
            "<p class='note'>The figures below cover what could be read.</p>")


def _table(rows: list[list[str]], header: list[str] | None = None) -> str:
    head = "".join(f"<th>{h}</th>" for h in header) if header else ""
    body = "".join("<tr>" + "".join(rows_cell for rows_cell in row) + "</tr>" for row in rows)
    # a <thead> row is repeated on each page a long table spans in the PDF
    return f"<table>{f'<thead><tr>{head}</tr></thead>' if head else ''}{body}</table>"


def _td(value: object, numeric: bool = False, css: str = "") -> str:
    classes = " ".join(c for c in ("n" if numeric else "", css) if c)
    return f"<td class='{classes}'>{_e(value)}</td>" if classes else f"<td>{_e(value)}</td>"


def format_number(value: float) -> str:
    """A KPI for a table: thousands separated, two decimals below 10,000, four
    significant digits from a million; "–" when unknown."""
    if not np.isfinite(value):
        return "–"
    if abs(value) >= 1e6:
        return f"{value:,.4g}" if abs(value) < 1e9 else f"{value:.4g}"
    return f"{value:,.2f}" if abs(value) < 1e4 else f"{value:,.0f}"


def format_difference(value: float) -> str:
    """A KPI difference: ``format_number`` with a + on increases."""
    return f"{'+' if value > 0 else ''}{format_number(value)}"


def _run_section(series: SiteSeries, scenario: Any, note: str) -> str:
    meta = series.metadata
    rows = [[_td(k), _td(meta[k])] for k in ("scenario", "seed", "dt_s", "every_s", "start",
                                             "twin_version", "racks", "cdus") if k in meta]
    rows.insert(0, [_td("source"), _td(series.source)])
    if scenario is not None:
        from twin.scenario import it_nameplate_kw

        racks = sum(r.count * r.racks_per_row for h in scenario.halls for r in h.rows)
        rows += [[_td("title"), _td(scenario.scenario.title)],
                 [_td("site"), _td(scenario.site.name)],
                 [_td("racks"), _td(f"{racks:,}")],
                 [_td("IT nameplate"), _td(f"{it_nameplate_kw(scenario) / 1000:,.1f} MW")],
                 [_td("scheduled events"), _td(len(scenario.events))]]
    extra = f"<p class='note'>{_e(note)}</p>" if note else ""
    return f"<h2>Run</h2>{_table(rows)}{extra}"


def _kpi_section(series: SiteSeries, other: SiteSeries | None) -> str:
    if other is None:
        values = kpis(series)
        rows = [[_td(KPI_LABELS[k]), _td(format_number(v), True)] for k, v in values.items()]
        return f"<h2>KPIs</h2>{_table(rows)}"
    comparison = compare(series, other)
    rows = []
    for key, label in KPI_LABELS.items():
        rows.append([_td(label), _td(format_number(comparison.kpis_a[key]), True),
                     _td(format_number(comparison.kpis_b[key]), True),
                     _td(format_difference(comparison.differences[key]), True,
                         comparison.outcome(key))])
    rows.append([_td("lost tokens (this run - other)"), _td(""), _td(""),
                 _td(format_number(comparison.lost_tokens), True)])
    note = (f"<p class='note'>Both runs over the {format_duration(comparison.time_s[-1])} "
            f"they share; other run: {_e(other.source)}.</p>")
    return (f"<h2>KPIs</h2>{_table(rows, ['', 'this run', 'other run', 'difference'])}"
            f"{note}")


def ledger(series: SiteSeries) -> dict[str, float]:
    """The site energy ledger in kWh, from the site table (see the module's notes)."""
    # a column a table lacks (an older or a foreign one) makes its figures unknown (NaN)
    c = {name: series.columns.get(name, np.full(series.columns["time_s"].shape, np.nan))
         for name in ("time_s", "grid_import_kw", "generator_kw", "heat_rejected_kw",
                      "thermal_stored_kwh", "energy_closure_error")}
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
    rows = [
        [_td("energy in (grid import + generators)"),
         _td(format_number(led["energy_in_kwh"]), True)],
        [_td("heat rejected to the ambient"), _td(format_number(led["heat_rejected_kwh"]), True)],
        [_td("thermal storage, change"), _td(format_number(led["thermal_stored_kwh"]), True)],
        [_td("batteries, change (balance)"), _td(format_number(led["battery_stored_kwh"]), True)],
        [_td("closure error (simulation, at the end)"), _td(f"{led['closure_error']:.2e}",
                                                             True)],
    ]
    return f"<h2>Energy ledger (kWh)</h2>{_table(rows)}"


def _chart_section(series: SiteSeries, other: SiteSeries | None,
                   embed_chart: Callable[[str], str]) -> str:
    charts = []
    for title, unit, names in CHARTS:
        lines = [(name, series.columns["time_s"], series.columns[name])
                 for name in names if name in series.columns]
        if other is not None:
            lines += [(f"{name}{OTHER_RUN}", other.columns["time_s"], other.columns[name])
                      for name in names if name in other.columns]
        if lines:
            charts.append(embed_chart(svg_chart(title, unit, lines)))
    undefined = _undefined_pue(series)
    return "<h2>Site series</h2>" + "".join(charts) + undefined


def _undefined_pue(series: SiteSeries) -> str:
    """PUE is facility over IT energy: undefined (NaN, not plotted) where no IT power
    flowed, never 0."""
    pue = series.columns.get("pue")
    if pue is None:
        return ""
    undefined = int(np.count_nonzero(~np.isfinite(pue)))
    if not undefined:
        return ""
    return (f"<p class='note'>PUE is undefined in {undefined:,} of {pue.size:,} rows: no IT "
            "power flowed (not plotted).</p>")


def svg_chart(title: str, unit: str, lines: list[tuple[str, np.ndarray, np.ndarray]],
              width: int = 760, height: int = 200) -> str:
    """A line chart as inline SVG: time in hours across, values up, one polyline each. A line
    named "... (other)" is drawn dashed in the colour of the series it repeats, and the
    legend names each series once."""
    left, right, top, bottom = 70, 10, 24, 34
    finite = [v[np.isfinite(v)] for _, _, v in lines]
    low = min((float(v.min()) for v in finite if v.size), default=0.0)
    high = max((float(v.max()) for v in finite if v.size), default=1.0)
    if high - low < 1e-9:
        low, high = low - 1, high + 1
    end_h = max(float(t[-1]) for _, t, _ in lines) / 3600 or 1.0
    plot_w, plot_h = width - left - right, height - top - bottom
    series = list(dict.fromkeys(name.removesuffix(OTHER_RUN) for name, _, _ in lines))
    parts = [f"<svg xmlns='http://www.w3.org/2000/svg' width='{width}' height='{height}' "
             f"role='img' aria-label='{_e(title)}'>",
             f"<text x='{left}' y='16' font-size='13' font-weight='bold'>{_e(title)}"
             f"{f' ({_e(unit)})' if unit else ''}</text>",
             f"<rect x='{left}' y='{top}' width='{plot_w}' height='{plot_h}' fill='none' "
             "stroke='#999'/>",
             f"<text x='{left - 4}' y='{top + 10}' font-size='11' text-anchor='end'>"
             f"{format_number(high)}</text>",
             f"<text x='{left - 4}' y='{top + plot_h}' font-size='11' text-anchor='end'>"
             f"{format_number(low)}</text>",
             f"<text x='{left}' y='{top + plot_h + 13}' font-size='11'>0 h</text>",
             f"<text x='{width - right}' y='{top + plot_h + 13}' font-size='11' "
             f"text-anchor='end'>{end_h:,.2f} h</text>"]
    for name, t, v in lines:
        stride = max(1, len(t) // CHART_POINTS)
        x = left + t[::stride] / 3600 / end_h * plot_w
        y = top + (high - v[::stride]) / (high - low) * plot_h
        ok = np.isfinite(y)
        points = " ".join(f"{a:.1f},{b:.1f}" for a, b in zip(x[ok], y[ok], strict=True))
        colour = COLOURS[series.index(name.removesuffix(OTHER_RUN)) % len(COLOURS)]
        dash = " stroke-dasharray='5 3'" if name.endswith(OTHER_RUN) else ""
        parts.append(f"<polyline fill='none' stroke='{colour}' stroke-width='1.5'{dash} "
                     f"points='{points}'><title>{_e(name)}</title></polyline>")
    legend = [(name, COLOURS[k % len(COLOURS)]) for k, name in enumerate(series)]
    if any(name.endswith(OTHER_RUN) for name, _, _ in lines):
        legend.append(("dashed: other run", "#555"))
    for k, (name, colour) in enumerate(legend):
        parts.append(f"<text x='{left + 170 * k}' y='{height - 4}' font-size='11' "
                     f"fill='{colour}'>{_e(name)}</text>")
    parts.append("</svg>")
    return "".join(parts)


def _event_section(scenario: Any) -> str:
    if scenario is None or not scenario.events:
        return "<h2>Event timeline</h2><p>No scheduled events.</p>"
    rows = []
    for event in sorted(scenario.events, key=lambda e: e.at_s):
        details = {k: v for k, v in event.model_dump().items() if k not in ("at_s", "kind")}
        text = ", ".join(f"{k} {format_duration(v) if k == 'duration_s' else v}"
                         for k, v in details.items() if v is not None)
        rows.append([_td(format_duration(event.at_s)), _td(event.kind), _td(text)])
    return f"<h2>Event timeline</h2>{_table(rows, ['at', 'event', 'details'])}"


def _alarm_section(journal: Path | None) -> tuple[str, list[str]]:
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
    summary = [[_td("alarms raised"), _td(f"{len(raised):,}", True)],
               *([_td(f"priority {p}"), _td(f"{n:,}", True)]
                 for p, n in by_priority.most_common()),
               [_td("acknowledged"), _td(f"{events['acknowledge']:,}", True)],
               [_td("shelved"), _td(f"{events['shelve']:,}", True)],
               [_td("suppressed"), _td(f"{events['suppress']:,}", True)],
               [_td("alarm floods"), _td(f"{events['flood-start']:,}", True)]]
    tags = [[_td(t), _td(f"{n:,}", True)] for t, n in by_tag.most_common(10)]
    components = [[_td(c), _td(f"{n:,}", True)] for c, n in by_component.most_common(10)]
    counts = f"<h2>Alarms</h2><p class='note'>From {_e(journal)}.</p>{_table(summary)}"
    if not raised:  # no alarm or component to rank
        return counts, []
    return (f"{counts}<h3>Most frequent alarms</h3>{_table(tags, ['alarm', 'raised'])}"
            f"<h3>Components raising the most</h3>{_table(components, ['component', 'raised'])}"
            ), []
