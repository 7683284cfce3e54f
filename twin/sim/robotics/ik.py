"""Inverse kinematics: joint angles that put an arm's flange at a target pose.

A small Levenberg-Marquardt solver on the pose error (position in metres, rotation
vector in radians, both in the robot's base frame), with the geometric Jacobian,
adaptive damping and joint limits enforced by projection after every step. Several
lanes search at once (vectorized over starting points): the first starts from the
caller's seed (the current pose, so nearby targets give nearby solutions), the others
from seeded random poses; a lane that stalls is restarted from the next random pose.
The random stream is fixed, so the same call always gives the same answer.

Chosen over ikpy and roboticstoolbox-python (both install from PyPI on Python 3.11)
because twin's simulation core is numpy only (ikpy needs scipy and sympy; the toolbox
brings scipy, matplotlib and a dozen more) and because the solver is needed batched and
with twin's own errors; the method is textbook (Levenberg 1944, Marquardt 1963; for
arms e.g. Sugihara, IEEE T-RO 2011).
"""

from __future__ import annotations

import numpy as np

from twin.sim.robotics.kinematics import (
    ArmPoses,
    SerialChain,
    forward_kinematics,
    jacobian,
    pose_error,
)

OUT_OF_REACH = "out of reach"
NOT_CONVERGED = "did not converge"


class IKError(ValueError):
    """No joint angles reach the target; says which target, why, and how close it came."""

    def __init__(
        self,
        chain: str,
        target: np.ndarray,
        reason: str,
        position_error_m: float,
        orientation_error_rad: float,
    ) -> None:
        self.chain = chain
        self.target = np.array(target, dtype=float)
        self.reason = reason
        self.position_error_m = position_error_m
        self.orientation_error_rad = orientation_error_rad
        x, y, z = self.target[:3, 3]
        closest = f"{position_error_m * 1000:.1f} mm"
        if np.isfinite(orientation_error_rad):
            closest += f", {orientation_error_rad:.3f} rad"
        super().__init__(
            f"{chain}: no joint angles put the flange at ({x:.3f}, {y:.3f}, "
            f"{z:.3f}) m: {reason} (closest: {closest} off)"
        )


def _random_poses(chain: SerialChain, rng: np.random.Generator, count: int) -> np.ndarray:
    # joints that turn more than a full turn are sampled within one turn: the same poses
    lower = np.maximum(chain.lower_rad, -np.pi)
    upper = np.minimum(chain.upper_rad, np.pi)
    return lower + (upper - lower) * rng.random((count, chain.joint_count))


def _residuals(chain: SerialChain, q: np.ndarray, target: np.ndarray, rows: slice):
    poses = forward_kinematics(chain, q)
    error = pose_error(poses.tool, target)
    return poses, error, 0.5 * np.einsum("...i,...i->...", error[..., rows], error[..., rows])


def _search(
    chain,
    target,
    seed,
    rows,
    position_tol_m,
    orientation_tol_rad,
    restarts,
    lanes,
    lane_iterations,
    rng,
):
    """Best pose found and whether it meets the tolerances."""
    q = _random_poses(chain, rng, lanes)
    q[0] = seed
    seeds_left = restarts - lanes
    damping = np.full(lanes, 1e-3)
    iterations = np.zeros(lanes, dtype=int)
    alive = np.ones(lanes, dtype=bool)
    poses, error, cost = _residuals(chain, q, target, rows)
    best_q, best_error, best_cost = q[0].copy(), error[0].copy(), cost[0]
    eye = np.eye(chain.joint_count)
    while alive.any():
        position_off = np.linalg.norm(error[:, :3], axis=-1)
        orientation_off = (
            np.linalg.norm(error[:, 3:], axis=-1) if rows.stop == 6 else np.zeros(lanes)
        )
        done = alive & (position_off <= position_tol_m) & (orientation_off <= orientation_tol_rad)
        if done.any():
            candidates = np.flatnonzero(done)
            pick = candidates[np.argmin(np.linalg.norm(q[candidates] - seed, axis=-1))]
            return q[pick], error[pick], True
        jac = jacobian(chain, poses)[:, rows, :]
        jt = np.swapaxes(jac, -1, -2)
        normal = jt @ jac + damping[:, None, None] * eye
        step = np.linalg.solve(normal, (jt @ error[:, rows, None]))[..., 0]
        trial = np.clip(q + step, chain.lower_rad, chain.upper_rad)
        trial_poses, trial_error, trial_cost = _residuals(chain, trial, target, rows)
        better = alive & (trial_cost < cost)
        q = np.where(better[:, None], trial, q)
        error = np.where(better[:, None], trial_error, error)
        poses_frames = np.where(better[:, None, None, None], trial_poses.frames, poses.frames)
        poses = ArmPoses(poses_frames)
        cost = np.where(better, trial_cost, cost)
        damping = np.where(better, np.maximum(damping * 0.3, 1e-9), damping * 10.0)
        iterations += alive
        lane_best = np.argmin(np.where(alive, cost, np.inf))
        if cost[lane_best] < best_cost:
            best_q, best_error = q[lane_best].copy(), error[lane_best].copy()
            best_cost = cost[lane_best]

        stalled = alive & ((damping > 1e6) | (iterations >= lane_iterations))
        for lane in np.flatnonzero(stalled):
            if seeds_left <= 0:
                alive[lane] = False
                continue
            seeds_left -= 1
            q[lane] = _random_poses(chain, rng, 1)[0]
            damping[lane], iterations[lane] = 1e-3, 0
        if stalled.any():
            poses, error, cost = _residuals(chain, q, target, rows)
    return best_q, best_error, False


def _nearest_turn(chain: SerialChain, q: np.ndarray, seed: np.ndarray) -> np.ndarray:
    """The same pose with each joint turned by whole turns to lie nearest the seed."""
    turns = np.round((seed - q) / (2 * np.pi))
    shifted = q + 2 * np.pi * turns
    inside = (shifted >= chain.lower_rad) & (shifted <= chain.upper_rad)
    return np.where(inside, shifted, q)


def solve_ik(
    chain: SerialChain,
    target,
    seed_rad=None,
    *,
    orientation: bool = True,
    position_tol_m: float = 1e-4,
    orientation_tol_rad: float = 1e-4,
    restarts: int = 64,
    lanes: int = 8,
    lane_iterations: int = 60,
    random_seed: int = 0,
) -> np.ndarray:
    """Joint angles (joints,) that put the flange at ``target``, a (4, 4) pose in the base frame.

    ``seed_rad`` is where the search starts (default: the chain's home pose); of several
    solutions the one found nearest to it is returned, joints that turn more than a full
    turn taken by whole turns nearest to it. ``restarts`` is the number of starting poses
    tried in all, ``lanes`` how many search at once. With ``orientation=False`` only
    the flange position is matched. Raises ``IKError`` when the target is out of reach
    (no position of the flange gets there) or the search did not converge (typically an
    orientation the arm cannot take at that position).
    """
    target = np.asarray(target, dtype=float)
    seed = chain.home_rad if seed_rad is None else np.asarray(seed_rad, dtype=float)
    seed = np.clip(seed, chain.lower_rad, chain.upper_rad)
    rows = slice(0, 6 if orientation else 3)
    distance = float(np.linalg.norm(target[:3, 3]))
    if distance > chain.reach_bound_m:
        raise IKError(chain.name, target, OUT_OF_REACH, distance - chain.reach_bound_m, np.nan)

    def search(search_rows, starts, search_lanes):
        return _search(
            chain,
            target,
            seed,
            search_rows,
            position_tol_m,
            orientation_tol_rad,
            starts,
            search_lanes,
            lane_iterations,
            np.random.default_rng(random_seed),
        )

    # from the seed alone first: a nearby target then gets the nearby solution
    q, error, converged = search(rows, 1, 1)
    if not converged:
        q, error, converged = search(rows, restarts, lanes)
    if converged:
        return _nearest_turn(chain, q, seed)
    position_off = float(np.linalg.norm(error[:3]))
    orientation_off = float(np.linalg.norm(error[3:])) if orientation else np.nan
    reason = OUT_OF_REACH
    if orientation and search(slice(0, 3), restarts, lanes)[2]:
        reason = NOT_CONVERGED
    raise IKError(chain.name, target, reason, position_off, orientation_off)
