"""Injected events kept in a scenario file: written as timeline entries, checked by the
loader before anything is replaced."""

from __future__ import annotations

import shutil

import pytest

from twin.gui.timeline import event_toml, save_events
from twin.scenario import ScenarioError, builtin_scenarios, load
from twin.scenario.schema import CoolantLeak, PumpTrip, WorkloadSurge


@pytest.fixture
def scenario_file(tmp_path):
    path = tmp_path / "site.toml"
    shutil.copy(builtin_scenarios()["seoul-ai-factory"], path)
    return path


def test_saved_events_load_back_as_the_same_events(scenario_file):
    before = scenario_file.read_text(encoding="utf-8")
    events = [
        PumpTrip(kind="pump-trip", at_s=4801.5, target="H1-CDU-03", pumps=2),
        CoolantLeak(kind="coolant-leak", at_s=7200.0, target="H2-CDU-01", rate_lpm=10.0),
        WorkloadSurge(kind="workload-surge", at_s=60.0, halls=["hall-1"],
                      utilization_step=0.3, duration_s=3600.0),
    ]
    scenario = save_events(scenario_file, events)
    text = scenario_file.read_text(encoding="utf-8")
    assert text.startswith(before.rstrip("\n"))  # comments and all kept as they were
    assert 'duration_s = "1h"' in text
    reloaded = load(scenario_file)
    assert reloaded.events[-3:] == events == scenario.events[-3:]


def test_a_bad_event_is_refused_and_the_file_stays_as_it_was(scenario_file):
    before = scenario_file.read_text(encoding="utf-8")
    with pytest.raises(ScenarioError, match="H9-CDU-01"):
        save_events(scenario_file, [PumpTrip(kind="pump-trip", at_s=10.0, target="H9-CDU-01")])
    assert scenario_file.read_text(encoding="utf-8") == before
    with pytest.raises(ScenarioError, match="no events to save"):
        save_events(scenario_file, [])


def test_event_tables_write_units_lists_and_quotes():
    text = event_toml(WorkloadSurge(kind="workload-surge", at_s=90.0, halls=["hall-1"],
                                    row_groups=["H1-R"], utilization_step=-0.5,
                                    duration_s=900.0))
    assert text.splitlines()[0] == "[[events]]"
    assert 'at_s = "90s"' in text and 'duration_s = "15min"' in text
    assert 'row_groups = ["H1-R"]' in text and "utilization_step = -0.5" in text
