"""``twin shadow --record DIR``: measured and modelled series side by side, the alarm journal,
and the model's fit per point after ASHRAE Guideline 14-2014 (clause 4.3.3.4.2):

    CV(RMSE) = 100 * sqrt(sum((m - s)^2) / (n - p)) / mean(m)
    NMBE     = 100 * sum(m - s) / ((n - p) * mean(m))

with m measured, s simulated, n samples and p = 1. Guideline 14 calls a model calibrated to
hourly data at CV(RMSE) <= 30 % and |NMBE| <= 10 %; these ratios are over the measured
mean, so on temperatures in °C they depend on the scale's zero (read them beside the
mean residual in the point's unit, also written).

Series are written in Parquet parts (``series/part-NNNNN.parquet``, long format: one row
per point and evaluation: time_s, tag_path, measured, modelled, the plant's quality and the
coverage code: ``USED``, or why the value was not compared: ``MISSING`` (none yet, or
null), ``BAD_QUALITY``, ``STALE``) every ``FLUSH_EVERY`` evaluations, so a killed shadow
keeps all but the last part's worth. The boundary points that drive the model (rack power,
outdoor air) are recorded beside the measured ones, never compared, so that a recording
holds what ``twin calibrate`` drives its model with. ``points.csv`` (the recorded points,
the point list's columns) and ``recording.json`` (scenario, evaluation interval) are
written at the start; ``twin report`` and ``twin calibrate`` read the folder
(``twin.exchange.report``).
"""

from __future__ import annotations

import csv
import html
import json
import math
from pathlib import Path

import numpy as np

from twin.exchange.points import BOUNDARY, BY_KEY, MEASURED, Point, write_points

FLUSH_EVERY = 30  # evaluations per part (5 min of plant time at one per 10 s)
PARAMETERS = 1  # p in Guideline 14's formulas
USED, MISSING, BAD_QUALITY, STALE = 0, 1, 2, 3  # coverage codes, as recorded
COVERAGE_NAMES = ("used", "missing", "bad quality", "stale")
POINTS_FILE = "points.csv"
MANIFEST_FILE = "recording.json"
SERIES_FOLDER = "series"
FIT_COLUMNS = (
    "tagPath",
    "quantity",
    "component",
    "unit",
    "samples",
    "measured_mean",
    "mean_residual",
    "cv_rmse_pct",
    "nmbe_pct",
)


class ShadowRecorder:
    def __init__(
        self, folder: Path, points: list[Point], *, scenario_name: str, evaluate_every_s: float
    ) -> None:
        folder.mkdir()  # a new folder: recordings are never overwritten
        (folder / SERIES_FOLDER).mkdir()
        self.folder = folder
        self.points = points
        self.index = np.array(
            [
                i
                for i, p in enumerate(points)
                if BY_KEY[p.quantity].role in (MEASURED, BOUNDARY)
                and BY_KEY[p.quantity].read is not None
            ],
            dtype=np.int64,
        )
        self.compared = np.array([BY_KEY[points[i].quantity].role == MEASURED for i in self.index])
        self.tags = [points[i].tag_path for i in self.index]
        write_points([points[i] for i in self.index], folder / POINTS_FILE)
        (folder / MANIFEST_FILE).write_text(
            json.dumps({"scenario": scenario_name, "evaluate_every_s": evaluate_every_s}),
            encoding="utf-8",
        )
        # time, measured, modelled, quality, coverage
        self._rows: list[tuple[float, np.ndarray, np.ndarray, np.ndarray, np.ndarray]] = []
        self._part = 0
        k = self.index.size
        self.n = np.zeros(k)
        self.sum_measured = np.zeros(k)
        self.sum_error = np.zeros(k)
        self.sum_error2 = np.zeros(k)

    def add(
        self,
        time_s: float,
        measured: np.ndarray,
        modelled: np.ndarray,
        quality: np.ndarray,
        coverage: np.ndarray,
    ) -> None:
        m, s = measured[self.index], modelled[self.index]
        q, c = quality[self.index], coverage[self.index]
        self._rows.append((time_s, m.copy(), s.copy(), q.copy(), c.copy()))
        used = (c == USED) & np.isfinite(m) & np.isfinite(s)
        error = np.where(used, m - s, 0.0)
        self.n += used
        self.sum_measured += np.where(used, m, 0.0)
        self.sum_error += error
        self.sum_error2 += error * error
        if len(self._rows) >= FLUSH_EVERY:
            self.flush()

    def flush(self) -> None:
        if not self._rows:
            return
        import pyarrow as pa
        import pyarrow.parquet as pq

        k = self.index.size
        times = np.repeat([row[0] for row in self._rows], k)
        table = pa.table(
            {
                "time_s": times,
                "tag_path": pa.array(self.tags * len(self._rows)),
                "measured": np.concatenate([row[1] for row in self._rows]),
                "modelled": np.concatenate([row[2] for row in self._rows]),
                "quality": np.concatenate([row[3] for row in self._rows]).astype(np.int64),
                "coverage": np.concatenate([row[4] for row in self._rows]).astype(np.int8),
            }
        )
        self._part += 1
        path = self.folder / SERIES_FOLDER / f"part-{self._part:05d}.parquet"
        pq.write_table(table, path.with_suffix(".tmp"))
        path.with_suffix(".tmp").replace(path)
        self._rows.clear()

    def fit(self) -> list[dict]:
        rows = []
        for j, i in enumerate(self.index):
            if not self.compared[j]:
                continue
            p = self.points[i]
            n = self.n[j]
            dof = n - PARAMETERS
            mean = self.sum_measured[j] / n if n else math.nan
            ok = dof > 0 and mean != 0
            rows.append(
                {
                    "tagPath": p.tag_path,
                    "quantity": p.quantity,
                    "component": p.component,
                    "unit": p.eng_unit,
                    "samples": int(n),
                    "measured_mean": mean,
                    "mean_residual": self.sum_error[j] / n if n else math.nan,
                    "cv_rmse_pct": 100 * math.sqrt(self.sum_error2[j] / dof) / abs(mean)
                    if ok
                    else math.nan,
                    "nmbe_pct": 100 * self.sum_error[j] / (dof * mean) if ok else math.nan,
                }
            )
        return rows

    def close(self) -> None:
        self.flush()
        rows = self.fit()
        with (self.folder / "fit.csv").open("w", newline="", encoding="utf-8") as f:
            writer = csv.DictWriter(f, FIT_COLUMNS, lineterminator="\n")
            writer.writeheader()
            writer.writerows(rows)
        (self.folder / "report.html").write_text(_report_html(rows), encoding="utf-8")


def _report_html(rows: list[dict]) -> str:
    def cell(value) -> str:
        if isinstance(value, float):
            return "" if math.isnan(value) else f"{value:.3g}"
        return html.escape(str(value))

    head = "".join(f"<th>{html.escape(c)}</th>" for c in FIT_COLUMNS)
    body = "\n".join(
        "<tr>" + "".join(f"<td>{cell(r[c])}</td>" for c in FIT_COLUMNS) + "</tr>" for r in rows
    )
    return (
        "<!doctype html><html><head><meta charset='utf-8'><title>twin shadow: model fit"
        "</title></head><body><h1>Model fit per point (ASHRAE Guideline 14)</h1>"
        "<p>CV(RMSE) and NMBE in percent of the measured mean, p = 1. Calibrated to hourly "
        "data: CV(RMSE) &le; 30 %, |NMBE| &le; 10 %.</p>"
        f"<table border='1'><tr>{head}</tr>\n{body}</table></body></html>\n"
    )
