"""Every script under benchmarks/ still runs: each is started as its README line says, on
this tree, with arguments small enough for a test, and must finish with exit status 0 and
print its figures. (The figures themselves are for people, not for assertions.)"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[2]
BENCHMARKS = REPO / "benchmarks"
RUNS = {
    "bad_input_tally.py": (
        ["--families", "scenario,journal", "--kills", "1", "--formats", "csv", "--jobs", "1"],
        "tracebacks",
    ),
    "sim_speed.py": (["--steps", "5", "--repeats", "1", "single-rack"], "single-rack"),
    "step_matrix.py": (
        [
            "--scenarios",
            "single-rack",
            "--months",
            "7",
            "--faults",
            "none",
            "--dts",
            "60",
            "--days",
            "0.125",
            "--jobs",
            "1",
        ],
        "single-rack",
    ),
    "run_memory.py": (
        ["--scenario", "single-rack", "--dt", "60s", "--short", "1h", "--long", "2h"],
        "MiB",
    ),
    # the trend benchmark selects two racks: a site with more than one
    "trends_update.py": (["--scenario", "seoul-ai-factory", "--repeats", "3"], "redraw"),
    "gui_fps.py": (["--scenario", "single-rack", "--seconds", "1"], "single-rack"),
    "kiosk_soak.py": (
        ["--minutes", "0.15", "--sample-s", "1", "--warm-up-s", "1"],
        "resident memory",
    ),
    "kiosk_fps.py": (["--size", "640x360", "--seconds", "1"], "empty-scene ceiling"),
    "bill_speed.py": (["--repeats", "1"], "bill of a month"),
    "exchange_speed.py": (["--repeat", "1", "--seconds", "2"], "messages/s"),
    "study.py": (
        [
            "--scenario",
            "single-rack",
            "--duration",
            "1h",
            "--runs",
            "2",
            "--workers",
            "1",
            "--malloc-repeats",
            "1",
            "--malloc-duration",
            "1h",
        ],
        "single-rack",
    ),
    "calibrate_speed.py": (
        ["--hours", "0.6", "--seoul-hours", "0.05", "--fit", "cdu.*.hx_ua"],
        "one CDU",
    ),
    "calibrate_exchange.py": (
        [
            "--hours",
            "1",
            "--window",
            "30min..50min",
            "--holdout",
            "50min..1h",
            "--fit",
            "dry_coolers.approach",
        ],
        "held-out window",
    ),
    "calibrate_seoul.py": (
        ["--hours", "0.4", "--warmup", "10", "--fit", "dry_coolers.approach"],
        "seoul-ai-factory",
    ),
    "screenshots.py": (
        [
            "--out",
            "{tmp}",
            "--scenario",
            "single-rack",
            "--size",
            "1280x720",
            "--language",
            "ko",
            "--views",
            "1",
            "--acts",
            "1",
        ],
        "kiosk-ko-1280x720-01",
    ),
}


def test_every_benchmark_script_has_a_smoke_run() -> None:
    assert sorted(RUNS) == sorted(p.name for p in BENCHMARKS.glob("*.py"))


@pytest.mark.slow
@pytest.mark.parametrize("script", sorted(RUNS))
def test_the_benchmark_runs_with_tiny_arguments(script: str, tmp_path: Path) -> None:
    arguments, printed = RUNS[script]
    arguments = [a.replace("{tmp}", str(tmp_path)) for a in arguments]  # what it writes
    env = {**os.environ, "PYTHONPATH": str(REPO)}  # this tree's twin, not an installed one
    done = subprocess.run(
        [sys.executable, str(BENCHMARKS / script), *arguments],
        cwd=REPO,
        env=env,
        capture_output=True,
        text=True,
        timeout=900,
        check=False,
    )
    assert done.returncode == 0, done.stdout[-3000:] + done.stderr[-3000:]
    assert printed in done.stdout, done.stdout[-3000:]
