"""Simulation speed: the bare engine and the full `twin run` path side by side.

Run: python -m benchmarks.sim_speed [--steps N] [--repeats K] [--dt 1s] [SCENARIO...]
(from the repository root, so that this checkout's twin is imported).

Per built-in scenario, the median over repeats (machines are shared and noisy, so medians
and ratios are the figures to compare) of:

- engine: ``Simulation.step`` alone over steps S..S+N of a fresh simulation (S: one output
  interval, 60 s), steps per second and times real time;
- twin run: ``twin.runs.output.run_headless`` as ``twin run`` calls it (alarm scans, the SQLite
  journal, the CSV site table with its flushes), timed over S+N steps minus a run of S
  steps, so that building the simulation and opening the outputs do not count and both
  cover the same steps;
- the ratio of the two (1.00: `twin run` as fast as the engine), an estimate of a simulated
  year at dt = 60 s through `twin run`, and the peak memory.

Times are the process's CPU time (the simulation runs on one thread), which other programs
on a shared machine disturb less than wall time; on an idle machine the two agree. Each
repeat measures the engine and `twin run` back to back, so that both see the same load.
Pinning to one core (taskset -c 0) matches the performance target.
"""

from __future__ import annotations

import argparse
import resource
import statistics
import sys
import tempfile
import time
from pathlib import Path

from twin.runs.output import run_headless
from twin.scenario import builtin_scenarios, load
from twin.scenario.units import parse_duration
from twin.sim.engine import Simulation

SCENARIOS = ("single-rack", "seoul-ai-factory", "gigawatt")
EVERY_S = 60.0


def engine_rate(scenario, skip: int, steps: int, dt_s: float) -> float:
    """Steps per CPU second of the bare engine over steps skip..skip+steps."""
    sim = Simulation.from_scenario(scenario, dt_s=dt_s)
    sim.step(skip)
    started = time.process_time()
    sim.step(steps)
    return steps / (time.process_time() - started)


def run_seconds(scenario, text: str, steps: int, dt_s: float, folder: Path) -> float:
    """CPU time of a headless run of ``steps`` steps, as `twin run` makes it."""
    out = folder / "site.csv"
    started = time.process_time()
    run_headless(
        scenario,
        duration_s=steps * dt_s,
        dt_s=dt_s,
        every_steps=max(1, round(EVERY_S / dt_s)),
        out=out,
        progress=None,
        journal=folder / "site.alarms.sqlite",
        scenario_toml=text,
    )
    return time.process_time() - started


def measure(name: str, steps: int, repeats: int, dt_s: float) -> dict[str, float]:
    scenario = load(name)
    text = builtin_scenarios()[name].read_text(encoding="utf-8")
    short = max(1, round(EVERY_S / dt_s))
    engine, run = [], []
    with tempfile.TemporaryDirectory(prefix="twin-speed-") as tmp:
        folder = Path(tmp)
        for _ in range(repeats):
            engine.append(engine_rate(scenario, short, steps, dt_s))
            long_s = run_seconds(scenario, text, steps + short, dt_s, folder)
            short_s = run_seconds(scenario, text, short, dt_s, folder)
            run.append(steps / max(long_s - short_s, 1e-9))
    engine_sps, run_sps = statistics.median(engine), statistics.median(run)
    return {
        "racks": Simulation.from_scenario(scenario, dt_s=dt_s).topology.rack_count,
        "engine_sps": engine_sps,
        "run_sps": run_sps,
        "engine_x": engine_sps * dt_s,
        "run_x": run_sps * dt_s,
        "ratio": statistics.median(r / e for r, e in zip(run, engine, strict=True)),
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
        f"{'year@60s':>11}{'peak RSS':>11}"
    )
    for name in args.scenarios:
        m = measure(name, args.steps, args.repeats, dt_s)
        print(
            f"{name:<18}{m['racks']:>7,}{m['engine_x']:>11,.0f}{m['run_x']:>12,.0f}"
            f"{m['ratio']:>12.2f}{m['year_at_60s_min']:>9.1f} min"
            f"{m['peak_rss_mib']:>7.0f} MiB",
            flush=True,
        )
    return 0


if __name__ == "__main__":
    sys.exit(main())
