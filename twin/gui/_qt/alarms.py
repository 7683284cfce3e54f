"""The alarm list: a sortable, filterable table of the alarm engine's alarms, coloured by
priority, with acknowledge and shelve, and a banner while an alarm flood lasts.

Threading: the panel never touches the alarm engine. The engine lives where the
simulation is stepped (the runner's worker thread); the window hands the panel the
engine's immutable ``AlarmSummary`` contents through ``show_alarms``, and connects the
panel's requests (``acknowledge_requested``, ``acknowledge_all_requested``,
``shelve_requested``, ``unshelve_requested``) to the runner's command queue, so the
engine applies them between two steps. ``source_activated(kind, index)`` names the
object a double-clicked alarm is about (a ``twin.gui.objects.Selection``'s kind and
index), for the window to select it and fly the camera there.

Values and limits are shown in the display units (``set_units``): the engine's alarms
carry them in SI with their unit, and are converted only as they are shown; the journal
and the reports keep SI.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from datetime import datetime, timedelta

from PySide6.QtCore import (
    QAbstractTableModel,
    QCoreApplication,
    QModelIndex,
    QPersistentModelIndex,
    QSortFilterProxyModel,
    Qt,
    Signal,
)
from PySide6.QtGui import QColor, QFont
from PySide6.QtWidgets import (
    QAbstractItemView,
    QComboBox,
    QDialog,
    QDialogButtonBox,
    QFormLayout,
    QHBoxLayout,
    QHeaderView,
    QInputDialog,
    QLabel,
    QLineEdit,
    QPushButton,
    QTableView,
    QToolButton,
    QVBoxLayout,
    QWidget,
)

from twin.alarms import AlarmKey, AlarmState, AlarmView, Condition, FloodStatus, Priority
from twin.gui.units import UnitSystem, conversion

COLUMNS = ("Priority", "State", "Time", "Source", "Alarm", "Value", "Limit")
PRIORITY_COLUMN, STATE_COLUMN, TIME_COLUMN = 0, 1, 2
VALUE_COLUMN, LIMIT_COLUMN = COLUMNS.index("Value"), COLUMNS.index("Limit")
PRIORITY_COLORS = {priority: QColor(priority.color_hex) for priority in Priority}
PRIORITY_TEXT_COLORS = {
    Priority.CRITICAL: QColor("#ffffff"),
    Priority.HIGH: QColor("#ffffff"),
    Priority.MEDIUM: QColor("#1d2733"),
    Priority.LOW: QColor("#ffffff"),
}
STATE_ORDER = {
    state: rank
    for rank, state in enumerate(
        (
            AlarmState.UNACKNOWLEDGED,
            AlarmState.RETURNED_UNACKNOWLEDGED,
            AlarmState.ACKNOWLEDGED,
            AlarmState.SHELVED,
            AlarmState.SUPPRESSED,
            AlarmState.NORMAL,
        )
    )
}
STATE_FILTERS: dict[str, frozenset[AlarmState]] = {
    "all states": frozenset(AlarmState),
    "unacknowledged": frozenset({AlarmState.UNACKNOWLEDGED, AlarmState.RETURNED_UNACKNOWLEDGED}),
    "active": frozenset({AlarmState.UNACKNOWLEDGED, AlarmState.ACKNOWLEDGED}),
    "returned to normal": frozenset({AlarmState.RETURNED_UNACKNOWLEDGED}),
    "shelved": frozenset({AlarmState.SHELVED}),
    "suppressed": frozenset({AlarmState.SUPPRESSED}),
}
SHELVE_DURATIONS_S = {
    "15 min": 900.0,
    "1 h": 3600.0,
    "4 h": 14400.0,
    "8 h": 28800.0,
    "24 h": 86400.0,
}
KEY_ROLE = Qt.ItemDataRole.UserRole
ROOT = QModelIndex()


def translated(text: str) -> str:
    """A name given by value (columns, priorities, states, filters, the points' descriptions)
    in the window's language: context ``alarms`` of ``window_<lang>.ts``. The journal and the
    reports keep the English."""
    return QCoreApplication.translate("alarms", text)


VALUE_DECIMALS = 1  # in SI; a coarser unit shows more (see ``Conversion.decimals``)


def _number_text(alarm: AlarmView, si_value: float, units: UnitSystem) -> str:
    shown = conversion(alarm.unit, units)
    decimals = shown.decimals(VALUE_DECIMALS)
    return f"{shown.to_display(si_value):,.{decimals}f} {shown.unit}".rstrip()


def value_text(alarm: AlarmView, units: UnitSystem = UnitSystem.SI) -> str:
    """The alarm's value at its last transition, as the list shows it in ``units``."""
    if alarm.condition == Condition.ON:
        return translated("on") if alarm.active else translated("off")
    if math.isnan(alarm.value):  # never read: shelved or suppressed before it first changed
        return "—"
    return _number_text(alarm, alarm.value, units)


def limit_text(alarm: AlarmView, units: UnitSystem = UnitSystem.SI) -> str:
    """The alarm's condition and limit, as the list shows them in ``units``."""
    if alarm.limit is None:
        return translated("state")
    return f"{alarm.condition} {_number_text(alarm, alarm.limit, units)}"


def _sort_key(alarm: AlarmView, column: int) -> float | str:
    return (
        int(alarm.priority),
        STATE_ORDER[alarm.state],
        alarm.changed_s,
        alarm.component.casefold(),
        alarm.description.casefold(),
        alarm.value,
        alarm.limit if alarm.limit is not None else 0.0,
    )[column]


class AlarmTableModel(QAbstractTableModel):
    """One row per alarm, sorted by a column, ties newest change first.

    The model sorts itself in Python (one key per row) rather than letting a proxy sort
    by comparing cells: with thousands of alarms (a gigawatt site's racks tripping) that
    is tens of times faster.
    """

    def __init__(self, start: datetime | None = None, parent=None) -> None:
        super().__init__(parent)
        self.start = start
        self.units = UnitSystem.SI
        self._alarms: list[AlarmView] = []
        self.sort_column = PRIORITY_COLUMN
        self.sort_order = Qt.SortOrder.AscendingOrder

    @property
    def alarms(self) -> tuple[AlarmView, ...]:
        """The alarms listed, in the model's order."""
        return tuple(self._alarms)

    def set_alarms(self, alarms: Sequence[AlarmView]) -> None:
        self.beginResetModel()
        self._alarms = self._sorted(alarms)
        self.endResetModel()

    def set_units(self, units: UnitSystem) -> None:
        """Show values and limits in ``units`` (the order stays: a conversion keeps it)."""
        self.units = UnitSystem(units)
        if self._alarms:
            self.dataChanged.emit(
                self.index(0, VALUE_COLUMN),
                self.index(len(self._alarms) - 1, LIMIT_COLUMN),
                [Qt.ItemDataRole.DisplayRole],
            )

    def sort(self, column: int, order: Qt.SortOrder = Qt.SortOrder.AscendingOrder) -> None:
        self.sort_column, self.sort_order = column, order
        self.layoutAboutToBeChanged.emit()
        before = self._alarms
        self._alarms = self._sorted(before)
        row_of = {id(alarm): row for row, alarm in enumerate(self._alarms)}
        kept = self.persistentIndexList()  # the selection and the current cell
        self.changePersistentIndexList(
            kept, [self.index(row_of[id(before[i.row()])], i.column()) for i in kept]
        )
        self.layoutChanged.emit()

    def _sorted(self, alarms: Sequence[AlarmView]) -> list[AlarmView]:
        newest_first = sorted(alarms, key=lambda a: a.changed_s, reverse=True)
        column = self.sort_column
        # stable: ties keep newest first whichever way the column goes
        return sorted(
            newest_first,
            key=lambda a: _sort_key(a, column),
            reverse=self.sort_order == Qt.SortOrder.DescendingOrder,
        )

    def alarm(self, row: int) -> AlarmView:
        return self._alarms[row]

    def rowCount(self, parent: QModelIndex | QPersistentModelIndex = ROOT) -> int:
        return 0 if parent.isValid() else len(self._alarms)

    def columnCount(self, parent: QModelIndex | QPersistentModelIndex = ROOT) -> int:
        return 0 if parent.isValid() else len(COLUMNS)

    def headerData(
        self, section: int, orientation: Qt.Orientation, role: int = Qt.ItemDataRole.DisplayRole
    ) -> object:
        if orientation == Qt.Orientation.Horizontal and role == Qt.ItemDataRole.DisplayRole:
            return translated(COLUMNS[section])
        return None

    def time_text(self, time_s: float) -> str:
        if self.start is not None:
            return (self.start + timedelta(seconds=time_s)).strftime("%m-%d %H:%M:%S")
        hours, rest = divmod(int(time_s), 3600)
        return f"{hours}:{rest // 60:02d}:{rest % 60:02d}"

    def data(
        self, index: QModelIndex | QPersistentModelIndex, role: int = Qt.ItemDataRole.DisplayRole
    ) -> object:
        if not index.isValid():
            return None
        alarm = self._alarms[index.row()]
        column = index.column()
        if role == Qt.ItemDataRole.DisplayRole:
            return (
                translated(alarm.priority.label),
                translated(str(alarm.state)),
                self.time_text(alarm.changed_s),
                alarm.component,
                translated(alarm.description),
                value_text(alarm, self.units),
                limit_text(alarm, self.units),
            )[column]
        if role == KEY_ROLE:
            return alarm.key
        if role == Qt.ItemDataRole.BackgroundRole and column == PRIORITY_COLUMN:
            return PRIORITY_COLORS[alarm.priority]
        if role == Qt.ItemDataRole.ForegroundRole and column == PRIORITY_COLUMN:
            return PRIORITY_TEXT_COLORS[alarm.priority]
        if role == Qt.ItemDataRole.FontRole and alarm.state in (
            AlarmState.UNACKNOWLEDGED,
            AlarmState.RETURNED_UNACKNOWLEDGED,
        ):
            font = QFont()
            font.setBold(True)  # unacknowledged alarms stand out until someone acts
            return font
        if role == Qt.ItemDataRole.ToolTipRole:
            tip = f"{alarm.key.tag} {alarm.condition} · {alarm.component}"
            return f"{tip}\n{alarm.note}" if alarm.note else tip
        return None


class AlarmFilter(QSortFilterProxyModel):
    """Rows of the chosen priorities and states whose source or text contains a string;
    sorting is handed to the source model (see ``AlarmTableModel``)."""

    def __init__(self, parent=None) -> None:
        super().__init__(parent)
        self.priorities: frozenset[Priority] = frozenset(Priority)
        self.states: frozenset[AlarmState] = STATE_FILTERS["all states"]
        self.text = ""

    def sort(self, column: int, order: Qt.SortOrder = Qt.SortOrder.AscendingOrder) -> None:
        self.sourceModel().sort(column, order)

    def _alarm_model(self) -> AlarmTableModel:
        model = self.sourceModel()
        if not isinstance(model, AlarmTableModel):
            raise TypeError("an AlarmFilter filters an AlarmTableModel")
        return model

    def set_priorities(self, priorities: frozenset[Priority]) -> None:
        self._change(priorities=frozenset(priorities))

    def set_states(self, states: frozenset[AlarmState]) -> None:
        self._change(states=frozenset(states))

    def set_text(self, text: str) -> None:
        self._change(text=text.strip().lower())

    def _change(self, **criteria: object) -> None:
        # beginFilterChange came with Qt 6.9 and deprecated invalidateFilter; twin runs on 6.7+
        if hasattr(self, "beginFilterChange"):
            self.beginFilterChange()
            self.__dict__.update(criteria)
            self.endFilterChange()
        else:
            self.__dict__.update(criteria)
            self.invalidateFilter()

    def filterAcceptsRow(self, row: int, parent: QModelIndex | QPersistentModelIndex) -> bool:
        alarm = self._alarm_model().alarm(row)
        if alarm.priority not in self.priorities or alarm.state not in self.states:
            return False
        if not self.text:
            return True
        haystack = f"{alarm.component} {alarm.description} {alarm.key.tag}".lower()
        return self.text in haystack


class ShelveDialog(QDialog):
    """Asks how long to shelve and why; OK stays disabled until there is a reason."""

    def __init__(self, count: int, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setWindowTitle(self.tr("Shelve alarms"))
        self.duration = QComboBox()
        self.duration.addItems(list(SHELVE_DURATIONS_S))
        self.duration.setCurrentText("1 h")
        self.reason = QLineEdit()
        self.reason.setPlaceholderText(self.tr("why, for the journal (required)"))
        self.buttons = QDialogButtonBox(
            QDialogButtonBox.StandardButton.Ok | QDialogButtonBox.StandardButton.Cancel
        )
        self.buttons.accepted.connect(self.accept)
        self.buttons.rejected.connect(self.reject)
        ok = self.buttons.button(QDialogButtonBox.StandardButton.Ok)
        ok.setEnabled(False)
        self.reason.textChanged.connect(lambda text: ok.setEnabled(bool(text.strip())))
        form = QFormLayout(self)
        form.addRow(
            QLabel(
                self.tr("Shelve {count} alarm(s) for a while of simulated time.").format(
                    count=count
                )
            )
        )
        form.addRow(self.tr("Duration"), self.duration)
        form.addRow(self.tr("Reason"), self.reason)
        form.addRow(self.buttons)

    def choice(self) -> tuple[float, str]:
        return SHELVE_DURATIONS_S[self.duration.currentText()], self.reason.text().strip()


def _ask_note(parent: QWidget, title: str) -> str | None:
    text, ok = QInputDialog.getText(parent, title, translated("Note for the journal (optional):"))
    return text.strip() if ok else None


def _ask_shelve(parent: QWidget, count: int) -> tuple[float, str] | None:
    dialog = ShelveDialog(count, parent)
    return dialog.choice() if dialog.exec() == QDialog.DialogCode.Accepted else None


class AlarmPanel(QWidget):
    """The alarm list. ``ask_note`` and ``ask_shelve`` open the dialogs (replaceable, so
    that tests and scripts can answer them)."""

    acknowledge_requested = Signal(object, str)  # tuple[AlarmKey, ...], note
    acknowledge_all_requested = Signal(str)  # note
    shelve_requested = Signal(object, float, str)  # tuple[AlarmKey, ...], duration_s, reason
    unshelve_requested = Signal(object)  # tuple[AlarmKey, ...]
    source_activated = Signal(str, int)  # selection kind, index

    def __init__(
        self,
        start: datetime | None = None,
        parent: QWidget | None = None,
        *,
        units: UnitSystem | str = UnitSystem.SI,
        ask_note: Callable[[QWidget, str], str | None] = _ask_note,
        ask_shelve: Callable[[QWidget, int], tuple[float, str] | None] = _ask_shelve,
    ) -> None:
        super().__init__(parent)
        self._ask_note = ask_note
        self._ask_shelve = ask_shelve
        self._alarms: Sequence[AlarmView] = ()
        self.model = AlarmTableModel(start, self)
        self.model.set_units(UnitSystem(units))
        self.proxy = AlarmFilter(self)
        self.proxy.setSourceModel(self.model)

        self.flood_banner = QLabel()
        self.flood_banner.setObjectName("alarmFlood")
        self.flood_banner.setWordWrap(True)
        self.flood_banner.setStyleSheet(
            f"background: {PRIORITY_COLORS[Priority.CRITICAL].name()}; color: white; "
            "font-weight: 600; padding: 4px;"
        )
        self.flood_banner.hide()

        self.text_filter = QLineEdit()
        self.text_filter.setPlaceholderText(self.tr("Filter by source or alarm text"))
        self.text_filter.setClearButtonEnabled(True)
        self.text_filter.textChanged.connect(self._on_text_changed)
        self.state_filter = QComboBox()
        for name in STATE_FILTERS:
            self.state_filter.addItem(translated(name), name)
        self.state_filter.currentIndexChanged.connect(self._on_state_filter_changed)
        self.priority_buttons: dict[Priority, QToolButton] = {}
        filters = QHBoxLayout()
        for priority in Priority:
            button = QToolButton()
            button.setText(translated(priority.label))
            button.setCheckable(True)
            button.setChecked(True)
            button.setToolTip(translated(f"show {priority.label} priority alarms"))
            button.setStyleSheet(
                f"QToolButton:checked {{ background: "
                f"{PRIORITY_COLORS[priority].name()}; color: "
                f"{PRIORITY_TEXT_COLORS[priority].name()}; }}"
            )
            button.toggled.connect(self._on_priorities_changed)
            self.priority_buttons[priority] = button
            filters.addWidget(button)
        filters.addWidget(self.state_filter)
        filters.addWidget(self.text_filter, 1)

        self.table = QTableView()
        self.table.setModel(self.proxy)
        self.table.setSortingEnabled(True)
        self.table.sortByColumn(PRIORITY_COLUMN, Qt.SortOrder.AscendingOrder)
        self.table.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
        self.table.setSelectionMode(QAbstractItemView.SelectionMode.ExtendedSelection)
        self.table.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
        self.table.verticalHeader().hide()
        self.table.setWordWrap(False)
        self.table.horizontalHeader().setStretchLastSection(True)
        self.table.horizontalHeader().setSectionResizeMode(QHeaderView.ResizeMode.Interactive)
        self.table.doubleClicked.connect(self._on_double_clicked)

        self.count_label = QLabel()
        self.count_label.setObjectName("muted")
        self.acknowledge_button = QPushButton(self.tr("Acknowledge"))
        self.acknowledge_button.setToolTip(self.tr("acknowledge the selected alarms, with a note"))
        self.acknowledge_button.clicked.connect(self.acknowledge_selected)
        self.acknowledge_all_button = QPushButton(self.tr("Acknowledge all"))
        self.acknowledge_all_button.setToolTip(
            self.tr("acknowledge every unacknowledged alarm, shown or filtered out, with a note")
        )
        self.acknowledge_all_button.clicked.connect(self.acknowledge_all)
        self.shelve_button = QPushButton(self.tr("Shelve…"))
        self.shelve_button.setToolTip(
            self.tr("hide the selected alarms for a while, with a reason")
        )
        self.shelve_button.clicked.connect(self.shelve_selected)
        self.unshelve_button = QPushButton(self.tr("Unshelve"))
        self.unshelve_button.clicked.connect(self.unshelve_selected)
        actions = QHBoxLayout()
        actions.addWidget(self.count_label, 1)
        for action_button in (
            self.acknowledge_button,
            self.acknowledge_all_button,
            self.shelve_button,
            self.unshelve_button,
        ):
            actions.addWidget(action_button)

        layout = QVBoxLayout(self)
        layout.setContentsMargins(4, 4, 4, 4)
        layout.addWidget(self.flood_banner)
        layout.addLayout(filters)
        layout.addWidget(self.table, 1)
        layout.addLayout(actions)
        self._update_counts()

    # ------------------------------------------------------------------ input

    def set_units(self, units: UnitSystem | str) -> None:
        """Show values and limits in ``units`` from now on (the engine's stay SI)."""
        self.model.set_units(UnitSystem(units))

    def show_alarms(self, active_alarms: Sequence[AlarmView], flood: FloodStatus | None) -> None:
        """Show the engine's alarms and flood status (from an ``AlarmSummary``); the
        selection stays on the alarms that are still listed."""
        if flood is not None and flood.active:
            self.flood_banner.setText(flood.text())
            self.flood_banner.show()
        else:
            self.flood_banner.hide()
        if active_alarms is self._alarms:  # the engine builds a new tuple on each change
            return
        first = not self._alarms and active_alarms
        self._alarms = active_alarms
        selected = set(self.selected_keys())
        self.model.set_alarms(active_alarms)
        if first:  # sized once: sizing on every update would walk every row each time
            self.table.resizeColumnsToContents()
        if selected:
            selection = self.table.selectionModel()
            flags = selection.SelectionFlag.Select | selection.SelectionFlag.Rows
            for row in range(self.proxy.rowCount()):
                index = self.proxy.index(row, 0)
                if index.data(KEY_ROLE) in selected:
                    selection.select(index, flags)
        self._update_counts()

    # ------------------------------------------------------------------ output

    def selected_keys(self) -> tuple[AlarmKey, ...]:
        return tuple(alarm.key for alarm in self._selected_alarms())

    def acknowledge_selected(self) -> None:
        keys = self.selected_keys()
        if not keys:
            return
        note = self._ask_note(self, self.tr("Acknowledge {count} alarm(s)").format(count=len(keys)))
        if note is not None:
            self.acknowledge_requested.emit(keys, note)

    def acknowledge_all(self) -> None:
        note = self._ask_note(self, self.tr("Acknowledge all alarms"))
        if note is not None:
            self.acknowledge_all_requested.emit(note)

    def shelve_selected(self) -> None:
        keys = self.selected_keys()
        if not keys:
            return
        choice = self._ask_shelve(self, len(keys))
        if choice is not None:
            duration_s, reason = choice
            self.shelve_requested.emit(keys, duration_s, reason)

    def unshelve_selected(self) -> None:
        keys = tuple(
            alarm.key for alarm in self._selected_alarms() if alarm.state is AlarmState.SHELVED
        )
        if keys:
            self.unshelve_requested.emit(keys)

    def _selected_alarms(self) -> list[AlarmView]:
        rows = sorted(self.table.selectionModel().selectedRows(), key=lambda i: i.row())
        return [self.model.alarm(self.proxy.mapToSource(index).row()) for index in rows]

    def _on_double_clicked(self, index: QModelIndex) -> None:
        alarm = self.model.alarm(self.proxy.mapToSource(index).row())
        if alarm.source is not None:
            self.source_activated.emit(*alarm.source)

    def _on_priorities_changed(self) -> None:
        self.proxy.set_priorities(
            frozenset(p for p, button in self.priority_buttons.items() if button.isChecked())
        )
        self._update_counts()

    def _on_state_filter_changed(self, index: int) -> None:
        self.proxy.set_states(STATE_FILTERS[self.state_filter.itemData(index)])
        self._update_counts()

    def _on_text_changed(self, text: str) -> None:
        self.proxy.set_text(text)
        self._update_counts()

    def _update_counts(self) -> None:
        unacknowledged = sum(
            a.state in (AlarmState.UNACKNOWLEDGED, AlarmState.RETURNED_UNACKNOWLEDGED)
            for a in self._alarms
        )
        self.count_label.setText(
            self.tr("{count} alarms · {unacknowledged} unacknowledged · {shown} shown").format(
                count=f"{len(self._alarms):,}",
                unacknowledged=f"{unacknowledged:,}",
                shown=f"{self.proxy.rowCount():,}",
            )
        )
