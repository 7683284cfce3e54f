"""Serial robot arms: Denavit-Hartenberg chains and vectorized forward kinematics.

Convention: standard (distal) Denavit-Hartenberg, the one Universal Robots publishes.
Joint i turns about axis z of frame i-1; frame i sits at the far end of link i and

    T(i-1 -> i) = Rz(theta_i) Tz(d_i) Tx(a_i) Rx(alpha_i),   theta_i = q_i + theta_offset_i.

Frame 0 is the robot base (z up along joint 1, x forward); frame n is the tool flange
(z out of the flange). Joint angles ``q`` are measured in this DH sense; where a vendor
counts a joint the other way round it is said next to the chain. Every function takes
joint angles of shape (..., joints) for any number of robots of one chain at once.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

HALF_PI = np.pi / 2


@dataclass(frozen=True, slots=True)
class SerialChain:
    """A revolute serial arm: DH parameters, limits and link masses, one entry per joint."""

    name: str
    d_m: np.ndarray
    a_m: np.ndarray
    alpha_rad: np.ndarray
    theta_offset_rad: np.ndarray
    lower_rad: np.ndarray
    upper_rad: np.ndarray
    max_speed_rad_s: np.ndarray
    max_accel_rad_s2: np.ndarray
    link_mass_kg: np.ndarray
    link_com_m: np.ndarray  # (joints, 3): centre of mass of link i in frame i
    rated_payload_kg: float
    home_rad: np.ndarray  # a resting pose inside the limits, for cycles and drawing

    @property
    def joint_count(self) -> int:
        return int(self.d_m.size)

    @property
    def reach_bound_m(self) -> float:
        """No tool point lies farther than this from the base origin (triangle inequality)."""
        return float(np.hypot(self.a_m, self.d_m).sum())


def link_midpoints_m(d_m, a_m, alpha_rad) -> np.ndarray:
    """Per link, the midpoint between its two frame origins, in its own frame i.

    The origin of frame i-1 seen from frame i is -(a, d sin(alpha), d cos(alpha)) for any
    joint angle, so the midpoint is half of that: used where no measured centre of mass
    is published.
    """
    d, a, alpha = (np.asarray(v, dtype=float) for v in (d_m, a_m, alpha_rad))
    return -0.5 * np.column_stack([a, d * np.sin(alpha), d * np.cos(alpha)])


def _chain(
    name,
    d,
    a,
    alpha,
    offset,
    lower_deg,
    upper_deg,
    speed_deg_s,
    accel_rad_s2,
    mass_kg,
    com_m,
    payload_kg,
    home_deg,
) -> SerialChain:
    def arr(v):
        return np.asarray(v, dtype=float)

    return SerialChain(
        name=name,
        d_m=arr(d),
        a_m=arr(a),
        alpha_rad=arr(alpha),
        theta_offset_rad=arr(offset),
        lower_rad=np.radians(arr(lower_deg)),
        upper_rad=np.radians(arr(upper_deg)),
        max_speed_rad_s=np.radians(arr(speed_deg_s)),
        max_accel_rad_s2=arr(accel_rad_s2),
        link_mass_kg=arr(mass_kg),
        link_com_m=arr(com_m),
        rated_payload_kg=float(payload_kg),
        home_rad=np.radians(arr(home_deg)),
    )


# Universal Robots UR10e. DH, link masses and centres of mass: Universal Robots, "DH
# parameters for calculations of kinematics and dynamics" (vendor). Limits +-360 deg and
# speeds 120/120/180/180/180/180 deg/s: UR10e datasheet (vendor). UR publishes no joint
# acceleration limit; 1.4 rad/s^2 is URScript's movej default (URScript manual, vendor).
UR10E = _chain(
    "ur10e",
    d=[0.1807, 0.0, 0.0, 0.17415, 0.11985, 0.11655],
    a=[0.0, -0.6127, -0.57155, 0.0, 0.0, 0.0],
    alpha=[HALF_PI, 0.0, 0.0, HALF_PI, -HALF_PI, 0.0],
    offset=[0.0] * 6,
    lower_deg=[-360.0] * 6,
    upper_deg=[360.0] * 6,
    speed_deg_s=[120.0, 120.0, 180.0, 180.0, 180.0, 180.0],
    accel_rad_s2=[1.4] * 6,
    mass_kg=[7.369, 13.051, 3.989, 2.1, 1.98, 0.615],
    com_m=[
        [0.021, 0.0, 0.027],
        [0.38, 0.0, 0.158],
        [0.24, 0.0, 0.068],
        [0.0, 0.007, 0.018],
        [0.0, 0.007, 0.018],
        [0.0, 0.0, -0.026],
    ],
    payload_kg=12.5,  # UR10e manual (vendor)
    home_deg=[0.0, -90.0, 90.0, -90.0, -90.0, 0.0],
)

# KUKA KR 210 R2700 extra class. Geometry, limits and axis speeds (123/115/112/179/172/219
# deg/s) from ROS-Industrial kuka_experimental kr210r2700extra_macro.xacro, which follows
# KUKA's specification: A1 0.675 m above the floor and 0.350 m forward, upper arm 1.150 m,
# forearm 1.200 m with a 0.041 m drop, flange 0.215 m past the wrist. Written here as
# standard DH: q1 = -A1, q2 = A2, q3 = A3, q4 = -A4, q5 = A5, q6 = -A6 (KUKA counts A1,
# A4 and A6 about downward / inward axes). KUKA publishes no per-link masses or
# acceleration limits: the masses (about 0.8 t moving of a roughly 1 t arm, centres at
# link midpoints) and a full-speed ramp of 0.5 s per axis are engineering choices.
KR210 = _chain(
    "kr210-r2700",
    d=[0.675, 0.0, 0.0, 1.200, 0.0, 0.215],
    a=[0.350, 1.150, 0.041, 0.0, 0.0, 0.0],
    alpha=[-HALF_PI, 0.0, HALF_PI, -HALF_PI, HALF_PI, 0.0],
    offset=[0.0, 0.0, HALF_PI, 0.0, 0.0, 0.0],
    lower_deg=[-185.0, -140.0, -120.0, -350.0, -125.0, -350.0],
    upper_deg=[185.0, -5.0, 155.0, 350.0, 125.0, 350.0],
    speed_deg_s=[123.0, 115.0, 112.0, 179.0, 172.0, 219.0],
    accel_rad_s2=np.radians([123.0, 115.0, 112.0, 179.0, 172.0, 219.0]) / 0.5,
    mass_kg=[320.0, 210.0, 180.0, 60.0, 25.0, 5.0],
    com_m=link_midpoints_m(
        [0.675, 0.0, 0.0, 1.200, 0.0, 0.215],
        [0.350, 1.150, 0.041, 0.0, 0.0, 0.0],
        [-HALF_PI, 0.0, HALF_PI, -HALF_PI, HALF_PI, 0.0],
    ),
    payload_kg=210.0,
    home_deg=[0.0, -90.0, 90.0, 0.0, 90.0, 0.0],
)

# The arms of a CLOiD-style wheeled dual-arm humanoid. LG publishes no kinematics (arm
# ~0.87 m, 7 DOF: LG / Korean press), so each arm follows the Franka Emika Panda chain
# (reach 0.855 m), an engineering choice. Franka publishes its chain in Craig's
# (modified) DH; shifted here to standard DH, with the 0.107 m flange as d7. Position
# and speed limits: Franka's control-parameters page (vendor); accelerations: MoveIt's
# panda_moveit_config joint_limits.yaml (planning limits). Link masses: Gaz et al.,
# "Dynamic identification of the Franka Emika Panda robot", IEEE RA-L 2019; centres of
# mass taken at link midpoints (engineering simplification).
_ARM7_D = [0.333, 0.0, 0.316, 0.0, 0.384, 0.0, 0.107]
_ARM7_A = [0.0, 0.0, 0.0825, -0.0825, 0.0, 0.088, 0.0]
_ARM7_ALPHA = [-HALF_PI, HALF_PI, HALF_PI, -HALF_PI, HALF_PI, HALF_PI, 0.0]
HUMANOID_ARM = _chain(
    "humanoid-arm-7dof",
    d=_ARM7_D,
    a=_ARM7_A,
    alpha=_ARM7_ALPHA,
    offset=[0.0] * 7,
    lower_deg=np.degrees([-2.8973, -1.7628, -2.8973, -3.0718, -2.8973, -0.0175, -2.8973]),
    upper_deg=np.degrees([2.8973, 1.7628, 2.8973, -0.0698, 2.8973, 3.7525, 2.8973]),
    speed_deg_s=np.degrees([2.1750, 2.1750, 2.1750, 2.1750, 2.6100, 2.6100, 2.6100]),
    accel_rad_s2=[3.75, 1.875, 2.5, 3.125, 3.75, 5.0, 5.0],
    mass_kg=[4.970684, 0.646926, 3.228604, 3.587895, 1.225946, 1.666555, 0.735522],
    com_m=link_midpoints_m(_ARM7_D, _ARM7_A, _ARM7_ALPHA),
    payload_kg=3.0,  # Franka Emika Panda datasheet (vendor)
    home_deg=np.degrees([0.0, -np.pi / 4, 0.0, -3 * np.pi / 4, 0.0, np.pi / 2, np.pi / 4]),
)

# The arm chain of each robot model of the scenario schema (``Robot.model``).
CHAINS: dict[str, SerialChain] = {
    "ur10e": UR10E,
    "industrial-arm": KR210,
    "cloid": HUMANOID_ARM,
}


@dataclass(frozen=True, slots=True)
class ArmPoses:
    """Every frame of many arms: ``frames`` is (..., joints + 1, 4, 4), base first, flange last."""

    frames: np.ndarray

    @property
    def tool(self) -> np.ndarray:
        """Flange poses, (..., 4, 4)."""
        return self.frames[..., -1, :, :]

    @property
    def joint_points_m(self) -> np.ndarray:
        """Frame origins, (..., joints + 1, 3): the polyline a simple drawing connects."""
        return self.frames[..., :3, 3]


def link_transforms(chain: SerialChain, q_rad) -> np.ndarray:
    """Each joint's T(i-1 -> i), shape (..., joints, 4, 4)."""
    q = np.asarray(q_rad, dtype=float)
    theta = q + chain.theta_offset_rad
    ct, st = np.cos(theta), np.sin(theta)
    ca = np.broadcast_to(np.cos(chain.alpha_rad), theta.shape)
    sa = np.broadcast_to(np.sin(chain.alpha_rad), theta.shape)
    a = np.broadcast_to(chain.a_m, theta.shape)
    d = np.broadcast_to(chain.d_m, theta.shape)
    t = np.zeros((*theta.shape, 4, 4))
    t[..., 0, 0], t[..., 0, 1], t[..., 0, 2], t[..., 0, 3] = ct, -st * ca, st * sa, a * ct
    t[..., 1, 0], t[..., 1, 1], t[..., 1, 2], t[..., 1, 3] = st, ct * ca, -ct * sa, a * st
    t[..., 2, 1], t[..., 2, 2], t[..., 2, 3] = sa, ca, d
    t[..., 3, 3] = 1.0
    return t


def forward_kinematics(chain: SerialChain, q_rad, base=None) -> ArmPoses:
    """Frames of arms with joint angles ``q_rad`` (..., joints).

    ``base`` is where each robot stands, a (4, 4) pose or one per robot (..., 4, 4);
    the identity when omitted.
    """
    local = link_transforms(chain, q_rad)
    lead = local.shape[:-3]
    frames = np.empty((*lead, chain.joint_count + 1, 4, 4))
    frames[..., 0, :, :] = np.eye(4) if base is None else base
    for i in range(chain.joint_count):
        frames[..., i + 1, :, :] = frames[..., i, :, :] @ local[..., i, :, :]
    return ArmPoses(frames)


def jacobian(chain: SerialChain, poses: ArmPoses) -> np.ndarray:
    """Geometric Jacobian of the flange, (..., 6, joints): rows vx, vy, vz, wx, wy, wz."""
    frames = poses.frames
    axes = frames[..., :-1, :3, 2]  # joint i turns about z of frame i-1
    origins = frames[..., :-1, :3, 3]
    tip = frames[..., -1:, :3, 3]
    linear = np.cross(axes, tip - origins)
    return np.concatenate([np.swapaxes(linear, -1, -2), np.swapaxes(axes, -1, -2)], axis=-2)


def rotation_vector(rotation: np.ndarray) -> np.ndarray:
    """Axis times angle (..., 3) of rotation matrices (..., 3, 3); exact up to angle pi."""
    r = np.asarray(rotation, dtype=float)
    cos_angle = np.clip((np.trace(r, axis1=-2, axis2=-1) - 1.0) / 2.0, -1.0, 1.0)
    angle = np.arccos(cos_angle)
    skew = np.stack(
        [r[..., 2, 1] - r[..., 1, 2], r[..., 0, 2] - r[..., 2, 0], r[..., 1, 0] - r[..., 0, 1]],
        axis=-1,
    )
    sin_angle = np.sin(angle)
    small = sin_angle < 1e-6
    # away from 0 and pi: axis from the skew part; near 0: the skew part is 2 * vector
    scale = np.where(small, 0.5, angle / (2.0 * np.where(small, 1.0, sin_angle)))
    vec = skew * scale[..., None]
    near_pi = small & (cos_angle < 0.0)
    if np.any(near_pi):
        # R = 2 u u^T - I at angle pi: the axis is the largest column of (R + I) / 2
        sym = (r[near_pi] + np.eye(3)) / 2.0
        column = np.argmax(np.diagonal(sym, axis1=-2, axis2=-1), axis=-1)
        axis = sym[np.arange(column.size), :, column]
        axis /= np.linalg.norm(axis, axis=-1, keepdims=True)
        vec[near_pi] = axis * angle[near_pi, None]
    return vec


def pose_error(current: np.ndarray, target: np.ndarray) -> np.ndarray:
    """(..., 6): target position minus current, and the rotation taking current to target.

    Both in the base frame, so that a step ``J dq = error`` moves the flange toward the
    target to first order.
    """
    position = target[..., :3, 3] - current[..., :3, 3]
    turn = target[..., :3, :3] @ np.swapaxes(current[..., :3, :3], -1, -2)
    return np.concatenate([position, rotation_vector(turn)], axis=-1)
