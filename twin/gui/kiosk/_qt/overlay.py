"""What the kiosk paints over the 3D view, in the same OpenGL frame: large KPIs, the
simulated clock and outdoor temperature, the key to the racks' colours, the caption, a
callout that points at an object, the visitor's hint and the card of the object a visitor
tapped.

Nothing here is a widget: the 3D view is a native OpenGL window (three times the frame
rate of a composed one under software OpenGL), and no widget can float over a native
window. The window's ``paint_over`` runs ``KioskOverlay.paint`` with a QPainter after the
scene is drawn, so text, panels and the callout's leader line land in the frame the scene
is in; the same ``paint`` draws into an image for screenshots and tests.

The layout is fixed for a screen size: every panel is sized for the widest value it can
plausibly show (the KPI panel for the site's power at twice its racks' nameplate in MW,
tokens in the hundreds of Gtok/s), so no panel moves or resizes between snapshots or steps;
a value wider still is drawn in a smaller type rather than cut. Sizes follow the screen's
height so that the same story reads the same on a laptop and on a 4K wall. KPIs and
readings are shown in the display units the overlay is given.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from datetime import datetime, timedelta

import numpy as np
from PySide6.QtCore import QCoreApplication, QPointF, QRectF, Qt
from PySide6.QtGui import (
    QColor,
    QFont,
    QFontMetricsF,
    QLinearGradient,
    QPainter,
    QPen,
    QPolygonF,
)

from twin.alarms import AlarmPoint
from twin.gui.colors import TRIPPED_RGBA, ColorField
from twin.gui.kiosk._qt.text_images import TextImages
from twin.gui.kpis import ALARM, NORMAL, WARNING, site_kpis
from twin.gui.objects import ObjectView
from twin.gui.units import UnitSystem, conversion
from twin.scenario import Scenario
from twin.sim.snapshot import Snapshot
from twin.sim.topology import Topology

# Type sizes as fractions of the screen's height. On a 65-inch 4K panel (pixels of
# 0.37 mm) a KPI value is 2160 / 18 = 120 px, capitals about 30 mm tall: signage
# guidance asks for about 25 mm per 3 m of viewing distance.
KPI_VALUE_SIZE = 1 / 18
KPI_TITLE_SIZE = 1 / 44
CLOCK_SIZE = 1 / 22
CAPTION_SIZE = 1 / 30
CALLOUT_SIZE = 1 / 36
HINT_SIZE = 1 / 36
CARD_SIZE = 1 / 40
LEGEND_SIZE = 1 / 48
MARGIN = 1 / 40
CAPTION_WIDTH = 0.6  # of the screen's width
CARD_READINGS = 6
LEGEND_BAR_STEPS = 24  # a colour ramp drawn as this many stops of a gradient

TEXT = QColor("#f2f6fa")
MUTED = QColor("#a9b6c4")
ACCENT = "#4fc3f7"
LEVEL_COLORS = {NORMAL: TEXT, WARNING: QColor("#ffb74d"), ALARM: QColor("#ff5252")}
PANEL = QColor(8, 14, 22, 200)

KIOSK_KPIS = ("it", "pue", "tokens", "grid", "gpu")
# The site at work draws at most its racks' nameplate, and the facility about as much
# again for cooling and losses (PUE under 2): the KPI panel is sized for that power.
FACILITY_OVER_NAMEPLATE = 2.0


def _titles() -> dict[str, str]:
    """The KPI titles in the current language (translated once the translator is in)."""
    return {
        "it": QCoreApplication.translate("kiosk", "IT power"),
        "pue": QCoreApplication.translate("kiosk", "PUE"),
        "tokens": QCoreApplication.translate("kiosk", "Tokens per second"),
        "grid": QCoreApplication.translate("kiosk", "Grid import / cap"),
        "gpu": QCoreApplication.translate("kiosk", "Hottest GPU"),
    }


def _field_titles() -> dict[str, str]:
    """The rack colour fields' names in the current language, keyed as ``rack_color_fields``."""
    return {
        "gpu_temp": QCoreApplication.translate("kiosk", "GPU temperature"),
        "outlet_temp": QCoreApplication.translate("kiosk", "Coolant outlet temperature"),
        "power": QCoreApplication.translate("kiosk", "Rack power"),
        "utilization": QCoreApplication.translate("kiosk", "Utilization"),
        "state": QCoreApplication.translate("kiosk", "Throttling state"),
    }


def _field_words() -> dict[str, str]:
    """The words on the colour key: categories and marks, in the current language."""
    return {
        "normal": QCoreApplication.translate("kiosk", "normal"),
        "throttled": QCoreApplication.translate("kiosk", "throttled"),
        "tripped": QCoreApplication.translate("kiosk", "tripped"),
        "throttle": QCoreApplication.translate("kiosk", "throttle"),
        "CDU supply": QCoreApplication.translate("kiosk", "CDU supply"),
    }


# the overlay's large type (KPI values, the clock, captions at 4K) is drawn from images
TEXT_IMAGES = TextImages()


def _draw_text(painter: QPainter, rect: QRectF, flags, text: str) -> None:
    """``painter.drawText(rect, flags, text)`` in the painter's font and pen colour,
    large type from ``TEXT_IMAGES``."""
    TEXT_IMAGES.draw(painter, rect, flags, text, painter.font(), painter.pen().color())


def _font(family: str, pixels: float, bold: bool = False) -> QFont:
    font = QFont(family)
    font.setPixelSize(max(round(pixels), 8))
    font.setBold(bold)
    return font


def _qcolor(rgba: Sequence[float] | np.ndarray) -> QColor:
    return QColor.fromRgbF(*(float(c) for c in rgba))


def _widest_digit(metrics: QFontMetricsF) -> str:
    return max("0123456789", key=metrics.horizontalAdvance)


def rack_nameplate_kw(scenario: Scenario, topology: Topology) -> np.ndarray:
    """Each rack's nameplate power (kW)."""
    by_type = [scenario.rack_types[name].nameplate_kw for name in topology.rack_type_names]
    return np.array(by_type)[topology.rack_type]


def widest_values(
    max_facility_mw: float, units: UnitSystem = UnitSystem.SI
) -> dict[str, tuple[str, ...]]:
    """For each kiosk KPI, the widest texts it can plausibly show (``8`` stands for any
    digit), in the formats of ``twin.gui.kpis``: powers up to ``max_facility_mw``, tokens
    up to 999.99 of any prefix, GPU temperatures of three digits or below zero."""
    power = "8" * len(str(math.ceil(max_facility_mw)))
    unit = conversion("°C", units).unit
    return {
        "it": (f"{power}.8 MW",),
        "pue": ("8.888",),
        "tokens": tuple(f"888.88 {prefix}tok/s" for prefix in ("k", "M", "G")),
        "grid": (f"{power}.8 / {power} MW",),
        "gpu": (f"888.8 {unit}", f"-88.8 {unit}"),
    }


class KpiPanel:
    """The site's figures down the left: a title and a large value each."""

    def __init__(
        self,
        scenario: Scenario,
        topology: Topology,
        points: Sequence[AlarmPoint],
        family: str,
        units: UnitSystem,
    ) -> None:
        self.family = family
        self._kpis = {
            kpi.key: kpi for kpi in site_kpis(scenario, points, units) if kpi.key in KIOSK_KPIS
        }
        nameplate_kw = float(rack_nameplate_kw(scenario, topology).sum())
        self.widest = widest_values(FACILITY_OVER_NAMEPLATE * nameplate_kw / 1000, units)
        self.titles = _titles()
        self.values = dict.fromkeys(KIOSK_KPIS, "—")
        self.levels = dict.fromkeys(KIOSK_KPIS, NORMAL)
        self.rect = QRectF()
        self.title_rects: dict[str, QRectF] = {}
        self.value_rects: dict[str, QRectF] = {}
        self.title_font = self.value_font = QFont()
        self._fitted: dict[str, QFont] = {}

    def set_scale(self, height: int, corner: QPointF) -> None:
        """Lay the panel out for a screen ``height`` px tall, its top left at ``corner``."""
        self.title_font = _font(self.family, height * KPI_TITLE_SIZE)
        self.value_font = _font(self.family, height * KPI_VALUE_SIZE, bold=True)
        titles, values = QFontMetricsF(self.title_font), QFontMetricsF(self.value_font)
        digit = _widest_digit(values)
        slot = max(
            *(titles.horizontalAdvance(t) for t in self.titles.values()),
            *(
                values.horizontalAdvance(text.replace("8", digit))
                for texts in self.widest.values()
                for text in texts
            ),
        )
        gap = round(height * KPI_TITLE_SIZE * 0.8)
        x, y = corner.x() + 1.5 * gap, corner.y() + gap / 2
        for key in KIOSK_KPIS:
            y += gap
            self.title_rects[key] = QRectF(x, y, slot, titles.height())
            y += titles.height()
            self.value_rects[key] = QRectF(x, y, slot, values.height())
            y += values.height()
        self.rect = QRectF(corner.x(), corner.y(), slot + 3 * gap, y + gap - corner.y())
        self._fitted = {key: self._fit(key) for key in KIOSK_KPIS}

    def _fit(self, key: str) -> QFont:
        """The value font, smaller where the value is wider than its slot (a figure
        beyond the widest plausible): never cut."""
        width = QFontMetricsF(self.value_font).horizontalAdvance(self.values[key])
        slot = self.value_rects[key].width() if key in self.value_rects else width
        if width <= slot:
            return self.value_font
        font = QFont(self.value_font)
        font.setPixelSize(max(math.floor(self.value_font.pixelSize() * slot / width), 8))
        return font

    def value_font_for(self, key: str) -> QFont:
        return self._fitted.get(key, self.value_font)

    def fits(self, key: str) -> bool:
        """Whether the value of ``key`` as drawn lies within its slot."""
        width = QFontMetricsF(self.value_font_for(key)).horizontalAdvance(self.values[key])
        return width <= self.value_rects[key].width()

    def update_snapshot(self, snapshot: Snapshot) -> bool:
        changed = False
        for key, kpi in self._kpis.items():
            text, level = kpi.read(snapshot)
            if (text, level) != (self.values[key], self.levels[key]):
                self.values[key], self.levels[key] = text, level
                if key in self.value_rects:
                    self._fitted[key] = self._fit(key)
                changed = True
        return changed

    def paint(self, painter: QPainter) -> None:
        _panel(painter, self.rect)
        painter.setFont(self.title_font)
        painter.setPen(MUTED)
        for key in KIOSK_KPIS:
            _draw_text(painter, self.title_rects[key], Qt.AlignmentFlag.AlignLeft, self.titles[key])
        for key in KIOSK_KPIS:
            painter.setFont(self.value_font_for(key))
            painter.setPen(LEVEL_COLORS.get(self.levels[key], TEXT))
            _draw_text(
                painter,
                self.value_rects[key],
                Qt.AlignmentFlag.AlignLeft | Qt.AlignmentFlag.AlignVCenter,
                self.values[key],
            )


class ClockPanel:
    """The simulated local time at the site and the outdoor temperature, top right."""

    def __init__(self, start: datetime, family: str, units: UnitSystem) -> None:
        self.start = start
        self.family = family
        self.temperature = conversion("°C", units)
        self.time_text = "--:--"
        self.outdoor_text = ""
        self.rect = QRectF()
        self.time_rect = self.outdoor_rect = QRectF()
        self.time_font = self.outdoor_font = QFont()

    def _outdoor(self, celsius: float) -> str:
        value = f"{self.temperature.to_display(celsius):.1f} {self.temperature.unit}"
        return QCoreApplication.translate("kiosk", "Outdoor {temperature}").format(
            temperature=value
        )

    def set_scale(self, height: int, top_right: QPointF) -> None:
        self.time_font = _font(self.family, height * CLOCK_SIZE, bold=True)
        self.outdoor_font = _font(self.family, height * KPI_TITLE_SIZE)
        times, outdoors = QFontMetricsF(self.time_font), QFontMetricsF(self.outdoor_font)
        digit = _widest_digit(outdoors)
        width = max(
            times.horizontalAdvance("88:88".replace("8", _widest_digit(times))),
            outdoors.horizontalAdvance(self._outdoor(-88.8).replace("8", digit)),
        )
        gap = round(height * KPI_TITLE_SIZE * 0.8)
        left = top_right.x() - width - 3 * gap
        self.time_rect = QRectF(left + 1.5 * gap, top_right.y() + gap, width, times.height())
        self.outdoor_rect = QRectF(
            self.time_rect.left(), self.time_rect.bottom(), width, outdoors.height()
        )
        self.rect = QRectF(
            left, top_right.y(), width + 3 * gap, self.outdoor_rect.bottom() + gap - top_right.y()
        )

    def update_snapshot(self, snapshot: Snapshot) -> bool:
        now = self.start + timedelta(seconds=snapshot.time_s)
        texts = (f"{now:%H:%M}", self._outdoor(snapshot.site["ambient_c"]))
        if texts == (self.time_text, self.outdoor_text):
            return False
        self.time_text, self.outdoor_text = texts
        return True

    def paint(self, painter: QPainter) -> None:
        _panel(painter, self.rect)
        painter.setPen(TEXT)
        painter.setFont(self.time_font)
        _draw_text(painter, self.time_rect, Qt.AlignmentFlag.AlignRight, self.time_text)
        painter.setPen(MUTED)
        painter.setFont(self.outdoor_font)
        _draw_text(painter, self.outdoor_rect, Qt.AlignmentFlag.AlignRight, self.outdoor_text)


class ColorKey:
    """What the racks' colours mean: the colour field's name and unit over its ramp (or
    its categories), and the tripped racks' magenta."""

    def __init__(self, fields: Sequence[ColorField], family: str, units: UnitSystem) -> None:
        self.fields = {field.key: field for field in fields}
        self.family = family
        self.units = units
        self.field = fields[0]
        self.rect = QRectF()
        self.font = QFont()
        self._height = 0
        self._stops: list[tuple[float, QColor]] = []
        self._title()

    def set_field(self, key: str) -> None:
        self.field = self.fields[key]
        self._title()

    def _title(self) -> None:
        unit = conversion(self.field.unit, self.units).unit if self.field.unit else ""
        name = _field_titles().get(self.field.key, self.field.label)
        self.title = f"{name} ({unit})" if unit else name
        if not self.field.categories:  # the ramp's colours, mapped once, not every frame
            stops = np.linspace(0.0, 1.0, LEGEND_BAR_STEPS)
            colors = self.field.ramp.map(stops)
            self._stops = [(float(s), _qcolor(c)) for s, c in zip(stops, colors, strict=True)]

    def set_scale(self, height: int, corner: QPointF, width: float) -> None:
        self.font = _font(self.family, height * LEGEND_SIZE)
        self._height = height
        line = QFontMetricsF(self.font).height()
        gap = round(height * KPI_TITLE_SIZE * 0.8)
        # title, marks, bar, its ends, the tripped swatch: the same for every field
        self.rect = QRectF(corner.x(), corner.y(), width, 2 * gap + 5.2 * line)
        self._title()

    def _ends(self) -> tuple[str, str]:
        shown = conversion(self.field.unit, self.units) if self.field.unit else None

        def text(value: float) -> str:
            return f"{shown.to_display(value) if shown else value:.0f}"

        return text(self.field.low), text(self.field.high)

    def paint(self, painter: QPainter) -> None:
        _panel(painter, self.rect)
        metrics = QFontMetricsF(self.font)
        line = metrics.height()
        gap = round(self._height * KPI_TITLE_SIZE * 0.8)
        inner = self.rect.adjusted(1.5 * gap, gap, -1.5 * gap, -gap)
        painter.setFont(self.font)
        painter.setPen(MUTED)
        title = metrics.elidedText(self.title, Qt.TextElideMode.ElideRight, inner.width())
        _draw_text(painter, QRectF(inner.left(), inner.top(), inner.width(), line), 0, title)
        bar = QRectF(inner.left(), inner.top() + 2.1 * line, inner.width(), 0.9 * line)
        words = _field_words()
        painter.setPen(Qt.PenStyle.NoPen)
        if self.field.categories:
            share = bar.width() / len(self.field.categories)
            for k, category in enumerate(self.field.categories):
                painter.setBrush(_qcolor(category.rgba))
                cell = QRectF(bar.left() + k * share, bar.top(), share, bar.height())
                painter.drawRect(cell)
                painter.setPen(TEXT)
                below = QRectF(cell.left(), bar.bottom(), share, line)
                _draw_text(
                    painter,
                    below,
                    Qt.AlignmentFlag.AlignHCenter,
                    words.get(category.label, category.label),
                )
                painter.setPen(Qt.PenStyle.NoPen)
        else:
            gradient = QLinearGradient(bar.topLeft(), bar.topRight())
            gradient.setStops(self._stops)
            painter.setBrush(gradient)
            painter.drawRect(bar)
            painter.setPen(TEXT)
            low, high = self._ends()
            labels = QRectF(bar.left(), bar.bottom(), bar.width(), line)
            _draw_text(painter, labels, Qt.AlignmentFlag.AlignLeft, low)
            _draw_text(painter, labels, Qt.AlignmentFlag.AlignRight, high)
            for value, mark in self.field.marks:  # above the bar, clear of its ends
                share = (value - self.field.low) / (self.field.high - self.field.low)
                x = bar.left() + share * bar.width()
                painter.drawLine(QPointF(x, bar.top() - 0.2 * line), QPointF(x, bar.bottom()))
                word = words.get(mark, mark)
                width = metrics.horizontalAdvance(word)
                left = min(max(x - width / 2, labels.left()), labels.right() - width)
                _draw_text(painter, QRectF(left, bar.top() - 1.1 * line, width, line), 0, word)
        if any(category.label == "tripped" for category in self.field.categories):
            return  # a category of its own already
        swatch = QRectF(inner.left(), bar.bottom() + 1.3 * line, 0.9 * line, 0.9 * line)
        painter.setPen(Qt.PenStyle.NoPen)
        painter.setBrush(_qcolor(TRIPPED_RGBA))
        painter.drawRect(swatch)
        painter.setPen(TEXT)
        _draw_text(
            painter,
            QRectF(swatch.right() + 0.4 * line, swatch.top() - 0.1 * line, inner.width(), line),
            0,
            words["tripped"],
        )


class TextBox:
    """A caption or hint: centred text on a panel of a fixed width (caption) or of the
    text's (hint), its bottom edge fixed."""

    def __init__(self, family: str, color: QColor, *, bold: bool = False) -> None:
        self.family = family
        self.color = color
        self.bold = bold
        self.text = ""
        self.visible = False
        self.rect = QRectF()
        self.font = QFont()
        self._width: float | None = None
        self._center_x = 0.0
        self._bottom = 0.0
        self._pad = 0.0

    def set_scale(self, pixels: float, center_x: float, bottom: float, width: float | None) -> None:
        self.font = _font(self.family, pixels, bold=self.bold)
        self._pad = pixels * 0.5
        self._center_x, self._bottom, self._width = center_x, bottom, width
        self._place()

    def set_text(self, text: str) -> None:
        if text != self.text:
            self.text = text
            self._place()

    def _place(self) -> None:
        metrics = QFontMetricsF(self.font)
        if self._width is None:  # as wide as the text
            lines = self.text.splitlines() or [""]
            inner = max(metrics.horizontalAdvance(line) for line in lines)
        else:
            inner = self._width - 4 * self._pad
        flags = Qt.AlignmentFlag.AlignCenter | Qt.TextFlag.TextWordWrap
        text = metrics.boundingRect(QRectF(0, 0, inner, 1e6), flags, self.text or " ")
        width, height = inner + 4 * self._pad, text.height() + 2 * self._pad
        self.rect = QRectF(self._center_x - width / 2, self._bottom - height, width, height)

    def paint(self, painter: QPainter) -> None:
        if not self.visible or not self.text:
            return
        _panel(painter, self.rect)
        painter.setFont(self.font)
        painter.setPen(self.color)
        inner = self.rect.adjusted(2 * self._pad, self._pad, -2 * self._pad, -self._pad)
        flags = Qt.AlignmentFlag.AlignCenter | Qt.TextFlag.TextWordWrap
        _draw_text(painter, inner, flags, self.text)


class Callout:
    """A labelled box with a leader line to a point of the view (the object's top)."""

    def __init__(self, family: str) -> None:
        self.family = family
        self.text = ""
        self.anchor: QPointF | None = None
        self.box = QRectF()
        self.font = QFont()
        self._scale = 720
        self._bounds = QRectF()

    @property
    def visible(self) -> bool:
        return self.anchor is not None and bool(self.text)

    def set_scale(self, height: int, bounds: QRectF) -> None:
        self._scale = height
        self._bounds = bounds
        self.font = _font(self.family, height * CALLOUT_SIZE, bold=True)
        self._place()

    def set_text(self, text: str) -> None:
        self.text = text
        self._place()

    def point_at(self, anchor: QPointF | None) -> bool:
        """Point at ``anchor`` (view pixels); None hides the callout. Whether it moved."""
        if anchor == self.anchor:
            return False
        self.anchor = anchor
        self._place()
        return True

    def _place(self) -> None:
        """The text box: above and to the right of the anchor, flipped to stay inside the
        view."""
        if not self.visible or self.anchor is None:
            return
        metrics = QFontMetricsF(self.font)
        pad = metrics.height() * 0.45
        width = metrics.horizontalAdvance(self.text) + 2 * pad
        height = metrics.height() + 2 * pad
        reach = self._scale * 0.09  # leader line length, both ways
        x, y = self.anchor.x() + reach, self.anchor.y() - reach - height
        if x + width > self._bounds.right():
            x = self.anchor.x() - reach - width
        if y < self._bounds.top():
            y = self.anchor.y() + reach
        self.box = QRectF(x, y, width, height)

    def paint(self, painter: QPainter) -> None:
        if not self.visible or self.anchor is None:
            return
        box, anchor = self.box, self.anchor
        near = QPointF(
            box.left() if anchor.x() < box.left() else box.right(),
            box.bottom() if anchor.y() > box.bottom() else box.top(),
        )
        painter.setPen(QPen(QColor(ACCENT), max(self._scale / 400, 2.0)))
        painter.drawLine(anchor, near)
        painter.setBrush(QColor(ACCENT))
        painter.drawEllipse(anchor, 6.0, 6.0)
        _panel(painter, box)
        painter.setBrush(Qt.BrushStyle.NoBrush)
        painter.drawRect(box.toAlignedRect())  # an accent frame, in the leader's pen
        painter.setFont(self.font)
        painter.setPen(TEXT)
        _draw_text(painter, box, Qt.AlignmentFlag.AlignCenter, self.text)


class InfoCard:
    """The object a visitor tapped: its name and a few live readings, in ``units``."""

    def __init__(self, family: str, *, units: UnitSystem = UnitSystem.SI) -> None:
        self.family = family
        self.units = units
        self.view: ObjectView | None = None
        self.title = ""
        self.readings = ""
        self.rect = QRectF()
        self.title_font = self.font = QFont()
        self._top_right = QPointF()
        self._pad = 0.0

    @property
    def visible(self) -> bool:
        return self.view is not None

    def set_scale(self, height: int, top_right: QPointF) -> None:
        self._pad = round(height * CARD_SIZE * 0.7)
        self.title_font = _font(self.family, height * CARD_SIZE * 1.3, bold=True)
        self.font = _font(self.family, height * CARD_SIZE)
        self._top_right = top_right
        self._place()

    def show_view(self, view: ObjectView | None, snapshot: Snapshot | None) -> None:
        """Show the object ``view`` describes (its readings SI, shown in the card's
        units); None hides the card."""
        self.view = None if view is None else view.in_units(self.units)
        if view is None:
            return
        self.title = view.title
        self.readings = ""
        self.update_snapshot(snapshot)
        self._place()

    def update_snapshot(self, snapshot: Snapshot | None) -> bool:
        if self.view is None or snapshot is None:
            return False
        lines = [f"{r.label}: {r.text(snapshot)}" for r in self.view.readings[:CARD_READINGS]]
        text = "\n".join(lines)
        if self.readings == text:
            return False
        self.readings = text
        self._place()
        return True

    def _place(self) -> None:
        titles, readings = QFontMetricsF(self.title_font), QFontMetricsF(self.font)
        lines = self.readings.splitlines()
        width = max(
            titles.horizontalAdvance(self.title),
            *(readings.horizontalAdvance(line) for line in lines),
            0.0,
        )
        height = titles.height() + readings.lineSpacing() * len(lines)
        self.rect = QRectF(
            self._top_right.x() - width - 2 * self._pad,
            self._top_right.y(),
            width + 2 * self._pad,
            height + 2 * self._pad,
        )

    def paint(self, painter: QPainter) -> None:
        if not self.visible:
            return
        _panel(painter, self.rect)
        inner = self.rect.adjusted(self._pad, self._pad, -self._pad, -self._pad)
        painter.setFont(self.title_font)
        painter.setPen(QColor(ACCENT))
        _draw_text(painter, inner, Qt.AlignmentFlag.AlignLeft, self.title)
        painter.setFont(self.font)
        painter.setPen(TEXT)
        below = inner.adjusted(0, QFontMetricsF(self.title_font).height(), 0, 0)
        _draw_text(painter, below, Qt.AlignmentFlag.AlignLeft, self.readings)


CHART_SAMPLES = 600  # the latest snapshots a chart holds: its memory is fixed
CHART_WIDTH = 0.44  # of the screen's height
CHART_HEIGHT = 0.24
GRID_COLOR = QColor("#ffb74d")
_PREFIXES = ((1e9, "G"), (1e6, "M"), (1e3, "k"), (1.0, ""))
CHART_UNITS = {"tokens": "tok/s", "power": "W"}  # the base units of the charts' values


def _chart_series() -> dict[str, tuple[tuple[str, str, float, QColor], ...]]:
    """Each chart's lines: site column, name in the current language, factor to the
    shown unit's base (W or tok/s) and colour."""
    return {
        "tokens": (
            (
                "tokens_per_s",
                QCoreApplication.translate("kiosk", "Tokens per second"),
                1.0,
                QColor(ACCENT),
            ),
        ),
        "power": (
            (
                "grid_import_kw",
                QCoreApplication.translate("kiosk", "Grid import"),
                1e3,
                GRID_COLOR,
            ),
            ("it_power_kw", QCoreApplication.translate("kiosk", "IT power"), 1e3, QColor(ACCENT)),
        ),
    }


class EvidenceChart:
    """A step's evidence: a small live chart of the figures its caption speaks of, from
    the step's start (tokens per second during a pump trip; grid import against IT power
    while the battery smooths the load or the site answers a demand response)."""

    def __init__(self, family: str) -> None:
        self.family = family
        self.kind: str | None = None
        self.shown = True  # while touring
        self.times_s = np.full(CHART_SAMPLES, np.nan)
        self.values = np.full((2, CHART_SAMPLES), np.nan)
        self.count = 0
        self.rect = self.plot = QRectF()
        self.font = QFont()
        self._pad = 0.0
        self._gutter = 0.0

    @property
    def visible(self) -> bool:
        return self.kind is not None and self.shown

    def start(self, kind: str | None) -> None:
        """Chart ``kind`` (None: no chart) from the next snapshot on."""
        self.kind = kind
        self.count = 0

    def set_scale(self, height: int, top_right: QPointF) -> None:
        self.font = _font(self.family, height * LEGEND_SIZE)
        line = QFontMetricsF(self.font).height()
        self._pad = round(height * KPI_TITLE_SIZE * 0.8)
        width, tall = height * CHART_WIDTH, height * CHART_HEIGHT
        self.rect = QRectF(top_right.x() - width, top_right.y(), width, tall)
        inner = self.rect.adjusted(self._pad, self._pad, -self._pad, -self._pad)
        # a line of names above, the range's ends in a gutter at the left, the span below
        metrics = QFontMetricsF(self.font)
        self._gutter = max(metrics.horizontalAdvance(f"-888.8 {p}tok/s") for _, p in _PREFIXES)
        self.plot = inner.adjusted(self._gutter + 0.5 * line, 1.9 * line, 0, -1.2 * line)

    def update_snapshot(self, snapshot: Snapshot) -> bool:
        if self.kind is None:
            return False
        if self.count and snapshot.time_s <= self.times_s[self.count - 1]:
            if snapshot.time_s == self.times_s[self.count - 1]:
                return False
            self.count = 0  # the simulation started again
        if self.count == CHART_SAMPLES:  # full: the oldest goes
            self.times_s[:-1] = self.times_s[1:]
            self.values[:, :-1] = self.values[:, 1:]
            self.count -= 1
        self.times_s[self.count] = snapshot.time_s
        for row, (column, _name, factor, _color) in enumerate(_chart_series()[self.kind]):
            self.values[row, self.count] = snapshot.site[column] * factor
        self.count += 1
        return self.visible

    def _range(self) -> tuple[float, float]:
        rows = len(_chart_series()[self.kind or "tokens"])
        shown = self.values[:rows, : self.count]
        low, high = float(np.nanmin(shown)), float(np.nanmax(shown))
        span = max(high - low, 0.05 * max(abs(high), 1e-9))  # a flat line sits mid-chart
        middle = (low + high) / 2
        return middle - 0.6 * span, middle + 0.6 * span

    def polylines(self) -> list[QPolygonF]:
        """Each series in plot pixels."""
        if self.count < 2 or self.kind is None:
            return []
        low, high = self._range()
        times = self.times_s[: self.count]
        x = self.plot.left() + (times - times[0]) / (times[-1] - times[0]) * self.plot.width()
        lines = []
        for row in range(len(_chart_series()[self.kind])):
            share = (self.values[row, : self.count] - low) / (high - low)
            y = self.plot.bottom() - share * self.plot.height()
            lines.append(QPolygonF([QPointF(a, b) for a, b in zip(x, y, strict=True)]))
        return lines

    def _text(self, value: float) -> str:
        unit = CHART_UNITS[self.kind or "tokens"]
        factor, prefix = next((f, p) for f, p in _PREFIXES if abs(value) >= f or f == 1.0)
        return f"{value / factor:.1f} {prefix}{unit}"

    def paint(self, painter: QPainter) -> None:
        if not self.visible or self.kind is None:
            return
        _panel(painter, self.rect)
        metrics = QFontMetricsF(self.font)
        line = metrics.height()
        painter.setFont(self.font)
        x = self.rect.left() + self._pad
        for _column, name, _factor, color in _chart_series()[self.kind]:
            painter.setPen(color)
            _draw_text(
                painter, QRectF(x, self.rect.top() + self._pad, self.plot.width(), line), 0, name
            )
            x += metrics.horizontalAdvance(name) + line
        painter.setPen(QPen(MUTED, 1.0))
        painter.setBrush(Qt.BrushStyle.NoBrush)
        painter.drawLine(self.plot.bottomLeft(), self.plot.bottomRight())
        lines = self.polylines()
        if not lines:
            return
        low, high = self._range()
        right = Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter
        for value, y in ((high, self.plot.top()), (low, self.plot.bottom())):
            ends = QRectF(self.rect.left() + self._pad, y - line / 2, self._gutter, line)
            _draw_text(painter, ends, right, self._text(value))
        minutes = (self.times_s[self.count - 1] - self.times_s[0]) / 60
        span = QCoreApplication.translate("kiosk", "last {minutes} simulated min").format(
            minutes=f"{minutes:.0f}" if minutes >= 1 else f"{minutes:.1f}"
        )
        below = QRectF(self.plot.left(), self.plot.bottom(), self.plot.width(), line)
        _draw_text(painter, below, Qt.AlignmentFlag.AlignRight, span)
        for (_column, _name, _factor, color), polyline in zip(
            _chart_series()[self.kind], lines, strict=True
        ):
            painter.setPen(QPen(color, max(line / 8, 2.0)))
            painter.drawPolyline(polyline)


def _panel(painter: QPainter, rect: QRectF) -> None:
    """A panel's translucent ground: a pixel-aligned rectangle, which OpenGL fills in one
    pass (rounded or antialiased shapes go through the stencil first: twice the fill,
    the overlay's main cost under software OpenGL)."""
    painter.fillRect(rect.toAlignedRect(), PANEL)


class KioskOverlay:
    """KPIs down the left with the colour key under them, the clock at the top right with
    the step's evidence chart under it (a tapped object's card while a visitor has the
    view), the caption at the bottom, or the hint in its place
    while a visitor has the view.
    ``changed`` is called whenever what the overlay shows changes (to draw a frame)."""

    def __init__(
        self,
        scenario: Scenario,
        topology: Topology,
        points: Sequence[AlarmPoint],
        fields: Sequence[ColorField],
        family: str,
        *,
        units: UnitSystem = UnitSystem.SI,
        changed: Callable[[], None] = lambda: None,
    ) -> None:
        """``points``: the scenario's alarm points, which set the KPIs' levels; ``fields``:
        the racks' colour fields, the first shown until ``set_color_field``."""
        self.family = family
        self.changed = changed
        self.visible = True
        self.size = (0, 0)
        self.kpis = KpiPanel(scenario, topology, points, family, units)
        self.clock = ClockPanel(scenario.scenario.start, family, units)
        self.key = ColorKey(fields, family, units)
        self.caption = TextBox(family, TEXT)
        self.hint = TextBox(family, QColor(ACCENT), bold=True)
        self.card = InfoCard(family, units=units)
        self.callout = Callout(family)
        self.chart = EvidenceChart(family)

    def set_size(self, width: int, height: int) -> None:
        """Lay everything out for a view of ``width`` x ``height`` px."""
        if (width, height) == self.size:
            return
        self.size = (width, height)
        margin = round(height * MARGIN)
        self.kpis.set_scale(height, QPointF(margin, margin))
        self.key.set_scale(
            height, QPointF(margin, self.kpis.rect.bottom() + margin), self.kpis.rect.width()
        )
        self.clock.set_scale(height, QPointF(width - margin, margin))
        # the card while a visitor has the view, the chart while the tour goes on
        under_clock = QPointF(width - margin, self.clock.rect.bottom() + margin)
        self.card.set_scale(height, under_clock)
        self.chart.set_scale(height, under_clock)
        self.callout.set_scale(height, QRectF(0, 0, width, height))
        self.caption.set_scale(
            height * CAPTION_SIZE, width / 2, height - margin, width * CAPTION_WIDTH
        )
        # in the caption's place: a visitor's view has no caption
        self.hint.set_scale(height * HINT_SIZE, width / 2, height - margin, None)
        self.changed()

    def show_caption(self, text: str) -> None:
        self.caption.set_text(text)
        self.caption.visible = bool(text) and not self.hint.visible
        self.changed()

    def set_color_field(self, key: str) -> None:
        self.key.set_field(key)
        self.changed()

    def set_touring(self, touring: bool) -> None:
        self.caption.visible = touring and bool(self.caption.text)
        self.hint.visible = not touring
        self.chart.shown = touring
        if touring:
            self.card.show_view(None, None)
        else:
            self.callout.point_at(None)
        self.changed()

    def set_hint_countdown(self, seconds: int) -> None:
        """What a visitor can do, and when the tour takes the view back."""
        how = QCoreApplication.translate(
            "kiosk", "Drag to look around · wheel to zoom · tap a rack to see it"
        )
        when = QCoreApplication.translate("kiosk", "The tour resumes in {seconds} s")
        text = f"{how}\n{when.format(seconds=seconds)}"
        if self.hint.text != text:
            self.hint.set_text(text)
            self.changed()

    def start_chart(self, kind: str | None) -> None:
        self.chart.start(kind)
        self.changed()

    def point_callout_at(self, anchor: QPointF | None) -> None:
        if self.callout.point_at(anchor):
            self.changed()

    def show_card(self, view: ObjectView | None, snapshot: Snapshot | None) -> None:
        self.card.show_view(view, snapshot)
        self.changed()

    def update_snapshot(self, snapshot: Snapshot) -> None:
        shown = [
            self.kpis.update_snapshot(snapshot),
            self.clock.update_snapshot(snapshot),
            self.card.update_snapshot(snapshot),
            self.chart.update_snapshot(snapshot),
        ]
        if any(shown):
            self.changed()

    def panels(self) -> dict[str, QRectF]:
        """Where each shown panel lies, in view pixels."""
        shown = {"kpis": self.kpis.rect, "clock": self.clock.rect, "key": self.key.rect}
        parts = (
            ("caption", self.caption),
            ("hint", self.hint),
            ("card", self.card),
            ("chart", self.chart),
        )
        for name, part in parts:
            if part.visible:
                shown[name] = part.rect
        if self.callout.visible:
            shown["callout"] = self.callout.box
        return shown

    def paint(self, painter: QPainter) -> None:
        """Paint the overlay (in view pixels) over whatever ``painter`` has drawn."""
        if not self.visible or min(self.size) <= 0:  # not laid out yet
            return
        painter.setRenderHint(QPainter.RenderHint.Antialiasing)
        painter.setRenderHint(QPainter.RenderHint.TextAntialiasing)
        parts = (self.kpis, self.key, self.clock, self.card, self.chart, self.hint, self.caption)
        for part in parts:
            part.paint(painter)
        self.callout.paint(painter)
