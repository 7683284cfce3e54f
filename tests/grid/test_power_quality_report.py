"""`twin power-quality --report`: the HTML report holds each case's spectrum and verdict,
the limit line and the search's answer, in the run reports' numbers; a report it cannot
write is refused before anything runs."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from twin.cli import main
from twin.grid.power_quality import run_check, smoothing_cases
from twin.grid.power_quality_report import CHART_TITLE, limit_name, power_quality_report
from twin.resources import resource_dir
from twin.scenario import load


def _swinging_rack_file(folder: Path) -> Path:
    """single-rack with a training job that swings: 30 % of every 2 s at 15 % compute."""
    text = (resource_dir() / "scenarios" / "single-rack.toml").read_text(encoding="utf-8")
    text = text.replace(
        "comm_utilization = 1.0\ncomm_fraction = 0.0",
        "comm_utilization = 0.15\ncomm_fraction = 0.3\niteration_period_s = 2",
    )
    assert "iteration_period_s = 2" in text
    path = folder / "swinging.toml"
    path.write_text(text, encoding="utf-8")
    return path


def _verdicts(page: str) -> dict[str, str]:
    rows = re.findall(r"<tr><td>([^<]+)</td>.*?<td class='(?:better|worse)'>(\w+)</td></tr>", page)
    return dict(rows)


@pytest.mark.slow
def test_the_report_shows_each_case_the_limit_the_verdicts_and_the_search(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    scenario = _swinging_rack_file(tmp_path)
    report = tmp_path / "pq.html"
    code = main(
        [
            "power-quality",
            "--scenario",
            str(scenario),
            "--duration",
            "30s",
            "--search",
            "--report",
            str(report),
        ]
    )
    assert code == 0
    printed = capsys.readouterr().out
    page = report.read_text(encoding="utf-8")
    assert (
        page.startswith("<!DOCTYPE html>")
        and "<script" not in page
        and "http" not in page.replace("http://www.w3.org/2000/svg", "")
    )  # self-contained
    cases = list(smoothing_cases(load(scenario)))
    verdicts = _verdicts(page)
    assert list(verdicts) == cases
    # the swing (85 % of the mean draw peak to peak) breaks the limit; GPU smoothing at
    # the scenario's floor holds it; the rack has no BESS, so its smoothing changes nothing
    assert verdicts == {
        cases[0]: "fails",
        cases[1]: "passes",
        cases[2]: "fails",
        cases[3]: "passes",
    }
    for label, verdict in verdicts.items():
        assert re.search(rf"{re.escape(label)}\s+.*: {verdict}", printed)
    chart = re.search(r"<svg.*?</svg>", page, re.S)
    assert chart is not None
    for label in cases:
        assert f"<title>{label}</title>" in chart.group(0)
    assert f"<title>{limit_name(0.2)}</title>" in chart.group(0)
    assert CHART_TITLE in chart.group(0) and "1 Hz" in chart.group(0)
    assert "No smoothing lies under BESS smoothing" in page
    search = page.split("Least GPU smoothing that passes")[1]
    assert "Floor</th><td>0 % of TDP" in search
    assert re.search(r"Ramp-down</th><td>[\d.]+ kW/s per GPU", search)
    assert re.search(r"Energy cost</th><td>[\d.]+ Wh over 30s", search)
    assert "search: the least GPU smoothing that passes" in printed
    assert "30s after 1min of settling, every 100 ms" in page


def test_the_report_agrees_with_the_check_it_shows() -> None:
    scenario = load("single-rack")  # a steady draw: every case passes
    result = run_check(scenario, 10.0, 0.1, settle_s=5.0)
    page = power_quality_report(result)
    assert set(_verdicts(page).values()) == {"passes"}
    for case in result.cases:
        worst = f"{100 * case.compliance.worst_relative:.1f} %"
        assert re.search(rf"<td>{re.escape(case.label)}</td><td class='n'>{worst}</td>", page)
    assert "0.5-5 Hz of it can be seen" in page  # 10 s at 100 ms
    assert "10s after 5s of settling, every 100 ms" in page


@pytest.mark.parametrize(
    ("name", "problem"),
    [
        ("report.pdf", "must end in .html"),
        ("missing/report.html", "does not exist"),
    ],
)
def test_a_report_that_cannot_be_written_is_refused_before_running(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], name: str, problem: str
) -> None:
    code = main(
        [
            "power-quality",
            "--scenario",
            "single-rack",
            "--duration",
            "10s",
            "--report",
            str(tmp_path / name),
        ]
    )
    assert code == 2
    err = capsys.readouterr().err
    assert err.startswith("twin power-quality:") and problem in err
    assert "Traceback" not in err
    assert list(tmp_path.iterdir()) == []


def test_a_folder_as_report_is_refused(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    folder = tmp_path / "a.html"
    folder.mkdir()
    code = main(
        ["power-quality", "--scenario", "single-rack", "--duration", "10s", "--report", str(folder)]
    )
    assert code == 2
    assert "is a folder" in capsys.readouterr().err
