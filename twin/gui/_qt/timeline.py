"""The timeline dock: the scenario's scheduled events and the ones the operator injected,
past and upcoming; the scheduled events still to come can be added, edited, removed and
the last edit undone, and the running simulation plays the new schedule. "Save
timeline" keeps it in the scenario file. Events are listed and edited in the display
units (``set_units``) and kept in SI."""

from __future__ import annotations

import queue
from collections.abc import Callable
from datetime import timedelta
from typing import Any

from PySide6.QtCore import QCoreApplication, QEvent, QObject, Qt, Signal
from PySide6.QtGui import QColor, QKeyEvent, QKeySequence
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

from twin.gui._qt.event_dialog import EventDialog
from twin.gui.event_form import event_details
from twin.gui.timeline import Entry, Timeline
from twin.gui.units import UnitSystem
from twin.scenario import Scenario
from twin.scenario.schema import Event

COLUMNS = ("time", "event", "details", "from", "status")
DETAILS_COLUMN = COLUMNS.index("details")
NOT_EDITABLE = (
    "This timeline is shown as it was recorded; edit a scenario's timeline while it runs live"
)


def translated(text: str) -> str:
    """A name given by value (columns, an entry's origin and status) in the window's
    language: context ``timeline`` of ``window_<lang>.ts``. Event kinds are the scenario
    file's names and stay as they are."""
    return QCoreApplication.translate("timeline", text)


class TimelinePanel(QWidget):
    save_requested = Signal()  # keep the timeline in the scenario file
    modified_changed = Signal(bool)  # the scheduled events differ from the file's

    def __init__(
        self,
        scenario: Scenario,
        parent: QWidget | None = None,
        *,
        units: UnitSystem | str = UnitSystem.SI,
    ) -> None:
        super().__init__(parent)
        self.scenario = scenario
        self.units = UnitSystem(units)
        self._start = scenario.scenario.start
        self.model = Timeline(scenario.events)
        self.rows: list[Entry] = []
        self.dialog: EventDialog | None = None
        self._call: Callable[[Callable[[Any], object]], None] | None = None
        self._answers: queue.Queue[tuple[int, str | None]] = queue.Queue()
        self._modified = False
        self._time_s = 0.0
        self.table = QTableWidget(0, len(COLUMNS))
        self.table.setHorizontalHeaderLabels([translated(c.title()) for c in COLUMNS])
        self.table.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
        self.table.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
        self.table.setSelectionMode(QAbstractItemView.SelectionMode.SingleSelection)
        self.table.verticalHeader().setVisible(False)
        self.table.horizontalHeader().setStretchLastSection(True)
        self.table.itemSelectionChanged.connect(self._update_buttons)
        self.table.cellDoubleClicked.connect(lambda row, _column: self.edit_row(row))
        self.add_button = QPushButton(self.tr("Add…"))
        self.add_button.setToolTip(self.tr("Schedule a new event"))
        self.add_button.clicked.connect(self.add_event)
        self.edit_button = QPushButton(self.tr("Edit…"))
        self.edit_button.setToolTip(
            self.tr("Change the selected upcoming event (or double-click it)")
        )
        self.edit_button.clicked.connect(lambda: self.edit_row(self.selected_row()))
        self.remove_button = QPushButton(self.tr("Remove"))
        self.remove_button.setToolTip(
            self.tr("Take the selected upcoming event off the timeline (Delete)")
        )
        self.remove_button.clicked.connect(lambda: self.remove_row(self.selected_row()))
        self.undo_button = QPushButton(self.tr("Undo"))
        self.undo_button.setToolTip(self.tr("Undo the last edit of the timeline (Ctrl+Z)"))
        self.undo_button.clicked.connect(self.undo)
        self.save_button = QPushButton(self.tr("Save timeline…"))
        self.save_button.setToolTip(
            self.tr(
                "Write the timeline, with the events injected in this "
                "session, to the scenario's TOML file; comments and "
                "the rest of the file stay as they are"
            )
        )
        self.save_button.clicked.connect(self.save_requested)
        self.table.installEventFilter(self)  # Delete and Ctrl+Z while the list has the focus
        self.summary = QLabel()
        self.summary.setObjectName("muted")
        self.message = QLabel()  # why the last change was not taken
        self.message.setWordWrap(True)
        bar = QHBoxLayout()
        bar.addWidget(self.summary, 1)
        for button in (
            self.add_button,
            self.edit_button,
            self.remove_button,
            self.undo_button,
            self.save_button,
        ):
            bar.addWidget(button)
        column = QVBoxLayout(self)
        column.setContentsMargins(4, 4, 4, 4)
        column.addLayout(bar)
        column.addWidget(self.message)
        column.addWidget(self.table)
        self.message.hide()
        self._refresh()
        self.set_editable(False)

    def eventFilter(self, watched: QObject, event: QEvent) -> bool:
        if (
            watched is self.table
            and event.type() == QEvent.Type.KeyPress
            and isinstance(event, QKeyEvent)
        ):
            if (
                event.matches(QKeySequence.StandardKey.Delete)
                or event.key() == Qt.Key.Key_Backspace
            ):
                self.remove_row(self.selected_row())
                return True
            if event.matches(QKeySequence.StandardKey.Undo):
                self.undo()
                return True
        return super().eventFilter(watched, event)

    # ------------------------------------------------------------ the simulation

    @property
    def editable(self) -> bool:
        return self._call is not None

    def set_editable(self, editable: bool) -> None:
        for button in (self.add_button, self.edit_button, self.remove_button, self.undo_button):
            button.setVisible(editable)
        self.table.setToolTip("" if editable else translated(NOT_EDITABLE))
        self._update_buttons()

    def set_units(self, units: UnitSystem | str) -> None:
        """List and edit the events' numbers in ``units`` from now on (an open dialog
        keeps the units it opened with)."""
        self.units = UnitSystem(units)
        self._refresh()

    def attach(self, call: Callable[[Callable[[Any], object]], None]) -> None:
        """Edit the timeline of the simulation that ``call`` runs functions on, between
        two steps (``SimulationRunner.call``); it must offer ``replace_schedule``."""
        self._call = call
        self.set_editable(True)

    def _send_schedule(self) -> None:
        if self._call is None:
            return
        generation, events = self.model.schedule_sent()
        answers = self._answers

        def apply(sim) -> None:
            try:
                sim.replace_schedule(events)
            except ValueError as exc:
                answers.put((generation, str(exc)))
                raise  # the runner reports it too
            answers.put((generation, None))

        self._call(apply)

    def _take_answers(self) -> None:
        """The simulation's answers to the schedules sent; a refused one is undone here."""
        while True:
            try:
                generation, refusal = self._answers.get_nowait()
            except queue.Empty:
                return
            if self.model.schedule_answered(generation, refusal is None):
                self._show_message(f"Not applied: {refusal}")
                self._refresh()

    # ------------------------------------------------------------ entries

    @property
    def entries(self) -> list[Entry]:
        return self.model.entries

    @property
    def injected(self) -> list[Event]:
        return self.model.injected

    def add_injected(self, time_s: float, event: Event) -> None:
        self.model.add_injected(time_s, event)
        self._refresh()

    def is_past(self, entry: Entry) -> bool:
        return entry.at_s <= self._time_s

    def selected_row(self) -> int:
        rows = self.table.selectionModel().selectedRows()
        return rows[0].row() if rows else -1

    def set_time(self, time_s: float) -> None:
        """Mark what has happened by ``time_s``; cheap when nothing changes state."""
        self._take_answers()
        before = sum(entry.at_s <= self._time_s for entry in self.rows)
        self._time_s = time_s
        if sum(entry.at_s <= time_s for entry in self.rows) != before:
            self._refresh()

    # ------------------------------------------------------------ editing

    def _editable_entry(self, row: int) -> Entry | None:
        """The scheduled, upcoming entry of ``row``; None with a message otherwise."""
        if not self.editable or not 0 <= row < len(self.rows):
            return None
        entry = self.rows[row]
        if entry.origin != "scenario":
            self._show_message(
                "An injected event happened when it was applied; it cannot be changed"
            )
            return None
        if self.is_past(entry):
            self._show_message(
                f"{entry.event.kind} at {self._clock(entry.at_s)} has "
                "happened; only events still to come can be changed"
            )
            return None
        return entry

    def add_event(self) -> EventDialog | None:
        """Open the dialog for a new event; it is scheduled once the dialog is accepted."""
        if not self.editable:
            return None
        return self._open_dialog(None)

    def edit_row(self, row: int) -> EventDialog | None:
        entry = self._editable_entry(row)
        return None if entry is None else self._open_dialog(entry)

    def _open_dialog(self, entry: Entry | None) -> EventDialog:
        if self.dialog is not None:
            self.dialog.close()
        dialog = EventDialog(
            self.scenario,
            self._start,
            lambda: self._time_s,
            None if entry is None else entry.event,
            parent=self,
            units=self.units,
        )
        dialog.setAttribute(Qt.WidgetAttribute.WA_DeleteOnClose)
        dialog.accepted.connect(lambda: self._on_dialog_accepted(entry, dialog))
        dialog.destroyed.connect(lambda: self._forget_dialog(dialog))
        self.dialog = dialog
        dialog.open()
        return dialog

    def _forget_dialog(self, dialog: EventDialog) -> None:
        if self.dialog is dialog:
            self.dialog = None

    def _on_dialog_accepted(self, entry: Entry | None, dialog: EventDialog) -> None:
        event = dialog.event_made
        if event is None:
            return
        if entry is None:
            self.model.add(event)
        elif self.is_past(entry):
            self._show_message(
                f"{entry.event.kind} at {self._clock(entry.at_s)} happened "
                "while it was being edited; the change was not applied"
            )
            return
        else:
            try:
                self.model.replace(entry, event)
            except ValueError as exc:  # the timeline went back meanwhile
                self._show_message(f"Not applied: {exc}")
                return
        self._edited()

    def remove_row(self, row: int) -> bool:
        entry = self._editable_entry(row)
        if entry is None:
            return False
        self.model.remove(entry)
        self._edited()
        return True

    def undo(self) -> bool:
        if not self.editable or not self.model.undo():
            return False
        self._edited()
        return True

    def _edited(self) -> None:
        self.message.hide()
        self._refresh()
        self._send_schedule()

    def mark_saved(self, events_in_file: list[Event]) -> None:
        self.model.mark_saved(events_in_file)
        self._refresh()

    # ------------------------------------------------------------ display

    def _clock(self, time_s: float) -> str:
        return f"{self._start + timedelta(seconds=time_s):%m-%d %H:%M:%S}"

    def _show_message(self, text: str) -> None:
        self.message.setText(text)
        self.message.show()

    def _refresh(self) -> None:
        self.rows = list(self.model.entries)
        selected = self.selected_row()
        self.table.setRowCount(len(self.rows))
        muted = self.palette().placeholderText().color()
        for row, entry in enumerate(self.rows):
            past = self.is_past(entry)
            new = entry.origin == "scenario" and entry.file_index is None
            if entry.origin == "operator" and not past:
                # applied when injected; after a reset it does not play again unless saved
                status, past = "applied before a reset", True
            else:
                status = "done" if past else "upcoming"
            cells = (
                self._clock(entry.at_s),
                entry.event.kind,
                event_details(entry.event, self.units),
                translated("operator" if entry.origin == "operator" else "timeline"),
                translated(status + (", not saved" if new else "")),
            )
            for column, text in enumerate(cells):
                item = QTableWidgetItem(text)
                if past:
                    item.setForeground(QColor(muted))
                self.table.setItem(row, column, item)
        if 0 <= selected < len(self.rows):
            self.table.selectRow(selected)
        operator = len(self.model.injected)
        modified = self.model.modified
        summary = self.tr("{scheduled} scheduled, {injected} injected").format(
            scheduled=len(self.rows) - operator, injected=operator
        )
        self.summary.setText(summary + (self.tr(" · unsaved changes") if modified else ""))
        self.save_button.setEnabled(modified or self.model.unsaved_injected > 0)
        self.table.resizeColumnsToContents()
        self._update_buttons()
        if modified != self._modified:
            self._modified = modified
            self.modified_changed.emit(modified)

    def _update_buttons(self) -> None:
        row = self.selected_row()
        entry = self.rows[row] if 0 <= row < len(self.rows) else None
        changeable = (
            self.editable
            and entry is not None
            and entry.origin == "scenario"
            and not self.is_past(entry)
        )
        self.edit_button.setEnabled(changeable)
        self.remove_button.setEnabled(changeable)
        self.undo_button.setEnabled(self.editable and self.model.can_undo)
