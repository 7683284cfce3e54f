"""The power-quality view: the check of ``twin power-quality`` for the window's scenario,
run on a thread of its own (the window keeps answering; a progress bar counts the cases),
its spectra in a pyqtgraph plot against the limit line, and a verdict per case. Closing
the view cancels a check still running (it stops within a simulated second).

What it shows comes from ``twin.gui.power_quality_view`` (no Qt there)."""

from __future__ import annotations

import contextvars
import threading

import pyqtgraph as pg
from PySide6.QtCore import QObject, Qt, Signal
from PySide6.QtGui import QCloseEvent
from PySide6.QtWidgets import (
    QCheckBox,
    QHBoxLayout,
    QLabel,
    QProgressBar,
    QPushButton,
    QVBoxLayout,
    QWidget,
)

from twin.grid.power_quality import DEFAULT_LIMIT, Cancelled, PowerQualityCheck, run_check
from twin.gui import power_quality_view as view
from twin.gui._qt.theme import DARK, Theme
from twin.scenario import Scenario

CASE_COLOURS = ("#60a5fa", "#f87171", "#4ade80", "#c084fc", "#fb923c")


class _CheckSignals(QObject):
    progressed = Signal(str)  # the step starting
    finished = Signal(object)  # the PowerQualityCheck
    failed = Signal(str)  # why


class PowerQualityWindow(QWidget):
    """A top-level window; ``start()`` runs the check (again), ``result`` holds the last."""

    checked = Signal(object)  # the PowerQualityCheck shown

    def __init__(
        self,
        scenario: Scenario,
        *,
        theme: Theme = DARK,
        duration_s: float = view.DURATION_S,
        settle_s: float = view.SETTLE_S,
        dt_s: float = view.DT_S,
        limit: float = DEFAULT_LIMIT,
    ) -> None:
        super().__init__(None, Qt.WindowType.Window)
        self.scenario = scenario
        self.duration_s, self.settle_s, self.dt_s, self.limit = duration_s, settle_s, dt_s, limit
        self.result: PowerQualityCheck | None = None
        self.setWindowTitle(
            self.tr("twin power quality — {scenario}").format(scenario=scenario.scenario.name)
        )
        self.resize(900, 620)
        self._signals = _CheckSignals()
        self._signals.progressed.connect(self._progressed)
        self._signals.finished.connect(self._finished)
        self._signals.failed.connect(self._failed)
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        self._step = 0

        self.plot = pg.PlotWidget(background=theme.base)
        item = self.plot.getPlotItem()
        item.setLabel("bottom", self.tr("frequency"), units="Hz")
        item.setLabel("left", self.tr("component amplitude (% of the mean draw)"))
        item.showGrid(x=True, y=True, alpha=0.2)
        item.addLegend(offset=(-10, 10))
        self.status = QLabel()
        self.status.setWordWrap(True)
        self.progress = QProgressBar()
        self.verdicts = QLabel()
        self.verdicts.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        self.search = QCheckBox(self.tr("also search the least GPU smoothing that passes"))
        self.run_button = QPushButton(self.tr("Run again"))
        self.run_button.clicked.connect(self.start)
        controls = QHBoxLayout()
        controls.addWidget(self.search)
        controls.addStretch(1)
        controls.addWidget(self.run_button)
        layout = QVBoxLayout(self)
        layout.addWidget(self.status)
        layout.addWidget(self.progress)
        layout.addWidget(self.plot, 1)
        layout.addWidget(self.verdicts)
        layout.addLayout(controls)

    @property
    def running(self) -> bool:
        return self._thread is not None and self._thread.is_alive()

    def start(self) -> None:
        """Run the check on a thread (nothing happens while one runs)."""
        if self.running:
            return
        search = self.search.isChecked()
        self._step = 0
        self.progress.setRange(0, view.steps_of(self.scenario, search))
        self.progress.setValue(0)
        self.progress.show()
        self.run_button.setEnabled(False)
        self.status.setText(
            self.tr("running {scenario} {duration} s at {step} ms…").format(
                scenario=self.scenario.scenario.name,
                duration=f"{self.duration_s:g}",
                step=f"{1000 * self.dt_s:g}",
            )
        )
        scenario, signals, stop = self.scenario, self._signals, self._stop
        duration_s, settle_s, dt_s, limit = self.duration_s, self.settle_s, self.dt_s, self.limit

        def check() -> None:
            try:
                result = run_check(
                    scenario,
                    duration_s,
                    dt_s,
                    limit,
                    search,
                    settle_s=settle_s,
                    progress=signals.progressed.emit,
                    cancelled=stop.is_set,
                )
            except Cancelled:
                return
            except Exception as exc:  # the view stays; the message names what failed
                signals.failed.emit(f"the check failed: {type(exc).__name__}: {exc}")
                return
            signals.finished.emit(result)

        # run in a copy of this thread's context: the check's coolant tables come from the
        # cache folder of the command (twin.sim.coolant.tables_cached_in)
        self._thread = threading.Thread(
            target=contextvars.copy_context().run,
            args=(check,),
            name="twin-power-quality",
            daemon=True,
        )
        self._thread.start()

    def _progressed(self, step: str) -> None:
        self._step += 1
        self.progress.setValue(self._step - 1)
        self.status.setText(
            self.tr("running: {step} ({done} of {total})…").format(
                step=step, done=self._step, total=self.progress.maximum()
            )
        )

    def _failed(self, message: str) -> None:
        self._done()
        self.status.setText(message)

    def _finished(self, result: PowerQualityCheck) -> None:
        self._done()
        self.result = result
        item = self.plot.getPlotItem()
        item.clear()
        for k, curve in enumerate(view.curves(result)):
            item.plot(
                curve.frequency_hz,
                curve.percent,
                name=curve.label,
                pen=pg.mkPen(CASE_COLOURS[k % len(CASE_COLOURS)], width=2),
            )
        limit = view.limit_line(result)
        item.plot(
            list(limit.frequency_hz),
            [limit.percent, limit.percent],
            name=limit.label,
            pen=pg.mkPen("#dc2626", width=1, style=Qt.PenStyle.DashLine),
        )
        self.status.setText(view.title(result))
        self.verdicts.setText("\n".join(view.verdict_lines(result)))
        self.checked.emit(result)

    def _done(self) -> None:
        # the thread's last act was to post this result: it ends at once, and the view is
        # free for the next check as soon as it shows this one
        if self._thread is not None:
            self._thread.join()
            self._thread = None
        self.progress.hide()
        self.run_button.setEnabled(True)

    def closeEvent(self, event: QCloseEvent) -> None:
        self._stop.set()  # a check stops within a simulated second, leaving nothing
        if self._thread is not None:
            self._thread.join()
        self._stop.clear()
        super().closeEvent(event)
