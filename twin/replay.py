"""Replay and comparison of recorded runs (see ``twin.recording`` for the format).

``Recording.open(path)`` checks a recording part by part. What cannot be read (a missing or
damaged part, a run that stopped before closing it) is named in ``Recording.problems``, and
everything before it stays usable; only a recording with nothing readable raises
``RecordingError``.

``ReplaySimulation`` plays a recording through the same duck-typed interface as the live
simulation (``twin.gui.runner.SimulationLike``): one step moves one recorded row on, and a
snapshot is rebuilt from the row without running any physics. What a row does not hold is
filled in neutrally: the robots' mission routes are empty, and a state field missing from an
older recording reads NaN (numbers), 0 (counts) or False (flags).

``compare(a, b)`` sets two runs (recordings or ``twin run`` site tables) side by side: KPIs
of each over the time both cover, their differences (b - a) and the site series on a common
time axis. ``comparison_problem`` says why two runs cannot be compared (another scenario,
another start, no simulated time in common); ``SiteLog`` keeps a live run's site figures so
that it can be compared as it goes.
"""

from __future__ import annotations

import json
import math
import tempfile
from collections.abc import Mapping
from dataclasses import dataclass, field, fields
from pathlib import Path
from typing import Any

import numpy as np

from twin import inputs
from twin.recording import (
    FORMAT,
    FORMAT_VERSION,
    MANIFEST,
    PART_PATTERN,
    SCENARIO_FILE,
    SHAPES_KEY,
    STATE_GROUPS,
)
from twin.scenario.units import format_duration
from twin.sim.site import Site
from twin.sim.snapshot import (
    SITE_COLUMNS,
    CduState,
    PlantState,
    PowerState,
    RackState,
    RobotsState,
    Snapshot,
    frozen_fields,
)

SITE_NAMES = tuple(name for name, _ in SITE_COLUMNS)
STATE_CLASSES = dict(zip(STATE_GROUPS, (RackState, CduState, PlantState, PowerState,
                                        RobotsState), strict=True))
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

    def __init__(self, path: Path, manifest: dict[str, Any], parts: list[_Part],
                 problems: list[str]) -> None:
        self.path = path
        self.metadata: dict[str, str] = manifest["metadata"]
        self.scenario_toml: str = manifest["scenario_toml"]
        self.closed: bool = manifest["closed"]
        self.problems = tuple(problems)
        self._parts = parts
        self.times = np.concatenate([p.times for p in parts])
        self._cache: dict[int, dict[str, np.ndarray]] = {}

    @classmethod
    def open(cls, path: str | Path) -> Recording:
        path = Path(path)
        if not path.exists():
            raise RecordingError(f"{path}: no such recording")
        if not path.is_dir():
            raise RecordingError(f"{path}: not a twin recording (a recording is a folder "
                                 f"with {MANIFEST} and Parquet parts)")
        manifest = _read_manifest(path)
        parts, problems = _readable_parts(path, manifest)
        if not parts:
            reason = problems[0] if problems else "the run stopped before its first flush"
            raise RecordingError(f"{path}: nothing is readable: {reason}")
        recording = cls(path, manifest, parts, problems)
        if not recording.closed:
            recording.problems += (
                f"the recording was not closed (the run stopped early); rows after "
                f"{format_duration(recording.end_s)} were lost",)
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
        readable = (f"{format_duration(self.end_s - self.times[0] + self.every_s)} readable "
                    f"({len(self):,} rows to {format_duration(self.end_s)})")
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

        tables = [pq.read_table(p.path, columns=[n for n in SITE_NAMES
                                                 if n in pq.read_schema(p.path).names])
                  for p in self._parts]
        return {name: np.concatenate([t.column(name).to_numpy() for t in tables])
                for name in tables[0].column_names}

    def misfit(self, rack_count: int, cdu_count: int) -> str | None:
        """Why the rows cannot be shown on the recorded scenario's racks and CDUs (the
        first row holds another number of them), or None."""
        try:
            first = self.snapshot(0, robots=False)
        except Exception as exc:  # pyarrow and numpy raise several kinds for damaged parts
            return f"its first part cannot be read ({type(exc).__name__})"
        for what, state, count in (("racks", first.racks, rack_count),
                                   ("CDUs", first.cdus, cdu_count)):
            sizes = {v.shape[0] if v.ndim else 1 for v in _field_values(state)
                     if isinstance(v, np.ndarray)}
            if sizes != {count}:
                held = ", ".join(str(n) for n in sorted(sizes)) or "no"
                return (f"its rows hold {held} {what} where its scenario has {count}; the "
                        "recording is damaged or its manifest's scenario is not its own")
        return None

    def index_at(self, time_s: float) -> int:
        """The last row at or before ``time_s`` (the first row for earlier times)."""
        return int(np.clip(np.searchsorted(self.times, time_s + 1e-9, "right") - 1,
                           0, len(self) - 1))

    def snapshot(self, index: int, *, robots: bool = True) -> Snapshot:
        """Row ``index`` rebuilt as a snapshot."""
        part_no = int(np.searchsorted([p.first_row for p in self._parts], index, "right") - 1)
        data = self._part_data(part_no)
        i = index - self._parts[part_no].first_row
        site = {name: float(data[name][i]) if name in data else float("nan")
                for name in SITE_NAMES}
        states = {group: _state(cls, group, data, i) for group, cls in STATE_CLASSES.items()
                  if group != "robots"}
        recorded_robots = any(k.startswith("robots.") for k in data)
        return Snapshot(step=int(data["step"][i]), time_s=float(self.times[index]), site=site,
                        robots=_state(RobotsState, "robots", data, i)
                        if robots and recorded_robots else None,
                        **states)

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
        raise RecordingError(f"{where}: the recording is of format version {version}, made "
                             f"by a newer twin; this one reads version {FORMAT_VERSION}")
    metadata = manifest.get("metadata", {})
    scenario_toml = manifest.get("scenario_toml", "")
    parts = manifest.get("parts", [])
    closed = manifest.get("closed", False)
    if not isinstance(metadata, dict):
        raise RecordingError(f"{where} is damaged: metadata is not a table of names")
    if not isinstance(scenario_toml, str):
        raise RecordingError(f"{where} is damaged: scenario_toml is not text")
    if (not isinstance(parts, list) or len(parts) > MAX_PART_NAMES
            or not all(isinstance(p, dict) and isinstance(p.get("file"), str) for p in parts)):
        raise RecordingError(f"{where} is damaged: parts is not a list of part files")
    if not isinstance(closed, bool):
        raise RecordingError(f"{where} is damaged: closed is neither true nor false")
    return {"metadata": {str(k): str(v) for k, v in metadata.items()
                         if isinstance(v, str | int | float | bool)},
            "scenario_toml": scenario_toml, "parts": [p["file"] for p in parts],
            "closed": closed}


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
        if not (pa.types.is_integer(kind) or pa.types.is_floating(kind)
                or pa.types.is_boolean(kind)):
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
    if not all(isinstance(n, int) and not isinstance(n, bool) and 0 <= n <= 10**7
               for n in sizes):
        return False
    try:
        return isinstance(dtype, str) and np.dtype(dtype).kind in "biuf"
    except (TypeError, ValueError):
        return False


def _field_values(state: object) -> list[object]:
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


def _state(cls: type, group: str, data: dict[str, np.ndarray], i: int) -> Any:
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
    length = next((len(v) for v in values.values() if isinstance(v, np.ndarray) and v.ndim), 0)
    for f in missing:
        if f.name == "service_routes_m":
            values[f.name] = tuple(np.zeros((0, 2)) for _ in values.get("service_state", ()))
        elif f.type == "int":
            values[f.name] = 0
        elif f.type == "bool":
            values[f.name] = False
        elif f.type == "float":
            values[f.name] = float("nan")
        else:
            values[f.name] = np.full(length, np.nan)
    return frozen_fields(cls, **values)


class ReplaySimulation:
    """A recording played back as a simulation (``SimulationLike``): each step moves one
    recorded row on and stays on the last row at the end; ``seek`` jumps to a time."""

    def __init__(self, recording: Recording, site: Site | None = None) -> None:
        """``site``: the recorded scenario's ``Site`` when the caller has built it."""
        self.recording = recording
        self.dt_s = recording.every_s
        self._index = 0
        self._site = site

    @property
    def site(self) -> Site:
        """The recorded site's topology and layout, built once from its scenario."""
        if self._site is None:
            self._site = Site.build(self.recording.scenario())
        return self._site

    @property
    def time_s(self) -> float:
        return float(self.recording.times[self._index])

    @property
    def has_output(self) -> bool:
        return True  # Recording.open guarantees at least one row

    @property
    def at_end(self) -> bool:
        return self._index == len(self.recording) - 1

    def step(self, n: int = 1) -> None:
        self._index = min(self._index + n, len(self.recording) - 1)

    def snapshot(self, *, robots: bool = True) -> Snapshot:
        return self.recording.snapshot(self._index, robots=robots)

    def reset(self) -> None:
        self._index = 0

    def seek(self, time_s: float) -> float:
        """Go to the last row at or before ``time_s``; returns that row's time."""
        self._index = self.recording.index_at(time_s)
        return self.time_s


# ----------------------------------------------------------------------- comparison

KPI_LABELS = {
    "duration_h": "simulated time (h)",
    "energy_mwh": "facility energy (MWh)",
    "it_energy_mwh": "IT energy (MWh)",
    "peak_gpu_temp_c": "peak GPU temperature (°C)",
    "tokens": "tokens delivered",
    "cost_krw": "electricity cost (KRW)",
    "co2_t": "CO2 (t)",
    "water_m3": "water (m³)",
    "max_tripped_racks": "most racks tripped at once",
}
# KPIs for which a larger value is the better outcome; for the others smaller is better
HIGHER_IS_BETTER = frozenset({"tokens"})


@dataclass(frozen=True, slots=True)
class SiteSeries:
    """A run's site columns (``SITE_COLUMNS``) and what the run wrote about itself."""

    source: str
    columns: dict[str, np.ndarray]
    metadata: dict[str, str] = field(default_factory=dict)
    problems: tuple[str, ...] = ()  # what could not be read (``Recording.problems``)

    @classmethod
    def read(cls, path: str | Path) -> SiteSeries:
        """A recording folder, or a ``twin run`` site table in .csv or .parquet, whole or
        partial (``twin.runtable``): what cannot be read is named in ``problems``."""
        from twin.runtable import PARTIAL_SUFFIX, RunTableError, read_run_table

        path = Path(path)
        if path.is_dir() and ((path / MANIFEST).exists() or not (
                path.name.endswith(PARTIAL_SUFFIX) or any(path.glob("part-*.parquet")))):
            return cls.of(Recording.open(path))  # or names what a recording lacks
        try:
            table = read_run_table(path)
        except RunTableError as exc:
            raise RecordingError(str(exc)) from None
        return cls(str(path), table.columns, table.metadata, tuple(table.problems))

    @classmethod
    def of(cls, recording: Recording) -> SiteSeries:
        return cls(str(recording.path), recording.site_series(), recording.metadata,
                   recording.problems)

    @property
    def name(self) -> str:
        """The run's file or folder name, to label it."""
        return Path(self.source).name

    def until(self, end_s: float) -> SiteSeries:
        keep = self.columns["time_s"] <= end_s + 1e-9
        return SiteSeries(self.source, {k: v[keep] for k, v in self.columns.items()},
                          self.metadata, self.problems)


def kpis(series: SiteSeries) -> dict[str, float]:
    """Totals and peaks of a run, keyed as ``KPI_LABELS``. Each row stands for the
    interval since the previous one (site-table rows are interval means, so their
    totals are exact)."""
    c = series.columns
    t = c["time_s"]
    dt = np.diff(t, prepend=0.0)

    def total(name: str, scale: float) -> float:
        return float(np.sum(c[name] * dt) * scale) if name in c else float("nan")

    def peak(name: str) -> float:
        return float(np.max(c[name])) if name in c else float("nan")

    return {
        "duration_h": float(t[-1]) / 3600,
        "energy_mwh": total("facility_power_kw", 1 / 3.6e6),
        "it_energy_mwh": total("it_power_kw", 1 / 3.6e6),
        "peak_gpu_temp_c": peak("gpu_temp_max_c"),
        "tokens": total("tokens_per_s", 1.0),
        "cost_krw": total("cost_krw_per_h", 1 / 3600),
        "co2_t": total("co2_kg_per_h", 1 / 3.6e6),
        "water_m3": total("water_l_per_h", 1 / 3.6e6),
        "max_tripped_racks": peak("tripped_racks"),
    }


@dataclass(frozen=True, slots=True)
class Comparison:
    """Two runs over the time both cover: ``differences`` are b - a; ``series`` maps each
    site column to (a, b) on ``time_s``, a's row times with b interpolated onto them."""

    a: SiteSeries
    b: SiteSeries
    kpis_a: dict[str, float]
    kpis_b: dict[str, float]
    differences: dict[str, float]
    time_s: np.ndarray
    series: dict[str, tuple[np.ndarray, np.ndarray]]

    @property
    def lost_tokens(self) -> float:
        """Tokens run b delivered fewer than run a."""
        return self.kpis_a["tokens"] - self.kpis_b["tokens"]

    def outcome(self, key: str) -> str:
        """Whether run b did "better" or "worse" than run a on a KPI; "" when equal or
        unknown."""
        diff = self.differences[key]
        if diff == 0 or not np.isfinite(diff):
            return ""
        return "better" if (diff > 0) == (key in HIGHER_IS_BETTER) else "worse"


def compare(a: SiteSeries | Recording | str | Path,
            b: SiteSeries | Recording | str | Path) -> Comparison:
    first, second = _as_series(a), _as_series(b)
    end_s = min(first.columns["time_s"][-1], second.columns["time_s"][-1])
    first, second = first.until(end_s), second.until(end_s)
    kpis_a, kpis_b = kpis(first), kpis(second)
    t = first.columns["time_s"]
    t_b = second.columns["time_s"]
    shared = [n for n in SITE_NAMES if n in first.columns and n in second.columns]
    series = {n: (first.columns[n], np.interp(t, t_b, second.columns[n])) for n in shared}
    return Comparison(first, second, kpis_a, kpis_b,
                      {k: kpis_b[k] - kpis_a[k] for k in kpis_a}, t, series)


def _as_series(run: SiteSeries | Recording | str | Path) -> SiteSeries:
    if isinstance(run, SiteSeries):
        return run
    if isinstance(run, Recording):
        return SiteSeries.of(run)
    return SiteSeries.read(run)


COMPARABLE = ("runs of the same scenario from the same start, as 'twin run' output tables "
              "(.csv, .parquet) or recording folders")


def comparison_problem(a: SiteSeries, b: SiteSeries) -> str | None:
    """Why run b cannot be compared with run a, or None. Runs must be of the same scenario
    and start (simulated time 0 the same moment), as far as their metadata say, and share
    some simulated time when both have rows; their steps and lengths may differ."""
    for key, what in (("scenario", "scenario"), ("start", "start")):
        mine, other = a.metadata.get(key), b.metadata.get(key)
        if mine and other and mine != other:
            return f"{b.source} is a run of {what} {other}, {a.name} of {mine}"
    t_a, t_b = a.columns["time_s"], b.columns["time_s"]
    if t_a.size and t_b.size and min(t_a[-1], t_b[-1]) < max(t_a[0], t_b[0]):
        return (f"{b.source} covers {format_duration(t_b[0])} to {format_duration(t_b[-1])} "
                f"and {a.name} {format_duration(t_a[0])} to {format_duration(t_a[-1])}: no "
                "simulated time in common")
    return None


def read_reference(path: str | Path, run: SiteSeries) -> SiteSeries:
    """The run at ``path`` to compare ``run`` with; raises ``RecordingError`` naming what
    is wrong and what can be compared. A recording that is readable only in part is
    returned with its ``problems``."""
    reference = SiteSeries.read(path)
    problem = comparison_problem(run, reference)
    if problem is not None:
        raise RecordingError(problem)
    return reference


class SiteLog:
    """A live run's site figures for comparing it with a reference run as it goes: at
    most one row per ``every_s`` of simulated time, up to the first row at or past
    ``end_s``, in arrays allocated once. Time going backwards (a reset) starts it again."""

    def __init__(self, source: str, metadata: Mapping[str, str], every_s: float,
                 end_s: float) -> None:
        self.source = source
        self.metadata = dict(metadata)
        self.every_s = every_s
        self.end_s = end_s
        self._values = np.full((math.ceil(end_s / every_s) + 2, len(SITE_NAMES)), np.nan)
        self._time_column = SITE_NAMES.index("time_s")
        self._count = 0

    def __len__(self) -> int:
        return self._count

    @property
    def name(self) -> str:
        return self.source

    def add(self, time_s: float, site: Mapping[str, float]) -> None:
        if self._count:
            last_s = self._values[self._count - 1, self._time_column]
            if time_s < last_s:
                self._count = 0
            elif (time_s < last_s + self.every_s - 1e-9 or last_s >= self.end_s
                  or self._count == len(self._values)):
                return
        row = self._values[self._count]
        row[:] = [site.get(name, np.nan) for name in SITE_NAMES]
        row[self._time_column] = time_s
        self._count += 1

    def until(self, end_s: float) -> SiteSeries:
        rows = self._values[:self._count]
        rows = rows[rows[:, self._time_column] <= end_s + 1e-9]
        return SiteSeries(self.source, {name: rows[:, i].copy()
                                        for i, name in enumerate(SITE_NAMES)}, self.metadata)
