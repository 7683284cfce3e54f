"""Generator start on a utility outage: the start sequence, sets that fail to start, load
shed by priority, the UPS ride-through of a shed hall and the return of the load."""

from __future__ import annotations

import copy
import tomllib
from functools import cache
from typing import Any

import numpy as np
import pytest
from pydantic import TypeAdapter

from twin.scenario import ScenarioError, builtin_scenarios, load
from twin.scenario.loader import from_dict
from twin.scenario.schema import Event
from twin.sim.engine import Simulation
from twin.sim.power import (
    GENERATOR_FAILED,
    GENERATOR_OFF,
    GENERATOR_RUNNING,
    GENERATOR_STARTING,
    PowerChain,
)
from twin.sim.topology import build_topology

EVENT = TypeAdapter(Event)
SEOUL = "seoul-ai-factory"
WARM_S = 600
OUTAGE_S = 1200
SETS = 22  # seoul-ai-factory: 22 x 2.5 MW


@cache
def _raw() -> dict[str, Any]:
    with builtin_scenarios()[SEOUL].open("rb") as f:
        return tomllib.load(f)


def scenario(**power_tables: dict[str, Any]):
    """The site without its timeline, ``power.<table>.<key>`` replaced."""
    data = copy.deepcopy(_raw())
    data["events"] = []
    for table, changes in power_tables.items():
        data["power"][table].update(changes)
    return from_dict(data, source="variant.toml")


def event(**fields: Any) -> Event:
    return EVENT.validate_python({"at_s": 0, **fields})


def counts(states: np.ndarray) -> tuple[int, int, int, int]:
    """Sets off, starting, running, failed."""
    return tuple(
        int(np.count_nonzero(states == code))
        for code in (GENERATOR_OFF, GENERATOR_STARTING, GENERATOR_RUNNING, GENERATOR_FAILED)
    )


def run_outage(sim: Simulation, seconds: int, ups_j: list | None = None, **outage: Any) -> list:
    """Warm the site, cut the utility for OUTAGE_S and record a snapshot each second (and
    the UPS batteries' energy into ``ups_j``)."""
    sim.step(WARM_S)
    sim.apply(event(kind="utility-outage", duration_s=OUTAGE_S, **outage))
    snaps = []
    for _ in range(seconds):
        sim.step()
        snaps.append(sim.snapshot(robots=False))
        if ups_j is not None:
            ups_j.append(float(sim.power_chain.ups_energy_j.sum()))
    return snaps


def hall_racks(sim: Simulation, hall: int) -> np.ndarray:
    return sim.topology.rack_hall == hall


@pytest.fixture(scope="module")
def all_start():
    sim = Simulation(scenario(), dt_s=1.0)
    ups_j: list[float] = []
    snaps = run_outage(sim, OUTAGE_S + 1800, ups_j)
    return sim, snaps, np.array(ups_j)


@pytest.fixture(scope="module")
def fourteen_fail():
    sim = Simulation(scenario(), dt_s=1.0)
    sim.step(WARM_S - 60)
    tokens_before = float(np.mean([_tokens_after_step(sim) for _ in range(60)]))
    sim.apply(event(kind="utility-outage", duration_s=OUTAGE_S, generators_failing_to_start=14))
    snaps = []
    for _ in range(OUTAGE_S + 600):
        sim.step()
        snaps.append(sim.snapshot(robots=False))
    return sim, snaps, tokens_before


def _tokens_after_step(sim: Simulation) -> float:
    sim.step()
    return sim.snapshot(robots=False).site["tokens_per_s"]


# ------------------------------------------------------------------ every set starts


def test_every_set_starts_after_its_delay_and_no_rack_loses_power(all_start):
    sim, snaps, _ = all_start
    delay_s = sim.scenario.power.generators.start_delay_s
    for k, snap in enumerate(snaps):
        since_s = k  # the outage began at the start of the first recorded step
        if since_s < delay_s:
            assert counts(snap.power.generator_state) == (0, SETS, 0, 0)
            assert snap.site["generator_kw"] == 0.0
        elif since_s < OUTAGE_S:
            assert counts(snap.power.generator_state) == (0, 0, SETS, 0)
            assert snap.power.generators_online == SETS
        assert snap.power.hall_powered.all() and not snap.power.hall_load_shed.any()
        assert snap.site["tripped_racks"] == 0
        assert snap.site["tokens_per_s"] > 0
    # the sets carry the site alone once they have ramped up
    assert snaps[60].site["bess_power_kw"] == 0.0
    assert snaps[60].site["generator_kw"] == pytest.approx(
        snaps[60].site["facility_power_kw"], rel=1e-9
    )
    # back on the utility the sets unload and stop
    assert counts(snaps[OUTAGE_S + 120].power.generator_state) == (SETS, 0, 0, 0)
    assert snaps[OUTAGE_S + 120].site["generator_kw"] == 0.0
    assert abs(sim.ledger()["closure_error"]) < 1e-9


def test_the_ups_batteries_bridge_the_start_and_recharge_on_the_utility(all_start):
    sim, _, ups_j = all_start
    full_j = float(sim.power_chain.ups_capacity_j.sum())
    delay = int(sim.scenario.power.generators.start_delay_s)
    # they discharge while the sets start and ramp, then hold (no recharge on generators)
    assert np.all(np.diff(ups_j[:delay]) < 0)
    low_j = ups_j[OUTAGE_S - 1]
    assert 0.9 * full_j < low_j < full_j - 1e6
    assert ups_j[60:OUTAGE_S] == pytest.approx(low_j)
    # back on the utility they recharge at 10 % of their rating per hour until full
    recharged = ups_j[OUTAGE_S + 60 :]
    assert np.all(np.diff(recharged) >= 0) and recharged[-1] > low_j
    assert ups_j[OUTAGE_S + 600] - ups_j[OUTAGE_S] <= 0.1 * full_j * 600 / 3600 + 1.0


# ------------------------------------------------------------------ sets fail to start


def test_sets_failing_to_start_lock_out_after_cranking(fourteen_fail):
    sim, snaps, _ = fourteen_fail
    gens = sim.scenario.power.generators
    lockout = int(gens.crank_lockout_s)
    delay = int(gens.start_delay_s)
    assert counts(snaps[delay - 1].power.generator_state) == (0, SETS, 0, 0)
    assert counts(snaps[delay].power.generator_state) == (0, 14, 8, 0)
    assert counts(snaps[lockout - 1].power.generator_state) == (0, 14, 8, 0)
    assert counts(snaps[lockout].power.generator_state) == (0, 0, 8, 14)
    # the last sets are the ones that fail
    assert (snaps[lockout].power.generator_state[-14:] == GENERATOR_FAILED).all()
    # they stay locked out after the utility returns, until someone restores them
    assert counts(snaps[-1].power.generator_state) == (8, 0, 0, 14)


def test_too_few_sets_shed_the_last_hall_which_goes_dark_after_its_ride_through(fourteen_fail):
    sim, snaps, tokens_before = fourteen_fail
    lockout = int(sim.scenario.power.generators.crank_lockout_s)
    h1, h2 = hall_racks(sim, 0), hall_racks(sim, 1)
    # until the sets that will not start give up, both halls stay on (the BESS and the
    # UPS batteries bridge); then load management sheds hall 2, the lower priority
    for snap in snaps[:lockout]:
        assert not snap.power.hall_load_shed.any() and snap.power.hall_powered.all()
    shed = [k for k, s in enumerate(snaps) if s.power.hall_load_shed[1]]
    dark = [k for k, s in enumerate(snaps) if not s.power.hall_powered[1]]
    assert shed[0] == lockout
    assert dark and dark[0] > shed[0] + 60  # hall 2's UPS carry it for minutes
    for snap in snaps[:OUTAGE_S]:
        assert snap.power.hall_powered[0] and not snap.power.hall_load_shed[0]
    # hall 2 on its UPS batteries keeps working; dark, its racks draw and compute nothing
    riding = snaps[(shed[0] + dark[0]) // 2]
    assert riding.racks.tokens_per_s[h2].sum() > 0
    dark_snap = snaps[dark[0] + 1]
    assert dark_snap.racks.power_kw[h2].sum() == 0.0
    assert dark_snap.racks.tokens_per_s[h2].sum() == 0.0
    assert not dark_snap.racks.tripped.any()  # lost power, not tripped: nothing to repair
    assert dark_snap.racks.tokens_per_s[h1].sum() > 0
    dark_tokens = np.mean([s.site["tokens_per_s"] for s in snaps[dark[0] + 1 : dark[0] + 61]])
    assert dark_tokens < 0.85 * tokens_before
    # the utility returns: hall 2 comes back at once and its work resumes
    back = snaps[OUTAGE_S]
    assert back.power.utility_available and back.power.hall_powered.all()
    assert not back.power.hall_load_shed.any()
    back_tokens = np.mean([s.site["tokens_per_s"] for s in snaps[OUTAGE_S + 1 : OUTAGE_S + 61]])
    assert back_tokens > 0.95 * tokens_before
    assert abs(sim.ledger()["closure_error"]) < 1e-9


def test_a_set_tripping_on_load_sheds_and_a_restored_one_brings_the_hall_back():
    sim = Simulation(scenario(), dt_s=1.0)
    snaps = run_outage(sim, 120)
    assert counts(snaps[-1].power.generator_state) == (0, 0, SETS, 0)
    sim.apply(event(kind="generator-fail", units=14))
    sim.step()
    snap = sim.snapshot(robots=False)
    assert counts(snap.power.generator_state) == (0, 0, 8, 14)
    assert snap.power.hall_load_shed[1] and not snap.power.hall_load_shed[0]
    sim.apply(event(kind="generator-restore", units=14))
    delay = int(sim.scenario.power.generators.start_delay_s)
    sim.step(delay - 1)
    assert counts(sim.snapshot(robots=False).power.generator_state) == (0, 14, 8, 0)
    sim.step(30)  # on the bus and ramped: hall 2 goes back on before its batteries ran out
    snap = sim.snapshot(robots=False)
    assert counts(snap.power.generator_state) == (0, 0, SETS, 0)
    assert snap.power.hall_powered.all() and not snap.power.hall_load_shed.any()
    assert abs(sim.ledger()["closure_error"]) < 1e-9


def test_with_no_source_for_the_cooling_it_stops_and_the_racks_trip_on_temperature():
    """Every set fails and the BESS is at its floor: the bus is dead, the pumps, fans and
    chillers stop at once, and the racks, still fed by their UPS, overheat and trip; with
    the utility back the cooling restarts and the service robots start on the repairs.
    (Smoothing is off: it would charge the battery off its floor in the swings' troughs.)"""
    s = scenario(bess={"initial_soc": 0.1, "soc_min": 0.1, "smoothing": False})
    sim = Simulation(s, dt_s=5.0)
    sim.step(60)
    racks = sim.topology.rack_count
    sim.apply(event(kind="utility-outage", duration_s=3600, generators_failing_to_start=SETS))
    sim.step()
    snap = sim.snapshot(robots=False)
    assert snap.site["cooling_power_kw"] == 0.0 and not snap.cdus.flow_lpm.any()
    assert snap.power.hall_load_shed.all() and snap.site["it_power_kw"] > 0  # on the UPS
    sim.step(round(600 / 5))
    assert sim.snapshot(robots=False).site["tripped_racks"] == racks
    sim.step()  # a rack that tripped inside the last step drew power until it tripped
    snap = sim.snapshot(robots=False)
    assert snap.site["it_power_kw"] == 0.0
    assert snap.power.hall_powered.all()  # the UPS did not run down: the racks tripped
    sim.step(round(3600 / 5) - 1)  # the utility is back for ten minutes
    snap = sim.snapshot(robots=False)
    assert snap.power.utility_available and snap.site["cooling_power_kw"] > 0
    assert 0 < snap.site["tripped_racks"] < racks  # repairs under way
    # only the robot cells' draw went unserved on the dead bus
    assert abs(sim.ledger()["closure_error"]) < 1e-3


def test_a_site_without_backup_goes_dark_and_its_ledger_still_closes():
    """single-rack has no generators and no BESS: nothing energizes the bus, so the
    transformers carry and lose nothing, the cooling stops, and the rack on its UPS
    overheats and trips; every joule is accounted for."""
    s = load("single-rack").model_copy(update={"events": []})
    sim = Simulation(s, dt_s=1.0)
    sim.step(600)
    sim.apply(event(kind="utility-outage", duration_s=1800))
    sim.step()
    snap = sim.snapshot(robots=False)
    assert snap.power.mv_voltage_pu == 0.0 and snap.site["cooling_power_kw"] == 0.0
    assert snap.site["it_power_kw"] > 0  # the UPS carries the rack
    sim.step(300)
    snap = sim.snapshot(robots=False)
    assert snap.racks.tripped.all() and snap.site["it_power_kw"] == 0.0
    sim.step(1800)
    snap = sim.snapshot(robots=False)
    assert snap.power.mv_voltage_pu > 0.9 and snap.site["cooling_power_kw"] > 0
    assert abs(sim.ledger()["closure_error"]) < 1e-9


# ------------------------------------------------------------------ chance of failure


def _fails_per_demand(seed: int, probability: float, demands: int) -> np.ndarray:
    s = scenario(generators={"fail_to_start_probability": probability})
    pc = PowerChain.from_scenario(s, build_topology(s), seed=seed)
    racks = np.zeros(len(pc.topo.rack_row))
    mech = np.zeros(pc.hall_count)
    failed = []
    for k in range(demands):
        t = 1000.0 * k
        pc.start_outage(t, 100.0)
        pc.step(t, 1.0, racks, mech, 0.0, 0.0)  # the utility goes: the sets start
        failed.append(pc.generator_fails_start.copy())
        pc.generator_state[:] = GENERATOR_OFF  # repaired and reset for the next demand
    return np.array(failed)


def test_fail_to_start_draws_follow_the_probability_and_the_seed():
    a = _fails_per_demand(seed=1, probability=0.25, demands=100)
    assert np.array_equal(a, _fails_per_demand(seed=1, probability=0.25, demands=100))
    assert not np.array_equal(a, _fails_per_demand(seed=2, probability=0.25, demands=100))
    # 2,200 draws: the share lies within three standard deviations (0.028) of 0.25
    assert a.mean() == pytest.approx(0.25, abs=0.028)
    assert not _fails_per_demand(seed=1, probability=0.0, demands=20).any()


def test_a_seeded_run_with_a_failure_probability_repeats_itself():
    s = scenario(generators={"fail_to_start_probability": 0.3})

    def states(seed: int) -> np.ndarray:
        sim = Simulation(s, seed=seed, dt_s=5.0)
        sim.step(2)
        sim.apply(event(kind="utility-outage", duration_s=600))
        sim.step(round(120 / 5))
        return sim.snapshot(robots=False).power.generator_state

    first = states(7)
    assert np.array_equal(first, states(7))
    assert counts(first)[3] > 0  # with 0.3 per set, some of the 22 failed for this seed


# ------------------------------------------------------------------ the loader


@pytest.mark.parametrize(
    ("events", "path", "fragments"),
    [
        (
            [
                {
                    "at_s": "1h",
                    "kind": "utility-outage",
                    "duration_s": "10min",
                    "generators_failing_to_start": 23,
                }
            ],
            "events[0].generators_failing_to_start",
            ("23 exceeds the 22 generator sets installed",),
        ),
        (
            [{"at_s": "1h", "kind": "generator-fail", "units": 30}],
            "events[0].units",
            ("30 exceeds the 22 generator sets installed",),
        ),
        (
            [{"at_s": "1h", "kind": "generator-restore", "units": 0}],
            "events[0].units",
            ("must be from 1 to 10000", "got 0"),
        ),
        (
            [
                {
                    "at_s": "1h",
                    "kind": "utility-outage",
                    "duration_s": "10min",
                    "generators_failing": 2,
                }
            ],
            "events[0].generators_failing",
            ("did you mean 'generators_failing_to_start'?",),
        ),
        (
            [{"at_s": "1h", "kind": "generator-trip", "units": 1}],
            "events[0].kind",
            ("unknown kind 'generator-trip'", "'generator-fail'"),
        ),
    ],
)
def test_the_loader_rejects_impossible_generator_events(events, path, fragments):
    data = copy.deepcopy(_raw())
    data["events"] = events
    with pytest.raises(ScenarioError) as info:
        from_dict(data, source="bad.toml")
    problems = {p.path: p.message for p in info.value.problems}
    assert path in problems, info.value.report()
    for fragment in fragments:
        assert fragment in problems[path], problems[path]


def test_the_loader_rejects_a_probability_outside_0_to_1():
    data = copy.deepcopy(_raw())
    data["power"]["generators"]["fail_to_start_probability"] = 1.5
    with pytest.raises(ScenarioError) as info:
        from_dict(data, source="bad.toml")
    assert "power.generators.fail_to_start_probability" in {p.path for p in info.value.problems}
