"""The right-click fault menu's model: what each object offers, and that every offered
event is valid for the site and moves the simulation."""

from __future__ import annotations

import pytest

from twin.gui.faults import faults_for
from twin.gui.objects import KINDS, Selection
from twin.scenario import load
from twin.scenario.references import event_problems
from twin.sim.engine import Simulation
from twin.sim.topology import build_topology


@pytest.fixture(scope="module")
def seoul():
    return load("seoul-ai-factory")


@pytest.fixture(scope="module")
def topology(seoul):
    return build_topology(seoul)


def every_selection(seoul, topology):
    counts = {
        "rack": topology.rack_count,
        "cdu": topology.cdu_count,
        "hall": len(topology.hall_names),
        "workcell": len(seoul.workcells),
    }
    for kind in KINDS:
        for index in {0, counts.get(kind, 1) - 1}:
            yield Selection(kind, index)


def test_every_kind_offers_faults_whose_events_the_loader_accepts(seoul, topology):
    for selection in every_selection(seoul, topology):
        faults = faults_for(selection, seoul, topology)
        assert faults, selection
        events = [make(123.0) for _, make in faults]
        assert all(e.at_s == 123.0 for e in events)
        assert event_problems(seoul, events) == [], selection


@pytest.mark.parametrize(
    ("kind", "labels"),
    [
        (
            "cdu",
            (
                "Trip a pump",
                "Facility valve stuck",
                "Coolant leak (10 L/min)",
                "Repair the leak and refill",
                "Clean the filter",
            ),
        ),
        ("hall", ("Fail a transformer", "Restore a UPS module")),
        ("chillers", ("Trip a chiller", "Restore a chiller")),
        ("dry-coolers", ("Fail one dry cooler's fans", "Fail a quarter of the dry coolers (9)")),
        ("rack", ("Send a service robot",)),
        ("workcell", ("Emergency stop", "Reset and start")),
        (
            "generator",
            (
                "Utility outage (10 min)",
                "Utility outage, 11 of 22 generator sets fail to start",
                "Trip a generator set",
                "Restore a generator set",
            ),
        ),
        ("transformer", ("Utility outage (10 min)",)),
    ],
)
def test_menus_name_the_faults_of_their_object(seoul, topology, kind, labels):
    offered = [label for label, _ in faults_for(Selection(kind, 0), seoul, topology)]
    assert set(labels) <= set(offered)


def test_events_target_the_selected_object(seoul, topology):
    cdu = dict(faults_for(Selection("cdu", 5), seoul, topology))
    assert cdu["Coolant leak (10 L/min)"](0.0).target == topology.cdu_names[5]
    rack = dict(faults_for(Selection("rack", 17), seoul, topology))
    assert rack["Send a service robot"](0.0).target == topology.rack_name(17)
    robot = dict(faults_for(Selection("service-robot", 0), seoul, topology))
    cell = seoul.workcells[[c.kind for c in seoul.workcells].index("service")].name
    assert robot["Emergency stop"](0.0).target == cell


def test_unknown_selections_are_refused(seoul, topology):
    with pytest.raises(ValueError, match="no cdu number 99"):
        faults_for(Selection("cdu", 99), seoul, topology)
    with pytest.raises(ValueError, match="no kind of object 'pump'"):
        faults_for(Selection("pump", 0), seoul, topology)


def test_a_menu_event_applied_to_the_simulation_shows_in_its_snapshot(seoul, topology):
    sim = Simulation(seoul, dt_s=5.0)
    sim.step(12)
    leak = dict(faults_for(Selection("cdu", 2), seoul, topology))["Coolant leak (10 L/min)"]
    sim.apply(leak(sim.time_s))
    sim.step(12)
    snap = sim.snapshot()
    assert snap.cdus.leak_detected[2] and snap.cdus.inventory_fraction[2] < 1.0
    assert not snap.cdus.leak_detected[[0, 1, 3]].any()


@pytest.mark.gui
def test_the_window_menu_injects_a_leak_that_the_physics_and_alarms_follow(make_window, qtbot):

    scenario = load("seoul-ai-factory")
    window = make_window(simulation=Simulation.from_scenario(scenario), speed=600.0, running=True)
    qtbot.waitUntil(lambda: window.snapshot is not None, timeout=30_000)
    menu = window.fault_menu(Selection("cdu", 2))
    labels = [action.text() for action in menu.actions()]
    assert labels[0] == window.topology.cdu_names[2]  # the title names the object
    leak = next(a for a in menu.actions() if a.text().startswith("Coolant leak"))
    leak.trigger()
    menu.close()
    qtbot.waitUntil(lambda: window.snapshot.cdus.leak_detected[2], timeout=30_000)
    assert not window.snapshot.cdus.leak_detected[1]
    qtbot.waitUntil(lambda: window.snapshot.cdus.inventory_fraction[2] < 1.0, timeout=30_000)


@pytest.mark.gui
def test_injected_events_reach_the_timeline_and_can_be_kept_in_a_scenario_file(
    make_window, qtbot, tmp_path
):
    scenario = load("single-rack")
    window = make_window(
        "single-rack",
        simulation=Simulation.from_scenario(scenario),
        speed=60.0,
        running=True,
        source="single-rack",
    )
    qtbot.waitUntil(lambda: window.snapshot is not None, timeout=30_000)
    menu = window.fault_menu(Selection("cdu", 0))
    next(a for a in menu.actions() if a.text() == "Trip a pump").trigger()
    menu.close()
    timeline = window.timeline
    qtbot.waitUntil(lambda: len(timeline.injected) == 1, timeout=30_000)
    [event] = timeline.injected
    assert event.kind == "pump-trip" and event.at_s > 0
    assert timeline.save_button.isEnabled()
    target = tmp_path / "what-if.toml"
    assert window.save_timeline(target)
    saved = load(target)
    assert saved.events[-1] == event
    assert timeline.injected == [event] and window.source == str(target)
    assert timeline.model.unsaved_injected == 0 and not timeline.save_button.isEnabled()
