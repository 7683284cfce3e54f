"""The study view: a study's runs in a sortable table beside a chart of a KPI against a
parameter. Picking a run (a row, or a point on the chart) selects it in both; opening it
(a double click on its row or point, or "Open as replay") runs it again as a recording,
on a thread of its own, and opens the recording in a replay window.

What it shows comes from ``twin.gui.study_view`` (no Qt there); the rerun is
``twin.study.rerun.record_run``.
"""

from __future__ import annotations

import contextvars
import re
import threading
from collections.abc import Callable
from pathlib import Path
from typing import IO, Any, cast

import numpy as np
import pyqtgraph as pg
from PySide6.QtCore import (
    QAbstractTableModel,
    QItemSelectionModel,
    QModelIndex,
    QObject,
    QPersistentModelIndex,
    QSortFilterProxyModel,
    Qt,
    Signal,
)
from PySide6.QtGui import QCloseEvent
from PySide6.QtWidgets import (
    QAbstractItemView,
    QComboBox,
    QHBoxLayout,
    QLabel,
    QMainWindow,
    QPushButton,
    QSplitter,
    QTableView,
    QVBoxLayout,
    QWidget,
)

from twin.gui._qt.theme import DARK, Theme
from twin.gui.study_view import StudyRuns, cell_text, load_study_runs, sort_key
from twin.scenario import ScenarioError
from twin.study.rerun import RerunError, record_run
from twin.study.results import ResultsError

SORT_ROLE = Qt.ItemDataRole.UserRole
ROOT = QModelIndex()  # a flat table's rows have the invisible root as their parent
POINT_SIZE_PX = 8
PICKED_SIZE_PX = 16
_PERCENT = re.compile(r"(\d+(?:\.\d+)?)% simulated")


class StudyTableModel(QAbstractTableModel):
    def __init__(self, runs: StudyRuns, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self.runs = runs

    def set_runs(self, runs: StudyRuns) -> None:
        self.beginResetModel()
        self.runs = runs
        self.endResetModel()

    def rowCount(self, parent: QModelIndex | QPersistentModelIndex = ROOT) -> int:
        return 0 if parent.isValid() else len(self.runs.run_ids)

    def columnCount(self, parent: QModelIndex | QPersistentModelIndex = ROOT) -> int:
        return 0 if parent.isValid() else len(self.runs.columns)

    def data(
        self, index: QModelIndex | QPersistentModelIndex, role: int = Qt.ItemDataRole.DisplayRole
    ) -> Any:
        if not index.isValid():
            return None
        column = self.runs.columns[index.column()]
        value = column.values[index.row()]
        if role == Qt.ItemDataRole.DisplayRole:
            return cell_text(value)
        if role == SORT_ROLE:
            return sort_key(value)
        if role == Qt.ItemDataRole.TextAlignmentRole and column.numeric:
            return int(Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter)
        return None

    def headerData(
        self, section: int, orientation: Qt.Orientation, role: int = Qt.ItemDataRole.DisplayRole
    ) -> Any:
        if role == Qt.ItemDataRole.DisplayRole and orientation == Qt.Orientation.Horizontal:
            return self.runs.columns[section].label
        return None


class _RerunSignals(QObject):
    finished = Signal(str, object)  # run id, the recording's folder
    failed = Signal(str, str)  # run id, why
    progressed = Signal(str, float)  # run id, share simulated


class RerunCancelled(Exception):
    """Raised into a rerun through its progress stream when the view closes."""


class _Progress:
    """``twin run``'s progress lines for one rerun: the share simulated goes to the view,
    and a request to stop is raised into the run."""

    def __init__(self, run_id: str, signals: _RerunSignals, stop: threading.Event) -> None:
        self.run_id, self.signals, self.stop = run_id, signals, stop

    def write(self, text: str) -> int:
        if self.stop.is_set():
            raise RerunCancelled
        match = _PERCENT.search(text)
        if match:
            self.signals.progressed.emit(self.run_id, float(match.group(1)) / 100.0)
        return len(text)

    def flush(self) -> None:
        if self.stop.is_set():
            raise RerunCancelled


class StudyWindow(QMainWindow):
    """``open_replay(recording_folder)`` opens a finished rerun's recording (the window
    the command line starts opens a replay window; tests record what it is given)."""

    replay_opened = Signal(object)  # the recording folder a replay was opened on

    def __init__(
        self, runs: StudyRuns, open_replay: Callable[[Path], Any], *, theme: Theme = DARK
    ) -> None:
        super().__init__()
        self.runs = runs
        self.open_replay = open_replay
        self.theme = theme
        self.setWindowTitle(f"twin study — {runs.plan.study.study.name}")
        self.resize(1280, 760)
        self._signals = _RerunSignals()
        self._signals.finished.connect(self._rerun_finished)
        self._signals.failed.connect(self._rerun_failed)
        self._signals.progressed.connect(self._rerun_progressed)
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        self.rerunning: str | None = None

        self.model = StudyTableModel(runs, self)
        self.proxy = QSortFilterProxyModel(self)
        self.proxy.setSourceModel(self.model)
        self.proxy.setSortRole(SORT_ROLE)
        self.table = QTableView()
        self.table.setModel(self.proxy)
        self.table.setSortingEnabled(True)
        self.table.sortByColumn(-1, Qt.SortOrder.AscendingOrder)  # the plan's order at first
        self.table.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
        self.table.setSelectionMode(QAbstractItemView.SelectionMode.SingleSelection)
        self.table.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
        self.table.verticalHeader().hide()
        self.table.doubleClicked.connect(lambda index: self.open_run(self._run_at(index)))
        self.table.selectionModel().selectionChanged.connect(self._selection_changed)

        self.x_axis, self.y_axis = QComboBox(), QComboBox()
        self.plot = pg.PlotWidget(background=theme.base)
        self.plot.getPlotItem().showGrid(x=False, y=False)
        self.scatter = pg.ScatterPlotItem(
            size=POINT_SIZE_PX,
            pen=pg.mkPen(theme.accent),
            brush=pg.mkBrush(theme.accent),
            hoverable=True,
        )
        self.picked = pg.ScatterPlotItem(
            size=PICKED_SIZE_PX, pen=pg.mkPen(theme.warning, width=2), brush=pg.mkBrush(None)
        )
        self.plot.addItem(self.scatter)
        self.plot.addItem(self.picked)
        self.scatter.sigClicked.connect(self._point_clicked)
        self.point_rows = np.empty(0, dtype=int)

        self.replay_button = QPushButton("Open as replay")
        self.replay_button.setEnabled(False)
        self.replay_button.clicked.connect(lambda: self.open_run(self.selected_run()))
        self.reload_button = QPushButton("Reload")
        self.reload_button.setToolTip(
            "read the results folder again (a study still running adds runs)"
        )
        self.reload_button.clicked.connect(self.reload)
        self.status = QLabel()
        self.status.setObjectName("muted")

        bar = QHBoxLayout()
        bar.addWidget(QLabel("x"))
        bar.addWidget(self.x_axis, 1)
        bar.addWidget(QLabel("y"))
        bar.addWidget(self.y_axis, 1)
        bar.addWidget(self.replay_button)
        bar.addWidget(self.reload_button)
        chart = QWidget()
        chart_layout = QVBoxLayout(chart)
        chart_layout.setContentsMargins(0, 0, 0, 0)
        chart_layout.addLayout(bar)
        chart_layout.addWidget(self.plot, 1)
        splitter = QSplitter(Qt.Orientation.Vertical)
        splitter.addWidget(chart)
        splitter.addWidget(self.table)
        splitter.setSizes([380, 380])
        body = QWidget()
        layout = QVBoxLayout(body)
        layout.addWidget(self.status)
        layout.addWidget(splitter, 1)
        self.setCentralWidget(body)

        self.table.resizeColumnsToContents()
        self._fill_axes()
        self.x_axis.currentIndexChanged.connect(self._draw)
        self.y_axis.currentIndexChanged.connect(self._draw)
        self._draw()
        self._say("")

    # ------------------------------------------------------------------ axes and chart

    def _fill_axes(self) -> None:
        x, y = self.runs.default_axes()
        for box, keys, chosen in (
            (self.x_axis, self.runs.x_choices(), x),
            (self.y_axis, self.runs.y_choices(), y),
        ):
            was = box.currentData()
            box.blockSignals(True)
            box.clear()
            for key in keys:
                box.addItem(self.runs.column(key).label, key)
            keep = box.findData(was) if was is not None else -1
            box.setCurrentIndex(keep if keep >= 0 else box.findData(chosen))
            box.blockSignals(False)

    def set_axes(self, x: str, y: str) -> None:
        self.x_axis.setCurrentIndex(self.x_axis.findData(x))
        self.y_axis.setCurrentIndex(self.y_axis.findData(y))

    def axes(self) -> tuple[str, str]:
        return self.x_axis.currentData(), self.y_axis.currentData()

    def _draw(self) -> None:
        x, y = self.axes()
        if x is None or y is None:
            self.scatter.setData([], [])
            self.point_rows = np.empty(0, dtype=int)
            return
        xs, ys, rows = self.runs.points(x, y)
        self.point_rows = rows
        self.scatter.setData(x=xs, y=ys, data=rows)
        item = self.plot.getPlotItem()
        item.setLabel("bottom", self.runs.column(x).label)
        item.setLabel("left", self.runs.column(y).label)
        item.enableAutoRange()
        self._mark_picked()

    def _mark_picked(self) -> None:
        run_id = self.selected_run()
        row = self.runs.run_ids.index(run_id) if run_id is not None else -1
        x, y = self.axes()
        if row in set(self.point_rows.tolist()) and x is not None:
            self.picked.setData(
                x=[self.runs.column(x).values[row]], y=[self.runs.column(y).values[row]]
            )
        else:
            self.picked.setData([], [])

    def _point_clicked(self, _item: Any, points: Any, event: Any = None) -> None:
        if not len(points):
            return
        run_id = self.runs.run_ids[int(points[0].data())]
        self.select_run(run_id)
        if event is not None and event.double():
            self.open_run(run_id)

    # ------------------------------------------------------------------ table

    def _run_at(self, proxy_index: QModelIndex) -> str:
        return self.runs.run_ids[self.proxy.mapToSource(proxy_index).row()]

    def selected_run(self) -> str | None:
        rows = self.table.selectionModel().selectedRows()
        return self._run_at(rows[0]) if rows else None

    def select_run(self, run_id: str) -> None:
        source = self.model.index(self.runs.run_ids.index(run_id), 0)
        index = self.proxy.mapFromSource(source)
        self.table.selectionModel().select(
            index,
            QItemSelectionModel.SelectionFlag.ClearAndSelect
            | QItemSelectionModel.SelectionFlag.Rows,
        )
        self.table.scrollTo(index)

    def _selection_changed(self) -> None:
        self.replay_button.setEnabled(self.selected_run() is not None and self.rerunning is None)
        self._mark_picked()

    def reload(self) -> None:
        picked = self.selected_run()
        try:
            runs = load_study_runs(self.runs.folder)
        except (ResultsError, ScenarioError, OSError) as exc:
            self._say(f"cannot read {self.runs.folder} again: {exc}")
            return
        self.runs = runs
        self.model.set_runs(runs)
        self.table.resizeColumnsToContents()
        self._fill_axes()
        self._draw()
        if picked in runs.run_ids:
            self.select_run(picked)
        self._say("")

    def _say(self, message: str) -> None:
        self.status.setText("  ".join(part for part in (self.runs.title, message) if part))

    # ------------------------------------------------------------------ rerun and replay

    def open_run(self, run_id: str | None) -> None:
        """Run ``run_id`` again as a recording (on a thread) and open it as a replay."""
        if run_id is None:
            return
        if self.rerunning is not None:
            self._say(f"still rerunning {self.rerunning}; open {run_id} once it is done")
            return
        self.rerunning = run_id
        self.replay_button.setEnabled(False)
        self._say(f"rerunning {run_id} as a recording…")
        runs, signals, stop = self.runs, self._signals, self._stop

        def rerun() -> None:
            try:
                folder = record_run(
                    runs.plan,
                    runs.folder,
                    run_id,
                    progress=cast(IO[str], _Progress(run_id, signals, stop)),
                )
            except RerunCancelled:
                return
            except RerunError as exc:
                signals.failed.emit(run_id, str(exc))
                return
            except Exception as exc:  # the view stays; the message names what failed
                signals.failed.emit(run_id, f"rerunning {run_id}: {type(exc).__name__}: {exc}")
                return
            signals.finished.emit(run_id, folder)

        # run in a copy of this thread's context: the rerun's coolant tables come from the
        # cache folder of the command (twin.sim.coolant.tables_cached_in)
        self._thread = threading.Thread(
            target=contextvars.copy_context().run,
            args=(rerun,),
            name=f"twin-rerun-{run_id}",
            daemon=True,
        )
        self._thread.start()

    def _rerun_progressed(self, run_id: str, share: float) -> None:
        self._say(f"rerunning {run_id} as a recording: {share:.0%} simulated")

    def _rerun_failed(self, run_id: str, message: str) -> None:
        self.rerunning = None
        self._selection_changed()
        self._say(message)

    def _rerun_finished(self, run_id: str, folder: Path) -> None:
        self.rerunning = None
        self._selection_changed()
        try:
            self.open_replay(folder)
        except Exception as exc:  # a recording the replay cannot open: say so, keep the view
            self._say(f"cannot open the recording {folder}: {exc}")
            return
        self._say(f"{run_id} opened as a replay ({folder})")
        self.replay_opened.emit(folder)

    def closeEvent(self, event: QCloseEvent) -> None:
        self._stop.set()  # a rerun stops at its next progress line, leaving nothing
        if self._thread is not None:
            self._thread.join()
        super().closeEvent(event)
