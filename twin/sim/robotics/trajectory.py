"""Joint-space motions that respect every joint's speed and acceleration limit.

A move from ``start`` to ``goal`` follows the straight line in joint space,
``q(t) = start + (goal - start) s(t)``, with one trapezoidal profile ``s`` from 0 to 1
shared by all joints (phase-synchronized: all joints start, cruise and stop together).
The profile's speed and acceleration are the largest every joint allows,

    V = min_j vmax_j / |D_j|,   A = min_j amax_j / |D_j|,

so it is the fastest straight-line move; when it cannot reach V it is triangular.
Everything is closed-form: a state at any time, whatever the step length, is exact.
Jerk is not limited (acceleration steps at the phase changes).

Two shapes of use:
- ``plan_move``: many robots, each its own start and goal (arrays (robots, joints)).
- ``plan_sequence``: one program of waypoints and dwells (a task cycle), sampled at
  many times at once (one time per robot of a cell).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from twin.sim.robotics.kinematics import SerialChain


def _profile_limits(delta: np.ndarray, max_speed: np.ndarray, max_accel: np.ndarray):
    """Speed and acceleration limits (...,) of the shared profile s for moves ``delta``."""
    distance = np.abs(delta)
    moving = distance > 0.0
    with np.errstate(divide="ignore"):
        speed = np.where(moving, max_speed / np.where(moving, distance, 1.0), np.inf)
        accel = np.where(moving, max_accel / np.where(moving, distance, 1.0), np.inf)
    return speed.min(axis=-1), accel.min(axis=-1)


def _timing(speed: np.ndarray, accel: np.ndarray):
    """Ramp time and total duration of a 0 -> 1 profile; zero for moves of no length."""
    still = ~np.isfinite(accel)
    accel = np.where(still, 1.0, accel)
    speed = np.where(still, 1.0, speed)
    triangular = speed * speed / accel >= 1.0
    ramp = np.where(triangular, np.sqrt(1.0 / accel), speed / accel)
    duration = np.where(triangular, 2.0 * ramp, 1.0 / speed + speed / accel)
    return np.where(still, 0.0, ramp), np.where(still, 0.0, duration), accel


def _unit_profile(t: np.ndarray, ramp: np.ndarray, duration: np.ndarray, accel: np.ndarray):
    """s, ds/dt, d2s/dt2 of the trapezoid at local times t (clipped to [0, duration])."""
    t = np.clip(t, 0.0, duration)
    peak = accel * ramp
    rising = t < ramp
    falling = t >= duration - ramp
    left = duration - t
    s = np.where(
        rising,
        0.5 * accel * t * t,
        np.where(
            falling, 1.0 - 0.5 * accel * left * left, 0.5 * accel * ramp * ramp + peak * (t - ramp)
        ),
    )
    sd = np.where(rising, accel * t, np.where(falling, accel * left, peak))
    sdd = np.where(rising, accel, np.where(falling, -accel, 0.0))
    done = t >= duration
    return (np.where(done, 1.0, s), np.where(done, 0.0, sd), np.where(done, 0.0, sdd))


@dataclass(frozen=True, slots=True)
class JointMove:
    """Straight joint-space moves of many robots, (robots, joints) each."""

    start_rad: np.ndarray
    goal_rad: np.ndarray
    ramp_s: np.ndarray  # (robots,)
    duration_s: np.ndarray  # (robots,)
    profile_accel: np.ndarray  # (robots,) acceleration of s, 1/s^2

    def sample(self, t_s):
        """Positions, speeds and accelerations (..., robots, joints) at times since the
        start: a scalar, one time per robot (robots,), or any (..., robots).

        Before the start the robot is at ``start``; from ``duration_s`` on exactly at
        ``goal`` and still.
        """
        t = np.asarray(t_s, dtype=float)
        t = np.broadcast_to(t, np.broadcast_shapes(t.shape, self.duration_s.shape))
        s, sd, sdd = _unit_profile(t, self.ramp_s, self.duration_s, self.profile_accel)
        delta = self.goal_rad - self.start_rad
        q = self.start_rad + delta * s[..., None]
        q = np.where((t >= self.duration_s)[..., None], self.goal_rad, q)
        return q, delta * sd[..., None], delta * sdd[..., None]


def plan_move(chain: SerialChain, start_rad, goal_rad) -> JointMove:
    """The fastest synchronized straight moves within ``chain``'s limits."""
    start, goal = (
        np.array(v)
        for v in np.broadcast_arrays(
            np.atleast_2d(np.asarray(start_rad, dtype=float)),
            np.atleast_2d(np.asarray(goal_rad, dtype=float)),
        )
    )
    speed, accel = _profile_limits(goal - start, chain.max_speed_rad_s, chain.max_accel_rad_s2)
    ramp, duration, accel = _timing(speed, accel)
    return JointMove(start, goal, ramp, duration, accel)


@dataclass(frozen=True, slots=True)
class JointSequence:
    """A program: moves through waypoints, with a dwell after arriving at each one.

    Segments alternate move, dwell, move, dwell ...; ``segment_is_move`` says which.
    """

    segment_start_s: np.ndarray  # (segments,)
    segment_duration_s: np.ndarray
    segment_is_move: np.ndarray
    segment_from_rad: np.ndarray  # (segments, joints)
    segment_to_rad: np.ndarray
    ramp_s: np.ndarray
    profile_accel: np.ndarray

    @property
    def duration_s(self) -> float:
        return float(self.segment_start_s[-1] + self.segment_duration_s[-1])

    def segment_at(self, t_s) -> np.ndarray:
        """Index of the segment running at each time (times clipped to the program)."""
        t = np.clip(np.asarray(t_s, dtype=float), 0.0, self.duration_s)
        index = np.searchsorted(self.segment_start_s, t, side="right") - 1
        return np.clip(index, 0, self.segment_start_s.size - 1)

    def sample(self, t_s):
        """Positions, speeds, accelerations (..., joints) at program times ``t_s`` (...).

        Times outside [0, duration] hold the first or last waypoint.
        """
        t = np.clip(np.asarray(t_s, dtype=float), 0.0, self.duration_s)
        k = self.segment_at(t)
        local = t - self.segment_start_s[k]
        s, sd, sdd = _unit_profile(
            local, self.ramp_s[k], self.segment_duration_s[k], self.profile_accel[k]
        )
        start, goal = self.segment_from_rad[k], self.segment_to_rad[k]
        delta = goal - start
        q = start + delta * s[..., None]
        q = np.where((local >= self.segment_duration_s[k])[..., None], goal, q)
        return q, delta * sd[..., None], delta * sdd[..., None]


def plan_sequence(chain: SerialChain, waypoints_rad, dwell_s) -> JointSequence:
    """Moves from each waypoint to the next, dwelling ``dwell_s[k]`` after reaching k + 1.

    ``waypoints_rad`` is (points, joints); ``dwell_s`` has one entry per move.
    """
    points = np.asarray(waypoints_rad, dtype=float)
    dwell = np.broadcast_to(np.asarray(dwell_s, dtype=float), (points.shape[0] - 1,))
    moves = plan_move(chain, points[:-1], points[1:])
    count = 2 * moves.duration_s.size
    duration = np.empty(count)
    duration[0::2], duration[1::2] = moves.duration_s, dwell
    is_move = np.zeros(count, dtype=bool)
    is_move[0::2] = True
    origin = np.repeat(points[:-1], 2, axis=0)
    origin[1::2] = points[1:]  # a dwell holds where the move arrived
    ramp = np.zeros(count)
    ramp[0::2] = moves.ramp_s
    accel = np.ones(count)
    accel[0::2] = moves.profile_accel
    start = np.concatenate([[0.0], np.cumsum(duration)[:-1]])
    return JointSequence(
        start, duration, is_move, origin, np.repeat(points[1:], 2, axis=0), ramp, accel
    )
