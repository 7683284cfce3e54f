"""Simulation speed and memory: steps per second, real-time factor and peak memory.

Run: .venv/bin/python benchmarks/sim_speed.py [--steps N] [--repeats K] [--dt 1s]
Prints, per built-in scenario, the median over repeats (machines are shared and noisy,
so medians and ratios are the figures to compare), and an estimate of a simulated year
at dt = 60 s. Pinning to one core (taskset -c 0) matches the performance target.
"""

from __future__ import annotations

import argparse
import resource
import statistics
import sys
import time

from twin.scenario import load
from twin.scenario.units import parse_duration
from twin.sim.engine import Simulation

SCENARIOS = ("single-rack", "seoul-ai-factory", "gigawatt")


def measure(name: str, steps: int, repeats: int, dt_s: float) -> dict[str, float]:
    scenario = load(name)
    sim = Simulation.from_scenario(scenario, dt_s=dt_s)
    sim.step(min(steps, 200))  # warm caches and settle the controllers
    rates = []
    for _ in range(repeats):
        started = time.perf_counter()
        sim.step(steps)
        rates.append(steps / (time.perf_counter() - started))
    sps = statistics.median(rates)
    return {
        "racks": sim.topology.rack_count,
        "steps_per_s": sps,
        "realtime_factor": sps * dt_s,
        "year_at_60s_min": 365 * 86400 / 60 / sps / 60,
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
    print(f"{'scenario':<18}{'racks':>7}{'steps/s':>11}{'x real time':>13}"
          f"{'year@60s':>11}{'peak RSS':>11}")
    for name in args.scenarios:
        m = measure(name, args.steps, args.repeats, dt_s)
        print(f"{name:<18}{m['racks']:>7,}{m['steps_per_s']:>11,.0f}"
              f"{m['realtime_factor']:>13,.0f}{m['year_at_60s_min']:>9.1f} min"
              f"{m['peak_rss_mib']:>7.0f} MiB", flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
