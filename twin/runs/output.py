"""Headless runs: drive the simulation and stream interval means to CSV or Parquet.

Every output is crash-safe. While a run goes, each output lives under a partial name next
to its final one (``site.csv.partial``, ``site.parquet.partial/``,
``site.alarms.sqlite.partial``) and is flushed to disk (fsync) at least every
``FLUSH_WALL_S`` of wall time (``twin run --flush-every``), and at every output interval that
takes longer: a run killed
at any moment (SIGKILL, power loss, a full disk) leaves everything up to its last flush
readable. Only a run that finishes renames its outputs to their final names, so a file under
its final name is always complete.

- CSV: one file, rows appended line by line; a kill can leave the last line cut off,
  which the readers drop and report.
- Parquet: a file without its footer cannot be read, so while running a Parquet output is a
  folder of complete part files (``part-00000.parquet``...), each written under a hidden
  temporary name and renamed into place: pyarrow, pandas, Polars and DuckDB read the folder
  as one table. At the end the parts are joined into one ordinary Parquet file (one row group
  per part) under the final name and the folder is removed.
- The alarm journal: SQLite transactions (see ``twin.alarms.journal``).

Each table carries the run's metadata and the scenario file's whole text (``scenario_toml``):
Parquet in its key-value metadata, CSV in ``#`` lines before the header (``# key: value``,
then the scenario's lines each behind ``#| ``).

With a journal path, the alarm engine scans about once per simulated second (every step
when dt >= 1 s, see ``AlarmEngine.on_start``) and writes every alarm transition to
the SQLite journal, committed at least once per second of wall time.
"""

from __future__ import annotations

import contextlib
import csv
import io
import math
import os
import re
import sqlite3
import sys
import time
from pathlib import Path
from typing import IO, TYPE_CHECKING, Any

import numpy as np

from twin.alarms import AlarmEngine, AlarmJournal, AlarmSummary, Priority
from twin.runs import FLUSH_WALL_S
from twin.runs.observe import AppliedEvent, ObservedRun
from twin.scenario.units import format_duration
from twin.sim.robotics.cells import RobotState
from twin.sim.snapshot import SITE_NAMES, Snapshot

if TYPE_CHECKING:
    from collections.abc import Sequence

    from twin.scenario import Scenario
    from twin.sim.topology import Topology


# Columns whose interval value is the state at the interval's end rather than its mean.
END_OF_INTERVAL = frozenset(
    {"time_s", "bess_soc", "thermal_stored_kwh", "tripped_racks", "energy_closure_error"}
)
# Columns whose interval value is the largest seen in the interval.
MAX_OVER_INTERVAL = frozenset({"gpu_temp_max_c"})
PARTIAL_SUFFIX = ".partial"  # an output its run has not finished
PART_PATTERN = "part-{:05d}.parquet"
SITE_ROWS_PER_PART = 100_000  # ~40 MB of site rows held at most between flushes
COMPONENT_ROWS_PER_PART = 2_000_000
SCENARIO_TEXT_KEY = "scenario_toml"
CSV_SCENARIO_PREFIX = "#| "


class OutputError(Exception):
    """An output that cannot be written; the message names the file and the reason."""


def partial_path(path: Path) -> Path:
    """Where an output lives until its run finishes."""
    return path.with_name(path.name + PARTIAL_SUFFIX)


def _reason(exc: BaseException) -> str:
    """Why a write failed, in the system's words: "No space left on device"."""
    number = getattr(exc, "errno", None)
    if number is None:  # pyarrow puts the errno in its message only
        found = re.search(r"\[errno (\d+)\]", str(exc))
        number = int(found[1]) if found else None
    if number:
        return os.strerror(number)
    text = str(exc).splitlines()[0] if str(exc) else ""
    return getattr(exc, "strerror", None) or text or type(exc).__name__


@contextlib.contextmanager
def _writing(path: Path):
    """Name the output in any error writing it."""
    try:
        yield
    except OutputError:
        raise
    except (OSError, sqlite3.Error) as exc:
        raise OutputError(f"cannot write {path}: {_reason(exc)}") from None


def _fsync_folder(folder: Path) -> None:
    """Make a rename in ``folder`` survive a power cut (POSIX; Windows has no folder fsync)."""
    if os.name != "posix":
        return
    fd = os.open(folder, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def _clear_final(path: Path) -> None:
    """A run replaces its outputs: an earlier run's file under the final name goes now, so
    that no reader takes it for this run's while this one is partial."""
    if path.is_dir():
        raise OutputError(f"{path} is a folder; give a file name")
    path.unlink(missing_ok=True)


class CsvTable:
    """Site rows appended to ``NAME.csv.partial``, renamed to ``NAME.csv`` when finished."""

    def __init__(
        self, path: Path, metadata: dict[str, str], flush_wall_s: float = FLUSH_WALL_S
    ) -> None:
        self.path = path
        self.partial = partial_path(path)
        self.flush_wall_s = flush_wall_s
        try:
            _clear_final(path)
            if self.partial.is_dir():
                raise OutputError(f"{self.partial} is a folder; move it away")
            self._file: IO[str] = self.partial.open("w", newline="", encoding="utf-8")
        except OSError as exc:
            raise OutputError(f"cannot write {path}: {_reason(exc)}") from None
        # rows wait here until a flush, so that what is on disk is known
        self._pending = io.StringIO()
        self._csv = csv.writer(self._pending)
        for key, value in metadata.items():
            if key != SCENARIO_TEXT_KEY:
                self._pending.write(f"# {key}: {value}\n")
        scenario_text = metadata.get(SCENARIO_TEXT_KEY)
        if scenario_text is not None:
            self._pending.write(
                f"# {SCENARIO_TEXT_KEY}: the lines behind '{CSV_SCENARIO_PREFIX}'\n"
            )
            for line in scenario_text.splitlines():
                self._pending.write(f"{CSV_SCENARIO_PREFIX}{line}\n")
        self._csv.writerow(SITE_NAMES)
        self.rows = 0
        self._pending_rows = 0
        self._failed = False
        self.flush()  # the header and metadata are on disk before the first row

    def write(self, row: np.ndarray) -> None:
        self._pending.write(csv_line(row))
        self._pending_rows += 1

    def flush_due(self, pending_rows: int = 0) -> bool:
        del pending_rows  # the caller holds no rows: they are all here
        return (
            self._pending_rows >= SITE_ROWS_PER_PART
            or time.monotonic() - self._last_flush >= self.flush_wall_s
        )

    def flush(self) -> None:
        if self._failed:  # a retry could append after half a line: the file ends where it failed
            raise OutputError(f"cannot write {self.partial}: an earlier write failed")
        text = self._pending.getvalue()
        self._pending.seek(0)
        self._pending.truncate()
        self._failed = True
        with _writing(self.partial):
            self._file.write(text)
            self._file.flush()
            os.fsync(self._file.fileno())
        self._failed = False
        self.rows += self._pending_rows
        self._pending_rows = 0
        self._last_flush = time.monotonic()

    def finish(self) -> None:
        self.flush()
        with _writing(self.path):
            self._file.close()
            os.replace(self.partial, self.path)
            _fsync_folder(self.path.parent)

    def abandon(self) -> None:
        """Keep what can be kept under the partial name (the run failed or was stopped)."""
        with contextlib.suppress(OSError):
            self._file.close()


class ParquetTable:
    """Arrow tables written as complete part files in the folder ``NAME.parquet.partial``,
    joined into ``NAME.parquet`` when finished (see the module's notes)."""

    def __init__(
        self,
        path: Path,
        metadata: dict[str, str],
        rows_per_part: int,
        flush_wall_s: float = FLUSH_WALL_S,
    ) -> None:
        import pyarrow  # noqa: F401  (fail here, before the run starts, if it is missing)

        self.path = path
        self.flush_wall_s = flush_wall_s
        self.partial = partial_path(path)
        self.metadata = metadata
        self.rows_per_part = rows_per_part
        self.parts: list[Path] = []
        self.rows = 0
        self._pending: list[Any] = []
        self._pending_rows = 0
        self._last_flush = time.monotonic()
        try:
            _clear_final(path)
            _remove_parts(self.partial)
            self.partial.mkdir()
        except OSError as exc:
            raise OutputError(f"cannot write {path}: {_reason(exc)}") from None

    def write(self, table: Any) -> None:
        self._pending.append(table)
        self._pending_rows += table.num_rows

    def flush_due(self, pending_rows: int = 0) -> bool:
        """Whether rows held (here and ``pending_rows`` by the caller) should go to disk."""
        return (
            self._pending_rows + pending_rows >= self.rows_per_part
            or time.monotonic() - self._last_flush >= self.flush_wall_s
        )

    def flush(self) -> None:
        import pyarrow as pa
        import pyarrow.parquet as pq

        self._last_flush = time.monotonic()
        if not self._pending:
            return
        table = pa.concat_tables(self._pending).replace_schema_metadata(self.metadata)
        name = PART_PATTERN.format(len(self.parts))
        hidden = self.partial / f".{name}.tmp"  # pyarrow and pandas skip names starting "."
        try:
            with _writing(self.partial):
                pq.write_table(table, hidden, compression="zstd")
                _fsync_file(hidden)
                os.replace(hidden, self.partial / name)
                _fsync_folder(self.partial)
        except BaseException:
            hidden.unlink(missing_ok=True)
            raise
        self.parts.append(self.partial / name)
        self.rows += self._pending_rows
        self._pending.clear()
        self._pending_rows = 0

    def finish(self) -> None:
        import pyarrow.parquet as pq

        self.flush()
        hidden = self.path.with_name(f".{self.path.name}.tmp")
        try:
            with _writing(self.path):
                writer = None
                for part in self.parts:  # one part in memory at a time
                    table = pq.read_table(part)
                    if writer is None:
                        writer = pq.ParquetWriter(hidden, table.schema, compression="zstd")
                    writer.write_table(table)
                if writer is not None:
                    writer.close()
                _fsync_file(hidden)
                os.replace(hidden, self.path)
                _fsync_folder(self.path.parent)
        except BaseException:
            hidden.unlink(missing_ok=True)
            raise
        with contextlib.suppress(OSError, OutputError):  # complete already; tidying only
            _remove_parts(self.partial)

    def abandon(self) -> None:
        self._pending.clear()


def _fsync_file(path: Path) -> None:
    fd = os.open(path, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def _remove_parts(folder: Path) -> None:
    """Remove a partial Parquet folder that twin wrote (an earlier run's leftovers); a folder
    holding anything else is left alone, with an error."""
    if not folder.exists():
        return
    if not folder.is_dir():
        raise OutputError(f"{folder} is in the way (not a folder of parts); move it away")
    for item in folder.iterdir():
        if item.is_file() and (item.name.startswith("part-") or item.name.startswith(".part-")):
            item.unlink()
    try:
        folder.rmdir()
    except OSError:
        raise OutputError(f"{folder} holds files twin did not write; move it away") from None


class SiteWriter:
    """Site rows to .csv or .parquet; the interval's PUE is its energy ratio (NaN, written
    as ``nan``, when no IT power flowed)."""

    def __init__(
        self, path: Path, metadata: dict[str, str], flush_wall_s: float = FLUSH_WALL_S
    ) -> None:
        self.path = path
        if path.suffix.lower() == ".csv":
            self._table: CsvTable | ParquetTable = CsvTable(path, metadata, flush_wall_s)
        else:
            self._table = ParquetTable(path, metadata, SITE_ROWS_PER_PART, flush_wall_s)
        self._rows: list[np.ndarray] = []  # Parquet rows not yet handed to the table
        self._pue = SITE_NAMES.index("pue")
        self._facility = SITE_NAMES.index("facility_power_kw")
        self._it = SITE_NAMES.index("it_power_kw")
        self.partial = self._table.partial
        self.last_time_s = math.nan  # of the last row written
        self.flushed_time_s = math.nan  # of the last row on disk

    def write(self, row: np.ndarray) -> None:
        """One interval's row, ordered as ``SITE_NAMES`` (its PUE is set here)."""
        it_kw = row[self._it]
        # PUE over an interval is its energy ratio; undefined without IT energy
        row[self._pue] = row[self._facility] / it_kw if it_kw > 0 else math.nan
        self.last_time_s = float(row[0])
        if isinstance(self._table, CsvTable):
            self._table.write(row)
        else:
            self._rows.append(row.copy())
        if self._table.flush_due(len(self._rows)):
            self.flush()

    def flush(self) -> None:
        if self._rows:
            import pyarrow as pa

            columns = np.vstack(self._rows).T
            self._table.write(pa.table({n: columns[i] for i, n in enumerate(SITE_NAMES)}))
            self._rows.clear()
        self._table.flush()
        self.flushed_time_s = self.last_time_s

    def finish(self) -> None:
        self.flush()
        self._table.finish()

    def abandon(self) -> None:
        self._table.abandon()


class SiteTable(SiteWriter):
    """The site table of a run (a run observer, ``twin.runs.observe``): one row per output
    interval of ``every_steps`` steps, each column the interval's mean, except the state at
    the interval's end (``END_OF_INTERVAL``) and the largest value (``MAX_OVER_INTERVAL``)."""

    def __init__(
        self,
        path: Path,
        metadata: dict[str, str],
        every_steps: int,
        total_steps: int,
        flush_wall_s: float = FLUSH_WALL_S,
    ) -> None:
        super().__init__(path, metadata, flush_wall_s)
        self.every_steps, self.total_steps = every_steps, total_steps
        self.finished = False
        self._sums = np.zeros(len(SITE_NAMES))
        self._peaks = np.full(len(SITE_NAMES), -np.inf)
        # index arrays, built once (a list is turned into one at every use)
        self._end_index = np.array([SITE_NAMES.index(n) for n in END_OF_INTERVAL])
        self._max_index = np.array([SITE_NAMES.index(n) for n in MAX_OVER_INTERVAL])
        self._steps = 0

    def on_start(self, run: Any) -> None:
        self._sums[:] = 0.0
        self._peaks[:] = -np.inf
        self._steps = 0

    def on_step(self, run: Any, applied: Sequence[AppliedEvent]) -> None:
        values = run.site_values()
        self._sums += values
        np.maximum(self._peaks, values, out=self._peaks)
        self._steps += 1
        if self._steps % self.every_steps == 0 or self._steps == self.total_steps:
            row = self._sums / ((self._steps - 1) % self.every_steps + 1)
            row[self._end_index] = values[self._end_index]
            row[self._max_index] = self._peaks[self._max_index]
            self.write(row)
            self._sums[:] = 0.0
            self._peaks[:] = -np.inf

    def on_finish(self) -> None:
        self.finish()
        self.finished = True


class ComponentTable:
    """Per-component series in a long Parquet table, one row per output interval and
    component (a run observer, ``twin.runs.observe``): the figures of the step that ends
    each interval, read from its snapshot."""

    def __init__(
        self,
        path: Path,
        metadata: dict[str, str],
        scenario: Scenario,
        topology: Topology,
        every_steps: int,
        total_steps: int,
        flush_wall_s: float = FLUSH_WALL_S,
    ):
        self.path = path
        self.scenario, self.topology = scenario, topology
        self.every_steps, self.total_steps = every_steps, total_steps
        self._table = ParquetTable(path, metadata, COMPONENT_ROWS_PER_PART, flush_wall_s)
        self.partial = self._table.partial
        self.last_time_s = math.nan
        self.flushed_time_s = math.nan
        self.finished = False
        self._steps = 0

    def on_start(self, run: Any) -> None:
        self._steps = 0

    def on_step(self, run: Any, applied: Sequence[AppliedEvent]) -> None:
        self._steps += 1
        if self._steps % self.every_steps == 0 or self._steps == self.total_steps:
            self.write(run.time_s, run.snapshot())

    def on_finish(self) -> None:
        self._table.finish()
        self.finished = True

    def write(self, time_s: float, snap: Snapshot) -> None:
        import pyarrow as pa

        self._table.write(pa.table(component_columns(time_s, snap, self.scenario, self.topology)))
        self.last_time_s = time_s
        if self._table.flush_due():
            self.flush()

    def flush(self) -> None:
        self._table.flush()
        self.flushed_time_s = self.last_time_s

    def abandon(self) -> None:
        self._table.abandon()


def component_columns(
    time_s: float, snap: Snapshot, scenario: Scenario, topo: Topology
) -> dict[str, np.ndarray]:
    """The snapshot's per-component values as columns of a long table (one row per
    component and quantity)."""
    rows: dict[str, list] = {k: [] for k in ("time_s", "component", "kind", "quantity", "value")}

    def add(kind: str, names, quantity: str, values: np.ndarray) -> None:
        count = len(values)
        rows["time_s"].append(np.full(count, time_s))
        rows["component"].append(np.asarray(names, dtype=object))
        rows["kind"].append(np.full(count, kind, dtype=object))
        rows["quantity"].append(np.full(count, quantity, dtype=object))
        rows["value"].append(np.asarray(values, dtype=float))

    rack_names = [topo.rack_name(i) for i in range(topo.rack_count)]
    for field_name in (
        "power_kw",
        "gpu_temp_c",
        "outlet_temp_c",
        "flow_lpm",
        "utilization",
        "tokens_per_s",
    ):
        add("rack", rack_names, field_name, getattr(snap.racks, field_name))
    add("rack", rack_names, "throttled", snap.racks.throttled.astype(float))
    add("rack", rack_names, "tripped", snap.racks.tripped.astype(float))
    for field_name in (
        "supply_c",
        "return_c",
        "flow_lpm",
        "pump_speed",
        "dp_kpa",
        "duty_kw",
        "facility_valve",
        "pump_power_kw",
    ):
        add("cdu", topo.cdu_names, field_name, getattr(snap.cdus, field_name))
    add("hall", topo.hall_names, "air_c", snap.plant.hall_air_c)
    add("hall", topo.hall_names, "transformer_loading", snap.power.hall_transformer_loading)
    add("hall", topo.hall_names, "ups_loading", snap.power.hall_ups_loading)
    add("hall", topo.hall_names, "lv_voltage_pu", snap.power.hall_lv_voltage_pu)
    add("row", topo.row_names, "busway_loading", snap.power.row_busway_loading)
    for field_name in (
        "fws_supply_c",
        "dry_cooler_duty_kw",
        "dry_cooler_fan_speed",
        "chiller_duty_kw",
        "chiller_cop",
        "tower_duty_kw",
    ):
        add("plant", ["plant"], field_name, np.array([getattr(snap.plant, field_name)]))
    add("plant", ["plant"], "mv_voltage_pu", np.array([snap.power.mv_voltage_pu]))
    cells = scenario.workcells
    robots = snap.robots
    if cells and robots is not None:
        names = np.array([c.name for c in cells], dtype=object)
        service = np.array([c.kind == "service" for c in cells])
        for field_name in ("throughput_per_h", "utilization", "power_kw", "grid_kw"):
            add("workcell", names, field_name, getattr(robots, f"cell_{field_name}"))
        add("workcell", names[~service], "cycles", robots.cell_cycles[~service])
        add("workcell", names[~service], "oee", robots.cell_oee[~service])
        add("workcell", names[service], "repairs", robots.cell_cycles[service])
        add(
            "workcell",
            names[service],
            "mean_time_to_repair_s",
            robots.cell_mean_time_to_repair_s[service],
        )
        for state in RobotState:
            add(
                "workcell",
                names,
                f"robots_{state.name.lower()}",
                robots.cell_state_counts[:, state],
            )
    return {k: np.concatenate(v) for k, v in rows.items()}


def _fmt(value: float) -> str:
    if value.is_integer() and abs(value) < 1e15:
        return str(int(value))
    return f"{value:.6g}"  # nan and inf as "nan", "inf"


# A row's line format by which of its values are whole numbers (a site table's rows have
# few such patterns; the cache is emptied should there be many)
_LINE_FORMATS: dict[bytes, str] = {}
_LINE_FORMATS_KEPT = 256


def csv_line(row: np.ndarray) -> str:
    """The CSV line of a row of floats, each as ``_fmt`` writes it, ended as the csv
    module ends a row ("\r\n"; none of these values needs quoting). One ``%`` of a format
    chosen by which values are whole numbers (``%d`` of a whole float is ``str(int(v))``,
    ``%.6g`` is ``f"{v:.6g}"``), where formatting value by value costs a Python call each."""
    whole = (row == np.trunc(row)) & (np.abs(row) < 1e15)  # False for nan and inf
    key = whole.tobytes()
    line = _LINE_FORMATS.get(key)
    if line is None:
        if len(_LINE_FORMATS) >= _LINE_FORMATS_KEPT:
            _LINE_FORMATS.clear()
        line = ",".join("%d" if w else "%.6g" for w in whole.tolist()) + "\r\n"
        _LINE_FORMATS[key] = line
    return line % tuple(row.tolist())


def table_metadata(
    scenario: Scenario,
    *,
    seed: int,
    dt_s: float,
    every_s: float,
    duration_s: float,
    scenario_toml: str | None,
) -> dict[str, str]:
    """What every table of a run says about the run (see the README's data dictionary)."""
    from twin import __version__

    metadata = {
        "twin_version": __version__,
        "scenario": scenario.scenario.name,
        "seed": str(seed),
        "dt_s": f"{dt_s:g}",
        "every_s": f"{every_s:g}",
        "duration_s": f"{duration_s:g}",
        "start": scenario.scenario.start.isoformat(),
    }
    if scenario_toml is not None:
        metadata[SCENARIO_TEXT_KEY] = scenario_toml
    return metadata


class RunFailed(OutputError):
    """A run that stopped on an output it could not write; the message names the partial
    outputs left and how far each got."""


class _Outputs:
    """A run's open outputs, each a run observer that finishes its files in ``on_finish``:
    finished together, or left partial together."""

    def __init__(self) -> None:
        self.items: list[tuple[str, Any]] = []  # (what, writer)

    def add(self, what: str, writer: Any) -> Any:
        self.items.append((what, writer))
        return writer

    def abandon(self) -> list[str]:
        """Flush what can be flushed, close, and describe each partial output (those not
        finished: a finished one is under its final name)."""
        lines = []
        for what, writer in self.items:
            if writer.finished:
                continue
            with contextlib.suppress(Exception):  # the disk may still be full: keep going
                writer.flush()
            with contextlib.suppress(Exception):
                writer.abandon()
            lines.append(f"{what} {_describe_partial(writer)}")
        return lines


def _describe_partial(writer: Any) -> str:
    where = getattr(writer, "partial", None) or writer.path
    last = getattr(writer, "flushed_time_s", math.nan)
    if math.isfinite(last):
        reach = f"readable, rows to at least {format_duration(last)}"
    elif Path(where).suffix.lower() == PARTIAL_SUFFIX and where.is_file():  # CSV
        reach = "no flush completed; readable up to where the writing stopped"
    else:
        reach = "stopped before its first flush: no rows"
    if isinstance(writer, _JournalOutput):
        reach = "readable, every alarm committed before the stop"
    if isinstance(writer, _RecordingOutput):
        reach = "readable to its last part, marked not closed"
    return f"{where} ({reach})"


class _JournalOutput:
    """The alarm engine observing the run, and its journal, closed when the run ends."""

    def __init__(self, alarms: AlarmEngine, journal: AlarmJournal) -> None:
        self.alarms, self.journal = alarms, journal
        self.path, self.partial = journal.path, journal.partial
        self.finished = False

    def on_start(self, run: Any) -> None:
        self.alarms.on_start(run)

    def on_step(self, run: Any, applied: Sequence[AppliedEvent]) -> None:
        self.alarms.on_step(run, applied)  # a scan commits to the journal

    def on_finish(self) -> None:
        self.alarms.on_finish()
        with _writing(self.path):
            self.journal.close()
        self.finished = True

    def flush(self) -> None:
        with _writing(self.partial):
            self.journal.commit()

    def abandon(self) -> None:
        self.journal.abandon()


class _RecordingOutput:
    """The recorder observing the run; its errors name the recording."""

    def __init__(self, recorder: Any) -> None:
        self.recorder = recorder
        self.path = self.partial = recorder.path
        self.finished = False

    def on_start(self, run: Any) -> None:
        self.recorder.on_start(run)

    def on_step(self, run: Any, applied: Sequence[AppliedEvent]) -> None:
        self.recorder.on_step(run, applied)

    def on_finish(self) -> None:
        with _writing(self.path):
            self.recorder.on_finish()
        self.finished = True

    def flush(self) -> None:
        with _writing(self.path):
            self.recorder.flush()

    def abandon(self) -> None:
        pass  # the manifest already says "closed": false


class HeadlessRun:
    """A simulation and the outputs of its run, open, as ``twin run`` makes them (see
    ``open_headless``): ``run`` steps the simulation and tells the outputs, which observe
    the run and finish in the order they were opened (site table, component table, alarm
    journal, recording; none changes what another reads)."""

    def __init__(
        self, simulation: Any, outputs: _Outputs, alarms: AlarmEngine | None, total_steps: int
    ) -> None:
        self.simulation = simulation
        self.outputs = outputs
        self.alarms = alarms
        self.total_steps = total_steps
        self.run = ObservedRun(simulation, [writer for _, writer in outputs.items])


def open_headless(
    scenario: Scenario,
    duration_s: float,
    dt_s: float,
    every_steps: int,
    out: Path,
    components: Path | None = None,
    seed: int | None = None,
    journal: Path | None = None,
    record: Path | None = None,
    record_every_s: float | None = None,
    scenario_toml: str | None = None,
    flush_wall_s: float = FLUSH_WALL_S,
) -> HeadlessRun:
    """Build the simulation and open the outputs of a headless run (the arguments of
    ``run_headless``); raises ``OutputError`` when an output cannot be opened, and then
    nothing is left open."""
    from twin.sim.engine import Simulation

    if record is not None and scenario_toml is None:
        raise ValueError("a recording needs the scenario's TOML text")
    sim = Simulation.from_scenario(scenario, seed=seed, dt_s=dt_s)
    metadata = table_metadata(
        scenario,
        seed=sim.seed,
        dt_s=dt_s,
        every_s=dt_s * every_steps,
        duration_s=duration_s,
        scenario_toml=scenario_toml,
    )
    total_steps = math.ceil(duration_s / dt_s - 1e-9)
    outputs = _Outputs()
    try:
        outputs.add("site table", SiteTable(out, metadata, every_steps, total_steps, flush_wall_s))
        if components:
            outputs.add(
                "component table",
                ComponentTable(
                    components,
                    metadata,
                    scenario,
                    sim.topology,
                    every_steps,
                    total_steps,
                    flush_wall_s,
                ),
            )
        alarms = None
        if journal is not None:
            alarm_journal = _open_journal(journal, metadata)
            alarms = AlarmEngine.from_scenario(scenario, sim.topology, journal=alarm_journal)
            outputs.add("alarm journal", _JournalOutput(alarms, alarm_journal))
        if record is not None and scenario_toml is not None:  # checked above: both or none
            recorder = _open_recorder(
                record, scenario_toml, scenario, sim, metadata, record_every_s or dt_s * every_steps
            )
            outputs.add("recording", _RecordingOutput(recorder))
    except BaseException:
        outputs.abandon()
        _remove_empty(outputs)
        raise
    return HeadlessRun(sim, outputs, alarms, total_steps)


def run_headless(
    scenario: Scenario,
    duration_s: float,
    dt_s: float,
    every_steps: int,
    out: Path,
    components: Path | None = None,
    seed: int | None = None,
    progress: IO[str] | None = sys.stderr,
    journal: Path | None = None,
    record: Path | None = None,
    record_every_s: float | None = None,
    scenario_toml: str | None = None,
    flush_wall_s: float = FLUSH_WALL_S,
) -> int:
    """Run ``scenario`` and write its outputs; returns 0, or raises ``OutputError`` (an
    output cannot be opened: nothing ran) or ``RunFailed`` (an output failed during the
    run: what was written is left under the partial names the message lists).

    ``scenario_toml`` is the scenario file's text, kept in every output so that a report
    or replay never needs the original file (``twin run`` always gives it; without it the
    tables only name their scenario, and a recording cannot be made). With ``record``, also
    streams snapshots every ``record_every_s`` of simulated time (default: the output
    interval) to a recording folder (``twin.runs.recording``). The tables are flushed at
    least every ``flush_wall_s`` of wall time: what a killed run can lose at most."""
    headless = open_headless(
        scenario,
        duration_s,
        dt_s,
        every_steps,
        out,
        components=components,
        seed=seed,
        journal=journal,
        record=record,
        record_every_s=record_every_s,
        scenario_toml=scenario_toml,
        flush_wall_s=flush_wall_s,
    )
    sim, outputs, alarms = headless.simulation, headless.outputs, headless.alarms
    run = headless.run
    started = time.perf_counter()
    last_report = started
    try:
        for _ in range(headless.total_steps):
            run.step()
            now = time.perf_counter()
            if progress is not None and now - last_report > 2.0:
                last_report = now
                rate = sim.time_s / (now - started)
                print(
                    f"\rtwin run: {sim.time_s / duration_s:6.1%} simulated, {rate:,.0f}x real time",
                    end="",
                    file=progress,
                    flush=True,
                )
        run.finish()
    except (OutputError, OSError, sqlite3.Error) as exc:
        if isinstance(exc, sqlite3.Error) and journal is not None:  # only the journal is SQLite
            exc = OutputError(f"cannot write {partial_path(journal)}: {_reason(exc)}")
        elif isinstance(exc, OSError):  # the table writers name themselves; the recorder not
            exc = OutputError(f"cannot write {record}: {_reason(exc)}")
        left = outputs.abandon()
        raise RunFailed(
            "\n  ".join(
                [
                    f"{exc}; the run stopped at {format_duration(sim.time_s)} of "
                    f"{format_duration(duration_s)} simulated. Partial outputs:",
                    *left,
                ]
            )
        ) from None
    except BaseException:  # interrupted (Ctrl+C): keep what was written, name it
        left = outputs.abandon()
        if progress is not None:
            print("\ntwin run: stopped; partial outputs:\n  " + "\n  ".join(left), file=progress)
        raise
    elapsed = time.perf_counter() - started
    if progress is not None:
        ledger = sim.ledger()
        print(
            f"\rtwin run: {duration_s / 3600:,.2f} h simulated in {elapsed:,.1f} s "
            f"({duration_s / max(elapsed, 1e-9):,.0f}x real time) -> {out}",
            file=progress,
        )
        print(
            f"  energy in {ledger['energy_in_kwh']:,.1f} kWh = rejected "
            f"{ledger['heat_rejected_kwh']:,.1f} + stored {ledger['thermal_stored_kwh']:+,.1f}"
            f" + batteries {ledger['battery_stored_kwh']:+,.1f}; closure error "
            f"{ledger['closure_error']:.2e}",
            file=progress,
        )
        if alarms is not None and journal is not None:
            print(alarm_report(alarms.summary(), journal), file=progress)
    return 0


def _open_journal(path: Path, metadata: dict[str, str]) -> AlarmJournal:
    try:
        return AlarmJournal(path, metadata)
    except (OSError, sqlite3.Error) as exc:
        raise OutputError(f"cannot write {path}: {_reason(exc)}") from None


def _open_recorder(
    path: Path,
    scenario_toml: str,
    scenario: Scenario,
    sim: Any,
    metadata: dict[str, str],
    every_s: float,
) -> Any:
    from twin.runs.recording import Recorder
    from twin.runs.recording import run_metadata as recording_metadata

    try:
        return Recorder(
            path,
            scenario_toml=scenario_toml,
            metadata=recording_metadata(
                scenario_name=scenario.scenario.name,
                seed=sim.seed,
                dt_s=sim.dt_s,
                start=metadata["start"],
                topology=sim.topology,
            ),
            every_s=every_s,
        )
    except OSError as exc:
        raise OutputError(f"cannot record to {path}: {_reason(exc)}") from None


def _remove_empty(outputs: _Outputs) -> None:
    """Outputs opened before another failed to open hold no rows: remove them."""
    import shutil

    for _, writer in outputs.items:
        partial = getattr(writer, "partial", None)
        if isinstance(writer, _RecordingOutput) or partial is None:
            continue
        with contextlib.suppress(OSError):
            if partial.is_dir():
                shutil.rmtree(partial)
            else:
                partial.unlink(missing_ok=True)
                for sidecar in ("-wal", "-shm"):
                    partial.with_name(partial.name + sidecar).unlink(missing_ok=True)


def alarm_report(summary: AlarmSummary, journal: Path) -> str:
    """One line for the end of a run: alarms raised by priority and what still stands."""
    raised = dict(summary.raised_by_priority)
    by_priority = ", ".join(f"{p.label} {raised.get(p, 0)}" for p in Priority)
    flood = ", in an alarm flood" if summary.flood.active else ""
    return (
        f"  alarms raised {sum(raised.values()):,} ({by_priority}); at the end "
        f"{summary.active:,} active, {summary.unacknowledged:,} unacknowledged{flood} "
        f"-> {journal}"
    )
