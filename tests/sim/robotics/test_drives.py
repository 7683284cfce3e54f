"""Joint torques and power against statics and rotational dynamics worked by hand."""

from __future__ import annotations

import numpy as np

from twin.sim.robotics.drives import (
    DRIVE_EFFICIENCY,
    GRAVITY_M_S2,
    electrical_power_w,
    joint_torques_nm,
    mechanical_power_w,
)
from twin.sim.robotics.kinematics import UR10E, forward_kinematics


def _centres(q, payload_kg):
    frames = forward_kinematics(UR10E, q).frames
    centres = [frames[i + 1, :3, :3] @ UR10E.link_com_m[i] + frames[i + 1, :3, 3] for i in range(6)]
    masses = [*UR10E.link_mass_kg, payload_kg]
    return np.array([*centres, frames[-1, :3, 3]]), np.array(masses)


def test_shoulder_holds_the_moment_of_the_stretched_arm():
    # stretched horizontally along -x: the shoulder (axis along y, at x = 0) holds
    # |sum m g x| of everything beyond it, the payload at the flange included
    q = np.zeros(6)
    centres, masses = _centres(q, 10.0)
    beyond = np.ones(7, dtype=bool)
    beyond[0] = False  # link 1 turns with joint 1 and sits before the shoulder
    moment = abs((masses[beyond] * GRAVITY_M_S2 * centres[beyond, 0]).sum())
    torque = joint_torques_nm(UR10E, q, np.zeros(6), payload_kg=10.0)
    # the shoulder turns about -y, so gravity pulls the arm toward +q2 (down): the drive
    # holds it with a negative torque
    assert abs(torque[1] + moment) < 1e-9
    assert moment > 100.0  # a real load, so the comparison means something
    assert abs(torque[0]) < 1e-9  # the base axis is vertical: gravity has no moment about it
    # lifting (q2 speeding toward -90 deg) takes more torque the same way round
    lifting = joint_torques_nm(UR10E, q, np.array([0.0, -1.0, 0.0, 0.0, 0.0, 0.0]), 10.0)
    assert lifting[1] < torque[1] - 1.0


def test_arm_pointing_up_needs_no_holding_torque_at_the_base_and_only_inertia_to_turn():
    # upper arm vertical (q2 = -90 deg): turning the base about z costs only inertia,
    # I = sum m r^2 with r the horizontal distance of each centre from the base axis
    q = np.array([0.0, -np.pi / 2, 0.0, 0.0, 0.0, 0.0])
    centres, masses = _centres(q, 0.0)
    inertia = (masses * (centres[:, 0] ** 2 + centres[:, 1] ** 2)).sum()
    qdd = np.array([2.0, 0.0, 0.0, 0.0, 0.0, 0.0])
    torque = joint_torques_nm(UR10E, q, qdd)
    assert abs(torque[0] - inertia * 2.0) < 1e-9


def test_power_is_idle_plus_mechanical_over_efficiency():
    rng = np.random.default_rng(6)
    q = rng.uniform(-np.pi, np.pi, (50, 6))
    qd = rng.uniform(-2.0, 2.0, (50, 6))
    qdd = rng.uniform(-1.4, 1.4, (50, 6))
    torque = joint_torques_nm(UR10E, q, qdd, payload_kg=5.0)
    mechanical = np.abs(torque * qd).sum(axis=1)
    np.testing.assert_allclose(mechanical_power_w(UR10E, q, qd, qdd, 5.0), mechanical)
    electrical = electrical_power_w(UR10E, q, qd, qdd, idle_w=90.0, payload_kg=5.0, arms=2)
    np.testing.assert_allclose(electrical, 90.0 + 2 * mechanical / DRIVE_EFFICIENCY)
    assert np.all(electrical > 90.0)
