"""Shared helpers for the robotics tests: built-in sites and random arm poses."""

from __future__ import annotations

from functools import cache

import numpy as np

from twin.scenario import Scenario, load
from twin.sim.layout import Layout, build_layout
from twin.sim.robotics.kinematics import SerialChain
from twin.sim.topology import Topology, build_topology


@cache
def site(name: str) -> tuple[Scenario, Topology, Layout]:
    scenario = load(name)
    topology = build_topology(scenario)
    return scenario, topology, build_layout(scenario, topology)


def random_poses(chain: SerialChain, count: int, seed: int) -> np.ndarray:
    """Joint angles spread over each joint's range (one turn at most)."""
    lower = np.maximum(chain.lower_rad, -np.pi)
    upper = np.minimum(chain.upper_rad, np.pi)
    return lower + (upper - lower) * np.random.default_rng(seed).random((count, chain.joint_count))
