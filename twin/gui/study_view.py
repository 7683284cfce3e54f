"""The study view's model, without Qt: a study's runs read from its results folder, the
columns the table shows, and the axes a chart of a KPI against a parameter can take.

A results folder can be read while its study runs (``twin.study.results``): the view
shows the runs finished so far and reloads on request.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from twin.study.analysis import columns
from twin.study.plan import REFERENCE_ID, StudyPlan, load_study_text
from twin.study.results import MANIFEST, parameter_column, read_results

# the KPIs the table shows, in this order (twin.study.kpis.KPI_COLUMNS says what each is)
TABLE_KPIS = (
    "output_availability",
    "tokens_lost",
    "pue",
    "energy_mwh",
    "peak_import_mw",
    "hours_throttled_h",
    "cost_krw",
    "co2_t",
    "water_m3",
    "unserved_mwh",
    "max_tripped_racks",
    "peak_gpu_temp_c",
    "first_trip_s",
    "alarms_total",
)
DEFAULT_Y = {"sweep": "pue", "monte-carlo": "tokens_lost"}


@dataclass(frozen=True, slots=True)
class Column:
    key: str  # the results' column name
    label: str  # the table's header and the chart's axis title
    values: np.ndarray  # float (NaN where missing) for numbers, else objects
    role: str  # "run", "parameter", "failures" or "kpi"

    @property
    def numeric(self) -> bool:
        return self.values.dtype != object


@dataclass(frozen=True, slots=True)
class StudyRuns:
    folder: Path
    plan: StudyPlan
    run_ids: list[str]  # the reference run first, then the study's runs in plan order
    columns: list[Column]  # the table's, left to right

    @property
    def kind(self) -> str:
        return "sweep" if self.plan.study.sweep is not None else "monte-carlo"

    @property
    def title(self) -> str:
        info = self.plan.study.study
        kind = "sweep" if self.kind == "sweep" else "Monte Carlo"
        return (
            f"{info.name}: {kind} of {self.plan.scenario.scenario.name}, "
            f"{len(self.run_ids):,} of {len(self.plan.runs):,} runs finished"
        )

    def column(self, key: str) -> Column:
        for column in self.columns:
            if column.key == key:
                return column
        raise KeyError(key)

    def x_choices(self) -> list[str]:
        """What a chart can put across: the numeric parameters (a sweep) or the failure
        counts and downtimes drawn (a Monte Carlo), then the KPIs."""
        return [
            c.key for c in self.columns if c.numeric and c.role in ("parameter", "failures")
        ] + self.y_choices()

    def y_choices(self) -> list[str]:
        return [c.key for c in self.columns if c.numeric and c.role == "kpi"]

    def default_axes(self) -> tuple[str, str]:
        xs, ys = self.x_choices(), self.y_choices()
        y = DEFAULT_Y[self.kind] if DEFAULT_Y[self.kind] in ys else ys[0]
        x = next((k for k in xs if k != y), y)
        return x, y

    def points(self, x: str, y: str) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """The chart's points: x values, y values and their rows in the table (the
        study's runs that finished with both values; the reference run is not a point)."""
        xs, ys = self.column(x).values, self.column(y).values
        status = self.column("status").values
        rows = np.array(
            [
                i
                for i, run_id in enumerate(self.run_ids)
                if run_id != REFERENCE_ID
                and status[i] == "ok"
                and math.isfinite(xs[i])
                and math.isfinite(ys[i])
            ],
            dtype=int,
        )
        if not rows.size:
            return np.empty(0), np.empty(0), rows
        return xs[rows], ys[rows], rows


def load_study_runs(folder: Path) -> StudyRuns:
    """A results folder's runs; raises ``twin.study.results.ResultsError`` or
    ``twin.scenario.ScenarioError`` when it cannot be read as a study's."""
    plan = load_study_text(folder / MANIFEST)
    c = columns(read_results(folder))
    order = {spec.run_id: k for k, spec in enumerate(plan.runs)}
    ids = [str(r) for r in c["run_id"]]
    rows = sorted((i for i, r in enumerate(ids) if r in order), key=lambda i: order[ids[i]])
    take = np.array(rows, dtype=int)
    out = [
        Column("run_id", "run", c["run_id"][take], "run"),
        Column("status", "status", c["status"][take], "run"),
    ]
    if plan.study.sweep is not None:
        for path in plan.parameter_paths:
            key = parameter_column(path)
            out.append(Column(key, path, c[key][take], "parameter"))
    for component in plan.components:
        for key, label in (
            (f"failures.{component}", f"{component} failures"),
            (f"downtime_h.{component}", f"{component} downtime_h"),
        ):
            out.append(Column(key, label, c[key][take], "failures"))
    out += [Column(k, k, c[k][take], "kpi") for k in TABLE_KPIS if k in c]
    return StudyRuns(folder, plan, [str(r) for r in c["run_id"][take]], out)


def cell_text(value: object) -> str:
    """A table cell: numbers to six significant digits, missing ones as a dash."""
    if isinstance(value, float | np.floating):
        return "–" if not math.isfinite(value) else f"{value:,.6g}"
    if value is None:
        return "–"
    return str(value)


def sort_key(value: object) -> float | str:
    """What a column sorts by: numbers by value with missing ones last, text as text."""
    if isinstance(value, float | np.floating):
        return float(value) if math.isfinite(value) else math.inf
    return "" if value is None else str(value)
