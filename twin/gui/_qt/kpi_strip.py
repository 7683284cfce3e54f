"""The strip of site figures along the top of the window, refreshed from each snapshot.

The figures stand in one row on a wide screen. As the window narrows the gaps between
them close down to a minimum, then the figures wrap into two rows (or more) of aligned
columns, so that a laptop's screen shows every figure whole and the strip never sets how
narrow the window can be.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass

from PySide6.QtCore import QRect, QSize, Qt
from PySide6.QtWidgets import QFrame, QLabel, QLayout, QLayoutItem, QVBoxLayout, QWidget

from twin.gui.units import UnitSystem, conversion
from twin.scenario import Scenario
from twin.sim.snapshot import Snapshot

NORMAL, WARNING, ALARM = "normal", "warning", "alarm"
TILE_GAP_PX = 22  # between two figures, where the row has room
MIN_TILE_GAP_PX = 10  # the least gap before the figures wrap into another row
ROW_GAP_PX = 4
KEPT_WIDTH_FRACTION = 0.75  # a figure this much narrower than its widest gives the room back


def _si(value: float, unit: str) -> str:
    for factor, prefix in ((1e9, "G"), (1e6, "M"), (1e3, "k")):
        if abs(value) >= factor:
            return f"{value / factor:.2f} {prefix}{unit}"
    return f"{value:.0f} {unit}"


@dataclass(frozen=True, slots=True)
class Kpi:
    key: str
    title: str
    tooltip: str
    read: Callable[[Snapshot], tuple[str, str]]  # text and level
    si_unit: str  # of the figure shown (converted for display where ``twin.gui.units`` says)


def site_kpis(scenario: Scenario, system: UnitSystem = UnitSystem.SI) -> tuple[Kpi, ...]:
    throttle_c = min(t.gpu_throttle_c for t in scenario.rack_types.values())
    temperature = conversion("°C", system)

    def grid(s: Snapshot) -> tuple[str, str]:
        used, cap = s.site["grid_import_kw"], s.power.grid_import_cap_kw
        level = ALARM if used > cap else WARNING if used > 0.95 * cap else NORMAL
        return f"{used / 1000:.1f} / {cap / 1000:.0f} MW", level

    def gpu(s: Snapshot) -> tuple[str, str]:
        t = s.site["gpu_temp_max_c"]
        level = ALARM if t >= throttle_c else WARNING if t >= throttle_c - 5 else NORMAL
        return f"{temperature.to_display(t):.1f} {temperature.unit}", level

    def throttled(s: Snapshot) -> tuple[str, str]:
        gpus, tripped = int(s.site["throttled_gpus"]), int(s.site["tripped_racks"])
        if tripped:
            return f"{gpus:,} · {tripped} racks tripped", ALARM
        return f"{gpus:,}", WARNING if gpus else NORMAL

    def pue(s: Snapshot) -> tuple[str, str]:
        value = s.site["pue"]  # NaN while no rack draws power: undefined, not zero
        return (f"{value:.3f}" if math.isfinite(value) else "–"), NORMAL

    def soc(s: Snapshot) -> tuple[str, str]:
        value = s.site["bess_soc"]
        return f"{100 * value:.0f} %", WARNING if value < scenario.power.bess.soc_min + 0.05 \
            else NORMAL

    return (
        Kpi("it", "IT power", "electrical power into the racks",
            lambda s: (f"{s.site['it_power_kw'] / 1000:.1f} MW", NORMAL), "MW"),
        Kpi("facility", "Facility power", "all power the site uses",
            lambda s: (f"{s.site['facility_power_kw'] / 1000:.1f} MW", NORMAL), "MW"),
        Kpi("pue", "PUE", "facility power over IT power", pue, ""),
        Kpi("tokens", "Tokens/s", "useful AI work delivered",
            lambda s: (_si(s.site["tokens_per_s"], "tok/s"), NORMAL), "tok/s"),
        Kpi("grid", "Grid import", "power drawn from the utility against the import cap", grid,
            "MW"),
        Kpi("bess", "BESS SoC", "battery state of charge", soc, "%"),
        Kpi("gpu", "Hottest GPU", "throttling starts at "
            f"{temperature.to_display(throttle_c):g} {temperature.unit}", gpu, "°C"),
        Kpi("throttled", "Throttled GPUs", "GPUs shedding power to stay below the limit",
            throttled, ""),
        Kpi("cost", "Cost", "electricity cost at the time-of-use tariff",
            lambda s: (f"₩{s.site['cost_krw_per_h'] / 1e6:.2f} M/h", NORMAL), "₩/h"),
        Kpi("co2", "CO₂", "emissions of grid import and generators",
            lambda s: (f"{s.site['co2_kg_per_h'] / 1000:.1f} t/h", NORMAL), "t/h"),
    )


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
        return QSize(sum(widths) + TILE_GAP_PX * max(len(widths) - 1, 0)
                     + margins.left() + margins.right(),
                     max(heights, default=0) + margins.top() + margins.bottom())

    def minimumSize(self) -> QSize:
        """One column: the widest tile."""
        widths, heights = self._sizes()
        margins = self.contentsMargins()
        return QSize(max(widths, default=0) + margins.left() + margins.right(),
                     max(heights, default=0) + margins.top() + margins.bottom())

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
            row = items[first:first + columns]
            height = max(item.sizeHint().height() for item in row)
            if place:
                for c, item in enumerate(row):
                    item.setGeometry(QRect(lefts[c], top, column_widths[c], height))
            top += height + ROW_GAP_PX
        return QRect(rect.left(), rect.top(), rect.width(),
                     top - ROW_GAP_PX - inner.top() + margins.top() + margins.bottom())


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
            title = QLabel(kpi.title.upper())
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
