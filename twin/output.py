"""Headless runs: drive the simulation and stream interval means to CSV or Parquet.

Rows are written as the run goes (Parquet in row groups, CSV line by line, both flushed
every few simulated minutes), so memory does not grow with the length of a run and a
killed run leaves a readable file with everything up to the last flush.

With a journal path, the alarm engine scans a snapshot about once per simulated second
(every step when dt >= 1 s, see ``twin.alarms.AlarmedSimulation``) and writes every
alarm transition to the SQLite journal, committed at least once per second of wall time.
"""

from __future__ import annotations

import csv
import math
import sqlite3
import sys
import time
from pathlib import Path
from typing import IO, TYPE_CHECKING

import numpy as np

from twin.alarms import AlarmedSimulation, AlarmEngine, AlarmJournal, AlarmSummary, Priority
from twin.sim.snapshot import SITE_COLUMNS

if TYPE_CHECKING:
    from twin.scenario import Scenario
    from twin.sim.engine import Simulation

SITE_NAMES = tuple(name for name, _ in SITE_COLUMNS)
# Columns whose interval value is the state at the interval's end rather than its mean.
END_OF_INTERVAL = frozenset({"time_s", "bess_soc", "thermal_stored_kwh", "tripped_racks",
                             "energy_closure_error"})
# Columns whose interval value is the largest seen in the interval.
MAX_OVER_INTERVAL = frozenset({"gpu_temp_max_c"})
ROWS_PER_FLUSH = 60


class SiteWriter:
    """Writes site rows to .csv or .parquet, flushing every ROWS_PER_FLUSH rows."""

    def __init__(self, path: Path, metadata: dict[str, str]):
        self.path = path
        self.rows: list[list[float]] = []
        self._csv_file: IO[str] | None = None
        self._parquet = None
        self.metadata = metadata
        if path.suffix.lower() == ".csv":
            self._csv_file = path.open("w", newline="", encoding="utf-8")
            for key, value in metadata.items():
                self._csv_file.write(f"# {key}: {value}\n")
            self._csv = csv.writer(self._csv_file)
            self._csv.writerow(SITE_NAMES)

    def write(self, row: list[float]) -> None:
        self.rows.append(row)
        if len(self.rows) >= ROWS_PER_FLUSH:
            self.flush()

    def flush(self) -> None:
        if not self.rows:
            return
        if self._csv_file is not None:
            self._csv.writerows([[_fmt(v) for v in row] for row in self.rows])
            self._csv_file.flush()
        else:
            import pyarrow as pa
            import pyarrow.parquet as pq

            columns = np.asarray(self.rows, dtype=np.float64).T
            table = pa.table({name: columns[i] for i, name in enumerate(SITE_NAMES)})
            if self._parquet is None:
                schema = table.schema.with_metadata(self.metadata)
                self._parquet = pq.ParquetWriter(self.path, schema)
            self._parquet.write_table(table.replace_schema_metadata(self.metadata))
        self.rows.clear()

    def close(self) -> None:
        self.flush()
        if self._csv_file is not None:
            self._csv_file.close()
        if self._parquet is not None:
            self._parquet.close()


class ComponentWriter:
    """Per-component series in long-and-wide Parquet: one row per interval and component."""

    def __init__(self, path: Path, sim: Simulation, metadata: dict[str, str]):
        import pyarrow.parquet as pq

        self._pq = pq
        self.path = path
        self.metadata = metadata
        self.sim = sim
        self._writer = None
        self._batches: list[dict[str, np.ndarray]] = []

    def write(self, time_s: float) -> None:
        self._batches.append(self.sim.component_table(time_s))
        if len(self._batches) >= ROWS_PER_FLUSH // 6:
            self.flush()

    def flush(self) -> None:
        if not self._batches:
            return
        import pyarrow as pa

        merged = {k: np.concatenate([b[k] for b in self._batches]) for k in self._batches[0]}
        table = pa.table(merged).replace_schema_metadata(self.metadata)
        if self._writer is None:
            self._writer = self._pq.ParquetWriter(self.path, table.schema)
        self._writer.write_table(table)
        self._batches.clear()

    def close(self) -> None:
        self.flush()
        if self._writer is not None:
            self._writer.close()


def _fmt(value: float) -> str:
    if isinstance(value, float) and value.is_integer() and abs(value) < 1e15:
        return str(int(value))
    return f"{value:.6g}"


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
) -> int:
    """With ``record``, also streams snapshots every ``record_every_s`` of simulated time
    (default: the output interval) to a recording folder (``twin.recording``), which keeps
    ``scenario_toml``, the scenario file's text."""
    from twin import __version__
    from twin.sim.engine import Simulation

    sim = Simulation.from_scenario(scenario, seed=seed, dt_s=dt_s)
    metadata = {
        "twin_version": __version__,
        "scenario": scenario.scenario.name,
        "seed": str(sim.seed),
        "dt_s": f"{dt_s:g}",
        "every_s": f"{dt_s * every_steps:g}",
        "start": scenario.scenario.start.isoformat(),
    }
    total_steps = math.ceil(duration_s / dt_s - 1e-9)
    try:
        site = SiteWriter(out, metadata)
    except OSError as exc:
        print(f"twin run: cannot write {out}: {exc.strerror}", file=sys.stderr)
        return 2
    alarms = None
    if journal is not None:
        try:
            alarms = AlarmEngine.from_scenario(scenario, sim.topology,
                                               journal=AlarmJournal(journal, metadata))
        except (OSError, sqlite3.Error) as exc:
            site.close()
            print(f"twin run: cannot write {journal}: {getattr(exc, 'strerror', None) or exc}",
                  file=sys.stderr)
            return 2
    recorder = None
    if record is not None:
        from twin.recording import Recorder, run_metadata

        if scenario_toml is None:
            raise ValueError("a recording needs the scenario's TOML text")
        try:
            recorder = Recorder(
                record, scenario_toml=scenario_toml,
                metadata=run_metadata(scenario_name=scenario.scenario.name, seed=sim.seed,
                                      dt_s=dt_s, start=metadata["start"],
                                      topology=sim.topology),
                every_s=record_every_s or dt_s * every_steps)
        except OSError as exc:
            site.close()
            if alarms is not None:
                alarms.close()
            print(f"twin run: cannot record to {record}: {exc.strerror or exc}",
                  file=sys.stderr)
            return 2
    stepper = sim if alarms is None else AlarmedSimulation(sim, alarms)
    comp = ComponentWriter(components, sim, metadata) if components else None
    sums = np.zeros(len(SITE_NAMES))
    peaks = np.full(len(SITE_NAMES), -np.inf)
    end_index = [SITE_NAMES.index(n) for n in END_OF_INTERVAL]
    max_index = [SITE_NAMES.index(n) for n in MAX_OVER_INTERVAL]
    pue_index, facility_index, it_index = (SITE_NAMES.index(n) for n in (
        "pue", "facility_power_kw", "it_power_kw"))
    started = time.perf_counter()
    last_report = started
    try:
        for k in range(total_steps):
            stepper.step()
            values = sim.site_values()
            sums += values
            np.maximum(peaks, values, out=peaks)
            if recorder is not None:
                recorder.observe(sim)
            if (k + 1) % every_steps == 0 or k + 1 == total_steps:
                n = (k % every_steps) + 1
                row = sums / n
                row[end_index] = values[end_index]
                row[max_index] = peaks[max_index]
                # PUE over the interval is its energies' ratio (The Green Grid), not a mean
                row[pue_index] = (row[facility_index] / row[it_index] if row[it_index] > 0
                                  else np.nan)
                site.write(row.tolist())
                if comp is not None:
                    comp.write(sim.time_s)
                sums[:] = 0.0
                peaks[:] = -np.inf
            now = time.perf_counter()
            if progress is not None and now - last_report > 2.0:
                last_report = now
                rate = sim.time_s / (now - started)
                print(f"\rtwin run: {sim.time_s / duration_s:6.1%} simulated, "
                      f"{rate:,.0f}x real time", end="", file=progress, flush=True)
    finally:
        site.close()
        if comp is not None:
            comp.close()
        if alarms is not None:
            alarms.close()
        if recorder is not None:
            recorder.close()
    elapsed = time.perf_counter() - started
    if progress is not None:
        ledger = sim.ledger()
        print(f"\rtwin run: {duration_s / 3600:,.2f} h simulated in {elapsed:,.1f} s "
              f"({duration_s / max(elapsed, 1e-9):,.0f}x real time) -> {out}", file=progress)
        print(f"  energy in {ledger['energy_in_kwh']:,.1f} kWh = rejected "
              f"{ledger['heat_rejected_kwh']:,.1f} + stored {ledger['thermal_stored_kwh']:+,.1f}"
              f" + batteries {ledger['battery_stored_kwh']:+,.1f}; closure error "
              f"{ledger['closure_error']:.2e}", file=progress)
        if alarms is not None:
            print(alarm_report(alarms.summary(), journal), file=progress)
    return 0


def alarm_report(summary: AlarmSummary, journal: Path) -> str:
    """One line for the end of a run: alarms raised by priority and what still stands."""
    raised = dict(summary.raised_by_priority)
    by_priority = ", ".join(f"{p.label} {raised.get(p, 0)}" for p in Priority)
    flood = ", in an alarm flood" if summary.flood.active else ""
    return (f"  alarms raised {sum(raised.values()):,} ({by_priority}); at the end "
            f"{summary.active:,} active, {summary.unacknowledged:,} unacknowledged{flood} "
            f"-> {journal}")
