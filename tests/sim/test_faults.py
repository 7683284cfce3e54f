"""Faults on the default scenario: each moves the physics the expected way, its restore
undoes it, and the ledger still closes."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np
import pytest
from pydantic import TypeAdapter

from twin.scenario import load
from twin.scenario.schema import Event
from twin.sim.engine import Simulation
from twin.sim.robotics.cells import RobotState
from twin.sim.snapshot import Snapshot

EVENT = TypeAdapter(Event)
DT_S = 5.0
WARM_S = 1800.0


def event(**fields: Any) -> Event:
    return EVENT.validate_python({"at_s": 0, **fields})


@dataclass(frozen=True)
class Case:
    name: str
    fault: dict[str, Any]
    restore: dict[str, Any] | None  # None: the fault ends by itself
    read: Any  # Snapshot -> float
    rises: bool  # the reading goes up under the fault
    change: float  # by at least this much
    flag: Any = None  # Snapshot -> bool: the snapshot shows the fault
    seconds: float = 1800.0


def hall_1_it_mw(s: Snapshot) -> float:
    """Hall 1's rack power (its first 168 racks); loadings follow the training job's
    iterations, so the tests compare loading per MW of load."""
    return float(s.racks.power_kw[:168].sum()) / 1e3


CDU = "H1-CDU-01"  # CDU 0 serves rows H1-R01 (racks 0-13)
CASES = [
    Case(
        "valve-stuck-shut",
        {"kind": "valve-stuck", "target": CDU, "position": 0.05},
        {"kind": "valve-release", "target": CDU},
        lambda s: s.cdus.supply_c[0],
        True,
        5.0,
        lambda s: s.cdus.valve_stuck[0],
    ),
    Case(
        "coolant-leak",
        {"kind": "coolant-leak", "target": CDU, "rate_lpm": 40},
        {"kind": "leak-repair", "target": CDU},
        lambda s: s.cdus.flow_lpm[0],
        False,
        1000.0,
        lambda s: s.cdus.leak_detected[0] and s.cdus.inventory_fraction[0] < 0.9,
    ),
    Case(
        "filter-clog",
        {"kind": "filter-clog", "target": CDU, "factor": 20, "ramp_s": 600},
        {"kind": "filter-clean", "target": CDU},
        lambda s: s.cdus.flow_lpm[0],
        False,
        500.0,
        lambda s: s.cdus.filter_resistance_factor[0] == 20,
    ),
    Case(
        "dry-coolers-fail",
        {"kind": "dry-cooler-fail", "units": 30},
        {"kind": "dry-cooler-restore", "units": 30},
        lambda s: s.plant.chiller_duty_kw,
        True,
        3000.0,  # the chillers trim what the dry coolers left cannot reject
        lambda s: s.plant.dry_coolers_available == 6,
    ),
    Case(
        "chillers-trip",
        {"kind": "chiller-trip", "units": 4},
        {"kind": "chiller-restore", "units": 4},
        lambda s: s.plant.hall_air_c[0],
        True,
        5.0,
        lambda s: s.plant.chillers_available == 0,
    ),
    Case(
        "workload-surge",
        {
            "kind": "workload-surge",
            "halls": ["hall-2"],
            "utilization_step": 0.3,
            "duration_s": 1800,
        },
        None,
        lambda s: s.site["it_power_kw"],
        True,
        3000.0,
    ),
    Case(
        "transformer-fail",
        {"kind": "transformer-fail", "target": "hall-1", "units": 3},
        {"kind": "transformer-restore", "target": "hall-1", "units": 3},
        lambda s: s.power.hall_transformer_loading[0] / hall_1_it_mw(s),
        True,
        0.005,
        lambda s: s.power.hall_transformers_in_service[0] == 5 and not s.power.hall_redundant[0],
        seconds=60.0,
    ),
    Case(
        "ups-fail",
        {"kind": "ups-fail", "target": "hall-1", "units": 5},
        {"kind": "ups-restore", "target": "hall-1", "units": 5},
        lambda s: s.power.hall_ups_loading[0] / hall_1_it_mw(s),
        True,
        0.002,
        lambda s: s.power.hall_ups_modules_in_service[0] == 15 and not s.power.hall_redundant[0],
        seconds=60.0,
    ),
    Case(
        "workcell-e-stop",
        {"kind": "workcell-e-stop", "target": "assembly-1"},
        {"kind": "workcell-reset", "target": "assembly-1"},
        lambda s: s.robots.cell_state_counts[0, RobotState.FAULT],
        True,
        3,
        lambda s: s.robots.cell_emergency_stop[0],
        seconds=60.0,
    ),
]


@pytest.fixture(scope="module")
def seoul():
    return load("seoul-ai-factory").model_copy(update={"events": []})


def warm(scenario) -> Simulation:
    sim = Simulation(scenario, dt_s=DT_S)
    sim.step(round(WARM_S / DT_S))
    return sim


@pytest.mark.parametrize("case", CASES, ids=lambda c: c.name)
def test_fault_moves_the_physics_and_its_restore_undoes_it(seoul, case: Case):
    sim = warm(seoul)
    before = float(case.read(sim.snapshot()))
    sim.apply(event(**case.fault))
    sim.step(round(case.seconds / DT_S))
    faulted: Snapshot = sim.snapshot()
    during = float(case.read(faulted))
    sign = 1.0 if case.rises else -1.0
    assert sign * (during - before) >= case.change, (before, during)
    if case.flag is not None:
        assert case.flag(faulted)
    if case.restore is not None:
        sim.apply(event(**case.restore))
    sim.step(round(max(case.seconds, 1800.0) / DT_S))
    restored = sim.snapshot()
    after = float(case.read(restored))
    # back to where it was, within a fifth of the fault's swing (the load drifts meanwhile)
    assert abs(after - before) <= 0.2 * abs(during - before), (before, during, after)
    if case.flag is not None:
        assert not case.flag(restored)
    assert abs(sim.ledger()["closure_error"]) < 1e-3


def test_a_leak_starves_the_pumps_and_the_racks_heat_and_throttle(seoul):
    sim = warm(seoul)
    sim.apply(event(kind="coolant-leak", target=CDU, rate_lpm=40))
    racks = sim.topology.cdu_racks(0)
    fractions, flows = [], []
    for _ in range(30):
        sim.step(round(60 / DT_S))
        snap = sim.snapshot()
        fractions.append(snap.cdus.inventory_fraction[0])
        flows.append(snap.cdus.flow_lpm[0])
    # inventory falls at the leak's rate; the flow holds on the expansion tank's reserve,
    # then fades as the pumps draw air
    volume_l = sim.cdu_inventory_l[0]
    assert fractions[0] == pytest.approx(1.0 - 40 / volume_l, abs=1e-9)
    assert np.all(np.diff(fractions) < 0)
    assert flows[0] == pytest.approx(flows[1], rel=0.05)
    assert flows[-1] < 0.1 * flows[0]
    snap = sim.snapshot()
    assert snap.racks.throttled[racks].all() or snap.racks.tripped[racks].all()
    # the other CDUs' racks are untouched
    assert not snap.racks.throttled[sim.topology.cdu_racks(1)].any()


def test_a_stuck_valve_holds_its_opening_while_its_controller_winds_on(seoul):
    sim = warm(seoul)
    opening = float(sim.snapshot().cdus.facility_valve[0])
    sim.apply(event(kind="valve-stuck", target=CDU))
    sim.apply(
        event(kind="workload-surge", halls=["hall-1"], utilization_step=-0.5, duration_s=3600)
    )
    sim.step(round(600 / DT_S))
    snap = sim.snapshot()
    assert snap.cdus.facility_valve[0] == opening
    assert snap.cdus.facility_valve[1] != pytest.approx(opening, abs=1e-3)


def test_filter_resistance_ramps_linearly_to_its_factor(seoul):
    sim = warm(seoul)
    sim.apply(event(kind="filter-clog", target=CDU, factor=5, ramp_s=1000))
    sim.step(round(500 / DT_S))
    assert sim.snapshot().cdus.filter_resistance_factor[0] == pytest.approx(3.0, abs=0.05)
    sim.step(round(1000 / DT_S))
    assert sim.snapshot().cdus.filter_resistance_factor[0] == 5.0


def test_unit_failures_never_exceed_what_is_installed(seoul):
    sim = warm(seoul)
    sim.apply(event(kind="chiller-trip", units=3))
    sim.apply(event(kind="chiller-restore", units=10))
    sim.apply(event(kind="dry-cooler-fail", units=100))
    sim.step()
    snap = sim.snapshot()
    assert snap.plant.chillers_available == 4
    assert snap.plant.dry_coolers_available == 0
    assert snap.plant.dry_cooler_duty_kw == 0.0


def test_a_dispatch_sends_the_halls_service_robot_to_the_rack(seoul):
    sim = warm(seoul)
    rack = sim.rack_index["H1-R01-03"]
    sim.apply(event(kind="service-dispatch", target="H1-R01-03"))
    sim.step(round(60 / DT_S))
    robots = sim.snapshot().robots
    assert robots.repairs_open == 1
    assert rack in robots.service_target_rack


def test_reset_clears_every_fault(seoul):
    sim = warm(seoul)
    for fields in (case.fault for case in CASES):
        sim.apply(event(**fields))
    sim.step(10)
    sim.reset()
    sim.step()
    snap = sim.snapshot()
    assert not snap.cdus.valve_stuck.any() and not snap.cdus.leak_detected.any()
    assert (snap.cdus.inventory_fraction == 1).all()
    assert (snap.cdus.filter_resistance_factor == 1).all()
    assert snap.plant.chillers_available == 4 and snap.plant.dry_coolers_available == 36
    assert snap.power.hall_redundant.all()
    assert not sim.workload.surge.any()


def test_scheduled_faults_arrive_from_the_timeline(seoul):
    timeline = [
        event(kind="chiller-trip", units=2).model_copy(update={"at_s": 60.0}),
        event(kind="ups-fail", target="hall-2").model_copy(update={"at_s": 120.0}),
    ]
    sim = Simulation(seoul.model_copy(update={"events": timeline}), dt_s=DT_S)
    sim.step(round(100 / DT_S))
    snap = sim.snapshot()
    assert snap.plant.chillers_available == 2
    assert snap.power.hall_ups_modules_in_service[1] == 20
    sim.step(round(60 / DT_S))
    assert sim.snapshot().power.hall_ups_modules_in_service[1] == 19


def test_every_event_class_of_the_schema_has_a_handler():
    from typing import get_args

    from twin.sim.events import EVENT_HANDLERS

    union, _ = get_args(Event)
    assert set(EVENT_HANDLERS) == set(get_args(union))


def test_a_demand_response_at_the_start_is_refused_with_the_reason():
    from tests.fakes import scenario_named
    from twin.scenario.references import check_references, event_problems
    from twin.scenario.schema import DemandResponse

    scenario = scenario_named("single-rack")
    at_start = DemandResponse(kind="demand-response", at_s=0, curtail_mw=0.05, duration_s=60)
    [problem] = check_references(scenario.model_copy(update={"events": [at_start]}))
    assert problem.path == "events[0].at_s" and "baseline" in problem.message
    later = at_start.model_copy(update={"at_s": 1.0})
    assert check_references(scenario.model_copy(update={"events": [later]})) == []
    # a story's events are timed from their act's start, when the site has run a while
    assert event_problems(scenario, [at_start]) == []
