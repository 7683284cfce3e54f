"""The alarm panel: rows coloured by priority, sorting, filtering, acknowledge and shelve
requests (answered by a real alarm engine), double-click to the source, the flood
banner, and the selection kept across updates."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

import numpy as np
import pytest
from PySide6.QtCore import Qt
from PySide6.QtWidgets import QDialogButtonBox

from twin.alarms import (
    AlarmEngine,
    AlarmKey,
    AlarmPoint,
    AlarmState,
    Condition,
    Limit,
    Priority,
)
from twin.gui._qt.alarms import (
    COLUMNS,
    KEY_ROLE,
    PRIORITY_COLORS,
    PRIORITY_COLUMN,
    STATE_COLUMN,
    TIME_COLUMN,
    AlarmPanel,
    ShelveDialog,
)

pytestmark = pytest.mark.gui

SOURCE_COLUMN = COLUMNS.index("Source")


@dataclass
class Scan:
    time_s: float
    gpu_c: np.ndarray
    no_pump: np.ndarray
    hall_air_c: np.ndarray
    plant_loading_pct: np.ndarray


def make_engine() -> AlarmEngine:
    points = [
        AlarmPoint(
            "rack.gpu_temp",
            "GPU temperature",
            "°C",
            ("R01", "R02", "R03", "R04"),
            lambda s: s.gpu_c,
            (
                Limit(Condition.HIGH, 87.0, Priority.MEDIUM),
                Limit(Condition.HIGH_HIGH, 92.0, Priority.HIGH),
            ),
            source_kind="rack",
            source_index=np.arange(4),
        ),
        AlarmPoint(
            "cdu.no_pump",
            "no pump running",
            "",
            ("CDU-01", "CDU-02"),
            lambda s: s.no_pump,
            (Limit(Condition.ON, 1.0, Priority.CRITICAL),),
            source_kind="cdu",
            source_index=np.arange(2),
        ),
        AlarmPoint(
            "hall.air_temp",
            "hall air temperature",
            "°C",
            ("hall-1",),
            lambda s: s.hall_air_c,
            (Limit(Condition.HIGH, 32.0, Priority.LOW),),
            source_kind="hall",
            source_index=np.zeros(1, dtype=np.int64),
        ),
        AlarmPoint(
            "site.plant_transformer_loading",
            "plant transformer loading",
            "%",
            ("plant transformers",),
            lambda s: s.plant_loading_pct,
            (Limit(Condition.HIGH, 90.0, Priority.LOW),),
        ),
    ]
    return AlarmEngine(points)


class Site:
    """Drives the engine into a mix of priorities and states."""

    def __init__(self) -> None:
        self.engine = make_engine()
        self.time_s = 0.0
        self.scan(
            gpu_c=[95.0, 88.0, 88.0, 60.0],
            no_pump=[True, False],
            hall_air_c=[33.0],
            plant_loading_pct=[95.0],
        )
        self.engine.acknowledge([AlarmKey("rack.gpu_temp", "H", 1)], "seen")
        self.engine.shelve([AlarmKey("rack.gpu_temp", "H", 2)], 3600.0, "sensor fault")
        self.scan(hall_air_c=[30.0])  # hall-1 returns to normal, unacknowledged

    def scan(self, **values: list) -> None:
        self.time_s += 10.0
        self.values = {**getattr(self, "values", {}), **{k: np.array(v) for k, v in values.items()}}
        self.engine.update(Scan(self.time_s, **self.values))

    def show(self, panel: AlarmPanel) -> None:
        summary = self.engine.summary()
        panel.show_alarms(summary.alarms, summary.flood)


@pytest.fixture
def site() -> Site:
    return Site()


@pytest.fixture
def panel(qtbot, site):
    panel = AlarmPanel(datetime(2026, 8, 1))
    qtbot.addWidget(panel)
    panel.resize(1000, 500)
    panel.show()
    qtbot.waitExposed(panel)
    site.show(panel)
    return panel


def shown(panel: AlarmPanel, column: int, role=Qt.ItemDataRole.DisplayRole) -> list:
    return [panel.proxy.index(row, column).data(role) for row in range(panel.proxy.rowCount())]


def select(panel: AlarmPanel, *keys: AlarmKey) -> None:
    panel.table.clearSelection()
    for row, key in enumerate(shown(panel, 0, KEY_ROLE)):
        if key in keys:
            panel.table.selectionModel().select(
                panel.proxy.index(row, 0),
                panel.table.selectionModel().SelectionFlag.Select
                | panel.table.selectionModel().SelectionFlag.Rows,
            )


def test_rows_are_coloured_by_priority_and_unacknowledged_ones_are_bold(panel, site):
    alarms = site.engine.summary().alarms
    assert panel.proxy.rowCount() == len(alarms) == 7
    for row in range(panel.proxy.rowCount()):
        alarm = panel.model.alarm(panel.proxy.mapToSource(panel.proxy.index(row, 0)).row())
        cell = panel.proxy.index(row, PRIORITY_COLUMN)
        assert cell.data() == alarm.priority.label
        assert cell.data(Qt.ItemDataRole.BackgroundRole) == PRIORITY_COLORS[alarm.priority]
        font = panel.proxy.index(row, STATE_COLUMN).data(Qt.ItemDataRole.FontRole)
        unacknowledged = alarm.state in (
            AlarmState.UNACKNOWLEDGED,
            AlarmState.RETURNED_UNACKNOWLEDGED,
        )
        assert (font is not None and font.bold()) == unacknowledged
    assert len({color.name() for color in PRIORITY_COLORS.values()}) == 4
    assert panel.count_label.text() == "7 alarms · 5 unacknowledged · 7 shown"


def test_sorted_by_priority_first_and_by_any_column_on_request(panel):
    priorities = shown(panel, PRIORITY_COLUMN)
    assert priorities[0] == "critical"
    ranks = [Priority[p.upper()] for p in priorities]
    assert ranks == sorted(ranks)
    panel.table.sortByColumn(SOURCE_COLUMN, Qt.SortOrder.AscendingOrder)
    sources = shown(panel, SOURCE_COLUMN)
    assert sources == sorted(sources, key=str.casefold) and sources[0] == "CDU-01"
    panel.table.sortByColumn(TIME_COLUMN, Qt.SortOrder.DescendingOrder)
    times = shown(panel, TIME_COLUMN)
    assert times == sorted(times, reverse=True)
    assert times[0] == "08-01 00:00:20"  # hall-1 returned to normal in the second scan


def test_filters_by_priority_state_and_text(panel):
    panel.priority_buttons[Priority.CRITICAL].setChecked(False)
    assert "critical" not in shown(panel, PRIORITY_COLUMN)
    assert panel.count_label.text().endswith("6 shown")
    panel.priority_buttons[Priority.CRITICAL].setChecked(True)
    panel.state_filter.setCurrentText("shelved")
    assert shown(panel, SOURCE_COLUMN) == ["R03"]
    panel.state_filter.setCurrentText("unacknowledged")
    assert set(shown(panel, STATE_COLUMN)) == {"unacknowledged", "returned unacknowledged"}
    panel.state_filter.setCurrentText("all states")
    panel.text_filter.setText("TRANSFORMER")
    assert shown(panel, SOURCE_COLUMN) == ["plant transformers"]
    panel.text_filter.setText("r0")
    assert sorted(shown(panel, SOURCE_COLUMN)) == ["R01", "R01", "R02", "R03"]
    assert panel.count_label.text().endswith("4 shown")


def test_acknowledge_asks_for_a_note_and_the_engine_answers(qtbot, site):
    notes = iter(["pump crew on site", None, "all seen"])
    panel = AlarmPanel(ask_note=lambda _parent, _title: next(notes))
    qtbot.addWidget(panel)
    site.show(panel)
    panel.acknowledge_requested.connect(
        lambda keys, note: (site.engine.acknowledge(keys, note), site.show(panel))
    )
    panel.acknowledge_all_requested.connect(
        lambda note: (site.engine.acknowledge_all(note), site.show(panel))
    )
    no_pump = AlarmKey("cdu.no_pump", "ON", 0)
    select(panel, no_pump)
    with qtbot.waitSignal(panel.acknowledge_requested) as signal:
        panel.acknowledge_button.click()
    assert signal.args == [(no_pump,), "pump crew on site"]
    assert site.engine.state(no_pump) is AlarmState.ACKNOWLEDGED
    row = shown(panel, 0, KEY_ROLE).index(no_pump)
    assert panel.proxy.index(row, STATE_COLUMN).data() == "acknowledged"
    assert panel.selected_keys() == (no_pump,)  # still selected after the update
    with qtbot.assertNotEmitted(panel.acknowledge_requested):
        panel.acknowledge_button.click()  # the note dialog was cancelled
    with qtbot.waitSignal(panel.acknowledge_all_requested) as signal:
        panel.acknowledge_all_button.click()
    assert signal.args == ["all seen"]
    assert site.engine.summary().unacknowledged == 0
    assert "0 unacknowledged" in panel.count_label.text()


def test_shelve_asks_duration_and_reason_and_unshelve_sends_only_shelved(qtbot, site):
    panel = AlarmPanel(ask_shelve=lambda _parent, count: (900.0, f"{count} noisy sensors"))
    qtbot.addWidget(panel)
    site.show(panel)
    panel.shelve_requested.connect(
        lambda keys, duration_s, reason: (
            site.engine.shelve(keys, duration_s, reason),
            site.show(panel),
        )
    )
    gpu = AlarmKey("rack.gpu_temp", "H", 0), AlarmKey("rack.gpu_temp", "HH", 0)
    select(panel, *gpu)
    with qtbot.waitSignal(panel.shelve_requested) as signal:
        panel.shelve_button.click()
    keys, duration_s, reason = signal.args
    assert set(keys) == set(gpu) and duration_s == 900.0 and reason == "2 noisy sensors"
    assert {site.engine.state(k) for k in gpu} == {AlarmState.SHELVED}
    select(panel, gpu[0], AlarmKey("cdu.no_pump", "ON", 0))
    with qtbot.waitSignal(panel.unshelve_requested) as signal:
        panel.unshelve_button.click()
    assert signal.args == [(gpu[0],)]


def test_the_shelve_dialog_needs_a_reason(qtbot):
    dialog = ShelveDialog(3)
    qtbot.addWidget(dialog)
    ok = dialog.buttons.button(QDialogButtonBox.StandardButton.Ok)
    assert not ok.isEnabled()
    dialog.reason.setText("   ")
    assert not ok.isEnabled()
    dialog.reason.setText("flow meter replaced tomorrow")
    dialog.duration.setCurrentText("8 h")
    assert ok.isEnabled()
    assert dialog.choice() == (28800.0, "flow meter replaced tomorrow")


def test_double_click_names_the_source_to_fly_to(qtbot, panel):
    def double_click(key: AlarmKey) -> None:
        row = shown(panel, 0, KEY_ROLE).index(key)
        center = panel.table.visualRect(panel.proxy.index(row, SOURCE_COLUMN)).center()
        # a real double click: press and release, then the second press
        qtbot.mouseClick(panel.table.viewport(), Qt.MouseButton.LeftButton, pos=center)
        qtbot.mouseDClick(panel.table.viewport(), Qt.MouseButton.LeftButton, pos=center)

    with qtbot.waitSignal(panel.source_activated) as signal:
        double_click(AlarmKey("rack.gpu_temp", "HH", 0))
    assert signal.args == ["rack", 0]
    with qtbot.waitSignal(panel.source_activated) as signal:
        double_click(AlarmKey("cdu.no_pump", "ON", 0))
    assert signal.args == ["cdu", 0]
    with qtbot.assertNotEmitted(panel.source_activated):  # the plant transformers: not drawn
        double_click(AlarmKey("site.plant_transformer_loading", "H", 0))


def test_the_flood_banner_shows_the_summary_while_a_flood_lasts(qtbot):
    engine = make_engine()
    panel = AlarmPanel()
    qtbot.addWidget(panel)
    panel.show()

    def scan(time_s: float, gpu_c: float, no_pump: bool, hall_c: float, plant_pct: float):
        engine.update(
            Scan(
                time_s,
                np.full(4, gpu_c),
                np.full(2, no_pump),
                np.array([hall_c]),
                np.array([plant_pct]),
            )
        )
        panel.show_alarms(engine.summary().alarms, engine.summary().flood)

    scan(10.0, 60.0, True, 25.0, 50.0)  # two new alarms
    assert not panel.flood_banner.isVisible()
    scan(20.0, 95.0, True, 33.0, 95.0)  # ten more: twelve in ten minutes
    assert panel.flood_banner.isVisible()
    assert panel.flood_banner.text().startswith(
        "Alarm flood: 12 new alarms in the last 10 min (critical 2, high 4, medium 4, "
        "low 2). GPU temperature 8, no pump running 2"
    )
    scan(620.0, 95.0, True, 33.0, 95.0)  # all of them older than ten minutes
    assert not panel.flood_banner.isVisible()


def test_sorting_keeps_the_selection_on_the_same_alarms(panel):
    keys = AlarmKey("hall.air_temp", "H", 0), AlarmKey("rack.gpu_temp", "H", 1)
    select(panel, *keys)
    panel.table.sortByColumn(SOURCE_COLUMN, Qt.SortOrder.DescendingOrder)
    assert shown(panel, SOURCE_COLUMN)[0] == "R03"
    assert set(panel.selected_keys()) == set(keys)
    panel.table.sortByColumn(PRIORITY_COLUMN, Qt.SortOrder.DescendingOrder)
    assert shown(panel, PRIORITY_COLUMN)[0] == "low"
    assert set(panel.selected_keys()) == set(keys)
