"""The timeline written back to a scenario file: only the ``[[events]]`` tables change
(key by key), comments and every other table stay, the result is loaded before the file
is replaced, atomically; and the window's timeline model (edits, undo, modified flag,
the simulation's answers)."""

from __future__ import annotations

import os

import pytest

from twin.gui.timeline import (
    Timeline,
    duration_text,
    event_toml,
    save_timeline,
    user_scenario_dir,
    with_timeline,
)
from twin.scenario import ScenarioError, builtin_scenarios, load, loads
from twin.scenario.files import parse_toml
from twin.scenario.schema import CduLoss, CoolantLeak, Heatwave, PumpTrip, WorkloadSurge

TIMELINE = """
# --- the what-if timeline ------------------------------------------------
[[events]]  # first the pump
at_s = "4h"        # a shift change
kind = "pump-trip"
target = "CDU"
pumps = 2

# the heatwave of the afternoon
[[events]]
at_s = "260min"
kind = "heatwave"
offset_k = 6.5  # a hot August day
duration_s = "2h"

[[workloads]]
name = "burst"
kind = "training"
halls = [
  "lab",  # the only hall
]

# a leak while the burst runs
[[events]]
kind = "coolant-leak"
at_s = 18000
target = "CDU"
rate_lpm = 2.0
"""


@pytest.fixture
def scenario_file(tmp_path):
    path = tmp_path / "bench.toml"
    text = builtin_scenarios()["single-rack"].read_text(encoding="utf-8")
    path.write_text(text.rstrip("\n") + "\n" + TIMELINE, encoding="utf-8")
    return path


def test_an_unchanged_timeline_leaves_the_text_as_it_was(scenario_file):
    text = scenario_file.read_text(encoding="utf-8")
    events = load(scenario_file).events
    assert with_timeline(text, list(enumerate(events))) == text


def test_an_edited_event_changes_only_its_changed_keys(scenario_file):
    text = scenario_file.read_text(encoding="utf-8")
    pump, heat, leak = load(scenario_file).events
    hotter = heat.model_copy(update={"offset_k": 9.0})
    new = with_timeline(text, [(0, pump), (1, hotter), (2, leak)])
    assert new.replace("offset_k = 9.0\n", "offset_k = 6.5  # a hot August day\n") == text
    assert load_text(new).events == [pump, hotter, leak]


def test_changing_the_kind_drops_the_keys_it_lacks_and_adds_those_it_needs(scenario_file):
    text = scenario_file.read_text(encoding="utf-8")
    pump, heat, leak = load(scenario_file).events
    loss = CduLoss(kind="cdu-loss", at_s=pump.at_s, target="CDU")
    later = pump.model_copy(update={"at_s": 5 * 3600.0, "pumps": 1})
    new = with_timeline(text, [(0, loss), (1, heat), (2, leak)])
    assert (
        '[[events]]  # first the pump\nat_s = "4h"        # a shift change\n'
        'kind = "cdu-loss"\ntarget = "CDU"\n\n' in new
    )
    assert load_text(new).events == [loss, heat, leak]
    # changed values are written in place; the unchanged keep their comments
    new = with_timeline(text, [(0, later), (1, heat), (2, leak)])
    assert (
        '[[events]]  # first the pump\nat_s = "5h"\nkind = "pump-trip"\n'
        'target = "CDU"\npumps = 1\n\n' in new
    )
    assert load_text(new).events == [later, heat, leak]
    surge = WorkloadSurge(
        kind="workload-surge", at_s=leak.at_s, halls=["lab"], utilization_step=0.2, duration_s=600.0
    )
    new = with_timeline(text, [(0, pump), (1, heat), (2, surge)])
    assert load_text(new).events == [pump, heat, surge]
    assert 'halls = ["lab"]\nutilization_step = 0.2\nduration_s = "10min"\n' in new


def test_removed_events_go_with_the_comments_directly_above_them(scenario_file):
    text = scenario_file.read_text(encoding="utf-8")
    pump, _, leak = load(scenario_file).events
    new = with_timeline(text, [(0, pump), (2, leak)])
    assert "# the heatwave of the afternoon" not in new and "offset_k" not in new
    assert "\n\n\n" not in new
    assert load_text(new).events == [pump, leak]
    # everything else is as it was, comments included
    heatwave = text[text.index("# the heatwave") : text.index('[[workloads]]\nname = "burst"')]
    assert new == text.replace(heatwave, "")
    none_left = with_timeline(text, [])
    assert "[[events]]" not in none_left and load_text(none_left).events == []
    assert '[[workloads]]\nname = "burst"' in none_left


def test_new_events_are_appended_as_tables(scenario_file):
    text = scenario_file.read_text(encoding="utf-8")
    events = load(scenario_file).events
    added = [
        CduLoss(kind="cdu-loss", at_s=7 * 3600.0, target="CDU"),
        PumpTrip(kind="pump-trip", at_s=100000.5, target="CDU"),
    ]
    new = with_timeline(text, [*enumerate(events), *((None, e) for e in added)])
    assert new.startswith(text)
    assert load_text(new).events == [*events, *added]
    assert "at_s = 100000.5\n" in new  # no unit writes it exactly: seconds, every digit


def test_save_writes_the_whole_timeline_and_the_file_loads_back_equal(scenario_file):
    opened = load(scenario_file).events
    pump, _, leak = opened
    added = PumpTrip(kind="pump-restore", at_s=5 * 3600.0, target="CDU", pumps=2)
    moved = leak.model_copy(update={"at_s": 6 * 3600.0})
    scenario = save_timeline(scenario_file, [(0, pump), (2, moved), (None, added)], opened)
    assert scenario.events == [pump, moved, added] == load(scenario_file).events
    before = parse_toml(builtin_scenarios()["single-rack"].read_text(encoding="utf-8"), "")
    after = parse_toml(scenario_file.read_text(encoding="utf-8"), "")
    assert {k: v for k, v in after.items() if k not in ("events", "workloads")} == {
        k: v for k, v in before.items() if k not in ("events", "workloads")
    }
    assert not scenario_file.with_name("bench.toml.partial").exists()


def test_a_save_as_keeps_the_source_and_writes_the_target(scenario_file, tmp_path):
    before = scenario_file.read_text(encoding="utf-8")
    opened = load(scenario_file).events
    target = tmp_path / "mine" / "what-if.toml"
    save_timeline(scenario_file, [(0, opened[0])], opened, target)
    assert scenario_file.read_text(encoding="utf-8") == before
    assert load(target).events == [opened[0]]
    assert "# --- the what-if timeline" in target.read_text(encoding="utf-8")


def test_a_bad_event_is_refused_and_the_file_stays_as_it_was(scenario_file):
    before = scenario_file.read_text(encoding="utf-8")
    opened = load(scenario_file).events
    with pytest.raises(ScenarioError, match="no CDU named 'CDU-9'"):
        save_timeline(
            scenario_file,
            [*enumerate(opened), (None, PumpTrip(kind="pump-trip", at_s=10.0, target="CDU-9"))],
            opened,
        )
    assert scenario_file.read_text(encoding="utf-8") == before
    assert not scenario_file.with_name("bench.toml.partial").exists()


def test_a_file_whose_timeline_changed_on_disk_is_not_overwritten(scenario_file):
    opened = load(scenario_file).events
    edited = scenario_file.read_text(encoding="utf-8").replace('at_s = "260min"', 'at_s = "270min"')
    scenario_file.write_text(edited, encoding="utf-8")
    with pytest.raises(ScenarioError, match="changed outside the window"):
        save_timeline(scenario_file, list(enumerate(opened))[:2], opened)
    assert scenario_file.read_text(encoding="utf-8") == edited


def test_events_not_written_as_tables_are_reported_not_rewritten(tmp_path):
    text = builtin_scenarios()["single-rack"].read_text(encoding="utf-8")
    inline = 'events = [{ at_s = "1h", kind = "cdu-loss", target = "CDU" }]\n\n'
    path = tmp_path / "inline.toml"
    path.write_text(text.replace("[scenario]", inline + "[scenario]", 1), encoding="utf-8")
    opened = load(path).events
    with pytest.raises(ScenarioError, match="one \\[\\[events\\]\\] table per event"):
        save_timeline(path, [], opened)
    assert load(path).events == opened


def test_an_interrupted_save_leaves_the_old_file_whole(scenario_file, monkeypatch):
    before = scenario_file.read_text(encoding="utf-8")
    opened = load(scenario_file).events

    def power_cut(src, dst):
        raise OSError("power cut")

    monkeypatch.setattr(os, "replace", power_cut)
    with pytest.raises(OSError, match="power cut"):
        save_timeline(scenario_file, [(0, opened[0])], opened)
    assert scenario_file.read_text(encoding="utf-8") == before


def test_event_tables_write_units_lists_and_quotes():
    text = event_toml(
        WorkloadSurge(
            kind="workload-surge",
            at_s=90.0,
            halls=["hall-1"],
            row_groups=["H1-R"],
            utilization_step=-0.5,
            duration_s=900.0,
        )
    )
    assert text.splitlines()[0] == "[[events]]"
    assert 'at_s = "90s"' in text and 'duration_s = "15min"' in text
    assert 'row_groups = ["H1-R"]' in text and "utilization_step = -0.5" in text
    assert duration_text(4801.5) == "4801.5s" and duration_text(7200.0) == "2h"


def test_user_scenarios_go_to_the_user_data_folder(monkeypatch, tmp_path):
    monkeypatch.setenv("XDG_DATA_HOME", str(tmp_path))
    assert user_scenario_dir() == tmp_path / "twin" / "scenarios"


def load_text(text: str):
    return loads(text, source="<test>")


# --------------------------------------------------------------------------- the model

PUMP = PumpTrip(kind="pump-trip", at_s=3600.0, target="CDU")
HEAT = Heatwave(kind="heatwave", at_s=7200.0, offset_k=5.0, duration_s=3600.0)


def test_edits_mark_the_timeline_modified_and_undo_goes_back():
    timeline = Timeline([HEAT, PUMP])
    assert [e.event for e in timeline.entries] == [PUMP, HEAT]  # in time order
    assert not timeline.modified and not timeline.can_undo
    pump = timeline.entries[0]
    later = timeline.replace(pump, PUMP.model_copy(update={"at_s": 9000.0}))
    assert later.file_index == 1 and timeline.schedule == [HEAT, later.event]
    assert timeline.modified
    timeline.remove(timeline.entries[0])
    added = timeline.add(CduLoss(kind="cdu-loss", at_s=60.0, target="CDU"))
    assert timeline.schedule == [added.event, later.event]
    assert timeline.file_entries() == [(None, added.event), (1, later.event)]
    assert timeline.undo() and timeline.undo() and timeline.undo()
    assert timeline.schedule == [PUMP, HEAT] and not timeline.modified
    assert not timeline.undo()


def test_injected_events_are_kept_through_undo_and_are_not_edits():
    timeline = Timeline([PUMP])
    timeline.add(HEAT)
    leak = CoolantLeak(kind="coolant-leak", at_s=0.0, target="CDU", rate_lpm=5.0)
    timeline.add_injected(120.0, leak)
    assert timeline.injected == [leak.model_copy(update={"at_s": 120.0})]
    assert timeline.unsaved_injected == 1
    timeline.undo()
    assert not timeline.modified and len(timeline.injected) == 1
    with pytest.raises(ValueError, match="not a scheduled event"):
        timeline.remove(next(e for e in timeline.entries if e.origin == "operator"))


def test_saving_renumbers_the_tables_and_clears_the_modified_flag():
    timeline = Timeline([PUMP, HEAT])
    timeline.remove(timeline.entries[0])
    added = timeline.add(CduLoss(kind="cdu-loss", at_s=60.0, target="CDU"))
    timeline.add_injected(30.0, PUMP)
    # as written: the table kept, then the new ones in time order
    in_file = [HEAT, PUMP.model_copy(update={"at_s": 30.0}), added.event]
    timeline.mark_saved(in_file)
    assert not timeline.modified and timeline.unsaved_injected == 0
    assert timeline.saved == tuple(in_file) and not timeline.can_undo
    assert sorted(timeline.file_entries(), key=lambda pair: pair[0]) == list(enumerate(in_file))
    with pytest.raises(ValueError, match="not the timeline's"):
        timeline.mark_saved([HEAT])


def test_a_refused_schedule_goes_back_to_the_last_one_taken():
    timeline = Timeline([PUMP, HEAT])
    timeline.remove(timeline.entries[0])
    first, events = timeline.schedule_sent()
    assert events == [HEAT]
    assert not timeline.schedule_answered(first, accepted=True)
    timeline.remove(timeline.entries[0])
    second, _ = timeline.schedule_sent()
    timeline.add(PUMP)
    third, _ = timeline.schedule_sent()
    assert not timeline.schedule_answered(second, accepted=False)  # a newer one is coming
    assert timeline.schedule == [PUMP]
    assert timeline.schedule_answered(third, accepted=False)
    assert timeline.schedule == [HEAT]
