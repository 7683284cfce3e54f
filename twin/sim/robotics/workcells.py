"""Robot workcells on the campus: what the robots do, what they draw, where the heat goes.

Built once from the scenario's workcells (``twin.sim.robotics`` does the robotics):

- every group of arms or humanoids of an assembly or humanoid cell is a ``TaskCell``
  running its model's task cycle, its electrical power from the motion; a cell whose AI
  is served by a set of racks slows down to the share of those racks' work still being
  delivered (throttled or tripped racks slow the robots' policies);
- every service cell is a ``ServiceFleet`` on its hall's floor, docked in the cell. When
  a rack of that hall trips on temperature, a robot is sent to it (first come, first
  served; racks of one step in rack order); when the repair is done the engine brings
  the rack back online, and whatever caused the trip plays out again in the physics.
  Racks that lose power with the whole site are not sent a robot: nothing is broken.

Energy: what the robots draw from the site (directly, or through their chargers) is a
load on the plant bus; what they turn into heat is that draw less what went into their
batteries (charger losses included). The heat of cells in a hall goes to that hall's
air, the rest to the outdoor air (workcell buildings have no air model of their own).
The robots' batteries count with the site's batteries in the energy ledger.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from twin.scenario import Scenario
from twin.scenario.schema import Robot
from twin.sim.layout import Layout
from twin.sim.robotics.cells import (
    Battery,
    RobotState,
    ServiceFleet,
    ServiceRobotSpec,
    StopCause,
    TaskCell,
    TaskCycle,
    default_cycle,
)
from twin.sim.robotics.paths import NoPathError, hall_floor_grid
from twin.sim.snapshot import RobotsState, frozen_fields
from twin.sim.topology import Topology

MAX_JOINTS = 7  # of any arm the scenario can name (the humanoid's arms)
SECONDS_PER_HOUR = 3600.0


@dataclass(frozen=True, slots=True)
class _Group:
    """One robot entry of a task cell, compiled: its cycle and battery."""

    cell: int
    cycle: TaskCycle
    count: int
    battery: Battery | None
    quality: float


@dataclass(frozen=True, slots=True)
class _FleetPose:
    """A fleet's robots for a snapshot: where they are and what they do."""

    xy_m: np.ndarray
    heading_rad: np.ndarray
    state: np.ndarray
    stop_cause: np.ndarray
    target_rack: np.ndarray
    routes_m: tuple[np.ndarray, ...]


@dataclass(frozen=True, slots=True)
class _FleetSpec:
    cell: int
    hall: int
    layout: Layout
    dock_m: np.ndarray
    count: int
    spec: ServiceRobotSpec
    battery: Battery | None


def _battery(capacity_wh: float) -> Battery | None:
    return Battery(capacity_wh) if capacity_wh > 0 else None


class Workcells:
    """All robots of the site; ``step`` advances them, the engine reads power and heat."""

    def __init__(self, s: Scenario, topo: Topology, layout: Layout) -> None:
        self.rack_count = topo.rack_count
        self.rack_hall = topo.rack_hall
        self.hall_count = len(topo.hall_names)
        self.cell_count = len(s.workcells)
        self.cell_hall = np.array(
            [topo.hall_names.index(c.hall) if c.hall else -1 for c in s.workcells], dtype=int
        )
        self.cell_racks = []
        cycles: dict[tuple[str, float], TaskCycle] = {}
        self._groups: list[_Group] = []
        self._fleets: list[_FleetSpec] = []
        grids = {}
        for k, cell in enumerate(s.workcells):
            served = [topo.row_group_names.index(g) for g in cell.served_by]
            self.cell_racks.append(
                _as_slice(np.flatnonzero(np.isin(topo.row_group[topo.rack_row], served)))
            )
            for robot in cell.robots:
                if cell.kind == "service":
                    hall = int(self.cell_hall[k])
                    if hall not in grids:
                        grids[hall] = hall_floor_grid(layout, hall)
                    spec = ServiceRobotSpec(
                        idle_w=robot.idle_power_w,
                        repair_w=robot.peak_power_w,
                        repair_s=cell.repair_time_s,
                    )
                    self._fleets.append(
                        _FleetSpec(
                            k,
                            hall,
                            layout,
                            layout.workcells.center_m[k, :2],
                            robot.count,
                            spec,
                            _battery(robot.battery_wh),
                        )
                    )
                    continue
                key = (robot.model, robot.idle_power_w)
                if key not in cycles:
                    cycles[key] = default_cycle(*key)
                self._groups.append(
                    _Group(
                        k,
                        cycles[key],
                        robot.count,
                        _battery(robot.battery_wh),
                        cell.first_pass_yield,
                    )
                )
        self._grids = grids
        self.group_cell = np.array([g.cell for g in self._groups], dtype=int)
        self.fleet_cell = np.array([f.cell for f in self._fleets], dtype=int)
        self.hall_fleet = np.full(self.hall_count, -1)
        for f, fleet in enumerate(self._fleets):
            if self.hall_fleet[fleet.hall] < 0:
                self.hall_fleet[fleet.hall] = f
        self.arm_group = np.repeat(
            np.arange(len(self._groups)), [g.count for g in self._groups]
        ).astype(int)
        self.service_fleet = np.repeat(
            np.arange(len(self._fleets)), [f.count for f in self._fleets]
        ).astype(int)
        self._unit_hall = [self.cell_hall[g.cell] for g in self._groups] + [
            self.cell_hall[f.cell] for f in self._fleets
        ]
        # per task group, the racks whose work paces it and the first group paced by the
        # same racks (a step works each pace out once)
        self._group_racks = [self.cell_racks[g.cell] for g in self._groups]
        keys = [_racks_key(racks) for racks in self._group_racks]
        self._group_pace_from = [keys.index(key) for key in keys]
        self.reset()

    # ---------------------------------------------------------------- state

    def reset(self) -> None:
        self.cells = [
            TaskCell(g.cycle, g.count, battery=g.battery, quality=g.quality) for g in self._groups
        ]
        self.fleets = [
            ServiceFleet(
                self._grids[f.hall], f.layout, f.dock_m, f.count, spec=f.spec, battery=f.battery
            )
            for f in self._fleets
        ]
        self.units: list[TaskCell | ServiceFleet] = [*self.cells, *self.fleets]
        self.hall_heat_w = np.zeros(self.hall_count)
        self.outdoor_heat_w = 0.0
        self.awaiting_repair = np.zeros(self.rack_count, dtype=bool)
        self.refused: set[int] = set()  # racks no robot can reach or no battery covers
        self.repaired: list[int] = []  # racks repaired in the last step
        self._requested_s = np.zeros(self.rack_count)  # when each rack's robot was asked for
        self._repairs = np.zeros(len(self.fleets))  # per fleet: repairs done
        self._repair_s = np.zeros(len(self.fleets))  # and the sum of their times to repair
        self._poses: dict[int, tuple[object, _FleetPose]] = {}
        self._unit_grid_w = np.zeros(len(self.units))
        self._stored_j = np.array([_stored_j(u) for u in self.units])

    def battery_energy_j(self) -> float:
        """Energy held in all robot batteries (robots' commands do not change it)."""
        return float(np.add.reduce(self._stored_j))

    def cell_pace(self, rack_delivered: np.ndarray) -> np.ndarray:
        """Per cell, 0-1: share of its serving racks' work still delivered."""
        return np.array(
            [rack_delivered[racks].mean() if _count(racks) else 1.0 for racks in self.cell_racks]
        )

    # ---------------------------------------------------------------- stepping

    def step(self, dt: float, rack_delivered: np.ndarray) -> float:
        """Advance every robot by ``dt``; returns the mean power drawn from the site, W.

        Sets ``hall_heat_w``, ``outdoor_heat_w`` and ``repaired`` (racks whose repair
        finished in the step).
        """
        self.outdoor_heat_w = 0.0
        self.repaired = []
        pace: list[float] = []
        for u, racks in enumerate(self._group_racks):
            first = self._group_pace_from[u]
            if first < u:
                pace.append(pace[first])
            else:
                # the mean as ``ndarray.mean`` works it out (the sum over the count)
                count = _count(racks)
                pace.append(float(np.add.reduce(rack_delivered[racks]) / count) if count else 1.0)
        # sums on floats, unit by unit in the same order as on the arrays
        hall_heat_w = [0.0] * len(self.hall_heat_w)
        stored = self._stored_j.tolist()
        unit_grid_w = []
        cells = len(self.cells)
        total_w = 0.0
        for u, unit in enumerate(self.units):
            if isinstance(unit, TaskCell):  # the cells come first, then the fleets
                grid_w = unit.step(dt, pace[u])
            else:
                for event in unit.step(dt):
                    if event.kind == "repaired":
                        self.repaired.append(event.rack)
                        self.awaiting_repair[event.rack] = False
                        f = u - cells
                        self._repairs[f] += 1
                        self._repair_s[f] += event.at_s - self._requested_s[event.rack]
                grid_w = unit.grid_power_w
            heat_w = grid_w
            if unit.battery is not None:
                stored_j = _stored_j(unit)
                heat_w -= (stored_j - stored[u]) / dt  # what charged the batteries
                stored[u] = stored_j
            unit_grid_w.append(grid_w)
            hall = self._unit_hall[u]
            if hall >= 0:
                hall_heat_w[hall] += heat_w
            else:
                self.outdoor_heat_w += heat_w
            total_w += grid_w
        self._stored_j[:] = stored
        self._unit_grid_w[:] = unit_grid_w
        self.hall_heat_w[:] = hall_heat_w
        return total_w

    def request_repairs(self, racks: np.ndarray) -> None:
        """Send the hall's service fleet to each of ``racks`` (tripped now), in order."""
        for rack in racks:
            rack = int(rack)
            fleet = self.hall_fleet[self.rack_hall[rack]]
            if fleet < 0 or self.awaiting_repair[rack] or rack in self.refused:
                continue
            try:
                self._requested_s[rack] = self.fleets[fleet].dispatch(rack).requested_s
            except (NoPathError, ValueError):
                self.refused.add(rack)  # stays tripped until an operator resets it
                continue
            self.awaiting_repair[rack] = True

    # ---------------------------------------------------------------- commands

    def _cell_units(self, cell: int) -> list[TaskCell | ServiceFleet]:
        if not 0 <= cell < self.cell_count:
            raise ValueError(f"no workcell number {cell}; there are {self.cell_count}")
        return [c for c, k in zip(self.cells, self.group_cell, strict=True) if k == cell] + [
            f for f, k in zip(self.fleets, self.fleet_cell, strict=True) if k == cell
        ]

    def emergency_stop(self, cell: int) -> None:
        for unit in self._cell_units(cell):
            unit.emergency_stop()

    def safety_zone_intrusion(self, cell: int) -> None:
        for unit in self._cell_units(cell):
            unit.safety_zone_intrusion()

    def reset_cell(self, cell: int) -> None:
        """Clear a cell's faults and start it again (the operator's reset and start)."""
        for unit in self._cell_units(cell):
            unit.reset()
            unit.start()

    # ---------------------------------------------------------------- outputs

    def _cell_sums(self, per_unit, width: int | None = None) -> np.ndarray:
        shape = (self.cell_count,) if width is None else (self.cell_count, width)
        out = np.zeros(shape)
        for unit_cell, value in zip((*self.group_cell, *self.fleet_cell), per_unit, strict=True):
            out[unit_cell] += value
        return out

    def _standing(self, fleet: ServiceFleet) -> _FleetPose:
        """Where a fleet's robots are and what they do; kept while it stands still."""
        kept = self._poses.get(id(fleet))
        token = fleet.standing_still
        if kept is not None and token is not None and kept[0] is token:
            return kept[1]
        pose = _FleetPose(
            fleet.positions_m(),
            fleet.headings_rad(),
            fleet.state,
            fleet.stop_cause,
            fleet.targets(),
            tuple(_frozen(fleet.route_m(r)) for r in range(fleet.count)),
        )
        self._poses[id(fleet)] = (token, pose)
        return pose

    def mean_time_to_repair_s(self) -> float:
        """Mean time from a rack's trip to its repair, over every fleet; NaN before one."""
        done = self._repairs.sum()
        return float(self._repair_s.sum() / done) if done else np.nan

    def state(self, time_s: float) -> RobotsState:
        cells, fleets = self.cells, self.fleets
        count = self.cell_count
        standing = [self._standing(f) for f in fleets]
        states = [c.state for c in cells] + [p.state for p in standing]
        causes = [c.stop_cause for c in cells] + [p.stop_cause for p in standing]
        state_time = self._cell_sums(
            [u.state_time_s.sum(axis=0) for u in self.units], len(RobotState)
        )
        counts = self._cell_sums(
            [np.bincount(state, minlength=len(RobotState)) for state in states], len(RobotState)
        ).astype(int)
        cycles = self._cell_sums([float(c.cycles_done.sum()) for c in cells] + list(self._repairs))
        good = self._cell_sums(
            [float(c.cycles_done.sum()) * c.quality for c in cells] + [0.0] * len(fleets)
        )
        progress = self._cell_sums(
            [
                float((c.cycles_done + np.minimum(c.cycle_pos_s / c.period_s, 1.0)).sum())
                for c in cells
            ]
            + [0.0] * len(fleets)
        )
        repairs = np.bincount(self.fleet_cell, weights=self._repairs, minlength=count)
        repair_s = np.bincount(self.fleet_cell, weights=self._repair_s, minlength=count)
        service_cell = np.zeros(count, dtype=bool)
        service_cell[self.fleet_cell] = True
        hours = time_s / SECONDS_PER_HOUR
        throughput = np.where(service_cell, cycles, good) / hours if hours > 0 else np.zeros(count)
        t = state_time
        elapsed = t.sum(axis=1)
        busy = t[:, RobotState.MOVING] + t[:, RobotState.WORKING]
        run = busy + t[:, RobotState.WAITING]
        planned = run + t[:, RobotState.FAULT] + t[:, RobotState.CHARGING]
        quality = np.ones(count)
        for group, c in zip(self._groups, cells, strict=True):
            quality[group.cell] = c.quality
        availability = np.divide(run, planned, out=np.zeros(count), where=planned > 0)
        performance = np.divide(busy, run, out=np.zeros(count), where=run > 0)
        oee = np.where(service_cell, np.nan, availability * performance * quality)
        intrusion = (
            self._cell_sums([np.any(c == StopCause.SAFETY_ZONE_INTRUSION) for c in causes]) > 0
        )
        stopped = self._cell_sums([np.any(c == StopCause.EMERGENCY_STOP) for c in causes]) > 0

        joints = np.zeros((self.arm_group.size, MAX_JOINTS))
        start = 0
        for c in cells:
            q = c.joint_positions_rad()
            joints[start : start + c.count, : q.shape[1]] = q
            start += c.count
        return frozen_fields(
            RobotsState,
            arm_cell=self.group_cell[self.arm_group],
            arm_joints_rad=joints,
            arm_gripper_closed=_joined([c.gripper_closed() for c in cells], bool),
            arm_state=_joined(states[: len(cells)], int),
            arm_stop_cause=_joined(causes[: len(cells)], int),
            arm_soc=_joined([c.soc for c in cells]),
            arm_power_w=_joined([c.robot_power_w for c in cells]),
            arm_cycles=_joined([c.cycles_done for c in cells], int),
            cell_state_counts=counts,
            cell_cycles=cycles.astype(int),
            cell_progress=progress,
            cell_throughput_per_h=throughput,
            cell_utilization=np.divide(busy, elapsed, out=np.zeros(count), where=elapsed > 0),
            cell_oee=oee,
            cell_power_kw=self._cell_sums([u.power_w for u in self.units]) / 1e3,
            cell_grid_kw=self._cell_sums(self._unit_grid_w) / 1e3,
            cell_intrusion=intrusion,
            cell_emergency_stop=stopped,
            service_cell=self.fleet_cell[self.service_fleet],
            service_xy_m=_joined([p.xy_m for p in standing]).reshape(-1, 2),
            service_heading_rad=_joined([p.heading_rad for p in standing]),
            service_state=_joined(states[len(cells) :], int),
            service_stop_cause=_joined(causes[len(cells) :], int),
            service_soc=_joined([f.soc for f in fleets]),
            service_target_rack=_joined([p.target_rack for p in standing], int),
            service_power_w=_joined([f.robot_power_w for f in fleets]),
            service_routes_m=tuple(route for p in standing for route in p.routes_m),
            cell_mean_time_to_repair_s=repair_s / np.where(repairs > 0, repairs, np.nan),
            mean_time_to_repair_s=self.mean_time_to_repair_s(),
            repairs_done=int(self._repairs.sum()),
            repairs_open=int(np.count_nonzero(self.awaiting_repair)),
        )


def _as_slice(index: np.ndarray) -> np.ndarray | slice:
    """A run of consecutive racks as a slice (a view, where an index array copies)."""
    if index.size and index[-1] - index[0] + 1 == index.size:
        return slice(int(index[0]), int(index[-1]) + 1)
    return index


def _count(racks: np.ndarray | slice) -> int:
    return racks.stop - racks.start if isinstance(racks, slice) else racks.size


def _racks_key(racks: np.ndarray | slice) -> tuple[int, ...]:
    if isinstance(racks, slice):
        return (-1, racks.start, racks.stop)
    return tuple(int(r) for r in racks)


def _stored_j(unit: TaskCell | ServiceFleet) -> float:
    return float(np.add.reduce(unit.soc)) * unit.battery.capacity_j if unit.battery else 0.0


def _joined(parts: list[np.ndarray], dtype=float) -> np.ndarray:
    return np.concatenate(parts).astype(dtype) if parts else np.zeros(0, dtype)


def _frozen(points: np.ndarray) -> np.ndarray:
    out = np.array(points, dtype=float)
    out.flags.writeable = False
    return out


def robot_units(s: Scenario, service: bool = False) -> list[tuple[int, Robot, int]]:
    """Every robot of the task cells (with ``service``: of the service cells) as (workcell,
    robot entry, unit), in the order of the snapshot's arm (service robot) arrays."""
    return [
        (k, robot, unit)
        for k, cell in enumerate(s.workcells)
        if (cell.kind == "service") == service
        for robot in cell.robots
        for unit in range(robot.count)
    ]
