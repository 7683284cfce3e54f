"""Toolbar controls: time (play, pause, step, speed) and the rack colour field with its bar."""

from __future__ import annotations

from datetime import datetime, timedelta

import numpy as np
from PySide6.QtCore import QCoreApplication, QRectF, QSize, Qt, Signal
from PySide6.QtGui import QColor, QLinearGradient, QPainter, QPen
from PySide6.QtWidgets import (
    QComboBox,
    QHBoxLayout,
    QLabel,
    QStyle,
    QToolButton,
    QWidget,
)

from twin.gui.colors import NO_DATA_RGBA, TRIPPED_RGBA, ColorField

SPEEDS: tuple[tuple[str, float | None], ...] = (
    ("1× real time", 1.0),
    ("10×", 10.0),
    ("60× (1 min/s)", 60.0),
    ("600×", 600.0),
    ("3600× (1 h/s)", 3600.0),
    ("As fast as possible", None),
)


def translated(text: str) -> str:
    """A name given by value (speeds, colour fields, their marks and categories) in the
    window's language: context ``colors`` of ``window_<lang>.ts``."""
    return QCoreApplication.translate("colors", text)


class TimeControls(QWidget):
    play_toggled = Signal(bool)  # True: run
    step_requested = Signal()
    speed_changed = Signal(object)  # float or None

    def __init__(self, start: datetime, speed: float | None, parent: QWidget | None = None):
        super().__init__(parent)
        self._start = start
        row = QHBoxLayout(self)
        row.setContentsMargins(0, 0, 0, 0)
        style = self.style()
        self._play_icon = style.standardIcon(QStyle.StandardPixmap.SP_MediaPlay)
        self._pause_icon = style.standardIcon(QStyle.StandardPixmap.SP_MediaPause)
        self.play_button = QToolButton()
        self.play_button.setCheckable(True)
        self.play_button.setToolTip(self.tr("Run or pause the simulation (Space)"))
        self.play_button.toggled.connect(self._on_play_toggled)
        self.step_button = QToolButton()
        self.step_button.setIcon(style.standardIcon(QStyle.StandardPixmap.SP_MediaSkipForward))
        self.step_button.setToolTip(self.tr("Pause and advance one step"))
        self.step_button.clicked.connect(self.step_requested)
        self.speed = QComboBox()
        self.speed.setToolTip(self.tr("Simulated time per second of real time"))
        for text, value in SPEEDS:
            self.speed.addItem(translated(text), value)
        self.speed.setCurrentIndex([v for _, v in SPEEDS].index(speed))
        self.speed.currentIndexChanged.connect(
            lambda i: self.speed_changed.emit(self.speed.itemData(i))
        )
        self.clock = QLabel()
        widest = self._clock_text("0000-00-00 00:00:00", "000")
        self.clock.setMinimumWidth(self.clock.fontMetrics().horizontalAdvance(widest))
        for widget in (self.play_button, self.step_button, self.speed, self.clock):
            row.addWidget(widget)
        self.set_time(0.0)
        self._sync_icon(False)

    def set_running(self, running: bool) -> None:
        """Show the state without re-emitting it."""
        self.play_button.blockSignals(True)
        self.play_button.setChecked(running)
        self.play_button.blockSignals(False)
        self._sync_icon(running)

    def set_time(self, time_s: float) -> None:
        now = self._start + timedelta(seconds=time_s)
        day = int(time_s // 86400) + 1
        self.clock.setText(self._clock_text(f"{now:%Y-%m-%d %H:%M:%S}", day))

    def _clock_text(self, stamp: str, day: int | str) -> str:
        return self.tr("{stamp}  day {day}").format(stamp=stamp, day=day)

    def _on_play_toggled(self, running: bool) -> None:
        self._sync_icon(running)
        self.play_toggled.emit(running)

    def _sync_icon(self, running: bool) -> None:
        self.play_button.setIcon(self._pause_icon if running else self._play_icon)


def _qcolor(rgba: np.ndarray | tuple[float, ...]) -> QColor:
    return QColor.fromRgbF(*(float(c) for c in rgba[:4]))


def mark_label(field: ColorField, value: float, label: str) -> str:
    """A mark's name over the colour bar, with its value and unit: "throttle 87 °C"."""
    return f"{translated(label)} {value:g} {field.unit}".rstrip()


class ColorBar(QWidget):
    """The legend of the colour field: a gradient with its range, units and marks, or
    swatches for categories; tripped racks always have their own swatch."""

    def __init__(self, field: ColorField, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.field = field
        # room for a mark's label, both ends of the range and three categories' names,
        # and narrow enough for the toolbar to fit a 1280 px wide window
        self.setMinimumSize(QSize(300, 3 * self.fontMetrics().height() + 4))

    def set_field(self, field: ColorField) -> None:
        self.field = field
        self.update()

    def paintEvent(self, _event) -> None:
        painter = QPainter(self)
        painter.setRenderHint(QPainter.RenderHint.Antialiasing)
        painter.setPen(QPen(self.palette().windowText().color()))
        metrics = painter.fontMetrics()
        line = metrics.height()
        field = self.field
        swatches = self.extra_swatches()
        widths = [24 + metrics.horizontalAdvance(label) for _, label in swatches]
        legend_width = sum(widths)
        bar = QRectF(2, line + 1, self.width() - legend_width - (14 if swatches else 4), 9)
        if field.categories:
            width = bar.width() / len(field.categories)
            for k, category in enumerate(field.categories):
                swatch = QRectF(bar.left() + k * width, bar.top(), 12, bar.height())
                painter.fillRect(swatch, _qcolor(category.rgba))
                painter.drawText(
                    QRectF(swatch.right() + 4, bar.top() - 4, width, line),
                    translated(category.label),
                )
        else:
            gradient = QLinearGradient(bar.topLeft(), bar.topRight())
            for stop in np.linspace(0.0, 1.0, 11):
                gradient.setColorAt(float(stop), _qcolor(field.ramp.map(np.array([stop]))[0]))
            painter.fillRect(bar, gradient)
            below = QRectF(bar.left(), bar.bottom() + 1, bar.width(), line)
            painter.drawText(below, Qt.AlignmentFlag.AlignLeft, f"{field.low:g} {field.unit}")
            painter.drawText(below, Qt.AlignmentFlag.AlignRight, f"{field.high:g} {field.unit}")
            for value, label in field.marks:  # above the bar, clear of the range labels
                x = bar.left() + bar.width() * (value - field.low) / (field.high - field.low)
                painter.drawLine(int(x), int(bar.top() - 2), int(x), int(bar.bottom()))
                text = mark_label(field, value, label)
                width = metrics.horizontalAdvance(text) + 2
                left = max(0.0, min(x - width / 2, self.width() - width))  # whole, near x
                painter.drawText(QRectF(left, 0, width, line), Qt.AlignmentFlag.AlignHCenter, text)
        left = self.width() - legend_width
        for (rgba, label), width in zip(swatches, widths, strict=True):
            swatch = QRectF(left, bar.top(), 12, bar.height())
            painter.fillRect(swatch, _qcolor(rgba))
            painter.drawText(QRectF(swatch.right() + 4, bar.top() - 4, width, line), label)
            left += width
        painter.end()

    def extra_swatches(self) -> list[tuple[np.ndarray, str]]:
        """Colours beside the field's own: tripped racks (unless the field's categories
        name them already, as the throttling state does), and racks without a value."""
        swatches = []
        if not any(category.label == "tripped" for category in self.field.categories):
            swatches.append((TRIPPED_RGBA, translated("tripped")))
        if self.field.no_data:
            swatches.append((NO_DATA_RGBA, translated(self.field.no_data)))
        return swatches


class ColorFieldPanel(QWidget):
    field_changed = Signal(str)

    def __init__(self, fields: tuple[ColorField, ...], parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self._fields = {f.key: f for f in fields}
        row = QHBoxLayout(self)
        row.setContentsMargins(0, 0, 0, 0)
        row.addWidget(QLabel(self.tr("Colour racks by")))
        self.combo = QComboBox()
        for field in fields:
            self.combo.addItem(translated(field.label), field.key)
        self.combo.setToolTip(self.tr("The rack value shown by colour"))
        self.bar = ColorBar(fields[0])
        row.addWidget(self.combo)
        row.addWidget(self.bar)
        self.combo.currentIndexChanged.connect(self._on_index_changed)

    def set_fields(self, fields: tuple[ColorField, ...]) -> None:
        """The same fields in other units: the bar shows the chosen one's."""
        if [f.key for f in fields] != list(self._fields):
            raise ValueError("only the units of the colour fields can change")
        self._fields = {f.key: f for f in fields}
        self.bar.set_field(self._fields[self.combo.currentData()])

    def _on_index_changed(self, index: int) -> None:
        key = self.combo.itemData(index)
        self.bar.set_field(self._fields[key])
        self.field_changed.emit(key)
