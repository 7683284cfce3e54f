"""View > Units in the inspector's alarm lines and the right-click fault menu: limits and
fault sizes named in US customary units, the injected event still SI."""

from __future__ import annotations

import numpy as np
import pytest
from PySide6.QtWidgets import QLabel

from tests.fakes import FakeSimulation, scenario_named
from tests.gui.helpers import open_paused
from twin.gui._qt.timeline import DETAILS_COLUMN
from twin.gui.objects import Selection
from twin.gui.units import UnitSystem
from twin.scenario import load
from twin.sim.engine import Simulation

pytestmark = pytest.mark.gui

SI, US = UnitSystem.SI, UnitSystem.US_CUSTOMARY


@pytest.fixture(autouse=True)
def config_home(tmp_path, monkeypatch):
    """Never the user's own settings."""
    monkeypatch.setenv("XDG_CONFIG_HOME", str(tmp_path / "config"))


def test_a_throttling_racks_alarm_lines_follow_view_units(make_window, qtbot):
    simulation = FakeSimulation(scenario_named("seoul-ai-factory"))
    window, change = open_paused(make_window, qtbot, simulation)
    rack = 5

    def throttle(sim):
        sim.throttled = np.arange(sim.topology.rack_count) == rack
        sim.gpu_temp_c = np.where(sim.throttled, 90.0, 60.0)

    change(throttle)
    window.canvas.select(Selection("rack", rack))
    inspector = window.inspector
    alarms = inspector.findChild(QLabel, "alarmText")
    topology = window.topology
    throttle_c = window.scenario.rack_types[
        topology.rack_type_names[topology.rack_type[rack]]
    ].gpu_throttle_c
    assert throttle_c == 87.0
    qtbot.waitUntil(lambda: alarms.text() == "⚠ GPUs throttling above 87 °C", timeout=30_000)
    assert alarms.isVisible()

    window.unit_actions[US].trigger()
    qtbot.waitUntil(lambda: alarms.text() == "⚠ GPUs throttling above 188.6 °F", timeout=30_000)
    assert inspector.values["GPU temperature"].text() == "194.0 °F"  # 90 °C
    window.unit_actions[SI].trigger()
    qtbot.waitUntil(lambda: alarms.text() == "⚠ GPUs throttling above 87 °C", timeout=30_000)


def test_the_fault_menu_offers_a_leak_in_gpm_that_reaches_the_simulation_in_l_per_min(
    make_window, qtbot
):
    simulation = Simulation(load("single-rack"), dt_s=10.0)
    window = make_window("single-rack", simulation=simulation, running=False)
    qtbot.waitUntil(lambda: window.snapshot is not None, timeout=30_000)
    window.unit_actions[US].trigger()
    menu = window.fault_menu(Selection("cdu", 0))
    labels = [action.text() for action in menu.actions()]
    assert "Coolant leak (2.642 gpm)" in labels  # 10 L/min
    assert not any("L/min" in label for label in labels)
    next(a for a in menu.actions() if a.text() == "Coolant leak (2.642 gpm)").trigger()
    menu.close()

    timeline = window.timeline
    qtbot.waitUntil(lambda: len(timeline.injected) == 1, timeout=30_000)
    [leak] = timeline.injected
    assert (leak.kind, leak.target, leak.rate_lpm) == ("coolant-leak", "CDU", 10.0)
    assert simulation.state.leak_rate_lpm.tolist() == [10.0]
    qtbot.waitUntil(lambda: bool(window.snapshot.cdus.leak_detected[0]), timeout=30_000)
    row = next(row for row, entry in enumerate(timeline.rows) if entry.event == leak)
    # the timeline lists it as the menu named it
    assert timeline.table.item(row, DETAILS_COLUMN).text() == "target CDU; rate 2.642 gpm"
