"""The timeline dock: the scenario's scheduled events and the ones the operator injected,
past and upcoming, with a button that keeps the injected ones in the scenario file."""

from __future__ import annotations

from datetime import datetime, timedelta

from PySide6.QtCore import Signal
from PySide6.QtGui import QColor
from PySide6.QtWidgets import (
    QAbstractItemView,
    QHBoxLayout,
    QLabel,
    QPushButton,
    QTableWidget,
    QTableWidgetItem,
    QVBoxLayout,
    QWidget,
)

from twin.scenario.schema import Event

COLUMNS = ("time", "event", "details", "from", "status")


def describe_event(event: Event) -> str:
    """The event's fields other than its kind and time, as ``name value`` pairs."""
    fields = event.model_dump(exclude={"kind", "at_s"})
    return ", ".join(f"{name} {value}" for name, value in fields.items()
                     if value not in (None, [], ""))


class TimelinePanel(QWidget):
    save_requested = Signal()  # keep the operator's events in the scenario file

    def __init__(self, start: datetime, scheduled: list[Event],
                 parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self._start = start
        self.entries: list[tuple[float, Event, str]] = [
            (event.at_s, event, "scenario") for event in sorted(scheduled, key=lambda e: e.at_s)]
        self.table = QTableWidget(0, len(COLUMNS))
        self.table.setHorizontalHeaderLabels([c.title() for c in COLUMNS])
        self.table.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
        self.table.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
        self.table.verticalHeader().setVisible(False)
        self.table.horizontalHeader().setStretchLastSection(True)
        self.save_button = QPushButton("Save operator events to the scenario…")
        self.save_button.setToolTip("Append the events injected in this session to the "
                                    "scenario's TOML file, so that the what-if plays again")
        self.save_button.clicked.connect(self.save_requested)
        self.summary = QLabel()
        self.summary.setObjectName("muted")
        bar = QHBoxLayout()
        bar.addWidget(self.summary, 1)
        bar.addWidget(self.save_button)
        column = QVBoxLayout(self)
        column.setContentsMargins(4, 4, 4, 4)
        column.addLayout(bar)
        column.addWidget(self.table)
        self._time_s = 0.0
        self._refresh()

    @property
    def injected(self) -> list[Event]:
        """The operator's events, each at the simulated time it was applied."""
        return [event.model_copy(update={"at_s": t}) for t, event, origin in self.entries
                if origin == "operator"]

    def add_injected(self, time_s: float, event: Event) -> None:
        self.entries.append((time_s, event, "operator"))
        self.entries.sort(key=lambda entry: entry[0])
        self._refresh()

    def forget_injected(self) -> None:
        """After they were saved, or when the simulation starts again."""
        self.entries = [entry for entry in self.entries if entry[2] != "operator"]
        self._refresh()

    def set_time(self, time_s: float) -> None:
        """Mark what has happened by ``time_s``; cheap when nothing changes state."""
        before = sum(t <= self._time_s for t, _, _ in self.entries)
        self._time_s = time_s
        if sum(t <= time_s for t, _, _ in self.entries) != before:
            self._refresh()

    def _refresh(self) -> None:
        self.table.setRowCount(len(self.entries))
        muted = self.palette().placeholderText().color()
        for row, (t, event, origin) in enumerate(self.entries):
            done = t <= self._time_s
            when = self._start + timedelta(seconds=t)
            cells = (f"{when:%m-%d %H:%M:%S}", event.kind, describe_event(event), origin,
                     "done" if done else "upcoming")
            for column, text in enumerate(cells):
                item = QTableWidgetItem(text)
                if done:
                    item.setForeground(QColor(muted))
                self.table.setItem(row, column, item)
        operator = sum(origin == "operator" for _, _, origin in self.entries)
        self.summary.setText(f"{len(self.entries) - operator} scheduled, {operator} injected")
        self.save_button.setEnabled(operator > 0)
        self.table.resizeColumnsToContents()
