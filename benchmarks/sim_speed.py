"""Simulation speed: the bare engine and the full `twin run` path side by side.

Run: python -m benchmarks.sim_speed [--steps N] [--repeats K] [--dt 1s] [SCENARIO...]
(from the repository root, so that this checkout's twin is imported).

Per built-in scenario, each repeat builds two simulations of the scenario: a bare one, and
one with the outputs of `twin run` open (``twin.runs.output.open_headless``, as
``run_headless`` opens them: the alarm scans, the SQLite journal, the CSV site table with
its flushes). Both take one output interval (60 s) of steps first; then they take the same
N steps in turns of ``BLOCK_STEPS`` (the engine's turn first in every other round), each
turn timed, so that both meet the same load from other programs, which on a shared machine
changes from one second to the next. Building the simulations and opening and finishing
the outputs do not count. Reported, as medians over the repeats:

- engine: ``Simulation.step`` alone, steps per second and times real time;
- twin run: ``ObservedRun.step`` of the run with its outputs, as ``run_headless`` steps it;
- run/engine: the ratio of the two (1.00: `twin run` as fast as the engine), with the
  range of the repeats' ratios;
- an estimate of a simulated year at dt = 60 s through `twin run`, and the peak memory.

Times are the process's CPU time (the simulation runs on one thread), which other programs
disturb less than wall time; on an idle machine the two agree. Pinning to one core
(taskset -c 0) matches the performance target.
"""

from __future__ import annotations

import argparse
import resource
import statistics
import sys
import tempfile
import time
from pathlib import Path

from twin.runs.output import open_headless
from twin.scenario import builtin_scenarios, load
from twin.scenario.units import parse_duration
from twin.sim.engine import Simulation

SCENARIOS = ("single-rack", "seoul-ai-factory", "gigawatt")
EVERY_S = 60.0
BLOCK_STEPS = 50  # steps of one side's turn


def timed_turns(scenario, text: str, steps: int, dt_s: float, folder: Path) -> tuple[float, float]:
    """CPU seconds of the bare engine and of the `twin run` path over the same steps."""
    every_steps = max(1, round(EVERY_S / dt_s))
    bare = Simulation.from_scenario(scenario, dt_s=dt_s)
    headless = open_headless(
        scenario,
        duration_s=(every_steps + steps) * dt_s,
        dt_s=dt_s,
        every_steps=every_steps,
        out=folder / "site.csv",
        journal=folder / "site.alarms.sqlite",
        scenario_toml=text,
    )
    bare.step(every_steps)
    headless.run.step(every_steps)
    engine_s = run_s = 0.0
    for turn, first in enumerate(range(0, steps, BLOCK_STEPS)):
        n = min(BLOCK_STEPS, steps - first)
        for engine_turn in (True, False) if turn % 2 == 0 else (False, True):
            started = time.process_time()
            if engine_turn:
                bare.step(n)
                engine_s += time.process_time() - started
            else:
                headless.run.step(n)
                run_s += time.process_time() - started
    headless.run.finish()
    return engine_s, run_s


def measure(name: str, steps: int, repeats: int, dt_s: float) -> dict[str, float]:
    scenario = load(name)
    text = builtin_scenarios()[name].read_text(encoding="utf-8")
    engine, run = [], []
    with tempfile.TemporaryDirectory(prefix="twin-speed-") as tmp:
        for _ in range(repeats):
            engine_s, run_s = timed_turns(scenario, text, steps, dt_s, Path(tmp))
            engine.append(steps / engine_s)
            run.append(steps / run_s)
    engine_sps, run_sps = statistics.median(engine), statistics.median(run)
    ratios = [r / e for r, e in zip(run, engine, strict=True)]
    return {
        "racks": Simulation.from_scenario(scenario, dt_s=dt_s).topology.rack_count,
        "engine_sps": engine_sps,
        "run_sps": run_sps,
        "engine_x": engine_sps * dt_s,
        "run_x": run_sps * dt_s,
        "ratio": statistics.median(ratios),
        "ratio_low": min(ratios),
        "ratio_high": max(ratios),
        "year_at_60s_min": 365 * 86400 / 60 / run_sps / 60,
        "peak_rss_mib": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024,
    }


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--steps", type=int, default=2000)
    parser.add_argument("--repeats", type=int, default=5)
    parser.add_argument("--dt", default="1s", help="step, e.g. 1s")
    parser.add_argument("scenarios", nargs="*", default=list(SCENARIOS))
    args = parser.parse_args()
    dt_s = parse_duration(args.dt)
    print(f"dt {args.dt}, {args.steps} steps, median of {args.repeats}")
    print(
        f"{'scenario':<18}{'racks':>7}{'engine x':>11}{'twin run x':>12}{'run/engine':>12}"
        f"{'(range)':>12}{'year@60s':>11}{'peak RSS':>11}"
    )
    for name in args.scenarios:
        m = measure(name, args.steps, args.repeats, dt_s)
        print(
            f"{name:<18}{m['racks']:>7,}{m['engine_x']:>11,.0f}{m['run_x']:>12,.0f}"
            f"{m['ratio']:>12.2f}{m['ratio_low']:>7.2f}-{m['ratio_high']:.2f}"
            f"{m['year_at_60s_min']:>9.1f} min"
            f"{m['peak_rss_mib']:>7.0f} MiB",
            flush=True,
        )
    return 0


if __name__ == "__main__":
    sys.exit(main())
