"""``twin run`` writes the alarm journal next to its output (or where --journal says),
prints the alarm counts with the ledger, and rejects a bad --journal with one line and
exit code 2."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from twin.alarms import read_journal, read_metadata
from twin.cli import main


def _twin(capsys: pytest.CaptureFixture[str], *argv: str) -> tuple[int, str, str]:
    code = main(list(argv))
    out, err = capsys.readouterr()
    return code, out, err


def _run(out: Path, *extra: str) -> list[str]:
    # Seoul's timeline trips both pumps of H1-CDU-03 at 4 h and restores them at 260 min
    return [
        "run",
        "--scenario",
        "seoul-ai-factory",
        "--duration",
        "270min",
        "--dt",
        "10s",
        "--out",
        str(out),
        *extra,
    ]


def test_twin_run_writes_the_journal_next_to_its_output(capsys, tmp_path):
    out = tmp_path / "site.csv"
    code, _, err = _twin(capsys, *_run(out))
    assert code == 0, err
    journal = tmp_path / "site.alarms.sqlite"
    rows = read_journal(journal)
    no_pump = [
        (r.event, r.sim_time_s)
        for r in rows
        if r.tag == "cdu.no_pump" and r.component == "H1-CDU-03"
    ]
    assert no_pump == [("raise", 4 * 3600.0 + 10.0), ("clear", 260 * 60.0 + 10.0)]
    trips = [r for r in rows if r.tag == "rack.tripped" and r.event == "raise"]
    assert len(trips) == 14 and all(r.component.startswith("H1-R03-") for r in trips)
    assert all(r.state == "suppressed" for r in rows if r.tag == "rack.flow" and r.event == "raise")
    meta = read_metadata(journal)
    assert meta["scenario"] == "seoul-ai-factory" and meta["dt_s"] == "10"
    [line] = [line for line in err.splitlines() if "alarms raised" in line]
    assert re.search(
        r"alarms raised 15 \(critical 15, high 0, medium 0, low 0\); at the end "
        r"\d+ active, 15 unacknowledged",
        line,
    ), line
    assert line.endswith(f"-> {journal}")
    assert "energy in" in err  # the ledger line is still there, before it


def test_journal_option_puts_it_elsewhere(capsys, tmp_path):
    out, journal = tmp_path / "site.parquet", tmp_path / "journals" / "seoul.db"
    journal.parent.mkdir()
    code, _, err = _twin(
        capsys,
        "run",
        "--scenario",
        "single-rack",
        "--duration",
        "10min",
        "--out",
        str(out),
        "--journal",
        str(journal),
        "--quiet",
    )
    assert code == 0, err
    assert err == ""  # --quiet: no progress, no summary
    assert read_journal(journal) == []  # a healthy rack for ten minutes
    assert read_metadata(journal)["scenario"] == "single-rack"
    assert not (tmp_path / "site.alarms.sqlite").exists()


@pytest.mark.parametrize(
    ("journal", "fragment"),
    [
        ("alarms.txt", "--journal alarms.txt must end in .sqlite or .db"),
        ("{tmp}/missing/alarms.sqlite", "the folder of"),
        ("{tmp}/folder.sqlite", "is a folder; give a file name"),
    ],
)
def test_a_bad_journal_exits_2_with_one_line(capsys, tmp_path, journal, fragment):
    (tmp_path / "folder.sqlite").mkdir()
    argv = [
        "run",
        "--scenario",
        "single-rack",
        "--duration",
        "1min",
        "--out",
        str(tmp_path / "site.csv"),
        "--journal",
        journal.replace("{tmp}", str(tmp_path)),
    ]
    code, out, err = _twin(capsys, *argv)
    assert code == 2
    assert out == ""
    assert fragment in err
    assert "Traceback" not in err
    assert len(err.strip().splitlines()) == 1
