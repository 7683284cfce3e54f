"""Run a study's runs on a Dask client and store each as it finishes.

The reference run goes first, alone: its tokens are what every other run's tokens lost
are counted against, and its wall time calibrates the study's cost (refused before any
other run starts when it exceeds ``study.budget_core_h``). The other runs then go out with
a bounded number in flight, each a whole simulation as one task. A worker lost mid-run
has its task rerun elsewhere by the scheduler (up to Dask's
``distributed.scheduler.allowed-failures``, 3 by default, after which the run is recorded
as failed); a run that raises is recorded as failed with its seed and error, and the study
goes on. Ctrl+C cancels what is in flight and keeps every run already stored.
"""

from __future__ import annotations

import math
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import IO, Any

from twin.study.plan import REFERENCE_ID, RunSpec, StudyPlan
from twin.study.results import ResultsStore
from twin.study.task import RunResult, RunTask, execute

IN_FLIGHT_PER_WORKER = 4  # enough to keep workers busy, few enough to stop quickly
TASK_RETRIES = 2  # reruns of a task that raised outside the run itself (not a worker loss)
BAR_WIDTH = 20
WAIT_S = 10.0  # progress and the workers' count are looked at least this often


class BudgetExceeded(Exception):
    """The calibration says the study needs more than ``budget_core_h``."""


class ReferenceFailed(Exception):
    """The reference run failed: nothing can be counted against it."""


class StudyStalled(TimeoutError):
    """No run finished within the ``stall_s`` given to ``run_study``."""


@dataclass
class Progress:
    total: int
    done: int = 0  # finished in this session, failed ones included
    failed: int = 0
    skipped: int = 0  # finished before (--resume)
    started: float = field(default_factory=time.perf_counter)
    failures: list[str] = field(default_factory=list)  # "run id (seed N): error"

    def line(self) -> str:
        elapsed = time.perf_counter() - self.started
        left = self.total - self.skipped - self.done
        rate = self.done / elapsed if elapsed > 0 and self.done else math.nan
        eta = _duration(left / rate) if math.isfinite(rate) and rate > 0 else "?"
        finished = (self.skipped + self.done) / self.total if self.total else 1.0
        bar = "#" * round(finished * BAR_WIDTH)
        return (
            f"twin study: [{bar:.<{BAR_WIDTH}}] "
            f"{self.skipped + self.done:,}/{self.total:,} runs, "
            f"{self.failed:,} failed, {rate * 60 if math.isfinite(rate) else 0:,.1f} "
            f"runs/min, ETA {eta}"
        )


def _duration(seconds: float) -> str:
    if seconds < 90:
        return f"{seconds:.0f} s"
    if seconds < 5400:
        return f"{seconds / 60:.0f} min"
    return f"{seconds / 3600:.1f} h"


def run_study(
    plan: StudyPlan,
    out: Path,
    client: Any,
    *,
    resume: bool = False,
    progress: IO[str] | None = None,
    on_result: Callable[[dict[str, Any]], None] | None = None,
    stall_s: float | None = None,
) -> Progress:
    """Run every run of ``plan`` not yet finished in ``out`` on ``client``; returns the
    tally. Raises ``ResultsError``, ``ReferenceFailed``, ``BudgetExceeded``,
    ``KeyboardInterrupt`` or, when no run finishes for ``stall_s`` seconds,
    ``StudyStalled`` (what finished is stored). ``stall_s`` None waits for ever, as a
    study on a batch queue must for workers that have not started yet."""
    store = ResultsStore(out, plan, resume=resume)
    tally = Progress(total=len(plan.runs))
    pending = [r for r in plan.runs if r.run_id not in store.finished]
    tally.skipped = len(plan.runs) - len(pending)
    last_print = 0.0
    stalled_after = math.inf if stall_s is None else stall_s
    waiting_since = time.monotonic()  # the last run's end: stall_s counts from there

    def record(result: RunResult) -> None:
        nonlocal last_print, waiting_since
        waiting_since = time.monotonic()
        row = store.write(result, store.reference_tokens())
        tally.done += 1
        if not result.ok:
            tally.failed += 1
            tally.failures.append(
                f"{result.spec.run_id} (seed {result.spec.seed}"
                + (
                    f", replica seed {result.spec.replica_seed}"
                    if result.spec.replica_seed is not None
                    else ""
                )
                + f"): {result.error}"
            )
            if progress is not None:
                print(f"\rtwin study: {tally.failures[-1]}", file=progress)
        if on_result is not None:
            on_result(row)
        now = time.perf_counter()
        if progress is not None and (now - last_print > 1.0 or not pending_ids):
            last_print = now
            print(f"\r{tally.line()}", end="", file=progress, flush=True)

    def idle(workers: int) -> None:
        waited = time.monotonic() - waiting_since
        if waited > stalled_after:
            raise StudyStalled(
                f"no run finished in {waited:.0f} s ({workers} workers, "
                f"{tally.done} runs done); the study stopped there"
            )
        if progress is None:
            return
        if workers == 0:
            print(
                "\rtwin study: the scheduler has no workers (lost, or not started yet); "
                "waiting for some. Ctrl+C stops and keeps every run stored; --resume goes "
                "on later",
                file=progress,
                flush=True,
            )
        else:
            print(f"\r{tally.line()}", end="", file=progress, flush=True)

    pending_ids = {r.run_id for r in pending}
    try:
        _run_pending(client, plan, pending, pending_ids, record, idle)
    except BaseException:
        if progress is not None:
            print(file=progress)  # what follows starts on a line of its own
        raise
    if progress is not None:
        print(f"\r{tally.line()}", file=progress)
    return tally


def _run_pending(
    client: Any,
    plan: StudyPlan,
    pending: list[RunSpec],
    pending_ids: set[str],
    record: Callable[[RunResult], None],
    idle: Callable[[int], None],
) -> None:
    if pending and pending[0].run_id == REFERENCE_ID:
        reference = pending.pop(0)
        pending_ids.discard(REFERENCE_ID)
        result = _gather_one(client, _task(plan, reference), idle)
        record(result)
        if not result.ok:
            raise ReferenceFailed(
                f"the reference run (the base scenario, seed "
                f"{reference.seed}) failed: {result.error}"
            )
        _check_budget(plan, result.wall_s, len(pending))
    if pending:
        _run_all(client, plan, pending, pending_ids, record, idle)


def _task(plan: StudyPlan, spec: RunSpec) -> RunTask:
    return RunTask(
        spec, plan.study.study, plan.scenario_data, plan.scenario_folder, plan.study.monte_carlo
    )


def _gather_one(client: Any, task: RunTask, idle: Callable[[int], None]) -> RunResult:
    future = client.submit(execute, task, key=_key(task), pure=False, retries=TASK_RETRIES)
    try:
        _first_done(client, {future}, idle)
        return _result_of(future, task)
    except BaseException:
        future.cancel()
        raise


def _key(task: RunTask) -> str:
    return f"twin-run-{task.spec.run_id}-{time.monotonic_ns()}"


def _result_of(future: Any, task: RunTask) -> RunResult:
    from distributed import KilledWorker

    try:
        return future.result()
    except KilledWorker as exc:
        error = (
            f"KilledWorker: the workers running it died {exc.args[-1] if exc.args else ''}"
            " time after time (out of memory?)"
        )
    except Exception as exc:
        error = f"{type(exc).__name__}: {exc}"
    return RunResult(task.spec, False, error, {}, {}, {}, {}, math.nan, math.nan, "", None)


def _check_budget(plan: StudyPlan, reference_wall_s: float, runs_left: int) -> None:
    budget = plan.study.study.budget_core_h
    if budget is None:
        return
    need = estimate_core_h(reference_wall_s, runs_left)
    if need > budget:
        raise BudgetExceeded(
            f"the study needs about {need:,.2f} core-hours ({runs_left:,} runs at "
            f"{reference_wall_s:,.1f} s each, as the reference run took), more than its "
            f"budget_core_h of {budget:g}; raise the budget, shorten the runs or run fewer"
        )


def estimate_core_h(seconds_per_run: float, runs: int) -> float:
    """Core-hours for ``runs`` runs of ``seconds_per_run`` each, one core per run."""
    return seconds_per_run * runs / 3600.0


def _run_all(
    client: Any,
    plan: StudyPlan,
    pending: list[RunSpec],
    pending_ids: set[str],
    record: Callable[[RunResult], None],
    idle: Callable[[int], None],
) -> None:
    workers = max(len(client.scheduler_info(n_workers=-1).get("workers", {})), 1)
    limit = IN_FLIGHT_PER_WORKER * workers
    queue = iter(pending)
    tasks: dict[str, RunTask] = {}
    flight: set[Any] = set()

    def submit_next() -> None:
        spec = next(queue, None)
        if spec is not None:
            task = _task(plan, spec)
            future = client.submit(execute, task, key=_key(task), pure=False, retries=TASK_RETRIES)
            tasks[future.key] = task
            flight.add(future)

    for _ in range(limit):
        submit_next()
    try:
        while flight:
            for future in _first_done(client, flight, idle):
                flight.discard(future)
                task = tasks.pop(future.key)
                result = _result_of(future, task)
                pending_ids.discard(task.spec.run_id)
                record(result)
                submit_next()
    except BaseException:
        for future in flight:
            future.cancel()
        raise


def _first_done(client: Any, futures: set[Any], idle: Callable[[int], None]) -> set[Any]:
    """The futures done, waiting for at least one; every ``WAIT_S`` without one, ``idle``
    is told how many workers the scheduler has (none: the study waits for some)."""
    from distributed import wait

    while True:
        try:
            done, _ = wait(list(futures), timeout=WAIT_S, return_when="FIRST_COMPLETED")
        except TimeoutError:
            idle(len(client.scheduler_info(n_workers=-1).get("workers", {})))
            continue
        return set(done)
