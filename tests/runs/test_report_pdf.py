"""The PDF run report: the HTML report's sections on numbered A4 or Letter pages, charts as
lossless images; ``twin report --out FILE.pdf`` with no display, and its errors."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
from pypdf import PdfReader

from twin import __version__
from twin.cli import main
from twin.runs import report
from twin.runs.output import run_headless
from twin.runs.readable import format_si
from twin.runs.replay import KPI_LABELS, SiteSeries, kpis
from twin.runs.report import COLOURS, format_kpi, kpi_name, ledger
from twin.runs.report_pdf import CHART_DPI, MARGINS_MM, offscreen_platform, write_pdf_report
from twin.scenario import load

REPO = Path(__file__).resolve().parents[2]
# the PDF's Qt objects need an application; pytest-qt's QApplication is the one all tests share
pytestmark = pytest.mark.usefixtures("qapp")


def _text(reader: PdfReader) -> str:
    """The PDF's text with runs of white space (pypdf puts tabs between words) as one."""
    return " ".join(" ".join(page.extract_text() for page in reader.pages).split())


def _images(reader: PdfReader) -> dict[int, dict]:
    """The image objects the pages draw, by object number (a chart drawn, clipped, on two
    pages is one object)."""
    images = {}
    for page in reader.pages:
        for ref in page["/Resources"].get("/XObject", {}).values():
            obj = ref.get_object()
            if obj["/Subtype"] == "/Image":
                images[ref.idnum] = obj
    return images


def test_the_pdf_holds_the_report_on_numbered_a4_pages(seoul_run: Path, tmp_path: Path) -> None:
    out = tmp_path / "report.pdf"
    pages = write_pdf_report(seoul_run, out)
    assert out.read_bytes().startswith(b"%PDF-")
    reader = PdfReader(out)
    assert len(reader.pages) == pages >= 2
    for page in reader.pages:
        assert (round(float(page.mediabox.width)), round(float(page.mediabox.height))) == (
            595,
            842,
        )  # A4 in points
    assert reader.metadata.title == "twin run report: seoul-ai-factory"
    assert reader.metadata.creator == f"twin {__version__}"

    text = _text(reader)
    series = SiteSeries.read(seoul_run)
    led = ledger(series)
    assert "twin run report: seoul-ai-factory" in text and "Energy ledger" in text
    assert format_si(led["energy_in_kwh"] * 1e3, "Wh") in text and "< 0.000001 %" in text
    for key in KPI_LABELS:
        assert kpi_name(key) in text
    assert format_kpi("energy_mwh", kpis(series)["energy_mwh"]) in text
    assert "not reached: after the run's end" in text
    assert "Event timeline" in text and "pump-trip" in text and "alarms raised" in text
    for number in range(1, pages + 1):
        assert f"twin run report: seoul-ai-factory (site.csv) page {number} of {pages}" in text

    images = _images(reader)
    assert len(images) == 6  # one per chart
    text_width_in = (210 - MARGINS_MM[0] - MARGINS_MM[2]) / 25.4
    for image in images.values():
        assert image["/Filter"] == "/FlateDecode"  # lossless, not JPEG
        assert abs(image["/Width"] - text_width_in * CHART_DPI) <= 2  # the text width
        pixels = np.frombuffer(image.get_data(), np.uint8).reshape(
            image["/Height"], image["/Width"], 3
        )
        first_series = np.all(pixels == list(bytes.fromhex(COLOURS[0][1:])), axis=2)
        assert first_series.sum() > 500  # QtSvg drew the chart's first line


def test_a_comparison_on_letter_pages(seoul_run: Path, tmp_path: Path) -> None:
    other = tmp_path / "capped.csv"
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
    out = tmp_path / "report.pdf"
    write_pdf_report(seoul_run, out, compare_with=other, page_size="Letter")
    reader = PdfReader(out)
    page = reader.pages[0]
    assert (round(float(page.mediabox.width)), round(float(page.mediabox.height))) == (612, 792)
    text = _text(reader)
    assert "this run other run this − other" in text and "Lost tokens" in text
    assert "Both runs over the 1h they share" in text
    assert len(_images(reader)) == 6


def test_a_table_longer_than_a_page_repeats_its_header(
    seoul_run: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    scenario = load("seoul-ai-factory")
    data = scenario.model_dump()
    data["events"] = [dict(data["events"][0], at_s=60.0 * k) for k in range(150)]
    long_timeline = scenario.model_validate(data)
    monkeypatch.setattr(report, "_scenario", lambda run_output, series: (long_timeline, ""))
    out = tmp_path / "report.pdf"
    write_pdf_report(seoul_run, out)
    pages = [" ".join(page.extract_text().split()) for page in PdfReader(out).pages]
    timeline = [page for page in pages if "pump-trip" in page]
    assert len(timeline) >= 3
    assert all("at event details in this run" in page for page in timeline)


def test_an_unknown_page_size_is_refused(seoul_run: Path, tmp_path: Path) -> None:
    with pytest.raises(ValueError, match="page size 'A5' is not one of A4, Letter"):
        write_pdf_report(seoul_run, tmp_path / "r.pdf", page_size="A5")
    assert not (tmp_path / "r.pdf").exists()


def test_report_cli_writes_a_pdf(capsys, seoul_run: Path, tmp_path: Path) -> None:
    out = tmp_path / "report.PDF"
    assert main(["report", str(seoul_run), "--out", str(out), "--page-size", "letter"]) == 0
    assert capsys.readouterr().err.strip() == f"twin report: wrote {out}"
    assert round(float(PdfReader(out).pages[0].mediabox.width)) == 612


@pytest.mark.parametrize(
    ("argv", "message"),
    [
        (
            ["report", "{run}", "--out", "{tmp}/r.txt"],
            "--out {tmp}/r.txt must end in .html or .pdf",
        ),
        (
            ["report", "{run}", "--out", "{tmp}/r.pdf", "--page-size", "A5"],
            "--page-size A5 is not one of A4, Letter",
        ),
        (
            ["report", "{run}", "--out", "{tmp}/r.html", "--page-size", "A4"],
            "--page-size is for a PDF (--out FILE.pdf)",
        ),
        (
            ["report", "{run}", "--out", "{tmp}/no/r.pdf"],
            "the folder of {tmp}/no/r.pdf does not exist",
        ),
        (
            ["report", "{run}", "--out", "{tmp}/folder.pdf"],
            "--out {tmp}/folder.pdf is a folder; give a file name",
        ),
        (
            ["report", "{tmp}/missing.csv", "--out", "{tmp}/r.pdf"],
            "{tmp}/missing.csv: no such file",
        ),
    ],
)
def test_report_cli_pdf_errors(
    capsys, seoul_run: Path, tmp_path: Path, argv: list[str], message: str
) -> None:
    (tmp_path / "folder.pdf").mkdir()
    code = main([a.format(tmp=tmp_path, run=seoul_run) for a in argv])
    err = capsys.readouterr().err
    assert code == 2
    assert f"twin report: {message.format(tmp=tmp_path)}" in err and "Traceback" not in err
    assert sorted(p.name for p in tmp_path.iterdir()) == ["folder.pdf"]


def _python_m_twin(*args: str, **env: str) -> subprocess.CompletedProcess[str]:
    clean = {
        k: v
        for k, v in os.environ.items()
        if k not in ("DISPLAY", "WAYLAND_DISPLAY", "QT_QPA_PLATFORM")
    }
    return subprocess.run(
        [sys.executable, *args],
        capture_output=True,
        text=True,
        timeout=120,
        cwd=REPO,
        env={**clean, "PYTHONPATH": str(REPO), **env},
        check=False,
    )


def test_report_cli_writes_a_pdf_without_a_display(seoul_run: Path, tmp_path: Path) -> None:
    out = tmp_path / "report.pdf"
    done = _python_m_twin("-m", "twin", "report", str(seoul_run), "--out", str(out))
    assert done.returncode == 0, done.stderr
    assert done.stderr.strip() == f"twin report: wrote {out}"
    assert out.read_bytes().startswith(b"%PDF-") and len(PdfReader(out).pages) >= 2


def test_an_html_report_never_imports_qt(seoul_run: Path, tmp_path: Path) -> None:
    out = tmp_path / "report.html"
    done = _python_m_twin(
        "-c",
        (
            "import sys; from twin.cli import main; "
            f"code = main(['report', {str(seoul_run)!r}, '--out', {str(out)!r}]); "
            "print(code, sorted(m for m in sys.modules if m.startswith('PySide6')))"
        ),
    )
    assert done.stdout.strip() == "0 []", done.stderr


@pytest.mark.parametrize(
    ("environ", "platform", "offscreen"),
    [
        ({}, "linux", True),
        ({"DISPLAY": ":0"}, "linux", True),  # the PDF never reaches the screen
        ({"WAYLAND_DISPLAY": "wayland-0"}, "freebsd14", True),
        ({"QT_QPA_PLATFORM": "xcb"}, "linux", False),  # the user's choice is kept
        ({}, "win32", False),
        ({}, "darwin", False),
    ],
)
def test_qt_runs_offscreen_for_a_pdf_unless_told_otherwise(
    environ: dict[str, str], platform: str, offscreen: bool
) -> None:
    assert offscreen_platform(environ, platform) is offscreen


def test_the_first_page_says_what_is_missing(seoul_run: Path, tmp_path: Path) -> None:
    # the seoul run cut short, as a kill leaves it: the first part of its rows under the
    # partial name, the journal beside it under its own
    lines = seoul_run.read_text(encoding="utf-8").splitlines(keepends=True)
    header = sum(1 for line in lines if line.startswith("#")) + 1
    partial = tmp_path / "site.csv.partial"
    partial.write_text("".join(lines[: header + 30]) + "1860,12", encoding="utf-8")
    out = tmp_path / "report.pdf"
    write_pdf_report(tmp_path / "site.csv", out)
    first = " ".join(PdfReader(out).pages[0].extract_text().split())
    assert "Incomplete data" in first
    assert "site.csv was never completed" in first
    assert "the last row was cut off" in first
    assert "rows after 30min are missing (90 of 120 rows)" in first
