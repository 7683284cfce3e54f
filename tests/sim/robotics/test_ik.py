"""Inverse kinematics: round trips over the workspace and clear failures outside it."""

from __future__ import annotations

import numpy as np
import pytest

from twin.sim.robotics.ik import NOT_CONVERGED, OUT_OF_REACH, IKError, solve_ik
from twin.sim.robotics.kinematics import CHAINS, KR210, UR10E, forward_kinematics, pose_error

from .helpers import random_poses


@pytest.mark.parametrize("model", list(CHAINS))
def test_round_trip_over_random_reachable_targets(model):
    # targets made by forward kinematics of random joint angles are reachable by
    # construction; the solver must land on each within 1 mm and 0.01 rad, inside limits
    chain = CHAINS[model]
    targets = forward_kinematics(chain, random_poses(chain, 150, seed=7)).tool
    for target in targets:
        q = solve_ik(chain, target)
        assert np.all(q >= chain.lower_rad) and np.all(q <= chain.upper_rad)
        error = pose_error(forward_kinematics(chain, q).tool, target)
        assert np.linalg.norm(error[:3]) < 1e-3
        assert np.linalg.norm(error[3:]) < 1e-2


def test_nearby_target_gives_the_nearby_solution():
    # a 1 cm shift of the tool must not flip the arm into another configuration
    q0 = np.array([0.3, -1.2, 1.4, -1.8, -1.5, 0.4])
    target = forward_kinematics(UR10E, q0).tool.copy()
    target[:3, 3] += [0.01, 0.0, 0.0]
    q = solve_ik(UR10E, target, seed_rad=q0)
    assert np.abs(q - q0).max() < 0.05


def test_position_only_ignores_orientation():
    target = np.eye(4)
    target[:3, 3] = [-0.8, 0.2, 0.4]
    q = solve_ik(UR10E, target, orientation=False)
    reached = forward_kinematics(UR10E, q).tool
    assert np.linalg.norm(reached[:3, 3] - target[:3, 3]) < 1e-3


def test_same_call_same_answer():
    target = forward_kinematics(KR210, random_poses(KR210, 1, seed=8)[0]).tool
    np.testing.assert_array_equal(
        solve_ik(KR210, target, seed_rad=np.zeros(6)), solve_ik(KR210, target, seed_rad=np.zeros(6))
    )


def test_target_far_away_is_out_of_reach():
    target = np.eye(4)
    target[:3, 3] = [5.0, 0.0, 0.2]
    with pytest.raises(IKError) as caught:
        solve_ik(UR10E, target)
    assert caught.value.reason == OUT_OF_REACH
    assert "(5.000, 0.000, 0.200)" in str(caught.value)
    assert "out of reach" in str(caught.value)


def test_target_just_beyond_the_arm_is_out_of_reach():
    # 1.5 m from the base at shoulder height: inside the crude reach bound (1.78 m) but
    # beyond what the UR10e's 1.3 m arm can do; the solver must find that out
    target = np.eye(4)
    target[:3, 3] = [1.5, 0.0, 0.18]
    assert np.linalg.norm(target[:3, 3]) < UR10E.reach_bound_m
    with pytest.raises(IKError) as caught:
        solve_ik(UR10E, target)
    assert caught.value.reason == OUT_OF_REACH
    assert caught.value.position_error_m > 0.1
    np.testing.assert_array_equal(caught.value.target, target)


def test_impossible_orientation_at_a_reachable_point_does_not_converge():
    # near full stretch the KR 210 flange cannot point back at its own base
    target = np.eye(4)
    target[:3, :3] = [[0.0, 0.0, -1.0], [0.0, -1.0, 0.0], [-1.0, 0.0, 0.0]]
    target[:3, 3] = [2.6, 0.0, 0.8]
    solve_ik(KR210, target, orientation=False)  # the point itself is reachable
    with pytest.raises(IKError) as caught:
        solve_ik(KR210, target)
    assert caught.value.reason == NOT_CONVERGED
