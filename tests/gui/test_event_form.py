"""The event editor's form read off the schema, and its answers checked as a scenario
file's events are."""

from __future__ import annotations

from functools import cache

from twin.gui.event_form import (
    FieldSpec,
    check_event,
    event_details,
    event_fields,
    event_models,
    field_of,
    shown_number,
    shown_problems,
    typed_value,
)
from twin.gui.units import US_GALLON_L, UnitSystem
from twin.scenario import load
from twin.scenario.problems import Problem
from twin.scenario.schema import CoolantLeak, Heatwave, PowerCap, WorkloadSurge

US = UnitSystem.US_CUSTOMARY


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
        "duration",
        "flag",
    }
    assert event_fields("grid-cap", seoul())[1].label == "import cap"


def test_typed_numbers_become_numbers_and_the_rest_is_left_for_the_schema():
    (pumps,) = (s for s in event_fields("pump-trip", seoul()) if s.name == "pumps")
    (at,) = (s for s in event_fields("pump-trip", seoul()) if s.name == "at_s")
    assert typed_value(pumps, " 2 ") == 2 and typed_value(pumps, "two") == "two"
    assert typed_value(at, "900") == 900.0 and typed_value(at, "15min") == "15min"


def test_a_good_event_is_built_with_its_defaults():
    event, problems = check_event(seoul(), "power-cap", {"at_s": "6h", "fraction": 0.7}, 60.0)
    assert problems == [] and event == PowerCap(kind="power-cap", at_s=21600.0, fraction=0.7)
    event, _ = check_event(
        seoul(),
        "workload-surge",
        {"at_s": 120.0, "halls": ["hall-2"], "utilization_step": 0.3, "duration_s": "1h"},
        0.0,
    )
    assert isinstance(event, WorkloadSurge) and event.row_groups == []


def test_every_problem_is_named_at_its_field_at_once():
    event, problems = check_event(
        seoul(),
        "workload-surge",
        {"at_s": "1h", "halls": ["hall-1", "hal-2"], "utilization_step": 3.0, "duration_s": "0s"},
        0.0,
    )
    assert event is None
    assert {field_of(p) for p in problems} == {"halls", "utilization_step", "duration_s"}
    assert (
        Problem("halls[1]", "no hall named 'hal-2' (did you mean 'hall-2'?); known: hall-1, hall-2")
        in problems
    )
    _, problems = check_event(seoul(), "chiller-trip", {"at_s": "1h", "units": 99}, 0.0)
    assert [str(p) for p in problems] == [
        f"units: 99 exceeds the {seoul().heat_rejection.chillers.count} installed"
    ]
    _, problems = check_event(
        seoul(), "heatwave", {"at_s": "1h", "offset_k": 5.0, "duration_s": "1h"}, 7200.0
    )
    assert [field_of(p) for p in problems] == ["at_s"]
    assert "3600 s is not after the simulated time now (7200 s)" in problems[0].message


def _specs(kind: str, system=UnitSystem.SI) -> dict[str, FieldSpec]:
    return {spec.name: spec.in_units(system) for spec in event_fields(kind, seoul())}


def test_numbers_are_shown_in_the_display_units_and_typed_back_exactly():
    rate = _specs("coolant-leak", US)["rate_lpm"]
    assert (rate.label, rate.unit, rate.default) == ("rate", "gpm", 0.0)
    assert rate.hint.startswith("0 to 264.172; coolant lost")
    assert rate.hint.endswith("(in L/min)")  # the description's figures are the schema's
    assert typed_value(rate, "2") == float(2 * US_GALLON_L) == 7.570823568
    assert shown_number(rate, 5.0) == f"{5 / float(US_GALLON_L):.3f}" == "1.321"
    offset = _specs("heatwave", US)["offset_k"]
    assert (offset.unit, dict(offset.bounds)) == ("Δ°F", {"ge": -54.0, "le": 54.0})
    assert typed_value(offset, "9") == 5.0 and typed_value(offset, "-5.4") == -3.0  # no 32
    assert typed_value(offset, "warm") == "warm"  # for the schema to name
    assert _specs("coolant-leak")["rate_lpm"].shown is None  # SI: as the schema has it
    assert typed_value(_specs("coolant-leak")["rate_lpm"], "2") == 2.0
    for kept in (_specs("grid-cap", US)["import_cap_mw"], _specs("valve-stuck", US)["position"]):
        assert kept.shown is None and kept == kept.in_units(UnitSystem.SI)
    # an absolute temperature takes the offset: 64.4 °F is exactly 18 °C
    supply = FieldSpec(
        "supply_c", "supply", "°C", "number", True, None, bounds=(("ge", 15.0), ("le", 50.0))
    ).in_units(US)
    assert (supply.unit, dict(supply.bounds)) == ("°F", {"ge": 59.0, "le": 122.0})
    assert typed_value(supply, "64.4") == 18.0 and shown_number(supply, 35.0) == "95"


def test_range_problems_are_said_in_the_display_units():
    specs = list(_specs("coolant-leak", US).values())
    values = {
        "at_s": "1h",
        "target": "H1-CDU-01",
        "rate_lpm": typed_value(_specs("coolant-leak", US)["rate_lpm"], "300"),
    }
    event, problems = check_event(seoul(), "coolant-leak", values, 0.0)
    assert event is None and [p.path for p in problems] == ["rate_lpm"]
    assert "1000" in problems[0].message  # the schema's, in L/min
    assert shown_problems(problems, specs, values) == [
        Problem("rate_lpm", "must be from 0 to 264.172 gpm (got 300 gpm)")
    ]
    heat = list(_specs("heatwave", US).values())
    values = {"at_s": "1h", "duration_s": "1h"}
    _, problems = check_event(seoul(), "heatwave", values, 0.0)
    assert shown_problems(problems, heat, values) == [
        Problem("offset_k", "required key is missing; expected a number from -54 to 54 Δ°F")
    ]
    values["offset_k"] = "warm"
    _, problems = check_event(seoul(), "heatwave", values, 0.0)
    assert shown_problems(problems, heat, values) == [
        Problem("offset_k", "must be a number from -54 to 54 Δ°F (got 'warm')")
    ]
    # a rule that is not about the range is said as the schema says it
    values = {"at_s": "1h", "target": "H1-CDU-01", "rate_lpm": 0.0}
    _, problems = check_event(seoul(), "coolant-leak", values, 0.0)
    assert shown_problems(problems, specs, values) == problems != []


def test_the_timeline_details_show_numbers_in_the_display_units():
    leak = CoolantLeak(kind="coolant-leak", at_s=60.0, target="H1-CDU-01", rate_lpm=5.0)
    assert event_details(leak) == "target H1-CDU-01; rate 5 L/min"
    assert event_details(leak, US) == "target H1-CDU-01; rate 1.321 gpm"
    heat = Heatwave(kind="heatwave", at_s=60.0, offset_k=5.0, duration_s=3600.0)
    assert event_details(heat, US) == "offset 9 Δ°F; duration 1h"
    surge = WorkloadSurge(
        kind="workload-surge",
        at_s=0.0,
        halls=["hall-1", "hall-2"],
        utilization_step=0.3,
        duration_s=5400.0,
    )
    assert (
        event_details(surge, US)
        == event_details(surge)
        == "halls hall-1, hall-2; utilization step 0.3; duration 90min"
    )
    assert event_details(PowerCap(kind="power-cap", at_s=0.0, fraction=0.7), US) == "fraction 0.7"
