"""Robots in 3D: links from the joint angles, grippers, parts, service robots, zones,
picking and the robots layer."""

from __future__ import annotations

from dataclasses import replace

import numpy as np
import pytest

from tests.fakes import FakeSimulation, scenario_named
from tests.gui.helpers import open_paused, pixel_at
from twin.gui.objects import Selection
from twin.sim.robotics.kinematics import CHAINS, forward_kinematics
from twin.sim.snapshot import RobotsState, Snapshot, frozen_fields

pytestmark = pytest.mark.gui


class RobotSimulation(FakeSimulation):
    """A FakeSimulation whose robot figures a test may override."""

    def __init__(self, scenario):
        super().__init__(scenario)
        self.overrides: dict[str, object] = {}

    def snapshot(self, *, robots: bool = True) -> Snapshot:
        snapshot = super().snapshot(robots=robots)
        if snapshot.robots is None:
            return snapshot
        values = {name: getattr(snapshot.robots, name) for name in RobotsState.__slots__}
        return replace(snapshot, robots=frozen_fields(RobotsState, **(values | self.overrides)))


@pytest.fixture
def robot_window(make_window, qtbot):
    """A paused window on a RobotSimulation, and a function that changes the simulation
    and waits until the window shows the result."""
    simulation = RobotSimulation(scenario_named("seoul-ai-factory"))
    window, change = open_paused(make_window, qtbot, simulation)
    return window, simulation, change


def test_robot_links_follow_the_joint_angles_from_frame_to_frame(robot_window):
    window, _, change = robot_window
    robots = window.canvas.robots
    plan = robots.plan
    assert robots.link_count == sum(
        CHAINS[m].joint_count * (2 if m == "cloid" else 1) for m in plan.arm_model
    )  # humanoids: two arms
    change(lambda sim: sim.step(3))
    before = robots.link_transforms.copy()
    joints = window.snapshot.robots.arm_joints_rad
    # the first UR10e's first link runs from its base to its first joint, by FK
    ur10e = CHAINS["ur10e"]
    frames = forward_kinematics(ur10e, joints[0, :6], plan.arm_base[0]).frames
    np.testing.assert_allclose(
        robots.link_positions[0], (frames[0, :3, 3] + frames[1, :3, 3]) / 2, atol=1e-6
    )
    np.testing.assert_allclose(
        np.linalg.norm(robots.link_transforms[2][:, 0]),
        np.linalg.norm(frames[3, :3, 3] - frames[2, :3, 3]),
        rtol=1e-6,
    )
    # and that is what the GPU draws
    np.testing.assert_allclose(
        robots.boxes.group_positions("links"), robots.link_positions, atol=1e-4
    )

    change(lambda sim: sim.step(7))  # the joints swing on
    assert not np.allclose(window.snapshot.robots.arm_joints_rad, joints)
    moved = np.abs(robots.link_transforms - before).max(axis=(1, 2))
    assert np.count_nonzero(moved > 1e-3) > robots.link_count // 2
    np.testing.assert_allclose(
        robots.boxes.group_transforms("links"), robots.link_transforms, atol=1e-4
    )


def test_grippers_open_and_close_and_parts_ride_the_belt(robot_window):
    window, simulation, change = robot_window
    robots = window.canvas.robots
    arms = len(simulation.arms)

    def fingers_apart() -> np.ndarray:
        """Per drawn arm (mirrored humanoid arms too), between its two fingers."""
        centres = robots.boxes.group_positions("fingers")
        return np.linalg.norm(centres[0::2] - centres[1::2], axis=1)

    change(lambda sim: sim.overrides.update(arm_gripper_closed=np.ones(arms, bool)))
    closed = fingers_apart()
    change(lambda sim: sim.overrides.update(arm_gripper_closed=np.zeros(arms, bool)))
    opened = fingers_apart()
    assert len(closed) == len(robots.drawn_arm) > arms
    np.testing.assert_allclose(opened - closed, 0.1, atol=1e-4)  # 5 cm of slack a side
    change(lambda sim: sim.overrides.update(arm_gripper_closed=np.arange(arms) == 2))
    np.testing.assert_allclose(
        fingers_apart(), np.where(robots.drawn_arm == 2, closed, opened), atol=1e-4
    )

    parts = robots.part_positions.copy()
    spacing = float(robots.plan.part_spacing_m[0])
    cells = len(simulation.scenario.workcells)
    change(lambda sim: sim.overrides.update(cell_progress=np.full(cells, 0.25)))
    first = robots.part_positions.copy()
    change(lambda sim: sim.overrides.update(cell_progress=np.full(cells, 0.75)))
    moved = robots.part_positions - first
    # half a cycle moves every part half a spacing east along the belt, the last one
    # round to the belt's start
    east = moved[:, 0]
    assert np.count_nonzero(np.isclose(east, spacing / 2, atol=1e-6)) >= len(east) - 1
    np.testing.assert_allclose(moved[:, 1:], 0.0, atol=1e-9)
    assert not np.allclose(first, parts)


def test_service_robots_drive_their_route_and_zones_turn_red(robot_window):
    window, simulation, change = robot_window
    robots = window.canvas.robots
    service = len(simulation.service)
    route = np.array([[2.0, -6.0], [1.6, 1.6], [1.6, 12.0], [4.0, 12.0]])
    xy = simulation.service_xy_m.copy()
    xy[0] = (1.6, 6.0)

    def drive(sim):
        sim.overrides.update(
            service_xy_m=xy,
            service_heading_rad=np.full(service, np.pi / 2),
            service_target_rack=np.array([30] + [-1] * (service - 1)),
            service_routes_m=(route, *(np.zeros((0, 2)) for _ in range(service - 1))),
        )

    change(drive)
    np.testing.assert_allclose(robots.service_positions[0], [1.6, 6.0, 0.0])
    body = robots.boxes.group_transforms("vehicles")[0]
    np.testing.assert_allclose(body[:, 0], [0.0, 0.8, 0.0], atol=1e-6)  # heading north
    assert robots.routes.visible
    drawn = robots.routes.pos
    assert drawn.shape == (6, 3)  # three segments
    np.testing.assert_allclose(drawn[:2, :2], route[:2])
    # docked robots stand side by side on their dock
    docked = robots.service_positions[1:3]
    assert abs(docked[1, 0] - docked[0, 0]) == pytest.approx(1.0)
    assert np.all(docked[:, 2] > 0.2)  # on the dock's raised floor

    assert window.canvas.pick_ray(
        np.array([1.6, 6.0, 20.0]), np.array([0.0, 0.0, -1.0])
    ) == Selection("service-robot", 0)

    zones = robots.zones
    calm = zones.instance_colors.rgba.copy()
    cells = len(simulation.scenario.workcells)
    change(lambda sim: sim.overrides.update(cell_intrusion=np.arange(cells) == 1))
    red = zones.instance_colors.rgba
    np.testing.assert_allclose(red[0], calm[0])
    assert red[1, 0] > 0.9 and red[1, 1] < 0.3 and red[1, 3] > calm[1, 3]


def test_a_hidden_robots_layer_hides_the_robots_and_stops_their_updates(robot_window):
    window, _, change = robot_window
    canvas = window.canvas
    robots = canvas.robots
    canvas.go_to("workcell:assembly-1", animate=False)
    # the top of the press arm's second link, in plain view
    point = robots.link_positions[12 + 1].copy()
    shown = pixel_at(canvas, canvas.render(), point)
    assert shown[0] > shown[1] > shown[2] and shown[0] - shown[2] > 80  # the arm's orange

    canvas.set_layer_visible("robots", False)
    assert not robots.root.visible and not canvas.workcells.root.visible
    hidden = pixel_at(canvas, canvas.render(), point)
    assert np.abs(hidden - shown).max() > 40
    positions = robots.link_positions.copy()
    change(lambda sim: sim.step(5))
    np.testing.assert_array_equal(robots.link_positions, positions)
    lower, upper = canvas.bounds(Selection("robot", 2))
    assert (
        canvas.pick_ray(np.array([*(lower[:2] + upper[:2]) / 2, 30.0]), np.array([0.0, 0.0, -1.0]))
        is None
    )

    canvas.set_layer_visible("robots", True)
    change(lambda sim: sim.step(5))
    assert not np.array_equal(robots.link_positions, positions)


def test_picking_a_robot_shows_its_joints_state_and_power(robot_window, qtbot):
    window, _, _ = robot_window
    canvas = window.canvas
    lower, upper = canvas.bounds(Selection("robot", 2))
    top = np.array([*(lower[:2] + upper[:2]) / 2, upper[2] + 5.0])
    assert canvas.pick_ray(top, np.array([0.0, 0.0, -1.0])) == Selection("robot", 2)
    canvas.select(Selection("robot", 2))
    inspector = window.inspector
    assert inspector.title.text() == "assembly-1 press-arm 1"
    qtbot.waitUntil(lambda: inspector.values["Joint 1"].text().endswith("°"), timeout=30_000)
    expected = np.degrees(window.snapshot.robots.arm_joints_rad[2, 0])
    assert inspector.values["Joint 1"].text() == f"{expected:,.0f} °"
    assert inspector.values["State"].text() == "moving"
    assert inspector.values["Power"].text() == "300 W"
    assert "Joint 6" in inspector.values and "Joint 7" not in inspector.values
    assert "Emergency stop" in inspector.buttons
    assert len(window.trends.selection_views) >= 2  # trended: state, W, degrees...


def test_joint_housings_and_humanoid_bodies_follow_the_poses(robot_window):
    from twin.gui._vispy.robot_parts import HUMANOID_WHEEL_M

    window, _, change = robot_window
    robots = window.canvas.robots
    plan = robots.plan
    change(lambda sim: sim.step(4))
    joints = window.snapshot.robots.arm_joints_rad
    # the first UR10e's housings sit on its joints, by forward kinematics
    ur10e = CHAINS["ur10e"]
    frames = forward_kinematics(ur10e, joints[0, :6], plan.arm_base[0]).frames
    np.testing.assert_allclose(robots.joint_positions[:6], frames[:6, :3, 3], atol=1e-6)
    np.testing.assert_allclose(
        robots.boxes.group_positions("joints"), robots.joint_positions, atol=1e-4
    )
    # a humanoid's right-arm housings too, and they are at its shoulder height or above
    humanoid = int(np.flatnonzero(np.array(plan.arm_model) == "cloid")[0])
    cloid = CHAINS["cloid"]
    frames = forward_kinematics(cloid, joints[humanoid, :7], plan.arm_base[humanoid]).frames
    housings = robots.joint_positions
    assert any(
        np.allclose(housings[k : k + 7], frames[:7, :3, 3], atol=1e-6)
        for k in range(len(housings) - 6)
    )
    before = housings.copy()
    change(lambda sim: sim.step(6))
    assert np.abs(robots.joint_positions - before).max() > 1e-3  # they move with the arms
    # four wheels on the floor under each humanoid's base
    details = robots.boxes.group_positions("humanoid_details")
    humanoids = plan.bodies.count // 3
    wheels = details[: 4 * humanoids]
    floor = plan.bodies.lower_m[0::3, 2]
    np.testing.assert_allclose(wheels[:, 2], np.tile(floor, 4) + HUMANOID_WHEEL_M[0] / 2, atol=1e-6)


def test_service_robot_beacons_show_their_state(robot_window):
    from twin.gui._vispy.robot_parts import SERVICE_STATE_RGBA
    from twin.sim.robotics.cells import RobotState

    window, simulation, change = robot_window
    robots = window.canvas.robots
    count = len(simulation.service)
    states = np.array([RobotState.FAULT, RobotState.CHARGING] + [RobotState.MOVING] * (count - 2))
    change(lambda sim: sim.overrides.update(service_state=states))
    colours = robots.boxes.group_colors("vehicles")
    beacons = colours[2 * count : 3 * count]  # chassis, masts, then beacons
    np.testing.assert_allclose(beacons[0], SERVICE_STATE_RGBA[RobotState.FAULT])
    np.testing.assert_allclose(beacons[1], SERVICE_STATE_RGBA[RobotState.CHARGING])
    positions = robots.boxes.group_positions("vehicles")
    # the beacon stands over its robot, the highest of its parts
    np.testing.assert_allclose(
        positions[2 * count : 3 * count, :2], positions[count : 2 * count, :2], atol=1e-6
    )
    assert np.all(positions[2 * count : 3 * count, 2] > positions[:count, 2])
