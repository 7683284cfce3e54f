"""Exporting the trends while comparing with another run: the CSV holds the other run's
series in columns of their own, named for the run, at the other run's own times and in
the display units, beside this run's; the difference view exports A − B; the PNG shows
the other run's dashed curves."""

from __future__ import annotations

import csv
import dataclasses
from pathlib import Path

import numpy as np
import pytest

from tests.fakes import FakeSimulation, scenario_named
from twin.gui._qt.trends import TrendPanel
from twin.gui.units import UnitSystem
from twin.runs.replay import SiteLog, SiteSeries

pytestmark = pytest.mark.gui

SCENARIO = scenario_named("single-rack")
REFERENCE_TIMES = np.arange(0.0, 1801.0, 45.0)  # every 45 s: not this run's times


def _reference_gpu_c(times: np.ndarray) -> np.ndarray:
    return 60.0 + times / 100.0


def _reference_it_kw(times: np.ndarray) -> np.ndarray:
    return 30_000.0 + 5.0 * times


def _reference(source: str = "baseline.csv") -> SiteSeries:
    t = REFERENCE_TIMES
    return SiteSeries(
        source,
        {
            "time_s": t,
            "facility_power_kw": 1.1 * _reference_it_kw(t),
            "it_power_kw": _reference_it_kw(t),
            "gpu_temp_max_c": _reference_gpu_c(t),
        },
        {"scenario": SCENARIO.scenario.name},
    )


def _read(path: Path) -> dict[str, np.ndarray]:
    """The columns of an exported CSV by name, each without its padding of empty cells."""
    with path.open(newline="") as file:
        header, *rows = list(csv.reader(file))
    columns = {}
    for i, name in enumerate(header):
        cells = [row[i] for row in rows if i < len(row) and row[i] != ""]
        columns[name] = np.array(cells, dtype=float)
    return columns


@pytest.fixture
def panel(qtbot):
    panel = TrendPanel(SCENARIO.scenario.start)
    qtbot.addWidget(panel)
    panel.resize(1200, 600)
    panel.show()
    qtbot.waitExposed(panel)
    base = FakeSimulation(SCENARIO).snapshot()
    for minute in range(11):
        site = dict(base.site)
        site.update(gpu_temp_max_c=70.0 + minute, it_power_kw=40_000.0)
        panel.append(dataclasses.replace(base, time_s=60.0 * minute, site=site))
    return panel


def test_csv_has_the_compared_runs_series_in_columns_of_their_own(panel, tmp_path):
    panel.set_reference(_reference(), SiteLog("single-rack (live)", {}, 60.0, 1800.0))
    path = tmp_path / "trends.csv"
    panel.export_csv(path)
    columns = _read(path)

    gpu_a, gpu_b = "Hottest GPU (A: single-rack (live)) [°C]", "Hottest GPU (B: baseline.csv) [°C]"
    minutes = np.arange(11)
    np.testing.assert_array_equal(columns[f"{gpu_a}_x"], np.repeat(60.0 * minutes, 2))
    np.testing.assert_array_equal(columns[f"{gpu_a}_y"], np.repeat(70.0 + minutes, 2))
    # The other run at its own times, across the 15 minutes shown and one row on each
    # side, as this run's bins run to the edges.
    left, right = panel.site_views["temperatures"].plot.viewRange()[0]
    assert (left, right) == (0.0, 900.0)
    times = REFERENCE_TIMES[REFERENCE_TIMES <= 945.0]
    np.testing.assert_array_equal(columns[f"{gpu_b}_x"], times)
    np.testing.assert_allclose(columns[f"{gpu_b}_y"], _reference_gpu_c(times))
    np.testing.assert_allclose(
        columns["IT power (B: baseline.csv) [MW]_y"], _reference_it_kw(times) / 1000
    )
    np.testing.assert_allclose(columns["IT power (A: single-rack (live)) [MW]_y"], 40.0)
    # what the other run did not record, and the plots hidden, have no columns
    assert "Import cap (A: single-rack (live)) [MW]_y" in columns
    assert not any(name.startswith("Import cap (B") for name in columns)
    assert not any(name.startswith("PUE") for name in columns)
    assert "Hottest GPU [°C]_x" not in columns  # named for its run while comparing

    panel.set_units(UnitSystem.US_CUSTOMARY)
    panel.export_csv(path)
    columns = _read(path)
    np.testing.assert_allclose(
        columns["Hottest GPU (B: baseline.csv) [°F]_y"], _reference_gpu_c(times) * 9 / 5 + 32
    )
    np.testing.assert_allclose(
        columns["Hottest GPU (A: single-rack (live)) [°F]_y"],
        np.repeat(70.0 + minutes, 2) * 9 / 5 + 32,
    )

    panel.set_reference(None)
    panel.export_csv(path)
    columns = _read(path)
    assert "Hottest GPU [°F]_y" in columns
    assert not any("(B" in name or "(A" in name for name in columns)


def test_the_difference_view_exports_a_minus_b(panel, tmp_path):
    panel.set_reference(_reference(), SiteLog("single-rack (live)", {}, 60.0, 1800.0))
    panel.set_difference(True)
    path = tmp_path / "difference.csv"
    panel.export_csv(path)
    columns = _read(path)
    x = columns["Hottest GPU (A − B) [°C]_x"]
    np.testing.assert_array_equal(x, np.repeat(60.0 * np.arange(11), 2))
    np.testing.assert_allclose(
        columns["Hottest GPU (A − B) [°C]_y"], 70.0 + x / 60.0 - _reference_gpu_c(x)
    )
    assert not any("(B:" in name or "(A:" in name for name in columns)
    assert not any(name.startswith("Import cap") for name in columns)  # nothing to subtract


def _rgb(path: Path) -> np.ndarray:
    from PySide6.QtGui import QImage

    image = QImage(str(path)).convertToFormat(QImage.Format.Format_RGB888)
    rows = np.frombuffer(image.constBits(), np.uint8).reshape(image.height(), -1)
    return rows[:, : 3 * image.width()].reshape(image.height(), image.width(), 3).astype(int)


def test_a_window_comparing_with_a_run_table_exports_both_runs(
    make_window, qtbot, tmp_path, monkeypatch
):
    from PySide6.QtWidgets import QFileDialog

    table = tmp_path / "baseline.csv"
    rows = "".join(
        f"{t},{1.1 * _reference_it_kw(t)},{_reference_it_kw(t)},{_reference_gpu_c(t)}\n"
        for t in REFERENCE_TIMES
    )
    table.write_text(
        f"# scenario: {SCENARIO.scenario.name}\n"
        "time_s,facility_power_kw,it_power_kw,gpu_temp_max_c\n" + rows
    )
    simulation = FakeSimulation(SCENARIO)
    window = make_window("single-rack", simulation=simulation, running=False)
    qtbot.waitUntil(lambda: window.snapshot is not None, timeout=30_000)
    assert window.compare_with(table)  # as File > Compare with does
    for _ in range(5):
        generation = window.shown_generation
        window.runner.call(lambda sim: sim.step(60))
        qtbot.waitUntil(lambda g=generation: window.shown_generation > g, timeout=30_000)
    trends = window.trends

    path = tmp_path / "chosen.csv"
    monkeypatch.setattr(QFileDialog, "getSaveFileName", lambda *args, **kwargs: (str(path), ""))
    trends.export_csv_action.trigger()
    columns = _read(path)
    gpu_a = "Hottest GPU (A: single-rack (live)) [°C]"
    gpu_b = "Hottest GPU (B: baseline.csv) [°C]"
    assert columns[f"{gpu_a}_x"][-1] == window.snapshot.time_s > 300.0
    np.testing.assert_allclose(columns[f"{gpu_a}_y"], window.snapshot.site["gpu_temp_max_c"])
    times = REFERENCE_TIMES[REFERENCE_TIMES <= 945.0]  # 15 minutes shown, one row beyond
    np.testing.assert_array_equal(columns[f"{gpu_b}_x"], times)
    np.testing.assert_allclose(columns[f"{gpu_b}_y"], _reference_gpu_c(times))

    # The image shows the other run's dashed curve: without it, and nothing else changed,
    # the image differs on the temperature plot's data area only.
    view = trends.site_views["temperatures"]
    view.plot.getViewBox().disableAutoRange()  # the same scale with and without
    shown, hidden = tmp_path / "with.png", tmp_path / "without.png"
    trends.export_png(shown)
    dashed = [curve for curve in view.reference_curves if curve is not None]
    assert dashed and all(curve.isVisible() for curve in dashed)
    for curve in dashed:
        curve.setVisible(False)
    trends.export_png(hidden)
    rows, columns = np.nonzero(np.abs(_rgb(shown) - _rgb(hidden)).max(axis=2) > 40)
    assert len(rows) > 50
    area = (
        view.plot.getViewBox()
        .sceneBoundingRect()
        .translated(-trends.graphics.ci.sceneBoundingRect().topLeft())
    )
    assert area.top() <= rows.min() and rows.max() <= area.bottom()
    assert area.left() <= columns.min() and columns.max() <= area.right()
