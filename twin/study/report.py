"""A study's report: one self-contained HTML page from a results folder (finished, still
running, or stopped), charts as inline SVG.

- Sweep: each KPI against each numeric parameter, runs within the study's ``[limits]``
  filled and the others hollow, a limit drawn as a line; a sensitivity ranking by
  standardized regression coefficients (SRC: the least-squares slopes of the KPI on the
  parameters, each scaled by its parameter's standard deviation over the KPI's; with R²
  near 1 the ranking is sound, a low R² says the response is not linear enough for it);
  for a ``method = "sobol"`` sweep, beside it, Sobol' first-order and total indices with
  their 95 % intervals (``twin.study.sensitivity``); every run in a table.
- Monte Carlo: the statistics with confidence intervals (``twin.study.analysis``),
  histograms of output availability and tokens lost per year, per class the drawn
  availability against MTBF/(MTBF+MTTR), and the worst replicas, each with its scenario
  (the base scenario's text with the replica's failures appended as ``[[events]]``) to
  download and rerun as a recording with ``twin run --record``.
"""

from __future__ import annotations

import base64
import html
import json
import math
from pathlib import Path
from typing import Any

import numpy as np

from twin.study.analysis import columns, mean_interval, monte_carlo_summary
from twin.study.failures import draw
from twin.study.plan import StudyPlan, load_study_text, scenario_for
from twin.study.results import MANIFEST, parameter_column, read_results
from twin.study.sensitivity import runs_per_sample, sobol_indices

SWEEP_KPIS = (
    "pue",
    "peak_import_mw",
    "hours_throttled_h",
    "tokens_lost",
    "energy_mwh",
    "cost_krw",
    "water_m3",
    "co2_t",
    "max_tripped_racks",
)
LIMITED = {
    "peak_import_mw": ("import_cap_mw", "<="),
    "hours_throttled_h": ("hours_throttled_max", "<="),
    "pue": ("pue_max", "<="),
    "output_availability": ("availability_min", ">="),
}
MAX_TABLE_ROWS = 2000
CSS = """body{font-family:sans-serif;margin:2em;max-width:1100px}table{border-collapse:collapse;
margin:1em 0}td,th{border:1px solid #ccc;padding:2px 6px;font-size:13px}td.n{text-align:right}
.note{color:#555;font-size:13px}svg{margin:0.5em 0.5em 0 0}"""


def is_study_results(path: Path) -> bool:
    return path.is_dir() and (path / MANIFEST).is_file()


def write_study_report(folder: Path, out: Path) -> None:
    out.write_text(build_study_report(folder), encoding="utf-8")


def build_study_report(folder: Path) -> str:
    plan = load_study_text(folder / MANIFEST)
    c = columns(read_results(folder))
    info = plan.study.study
    done = int(np.sum(c["status"] == "ok"))
    failed = int(np.sum(c["status"] != "ok"))
    total = len(plan.runs)
    kind = "sweep" if plan.study.sweep is not None else "Monte Carlo"
    parts = [
        f"<!DOCTYPE html><html><head><meta charset='utf-8'><title>twin study "
        f"{_e(info.name)}</title><style>{CSS}</style></head><body>",
        f"<h1>Study {_e(info.name)}</h1>",
        f"<p>{_e(info.title)}</p>" if info.title else "",
        _table(
            [
                ["scenario", plan.scenario.scenario.name],
                ["kind", kind],
                [
                    "runs",
                    f"{done:,} ok, {failed:,} failed, of {total:,} (the reference run included)",
                ],
                [
                    "each run",
                    f"{info.duration_s / 3600:,.4g} h simulated at dt "
                    f"{info.dt_s:g} s, KPIs from {info.every_s:g} s intervals",
                ],
                ["results", str(folder)],
            ]
        ),
    ]
    if done + failed < total:
        parts.append(
            f"<p class='note'>{total - done - failed:,} runs have not finished: the "
            "study is still running or was stopped (twin study --resume finishes "
            "it). The figures cover the runs finished.</p>"
        )
    if plan.study.sweep is not None:
        parts.append(_sweep_sections(plan, c))
    else:
        parts.append(_monte_carlo_sections(plan, c, folder))
    failures = [
        (c["run_id"][i], c["seed"][i], c["error"][i]) for i in np.flatnonzero(c["status"] != "ok")
    ]
    if failures:
        parts.append(
            "<h2>Failed runs</h2>"
            + _table(
                [[r, f"{s:.0f}", e] for r, s, e in failures[:MAX_TABLE_ROWS]],
                ["run", "seed", "error"],
            )
        )
    parts.append("</body></html>")
    return "".join(parts)


# --------------------------------------------------------------------------- sweep


def _feasible(plan: StudyPlan, c: dict[str, np.ndarray]) -> np.ndarray:
    ok = c["status"] == "ok"
    limits = plan.study.limits
    for kpi, (limit_name, sense) in LIMITED.items():
        limit = getattr(limits, limit_name)
        if limit is not None:
            with np.errstate(invalid="ignore"):
                ok &= (c[kpi] <= limit) if sense == "<=" else (c[kpi] >= limit)
    return ok


def _sweep_sections(plan: StudyPlan, c: dict[str, np.ndarray]) -> str:
    runs = np.array([str(r).startswith("sweep-") for r in c["run_id"]]) & (c["status"] == "ok")
    feasible = _feasible(plan, c) & runs
    params = [p for p in plan.parameter_paths if c[parameter_column(p)].dtype != object]
    limits = plan.study.limits
    out = [
        f"<h2>Response</h2><p class='note'>{int(feasible.sum()):,} of {int(runs.sum()):,} "
        "runs are within the study's limits (filled); the others hollow.</p>"
    ]
    for kpi in SWEEP_KPIS:
        limit_name = LIMITED.get(kpi, (None,))[0]
        limit = getattr(limits, limit_name) if limit_name else None
        for path in params:
            x = c[parameter_column(path)][runs]
            out.append(
                scatter_svg(f"{kpi} vs {path}", path, kpi, x, c[kpi][runs], feasible[runs], limit)
            )
    out.append(_sensitivity(c, runs, params))
    if plan.study.require_sweep().method == "sobol":
        out.append(_sobol_section(plan, c))
    header = [*plan.parameter_paths, *SWEEP_KPIS, "within limits"]
    rows = []
    for i in np.flatnonzero(runs)[:MAX_TABLE_ROWS]:
        rows.append(
            [_cell(c[parameter_column(p)][i]) for p in plan.parameter_paths]
            + [_cell(c[k][i]) for k in SWEEP_KPIS]
            + ["yes" if feasible[i] else "no"]
        )
    out.append("<h2>Runs</h2>" + _table(rows, header))
    return "".join(out)


def standardized_regression(x: np.ndarray, y: np.ndarray) -> tuple[np.ndarray, float]:
    """SRCs of ``y`` on the columns of ``x`` and the fit's R²; NaN where undefined."""
    n, d = x.shape
    sx, sy = x.std(axis=0), y.std()
    if n <= d + 1 or sy == 0 or np.any(sx == 0):
        return np.full(d, math.nan), math.nan
    design = np.column_stack([np.ones(n), (x - x.mean(axis=0)) / sx])
    coef, *_ = np.linalg.lstsq(design, (y - y.mean()) / sy, rcond=None)
    fitted = design @ coef
    r2 = 1.0 - float(np.sum(((y - y.mean()) / sy - fitted) ** 2)) / n
    return coef[1:], r2


def _sensitivity(c: dict[str, np.ndarray], runs: np.ndarray, params: list[str]) -> str:
    if not params:
        return ""
    x = np.column_stack([c[parameter_column(p)][runs] for p in params]).astype(float)
    rows = []
    for kpi in SWEEP_KPIS:
        y = c[kpi][runs]
        good = np.isfinite(y) & np.all(np.isfinite(x), axis=1)
        src, r2 = standardized_regression(x[good], y[good])
        if math.isnan(r2):
            continue
        ranked = sorted(zip(params, src, strict=True), key=lambda item: -abs(item[1]))
        rows.append([kpi, f"{r2:.3f}", "; ".join(f"{p} {s:+.3f}" for p, s in ranked)])
    if not rows:
        return (
            "<h2>Sensitivity</h2><p class='note'>Not enough runs (or no spread) for a "
            "regression.</p>"
        )
    return "<h2>Sensitivity (standardized regression coefficients)</h2>" + _table(
        rows, ["KPI", "R²", "parameters, most influential first"]
    )


def _sobol_section(plan: StudyPlan, c: dict[str, np.ndarray]) -> str:
    sweep = plan.study.require_sweep()
    names = [p.path for p in sweep.parameters]
    bounds = [p.require_bounds() for p in sweep.parameters]
    planned = len(plan.runs) - 1
    runs = np.array([str(r).startswith("sweep-") for r in c["run_id"]]) & (c["status"] == "ok")
    index = c["index"][runs].astype(int)
    rows, used, skipped = [], 0, []
    for kpi in SWEEP_KPIS:
        y = np.full(planned, math.nan)
        y[index] = c[kpi][runs]
        found = sobol_indices(names, bounds, y, seed=plan.study.study.seed)
        if found is None:
            skipped.append(kpi)
            continue
        used = found.samples_used
        for k, s in enumerate(found.indices):
            rows.append(
                [
                    kpi if k == 0 else "",
                    s.parameter,
                    _sobol_text(s.first, s.first_half_width),
                    _sobol_text(s.total, s.total_half_width),
                ]
            )
    out = [
        "<h2>Sensitivity (Sobol' indices)</h2><p class='note'>S1: the share of a KPI's "
        "variance its parameter explains alone; ST: alone and together with the others "
        "(ST − S1 is what it does through interactions). Saltelli's design, SALib's "
        f"estimators, 95 % bootstrap intervals. {used:,} of "
        f"{sweep.require_samples():,} base points have all their "
        f"{runs_per_sample(len(names))} runs finished and count.</p>"
    ]
    if rows:
        out.append(_table(rows, ["KPI", "parameter", "S1 (95 % CI)", "ST (95 % CI)"]))
    if skipped:
        out.append(
            f"<p class='note'>No indices for {_e(', '.join(skipped))}: the KPI does "
            "not vary over the runs, or fewer than two base points have all their "
            "runs finished.</p>"
        )
    return "".join(out)


def _sobol_text(value: float, half_width: float) -> str:
    return f"{value:.3f} ({value - half_width:.3f} .. {value + half_width:.3f})"


# --------------------------------------------------------------------------- Monte Carlo


def _monte_carlo_sections(plan: StudyPlan, c: dict[str, np.ndarray], folder: Path) -> str:
    s = monte_carlo_summary(folder)
    replicas = np.array([str(r).startswith("replica-") for r in c["run_id"]]) & (
        c["status"] == "ok"
    )
    per_year = s.any_trip_per_year
    out = [
        "<h2>Availability and losses (95 % confidence intervals)</h2>",
        _table(
            [
                ["output availability (tokens / reference run's)", s.output_availability.text()],
                ["tokens lost per year", s.tokens_lost_per_year.text()],
                ["probability of any rack trip, per run", s.any_trip.text("{:.4f}")],
                [
                    "probability of any rack trip, per year",
                    f"{per_year[0]:.4f} (95 % CI {per_year[1]:.4f} .. {per_year[2]:.4f})",
                ],
                ["energy per run, MWh", mean_interval(c["energy_mwh"][replicas]).text()],
                ["cost per run, KRW", mean_interval(c["cost_krw"][replicas]).text()],
            ]
        ),
    ]
    out.append(histogram_svg("output availability", c["output_availability"][replicas]))
    out.append(histogram_svg("tokens lost per year", c["tokens_lost"][replicas] * 8760.0 / s.run_h))
    out.append(
        "<h2>Components</h2>"
        + _table(
            [
                [
                    comp.component,
                    comp.observed.text("{:.5f}"),
                    f"{comp.long_run:.5f}",
                    _cell(comp.over_the_run),
                    comp.failures_per_replica.text("{:.3g}"),
                ]
                for comp in s.components
            ],
            [
                "class",
                "availability drawn",
                "MTBF/(MTBF+MTTR)",
                "expected over the run (exponential failures and repairs)",
                "failures per replica",
            ],
        )
    )
    out.append(
        "<h2>Worst replicas</h2><p class='note'>Each link holds the replica's "
        "scenario: the base scenario with its failures appended as [[events]]. Rerun "
        "it as a recording with the command beside it (a relative weather file is "
        "looked for beside the downloaded scenario), or open any run as a replay "
        f"from <code>twin gui --study {_e(folder)}</code>.</p>"
    )
    rows = []
    info = plan.study.study
    for worst in s.worst:
        spec = next(r for r in plan.runs if r.run_id == worst["run_id"])
        if spec.replica_seed is None:  # the worst runs are replicas, which all have one
            raise ValueError(f"{spec.run_id} is not a Monte Carlo replica")
        text = replica_scenario_text(plan, spec.replica_seed)
        name = f"{worst['run_id']}.toml"
        link = (
            f"<a download='{name}' href='data:application/toml;base64,"
            f"{base64.b64encode(text.encode()).decode()}'>{name}</a>"
        )
        command = (
            f"twin run --scenario {name} --duration {info.duration_s:g}s --dt "
            f"{info.dt_s:g}s --every {info.every_s:g}s --seed {spec.seed} "
            f"--out {worst['run_id']}.parquet --record {worst['run_id']}"
        )
        rows.append(
            f"<tr><td>{_e(worst['run_id'])}</td><td class='n'>"
            f"{worst['tokens_lost']:,.4g}</td><td class='n'>"
            f"{worst['output_availability']:.5f}</td><td>{link}</td>"
            f"<td><code>{_e(command)}</code></td></tr>"
        )
    out.append(
        "<table><tr><th>replica</th><th>tokens lost</th><th>availability</th>"
        "<th>scenario</th><th>rerun</th></tr>" + "".join(rows) + "</table>"
    )
    return "".join(out)


def replica_scenario_text(plan: StudyPlan, replica_seed: int) -> str:
    """The base scenario's text with one replica's drawn failures as ``[[events]]``: the
    draw is deterministic, so this is the scenario the replica ran."""
    base = scenario_for(plan.scenario_data, (), plan.scenario_folder)
    drawn = draw(
        base,
        plan.study.require_monte_carlo(),
        plan.study.study.duration_s,
        np.random.default_rng(replica_seed),
    )
    lines = [
        plan.scenario_text.rstrip("\n"),
        "",
        f"# failures drawn by twin study {plan.study.study.name}, replica seed {replica_seed}",
    ]
    for event in drawn.events:
        lines.append("[[events]]")
        lines += [f"{key} = {_toml_value(value)}" for key, value in event.items()]
    return "\n".join(lines) + "\n"


def _toml_value(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, str):
        return json.dumps(value)  # a TOML basic string: JSON's escapes are TOML's
    return repr(float(value)) if isinstance(value, float) else str(value)


# --------------------------------------------------------------------------- drawing


def _e(value: object) -> str:
    return html.escape(str(value))


def _cell(value: Any) -> str:
    if isinstance(value, float):
        return "–" if not math.isfinite(value) else f"{value:,.6g}"
    return str(value)


def _table(rows: list[list[Any]], header: list[str] | None = None) -> str:
    head = "<tr>" + "".join(f"<th>{_e(h)}</th>" for h in header) + "</tr>" if header else ""
    body = "".join(
        "<tr>"
        + "".join(
            f"<td class='n'>{_e(v)}</td>"
            if isinstance(v, str) and v[:1].isdigit()
            else f"<td>{_e(v)}</td>"
            for v in row
        )
        + "</tr>"
        for row in rows
    )
    return f"<table>{head}{body}</table>"


def _range(values: np.ndarray, extra: float | None = None) -> tuple[float, float]:
    finite = values[np.isfinite(values)]
    if extra is not None:
        finite = np.append(finite, extra)
    if not finite.size:
        return 0.0, 1.0
    low, high = float(finite.min()), float(finite.max())
    pad = (high - low) * 0.05 or max(abs(high) * 0.05, 1e-9)
    return low - pad, high + pad


def scatter_svg(
    title: str,
    x_label: str,
    y_label: str,
    x: np.ndarray,
    y: np.ndarray,
    filled: np.ndarray,
    limit: float | None,
    width: int = 360,
    height: int = 240,
) -> str:
    left, right, top, bottom = 64, 10, 22, 36
    pw, ph = width - left - right, height - top - bottom
    x0, x1 = _range(x)
    y0, y1 = _range(y, limit)

    def px(v: float) -> float:
        return left + (v - x0) / (x1 - x0) * pw

    def py(v: float) -> float:
        return top + (y1 - v) / (y1 - y0) * ph

    out = [
        f"<svg xmlns='http://www.w3.org/2000/svg' width='{width}' height='{height}' "
        f"role='img' aria-label='{_e(title)}'>",
        f"<text x='{left}' y='14' font-size='12' font-weight='bold'>{_e(y_label)}</text>",
        f"<rect x='{left}' y='{top}' width='{pw}' height='{ph}' fill='none' stroke='#999'/>",
        f"<text x='{left - 4}' y='{top + 10}' font-size='10' text-anchor='end'>{y1:,.4g}</text>",
        f"<text x='{left - 4}' y='{top + ph}' font-size='10' text-anchor='end'>{y0:,.4g}</text>",
        f"<text x='{left}' y='{top + ph + 12}' font-size='10'>{x0:,.4g}</text>",
        f"<text x='{left + pw}' y='{top + ph + 12}' font-size='10' text-anchor='end'>"
        f"{x1:,.4g}</text>",
        f"<text x='{left + pw / 2}' y='{height - 4}' font-size='11' text-anchor='middle'>"
        f"{_e(x_label)}</text>",
    ]
    if limit is not None:
        out.append(
            f"<line x1='{left}' x2='{left + pw}' y1='{py(limit):.1f}' "
            f"y2='{py(limit):.1f}' stroke='#c0392b' stroke-dasharray='5 3'>"
            f"<title>limit {limit:g}</title></line>"
        )
    for a, b, fill in zip(x, y, filled, strict=True):
        if math.isfinite(a) and math.isfinite(b):
            colour = "#1f77b4" if fill else "none"
            out.append(
                f"<circle cx='{px(a):.1f}' cy='{py(b):.1f}' r='3.5' fill='{colour}' "
                f"stroke='#1f77b4'><title>{a:g}, {b:,.6g}</title></circle>"
            )
    out.append("</svg>")
    return "".join(out)


def histogram_svg(
    title: str, values: np.ndarray, bins: int = 20, width: int = 520, height: int = 200
) -> str:
    finite = values[np.isfinite(values)]
    if not finite.size:
        return ""
    counts, edges = np.histogram(finite, bins=bins if np.ptp(finite) > 0 else 1)
    left, right, top, bottom = 40, 10, 22, 30
    pw, ph = width - left - right, height - top - bottom
    peak = max(int(counts.max()), 1)
    bar_w = pw / len(counts)
    out = [
        f"<svg xmlns='http://www.w3.org/2000/svg' width='{width}' height='{height}' "
        f"role='img' aria-label='{_e(title)}'>",
        f"<text x='{left}' y='14' font-size='12' font-weight='bold'>{_e(title)} "
        f"(n={finite.size:,})</text>",
        f"<text x='{left - 4}' y='{top + 10}' font-size='10' text-anchor='end'>{peak}</text>",
        f"<text x='{left}' y='{top + ph + 12}' font-size='10'>{edges[0]:,.4g}</text>",
        f"<text x='{left + pw}' y='{top + ph + 12}' font-size='10' text-anchor='end'>"
        f"{edges[-1]:,.4g}</text>",
    ]
    for k, count in enumerate(counts):
        h = count / peak * ph
        out.append(
            f"<rect x='{left + k * bar_w:.1f}' y='{top + ph - h:.1f}' "
            f"width='{max(bar_w - 1, 1):.1f}' height='{h:.1f}' fill='#1f77b4'>"
            f"<title>{edges[k]:,.4g} .. {edges[k + 1]:,.4g}: {count}</title></rect>"
        )
    out.append("</svg>")
    return "".join(out)
