"""Immutable snapshots: what the simulation publishes after a step.

A snapshot is a frozen dataclass of read-only numpy arrays copied out of the
simulation's state, so the GUI thread, a recorder or a test can hold it while the
simulation goes on. Site-level figures are a plain dict keyed by the same column names
as the ``twin run`` output (units in the names, see ``SITE_COLUMNS``).
"""

from __future__ import annotations

import math
from dataclasses import dataclass, fields
from typing import Any, TypeVar, cast

import numpy as np

SITE_COLUMNS: tuple[tuple[str, str], ...] = (
    ("time_s", "simulated time since the scenario start"),
    ("ambient_c", "outdoor dry-bulb temperature"),
    ("wet_bulb_c", "outdoor wet-bulb temperature"),
    (
        "it_power_kw",
        "electrical power at the racks' AC input, their PSUs' losses included "
        "(IT load for PUE, as The Green Grid counts it)",
    ),
    (
        "facility_power_kw",
        "all electrical power the site uses: IT + cooling + electrical losses "
        "+ robots = grid import + generators + BESS + UPS batteries + unserved",
    ),
    (
        "cooling_power_kw",
        "CDU pumps, facility pumps, dry-cooler, economizer and tower fans, chillers, CRAHs",
    ),
    (
        "electrical_loss_kw",
        "transformer, UPS and busway losses (PSU losses are in it_power_kw, "
        "the BESS's own in bess_loss_kw)",
    ),
    ("robot_power_kw", "robot workcells"),
    ("grid_import_kw", "power drawn from the utility"),
    ("generator_kw", "power from the generators"),
    (
        "bess_power_kw",
        "BESS power at its AC terminals on the site's bus, positive when discharging",
    ),
    ("bess_loss_kw", "conversion losses inside the BESS (cells to bus), not in facility power"),
    ("ups_battery_kw", "UPS batteries: positive while they carry racks, negative recharging"),
    ("unserved_kw", "load no source carried (robots on a dead bus, a shortfall of the sources)"),
    ("bess_soc", "battery state of charge, 0-1"),
    ("heat_rejected_kw", "heat leaving the site to the ambient"),
    ("thermal_stored_kwh", "change since the start of heat held in chips, coolant, water and air"),
    ("pue", "facility power over IT power; NaN without IT load"),
    ("tcs_supply_c", "flow-weighted mean CDU supply temperature (rack side)"),
    ("tcs_return_c", "flow-weighted mean CDU return temperature (rack side)"),
    ("fws_supply_c", "facility water supply temperature"),
    ("gpu_temp_max_c", "hottest GPU"),
    (
        "throttled_gpus",
        "GPUs of powered, untripped racks shedding power to stay below the throttle limit",
    ),
    ("tripped_racks", "racks offline after exceeding the critical temperature"),
    ("tokens_per_s", "useful AI work delivered"),
    ("water_l_per_h", "cooling-tower water use"),
    ("cost_krw_per_h", "electricity cost at the time-of-use tariff"),
    ("co2_kg_per_h", "emissions of grid import and generators"),
    ("energy_closure_error", "ledger: (in - rejected - stored - BESS) / in since the start"),
)
SITE_NAMES: tuple[str, ...] = tuple(name for name, _ in SITE_COLUMNS)


@dataclass(frozen=True, slots=True)
class RackState:
    """Per-rack values, indexed like ``Layout.rack_*``."""

    utilization: np.ndarray  # 0-1, demanded by the workload
    power_kw: np.ndarray  # electrical input power
    gpu_temp_c: np.ndarray
    inlet_temp_c: np.ndarray  # coolant supply reaching the rack
    outlet_temp_c: np.ndarray
    flow_lpm: np.ndarray
    liquid_heat_kw: np.ndarray  # heat into the cold plates this step
    throttled: np.ndarray  # bool: shedding power (powered, untripped racks only)
    tripped: np.ndarray  # bool
    tokens_per_s: np.ndarray
    power_cap_fraction: np.ndarray  # GPU power cap set by the operator, fraction of TDP
    liquid_isolated: np.ndarray  # bool: the branch's isolation valves shut (no flow)
    electrical_isolated: np.ndarray  # bool: the feed breakers open (no power, no heat)


@dataclass(frozen=True, slots=True)
class CduState:
    supply_c: np.ndarray
    return_c: np.ndarray
    flow_lpm: np.ndarray
    pump_speed: np.ndarray  # 0-1 of rated speed
    pumps_running: np.ndarray  # int
    dp_kpa: np.ndarray  # branch differential pressure
    duty_kw: np.ndarray  # heat passed to facility water
    facility_valve: np.ndarray  # 0-1
    pump_power_kw: np.ndarray
    supply_setpoint_c: np.ndarray
    pump_manual: np.ndarray  # bool: pumps at an operator's fixed speed, not on dp control
    valve_stuck: np.ndarray  # bool: the facility valve is seized (fault)
    leak_detected: np.ndarray  # bool: coolant escaping the secondary loop
    inventory_fraction: np.ndarray  # coolant in the loop over its full charge, 0-1
    filter_resistance_factor: np.ndarray  # series (strainer, exchanger) resistance over design


@dataclass(frozen=True, slots=True)
class PlantState:
    fws_supply_c: float
    fws_return_c: float
    dry_cooler_duty_kw: float
    dry_cooler_fan_speed: float  # 0-1
    dry_coolers_running: int
    chiller_duty_kw: float
    chillers_running: int
    chiller_cop: float
    tower_duty_kw: float
    hall_air_c: np.ndarray  # per hall
    dry_coolers_available: int  # installed less those with failed fans
    chillers_available: int  # installed less those tripped


@dataclass(frozen=True, slots=True)
class PowerState:
    hall_transformer_loading: np.ndarray  # per hall, current over rated of the units in service
    hall_ups_loading: np.ndarray
    hall_transformers_in_service: np.ndarray  # int per hall
    hall_ups_modules_in_service: np.ndarray  # int per hall
    hall_redundant: np.ndarray  # bool per hall: a spare transformer and UPS module remain
    row_busway_loading: np.ndarray  # per row, current over rated
    main_transformer_loading: float
    plant_transformer_loading: float
    hall_lv_voltage_pu: np.ndarray  # per hall, LV bus of its transformers, pu of rated
    mv_voltage_pu: float  # distribution bus (22.9 kV), per unit of rated voltage
    plant_lv_voltage_pu: float  # LV bus of the plant transformers, pu of rated
    grid_import_cap_kw: float
    utility_available: bool
    generators_online: int  # sets running (on the bus)
    generator_state: np.ndarray  # per set, a code of twin.sim.power.GENERATOR_STATES
    hall_powered: np.ndarray  # bool per hall: its UPS output live (off: batteries ran down)
    hall_load_shed: np.ndarray  # bool per hall: its UPS input shed from the backup bus
    gpu_power_smoothing: bool  # GPU power smoothing (floor and ramp limits) in force


@dataclass(frozen=True, slots=True)
class RobotsState:
    """The workcells' robots (codes of ``twin.sim.robotics.cells.RobotState`` and
    ``StopCause``).

    Arms: every robot of the assembly and humanoid cells, in scenario order (cell, robot
    entry, unit), as ``twin.sim.robotics.placement`` stands them; a humanoid is one robot
    whose two arms move alike, mirrored. Service robots: every robot of the service cells,
    in scenario order. Cells: every workcell, indexed like ``Scenario.workcells``.
    """

    arm_cell: np.ndarray  # (arms,) workcell index
    arm_joints_rad: np.ndarray  # (arms, 7) joint angles, zero past the arm's last joint
    arm_gripper_closed: np.ndarray  # bool: holding a part
    arm_state: np.ndarray  # RobotState code
    arm_stop_cause: np.ndarray  # StopCause code, 0 while running
    arm_soc: np.ndarray  # battery state of charge 0-1 (1 for robots on a cable)
    arm_power_w: np.ndarray  # mean electrical power over the last step
    arm_cycles: np.ndarray  # task cycles finished
    cell_state_counts: np.ndarray  # (cells, 6) robots of the cell in each RobotState
    cell_cycles: np.ndarray  # cycles finished (task cells) or repairs done (service cells)
    cell_progress: np.ndarray  # cycles finished plus the running ones' shares, summed over
    # the cell's robots: an assembly cell's belt moves one part spacing per cycle
    cell_throughput_per_h: np.ndarray  # good parts (task cells) or repairs (service) per hour
    cell_utilization: np.ndarray  # 0-1: robot time moving or working over all robot time
    cell_oee: np.ndarray  # 0-1, availability x performance x quality; NaN for service cells
    cell_power_kw: np.ndarray  # the robots' own electrical power, mean over the last step
    cell_grid_kw: np.ndarray  # drawn from the site (robots on a cable, chargers), the same
    cell_intrusion: np.ndarray  # bool: a protective stop after someone entered the zone
    cell_emergency_stop: np.ndarray  # bool
    service_cell: np.ndarray  # (service robots,) workcell index
    service_xy_m: np.ndarray  # (service robots, 2) where each is on the site
    service_heading_rad: np.ndarray  # the way it faces, from east anticlockwise
    service_state: np.ndarray  # RobotState code
    service_stop_cause: np.ndarray  # StopCause code, 0 while running
    service_soc: np.ndarray  # 0-1
    service_target_rack: np.ndarray  # the rack its mission is for, -1 for none
    service_power_w: np.ndarray  # mean electrical power over the last step
    service_routes_m: tuple[np.ndarray, ...]  # per robot: its mission's polyline (k, 2),
    # dock to the rack's cold aisle; no points while it has no mission
    cell_mean_time_to_repair_s: np.ndarray  # service cells: request to rack back online, over
    # finished repairs; NaN before the first and for task cells
    mean_time_to_repair_s: float  # the same over every service cell
    repairs_done: int
    repairs_open: int  # tripped racks with a robot sent or on its way


@dataclass(frozen=True, slots=True)
class Snapshot:
    step: int
    time_s: float
    site: dict[str, float]
    racks: RackState
    cdus: CduState
    plant: PlantState
    power: PowerState
    robots: RobotsState | None  # None in a snapshot taken without robots (alarm scans)


def freeze(array: np.ndarray) -> np.ndarray:
    """A read-only copy, safe to hand to another thread."""
    out = np.array(array, copy=True)
    out.flags.writeable = False
    return out


T = TypeVar("T")


def frozen_fields(cls: type[T], **arrays: object) -> T:
    """Build a state dataclass, copying and freezing each numpy field."""
    names = {f.name for f in fields(cast(Any, cls))}
    values = {k: freeze(v) if isinstance(v, np.ndarray) else v for k, v in arrays.items()}
    missing = names - values.keys()
    if missing:
        raise TypeError(f"{cls.__name__} missing {sorted(missing)}")
    return cls(**values)


# Array fields that hold flags or counts rather than measurements (the rest are floats).
_FLAG_FIELDS = frozenset(
    {
        "throttled",
        "tripped",
        "pump_manual",
        "valve_stuck",
        "leak_detected",
        "hall_redundant",
        "hall_powered",
        "hall_load_shed",
        "liquid_isolated",
        "electrical_isolated",
    }
)
_COUNT_FIELDS = frozenset(
    {
        "pumps_running",
        "hall_transformers_in_service",
        "hall_ups_modules_in_service",
        "generator_state",
    }
)


def blank_state(
    cls: type, *, racks: int = 0, cdus: int = 0, halls: int = 0, rows: int = 0, generators: int = 0
) -> Any:
    """A rack, CDU, plant or power state of a site's sizes that holds nothing: measurements
    NaN, counts 0, flags False (per-hall fields ``hall_*``, per-row ``row_*``, per-set
    ``generator_state``)."""
    length = {RackState: racks, CduState: cdus}.get(cls)
    values: dict[str, object] = {}
    for f in fields(cls):
        if f.type != "np.ndarray":
            values[f.name] = {"int": 0, "bool": False}.get(str(f.type), math.nan)
            continue
        n = (
            length
            if length is not None
            else halls
            if f.name.startswith("hall_")
            else rows
            if f.name.startswith("row_")
            else generators
        )
        if f.name in _FLAG_FIELDS:
            values[f.name] = np.zeros(n, bool)
        elif f.name in _COUNT_FIELDS:
            values[f.name] = np.zeros(n, np.int64)
        else:
            values[f.name] = np.full(n, np.nan)
    return frozen_fields(cls, **values)


def blank_snapshot(
    *,
    racks: int,
    cdus: int,
    halls: int,
    rows: int,
    generators: int,
    step: int = 0,
    time_s: float = 0.0,
) -> Snapshot:
    """A snapshot of a site's sizes that holds nothing (see ``blank_state``), without
    robots: what a replay shows where a recording holds no value, and what test doubles
    fill in."""
    sizes = {"racks": racks, "cdus": cdus, "halls": halls, "rows": rows, "generators": generators}
    return Snapshot(
        step=step,
        time_s=time_s,
        site=dict.fromkeys(SITE_NAMES, math.nan),
        racks=blank_state(RackState, **sizes),
        cdus=blank_state(CduState, **sizes),
        plant=blank_state(PlantState, **sizes),
        power=blank_state(PowerState, **sizes),
        robots=None,
    )
