"""Measurements as point-keyed series on one time grid.

A point is named ``kind/component/quantity`` (``cdu/H1-CDU-07/flow_lpm``,
``rack/H1-R01-03/power_kw``, ``plant/plant/fws_supply_c``) or ``site/quantity``
(``site/ambient_c``), the names and units of ``twin run``'s component and site tables.
Each row's ``time_s`` is the end of its interval, seconds after the scenario's start.

Readers: ``twin run`` site tables (.csv/.parquet, through ``twin.runs.runtable``), component
tables (the long Parquet of ``--components``), and wide point tables (``time_s`` and one
column per point, .csv or .parquet). A plant's data (a DSX Exchange shadow recording,
a historian export) joins through ``from_point_columns``: map its point list onto these
names and hand over the columns.
"""

from __future__ import annotations

import csv
import math
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from twin import inputs
from twin.runs.runtable import RunTableError, read_run_table

MAX_ROWS = 5_000_000  # a year of 10 s data is 3.2 M rows


class DataError(ValueError):
    """Measurements that cannot be used; the message names the problem."""


@dataclass
class Measurements:
    time_s: np.ndarray  # end of each row's interval, on a uniform grid
    interval_s: float
    values: dict[str, np.ndarray]  # point -> series, NaN where missing
    sources: dict[str, str] = field(default_factory=dict)  # point -> where it came from
    notes: list[str] = field(default_factory=list)  # what the readers noticed

    def points(self, kind: str | None = None) -> list[str]:
        return [p for p in self.values if kind is None or p.split("/")[0] == kind]

    def window(self, start_s: float, end_s: float) -> np.ndarray:
        """Row mask of ``start_s < time_s <= end_s`` (rows are interval ends)."""
        return (self.time_s > start_s + 1e-9) & (self.time_s <= end_s + 1e-9)


def split_point(point: str) -> tuple[str, str, str]:
    """``(kind, component, quantity)``; the site's points have component ``site``."""
    parts = point.split("/")
    if len(parts) == 2 and parts[0] == "site":
        return "site", "site", parts[1]
    if len(parts) == 3 and all(parts):
        return parts[0], parts[1], parts[2]
    raise DataError(
        f"{point!r} is not a point name: use kind/component/quantity "
        "(cdu/H1-CDU-07/flow_lpm) or site/quantity (site/ambient_c)"
    )


def from_point_columns(
    time_s: np.ndarray, columns: dict[str, np.ndarray], source: str
) -> Measurements:
    """Measurements from named columns on one time axis: the adapter every reader ends
    in. Rows out of order, repeated times or an irregular interval are put on a uniform
    grid of the median interval (a missing row becomes NaN, never an invented value)."""
    time_s = np.asarray(time_s, dtype=float)
    if time_s.size < 2:
        raise DataError(f"{source}: {time_s.size} row(s); calibration needs a time series")
    if time_s.size > MAX_ROWS:
        raise DataError(f"{source}: {time_s.size:,} rows; at most {MAX_ROWS:,} are read")
    if not np.all(np.isfinite(time_s)):
        raise DataError(f"{source}: time_s holds a value that is not a time")
    for point in columns:
        split_point(point)
    order = np.argsort(time_s, kind="stable")
    time_s = time_s[order]
    steps = np.diff(time_s)
    if np.any(steps <= 0):
        raise DataError(
            f"{source}: time_s repeats {time_s[1:][steps <= 0][0]:g} s: two rows for one time"
        )
    interval = float(np.median(steps))
    grid_index = np.round((time_s - time_s[0]) / interval).astype(np.int64)
    off_grid = np.abs(time_s - time_s[0] - grid_index * interval) > 0.25 * interval
    notes = []
    if off_grid.any():
        notes.append(
            f"{source}: {int(off_grid.sum()):,} rows lie off the {interval:g} s "
            "grid and were left out"
        )
    keep = ~off_grid & np.concatenate([[True], np.diff(grid_index) > 0])
    grid = time_s[0] + interval * np.arange(int(grid_index[-1]) + 1)
    values = {}
    for point, column in columns.items():
        series = np.full(grid.size, np.nan)
        series[grid_index[keep]] = np.asarray(column, dtype=float)[order][keep]
        values[point] = series
    missing_rows = grid.size - int(keep.sum())
    if missing_rows:
        notes.append(
            f"{source}: {missing_rows:,} of {grid.size:,} rows are missing "
            f"(gaps in time_s at a {interval:g} s interval)"
        )
    return Measurements(grid, interval, values, dict.fromkeys(values, source), notes)


def read_measurements(paths: list[Path]) -> Measurements:
    """Every file's points on one grid: site tables, component tables, point tables."""
    parts = [_read_one(Path(p)) for p in paths]
    return merge(parts)


def merge(parts: list[Measurements]) -> Measurements:
    if len(parts) == 1:
        return parts[0]
    interval = parts[0].interval_s
    for part in parts[1:]:
        if abs(part.interval_s - interval) > 1e-6 * interval:
            raise DataError(
                f"the sources have different intervals ({interval:g} s and "
                f"{part.interval_s:g} s); resample them to one first"
            )
    start = min(float(p.time_s[0]) for p in parts)
    end = max(float(p.time_s[-1]) for p in parts)
    grid = start + interval * np.arange(round((end - start) / interval) + 1)
    values: dict[str, np.ndarray] = {}
    sources: dict[str, str] = {}
    notes: list[str] = []
    for part in parts:
        offset = (float(part.time_s[0]) - start) / interval
        if abs(offset - round(offset)) > 0.25:
            raise DataError(
                f"{next(iter(part.sources.values()), 'a source')}: its rows lie "
                f"between the other sources' rows (offset {offset * interval:g} "
                "s); put them on one grid first"
            )
        at = round(offset)
        for point, series in part.values.items():
            if point in values:
                raise DataError(
                    f"{point} comes from two sources ({sources[point]} and "
                    f"{part.sources[point]}); give it once"
                )
            full = np.full(grid.size, np.nan)
            full[at : at + series.size] = series
            values[point] = full
            sources[point] = part.sources[point]
        notes += part.notes
    return Measurements(grid, interval, values, sources, notes)


def _read_one(path: Path) -> Measurements:
    suffix = path.suffix.lower()
    if path.is_dir():
        raise DataError(
            f"{path}: a folder is read as a 'twin shadow --record' recording (points.csv "
            "and series/), and this one is not; other measurements are .csv or .parquet tables"
        )
    if suffix not in (".csv", ".parquet"):
        raise DataError(
            f"{path}: measurements are a .csv or .parquet table (a 'twin run' "
            "site or component table, or a point table)"
        )
    if not path.exists():
        raise DataError(f"{path}: no such file")
    try:
        inputs.regular_file_size(path)
    except inputs.InputFileError as exc:
        raise DataError(f"{path}: {exc}") from None
    header = _column_names(path)
    if {"component", "kind", "quantity", "value", "time_s"} <= set(header):
        return _read_component_table(path)
    if "facility_power_kw" in header and "time_s" in header:
        return _read_site_table(path)
    if "time_s" in header:
        return _read_point_table(path, header)
    raise DataError(
        f"{path}: no time_s column; a point table has time_s and one column per "
        "point (kind/component/quantity)"
    )


def _column_names(path: Path) -> list[str]:
    import pyarrow as pa

    try:
        if path.suffix.lower() == ".parquet":
            import pyarrow.parquet as pq

            return list(pq.read_schema(path).names)
        with path.open("rb") as stream:
            for raw in stream:
                if not raw.startswith(b"#"):
                    return next(csv.reader([raw.decode("utf-8", "replace").strip()]))
    except (OSError, pa.ArrowException) as exc:
        raise DataError(f"{path}: cannot be read ({str(exc).splitlines()[0]})") from None
    return []


def _read_site_table(path: Path) -> Measurements:
    try:
        table = read_run_table(path)
    except RunTableError as exc:
        raise DataError(str(exc)) from None
    columns = {f"site/{name}": values for name, values in table.columns.items() if name != "time_s"}
    m = from_point_columns(table.columns["time_s"], columns, path.name)
    m.notes += [f"{path.name}: {p}" for p in table.problems]
    return m


def _read_component_table(path: Path) -> Measurements:
    import pyarrow as pa
    import pyarrow.compute as pc
    import pyarrow.parquet as pq

    try:
        table = pq.read_table(path, columns=["time_s", "kind", "component", "quantity", "value"])
    except (OSError, pa.ArrowException) as exc:
        raise DataError(f"{path}: cannot be read ({str(exc).splitlines()[0]})") from None
    if table.num_rows > MAX_ROWS * 20:
        raise DataError(f"{path}: {table.num_rows:,} rows is more than is read")
    time_s = table.column("time_s").to_numpy().astype(float)
    value = table.column("value").to_numpy().astype(float)
    # each row's point as an index into the points in order of first appearance: one
    # pass over the rows, not one per point
    keys = (
        pc.binary_join_element_wise(
            table.column("kind").cast(pa.string()),
            table.column("component").cast(pa.string()),
            table.column("quantity").cast(pa.string()),
            "/",
        )
        .combine_chunks()
        .dictionary_encode()
    )
    names = keys.dictionary.to_pylist()
    point = keys.indices.to_numpy(zero_copy_only=False)
    times, row = np.unique(time_s, return_inverse=True)
    grid = np.full((len(names), times.size), np.nan)
    grid[point, row] = value
    columns = {str(name): grid[k] for k, name in enumerate(names)}
    return from_point_columns(times, columns, path.name)


def _read_point_table(path: Path, header: list[str]) -> Measurements:
    import pyarrow as pa

    try:
        if path.suffix.lower() == ".parquet":
            import pyarrow.parquet as pq

            table = pq.read_table(path)
        else:
            import pyarrow.csv as pacsv

            table = pacsv.read_csv(
                path,
                read_options=pacsv.ReadOptions(),
                parse_options=pacsv.ParseOptions(),
                convert_options=pacsv.ConvertOptions(
                    column_types=dict.fromkeys(header, pa.float64())
                ),
            )
    except (OSError, pa.ArrowException) as exc:
        raise DataError(f"{path}: cannot be read ({inputs.reader_reason(exc)})") from None
    columns = {}
    for name in table.column_names:
        if name == "time_s":
            continue
        column = table.column(name)
        if not (
            pa.types.is_floating(column.type)
            or pa.types.is_integer(column.type)
            or pa.types.is_null(column.type)
        ):
            raise DataError(f"{path}: the {name} column does not hold numbers")
        columns[name] = column.to_numpy(zero_copy_only=False).astype(float)
    return from_point_columns(
        table.column("time_s").to_numpy(zero_copy_only=False).astype(float), columns, path.name
    )


def write_point_table(m: Measurements, path: Path) -> None:
    """The measurements as a wide point table (CSV or Parquet), readable back as is."""
    import pyarrow as pa

    table = pa.table({"time_s": m.time_s, **m.values})
    if path.suffix.lower() == ".parquet":
        import pyarrow.parquet as pq

        pq.write_table(table, path)
    else:
        import pyarrow.csv as pacsv

        pacsv.write_csv(table, path)


def parse_window(text: str) -> tuple[float, float]:
    """``START..END`` as durations after the scenario's start (``2h..26h``, ``0..1d``)."""
    from twin.scenario.units import parse_duration

    start, sep, end = text.partition("..")
    if not sep:
        raise DataError(f"window {text!r}: write START..END, e.g. 2h..26h")

    def seconds(part: str) -> float:
        try:
            return float(part)
        except ValueError:
            return parse_duration(part)

    try:
        a, b = seconds(start.strip()), seconds(end.strip())
    except ValueError as exc:
        raise DataError(f"window {text!r}: {exc}") from None
    if not (math.isfinite(a) and math.isfinite(b)) or b <= a:
        raise DataError(f"window {text!r}: END must come after START")
    return a, b
