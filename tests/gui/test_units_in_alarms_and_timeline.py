"""View > Units in the alarm list, the timeline and the event editor: values, limits and
event numbers shown in US customary units, numbers typed there kept in SI, exactly."""

from __future__ import annotations

from datetime import datetime
from fractions import Fraction

import numpy as np
import pytest
from PySide6.QtCore import Qt
from PySide6.QtWidgets import QLabel

from tests.fakes import FakeSimulation, scenario_named
from twin.alarms import AlarmEngine, AlarmPoint, Condition, Limit, Priority
from twin.gui._qt.alarms import COLUMNS, AlarmPanel
from twin.gui._qt.event_dialog import FieldEditor
from twin.gui._qt.timeline import DETAILS_COLUMN
from twin.gui.event_form import FieldSpec
from twin.gui.units import PSI_KPA, US_GALLON_L, UnitSystem
from twin.scenario import builtin_scenarios, load
from twin.scenario.schema import CoolantLeak, Heatwave
from twin.sim.engine import Simulation

pytestmark = pytest.mark.gui

SI, US = UnitSystem.SI, UnitSystem.US_CUSTOMARY
VALUE, LIMIT, ALARM = COLUMNS.index("Value"), COLUMNS.index("Limit"), COLUMNS.index("Alarm")
GPM_L = float(US_GALLON_L)


@pytest.fixture(autouse=True)
def config_home(tmp_path, monkeypatch):
    """Never the user's own settings."""
    monkeypatch.setenv("XDG_CONFIG_HOME", str(tmp_path / "config"))


def _rows(panel: AlarmPanel) -> dict[str, tuple[str, str]]:
    """Each listed alarm's text, with its value and limit as shown."""
    proxy = panel.proxy
    return {
        proxy.index(row, ALARM).data(): (
            proxy.index(row, VALUE).data(),
            proxy.index(row, LIMIT).data(),
        )
        for row in range(proxy.rowCount())
    }


def test_the_alarm_list_shows_values_and_limits_in_the_display_units(qtbot):
    names = ("R01",)
    engine = AlarmEngine(
        [
            AlarmPoint(
                "rack.gpu_temp",
                "GPU temperature",
                "°C",
                names,
                lambda s: s.gpu_c,
                (Limit(Condition.HIGH, 87.0, Priority.MEDIUM),),
            ),
            AlarmPoint(
                "rack.flow",
                "rack coolant flow",
                "L/min",
                names,
                lambda s: s.flow_lpm,
                (Limit(Condition.LOW, 144.0, Priority.LOW),),
            ),
            AlarmPoint(
                "cdu.dp",
                "branch differential pressure",
                "kPa",
                names,
                lambda s: s.dp_kpa,
                (Limit(Condition.LOW, 77.0, Priority.LOW),),
            ),
            AlarmPoint(
                "cdu.supply_deviation",
                "TCS supply above its setpoint",
                "K",
                names,
                lambda s: s.deviation_k,
                (Limit(Condition.HIGH, 2.0, Priority.LOW),),
            ),
        ]
    )

    class Scan:
        time_s = 1.0
        gpu_c, flow_lpm, dp_kpa, deviation_k = (np.array([v]) for v in (95.0, 90.0, 44.0, 3.0))

    engine.update(Scan())
    panel = AlarmPanel(datetime(2026, 8, 1))
    qtbot.addWidget(panel)
    summary = engine.summary()
    panel.show_alarms(summary.alarms, summary.flood)
    assert _rows(panel) == {
        "GPU temperature": ("95.0 °C", "H 87.0 °C"),
        "rack coolant flow": ("90.0 L/min", "L 144.0 L/min"),
        "branch differential pressure": ("44.0 kPa", "L 77.0 kPa"),
        "TCS supply above its setpoint": ("3.0 K", "H 2.0 K"),
    }
    order = [panel.proxy.index(row, ALARM).data() for row in range(panel.proxy.rowCount())]

    panel.set_units(US)
    assert _rows(panel) == {
        "GPU temperature": ("203.0 °F", "H 188.6 °F"),
        "rack coolant flow": (f"{90 / GPM_L:.2f} gpm", f"L {144 / GPM_L:.2f} gpm"),
        "branch differential pressure": (
            f"{44 / float(PSI_KPA):.2f} psi",
            f"L {77 / float(PSI_KPA):.2f} psi",
        ),
        "TCS supply above its setpoint": ("5.4 Δ°F", "H 3.6 Δ°F"),
    }  # a difference: no 32
    assert _rows(panel)["rack coolant flow"] == ("23.78 gpm", "L 38.04 gpm")
    assert _rows(panel)["branch differential pressure"] == ("6.38 psi", "L 11.17 psi")
    assert [panel.proxy.index(row, ALARM).data() for row in range(panel.proxy.rowCount())] == order
    # the engine's alarms stay SI
    assert {a.description: a.value for a in engine.summary().alarms}["GPU temperature"] == 95.0
    panel.set_units(SI)
    assert _rows(panel)["GPU temperature"] == ("95.0 °C", "H 87.0 °C")


def test_view_units_reaches_the_window_alarm_list(make_window, qtbot):
    simulation = FakeSimulation(scenario_named("seoul-ai-factory"))
    window = make_window(simulation=simulation, running=False)
    qtbot.waitUntil(lambda: window.snapshot is not None, timeout=30_000)
    rack = 5

    def heat(sim):
        sim.gpu_temp_c = np.where(np.arange(sim.topology.rack_count) == rack, 95.0, 60.0)

    window.runner.call(heat)
    window.runner.step(10)  # past the GPU alarm's 5 s delay
    panel = window.alarm_panel
    name = window.topology.rack_name(rack)

    def gpu_row() -> tuple[str, str] | None:
        proxy = panel.proxy
        for row in range(proxy.rowCount()):
            if proxy.index(row, COLUMNS.index("Source")).data() == name and proxy.index(
                row, LIMIT
            ).data().startswith("H "):
                return proxy.index(row, VALUE).data(), proxy.index(row, LIMIT).data()
        return None

    qtbot.waitUntil(lambda: gpu_row() is not None, timeout=30_000)
    topology = window.topology
    throttle_c = window.scenario.rack_types[
        topology.rack_type_names[topology.rack_type[rack]]
    ].gpu_throttle_c
    assert gpu_row() == ("95.0 °C", f"H {throttle_c:.1f} °C")
    window.unit_actions[US].trigger()
    assert gpu_row() == (f"{95 * 9 / 5 + 32:.1f} °F", f"H {throttle_c * 9 / 5 + 32:.1f} °F")
    assert gpu_row() == ("203.0 °F", "H 188.6 °F")  # 87 °C
    window.unit_actions[SI].trigger()
    assert gpu_row() == ("95.0 °C", f"H {throttle_c:.1f} °C")


TIMELINE = """
[[events]]
at_s = "30min"
kind = "coolant-leak"
target = "CDU"
rate_lpm = 5.0
"""
LEAK = CoolantLeak(kind="coolant-leak", at_s=1800.0, target="CDU", rate_lpm=5.0)


@pytest.fixture
def bench(make_window, qtbot, tmp_path):
    """A paused window on the bench scenario with a leak on its timeline, shown in US
    customary units, and the scenario's file."""
    path = tmp_path / "bench.toml"
    text = builtin_scenarios()["single-rack"].read_text(encoding="utf-8")
    path.write_text(text.rstrip("\n") + "\n" + TIMELINE, encoding="utf-8")
    simulation = Simulation(load(path), dt_s=10.0)
    window = make_window(str(path), simulation=simulation, running=False, source=str(path))
    qtbot.waitUntil(lambda: window.snapshot is not None, timeout=30_000)
    window.ask_unsaved = lambda: "discard"
    window.unit_actions[US].trigger()
    return window, simulation, path


def _unit_label(editor: FieldEditor) -> str:
    return next(label.text() for label in editor.findChildren(QLabel) if label.text())


def test_the_timeline_and_event_editor_show_gpm_and_keep_litres_per_minute(bench, qtbot):
    window, simulation, path = bench
    timeline = window.timeline
    details = timeline.table.item(0, DETAILS_COLUMN)
    assert details.text() == f"target CDU; rate {5 / GPM_L:.3f} gpm" == "target CDU; rate 1.321 gpm"

    dialog = timeline.edit_row(0)
    rate = dialog.editor("rate_lpm")
    assert rate.input.text() == "1.321" and _unit_label(rate) == "gpm"
    assert rate.input.toolTip().startswith("0 to 264.172;")
    dialog.accept()  # unchanged: the rate stays 5 L/min to the last digit
    assert [entry.event for entry in timeline.rows] == [LEAK]
    assert not window.isWindowModified()

    dialog = timeline.edit_row(0)
    dialog.editor("rate_lpm").input.setText("300")  # 1,136 L/min: over the 1,000 allowed
    problem = dialog.problem_labels["rate_lpm"]
    assert problem.text() == "must be from 0 to 264.172 gpm (got 300 gpm)"
    assert not dialog.ok_button.isEnabled()
    dialog.editor("rate_lpm").input.setText("2")
    assert dialog.ok_button.isEnabled()
    qtbot.mouseClick(dialog.ok_button, Qt.MouseButton.LeftButton)
    two_gpm = float(2 * US_GALLON_L)  # 7.570823568 L/min, exactly
    leak = LEAK.model_copy(update={"rate_lpm": two_gpm})
    assert [entry.event for entry in timeline.rows] == [leak]
    assert timeline.table.item(0, DETAILS_COLUMN).text() == "target CDU; rate 2 gpm"
    qtbot.waitUntil(lambda: simulation.scheduled_events == (leak,), timeout=30_000)

    dialog = timeline.add_event()
    dialog.kind_box.setCurrentText("heatwave")
    dialog.editor("at_s").input.setText("1h")
    dialog.editor("offset_k").input.setText("9")
    dialog.editor("duration_s").input.setText("2h")
    assert _unit_label(dialog.editor("offset_k")) == "Δ°F"
    dialog.accept()
    heat = Heatwave(kind="heatwave", at_s=3600.0, offset_k=5.0, duration_s=7200.0)
    assert [entry.event for entry in timeline.rows] == [leak, heat]
    assert timeline.table.item(1, DETAILS_COLUMN).text() == "offset 9 Δ°F; duration 2h"

    assert window.save_timeline()  # the file keeps SI
    assert load(path).events == [leak, heat]
    text = path.read_text(encoding="utf-8")
    assert "rate_lpm = 7.570823568" in text and "offset_k = 5.0" in text

    window.unit_actions[SI].trigger()
    assert timeline.table.item(0, DETAILS_COLUMN).text() == "target CDU; rate 7.57082 L/min"
    assert timeline.table.item(1, DETAILS_COLUMN).text() == "offset 5 K; duration 2h"


def test_a_temperature_typed_in_fahrenheit_is_kept_in_exact_celsius(qtbot):
    spec = FieldSpec(
        "supply_c", "supply", "°C", "number", True, None, bounds=(("ge", 15.0), ("le", 50.0))
    ).in_units(US)
    editor = FieldEditor(spec, lambda: None)
    qtbot.addWidget(editor)
    assert _unit_label(editor) == "°F"
    editor.set_value(35.0)
    assert editor.input.text() == "95" and editor.value() == 35.0
    editor.input.setText("64.4")  # (64.4 − 32) × 5/9 in floating point is 18.000000000000004
    assert editor.value() == 18.0 == float((Fraction("64.4") - 32) * 5 / 9)
    editor.set_value(1 / 3 * 100)  # shown rounded, and kept to the last digit if left
    assert editor.input.text() == "92" and editor.value() == 1 / 3 * 100
