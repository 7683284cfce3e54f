"""View > Units: the window shows the same snapshot in US customary units, sends values
typed there back to the simulation in SI, and keeps the choice in the settings."""

from __future__ import annotations

import numpy as np
import pytest
from PySide6.QtWidgets import QMessageBox

from tests.fakes import FakeSimulation, scenario_named
from twin.gui._qt.trends import TrendPanel
from twin.gui.objects import Selection
from twin.gui.units import PSI_KPA, US_GALLON_L, UnitSystem
from twin.runs.replay import SiteSeries
from twin.settings import Settings, load_settings
from twin.sim.engine import Simulation

pytestmark = pytest.mark.gui

SI, US = UnitSystem.SI, UnitSystem.US_CUSTOMARY


@pytest.fixture(autouse=True)
def config_home(tmp_path, monkeypatch):
    """Never the user's own settings."""
    monkeypatch.setenv("XDG_CONFIG_HOME", str(tmp_path / "config"))


def _paused_window(make_window, qtbot, name="seoul-ai-factory", simulation=None, **kwargs):
    simulation = simulation or FakeSimulation(scenario_named(name))
    window = make_window(name, simulation=simulation, running=False, **kwargs)
    qtbot.waitUntil(lambda: window.snapshot is not None, timeout=30_000)
    return window


def _choose_units(window, system: UnitSystem) -> None:
    window.unit_actions[system].trigger()  # as the View > Units menu does


def _unit_menu(window):
    view = next(a.menu() for a in window.menuBar().actions() if a.text() == "&View")
    return next(a.menu() for a in view.actions() if a.text() == "&Units")


def test_us_customary_shows_the_same_snapshot_converted_and_si_comes_back(make_window, qtbot):
    window = _paused_window(make_window, qtbot)
    assert window.units is SI
    assert [a.text() for a in _unit_menu(window).actions()] == ["SI", "US customary"]
    window.canvas.select(Selection("cdu", 0))
    inspector, kpis = window.inspector, window.kpis
    for _ in range(3):  # samples for the sparklines
        inspector.update_snapshot(window.snapshot)
    si_texts = {label: value.text() for label, value in inspector.values.items()}
    assert si_texts["Supply"] == "35.0 °C" and si_texts["Flow"] == "2,500 L/min"
    assert si_texts["Branch dp"] == "110 kPa"
    assert kpis.values["gpu"].text() == "80.0 °C"  # FakeSimulation's hottest GPU
    sparkline = inspector.sparklines["Supply"].values.copy()

    _choose_units(window, US)
    assert window.units is US
    assert window.unit_actions[US].isChecked() and not window.unit_actions[SI].isChecked()
    values = inspector.values
    assert values["Supply"].text() == "95.0 °F"
    assert values["Return"].text() == "113.0 °F"
    assert values["Flow"].text() == f"{2500 / float(US_GALLON_L):,.1f} gpm" == "660.4 gpm"
    assert values["Branch dp"].text() == f"{110 / float(PSI_KPA):.1f} psi" == "16.0 psi"
    for unchanged in ("Pump speed", "Heat to facility water", "Pump power", "Pumps running"):
        assert values[unchanged].text() == si_texts[unchanged]
    spin = inspector.editors["Supply setpoint"].spin
    assert spin.suffix() == " °F" and (spin.minimum(), spin.maximum()) == (59.0, 122.0)
    assert spin.value() == 95.0
    assert kpis.values["gpu"].text() == "176.0 °F"
    assert "°F" in kpis.values["gpu"].toolTip()
    assert kpis.values["it"].text().endswith("MW")  # power stays as it is
    bar = window.color_panel.bar.field
    assert (bar.unit, bar.low) == ("°F", 86.0)  # 30 °C
    assert all(text.endswith("°F") for text in window.canvas.halls.air_labels.text)
    assert window.canvas.halls.air_labels.text[0] == "air 80.6 °F"  # 27 °C
    assert "facility water 86.0 / 104.0 °F" in window.canvas.yard.status.text
    # the sparklines keep their history; drawn to their own range, they look the same
    assert np.array_equal(inspector.sparklines["Supply"].values, sparkline, equal_nan=True)
    assert np.isfinite(sparkline).sum() == 3

    temperatures = window.trends.site_views["temperatures"]
    assert temperatures.axis_unit == "°F"
    assert temperatures.plot.getAxis("left").labelUnits == "°F"
    assert set(temperatures.curves[0].getOriginalDataset()[1]) == {176.0}  # hottest GPU
    by_unit = {view.axis_unit for view in window.trends.selection_views}
    assert {"°F", "gpm", "psi", "kW", "%"} <= by_unit

    _choose_units(window, SI)
    assert set(temperatures.curves[0].getOriginalDataset()[1]) == {80.0}
    assert temperatures.plot.getAxis("left").labelUnits == "°C"
    assert {label: value.text() for label, value in inspector.values.items()} == si_texts
    assert kpis.values["gpu"].text() == "80.0 °C"
    assert inspector.editors["Supply setpoint"].spin.suffix() == " °C"
    assert window.color_panel.bar.field.unit == "°C"
    assert window.canvas.halls.air_labels.text[0] == "air 27.0 °C"


def test_a_setpoint_typed_in_fahrenheit_reaches_the_simulation_in_exact_celsius(make_window, qtbot):
    simulation = Simulation.from_scenario(scenario_named("single-rack"))
    window = _paused_window(make_window, qtbot, "single-rack", simulation)
    window.canvas.select(Selection("cdu", 0))
    _choose_units(window, US)
    editor = window.inspector.editors["Supply setpoint"]
    editor.spin.setValue(64.4)  # (64.4 − 32) × 5/9 in floating point is 18.000000000000004
    generation = window.shown_generation
    editor.apply.click()
    qtbot.waitUntil(lambda: window.shown_generation > generation, timeout=30_000)
    assert window.snapshot.cdus.supply_setpoint_c[0] == 18.0
    assert editor.spin.value() == 64.4

    editor.spin.setValue(200.0)  # above the range: the box holds at 122 °F, 50 °C
    generation = window.shown_generation
    editor.apply.click()
    qtbot.waitUntil(lambda: window.shown_generation > generation, timeout=30_000)
    assert window.snapshot.cdus.supply_setpoint_c[0] == 50.0
    for box in window.findChildren(QMessageBox):
        box.close()


def test_the_units_are_saved_and_restored_by_a_new_window(make_window, qtbot):
    settings = Settings()
    window = _paused_window(
        make_window, qtbot, "single-rack", settings=settings, source="single-rack"
    )
    _choose_units(window, US)
    window.close()
    saved, problem = load_settings()
    assert problem is None and saved.units == "US customary"

    again = _paused_window(make_window, qtbot, "single-rack", settings=saved, source="single-rack")
    assert again.units is US and again.unit_actions[US].isChecked()
    assert again.kpis.values["gpu"].text().endswith("°F")
    assert again.color_panel.bar.field.unit == "°F"

    unsaved = _paused_window(make_window, qtbot, "single-rack")  # no settings: SI
    assert unsaved.units is SI
    assert unsaved.kpis.values["gpu"].text().endswith("°C")


def test_trends_draw_temperatures_and_their_differences_in_fahrenheit(qtbot):
    scenario = scenario_named("seoul-ai-factory")
    simulation = FakeSimulation(scenario)
    panel = TrendPanel(scenario.scenario.start)
    qtbot.addWidget(panel)
    for _ in range(3):
        panel.append(simulation.snapshot())
        simulation.step(5)
    view = panel.site_views["temperatures"]  # the hottest GPU at 80 °C
    reference = SiteSeries(
        "B", {"time_s": np.array([0.0, 20.0]), "gpu_temp_max_c": np.array([70.0, 70.0])}
    )
    panel.set_reference(reference)
    panel.set_units(US)
    hottest, reference_curve = view.curves[0], view.reference_curves[0]
    assert set(hottest.getOriginalDataset()[1]) == {176.0}
    assert set(reference_curve.getOriginalDataset()[1]) == {158.0}
    view.show_readout(5.0, view.history.at(view.history.rings[0], 5.0))
    readout = view.readout.textItem.toPlainText()
    assert "Hottest GPU 176.0 °F · B 158.0 °F · A − B +18.0 Δ°F" in readout

    panel.set_difference(True)  # 10 K apart: 18 °F apart, never 50 °F
    assert set(hottest.getOriginalDataset()[1]) == {18.0}
    assert view.axis_unit == "Δ°F" == view.plot.getAxis("left").labelUnits

    panel.set_units(SI)
    assert set(hottest.getOriginalDataset()[1]) == {10.0}
    assert view.axis_unit == "°C"
    panel.set_difference(False)
    assert set(reference_curve.getOriginalDataset()[1]) == {70.0}
