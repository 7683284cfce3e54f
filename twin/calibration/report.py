"""The calibration report: one self-contained HTML page (``twin calibrate --report``), or
HTML or PDF from the calibration's record (``twin report``, ``twin.calibration.record``):
the same sections from the same code.

Data and its coverage, what screening left out and why, every parameter (prior, fitted
value, uncertainty, or why it stayed at its prior), the correlations between fitted
parameters, ASHRAE Guideline 14 CV(RMSE) and NMBE per point group before and after,
at the data's interval and hourly, with pass/fail, and residuals over time.
"""

from __future__ import annotations

import html
import math
from collections.abc import Callable
from pathlib import Path

import numpy as np

from twin.calibration.fit import Calibration, WindowResult
from twin.calibration.parameters import NOT_MODELLED
from twin.calibration.record import CalibrationRecord, read_for_report
from twin.calibration.validation import (
    HOURLY_CV_RMSE_LIMIT_PCT,
    HOURLY_NMBE_LIMIT_PCT,
    Fit,
    group_of,
)
from twin.runs.report import CSS, ReportContent, svg_chart

CORRELATION_SHOWN = 0.8  # pairs of fitted parameters correlated more than this are listed


def _e(value: object) -> str:
    return html.escape(str(value), quote=True)


def _n(value: float, digits: int = 4) -> str:
    return "–" if not math.isfinite(value) else f"{value:.{digits}g}"


def _table(header: list[str], rows: list[list[str]]) -> str:
    head = "".join(f"<th>{_e(h)}</th>" for h in header)
    body = "".join("<tr>" + "".join(f"<td>{c}</td>" for c in row) + "</tr>" for row in rows)
    # dense: a PDF sets these wide tables in a smaller type (twin.runs.report_pdf)
    return f"<table class='dense'><tr>{head}</tr>{body}</table>"


def _verdict(fit: Fit) -> str:
    passes = fit.passes
    if passes is None:
        return "<span class='note'>n/a</span>"
    return "<span class='better'>pass</span>" if passes else "<span class='worse'>fail</span>"


def _metrics(fit: Fit) -> str:
    return f"{_n(fit.cv_rmse_pct, 3)} / {_n(fit.nmbe_pct, 3)}"


def _validation_section(w: WindowResult, fitted: int) -> str:
    rows = []
    after = w.validation_after.per_group if w.validation_after else {}
    for group, before in w.validation_before.per_group.items():
        row = [_e(group)]
        for scale in ("interval", "hourly"):
            b, a = before[scale], after[group][scale] if group in after else None
            row += [_metrics(b), _verdict(b), _metrics(a) if a else "–", _verdict(a) if a else "–"]
        rmse_after = _n(after[group]["interval"].rmse, 3) if group in after else "–"
        row.append(f"{_n(before['interval'].rmse, 3)} → {rmse_after}")
        rows.append(row)
    header = [
        "point group",
        "interval: before CV(RMSE) / NMBE %",
        "",
        "after",
        "",
        "hourly: before",
        "",
        "after",
        "",
        "RMSE (unit) before → after",
    ]
    points_after = w.validation_after.per_point if w.validation_after else {}
    per_point = []
    for point, fits in w.validation_before.per_point.items():
        row = [_e(point)]
        for scale in ("interval", "hourly"):
            a = points_after[point][scale] if point in points_after else None
            row += [_metrics(fits[scale]), _metrics(a) if a else "–", _verdict(a) if a else "–"]
        per_point.append(row)
    return (
        f"<h3>{_e(w.label)}: {w.start_s / 3600:g} h to {w.end_s / 3600:g} h</h3>"
        + "<h4>Per point group</h4>"
        + _table(header, rows)
        + "<h4>Per subloop</h4>"
        + _subloop_table(w)
        + "<details><summary>per point</summary>"
        + _table(
            [
                "point",
                "interval: before CV(RMSE) / NMBE %",
                "after",
                "",
                "hourly: before",
                "after",
                "",
            ],
            per_point,
        )
        + "</details>"
        + f"<p class='note'>Limits (ASHRAE Guideline 14, hourly): CV(RMSE) ≤ "
        f"{HOURLY_CV_RMSE_LIMIT_PCT:g} %, |NMBE| ≤ {HOURLY_NMBE_LIMIT_PCT:g} %; applied "
        "at the data's interval too, where the Guideline sets none. n − p uses p = "
        f"{fitted} fitted parameters after, 0 before. n/a: the measured mean is ~0.</p>"
    )


def _subloop_table(w: WindowResult) -> str:
    """Each subloop's point groups, before and after, at the interval and hourly."""
    after = w.validation_after.per_subloop if w.validation_after else {}
    rows = []
    for loop, groups in w.validation_before.per_subloop.items():
        for group, before in groups.items():
            a = after.get(loop, {}).get(group)
            row = [_e(loop), _e(group)]
            for scale in ("interval", "hourly"):
                row += [
                    _metrics(before[scale]),
                    _verdict(before[scale]),
                    _metrics(a[scale]) if a else "–",
                    _verdict(a[scale]) if a else "–",
                ]
            rows.append(row)
    return _table(
        [
            "subloop",
            "point group",
            "interval: before CV(RMSE) / NMBE %",
            "",
            "after",
            "",
            "hourly: before",
            "",
            "after",
            "",
        ],
        rows,
    )


def _coverage_section(w: WindowResult) -> str:
    rows = []
    for point in sorted(set(w.before.values)):
        good = w.screening.good.get(point)
        if good is None:
            why = w.screening.excluded.get(point, "")
            rows.append(
                [_e(point), "–", "–", "–", "–", f"<span class='worse'>left out: {_e(why)}</span>"]
            )
            continue
        total = good.size
        present = np.isfinite(w.measured[point])  # a screened point was measured
        held = present & ~good  # rows with a value screening left out: stuck or stale
        rows.append(
            [
                _e(point),
                f"{100 * present.sum() / total:.1f} %",
                f"{100 * (total - present.sum()) / total:.1f} %",
                f"{100 * held.sum() / total:.1f} %",
                f"{100 * good.sum() / total:.1f} %",
                "used",
            ]
        )
    return (
        _table(["point", "rows with a value", "missing", "stuck or stale", "rows used", ""], rows)
        + "<p class='note'>Missing: no value in the row (a gap, a dropout). Stuck or "
        "stale: a value repeated while the model moved, left out by screening. The "
        "tables twin reads carry no quality flag: a source's bad-quality values must "
        "be blank (missing) in them.</p>"
    )


def _residual_charts(w: WindowResult, embed_chart: Callable[[str], str]) -> str:
    charts = []
    groups: dict[str, list[str]] = {}
    for point in w.screening.good:
        groups.setdefault(group_of(point), []).append(point)
    t = w.time_s - w.time_s[0]
    for points in groups.values():
        point = points[0]
        good = w.screening.good[point]
        before = np.where(good, w.measured[point] - w.before.values[point], np.nan)
        lines = [("before", t, before)]
        if w.after is not None:
            lines.append(
                ("after", t, np.where(good, w.measured[point] - w.after.values[point], np.nan))
            )
        unit = point.rsplit("_", 1)[-1] if "_" in point else ""
        more = f" (and {len(points) - 1} more)" if len(points) > 1 else ""
        charts.append(
            embed_chart(svg_chart(f"residual, measured − model: {point}{more}", unit, lines))
        )
    return "".join(charts)


def report_sections(
    cal: Calibration,
    scenario_name: str,
    data: list[str],
    embed_chart: Callable[[str], str] = str,
) -> list[str]:
    """The report's sections as HTML, the title first; ``embed_chart`` turns each chart's
    SVG into the HTML that shows it (the inline SVG itself, or a PDF's image)."""
    fw = cal.fit_window
    parts = [
        f"<h1>Calibration of {_e(scenario_name)}</h1>",
        _table(
            ["", ""],
            [
                ["data", _e(", ".join(data))],
                [
                    "fit window",
                    f"{fw.start_s / 3600:g} h to {fw.end_s / 3600:g} h "
                    f"({fw.time_s.size:,} rows; the model starts {cal.warmup_s / 60:g} min "
                    "before it to settle)",
                ],
                [
                    "held-out window",
                    f"{cal.holdout.start_s / 3600:g} h to {cal.holdout.end_s / 3600:g} h"
                    if cal.holdout
                    else "none",
                ],
                ["model runs", f"{cal.evaluations:,} in {cal.wall_s:,.1f} s"],
            ],
        ),
    ]
    notes = cal.messages + cal.input_notes + fw.screening.messages
    parts.append("<h2>Data and its coverage</h2>")
    if notes:
        parts.append("<ul>" + "".join(f"<li>{_e(n)}</li>" for n in notes) + "</ul>")
    parts.append(_coverage_section(fw))
    parts.append("<h2>Parameters</h2>")
    rows = []
    for r in cal.params:
        p = r.param
        change = 100 * (r.value - p.prior) / p.prior if r.fitted else math.nan
        status = ("fitted" if r.fitted else "at prior") + (f": {r.note}" if r.note else "")
        rows.append(
            [
                _e(p.name),
                _e(p.field),
                _e(p.unit),
                _n(p.prior, 5),
                _n(r.value, 5),
                _n(r.std, 2) if r.fitted else "–",
                f"{change:+.1f} %" if r.fitted else "–",
                _e(status),
                f"<span class='note'>{_e(p.source)}</span>",
            ]
        )
    parts.append(
        _table(
            [
                "parameter",
                "scenario key",
                "unit",
                "prior",
                "value",
                "± 1 σ",
                "change",
                "status",
                "prior's source",
            ],
            rows,
        )
    )
    parts.append(
        "<p class='note'>Uncertainties are s²(JᵀJ)⁻¹ at the fit, inflated by "
        "(1 + ρ)/(1 − ρ) for the residuals' correlation ρ from row to row. Fitted "
        "values hold given the parameters left at their prior.</p>"
    )
    if cal.offsets:
        parts.append(
            "<h3>Sensor offsets estimated alongside</h3>"
            + _table(
                ["point", "offset (measured − true, in its unit)"],
                [[_e(p), f"{v:+.4g}"] for p, v in cal.offsets.items()],
            )
        )
    fitted = cal.fitted
    pairs = []
    for i in range(len(fitted)):
        for j in range(i + 1, len(fitted)):
            r = cal.correlation[i, j]
            if abs(r) > CORRELATION_SHOWN:
                pairs.append([_e(fitted[i].param.name), _e(fitted[j].param.name), f"{r:+.3f}"])
    parts.append(
        "<h3>Correlated fitted parameters</h3>"
        + (
            _table(["parameter", "parameter", "r"], pairs)
            if pairs
            else "<p>No pair of fitted parameters is correlated beyond "
            f"|r| = {CORRELATION_SHOWN:g}.</p>"
        )
    )
    parts.append(
        "<h3>What the model has no parameter for</h3><ul>"
        + "".join(f"<li>{_e(k)}: {_e(v)}</li>" for k, v in NOT_MODELLED.items())
        + "</ul>"
    )
    parts.append("<h2>Validation (ASHRAE Guideline 14)</h2>")
    parts.append(_validation_section(fw, len(fitted)))
    if cal.holdout:
        parts.append(_validation_section(cal.holdout, 0))
    parts.append("<h2>Residuals over time</h2>")
    parts.append(_residual_charts(cal.holdout or fw, embed_chart))
    return parts


def page(title: str, sections: list[str]) -> str:
    return (
        f"<!doctype html><html><head><meta charset='utf-8'><title>{_e(title)}</title>"
        f"<style>{CSS}</style></head><body>{''.join(sections)}</body></html>"
    )


def build_report(cal: Calibration, scenario_name: str, data: list[str]) -> str:
    return page(f"Calibration of {scenario_name}", report_sections(cal, scenario_name, data))


def _write_html(path: Path, text: str) -> None:
    partial = path.with_name(path.name + ".partial")
    partial.write_text(text, encoding="utf-8")
    partial.replace(path)


def write_report(path: Path, cal: Calibration, scenario_name: str, data: list[str]) -> None:
    _write_html(path, build_report(cal, scenario_name, data))


def _provenance(record: CalibrationRecord) -> str:
    meta = record.metadata
    return (
        "<p class='note'>"
        f"From the calibration record {_e(record.path.name)}, written by twin "
        f"{_e(meta.twin_version)} at {_e(meta.written_utc)} with the calibrated scenario "
        f"of SHA-256 {_e(meta.calibrated_scenario_sha256[:16])}…; the statistics below are "
        "computed from the series it holds, as twin calibrate computed them.</p>"
    )


def record_report_content(path: Path, embed_chart: Callable[[str], str] = str) -> ReportContent:
    """``twin report`` on a calibration: the calibration report's sections from the
    record at (or beside the calibrated scenario at) ``path``; RecordError if it cannot
    be read."""
    record = read_for_report(path)
    meta = record.metadata
    sections = report_sections(record.calibration, meta.scenario, meta.data, embed_chart)
    return ReportContent(
        scenario=meta.scenario,
        run_name=record.path.name,
        sections=[sections[0], _provenance(record), *sections[1:]],
        title="twin calibration report",
    )


def write_record_report(path: Path, out: Path) -> None:
    content = record_report_content(path)
    _write_html(out, page(f"Calibration of {content.scenario}", content.sections))
