"""Memory of headless runs against their length: results stream to disk, so it stays flat.

Run: .venv/bin/python benchmarks/run_memory.py [--scenario gigawatt] [--dt 60s]
Runs `twin run` in a fresh process for a short and a 4x longer simulated time and
prints each process's peak resident memory and the ratio of the two.
"""

from __future__ import annotations

import argparse
import subprocess
import sys
import tempfile
from pathlib import Path

PROBE = """
import resource, sys
from twin.cli import main
code = main(sys.argv[1:])
print(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss)
sys.exit(code)
"""


def peak_rss_mib(scenario: str, duration: str, dt: str, out: Path) -> float:
    result = subprocess.run(
        [
            sys.executable,
            "-c",
            PROBE,
            "run",
            "--scenario",
            scenario,
            "--duration",
            duration,
            "--dt",
            dt,
            "--every",
            "1h",
            "--out",
            str(out),
            "--quiet",
        ],
        capture_output=True,
        text=True,
        check=True,
    )
    return int(result.stdout.strip().splitlines()[-1]) / 1024


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--scenario", default="seoul-ai-factory")
    parser.add_argument("--dt", default="60s")
    parser.add_argument("--short", default="2d")
    parser.add_argument("--long", default="8d")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as folder:
        short = peak_rss_mib(args.scenario, args.short, args.dt, Path(folder) / "a.parquet")
        long = peak_rss_mib(args.scenario, args.long, args.dt, Path(folder) / "b.parquet")
    print(
        f"{args.scenario} at dt={args.dt}: peak RSS {short:.0f} MiB for {args.short}, "
        f"{long:.0f} MiB for {args.long} (ratio {long / short:.3f})"
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
