"""Test doubles shared across the test folders (imported by the tests that use them, not
through a conftest): a simulation that makes real ``Snapshot`` objects of a scenario's
sizes without running any physics."""

from __future__ import annotations

import threading
from dataclasses import dataclass, fields
from functools import cache
from typing import Any

import numpy as np

from twin.scenario import Scenario, load
from twin.sim.robotics.cells import RobotState
from twin.sim.robotics.kinematics import CHAINS
from twin.sim.robotics.workcells import MAX_JOINTS, robot_units
from twin.sim.site import Site
from twin.sim.snapshot import (
    SITE_NAMES,
    RobotsState,
    Snapshot,
    blank_snapshot,
    frozen_fields,
)
from twin.sim.topology import Topology


@cache
def scenario_named(name: str) -> Scenario:
    return load(name)


class FakeSimulation:
    """Stands in for the engine: real ``Snapshot`` objects of the scenario's sizes, with
    GPU temperatures that tests may set (``gpu_temp_c``) and a log of what happened."""

    def __init__(self, scenario: Scenario, dt_s: float = 1.0, step_delay_s: float = 0.0):
        self.site = Site.build(scenario)
        self.topology: Topology = self.site.topology
        self.dt_s = dt_s
        self.step_delay_s = step_delay_s
        self.steps = 0
        self._since = (0.0, 0)  # the time and steps when the step size last changed
        self.log: list[str] = []
        n = self.topology.rack_count
        self.gpu_temp_c = np.linspace(40.0, 80.0, n)
        self.tripped = np.zeros(n, bool)
        self.throttled = np.zeros(n, bool)
        self.scenario = scenario
        self.arms = robot_units(scenario)
        self.service = robot_units(scenario, service=True)
        workcells = self.site.layout.workcells
        self.service_xy_m = np.array([workcells.center_m[k, :2] for k, _, _ in self.service])

    @property
    def time_s(self) -> float:
        time_s, steps = self._since
        return time_s + (self.steps - steps) * self.dt_s

    @property
    def has_output(self) -> bool:
        return self.steps > 0

    def step(self, n: int = 1) -> None:
        if self.step_delay_s:
            threading.Event().wait(self.step_delay_s * n)
        self.steps += n
        self.log.append(f"step {n}")

    def reset(self) -> None:
        self.steps = 0
        self._since = (0.0, 0)
        self.log.append("reset")

    def apply(self, event) -> None:
        """An event is logged, not simulated."""
        self.log.append(f"apply {event.kind}")

    def set_step(self, dt_s: float) -> None:
        """Steps of ``dt_s`` from now on (the kiosk's per-step pace); time so far is kept."""
        self._since = (self.time_s, self.steps)
        self.dt_s = dt_s
        self.log.append(f"set_step {dt_s:g}")

    def snapshot(self, *, robots: bool = True) -> Snapshot:
        """The blank snapshot of the site's sizes (flags False, counts 0) with plausible
        figures of a site at work filled in."""
        n, c = self.topology.rack_count, self.topology.cdu_count
        halls = len(self.topology.hall_names)
        blank = blank_snapshot(
            racks=n,
            cdus=c,
            halls=halls,
            rows=len(self.topology.row_names),
            generators=self.scenario.power.generators.units,
        )
        site = dict.fromkeys(SITE_NAMES, 0.0)
        site.update(
            time_s=self.time_s,
            it_power_kw=n * 120.0,
            facility_power_kw=n * 132.0,
            pue=1.1,
            gpu_temp_max_c=float(self.gpu_temp_c.max()),
            bess_soc=0.8,
            grid_import_kw=n * 132.0,
            tokens_per_s=n * 4.3e5,
        )
        ones = np.ones(n)
        racks = _filled(
            blank.racks,
            utilization=0.8 * ones,
            power_kw=120.0 * ones,
            gpu_temp_c=self.gpu_temp_c,
            inlet_temp_c=35.0 * ones,
            outlet_temp_c=45.0 * ones,
            flow_lpm=180.0 * ones,
            liquid_heat_kw=100.0 * ones,
            throttled=self.throttled,
            tripped=self.tripped,
            tokens_per_s=4.3e5 * ones,
            power_cap_fraction=ones,
        )
        cdus = _filled(
            blank.cdus,
            supply_c=np.full(c, 35.0),
            return_c=np.full(c, 45.0),
            flow_lpm=np.full(c, 2500.0),
            pump_speed=np.full(c, 0.7),
            pumps_running=np.ones(c, int),
            dp_kpa=np.full(c, 110.0),
            duty_kw=np.full(c, 1500.0),
            facility_valve=np.full(c, 0.6),
            pump_power_kw=np.full(c, 12.0),
            supply_setpoint_c=np.full(c, 35.0),
            inventory_fraction=np.ones(c),
            filter_resistance_factor=np.ones(c),
        )
        plant = _filled(
            blank.plant,
            fws_supply_c=30.0,
            fws_return_c=40.0,
            dry_cooler_duty_kw=30000.0,
            dry_cooler_fan_speed=0.6,
            dry_coolers_running=20,
            chiller_duty_kw=0.0,
            chillers_running=1,
            chiller_cop=5.0,
            tower_duty_kw=0.0,
            hall_air_c=np.full(halls, 27.0),
            dry_coolers_available=36,
            chillers_available=4,
        )
        power = _filled(
            blank.power,
            hall_transformer_loading=np.full(halls, 0.6),
            hall_ups_loading=np.full(halls, 0.5),
            hall_transformers_in_service=np.full(halls, 8),
            hall_ups_modules_in_service=np.full(halls, 20),
            hall_redundant=np.ones(halls, bool),
            row_busway_loading=np.full(len(self.topology.row_names), 0.5),
            main_transformer_loading=0.45,
            plant_transformer_loading=0.4,
            hall_lv_voltage_pu=np.full(halls, 0.97),
            mv_voltage_pu=0.99,
            plant_lv_voltage_pu=0.98,
            grid_import_cap_kw=60000.0,
            utility_available=True,
            hall_powered=np.ones(halls, bool),
        )
        return Snapshot(
            step=self.steps,
            time_s=self.time_s,
            site=site,
            racks=racks,
            cdus=cdus,
            plant=plant,
            power=power,
            robots=self.robots() if robots else None,
        )

    def robots(self) -> RobotsState:
        """Arms swinging about their resting poses with the step count, every gripper
        closing for half of each swing, service robots at their docks."""
        arms, service = len(self.arms), len(self.service)
        cells = len(self.scenario.workcells)
        phase = 0.05 * self.steps + np.arange(arms)
        joints = np.zeros((arms, MAX_JOINTS))
        for a, (_, robot, _) in enumerate(self.arms):
            chain = CHAINS[robot.model]
            joints[a, : chain.joint_count] = chain.home_rad + 0.3 * np.sin(phase[a])
        counts = np.zeros((cells, len(RobotState)), int)
        for k, _, _ in self.arms:
            counts[k, RobotState.MOVING] += 1
        for k, _, _ in self.service:
            counts[k, RobotState.IDLE] += 1
        return frozen_fields(
            RobotsState,
            arm_cell=np.array([k for k, _, _ in self.arms], int),
            arm_joints_rad=joints,
            arm_gripper_closed=np.sin(phase) > 0,
            arm_state=np.full(arms, int(RobotState.MOVING)),
            arm_stop_cause=np.zeros(arms, int),
            arm_soc=np.full(arms, 0.8),
            arm_power_w=np.full(arms, 300.0),
            arm_cycles=np.full(arms, self.steps // 10),
            cell_state_counts=counts,
            cell_cycles=np.full(cells, self.steps // 10),
            cell_progress=np.full(cells, 0.1 * self.steps),
            cell_throughput_per_h=np.full(cells, 300.0),
            cell_utilization=np.full(cells, 0.9),
            cell_oee=np.full(cells, 0.85),
            cell_power_kw=np.full(cells, 1.5),
            cell_grid_kw=np.full(cells, 1.5),
            cell_intrusion=np.zeros(cells, bool),
            cell_emergency_stop=np.zeros(cells, bool),
            service_cell=np.array([k for k, _, _ in self.service], int),
            service_xy_m=self.service_xy_m.reshape(service, 2),
            service_heading_rad=np.zeros(service),
            service_state=np.full(service, int(RobotState.IDLE)),
            service_stop_cause=np.zeros(service, int),
            service_soc=np.full(service, 0.9),
            service_target_rack=np.full(service, -1),
            service_power_w=np.full(service, 60.0),
            service_routes_m=tuple(np.zeros((0, 2)) for _ in range(service)),
            cell_mean_time_to_repair_s=np.full(cells, np.nan),
            mean_time_to_repair_s=np.nan,
            repairs_done=0,
            repairs_open=0,
        )


def _filled(blank: object, **values: object) -> Any:
    """``blank`` (a state of a blank snapshot) with ``values`` in place of its own."""
    held = {f.name: getattr(blank, f.name) for f in fields(blank)}
    return frozen_fields(type(blank), **{**held, **values})


@dataclass(frozen=True, slots=True)
class SteppedFrame:
    generation: int
    snapshot: Snapshot | None


class SteppedRunner:
    """The simulation runner's GUI side without its thread, for playing a kiosk story
    headless: commands apply at once (and publish a frame, as the runner's do), and
    ``advance(wall_s)`` steps the simulation as far as the speed asked for covers in that
    much wall-clock time (``full_speed`` stands for "max")."""

    def __init__(self, simulation, full_speed: float = 600.0) -> None:
        self.sim = simulation
        self.full_speed = full_speed
        self.speed: float | None = 1.0
        self.frame = SteppedFrame(0, None)
        self._owed_s = 0.0  # simulated time due but less than a step

    def latest(self) -> SteppedFrame:
        return self.frame

    def reset(self) -> None:
        self.sim.reset()
        self._publish()

    def resume(self) -> None:
        pass

    def set_speed(self, speed: float | None) -> None:
        self.speed = speed

    def call(self, function) -> None:
        function(self.sim)
        self._publish()

    def advance(self, wall_s: float) -> None:
        self._owed_s += (self.speed or self.full_speed) * wall_s
        steps = int(self._owed_s / self.sim.dt_s + 1e-9)
        if steps:
            self._owed_s -= steps * self.sim.dt_s
            self.sim.step(steps)
            self._publish()

    def _publish(self) -> None:
        if not self.sim.has_output:
            self.sim.step(1)
        self.frame = SteppedFrame(self.frame.generation + 1, self.sim.snapshot(robots=False))
