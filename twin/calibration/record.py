"""The calibration record: what ``twin calibrate`` validated, kept for ``twin report``.

``twin calibrate ... --out calibrated.toml`` writes ``calibrated.calibration.parquet``
beside the scenario: one Parquet file, self-describing and versioned, that holds
everything the calibration report is made of, so that ``twin report`` gives the same
report without running the model again.

Rows (long form, one per window, point and data row; zstd, page checksums):

* ``window``: ``fit`` or ``holdout``;
* ``point``: ``kind/component/quantity``;
* ``time_s``: the row's interval end, seconds after the scenario's start;
* ``measured``: the measured value, NaN where the row has none (and in every row of a
  point screening left out, whose values the fit never read);
* ``before`` and ``after``: the model at the priors and with the fitted values (a
  sensor offset found added back, as the data carries it);
* ``used``: whether the row entered the fit and its validation; null for a point
  screening left out (the reason is in the metadata).

The Parquet key-value metadata ``twin.calibration`` is JSON: ``format`` ("twin
calibration") and ``version`` (``VERSION``), the twin that wrote it, the scenario's
name, the data's paths (as given, shown only), the calibrated scenario's SHA-256, the
data's interval, per window its span, the parameters fitted in it, its points in order,
those left out and why and what screening noticed; per parameter its key, unit, prior,
bounds, prior's source, value, standard deviation, and whether fitted or why not; the
fitted parameters' correlation, sensor offsets, noise sigmas, each component's subloop,
and the run's notes. The Guideline 14 statistics are not stored: ``twin report``
computes them from these series with ``twin.calibration.validation``, the code
``twin calibrate`` used, and so gets the same numbers.

Written under a hidden temporary name in the same folder, flushed to disk and renamed
into place (as ``twin run`` finishes a Parquet output), so a record under its name is
whole. Read back, anything foreign, damaged, truncated or inconsistent is one
``RecordError`` naming the problem; nothing in a record decides what twin reads or
writes (its data paths are text on the page).
"""

from __future__ import annotations

import contextlib
import hashlib
import math
import os
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Annotated, Any, Literal

import numpy as np
from pydantic import BaseModel, ConfigDict, Field, ValidationError

from twin import __version__, inputs
from twin.calibration.data import DataError, split_point
from twin.calibration.fit import Calibration, ParameterResult, WindowResult
from twin.calibration.model import ModelRun
from twin.calibration.parameters import Parameter
from twin.calibration.screening import Screening
from twin.calibration.validation import subloops, validate
from twin.scenario import Scenario
from twin.sim.topology import build_topology

FORMAT = "twin calibration"
VERSION = 1
METADATA_KEY = b"twin.calibration"
SUFFIX = ".calibration.parquet"
MAX_METADATA_BYTES = 64 * 2**20  # far above a site's thousands of points
MAX_INTERVAL_S = 86400.0  # data coarser than a day gives no hourly figures
MAX_TIME_S = 1e11  # three thousand years after the scenario's start
WINDOW_NAMES = {"fit window": "fit", "held-out window": "holdout"}
COLUMNS = {
    "window": "fit or holdout",
    "point": "kind/component/quantity",
    "time_s": "the row's interval end, seconds after the scenario's start",
    "measured": "measured value; NaN where the row has none or the point was left out",
    "before": "the model at the priors",
    "after": "the model with the fitted values (and any sensor offset found)",
    "used": "the row entered the fit and its validation; null: the point was left out",
}


class RecordError(Exception):
    """A calibration record that cannot be read; the message names the file and why."""


def record_path(calibrated: Path) -> Path:
    """The record beside a calibrated scenario: ``calibrated.toml`` ->
    ``calibrated.calibration.parquet``."""
    return calibrated.with_name(calibrated.stem + SUFFIX)


def sha256_of(text: str) -> str:
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


def is_calibration_record(path: Path) -> bool:
    """A path ``twin report`` takes as a calibration: a calibrated scenario (``.toml``),
    a file named ``*.calibration.parquet``, or a Parquet file with the record's
    metadata (a renamed record)."""
    if path.suffix.lower() == ".toml" or path.name.lower().endswith(SUFFIX):
        return True
    if path.suffix.lower() != ".parquet" or not path.is_file():
        return False
    import pyarrow as pa
    import pyarrow.parquet as pq

    try:
        metadata = pq.read_schema(path).metadata or {}
    except (OSError, pa.ArrowException):
        return False  # a damaged run table: the run report names the problem
    return METADATA_KEY in metadata


# --- the metadata's schema --------------------------------------------------------------

FiniteFloat = Annotated[float, Field(allow_inf_nan=False)]


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid")


class ParameterRecord(_Strict):
    name: str
    path: list[str] = Field(min_length=1)
    unit: str
    kind: Literal["value", "head-scale", "loss-scale"]
    prior: FiniteFloat
    lower: FiniteFloat
    upper: FiniteFloat
    source: str
    value: FiniteFloat
    std: FiniteFloat | None  # None: not fitted
    fitted: bool
    note: str


class WindowRecord(_Strict):
    name: Literal["fit", "holdout"]
    start_s: FiniteFloat
    end_s: FiniteFloat
    fitted: int = Field(ge=0)  # p in Guideline 14's n - p
    points: list[str] = Field(min_length=1)  # in the order the report lists them
    excluded: dict[str, str]  # point -> why screening left it out
    messages: list[str]


class Metadata(_Strict):
    format: Literal["twin calibration"]
    version: int
    twin_version: str
    written_utc: str
    scenario: str
    data: list[str]
    calibrated_scenario_sha256: str = Field(pattern=r"^[0-9a-f]{64}$")
    interval_s: FiniteFloat = Field(gt=0, le=MAX_INTERVAL_S)
    warmup_s: FiniteFloat = Field(ge=0)
    evaluations: int = Field(ge=0)
    wall_s: FiniteFloat = Field(ge=0)
    messages: list[str]
    input_notes: list[str]
    parameters: list[ParameterRecord]
    correlation: list[list[FiniteFloat]]
    offsets: dict[str, FiniteFloat]
    sigma: dict[str, FiniteFloat]
    subloops: dict[str, str]  # component -> its subloop
    windows: list[WindowRecord] = Field(min_length=1, max_length=2)
    columns: dict[str, str]


# --- writing ----------------------------------------------------------------------------


def _metadata(
    cal: Calibration,
    *,
    scenario: str,
    data: list[str],
    calibrated_text: str,
    interval_s: float,
    loops: dict[str, str],
) -> Metadata:
    windows = [(cal.fit_window, len(cal.fitted))]
    if cal.holdout is not None:
        windows.append((cal.holdout, 0))
    return Metadata(
        format=FORMAT,
        version=VERSION,
        twin_version=__version__,
        written_utc=datetime.now(UTC).isoformat(timespec="seconds"),
        scenario=scenario,
        data=data,
        calibrated_scenario_sha256=sha256_of(calibrated_text),
        interval_s=interval_s,
        warmup_s=cal.warmup_s,
        evaluations=cal.evaluations,
        wall_s=cal.wall_s,
        messages=cal.messages,
        input_notes=cal.input_notes,
        parameters=[
            ParameterRecord(
                name=r.param.name,
                path=list(r.param.path),
                unit=r.param.unit,
                kind=r.param.kind,
                prior=r.param.prior,
                lower=r.param.lower,
                upper=r.param.upper,
                source=r.param.source,
                value=r.value,
                std=r.std if r.fitted and math.isfinite(r.std) else None,
                fitted=r.fitted,
                note=r.note,
            )
            for r in cal.params
        ],
        correlation=cal.correlation.tolist(),
        offsets=cal.offsets,
        sigma=cal.sigma,
        subloops=loops,
        windows=[
            WindowRecord(
                name=WINDOW_NAMES[w.label],
                start_s=w.start_s,
                end_s=w.end_s,
                fitted=fitted,
                points=list(w.before.values),
                excluded=w.screening.excluded,
                messages=w.screening.messages,
            )
            for w, fitted in windows
        ],
        columns=COLUMNS,
    )


def _window_table(w: WindowResult, name: str):
    import pyarrow as pa

    points = list(w.before.values)
    n = w.time_s.size
    nan = np.full(n, np.nan)
    after = w.after.values if w.after is not None else {}
    used = [w.screening.good.get(p) for p in points]
    return pa.table(
        {
            "window": pa.DictionaryArray.from_arrays(
                np.zeros(n * len(points), dtype=np.int32), pa.array([name])
            ),
            "point": pa.DictionaryArray.from_arrays(
                np.repeat(np.arange(len(points), dtype=np.int32), n), pa.array(points)
            ),
            "time_s": np.tile(w.time_s.astype(float), len(points)),
            "measured": np.concatenate([w.measured.get(p, nan) for p in points]),
            "before": np.concatenate([w.before.values[p] for p in points]),
            "after": np.concatenate([after.get(p, nan) for p in points]),
            "used": pa.array(
                np.concatenate([np.zeros(n, bool) if u is None else u for u in used]),
                mask=np.repeat([u is None for u in used], n),
            ),
        }
    )


def write_record(
    path: Path,
    cal: Calibration,
    *,
    scenario: Scenario,
    data: list[str],
    calibrated_text: str,
    interval_s: float,
) -> None:
    """Write the record of ``cal`` (of ``scenario``, fitted to ``data`` of rows
    ``interval_s`` apart, written as ``calibrated_text``) at ``path``, whole or not at
    all (see the module's notes)."""
    import pyarrow as pa
    import pyarrow.parquet as pq

    from twin.runs.output import _fsync_file, _fsync_folder

    metadata = _metadata(
        cal,
        scenario=scenario.scenario.name,
        data=data,
        calibrated_text=calibrated_text,
        interval_s=interval_s,
        loops=subloops(build_topology(scenario)),
    )
    tables = [_window_table(cal.fit_window, "fit")]
    if cal.holdout is not None:
        tables.append(_window_table(cal.holdout, "holdout"))
    table = pa.concat_tables(tables)
    table = table.replace_schema_metadata({METADATA_KEY: metadata.model_dump_json()})
    hidden = path.with_name(f".{path.name}.tmp")
    try:
        pq.write_table(table, hidden, compression="zstd", write_page_checksum=True)
        _fsync_file(hidden)
        os.replace(hidden, path)
        _fsync_folder(path.parent)
    except BaseException:
        with contextlib.suppress(OSError):
            hidden.unlink()
        raise


# --- reading ----------------------------------------------------------------------------


def _metadata_of(path: Path, schema) -> Metadata:
    raw = (schema.metadata or {}).get(METADATA_KEY)
    if raw is None:
        raise RecordError(
            f"{path} is not a twin calibration record: its Parquet metadata has no "
            f"'{METADATA_KEY.decode()}' entry (twin calibrate writes the record beside its "
            "--out scenario, as NAME.calibration.parquet)"
        )
    if len(raw) > MAX_METADATA_BYTES:
        raise RecordError(f"{path}: its metadata is over {MAX_METADATA_BYTES // 2**20} MiB")
    try:
        found = inputs.parse_json(raw.decode("utf-8"))
    except UnicodeDecodeError:
        raise RecordError(f"{path} is damaged: its metadata is not UTF-8 text") from None
    except inputs.InputFileError as exc:
        raise RecordError(f"{path} is damaged: its metadata {exc}") from None
    if not isinstance(found, dict) or found.get("format") != FORMAT:
        raise RecordError(f"{path} is not a twin calibration record (format is not '{FORMAT}')")
    version = found.get("version")
    if not isinstance(version, int) or isinstance(version, bool) or version < 1:
        raise RecordError(f"{path} is damaged: its format version is {version!r}")
    if version > VERSION:
        raise RecordError(
            f"{path} was written by a newer twin ({found.get('twin_version', '?')}, record "
            f"format {version}); this twin reads format {VERSION}: update twin"
        )
    try:
        return Metadata.model_validate(found)
    except ValidationError as exc:
        error = exc.errors()[0]
        where = ".".join(str(part) for part in error["loc"]) or "metadata"
        raise RecordError(f"{path} is damaged: its metadata's {where}: {error['msg']}") from None


def _check(path: Path, meta: Metadata) -> None:
    """What the schema cannot say: the windows and parameters agree with each other."""
    names = [w.name for w in meta.windows]
    if names[0] != "fit" or len(set(names)) != len(names):
        raise RecordError(
            f"{path} is damaged: its windows are {names}, not the fit window "
            "and at most one held-out window"
        )
    fitted = sum(p.fitted for p in meta.parameters)
    size = len(meta.correlation)
    if size != fitted or any(len(row) != size for row in meta.correlation):
        raise RecordError(
            f"{path} is damaged: the correlation is not {fitted} x {fitted} "
            "(one row and column per fitted parameter)"
        )
    if meta.windows[0].fitted != fitted:
        raise RecordError(
            f"{path} is damaged: the fit window counts {meta.windows[0].fitted} fitted "
            f"parameters, the parameters {fitted}"
        )
    for p in meta.parameters:
        if p.prior == 0:
            raise RecordError(f"{path} is damaged: parameter {p.name} has a prior of 0")
        if p.fitted and p.std is None:
            raise RecordError(f"{path} is damaged: fitted parameter {p.name} has no std")
    for w in meta.windows:
        if len(set(w.points)) != len(w.points):
            raise RecordError(f"{path} is damaged: the {w.name} window lists a point twice")
        if not w.end_s > w.start_s:
            raise RecordError(f"{path} is damaged: the {w.name} window ends before it starts")
        for point in w.points:
            try:
                split_point(point)
            except DataError as exc:
                raise RecordError(f"{path} is damaged: {exc}") from None
        unknown = set(w.excluded) - set(w.points)
        if unknown:
            raise RecordError(
                f"{path} is damaged: the {w.name} window leaves out {sorted(unknown)[0]}, "
                "which it does not hold"
            )
        if len(w.excluded) == len(w.points):
            raise RecordError(f"{path} is damaged: the {w.name} window uses no point")


EXPECTED_TYPES = {
    "time_s": "double",
    "measured": "double",
    "before": "double",
    "after": "double",
    "used": "bool",
}


@dataclass
class _Rows:
    """The record's rows as read: the names as Arrow strings, the rest as arrays."""

    window: Any  # pyarrow ChunkedArray of strings
    point: Any
    time_s: np.ndarray
    measured: np.ndarray
    before: np.ndarray
    after: np.ndarray
    used: np.ndarray  # False where null
    used_null: np.ndarray


def _read_rows(path: Path, schema) -> _Rows:
    import pyarrow as pa
    import pyarrow.compute as pc
    import pyarrow.parquet as pq

    for name in COLUMNS:
        if name not in schema.names:
            raise RecordError(f"{path} is damaged: it has no '{name}' column")
    for name, wanted in EXPECTED_TYPES.items():
        if str(schema.field(name).type) != wanted:
            raise RecordError(
                f"{path} is damaged: its '{name}' column holds {schema.field(name).type}, "
                f"not {wanted}"
            )
    try:
        table = pq.read_table(path, columns=list(COLUMNS), page_checksum_verification=True)
        used = table["used"]
        return _Rows(
            window=table["window"].cast(pa.string()),
            point=table["point"].cast(pa.string()),
            time_s=table["time_s"].to_numpy(),
            measured=table["measured"].to_numpy(),
            before=table["before"].to_numpy(),
            after=table["after"].to_numpy(),
            used=pc.fill_null(used, False).to_numpy(zero_copy_only=False),
            used_null=used.is_null().to_numpy(zero_copy_only=False),
        )
    except (OSError, pa.ArrowException) as exc:
        raise RecordError(f"{path} is damaged: {str(exc).splitlines()[0]}") from None


def _window(path: Path, meta: Metadata, w: WindowRecord, rows: _Rows, label: str) -> WindowResult:
    import pyarrow as pa
    import pyarrow.compute as pc

    selected = pc.fill_null(pc.equal(rows.window, w.name), False).to_numpy(zero_copy_only=False)
    index = pc.index_in(rows.point, value_set=pa.array(w.points))
    codes = pc.fill_null(index, -1).to_numpy(zero_copy_only=False).astype(np.int64)[selected]
    if (codes < 0).any():
        raise RecordError(
            f"{path} is damaged: rows of the {w.name} window name points its metadata does not list"
        )
    at = np.flatnonzero(selected)
    if at.size == 0:
        raise RecordError(f"{path} is damaged or truncated: the {w.name} window has no rows")
    time_all = rows.time_s[at]
    order = np.lexsort((time_all, codes))
    at, codes = at[order], codes[order]
    counts = np.bincount(codes, minlength=len(w.points))
    n = int(counts[0])
    if n < 2 or (counts != n).any():
        raise RecordError(
            f"{path} is damaged or truncated: the {w.name} window's points hold "
            f"{int(counts.min())} to {int(counts.max())} rows, not the same number (2 or more)"
        )
    block = at.reshape(len(w.points), n)
    time_s = rows.time_s[block[0]]
    step = np.diff(time_s)
    if (
        not (np.abs(time_s) <= MAX_TIME_S).all()
        or not np.allclose(step, meta.interval_s, rtol=1e-6, atol=1e-9)
        or any(not np.array_equal(rows.time_s[b], time_s) for b in block[1:])
    ):
        raise RecordError(
            f"{path} is damaged: the {w.name} window's times are not one grid "
            f"of {meta.interval_s:g} s shared by its points"
        )
    good: dict[str, np.ndarray] = {}
    measured, before, after = {}, {}, {}
    for point, b in zip(w.points, block, strict=True):
        before[point] = rows.before[b]
        after[point] = rows.after[b]
        null = rows.used_null[b]
        if point in w.excluded:
            if not null.all():
                raise RecordError(
                    f"{path} is damaged: {point} was left out by screening but has rows used"
                )
            continue
        if null.any():
            raise RecordError(f"{path} is damaged: {point} has rows without 'used'")
        good[point] = rows.used[b].astype(bool)
        measured[point] = rows.measured[b]
    screening = Screening(good, dict(w.excluded), list(w.messages))
    loops = dict(meta.subloops)
    return WindowResult(
        label,
        w.start_s,
        w.end_s,
        time_s,
        measured,
        ModelRun(np.arange(n), before),  # rows numbered from the window's first
        ModelRun(np.arange(n), after),
        screening,
        validate(time_s, meta.interval_s, measured, before, good, 0, loops),
        validate(time_s, meta.interval_s, measured, after, good, w.fitted, loops),
    )


class CalibrationRecord:
    """A record read back: the calibration as ``twin calibrate`` reported it, and where
    it came from."""

    def __init__(self, path: Path, metadata: Metadata, calibration: Calibration):
        self.path, self.metadata, self.calibration = path, metadata, calibration

    @classmethod
    def read(cls, path: Path) -> CalibrationRecord:
        import pyarrow as pa
        import pyarrow.parquet as pq

        if not path.is_file():
            raise RecordError(f"{path} does not exist or is not a file")
        try:
            schema = pq.read_schema(path)
        except (OSError, pa.ArrowException) as exc:
            raise RecordError(
                f"{path} is damaged, truncated or not Parquet "
                f"({str(exc).splitlines()[0] if str(exc) else type(exc).__name__})"
            ) from None
        meta = _metadata_of(path, schema)
        _check(path, meta)
        rows = _read_rows(path, schema)
        labels = {short: label for label, short in WINDOW_NAMES.items()}
        windows = [_window(path, meta, w, rows, labels[w.name]) for w in meta.windows]
        extra = set(rows.window.unique().to_pylist()) - {w.name for w in meta.windows}
        if extra:
            raise RecordError(
                f"{path} is damaged: it holds rows of a window its metadata does not "
                f"describe ({sorted(str(e) for e in extra)[0]})"
            )
        params = [
            ParameterResult(
                Parameter(
                    p.name, tuple(p.path), p.unit, p.prior, p.lower, p.upper, p.source, p.kind
                ),
                p.value,
                p.std if p.std is not None else math.nan,
                p.fitted,
                p.note,
            )
            for p in meta.parameters
        ]
        calibration = Calibration(
            params,
            np.array(meta.correlation, dtype=float).reshape(len(meta.correlation), -1)
            if meta.correlation
            else np.zeros((0, 0)),
            windows[0],
            windows[1] if len(windows) > 1 else None,
            list(meta.input_notes),
            meta.evaluations,
            meta.wall_s,
            meta.warmup_s,
            dict(meta.sigma),
            dict(meta.offsets),
            list(meta.messages),
        )
        return cls(path, meta, calibration)


def read_for_report(path: Path) -> CalibrationRecord:
    """The record ``twin report PATH`` means: PATH itself, or the record beside a
    calibrated scenario, which must be the one written with it."""
    if path.suffix.lower() != ".toml":
        return CalibrationRecord.read(path)
    record = record_path(path)
    if not record.is_file():
        raise RecordError(
            f"{path} is a scenario file; twin report reads the calibration record that "
            f"twin calibrate writes beside a calibrated scenario ({record.name}), and "
            "there is none"
        )
    try:
        text = path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        raise RecordError(f"{path} cannot be read ({exc})") from None
    found = CalibrationRecord.read(record)
    if found.metadata.calibrated_scenario_sha256 != sha256_of(text):
        raise RecordError(
            f"{path} is not the scenario {record.name} was written with (changed since, "
            f"or another calibration's): report the record itself, twin report {record}"
        )
    return found
