"""Recordings: a run's snapshots streamed to disk while it runs, for replay and comparison.

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
"""

from __future__ import annotations

import json
import os
import time
from dataclasses import fields
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import numpy as np

from twin.sim.snapshot import Snapshot

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

    Call ``observe(sim)`` after each step (it takes a snapshot only when one is due, every
    ``every_s`` of simulated time), or ``record(snapshot)`` to add one yourself; ``close()``
    flushes what is left and marks the recording complete.
    """

    def __init__(self, path: Path, *, scenario_toml: str, metadata: dict[str, str],
                 every_s: float, flush_every_s: float = DEFAULT_FLUSH_EVERY_S,
                 robots: bool = True) -> None:
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
            "metadata": {**metadata, "every_s": f"{self.every_s:g}",
                         "recorded_at": datetime.now(UTC).isoformat(timespec="seconds"),
                         "robots": str(robots).lower()},
            "scenario_toml": scenario_toml,
            "parts": self._parts,
            "closed": False,
        }
        (path / SCENARIO_FILE).write_text(scenario_toml, encoding="utf-8")
        self._write_manifest()

    def observe(self, sim: Any) -> None:
        """Record ``sim``'s snapshot if a row is due at its current time."""
        if sim.time_s + 1e-9 >= self._next_due_s:
            self.record(sim.snapshot(robots=self.robots))
            # skip ahead rather than catch up when a step is longer than every_s
            missed = np.floor((sim.time_s + 1e-9 - self._next_due_s) / self.every_s)
            self._next_due_s += (missed + 1) * self.every_s

    def record(self, snap: Snapshot) -> None:
        self._rows.append(snapshot_row(snap, robots=self.robots))
        span_s = self._rows[-1]["time_s"] - self._rows[0]["time_s"] + self.every_s
        if (span_s >= self.flush_every_s
                and time.monotonic() - self._last_flush_wall >= MIN_FLUSH_WALL_S):
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
        self._parts.append({"file": name, "rows": len(self._rows),
                            "first_s": self._rows[0]["time_s"],
                            "last_s": self._rows[-1]["time_s"]})
        self._rows.clear()
        self._last_flush_wall = time.monotonic()
        self._write_manifest()

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
    shapes: dict[str, list[int]] = {}
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


def run_metadata(*, scenario_name: str, seed: int, dt_s: float, start: str,
                 topology: Any) -> dict[str, str]:
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
