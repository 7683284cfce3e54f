"""Workcells over time: task cycles, faults, batteries, output and electrical power.

Two kinds of cell:

- ``TaskCell``: identical robots repeating one task cycle (pick and place, press
  tending, folding), staggered evenly over the cycle. Arrays per robot, no loop over
  robots. The cycle's electrical power comes from the arm's motion (``drives``) and is
  tabulated once, so a step of any length (0.1 s to hours) advances every robot
  exactly: cycles finished, energy, state times and the moment a battery runs low
  inside the step.
- ``ServiceFleet``: mobile robots at a dock that drive to racks, repair them and come
  back (``dispatch``), one mission at a time per robot, queued first come first served.

States (``RobotState``): idle (stopped, ready; after a reset until ``start``), moving,
working (a dwell of the program: gripping, pressing, repairing), waiting (the cell's AI
is slow: the racks serving it deliver less than their work, see ``pace``), fault
(emergency stop or safety-zone intrusion, cleared by ``reset``) and charging (battery
below its low threshold: the robot charges to its resume threshold, then carries on).
A stopped robot keeps its place in its program and resumes from there.

OEE-style figures (Nakajima's overall equipment effectiveness): availability = run time
/ planned time (planned: everything but idle; losses: faults and charging), performance
= ideal run time / run time (losses: waiting for the AI), quality = first-pass yield (a
scenario parameter); OEE is their product. Utilization = moving and working time over
all time.
"""

from __future__ import annotations

import bisect
import itertools
import math
from dataclasses import dataclass
from enum import IntEnum
from typing import Any

import numpy as np

from twin.sim.layout import Layout
from twin.sim.robotics.drives import DRIVE_EFFICIENCY, GRAVITY_M_S2, electrical_power_w
from twin.sim.robotics.ik import solve_ik
from twin.sim.robotics.kinematics import CHAINS, SerialChain
from twin.sim.robotics.paths import (
    AMR_CLEARANCE_M,
    FloorGrid,
    FloorPath,
    aisle_point_m,
    plan_path,
)
from twin.sim.robotics.trajectory import JointSequence, plan_sequence

SECONDS_PER_HOUR = 3600.0
_SUBSTEPS = 64  # power samples per smooth piece of a move when tabulating energy


class RobotState(IntEnum):
    IDLE = 0
    MOVING = 1
    WORKING = 2
    WAITING = 3
    FAULT = 4
    CHARGING = 5


class StopCause(IntEnum):
    NONE = 0
    EMERGENCY_STOP = 1
    SAFETY_ZONE_INTRUSION = 2
    BATTERY_LOW = 3


@dataclass(frozen=True, slots=True)
class Battery:
    """A mobile robot's battery and its charger.

    The charger feeds the docked robot's idle draw and puts the rest into the battery.
    """

    capacity_wh: float
    charger_w: float = 300.0  # Unitree G1 charger, 300 W (vendor manual); same class here
    charger_efficiency: float = 0.9  # engineering figure for a small switch-mode charger
    low_soc: float = 0.2  # go and charge below this state of charge (engineering choice)
    resume_soc: float = 0.9  # back to work from here (engineering choice)
    initial_soc: float = 1.0

    @property
    def capacity_j(self) -> float:
        return self.capacity_wh * SECONDS_PER_HOUR

    def charge_rate_w(self, idle_w: float) -> float:
        """Power into the battery while docked."""
        rate = self.charger_w * self.charger_efficiency - idle_w
        if rate <= 0.0:
            raise ValueError(
                f"a {self.charger_w:g} W charger cannot cover an idle draw of {idle_w:g} W"
            )
        return rate


@dataclass(frozen=True, slots=True)
class TaskCycle:
    """One robot's program and the electrical energy it takes, tabulated over the cycle."""

    chain: SerialChain
    motion: JointSequence
    idle_w: float
    arms: int
    move_payload_kg: np.ndarray  # per move of the program
    energy_knots_s: np.ndarray  # cumulative electrical energy at these program times
    energy_knots_j: np.ndarray
    duration_s: float  # of the program, the motion's

    @property
    def energy_j(self) -> float:
        return float(self.energy_knots_j[-1])

    def power_w(self, t_s) -> np.ndarray:
        """Electrical power of one robot at program times ``t_s`` (any shape), W."""
        return _program_power_w(
            self.chain, self.motion, self.move_payload_kg, self.idle_w, self.arms, t_s
        )


def _program_power_w(chain, motion, move_payload_kg, idle_w, arms, t_s) -> np.ndarray:
    t = np.asarray(t_s, dtype=float)
    q, qd, qdd = (a.reshape(-1, chain.joint_count) for a in motion.sample(t))
    payload = move_payload_kg[motion.segment_at(t) // 2].reshape(-1)  # a dwell: its move's
    power = np.empty(payload.size)
    for load in np.unique(payload):
        pick = payload == load
        power[pick] = electrical_power_w(chain, q[pick], qd[pick], qdd[pick], idle_w, load, arms)
    return power.reshape(t.shape)


def task_cycle(
    chain: SerialChain, waypoints_rad, dwell_s, move_payload_kg, idle_w: float, arms: int = 1
) -> TaskCycle:
    """A program through ``waypoints_rad`` (dwelling ``dwell_s`` after each move, carrying
    ``move_payload_kg`` on each) with its energy tabulated: every smooth piece of every
    move (ramp up, cruise, ramp down) sampled at the midpoints of ``_SUBSTEPS`` slices,
    dwells at the idle draw."""
    motion = plan_sequence(chain, waypoints_rad, dwell_s)
    payload = np.broadcast_to(
        np.asarray(move_payload_kg, dtype=float), (len(waypoints_rad) - 1,)
    ).copy()
    edges = [np.zeros(1)]
    for k in range(motion.segment_start_s.size):
        start, length = motion.segment_start_s[k], motion.segment_duration_s[k]
        ramp = motion.ramp_s[k] if motion.segment_is_move[k] else 0.0
        slices = _SUBSTEPS if motion.segment_is_move[k] else 1
        for a, b in itertools.pairwise(np.unique([0.0, ramp, length - ramp, length])):
            edges.append(start + a + (b - a) * np.arange(1, slices + 1) / slices)
    knots = np.concatenate(edges)
    knots[-1] = motion.duration_s
    middle = 0.5 * (knots[:-1] + knots[1:])
    power = _program_power_w(chain, motion, payload, idle_w, arms, middle)
    energy = np.concatenate([[0.0], np.cumsum(power * np.diff(knots))])
    return TaskCycle(chain, motion, float(idle_w), arms, payload, knots, energy, motion.duration_s)


def pick_and_place_cycle(
    chain: SerialChain,
    pick_m,
    place_m,
    idle_w: float,
    *,
    lift_m: float = 0.15,
    grip_s: float = 0.5,
    release_s: float = 0.5,
    payload_kg: float = 0.0,
    arms: int = 1,
) -> TaskCycle:
    """Home, over the pick, down, grip, up, over the place, down, release, up, home.

    Positions in the robot's base frame, the flange pointing down; the joint poses come
    from inverse kinematics, each seeded from the one before so the arm moves smoothly.
    """
    down = np.diag([1.0, -1.0, -1.0])
    poses = []
    for point, rise in ((pick_m, lift_m), (pick_m, 0.0), (place_m, lift_m), (place_m, 0.0)):
        pose = np.eye(4)
        pose[:3, :3] = down
        pose[:3, 3] = np.asarray(point, dtype=float) + np.array([0.0, 0.0, rise])
        poses.append(pose)
    joints = []
    seed = chain.home_rad
    for pose in poses:
        seed = solve_ik(chain, pose, seed)
        joints.append(seed)
    above_pick, pick, above_place, place = joints
    waypoints = [
        chain.home_rad,
        above_pick,
        pick,
        above_pick,
        above_place,
        place,
        above_place,
        chain.home_rad,
    ]
    dwell = [0.0, grip_s, 0.0, 0.0, release_s, 0.0, 0.0]
    carrying = [0.0, 0.0, payload_kg, payload_kg, payload_kg, 0.0, 0.0]
    return task_cycle(chain, waypoints, dwell, carrying, idle_w, arms)


# Default programs per scenario robot model: engineering choices. Pick and place points
# lie in front of each arm's home pose (a UR10e reaches toward -x, the others toward +x;
# ``placement`` stands the arms so that these points fall on their belt or bench); dwells
# bring the cycles to a 12 s UR10e pick-and-place of a 5 kg part, 20 s press tending with
# a 60 kg blank (the press stroke is the dwell at the press), a 30 s towel fold by a
# dual-arm humanoid (LG's CLOiD figure), both arms alike.
DEFAULT_TASKS: dict[str, dict[str, Any]] = {
    "ur10e": {
        "pick_m": (-0.7, -0.4, 0.1),
        "place_m": (-0.7, 0.4, 0.1),
        "grip_s": 1.5,
        "release_s": 1.5,
        "payload_kg": 5.0,
    },
    "industrial-arm": {
        "pick_m": (1.6, -1.4, 0.8),
        "place_m": (1.6, 1.4, 0.8),
        "lift_m": 0.3,
        "grip_s": 2.0,
        "release_s": 12.7,
        "payload_kg": 60.0,
    },
    "cloid": {
        "pick_m": (0.5, -0.25, 0.1),
        "place_m": (0.5, 0.25, 0.1),
        "lift_m": 0.2,
        "grip_s": 11.0,
        "release_s": 11.2,
        "payload_kg": 0.5,
        "arms": 2,
    },
}


def default_cycle(model: str, idle_w: float) -> TaskCycle:
    """The task cycle of a scenario robot model ('ur10e', 'industrial-arm', 'cloid')."""
    if model not in DEFAULT_TASKS:
        raise ValueError(f"no task cycle for robot model {model!r}")
    return pick_and_place_cycle(CHAINS[model], idle_w=idle_w, **DEFAULT_TASKS[model])


class TaskCell:
    """``count`` robots running one ``TaskCycle``; all arrays are per robot."""

    def __init__(
        self,
        cycle: TaskCycle,
        count: int,
        battery: Battery | None = None,
        quality: float = 1.0,
        running: bool = True,
    ) -> None:
        if battery is not None and cycle.idle_w <= 0.0:
            raise ValueError("a battery robot needs an idle draw above zero")
        self.cycle = cycle
        self.count = count
        self.battery = battery
        self.quality = quality
        duration = cycle.duration_s
        self.cycle_pos_s = duration * np.arange(count) / count  # staggered evenly
        self.cycles_done = np.zeros(count, dtype=np.int64)
        self.running = np.full(count, running)
        self.fault = np.zeros(count, dtype=np.int8)  # a StopCause, NONE when clear
        self.charging = np.zeros(count, dtype=bool)
        self.soc = np.full(count, battery.initial_soc if battery else 1.0)
        self.state_time_s = np.zeros((count, len(RobotState)))
        self.energy_j = np.zeros(count)  # used by the robots
        self.grid_energy_j = np.zeros(count)  # drawn from the site (directly or by chargers)
        self.time_s = 0.0
        self.power_w = 0.0
        self.grid_power_w = 0.0
        self.robot_power_w = np.zeros(count)  # each robot's own mean draw over the last step
        self.wait_s = 0.0
        # Cumulative energy, moving time and working time over one program, all on the
        # energy knots: they hold every segment boundary, and time in a state grows
        # linearly inside a segment, so one lookup serves all three.
        motion = cycle.motion
        segment_end = np.append(motion.segment_start_s, duration)
        move_time = np.where(motion.segment_is_move, motion.segment_duration_s, 0.0)
        knots = cycle.energy_knots_s
        self._table = np.column_stack(
            [
                cycle.energy_knots_j,
                np.interp(knots, segment_end, np.concatenate([[0.0], np.cumsum(move_time)])),
                np.interp(
                    knots,
                    segment_end,
                    np.concatenate([[0.0], np.cumsum(motion.segment_duration_s - move_time)]),
                ),
            ]
        )
        knot_step = np.diff(knots)
        self._per_knot_step = np.divide(
            1.0, knot_step, out=np.zeros_like(knot_step), where=knot_step > 0
        )
        slope = np.diff(cycle.energy_knots_j) * self._per_knot_step
        # the same tables as plain floats, for the scalar path of a step every robot runs
        self._knots_list = knots.tolist()
        self._per_knot_step_list = self._per_knot_step.tolist()
        self._table_rows = self._table.tolist()
        # the program times the last step ended at, with the wait (which sets the period)
        # and ``_cumulative_one``'s answer: a robot's next step starts where it ended
        self._cumulative_memo: dict[tuple[float, float], tuple[float, float, float, float]] = {}
        # no stretch of the program (or of a wait, at idle) draws more than this
        self._peak_w = max(float(slope.max(initial=0.0)), cycle.idle_w)
        carrying = cycle.move_payload_kg > 0.0
        self._closed_in_segment = np.zeros(motion.segment_start_s.size, dtype=bool)
        self._closed_in_segment[0::2] = carrying  # moves: closed while carrying
        self._closed_in_segment[1:-1:2] = carrying[1:]  # dwells: closed before a carry

    # ---------------------------------------------------------------- commands

    def emergency_stop(self) -> None:
        self.fault[:] = StopCause.EMERGENCY_STOP

    def safety_zone_intrusion(self) -> None:
        """A person in the cell's guarded zone: a protective stop of every robot."""
        self.fault[self.fault == StopCause.NONE] = StopCause.SAFETY_ZONE_INTRUSION

    def reset(self) -> None:
        """Clear faults; the robots stand idle (or go on charging) until ``start``."""
        cleared = self.fault != StopCause.NONE
        self.fault[:] = StopCause.NONE
        self.running[cleared] = False

    def start(self) -> None:
        self.running[self.fault == StopCause.NONE] = True

    # ---------------------------------------------------------------- state

    @property
    def period_s(self) -> float:
        """Cycle time now: the program plus the wait for the AI."""
        return self.cycle.duration_s + self.wait_s

    @property
    def state(self) -> np.ndarray:
        """RobotState per robot."""
        in_program = self.cycle_pos_s < self.cycle.duration_s
        segment = self.cycle.motion.segment_at(self.cycle_pos_s)
        moving = self.cycle.motion.segment_is_move[segment]
        run_state = np.where(
            in_program, np.where(moving, RobotState.MOVING, RobotState.WORKING), RobotState.WAITING
        )
        return np.select(
            [self.fault != StopCause.NONE, self.charging, ~self.running],
            [RobotState.FAULT, RobotState.CHARGING, RobotState.IDLE],
            run_state,
        )

    @property
    def stop_cause(self) -> np.ndarray:
        return np.where(
            self.fault != StopCause.NONE,
            self.fault,
            np.where(self.charging, StopCause.BATTERY_LOW, StopCause.NONE),
        )

    def joint_positions_rad(self) -> np.ndarray:
        """(robots, joints) now, for drawing; a waiting robot holds its last pose."""
        return self.cycle.motion.sample(np.minimum(self.cycle_pos_s, self.cycle.duration_s))[0]

    def gripper_closed(self) -> np.ndarray:
        """Per robot, whether its gripper holds a part now: closed from the dwell before a
        move that carries (the grip) to the end of the last carrying move (the release
        dwell opens it)."""
        segment = self.cycle.motion.segment_at(np.minimum(self.cycle_pos_s, self.cycle.duration_s))
        return self._closed_in_segment[segment]

    # ---------------------------------------------------------------- figures

    def _times(self) -> dict[RobotState, float]:
        total = self.state_time_s.sum(axis=0)
        return {s: float(total[s]) for s in RobotState}

    @property
    def utilization(self) -> float:
        t = self._times()
        elapsed = sum(t.values())
        return (t[RobotState.MOVING] + t[RobotState.WORKING]) / elapsed if elapsed else 0.0

    @property
    def availability(self) -> float:
        t = self._times()
        run = t[RobotState.MOVING] + t[RobotState.WORKING] + t[RobotState.WAITING]
        planned = run + t[RobotState.FAULT] + t[RobotState.CHARGING]
        return run / planned if planned else 0.0

    @property
    def performance(self) -> float:
        t = self._times()
        ideal = t[RobotState.MOVING] + t[RobotState.WORKING]
        run = ideal + t[RobotState.WAITING]
        return ideal / run if run else 0.0

    @property
    def oee(self) -> float:
        return self.availability * self.performance * self.quality

    @property
    def throughput_per_h(self) -> float:
        """Good parts per hour since the start."""
        if self.time_s == 0.0:
            return 0.0
        return float(self.cycles_done.sum()) * self.quality / (self.time_s / SECONDS_PER_HOUR)

    # ---------------------------------------------------------------- stepping

    def _cumulative(self, x: np.ndarray) -> np.ndarray:
        """From program time 0 to each time ``x`` over repeated periods (program, then the
        wait): energy used, time moving, working and waiting, (len(x), 4)."""
        cycle = self.cycle
        duration, period = cycle.duration_s, self.period_s
        repeating = np.isfinite(period)
        periods = np.floor(x / period) if repeating else np.zeros_like(x)
        y = x - periods * period if repeating else x
        inside = np.minimum(y, duration)
        knots = cycle.energy_knots_s
        # inside >= 0 = knots[0], so the knot at or before it exists
        k = np.minimum(np.searchsorted(knots, inside, side="right") - 1, knots.size - 2)
        share = (inside - knots[k]) * self._per_knot_step[k]
        low = self._table[k]
        out = np.empty((x.size, 4))
        out[:, :3] = low + share[:, None] * (self._table[k + 1] - low)
        tail = np.maximum(y - duration, 0.0)
        out[:, 0] += cycle.idle_w * tail
        out[:, 3] = tail
        if repeating:
            per_period = self._table[-1]
            out[:, 0] += periods * (per_period[0] + cycle.idle_w * self.wait_s)
            out[:, 1] += periods * per_period[1]
            out[:, 2] += periods * per_period[2]
            out[:, 3] += periods * self.wait_s
        return out

    def _cumulative_one(self, x: float) -> tuple[float, float, float, float]:
        """``_cumulative`` of one time on plain floats (the same arithmetic, operation for
        operation, so the same values to the last bit, without arrays' overhead on the
        few robots of a cell)."""
        cycle = self.cycle
        duration, period = cycle.duration_s, self.period_s
        repeating = math.isfinite(period)
        if repeating:
            periods = float(math.floor(x / period))
            y = x - periods * period
        else:
            y = x
        inside = min(y, duration)
        knots = self._knots_list
        k = min(bisect.bisect_right(knots, inside) - 1, len(knots) - 2)
        share = (inside - knots[k]) * self._per_knot_step_list[k]
        low, high = self._table_rows[k], self._table_rows[k + 1]
        energy = low[0] + share * (high[0] - low[0])
        moving = low[1] + share * (high[1] - low[1])
        working = low[2] + share * (high[2] - low[2])
        tail = max(y - duration, 0.0)
        energy += cycle.idle_w * tail
        waiting = tail
        if repeating:
            per_period = self._table_rows[-1]
            energy += periods * (per_period[0] + cycle.idle_w * self.wait_s)
            moving += periods * per_period[1]
            working += periods * per_period[2]
            waiting += periods * self.wait_s
        return energy, moving, working, waiting

    def _advance_all(self, dt_s: float) -> np.ndarray:
        """``_advance_running`` of every robot by ``dt_s``, robot by robot on plain floats
        (the same values to the last bit); returns the energy they used."""
        duration = self.cycle.duration_s
        period = self.period_s
        repeating = math.isfinite(period)
        used = np.empty(self.count)
        positions = self.cycle_pos_s.tolist()
        memo = self._cumulative_memo
        ends = {}
        for i, y0 in enumerate(positions):
            x = y0 + dt_s
            # the same function of the same floats: the answer at the last step's end
            start = memo.get((y0, self.wait_s))
            e0, m0, w0, q0 = self._cumulative_one(y0) if start is None else start
            e1, m1, w1, q1 = ends[(x, self.wait_s)] = self._cumulative_one(x)
            row = self.state_time_s[i]
            row[_MOVING] += m1 - m0
            row[_WORKING] += w1 - w0
            row[_WAITING] += q1 - q0
            # program ends passed by each time
            ends_0 = math.floor((y0 - duration) / period) + 1 if y0 >= duration else 0
            ends_1 = math.floor((x - duration) / period) + 1 if x >= duration else 0
            self.cycles_done[i] += ends_1 - ends_0
            self.cycle_pos_s[i] = x - math.floor(x / period) * period if repeating else x
            used[i] = e1 - e0
        self._cumulative_memo = ends
        return used

    def _time_to_use(self, y0: np.ndarray, energy_j: np.ndarray) -> np.ndarray:
        """Program time from ``y0`` until the robots have used ``energy_j``."""
        cycle = self.cycle
        target = self._cumulative(y0)[:, 0] + energy_j
        period = self.period_s
        per_period = cycle.energy_j + cycle.idle_w * self.wait_s
        periods = np.floor(target / per_period) if np.isfinite(period) else np.zeros_like(y0)
        left = target - (periods * per_period if np.isfinite(period) else 0.0)
        within = np.where(
            left <= cycle.energy_j,
            np.interp(left, cycle.energy_knots_j, cycle.energy_knots_s),
            cycle.duration_s + (left - cycle.energy_j) / cycle.idle_w,
        )
        reach = (periods * period if np.isfinite(period) else 0.0) + within
        return np.maximum(reach - y0, 0.0)

    def _advance_running(self, robots: np.ndarray | slice, tau: np.ndarray) -> np.ndarray:
        """Move running robots (indices or a slice) ``tau`` along their program; returns
        the energy they used."""
        duration = self.cycle.duration_s
        y0 = self.cycle_pos_s[robots]
        x = y0 + tau
        period = self.period_s
        both = np.concatenate([y0, x])
        total = self._cumulative(both)
        n = tau.size
        spent = total[n:] - total[:n]
        # moving, working, waiting: consecutive states, as the table's columns 1-3
        self.state_time_s[robots, RobotState.MOVING : RobotState.WAITING + 1] += spent[:, 1:]
        # program ends passed by each time
        ends = np.where(both >= duration, np.floor((both - duration) / period) + 1, 0)
        self.cycles_done[robots] += (ends[n:] - ends[:n]).astype(np.int64)
        self.cycle_pos_s[robots] = x - np.floor(x / period) * period if np.isfinite(period) else x
        return spent[:, 0]

    def step(self, dt_s: float, pace: float = 1.0) -> float:
        """Advance ``dt_s``; returns the mean power drawn from the site over the step, W.

        ``pace`` (0-1) is the share of its AI's work the cell's racks still deliver: the
        robots wait ``duration (1/pace - 1)`` per cycle for their next plan (for ever at
        zero). ``power_w`` is then the robots' own mean draw, ``grid_power_w`` the site's.
        """
        cycle, battery = self.cycle, self.battery
        self.wait_s = cycle.duration_s * (1.0 / pace - 1.0) if pace > 0.0 else np.inf
        # a shorter wait may end cycles whose wait has already lasted long enough
        period = self.period_s
        if any(y >= period for y in self.cycle_pos_s.tolist()):
            self.cycle_pos_s = np.where(self.cycle_pos_s >= period, 0.0, self.cycle_pos_s)
        else:
            self.cycle_pos_s = self.cycle_pos_s.copy()  # a new array, as ``np.where`` gives
        capacity = battery.capacity_j if battery else np.inf
        if (
            # on the few robots' lists: cheaper than array reductions, the same answer
            all(self.running.tolist())
            and not any(self.fault.tolist())
            and not any(self.charging.tolist())
            and (
                battery is None
                # on floats: the same products and comparisons as on the array
                or all(
                    (soc - battery.low_soc) * capacity >= self._peak_w * dt_s
                    for soc in self.soc.tolist()
                )
            )
        ):
            # every robot runs through the whole step and none can run low: one advance
            used = self._advance_all(float(dt_s))
            grid = np.zeros(self.count) if battery else used
            if battery:
                self.soc = self.soc - used / capacity
            return self._finish_step(dt_s, used, grid)
        charge_w = battery.charge_rate_w(cycle.idle_w) if battery else 0.0
        used = np.zeros(self.count)
        grid = np.zeros(self.count)
        left = np.full(self.count, float(dt_s))
        while np.any(left > 0.0):
            active = left > 0.0
            clear = self.fault == StopCause.NONE
            run = active & clear & self.running & ~self.charging
            charge = active & clear & self.charging
            idle = active & clear & ~self.running & ~self.charging
            faulted = active & ~clear
            tau = left.copy()
            low_hit = np.zeros(self.count, dtype=bool)
            charged = np.zeros(self.count, dtype=bool)
            if battery:
                spare_j = np.maximum(self.soc - battery.low_soc, 0.0) * capacity
                to_low = np.full(self.count, np.inf)
                # only robots that could use their spare energy within the step need the
                # exact time: the rest cannot run low before its end
                near = run & (spare_j < self._peak_w * left)
                if near.any():
                    to_low[near] = self._time_to_use(self.cycle_pos_s[near], spare_j[near])
                to_low[idle] = spare_j[idle] / cycle.idle_w
                low_hit = (run | idle) & (to_low < left)
                to_full = (battery.resume_soc - self.soc) * capacity / charge_w
                charged = charge & (to_full < left)
                tau = np.where(low_hit, to_low, np.where(charged, to_full, tau))

            step_j = np.zeros(self.count)
            if run.any():
                step_j[run] = self._advance_running(np.flatnonzero(run), tau[run])
            step_j[charge | idle | faulted] = cycle.idle_w * tau[charge | idle | faulted]
            if battery:
                # a faulted robot's controller runs on until the battery is empty
                step_j[faulted] = np.minimum(step_j[faulted], self.soc[faulted] * capacity)
                self.soc = np.where(
                    charge, self.soc + charge_w * tau / capacity, self.soc - step_j / capacity
                )
                grid[charge] += battery.charger_w * tau[charge]
                self.soc[low_hit] = battery.low_soc
                self.soc[charged] = battery.resume_soc
                self.charging = (self.charging | low_hit) & ~charged
            else:
                grid += step_j
            used += step_j
            for state, mask in (
                (RobotState.CHARGING, charge),
                (RobotState.IDLE, idle),
                (RobotState.FAULT, faulted),
            ):
                self.state_time_s[mask, state] += tau[mask]
            left = np.where(active, left - tau, 0.0)
        return self._finish_step(dt_s, used, grid)

    def _finish_step(self, dt_s: float, used: np.ndarray, grid: np.ndarray) -> float:
        self.time_s += dt_s
        self.robot_power_w = used / dt_s
        self.energy_j += used
        self.grid_energy_j += grid
        self.power_w = float(np.add.reduce(used) / dt_s)
        # the site feeds the robots directly (no battery): the same sum
        self.grid_power_w = self.power_w if grid is used else float(np.add.reduce(grid) / dt_s)
        return self.grid_power_w


# ---------------------------------------------------------------------- service robots


@dataclass(frozen=True, slots=True)
class ServiceRobotSpec:
    """A service AMR: how fast it drives, what it draws, how long a repair takes."""

    speed_m_s: float = 1.0  # indoor cruising speed, below the MP-500's 1.5 m/s maximum
    clearance_m: float = AMR_CLEARANCE_M
    mass_kg: float = 200.0  # MP-500-class base with a service arm and spares (engineering)
    rolling_resistance: float = 0.015  # polyurethane wheels on a sealed floor (engineering)
    idle_w: float = 60.0  # controller, sensors, computer (scenario default for 'amr')
    repair_w: float = 150.0  # idle plus its arm and tools while working (engineering)
    repair_s: float = 1200.0  # swap a compute tray or a power shelf (engineering choice)
    drive_efficiency: float = DRIVE_EFFICIENCY

    @property
    def drive_w(self) -> float:
        """Power at cruising speed: idle plus rolling resistance over the drive efficiency."""
        rolling_w = self.mass_kg * GRAVITY_M_S2 * self.rolling_resistance * self.speed_m_s
        return self.idle_w + rolling_w / self.drive_efficiency

    def mission_energy_j(self, one_way_m: float) -> float:
        return 2.0 * one_way_m / self.speed_m_s * self.drive_w + self.repair_s * self.repair_w


@dataclass(slots=True, eq=False)
class Mission:
    """One repair: which rack, when it was asked for and when each part happened."""

    rack: int
    requested_s: float
    path: FloorPath  # dock -> work point in the rack's cold aisle
    robot: int = -1
    started_s: float = np.nan
    repaired_s: float = np.nan
    returned_s: float = np.nan


@dataclass(frozen=True, slots=True)
class ServiceEvent:
    kind: str  # "repaired": the rack works again; "returned": the robot is back at its dock
    rack: int
    at_s: float


_DOCKED, _OUTBOUND, _REPAIRING, _RETURNING = 0, 1, 2, 3
_IDLE, _MOVING, _WORKING = int(RobotState.IDLE), int(RobotState.MOVING), int(RobotState.WORKING)
_WAITING = int(RobotState.WAITING)
_FAULT, _CHARGING = int(RobotState.FAULT), int(RobotState.CHARGING)
_NO_STOP = int(StopCause.NONE)


@dataclass(slots=True)
class _Quiet:
    until_s: float  # the next battery event
    power_w: np.ndarray  # per robot
    grid_w: np.ndarray
    soc_per_s: np.ndarray
    state: np.ndarray
    state_cells: np.ndarray  # each robot's (robot, state) cell of ``state_time_s``, flat
    power_total_w: float  # the sums of ``power_w`` and ``grid_w``
    grid_total_w: float
    one_state: int | None  # the state of every robot when they share one
    # (dt, power_w dt, grid_w dt, soc_per_s dt) of the last step size taken
    per_step: tuple[float, np.ndarray, np.ndarray, np.ndarray] | None = None

    def over(self, dt_s: float) -> tuple[float, np.ndarray, np.ndarray, np.ndarray]:
        """The draws times ``dt_s`` (the same products, kept while the step size holds)."""
        kept = self.per_step
        if kept is None or kept[0] != dt_s:
            kept = (dt_s, self.power_w * dt_s, self.grid_w * dt_s, self.soc_per_s * dt_s)
            self.per_step = kept
        return kept


class ServiceFleet:
    """``count`` service robots of one hall, docked at ``dock_m`` (outside the hall or on
    its floor); ``grid`` is that hall's floor for their clearance."""

    def __init__(
        self,
        grid: FloorGrid,
        layout: Layout,
        dock_m,
        count: int,
        spec: ServiceRobotSpec | None = None,
        battery: Battery | None = None,
    ) -> None:
        self.grid = grid
        self.layout = layout
        self.dock_m = np.asarray(dock_m, dtype=float)[:2]
        self.count = n = count
        self.spec = spec or ServiceRobotSpec()
        self.battery = battery
        self.missions: list[Mission] = []
        self.time_s = 0.0
        self.power_w = 0.0
        self.grid_power_w = 0.0
        self.robot_power_w = np.zeros(n)  # each robot's own mean draw over the last step
        self.leg = np.zeros(n, dtype=np.int8)
        self.leg_end_s = np.full(n, np.inf)
        self.frozen_left_s = np.zeros(n)  # time left of a leg stopped by a fault
        self.mission = np.full(n, -1)
        self.fault = np.zeros(n, dtype=np.int8)
        self.held = np.zeros(n, dtype=bool)  # reset after a fault, waiting for start
        self.charging = np.zeros(n, dtype=bool)  # sent to charge: no jobs until resume_soc
        self.soc = np.full(n, self.battery.initial_soc if self.battery else 1.0)
        self.state_time_s = np.zeros((n, len(RobotState)))
        self.energy_j = np.zeros(n)
        self.grid_energy_j = np.zeros(n)
        self._pending: list[int] = []
        self._routes: dict[int, FloorPath] = {}
        self._door_m = self.grid.nearest_free_m(self.dock_m)
        self._quiet: _Quiet | None = None  # constant draws while all stand docked

    # ---------------------------------------------------------------- missions

    def route(self, rack: int) -> FloorPath:
        """Dock -> door -> the rack's cold aisle (planned once per rack)."""
        if rack not in self._routes:
            inside = plan_path(self.grid, self._door_m, aisle_point_m(self.grid, self.layout, rack))
            points = np.vstack([self.dock_m, inside.points_m])
            self._routes[rack] = FloorPath(points)
        return self._routes[rack]

    def dispatch(self, rack: int) -> Mission:
        """Send a robot to repair ``rack`` now, or as soon as one is free and charged.

        Raises ``NoPathError`` when the rack cannot be reached, ``ValueError`` when even
        a charged battery could not cover the round trip.
        """
        path = self.route(rack)
        if self.battery:
            usable_j = (self.battery.resume_soc - self.battery.low_soc) * self.battery.capacity_j
            if self.spec.mission_energy_j(path.length_m) > usable_j:
                raise ValueError(
                    f"rack {rack}: a round trip of {2 * path.length_m:.0f} m and "
                    "a repair need more than a charged battery holds"
                )
        self.missions.append(Mission(rack, self.time_s, path))
        self._pending.append(len(self.missions) - 1)
        self._quiet = None
        self._assign()
        return self.missions[-1]

    @property
    def mean_time_to_repair_s(self) -> float:
        """Mean time from a request to the rack working again, over finished repairs."""
        done = [m.repaired_s - m.requested_s for m in self.missions if np.isfinite(m.repaired_s)]
        return float(np.mean(done)) if done else np.nan

    def _available(self) -> np.ndarray:
        return (self.leg == _DOCKED) & ~self.charging & (self.fault == StopCause.NONE) & ~self.held

    def _assign(self) -> None:
        while self._pending:
            mission = self.missions[self._pending[0]]
            free = self._available()
            ready = free
            if self.battery:
                need = self.spec.mission_energy_j(mission.path.length_m) / self.battery.capacity_j
                ready = free & (self.soc - need >= self.battery.low_soc)
            if not ready.any():
                # free robots too low for the waiting job go and charge now
                self.charging |= free
                return
            robot = int(np.flatnonzero(ready)[0])
            mission.robot, mission.started_s = robot, self.time_s
            self.mission[robot] = self._pending.pop(0)
            self.leg[robot] = _OUTBOUND
            self.leg_end_s[robot] = self.time_s + mission.path.length_m / self.spec.speed_m_s

    # ---------------------------------------------------------------- commands

    def emergency_stop(self) -> None:
        self._stop(np.arange(self.count), StopCause.EMERGENCY_STOP)

    def safety_zone_intrusion(self, robots=None) -> None:
        """A person inside the protective field of ``robots`` (default: all)."""
        chosen = np.arange(self.count) if robots is None else np.atleast_1d(robots)
        self._stop(chosen[self.fault[chosen] == StopCause.NONE], StopCause.SAFETY_ZONE_INTRUSION)

    def _stop(self, robots: np.ndarray, cause: StopCause) -> None:
        self._quiet = None
        timed = robots[np.isfinite(self.leg_end_s[robots])]
        self.frozen_left_s[timed] = self.leg_end_s[timed] - self.time_s
        self.leg_end_s[timed] = np.inf
        self.fault[robots] = cause

    def reset(self) -> None:
        self._quiet = None
        cleared = self.fault != StopCause.NONE
        self.fault[:] = StopCause.NONE
        self.held |= cleared

    def start(self) -> None:
        self._quiet = None
        resume = self.held & (self.leg != _DOCKED)
        self.leg_end_s[resume] = self.time_s + self.frozen_left_s[resume]
        self.held[:] = False
        self._assign()

    # ---------------------------------------------------------------- state

    @property
    def state(self) -> np.ndarray:
        # lowest priority first, each condition after overriding: fault, held, charging,
        # docked, then the leg (plain codes: snapshots ask for this often)
        out = np.where(self.leg == _REPAIRING, _WORKING, _MOVING)
        out = np.where(self.leg == _DOCKED, _IDLE, out)
        out = np.where(self.charging | self._on_charger()[0], _CHARGING, out)
        out = np.where(self.held, _IDLE, out)
        return np.where(self.fault != _NO_STOP, _FAULT, out)

    @property
    def stop_cause(self) -> np.ndarray:
        return np.where(
            self.fault != StopCause.NONE,
            self.fault,
            np.where(self.charging, StopCause.BATTERY_LOW, StopCause.NONE),
        )

    @property
    def utilization(self) -> float:
        """Share of all robot time spent driving or repairing."""
        total = self.state_time_s.sum()
        busy = self.state_time_s[:, [RobotState.MOVING, RobotState.WORKING]].sum()
        return float(busy / total) if total else 0.0

    @property
    def standing_still(self) -> object | None:
        """While every robot stands docked with nothing to do and no fault: a token, the
        same object for as long as that lasts (where the robots are, their states and
        routes do not change under it); None otherwise."""
        return self._quiet

    def targets(self) -> np.ndarray:
        """(robots,) the rack each robot's mission is for, -1 for none."""
        return np.array([self.missions[m].rack if m >= 0 else -1 for m in self.mission], dtype=int)

    def route_m(self, robot: int) -> np.ndarray:
        """The polyline (points, 2) of a robot's mission, dock to rack; none when docked."""
        m = self.mission[robot]
        return self.missions[m].path.points_m if m >= 0 else np.zeros((0, 2))

    def headings_rad(self) -> np.ndarray:
        """(robots,) the way each robot faces (angle from east, anticlockwise): along its
        route, forward out and backward home; at the rack as it arrived; docked, facing
        the hall's door."""
        door = self._door_m - self.dock_m
        out = np.full(self.count, float(np.arctan2(door[1], door[0])))
        left = np.where(
            np.isfinite(self.leg_end_s), self.leg_end_s - self.time_s, self.frozen_left_s
        )
        for robot in np.flatnonzero(self.leg != _DOCKED):
            path = self.missions[self.mission[robot]].path
            to_go_m = left[robot] * self.spec.speed_m_s
            if self.leg[robot] == _OUTBOUND:
                out[robot] = path.heading_at_rad(path.length_m - to_go_m)
            elif self.leg[robot] == _REPAIRING:
                out[robot] = path.heading_at_rad(path.length_m)
            else:
                out[robot] = path.heading_at_rad(to_go_m) + np.pi
        return out

    def positions_m(self) -> np.ndarray:
        """(robots, 2) where each robot is now, for drawing."""
        out = np.tile(self.dock_m, (self.count, 1))
        left = np.where(
            np.isfinite(self.leg_end_s), self.leg_end_s - self.time_s, self.frozen_left_s
        )
        for robot in np.flatnonzero(self.leg != _DOCKED):
            path = self.missions[self.mission[robot]].path
            to_go_m = left[robot] * self.spec.speed_m_s
            if self.leg[robot] == _OUTBOUND:
                out[robot] = path.point_at_m(path.length_m - to_go_m)
            elif self.leg[robot] == _REPAIRING:
                out[robot] = path.points_m[-1]
            else:
                out[robot] = path.point_at_m(to_go_m)
        return out

    # ---------------------------------------------------------------- stepping

    def _power_now(self) -> np.ndarray:
        """Each robot's own draw in its current state, W."""
        spec = self.spec
        moving = (self.leg == _OUTBOUND) | (self.leg == _RETURNING)
        active = (self.fault == StopCause.NONE) & ~self.held
        return np.where(
            active & moving,
            spec.drive_w,
            np.where(active & (self.leg == _REPAIRING), spec.repair_w, spec.idle_w),
        )

    def _on_charger(self) -> tuple[np.ndarray, np.ndarray]:
        """Docked robots without a fault sit on their charger (opportunity charging): those
        below ``resume_soc`` charge, those at it are held there; (charging, held full)."""
        if not self.battery:
            none = np.zeros(self.count, dtype=bool)
            return none, none
        docked = (self.leg == _DOCKED) & (self.fault == _NO_STOP)
        resume = self.battery.resume_soc
        return docked & (self.soc < resume), docked & (self.soc == resume)

    def _draws(self) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """Each robot's own draw and its draw from the site, W, and its battery's rate of
        charge, 1/s, in its current state."""
        power = self._power_now()
        if not self.battery:
            return power, power, np.zeros(self.count)
        charge, full = self._on_charger()
        # charging, the charger feeds the idle draw and fills the battery with the rest;
        # held full, it feeds just the idle draw; elsewhere the battery feeds the robot
        grid = np.where(charge, self.battery.charger_w, np.where(full, power, 0.0))
        rate = self.battery.charge_rate_w(self.spec.idle_w)
        soc_per_s = np.where(charge, rate, np.where(full, 0.0, -power)) / self.battery.capacity_j
        return power, grid, soc_per_s

    def _advance(self, tau: float) -> None:
        if tau <= 0.0:
            return
        power, grid, soc_per_s = self._draws()
        self.state_time_s[np.arange(self.count), self.state] += tau
        used = power * tau
        if self.battery:
            soc = self.soc + soc_per_s * tau
            used += np.minimum(soc, 0.0) * self.battery.capacity_j  # an empty one gives no more
            self.soc = np.maximum(soc, 0.0)
        self.energy_j += used
        self.grid_energy_j += grid * tau

    def _battery_events_s(self) -> np.ndarray:
        """Absolute times at which docked robots reach ``resume_soc``: charging up to it,
        or idling down to it from above (sent to charge and already there: now)."""
        if not self.battery:
            return np.full(self.count, np.inf)
        gap_j = (self.battery.resume_soc - self.soc) * self.battery.capacity_j
        rate = self.battery.charge_rate_w(self.spec.idle_w)
        wait = np.where(
            gap_j > 0.0,
            gap_j / rate,
            np.where(gap_j < 0.0, -gap_j / self.spec.idle_w, np.where(self.charging, 0.0, np.inf)),
        )
        docked = (self.leg == _DOCKED) & (self.fault == _NO_STOP)
        return np.where(docked, self.time_s + wait, np.inf)

    def _quiet_draws(self) -> _Quiet | None:
        """While every robot stands docked with nothing to do and no fault, each one's
        draws stay constant until the next battery event: they are worked out once."""
        if self._pending or np.any(self.leg != _DOCKED) or np.any(self.fault != StopCause.NONE):
            return None
        power, grid, soc_per_s = self._draws()
        state = self.state
        return _Quiet(
            float(self._battery_events_s().min()),
            power,
            grid,
            soc_per_s,
            state,
            np.ravel_multi_index((np.arange(self.count), state), self.state_time_s.shape),
            float(power.sum()),
            float(grid.sum()),
            # all in one state (docked robots idle together): that column, a plain slice
            int(state[0]) if self.count and (state == state[0]).all() else None,
        )

    def step(self, dt_s: float) -> list[ServiceEvent]:
        """Advance ``dt_s``; returns what happened, in order, with exact times."""
        end = self.time_s + dt_s
        quiet = self._quiet
        if quiet is not None and quiet.until_s > end:
            # a view: ``state_time_s`` is created C-contiguous and only updated in place
            _, energy_j, grid_j, soc_change = quiet.over(dt_s)
            if quiet.one_state is not None:
                self.state_time_s[:, quiet.one_state] += dt_s
            else:
                self.state_time_s.reshape(-1)[quiet.state_cells] += dt_s
            self.soc = self.soc + soc_change
            self.energy_j += energy_j
            self.grid_energy_j += grid_j
            self.time_s = end
            self.power_w = quiet.power_total_w
            self.grid_power_w = quiet.grid_total_w
            self.robot_power_w = quiet.power_w
            return []
        start_energy = self.energy_j.copy(), self.grid_energy_j.sum()
        events: list[ServiceEvent] = []
        while True:
            full_s = self._battery_events_s()
            next_s = min(end, float(self.leg_end_s.min()), float(full_s.min()))
            self._advance(next_s - self.time_s)
            self.time_s = next_s
            for robot in np.flatnonzero(self.leg_end_s <= next_s):
                events.extend(self._finish_leg(int(robot)))
            if self.battery:
                done = full_s <= next_s
                self.soc[done] = self.battery.resume_soc
                self.charging &= ~done
            self._assign()
            if next_s >= end:
                break
        self.time_s = end
        self.robot_power_w = (self.energy_j - start_energy[0]) / dt_s
        self.power_w = float(self.robot_power_w.sum())
        self.grid_power_w = float((self.grid_energy_j.sum() - start_energy[1]) / dt_s)
        self._quiet = self._quiet_draws()
        return events

    def _finish_leg(self, robot: int) -> list[ServiceEvent]:
        mission = self.missions[self.mission[robot]]
        now = self.time_s
        if self.leg[robot] == _OUTBOUND:
            self.leg[robot] = _REPAIRING
            self.leg_end_s[robot] = now + self.spec.repair_s
            return []
        if self.leg[robot] == _REPAIRING:
            mission.repaired_s = now
            self.leg[robot] = _RETURNING
            self.leg_end_s[robot] = now + mission.path.length_m / self.spec.speed_m_s
            return [ServiceEvent("repaired", mission.rack, now)]
        mission.returned_s = now
        self.leg[robot], self.leg_end_s[robot], self.mission[robot] = _DOCKED, np.inf, -1
        if self.battery and self.soc[robot] < self.battery.low_soc:
            self.charging[robot] = True
        return [ServiceEvent("returned", mission.rack, now)]
