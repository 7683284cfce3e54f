"""Paths for mobile robots across a hall floor: an occupancy grid and A*.

The grid covers one hall; racks and CDUs standing in it are obstacles. A robot is a
disc of radius ``clearance_m`` (its footprint's circumscribed circle, so it may turn
anywhere), and a cell is free only when the robot's centre can be anywhere in the
whole cell without the disc touching an obstacle or a wall. Then every straight
segment between two free neighbouring cells (diagonals included) is safe, and so is
the A* path through them. The path is then shortened by dropping waypoints wherever
the straight line between two of them keeps its clearance (an exact segment-to-box
test), which leaves a short polyline of straight runs.

Ties in A* are broken by insertion order, so the same grid and endpoints always give
the same path. Robots reach the hall through a door in the wall nearest their dock;
the walk from the dock to the door is a straight line outside the hall.
"""

from __future__ import annotations

import heapq
import math
from dataclasses import dataclass

import numpy as np

from twin.sim.layout import Layout

CELL_M = 0.3
# An AMR of the Neobotix MP-500 class (vendor docs: 80 kg payload, 1.5 m/s) with a base
# of about 0.8 m x 0.6 m: circumscribed radius 0.5 m. Engineering figure.
AMR_CLEARANCE_M = 0.5


class NoPathError(ValueError):
    """No collision-free path between two points; says which points and why."""

    def __init__(self, start_m, goal_m, reason: str) -> None:
        self.start_m = np.array(start_m, dtype=float)
        self.goal_m = np.array(goal_m, dtype=float)
        self.reason = reason
        super().__init__(
            f"no path from ({self.start_m[0]:.2f}, {self.start_m[1]:.2f}) m to "
            f"({self.goal_m[0]:.2f}, {self.goal_m[1]:.2f}) m: {reason}"
        )


@dataclass(frozen=True, slots=True)
class FloorGrid:
    """Free floor of one hall for a robot of one clearance; cell (row, col) = (y, x)."""

    origin_m: np.ndarray  # south-west corner of cell (0, 0)
    cell_m: float
    free: np.ndarray  # (rows, cols) bool
    bounds_m: np.ndarray  # hall floor (xmin, ymin, xmax, ymax)
    obstacles_m: np.ndarray  # (k, 4) boxes (xmin, ymin, xmax, ymax), not inflated
    clearance_m: float

    def cell_of(self, point_m) -> tuple[int, int]:
        """(row, col) of the cell holding a point; may lie outside the grid."""
        x, y = np.asarray(point_m, dtype=float)[:2]
        return (
            math.floor((y - self.origin_m[1]) / self.cell_m),
            math.floor((x - self.origin_m[0]) / self.cell_m),
        )

    def cell_center_m(self, row, col) -> np.ndarray:
        return np.stack(
            [
                self.origin_m[0] + (np.asarray(col) + 0.5) * self.cell_m,
                self.origin_m[1] + (np.asarray(row) + 0.5) * self.cell_m,
            ],
            axis=-1,
        )

    def is_free(self, point_m) -> bool:
        row, col = self.cell_of(point_m)
        rows, cols = self.free.shape
        return 0 <= row < rows and 0 <= col < cols and bool(self.free[row, col])

    def nearest_free_m(self, point_m) -> np.ndarray:
        """Centre of the free cell nearest to a point (the door for a dock outside the hall)."""
        rows, cols = np.nonzero(self.free)
        if rows.size == 0:
            raise NoPathError(point_m, point_m, "the hall has no free floor")
        centres = self.cell_center_m(rows, cols)
        offset = centres - np.asarray(point_m, dtype=float)[:2]
        return centres[np.argmin(np.einsum("ij,ij->i", offset, offset))]

    def segment_is_clear(self, a_m, b_m) -> bool:
        """Whether the robot's disc can slide from a to b touching no obstacle and no wall."""
        a, b = np.asarray(a_m, dtype=float)[:2], np.asarray(b_m, dtype=float)[:2]
        inner = self.bounds_m + np.array([1, 1, -1, -1]) * self.clearance_m
        for p in (a, b):  # the clear floor inside the walls is convex
            if not (inner[0] <= p[0] <= inner[2] and inner[1] <= p[1] <= inner[3]):
                return False
        return bool(np.all(_segment_box_distance(a, b, self.obstacles_m) >= self.clearance_m))


def _segment_box_distance(a: np.ndarray, b: np.ndarray, boxes: np.ndarray) -> np.ndarray:
    """Distance from segment ab to each axis-aligned box (k, 4); zero where they meet."""
    lower, upper = boxes[:, :2], boxes[:, 2:]
    direction = b - a
    # Liang-Barsky: the segment crosses a box when the entry/exit parameters overlap
    with np.errstate(divide="ignore", invalid="ignore"):
        t1 = (lower - a) / direction
        t2 = (upper - a) / direction
    inside_slab = (a >= lower) & (a <= upper)
    t_near = np.where(direction == 0, np.where(inside_slab, -np.inf, np.inf), np.minimum(t1, t2))
    t_far = np.where(direction == 0, np.where(inside_slab, np.inf, -np.inf), np.maximum(t1, t2))
    enter, leave = t_near.max(axis=1), t_far.min(axis=1)
    crosses = (enter <= leave) & (leave >= 0.0) & (enter <= 1.0)

    def point_to_boxes(p):
        gap = np.maximum(np.maximum(lower - p, p - upper), 0.0)
        return np.hypot(gap[:, 0], gap[:, 1])

    corners = np.stack(
        [
            lower,
            upper,
            np.column_stack([lower[:, 0], upper[:, 1]]),
            np.column_stack([upper[:, 0], lower[:, 1]]),
        ],
        axis=1,
    )  # (k, 4, 2)
    length_sq = float(direction @ direction)
    if length_sq > 0.0:
        along = np.clip(((corners - a) @ direction) / length_sq, 0.0, 1.0)
        nearest = a + along[..., None] * direction
        corner_gap = np.linalg.norm(corners - nearest, axis=-1).min(axis=1)
    else:
        corner_gap = np.full(boxes.shape[0], np.inf)
    gap = np.minimum(np.minimum(point_to_boxes(a), point_to_boxes(b)), corner_gap)
    return np.where(crosses, 0.0, gap)


def _merge_touching(boxes: np.ndarray) -> np.ndarray:
    """Boxes of equal depth standing side by side along x (racks of a row) joined into one."""
    if boxes.shape[0] == 0:
        return boxes
    ordered = boxes[np.lexsort((boxes[:, 0], boxes[:, 3], boxes[:, 1]))]
    merged = [ordered[0].copy()]
    for box in ordered[1:]:
        last = merged[-1]
        if box[1] == last[1] and box[3] == last[3] and box[0] <= last[2] + 1e-9:
            last[2] = max(last[2], box[2])
        else:
            merged.append(box.copy())
    return np.array(merged)


def hall_floor_grid(
    layout: Layout, hall: int, cell_m: float = CELL_M, clearance_m: float = AMR_CLEARANCE_M
) -> FloorGrid:
    """The free floor of ``hall`` for a robot of radius ``clearance_m``."""
    bounds = layout.hall_rect_m(hall)
    boxes = []
    for equipment in (layout.racks, layout.cdus):
        centre = equipment.center_m[:, :2]
        inside = np.all((centre >= bounds[:2]) & (centre <= bounds[2:]), axis=1)
        boxes.append(np.hstack([equipment.lower_m[inside, :2], equipment.upper_m[inside, :2]]))
    obstacles = _merge_touching(np.vstack(boxes))
    cols = math.ceil((bounds[2] - bounds[0]) / cell_m)
    rows = math.ceil((bounds[3] - bounds[1]) / cell_m)
    origin = bounds[:2].copy()
    x = origin[0] + (np.arange(cols) + 0.5) * cell_m
    y = origin[1] + (np.arange(rows) + 0.5) * cell_m
    half = cell_m / 2
    inner = bounds + np.array([1, 1, -1, -1]) * clearance_m
    free = np.outer(
        (y - half >= inner[1]) & (y + half <= inner[3]),
        (x - half >= inner[0]) & (x + half <= inner[2]),
    )
    for xmin, ymin, xmax, ymax in obstacles:
        # cells whose square comes within the clearance of the box (rounded corners)
        c0, c1 = np.searchsorted(x, [xmin - clearance_m - half, xmax + clearance_m + half])
        r0, r1 = np.searchsorted(y, [ymin - clearance_m - half, ymax + clearance_m + half])
        gap_x = np.maximum(np.maximum(xmin - (x[c0:c1] + half), (x[c0:c1] - half) - xmax), 0.0)
        gap_y = np.maximum(np.maximum(ymin - (y[r0:r1] + half), (y[r0:r1] - half) - ymax), 0.0)
        near = np.hypot(gap_y[:, None], gap_x[None, :]) < clearance_m
        free[r0:r1, c0:c1] &= ~near
    return FloorGrid(origin, cell_m, free, bounds, obstacles, clearance_m)


def aisle_point_m(grid: FloorGrid, layout: Layout, rack: int) -> np.ndarray:
    """Where a robot stops to work on ``rack``: the free cell in its cold aisle nearest the
    middle of its front face."""
    centre, size = layout.racks.center_m[rack], layout.racks.size_m[rack]
    front = float(layout.rack_front[rack])
    face_y = centre[1] + front * size[1] / 2
    wanted = np.array([centre[0], face_y + front * (grid.clearance_m + grid.cell_m)])
    rows, cols = np.nonzero(grid.free)
    points = grid.cell_center_m(rows, cols)
    ahead = (points[:, 1] - face_y) * front
    facing = (
        (points[:, 0] >= centre[0] - size[0] / 2)
        & (points[:, 0] <= centre[0] + size[0] / 2)
        & (ahead > 0.0)
        & (ahead <= grid.clearance_m + 3 * grid.cell_m)
    )
    if not facing.any():
        raise NoPathError(wanted, wanted, f"no free floor in front of rack {rack}")
    points = points[facing]
    offset = points - wanted
    return points[np.argmin(np.einsum("ij,ij->i", offset, offset))]


@dataclass(frozen=True, slots=True)
class FloorPath:
    points_m: np.ndarray  # (k, 2) polyline from start to goal

    @property
    def length_m(self) -> float:
        return float(np.linalg.norm(np.diff(self.points_m, axis=0), axis=1).sum())

    def point_at_m(self, distance_m: float) -> np.ndarray:
        """Where a robot is after driving ``distance_m`` along the path (clipped to its ends)."""
        steps = np.linalg.norm(np.diff(self.points_m, axis=0), axis=1)
        travelled = np.concatenate([[0.0], np.cumsum(steps)])
        d = float(np.clip(distance_m, 0.0, travelled[-1]))
        return np.array(
            [
                np.interp(d, travelled, self.points_m[:, 0]),
                np.interp(d, travelled, self.points_m[:, 1]),
            ]
        )

    def heading_at_rad(self, distance_m: float) -> float:
        """The way the path runs (angle from east, anticlockwise) ``distance_m`` along it."""
        steps = np.diff(self.points_m, axis=0)
        lengths = np.linalg.norm(steps, axis=1)
        ends = np.cumsum(lengths)
        k = min(int(np.searchsorted(ends, distance_m, side="left")), len(steps) - 1)
        while k > 0 and lengths[k] == 0.0:  # a point given twice: the run before it
            k -= 1
        return float(np.arctan2(steps[k, 1], steps[k, 0]))

    def reversed(self) -> FloorPath:
        return FloorPath(self.points_m[::-1].copy())


_NEIGHBOURS = (
    (-1, 0, 1.0),
    (1, 0, 1.0),
    (0, -1, 1.0),
    (0, 1, 1.0),
    (-1, -1, math.sqrt(2)),
    (-1, 1, math.sqrt(2)),
    (1, -1, math.sqrt(2)),
    (1, 1, math.sqrt(2)),
)


def _astar(free: list[list[bool]], start: tuple[int, int], goal: tuple[int, int]) -> list | None:
    """Cells from start to goal on an 8-connected grid, or None; no corner cutting."""
    rows, cols = len(free), len(free[0])
    goal_r, goal_c = goal

    def heuristic(r: int, c: int) -> float:  # octile distance, exact on an empty grid
        dr, dc = abs(r - goal_r), abs(c - goal_c)
        return max(dr, dc) + (math.sqrt(2) - 1.0) * min(dr, dc)

    cost = {start: 0.0}
    parent: dict[tuple[int, int], tuple[int, int]] = {}
    frontier = [(heuristic(*start), 0, start)]
    order = 1
    closed = set()
    while frontier:
        _, _, cell = heapq.heappop(frontier)
        if cell == goal:
            path = [cell]
            while cell in parent:
                cell = parent[cell]
                path.append(cell)
            return path[::-1]
        if cell in closed:
            continue
        closed.add(cell)
        r, c = cell
        g = cost[cell]
        for dr, dc, step in _NEIGHBOURS:
            nr, nc = r + dr, c + dc
            if not (0 <= nr < rows and 0 <= nc < cols) or not free[nr][nc]:
                continue
            if dr and dc and not (free[r][nc] and free[nr][c]):
                continue
            candidate = g + step
            if candidate < cost.get((nr, nc), math.inf):
                cost[(nr, nc)] = candidate
                parent[(nr, nc)] = cell
                heapq.heappush(frontier, (candidate + heuristic(nr, nc), order, (nr, nc)))
                order += 1
    return None


def plan_path(grid: FloorGrid, start_m, goal_m) -> FloorPath:
    """Shortest collision-free polyline from ``start_m`` to ``goal_m`` (both on free cells)."""
    start = np.asarray(start_m, dtype=float)[:2]
    goal = np.asarray(goal_m, dtype=float)[:2]
    for name, point in (("start", start), ("goal", goal)):
        if not grid.is_free(point):
            raise NoPathError(start, goal, f"the {name} is not on free floor")
    cells = _astar(grid.free.tolist(), grid.cell_of(start), grid.cell_of(goal))
    if cells is None:
        raise NoPathError(start, goal, "obstacles separate them")
    rows, cols = np.array(cells).T
    points = np.vstack([start, grid.cell_center_m(rows, cols)[1:-1], goal])
    return FloorPath(_shortcut(grid, points))


def _shortcut(grid: FloorGrid, points: np.ndarray) -> np.ndarray:
    """From each kept waypoint, go straight to the farthest next one still in clear sight."""
    kept = [0]
    i = 0
    while i < len(points) - 1:
        j = i + 1  # neighbouring cells are always safe (see the module note)
        while j + 1 < len(points) and grid.segment_is_clear(points[i], points[j + 1]):
            j += 1
        kept.append(j)
        i = j
    return points[kept]
