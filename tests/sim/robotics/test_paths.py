"""Floor paths: clear of racks and walls, into the right aisle, or a clear refusal."""

from __future__ import annotations

import dataclasses
import itertools

import numpy as np
import pytest

from twin.sim.robotics.paths import (
    AMR_CLEARANCE_M,
    FloorPath,
    NoPathError,
    aisle_point_m,
    hall_floor_grid,
    plan_path,
)

from .helpers import site


def _distance_to_boxes(points: np.ndarray, lower: np.ndarray, upper: np.ndarray) -> np.ndarray:
    """(points,) distance from each point to the nearest box (zero inside one)."""
    out = []
    for chunk in np.array_split(points, max(1, len(points) // 1000)):
        gap = np.maximum(
            np.maximum(lower[None] - chunk[:, None], chunk[:, None] - upper[None]), 0.0
        )
        out.append(np.hypot(gap[..., 0], gap[..., 1]).min(axis=1))
    return np.concatenate(out)


def _dense(points: np.ndarray, spacing_m: float = 0.01) -> np.ndarray:
    out = [points[:1]]
    for a, b in itertools.pairwise(points):
        n = max(2, int(np.ceil(np.linalg.norm(b - a) / spacing_m)) + 1)
        out.append(a + np.linspace(0.0, 1.0, n)[1:, None] * (b - a))
    return np.vstack(out)


@pytest.fixture(scope="module")
def gigawatt_hall():
    _, topology, layout = site("gigawatt")
    areas = layout.halls.size_m[:, 0] * layout.halls.size_m[:, 1]
    hall = int(np.argmax(areas))
    return topology, layout, hall, hall_floor_grid(layout, hall)


@pytest.mark.parametrize("pick", ["far", "middle", "near"])
def test_path_keeps_clear_of_racks_and_walls_and_reaches_the_cold_aisle(gigawatt_hall, pick):
    topology, layout, hall, grid = gigawatt_hall
    racks = np.flatnonzero(topology.rack_hall == hall)
    rack = int({"far": racks[-1], "middle": racks[racks.size // 2], "near": racks[5]}[pick])
    dock = layout.hall_rect_m(hall)[:2] + np.array([2.0, -6.0])  # outside, south of the hall
    door = grid.nearest_free_m(dock)
    goal = aisle_point_m(grid, layout, rack)
    path = plan_path(grid, door, goal)
    np.testing.assert_array_equal(path.points_m[0], door)
    np.testing.assert_array_equal(path.points_m[-1], goal)

    # every point of the polyline keeps the robot's radius from every rack and CDU ...
    points = _dense(path.points_m)
    bounds = layout.hall_rect_m(hall)
    in_hall = topology.rack_hall == hall
    cdus = topology.cdu_hall == hall
    lower = np.vstack([layout.racks.lower_m[in_hall, :2], layout.cdus.lower_m[cdus, :2]])
    upper = np.vstack([layout.racks.upper_m[in_hall, :2], layout.cdus.upper_m[cdus, :2]])
    assert _distance_to_boxes(points, lower, upper).min() >= AMR_CLEARANCE_M - 1e-9
    # ... and from the walls
    assert np.all(points >= bounds[:2] + AMR_CLEARANCE_M - 1e-9)
    assert np.all(points <= bounds[2:] - AMR_CLEARANCE_M + 1e-9)

    # the goal is in front of the rack: in its cold aisle, before the facing row or wall
    centre, size = layout.racks.center_m[rack], layout.racks.size_m[rack]
    front = layout.rack_front[rack]
    ahead = (goal[1] - (centre[1] + front * size[1] / 2)) * front
    facing = (layout.racks.center_m[:, 1] - centre[1]) * front > 0
    next_face = np.abs(layout.racks.center_m[facing & in_hall, 1] - centre[1]).min(initial=np.inf)
    aisle_m = min(next_face - size[1], abs(bounds[1 if front < 0 else 3] - centre[1]) - size[1] / 2)
    assert 0.0 < ahead < aisle_m
    assert abs(goal[0] - centre[0]) <= size[0] / 2

    # no shorter than the straight line, and not absurdly longer than going round the rows
    straight = np.linalg.norm(goal - door)
    manhattan = np.abs(goal - door).sum()
    assert straight - 1e-9 <= path.length_m <= manhattan + 2 * bounds[2] - 2 * bounds[0]


def test_same_request_same_path(gigawatt_hall):
    topology, layout, hall, grid = gigawatt_hall
    rack = int(np.flatnonzero(topology.rack_hall == hall)[300])
    door = grid.nearest_free_m(layout.hall_rect_m(hall)[:2])
    first = plan_path(grid, door, aisle_point_m(grid, layout, rack))
    second = plan_path(grid, door, aisle_point_m(grid, layout, rack))
    np.testing.assert_array_equal(first.points_m, second.points_m)


def test_point_along_the_path():
    path = FloorPath(np.array([[0.0, 0.0], [3.0, 0.0], [3.0, 4.0]]))
    assert path.length_m == 7.0
    np.testing.assert_allclose(path.point_at_m(5.0), [3.0, 2.0])
    np.testing.assert_allclose(path.point_at_m(99.0), [3.0, 4.0])
    np.testing.assert_allclose(path.reversed().point_at_m(1.0), [3.0, 3.0])


def test_walled_off_goal_has_no_path(gigawatt_hall):
    topology, layout, hall, grid = gigawatt_hall
    racks = np.flatnonzero(topology.rack_hall == hall)
    goal = aisle_point_m(grid, layout, int(racks[-1]))
    start = grid.nearest_free_m(layout.hall_rect_m(hall)[:2])
    blocked = grid.free.copy()
    blocked[blocked.shape[0] // 2, :] = False  # a wall across the whole hall
    walled = dataclasses.replace(grid, free=blocked)
    with pytest.raises(NoPathError) as caught:
        plan_path(walled, start, goal)
    assert caught.value.reason == "obstacles separate them"
    assert f"({goal[0]:.2f}, {goal[1]:.2f})" in str(caught.value)


def test_start_inside_a_rack_is_refused(gigawatt_hall):
    _, layout, hall, grid = gigawatt_hall
    rack_centre = layout.racks.center_m[0, :2]
    with pytest.raises(NoPathError, match="the start is not on free floor"):
        plan_path(grid, rack_centre, grid.nearest_free_m(layout.hall_rect_m(hall)[:2]))
