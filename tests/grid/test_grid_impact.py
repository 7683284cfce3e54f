"""The grid-impact pre-assessment: its figures against hand calculations."""

from __future__ import annotations

from pathlib import Path

import pytest

from twin.cli import main
from twin.grid.impact import demand_response_levers
from twin.scenario import load


def test_the_levers_of_a_training_rack() -> None:
    # single-rack: 72 GPUs of 1,400 W TDP, 200 W idle, training at full compute, no BESS
    levers = {lever.name: lever.kw for lever in demand_response_levers(load("single-rack"))}
    assert levers == pytest.approx(
        {
            "BESS": 0.0,
            "training GPU caps": 72 * (1400 - 0.3 * 1400) / 1000,
            "training held at a checkpoint": 72 * (0.3 * 1400 - 200) / 1000,
        }
    )


def test_the_seoul_levers_come_in_their_order() -> None:
    names = [lever.name for lever in demand_response_levers(load("seoul-ai-factory"))]
    assert names == [
        "BESS",
        "training GPU caps",
        "training held at a checkpoint",
        "inference GPU caps",
    ]


def test_the_document_from_a_run_table(capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    # 5-minute rows for 2 h at 100 kW, 400 kW in the second quarter hour
    rows = [(300.0 * k, 400.0 if k in (4, 5, 6) else 100.0) for k in range(1, 25)]
    table = tmp_path / "site.csv"
    table.write_text(
        "# start: 2026-05-06T00:00:00\ntime_s,facility_power_kw,grid_import_kw\n"
        + "".join(f"{t:g},{kw:g},{kw:g}\n" for t, kw in rows),
        encoding="utf-8",
    )
    out = tmp_path / "impact.md"
    code = main(
        ["grid-impact", "--scenario", "single-rack", "--run", str(table), "--out", str(out)]
    )
    err = capsys.readouterr().err
    assert code == 0, err
    text = out.read_text(encoding="utf-8")
    assert "**A pre-assessment, not the official score.**" in text
    assert "| peak 15-minute demand | 0.40 MW (80% of contracted) |" in text  # cap 0.5 MW
    assert "| load factor (mean / peak) | 0.34 |" in text  # 137.5 / 400
    assert "| steepest ramp up / down between rows | 0.06 / 0.06 MW/min |" in text
    assert "| assessment needed (load of 10 MW or more) | no |" in text
    assert "| capital region (approximate box) | yes |" in text


def test_the_document_needs_a_markdown_name(
    capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    code = main(
        ["grid-impact", "--scenario", "single-rack", "--out", str(tmp_path / "impact.html")]
    )
    assert code == 2
    assert "must end in .md" in capsys.readouterr().err


def test_twin_report_grid_impact_writes_the_document_of_the_runs_own_scenario(
    capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    table = tmp_path / "site.csv"
    run = ["run", "--scenario", "single-rack", "--duration", "2h", "--dt", "60s"]
    assert main([*run, "--every", "5min", "--out", str(table)]) == 0
    by_report, by_command = tmp_path / "report.md", tmp_path / "command.md"
    assert main(["report", str(table), "--grid-impact", "--out", str(by_report)]) == 0
    err = capsys.readouterr().err
    assert "(a pre-assessment, not the official score)" in err
    argv = ["grid-impact", "--scenario", "single-rack", "--run", str(table)]
    assert main([*argv, "--out", str(by_command)]) == 0
    text = by_report.read_text(encoding="utf-8")
    assert text == by_command.read_text(encoding="utf-8")
    assert "| run length | 2.0 h |" in text


def test_twin_report_grid_impact_needs_a_table_that_holds_its_scenario(
    capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    table = tmp_path / "site.csv"
    table.write_text(
        "# start: 2026-05-06T00:00:00\ntime_s,facility_power_kw,grid_import_kw\n900,100,100\n"
        "1800,100,100\n",
        encoding="utf-8",
    )
    out = tmp_path / "impact.md"
    assert main(["report", str(table), "--grid-impact", "--out", str(out)]) == 2
    err = capsys.readouterr().err
    assert "does not hold the scenario it was run from" in err
    assert f"twin grid-impact --scenario NAME|PATH --run {table}" in err
    assert main(["report", str(table), "--grid-impact", "--out", str(tmp_path / "x.html")]) == 2
    assert "is Markdown (.md)" in capsys.readouterr().err
    assert not out.exists()
