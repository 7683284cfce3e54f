"""Throughput of twin study: runs per hour serial and on local Dask workers, the scheduler's
overhead per task, and what Dask's default MALLOC_TRIM_THRESHOLD_ costs a run.

Run: python -m benchmarks.study [--scenario seoul-ai-factory] [--duration 1d]
     [--dt 60s] [--runs 4] [--workers 2]  (from the repository root)

Each run is one `twin study` task (twin.study.task.execute): the scenario with its own
seed (a list sweep over scenario.seed), simulated and reduced to its KPIs. Workers are
warmed (twin imported, one run done) before timing, as they are after a study's first
runs. Prints medians; on a shared machine the figures move with the other load, so
compare figures taken in the same invocation.
"""

from __future__ import annotations

import argparse
import logging
import statistics
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

from twin.study.cluster import NANNY_ENVIRON, connect
from twin.study.plan import load_study
from twin.study.task import RunTask, execute


def plan_of(scenario: str, duration: str, dt: str, runs: int, folder: Path):
    seeds = ", ".join(str(100 + k) for k in range(runs))
    text = f"""
[study]
name = "benchmark"
scenario = "{scenario}"
duration_s = "{duration}"
dt_s = "{dt}"
every_s = "1h"
[sweep]
method = "list"
[[sweep.parameters]]
path = "scenario.seed"
values = [{seeds}]
"""
    folder.mkdir(exist_ok=True)
    path = folder / "benchmark.toml"
    path.write_text(text, encoding="utf-8")
    return load_study(path)


def tasks_of(plan) -> list[RunTask]:
    return [
        RunTask(spec, plan.study.study, plan.scenario_data, plan.scenario_folder, None)
        for spec in plan.runs[1:]
    ]


def serial(tasks: list[RunTask]) -> tuple[list[float], list[float]]:
    """Each run's wall and CPU time, one after another in this process."""
    execute(tasks[0])  # imports and caches, as a warm worker has them
    walls, cpus = [], []
    for task in tasks:
        result = execute(task)
        assert result.ok, result.error
        walls.append(result.wall_s)
        cpus.append(result.cpu_s)
    return walls, cpus


def _rss_mib() -> float:
    import psutil

    return psutil.Process().memory_info().rss / 2**20


def on_cluster(client, tasks: list[RunTask]) -> tuple[float, list[Any], float, float]:
    """Wall time for all tasks, their results, and the workers' largest resident memory
    after the warm-up and after all tasks, MiB."""
    workers = len(client.scheduler_info()["workers"])
    warm = client.map(execute, tasks[:workers], pure=False)  # one per worker
    client.gather(warm)
    rss_warm = max(client.run(_rss_mib).values())
    started = time.perf_counter()
    results = client.gather(client.map(execute, tasks, pure=False))
    elapsed = time.perf_counter() - started
    assert all(r.ok for r in results), [r.error for r in results if not r.ok]
    return elapsed, results, rss_warm, max(client.run(_rss_mib).values())


def _noop(k: int) -> int:
    return k


def overhead_ms(client, tasks: int = 400) -> float:
    """Scheduler round trip per task: submit and gather many tasks that do nothing."""
    client.gather(client.map(_noop, range(20), pure=False))
    started = time.perf_counter()
    client.gather(client.map(_noop, range(tasks), pure=False))
    return (time.perf_counter() - started) / tasks * 1000


def _malloc_trim_threshold() -> str | None:
    """The worker's own setting (``os.environ.get`` itself would be pickled with this
    process's environment)."""
    import os

    return os.environ.get("MALLOC_TRIM_THRESHOLD_")


def malloc_effect(tasks: list[RunTask], repeats: int) -> tuple[float, float]:
    """Median run time on one nanny-started worker with Dask's default environment, and on
    one started as twin starts them (MALLOC_TRIM_THRESHOLD_ unset): both clusters up at
    once and the runs alternated, so that the machine's other load falls on both alike."""
    import dask
    from distributed import Client, LocalCluster

    dask.config.refresh()
    assert dask.config.get(NANNY_ENVIRON)["MALLOC_TRIM_THRESHOLD_"] == 65536
    # twin's first: a nanny leaves its pre-spawn environment in this process's own, for
    # every worker started after it to inherit
    with (
        connect(workers=1) as twin,
        LocalCluster(
            n_workers=1, threads_per_worker=1, dashboard_address=":0", silence_logs=logging.CRITICAL
        ) as cluster,
        Client(cluster) as default,
    ):
        clients = (default, twin)
        found = [next(iter(c.run(_malloc_trim_threshold).values())) for c in clients]
        assert found == ["65536", None], found
        for client in clients:
            client.gather(client.submit(execute, tasks[0], pure=False))  # warm
        walls: tuple[list[float], list[float]] = ([], [])
        for k in range(repeats):
            for which, client in enumerate(clients):
                result = client.gather(client.submit(execute, tasks[k % len(tasks)], pure=False))
                walls[which].append(result.wall_s)
    return statistics.median(walls[0]), statistics.median(walls[1])


def _at_least_one(text: str) -> int:
    """A count of 1 or more (a median needs one figure)."""
    try:
        count = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not a whole number") from None
    if count < 1:
        raise argparse.ArgumentTypeError(f"{count} is below 1; give 1 or more")
    return count


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--scenario", default="seoul-ai-factory")
    parser.add_argument("--duration", default="1d")
    parser.add_argument("--dt", default="60s")
    parser.add_argument("--runs", type=_at_least_one, default=4)
    parser.add_argument("--workers", type=_at_least_one, default=2)
    parser.add_argument("--malloc-repeats", type=_at_least_one, default=5)
    parser.add_argument(
        "--malloc-duration",
        default="6h",
        help="simulated time of the runs that compare worker environments",
    )
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as folder:
        plan = plan_of(args.scenario, args.duration, args.dt, args.runs, Path(folder))
        tasks = tasks_of(plan)
        print(f"{args.scenario}, {args.duration} at dt {args.dt}, {len(tasks)} runs each")
        walls, cpus = serial(tasks)
        serial_rate = 3600 / statistics.median(walls)
        print(
            f"  serial (in this process): median {statistics.median(walls):.2f} s per run "
            f"({statistics.median(cpus):.2f} s of CPU), {serial_rate:,.0f} runs/h"
        )
        with connect(workers=args.workers) as client:
            elapsed, results, rss_warm, rss_end = on_cluster(client, tasks)
            per_task = overhead_ms(client)
        rate = len(tasks) / elapsed * 3600
        efficiency = rate / (args.workers * serial_rate)
        print(
            f"  {args.workers} local workers: {elapsed:.1f} s for {len(tasks)} runs, "
            f"{rate:,.0f} runs/h, median {statistics.median(r.wall_s for r in results):.2f} s "
            f"per run inside a worker ({statistics.median(r.cpu_s for r in results):.2f} s "
            f"of CPU); scaling efficiency {efficiency:.0%} of {args.workers}x serial"
        )
        print(
            f"  worker memory: {rss_warm:,.0f} MiB after the warm-up run, {rss_end:,.0f} MiB "
            f"after {len(tasks)} more (largest worker)"
        )
        print(
            f"  scheduler overhead: {per_task:.2f} ms per task (no-op tasks, "
            f"{args.workers} workers)"
        )
        short = tasks_of(
            plan_of(args.scenario, args.malloc_duration, args.dt, 2, Path(folder) / "short")
        )
        default_s, twin_s = malloc_effect(short, args.malloc_repeats)
        print(
            f"  one nanny worker, Dask's MALLOC_TRIM_THRESHOLD_=65536: median "
            f"{default_s:.2f} s per run; unset (twin's default): {twin_s:.2f} s "
            f"({default_s / twin_s:.2f}x), {args.malloc_duration} runs alternated"
        )
    return 0


if __name__ == "__main__":
    sys.exit(main())
