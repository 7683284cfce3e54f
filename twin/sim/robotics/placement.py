"""Where each robot of a workcell stands, and what stands with it.

The scenario says which robots a cell holds; this module sets them out on the cell's
floor by fixed rules, so that the same scenario always gives the same cell, and so
that every robot's task cycle (``cells.DEFAULT_TASKS``: pick and place points in the
robot's base frame) lands where it should:

- assembly cells: a conveyor runs east through the middle of the cell; the arms stand
  along it in turn on its south and north sides, each at the distance of its pick
  point from the belt and at the height that puts its gripper's fingertips at the
  middle of a part on the belt; every arm picks a part from the belt and puts it back
  further down (upstream and downstream lie along the arm's base y axis);
- humanoid cells: the wheeled dual-arm humanoids stand side by side facing north, each
  in front of its bench; the right arm runs the task cycle, the left arm mirrors it
  about the robot's own vertical mid-plane;
- service cells: the robots' dock is the middle of the cell.

Axes as in ``layout``: x east, y north, z up, metres. Every pose is a 4x4 homogeneous
transform from the robot's base frame to the site.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from twin.scenario import Scenario
from twin.scenario.schema import CONVEYOR_END_GAP_M, WORKCELL_SIZE_M, Conveyor
from twin.sim.layout import Boxes, Layout
from twin.sim.robotics.cells import DEFAULT_TASKS

# Engineering choices for the furniture of a cell, typical of light assembly and bench work.
BELT_TOP_M = 0.75  # above the cell's floor: a usual assembly-conveyor working height
BELT_WIDTH_M = 0.5
BELT_THICKNESS_M = 0.1
BELT_FRAME_WIDTH_M = 0.3
PART_SIZE_M = (0.3, 0.2, 0.15)  # a part on the belt (the spacing default assumes 0.3 m)
FINGER_M = 0.12  # parallel-gripper fingers below the flange (2F-85 class, ~0.13 m)
BENCH_TOP_M = 0.75  # above the cell's floor
BENCH_SIZE_M = (1.2, 0.6)  # along the robot's shoulders, away from it
BENCH_REACH_M = 0.1  # the hands work this far short of the bench's middle, the wheeled
# base's front just at the bench's edge
SHOULDER_HALF_SPAN_M = 0.2  # each arm's base this far left or right of the body's middle
HUMANOID_BASE_M = (0.6, 0.5, 0.3)  # wheeled base: depth, width, height
HUMANOID_TORSO_M = (0.3, 0.36)  # depth and width, up to just above the shoulders
HUMANOID_HEAD_M = 0.22
ZONE_HEIGHT_M = 2.2  # guarded volume over the cell's floor (a fence height, ISO 14120 class)
ZONE_INSET_M = 0.1
PEDESTAL_SIDE_M = {"ur10e": 0.3, "industrial-arm": 0.9, "cloid": 0.0}
MIN_PEDESTAL_M = 0.05  # a base plate at least
STATION_MARGIN_M = 0.4  # of belt between the working stretches of two arms


@dataclass(frozen=True, slots=True)
class WorkcellPlan:
    """Everything placed in the workcells, arms in scenario order (cell, robot group, unit),
    the same order as the simulation's arms (``RobotsState.arm_*``)."""

    arm_cell: np.ndarray  # (arms,) workcell index
    arm_model: tuple[str, ...]  # scenario robot model of each arm
    arm_base: np.ndarray  # (arms, 4, 4): the arm's base frame; a humanoid's right arm
    arm_mirror: np.ndarray  # (arms, 4, 4): maps a point of the arm to its twin (humanoids:
    # the left arm, a reflection about the body's mid-plane); zeros for single arms
    pedestals: Boxes  # under each arm that stands higher than the cell's floor
    conveyor_cell: np.ndarray  # (conveyors,) workcell index
    conveyor_start_m: np.ndarray  # (conveyors, 3) upstream end of the belt, on its top
    conveyor_end_m: np.ndarray
    part_spacing_m: np.ndarray  # (conveyors,)
    conveyors: Boxes  # per conveyor its belt, then its frame
    benches: Boxes
    bodies: Boxes  # humanoids: wheeled base, torso and head of each, in that order
    zones: Boxes  # per workcell: the guarded volume over its floor
    dock_m: np.ndarray  # (cells, 3) service cells' docks (the middle of the cell's floor)

    @property
    def arm_count(self) -> int:
        return len(self.arm_model)


def _pose(yaw_rad: float, position) -> np.ndarray:
    c, s = np.cos(yaw_rad), np.sin(yaw_rad)
    pose = np.eye(4)
    pose[:2, :2] = [[c, -s], [s, c]]
    pose[:3, 3] = position
    return pose


def _boxes(centers: list, sizes: list) -> Boxes:
    return Boxes(
        np.asarray(centers, dtype=float).reshape(-1, 3),
        np.asarray(sizes, dtype=float).reshape(-1, 3),
    )


class _Plan:
    """Collects the pieces while the cells are laid out one by one."""

    def __init__(self) -> None:
        self.arm_cell: list[int] = []
        self.arm_model: list[str] = []
        self.arm_base: list[np.ndarray] = []
        self.arm_mirror: list[np.ndarray] = []
        self.pedestals: tuple[list, list] = ([], [])
        self.conveyor: tuple[list, list, list, list] = ([], [], [], [])
        self.conveyors: tuple[list, list] = ([], [])
        self.benches: tuple[list, list] = ([], [])
        self.bodies: tuple[list, list] = ([], [])

    def arm(
        self,
        cell: int,
        model: str,
        base: np.ndarray,
        floor_z: float,
        mirror: np.ndarray | None = None,
    ) -> None:
        self.arm_cell.append(cell)
        self.arm_model.append(model)
        self.arm_base.append(base)
        self.arm_mirror.append(np.zeros((4, 4)) if mirror is None else mirror)
        side = PEDESTAL_SIDE_M[model]
        if side > 0:
            height = max(base[2, 3] - floor_z, MIN_PEDESTAL_M)
            self.pedestals[0].append((base[0, 3], base[1, 3], floor_z + height / 2))
            self.pedestals[1].append((side, side, height))


def _assembly(plan: _Plan, k: int, cell, centre: np.ndarray, floor_z: float) -> None:
    conveyor = cell.conveyor or Conveyor(
        length_m=WORKCELL_SIZE_M["assembly"][0] - 2 * CONVEYOR_END_GAP_M
    )
    length, spacing = conveyor.length_m, conveyor.part_spacing_m
    top = floor_z + BELT_TOP_M
    west = centre[0] - length / 2
    plan.conveyor[0].append(k)
    plan.conveyor[1].append((west, centre[1], top))
    plan.conveyor[2].append((west + length, centre[1], top))
    plan.conveyor[3].append(spacing)
    # the belt, and the narrower frame it runs on
    plan.conveyors[0].append((centre[0], centre[1], top - BELT_THICKNESS_M / 2))
    plan.conveyors[1].append((length, BELT_WIDTH_M, BELT_THICKNESS_M))
    frame_top = top - BELT_THICKNESS_M
    plan.conveyors[0].append((centre[0], centre[1], (floor_z + frame_top) / 2))
    plan.conveyors[1].append((length - 0.2, BELT_FRAME_WIDTH_M, frame_top - floor_z))
    models = [robot.model for robot in cell.robots for _ in range(robot.count)]
    # each arm gets a stretch of belt in proportion to how far along it the arm works
    span = np.array([2 * abs(DEFAULT_TASKS[m]["pick_m"][1]) + STATION_MARGIN_M for m in models])
    middles = west + length * (np.cumsum(span) - span / 2) / span.sum()
    part_middle = top + PART_SIZE_M[2] / 2
    for unit, model in enumerate(models):
        pick = np.asarray(DEFAULT_TASKS[model]["pick_m"], dtype=float)
        side = -1.0 if unit % 2 == 0 else 1.0  # south, north, south ...
        # the arm reaches along its base x toward the belt: +x for a pick ahead of it
        toward_belt = np.array([0.0, -side])
        reach = np.sign(pick[0]) * toward_belt
        yaw = float(np.arctan2(reach[1], reach[0]))
        base = _pose(
            yaw, (middles[unit], centre[1] + side * abs(pick[0]), part_middle + FINGER_M - pick[2])
        )
        plan.arm(k, model, base, floor_z)


def _humanoid(plan: _Plan, k: int, cell, centre: np.ndarray, floor_z: float) -> None:
    size = WORKCELL_SIZE_M["humanoid"]
    count = sum(robot.count for robot in cell.robots)
    pick = np.asarray(DEFAULT_TASKS["cloid"]["pick_m"], dtype=float)
    shoulder_z = floor_z + BENCH_TOP_M + PART_SIZE_M[2] / 2 + FINGER_M - pick[2]
    yaw = np.pi / 2  # facing north
    reflect = np.diag([1.0, -1.0, 1.0, 1.0])
    for unit in range(count):
        x = centre[0] - size[0] / 2 + (unit + 0.5) * size[0] / count
        y = centre[1] - pick[0] - BENCH_REACH_M
        body = _pose(yaw, (x, y, floor_z))
        right = body @ _pose(0.0, (0.0, -SHOULDER_HALF_SPAN_M, shoulder_z - floor_z))
        plan.arm(k, "cloid", right, floor_z, mirror=body @ reflect @ np.linalg.inv(body))
        plan.benches[0].append((x, centre[1], floor_z + BENCH_TOP_M / 2))
        plan.benches[1].append((BENCH_SIZE_M[0], BENCH_SIZE_M[1], BENCH_TOP_M))
        depth, width, height = HUMANOID_BASE_M
        torso_top = shoulder_z + 0.35  # up to the arms' shoulder joints (0.333 m)
        plan.bodies[0].extend(
            [
                (x, y, floor_z + height / 2),
                (x, y, (floor_z + height + torso_top) / 2),
                (x, y, torso_top + HUMANOID_HEAD_M / 2 + 0.03),
            ]
        )
        # the body faces north: its depth lies along y
        plan.bodies[1].extend(
            [
                (width, depth, height),
                (HUMANOID_TORSO_M[1], HUMANOID_TORSO_M[0], torso_top - floor_z - height),
                (HUMANOID_HEAD_M,) * 3,
            ]
        )


def plan_workcells(scenario: Scenario, layout: Layout) -> WorkcellPlan:
    plan = _Plan()
    cells = layout.workcells
    docks = np.zeros((cells.count, 3))
    for k, cell in enumerate(scenario.workcells):
        floor_z = float(cells.upper_m[k, 2])
        centre = cells.center_m[k]
        docks[k] = (centre[0], centre[1], floor_z)
        if cell.kind == "assembly":
            _assembly(plan, k, cell, centre, floor_z)
        elif cell.kind == "humanoid":
            _humanoid(plan, k, cell, centre, floor_z)
    inset = np.array([2 * ZONE_INSET_M, 2 * ZONE_INSET_M, 0.0])
    zone_size = np.maximum(cells.size_m - inset, 0.0)
    zone_size[:, 2] = ZONE_HEIGHT_M
    zone_centre = cells.center_m.copy()
    zone_centre[:, 2] = cells.upper_m[:, 2] + ZONE_HEIGHT_M / 2
    arms = len(plan.arm_model)
    return WorkcellPlan(
        arm_cell=np.asarray(plan.arm_cell, dtype=int),
        arm_model=tuple(plan.arm_model),
        arm_base=np.asarray(plan.arm_base, dtype=float).reshape(arms, 4, 4),
        arm_mirror=np.asarray(plan.arm_mirror, dtype=float).reshape(arms, 4, 4),
        pedestals=_boxes(*plan.pedestals),
        conveyor_cell=np.asarray(plan.conveyor[0], dtype=int),
        conveyor_start_m=np.asarray(plan.conveyor[1], dtype=float).reshape(-1, 3),
        conveyor_end_m=np.asarray(plan.conveyor[2], dtype=float).reshape(-1, 3),
        part_spacing_m=np.asarray(plan.conveyor[3], dtype=float),
        conveyors=_boxes(*plan.conveyors),
        benches=_boxes(*plan.benches),
        bodies=_boxes(*plan.bodies),
        zones=Boxes(zone_centre, zone_size),
        dock_m=docks,
    )
