"""Recordings: a run's snapshots streamed to disk while it runs, for replay and comparison;
the format's writer (``Recorder``) and its reader (``Recording``) in one place.

A recording is a folder (``run.twinrec/``) of complete Parquet files, ``part-00000.parquet``,
``part-00001.parquet``..., and a ``manifest.json`` that describes the run. Parquet cannot be
read without its footer, so one growing file would be unreadable after a crash; instead each
flush writes one whole small file under a temporary name and renames it into place, and then
rewrites the manifest the same way. A crash or SIGKILL therefore loses only the rows not yet
flushed, and every part on disk is either complete or absent.

One row per recorded snapshot: ``step``, the site columns (``SITE_COLUMNS``, float64), and
every field of the rack, CDU, plant, power and (optionally) robot states as a column named
``racks.gpu_temp_c``, ``cdus.pump_speed``, ``plant.fws_supply_c``... Per-component arrays
are fixed-size lists (floats stored as float32, booleans and counts as they are); arrays of
more than one dimension are flattened and their shape kept in the part's schema metadata.
The robots' mission routes (ragged polylines) are not recorded.

Manifest keys: ``format``, ``version``, ``metadata`` (scenario name, seed, dt_s, every_s,
twin version, scenario start, wall-clock start, topology sizes), ``scenario_toml`` (the
scenario file's text, so a replay never needs the original file), ``parts`` (file, rows,
first and last simulated second of each) and ``closed`` (false until the run ends cleanly).

``Recording.open(path)`` checks a recording part by part. What cannot be read (a missing or
damaged part, a run that stopped before closing it) is named in ``Recording.problems``, and
everything before it stays usable; only a recording with nothing readable raises
``RecordingError``.
"""

from __future__ import annotations

import json
import math
import os
import tempfile
import time
from collections.abc import Sequence
from dataclasses import dataclass, fields
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import numpy as np

from twin import inputs
from twin.scenario.units import format_duration
from twin.sim.snapshot import (
    SITE_NAMES,
    CduState,
    PlantState,
    PowerState,
    RackState,
    RobotsState,
    Snapshot,
    blank_snapshot,
    frozen_fields,
)

FORMAT = "twin-recording"
FORMAT_VERSION = 1
MANIFEST = "manifest.json"
SCENARIO_FILE = "scenario.toml"  # a copy of the manifest's scenario, for people to read
PART_PATTERN = "part-{:05d}.parquet"
UNFINISHED_SUFFIX = ".partial"
STATE_GROUPS = ("racks", "cdus", "plant", "power", "robots")
SHAPES_KEY = b"twin.shapes"  # schema metadata: column -> shape of one row's array
DEFAULT_FLUSH_EVERY_S = 300.0  # simulated time between flushes: what a crash can lose
MIN_FLUSH_WALL_S = 1.0  # a fast headless run still makes few, larger parts


class Recorder:
    """Streams snapshots of a running simulation into a recording folder.

    A run observer (``twin.runs.observe``): ``on_step`` takes a snapshot only when one is
    due, every ``every_s`` of simulated time, and ``on_finish`` closes the recording
    (``close()``: flushes what is left and marks the recording complete). ``record(snapshot)``
    adds one row yourself.
    """

    def __init__(
        self,
        path: Path,
        *,
        scenario_toml: str,
        metadata: dict[str, str],
        every_s: float,
        flush_every_s: float = DEFAULT_FLUSH_EVERY_S,
        robots: bool = True,
    ) -> None:
        import pyarrow  # noqa: F401  (fail here, before the run starts, if it is missing)

        if every_s <= 0:
            raise ValueError(f"every_s must be above zero, got {every_s}")
        if path.exists() and (not path.is_dir() or any(path.iterdir())):
            raise FileExistsError(f"{path} already exists; recordings are never overwritten")
        path.mkdir(parents=True, exist_ok=True)
        self.path = path
        self.every_s = float(every_s)
        self.flush_every_s = float(flush_every_s)
        self.robots = robots
        self._next_due_s = self.every_s
        self._rows: list[dict[str, Any]] = []
        self._parts: list[dict[str, Any]] = []
        self._last_flush_wall = time.monotonic()
        self._manifest = {
            "format": FORMAT,
            "version": FORMAT_VERSION,
            "metadata": {
                **metadata,
                "every_s": f"{self.every_s:g}",
                "recorded_at": datetime.now(UTC).isoformat(timespec="seconds"),
                "robots": str(robots).lower(),
            },
            "scenario_toml": scenario_toml,
            "parts": self._parts,
            "closed": False,
        }
        (path / SCENARIO_FILE).write_text(scenario_toml, encoding="utf-8")
        self._write_manifest()

    def on_start(self, run: Any) -> None:
        """The first row is due ``every_s`` after the run's start."""
        self._next_due_s = run.time_s + self.every_s

    def on_step(self, run: Any, applied: Sequence[Any] = ()) -> None:
        """Record the run's snapshot if a row is due at its current time."""
        if run.time_s + 1e-9 >= self._next_due_s:
            self.record(run.snapshot(robots=self.robots))
            # skip ahead rather than catch up when a step is longer than every_s
            missed = np.floor((run.time_s + 1e-9 - self._next_due_s) / self.every_s)
            self._next_due_s += (missed + 1) * self.every_s

    def record(self, snap: Snapshot) -> None:
        self._rows.append(snapshot_row(snap, robots=self.robots))
        span_s = self._rows[-1]["time_s"] - self._rows[0]["time_s"] + self.every_s
        if (
            span_s >= self.flush_every_s
            and time.monotonic() - self._last_flush_wall >= MIN_FLUSH_WALL_S
        ):
            self.flush()

    def flush(self) -> None:
        if not self._rows:
            return
        import pyarrow.parquet as pq

        table = rows_to_table(self._rows)
        name = PART_PATTERN.format(len(self._parts))
        unfinished = self.path / (name + UNFINISHED_SUFFIX)
        pq.write_table(table, unfinished, compression="zstd")
        os.replace(unfinished, self.path / name)
        self._parts.append(
            {
                "file": name,
                "rows": len(self._rows),
                "first_s": self._rows[0]["time_s"],
                "last_s": self._rows[-1]["time_s"],
            }
        )
        self._rows.clear()
        self._last_flush_wall = time.monotonic()
        self._write_manifest()

    def on_finish(self) -> None:
        self.close()

    def close(self) -> None:
        self.flush()
        self._manifest["closed"] = True
        self._write_manifest()

    def __enter__(self) -> Recorder:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def _write_manifest(self) -> None:
        unfinished = self.path / (MANIFEST + UNFINISHED_SUFFIX)
        unfinished.write_text(json.dumps(self._manifest, indent=1), encoding="utf-8")
        os.replace(unfinished, self.path / MANIFEST)


def snapshot_row(snap: Snapshot, *, robots: bool = True) -> dict[str, Any]:
    """One recording row: the site figures and each state field, keyed by column name."""
    row: dict[str, Any] = {"step": snap.step, **snap.site}
    for group in STATE_GROUPS:
        state = getattr(snap, group)
        if state is None or (group == "robots" and not robots):
            continue
        for f in fields(state):
            value = getattr(state, f.name)
            if isinstance(value, np.ndarray | bool | int | float | np.generic):
                row[f"{group}.{f.name}"] = value
    return row


def rows_to_table(rows: list[dict[str, Any]]) -> Any:
    """The rows as an Arrow table; arrays become fixed-size list columns."""
    import pyarrow as pa

    columns: dict[str, Any] = {}
    shapes: dict[str, list[int | str]] = {}  # per array column: its shape, then dtype
    for name, first in rows[0].items():
        values = [row[name] for row in rows]
        if isinstance(first, np.ndarray):
            stacked = np.stack(values)
            if stacked.dtype.kind == "f":
                stacked = stacked.astype(np.float32)
            shapes[name] = [*first.shape, stacked.dtype.str]
            if first.size == 0:  # Arrow has no zero-length fixed-size lists; the shape says it
                continue
            flat = pa.array(stacked.reshape(-1))
            columns[name] = pa.FixedSizeListArray.from_arrays(flat, first.size)
        elif name == "step" or isinstance(first, bool | np.bool_):
            columns[name] = pa.array(values)
        else:
            columns[name] = pa.array(np.asarray(values, dtype=np.float64))
    table = pa.table(columns)
    return table.replace_schema_metadata({SHAPES_KEY: json.dumps(shapes)})


def run_metadata(
    *, scenario_name: str, seed: int, dt_s: float, start: str, topology: Any
) -> dict[str, str]:
    """What a recording says about its run, including the topology's sizes."""
    from twin import __version__

    return {
        "twin_version": __version__,
        "scenario": scenario_name,
        "seed": str(seed),
        "dt_s": f"{dt_s:g}",
        "start": start,
        "halls": str(len(topology.hall_names)),
        "rows": str(len(topology.row_names)),
        "racks": str(topology.rack_count),
        "cdus": str(topology.cdu_count),
    }


# ----------------------------------------------------------------------- reading

STATE_CLASSES = dict(
    zip(STATE_GROUPS, (RackState, CduState, PlantState, PowerState, RobotsState), strict=True)
)
PARTS_CACHED = 2  # scrubbing back and forth across a part boundary reads nothing twice


class RecordingError(Exception):
    """A recording or run output that cannot be read; the message names the problem."""


@dataclass(frozen=True, slots=True)
class _Part:
    path: Path
    times: np.ndarray
    first_row: int


class Recording:
    """A recording opened for reading: its metadata, its readable rows and its problems."""

    def __init__(
        self, path: Path, manifest: dict[str, Any], parts: list[_Part], problems: list[str]
    ) -> None:
        self.path = path
        self.metadata: dict[str, str] = manifest["metadata"]
        self.scenario_toml: str = manifest["scenario_toml"]
        self.closed: bool = manifest["closed"]
        self.problems = tuple(problems)
        self._blank_snapshot: Snapshot | None = None
        self._parts = parts
        self.times = np.concatenate([p.times for p in parts])
        self._cache: dict[int, dict[str, np.ndarray]] = {}

    @classmethod
    def open(cls, path: str | Path) -> Recording:
        path = Path(path)
        if not path.exists():
            raise RecordingError(f"{path}: no such recording")
        if not path.is_dir():
            raise RecordingError(
                f"{path}: not a twin recording (a recording is a folder "
                f"with {MANIFEST} and Parquet parts)"
            )
        manifest = _read_manifest(path)
        parts, problems = _readable_parts(path, manifest)
        if not parts:
            reason = problems[0] if problems else "the run stopped before its first flush"
            raise RecordingError(f"{path}: nothing is readable: {reason}")
        recording = cls(path, manifest, parts, problems)
        if not recording.closed:
            recording.problems += (
                f"the recording was not closed (the run stopped early); rows after "
                f"{format_duration(recording.end_s)} were lost",
            )
        return recording

    def __len__(self) -> int:
        return int(self.times.size)

    @property
    def every_s(self) -> float:
        """The recorded interval: the manifest's, else the rows' median spacing."""
        try:
            every_s = float(self.metadata.get("every_s", "nan"))
        except ValueError:
            every_s = math.nan
        if math.isfinite(every_s) and every_s > 0:
            return every_s
        return float(np.median(np.diff(self.times))) if len(self) > 1 else 1.0

    @property
    def end_s(self) -> float:
        return float(self.times[-1])

    def summary(self) -> str:
        """One line: what is readable, then each problem."""
        readable = (
            f"{format_duration(self.end_s - self.times[0] + self.every_s)} readable "
            f"({len(self):,} rows to {format_duration(self.end_s)})"
        )
        return "; ".join([*self.problems, readable])

    def scenario(self) -> Any:
        """The recorded run's scenario, from the TOML text kept in the manifest."""
        from twin.scenario import loads

        return loads(self.scenario_toml, source=f"{self.path}/{MANIFEST}")

    def scenario_file(self) -> Path:
        """A TOML file holding the recorded scenario: the recording's own copy while it
        matches the manifest, else a file of twin's own naming in this process's temporary
        folder (``twin.scratch``), written from the manifest; nothing in the manifest
        decides where it goes."""
        copy = self.path / SCENARIO_FILE
        try:
            if copy.is_file() and copy.read_text(encoding="utf-8") == self.scenario_toml:
                return copy
        except (OSError, UnicodeDecodeError):
            pass  # an unreadable copy is replaced by the manifest's text
        from twin.scratch import scratch_dir

        folder = Path(tempfile.mkdtemp(prefix="replay-", dir=scratch_dir()))
        written = folder / SCENARIO_FILE
        written.write_text(self.scenario_toml, encoding="utf-8")
        return written

    def site_series(self) -> dict[str, np.ndarray]:
        """Every site column over the readable rows."""
        import pyarrow.parquet as pq

        tables = [
            pq.read_table(
                p.path, columns=[n for n in SITE_NAMES if n in pq.read_schema(p.path).names]
            )
            for p in self._parts
        ]
        return {
            name: np.concatenate([t.column(name).to_numpy() for t in tables])
            for name in tables[0].column_names
        }

    def misfit(self, rack_count: int, cdu_count: int) -> str | None:
        """Why the rows cannot be shown on the recorded scenario's racks and CDUs (the
        first row holds another number of them), or None."""
        try:
            first = self.snapshot(0, robots=False)
        except Exception as exc:  # pyarrow and numpy raise several kinds for damaged parts
            return f"its first part cannot be read ({type(exc).__name__})"
        for what, state, count in (
            ("racks", first.racks, rack_count),
            ("CDUs", first.cdus, cdu_count),
        ):
            sizes = {
                v.shape[0] if v.ndim else 1
                for v in _field_values(state)
                if isinstance(v, np.ndarray)
            }
            if sizes != {count}:
                held = ", ".join(str(n) for n in sorted(sizes)) or "no"
                return (
                    f"its rows hold {held} {what} where its scenario has {count}; the "
                    "recording is damaged or its manifest's scenario is not its own"
                )
        return None

    def index_at(self, time_s: float) -> int:
        """The last row at or before ``time_s`` (the first row for earlier times)."""
        return int(
            np.clip(np.searchsorted(self.times, time_s + 1e-9, "right") - 1, 0, len(self) - 1)
        )

    def snapshot(self, index: int, *, robots: bool = True) -> Snapshot:
        """Row ``index`` rebuilt as a snapshot."""
        part_no = int(np.searchsorted([p.first_row for p in self._parts], index, "right") - 1)
        data = self._part_data(part_no)
        i = index - self._parts[part_no].first_row
        blank = self._blank(data, i)
        site = {
            name: float(data[name][i]) if name in data else blank.site[name] for name in SITE_NAMES
        }
        states = {
            group: _state(cls, group, data, i, getattr(blank, group))
            for group, cls in STATE_CLASSES.items()
            if group != "robots"
        }
        recorded_robots = any(k.startswith("robots.") for k in data)
        return Snapshot(
            step=int(data["step"][i]),
            time_s=float(self.times[index]),
            site=site,
            robots=_state(RobotsState, "robots", data, i) if robots and recorded_robots else None,
            **states,
        )

    def _blank(self, data: dict[str, np.ndarray], i: int) -> Snapshot:
        """What a row does not hold (a field added after the recording was made) reads as
        in a blank snapshot of the recorded site's sizes."""
        held = data.get("power.generator_state")
        generators = 0 if held is None else len(held[i])
        if (
            self._blank_snapshot is None
            or len(self._blank_snapshot.power.generator_state) != generators
        ):
            sizes = {
                key: int(self.metadata.get(key, "0")) for key in ("racks", "cdus", "halls", "rows")
            }
            self._blank_snapshot = blank_snapshot(**sizes, generators=generators)
        return self._blank_snapshot

    def _part_data(self, part_no: int) -> dict[str, np.ndarray]:
        if part_no not in self._cache:
            if len(self._cache) >= PARTS_CACHED:
                del self._cache[next(iter(self._cache))]
            self._cache[part_no] = _decode(self._parts[part_no].path)
        return self._cache[part_no]


MAX_MANIFEST_BYTES = 64 * inputs.MIB  # the scenario's text and one line per part
MAX_PART_NAMES = 1_000_000  # a century of 5-minute flushes is about 10.5 million rows, in
# parts of at least a second of wall time each: far fewer parts than this


def _read_manifest(path: Path) -> dict[str, Any]:
    """The manifest's keys that a reader uses, checked: ``metadata`` (strings),
    ``scenario_toml``, ``parts`` (file names), ``closed``; keys it does not know are
    left alone (a newer twin may write more)."""
    where = f"{path}: {MANIFEST}"
    try:
        manifest = inputs.parse_json(inputs.read_text(path / MANIFEST, MAX_MANIFEST_BYTES))
    except inputs.InputFileError as exc:
        if str(exc) == "no such file":
            raise RecordingError(f"{path}: not a twin recording (no {MANIFEST})") from None
        raise RecordingError(f"{where} is damaged: it {exc}") from None
    if not isinstance(manifest, dict) or manifest.get("format") != FORMAT:
        raise RecordingError(f"{where} does not describe a twin recording")
    version = manifest.get("version")
    if not isinstance(version, int) or isinstance(version, bool) or version < 1:
        raise RecordingError(f"{where} is damaged: its version is not a whole number")
    if version > FORMAT_VERSION:
        raise RecordingError(
            f"{where}: the recording is of format version {version}, made "
            f"by a newer twin; this one reads version {FORMAT_VERSION}"
        )
    metadata = manifest.get("metadata", {})
    scenario_toml = manifest.get("scenario_toml", "")
    parts = manifest.get("parts", [])
    closed = manifest.get("closed", False)
    if not isinstance(metadata, dict):
        raise RecordingError(f"{where} is damaged: metadata is not a table of names")
    if not isinstance(scenario_toml, str):
        raise RecordingError(f"{where} is damaged: scenario_toml is not text")
    if (
        not isinstance(parts, list)
        or len(parts) > MAX_PART_NAMES
        or not all(isinstance(p, dict) and isinstance(p.get("file"), str) for p in parts)
    ):
        raise RecordingError(f"{where} is damaged: parts is not a list of part files")
    if not isinstance(closed, bool):
        raise RecordingError(f"{where} is damaged: closed is neither true nor false")
    return {
        "metadata": {
            str(k): str(v) for k, v in metadata.items() if isinstance(v, str | int | float | bool)
        },
        "scenario_toml": scenario_toml,
        "parts": [p["file"] for p in parts],
        "closed": closed,
    }


def _readable_parts(path: Path, manifest: dict[str, Any]) -> tuple[list[_Part], list[str]]:
    """The parts up to the first one that cannot be read, and what is wrong with it."""
    listed = manifest["parts"]
    # a part renamed into place just before a kill, whose manifest update never came
    on_disk = sorted(p.name for p in path.glob("part-*.parquet"))
    names = listed + [n for n in on_disk if n not in listed]
    parts: list[_Part] = []
    rows = 0
    first_layout = None
    for k, name in enumerate(names):
        where = f"part {k + 1} of {len(names)} ({PART_PATTERN.format(k)})"
        if name != PART_PATTERN.format(k):
            return parts, [f"part {k + 1} of {len(names)} is out of sequence"]
        try:
            times, layout = _part_times(path / name)
        except FileNotFoundError:
            return parts, [f"{where} is missing"]
        except PartError as exc:
            return parts, [f"{where} is damaged ({exc})"]
        first_layout = first_layout or layout
        if layout != first_layout:
            return parts, [f"{where} is damaged (its columns are not those of part 1)"]
        if parts and times.size and times[0] <= parts[-1].times[-1]:
            return parts, [f"{where} is damaged (its times do not follow the part before)"]
        parts.append(_Part(path / name, times, rows))
        rows += times.size
    return parts, []


class PartError(Exception):
    """A recording part that is not what twin writes; the message says what is wrong."""


def _part_times(path: Path) -> tuple[np.ndarray, tuple[object, ...]]:
    """A part's simulated times and its layout (columns, types and array shapes, the same
    in every part of a recording), after checking its columns: ``step`` and ``time_s``;
    numbers or flags, or fixed-size lists of them whose shapes the schema's metadata
    gives; every page readable; times finite and increasing."""
    import pyarrow as pa
    import pyarrow.parquet as pq

    try:
        inputs.regular_file_size(path)
    except inputs.InputFileError as exc:
        if str(exc) == "no such file":
            raise FileNotFoundError(path) from None
        raise PartError(str(exc)) from None
    try:
        schema = pq.read_schema(path)
    except Exception as exc:  # pyarrow raises several kinds for a damaged file
        raise PartError(f"not a readable Parquet file: {type(exc).__name__}") from None
    if "step" not in schema.names or "time_s" not in schema.names:
        raise PartError("no step or time_s column")
    try:
        shapes = inputs.parse_json((schema.metadata or {}).get(SHAPES_KEY, b"{}").decode())
    except (UnicodeDecodeError, inputs.InputFileError):
        raise PartError("its array shapes cannot be read") from None
    if not isinstance(shapes, dict):
        raise PartError("its array shapes cannot be read")
    for name, shape in shapes.items():
        if not _shape_ok(shape) or (name not in schema.names and math.prod(shape[:-1]) != 0):
            raise PartError("an array shape is not one twin writes")
    for column in schema:
        kind = column.type
        if pa.types.is_fixed_size_list(kind):
            shape = shapes.get(column.name)
            if shape is None or math.prod(shape[:-1]) != kind.list_size:
                raise PartError("an array column's shape is not given")
            kind = kind.value_type
        if not (
            pa.types.is_integer(kind) or pa.types.is_floating(kind) or pa.types.is_boolean(kind)
        ):
            raise PartError("a column holds neither numbers nor flags")
    try:  # every page, as a replay will read it: a damaged one is found now, not midway
        values = _decode(path)["time_s"].astype(np.float64)
    except Exception as exc:  # pyarrow raises several kinds for a damaged page
        raise PartError(f"a page cannot be read: {type(exc).__name__}") from None
    if not np.all(np.isfinite(values)) or np.any(np.diff(values) <= 0):
        raise PartError("its times are not finite and increasing")
    layout = tuple((column.name, str(column.type)) for column in schema)
    return values, (layout, json.dumps(shapes, sort_keys=True))


def _shape_ok(shape: object) -> bool:
    """[n, m, ..., dtype]: a few non-negative sizes and a numeric or boolean NumPy dtype."""
    if not isinstance(shape, list) or not 1 <= len(shape) <= 4:
        return False
    *sizes, dtype = shape
    if not all(isinstance(n, int) and not isinstance(n, bool) and 0 <= n <= 10**7 for n in sizes):
        return False
    try:
        return isinstance(dtype, str) and np.dtype(dtype).kind in "biuf"
    except (TypeError, ValueError):
        return False


def _field_values(state: Any) -> list[object]:
    """The values of a state's fields, in order."""
    return [getattr(state, f.name) for f in fields(state)]


def _decode(path: Path) -> dict[str, np.ndarray]:
    import pyarrow as pa
    import pyarrow.parquet as pq

    table = pq.read_table(path)
    shapes = json.loads((table.schema.metadata or {}).get(SHAPES_KEY, b"{}"))
    data: dict[str, np.ndarray] = {}
    for name in table.column_names:
        column = table.column(name).combine_chunks()
        if pa.types.is_fixed_size_list(column.type):
            shape = shapes[name][:-1]
            values = column.flatten().to_numpy(zero_copy_only=False)
            data[name] = values.reshape(len(table), *shape)
        else:
            data[name] = column.to_numpy(zero_copy_only=False)
    for name, (*shape, dtype) in shapes.items():
        if name not in data:  # an empty array: no column, only its shape
            data[name] = np.zeros((len(table), *shape), dtype=np.dtype(dtype))
    return data


def _state(cls: type, group: str, data: dict[str, np.ndarray], i: int, blank: Any = None) -> Any:
    """Row ``i`` of ``group`` as a state; a field the row does not hold is taken from
    ``blank``, or for the robots (which have no blank state) filled neutrally."""
    values: dict[str, object] = {}
    missing = []
    for f in fields(cls):
        column = data.get(f"{group}.{f.name}")
        if column is None:
            missing.append(f)
        elif f.type == "int":
            values[f.name] = int(column[i])
        elif f.type == "bool":
            values[f.name] = bool(column[i])
        elif f.type == "float":
            values[f.name] = float(column[i])
        else:
            values[f.name] = np.asarray(column[i])
    if blank is not None:
        values.update({f.name: getattr(blank, f.name) for f in missing})
        missing = []
    length = next((len(v) for v in values.values() if isinstance(v, np.ndarray) and v.ndim), 0)
    for f in missing:
        if f.name == "service_routes_m":
            robots = values.get("service_state")
            count = len(robots) if isinstance(robots, np.ndarray | tuple | list) else 0
            values[f.name] = tuple(np.zeros((0, 2)) for _ in range(count))
        elif f.type == "int":
            values[f.name] = 0
        elif f.type == "bool":
            values[f.name] = False
        elif f.type == "float":
            values[f.name] = float("nan")
        else:
            values[f.name] = np.full(length, np.nan)
    return frozen_fields(cls, **values)
