"""The inspector dock: the selected object's live values with sparklines, its parameters
and actions, and its alarms.

What is shown comes from ``twin.gui.objects.describe``; this module only renders it. A
changed parameter or a pressed action emits ``command`` with a callable that the window
hands to the simulation runner, which applies it between two steps.

Beside a plant (``twin gui --shadow``), ``measurements(kind, index)`` gives the object's
measured points beside the model's values at the shadow's latest evaluation
(``twin.exchange.window.ShadowSimulation.measurements``); they are shown in a table of
their own, in the units the plant publishes them in.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from typing import Any

import numpy as np
from PySide6.QtCore import QCoreApplication, QPointF, QSize, Qt, Signal
from PySide6.QtGui import QPainter, QPen, QPolygonF
from PySide6.QtWidgets import (
    QComboBox,
    QDoubleSpinBox,
    QFormLayout,
    QGridLayout,
    QGroupBox,
    QHBoxLayout,
    QLabel,
    QPushButton,
    QVBoxLayout,
    QWidget,
)

from twin.gui.objects import Choice, ObjectView, Parameter, Selection, describe
from twin.gui.units import UnitSystem
from twin.scenario import Scenario
from twin.scenario.units import format_duration
from twin.sim.snapshot import Snapshot
from twin.sim.topology import Topology

SPARKLINE_SAMPLES = 120  # the last few seconds to minutes, depending on the speed


class Sparkline(QWidget):
    """A small trend of the last samples of one value, in a fixed-size ring. It is drawn
    scaled to its own range, so it looks the same in every unit: it keeps SI values."""

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self._values = np.full(SPARKLINE_SAMPLES, np.nan)
        self._next = 0
        self.setMinimumSize(QSize(90, 18))

    @property
    def values(self) -> np.ndarray:
        """The samples in time order, oldest first (NaN where none yet)."""
        return np.roll(self._values, -self._next)

    def clear(self) -> None:
        self._values[:] = np.nan
        self._next = 0
        self.update()

    def append(self, value: float) -> None:
        self._values[self._next] = value
        self._next = (self._next + 1) % SPARKLINE_SAMPLES
        self.update()

    def paintEvent(self, _event) -> None:
        values = self.values
        known = np.isfinite(values)
        if known.sum() < 2:
            return
        low, high = np.nanmin(values), np.nanmax(values)
        span = high - low if high > low else 1.0
        w, h = self.width() - 2, self.height() - 4
        xs = 1 + w * np.arange(values.size) / (values.size - 1)
        ys = (
            2 + h * (1.0 - (values - low) / span) if high > low else np.full(values.size, 2 + h / 2)
        )
        painter = QPainter(self)
        painter.setRenderHint(QPainter.RenderHint.Antialiasing)
        painter.setPen(QPen(self.palette().highlight().color(), 1.2))
        painter.drawPolyline(
            QPolygonF(
                [QPointF(float(x), float(y)) for x, y in zip(xs[known], ys[known], strict=True)]
            )
        )
        painter.end()


def translated(text: str) -> str:
    """An object's reading, setting, action or fixed title, given by value, in the window's
    language: context ``objects`` of ``window_<lang>.ts``. Names from the scenario (racks,
    CDUs, halls, workcells) have no entry and stay as they are."""
    return QCoreApplication.translate("objects", text)


def _clear(layout: QGridLayout | QFormLayout) -> None:
    while layout.count():
        item = layout.takeAt(0)
        widget = item.widget() if item is not None else None
        if widget is not None:
            widget.deleteLater()


class _ParameterEditor(QWidget):
    """A spin box with the parameter's range and unit, and Apply."""

    applied = Signal(float)

    def __init__(self, parameter: Parameter, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.parameter = parameter
        row = QHBoxLayout(self)
        row.setContentsMargins(0, 0, 0, 0)
        self.spin = QDoubleSpinBox()
        self.spin.setRange(parameter.low, parameter.high)
        self.spin.setSingleStep(parameter.step)
        self.spin.setDecimals(parameter.decimals)
        self.spin.setSuffix(f" {parameter.unit}")
        self.spin.setKeyboardTracking(False)
        self.spin.setToolTip(f"{parameter.low:g} .. {parameter.high:g} {parameter.unit}")
        self.apply = QPushButton(self.tr("Apply"))
        self.apply.clicked.connect(lambda: self.applied.emit(self.spin.value()))
        row.addWidget(self.spin, 1)
        row.addWidget(self.apply)
        self._edited = False
        self.spin.valueChanged.connect(self._on_edit)

    def _on_edit(self, _value: float) -> None:
        self._edited = True

    def show_value(self, snapshot: Snapshot) -> None:
        """Follow the simulation's value unless the user is typing a new one."""
        if self.spin.hasFocus() or self._edited:
            return
        self.spin.blockSignals(True)
        self.spin.setValue(self.parameter.read(snapshot))
        self.spin.blockSignals(False)

    def mark_applied(self) -> None:
        self._edited = False


class ObjectInspector(QWidget):
    command = Signal(object)  # a callable applied to the simulation
    fly_to = Signal(object)  # the Selection to frame in the 3D view

    def __init__(
        self,
        scenario: Scenario,
        topology: Topology,
        units: UnitSystem = UnitSystem.SI,
        parent: QWidget | None = None,
        *,
        measurements: Callable[[str, int], tuple[float, list[Any]]] | None = None,
        tracked: Callable[[str, int], list[Any]] | None = None,
    ) -> None:
        super().__init__(parent)
        self._scenario, self._topology = scenario, topology
        self._measurements = measurements
        self._tracked = tracked
        self.units = units
        self.view: ObjectView | None = None  # in SI, as described
        self.shown_view: ObjectView | None = None  # in the display units
        self._snapshot: Snapshot | None = None
        column = QVBoxLayout(self)
        self.title = QLabel()
        self.title.setObjectName("inspectorTitle")
        self.title.setWordWrap(True)  # a long name beside "Fly to" takes two lines
        self.where = QLabel()
        self.where.setObjectName("muted")
        self.where.setWordWrap(True)
        self.fly_button = QPushButton(self.tr("Fly to"))
        self.fly_button.setToolTip(self.tr("Frame the selected object in the 3D view"))
        self.fly_button.clicked.connect(
            lambda: self.view is not None and self.fly_to.emit(self.view.selection)
        )
        header = QHBoxLayout()
        header.addWidget(self.title, 1)
        header.addWidget(self.fly_button)
        column.addLayout(header)
        column.addWidget(self.where)
        self._readings_box = QWidget()
        self._readings = QGridLayout(self._readings_box)
        self._readings.setContentsMargins(0, 4, 0, 4)
        column.addWidget(self._readings_box)
        self._measured_box = QGroupBox(self.tr("Plant beside model"))
        self._measured = QGridLayout(self._measured_box)
        self._measured_box.setVisible(False)
        column.addWidget(self._measured_box)
        # label -> (measured, model, measured - model, coverage) of each measured point
        self.measured_rows: dict[str, tuple[QLabel, QLabel, QLabel, QLabel]] = {}
        self._tracked_box = QGroupBox(self.tr("Drift tracked from the plant's data"))
        self._tracked_box.setToolTip(
            self.tr(
                "Slowly drifting quantities the shadow estimates online "
                "(recursive least squares), with a band of two standard "
                "deviations; 'design' is the scenario's value"
            )
        )
        self._tracked_grid = QGridLayout(self._tracked_box)
        self._tracked_box.setVisible(False)
        column.addWidget(self._tracked_box)
        # quantity -> (value with its band, design, alarm) of each tracked quantity
        self.tracked_rows: dict[str, tuple[QLabel, QLabel, QLabel]] = {}
        self._alarms = QLabel()
        self._alarms.setObjectName("alarmText")
        self._alarms.setWordWrap(True)
        column.addWidget(self._alarms)
        self._settings = QGroupBox(self.tr("Settings"))
        self._settings_form = QFormLayout(self._settings)
        # a setting's field goes under its name where the dock is too narrow for both
        self._settings_form.setRowWrapPolicy(QFormLayout.RowWrapPolicy.WrapLongRows)
        column.addWidget(self._settings)
        column.addStretch(1)
        self.values: dict[str, QLabel] = {}
        self.sparklines: dict[str, Sparkline] = {}
        self.editors: dict[str, _ParameterEditor] = {}
        self.choices: dict[str, QComboBox] = {}
        self.buttons: dict[str, QPushButton] = {}
        self.show_object(None)

    @property
    def selection(self) -> Selection | None:
        return self.view.selection if self.view is not None else None

    def show_object(self, selection: Selection | None) -> None:
        self.view = (
            None if selection is None else describe(selection, self._scenario, self._topology)
        )
        self.shown_view = None if self.view is None else self.view.in_units(self.units)
        self._rebuild()
        self._refresh()

    def set_units(self, units: UnitSystem) -> None:
        """Show the readings and parameters in ``units``; the sparklines keep their
        history. A value being typed is dropped: it was in the other units."""
        self.units = units
        if self.view is None:
            return
        self.shown_view = self.view.in_units(units)
        self._clear_settings()
        self._build_settings(self.shown_view)
        self._refresh()

    def update_snapshot(self, snapshot: Snapshot) -> None:
        self._snapshot = snapshot
        if self.view is not None:
            for reading in self.view.readings:
                self.sparklines[reading.label].append(reading.read(snapshot))
        self._refresh()

    # ----------------------------------------------------------------- building

    def _rebuild(self) -> None:
        _clear(self._readings)
        _clear(self._measured)
        self.measured_rows.clear()
        self._measured_box.setVisible(False)
        self.values.clear()
        self.sparklines.clear()
        self._clear_settings()
        view = self.shown_view
        self.fly_button.setEnabled(view is not None)
        if view is None:
            self.title.setText(self.tr("Nothing selected"))
            self.where.setText(
                self.tr(
                    "Click a rack, a CDU, an electrical room, a plant unit, a robot "
                    "or a workcell in the 3D view."
                )
            )
            self._settings.setVisible(False)
            self._alarms.setText("")
            return
        self.title.setText(translated(view.title))
        self.where.setText(view.where)
        for row, reading in enumerate(view.readings):
            value = QLabel("—")
            value.setAlignment(Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter)
            spark = Sparkline()
            name = QLabel(translated(reading.label))
            name.setWordWrap(True)  # long names take two lines in a narrow dock
            self._readings.addWidget(name, row, 0)
            self._readings.addWidget(value, row, 1)
            self._readings.addWidget(spark, row, 2)
            self.values[reading.label] = value
            self.sparklines[reading.label] = spark
        self._build_settings(view)

    def _clear_settings(self) -> None:
        _clear(self._settings_form)
        self.editors.clear()
        self.choices.clear()
        self.buttons.clear()

    def _build_settings(self, view: ObjectView) -> None:
        for parameter in view.parameters:
            editor = _ParameterEditor(parameter)
            editor.applied.connect(lambda value, p=parameter, e=editor: self._apply(p, value, e))
            self._settings_form.addRow(translated(parameter.label), editor)
            self.editors[parameter.label] = editor
        for choice in view.choices:
            combo = QComboBox()
            combo.addItems([translated(option) for option in choice.options])
            combo.activated.connect(lambda option, c=choice: self._choose(c, option))
            self._settings_form.addRow(translated(choice.label), combo)
            self.choices[choice.label] = combo
        for action in view.actions:
            button = QPushButton(translated(action.label))
            button.setToolTip(translated(action.tooltip))
            button.clicked.connect(lambda _=False, a=action: self.command.emit(a.command))
            self._settings_form.addRow(button)
            self.buttons[action.label] = button
        self._settings.setVisible(bool(view.parameters or view.choices or view.actions))

    def _apply(self, parameter: Parameter, value: float, editor: _ParameterEditor) -> None:
        editor.mark_applied()
        self.command.emit(parameter.apply(value))

    def _choose(self, choice: Choice, option: int) -> None:
        self.command.emit(choice.apply(option))

    # ----------------------------------------------------------------- values

    def _refresh(self) -> None:
        view, snap = self.shown_view, self._snapshot
        if view is None or snap is None:
            return
        for reading in view.readings:
            self.values[reading.label].setText(reading.text(snap))
        for editor in self.editors.values():
            editor.show_value(snap)
        for choice in view.choices:
            combo = self.choices[choice.label]
            if not combo.view().isVisible():
                combo.setCurrentIndex(choice.read(snap))
        alarms = view.alarms(snap)
        self._alarms.setText("\n".join(f"⚠ {text}" for text in alarms))
        self._alarms.setVisible(bool(alarms))
        if self._measurements is not None:
            self._show_measured(*self._measurements(view.selection.kind, view.selection.index))
        if self._tracked is not None:
            self._show_tracked(self._tracked(view.selection.kind, view.selection.index))

    def _show_tracked(self, values: list[Any]) -> None:
        """The shadow's tracked quantities of the object (``TrackedValue`` rows)."""
        if [v.quantity for v in values] != list(self.tracked_rows):
            _clear(self._tracked_grid)
            self.tracked_rows.clear()
            headings = (self.tr("Quantity"), self.tr("Tracked (band)"), self.tr("Design"), "")
            for column, text in enumerate(headings):
                heading = QLabel(text)
                heading.setObjectName("muted")
                self._tracked_grid.addWidget(heading, 0, column)
            for row, value in enumerate(values, start=1):
                self._tracked_grid.addWidget(QLabel(value.quantity.replace("_", " ")), row, 0)
                cells = (QLabel(), QLabel(), QLabel())
                cells[2].setObjectName("alarmText")
                cells[2].setWordWrap(True)
                for column, cell in enumerate(cells, start=1):
                    self._tracked_grid.addWidget(cell, row, column)
                self.tracked_rows[value.quantity] = cells
        self._tracked_box.setVisible(bool(values))
        for value in values:
            tracked, design, alarm = self.tracked_rows[value.quantity]
            unit = f" {value.unit}" if value.unit else ""
            tracked.setText(
                f"{_figure(value.value)}{unit} "
                f"({_figure(value.band_low)} .. {_figure(value.band_high)})"
            )
            design.setText(f"{_figure(value.design)}{unit}")
            alarm.setText("" if value.alarm is None else value.alarm)

    def _show_measured(self, time_s: float, rows: list[Any]) -> None:
        """The plant's measured points beside the model (``MeasuredReading`` rows)."""
        if [r.label for r in rows] != list(self.measured_rows):
            _clear(self._measured)
            self.measured_rows.clear()
            headings = (
                self.tr("Point"),
                self.tr("Measured"),
                self.tr("Model"),
                self.tr("Difference"),
                "",
            )
            for column, text in enumerate(headings):
                heading = QLabel(text)
                heading.setObjectName("muted")
                self._measured.addWidget(heading, 0, column)
            for row, reading in enumerate(rows, start=1):
                name = QLabel(reading.label)
                name.setWordWrap(True)
                self._measured.addWidget(name, row, 0)
                cells = (QLabel(), QLabel(), QLabel(), QLabel())
                for column, cell in enumerate(cells, start=1):
                    if column < 4:
                        cell.setAlignment(
                            Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter
                        )
                    self._measured.addWidget(cell, row, column)
                self.measured_rows[reading.label] = cells
        self._measured_box.setVisible(bool(rows))
        if not rows:
            return
        self._measured_box.setTitle(
            self.tr("Plant beside model at {time}").format(time=format_duration(time_s))
        )
        for reading in rows:
            measured, model, difference, coverage = self.measured_rows[reading.label]
            unit = f" {reading.unit}" if reading.unit else ""
            measured.setText(_number(reading.measured, unit))
            model.setText(_number(reading.modelled, unit))
            gap = reading.measured - reading.modelled
            difference.setText("—" if not math.isfinite(gap) else f"{gap:+,.1f}{unit}")
            # a value the shadow did not compare says why (no value, bad quality, stale)
            coverage.setText("" if reading.coverage == "used" else reading.coverage)


def _figure(value: float) -> str:
    """Four significant figures: a resistance of 0.000412 kPa/(L/min)² and a UA of 40 kW/K
    both read."""
    return "—" if not math.isfinite(value) else f"{value:.4g}"


def _number(value: float, unit: str) -> str:
    return "—" if not math.isfinite(value) else f"{value:,.1f}{unit}"
