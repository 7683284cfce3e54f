"""The event editor's form read off the schema, and its answers checked as a scenario
file's events are."""

from __future__ import annotations

from functools import cache

from twin.gui.event_form import check_event, event_fields, event_models, field_of, typed_value
from twin.scenario import load
from twin.scenario.loader import Problem
from twin.scenario.schema import PowerCap, WorkloadSurge


@cache
def seoul():
    return load("seoul-ai-factory")


def test_every_kind_of_the_vocabulary_has_a_form_with_all_its_fields():
    models = event_models()
    assert list(models)[:2] == ["pump-trip", "pump-restore"]
    for kind, model in models.items():
        specs = event_fields(kind, seoul())
        assert specs[0].name == "at_s" and specs[0].widget == "duration"
        assert {spec.name for spec in specs} == set(model.model_fields) - {"kind"}


def test_fields_carry_units_ranges_defaults_and_the_sites_names():
    specs = {spec.name: spec for spec in event_fields("coolant-leak", seoul())}
    rate = specs["rate_lpm"]
    assert (rate.label, rate.unit, rate.widget, rate.default) == ("rate", "L/min", "number", 0.0)
    assert rate.hint.startswith("0 to 1000; coolant lost")
    target = specs["target"]
    assert target.widget == "name" and target.noun == "CDU" and target.required
    assert len(target.choices) == 24 and target.choices[0] == "H1-CDU-01"
    cap = {spec.name: spec for spec in event_fields("power-cap", seoul())}
    assert cap["target"].choices == ("hall-1", "hall-2") and not cap["target"].required
    surge = {spec.name: spec for spec in event_fields("workload-surge", seoul())}
    assert surge["halls"].widget == "names" and surge["row_groups"].noun == "row group"
    assert surge["duration_s"].widget == "duration" and surge["duration_s"].label == "duration"
    valve = {spec.name: spec for spec in event_fields("valve-stuck", seoul())}
    assert valve["position"].widget == "number" and valve["position"].hint.startswith("0 to 1")
    assert {spec.widget for spec in event_fields("power-smoothing", seoul())} == {
        "duration", "flag"}
    assert event_fields("grid-cap", seoul())[1].label == "import cap"


def test_typed_numbers_become_numbers_and_the_rest_is_left_for_the_schema():
    pumps, = (s for s in event_fields("pump-trip", seoul()) if s.name == "pumps")
    at, = (s for s in event_fields("pump-trip", seoul()) if s.name == "at_s")
    assert typed_value(pumps, " 2 ") == 2 and typed_value(pumps, "two") == "two"
    assert typed_value(at, "900") == 900.0 and typed_value(at, "15min") == "15min"


def test_a_good_event_is_built_with_its_defaults():
    event, problems = check_event(seoul(), "power-cap", {"at_s": "6h", "fraction": 0.7}, 60.0)
    assert problems == [] and event == PowerCap(kind="power-cap", at_s=21600.0, fraction=0.7)
    event, _ = check_event(seoul(), "workload-surge", {
        "at_s": 120.0, "halls": ["hall-2"], "utilization_step": 0.3, "duration_s": "1h"}, 0.0)
    assert isinstance(event, WorkloadSurge) and event.row_groups == []


def test_every_problem_is_named_at_its_field_at_once():
    event, problems = check_event(seoul(), "workload-surge", {
        "at_s": "1h", "halls": ["hall-1", "hal-2"], "utilization_step": 3.0,
        "duration_s": "0s"}, 0.0)
    assert event is None
    assert {field_of(p) for p in problems} == {"halls", "utilization_step", "duration_s"}
    assert Problem("halls[1]", "no hall named 'hal-2' (did you mean 'hall-2'?); known: "
                               "hall-1, hall-2") in problems
    _, problems = check_event(seoul(), "chiller-trip", {"at_s": "1h", "units": 99}, 0.0)
    assert [str(p) for p in problems] == [f"units: 99 exceeds the "
                                          f"{seoul().heat_rejection.chillers.count} installed"]
    _, problems = check_event(seoul(), "heatwave", {"at_s": "1h", "offset_k": 5.0,
                                                    "duration_s": "1h"}, 7200.0)
    assert [field_of(p) for p in problems] == ["at_s"]
    assert "3600 s is not after the simulated time now (7200 s)" in problems[0].message

