"""Same answers at any step: the step-size matrix of the README's guarantee.

For each built-in scenario, month (a week from the first of January, April, July and
October by default) and fault (none, the scenario's own events, a CDU loss, a utility
outage, a heatwave), runs dt = 1 s and the coarser steps and prints, per case and dt,
the worst hourly-mean error of IT, facility and cooling power and PUE against dt = 1 s,
windows that throttle or trip where dt = 1 s does not, the first trip's offset, the
hottest GPU's excess over its trip limit, and the verdict (see twin/sim/step_check.py).

Run: .venv/bin/python benchmarks/step_matrix.py [--jobs N] [--scenarios a,b]
         [--months 1,4] [--faults none,heatwave] [--dts 10,60,300] [--days 7]
The full gigawatt week at dt = 1 s takes about a quarter of an hour a case on one core;
cases run in parallel processes (--jobs). Exit status 1 when a case fails.
"""

from __future__ import annotations

import argparse
import os
import pickle
import sys
from concurrent.futures import ProcessPoolExecutor
from pathlib import Path

from twin.sim.step_check import FAULTS, MEANS, Case, compare, run

SCENARIOS = ("single-rack", "seoul-ai-factory", "gigawatt")
MONTHS = (1, 4, 7, 10)
DTS = (10.0, 60.0, 300.0)


def _run(args: tuple[Case, float]):
    case, dt = args
    return case, dt, run(case, dt)


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
    args = parser.parse_args(argv)
    if args.jobs < 1:
        parser.error("--jobs must be at least 1")
    duration = args.days * 86400.0
    fault_at = max(0.5 * duration, 3600.0 + 600.0)
    cases = [
        Case(s, m, f, duration, fault_at)
        for s in args.scenarios
        for m in args.months
        for f in args.faults
    ]
    work = [(c, dt) for c in cases for dt in [1.0, *args.dts]]
    # the longest runs first, so that the pool's last minutes are not one long case
    work.sort(key=lambda w: -w[0].duration_s / w[1] * (20 if w[0].scenario == "gigawatt" else 1))
    results = {}
    with ProcessPoolExecutor(max_workers=args.jobs) as pool:
        for case, dt, result in pool.map(_run, work):
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
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
