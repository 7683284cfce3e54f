"""Recordings: written while a run goes, readable after a kill, never overwritten; the
``twin run --record`` options and their errors (exit 2, one line, no traceback)."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pyarrow.parquet as pq
import pytest

from twin.cli import main
from twin.runs.recording import MANIFEST, Recorder, Recording, run_metadata
from twin.scenario import builtin_scenarios, load
from twin.sim.engine import Simulation

REPO = Path(__file__).resolve().parents[2]


def _record(path: Path, minutes: int) -> None:
    scenario = load("single-rack")
    sim = Simulation.from_scenario(scenario)
    recorder = Recorder(
        path,
        scenario_toml=builtin_scenarios()["single-rack"].read_text(),
        metadata=run_metadata(
            scenario_name="single-rack",
            seed=sim.seed,
            dt_s=sim.dt_s,
            start="2025-07-01T00:00:00",
            topology=sim.topology,
        ),
        every_s=60.0,
        flush_every_s=300.0,
    )
    with recorder:
        for _ in range(minutes * 60):
            sim.step()
            recorder.on_step(sim)


@pytest.fixture(autouse=True)
def _flush_without_waiting(monkeypatch: pytest.MonkeyPatch) -> None:
    """Parts every 5 simulated minutes, as a slow run makes them, in a fast test."""
    monkeypatch.setattr("twin.runs.recording.MIN_FLUSH_WALL_S", 0.0)


def test_recording_has_one_row_per_interval_and_its_metadata(tmp_path: Path) -> None:
    path = tmp_path / "run.twinrec"
    _record(path, minutes=12)
    manifest = json.loads((path / MANIFEST).read_text())
    assert manifest["closed"] is True
    assert [p["rows"] for p in manifest["parts"]] == [5, 5, 2]
    assert manifest["metadata"]["scenario"] == "single-rack"
    assert manifest["metadata"]["racks"] == "1" and manifest["metadata"]["every_s"] == "60"
    assert "[scenario]" in manifest["scenario_toml"]
    table = pq.read_table(path / "part-00000.parquet")
    assert table.column("time_s").to_pylist() == [60.0, 120.0, 180.0, 240.0, 300.0]
    assert table.schema.field("racks.gpu_temp_c").type.list_size == 1
    recording = Recording.open(path)
    assert len(recording) == 12 and recording.problems == ()
    np.testing.assert_array_equal(recording.times, np.arange(1, 13) * 60.0)


def test_a_recorder_never_overwrites(tmp_path: Path) -> None:
    path = tmp_path / "run.twinrec"
    _record(path, minutes=1)
    with pytest.raises(FileExistsError, match="already exists"):
        _record(path, minutes=1)
    assert len(Recording.open(path)) == 1


def test_a_recording_killed_mid_run_stays_readable(tmp_path: Path) -> None:
    record = tmp_path / "killed.twinrec"
    command = [
        sys.executable,
        "-m",
        "twin",
        "run",
        "--scenario",
        "single-rack",
        "--duration",
        "30d",
        "--out",
        str(tmp_path / "site.csv"),
        "--record",
        str(record),
        "--record-every",
        "10s",
        "--quiet",
    ]
    process = subprocess.Popen(command, cwd=REPO, stderr=subprocess.PIPE)
    try:
        deadline = time.monotonic() + 120
        while time.monotonic() < deadline:
            manifest = record / MANIFEST
            if manifest.is_file() and len(json.loads(manifest.read_text())["parts"]) >= 3:
                break
            assert process.poll() is None, process.stderr.read().decode()
            time.sleep(0.2)
        else:
            pytest.fail("the run made fewer than three flushes in 120 s")
    finally:
        os.kill(process.pid, signal.SIGKILL)
        process.wait()
    assert process.returncode == -signal.SIGKILL
    recording = Recording.open(record)
    assert len(recording) >= 3 * 30  # three flushes of at least 5 simulated minutes
    assert np.all(np.diff(recording.times) == 10.0)
    assert not recording.closed
    assert any("not closed" in p for p in recording.problems)
    assert "readable" in recording.summary()
    last = recording.snapshot(len(recording) - 1)
    assert last.racks.gpu_temp_c.shape == (1,) and np.isfinite(last.site["pue"])


def _run_cli(capsys: pytest.CaptureFixture[str], *argv: str) -> tuple[int, str]:
    code = main(list(argv))
    return code, capsys.readouterr().err


def test_run_refuses_an_existing_recording(capsys, tmp_path: Path) -> None:
    (tmp_path / "old.twinrec").mkdir()
    code, err = _run_cli(
        capsys,
        "run",
        "--scenario",
        "single-rack",
        "--duration",
        "1min",
        "--out",
        str(tmp_path / "site.csv"),
        "--record",
        str(tmp_path / "old.twinrec"),
    )
    assert code == 2
    assert "already exists" in err and "Traceback" not in err
    assert not (tmp_path / "site.csv").exists()


@pytest.mark.parametrize(
    ("extra", "message"),
    [
        (["--record-every", "1min"], "--record-every needs --record"),
        (["--record", "{tmp}/r", "--record-every", "1500ms"], "whole multiple of --dt"),
        (["--record", "{tmp}/missing/r"], "does not exist"),
    ],
)
def test_run_record_argument_errors(capsys, tmp_path: Path, extra: list[str], message: str) -> None:
    argv = [
        "run",
        "--scenario",
        "single-rack",
        "--duration",
        "1min",
        "--out",
        str(tmp_path / "site.csv"),
        *(a.format(tmp=tmp_path) for a in extra),
    ]
    code, err = _run_cli(capsys, *argv)
    assert code == 2
    assert message in err and len(err.strip().splitlines()) == 1


def test_run_record_writes_a_recording_next_to_the_table(capsys, tmp_path: Path) -> None:
    code, _ = _run_cli(
        capsys,
        "run",
        "--scenario",
        "single-rack",
        "--duration",
        "10min",
        "--out",
        str(tmp_path / "site.parquet"),
        "--record",
        str(tmp_path / "run.twinrec"),
        "--record-every",
        "30s",
        "--quiet",
    )
    assert code == 0
    recording = Recording.open(tmp_path / "run.twinrec")
    assert len(recording) == 20 and recording.closed and recording.problems == ()
    assert recording.scenario().scenario.name == "single-rack"
    site = pq.read_table(tmp_path / "site.parquet")
    # the table's end-of-interval columns match the recording at the same times
    np.testing.assert_allclose(
        site.column("bess_soc").to_numpy(), recording.site_series()["bess_soc"][1::2]
    )
