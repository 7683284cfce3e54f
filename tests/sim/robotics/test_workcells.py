"""Robots wired into the site: repairs of tripped racks, energy, pace, commands, outputs."""

from __future__ import annotations

import numpy as np
import pytest

from twin.runs.output import component_columns
from twin.scenario import load
from twin.scenario.schema import CduLoss
from twin.sim.engine import Simulation
from twin.sim.robotics.cells import RobotState, StopCause
from twin.sim.snapshot import SITE_COLUMNS

COLUMN = {name: i for i, (name, _) in enumerate(SITE_COLUMNS)}
CDU = "H1-CDU-03"  # serves row 3 of hall-1: 14 racks


@pytest.fixture(scope="module")
def seoul():
    return load("seoul-ai-factory")


def _cdu_loss(sim: Simulation, kind: str) -> None:
    sim.apply(CduLoss(kind=kind, at_s=0, target=CDU))


def _trip_row(sim: Simulation) -> np.ndarray:
    """Take a CDU away until its racks trip, then give it back; the tripped racks."""
    _cdu_loss(sim, "cdu-loss")
    while not sim.state.tripped.any():
        sim.step()
    tripped = np.flatnonzero(sim.state.tripped)
    _cdu_loss(sim, "cdu-restore")
    return tripped


@pytest.fixture(scope="module")
def repaired_run(seoul):
    """Seoul at dt = 5 s: a row trips, hall-1's three robots repair it; every step's site
    values and robot heat, and the snapshot just after the trip."""
    sim = Simulation(seoul, dt_s=5.0)
    sim.step(12)
    tripped = _trip_row(sim)
    after_trip = sim.snapshot()
    stored_j = sim.robots.battery_energy_j()
    robot_kw, heat_kw = [], []
    for _ in range(round(3 * 3600 / 5.0)):
        sim.step()
        robot_kw.append(sim.site_values()[COLUMN["robot_power_kw"]])
        heat_kw.append((sim.robots.hall_heat_w.sum() + sim.robots.outdoor_heat_w) / 1e3)
    return sim, tripped, after_trip, stored_j, np.array(robot_kw), np.array(heat_kw)


def test_a_tripped_rack_gets_a_robot_and_comes_back_online_after_the_repair(repaired_run):
    sim, tripped, after_trip, _, _, _ = repaired_run
    hall_1 = sim.topology.hall_names.index("hall-1")
    assert tripped.size == 14 and np.all(sim.topology.rack_hall[tripped] == hall_1)
    robots = after_trip.robots
    # hall-1's fleet (the first three service robots) left at once for the first three
    # racks, first come first served in rack order; hall-2's stayed docked
    np.testing.assert_array_equal(robots.service_target_rack[:3], tripped[:3])
    assert np.all(robots.service_state[:3] == RobotState.MOVING)
    assert np.all(robots.service_target_rack[3:] == -1)
    assert robots.repairs_open == 14 and robots.repairs_done == 0
    assert all(len(route) >= 2 for route in robots.service_routes_m[:3])
    assert np.isnan(robots.mean_time_to_repair_s)

    # three hours on, every rack is back, each repaired when its robot's mission says
    snap = sim.snapshot()
    assert not snap.racks.tripped.any()
    assert np.all(snap.racks.power_kw[tripped] > 10.0)  # working again
    fleet = sim.robots.fleets[0]
    missions = {m.rack: m for m in fleet.missions}
    assert sorted(missions) == tripped.tolist()
    for mission in missions.values():
        drive_s = mission.path.length_m / fleet.spec.speed_m_s
        assert mission.repaired_s == pytest.approx(mission.started_s + drive_s + 1200.0)
    # the fourth rack waited for the first robot to come home
    first, fourth = missions[tripped[0]], missions[tripped[3]]
    assert fourth.started_s == pytest.approx(first.returned_s)
    expected = np.mean([m.repaired_s - m.requested_s for m in missions.values()])
    assert snap.robots.mean_time_to_repair_s == pytest.approx(expected)
    assert snap.robots.cell_mean_time_to_repair_s[2] == pytest.approx(expected)
    assert expected > 2 * 1200.0  # 14 racks queued for three robots
    assert snap.robots.repairs_done == 14 and snap.robots.repairs_open == 0
    assert snap.site["tripped_racks"] == 0.0


def test_robot_energy_enters_the_ledger(repaired_run):
    sim, _, _, stored_before_j, robot_kw, heat_kw = repaired_run
    ledger = sim.ledger()
    assert abs(ledger["closure_error"]) < 1e-9  # to rounding, robots and all
    # what the robots drew from the site became heat or went into their batteries:
    # over three hours, draw - heat is the change of the robots' stored energy
    drawn_kwh = robot_kw.sum() * 5.0 / 3600.0
    heat_kwh = heat_kw.sum() * 5.0 / 3600.0
    stored = sim.robots.battery_energy_j()
    assert drawn_kwh > 2.0  # arms, humanoids' chargers and the busy service fleet
    assert abs(drawn_kwh - heat_kwh) > 0.05  # batteries did change
    assert drawn_kwh - heat_kwh == pytest.approx(
        (stored - stored_before_j) / 3.6e6, rel=1e-9, abs=1e-9
    )
    # and the ledger's battery term carries the robots' batteries with the site's
    fresh = Simulation(sim.scenario, dt_s=5.0)
    start = fresh.robots.battery_energy_j()
    site_batteries = sim.power_chain.battery_energy_j() - fresh.power_chain.battery_energy_j()
    assert ledger["battery_stored_kwh"] == pytest.approx(
        (site_batteries + stored - start) / 3.6e6, abs=1e-9
    )


def test_deterministic_with_robots_however_steps_are_batched(seoul):
    def run(batch: int) -> Simulation:
        sim = Simulation(seoul, seed=5, dt_s=5.0)
        sim.step(12)
        _trip_row(sim)
        for _ in range(240 // batch):
            sim.step(batch)
        return sim

    a, b = run(1), run(12)
    assert a.time_s == b.time_s
    ra, rb = a.snapshot().robots, b.snapshot().robots
    assert np.any(ra.service_state == RobotState.WORKING)  # robots are out at racks
    for name in (
        "arm_joints_rad",
        "arm_cycles",
        "service_xy_m",
        "service_heading_rad",
        "service_soc",
        "cell_progress",
        "cell_power_kw",
    ):
        np.testing.assert_array_equal(getattr(ra, name), getattr(rb, name), err_msg=name)
    np.testing.assert_array_equal(a.site_values(), b.site_values())


def test_cells_slow_down_when_the_racks_serving_their_ai_are_capped(seoul):
    full = Simulation(seoul, dt_s=10.0)
    capped = Simulation(seoul, dt_s=10.0)
    serving = np.isin(
        capped.topology.row_group[capped.topology.rack_row],
        [capped.topology.row_group_names.index("H2-R")],
    )
    capped.set_rack_power_cap(serving, 0.3)  # the inference racks of the cells' AI
    full.step(360)
    capped.step(360)
    assembly = 0
    fast, slow = full.snapshot().robots, capped.snapshot().robots
    assert slow.cell_cycles[assembly] < 0.9 * fast.cell_cycles[assembly]
    assert slow.cell_oee[assembly] < 0.9 * fast.cell_oee[assembly]
    assert fast.cell_oee[assembly] == pytest.approx(0.98)  # only quality lost at full pace
    assert slow.cell_state_counts[assembly, RobotState.WAITING] > 0
    # waiting robots stand at their idle draw: less energy for fewer parts
    assert sum(c.energy_j.sum() for c in capped.robots.cells) < 0.9 * sum(
        c.energy_j.sum() for c in full.robots.cells
    )


def test_emergency_stop_and_reset_of_a_workcell(seoul):
    sim = Simulation(seoul, dt_s=1.0)
    sim.step(5)
    cell = 0
    arms = sim.snapshot().robots.arm_cell == cell
    sim.workcell_emergency_stop(cell)
    sim.step(10)
    held = sim.snapshot().robots
    assert held.cell_emergency_stop[cell] and not held.cell_intrusion[cell]
    assert np.all(held.arm_state[arms] == RobotState.FAULT)
    assert np.all(held.arm_stop_cause[arms] == StopCause.EMERGENCY_STOP)
    assert held.cell_state_counts[cell, RobotState.FAULT] == arms.sum()
    idle_kw = sum(r.count * r.idle_power_w for r in seoul.workcells[cell].robots) / 1e3
    assert held.cell_power_kw[cell] == pytest.approx(idle_kw)  # controllers on, drives off
    sim.step(10)
    np.testing.assert_array_equal(
        sim.snapshot().robots.arm_joints_rad[arms], held.arm_joints_rad[arms]
    )

    sim.workcell_reset(cell)
    sim.workcell_safety_zone_intrusion(1)
    sim.step(2)
    after = sim.snapshot().robots
    assert not after.cell_emergency_stop[cell]
    assert np.all(np.isin(after.arm_state[arms], [RobotState.MOVING, RobotState.WORKING]))
    assert not np.array_equal(after.arm_joints_rad[arms], held.arm_joints_rad[arms])
    assert after.cell_intrusion[1] and np.all(after.arm_state[~arms] == RobotState.FAULT)
    with pytest.raises(ValueError, match="no workcell number 9"):
        sim.workcell_emergency_stop(9)


def test_component_table_carries_each_cells_figures(seoul):
    sim = Simulation(seoul, dt_s=10.0)
    sim.step(360)
    table = component_columns(sim.time_s, sim.snapshot(), seoul, sim.topology)
    rows = table["kind"] == "workcell"

    def value(component: str, quantity: str) -> float:
        mine = rows & (table["component"] == component) & (table["quantity"] == quantity)
        assert mine.sum() == 1, (component, quantity)
        return float(table["value"][mine][0])

    robots = sim.snapshot().robots
    assert value("assembly-1", "throughput_per_h") == pytest.approx(robots.cell_throughput_per_h[0])
    # an hour of pick and place: every arm finishes a cycle every 12 to 20 s
    assert 3 * 3600 / 20.0 * 0.98 < value("assembly-1", "throughput_per_h") < 3 * 3600 / 11.0
    assert value("assembly-1", "oee") == pytest.approx(0.98)
    assert value("humanoid-bench", "utilization") == pytest.approx(1.0)
    assert value("assembly-1", "robots_moving") + value("assembly-1", "robots_working") == 3
    assert value("hall-1-service", "robots_idle") == 3
    assert value("hall-1-service", "repairs") == 0
    assert np.isnan(value("hall-1-service", "mean_time_to_repair_s"))
    assert not np.any(
        rows & (table["component"] == "hall-1-service") & (table["quantity"] == "oee")
    )
    idle_kw = sum(r.count * r.idle_power_w for r in seoul.workcells[0].robots) / 1e3
    assert value("assembly-1", "power_kw") >= idle_kw
    assert value("assembly-1", "grid_kw") == value("assembly-1", "power_kw")  # on a cable
