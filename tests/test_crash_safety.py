"""Crash safety of every `twin run` output: real `python -m twin run` processes killed with
SIGKILL at random moments, and runs that meet a full disk (a file-size limit everywhere, a
small tmpfs where the machine lets us mount one), read back with twin's own readers and with
pandas."""

from __future__ import annotations

import os
import random
import re
import sqlite3
import subprocess
import sys
import threading
import time
from pathlib import Path

import numpy as np
import pandas as pd
import pyarrow.parquet as pq
import pytest

from twin.alarms import read_journal
from twin.cli import main
from twin.runs.recording import Recording, RecordingError
from twin.runs.replay import SiteSeries

REPO = Path(__file__).resolve().parent.parent
DURATION_S = 30 * 86400.0  # far longer than any test lets it run
EVERY_S = 60.0
# wall time between flushes the runs here are given (`--flush-every`; the default is 10 s):
# the bound on what a kill loses is the same rule, checked in a fifth of the time
FLUSH_WALL_S = 2.0
SEED = int(os.environ.get("TWIN_KILL_SEED", random.SystemRandom().randrange(2**32)))
FORMATS = {
    "csv": ["--out", "site.csv"],
    "parquet": ["--out", "site.parquet", "--components", "components.parquet"],
    "recording": ["--out", "site.csv", "--record", "run.twinrec"],
}
PROGRESS = re.compile(r"([\d.]+)% simulated, ([\d,]+)x real time")


class Run:
    """A `twin run` subprocess and what it reports on stderr."""

    def __init__(self, folder: Path, args: list[str], duration: str = "30d", preexec=None) -> None:
        command = [
            sys.executable,
            "-m",
            "twin",
            "run",
            "--scenario",
            "seoul-ai-factory",
            "--duration",
            duration,
            "--dt",
            "60s",
            "--flush-every",
            f"{FLUSH_WALL_S:g}s",
            *args,
        ]
        env = {**os.environ, "PYTHONPATH": str(REPO)}
        self.process = subprocess.Popen(
            command,
            cwd=folder,
            env=env,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.PIPE,
            preexec_fn=preexec,
        )
        self.stderr = ""
        self._reader = threading.Thread(target=self._read, daemon=True)
        self._reader.start()

    def _read(self) -> None:
        for chunk in iter(lambda: self.process.stderr.read1(4096), b""):
            self.stderr += chunk.decode("utf-8", "replace")

    def progress(self) -> tuple[float, float] | None:
        """The last reported (simulated seconds, times real time)."""
        found = PROGRESS.findall(self.stderr)
        if not found:
            return None
        percent, rate = found[-1]
        return float(percent) / 100 * DURATION_S, float(rate.replace(",", ""))

    def wait_for_progress(self, timeout_s: float = 120.0) -> None:
        deadline = time.monotonic() + timeout_s
        while self.progress() is None:
            assert self.process.poll() is None, self.stderr
            assert time.monotonic() < deadline, "no progress reported"
            time.sleep(0.05)

    def kill(self) -> None:
        self.process.kill()  # SIGKILL: no cleanup, no final flush
        self.process.wait(timeout=30)
        self._reader.join(timeout=10)
        self.process.stderr.close()

    def finish(self, timeout_s: float = 300.0) -> int:
        code = self.process.wait(timeout=timeout_s)
        self._reader.join(timeout=10)
        self.process.stderr.close()
        return code


def _rows(path: Path) -> SiteSeries:
    series = SiteSeries.read(path)
    t = series.columns["time_s"]
    assert np.all(np.diff(t) == EVERY_S), "rows missing or out of order in the middle"
    assert t[0] == EVERY_S
    return series


def _readable(path: Path) -> SiteSeries | None:
    """The rows on disk, or None while the run has not flushed its first."""
    try:
        return _rows(path)
    except RecordingError as exc:
        assert "nothing is readable: the run stopped before its first flush" in str(exc)
        return None


def _check_readers(
    folder: Path, fmt: str, seen: SiteSeries | None, progress: tuple[float, float] | None
) -> None:
    out = folder / FORMATS[fmt][1]
    assert not out.exists(), "an unfinished output under its final name"
    series = _readable(out)
    if series is None:  # killed before the first flush: allowed only that early
        assert seen is None
        assert progress is None or progress[0] <= 2 * progress[1] * (FLUSH_WALL_S + 2.0)
        assert main(["report", str(out), "--out", str(folder / "report.html")]) == 2
        return
    assert any("never completed" in p for p in series.problems), series.problems
    assert any("are missing" in p for p in series.problems), series.problems
    t = series.columns["time_s"]
    if seen is not None:  # what was on disk before the kill is still there, unchanged
        before = seen.columns["time_s"].size
        assert t.size >= before
        for name, values in seen.columns.items():
            np.testing.assert_array_equal(series.columns[name][:before], values)
    if progress is not None:
        # nothing lost beyond the last flush: at most FLUSH_WALL_S (and the time to notice
        # a flush is due, and the progress line's age) of the run's own pace behind
        simulated_s, rate = progress
        assert t[-1] >= simulated_s - 2 * rate * (FLUSH_WALL_S + 2.0), (t[-1], progress)
    partial = out.with_name(out.name + ".partial")
    if fmt == "parquet":  # what pandas users do with the partial folder
        frame = pd.read_parquet(partial)
        np.testing.assert_array_equal(frame["time_s"].to_numpy(), t)
        components = pq.read_table(folder / "components.parquet.partial").to_pandas()
        counts = components.groupby("time_s").size()
        assert counts.nunique() == 1, "a part holds half an interval"
        assert np.all(np.mod(counts.index.to_numpy(), EVERY_S) == 0)
    if fmt == "csv":
        frame = pd.read_csv(partial, comment="#")
        assert len(frame) >= t.size and frame.columns[0] == "time_s"
    if fmt == "recording":
        recording = Recording.open(folder / "run.twinrec")
        assert any("not closed" in p for p in recording.problems)
        assert len(recording) >= 1
    journal = folder / "site.alarms.sqlite.partial"
    assert not (folder / "site.alarms.sqlite").exists()
    read_journal(journal)  # everything committed reads back
    with sqlite3.connect(journal) as db:
        assert db.execute("PRAGMA integrity_check").fetchone() == ("ok",)
    report = folder / "report.html"
    assert main(["report", str(out), "--out", str(report)]) == 0
    page = report.read_text(encoding="utf-8")
    assert "Incomplete data" in page and "never completed" in page
    assert "the alarm journal is partial" in page


@pytest.mark.slow
@pytest.mark.parametrize("fmt", sorted(FORMATS))
def test_a_run_killed_at_random_moments_leaves_its_outputs_readable(tmp_path, fmt):
    chance = random.Random(f"{SEED}-{fmt}")
    for attempt in range(2):
        folder = tmp_path / f"kill-{attempt}"
        folder.mkdir()
        run = Run(folder, [*FORMATS[fmt]])
        try:
            run.wait_for_progress()  # the run is writing
            time.sleep(chance.uniform(0.0, 2 * FLUSH_WALL_S))
            seen = _readable(folder / FORMATS[fmt][1])
            time.sleep(chance.uniform(0.0, FLUSH_WALL_S))
            progress = run.progress()
        finally:
            run.kill()
        try:
            _check_readers(folder, fmt, seen, progress)
        except AssertionError as exc:
            raise AssertionError(f"TWIN_KILL_SEED={SEED}, kill {attempt}: {exc}") from exc


@pytest.mark.slow
@pytest.mark.parametrize("fmt", sorted(FORMATS))
def test_a_run_killed_while_starting_leaves_nothing_unreadable(tmp_path, fmt):
    run = Run(tmp_path, [*FORMATS[fmt]])
    time.sleep(random.Random(f"{SEED}-early-{fmt}").uniform(0.0, 4.0))
    run.kill()
    out = tmp_path / FORMATS[fmt][1]
    assert not out.exists()
    try:
        _rows(out)
    except RecordingError as exc:  # nothing opened or flushed yet: said so, no other error
        assert "no such file" in str(exc) or "stopped before its first flush" in str(exc), exc
    journal = tmp_path / "site.alarms.sqlite.partial"
    if journal.exists():
        read_journal(journal)


def _limit_file_size(limit_bytes: int):
    def preexec() -> None:
        import resource

        resource.setrlimit(resource.RLIMIT_FSIZE, (limit_bytes, limit_bytes))

    return preexec


def _check_full_disk_failure(folder: Path, run: Run, reason: str) -> None:
    assert run.finish() == 2, run.stderr
    assert "Traceback" not in run.stderr
    assert reason in run.stderr, run.stderr
    assert "Partial outputs:" in run.stderr
    named = re.findall(r"^  \S[^(]* (\S+) \(", run.stderr, re.MULTILINE)
    assert named, run.stderr
    for name in named:
        path = folder / name
        assert path.exists(), name
        line = next(line for line in run.stderr.splitlines() if f" {name} (" in line)
        if "alarms" in name:
            read_journal(path)
        elif name.startswith("site.") and "readable" in line:
            SiteSeries.read(path)


@pytest.mark.slow
@pytest.mark.skipif(sys.platform == "win32", reason="RLIMIT_FSIZE is POSIX")
@pytest.mark.parametrize("out", ["site.csv", "site.parquet"])
def test_a_file_size_limit_ends_the_run_cleanly_with_its_partial_files_named(tmp_path, out):
    # RLIMIT_FSIZE makes a write past the limit fail with EFBIG, as a full disk fails one
    # with ENOSPC; Python ignores the SIGXFSZ that would otherwise kill the process
    run = Run(
        tmp_path, ["--out", out, "--quiet"], duration="10d", preexec=_limit_file_size(150_000)
    )
    _check_full_disk_failure(tmp_path, run, "File too large")
    assert not (tmp_path / out).exists()


@pytest.fixture
def small_tmpfs(tmp_path):
    """A 256 kB tmpfs: a real full disk. Mounting needs root and a machine that allows it
    (CI containers often do not): the test is skipped, with the reason, where it cannot."""
    if not sys.platform.startswith("linux"):
        pytest.skip("tmpfs is Linux")
    if os.geteuid() != 0:
        pytest.skip("mounting a tmpfs needs root")
    mount = tmp_path / "full"
    mount.mkdir()
    done = subprocess.run(
        ["mount", "-t", "tmpfs", "-o", "size=256k", "tmpfs", str(mount)],
        capture_output=True,
        text=True,
    )
    if done.returncode != 0:
        pytest.skip(f"this machine does not allow mounting a tmpfs: {done.stderr.strip()}")
    try:
        yield mount
    finally:
        subprocess.run(["umount", "-l", str(mount)], check=False)


@pytest.mark.slow
def test_a_full_disk_ends_the_run_cleanly_with_its_partial_files_named(small_tmpfs):
    run = Run(
        small_tmpfs,
        ["--out", "site.csv", "--components", "components.parquet", "--quiet"],
        duration="10d",
    )
    _check_full_disk_failure(small_tmpfs, run, "No space left on device")
