"""The default alarm points on real snapshots: limits taken from the scenario, a healthy
site quiet, a pump trip raising its CDU's and racks' alarms with the consequences
suppressed, a utility outage, the scan cost on the gigawatt site, and no Qt."""

from __future__ import annotations

import statistics
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pytest

from twin.alarms import (
    AlarmEngine,
    AlarmKey,
    AlarmState,
    Priority,
    default_points,
    scan_every_steps,
)
from twin.runs.observe import ObservedRun
from twin.scenario import load
from twin.scenario.schema import PumpTrip, UtilityOutage
from twin.sim.engine import Simulation

REPO = Path(__file__).resolve().parents[2]
SELECTION_KINDS = (
    "rack",
    "cdu",
    "hall",
    "dry-coolers",
    "chillers",
    "transformer",
    "bess",
    "generator",
    "workcell",
)  # twin.gui.objects.KINDS


@pytest.fixture(scope="module")
def seoul():
    return load("seoul-ai-factory")


@pytest.fixture(scope="module")
def warm(seoul):
    """Seoul ten minutes in, scanned every second: the state the other tests start from."""
    sim = Simulation.from_scenario(seoul)
    engine = AlarmEngine.from_scenario(seoul, sim.topology)
    run(sim, engine, 600)
    return sim, engine


def run(sim: Simulation, engine: AlarmEngine, seconds: int) -> None:
    for _ in range(round(seconds / sim.dt_s)):
        sim.step()
        engine.update(sim.snapshot())


def fresh(seoul, warm) -> tuple[Simulation, AlarmEngine]:
    """A copy of the warm state (the simulation is deterministic for its seed)."""
    sim = Simulation.from_scenario(seoul)
    engine = AlarmEngine.from_scenario(seoul, sim.topology)
    run(sim, engine, 600)
    np.testing.assert_array_equal(
        sim.snapshot().racks.gpu_temp_c, warm[0].snapshot().racks.gpu_temp_c
    )
    return sim, engine


def test_limits_come_from_the_scenario(seoul):
    from twin.sim.topology import build_topology

    topology = build_topology(seoul)
    points = {p.tag: p for p in default_points(seoul, topology)}
    rack = seoul.rack_types["gb300-nvl72"]
    gpu = points["rack.gpu_temp"]
    high, high_high = gpu.limits
    np.testing.assert_array_equal(high.value, rack.gpu_throttle_c)
    np.testing.assert_array_equal(high_high.value, (rack.gpu_throttle_c + rack.gpu_critical_c) / 2)
    np.testing.assert_array_equal(gpu.deadband, rack.gpu_throttle_c - rack.gpu_throttle_release_c)
    low, low_low = points["rack.flow"].limits
    np.testing.assert_allclose(low_low.value, 0.5 * rack.design_flow_lpm)
    assert low_low.priority is Priority.HIGH and low.priority is Priority.LOW
    cdu = seoul.cdu_types["cdu-2300"]
    np.testing.assert_allclose(points["cdu.dp"].limits[1].value, 0.4 * cdu.dp_setpoint_kpa)
    bess = seoul.power.bess
    assert points["site.bess_soc"].limits[0].value == pytest.approx(100 * (bess.soc_min + 0.1))
    assert points["rack.tripped"].limits[0].priority is Priority.CRITICAL
    assert len(points["row.busway_loading"].components) == len(topology.row_names)


def test_every_point_reads_a_finite_value_per_component_and_names_a_real_source(warm):
    sim, engine = warm
    snapshot = sim.snapshot()
    topology = sim.topology
    counts = {
        "rack": topology.rack_count,
        "cdu": topology.cdu_count,
        "hall": len(topology.hall_names),
    }
    assert len(engine.points) >= 16
    for point in engine.points:
        values = np.atleast_1d(np.asarray(point.read(snapshot), dtype=float))
        assert values.shape == (len(point.components),), point.tag
        assert np.isfinite(values).all(), point.tag
        if point.source_kind is not None:
            assert point.source_kind in SELECTION_KINDS
            assert point.source_index.min() >= 0
            assert point.source_index.max() < counts.get(point.source_kind, 1), point.tag


def test_a_healthy_site_raises_nothing(warm):
    _, engine = warm
    summary = engine.summary()
    assert summary.alarms == ()
    assert summary.raised_by_priority == ()
    assert not summary.flood.active


def test_a_pump_trip_raises_its_cdu_and_racks_and_suppresses_the_consequences(seoul, warm):
    sim, engine = fresh(seoul, warm)
    topology = sim.topology
    cdu = topology.cdu_names.index("H1-CDU-03")
    racks = topology.cdu_racks(cdu)
    sim.apply(PumpTrip(at_s=0, kind="pump-trip", target="H1-CDU-03", pumps=2))
    run(sim, engine, 120)
    assert sim.snapshot().racks.tripped[racks].all()  # no flow: the racks trip
    by_key = {a.key: a for a in engine.summary().alarms}

    no_pump = by_key[AlarmKey("cdu.no_pump", "ON", cdu)]
    assert no_pump.state is AlarmState.UNACKNOWLEDGED
    assert no_pump.priority is Priority.CRITICAL
    assert no_pump.source == ("cdu", cdu) and no_pump.component == "H1-CDU-03"
    for rack in racks:
        tripped = by_key[AlarmKey("rack.tripped", "ON", int(rack))]
        assert tripped.state is AlarmState.UNACKNOWLEDGED and tripped.source == ("rack", rack)
        assert by_key[AlarmKey("rack.flow", "LL", int(rack))].state is AlarmState.SUPPRESSED
        assert engine.state(AlarmKey("rack.gpu_temp", "HH", int(rack))) is AlarmState.SUPPRESSED
    assert engine.state(AlarmKey("cdu.dp", "LL", cdu)) is AlarmState.SUPPRESSED
    # nothing anywhere else on the site
    elsewhere = [
        a
        for a in by_key.values()
        if a.source not in {("cdu", cdu), *(("rack", int(r)) for r in racks)}
    ]
    assert elsewhere == []
    # annunciated: the cause and the trips, not the consequences of lost flow
    assert dict(engine.summary().raised_by_priority) == {Priority.CRITICAL: 1 + racks.size}
    assert engine.summary().flood.active  # 15 new alarms in two minutes

    sim.apply(PumpTrip(at_s=0, kind="pump-restore", target="H1-CDU-03", pumps=2))
    sim.reset_racks()
    run(sim, engine, 300)
    assert engine.state(AlarmKey("cdu.no_pump", "ON", cdu)) is AlarmState.RETURNED_UNACKNOWLEDGED
    for rack in racks:  # flow came back while suppression held: never shown
        assert engine.state(AlarmKey("rack.flow", "LL", int(rack))) is AlarmState.NORMAL
    assert dict(engine.summary().raised_by_priority) == {Priority.CRITICAL: 1 + racks.size}
    assert engine.acknowledge_all("pump replaced") == 1 + racks.size
    assert engine.summary().alarms == ()


def test_a_utility_outage_raises_its_alarm_and_suppresses_the_grid_import_alarm(seoul, warm):
    sim, engine = fresh(seoul, warm)
    sim.apply(UtilityOutage(at_s=0, kind="utility-outage", duration_s=600))
    run(sim, engine, 60)
    assert engine.state(AlarmKey("site.utility_outage", "ON", 0)) is AlarmState.UNACKNOWLEDGED
    assert engine.state(AlarmKey("site.grid_import", "H", 0)) is AlarmState.SUPPRESSED
    assert engine.state(AlarmKey("site.main_transformer_loading", "HH", 0)) is AlarmState.SUPPRESSED
    assert engine.state(AlarmKey("site.bess_soc", "LL", 0)) is not AlarmState.SUPPRESSED
    [outage] = [a for a in engine.summary().alarms if a.key.tag == "site.utility_outage"]
    assert outage.source == ("transformer", 0) and outage.priority is Priority.HIGH


def test_scan_interval_is_about_one_simulated_second():
    assert scan_every_steps(1.0) == 1
    assert scan_every_steps(5.0) == 1
    assert scan_every_steps(0.5) == 2
    assert scan_every_steps(0.1) == 10


def test_an_observing_alarm_engine_scans_as_the_run_steps_and_resets_with_it():
    scenario = load("single-rack")
    sim = Simulation.from_scenario(scenario, dt_s=0.5)
    engine = AlarmEngine.from_scenario(scenario, sim.topology)
    run = ObservedRun(sim, [engine])
    run.step(5)
    assert engine.time_s == 2.0  # scanned once per simulated second: at 1 s and 2 s
    assert sim.time_s == 2.5
    applied = run.apply(PumpTrip(at_s=0, kind="pump-trip", target="CDU", pumps=2))
    assert applied.time_s == 2.5
    run.step(4)
    assert engine.state(AlarmKey("cdu.no_pump", "ON", 0)) is AlarmState.UNACKNOWLEDGED
    run.reset()
    assert sim.time_s == 0.0
    assert engine.summary().alarms == ()
    run.step(2)  # scanning again from the start, at 1 s
    assert engine.time_s == 1.0


@pytest.mark.slow
def test_a_scan_of_the_gigawatt_site_costs_well_under_a_millisecond():
    scenario = load("gigawatt")
    sim = Simulation.from_scenario(scenario)
    engine = AlarmEngine.from_scenario(scenario, sim.topology)
    assert sim.topology.rack_count > 7000
    sim.step(30)
    snapshot = sim.snapshot()
    engine.update(snapshot)
    timings = []
    for _ in range(200):
        started = time.perf_counter()
        engine.update(snapshot)
        timings.append(time.perf_counter() - started)
    assert statistics.median(timings) < 1e-3
    assert sum(len(p.components) * len(p.limits) for p in engine.points) > 35_000


def test_the_alarm_package_imports_no_gui_toolkit():
    code = (
        "import sys, twin.alarms, twin.runs.output\n"
        "print(sorted(m for m in sys.modules if m.split('.')[0] in "
        "('PySide6', 'vispy', 'pyqtgraph', 'OpenGL') or m.startswith('twin.gui')))"
    )
    done = subprocess.run(
        [sys.executable, "-c", code],
        cwd=REPO,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip() == "[]"


def test_alarm_scans_read_a_live_view_without_copies_or_robots():
    from twin.alarms import AlarmEngine
    from twin.scenario import load
    from twin.sim.engine import Simulation

    scenario = load("seoul-ai-factory")
    sim = Simulation.from_scenario(scenario)
    taken = []
    original = sim.live_view

    def spy():
        view = original()
        taken.append(view)
        return view

    sim.live_view = spy
    sim.snapshot = lambda **kwargs: pytest.fail("a scan copied a snapshot")
    ObservedRun(sim, [AlarmEngine.from_scenario(scenario)]).step(3)
    assert len(taken) == 3 and all(v.robots is None for v in taken)

    # a simulation without a live view (a replay) is scanned on snapshots without robots
    class Replayed:
        dt_s = 1.0
        time_s = 0.0

        def __init__(self) -> None:
            self.snapshots = []

        def step(self) -> None:
            self.time_s += self.dt_s

        def snapshot(self, *, robots: bool = True):
            self.snapshots.append(robots)
            return Simulation.snapshot(real, robots=robots)

    real = Simulation.from_scenario(scenario)
    real.step()
    replayed = Replayed()
    ObservedRun(replayed, [AlarmEngine.from_scenario(scenario)]).step(2)
    assert replayed.snapshots == [False, False]


@pytest.mark.parametrize(
    ("event", "key"),
    [
        (
            {"kind": "coolant-leak", "target": "H1-CDU-02", "rate_lpm": 10.0},
            AlarmKey("cdu.leak", "ON", 1),
        ),
        ({"kind": "valve-stuck", "target": "H1-CDU-02"}, AlarmKey("cdu.valve_stuck", "ON", 1)),
        (
            {"kind": "transformer-fail", "target": "hall-1", "units": 1},
            AlarmKey("hall.redundancy_lost", "ON", 0),
        ),
    ],
)
def test_injected_faults_raise_their_alarms(seoul, warm, event, key):
    from pydantic import TypeAdapter

    from twin.scenario.schema import Event

    sim, engine = fresh(seoul, warm)
    assert engine.state(key) is AlarmState.NORMAL
    sim.apply(TypeAdapter(Event).validate_python({"at_s": 0, **event}))
    run(sim, engine, 60)
    assert engine.state(key) is AlarmState.UNACKNOWLEDGED
