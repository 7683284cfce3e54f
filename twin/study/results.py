"""A study's results folder: one Parquet part per finished run, readable at any moment.

Layout of ``RESULTS/``:

- ``study.json``: the study and base scenario texts, their fingerprint, twin's version;
  a resumed study must have the same fingerprint.
- ``runs/run-<id>.parquet``: one row per run (``run-reference.parquet`` first), written
  under the hidden name ``.run-<id>.parquet.partial``, flushed to disk (fsync) and only
  then renamed: a part under its final name is complete, so pyarrow, pandas, Polars and
  DuckDB read the folder as one table while the study runs and after a crash (they skip
  names starting with a dot).
- ``tables/<id>.parquet``: each run's whole site table, when the study keeps tables.
"""

from __future__ import annotations

import contextlib
import json
import math
import os
import re
from pathlib import Path
from typing import Any

from twin import inputs
from twin.study.failures import COMPONENT_CLASSES
from twin.study.kpis import KPI_COLUMNS
from twin.study.plan import MANIFEST_MAX_BYTES, REFERENCE_ID, StudyPlan
from twin.study.task import RunResult

MANIFEST = "study.json"
RUNS = "runs"
TABLES = "tables"
PARTIAL_SUFFIX = ".partial"
_PART = re.compile(r"^run-([A-Za-z0-9_-]+)\.parquet$")
_LEFTOVER = re.compile(r"^\.(run-[A-Za-z0-9_-]+|[A-Za-z0-9_-]+)\.parquet\.partial$")


class ResultsError(Exception):
    """A results folder that cannot be used; the message says why and what to do."""


def parameter_column(path: str) -> str:
    return f"param.{path}"


def schema_of(plan: StudyPlan) -> Any:
    """The columns every part of this study holds, in order."""
    import pyarrow as pa

    fields = [
        pa.field("run_id", pa.string()),
        pa.field("index", pa.int64()),
        pa.field("status", pa.string()),
        pa.field("error", pa.string()),
        pa.field("seed", pa.int64()),
        pa.field("replica_seed", pa.int64()),
    ]
    if plan.study.sweep is not None:
        for p in plan.study.sweep.parameters:
            sample = p.values[0] if p.values is not None else p.low
            kind = (
                pa.bool_()
                if isinstance(sample, bool)
                else pa.string()
                if isinstance(sample, str)
                else pa.float64()
            )
            fields.append(pa.field(parameter_column(p.path), kind))
    for component in (c for c in COMPONENT_CLASSES if c in plan.components):
        fields += [
            pa.field(f"failures.{component}", pa.int64()),
            pa.field(f"downtime_h.{component}", pa.float64()),
            pa.field(f"unit_hours.{component}", pa.float64()),
        ]
    fields += [pa.field(name, pa.float64()) for name in KPI_COLUMNS]
    fields += [
        pa.field("wall_s", pa.float64()),
        pa.field("cpu_s", pa.float64()),
        pa.field("host", pa.string()),
    ]
    return pa.schema(
        fields, metadata={"twin_study": plan.study.study.name, "fingerprint": plan.fingerprint}
    )


class ResultsStore:
    """Where a study's runs land; ``finished`` holds the ids whose part says ok."""

    def __init__(self, folder: Path, plan: StudyPlan, *, resume: bool) -> None:
        self.folder = folder
        self.runs = folder / RUNS
        self.tables = folder / TABLES
        self.plan = plan
        self.schema = schema_of(plan)
        self.finished: dict[str, dict[str, Any]] = {}  # run id -> its row, ok runs only
        manifest = folder / MANIFEST
        if folder.exists() and not folder.is_dir():
            raise ResultsError(f"{folder} is a file; --out takes a folder")
        if manifest.exists():
            if not resume:
                raise ResultsError(
                    f"{folder} already holds a study's results; add --resume "
                    "to finish it, or choose a new folder"
                )
            self._check_same_study(manifest)
            self._read_finished()
        elif folder.exists() and any(folder.iterdir()):
            raise ResultsError(
                f"{folder} holds files that are not a study's results; choose a new or empty folder"
            )
        else:
            try:
                self.runs.mkdir(parents=True, exist_ok=True)
                _write_atomic(manifest, json.dumps(self._manifest(), indent=1).encode())
            except OSError as exc:
                raise ResultsError(f"cannot write {folder}: {exc.strerror or exc}") from None
        if plan.study.study.keep_tables:
            self.tables.mkdir(exist_ok=True)

    def _manifest(self) -> dict[str, Any]:
        from twin import __version__

        return {
            "twin_version": __version__,
            "study": self.plan.study.study.name,
            "fingerprint": self.plan.fingerprint,
            "runs": len(self.plan.runs),
            "study_toml": self.plan.study_text,
            "scenario_toml": self.plan.scenario_text,
            "scenario_folder": self.plan.scenario_folder,
        }

    def _check_same_study(self, manifest: Path) -> None:
        try:
            found = inputs.parse_json(inputs.read_text(manifest, MANIFEST_MAX_BYTES))
            fingerprint = found["fingerprint"]
        except (inputs.InputFileError, KeyError, TypeError):
            raise ResultsError(
                f"{manifest} cannot be read; this is not a study's results folder twin can resume"
            ) from None
        if fingerprint != self.plan.fingerprint:
            raise ResultsError(
                f"{self.folder} holds the results of another study (or of this "
                "study file or its scenario before they changed); resume only "
                "the study that made it, or choose a new folder"
            )

    def _read_finished(self) -> None:
        import pyarrow.parquet as pq

        self.runs.mkdir(exist_ok=True)
        for item in self.runs.iterdir():
            if _LEFTOVER.match(item.name) and item.is_file():
                item.unlink()  # a part whose writing was cut off: its run runs again
                continue
            match = _PART.match(item.name)
            if not match:
                continue
            try:
                row = pq.read_table(item).to_pylist()[0]
            except Exception:
                continue
            if row.get("status") == "ok":
                self.finished[row["run_id"]] = row

    def reference_tokens(self) -> float:
        row = self.finished.get(REFERENCE_ID)
        return row["tokens"] if row else math.nan

    def write(self, result: RunResult, reference_tokens: float) -> dict[str, Any]:
        """Store one run's row (and its site table), crash-safely; returns the row."""
        import pyarrow as pa
        import pyarrow.parquet as pq

        spec = result.spec
        row: dict[str, Any] = {name: None for name in self.schema.names}
        row.update(
            run_id=spec.run_id,
            index=spec.index,
            status="ok" if result.ok else "failed",
            error=result.error,
            seed=spec.seed,
            replica_seed=spec.replica_seed,
            wall_s=result.wall_s,
            cpu_s=result.cpu_s,
            host=result.host,
        )
        for path, value in spec.overrides:
            row[parameter_column(path)] = (
                float(value) if isinstance(value, int) and not isinstance(value, bool) else value
            )
        for component in result.failures:
            row[f"failures.{component}"] = result.failures[component]
            row[f"downtime_h.{component}"] = result.downtime_h[component]
            row[f"unit_hours.{component}"] = result.unit_hours[component]
        if result.ok:
            row.update(result.kpis)
            tokens = result.kpis["tokens"]
            if spec.run_id == REFERENCE_ID:
                reference_tokens = tokens
            row["tokens_lost"] = reference_tokens - tokens
            row["output_availability"] = (
                tokens / reference_tokens if reference_tokens > 0 else math.nan
            )
        table = pa.Table.from_pylist([row], schema=self.schema)
        if result.site_table is not None:
            _write_atomic(self.tables / f"{spec.run_id}.parquet", result.site_table)
        sink = pa.BufferOutputStream()
        pq.write_table(table, sink, compression="zstd")
        _write_atomic(self.runs / f"run-{spec.run_id}.parquet", sink.getvalue().to_pybytes())
        if result.ok:
            self.finished[spec.run_id] = row
        return row


def _write_atomic(path: Path, data: bytes) -> None:
    """``data`` under ``path`` whole or not at all: written to ``.NAME.partial``, flushed
    to disk, renamed (and the rename flushed, on POSIX)."""
    partial = path.with_name(f".{path.name}{PARTIAL_SUFFIX}")
    try:
        with open(partial, "wb") as file:
            file.write(data)
            file.flush()
            os.fsync(file.fileno())
        os.replace(partial, path)
    except BaseException:
        with contextlib.suppress(OSError):
            partial.unlink()
        raise
    if os.name == "posix":
        fd = os.open(path.parent, os.O_RDONLY)
        try:
            os.fsync(fd)
        finally:
            os.close(fd)


def read_results(folder: Path) -> Any:
    """Every finished part of a results folder as one Arrow table (while the study runs
    too); a damaged part is skipped."""
    import pyarrow as pa
    import pyarrow.parquet as pq

    tables = []
    for item in sorted((folder / RUNS).glob("run-*.parquet")):
        with contextlib.suppress(Exception):
            tables.append(pq.read_table(item))
    if not tables:
        raise ResultsError(f"{folder} holds no finished runs")
    return pa.concat_tables(tables, promote_options="default")
