"""Selecting any object, its inspector, and the commands it sends to the simulation."""

from __future__ import annotations

import math

import numpy as np
import pytest

from tests.fakes import scenario_named
from twin.gui.objects import KINDS, Selection, describe
from twin.sim.engine import Simulation
from twin.sim.robotics.workcells import robot_units
from twin.sim.topology import build_topology


@pytest.mark.parametrize("name", ["single-rack", "seoul-ai-factory"])
def test_every_kind_of_object_reads_finite_values_from_a_real_snapshot(name):
    scenario = scenario_named(name)
    topology = build_topology(scenario)
    sim = Simulation.from_scenario(scenario)
    sim.step(30)
    snapshot = sim.snapshot()
    last = {
        "rack": topology.rack_count - 1,
        "cdu": topology.cdu_count - 1,
        "hall": len(topology.hall_names) - 1,
        "workcell": len(scenario.workcells) - 1,
        "robot": len(robot_units(scenario)) - 1,
        "service-robot": len(robot_units(scenario, service=True)) - 1,
    }
    for kind in KINDS:
        index = last.get(kind, 0)
        if index < 0:
            continue  # a scenario without workcells
        view = describe(Selection(kind, index), scenario, topology)
        assert view.readings, kind
        for reading in view.readings:
            # only a reading that says what it shows while undefined may be (MTTR)
            assert math.isfinite(reading.read(snapshot)) or reading.missing, (kind, reading.label)
            assert reading.text(snapshot)
        for parameter in view.parameters:
            assert parameter.low <= parameter.read(snapshot) <= parameter.high, parameter.label
        assert isinstance(view.alarms(snapshot), list)


def test_describe_rejects_unknown_objects():
    scenario = scenario_named("single-rack")
    topology = build_topology(scenario)
    with pytest.raises(ValueError, match="unknown object kind 'pipe'"):
        describe(Selection("pipe", 0), scenario, topology)
    with pytest.raises(ValueError, match="no cdu number 5"):
        describe(Selection("cdu", 5), scenario, topology)


@pytest.mark.gui
def test_a_cdu_picked_in_3d_takes_a_new_setpoint_and_a_pump_trip(make_window, qtbot):
    scenario = scenario_named("seoul-ai-factory")
    simulation = Simulation.from_scenario(scenario)
    window = make_window(simulation=simulation, speed=600.0, running=True)
    qtbot.waitUntil(lambda: window.snapshot is not None, timeout=30_000)
    canvas = window.canvas
    cdu = 3
    canvas.go_to(window.topology.hall_names[0], animate=False)
    canvas.render()
    lower, upper = canvas.bounds(Selection("cdu", cdu))
    top = np.array([(lower[0] + upper[0]) / 2, (lower[1] + upper[1]) / 2, upper[2]])
    assert canvas.pick(canvas.screen_position(top)) == Selection("cdu", cdu)
    canvas.select(Selection("cdu", cdu))
    inspector = window.inspector
    assert inspector.title.text() == window.topology.cdu_names[cdu]
    qtbot.waitUntil(lambda: inspector.values["Supply"].text().endswith("°C"), timeout=30_000)

    editor = inspector.editors["Supply setpoint"]
    editor.spin.setValue(38.0)
    editor.apply.click()
    qtbot.waitUntil(lambda: window.snapshot.cdus.supply_setpoint_c[cdu] == 38.0, timeout=30_000)
    assert window.snapshot.cdus.supply_setpoint_c[cdu - 1] != 38.0

    running = int(window.snapshot.cdus.pumps_running[cdu])
    inspector.buttons["Trip a pump"].click()
    inspector.buttons["Trip a pump"].click()
    qtbot.waitUntil(lambda: window.snapshot.cdus.pumps_running[cdu] < running, timeout=30_000)

    inspector.choices["Pump control"].activated.emit(1)  # fixed speed
    qtbot.waitUntil(lambda: window.snapshot.cdus.pump_manual[cdu], timeout=30_000)
    # the panels follow the snapshots a few times a second
    qtbot.waitUntil(lambda: inspector.choices["Pump control"].currentIndex() == 1, timeout=30_000)
    # the sparklines fill as snapshots arrive, and the trend dock plots the readings
    qtbot.waitUntil(
        lambda: np.isfinite(inspector.sparklines["Flow"].values).sum() > 3, timeout=30_000
    )
    assert len(window.trends.selection_views) >= 3  # one plot per unit: °C, L/min, kPa...
    assert window.trends.selection_history is not None
    assert not window.trends.selection_history.empty
    canvas.select(None)
    assert window.trends.selection_views == [] and window.trends.selection_history is None


@pytest.mark.gui
def test_a_command_out_of_range_is_reported_and_the_simulation_goes_on(make_window, qtbot):
    simulation = Simulation.from_scenario(scenario_named("single-rack"))
    window = make_window("single-rack", simulation=simulation, speed=None, running=True)
    qtbot.waitUntil(lambda: window.snapshot is not None, timeout=30_000)
    window.runner.call(lambda sim: sim.set_cdu_supply_setpoint(0, 99.0))
    qtbot.waitUntil(lambda: "Not applied" in window.statusBar().currentMessage(), timeout=30_000)
    assert "15 .. 50 °C" in window.statusBar().currentMessage()
    time_then = window.snapshot.time_s
    qtbot.waitUntil(lambda: window.snapshot.time_s > time_then, timeout=30_000)
    assert not window.runner.stats().paused


@pytest.mark.gui
def test_hidden_layers_are_not_drawn_nor_picked(make_window, qtbot):
    window = make_window(running=False)
    qtbot.waitUntil(lambda: window.snapshot is not None, timeout=30_000)
    canvas = window.canvas
    canvas.go_to("substation", animate=False)
    before = canvas.render()
    lower, upper = canvas.bounds(Selection("transformer", 0))
    top = np.array([(lower[0] + upper[0]) / 2, (lower[1] + upper[1]) / 2, upper[2]])
    where = canvas.screen_position(top)
    assert canvas.pick(where) == Selection("transformer", 0)
    window.layer_actions["electrical"].setChecked(False)
    assert not canvas.layers["electrical"]
    assert canvas.pick(where) != Selection("transformer", 0)
    assert not np.array_equal(canvas.render(), before)
    # with the thermal layer off the racks are grey, whatever their temperature
    window.layer_actions["thermal"].setChecked(False)
    colors = canvas.racks.colors
    assert np.allclose(colors, colors[0])
    window.layer_actions["thermal"].setChecked(True)
    assert not np.allclose(canvas.racks.colors, canvas.racks.colors[0])


@pytest.mark.gui
def test_a_pump_loss_raises_alarms_that_are_listed_acknowledged_and_lead_to_the_source(
    make_window, qtbot
):
    from twin.alarms import AlarmState
    from twin.scenario.schema import CduLoss

    scenario = scenario_named("single-rack")
    simulation = Simulation.from_scenario(scenario)
    window = make_window("single-rack", simulation=simulation, speed=60.0, running=True)
    qtbot.waitUntil(lambda: window.snapshot is not None, timeout=30_000)
    cdu = window.topology.cdu_names[0]
    window.runner.call(lambda sim: sim.apply(CduLoss(kind="cdu-loss", at_s=0, target=cdu)))
    panel = window.alarm_panel
    qtbot.waitUntil(
        lambda: any(a.key.tag == "cdu.no_pump" for a in panel.model.alarms), timeout=30_000
    )
    assert "unacknowledged" in window.alarm_dock.windowTitle()
    marks = window.canvas.alarm_marks  # the CDU is outlined in 3D, blinking until acknowledged
    qtbot.waitUntil(
        lambda: marks.marked.get(("cdu", 0), (None, None))[1] == AlarmState.UNACKNOWLEDGED,
        timeout=30_000,
    )
    panel.acknowledge_all_requested.emit("seen in the test")
    qtbot.waitUntil(
        lambda: all(
            a.state != AlarmState.UNACKNOWLEDGED for a in window.alarm_engine.summary().alarms
        ),
        timeout=30_000,
    )
    qtbot.waitUntil(lambda: marks.marked[("cdu", 0)][1] == AlarmState.ACKNOWLEDGED, timeout=30_000)
    window.show_alarm_source("cdu", 0)
    assert window.canvas.selected == Selection("cdu", 0)
    assert window.inspector.title.text() == cdu


@pytest.mark.gui
def test_every_kind_of_object_fits_the_inspector_dock_with_its_sparklines(make_window, qtbot):
    from PySide6.QtWidgets import QScrollArea

    from twin.gui.units import UnitSystem

    window = make_window(running=False, units=UnitSystem.US_CUSTOMARY.value)
    qtbot.waitUntil(lambda: window.snapshot is not None, timeout=30_000)
    scroll = next(s for s in window.findChildren(QScrollArea) if s.widget() is window.inspector)
    assert scroll.viewport().width() <= 300  # the dock at its narrowest
    for kind in KINDS:
        window.canvas.select(Selection(kind, 0))
        qtbot.waitUntil(
            lambda k=kind: window.inspector.selection == Selection(k, 0), timeout=30_000
        )
        window.inspector.adjustSize()
        qtbot.wait(20)  # layouts settle
        assert scroll.horizontalScrollBar().maximum() == 0, kind  # nothing cut off
        viewport = scroll.viewport().rect()
        for label, sparkline in window.inspector.sparklines.items():
            corner = sparkline.mapTo(scroll.viewport(), sparkline.rect().bottomRight())
            assert viewport.contains(corner), (kind, label)
