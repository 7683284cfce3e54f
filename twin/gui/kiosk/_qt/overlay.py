"""What the kiosk draws over the 3D view: large KPIs, the caption, a callout that points
at an object, the visitor's hint and the card of the object a visitor tapped.

Sizes follow the screen's height so that the same story reads the same on a laptop and
on a 4K wall. KPIs and readings are shown in the display units the overlay is given. The
overlay lets every mouse and touch event through to the 3D view.
"""

from __future__ import annotations

from collections.abc import Sequence

from PySide6.QtCore import QCoreApplication, QPointF, QRectF, Qt
from PySide6.QtGui import QColor, QFont, QFontMetrics, QPainter, QPaintEvent, QPen
from PySide6.QtWidgets import QFrame, QHBoxLayout, QLabel, QVBoxLayout, QWidget

from twin.alarms import AlarmPoint
from twin.gui.kpis import ALARM, WARNING, site_kpis
from twin.gui.objects import ObjectView
from twin.gui.units import UnitSystem
from twin.scenario import Scenario
from twin.sim.snapshot import Snapshot

# Type sizes as fractions of the screen's height. On a 65-inch 4K panel (pixels of
# 0.37 mm) a KPI value is 2160 / 18 = 120 px, capitals about 30 mm tall: signage
# guidance asks for about 25 mm per 3 m of viewing distance.
KPI_VALUE_SIZE = 1 / 18
KPI_TITLE_SIZE = 1 / 44
CAPTION_SIZE = 1 / 30
CALLOUT_SIZE = 1 / 36
HINT_SIZE = 1 / 36
CARD_SIZE = 1 / 40
MARGIN = 1 / 40
CAPTION_WIDTH = 0.6  # of the screen's width
CARD_READINGS = 6

TEXT = "#f2f6fa"
MUTED = "#a9b6c4"
ACCENT = "#4fc3f7"
LEVEL_COLORS = {WARNING: "#ffb74d", ALARM: "#ff5252"}
PANEL = QColor(8, 14, 22, 200)

KIOSK_KPIS = ("it", "pue", "tokens", "grid", "gpu")


def _titles() -> dict[str, str]:
    """The KPI titles in the current language (translated once the translator is in)."""
    return {
        "it": QCoreApplication.translate("kiosk", "IT power"),
        "pue": QCoreApplication.translate("kiosk", "PUE"),
        "tokens": QCoreApplication.translate("kiosk", "Tokens per second"),
        "grid": QCoreApplication.translate("kiosk", "Grid import / cap"),
        "gpu": QCoreApplication.translate("kiosk", "Hottest GPU"),
    }


def _font(family: str, pixels: float, bold: bool = False) -> QFont:
    font = QFont(family)
    font.setPixelSize(max(round(pixels), 8))
    font.setBold(bold)
    return font


class KpiPanel(QFrame):
    def __init__(
        self,
        scenario: Scenario,
        points: Sequence[AlarmPoint],
        family: str,
        parent: QWidget | None = None,
        *,
        units: UnitSystem = UnitSystem.SI,
    ) -> None:
        super().__init__(parent)
        self.setObjectName("kioskPanel")
        self.family = family
        self._kpis = {
            kpi.key: kpi for kpi in site_kpis(scenario, points, units) if kpi.key in KIOSK_KPIS
        }
        self.titles: dict[str, QLabel] = {}
        self.values: dict[str, QLabel] = {}
        column = self._column = QVBoxLayout(self)
        titles = _titles()
        for key in KIOSK_KPIS:
            title, value = QLabel(titles[key]), QLabel("—")
            title.setObjectName("kioskKpiTitle")
            value.setObjectName("kioskKpiValue")
            column.addWidget(title)
            column.addWidget(value)
            self.titles[key], self.values[key] = title, value

    def set_scale(self, height: int) -> None:
        gap = round(height * KPI_TITLE_SIZE * 0.8)
        self._column.setContentsMargins(gap, gap // 2, gap * 2, gap)
        for key in KIOSK_KPIS:
            self.titles[key].setFont(_font(self.family, height * KPI_TITLE_SIZE))
            self.titles[key].setContentsMargins(0, gap, 0, 0)
            self.values[key].setFont(_font(self.family, height * KPI_VALUE_SIZE, bold=True))

    def update_snapshot(self, snapshot: Snapshot) -> None:
        for key, kpi in self._kpis.items():
            text, level = kpi.read(snapshot)
            label = self.values[key]
            if label.text() != text:
                label.setText(text)
            if label.property("level") != level:
                label.setProperty("level", level)
                label.style().unpolish(label)  # re-read the style sheet for the new level
                label.style().polish(label)


class Callout(QWidget):
    """A labelled box with a leader line to a point of the view (the object's top)."""

    def __init__(self, family: str, parent: QWidget) -> None:
        super().__init__(parent)
        self.setAttribute(Qt.WidgetAttribute.WA_TransparentForMouseEvents)
        self.family = family
        self.text = ""
        self._scale = 720
        self._anchor: QPointF | None = None
        self.hide()

    def set_scale(self, height: int) -> None:
        self._scale = height
        self.setFont(_font(self.family, height * CALLOUT_SIZE, bold=True))
        self._place()

    def set_text(self, text: str) -> None:
        self.text = text
        self._place()

    def point_at(self, anchor: QPointF | None) -> None:
        """Point at ``anchor`` (parent coordinates); None hides the callout."""
        if anchor == self._anchor:
            return
        self._anchor = anchor
        self._place()

    def _box(self, anchor: QPointF) -> QRectF:
        """The text box in parent coordinates: above and to the right of ``anchor``,
        flipped to stay inside the parent."""
        metrics = QFontMetrics(self.font())
        pad = metrics.height() * 0.45
        width = metrics.horizontalAdvance(self.text) + 2 * pad
        height = metrics.height() + 2 * pad
        reach = self._scale * 0.09  # leader line length, both ways
        x, y = anchor.x() + reach, anchor.y() - reach - height
        parent = self.parentWidget()
        if parent is None:
            raise RuntimeError("a callout is placed inside the window it is made in")
        bounds = parent.rect()
        if x + width > bounds.right():
            x = anchor.x() - reach - width
        if y < bounds.top():
            y = anchor.y() + reach
        return QRectF(x, y, width, height)

    def _place(self) -> None:
        if self._anchor is None or not self.text:
            self.hide()
            return
        box = self._box(self._anchor)
        dot = QRectF(self._anchor.x() - 8, self._anchor.y() - 8, 16, 16)
        area = box.united(dot).toAlignedRect().adjusted(-2, -2, 2, 2)
        if area != self.geometry():
            self.setGeometry(area)
        self._local_box = box.translated(-area.topLeft().toPointF())
        self._local_anchor = self._anchor - area.topLeft().toPointF()
        self.show()
        self.update()

    def paintEvent(self, _event: QPaintEvent) -> None:
        painter = QPainter(self)
        painter.setRenderHint(QPainter.RenderHint.Antialiasing)
        box, anchor = self._local_box, self._local_anchor
        near = QPointF(
            box.left() if anchor.x() < box.left() else box.right(),
            box.bottom() if anchor.y() > box.bottom() else box.top(),
        )
        painter.setPen(QPen(QColor(ACCENT), max(self._scale / 400, 2.0)))
        painter.drawLine(anchor, near)
        painter.setBrush(QColor(ACCENT))
        painter.drawEllipse(anchor, 6.0, 6.0)
        painter.setBrush(PANEL)
        painter.drawRoundedRect(box, 8.0, 8.0)
        painter.setPen(QColor(TEXT))
        painter.drawText(box, Qt.AlignmentFlag.AlignCenter, self.text)


class InfoCard(QFrame):
    """The object a visitor tapped: its name and a few live readings, in ``units``."""

    def __init__(
        self, family: str, parent: QWidget | None = None, *, units: UnitSystem = UnitSystem.SI
    ) -> None:
        super().__init__(parent)
        self.setObjectName("kioskPanel")
        self.family = family
        self.units = units
        self.view: ObjectView | None = None
        self.title = QLabel()
        self.title.setObjectName("kioskCardTitle")
        self.readings = QLabel()
        self.readings.setTextFormat(Qt.TextFormat.PlainText)
        column = self._column = QVBoxLayout(self)
        column.addWidget(self.title)
        column.addWidget(self.readings)
        self.hide()

    def set_scale(self, height: int) -> None:
        pad = round(height * CARD_SIZE * 0.7)
        self._column.setContentsMargins(pad, pad, pad, pad)
        self.title.setFont(_font(self.family, height * CARD_SIZE * 1.3, bold=True))
        self.readings.setFont(_font(self.family, height * CARD_SIZE))

    def show_view(self, view: ObjectView | None, snapshot: Snapshot | None) -> None:
        """Show the object ``view`` describes (its readings SI, shown in the card's
        units); None hides the card."""
        self.view = None if view is None else view.in_units(self.units)
        if view is None:
            self.hide()
            return
        self.title.setText(view.title)
        self.update_snapshot(snapshot)
        self.show()

    def update_snapshot(self, snapshot: Snapshot | None) -> None:
        if self.view is None or snapshot is None:
            return
        lines = [f"{r.label}: {r.text(snapshot)}" for r in self.view.readings[:CARD_READINGS]]
        text = "\n".join(lines)
        if self.readings.text() != text:
            self.readings.setText(text)


class KioskOverlay(QWidget):
    """KPIs down the left, the caption at the bottom, the hint above it and the card of a
    tapped object at the top right; transparent to input."""

    def __init__(
        self,
        scenario: Scenario,
        points: Sequence[AlarmPoint],
        family: str,
        parent: QWidget | None = None,
        *,
        units: UnitSystem = UnitSystem.SI,
    ) -> None:
        """``points``: the scenario's alarm points, which set the KPIs' levels."""
        super().__init__(parent)
        self.setAttribute(Qt.WidgetAttribute.WA_TransparentForMouseEvents)
        self.family = family
        self.kpis = KpiPanel(scenario, points, family, units=units)
        self.caption = QLabel()
        self.caption.setObjectName("kioskCaption")
        self.caption.setWordWrap(True)
        self.caption.setAlignment(Qt.AlignmentFlag.AlignCenter)
        self.caption.hide()
        self.hint = QLabel()
        self.hint.setObjectName("kioskHint")
        self.hint.setAlignment(Qt.AlignmentFlag.AlignCenter)
        self.hint.hide()
        self.card = InfoCard(family, units=units)
        self.callout = Callout(family, self)

        left = QVBoxLayout()
        left.addWidget(self.kpis)
        left.addStretch(1)
        right = QVBoxLayout()
        right.addWidget(self.card, 0, Qt.AlignmentFlag.AlignRight)
        right.addStretch(1)
        right.addWidget(self.hint, 0, Qt.AlignmentFlag.AlignHCenter)
        right.addWidget(self.caption, 0, Qt.AlignmentFlag.AlignHCenter)
        self.row = QHBoxLayout(self)
        self.row.addLayout(left)
        self.row.addLayout(right, 1)
        self.setStyleSheet(f"""
            QFrame#kioskPanel {{ background: rgba{PANEL.getRgb()}; border-radius: 10px; }}
            QLabel {{ color: {TEXT}; background: transparent; }}
            QLabel#kioskKpiTitle {{ color: {MUTED}; }}
            QLabel#kioskKpiValue[level="{WARNING}"] {{ color: {LEVEL_COLORS[WARNING]}; }}
            QLabel#kioskKpiValue[level="{ALARM}"] {{ color: {LEVEL_COLORS[ALARM]}; }}
            QLabel#kioskCaption, QLabel#kioskHint {{
                background: rgba{PANEL.getRgb()}; border-radius: 12px; }}
            QLabel#kioskHint {{ color: {ACCENT}; }}
            QLabel#kioskCardTitle {{ color: {ACCENT}; }}
        """)

    def set_scale(self, height: int) -> None:
        margin = round(height * MARGIN)
        self.row.setContentsMargins(margin, margin, margin, margin)
        self.row.setSpacing(margin)
        self.kpis.set_scale(height)
        self.card.set_scale(height)
        self.callout.set_scale(height)
        pad = round(height * CAPTION_SIZE * 0.5)
        self.caption.setFont(_font(self.family, height * CAPTION_SIZE))
        self.caption.setContentsMargins(pad * 2, pad, pad * 2, pad)
        self.hint.setFont(_font(self.family, height * HINT_SIZE, bold=True))
        self.hint.setContentsMargins(pad, pad // 2, pad, pad // 2)
        self._fit_caption()

    def resizeEvent(self, event) -> None:
        super().resizeEvent(event)
        self._fit_caption()

    def _fit_caption(self) -> None:
        """Size the caption for its wrapped lines (an aligned label in a layout would be
        given its one-line height)."""
        if not self.caption.text():
            return  # hidden; an empty label has no height for a width
        width = round(self.width() * CAPTION_WIDTH)
        self.caption.setMinimumSize(0, 0)  # a label's height for width is at least its minimum
        self.caption.setFixedSize(width, self.caption.heightForWidth(width))

    def show_caption(self, text: str) -> None:
        self.caption.setText(text)
        self._fit_caption()
        self.caption.setVisible(bool(text))

    def set_touring(self, touring: bool) -> None:
        self.caption.setVisible(touring and bool(self.caption.text()))
        self.hint.setVisible(not touring)
        if touring:
            self.card.show_view(None, None)
        else:
            self.callout.point_at(None)

    def set_hint_countdown(self, seconds: int) -> None:
        """What a visitor can do, and when the tour takes the view back."""
        how = QCoreApplication.translate(
            "kiosk", "Drag to look around · wheel to zoom · tap a rack to see it"
        )
        when = QCoreApplication.translate("kiosk", "The tour resumes in {seconds} s")
        text = f"{how}\n{when.format(seconds=seconds)}"
        if self.hint.text() != text:
            self.hint.setText(text)

    def update_snapshot(self, snapshot: Snapshot) -> None:
        self.kpis.update_snapshot(snapshot)
        self.card.update_snapshot(snapshot)
