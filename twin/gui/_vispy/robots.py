"""The robots of the workcells, moving as the simulation says.

- Arms: every link is a box from one joint to the next, placed each frame from forward
  kinematics of the snapshot's joint angles (one vectorized call per robot model); a
  humanoid's left arm is its right arm mirrored. Two fingers at each flange open and
  close with the gripper.
- Assembly cells: parts ride the belt, one part spacing per finished pick and place.
- Joints: a housing at every joint, turned with it (``robot_parts``).
- Humanoids: a wheeled base on four wheels, torso with shoulders and a head with a
  visor stand at their benches, two arms each (CLOiD style).
- Service robots: a chassis on four wheels, a mast and a status beacon in the colour of
  the robot's state, driving the aisles along their planned route, which is drawn as a
  line from the dock to the rack.
- Safety zones: translucent volumes over the task cells, red after an emergency stop or
  an intrusion.

All the boxes are one mesh (``instances.BoxBatch``: groups still, humanoid details,
links, joints, fingers, parts, vehicles) whose buffers are rewritten in place, so a
frame sends numbers, not geometry; the safety zones, translucent, are a mesh of their own.
"""

from __future__ import annotations

import numpy as np
from vispy.scene import visuals

from twin.gui._vispy.base import Adapter, rgba
from twin.gui._vispy.geometry import box_node, scale_transforms
from twin.gui._vispy.instances import BoxBatch, box_group, send_colors
from twin.gui._vispy.robot_parts import (
    JOINT_RGBA,
    SERVICE_PARTS,
    humanoid_details,
    joint_boxes,
    service_height_m,
    service_parts,
)
from twin.scenario import Scenario
from twin.sim.layout import Boxes, Layout
from twin.sim.robotics.kinematics import CHAINS, forward_kinematics
from twin.sim.robotics.placement import FINGER_M, PART_SIZE_M, WorkcellPlan, plan_workcells
from twin.sim.snapshot import RobotsState, Snapshot

# Drawn link thicknesses per joint, metres: roughly the arms' casings (UR10e tubes ~0.12 m,
# a KR 210's castings several times that, the humanoid's Panda-sized links ~0.1 m).
LINK_THICKNESS_M = {
    "ur10e": (0.15, 0.13, 0.11, 0.09, 0.09, 0.08),
    "industrial-arm": (0.6, 0.4, 0.32, 0.26, 0.2, 0.14),
    "cloid": (0.12, 0.11, 0.1, 0.09, 0.08, 0.07, 0.06),
}
ARM_RGBA = {
    "ur10e": rgba("#c9d3dc"),  # UR's light grey
    "industrial-arm": rgba("#f28c1e"),  # industrial orange
    "cloid": rgba("#eef1f4"),  # white shells
}
FINGER_RGBA = rgba("#303840")
FINGER_SIZE_M = (0.03, 0.025)  # across the opening, and sideways
FINGER_SLACK_M = 0.05  # an open gripper clears the part by this much on each side
PEDESTAL_RGBA = rgba("#59636e")
BELT_RGBA = rgba("#3a4149")
PART_RGBA = rgba("#3f8fd2")
BENCH_RGBA = rgba("#a07850")
BODY_RGBA = rgba("#e8ecf0")
SERVICE_BODY_M = (0.8, 0.6, 0.35)  # MP-500-class base, length along its heading
SERVICE_MAST_M = (0.25, 0.25, 0.75)  # its arm and tools, folded
DOCK_SLOT_M = 1.0  # docked robots stand side by side on the dock
ROUTE_RGBA = rgba("#00c8ff")
ROUTE_LIFT_M = 0.05  # over the floor, so the line is not lost in it
ZONE_RGBA = np.array([1.0, 0.78, 0.1, 0.12], np.float32)  # guarded, robots running
ZONE_STOPPED_RGBA = np.array([0.95, 0.15, 0.1, 0.35], np.float32)


def link_boxes(points: np.ndarray, axes: np.ndarray, thickness: np.ndarray):
    """Boxes joining consecutive joint points: centres (..., links, 3) and transforms
    (..., links, 3, 3) that stretch the unit cube along each link.

    ``points`` (..., links + 1, 3) are the frame origins; ``axes`` (..., links + 1, 3) the
    joint axes at them, which fix how a box turns about its own length. A link of no
    length is a cube of its thickness, along the joint axis.
    """
    start, end = points[..., :-1, :], points[..., 1:, :]
    along = end - start
    length = np.linalg.norm(along, axis=-1)
    axis = axes[..., :-1, :]
    u = np.where(length[..., None] > 1e-9, along / np.maximum(length, 1e-9)[..., None], axis)
    v = axis - np.sum(axis * u, axis=-1, keepdims=True) * u
    # where the joint axis runs along the link, any direction across it will do
    fallback = np.cross(u, np.array([0.0, 0.0, 1.0]))
    fallback = np.where(
        np.linalg.norm(fallback, axis=-1, keepdims=True) > 1e-6,
        fallback,
        np.cross(u, np.array([1.0, 0.0, 0.0])),
    )
    v = np.where(np.linalg.norm(v, axis=-1, keepdims=True) > 1e-6, v, fallback)
    v /= np.linalg.norm(v, axis=-1, keepdims=True)
    w = np.cross(u, v)
    size = np.maximum(length, thickness)
    transforms = np.stack(
        [u * size[..., None], v * thickness[..., None], w * thickness[..., None]], axis=-1
    )
    return (start + end) / 2, transforms


class _ArmModel:
    """The arms of one robot model: which snapshot arms, their bases and mirrors."""

    def __init__(self, model: str, plan: WorkcellPlan) -> None:
        self.model = model
        self.chain = CHAINS[model]
        self.arms = np.flatnonzero(np.array(plan.arm_model) == model)
        self.base = plan.arm_base[self.arms]
        mirror = plan.arm_mirror[self.arms]
        self.mirrored = np.flatnonzero(np.abs(mirror).sum(axis=(1, 2)) > 0)
        self.mirror = mirror[self.mirrored]
        self.thickness = np.asarray(LINK_THICKNESS_M[model], float)

    @property
    def drawn(self) -> int:
        """Arms drawn: one per robot and a second for each mirrored one."""
        return self.arms.size + self.mirrored.size

    def frames(self, joints_rad: np.ndarray) -> np.ndarray:
        """(drawn, joints + 1, 4, 4) in the site: the arms, then their mirror images."""
        q = joints_rad[self.arms, : self.chain.joint_count]
        frames = forward_kinematics(self.chain, q, self.base).frames
        if self.mirrored.size:
            frames = np.concatenate([frames, self.mirror[:, None] @ frames[self.mirrored]])
        return frames


class RobotAdapter(Adapter):
    layer = "robots"

    def __init__(self, scenario: Scenario, layout: Layout, parent) -> None:
        super().__init__(parent)
        self.plan = plan = plan_workcells(scenario, layout)
        # what stands still: pedestals, conveyors, benches, humanoid bodies
        still = (plan.pedestals, plan.conveyors, plan.benches, plan.bodies)
        colors = (PEDESTAL_RGBA, BELT_RGBA, BENCH_RGBA, BODY_RGBA)
        groups = {
            "still": box_group(
                Boxes(np.vstack([b.center_m for b in still]), np.vstack([b.size_m for b in still])),
                np.vstack([np.tile(c, (b.count, 1)) for b, c in zip(still, colors, strict=True)]),
            )
        }
        if plan.bodies.count:
            groups["humanoid_details"] = humanoid_details(plan.bodies.center_m, plan.bodies.size_m)
        self._models = [_ArmModel(m, plan) for m in dict.fromkeys(plan.arm_model)]
        self._models = [m for m in self._models if m.arms.size]
        link_colors = [
            np.tile(ARM_RGBA[m.model], (m.drawn * m.chain.joint_count, 1)) for m in self._models
        ]
        self.link_count = sum(len(c) for c in link_colors)
        # the snapshot arm of each drawn arm: per model, its arms, then their mirror images
        self.drawn_arm = np.concatenate(
            [np.concatenate([m.arms, m.arms[m.mirrored]]) for m in self._models]
            or [np.zeros(0, int)]
        )
        self.finger_count = 2 * sum(m.drawn for m in self._models)
        groups["links"] = _unplaced(np.vstack(link_colors or [np.zeros((0, 4))]))
        groups["joints"] = _unplaced(np.tile(JOINT_RGBA, (self.link_count, 1)))
        groups["fingers"] = _unplaced(np.tile(FINGER_RGBA, (self.finger_count, 1)))

        # parts on the belts: as many as fit at their spacing
        lengths = np.linalg.norm(plan.conveyor_end_m - plan.conveyor_start_m, axis=1)
        per_belt = np.maximum((lengths // plan.part_spacing_m).astype(int), 1)
        self._part_belt = np.repeat(np.arange(lengths.size), per_belt)
        self._part_slot = np.arange(self._part_belt.size) - np.repeat(
            np.cumsum(per_belt) - per_belt, per_belt
        )
        self._belt_length_m = lengths
        groups["parts"] = _unplaced(
            np.tile(PART_RGBA, (self._part_belt.size, 1)),
            np.tile(PART_SIZE_M, (self._part_belt.size, 1)),
        )
        self.part_positions = np.zeros((self._part_belt.size, 3))

        # service robots: chassis, mast, beacon and wheels each
        self._service_cells = np.array(
            [k for k, c in enumerate(scenario.workcells) if c.kind == "service"], dtype=int
        )
        self._service_rects = (
            layout.workcells.lower_m[self._service_cells, :2],
            layout.workcells.upper_m[self._service_cells, :2],
        )
        service_count = sum(
            r.count for c in scenario.workcells if c.kind == "service" for r in c.robots
        )
        self.service_count = service_count
        self.service_positions = np.zeros((service_count, 3))
        self.service_heading = np.zeros(service_count)
        groups["vehicles"] = _unplaced(np.zeros((SERVICE_PARTS * service_count, 4)))
        # one mesh for all (see BoxBatch); a mirrored humanoid arm's fingers are mirrored
        # boxes, whose faces turn the other way: no face is culled
        self.boxes = (
            BoxBatch(groups, self.root, cull_face=False)
            if sum(len(centers) for centers, _, _ in groups.values())
            else None
        )
        self.routes = visuals.Line(
            connect="segments", color=ROUTE_RGBA, width=2.0, parent=self.root
        )
        self.routes.order = 4  # over the floor and the racks' feet
        self.routes.set_gl_state("translucent", depth_test=False)
        self.routes.visible = False
        self._route_points = np.zeros((0, 3), np.float32)

        # safety zones over the task cells
        kinds = [c.kind for c in scenario.workcells]
        self._zone_cells = np.array(
            [k for k, kind in enumerate(kinds) if kind != "service"], dtype=int
        )
        self.zones = None
        if self._zone_cells.size:
            zones = Boxes(
                plan.zones.center_m[self._zone_cells], plan.zones.size_m[self._zone_cells]
            )
            self.zone_colors = np.tile(ZONE_RGBA, (self._zone_cells.size, 1))
            self.zones = box_node(zones, self.zone_colors, self.root, translucent=True)
            self.zones.order = 3  # after the opaque robots, so they show through
        self.link_transforms = np.zeros((self.link_count, 3, 3))
        self.link_positions = np.zeros((self.link_count, 3))
        self.joint_positions = np.zeros((self.link_count, 3))  # one housing per link's joint

    # ----------------------------------------------------------------- picking

    def arm_pick_boxes(self) -> tuple[Boxes, np.ndarray]:
        """Boxes around each arm (and humanoid body) at its resting pose, and the arm each
        belongs to: picking selects the robot."""
        lower, upper, owner = [], [], []
        for m in self._models:
            home = np.tile(m.chain.home_rad, (m.arms.size, 1))
            joints = np.zeros((len(self.plan.arm_model), 7))
            joints[m.arms, : m.chain.joint_count] = home
            points = m.frames(joints)[..., :3, 3]
            pad = m.thickness.max() / 2
            arm_of = np.concatenate([m.arms, m.arms[m.mirrored]])
            low = points.min(axis=1) - pad
            low[:, 2] = np.minimum(low[:, 2], self.plan.arm_base[arm_of, 2, 3])
            lower.append(low)
            upper.append(points.max(axis=1) + pad + np.array([0.0, 0.0, FINGER_M]))
            owner.append(arm_of)
        bodies = self.plan.bodies
        if bodies.count:  # three boxes a humanoid, in the order of its arms
            lower.append(bodies.lower_m)
            upper.append(bodies.upper_m)
            humanoids = np.flatnonzero(np.array(self.plan.arm_model) == "cloid")
            owner.append(np.repeat(humanoids, 3))
        if not lower:
            return Boxes(np.zeros((0, 3)), np.zeros((0, 3))), np.zeros(0, int)
        low_m, high_m = np.vstack(lower), np.vstack(upper)
        return Boxes((low_m + high_m) / 2, high_m - low_m), np.concatenate(owner)

    def service_pick_boxes(self) -> Boxes:
        """Boxes around each service robot where it was last drawn."""
        size = np.array(
            [
                max(SERVICE_BODY_M[:2]),
                max(SERVICE_BODY_M[:2]),
                service_height_m(SERVICE_BODY_M, SERVICE_MAST_M),
            ]
        )
        centre = self.service_positions.copy()
        centre[:, 2] += size[2] / 2
        return Boxes(centre, np.tile(size, (self.service_count, 1)))

    # ----------------------------------------------------------------- frames

    def update(self, snapshot: Snapshot) -> None:
        if not self.root.visible:
            return  # a hidden layer sends nothing to the GPU
        robots = snapshot.robots
        if robots is None:
            return  # a snapshot taken without robots (the window's always has them)
        if self.boxes is not None:  # there are arms, parts or service robots to move
            if self.link_count:
                self._update_arms(robots, self.boxes)
            if self._part_belt.size:
                self._update_parts(robots, self.boxes)
            if self.service_count:
                self._update_service(robots, self.boxes)
            self.boxes.send()
        if self.zones is not None:
            stopped = (robots.cell_intrusion | robots.cell_emergency_stop)[self._zone_cells]
            self.zone_colors = np.where(stopped[:, None], ZONE_STOPPED_RGBA, ZONE_RGBA)
            send_colors(self.zones, self.zone_colors)

    def _update_arms(self, robots: RobotsState, boxes: BoxBatch) -> None:
        centres, transforms, finger_centres, finger_transforms = [], [], [], []
        joint_centres, joint_transforms = [], []
        for m in self._models:
            frames = m.frames(robots.arm_joints_rad)
            centre, transform = link_boxes(frames[..., :3, 3], frames[..., :3, 2], m.thickness)
            joint_centre, joint_transform = joint_boxes(frames, m.thickness)
            joint_centres.append(joint_centre)
            joint_transforms.append(joint_transform)
            centres.append(centre.reshape(-1, 3))
            transforms.append(transform.reshape(-1, 3, 3))
            arm_of = np.concatenate([m.arms, m.arms[m.mirrored]])
            closed = robots.arm_gripper_closed[arm_of]
            tool = frames[:, -1]
            gap = np.where(closed, PART_SIZE_M[1], PART_SIZE_M[1] + 2 * FINGER_SLACK_M)
            across, down = tool[:, :3, 1], tool[:, :3, 2]
            middle = tool[:, :3, 3] + down * FINGER_M / 2
            sides = (gap / 2 + FINGER_SIZE_M[0] / 2)[:, None] * across
            # the two fingers of each drawn arm next to each other
            finger_centres.append(np.stack([middle - sides, middle + sides], axis=1))
            shape = tool[:, :3, :3] * np.array([FINGER_SIZE_M[1], FINGER_SIZE_M[0], FINGER_M])
            finger_transforms.append(np.stack([shape, shape], axis=1))
        self.link_positions = np.vstack(centres)
        self.link_transforms = np.vstack(transforms)
        boxes.place("links", self.link_positions, self.link_transforms)
        self.joint_positions = np.vstack(joint_centres)
        boxes.place("joints", self.joint_positions, np.vstack(joint_transforms))
        boxes.place(
            "fingers",
            np.concatenate(finger_centres).reshape(-1, 3),
            np.concatenate(finger_transforms).reshape(-1, 3, 3),
        )

    def _update_parts(self, robots: RobotsState, boxes: BoxBatch) -> None:
        plan = self.plan
        belt = self._part_belt
        spacing = plan.part_spacing_m[belt]
        progress = robots.cell_progress[plan.conveyor_cell[belt]]
        along = (progress * spacing + self._part_slot * spacing) % self._belt_length_m[belt]
        start, end = plan.conveyor_start_m[belt], plan.conveyor_end_m[belt]
        direction = (end - start) / self._belt_length_m[belt][:, None]
        self.part_positions = start + along[:, None] * direction
        self.part_positions[:, 2] += PART_SIZE_M[2] / 2
        boxes.place(
            "parts", self.part_positions, scale_transforms(np.tile(PART_SIZE_M, (belt.size, 1)))
        )

    def _update_service(self, robots: RobotsState, boxes: BoxBatch) -> None:
        xy = np.asarray(robots.service_xy_m, float)
        positions = np.zeros((xy.shape[0], 3))
        positions[:, :2] = xy
        lower, upper = self._service_rects
        on_dock = np.all((xy[:, None] >= lower) & (xy[:, None] <= upper), axis=2)
        docks = self.plan.dock_m[self._service_cells]
        at_dock = np.all(np.isclose(xy[:, None], docks[None, :, :2]), axis=2).any(axis=1)
        # robots at the dock itself stand side by side on it, as on their chargers
        slot = np.zeros(xy.shape[0])
        for cell in np.unique(robots.service_cell):
            mine = np.flatnonzero(robots.service_cell == cell)
            slot[mine] = np.arange(mine.size) - (mine.size - 1) / 2
        positions[at_dock, 0] += slot[at_dock] * DOCK_SLOT_M
        dock_top = self.plan.dock_m[self._service_cells, 2]
        positions[:, 2] = np.where(on_dock.any(axis=1), dock_top[np.argmax(on_dock, axis=1)], 0.0)
        self.service_positions = positions
        self.service_heading = np.asarray(robots.service_heading_rad, float)
        centres, transforms, colors = service_parts(
            positions, self.service_heading, robots.service_state, SERVICE_BODY_M, SERVICE_MAST_M
        )
        boxes.place("vehicles", centres, transforms)
        boxes.set_colors("vehicles", colors)
        self._update_routes(robots.service_routes_m)

    def _update_routes(self, routes: tuple[np.ndarray, ...]) -> None:
        segments = [np.repeat(r, 2, axis=0)[1:-1] for r in routes if len(r) >= 2]
        points = np.zeros((0, 3), np.float32)
        if segments:
            flat = np.vstack(segments)
            points = np.column_stack([flat, np.full(len(flat), ROUTE_LIFT_M)]).astype(np.float32)
        if points.shape == self._route_points.shape and np.array_equal(points, self._route_points):
            return  # routes change only when a mission starts or ends
        self._route_points = points
        self.routes.visible = bool(len(points))
        if len(points):
            self.routes.set_data(pos=points)


def _unplaced(colors: np.ndarray, size: np.ndarray | None = None):
    """A ``BoxBatch`` group of boxes, one per colour, that ``update`` places: until then
    at the origin, a millimetre across (or ``size``)."""
    count = len(colors)
    size = np.full((count, 3), 1e-3) if size is None else size
    return np.zeros((count, 3)), scale_transforms(size), colors
