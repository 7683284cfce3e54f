"""The loader: the built-ins load, and broken scenarios give clear, complete reports.

Every broken input is a small mutation of a built-in scenario (its parsed dict, or its
TOML text); each row states the exact field path the report must name and fragments of
the message (the bad value, the unit, the allowed range or choices, a did-you-mean).
"""

from __future__ import annotations

import math
import re
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from twin.scenario import (
    Problem,
    Scenario,
    ScenarioError,
    builtin_scenarios,
    it_nameplate_kw,
    load,
    loads,
    resolve,
)
from twin.scenario.loader import from_dict
from twin.scenario.references import event_problems
from twin.scenario.schema import ChillerTrip

from .helpers import BUILTINS, builtin_dict, builtin_text

SEOUL = "seoul-ai-factory"
SINGLE = "single-rack"
RACK = "gb300-nvl72"


# --------------------------------------------------------------------------- built-ins


def test_the_three_builtins_are_shipped() -> None:
    assert tuple(builtin_scenarios()) == BUILTINS


@pytest.mark.parametrize("name", BUILTINS)
def test_builtin_loads_by_name_and_by_path(name: str) -> None:
    by_name = load(name)
    by_path = load(builtin_scenarios()[name])
    assert isinstance(by_name, Scenario)
    assert by_name == by_path
    assert by_name.scenario.name == name
    assert it_nameplate_kw(by_name) > 0


def test_builtin_figures() -> None:
    seoul = load(SEOUL)
    assert sum(r.count * r.racks_per_row for h in seoul.halls for r in h.rows) == 336
    assert it_nameplate_kw(seoul) == pytest.approx(336 * (72 * 1.4 + 31.0))
    # Durations given as strings arrive in seconds.
    assert seoul.events[0].at_s == 4 * 3600
    assert seoul.events[1].at_s == 260 * 60
    assert seoul.workloads[0].checkpoint_interval_s == 1800
    single = load(SINGLE)
    assert single.workloads[0].checkpoint_interval_s == 86400


# --------------------------------------------------------------------------- broken inputs


def _set(path: str, value: Any) -> Callable[[dict[str, Any]], None]:
    """A mutation that sets ``a.b[2].c`` to value (the final key may be new)."""
    parts = [int(p) if p.isdigit() else p for p in re.findall(r"[^.\[\]]+", path)]

    def mutate(data: dict[str, Any]) -> None:
        node: Any = data
        for part in parts[:-1]:
            node = node[part]
        node[parts[-1]] = value

    return mutate


def _delete(path: str) -> Callable[[dict[str, Any]], None]:
    parts = [int(p) if p.isdigit() else p for p in re.findall(r"[^.\[\]]+", path)]

    def mutate(data: dict[str, Any]) -> None:
        node: Any = data
        for part in parts[:-1]:
            node = node[part]
        del node[parts[-1]]

    return mutate


def _each(*mutations: Callable[[dict[str, Any]], None]) -> Callable[[dict[str, Any]], None]:
    def mutate(data: dict[str, Any]) -> None:
        for m in mutations:
            m(data)

    return mutate


def _duplicate_first(key: str) -> Callable[[dict[str, Any]], None]:
    def mutate(data: dict[str, Any]) -> None:
        data[key].append(dict(data[key][0]))

    return mutate


def _extra_cdu_group(data: dict[str, Any]) -> None:
    data["halls"][0]["cdus"].append({"name": "H1-SPARE", "type": "cdu-2300"})


@dataclass(frozen=True)
class Case:
    id: str
    scenario: str
    mutate: Callable[[dict[str, Any]], None]
    path: str
    fragments: tuple[str, ...]


CASES = [
    # ---- types
    Case(
        "wrong-type-int",
        SEOUL,
        _set(f"rack_types.{RACK}.gpus", "many"),
        f"rack_types.{RACK}.gpus",
        ("whole number", "from 1 to 1024", "'many'"),
    ),
    Case(
        "bool-for-count",
        SEOUL,
        _set("halls[0].cdus[0].count", True),
        "halls[0].cdus[0].count",
        ("whole number", "got true"),
    ),
    Case(
        "text-for-float",
        SEOUL,
        _set("site.latitude_deg", "37.5"),
        "site.latitude_deg",
        ("must be a number", "-90 to 90 degrees", "'37.5'"),
    ),
    Case(
        "float-for-int",
        SEOUL,
        _set("power.generators.units", 2.5),
        "power.generators.units",
        ("whole number", "2.5"),
    ),
    Case("wrong-type-section", SEOUL, _set("site", [1, 2]), "site", ("must be a table", "[1, 2]")),
    Case(
        "wrong-type-list", SEOUL, _set("halls", {"name": "hall-1"}), "halls", ("must be an array",)
    ),
    Case(
        "wrong-type-bool",
        SEOUL,
        _set("gpu_management.smoothing_enabled", "yes"),
        "gpu_management.smoothing_enabled",
        ("true or false", "'yes'"),
    ),
    # ---- ranges, each with its unit and the value given
    Case(
        "over-max-with-unit",
        SEOUL,
        _set(f"rack_types.{RACK}.gpu_tdp_w", 9000),
        f"rack_types.{RACK}.gpu_tdp_w",
        ("at most 5000 W", "got 9000 W"),
    ),
    Case(
        "negative-flow",
        SEOUL,
        _set(f"rack_types.{RACK}.design_flow_lpm", -180.0),
        f"rack_types.{RACK}.design_flow_lpm",
        ("above 0 L/min", "-180"),
    ),
    Case(
        "negative-facility-flow",
        SEOUL,
        _set("facility_water.pump_design_flow_lps", -1),
        "facility_water.pump_design_flow_lps",
        ("above 0 L/s", "got -1 L/s"),
    ),
    Case(
        "temperature-range",
        SEOUL,
        _set("halls[0].room_setpoint_c", -100.0),
        "halls[0].room_setpoint_c",
        ("from -60 to 150 °C", "-100"),
    ),
    Case(
        "fraction-over-one",
        SEOUL,
        _set(f"rack_types.{RACK}.liquid_fraction", 1.5),
        f"rack_types.{RACK}.liquid_fraction",
        ("from 0 to 1", "1.5"),
    ),
    Case(
        "nan",
        SEOUL,
        _set("site.elevation_m", math.nan),
        "site.elevation_m",
        ("finite number", "-500 to 6000 m", "nan"),
    ),
    Case(
        "inf-in-list",
        SEOUL,
        _set("power.utility.tariff_krw_per_kwh[3]", math.inf),
        "power.utility.tariff_krw_per_kwh[3]",
        ("finite number", "KRW/kWh", "inf"),
    ),
    Case(
        "inf-in-tuple",
        SEOUL,
        _set("halls[1].origin_m", [0.0, -math.inf]),
        "halls[1].origin_m[1]",
        ("finite number", " m ", "-inf"),
    ),
    Case(
        "monthly-out-of-range",
        SEOUL,
        _set("climate.monthly_dry_bulb_c[6]", 99.0),
        "climate.monthly_dry_bulb_c[6]",
        ("must be from -60 to 60 °C", "got 99.0 °C"),
    ),
    Case(
        "monthly-humidity",
        SEOUL,
        _set("climate.monthly_relative_humidity_pct[0]", 0),
        "climate.monthly_relative_humidity_pct[0]",
        ("from 1 to 100 %", "got 0 %"),
    ),
    Case(
        "seed-negative", SEOUL, _set("scenario.seed", -1), "scenario.seed", ("from 0 to", "got -1")
    ),
    Case(
        "event-offset-range",
        SEOUL,
        _set("events[1]", {"at_s": "1h", "kind": "heatwave", "offset_k": 45, "duration_s": "6h"}),
        "events[1].offset_k",
        ("from -30 to 30 K", "got 45 K"),
    ),
    # ---- unknown keys, with did-you-mean
    Case(
        "unknown-top-key",
        SEOUL,
        _set("hals", []),
        "hals",
        ("unknown key", "did you mean 'halls'?", "allowed keys:"),
    ),
    Case(
        "unknown-nested-key",
        SEOUL,
        _set("power.utility.voltage_v", 154.0),
        "power.utility.voltage_v",
        ("unknown key", "did you mean 'voltage_kv'?"),
    ),
    Case(
        "removed-chiller-key",
        SEOUL,
        _set("heat_rejection.chillers.carnot_fraction", 0.55),
        "heat_rejection.chillers.carnot_fraction",
        ("no longer a setting", "reference_cop"),
    ),
    Case(
        "unknown-key-in-array-table",
        SEOUL,
        _set("halls[1].rows[0].racks_per_rw", 14),
        "halls[1].rows[0].racks_per_rw",
        ("did you mean 'racks_per_row'?",),
    ),
    Case(
        "unknown-key-in-event",
        SEOUL,
        _set("events[0].targt", "H1-CDU-03"),
        "events[0].targt",
        ("did you mean 'target'?", "at_s, kind, pumps, target"),
    ),
    Case(
        "unknown-key-in-workload",
        SEOUL,
        _set("workloads[1].peak_utilisation", 0.9),
        "workloads[1].peak_utilisation",
        ("did you mean 'peak_utilization'?",),
    ),
    Case(
        "unknown-key-in-rack-type",
        SEOUL,
        _set(f"rack_types.{RACK}.gpu_tdp", 1400),
        f"rack_types.{RACK}.gpu_tdp",
        ("did you mean 'gpu_tdp_w'?",),
    ),
    # ---- choices
    Case(
        "unknown-enum",
        SEOUL,
        _set("coolant.tcs_fluid", "glycol"),
        "coolant.tcs_fluid",
        ("'water' or 'PG25'", "'glycol'"),
    ),
    Case(
        "unknown-robot-model",
        SEOUL,
        _set("workcells[0].robots[0].model", "t800"),
        "workcells[0].robots[0].model",
        ("'ur10e'", "'amr'", "'t800'"),
    ),
    Case(
        "unknown-event-kind",
        SEOUL,
        _set("events[0].kind", "pump-explode"),
        "events[0].kind",
        ("unknown kind 'pump-explode'", "'pump-trip'", "'utility-outage'"),
    ),
    Case(
        "unknown-workload-kind",
        SEOUL,
        _set("workloads[0].kind", "trainin"),
        "workloads[0].kind",
        ("did you mean 'training'?", "'inference'"),
    ),
    Case(
        "event-without-kind",
        SEOUL,
        _delete("events[1].kind"),
        "events[1].kind",
        ("required key is missing", "'heatwave'"),
    ),
    # ---- missing keys
    Case(
        "missing-required-key",
        SEOUL,
        _delete("site.latitude_deg"),
        "site.latitude_deg",
        ("required key is missing", "-90 to 90 degrees"),
    ),
    Case("missing-section", SINGLE, _delete("power"), "power", ("required key is missing",)),
    Case(
        "missing-nested-key",
        SINGLE,
        _delete("halls[0].electrical.ups_modules"),
        "halls[0].electrical.ups_modules",
        ("required key is missing",),
    ),
    # ---- references
    Case(
        "row-with-missing-cdu-group",
        SEOUL,
        _set("halls[0].rows[0].cdu", "H1-CDUX"),
        "halls[0].rows[0].cdu",
        ("no CDU group", "'H1-CDUX'", "did you mean 'H1-CDU'?"),
    ),
    Case(
        "missing-rack-type",
        SEOUL,
        _set("halls[1].rows[0].rack_type", "gb200-nvl72"),
        "halls[1].rows[0].rack_type",
        ("no rack type", "'gb200-nvl72'", "did you mean 'gb300-nvl72'?"),
    ),
    Case(
        "missing-cdu-type",
        SEOUL,
        _set("halls[0].cdus[0].type", "cdu-2000"),
        "halls[0].cdus[0].type",
        ("no CDU type", "did you mean 'cdu-2300'?"),
    ),
    Case(
        "workload-unknown-hall",
        SEOUL,
        _set("workloads[0].halls[0]", "hall-3"),
        "workloads[0].halls[0]",
        ("no hall named 'hall-3'", "known: hall-1, hall-2"),
    ),
    Case(
        "workload-unknown-row-group",
        SEOUL,
        _set("workloads[1].row_groups", ["H2-X"]),
        "workloads[1].row_groups[0]",
        ("no row group named 'H2-X'",),
    ),
    Case(
        "workcell-unknown-row-group",
        SEOUL,
        _set("workcells[1].served_by", ["H3-R"]),
        "workcells[1].served_by[0]",
        ("no row group named 'H3-R'",),
    ),
    Case(
        "event-unknown-cdu",
        SEOUL,
        _set("events[0].target", "H1-CDU-3"),
        "events[0].target",
        ("no CDU named 'H1-CDU-3'", "did you mean 'H1-CDU-03'?"),
    ),
    Case(
        "event-cdu-beyond-count",
        SINGLE,
        _set("events", [{"at_s": "1h", "kind": "cdu-loss", "target": "CDU-02"}]),
        "events[0].target",
        ("no CDU named 'CDU-02'", "did you mean 'CDU'?"),
    ),
    Case(
        "power-cap-unknown-hall",
        SEOUL,
        _set("events[1]", {"at_s": "2h", "kind": "power-cap", "fraction": 0.8, "target": "hall-9"}),
        "events[1].target",
        ("no hall named 'hall-9'",),
    ),
    Case(
        "leak-unknown-cdu",
        SEOUL,
        _set(
            "events[1]", {"at_s": "1h", "kind": "coolant-leak", "target": "H1-CDU-3", "rate_lpm": 5}
        ),
        "events[1].target",
        ("no CDU named 'H1-CDU-3'", "did you mean 'H1-CDU-03'?"),
    ),
    Case(
        "leak-without-rate",
        SEOUL,
        _set("events[1]", {"at_s": "1h", "kind": "coolant-leak", "target": "H1-CDU-01"}),
        "events[1].rate_lpm",
        ("a coolant-leak needs a rate above zero",),
    ),
    Case(
        "leak-rate-impossible",
        SEOUL,
        _set(
            "events[1]",
            {"at_s": "1h", "kind": "coolant-leak", "target": "H1-CDU-01", "rate_lpm": 5000},
        ),
        "events[1].rate_lpm",
        ("from 0 to 1000 L/min", "got 5000 L/min"),
    ),
    Case(
        "valve-stuck-beyond-open",
        SEOUL,
        _set(
            "events[1]",
            {"at_s": "1h", "kind": "valve-stuck", "target": "H1-CDU-01", "position": 1.5},
        ),
        "events[1].position",
        ("1.5",),
    ),
    Case(
        "clog-below-design",
        SEOUL,
        _set(
            "events[1]", {"at_s": "1h", "kind": "filter-clog", "target": "H1-CDU-01", "factor": 0.5}
        ),
        "events[1].factor",
        ("from 1 to 100", "got 0.5"),
    ),
    Case(
        "more-chillers-than-installed",
        SEOUL,
        _set("events[1]", {"at_s": "1h", "kind": "chiller-trip", "units": 5}),
        "events[1].units",
        ("5 exceeds the 4 installed",),
    ),
    Case(
        "surge-unknown-row-group",
        SEOUL,
        _set(
            "events[1]",
            {
                "at_s": "1h",
                "kind": "workload-surge",
                "halls": ["hall-1"],
                "row_groups": ["H1-Q"],
                "utilization_step": 0.2,
                "duration_s": "1h",
            },
        ),
        "events[1].row_groups[0]",
        ("no row group named 'H1-Q'", "did you mean 'H1-R'?"),
    ),
    Case(
        "surge-without-duration",
        SEOUL,
        _set(
            "events[1]",
            {
                "at_s": "1h",
                "kind": "workload-surge",
                "halls": ["hall-1"],
                "utilization_step": 0.2,
                "duration_s": 0,
            },
        ),
        "events[1].duration_s",
        ("must be above 0 s",),
    ),
    Case(
        "transformer-fail-unknown-hall",
        SEOUL,
        _set("events[1]", {"at_s": "1h", "kind": "transformer-fail", "target": "hall1"}),
        "events[1].target",
        ("no hall named 'hall1'", "did you mean 'hall-1'?"),
    ),
    Case(
        "every-ups-module-failed",
        SEOUL,
        _set("events[1]", {"at_s": "1h", "kind": "ups-fail", "target": "hall-2", "units": 20}),
        "events[1].units",
        ("20 of the hall's 20 UPS modules would leave none in service",),
    ),
    Case(
        "e-stop-unknown-workcell",
        SEOUL,
        _set("events[1]", {"at_s": "1h", "kind": "workcell-e-stop", "target": "assembly-2"}),
        "events[1].target",
        ("no workcell named 'assembly-2'", "did you mean 'assembly-1'?"),
    ),
    Case(
        "dispatch-unknown-rack",
        SEOUL,
        _set("events[1]", {"at_s": "1h", "kind": "service-dispatch", "target": "H1-R01-15"}),
        "events[1].target",
        ("no rack named 'H1-R01-15'", "did you mean 'H1-R01-1"),
    ),
    # ---- capacities and counts
    Case(
        "transformer-n-plus-1-too-small",
        SEOUL,
        _set("power.distribution_transformer.rating_kva", 3000.0),
        "halls[0].electrical.transformers",
        ("7 working", "3,000 kVA", "(N+1)", "22,142 kW"),
    ),
    Case(
        "ups-too-small",
        SEOUL,
        _set("power.ups.module_rating_kw", 1000.0),
        "halls[1].electrical.ups_modules",
        ("18 working", "1,000 kW", "(N+2)", "22,142 kW"),
    ),
    Case(
        "main-transformer-too-small",
        SEOUL,
        _set("power.main_transformers.rating_kva", 20000.0),
        "power.main_transformers.units",
        ("2 working", "20,000 kVA", "(N+1)", "44,285 kW"),
    ),
    Case(
        "redundancy-leaves-nothing",
        SINGLE,
        _set("halls[0].electrical.transformer_redundancy", 1),
        "halls[0].electrical.transformer_redundancy",
        ("leaves no working transformer",),
    ),
    Case(
        "cdu-count-disagrees-with-rows",
        SEOUL,
        _set("halls[0].cdus[0].count", 11),
        "halls[0].cdus[0].count",
        ("count = 11", "12 row(s)", "set count = 12"),
    ),
    Case(
        "cdu-group-serves-no-rows",
        SEOUL,
        _extra_cdu_group,
        "halls[0].cdus[1]",
        ("'H1-SPARE' serves no rows",),
    ),
    Case(
        "rows-exceed-cdu",
        SEOUL,
        _set("halls[0].rows[0].rows_per_cdu", 2),
        "halls[0].rows[0]",
        ("exceed one cdu-2300 CDU", "2,300 kW"),
    ),
    Case(
        "utility-voltage-mismatch",
        SEOUL,
        _set("power.utility.voltage_kv", 345.0),
        "power.main_transformers.hv_kv",
        ("154 kV", "345 kV", "power.utility.voltage_kv"),
    ),
    Case(
        "distribution-voltage-mismatch",
        SEOUL,
        _set("power.distribution_transformer.hv_kv", 22.0),
        "power.distribution_transformer.hv_kv",
        ("22 kV", "22.9 kV"),
    ),
    # ---- consistency inside a table
    Case(
        "throttle-release-above-throttle",
        SEOUL,
        _set(f"rack_types.{RACK}.gpu_throttle_release_c", 90.0),
        f"rack_types.{RACK}.gpu_throttle_release_c",
        ("gpu_throttle_release_c < gpu_throttle_c < gpu_critical_c", "90 °C, 87 °C, 97 °C"),
    ),
    Case(
        "critical-below-throttle",
        SEOUL,
        _set(f"rack_types.{RACK}.gpu_critical_c", 85.0),
        f"rack_types.{RACK}.gpu_critical_c",
        ("83 °C, 87 °C, 85 °C",),
    ),
    Case(
        "idle-above-tdp",
        SEOUL,
        _set(f"rack_types.{RACK}.gpu_idle_w", 1500),
        f"rack_types.{RACK}.gpu_idle_w",
        ("1500 W", "below gpu_tdp_w (1400 W)"),
    ),
    Case(
        "pumps-required-over-installed",
        SEOUL,
        _set("cdu_types.cdu-2300.pumps_required", 3),
        "cdu_types.cdu-2300.pumps_required",
        ("3 must not exceed pumps (2)",),
    ),
    Case(
        "trough-above-peak",
        SEOUL,
        _set("workloads[1].trough_utilization", 0.9),
        "workloads[1].trough_utilization",
        ("0.9", "peak_utilization (0.85)"),
    ),
    Case(
        "bess-initial-soc",
        SEOUL,
        _set("power.bess.initial_soc", 0.99),
        "power.bess.initial_soc",
        ("0.99", "soc_max (0.95)"),
    ),
    Case(
        "curve-not-increasing",
        SEOUL,
        _set("power.rack_psu.load_pct", [10, 50, 20, 100]),
        "power.rack_psu.load_pct",
        ("strictly increasing",),
    ),
    Case(
        "curve-efficiency-range",
        SEOUL,
        _set("power.rack_psu.efficiency_pct[1]", 140.0),
        "power.rack_psu.efficiency_pct[1]",
        ("from 50 to 100 %", "got 140.0 %"),
    ),
    Case(
        "curve-load-range",
        SEOUL,
        _set("power.ups.efficiency.load_pct[0]", 0),
        "power.ups.efficiency.load_pct[0]",
        ("above 0 and at most 200 %", "got 0 %"),
    ),
    Case(
        "curve-length-mismatch",
        SEOUL,
        _set("power.rack_psu.efficiency_pct", [90.0, 94.0]),
        "power.rack_psu.efficiency_pct",
        ("has 2 values but load_pct has 4",),
    ),
    # ---- durations
    Case(
        "bad-duration-in-event",
        SEOUL,
        _set("events[0].at_s", "4 hours"),
        "events[0].at_s",
        ("'4 hours'", "90s, 15min, 6h, 2d"),
    ),
    Case(
        "negative-duration",
        SEOUL,
        _set("events[1].at_s", -5),
        "events[1].at_s",
        ("at least 0 s", "got -5 s"),
    ),
    Case(
        "bad-duration-in-workload",
        SEOUL,
        _set("workloads[0].checkpoint_interval_s", "30m"),
        "workloads[0].checkpoint_interval_s",
        ("'30m'", "ms, s, min, h or d"),
    ),
    Case(
        "checkpoint-as-long-as-its-interval",
        SEOUL,
        _set("workloads[0].checkpoint_interval_s", "1min"),
        "workloads[0].checkpoint_duration_s",
        ("60 s must be shorter than checkpoint_interval_s (60 s)", "0 for none"),
    ),
    Case(
        "checkpoints-without-an-interval",
        SEOUL,
        _set("workloads[0].checkpoint_interval_s", 0),
        "workloads[0].checkpoint_duration_s",
        ("shorter than checkpoint_interval_s (0 s)",),
    ),
    Case(
        "bool-for-duration",
        SEOUL,
        _set("workloads[0].start_s", True),
        "workloads[0].start_s",
        ("duration",),
    ),
    # ---- names and list lengths
    Case(
        "duplicate-hall-names",
        SEOUL,
        _set("halls[1].name", "hall-1"),
        "halls[1].name",
        ("'hall-1'", "already used at halls[0].name"),
    ),
    Case(
        "duplicate-workloads",
        SEOUL,
        _duplicate_first("workloads"),
        "workloads[2].name",
        ("'frontier-training'", "already used at workloads[0].name"),
    ),
    Case(
        "duplicate-cdu-name-across-halls",
        SEOUL,
        _set("halls[1].cdus[0].name", "H1-CDU"),
        "halls[1].cdus[0].name",
        ("CDU name", "already used at halls[0].cdus[0].name"),
    ),
    Case(
        "bad-name",
        SEOUL,
        _set("halls[0].name", "hall 1"),
        "halls[0].name",
        ("letters, digits", "'hall 1'"),
    ),
    Case("empty-halls", SEOUL, _set("halls", []), "halls", ("at least 1 item", "got 0")),
    Case("empty-rack-types", SINGLE, _set("rack_types", {}), "rack_types", ("at least 1 entry",)),
    Case(
        "tariff-length",
        SEOUL,
        _set("power.utility.tariff_krw_per_kwh", [110.0] * 23),
        "power.utility.tariff_krw_per_kwh",
        ("exactly 24 items", "got 23"),
    ),
    Case(
        "origin-three-numbers",
        SEOUL,
        _set("halls[0].origin_m", [0.0, 0.0, 0.0]),
        "halls[0].origin_m",
        ("exactly 2 items", "got 3"),
    ),
    Case(
        "empty-title", SEOUL, _set("scenario.title", ""), "scenario.title", ("must not be empty",)
    ),
    Case(
        "bad-start",
        SEOUL,
        _set("scenario.start", "yesterday"),
        "scenario.start",
        ("date and time", "'yesterday'"),
    ),
    Case(
        "robot-idle-over-peak",
        SEOUL,
        _set("workcells[2].robots[0].idle_power_w", 700),
        "workcells[2].robots[0].idle_power_w",
        ("must not exceed peak_power_w",),
    ),
    # ---- workcells
    Case(
        "arm-in-a-service-cell",
        SEOUL,
        _set("workcells[2].robots[0].model", "ur10e"),
        "workcells[2].robots[0].model",
        ("service cells hold 'amr' robots", "'ur10e' robots work in assembly cells"),
    ),
    Case(
        "amr-on-the-assembly-line",
        SEOUL,
        _set("workcells[0].robots[1].model", "amr"),
        "workcells[0].robots[1].model",
        ("'ur10e' or 'industrial-arm'", "work in service cells"),
    ),
    Case(
        "service-cell-without-hall",
        SEOUL,
        _delete("workcells[2].hall"),
        "workcells[2].hall",
        ("work in a hall", "hall-1, hall-2"),
    ),
    Case(
        "two-entries-in-a-fleet",
        SEOUL,
        lambda data: data["workcells"][2]["robots"].append(
            {**data["workcells"][2]["robots"][0], "name": "amr-2"}
        ),
        "workcells[2].robots",
        ("one entry with a count", "not 2 entries"),
    ),
    Case(
        "two-fleets-in-one-hall",
        SEOUL,
        _set("workcells[3].hall", "hall-1"),
        "workcells[3].hall",
        ("already has its service cell at workcells[2]",),
    ),
    Case(
        "service-cell-paced-by-racks",
        SEOUL,
        _set("workcells[2].served_by", ["H1-R"]),
        "workcells[2].served_by",
        ("sent by the racks that trip",),
    ),
    Case(
        "repair-time-on-an-assembly-cell",
        SEOUL,
        _set("workcells[0].repair_time_s", "10min"),
        "workcells[0].repair_time_s",
        ("only service cells repair racks",),
    ),
    Case(
        "conveyor-on-a-humanoid-cell",
        SEOUL,
        _set("workcells[1].conveyor", {"length_m": 4.0}),
        "workcells[1].conveyor",
        ("only assembly cells have a conveyor", "humanoid"),
    ),
    Case(
        "conveyor-longer-than-the-cell",
        SEOUL,
        _set("workcells[0].conveyor.length_m", 9.0),
        "workcells[0].conveyor.length_m",
        ("9 m", "8 m floor", "at most 7.6 m"),
    ),
    Case(
        "part-spacing-too-small",
        SEOUL,
        _set("workcells[0].conveyor.part_spacing_m", 0.05),
        "workcells[0].conveyor.part_spacing_m",
        ("0.05",),
    ),
    Case(
        "yield-above-one",
        SEOUL,
        _set("workcells[0].first_pass_yield", 1.2),
        "workcells[0].first_pass_yield",
        ("1.2",),
    ),
]


@pytest.mark.parametrize("case", CASES, ids=[c.id for c in CASES])
def test_broken_input_is_reported(case: Case) -> None:
    data = builtin_dict(case.scenario)
    case.mutate(data)
    with pytest.raises(ScenarioError) as info:
        from_dict(data, source=f"{case.id}.toml")
    error = info.value
    paths = [p.path for p in error.problems]
    assert case.path in paths, f"expected a problem at {case.path}, got:\n{error.report()}"
    message = next(p.message for p in error.problems if p.path == case.path)
    for fragment in case.fragments:
        assert fragment in message, f"{fragment!r} not in {message!r}"
    report = error.report()
    assert report.startswith(f"{case.id}.toml: ")
    assert f"  {case.path}: {message}" in report.splitlines()
    assert "Traceback" not in report


def test_table_is_large_enough() -> None:
    assert len(CASES) >= 25
    assert len({c.id for c in CASES}) == len(CASES)


def test_every_bound_message_names_unit_and_value() -> None:
    """Numeric bounds on keys with a unit suffix say the unit and the value given."""
    data = builtin_dict(SEOUL)
    rack = data["rack_types"][RACK]
    rack["gpu_time_constant_s"] = 601
    rack["coolant_volume_l"] = 0
    data["halls"][0]["air_volume_m3"] = -1
    data["power"]["utility"]["import_cap_mw"] = 0
    data["power"]["busway"]["rating_a"] = -3
    data["power"]["main_transformers"]["impedance_pct"] = 31
    data["heat_rejection"]["dry_coolers"]["design_approach_k"] = 0
    with pytest.raises(ScenarioError) as info:
        from_dict(data)
    expected = {
        f"rack_types.{RACK}.gpu_time_constant_s": ("s", "601"),
        f"rack_types.{RACK}.coolant_volume_l": ("L", "0"),
        "halls[0].air_volume_m3": ("m³", "-1"),
        "power.utility.import_cap_mw": ("MW", "0"),
        "power.busway.rating_a": ("A", "-3"),
        "power.main_transformers.impedance_pct": ("%", "31"),
        "heat_rejection.dry_coolers.design_approach_k": ("K", "0"),
    }
    found = {p.path: p.message for p in info.value.problems}
    assert set(found) == set(expected)
    for path, (unit, value) in expected.items():
        assert f" {unit} (got {value} {unit})" in found[path], found[path]


# --------------------------------------------------------------------------- text


def _line_of(text: str, needle: str) -> int:
    return next(i for i, line in enumerate(text.splitlines(), 1) if needle in line)


@pytest.mark.parametrize(
    ("id", "needle", "replacement", "hint"),
    [
        ("double-equals", "gpus = 72", "gpus = = 72", "Invalid value"),
        ("unquoted-string", 'tcs_fluid = "PG25"', "tcs_fluid = PG25", "Invalid value"),
        ("missing-bracket", "[facility_water]", "[facility_water", "Expected ']'"),
        ("duplicate-key", "gpus = 72", "gpus = 72\ngpus = 36", "a key is given twice"),
        (
            "bad-date",
            "start = 2026-08-01T00:00:00",
            "start = 2026-13-01T00:00:00",
            "Expected newline",
        ),
    ],
)
def test_malformed_toml_reports_line_and_column(
    id: str, needle: str, replacement: str, hint: str
) -> None:
    text = builtin_text(SINGLE)
    line = _line_of(text, needle) + replacement.count("\n")
    broken = text.replace(needle, replacement, 1)
    with pytest.raises(ScenarioError) as info:
        loads(broken, source=f"{id}.toml")
    [problem] = info.value.problems
    match = re.search(r"line (\d+), column (\d+)", problem.message)
    assert match, problem.message
    assert int(match.group(1)) == line
    assert int(match.group(2)) >= 1
    assert "TOML syntax error" in problem.message
    assert hint in problem.message
    assert info.value.report().startswith(f"{id}.toml: 1 problem\n")


def test_syntax_error_on_last_line_still_has_a_line() -> None:
    text = builtin_text(SINGLE) + 'extra = "unterminated\n'
    with pytest.raises(ScenarioError) as info:
        loads(text)
    last = len(text.splitlines())
    assert f"line {last}, column " in info.value.problems[0].message


def test_huge_integer_in_toml_is_a_clean_error() -> None:
    with pytest.raises(ScenarioError) as info:
        loads(builtin_text(SINGLE).replace("seed = 1", "seed = " + "9" * 5000))
    assert "cannot be read" in info.value.report()


def test_deeply_nested_toml_is_a_clean_error() -> None:
    with pytest.raises(ScenarioError) as info:
        loads("a = " + "[" * 50_000)
    assert info.value.problems


def test_text_level_value_error_reports_path() -> None:
    text = builtin_text(SINGLE).replace("gpu_tdp_w = 1400", "gpu_tdp_w = 14000")
    with pytest.raises(ScenarioError) as info:
        loads(text, source="single.toml")
    assert [str(p) for p in info.value.problems] == [
        f"rack_types.{RACK}.gpu_tdp_w: must be above 0 and at most 5000 W (got 14000 W)"
    ]


# --------------------------------------------------------------------------- one pass


def test_several_independent_errors_in_one_pass() -> None:
    data = builtin_dict(SEOUL)
    data["hals"] = []  # unknown top-level key
    data["site"]["latitude_deg"] = 95.0  # out of range
    data["rack_types"][RACK]["design_flow_lpm"] = -1.0  # negative flow
    data["coolant"]["tcs_fluid"] = "glycol"  # bad choice
    data["events"][0]["at_s"] = "soon"  # bad duration
    del data["facility_water"]["volume_m3"]  # missing key
    data["workloads"][1]["trough_utilization"] = 0.9  # cross-field
    with pytest.raises(ScenarioError) as info:
        from_dict(data, source="many.toml")
    paths = [p.path for p in info.value.problems]
    assert sorted(paths) == sorted(
        [
            "hals",
            "site.latitude_deg",
            f"rack_types.{RACK}.design_flow_lpm",
            "coolant.tcs_fluid",
            "events[0].at_s",
            "facility_water.volume_m3",
            "workloads[1].trough_utilization",
        ]
    )
    assert info.value.report().startswith("many.toml: 7 problems\n")


def test_every_bad_entry_of_a_list_is_reported() -> None:
    data = builtin_dict(SEOUL)
    data["climate"]["monthly_dry_bulb_c"][0] = -70.0
    data["climate"]["monthly_dry_bulb_c"][7] = 61.0
    data["power"]["utility"]["tariff_krw_per_kwh"][5] = math.nan
    with pytest.raises(ScenarioError) as info:
        from_dict(data)
    assert [p.path for p in info.value.problems] == [
        "climate.monthly_dry_bulb_c[0]",
        "climate.monthly_dry_bulb_c[7]",
        "power.utility.tariff_krw_per_kwh[5]",
    ]


def test_several_reference_errors_in_one_pass() -> None:
    data = builtin_dict(SEOUL)
    data["halls"][0]["rows"][0]["rack_type"] = "nope"
    data["workloads"][0]["halls"] = ["hall-9"]
    data["events"][1]["target"] = "H9-CDU-01"
    data["power"]["utility"]["voltage_kv"] = 345.0
    with pytest.raises(ScenarioError) as info:
        from_dict(data)
    paths = {p.path for p in info.value.problems}
    assert {
        "halls[0].rows[0].rack_type",
        "workloads[0].halls[0]",
        "events[1].target",
        "power.main_transformers.hv_kv",
    } <= paths


def test_problem_and_error_formatting() -> None:
    error = ScenarioError("x.toml", [Problem("a.b", "bad"), Problem("", "worse")])
    assert error.report() == "x.toml: 2 problems\n  a.b: bad\n  worse"
    assert str(error) == error.report()
    assert ScenarioError("y", [Problem("k", "m")]).report() == "y: 1 problem\n  k: m"


# --------------------------------------------------------------------------- resolve / load


def test_resolve_builtin_name_and_path(tmp_path: Path) -> None:
    assert resolve(SEOUL) == builtin_scenarios()[SEOUL]
    own = tmp_path / "mine.toml"
    own.write_text(builtin_text(SINGLE), encoding="utf-8")
    assert resolve(str(own)) == own
    assert load(own).scenario.name == SINGLE


def test_resolve_unknown_builtin_suggests_and_lists() -> None:
    with pytest.raises(ScenarioError) as info:
        resolve("seoul-ai-factroy")
    report = info.value.report()
    assert "did you mean 'seoul-ai-factory'?" in report
    for name in BUILTINS:
        assert name in report
    assert report.startswith("seoul-ai-factroy: 1 problem")


def test_resolve_missing_path_says_no_such_file(tmp_path: Path) -> None:
    missing = tmp_path / "nope.toml"
    with pytest.raises(ScenarioError) as info:
        resolve(missing)
    assert info.value.problems == [Problem("", "no such file")]
    assert str(missing) in info.value.report()


def test_resolve_folder_is_a_clean_error(tmp_path: Path) -> None:
    with pytest.raises(ScenarioError) as info:
        resolve(tmp_path)
    assert "is a folder" in info.value.report()


def test_non_utf8_file_is_a_clean_error(tmp_path: Path) -> None:
    path = tmp_path / "latin1.toml"
    path.write_bytes(builtin_text(SINGLE).replace("Test bench", "Banc d'essai é").encode("latin-1"))
    with pytest.raises(ScenarioError) as info:
        load(path)
    [problem] = info.value.problems
    assert "not UTF-8" in problem.message
    assert "0xe9" in problem.message
    assert f"line {_line_of(builtin_text(SINGLE), 'Test bench')}" in problem.message
    assert info.value.report().startswith(str(path))


def test_byte_order_mark_is_accepted(tmp_path: Path) -> None:
    path = tmp_path / "bom.toml"
    path.write_bytes(b"\xef\xbb\xbf" + builtin_text(SINGLE).encode("utf-8"))
    assert load(path).scenario.name == SINGLE


def test_unreadable_file_is_a_clean_error(tmp_path: Path) -> None:
    path = tmp_path / "locked.toml"
    path.write_text(builtin_text(SINGLE), encoding="utf-8")
    path.chmod(0)
    try:
        if path.stat().st_mode & 0o444 == 0 and not _can_read(path):
            with pytest.raises(ScenarioError) as info:
                load(path)
            assert "cannot read the file" in info.value.report()
        else:  # running as root: permissions do not stop reading
            assert load(path).scenario.name == SINGLE
    finally:
        path.chmod(0o644)


def _can_read(path: Path) -> bool:
    try:
        path.read_bytes()
    except OSError:
        return False
    return True


def test_events_after_the_run_ends_are_reported() -> None:
    seoul = load("seoul-ai-factory")
    late = ChillerTrip(kind="chiller-trip", at_s="2d")
    problems = event_problems(seoul, [*seoul.events, late], duration_s=86400.0)
    assert [(p.path, p.message) for p in problems] == [
        ("events[2].at_s", "172800 s is after the run ends (86400 s)")
    ]
