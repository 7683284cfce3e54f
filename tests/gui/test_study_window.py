"""The study view: a real study's runs in the table and on the chart, sorting, picking a
point, and a run opened as a replay of its rerun (`twin gui --study`)."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from twin.cli import main
from twin.gui.study_view import load_study_runs
from twin.study.cluster import connect
from twin.study.plan import load_study
from twin.study.rerun import recording_folder
from twin.study.run import run_study

pytestmark = pytest.mark.gui

# a study that finishes no run for this long has stalled: the test fails instead of waiting
STALL_S = 300.0

SWEEP = """
[study]
name = "view-sweep"
scenario = "single-rack"
duration_s = "30min"
dt_s = "60s"
every_s = "5min"

[sweep]
method = "grid"

[[sweep.parameters]]
path = "facility_water.supply_setpoint_c"
values = [28, 36]

[[sweep.parameters]]
path = "workloads[0].compute_utilization"
values = [0.4, 0.7, 1.0]
"""
SETPOINT = "param.facility_water.supply_setpoint_c"
UTILIZATION = "param.workloads[0].compute_utilization"


@pytest.fixture(scope="module")
def results(tmp_path_factory) -> Path:
    folder = tmp_path_factory.mktemp("study")
    path = folder / "study.toml"
    path.write_text(SWEEP, encoding="utf-8")
    with connect(workers=1, processes=False) as client:
        assert run_study(load_study(path), folder / "results", client, stall_s=STALL_S).failed == 0
    return folder / "results"


@pytest.fixture
def study_window(qtbot, qapp, results):
    import vispy

    from twin.gui._qt.study_window import StudyWindow
    from twin.gui.study_app import replay_window

    vispy.use(app="pyside6", gl="gl+")  # as the window's start-up sets it
    replays: list = []
    window = StudyWindow(
        load_study_runs(results), lambda folder: replay_window(folder, "dark", replays).show()
    )
    qtbot.addWidget(window)
    window.show()
    qtbot.waitExposed(window)
    yield window, replays
    for replay in list(replays):
        replay.close()
    qtbot.waitUntil(lambda: not replays, timeout=30_000)  # each closed window is deleted


def _column(window, key: str) -> int:
    return [c.key for c in window.runs.columns].index(key)


def _shown(window, key: str) -> list[str]:
    column = _column(window, key)
    return [window.proxy.index(row, column).data() for row in range(window.proxy.rowCount())]


def test_the_table_lists_every_run_and_sorts_by_a_clicked_column(study_window, qtbot):
    from PySide6.QtCore import QPoint, Qt

    window, _ = study_window
    assert window.proxy.rowCount() == 7  # the reference and six sweep points
    assert _shown(window, "run_id")[0] == "reference"
    header = window.table.horizontalHeader()
    column = _column(window, "tokens_lost")
    at = QPoint(
        header.sectionViewportPosition(column) + header.sectionSize(column) // 2,
        header.height() // 2,
    )
    qtbot.mouseClick(header.viewport(), Qt.MouseButton.LeftButton, pos=at)
    qtbot.waitUntil(lambda: header.sortIndicatorSection() == column)
    values = window.runs.column("tokens_lost").values
    order = [
        window.runs.run_ids[window.proxy.mapToSource(window.proxy.index(r, 0)).row()]
        for r in range(window.proxy.rowCount())
    ]
    shown = [values[window.runs.run_ids.index(r)] for r in order]
    ascending = header.sortIndicatorOrder() == Qt.SortOrder.AscendingOrder
    assert shown == sorted(shown, reverse=not ascending)
    assert shown[0] != shown[-1]  # the lower utilizations lose tokens


def test_the_chart_follows_the_axes_and_a_clicked_point_picks_its_run(study_window, qtbot):
    from PySide6.QtCore import QPointF, Qt

    window, _ = study_window
    assert window.axes() == (SETPOINT, "pue")
    assert len(window.scatter.data) == 6
    window.set_axes(UTILIZATION, "tokens_lost")
    qtbot.waitUntil(lambda: window.plot.getPlotItem().getAxis("left").labelText == "tokens_lost")
    xs, _, _ = window.runs.points(UTILIZATION, "tokens_lost")
    assert sorted(window.scatter.data["x"].tolist()) == sorted(xs.tolist())
    # click the point of sweep-000004 (36 C, utilization 0.7)
    row = window.runs.run_ids.index("sweep-000004")
    target = (
        window.runs.column(UTILIZATION).values[row],
        window.runs.column("tokens_lost").values[row],
    )
    view_box = window.plot.getPlotItem().getViewBox()
    qtbot.waitUntil(lambda: view_box.viewRange()[0][0] <= 0.4 and view_box.viewRange()[0][1] >= 1)

    def click_the_point() -> bool:
        # the view may still settle its range on a loaded machine: aim again at each try
        at = window.plot.mapFromScene(view_box.mapViewToScene(QPointF(*target)))
        qtbot.mouseClick(window.plot.viewport(), Qt.MouseButton.LeftButton, pos=at)
        return window.selected_run() is not None

    qtbot.waitUntil(click_the_point, timeout=20000)
    picked = window.selected_run()
    # the points at 0.7 utilization lie on top of each other (tokens do not depend on the
    # setpoint): either of them is the right pick
    assert window.runs.column(UTILIZATION).values[window.runs.run_ids.index(picked)] == 0.7
    assert window.replay_button.isEnabled()
    np.testing.assert_allclose(window.picked.data["x"], [0.7])


def test_a_run_double_clicked_in_the_table_opens_as_a_replay_of_its_rerun(
    study_window, qtbot, results
):
    from PySide6.QtCore import Qt

    window, replays = study_window
    row_of_run = _shown(window, "run_id").index("sweep-000005")
    index = window.proxy.index(row_of_run, _column(window, "pue"))
    rect = window.table.visualRect(index)
    # a double click as a mouse makes it: a click, then the second press
    qtbot.mouseClick(window.table.viewport(), Qt.MouseButton.LeftButton, pos=rect.center())
    qtbot.waitUntil(lambda: window.selected_run() == "sweep-000005")
    with qtbot.waitSignal(window.replay_opened, timeout=120000) as opened:
        qtbot.mouseDClick(window.table.viewport(), Qt.MouseButton.LeftButton, pos=rect.center())
    assert opened.args[0] == recording_folder(results, "sweep-000005") / "recording"
    assert len(replays) == 1
    replay = replays[0]
    assert replay.scenario.facility_water.supply_setpoint_c == 36.0
    assert replay.scenario.workloads[0].compute_utilization == 1.0
    qtbot.waitUntil(lambda: replay.snapshot is not None, timeout=30_000)
    assert "opened as a replay" in window.status.text()
    assert window.rerunning is None and window.replay_button.isEnabled()


def test_twin_gui_study_opens_the_view_and_refuses_a_folder_that_is_not_one(
    results, tmp_path, capsys
):
    assert main(["gui", "--study", str(tmp_path)]) == 2
    assert "is not a 'twin study' results folder" in capsys.readouterr().err
    assert main(["gui", "--study", str(results), "--scenario", "single-rack"]) == 2
    assert "leave out --scenario" in capsys.readouterr().err
    empty = tmp_path / "empty"
    (empty / "runs").mkdir(parents=True)
    (empty / "study.json").write_bytes((results / "study.json").read_bytes())
    assert main(["gui", "--study", str(empty)]) == 2
    assert "holds no finished runs" in capsys.readouterr().err
    shot = tmp_path / "study.png"
    done = subprocess.run(
        [
            sys.executable,
            "-m",
            "twin",
            "gui",
            "--study",
            str(results),
            "--exit-after",
            "2",
            "--screenshot",
            str(shot),
        ],
        capture_output=True,
        text=True,
        timeout=120,
        env=os.environ.copy(),
        cwd=Path(__file__).resolve().parents[2],
    )
    assert done.returncode == 0, done.stderr
    report = json.loads(done.stdout.strip().splitlines()[-1])
    assert report == {**report, "study": "view-sweep", "runs_shown": 7, "points": 6}
    assert shot.stat().st_size > 0
