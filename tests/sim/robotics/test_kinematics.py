"""Forward kinematics against poses worked out by hand from the published geometry."""

from __future__ import annotations

import numpy as np
import pytest

from twin.sim.robotics.kinematics import (
    CHAINS,
    HUMANOID_ARM,
    KR210,
    UR10E,
    forward_kinematics,
    jacobian,
    pose_error,
    rotation_vector,
)

from .helpers import random_poses

# UR10e DH lengths (Universal Robots), for the hand computations below
D1, A2, A3, D4, D5, D6 = 0.1807, -0.6127, -0.57155, 0.17415, 0.11985, 0.11655


def test_ur10e_at_zero_lies_stretched_along_minus_x():
    # all joints at zero: upper arm and forearm along -x (a2, a3 < 0), the wrist offsets
    # d4 and d6 along -y, d5 down; the flange faces -y
    poses = forward_kinematics(UR10E, np.zeros(6))
    np.testing.assert_allclose(poses.tool[:3, 3], [A2 + A3, -(D4 + D6), D1 - D5], atol=1e-12)
    np.testing.assert_allclose(poses.tool[:3, 2], [0.0, -1.0, 0.0], atol=1e-12)
    np.testing.assert_allclose(poses.joint_points_m[2], [A2, 0.0, D1], atol=1e-12)


def test_ur10e_base_turn_turns_the_whole_arm():
    q = np.zeros(6)
    q[0] = np.pi / 2
    tool = forward_kinematics(UR10E, q).tool
    np.testing.assert_allclose(tool[:3, 3], [D4 + D6, A2 + A3, D1 - D5], atol=1e-12)


def test_ur10e_shoulder_up_points_the_arm_at_the_ceiling():
    # shoulder at -90 deg swings the stretched arm up about the shoulder axis: the tool
    # ends |a2| + |a3| above the shoulder, d5 behind it
    q = np.array([0.0, -np.pi / 2, 0.0, 0.0, 0.0, 0.0])
    tool = forward_kinematics(UR10E, q).tool
    np.testing.assert_allclose(tool[:3, 3], [-D5, -(D4 + D6), D1 - A2 - A3], atol=1e-12)


def test_kr210_at_zero_matches_the_vendor_geometry():
    # KUKA zero: arm horizontal along +x; A2 0.350 forward and 0.675 up, A3 1.150 further,
    # the forearm 0.041 lower, the wrist 1.200 on, the flange 0.215 past it facing +x
    poses = forward_kinematics(KR210, np.zeros(6))
    points = poses.joint_points_m
    np.testing.assert_allclose(points[1], [0.350, 0.0, 0.675], atol=1e-12)
    np.testing.assert_allclose(points[2], [1.500, 0.0, 0.675], atol=1e-12)
    np.testing.assert_allclose(points[4], [2.700, 0.0, 0.634], atol=1e-12)
    np.testing.assert_allclose(poses.tool[:3, 3], [2.915, 0.0, 0.634], atol=1e-12)
    np.testing.assert_allclose(poses.tool[:3, 2], [1.0, 0.0, 0.0], atol=1e-12)


def test_humanoid_arm_at_zero_stands_upright():
    # Franka-style chain at zero: 0.333 + 0.316 + 0.384 up, the 0.107 flange hanging down
    # after the 0.088 offset of the last link
    tool = forward_kinematics(HUMANOID_ARM, np.zeros(7)).tool
    np.testing.assert_allclose(tool[:3, 3], [0.088, 0.0, 0.333 + 0.316 + 0.384 - 0.107], atol=1e-12)
    np.testing.assert_allclose(tool[:3, 2], [0.0, 0.0, -1.0], atol=1e-12)


@pytest.mark.parametrize("chain", list(CHAINS.values()), ids=list(CHAINS))
def test_batch_equals_one_by_one_and_frames_are_rigid(chain):
    q = random_poses(chain, 100, seed=1)
    batch = forward_kinematics(chain, q)
    assert batch.frames.shape == (100, chain.joint_count + 1, 4, 4)
    for k in (0, 37, 99):
        np.testing.assert_allclose(
            batch.frames[k], forward_kinematics(chain, q[k]).frames, atol=1e-12
        )
    rotation = batch.frames[..., :3, :3]
    identity = rotation @ np.swapaxes(rotation, -1, -2)
    np.testing.assert_allclose(identity, np.broadcast_to(np.eye(3), identity.shape), atol=1e-12)
    np.testing.assert_allclose(np.linalg.det(rotation), 1.0, atol=1e-12)


def test_base_pose_places_the_arm_in_the_world():
    base = np.eye(4)
    base[:3, :3] = [[0.0, -1.0, 0.0], [1.0, 0.0, 0.0], [0.0, 0.0, 1.0]]
    base[:3, 3] = [10.0, 20.0, 0.5]
    q = random_poses(UR10E, 5, seed=2)
    placed = forward_kinematics(UR10E, q, base).tool
    np.testing.assert_allclose(placed, base @ forward_kinematics(UR10E, q).tool, atol=1e-12)


@pytest.mark.parametrize("chain", list(CHAINS.values()), ids=list(CHAINS))
def test_jacobian_matches_finite_differences(chain):
    q = random_poses(chain, 4, seed=3)
    jac = jacobian(chain, forward_kinematics(chain, q))
    step = 1e-6
    for j in range(chain.joint_count):
        dq = np.zeros(chain.joint_count)
        dq[j] = step
        plus = forward_kinematics(chain, q + dq).tool
        minus = forward_kinematics(chain, q - dq).tool
        numeric = pose_error(minus, plus) / (2 * step)
        np.testing.assert_allclose(jac[..., j], numeric, atol=1e-6)


def test_rotation_vector_recovers_axis_and_angle_up_to_pi():
    rng = np.random.default_rng(4)
    axis = rng.normal(size=(200, 3))
    axis /= np.linalg.norm(axis, axis=1, keepdims=True)
    angle = np.concatenate([rng.uniform(0.0, np.pi - 1e-3, 197), [0.0, 1e-9, np.pi]])
    skew = np.zeros((200, 3, 3))
    skew[:, 0, 1], skew[:, 0, 2], skew[:, 1, 2] = -axis[:, 2], axis[:, 1], -axis[:, 0]
    skew -= np.swapaxes(skew, 1, 2)
    rotation = (
        np.eye(3)
        + np.sin(angle)[:, None, None] * skew
        + (1 - np.cos(angle))[:, None, None] * skew @ skew
    )
    vector = rotation_vector(rotation)
    np.testing.assert_allclose(np.linalg.norm(vector, axis=1), angle, atol=1e-9)
    # at exactly pi the axis sign is free (and arccos keeps only half the digits there);
    # elsewhere it must match
    np.testing.assert_allclose(vector[:-1], (axis * angle[:, None])[:-1], atol=1e-8)
    assert abs(abs(vector[-1] @ axis[-1]) - np.pi) < 1e-7


def test_reach_bound_encloses_every_pose():
    for chain in CHAINS.values():
        tips = forward_kinematics(chain, random_poses(chain, 2000, seed=5)).tool[:, :3, 3]
        assert np.linalg.norm(tips, axis=1).max() <= chain.reach_bound_m


def _axis_turn(axis, angle) -> np.ndarray:
    """4 x 4 rotation about a unit axis (Rodrigues)."""
    x, y, z = axis
    k = np.array([[0.0, -z, y], [z, 0.0, -x], [-y, x, 0.0]])
    out = np.eye(4)
    out[:3, :3] = np.eye(3) + np.sin(angle) * k + (1 - np.cos(angle)) * k @ k
    return out


def _shift(x, y, z) -> np.ndarray:
    out = np.eye(4)
    out[:3, 3] = x, y, z
    return out


def test_kr210_dh_equals_the_vendor_urdf_chain():
    # the ROS-Industrial description: joint origins and axes in KUKA's own sense
    joints = [
        ((0, 0, 0.675), (0, 0, -1)),
        ((0.350, 0, 0), (0, 1, 0)),
        ((1.150, 0, 0), (0, 1, 0)),
        ((0, 0, -0.041), (-1, 0, 0)),
        ((1.200, 0, 0), (0, 1, 0)),
        ((0.215, 0, 0), (-1, 0, 0)),
    ]
    flange = _axis_turn((0, 1, 0), np.pi / 2)  # tool0: z out of the flange
    for kuka in random_poses(KR210, 20, seed=15):
        pose = np.eye(4)
        for (origin, axis), angle in zip(joints, kuka, strict=True):
            pose = pose @ _shift(*origin) @ _axis_turn(axis, angle)
        pose = pose @ flange
        dh = kuka * np.array([-1, 1, 1, -1, 1, -1])  # A1, A4, A6 counted the other way
        np.testing.assert_allclose(forward_kinematics(KR210, dh).tool, pose, atol=1e-12)


def test_humanoid_arm_dh_equals_frankas_modified_dh():
    # Franka's published chain in Craig's convention: Rx(alpha) Tx(a) Rz(q) Tz(d) per joint,
    # then the flange 0.107 m along z
    a = [0.0, 0.0, 0.0, 0.0825, -0.0825, 0.0, 0.088]
    d = [0.333, 0.0, 0.316, 0.0, 0.384, 0.0, 0.0]
    alpha = [0.0, -np.pi / 2, np.pi / 2, np.pi / 2, -np.pi / 2, np.pi / 2, np.pi / 2]
    for q in random_poses(HUMANOID_ARM, 20, seed=16):
        pose = np.eye(4)
        for i in range(7):
            pose = (
                pose
                @ _axis_turn((1, 0, 0), alpha[i])
                @ _shift(a[i], 0, 0)
                @ _axis_turn((0, 0, 1), q[i])
                @ _shift(0, 0, d[i])
            )
        pose = pose @ _shift(0, 0, 0.107)
        np.testing.assert_allclose(forward_kinematics(HUMANOID_ARM, q).tool, pose, atol=1e-12)
