"""Same answers at any step: the step-size matrix of the README's guarantee.

For each built-in scenario, month (a week from the first of January, April, July and
October by default) and fault (none, the scenario's own events, a CDU loss, a utility
outage, a heatwave), runs dt = 1 s and the coarser steps and prints, per case and dt,
the worst hourly-mean error of IT, facility and cooling power and PUE against dt = 1 s,
windows that throttle or trip where dt = 1 s does not, the first trip's offset, the
hottest GPU's excess over its trip limit, and the verdict (see twin/sim/step_check.py).

Run: .venv/bin/python benchmarks/step_matrix.py [--jobs N] [--scenarios a,b]
         [--months 1,4] [--faults none,heatwave] [--dts 10,60,300] [--days 7]
         [--results FOLDER [--stored-only]]
The full gigawatt week at dt = 1 s takes about a quarter of an hour a case on one core;
the faults of a scenario's month share the run up to the fault's time (each branches
from a copy of it, which gives the run of its own scenario bit for bit), and the months
and steps run in parallel processes (--jobs). With --results, each run is written to the
folder as it finishes (one JSON file per case and dt, with the twin version and a digest
of the golden outputs, scenarios and cases, ``behaviour_digest``) and runs already there
with the same digest are not run again (the dt = 1 s references are keyed by the fine
golden run alone, so a change to the coarse steps alone reruns the coarse steps): the
whole matrix (about ten CPU hours) can be built up over several sittings, and an
interrupted one loses only the runs in progress; ``--stored-only`` prints the table of the
cases stored whole so far and runs nothing. Exit status 1 when a case fails, 3 when
``--stored-only`` found part of the matrix missing and nothing failing.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import os
import pickle
import sys
from concurrent.futures import ProcessPoolExecutor, as_completed
from pathlib import Path

import numpy as np

import twin
from twin.scenario import builtin_scenarios
from twin.sim import step_check
from twin.sim.engine import REFINE_STEP_RANGE_S
from twin.sim.step_check import FAULTS, MEANS, Case, Result, compare, run_branches

REPO = Path(__file__).resolve().parent.parent

SCENARIOS = ("single-rack", "seoul-ai-factory", "gigawatt")
MONTHS = (1, 4, 7, 10)
DTS = (10.0, 60.0, 300.0)
PLAIN_STEP_S = REFINE_STEP_RANGE_S[0]
FINE_GOLDEN, COARSE_GOLDEN = "dt5s", "dt300s"  # the golden runs' folders (tests/golden/*/)


def _run(job: tuple[tuple[Case, ...], float, Path | None, str]):
    """One family of cases at one dt; with a results folder, each case's run is kept there
    as soon as it is made, so a job stopped part way keeps the faults it finished."""
    cases, dt, folder, digest = job

    def keep(case: Case, result: Result) -> None:
        if folder is not None:
            save_result(result_path(folder, case, dt), case, result, digest)
            print(f"  {case.name} dt {dt:g} s: {result.wall_s:,.0f} s", flush=True)

    return dt, run_branches(list(cases), dt, keep)


def _job_cost(job) -> float:
    cases, dt = job[0], job[1]
    return sum(c.duration_s for c in cases) / dt * (20 if cases[0].scenario == "gigawatt" else 1)


def behaviour_digest(dt: float) -> str:
    """SHA-256 of what fixes a stored run's figures at ``dt``: the golden outputs the
    engine is held to bit for bit (tests/sim/test_golden.py: every built-in scenario
    through every kind of event), the built-in scenario files and the case definitions
    (twin/sim/step_check.py). A change that leaves every output unchanged (a faster
    engine) keeps the stored runs; a change of physics regenerates the goldens and so runs
    the matrix again.

    A step at or below ``PLAIN_STEP_S`` is always the engine's plain step (every
    scenario's refined sub-step, ``Simulation.refine_step_s``, is at least that long), and
    the fine golden run (dt = 5 s, also plain for the built-in scenarios) pins it; so the
    dt = 1 s references are keyed by the fine goldens alone, and a change to how coarse
    steps are refined or split, which regenerates only the coarse goldens, keeps them."""
    golden = REPO / "tests" / "golden"
    paths = [p for p in sorted(golden.rglob("*")) if p.is_file()]
    if dt <= PLAIN_STEP_S:
        paths = [p for p in paths if p.parent == golden or p.parent.name == FINE_GOLDEN]
    if not any(p.parent.name in (FINE_GOLDEN, COARSE_GOLDEN) for p in paths):
        raise SystemExit(f"no golden outputs under {golden}: the stored runs cannot be keyed")
    paths += [Path(builtin_scenarios()[name]) for name in sorted(builtin_scenarios())]
    paths.append(Path(step_check.__file__))
    digest = hashlib.sha256()
    for path in paths:
        digest.update(path.name.encode())
        digest.update(path.read_bytes())
    return digest.hexdigest()


def result_path(folder: Path, case: Case, dt: float) -> Path:
    name = f"{case.scenario}-m{case.month:02d}-{case.fault}-{case.duration_s:g}s-dt{dt:g}.json"
    return folder / name


def save_result(path: Path, case: Case, result: Result, digest: str) -> None:
    record = {
        "twin_version": twin.__version__,
        "behaviour_sha256": digest,
        "case": {
            "scenario": case.scenario,
            "month": case.month,
            "fault": case.fault,
            "duration_s": case.duration_s,
            "fault_at_s": case.fault_at_s,
        },
        "dt_s": result.dt_s,
        "means": {name: values.tolist() for name, values in result.means.items()},
        "throttled_windows": result.throttled_windows.tolist(),
        "tripped_windows": result.tripped_windows.tolist(),
        "first_trip_s": result.first_trip_s,
        "gpu_over_trip_k": result.gpu_over_trip_k,
        "closure_error": result.closure_error,
        "wall_s": result.wall_s,
    }
    hidden = path.with_name(f".{path.name}.tmp")
    hidden.write_text(json.dumps(record), encoding="utf-8")
    os.replace(hidden, path)  # a run killed while writing leaves no half file


def load_result(path: Path, digest: str) -> Result | None:
    """The stored run, or None when it is missing, unreadable or made by other sources."""
    try:
        record = json.loads(path.read_text(encoding="utf-8"))
        if record.get("behaviour_sha256") != digest:
            return None
        return Result(
            float(record["dt_s"]),
            {name: np.asarray(v, dtype=float) for name, v in record["means"].items()},
            np.asarray(record["throttled_windows"], dtype=bool),
            np.asarray(record["tripped_windows"], dtype=bool),
            record["first_trip_s"],
            float(record["gpu_over_trip_k"]),
            float(record["closure_error"]),
            float(record["wall_s"]),
        )
    except (OSError, ValueError, KeyError, TypeError):
        return None


def _names(text: str, allowed: tuple[str, ...], what: str) -> list[str]:
    names = [n for n in text.split(",") if n]
    unknown = [n for n in names if n not in allowed]
    if unknown:
        raise argparse.ArgumentTypeError(
            f"unknown {what} {', '.join(unknown)}; choose from {', '.join(allowed)}"
        )
    return names


def _numbers(text: str, kind, what: str, low: float, high: float) -> list:
    try:
        values = [kind(n) for n in text.split(",") if n]
    except ValueError:
        raise argparse.ArgumentTypeError(
            f"{what} must be numbers separated by commas, not {text!r}"
        ) from None
    if not values or any(not low <= v <= high for v in values):
        raise argparse.ArgumentTypeError(f"{what} must lie in {low:g} .. {high:g}")
    return values


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "--jobs",
        type=int,
        default=os.cpu_count() or 1,
        help="parallel processes (default: one per core)",
    )
    parser.add_argument(
        "--scenarios", type=lambda t: _names(t, SCENARIOS, "scenario"), default=list(SCENARIOS)
    )
    parser.add_argument(
        "--months", type=lambda t: _numbers(t, int, "months", 1, 12), default=list(MONTHS)
    )
    parser.add_argument("--faults", type=lambda t: _names(t, FAULTS, "fault"), default=list(FAULTS))
    parser.add_argument(
        "--dts",
        type=lambda t: _numbers(t, float, "steps", 0.1, 300),
        default=list(DTS),
        help="steps compared with dt = 1 s, seconds",
    )
    parser.add_argument(
        "--days",
        type=lambda t: _numbers(t, float, "days", 0.125, 14)[0],
        default=7.0,
        help="simulated days a case (default 7)",
    )
    parser.add_argument(
        "--save",
        type=Path,
        default=None,
        help="also write every run's window means to this pickle file",
    )
    parser.add_argument(
        "--results",
        type=Path,
        default=None,
        metavar="FOLDER",
        help="keep each run here as it finishes and reuse the runs found (same golden "
        "outputs, scenarios and cases)",
    )
    parser.add_argument(
        "--stored-only",
        action="store_true",
        help="with --results: run nothing, print the cases whose runs are all stored and "
        "count those still to run",
    )
    args = parser.parse_args(argv)
    if args.jobs < 1:
        parser.error("--jobs must be at least 1")
    if args.stored_only and args.results is None:
        parser.error("--stored-only reads the runs kept by --results FOLDER: name the folder")
    if args.results is not None:
        try:
            args.results.mkdir(parents=True, exist_ok=True)
        except OSError as exc:
            parser.error(f"--results {args.results}: {exc.strerror or exc}")
    duration = args.days * 86400.0
    fault_at = max(0.5 * duration, 3600.0 + 600.0)
    cases = [
        Case(s, m, f, duration, fault_at)
        for s in args.scenarios
        for m in args.months
        for f in args.faults
    ]
    work = [(c, dt) for c in cases for dt in [1.0, *args.dts]]
    results: dict[tuple[Case, float], Result] = {}
    digests = {
        dt: behaviour_digest(dt) if args.results is not None else "" for dt in [1.0, *args.dts]
    }
    if args.results is not None:
        for case, dt in work:
            stored = load_result(result_path(args.results, case, dt), digests[dt])
            if stored is not None:
                results[case, dt] = stored
        if results:
            print(f"{len(results)} of {len(work)} run(s) read from {args.results}", flush=True)
    if args.stored_only:
        missing = [c for c in cases if any((c, dt) not in results for dt in [1.0, *args.dts])]
        print(f"{len(cases) - len(missing)} of {len(cases)} case(s) stored whole", flush=True)
        for case in missing:
            print(f"  to run: {case.name}", flush=True)
        cases = [c for c in cases if c not in missing]
    # a scenario's month at one dt is one job: the time before the fault is run once and
    # each fault branches from it (step_check.run_branches)
    families: dict[tuple[str, int, float], list[Case]] = {}
    for case, dt in work:
        if (case, dt) not in results and not args.stored_only:
            families.setdefault((case.scenario, case.month, dt), []).append(case)
    jobs = [
        (tuple(family), key[2], args.results, digests[key[2]]) for key, family in families.items()
    ]
    jobs.sort(key=lambda job: -_job_cost(job))  # the longest first: no long one left at the end
    with ProcessPoolExecutor(max_workers=args.jobs) as pool:
        futures = [pool.submit(_run, job) for job in jobs]
        for future in as_completed(futures):
            dt, done = future.result()
            for case, result in done.items():
                results[case, dt] = result
    if args.save is not None:
        args.save.write_bytes(pickle.dumps(results))
    header = (
        f"{'case':34} {'dt s':>5} "
        + " ".join(f"{m[:8]:>8}" for m in MEANS)
        + f" {'+thr':>4} {'+trip':>5} {'trip Δs':>7} {'GPU-lim K':>9}  verdict"
    )
    print(header)
    print("-" * len(header))
    failed = 0
    for case in cases:
        reference = results[case, 1.0]
        for dt in args.dts:
            c = compare(reference, results[case, dt])
            failed += bool(c.failures)
            errors = " ".join(f"{100 * c.worst_mean_error[m]:7.2f}%" for m in MEANS)
            delay = "-" if c.trip_delay_s is None else f"{c.trip_delay_s:+.0f}"
            verdict = "ok" if not c.failures else "FAIL: " + "; ".join(c.failures)
            print(
                f"{case.name:34} {dt:5g} {errors} {c.extra_throttling:4d} "
                f"{c.extra_trips:5d} {delay:>7} {c.gpu_over_trip_k:9.1f}  {verdict}"
            )
    print(
        f"\n{len(cases)} case(s) x {len(args.dts)} step(s), {failed} failing; "
        f"{args.days:g} day(s) each, fault at {fault_at / 3600:g} h, hourly windows "
        "after the first hour"
    )
    if args.stored_only and len(cases) < len(work) // (1 + len(args.dts)):
        return 1 if failed else 3  # the table is not the whole matrix yet
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
