"""The legend of the 3D view: a swatch and a meaning for every colour that carries one
(``twin.gui._vispy.legend``), in a dock beside the view."""

from __future__ import annotations

import numpy as np
from PySide6.QtCore import QCoreApplication
from PySide6.QtGui import QColor
from PySide6.QtWidgets import QGridLayout, QLabel, QWidget

from twin.gui._vispy.legend import LegendGroup, scene_legend

SWATCH_PX = 14


def swatch_color(rgba: np.ndarray) -> QColor:
    """A colour as its swatch shows it: opaque (a translucent zone's hue, at full
    strength, reads on any panel)."""
    red, green, blue = (round(float(c) * 255) for c in rgba[:3])
    return QColor(red, green, blue)


def translated(text: str) -> str:
    """A legend's text in the window's language (context ``legend`` of
    ``window_<lang>.ts``; figures such as "50 %" have no entry and stay as they are)."""
    return QCoreApplication.translate("legend", text)


class SceneLegend(QWidget):
    def __init__(
        self, groups: tuple[LegendGroup, ...] | None = None, parent: QWidget | None = None
    ) -> None:
        super().__init__(parent)
        self.groups = scene_legend() if groups is None else groups
        self.swatches: list[tuple[QLabel, QLabel]] = []  # (swatch, meaning) per entry
        grid = QGridLayout(self)
        grid.setContentsMargins(6, 6, 6, 6)
        grid.setVerticalSpacing(2)
        row = 0
        for group in self.groups:
            title = QLabel(f"<b>{translated(group.title)}</b>")
            title.setWordWrap(True)
            grid.addWidget(title, row, 0, 1, 2)
            row += 1
            for entry in group.entries:
                swatch = QLabel()
                swatch.setFixedSize(SWATCH_PX, SWATCH_PX)
                swatch.setStyleSheet(
                    f"background:{swatch_color(entry.rgba).name()};border:1px solid #808080"
                )
                text = QLabel(translated(entry.label))
                text.setWordWrap(True)
                grid.addWidget(swatch, row, 0)
                grid.addWidget(text, row, 1)
                self.swatches.append((swatch, text))
                row += 1
        grid.setColumnStretch(1, 1)
        grid.setRowStretch(row, 1)
