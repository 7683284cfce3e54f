"""``twin report SHADOW_RECORDING``: how well the shadow's model followed the plant.

Reads a ``twin shadow --record`` folder (``twin.exchange.record``): the recorded points,
the measured and modelled series and each value's coverage code. Per point and per point
group (every CDU's flow together, say: ``kind/quantity``) it gives ASHRAE Guideline 14's
CV(RMSE) and NMBE of modelled against measured, at the shadow's evaluation interval and
on hourly means, computed by ``twin.calibration.validation`` (the same statistics as
``twin calibrate``; p = 1 as in the recording's ``fit.csv``), and the coverage: of the
evaluations, how many compared a value, and why the others did not (no value or null,
bad quality, stale). Only compared values enter the statistics.

``ShadowSeries.measurements`` hands a recording to ``twin calibrate``: its points under
the calibration's names, the boundary points (rack power, outdoor air) as the inputs that
drive the model.
"""

from __future__ import annotations

import html
import math
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from twin import inputs
from twin.calibration.data import DataError, Measurements, from_point_columns
from twin.calibration.validation import (
    HOURLY_CV_RMSE_LIMIT_PCT,
    HOURLY_NMBE_LIMIT_PCT,
    Fit,
    Validation,
    group_of,
    validate,
)
from twin.exchange.points import BOUNDARY, BY_KEY, MEASURED, Point, read_points
from twin.exchange.record import (
    COVERAGE_NAMES,
    MANIFEST_FILE,
    MISSING,
    PARAMETERS,
    POINTS_FILE,
    SERIES_FOLDER,
    STALE,
    USED,
)
from twin.runs.report import CSS, svg_chart
from twin.scenario.loader import ScenarioError
from twin.scenario.units import format_duration

SERIES_COLUMNS = ("time_s", "tag_path", "measured", "modelled", "coverage")
MAX_MANIFEST_BYTES = inputs.MIB  # the recording's manifest names a scenario and an interval


class ShadowReportError(Exception):
    """A shadow recording that cannot be read; the message names the problem."""


def is_shadow_recording(path: Path) -> bool:
    return path.is_dir() and (path / SERIES_FOLDER).is_dir() and (path / POINTS_FILE).exists()


# A recorded quantity -> the quantity of twin's point names that the calibration's model
# predicts or is driven by, and the factor from the contract's unit to twin's.
CALIBRATION_QUANTITIES = {
    "rack.return_temp_c": ("outlet_temp_c", 1.0),
    "rack.flow_lpm": ("flow_lpm", 1.0),
    "rack.power_kw": ("power_kw", 1.0),
    "cdu.supply_temp_c": ("supply_c", 1.0),
    "cdu.return_temp_c": ("return_c", 1.0),
    "cdu.flow_lpm": ("flow_lpm", 1.0),
    "cdu.dp_kpa": ("dp_kpa", 1.0),
    "cdu.pump_speed_pct": ("pump_speed", 0.01),
    "cdu.valve_pct": ("facility_valve", 0.01),
    "site.ambient_c": ("ambient_c", 1.0),
    "plant.fws_supply_c": ("fws_supply_c", 1.0),
    "plant.fan_speed_pct": ("dry_cooler_fan_speed", 0.01),
}


@dataclass
class ShadowSeries:
    """A shadow recording on one time axis: per compared point (``points`` order) a
    column; the boundary points that drove the model in ``inputs``."""

    folder: Path
    scenario: str
    interval_s: float
    points: list[Point]  # the measured points the shadow compared
    time_s: np.ndarray  # evaluation times, plant seconds
    measured: np.ndarray  # (times, points)
    modelled: np.ndarray
    coverage: np.ndarray  # coverage codes; MISSING where a part holds no row
    problems: list[str]
    # boundary points (rack power, outdoor air): (point, measured, coverage) each
    inputs: list[tuple[Point, np.ndarray, np.ndarray]]

    @classmethod
    def read(cls, folder: Path) -> ShadowSeries:
        import pyarrow as pa
        import pyarrow.parquet as pq

        try:  # a file from others: a bounded regular file, any JSON nesting refused whole
            manifest = inputs.parse_json(
                inputs.read_text(folder / MANIFEST_FILE, MAX_MANIFEST_BYTES)
            )
            scenario = str(manifest["scenario"])
            interval_s = float(manifest["evaluate_every_s"])
        except (inputs.InputFileError, ValueError, KeyError, TypeError, OverflowError):
            raise ShadowReportError(
                f"{folder / MANIFEST_FILE} is missing or not the "
                "recording's manifest (scenario, evaluate_every_s)"
            ) from None
        if not (math.isfinite(interval_s) and interval_s > 0):
            raise ShadowReportError(
                f"{folder / MANIFEST_FILE}: evaluate_every_s must be a "
                f"positive number, not {interval_s}"
            )
        try:
            points = read_points(folder / POINTS_FILE)
        except ScenarioError as exc:
            raise ShadowReportError(exc.report()) from None
        series_schema = pa.schema(
            [
                ("time_s", pa.float64()),
                ("tag_path", pa.string()),
                ("measured", pa.float64()),
                ("modelled", pa.float64()),
                ("coverage", pa.int8()),
            ]
        )
        tables, problems = [], []
        for part in sorted((folder / SERIES_FOLDER).glob("part-*.parquet")):
            # named by what went wrong, never by pyarrow's message (it may quote the part)
            try:
                table = pq.read_table(part, columns=list(SERIES_COLUMNS))
            except (OSError, pa.ArrowException, KeyError) as exc:
                problems.append(f"{part.name} is unreadable and left out ({type(exc).__name__})")
                continue
            try:  # the recorder's types: a part of other types is named, not used
                tables.append(table.select(list(SERIES_COLUMNS)).cast(series_schema))
            except (pa.ArrowException, ValueError):
                problems.append(
                    f"{part.name} is left out: its columns {', '.join(SERIES_COLUMNS)} are "
                    "not of the types twin shadow writes"
                )
        if not tables:
            raise ShadowReportError(
                f"{folder}: no readable series part (the shadow stopped "
                "before its first evaluations were written)"
            )
        table = pa.concat_tables(tables)
        times, row = np.unique(table["time_s"].to_numpy(), return_inverse=True)
        column_of = {p.tag_path: j for j, p in enumerate(points)}
        tags = table["tag_path"].to_pylist()
        known = np.array([t in column_of for t in tags])
        if not known.all():
            problems.append(f"{int((~known).sum())} rows of points not in {POINTS_FILE} left out")
        column = np.array([column_of.get(t, -1) for t in tags], dtype=np.int64)
        shape = (times.size, len(points))
        measured, modelled = np.full(shape, np.nan), np.full(shape, np.nan)
        coverage = np.full(shape, MISSING, dtype=np.int64)
        at = (row[known], column[known])
        measured[at] = table["measured"].to_numpy()[known]
        modelled[at] = table["modelled"].to_numpy()[known]
        coverage[at] = table["coverage"].to_numpy()[known]
        compared = np.array([BY_KEY[p.quantity].role == MEASURED for p in points], dtype=bool)
        boundary = [
            (p, measured[:, j], coverage[:, j])
            for j, p in enumerate(points)
            if BY_KEY[p.quantity].role == BOUNDARY
        ]
        return cls(
            folder,
            scenario,
            interval_s,
            [p for p, c in zip(points, compared, strict=True) if c],
            times,
            measured[:, compared],
            modelled[:, compared],
            coverage[:, compared],
            problems,
            boundary,
        )

    def measurements(self) -> Measurements:
        """The recording as ``twin calibrate`` reads measurements: each point it models or
        is driven by, under its name and in its unit; a compared value where the shadow
        used it, a boundary value where its quality was good (stale included: the shadow
        drove its model with it), NaN elsewhere."""
        columns: dict[str, np.ndarray] = {}
        skipped: set[str] = set()
        series = [(p, self.measured[:, j], self.coverage[:, j]) for j, p in enumerate(self.points)]
        for p, measured, coverage in [*series, *self.inputs]:
            if p.quantity not in CALIBRATION_QUANTITIES:
                skipped.add(p.quantity)
                continue
            quantity, factor = CALIBRATION_QUANTITIES[p.quantity]
            kind = p.quantity.split(".", 1)[0]
            name = {"site": f"site/{quantity}", "plant": f"plant/plant/{quantity}"}.get(
                kind, f"{kind}/{p.component}/{quantity}"
            )
            good = coverage == USED
            if BY_KEY[p.quantity].role == BOUNDARY:
                good |= coverage == STALE
            columns[name] = np.where(good, measured * factor, np.nan)
        try:
            m = from_point_columns(self.time_s, columns, self.folder.name)
        except DataError as exc:
            raise ShadowReportError(str(exc)) from None
        if not self.inputs:
            m.notes.append(
                f"{self.folder.name}: no rack power or outdoor air recorded (a recording "
                "of an older twin shadow): the model cannot be driven by it alone"
            )
        if skipped:
            m.notes.append(
                f"{self.folder.name}: not compared by the calibration's model: "
                + ", ".join(sorted(skipped))
            )
        m.notes += [f"{self.folder.name}: {problem}" for problem in self.problems]
        return m

    def point_name(self, j: int) -> str:
        """``kind/component/quantity``, as ``twin.calibration`` names points."""
        p = self.points[j]
        kind, quantity = p.quantity.split(".", 1)
        return f"{kind}/{p.component}/{quantity}"

    def subloops(self) -> dict[str, str]:
        """Component -> its subloop, from the point list's topology: a CDU's secondary loop
        holds the racks its points serve (``servesId``: the racks' rackLocationIds)."""
        rack_by_id = {
            p.rack_location_id: p.component for p in [*self.points, *(i[0] for i in self.inputs)]
        }
        loops: dict[str, str] = {}
        for p in self.points:
            if p.quantity.startswith("cdu."):
                loop = f"{p.component} secondary loop"
                loops[p.component] = loop
                for served in p.serves_id:
                    if served in rack_by_id:
                        loops[rack_by_id[served]] = loop
        return loops

    def validation(self) -> Validation:
        used = self.coverage == USED
        names = [self.point_name(j) for j in range(len(self.points))]
        return validate(
            self.time_s,
            self.interval_s,
            {n: self.measured[:, j] for j, n in enumerate(names)},
            {n: self.modelled[:, j] for j, n in enumerate(names)},
            {n: used[:, j] for j, n in enumerate(names)},
            fitted=PARAMETERS,
            loops=self.subloops(),
        )

    def coverage_counts(self) -> np.ndarray:
        """(points, codes): how many evaluations of each point had each coverage code."""
        return np.stack(
            [(self.coverage == code).sum(axis=0) for code in range(len(COVERAGE_NAMES))], axis=1
        )


def write_shadow_report(folder: Path, out: Path) -> Path:
    out.write_text(build_shadow_report(ShadowSeries.read(folder)), encoding="utf-8")
    return out


def _e(value: object) -> str:
    return html.escape(str(value))


def _n(value: float, digits: int = 3) -> str:
    return "–" if not math.isfinite(value) else f"{value:.{digits}g}"


def _finite(value: float) -> float:
    return value if math.isfinite(value) else -math.inf


def _pct(part: float, whole: float) -> str:
    return "–" if whole <= 0 else f"{100.0 * part / whole:.1f} %"


def _verdict(fit: Fit) -> str:
    passes = fit.passes
    return "undefined" if passes is None else ("meets" if passes else "does not meet")


def _row(cells: list[str], numeric_from: int) -> str:
    return (
        "<tr>"
        + "".join(
            f"<td class='n'>{c}</td>" if k >= numeric_from else f"<td>{c}</td>"
            for k, c in enumerate(cells)
        )
        + "</tr>"
    )


def _table(header: list[str], rows: list[str]) -> str:
    head = "".join(f"<th>{_e(h)}</th>" for h in header)
    return f"<table><thead><tr>{head}</tr></thead>{''.join(rows)}</table>"


def _fit_cells(fits: dict[str, Fit]) -> list[str]:
    interval, hourly = fits["interval"], fits["hourly"]
    return [
        _n(interval.rmse),
        _n(interval.cv_rmse_pct),
        _n(interval.nmbe_pct),
        str(hourly.n),
        _n(hourly.cv_rmse_pct),
        _n(hourly.nmbe_pct),
        _verdict(hourly),
    ]


FIT_HEADER = [
    "RMSE",
    "CV(RMSE) %",
    "NMBE %",
    "hours",
    "hourly CV(RMSE) %",
    "hourly NMBE %",
    "Guideline 14 (hourly)",
]
COVERAGE_HEADER = ["evaluations", *(f"{name}" for name in COVERAGE_NAMES)]


def build_shadow_report(series: ShadowSeries) -> str:
    validation = series.validation()
    counts = series.coverage_counts()
    evaluations = series.time_s.size
    names = [series.point_name(j) for j in range(len(series.points))]
    group_points: dict[str, list[int]] = {}
    for j, name in enumerate(names):
        group_points.setdefault(group_of(name), []).append(j)

    def coverage_cells(rows: list[int]) -> list[str]:
        total = evaluations * len(rows)
        sums = counts[rows].sum(axis=0)
        return [f"{total:,}", *(f"{int(c):,} ({_pct(c, total)})" for c in sums)]

    group_rows = []
    for group, members in group_points.items():
        unit = series.points[members[0]].eng_unit
        group_rows.append(
            _row(
                [
                    _e(group),
                    _e(unit),
                    str(len(members)),
                    *coverage_cells(members),
                    *_fit_cells(validation.per_group[group]),
                ],
                2,
            )
        )
    point_rows = []
    for j, p in enumerate(series.points):
        point_rows.append(
            _row(
                [
                    _e(p.tag_path),
                    _e(p.component),
                    _e(BY_KEY[p.quantity].point_type),
                    _e(p.eng_unit),
                    *coverage_cells([j]),
                    _n(
                        float(
                            np.nanmean(
                                np.where(
                                    series.coverage[:, j] == USED, series.measured[:, j], np.nan
                                )
                            )
                        )
                        if counts[j, USED]
                        else math.nan
                    ),
                    *_fit_cells(validation.per_point[names[j]]),
                ],
                4,
            )
        )
    subloop_rows = [
        _row([_e(loop), _e(group), *_fit_cells(fits)], 2)
        for loop, groups in validation.per_subloop.items()
        for group, fits in groups.items()
    ]
    charts = []
    t = series.time_s - series.time_s[0]
    for members in group_points.values():
        # the group's point with the largest RMSE: where the model is furthest off
        worst = max(members, key=lambda j: _finite(validation.per_point[names[j]]["interval"].rmse))
        used = series.coverage[:, worst] == USED
        residual = np.where(used, series.measured[:, worst] - series.modelled[:, worst], np.nan)
        more = f", the worst of {len(members)}" if len(members) > 1 else ""
        charts.append(
            svg_chart(
                f"residual, measured − modelled: {series.points[worst].tag_path}{more}",
                series.points[worst].eng_unit,
                [("residual", t, residual)],
            )
        )
    span = (
        f"{format_duration(series.time_s[0])} to {format_duration(series.time_s[-1])} of "
        f"the plant's time, {evaluations:,} evaluations every {series.interval_s:g} s"
    )
    all_points = list(range(len(series.points)))
    totals = coverage_cells(all_points)
    overall = ", ".join(f"{c} {n}" for n, c in zip(COVERAGE_NAMES, totals[1:], strict=True))
    problems = "".join(f"<li>{_e(p)}</li>" for p in series.problems)
    sections = [
        f"<h1>twin shadow report: {_e(series.scenario)}</h1>",
        f"<ul class='missing'>{problems}</ul>" if problems else "",
        f"<p>{_e(series.folder.name)}: {_e(span)}; {len(series.points):,} measured points "
        f"in {len(group_points)} groups.</p>",
        "<h2>Coverage</h2>",
        "<p>Of every point's evaluations: those that compared a value (<i>used</i>), and why "
        "the others did not: <i>missing</i> (no value yet, or null), <i>bad quality</i> "
        "(quality other than 1), <i>stale</i> (no value within two republish periods). "
        f"All points: {_e(totals[0])} evaluations; {_e(overall)}.</p>",
        "<h2>Fit per point group</h2>",
        "<p>ASHRAE Guideline 14 after <code>twin.calibration.validation</code>: "
        "CV(RMSE) = 100 &middot; sqrt(&Sigma;(m&minus;s)&sup2;/(n&minus;p)) / mean(m), "
        "NMBE = 100 &middot; &Sigma;(m&minus;s) / ((n&minus;p) &middot; mean(m)), m measured, "
        f"s modelled, p = {PARAMETERS}, over the used values only; a group pools its points. "
        f"Hourly: means over clock hours with at least 90 % of their evaluations used; the "
        f"Guideline's hourly limits CV(RMSE) &le; {HOURLY_CV_RMSE_LIMIT_PCT:g} % and "
        f"|NMBE| &le; {HOURLY_NMBE_LIMIT_PCT:g} % (undefined with fewer than two hours or a "
        "mean near 0). Both are ratios to the measured mean, so on temperatures in °C read "
        "them beside the RMSE, in the point's unit.</p>",
        _table(["group", "unit", "points", *COVERAGE_HEADER, *FIT_HEADER], group_rows),
        "<h2>Fit per subloop</h2>",
        "<p>Each CDU's secondary loop (its points and those of the racks it serves, from the "
        "point list's servesId), the facility water and heat rejection, each hall, the site; "
        "point group by point group, as one figure over temperatures and flows would mix "
        "units.</p>",
        _table(["subloop", "point group", *FIT_HEADER], subloop_rows),
        "<h2>Fit per point</h2>",
        _table(
            [
                "tagPath",
                "component",
                "pointType",
                "unit",
                *COVERAGE_HEADER,
                "measured mean",
                *FIT_HEADER,
            ],
            point_rows,
        ),
        "<h2>Residuals over time</h2>",
        f"<p>Per point group, measured less modelled over {_e(span)}; compared values only.</p>",
        *charts,
    ]
    return (
        "<!DOCTYPE html><html lang='en'><head><meta charset='utf-8'>"
        f"<title>twin shadow report {_e(series.folder.name)}</title><style>{CSS}</style>"
        f"</head><body>{''.join(sections)}</body></html>"
    )
