"""The HTML run report: self-contained, with the KPIs, the ledger, charts, events and
alarm statistics; ``twin report`` and its errors."""

from __future__ import annotations

import html
import re
from pathlib import Path

import numpy as np
import pytest

from twin.alarms.journal import AlarmJournal, JournalRow
from twin.cli import main
from twin.runs.output import run_headless
from twin.runs.readable import format_si
from twin.runs.replay import KPI_LABELS, SiteSeries, kpis
from twin.runs.report import build_report, format_kpi, kpi_name, ledger, nice_ticks, svg_chart
from twin.scenario import load

EXPONENT = re.compile(r"\d\.?\d*e[+-]\d")


def _text(page: str) -> str:
    """What a reader reads: the page without its markup (the charts' text kept)."""
    return html.unescape(
        re.sub(r"<[^>]+>", " ", re.sub(r"<style>.*?</style>", "", page, flags=re.DOTALL))
    )


def _cell(page: str, name: str, column: int) -> tuple[str, str]:
    """(class, text) of a table row's cell, the row found by its first cell."""
    row = re.search(rf"<tr><td>{re.escape(name)}</td>(.*?)</tr>", page).group(1)
    cells = re.findall(r"<td(?: class='([^']*)')?>([^<]*)</td>", row)
    return cells[column]


def test_the_report_holds_kpis_ledger_charts_events_and_alarms(seoul_run: Path) -> None:
    page = build_report(seoul_run)
    series = SiteSeries.read(seoul_run)
    led = ledger(series)
    assert abs(led["closure_error"]) < 1e-6
    # the BESS smoothing the training swings gives up its conversion losses as heat,
    # so the heat rejected may exceed the energy taken in over a short run
    assert led["energy_in_kwh"] > 0 and led["heat_rejected_kwh"] > 0
    text = _text(page)
    assert "Energy ledger" in page and format_si(led["energy_in_kwh"] * 1e3, "Wh") in text
    assert "< 0.000001 %" in text  # the closure error, as a percentage
    for key in KPI_LABELS:
        assert kpi_name(key) in text
    assert format_kpi("energy_mwh", kpis(series)["energy_mwh"]) in text
    assert " G tokens" in text and " M KRW" in text and "0 racks" in text
    assert not EXPONENT.search(text)
    # the run's settings and the series by their names, never their keys
    assert "Step" in text and "Row interval" in text and "dt_s" not in text
    assert "Hottest GPU (°C)" in text and "gpu_temp_max_c" not in text
    assert page.count("<svg") == 6 and "<polyline" in page
    # a time-of-day axis (the run starts at midnight), limits from the scenario, the
    # battery on an axis of its own
    assert "time of day (from 2026-08-01 00:00)" in text and ">00:30<" in page
    assert "GPU throttle 87 °C" in text and "GPU trip 97 °C" in text and "Import cap" in text
    assert "Battery (discharging +) (kW) – right axis" in text
    assert "Event timeline" in page and "No scheduled events" not in page
    # the two-hour run ends before its events (4 h and 260 min): scheduled, not applied
    assert text.count("not reached: after the run's end") == 2 and "applied" not in re.sub(
        "never applied", "", text
    )
    assert "alarms raised" in page and str(seoul_run.with_name("site.alarms.sqlite")) in page
    # self-contained: nothing is fetched
    assert not re.search(r"(src|href)=['\"]?https?:", page) and "<script" not in page


def test_a_comparison_report_shows_both_runs(seoul_run: Path, tmp_path: Path) -> None:
    other = tmp_path / "hot.csv"
    text = load("seoul-ai-factory").model_dump()
    text["gpu_management"]["power_cap_fraction"] = 0.6
    assert (
        run_headless(
            load("seoul-ai-factory").model_validate(text),
            duration_s=3600,
            dt_s=5.0,
            every_steps=12,
            out=other,
            progress=None,
        )
        == 0
    )
    page = build_report(seoul_run, compare_with=other)
    assert "other run" in page and "this − other" in page and "Lost tokens" in page
    assert "(other)" in page and "stroke-dasharray" in page and "dashed: other run" in page
    # a series of the other run is drawn in the colour of the same series of this run
    colour = {
        name: c
        for c, name in re.findall(
            r"<polyline fill='none' stroke='(#\w+)'[^>]*><title>([^<]+)<", page
        )
    }
    assert colour["Facility power (kW) (other)"] == colour["Facility power (kW)"]
    assert (
        colour["IT power (kW) (other)"] == colour["IT power (kW)"] != colour["Facility power (kW)"]
    )
    assert "Both runs over the 1h they share" in page
    # read from this run: it ran its GPUs uncapped, so it used more energy and ran hotter
    # (worse, red) and delivered more tokens (better, green); this - other is stated
    mine, capped = kpis(SiteSeries.read(seoul_run).until(3600)), kpis(SiteSeries.read(other))
    for key, outcome in (
        ("energy_mwh", "worse"),
        ("peak_gpu_temp_c", "worse"),
        ("tokens", "better"),
    ):
        css, text = _cell(page, kpi_name(key), 2)
        assert css == f"n {outcome}"
        assert text == format_kpi(key, mine[key] - capped[key], signed=True)
        assert text.startswith("+")
    assert _cell(page, kpi_name("peak_gpu_temp_c"), 2)[1].endswith(" K")
    assert _cell(page, kpi_name("max_tripped_racks"), 2) == ("n", "0 racks")  # equal: no colour


def test_alarms_by_name_and_priorities_in_severity_order(seoul_run: Path, tmp_path: Path) -> None:
    journal_path = tmp_path / "site.alarms.sqlite"
    journal = AlarmJournal(journal_path)
    for k, (tag, priority) in enumerate(
        [
            ("cdu.dp", "low"),
            ("rack.tripped", "critical"),
            ("rack.gpu_temp", "medium"),
            ("cdu.dp", "low"),
            ("rack.flow", "high"),
            ("cdu.dp", "low"),
        ]
    ):
        journal.record(
            JournalRow(
                60.0 * k,
                0.0,
                "raise",
                tag,
                "H",
                "H1-R01-01",
                priority,
                "unack-active",
                1.0,
                1.0,
                "",
                tag,
            )
        )
    journal.close()
    text = _text(build_report(seoul_run, journal=journal_path))
    order = [text.index(f"priority {p}") for p in ("critical", "high", "medium", "low")]
    assert order == sorted(order)
    assert "GPU temperature" in text and "Rack tripped" in text and "Rack coolant flow" in text
    assert "rack.gpu_temp" not in text and "cdu.dp" not in text


def test_report_cli(capsys, seoul_run: Path, tmp_path: Path) -> None:
    out = tmp_path / "report.html"
    assert main(["report", str(seoul_run), "--out", str(out)]) == 0
    assert out.read_text(encoding="utf-8").startswith("<!DOCTYPE html>")
    assert capsys.readouterr().err.strip() == f"twin report: wrote {out}"


@pytest.mark.parametrize(
    ("argv", "message"),
    [
        (["report", "{tmp}/missing.csv", "--out", "{tmp}/r.html"], "missing.csv: no such file"),
        (["report", "{run}", "--out", "{tmp}/r.txt"], "must end in .html or .pdf"),
        (["report", "{run}", "--out", "{tmp}/no/r.html"], "does not exist"),
        (
            ["report", "{run}", "--compare", "{tmp}", "--out", "{tmp}/r.html"],
            "not a twin recording (no manifest.json)",
        ),
        (
            ["report", "{run}", "--journal", "{tmp}/j.sqlite", "--out", "{tmp}/r.html"],
            "j.sqlite does not exist",
        ),
        (["report", "{run}"], "the following arguments are required: --out"),
    ],
)
def test_report_cli_errors(
    capsys, seoul_run: Path, tmp_path: Path, argv: list[str], message: str
) -> None:
    code = main([a.format(tmp=tmp_path, run=seoul_run) for a in argv])
    err = capsys.readouterr().err
    assert code == 2
    assert message in err and "Traceback" not in err
    assert not (tmp_path / "r.html").exists()


def test_a_value_axis_across_zero_labels_zero_without_a_sign():
    ticks = nice_ticks(-1.3, 3.6)
    assert 0.0 in ticks and not np.signbit(ticks[ticks == 0.0]).any()
    chart = svg_chart("residual", "kPa", [("residual", np.arange(3.0), np.array([-1.3, 3.6, 0.2]))])
    assert ">-0<" not in chart and ">0<" in chart
