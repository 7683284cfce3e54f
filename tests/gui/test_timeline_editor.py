"""The timeline editor in the window: events added, edited, removed and undone through the
dock, checked as a scenario file's events are, played by the running simulation, and
saved back to the scenario file with its comments."""

from __future__ import annotations

import pytest
from PySide6.QtCore import Qt

from twin.gui._qt import main_window
from twin.gui._qt.event_dialog import EventDialog
from twin.scenario import builtin_scenarios, load
from twin.scenario.schema import CoolantLeak, PumpTrip, ValveStuck
from twin.sim.engine import Simulation

pytestmark = pytest.mark.gui

TIMELINE = """
# the valve seizes ten minutes in
[[events]]
at_s = "10min"
kind = "valve-stuck"
target = "CDU"  # the only CDU

# and the loop leaks at half past
[[events]]
at_s = "30min"
kind = "coolant-leak"
target = "CDU"
rate_lpm = 5.0
"""
STUCK = ValveStuck(kind="valve-stuck", at_s=600.0, target="CDU")
LEAK = CoolantLeak(kind="coolant-leak", at_s=1800.0, target="CDU", rate_lpm=5.0)


@pytest.fixture
def bench_file(tmp_path):
    path = tmp_path / "bench.toml"
    text = builtin_scenarios()["single-rack"].read_text(encoding="utf-8")
    path.write_text(text.rstrip("\n") + "\n" + TIMELINE, encoding="utf-8")
    return path


@pytest.fixture
def bench(make_window, qtbot, bench_file):
    """A paused window on the bench scenario's real simulation (10 s steps), and a function
    that runs the simulation on to a time and waits until the window shows it."""
    scenario = load(bench_file)
    simulation = Simulation(scenario, dt_s=10.0)
    window = make_window(
        str(bench_file), simulation=simulation, running=False, source=str(bench_file)
    )
    qtbot.waitUntil(lambda: window.snapshot is not None, timeout=30_000)
    window.ask_unsaved = lambda: "discard"  # the window closes after the test unasked

    def run_to(time_s: float) -> None:
        window.runner.step(round((time_s - window.snapshot.time_s) / simulation.dt_s))
        qtbot.waitUntil(
            lambda: (
                window.snapshot.time_s >= time_s - 1e-6 and window.timeline._time_s >= time_s - 1e-6
            ),
            timeout=30_000,
        )

    return window, simulation, run_to


def fill(dialog: EventDialog, kind: str, **texts: str) -> None:
    dialog.kind_box.setCurrentText(kind)
    for name, text in texts.items():
        widget = dialog.editor(name).input
        if hasattr(widget, "setCurrentText"):
            widget.setCurrentText(text)
        else:
            widget.setText(text)


def test_an_event_added_in_the_dialog_plays_in_the_running_simulation(bench, qtbot):
    window, simulation, run_to = bench
    timeline = window.timeline
    assert timeline.editable and not window.isWindowModified()
    dialog = timeline.add_event()
    fill(dialog, "pump-trip", at_s="20min", target="CDU", pumps="2")
    assert dialog.problems == [] and dialog.ok_button.isEnabled()
    assert dialog.editor("at_s").note.text().endswith("00:20:00")
    qtbot.mouseClick(dialog.ok_button, Qt.MouseButton.LeftButton)
    trip = PumpTrip(kind="pump-trip", at_s=1200.0, target="CDU", pumps=2)
    assert [entry.event for entry in timeline.rows] == [STUCK, trip, LEAK]
    assert timeline.table.item(1, 4).text() == "upcoming, not saved"
    assert window.isWindowModified() and "unsaved changes" in timeline.summary.text()
    qtbot.waitUntil(lambda: simulation.scheduled_events == (STUCK, trip, LEAK), timeout=30_000)
    run_to(1100.0)
    assert window.snapshot.cdus.pumps_running[0] == 1
    run_to(1300.0)
    assert window.snapshot.cdus.pumps_running[0] == 0


def test_an_edited_event_fires_at_its_new_time_and_a_removed_one_never(bench, qtbot):
    window, simulation, run_to = bench
    timeline = window.timeline
    timeline.table.selectRow(0)
    dialog = timeline.edit_row(0)
    assert dialog.kind_box.currentText() == "valve-stuck"
    assert dialog.editor("at_s").input.text() == "10min"
    assert dialog.editor("target").input.currentText() == "CDU"
    dialog.editor("at_s").input.setText("25min")
    dialog.accept()
    moved = STUCK.model_copy(update={"at_s": 1500.0})
    assert [entry.event for entry in timeline.rows] == [moved, LEAK]
    timeline.table.setFocus()
    timeline.table.selectRow(1)
    qtbot.keyClick(timeline.table, Qt.Key.Key_Delete)
    assert [entry.event for entry in timeline.rows] == [moved]
    assert timeline.table.rowCount() == 1
    qtbot.waitUntil(lambda: simulation.scheduled_events == (moved,), timeout=30_000)
    run_to(1200.0)
    assert not window.snapshot.cdus.valve_stuck[0]
    run_to(2400.0)
    assert window.snapshot.cdus.valve_stuck[0]
    assert not window.snapshot.cdus.leak_detected[0]


def test_undo_brings_back_what_the_last_edit_changed(bench, qtbot):
    window, simulation, _ = bench
    timeline = window.timeline
    assert not timeline.undo_button.isEnabled()
    assert timeline.remove_row(1)
    assert [entry.event for entry in timeline.rows] == [STUCK]
    assert timeline.undo_button.isEnabled()
    timeline.table.setFocus()
    qtbot.keyClick(timeline.table, Qt.Key.Key_Z, Qt.KeyboardModifier.ControlModifier)
    assert [entry.event for entry in timeline.rows] == [STUCK, LEAK]
    assert not window.isWindowModified()
    qtbot.waitUntil(lambda: simulation.scheduled_events == (STUCK, LEAK), timeout=30_000)


def test_bad_input_is_shown_at_its_field_and_cannot_be_accepted(bench, qtbot):
    window, _, run_to = bench
    run_to(300.0)
    timeline = window.timeline
    dialog = timeline.add_event()
    fill(dialog, "pump-trip", at_s="20min", target="CDU-9", pumps="12")
    target = dialog.problem_labels["target"]
    assert target.isVisible()
    assert target.text() == "no CDU named 'CDU-9' (did you mean 'CDU'?); known: CDU"
    assert dialog.problem_labels["pumps"].text() == "must be from 1 to 8 (got 12)"
    assert not dialog.ok_button.isEnabled()
    fill(dialog, "pump-trip", at_s="2min", target="CDU", pumps="1")
    assert (
        "120 s is not after the simulated time now (300 s)" in dialog.problem_labels["at_s"].text()
    )
    fill(dialog, "pump-trip", at_s="half an hour")
    assert (
        "'half an hour' is not a duration; write a number with a unit"
        in dialog.problem_labels["at_s"].text()
    )
    fill(dialog, "coolant-leak", at_s="1h", target="CDU", rate_lpm="0")
    assert dialog.problem_labels["rate_lpm"].text() == "a coolant-leak needs a rate above zero"
    dialog.accept()  # refused: nothing is scheduled
    assert dialog.isVisible() and dialog.event_made is None
    assert [entry.event for entry in timeline.rows] == [STUCK, LEAK]
    dialog.reject()


def test_events_that_have_happened_are_greyed_and_cannot_be_changed(bench, qtbot):
    window, _, run_to = bench
    run_to(900.0)
    timeline = window.timeline
    assert timeline.table.item(0, 4).text() == "done"
    assert (
        timeline.table.item(0, 0).foreground().color()
        != timeline.table.item(1, 0).foreground().color()
    )
    timeline.table.selectRow(0)
    assert not timeline.edit_button.isEnabled() and not timeline.remove_button.isEnabled()
    assert timeline.edit_row(0) is None and not timeline.remove_row(0)
    assert "has happened" in timeline.message.text()
    timeline.table.selectRow(1)
    assert timeline.edit_button.isEnabled()


def test_after_a_reset_injected_events_read_as_applied_before_it(bench, qtbot):
    from twin.scenario.schema import PumpTrip

    window, _, run_to = bench
    run_to(300.0)
    window.timeline.add_injected(300.0, PumpTrip(kind="pump-trip", at_s=300.0, target="CDU"))
    row = next(i for i, entry in enumerate(window.timeline.rows) if entry.origin == "operator")
    assert window.timeline.table.item(row, 4).text() == "done"
    window.runner.reset()
    qtbot.waitUntil(lambda: window.timeline._time_s < 300.0, timeout=30_000)
    row = next(i for i, entry in enumerate(window.timeline.rows) if entry.origin == "operator")
    assert window.timeline.table.item(row, 4).text() == "applied before a reset"
    upcoming = next(i for i, entry in enumerate(window.timeline.rows) if entry.origin == "scenario")
    assert (
        window.timeline.table.item(row, 0).foreground().color()
        != window.timeline.table.item(upcoming, 0).foreground().color()
    )


def test_the_saved_timeline_loads_back_equal_with_the_comments_kept(bench, bench_file, qtbot):
    window, _, _ = bench
    timeline = window.timeline
    timeline.remove_row(0)
    dialog = timeline.add_event()
    fill(dialog, "pump-trip", at_s="1h", target="CDU")
    dialog.accept()
    assert window.save_timeline()
    assert not window.isWindowModified() and not timeline.save_button.isEnabled()
    saved = load(bench_file)
    assert saved.events == [entry.event for entry in timeline.rows]
    text = bench_file.read_text(encoding="utf-8")
    assert "# and the loop leaks at half past" in text
    assert "# the valve seizes" not in text  # it went with its event
    assert text.startswith(
        builtin_scenarios()["single-rack"].read_text(encoding="utf-8").rstrip("\n")
    )


def test_a_built_in_scenario_is_saved_as_a_user_file(make_window, qtbot, tmp_path, monkeypatch):
    monkeypatch.setenv("XDG_DATA_HOME", str(tmp_path))
    offered = []

    def save_dialog(parent, caption, path, filters):
        offered.append(path)
        return path, filters

    monkeypatch.setattr(main_window.QFileDialog, "getSaveFileName", save_dialog)
    window = make_window(
        "single-rack",
        simulation=Simulation(load("single-rack"), dt_s=10.0),
        running=False,
        source="single-rack",
    )
    qtbot.waitUntil(lambda: window.snapshot is not None, timeout=30_000)
    window.ask_unsaved = lambda: "discard"
    dialog = window.timeline.add_event()
    fill(dialog, "cdu-loss", at_s="2h", target="CDU")
    dialog.accept()
    before = builtin_scenarios()["single-rack"].read_text(encoding="utf-8")
    assert window.save_timeline()
    expected = tmp_path / "twin" / "scenarios" / "single-rack-what-if.toml"
    assert offered == [str(expected)] and window.source == str(expected)
    assert builtin_scenarios()["single-rack"].read_text(encoding="utf-8") == before
    assert [e.kind for e in load(expected).events] == ["cdu-loss"]


def test_unsaved_edits_are_asked_about_before_closing_or_switching(bench, qtbot):
    window, _, _ = bench
    asked = []
    window.ask_unsaved = lambda: asked.append("asked") or "cancel"
    window.timeline.remove_row(1)
    chosen = []
    window.scenario_chosen.connect(lambda scenario, source: chosen.append(source))
    assert not window.open_scenario("single-rack") and chosen == []
    assert not window.close() and window.isVisible()
    assert asked == ["asked", "asked"]
    window.ask_unsaved = lambda: "discard"
    assert window.open_scenario("single-rack") and chosen == ["single-rack"]


def test_a_recording_shows_its_timeline_read_only(make_window, qtbot):
    window = make_window("seoul-ai-factory", running=False)  # a stand-in without schedule
    timeline = window.timeline
    assert not timeline.editable and not timeline.add_button.isVisible()
    assert timeline.add_event() is None and not timeline.remove_row(0)
    assert timeline.table.rowCount() == len(window.scenario.events)
