"""The alarm journal in SQLite: every transition with simulated and wall time, batched
commits, queries by time and event, bad files, and a run killed with SIGKILL keeping
what it committed."""

from __future__ import annotations

import os
import sqlite3
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pytest

from twin.alarms import (
    AlarmEngine,
    AlarmJournal,
    AlarmKey,
    AlarmPoint,
    Condition,
    JournalError,
    JournalRow,
    Limit,
    Priority,
    SuppressedTarget,
    SuppressionRule,
    read_journal,
    read_metadata,
)

REPO = Path(__file__).resolve().parents[2]
WALL_S = 1_767_225_600.0  # 2026-01-01 UTC


class Scan:
    def __init__(self, time_s: float, flow_lpm: list[float], no_pump: bool = False) -> None:
        self.time_s = time_s
        self.flow_lpm = np.array(flow_lpm)
        self.no_pump = np.array([no_pump])


def engine_with(journal: AlarmJournal) -> AlarmEngine:
    point = AlarmPoint(
        "rack.flow",
        "rack coolant flow",
        "L/min",
        ("H1-R01-01", "H1-R01-02"),
        lambda s: s.flow_lpm,
        (Limit(Condition.LOW, 144.0, Priority.LOW),),
        source_kind="rack",
        source_index=np.arange(2),
    )
    rule = SuppressionRule(
        "its CDU has no pump running",
        lambda s: s.no_pump,
        (SuppressedTarget("rack.flow", np.zeros(2, dtype=np.int64)),),
    )
    wall = iter(WALL_S + k for k in range(1000))
    return AlarmEngine([point], [rule], journal=journal, clock=lambda: next(wall))


def test_every_transition_is_journaled_with_its_times_and_details(tmp_path):
    path = tmp_path / "site.alarms.sqlite"
    journal = AlarmJournal(path, {"scenario": "seoul-ai-factory", "dt_s": "1"})
    engine = engine_with(journal)
    first, second = AlarmKey("rack.flow", "L", 0), AlarmKey("rack.flow", "L", 1)
    engine.update(Scan(10.0, [180.0, 180.0]))
    engine.update(Scan(11.0, [100.0, 180.0]))  # raise R01-01
    engine.acknowledge([first], "valve checked")
    engine.shelve([second], 1800.0, "flow meter being replaced")
    engine.update(Scan(12.0, [190.0, 180.0]))  # clear R01-01
    engine.update(Scan(13.0, [190.0, 180.0], no_pump=True))  # suppress both
    engine.unshelve([second])
    engine.close()

    rows = read_journal(path)
    assert [(r.event, r.component) for r in rows] == [
        ("raise", "H1-R01-01"),
        ("acknowledge", "H1-R01-01"),
        ("shelve", "H1-R01-02"),
        ("clear", "H1-R01-01"),
        ("suppress", "H1-R01-01"),
        ("suppress", "H1-R01-02"),
        ("unshelve", "H1-R01-02"),
    ]
    raised = rows[0]
    assert raised == JournalRow(
        sim_time_s=11.0,
        wall_time_s=raised.wall_time_s,
        event="raise",
        tag="rack.flow",
        condition="L",
        component="H1-R01-01",
        priority="low",
        state="unacknowledged",
        value=100.0,
        limit_value=144.0,
        unit="L/min",
        description="rack coolant flow",
    )
    assert WALL_S <= raised.wall_time_s < WALL_S + 1000
    assert rows[1].note == "valve checked" and rows[1].state == "acknowledged"
    assert rows[2].note == "flow meter being replaced" and rows[2].duration_s == 1800.0
    assert rows[2].state == "shelved"
    assert rows[3].value == 190.0 and rows[3].state == "normal"
    assert rows[4].note == "its CDU has no pump running"
    assert rows[6].state == "suppressed"  # unshelved, still suppressed
    assert [r.sim_time_s for r in rows] == [11.0, 11.0, 11.0, 12.0, 13.0, 13.0, 13.0]
    assert read_metadata(path) == {"scenario": "seoul-ai-factory", "dt_s": "1"}

    assert [r.event for r in read_journal(path, start_s=11.5, end_s=12.5)] == ["clear"]
    assert [r.event for r in read_journal(path, end_s=11.0)] == ["raise", "acknowledge", "shelve"]
    assert len(read_journal(path, events=["suppress", "unshelve"])) == 3
    with pytest.raises(ValueError, match="unknown journal events \\['rise'\\]"):
        read_journal(path, events=["rise"])
    with sqlite3.connect(path) as db:  # a finished journal is one file, its WAL folded in
        assert db.execute("PRAGMA journal_mode").fetchone() == ("delete",)
    assert sorted(p.name for p in tmp_path.iterdir()) == ["site.alarms.sqlite"]


def test_rows_are_committed_in_batches(tmp_path):
    path = tmp_path / "batches.sqlite"
    journal = AlarmJournal(path, commit_rows=3, commit_interval_s=3600.0)
    row = JournalRow(
        1.0,
        WALL_S,
        "raise",
        "rack.flow",
        "L",
        "H1-R01-01",
        "low",
        "unacknowledged",
        100.0,
        144.0,
        "L/min",
        "rack coolant flow",
    )
    journal.record(row)
    journal.record(row)
    journal.commit_if_due()  # an hour of wall time has not passed
    assert not path.exists()  # under its final name only once finished
    assert read_journal(journal.partial) == []  # another reader sees nothing uncommitted
    journal.record(row)  # the third row fills the batch
    assert len(read_journal(journal.partial)) == 3
    journal.record(row)
    journal.close()
    assert not journal.partial.exists()
    assert len(read_journal(path)) == 4
    assert journal.rows_written == 4


def test_a_new_journal_replaces_an_old_file(tmp_path):
    path = tmp_path / "site.alarms.sqlite"
    path.write_text("an older run's leftovers", encoding="utf-8")
    AlarmJournal(path).close()
    assert read_journal(path) == []


def test_a_journal_appears_whole_under_each_name(tmp_path, monkeypatch):
    # a reader that finds the partial file during a run finds its tables too; the final
    # name appears only when the run finishes
    path = tmp_path / "site.alarms.sqlite"
    real_replace = os.replace
    seen = []

    def replace(source, target):
        seen.append((Path(target).name, Path(target).exists(), read_metadata(Path(source))))
        real_replace(source, target)

    monkeypatch.setattr(os, "replace", replace)
    journal = AlarmJournal(path, {"scenario": "seoul-ai-factory"})
    assert not path.exists() and journal.partial.name == "site.alarms.sqlite.partial"
    journal.close()
    assert seen == [
        ("site.alarms.sqlite.partial", False, {"scenario": "seoul-ai-factory"}),
        ("site.alarms.sqlite", False, {"scenario": "seoul-ai-factory"}),
    ]
    assert read_metadata(path) == {"scenario": "seoul-ai-factory"}
    assert sorted(p.name for p in tmp_path.iterdir()) == ["site.alarms.sqlite"]


def test_an_abandoned_journal_stays_partial_with_its_commits(tmp_path):
    path = tmp_path / "site.alarms.sqlite"
    journal = AlarmJournal(path, commit_rows=1)
    journal.record(
        JournalRow(
            1.0,
            WALL_S,
            "raise",
            "rack.flow",
            "L",
            "H1-R01-01",
            "low",
            "unacknowledged",
            100.0,
            144.0,
            "L/min",
            "rack coolant flow",
        )
    )
    journal.abandon()
    assert not path.exists()
    assert [r.component for r in read_journal(journal.partial)] == ["H1-R01-01"]


def test_what_is_not_a_journal_is_reported_clearly(tmp_path):
    with pytest.raises(JournalError, match="no such alarm journal"):
        read_journal(tmp_path / "missing.sqlite")
    text = tmp_path / "site.csv"
    text.write_text("time_s,it_power_kw\n" * 100, encoding="utf-8")
    with pytest.raises(JournalError, match="not an alarm journal"):
        read_journal(text)
    other = tmp_path / "other.sqlite"
    with sqlite3.connect(other) as db:
        db.execute("CREATE TABLE t (x)")
    with pytest.raises(JournalError, match="no events table"):
        read_metadata(other)


@pytest.mark.slow
def test_a_run_killed_with_sigkill_keeps_its_committed_journal(tmp_path):
    out, journal = tmp_path / "site.csv", tmp_path / "site.alarms.sqlite.partial"
    command = [
        sys.executable,
        "-m",
        "twin",
        "run",
        "--scenario",
        "seoul-ai-factory",
        "--duration",
        "30d",
        "--dt",
        "60s",
        "--out",
        str(out),
        "--quiet",
    ]
    env = {**os.environ, "PYTHONPATH": str(REPO)}
    process = subprocess.Popen(
        command, cwd=tmp_path, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE
    )
    try:
        deadline = time.monotonic() + 60.0
        rows: list[JournalRow] = []
        while not rows and time.monotonic() < deadline:  # the pump trip at 4 h
            assert process.poll() is None, process.stderr.read().decode()
            time.sleep(0.2)
            if journal.exists():
                rows = read_journal(journal, events=["raise"])
        assert rows, "no alarm was committed within a minute"
        process.kill()  # SIGKILL: no cleanup, no final commit
        assert process.wait(timeout=30) == -9
    finally:
        if process.poll() is None:
            process.kill()
            process.wait()
        process.stderr.close()
    assert Path(f"{journal}-wal").exists()  # left behind by the kill, recovered on open
    rows = read_journal(journal)
    raised = [r for r in rows if r.event == "raise" and r.tag == "cdu.no_pump"]
    assert [(r.component, r.sim_time_s, r.priority) for r in raised] == [
        ("H1-CDU-03", 4 * 3600.0 + 60.0, "critical")
    ]
    assert read_metadata(journal)["scenario"] == "seoul-ai-factory"
    with sqlite3.connect(journal) as db:
        assert db.execute("PRAGMA integrity_check").fetchone() == ("ok",)
