"""Joint torques and electrical power of arms in motion.

Torque model: every link is a point mass at its centre of mass (the payload one more at
the flange). Joint i must hold the gravity moment of everything beyond it about its
axis and accelerate the same masses about that axis:

    tau_i = I_i(q) qdd_i - z_i . sum_k (c_k - p_i) x m_k g,   I_i = sum_k m_k r_perp,ik^2

which leaves out the coupling and velocity-product (Coriolis, centrifugal) terms, motor
rotor inertia, friction and the gas-spring balancers of large arms (a conservative
simplification for A2 of a KR 210). Electrical power is the controller's idle draw
plus the mechanical power sum_i |tau_i qd_i| over the drive efficiency: power braked
back into the DC bus is taken as lost in the brake resistor, so it is counted too.
"""

from __future__ import annotations

import numpy as np

from twin.sim.robotics.kinematics import ArmPoses, SerialChain, forward_kinematics

GRAVITY_M_S2 = 9.81
# Servo amplifier (~0.95) x permanent-magnet motor (~0.9) x gear (0.85-0.9 for strain-wave
# and cycloidal reducers at rated load): about 0.75 from power in to power at the joint.
# Engineering figure from typical catalogue values, not a measurement of these arms.
DRIVE_EFFICIENCY = 0.75


def _mass_points(chain: SerialChain, poses: ArmPoses, payload_kg: float):
    """Centres of mass in the base frame (..., links + 1, 3), their masses and owning links."""
    frames = poses.frames
    rotation, origin = frames[..., 1:, :3, :3], frames[..., 1:, :3, 3]
    centres = origin + np.einsum("...ij,...j->...i", rotation, chain.link_com_m)
    tool = frames[..., -1:, :3, 3]
    points = np.concatenate([centres, tool], axis=-2)
    masses = np.append(chain.link_mass_kg, payload_kg)
    owner = np.append(np.arange(chain.joint_count), chain.joint_count - 1)
    return points, masses, owner


def joint_torques_nm(
    chain: SerialChain, q_rad, qdd_rad_s2, payload_kg: float = 0.0, base=None
) -> np.ndarray:
    """Torque each joint applies, (..., joints), at positions q and accelerations qdd.

    ``base`` must keep z up (a rotation about z and a translation): gravity is -z.
    """
    poses = forward_kinematics(chain, q_rad, base)
    points, masses, owner = _mass_points(chain, poses, payload_kg)
    axes = poses.frames[..., :-1, :3, 2]  # (..., joints, 3)
    pivots = poses.frames[..., :-1, :3, 3]
    # lever arm of every mass point about every joint, zeroed for points before the joint
    beyond = owner[None, :] >= np.arange(chain.joint_count)[:, None]  # (joints, points)
    lever = points[..., None, :, :] - pivots[..., :, None, :]  # (..., joints, points, 3)
    weight = masses * beyond  # (joints, points)
    gravity = np.array([0.0, 0.0, -GRAVITY_M_S2])
    moment = np.cross(lever, gravity) * weight[..., None]  # (..., joints, points, 3)
    gravity_nm = np.einsum("...jk,...jk->...j", moment.sum(axis=-2), axes)
    along = np.einsum("...jpk,...jk->...jp", lever, axes)
    radius_sq = np.einsum("...jpk,...jpk->...jp", lever, lever) - along**2
    inertia_kg_m2 = (weight * radius_sq).sum(axis=-1)
    return inertia_kg_m2 * np.asarray(qdd_rad_s2, dtype=float) - gravity_nm


def mechanical_power_w(
    chain: SerialChain, q_rad, qd_rad_s, qdd_rad_s2, payload_kg: float = 0.0
) -> np.ndarray:
    """sum over joints of |torque x speed|, (...)."""
    torque = joint_torques_nm(chain, q_rad, qdd_rad_s2, payload_kg)
    return np.abs(torque * np.asarray(qd_rad_s, dtype=float)).sum(axis=-1)


def electrical_power_w(
    chain: SerialChain,
    q_rad,
    qd_rad_s,
    qdd_rad_s2,
    idle_w: float,
    payload_kg: float = 0.0,
    arms: int = 1,
    efficiency: float = DRIVE_EFFICIENCY,
) -> np.ndarray:
    """Power one robot draws: idle plus the drives' mechanical power over their efficiency.

    ``arms`` robots with several identical arms doing mirrored work (a dual-arm humanoid).
    """
    mechanical = mechanical_power_w(chain, q_rad, qd_rad_s, qdd_rad_s2, payload_kg)
    return idle_w + arms * mechanical / efficiency
