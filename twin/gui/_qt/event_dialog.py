"""The dialog that adds or edits one scheduled event.

The form is built from the schema (``twin.gui.event_form``): the kind from the
vocabulary, the time, and that kind's fields. Everything typed is checked at once, as a
scenario file's event would be; each problem shows under its field, and the dialog cannot
be accepted while there is one. Numbers are shown and typed in the display units and the
event is made in SI, as a scenario file holds it.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime, timedelta

from PySide6.QtCore import Qt
from PySide6.QtWidgets import (
    QAbstractItemView,
    QCheckBox,
    QComboBox,
    QDialog,
    QDialogButtonBox,
    QFormLayout,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QListWidget,
    QListWidgetItem,
    QVBoxLayout,
    QWidget,
)

from twin.gui.event_form import (
    FieldSpec,
    check_event,
    event_fields,
    event_models,
    field_of,
    shown_number,
    shown_problems,
    typed_value,
)
from twin.gui.timeline import duration_text
from twin.gui.units import UnitSystem
from twin.scenario import Scenario
from twin.scenario.problems import Problem
from twin.scenario.schema import Event
from twin.scenario.units import parse_duration

NO_NAME = "(none)"  # an optional name left out, such as a power cap's hall
LIST_ROWS = 5  # a list of names shows this many rows before it scrolls
PROBLEM_STYLE = "color: #e0483e;"


class FieldEditor(QWidget):
    """The input for one field, and what it holds as a value for the schema (``...``
    when nothing was entered: the schema's default applies, or it says what is missing).
    A number in another unit than the schema's (``spec.shown``) is shown there and
    handed on in SI; one shown and left as it was is handed on as it came, to the last
    digit."""

    def __init__(
        self, spec: FieldSpec, on_change: Callable[[], object], parent: QWidget | None = None
    ) -> None:
        super().__init__(parent)
        self.spec = spec
        self._given: tuple[str, float] | None = None  # the text shown for a value set
        row = QHBoxLayout(self)
        row.setContentsMargins(0, 0, 0, 0)
        self.input: QLineEdit | QCheckBox | QComboBox | QListWidget
        if spec.widget == "flag":
            self.input = QCheckBox()
            self.input.setChecked(bool(spec.default))
            self.input.toggled.connect(on_change)
        elif spec.widget in ("choice", "name"):
            self.input = QComboBox()
            self.input.setEditable(spec.widget == "name")
            if not spec.required:
                self.input.addItem(NO_NAME)
            self.input.addItems(list(spec.choices))
            if spec.widget == "name":
                self.input.setCurrentIndex(-1 if spec.required else 0)
                self.input.setInsertPolicy(QComboBox.InsertPolicy.NoInsert)
                line = self.input.lineEdit()  # an editable box has one
                if line is not None:
                    line.setPlaceholderText(f"a {spec.noun} name")
            elif spec.default is not None:
                self.input.setCurrentText(str(spec.default))
            self.input.currentTextChanged.connect(on_change)
        elif spec.widget == "names" and spec.choices:
            self.input = QListWidget()
            self.input.setSelectionMode(QAbstractItemView.SelectionMode.NoSelection)
            for name in spec.choices:
                item = QListWidgetItem(name)
                item.setFlags(item.flags() | Qt.ItemFlag.ItemIsUserCheckable)
                item.setCheckState(Qt.CheckState.Unchecked)
                self.input.addItem(item)
            self.input.setMaximumHeight(
                self.input.sizeHintForRow(0) * min(len(spec.choices), LIST_ROWS) + 6
            )
            self.input.itemChanged.connect(on_change)
        else:
            self.input = QLineEdit()
            placeholder = {
                "duration": "e.g. 90s, 15min, 6h",
                "names": "names, separated by commas",
            }.get(spec.widget, "")
            if spec.default not in (None, []) and spec.widget != "duration":
                placeholder = (
                    f"{spec.default:g}" if isinstance(spec.default, float) else str(spec.default)
                )
            elif spec.default is not None and spec.widget == "duration":
                placeholder = duration_text(spec.default)
            self.input.setPlaceholderText(placeholder)
            self.input.textChanged.connect(on_change)
        self.input.setToolTip(spec.hint)
        row.addWidget(self.input, 1)
        if spec.unit and spec.widget != "duration":
            row.addWidget(QLabel(spec.unit))
        self.note = QLabel()  # the clock time of an event's time
        self.note.setObjectName("muted")
        if spec.name == "at_s":
            row.addWidget(self.note)

    def value(self) -> object:
        spec, widget = self.spec, self.input
        if isinstance(widget, QCheckBox):
            return widget.isChecked()
        if isinstance(widget, QComboBox):
            text = widget.currentText().strip()
            return ... if text in ("", NO_NAME) else text
        if isinstance(widget, QListWidget):
            checked = [
                widget.item(k).text()
                for k in range(widget.count())
                if widget.item(k).checkState() == Qt.CheckState.Checked
            ]
            return checked if checked or spec.required else ...
        text = widget.text().strip()
        if not text:
            return ...
        if self._given is not None and text == self._given[0]:
            return self._given[1]
        if spec.widget == "names":
            return [name.strip() for name in text.split(",") if name.strip()]
        return typed_value(spec, text)

    def set_value(self, value: object) -> None:
        """Show ``value``, as the schema holds it (SI)."""
        widget = self.input
        self._given = None
        if isinstance(widget, QCheckBox):
            widget.setChecked(bool(value))
        elif isinstance(widget, QComboBox):
            widget.setCurrentText(NO_NAME if value is None else str(value))
        elif isinstance(widget, QListWidget):
            chosen = set(value) if isinstance(value, list) else set()  # the names, or None
            for k in range(widget.count()):
                item = widget.item(k)
                item.setCheckState(
                    Qt.CheckState.Checked if item.text() in chosen else Qt.CheckState.Unchecked
                )
        elif value is None or value == []:
            widget.clear()
        elif isinstance(value, bool):
            widget.setText("true" if value else "false")
        elif isinstance(value, int | float) and self.spec.widget == "duration":
            widget.setText(duration_text(float(value)))
        elif isinstance(value, float) and self.spec.widget == "number":
            text = shown_number(self.spec, value)
            widget.setText(text)
            if self.spec.shown is not None:
                self._given = (text, value)
        elif isinstance(value, float):
            widget.setText(
                str(int(value)) if value.is_integer() and abs(value) < 1e15 else repr(value)
            )
        elif isinstance(value, list):
            widget.setText(", ".join(map(str, value)))
        else:
            widget.setText(str(value))  # as typed, also when it was typed for another kind


class EventDialog(QDialog):
    """Add an event (``event`` None) or edit one; ``now`` gives the simulated time, which
    a new or changed event must come after; numbers are shown and typed in ``units``.
    ``event`` holds the checked result (SI) once the dialog is accepted."""

    def __init__(
        self,
        scenario: Scenario,
        start: datetime,
        now: Callable[[], float],
        event: Event | None = None,
        parent: QWidget | None = None,
        *,
        units: UnitSystem | str = UnitSystem.SI,
    ) -> None:
        super().__init__(parent)
        self.setWindowTitle(self.tr("Edit the event") if event else self.tr("Add an event"))
        self.scenario, self.start, self.now = scenario, start, now
        self.units = UnitSystem(units)
        self.editors: dict[str, FieldEditor] = {}
        self.problem_labels: dict[str, QLabel] = {}
        self.problems: list[Problem] = []
        self.kind_box = QComboBox()
        self.kind_box.addItems(list(event_models()))
        self.form = QFormLayout()
        self.form.addRow(self.tr("Kind"), self.kind_box)
        self.general = QLabel()  # problems with the event as a whole
        self.general.setStyleSheet(PROBLEM_STYLE)
        self.general.setWordWrap(True)
        self.buttons = QDialogButtonBox(
            QDialogButtonBox.StandardButton.Ok | QDialogButtonBox.StandardButton.Cancel
        )
        self.buttons.accepted.connect(self.accept)
        self.buttons.rejected.connect(self.reject)
        column = QVBoxLayout(self)
        column.addLayout(self.form)
        column.addWidget(self.general)
        column.addWidget(self.buttons)
        self.event_made: Event | None = None  # not "event": QWidget.event handles events
        if event is None:
            # a few minutes ahead, on a whole minute, so that there is time to look
            at_s = (int(now() // 60) + 5) * 60.0
            self._build(self.kind_box.currentText(), {"at_s": at_s})
        else:
            self.kind_box.setCurrentText(event.kind)
            self._build(event.kind, event.model_dump())
        self.kind_box.currentTextChanged.connect(self._on_kind)

    @property
    def ok_button(self):
        return self.buttons.button(QDialogButtonBox.StandardButton.Ok)

    def editor(self, name: str) -> FieldEditor:
        return self.editors[name]

    def _on_kind(self, kind: str) -> None:
        """Another kind: its fields, keeping what was entered in fields of the same name."""
        entered = {name: editor.value() for name, editor in self.editors.items()}
        self._build(kind, {k: v for k, v in entered.items() if v is not ...})

    def _build(self, kind: str, values: dict[str, object]) -> None:
        while self.form.rowCount() > 1:
            self.form.removeRow(1)
        self.editors.clear()
        self.problem_labels.clear()
        for spec in event_fields(kind, self.scenario):
            editor = FieldEditor(spec.in_units(self.units), self.validate)
            if spec.name in values:
                editor.set_value(values[spec.name])
            problem = QLabel()
            problem.setStyleSheet(PROBLEM_STYLE)
            problem.setWordWrap(True)
            problem.hide()
            field = QWidget()
            rows = QVBoxLayout(field)
            rows.setContentsMargins(0, 0, 0, 0)
            rows.setSpacing(2)
            rows.addWidget(editor)
            rows.addWidget(problem)
            label = spec.label + ("" if spec.required else " (optional)")
            self.form.addRow(label[0].upper() + label[1:], field)
            self.editors[spec.name] = editor
            self.problem_labels[spec.name] = problem
        self.validate()

    def values(self) -> dict[str, object]:
        return {
            name: value
            for name, editor in self.editors.items()
            if (value := editor.value()) is not ...
        }

    def validate(self) -> bool:
        """Check what is entered; show each problem at its field; True when there is none."""
        if not self.editors:
            return False
        kind = self.kind_box.currentText()
        values = self.values()
        event, problems = check_event(self.scenario, kind, values, self.now())
        self.problems = shown_problems(problems, [e.spec for e in self.editors.values()], values)
        by_field: dict[str, list[str]] = {}
        for problem in self.problems:
            field = field_of(problem)
            where = field if field in self.problem_labels else ""
            shown = problem.message if where or not problem.path else str(problem)
            by_field.setdefault(where, []).append(shown)
        for name, label in self.problem_labels.items():
            label.setText("\n".join(by_field.get(name, [])))
            label.setVisible(name in by_field)
        self.general.setText("\n".join(by_field.get("", [])))
        self.general.setVisible("" in by_field)
        at = self.editors["at_s"].value()
        try:
            at_s = at if isinstance(at, float) else parse_duration(str(at))
            when = f"{self.start + timedelta(seconds=at_s):%Y-%m-%d %H:%M:%S}"
        except (ValueError, OverflowError):
            when = ""
        self.editors["at_s"].note.setText(when)
        self.ok_button.setEnabled(event is not None)
        return event is not None

    def accept(self) -> None:
        # checked again: the simulation may have passed the event's time meanwhile
        if not self.validate():
            return
        kind = self.kind_box.currentText()
        self.event_made, _ = check_event(self.scenario, kind, self.values(), self.now())
        super().accept()
