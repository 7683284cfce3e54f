"""Robot workcells as electrical loads and heat sources on the campus.

Each robot group runs a task cycle: a share of each cycle in motion at peak power, the
rest at idle power. The step draws the exact mean of that periodic profile. A cell whose
AI is served by a set of racks slows down in proportion to the share of those racks'
work still being delivered (throttled or tripped racks slow the robots' policies).

Simplifications (kinematics, task state machines and batteries come with the workcell
models): mobile robots' chargers are taken to replace what the batteries give out, so the
site sees their mean draw; heat of robots working inside a hall goes to that hall's air,
the rest to outdoor air (workcell buildings have no air model of their own).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from twin.scenario import Scenario
from twin.sim.topology import Topology
from twin.sim.workload import fraction_high

# Share of each task cycle spent in motion, and the cycle length. Engineering choices:
# a UR10e pick-and-place cycle of ~12 s, a heavier press-tending arm ~20 s, a towel fold
# by LG's CLOiD ~30 s (LG), an AMR errand of ~10 min with a third of it driving.
TASK_CYCLE = {
    "ur10e": (0.6, 12.0),
    "industrial-arm": (0.5, 20.0),
    "cloid": (0.5, 30.0),
    "amr": (0.3, 600.0),
}


@dataclass(slots=True)
class RobotLoads:
    idle_w: np.ndarray  # per group, all units
    peak_w: np.ndarray
    motion_share: np.ndarray
    cycle_s: np.ndarray
    group_cell: np.ndarray
    cell_hall: np.ndarray  # hall index or -1 for outdoor buildings
    cell_racks: list[np.ndarray]
    hall_count: int
    hall_heat_w: np.ndarray
    outdoor_heat_w: float = 0.0
    power_w: float = 0.0

    @classmethod
    def build(cls, s: Scenario, topo: Topology) -> RobotLoads:
        idle, peak, share, cycle, cell_of = [], [], [], [], []
        cell_hall, cell_racks = [], []
        for k, cell in enumerate(s.workcells):
            for robot in cell.robots:
                idle.append(robot.count * robot.idle_power_w)
                peak.append(robot.count * robot.peak_power_w)
                motion, length = TASK_CYCLE[robot.model]
                share.append(motion)
                cycle.append(length)
                cell_of.append(k)
            cell_hall.append(topo.hall_names.index(cell.hall) if cell.hall else -1)
            groups = [topo.row_group_names.index(g) for g in cell.served_by]
            cell_racks.append(np.flatnonzero(np.isin(topo.row_group[topo.rack_row], groups)))
        hall_count = len(topo.hall_names)
        return cls(np.asarray(idle, float), np.asarray(peak, float), np.asarray(share, float),
                   np.asarray(cycle, float), np.asarray(cell_of, int),
                   np.asarray(cell_hall, int), cell_racks, hall_count, np.zeros(hall_count))

    def reset(self) -> None:
        self.hall_heat_w[:] = 0.0
        self.outdoor_heat_w = 0.0
        self.power_w = 0.0

    def cell_pace(self, rack_delivered: np.ndarray) -> np.ndarray:
        """Per cell, 0-1: share of its serving racks' work still delivered."""
        return np.array([rack_delivered[racks].mean() if racks.size else 1.0
                         for racks in self.cell_racks])

    def step(self, t0: float, dt: float, rack_delivered: np.ndarray) -> float:
        """Mean electrical power of all robots over the step, W; sets where the heat goes."""
        if self.idle_w.size == 0:
            return 0.0
        pace = self.cell_pace(rack_delivered)[self.group_cell]
        moving = fraction_high(t0, dt, self.cycle_s, self.motion_share * self.cycle_s)
        group_w = self.idle_w + pace * moving * (self.peak_w - self.idle_w)
        hall = self.cell_hall[self.group_cell]
        indoor = hall >= 0
        self.hall_heat_w[:] = np.bincount(hall[indoor], weights=group_w[indoor],
                                          minlength=self.hall_count)
        self.outdoor_heat_w = float(group_w[~indoor].sum())
        self.power_w = float(group_w.sum())
        return self.power_w
