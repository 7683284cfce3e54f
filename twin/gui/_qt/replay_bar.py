"""A scrub bar for replays: a slider over a recording's time span and the time shown.

Self-contained: it knows only a time span and a step. Dragging emits ``seek_requested``
with the simulated second to go to once the slider is released (or on each key or wheel
step), so a long recording is not re-read for every pixel of a drag; ``show_time`` moves
the slider as the replay plays without emitting anything.
"""

from __future__ import annotations

from PySide6.QtCore import Qt, Signal
from PySide6.QtWidgets import QHBoxLayout, QLabel, QSlider, QWidget

from twin.scenario.units import format_duration


class ReplayBar(QWidget):
    seek_requested = Signal(float)  # simulated seconds since the scenario start

    def __init__(
        self, start_s: float, end_s: float, step_s: float, parent: QWidget | None = None
    ) -> None:
        super().__init__(parent)
        self._start_s = start_s
        self._step_s = step_s
        self._slider = QSlider(Qt.Orientation.Horizontal)
        self._slider.setRange(0, max(0, round((end_s - start_s) / step_s)))
        self._slider.setTracking(False)  # valueChanged on release, not during the drag
        self._label = QLabel()
        self._end_text = format_duration(end_s)
        layout = QHBoxLayout(self)
        layout.setContentsMargins(6, 2, 6, 2)
        layout.addWidget(self._slider, 1)
        layout.addWidget(self._label)
        self._slider.sliderMoved.connect(self._on_slider_moved)
        self._slider.valueChanged.connect(self._on_value_changed)
        self.show_time(start_s)

    def show_time(self, time_s: float) -> None:
        self._slider.blockSignals(True)
        self._slider.setValue(round((time_s - self._start_s) / self._step_s))
        self._slider.blockSignals(False)
        self._show_label(self._slider.value())

    def _time_at(self, value: int) -> float:
        return self._start_s + value * self._step_s

    def _show_label(self, value: int) -> None:
        self._label.setText(f"{format_duration(self._time_at(value))} / {self._end_text}")

    def _on_slider_moved(self, value: int) -> None:
        self._show_label(value)

    def _on_value_changed(self, value: int) -> None:
        self._show_label(value)
        self.seek_requested.emit(self._time_at(value))
