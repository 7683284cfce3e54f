"""The HTML run report: self-contained, with the KPIs, the ledger, charts, events and
alarm statistics; ``twin report`` and its errors."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from twin.cli import main
from twin.runs.output import run_headless
from twin.runs.replay import KPI_LABELS, SiteSeries, kpis
from twin.runs.report import build_report, ledger
from twin.scenario import load


def test_the_report_holds_kpis_ledger_charts_events_and_alarms(seoul_run: Path) -> None:
    page = build_report(seoul_run)
    series = SiteSeries.read(seoul_run)
    led = ledger(series)
    assert abs(led["closure_error"]) < 1e-6
    # the BESS smoothing the training swings gives up its conversion losses as heat,
    # so the heat rejected may exceed the energy taken in over a short run
    assert led["energy_in_kwh"] > 0 and led["heat_rejected_kwh"] > 0
    assert "Energy ledger (kWh)" in page
    assert f"{led['energy_in_kwh']:,.0f}" in page and f"{led['closure_error']:.2e}" in page
    for label in KPI_LABELS.values():
        assert label in page
    assert f"{kpis(series)['energy_mwh']:,.2f}" in page
    assert page.count("<svg") == 6 and "<polyline" in page
    assert "Event timeline" in page and "No scheduled events" not in page
    assert "alarms raised" in page and str(seoul_run.with_name("site.alarms.sqlite")) in page
    # self-contained: nothing is fetched
    assert not re.search(r"(src|href)=['\"]?https?:", page) and "<script" not in page


def test_a_comparison_report_shows_both_runs(seoul_run: Path, tmp_path: Path) -> None:
    other = tmp_path / "hot.csv"
    text = load("seoul-ai-factory").model_dump()
    text["gpu_management"]["power_cap_fraction"] = 0.6
    assert run_headless(load("seoul-ai-factory").model_validate(text), duration_s=3600,
                        dt_s=5.0, every_steps=12, out=other, progress=None) == 0
    page = build_report(seoul_run, compare_with=other)
    assert "other run" in page and "difference" in page and "lost tokens" in page
    assert "(other)" in page and "stroke-dasharray" in page and "dashed: other run" in page
    # a series of the other run is drawn in the colour of the same series of this run
    colour = {name: c for c, name in re.findall(
        r"<polyline fill='none' stroke='(#\w+)'[^>]*><title>([^<]+)<", page)}
    assert colour["facility_power_kw (other)"] == colour["facility_power_kw"]
    assert colour["it_power_kw (other)"] == colour["it_power_kw"] != colour["facility_power_kw"]
    assert "Both runs over the 1h they share" in page
    assert "class='n worse'" in page or "class='n better'" in page


def test_report_cli(capsys, seoul_run: Path, tmp_path: Path) -> None:
    out = tmp_path / "report.html"
    assert main(["report", str(seoul_run), "--out", str(out)]) == 0
    assert out.read_text(encoding="utf-8").startswith("<!DOCTYPE html>")
    assert capsys.readouterr().err.strip() == f"twin report: wrote {out}"


@pytest.mark.parametrize(("argv", "message"), [
    (["report", "{tmp}/missing.csv", "--out", "{tmp}/r.html"], "missing.csv: no such file"),
    (["report", "{run}", "--out", "{tmp}/r.txt"], "must end in .html or .pdf"),
    (["report", "{run}", "--out", "{tmp}/no/r.html"], "does not exist"),
    (["report", "{run}", "--compare", "{tmp}", "--out", "{tmp}/r.html"],
     "not a twin recording (no manifest.json)"),
    (["report", "{run}", "--journal", "{tmp}/j.sqlite", "--out", "{tmp}/r.html"],
     "j.sqlite does not exist"),
    (["report", "{run}"], "the following arguments are required: --out"),
])
def test_report_cli_errors(capsys, seoul_run: Path, tmp_path: Path, argv: list[str],
                           message: str) -> None:
    code = main([a.format(tmp=tmp_path, run=seoul_run) for a in argv])
    err = capsys.readouterr().err
    assert code == 2
    assert message in err and "Traceback" not in err
    assert not (tmp_path / "r.html").exists()
