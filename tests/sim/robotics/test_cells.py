"""Workcells: energy from motion, output and OEE, faults, batteries, service missions."""

from __future__ import annotations

import numpy as np
import pytest

from twin.sim.robotics.cells import (
    Battery,
    RobotState,
    ServiceFleet,
    ServiceRobotSpec,
    StopCause,
    TaskCell,
    default_cycle,
    task_cycle,
)
from twin.sim.robotics.drives import DRIVE_EFFICIENCY, mechanical_power_w
from twin.sim.robotics.kinematics import UR10E
from twin.sim.robotics.paths import aisle_point_m, hall_floor_grid

from .helpers import random_poses, site


def _integral(t: np.ndarray, power: np.ndarray) -> float:
    return float(((power[1:] + power[:-1]) / 2 * np.diff(t)).sum())


def test_cycle_energy_is_idle_plus_mechanical_over_efficiency():
    points = random_poses(UR10E, 5, seed=14)
    points[-1] = points[0]
    cycle = task_cycle(UR10E, points, [0.5, 1.0, 0.0, 2.0], move_payload_kg=5.0, idle_w=90.0)
    cell = TaskCell(cycle, count=1)
    cell.step(cycle.duration_s)

    # independently: the trajectory sampled densely, torques from the drive model
    t = np.linspace(0.0, cycle.duration_s, 100_001)
    q, qd, qdd = cycle.motion.sample(t)
    power = 90.0 + mechanical_power_w(UR10E, q, qd, qdd, 5.0) / DRIVE_EFFICIENCY
    expected_j = _integral(t, power)
    assert cell.energy_j[0] == pytest.approx(expected_j, rel=1e-4)
    assert cell.power_w == pytest.approx(expected_j / cycle.duration_s, rel=1e-4)
    assert expected_j > 1.1 * 90.0 * cycle.duration_s  # motion is a real share of it
    assert cell.cycles_done[0] == 1
    assert cell.grid_power_w == cell.power_w  # no battery: the site feeds the robot


def test_state_after_a_step_does_not_depend_on_the_step_length():
    cycle = default_cycle("ur10e", 90.0)
    coarse, fine = TaskCell(cycle, 3), TaskCell(cycle, 3)
    for _ in range(4):
        coarse.step(300.0)
    for _ in range(12_000):
        fine.step(0.1)
    np.testing.assert_array_equal(coarse.cycles_done, fine.cycles_done)
    np.testing.assert_allclose(coarse.energy_j, fine.energy_j, rtol=1e-9)
    np.testing.assert_allclose(coarse.state_time_s, fine.state_time_s, atol=1e-6)
    np.testing.assert_allclose(coarse.cycle_pos_s, fine.cycle_pos_s, atol=1e-6)


@pytest.mark.parametrize("pace", [1.0, 0.4, 0.0])
@pytest.mark.parametrize("dt_s", [0.1, 1.0, 7.3, 300.0])
def test_a_step_of_every_robot_on_floats_matches_the_array_path_to_the_last_bit(pace, dt_s):
    cycle = default_cycle("ur10e", 90.0)
    floats, arrays = TaskCell(cycle, 3), TaskCell(cycle, 3)
    for cell in (floats, arrays):
        cell.step(1.0, pace)  # sets the wait that goes with the pace
        cell.cycle_pos_s = np.array([0.0, 0.37 * cycle.duration_s, cycle.duration_s + 0.5])
    for _ in range(5):
        used = floats._advance_all(dt_s)
        expected = arrays._advance_running(slice(None), np.full(3, dt_s))
        np.testing.assert_array_equal(used, expected)
        np.testing.assert_array_equal(floats.cycle_pos_s, arrays.cycle_pos_s)
        np.testing.assert_array_equal(floats.state_time_s, arrays.state_time_s)
        np.testing.assert_array_equal(floats.cycles_done, arrays.cycles_done)


def test_throughput_and_oee_with_and_without_waiting_for_the_ai():
    cycle = default_cycle("industrial-arm", 400.0)
    cell = TaskCell(cycle, 1, quality=0.97)
    cell.step(3600.0)
    cycles = int(3600.0 // cycle.duration_s)
    assert cell.cycles_done[0] == cycles
    assert cell.throughput_per_h == pytest.approx(cycles * 0.97)
    assert cell.utilization == pytest.approx(1.0)
    assert cell.oee == pytest.approx(0.97)

    # racks deliver half their work: every cycle waits as long again for the next plan
    cell = TaskCell(cycle, 1, quality=0.97)
    cell.step(3600.0, pace=0.5)
    assert cell.period_s == pytest.approx(2 * cycle.duration_s)
    assert cell.cycles_done[0] == int((3600.0 - cycle.duration_s) // (2 * cycle.duration_s)) + 1
    assert cell.performance == pytest.approx(0.5, abs=cycle.duration_s / 3600.0)
    assert cell.availability == pytest.approx(1.0)
    assert cell.oee == pytest.approx(0.97 * cell.performance)
    assert cell.state_time_s[0, RobotState.WAITING] > 1700.0


def test_emergency_stop_fault_reset_idle_start():
    cycle = default_cycle("ur10e", 90.0)
    cell = TaskCell(cycle, 2)
    cell.step(1.0)
    assert np.all(cell.state != RobotState.FAULT)
    cell.emergency_stop()
    assert np.all(cell.state == RobotState.FAULT)
    assert np.all(cell.stop_cause == StopCause.EMERGENCY_STOP)
    held, done = cell.cycle_pos_s.copy(), cell.cycles_done.copy()
    cell.step(60.0)
    np.testing.assert_array_equal(cell.cycle_pos_s, held)  # stopped where they were
    np.testing.assert_array_equal(cell.cycles_done, done)
    assert cell.power_w == pytest.approx(2 * 90.0)  # controllers on, drives off
    cell.start()  # a fault is not cleared by start
    assert np.all(cell.state == RobotState.FAULT)
    cell.reset()
    assert np.all(cell.state == RobotState.IDLE)
    cell.step(10.0)
    np.testing.assert_array_equal(cell.cycle_pos_s, held)
    cell.start()
    cell.step(0.5)
    assert np.all(cell.cycle_pos_s == held + 0.5)
    assert cell.availability == pytest.approx(1.5 / (1.5 + 60.0))
    assert cell.utilization == pytest.approx(1.5 / 71.5)


def test_safety_zone_intrusion_stops_the_cell_until_reset():
    cell = TaskCell(default_cycle("ur10e", 90.0), 2)
    cell.step(3.0)
    cell.safety_zone_intrusion()
    assert np.all(cell.stop_cause == StopCause.SAFETY_ZONE_INTRUSION)
    cell.emergency_stop()  # an emergency stop overrides the protective stop
    assert np.all(cell.stop_cause == StopCause.EMERGENCY_STOP)
    cell.reset()
    cell.start()
    cell.step(1.0)
    assert np.all(np.isin(cell.state, [RobotState.MOVING, RobotState.WORKING]))


def test_battery_low_sends_the_robot_to_charge_and_back_to_work():
    cycle = default_cycle("cloid", 120.0)
    battery = Battery(
        capacity_wh=10.0, charger_w=300.0, charger_efficiency=0.9, low_soc=0.2, resume_soc=0.9
    )
    # when the robot has used 80 % of 10 Wh, from a dense integral of its power
    t = np.linspace(0.0, cycle.duration_s, 60_001)
    power = cycle.power_w(t)
    per_cycle = _integral(t, power)
    spare = 0.8 * battery.capacity_j
    whole = int(spare // per_cycle)
    used = np.concatenate([[0.0], np.cumsum((power[1:] + power[:-1]) / 2 * np.diff(t))])
    t_low = whole * cycle.duration_s + np.interp(spare - whole * per_cycle, used, t)
    assert t_low > cycle.duration_s  # several cycles: the table is exercised end to end

    cell = TaskCell(cycle, 1, battery=battery)
    cell.step(t_low - 0.5)
    assert cell.state[0] in (RobotState.MOVING, RobotState.WORKING)
    cell.step(1.0)
    assert cell.state[0] == RobotState.CHARGING
    assert cell.stop_cause[0] == StopCause.BATTERY_LOW
    held = cell.cycle_pos_s.copy()

    charge_s = (0.9 - 0.2) * battery.capacity_j / (300.0 * 0.9 - 120.0)  # 168 s
    cell.step(100.0)
    assert cell.grid_power_w == pytest.approx(300.0)  # the charger runs flat out
    assert cell.power_w == pytest.approx(120.0)  # the docked robot idles
    np.testing.assert_array_equal(cell.cycle_pos_s, held)
    cell.step(charge_s - 100.5 - 0.1)  # charging began 0.5 s into the step before
    assert cell.state[0] == RobotState.CHARGING
    cell.step(0.2)
    assert cell.state[0] in (RobotState.MOVING, RobotState.WORKING)
    assert cell.soc[0] < 0.9
    assert cell.state_time_s[0, RobotState.CHARGING] == pytest.approx(charge_s)

    # one long step lands in the same place as the short ones
    whole_step = TaskCell(cycle, 1, battery=battery)
    whole_step.step(cell.time_s)
    np.testing.assert_allclose(whole_step.soc, cell.soc, rtol=1e-9)
    np.testing.assert_allclose(whole_step.cycle_pos_s, cell.cycle_pos_s, atol=1e-6)


# ---------------------------------------------------------------------- service robots


@pytest.fixture(scope="module")
def hall():
    scenario, topology, layout = site("seoul-ai-factory")
    service = next(k for k, cell in enumerate(scenario.workcells) if cell.kind == "service")
    dock = layout.workcells.center_m[service, :2]
    return topology, layout, hall_floor_grid(layout, 0), dock


def _rack(topology, k: int) -> int:
    return int(np.flatnonzero(topology.rack_hall == 0)[k])


@pytest.mark.parametrize("dt_s", [300.0, 0.5])
def test_service_robot_reaches_the_rack_and_repairs_it_in_the_expected_time(hall, dt_s):
    topology, layout, grid, dock = hall
    spec = ServiceRobotSpec()
    fleet = ServiceFleet(grid, layout, dock, count=2, spec=spec, battery=Battery(1200.0))
    rack = _rack(topology, -1)
    mission = fleet.dispatch(rack)
    route = mission.path
    np.testing.assert_array_equal(route.points_m[0], dock)
    np.testing.assert_array_equal(route.points_m[-1], aisle_point_m(grid, layout, rack))
    assert route.length_m >= np.linalg.norm(route.points_m[-1] - dock)
    drive_s = route.length_m / 1.0  # the spec's 1.0 m/s

    events = []
    for _ in range(round(3600.0 / dt_s)):
        events += fleet.step(dt_s)
    assert [(e.kind, e.rack) for e in events] == [("repaired", rack), ("returned", rack)]
    assert events[0].at_s == pytest.approx(drive_s + 1200.0, abs=1e-9)
    assert events[1].at_s == pytest.approx(2 * drive_s + 1200.0, abs=1e-9)
    assert fleet.mean_time_to_repair_s == pytest.approx(drive_s + 1200.0, abs=1e-9)
    assert np.all(fleet.state == RobotState.IDLE)

    # energy: driving, repairing, then idling at the dock for the rest of the hour
    mission_j = 2 * drive_s * spec.drive_w + 1200.0 * spec.repair_w
    expected_j = mission_j + (3600.0 - events[1].at_s) * spec.idle_w
    assert fleet.energy_j[0] == pytest.approx(expected_j, rel=1e-9)
    assert fleet.soc[0] == pytest.approx(1.0 - expected_j / (1200.0 * 3600.0), rel=1e-9)
    assert spec.drive_w > spec.idle_w


def test_robot_drives_along_its_route(hall):
    topology, layout, grid, dock = hall
    fleet = ServiceFleet(grid, layout, dock, count=1)
    mission = fleet.dispatch(_rack(topology, 100))
    fleet.step(mission.path.length_m / 2)
    np.testing.assert_allclose(
        fleet.positions_m()[0], mission.path.point_at_m(mission.path.length_m / 2), atol=1e-9
    )
    assert fleet.state[0] == RobotState.MOVING
    fleet.step(mission.path.length_m / 2 + 1.0)
    assert fleet.state[0] == RobotState.WORKING
    np.testing.assert_allclose(fleet.positions_m()[0], mission.path.points_m[-1])


def test_second_request_waits_for_the_only_robot(hall):
    topology, layout, grid, dock = hall
    fleet = ServiceFleet(grid, layout, dock, count=1)
    first, second = fleet.dispatch(_rack(topology, 0)), fleet.dispatch(_rack(topology, 50))
    fleet.step(6 * 3600.0)
    first_m, second_m = first.path.length_m, second.path.length_m  # driven at 1 m/s
    assert first.returned_s == pytest.approx(2 * first_m + 1200.0)
    assert second.started_s == pytest.approx(first.returned_s)
    assert second.repaired_s == pytest.approx(first.returned_s + second_m + 1200.0)
    assert fleet.mean_time_to_repair_s == pytest.approx(
        (first.repaired_s + second.repaired_s) / 2
    )  # both asked for at t = 0


def test_emergency_stop_delays_the_mission_by_the_stop(hall):
    topology, layout, grid, dock = hall
    fleet = ServiceFleet(grid, layout, dock, count=1)
    mission = fleet.dispatch(_rack(topology, 30))
    fleet.step(10.0)
    fleet.emergency_stop()
    assert fleet.state[0] == RobotState.FAULT
    where = fleet.positions_m()[0]
    fleet.step(50.0)
    np.testing.assert_array_equal(fleet.positions_m()[0], where)
    fleet.reset()
    assert fleet.state[0] == RobotState.IDLE
    fleet.step(40.0)
    fleet.start()
    fleet.step(3 * 3600.0)
    assert mission.repaired_s == pytest.approx(mission.path.length_m + 1200.0 + 90.0)


def test_robot_too_low_for_a_job_charges_first(hall):
    topology, layout, grid, dock = hall
    spec = ServiceRobotSpec()
    route = ServiceFleet(grid, layout, dock, 1).route(_rack(topology, 20))
    need_j = spec.mission_energy_j(route.length_m)
    capacity_wh = need_j / 0.35 / 3600.0  # one job takes 35 % of the battery
    battery = Battery(capacity_wh, initial_soc=0.5)  # 0.5 - 0.35 < 0.2: not enough
    fleet = ServiceFleet(grid, layout, dock, 1, spec=spec, battery=battery)
    mission = fleet.dispatch(_rack(topology, 20))
    assert fleet.state[0] == RobotState.CHARGING
    assert fleet.stop_cause[0] == StopCause.BATTERY_LOW
    charge_s = (0.9 - 0.5) * battery.capacity_j / (300.0 * 0.9 - spec.idle_w)
    fleet.step(charge_s + 10.0)
    assert fleet.state[0] == RobotState.MOVING
    assert mission.started_s == pytest.approx(charge_s)
    assert fleet.grid_energy_j[0] == pytest.approx(300.0 * charge_s)


def test_a_job_bigger_than_the_battery_is_refused_at_once(hall):
    topology, layout, grid, dock = hall
    tiny = Battery(capacity_wh=1.0)
    fleet = ServiceFleet(grid, layout, dock, 1, battery=tiny)
    with pytest.raises(ValueError, match="more than a charged battery holds"):
        fleet.dispatch(_rack(topology, 0))
    assert fleet.missions == []


def test_gripper_holds_the_part_from_the_grip_to_the_release():
    cycle = default_cycle("ur10e", 90.0)
    motion = cycle.motion
    # segments: move, dwell, ...; the grip is the dwell after the second move (down to the
    # pick), the release the dwell after the fifth (down to the place)
    grip, release = motion.segment_start_s[3], motion.segment_start_s[9]
    times = np.array(
        [grip - 0.1, grip + 0.1, (grip + release) / 2, release + 0.1, motion.duration_s - 0.1]
    )
    cell = TaskCell(cycle, count=times.size)
    cell.cycle_pos_s = times
    np.testing.assert_array_equal(cell.gripper_closed(), [False, True, True, False, False])


def test_service_robots_face_their_way_and_name_their_rack(hall):
    topology, layout, grid, dock = hall
    fleet = ServiceFleet(grid, layout, dock, count=2)
    rack = _rack(topology, 60)
    path = fleet.dispatch(rack).path
    np.testing.assert_array_equal(fleet.targets(), [rack, -1])
    np.testing.assert_array_equal(fleet.route_m(0), path.points_m)
    assert fleet.route_m(1).shape == (0, 2)
    steps = np.diff(path.points_m, axis=0)
    first = np.arctan2(steps[0, 1], steps[0, 0])
    fleet.step(0.5)
    assert fleet.headings_rad()[0] == pytest.approx(first)
    fleet.step(path.length_m - 0.5 + 10.0)  # at the rack, working
    last = np.arctan2(steps[-1, 1], steps[-1, 0])
    assert fleet.headings_rad()[0] == pytest.approx(last)
    fleet.step(1190.5)  # repaired, half a metre on the way home: back along the last run
    turned = np.angle(np.exp(1j * (fleet.headings_rad()[0] - last)))
    assert abs(turned) == pytest.approx(np.pi)
    door = grid.nearest_free_m(dock) - dock
    assert fleet.headings_rad()[1] == pytest.approx(np.arctan2(door[1], door[0]))


def test_a_docked_fleet_coasts_exactly_as_it_steps():
    """Standing docked, a fleet's draws are worked out once; the result is the same."""
    layout = site("seoul-ai-factory")[2]
    grid = hall_floor_grid(layout, 0)
    dock = layout.workcells.center_m[2, :2]
    battery = Battery(50.0, initial_soc=0.5)  # charges to resume within the hour
    coarse = ServiceFleet(grid, layout, dock, 2, battery=battery)
    fine = ServiceFleet(grid, layout, dock, 2, battery=battery)
    coarse.step(3600.0)
    for _ in range(3600):
        fine.step(1.0)
    np.testing.assert_allclose(fine.soc, coarse.soc, rtol=1e-9)
    np.testing.assert_allclose(fine.grid_energy_j, coarse.grid_energy_j, rtol=1e-9)
    np.testing.assert_allclose(fine.state_time_s, coarse.state_time_s, atol=1e-6)
    assert fine.state_time_s[0, RobotState.CHARGING] > 0  # a charge came and went
    np.testing.assert_array_equal(fine.state, coarse.state)


def test_an_idle_docked_fleet_stays_charged_on_its_chargers():
    """Docked robots top up on their chargers: two days idle leave them at resume_soc,
    drawing their idle power from the site; the same in 300 s steps as in 1 s steps."""
    layout = site("seoul-ai-factory")[2]
    grid = hall_floor_grid(layout, 0)
    dock = layout.workcells.center_m[2, :2]
    battery = Battery(50.0)  # would run low within two hours at the 60 W idle draw
    coarse = ServiceFleet(grid, layout, dock, 2, battery=battery)
    fine = ServiceFleet(grid, layout, dock, 2, battery=battery)
    for _ in range(48 * 12):
        coarse.step(300.0)
        assert np.all(coarse.soc >= battery.resume_soc)
    for _ in range(48 * 3600):
        fine.step(1.0)
    np.testing.assert_allclose(fine.soc, coarse.soc, rtol=0.0, atol=1e-9)
    np.testing.assert_array_equal(coarse.soc, battery.resume_soc)
    np.testing.assert_array_equal(coarse.state, RobotState.IDLE)
    # idled down from full to resume on the battery, then fed by the charger
    drain_s = (1.0 - battery.resume_soc) * battery.capacity_j / 60.0
    np.testing.assert_allclose(coarse.grid_energy_j, 60.0 * (48 * 3600.0 - drain_s), rtol=1e-9)
    np.testing.assert_allclose(fine.grid_energy_j, coarse.grid_energy_j, rtol=1e-9)
    assert coarse.grid_power_w == pytest.approx(2 * 60.0)


def test_a_robot_back_from_a_mission_charges_to_resume_at_the_charger_rate(hall):
    topology, layout, grid, dock = hall
    spec = ServiceRobotSpec()
    rack = _rack(topology, 20)
    route = ServiceFleet(grid, layout, dock, 1).route(rack)
    battery = Battery(spec.mission_energy_j(route.length_m) / 0.35 / 3600.0)
    fleet = ServiceFleet(grid, layout, dock, 1, spec=spec, battery=battery)
    mission = fleet.dispatch(rack)
    back_s = 2 * route.length_m + spec.repair_s
    fleet.step(back_s + 1.0)
    assert mission.returned_s == pytest.approx(back_s)
    back_soc = 1.0 - 0.35  # the job took 35 % of the battery
    assert fleet.state[0] == RobotState.CHARGING
    assert fleet.stop_cause[0] == StopCause.NONE  # topping up, free for the next job
    rate = battery.charge_rate_w(spec.idle_w)
    charge_s = (battery.resume_soc - back_soc) * battery.capacity_j / rate
    assert fleet.soc[0] == pytest.approx(back_soc + rate / battery.capacity_j, rel=1e-9)
    grid_before = fleet.grid_energy_j[0]
    fleet.step(charge_s - 2.0)
    assert fleet.state[0] == RobotState.CHARGING
    assert fleet.soc[0] < battery.resume_soc
    fleet.step(2.0)
    assert fleet.state[0] == RobotState.IDLE
    assert fleet.soc[0] == battery.resume_soc
    assert fleet.state_time_s[0, RobotState.CHARGING] == pytest.approx(charge_s, abs=1e-6)
    assert fleet.grid_energy_j[0] - grid_before == pytest.approx(
        battery.charger_w * (charge_s - 1.0) + spec.idle_w * 1.0, rel=1e-9
    )


@pytest.mark.parametrize("idle_h", [17.0, 30.0])
def test_a_dispatch_after_a_long_idle_is_taken_at_once(hall, idle_h):
    topology, layout, grid, dock = hall
    fleet = ServiceFleet(grid, layout, dock, 2, battery=Battery(1200.0))
    for _ in range(round(idle_h * 12)):
        fleet.step(300.0)
    rack = _rack(topology, -1)
    mission = fleet.dispatch(rack)
    assert mission.started_s == fleet.time_s
    events = []
    for _ in range(12):
        events += fleet.step(300.0)
    assert [(e.kind, e.rack) for e in events] == [("repaired", rack), ("returned", rack)]
    assert mission.repaired_s == pytest.approx(
        idle_h * 3600.0 + mission.path.length_m + 1200.0, abs=1e-6
    )
