"""Where the robots stand: every arm's task lands on its belt or bench, humanoids mirror."""

from __future__ import annotations

import numpy as np
import pytest

from twin.sim.robotics.cells import DEFAULT_TASKS
from twin.sim.robotics.kinematics import CHAINS, forward_kinematics
from twin.sim.robotics.placement import (
    BENCH_TOP_M,
    FINGER_M,
    PART_SIZE_M,
    WorkcellPlan,
    plan_workcells,
)
from twin.sim.robotics.workcells import robot_units

from .helpers import site


@pytest.fixture(scope="module")
def seoul() -> tuple[object, WorkcellPlan]:
    scenario, _, layout = site("seoul-ai-factory")
    return scenario, plan_workcells(scenario, layout)


def _point_in_site(plan: WorkcellPlan, arm: int, point_m) -> np.ndarray:
    return (plan.arm_base[arm] @ np.append(point_m, 1.0))[:3]


def test_arms_follow_the_scenarios_robots_in_the_simulations_order(seoul):
    scenario, plan = seoul
    units = robot_units(scenario)
    assert plan.arm_model == tuple(robot.model for _, robot, _ in units)
    np.testing.assert_array_equal(plan.arm_cell, [k for k, _, _ in units])
    assert plan.arm_model == ("ur10e", "ur10e", "industrial-arm", "cloid", "cloid")


def test_assembly_arms_pick_and_place_on_the_belt_at_the_parts_middle(seoul):
    plan = seoul[1]
    start, end = plan.conveyor_start_m[0], plan.conveyor_end_m[0]
    part_middle = start[2] + PART_SIZE_M[2] / 2
    for arm in np.flatnonzero(plan.arm_cell == 0):
        task = DEFAULT_TASKS[plan.arm_model[arm]]
        for point in (task["pick_m"], task["place_m"]):
            at = _point_in_site(plan, arm, point)
            assert at[1] == pytest.approx(start[1])  # on the belt's centre line
            assert start[0] <= at[0] <= end[0]  # along it
            assert at[2] - FINGER_M == pytest.approx(part_middle)  # fingertips at the part
        # the arm's base stands on the cell's floor or on a pedestal, never below
        assert plan.arm_base[arm, 2, 3] >= plan.dock_m[0, 2] - 0.01
    # the arms alternate sides of the belt and do not share a stretch of it
    sides = np.sign(plan.arm_base[plan.arm_cell == 0, 1, 3] - start[1])
    np.testing.assert_array_equal(sides, [-1, 1, -1])
    xs = plan.arm_base[plan.arm_cell == 0, 0, 3]
    assert np.all(np.diff(xs) > 1.0)


def test_humanoid_arms_work_on_the_bench_and_the_left_mirrors_the_right(seoul):
    _, plan = seoul
    humanoids = np.flatnonzero(plan.arm_cell == 1)
    assert humanoids.size == 2 and plan.benches.count == 2 and plan.bodies.count == 6
    chain = CHAINS["cloid"]
    q = np.array([0.3, -0.4, 0.2, -2.0, 0.1, 1.8, 0.5])
    for k, arm in enumerate(humanoids):
        pick = _point_in_site(plan, arm, DEFAULT_TASKS["cloid"]["pick_m"])
        bench = plan.benches
        assert np.all(np.abs(pick[:2] - bench.center_m[k, :2]) <= bench.size_m[k, :2] / 2)
        assert pick[2] - FINGER_M == pytest.approx(
            plan.dock_m[1, 2] + BENCH_TOP_M + PART_SIZE_M[2] / 2
        )
        right = forward_kinematics(chain, q, plan.arm_base[arm]).joint_points_m
        left = (plan.arm_mirror[arm] @ np.column_stack([right, np.ones(len(right))]).T).T
        body = plan.bodies.center_m[3 * k]
        # mirror images about the body's north-south mid-plane: same height and northing,
        # eastings the same distance either side of the body
        np.testing.assert_allclose(left[:, 1:3], right[:, 1:3], atol=1e-9)
        np.testing.assert_allclose(left[:, 0] - body[0], body[0] - right[:, 0], atol=1e-9)
        assert right[0, 0] > body[0]  # facing north, the right arm is east


def test_zones_cover_each_cell_and_docks_sit_in_theirs(seoul):
    scenario, _, layout = site("seoul-ai-factory")
    plan = seoul[1]
    cells = layout.workcells
    assert plan.zones.count == cells.count
    assert np.all(plan.zones.lower_m[:, :2] >= cells.lower_m[:, :2])
    assert np.all(plan.zones.upper_m[:, :2] <= cells.upper_m[:, :2])
    np.testing.assert_allclose(plan.zones.lower_m[:, 2], cells.upper_m[:, 2])
    service = [k for k, c in enumerate(scenario.workcells) if c.kind == "service"]
    np.testing.assert_allclose(plan.dock_m[service, :2], cells.center_m[service, :2])
