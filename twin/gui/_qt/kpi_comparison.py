"""The KPIs of two runs side by side: run A (the one shown), run B (the reference) and
A − B, over the simulated time both cover up to the time shown.

It shows a ``twin.runs.replay.Comparison`` of B with A (``compare(b, a)``, whose differences
are A − B) and colours each difference as ``Comparison.outcome`` and ``twin.runs.report``
judge and write them.
"""

from __future__ import annotations

from PySide6.QtCore import Qt
from PySide6.QtGui import QColor
from PySide6.QtWidgets import (
    QAbstractItemView,
    QHeaderView,
    QLabel,
    QTableWidget,
    QTableWidgetItem,
    QVBoxLayout,
    QWidget,
)

from twin.gui._qt.theme import DARK, Theme
from twin.runs.replay import KPI_LABELS, Comparison
from twin.runs.report import format_difference, format_number
from twin.scenario.units import format_duration

LOST_TOKENS = "tokens lost by A (B − A)"
ROWS = (*KPI_LABELS.values(), LOST_TOKENS)
COLUMNS = ("A", "B", "A − B")
MINIMUM_WIDTH_PX = 440  # labels and three values of up to "+1.234e+09" without eliding
_BETTER = {"light": "#15803d", "dark": "#66d18f"}


class KpiComparisonTable(QWidget):
    def __init__(self, theme: Theme = DARK, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.comparison: Comparison | None = None
        self._theme = theme
        self.note = QLabel()
        self.note.setObjectName("muted")
        self.note.setWordWrap(True)
        self.table = QTableWidget(len(ROWS), len(COLUMNS))
        self.table.setHorizontalHeaderLabels(COLUMNS)
        self.table.setVerticalHeaderLabels(ROWS)
        self.table.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
        self.table.setSelectionMode(QAbstractItemView.SelectionMode.NoSelection)
        self.table.horizontalHeader().setSectionResizeMode(QHeaderView.ResizeMode.ResizeToContents)
        self.table.setHorizontalScrollBarPolicy(Qt.ScrollBarPolicy.ScrollBarAlwaysOff)
        self.table.verticalHeader().setSectionResizeMode(QHeaderView.ResizeMode.ResizeToContents)
        for row in range(len(ROWS)):
            for column in range(len(COLUMNS)):
                item = QTableWidgetItem("–")
                item.setTextAlignment(Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter)
                self.table.setItem(row, column, item)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(4, 4, 4, 0)
        layout.setSpacing(2)
        layout.addWidget(self.note)
        layout.addWidget(self.table, 1)
        self.setMinimumWidth(MINIMUM_WIDTH_PX)
        self._names = ("", "")
        self._reason = ""

    def set_runs(self, name_a: str, name_b: str) -> None:
        """Name the runs compared (file or folder names); the values wait for a
        comparison."""
        self._names = (name_a, name_b)
        for column, name in enumerate(self._names):
            header = self.table.horizontalHeaderItem(column)
            if header is not None:
                header.setToolTip(name)
        self.show_comparison(None)

    def show_comparison(
        self, comparison: Comparison | None, reason: str = "no simulated time in common yet"
    ) -> None:
        """Show ``compare(b, a)``; None shows no values, and why."""
        self.comparison, self._reason = comparison, reason
        name_a, name_b = self._names
        if comparison is None:
            span = reason
            for row in range(len(ROWS)):
                for column in range(len(COLUMNS)):
                    self._set(row, column, "–", "")
        else:
            span = f"over the first {format_duration(float(comparison.time_s[-1]))}"
            for row, key in enumerate(KPI_LABELS):
                self._set(row, 0, format_number(comparison.kpis_b[key]), "")
                self._set(row, 1, format_number(comparison.kpis_a[key]), "")
                self._set(
                    row, 2, format_difference(comparison.differences[key]), comparison.outcome(key)
                )
            lost = len(KPI_LABELS)
            self._set(lost, 0, "", "")
            self._set(lost, 1, "", "")
            self._set(lost, 2, format_number(comparison.lost_tokens), "")
        self.note.setText(f"A: {name_a}\nB: {name_b}\n{span}")

    def cell_text(self, label: str, column: str) -> str:
        """The text shown for a KPI (its label in ``ROWS``) in a column of ``COLUMNS``."""
        return self._item(ROWS.index(label), COLUMNS.index(column)).text()

    def apply_theme(self, theme: Theme) -> None:
        self._theme = theme
        self.show_comparison(self.comparison, self._reason)

    def _item(self, row: int, column: int) -> QTableWidgetItem:
        item = self.table.item(row, column)
        if item is None:  # every cell is given an item when the table is made
            raise LookupError(f"the comparison table has no cell ({row}, {column})")
        return item

    def _set(self, row: int, column: int, text: str, outcome: str) -> None:
        item = self._item(row, column)
        item.setText(text)
        item.setData(Qt.ItemDataRole.UserRole, outcome)
        color = {"better": _BETTER[self._theme.name], "worse": self._theme.alarm}.get(outcome)
        item.setForeground(QColor(color or self._theme.text))
