"""One study run as a Dask task: build the run's scenario, simulate it, return its row.

Runs on a worker; needs only what the task carries (the base scenario's parsed TOML, not
its file), so a worker on another machine needs twin installed and, for a scenario with
an hourly weather CSV, that file at the same path.
"""

from __future__ import annotations

import os
import socket
import tempfile
import time
import traceback
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from twin.paths import cache_dir
from twin.sim import coolant
from twin.study.failures import draw
from twin.study.kpis import run_kpis
from twin.study.plan import RunSpec, scenario_for
from twin.study.schema import MonteCarlo, StudyInfo
from twin.study.simulate import simulate


@dataclass(frozen=True, slots=True)
class RunTask:
    spec: RunSpec
    info: StudyInfo
    scenario_data: dict[str, Any]
    scenario_folder: str
    monte_carlo: MonteCarlo | None


@dataclass(frozen=True, slots=True)
class RunResult:
    spec: RunSpec
    ok: bool
    error: str  # "" when ok
    kpis: dict[str, float]
    failures: dict[str, int]
    downtime_h: dict[str, float]
    unit_hours: dict[str, float]
    wall_s: float
    cpu_s: float  # the worker process's CPU time for the run (what a core-hour bills)
    host: str
    site_table: bytes | None  # the whole Parquet site table, when the study keeps tables


def execute(task: RunTask) -> RunResult:
    """Run one task; an error in the run is returned, not raised, so that the study goes
    on and the results name the run's seed and what went wrong."""
    started, cpu_started = time.perf_counter(), time.process_time()
    host = f"{socket.gethostname()}:{os.getpid()}"
    failures: dict[str, int] = {}
    downtime: dict[str, float] = {}
    unit_hours: dict[str, float] = {}
    try:
        info, spec = task.info, task.spec
        events = None
        if task.monte_carlo is not None and spec.replica_seed is not None:
            base = scenario_for(task.scenario_data, spec.overrides, task.scenario_folder)
            drawn = draw(
                base, task.monte_carlo, info.duration_s, np.random.default_rng(spec.replica_seed)
            )
            events, failures = drawn.events, drawn.failures
            downtime, unit_hours = drawn.downtime_h, drawn.unit_hours
        scenario = scenario_for(
            task.scenario_data,
            spec.overrides,
            task.scenario_folder,
            source=spec.run_id,
            events=events,
        )
        with (
            tempfile.TemporaryDirectory(prefix="twin-study-") as folder,
            coolant.tables_cached_in(cache_dir() / "coolant"),  # as the command line: no CoolProp
        ):
            files = simulate(
                scenario,
                duration_s=info.duration_s,
                dt_s=info.dt_s,
                every_s=info.every_s,
                seed=spec.seed,
                folder=Path(folder),
            )
            kpis = run_kpis(files.site_table, files.journal)
            table = files.site_table.read_bytes() if info.keep_tables else None
    except Exception as exc:  # the study goes on; the row says what happened
        text = " ".join(str(exc).split()) or type(exc).__name__  # one line
        where = traceback.extract_tb(exc.__traceback__)[-1] if exc.__traceback__ else None
        place = f" ({Path(where.filename).name}:{where.lineno})" if where else ""
        return RunResult(
            task.spec,
            False,
            f"{type(exc).__name__}: {text}{place}",
            {},
            failures,
            downtime,
            unit_hours,
            time.perf_counter() - started,
            time.process_time() - cpu_started,
            host,
            None,
        )
    return RunResult(
        spec,
        True,
        "",
        kpis,
        failures,
        downtime,
        unit_hours,
        time.perf_counter() - started,
        time.process_time() - cpu_started,
        host,
        table,
    )
