"""The strip of site figures along the top of the window, refreshed from each snapshot.

The figures stand in one row on a wide screen. As the window narrows the gaps between
them close down to a minimum, then the figures wrap into two rows (or more) of aligned
columns, so that a laptop's screen shows every figure whole and the strip never sets how
narrow the window can be.
"""

from __future__ import annotations

import math

from PySide6.QtCore import QCoreApplication, QRect, QSize, Qt
from PySide6.QtWidgets import QFrame, QLabel, QLayout, QLayoutItem, QVBoxLayout, QWidget

from twin.gui.kpis import Kpi
from twin.sim.snapshot import Snapshot

TILE_GAP_PX = 22  # between two figures, where the row has room
MIN_TILE_GAP_PX = 10  # the least gap before the figures wrap into another row
ROW_GAP_PX = 4
KEPT_WIDTH_FRACTION = 0.75  # a figure this much narrower than its widest gives the room back


class TileRows(QLayout):
    """Tiles in one row ``TILE_GAP_PX`` apart, the gaps closing down to
    ``MIN_TILE_GAP_PX`` where the row is short of room; where even that does not fit, in
    as few rows as do, of equal counts (the last may be shorter), each column as wide as
    its widest tile. The height follows from the width (``heightForWidth``)."""

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self._items: list[QLayoutItem] = []

    def addItem(self, item: QLayoutItem) -> None:
        self._items.append(item)

    def count(self) -> int:
        return len(self._items)

    def itemAt(self, index: int) -> QLayoutItem | None:
        return self._items[index] if 0 <= index < len(self._items) else None

    def takeAt(self, index: int) -> QLayoutItem | None:
        return self._items.pop(index) if 0 <= index < len(self._items) else None

    def expandingDirections(self) -> Qt.Orientation:
        return Qt.Orientation(0)

    def hasHeightForWidth(self) -> bool:
        return True

    def heightForWidth(self, width: int) -> int:
        return self._arrange(QRect(0, 0, width, 0), place=False).height()

    def sizeHint(self) -> QSize:
        """One row, the gaps at their widest."""
        widths, heights = self._sizes()
        margins = self.contentsMargins()
        return QSize(
            sum(widths) + TILE_GAP_PX * max(len(widths) - 1, 0) + margins.left() + margins.right(),
            max(heights, default=0) + margins.top() + margins.bottom(),
        )

    def minimumSize(self) -> QSize:
        """One column: the widest tile."""
        widths, heights = self._sizes()
        margins = self.contentsMargins()
        return QSize(
            max(widths, default=0) + margins.left() + margins.right(),
            max(heights, default=0) + margins.top() + margins.bottom(),
        )

    def setGeometry(self, rect: QRect) -> None:
        super().setGeometry(rect)
        self._arrange(rect, place=True)

    def _sizes(self) -> tuple[list[int], list[int]]:
        hints = [item.sizeHint() for item in self._items if not item.isEmpty()]
        return [hint.width() for hint in hints], [hint.height() for hint in hints]

    def _columns(self, room: int) -> tuple[list[int], int]:
        """The widths of the columns the tiles take in ``room`` pixels, and the gap."""
        widths, _ = self._sizes()
        for rows in range(1, len(widths) + 1):
            columns = math.ceil(len(widths) / rows)
            column_widths = [max(widths[c::columns]) for c in range(columns)]
            spare = room - sum(column_widths)
            if columns == 1:
                return column_widths, 0
            if spare >= MIN_TILE_GAP_PX * (columns - 1):
                return column_widths, min(TILE_GAP_PX, spare // (columns - 1))
        return [], 0

    def _arrange(self, rect: QRect, *, place: bool) -> QRect:
        """Where the tiles go in ``rect``; moves them there if ``place``. Returns the
        rectangle they fill, margins included."""
        margins = self.contentsMargins()
        inner = rect.marginsRemoved(margins)
        items = [item for item in self._items if not item.isEmpty()]
        if not items:
            return QRect(rect.left(), rect.top(), rect.width(), margins.top() + margins.bottom())
        column_widths, gap = self._columns(inner.width())
        columns = len(column_widths)
        lefts = [inner.left() + sum(column_widths[:c]) + gap * c for c in range(columns)]
        top = inner.top()
        for first in range(0, len(items), columns):
            row = items[first : first + columns]
            height = max(item.sizeHint().height() for item in row)
            if place:
                for c, item in enumerate(row):
                    item.setGeometry(QRect(lefts[c], top, column_widths[c], height))
            top += height + ROW_GAP_PX
        return QRect(
            rect.left(),
            rect.top(),
            rect.width(),
            top - ROW_GAP_PX - inner.top() + margins.top() + margins.bottom(),
        )


class KpiStrip(QFrame):
    def __init__(self, kpis: tuple[Kpi, ...], parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("kpiStrip")
        self._kpis = kpis
        self.values: dict[str, QLabel] = {}
        self._titles: dict[str, QLabel] = {}
        tiles = TileRows(self)
        tiles.setContentsMargins(12, 6, 12, 6)
        for kpi in kpis:
            tile = QWidget()
            column = QVBoxLayout(tile)
            column.setContentsMargins(0, 0, 0, 0)
            column.setSpacing(0)
            # a figure's title in the interface's language (context ``kpi``)
            title = QLabel(QCoreApplication.translate("kpi", kpi.title).upper())
            title.setObjectName("kpiTitle")
            value = QLabel("—")
            value.setObjectName("kpiValue")
            value.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
            for label in (title, value):
                label.setToolTip(kpi.tooltip)
                column.addWidget(label)
            tiles.addWidget(tile)
            self.values[kpi.key] = value
            self._titles[kpi.key] = title

    def set_kpis(self, kpis: tuple[Kpi, ...]) -> None:
        """The same figures told differently (in other units); shown from the next
        snapshot."""
        if [kpi.key for kpi in kpis] != [kpi.key for kpi in self._kpis]:
            raise ValueError("the strip's figures cannot change, only how they are shown")
        self._kpis = kpis
        for kpi in kpis:
            for label in (self._titles[kpi.key], self.values[kpi.key]):
                label.setToolTip(kpi.tooltip)
            self.values[kpi.key].setMinimumWidth(0)  # other units, other widths

    def update_snapshot(self, snapshot: Snapshot) -> None:
        for kpi in self._kpis:
            text, level = kpi.read(snapshot)
            label = self.values[kpi.key]
            label.setText(text)
            # A figure keeps its widest width while its text stays about as wide, so that
            # the figures beside it do not shift, nor the rows wrap back and forth, as its
            # digits change; a much shorter text (tripped racks reset) gives the room back.
            width, kept = label.fontMetrics().horizontalAdvance(text), label.minimumWidth()
            if width > kept or width < KEPT_WIDTH_FRACTION * kept:
                label.setMinimumWidth(width)
            if label.property("level") != level:
                label.setProperty("level", level)
                label.style().unpolish(label)  # re-read the style sheet for the new level
                label.style().polish(label)
