"""Joint trajectories: within every limit, time-optimal on the line, exact at any time."""

from __future__ import annotations

import numpy as np
import pytest

from twin.sim.robotics.kinematics import CHAINS, UR10E
from twin.sim.robotics.trajectory import plan_move, plan_sequence

from .helpers import random_poses


@pytest.mark.parametrize("model", list(CHAINS))
def test_moves_respect_limits_and_end_exactly_at_the_goal(model):
    chain = CHAINS[model]
    start, goal = random_poses(chain, 40, seed=9), random_poses(chain, 40, seed=10)
    goal[0] = start[0]  # a move of no length is allowed and takes no time
    move = plan_move(chain, start, goal)
    assert move.duration_s[0] == 0.0
    t = np.linspace(0.0, 1.0, 20001)[:, None] * move.duration_s.max()  # (times, robots)
    q, qd, qdd = move.sample(t)
    assert np.all(np.abs(qd) <= chain.max_speed_rad_s * (1 + 1e-9))
    assert np.all(np.abs(qdd) <= chain.max_accel_rad_s2 * (1 + 1e-9))
    # time-optimal on the straight line: some joint is at its speed or acceleration limit
    speed_share = (np.abs(qd) / chain.max_speed_rad_s).max(axis=(0, 2))
    accel_share = (np.abs(qdd) / chain.max_accel_rad_s2).max(axis=(0, 2))
    moving = move.duration_s > 0
    assert np.all(np.maximum(speed_share, accel_share)[moving] > 1 - 1e-9)
    end_q, end_qd, _ = move.sample(move.duration_s)
    np.testing.assert_array_equal(end_q, goal)
    np.testing.assert_array_equal(end_qd, 0.0)
    np.testing.assert_array_equal(move.sample(move.duration_s + 300.0)[0], goal)
    np.testing.assert_array_equal(move.sample(0.0)[0], start)
    # phase-synchronized: every robot's joints stay on the straight line start -> goal
    share = (q - start) / np.where(goal == start, 1.0, goal - start)
    spread = np.where(goal == start, 0.0, share - share[..., :1])
    assert np.abs(spread).max() < 1e-9


def test_speed_is_the_derivative_of_position():
    move = plan_move(UR10E, random_poses(UR10E, 3, seed=11), random_poses(UR10E, 3, seed=12))
    h = 1e-6
    for t in np.linspace(0.05, 0.95, 37)[:, None] * move.duration_s:
        numeric = (move.sample(t + h)[0] - move.sample(t - h)[0]) / (2 * h)
        np.testing.assert_allclose(move.sample(t)[1], numeric, atol=1e-5)


def test_duration_of_a_simple_move_by_hand():
    # UR10e base 90 deg at 120 deg/s and 1.4 rad/s^2: v^2/a = 3.13 rad > 1.57 rad, so the
    # profile is a triangle: T = 2 sqrt(D / a)
    goal = np.zeros(6)
    goal[0] = np.pi / 2
    move = plan_move(UR10E, np.zeros(6), goal)
    assert move.duration_s[0] == pytest.approx(2 * np.sqrt((np.pi / 2) / 1.4), rel=1e-12)
    # 2 turns: cruise at 120 deg/s; T = D/v + v/a
    goal[0] = 4 * np.pi
    v = np.radians(120.0)
    move = plan_move(UR10E, np.zeros(6), goal)
    assert move.duration_s[0] == pytest.approx(4 * np.pi / v + v / 1.4, rel=1e-12)


def test_sequence_dwells_and_is_the_same_whatever_the_step():
    points = random_poses(UR10E, 4, seed=13)
    program = plan_sequence(UR10E, points, [1.0, 2.5, 0.0])
    moves = plan_move(UR10E, points[:-1], points[1:])
    assert program.duration_s == pytest.approx(moves.duration_s.sum() + 3.5, rel=1e-12)
    arrive = program.segment_start_s[1]
    np.testing.assert_array_equal(program.sample(arrive + 0.5)[0], points[1])  # dwelling
    np.testing.assert_array_equal(program.sample(program.duration_s)[0], points[-1])
    # the state at the end of a step does not depend on the steps before it
    for dt in (0.1, 0.7, 3.0, 300.0):
        t = np.minimum(np.arange(1, 200) * dt, program.duration_s)
        np.testing.assert_array_equal(
            program.sample(t)[0], np.stack([program.sample(x)[0] for x in t])
        )
    assert program.sample(np.full((2, 3), 1.0))[0].shape == (2, 3, 6)
