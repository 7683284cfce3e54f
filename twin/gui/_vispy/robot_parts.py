"""The parts that make the robots read as what they are, as boxes for the robots' one mesh
(``robots.RobotAdapter``'s ``BoxBatch``):

- joints: a housing at every joint of every arm, turned with the joint's frame, so the
  arms read as links and joints (the humanoid's CLOiD-style arms too);
- humanoids: four wheels under the wheeled base, shoulders across the torso's top and a
  dark visor on the head's front: a wheeled dual-arm humanoid, not a box on a pedestal;
- service robots: a chassis on four wheels, a mast and a status beacon on top, in the
  colour of the robot's state (``SERVICE_STATE_RGBA``), all turned to the robot's heading.

Every function is vectorised over the robots and returns centres (n, 3) and transforms
(n, 3, 3) that stretch and turn the unit cube.
"""

from __future__ import annotations

import numpy as np

from twin.gui._vispy.base import rgba
from twin.sim.robotics.cells import RobotState

JOINT_RGBA = rgba("#4a525c")  # dark grey housings, as on real arms' joints
JOINT_SCALE = 1.35  # a housing is this much thicker than the link it drives
WHEEL_RGBA = rgba("#22272d")
VISOR_RGBA = rgba("#101418")
HUMANOID_WHEEL_M = (0.22, 0.07)  # diameter, width
SHOULDER_M = (0.16, 0.62, 0.14)  # depth, span across both shoulders, height
SERVICE_CHASSIS_RGBA = rgba("#d5dbe1")
SERVICE_WHEEL_M = (0.2, 0.08)  # diameter, width
SERVICE_BEACON_M = 0.22  # a cube on top of the mast, visible from across a hall
# the beacon's colour by state: what a technician sees from the aisle's end
SERVICE_STATE_RGBA = {
    RobotState.IDLE: rgba("#8a97a6"),
    RobotState.MOVING: rgba("#2f9e8f"),
    RobotState.WORKING: rgba("#3f8fd2"),
    RobotState.WAITING: rgba("#f2c230"),
    RobotState.FAULT: rgba("#e53935"),
    RobotState.CHARGING: rgba("#7cc242"),
}
SERVICE_STATE_NAMES = {
    RobotState.IDLE: "idle",
    RobotState.MOVING: "driving",
    RobotState.WORKING: "working",
    RobotState.WAITING: "waiting",
    RobotState.FAULT: "faulted",
    RobotState.CHARGING: "charging at its dock",
}
SERVICE_PARTS = 7  # chassis, mast, beacon, four wheels


def service_height_m(
    body_m: tuple[float, float, float], mast_m: tuple[float, float, float]
) -> float:
    """A service robot's height, floor to beacon top."""
    return SERVICE_WHEEL_M[0] * 0.4 + body_m[2] + mast_m[2] + SERVICE_BEACON_M


def joint_boxes(frames: np.ndarray, thickness: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Housings at the joints of arms whose frames are ``frames`` (arms, joints + 1, 4, 4):
    one per joint (the flange has the gripper), a cube of ``JOINT_SCALE`` times the
    joint's link thickness, turned with the joint's frame."""
    joints = frames[:, :-1]
    size = JOINT_SCALE * thickness
    transforms = joints[..., :3, :3] * size[None, :, None, None]
    return joints[..., :3, 3].reshape(-1, 3), transforms.reshape(-1, 3, 3)


def humanoid_details(
    body_centres: np.ndarray, body_sizes: np.ndarray
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Wheels, shoulders and visor of humanoids whose base, torso and head boxes (three
    rows each, in that order; facing north, +y) are given: centres, transforms, colours."""
    base_c, base_s = body_centres[0::3], body_sizes[0::3]
    torso_c, torso_s = body_centres[1::3], body_sizes[1::3]
    head_c, head_s = body_centres[2::3], body_sizes[2::3]
    count = len(base_c)
    diameter, width = HUMANOID_WHEEL_M
    centres, sizes, colors = [], [], []
    for sx in (-1, 1):
        for sy in (-1, 1):
            centre = base_c.copy()
            centre[:, 0] += sx * (base_s[:, 0] / 2 + width / 2)
            centre[:, 1] += sy * (base_s[:, 1] / 2 - diameter / 2)
            centre[:, 2] = base_c[:, 2] - base_s[:, 2] / 2 + diameter / 2
            centres.append(centre)
            sizes.append(np.tile([width, diameter, diameter], (count, 1)))
            colors.append(np.tile(WHEEL_RGBA, (count, 1)))
    shoulders = torso_c.copy()
    shoulders[:, 2] += torso_s[:, 2] / 2 - SHOULDER_M[2] / 2
    centres.append(shoulders)
    sizes.append(np.tile([SHOULDER_M[1], SHOULDER_M[0], SHOULDER_M[2]], (count, 1)))
    colors.append(np.tile(JOINT_RGBA, (count, 1)))
    visor = head_c.copy()
    visor[:, 1] += head_s[:, 1] / 2  # on the face, which looks north
    visor[:, 2] += head_s[:, 2] * 0.1
    centres.append(visor)
    sizes.append(np.column_stack([head_s[:, 0] * 0.8, np.full(count, 0.02), head_s[:, 2] * 0.3]))
    colors.append(np.tile(VISOR_RGBA, (count, 1)))
    size = np.vstack(sizes)
    transforms = np.zeros((len(size), 3, 3))
    transforms[:, [0, 1, 2], [0, 1, 2]] = size
    return np.vstack(centres), transforms, np.vstack(colors)


def service_parts(
    positions: np.ndarray,
    heading_rad: np.ndarray,
    state: np.ndarray,
    body_m: tuple[float, float, float],
    mast_m: tuple[float, float, float],
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """The boxes of service robots standing at ``positions`` (n, 3: on the floor) facing
    ``heading_rad``, ``SERVICE_PARTS`` per robot, part by part (all chassis, then all
    masts, ...): centres, transforms and colours (the beacon's from ``state``)."""
    count = len(positions)
    c, s = np.cos(heading_rad), np.sin(heading_rad)
    turn = np.zeros((count, 3, 3))
    turn[:, 0, 0], turn[:, 0, 1], turn[:, 1, 0], turn[:, 1, 1] = c, -s, s, c
    turn[:, 2, 2] = 1.0
    forward = np.column_stack([c, s, np.zeros(count)])
    left = np.column_stack([-s, c, np.zeros(count)])
    up = np.array([0.0, 0.0, 1.0])
    diameter, width = SERVICE_WHEEL_M
    lift = diameter * 0.4  # the chassis rides on its wheels (see service_height_m)
    centres = [positions + up * (lift + body_m[2] / 2)]
    sizes = [np.tile(body_m, (count, 1))]
    mast_at = positions - 0.25 * body_m[0] * forward + up * (lift + body_m[2] + mast_m[2] / 2)
    centres.append(mast_at)
    sizes.append(np.tile(mast_m, (count, 1)))
    centres.append(mast_at + up * (mast_m[2] / 2 + SERVICE_BEACON_M / 2))
    sizes.append(np.full((count, 3), SERVICE_BEACON_M))
    for along in (-1, 1):
        for side in (-1, 1):
            centres.append(
                positions
                + along * (body_m[0] / 2 - diameter / 2) * forward
                + side * (body_m[1] / 2 + width / 2) * left
                + up * diameter / 2
            )
            sizes.append(np.tile([diameter, width, diameter], (count, 1)))
    transforms = np.concatenate([turn * size[:, None, :] for size in sizes])
    beacon = np.array(
        [
            SERVICE_STATE_RGBA.get(RobotState(int(code)), SERVICE_STATE_RGBA[RobotState.IDLE])
            for code in np.asarray(state)
        ]
    ).reshape(count, 4)
    colors = np.concatenate(
        [
            np.tile(SERVICE_CHASSIS_RGBA, (count, 1)),
            np.tile(SERVICE_CHASSIS_RGBA * [0.8, 0.8, 0.8, 1], (count, 1)),
            beacon,
            np.tile(WHEEL_RGBA, (4 * count, 1)),
        ]
    )
    return np.concatenate(centres), transforms, colors.astype(np.float32)
