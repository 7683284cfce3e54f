"""What the user can select in the twin and what the window shows and edits for each.

A ``Selection`` names one object (a rack, a CDU, a hall's power room, a plant unit...).
``describe`` turns it into an ``ObjectView``: a title, live readings taken from
snapshots (the inspector shows them with sparklines, the trend panel plots them), the
parameters an engineer may change (each applied to the simulation as a command between
two steps), actions, and the object's active alarm conditions (words, with any limit
they name kept SI and written in the display units when shown). No Qt here: the widgets
render these descriptions, and tests can check them without a window.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field, replace
from typing import Any

import numpy as np

from twin.gui.units import Quantity, UnitSystem, conversion
from twin.scenario import Scenario
from twin.scenario.schema import PumpTrip
from twin.sim.power import GENERATOR_FAILED, GENERATOR_STARTING
from twin.sim.robotics.cells import DEFAULT_TASKS, RobotState, StopCause
from twin.sim.robotics.kinematics import CHAINS
from twin.sim.robotics.workcells import robot_units
from twin.sim.snapshot import RobotsState, Snapshot
from twin.sim.topology import Topology

# applied to the simulation on its own thread; duck-typed: the engine, or a shadow or an
# alarmed simulation that forwards to it
Command = Callable[[Any], object]

KINDS = (
    "rack",
    "cdu",
    "hall",
    "dry-coolers",
    "chillers",
    "transformer",
    "bess",
    "generator",
    "workcell",
    "robot",
    "service-robot",
)


@dataclass(frozen=True, slots=True)
class Selection:
    kind: str  # one of KINDS
    index: int  # within its kind (rack number, CDU number, hall number, unit number;
    # robots: the snapshot's arm or service-robot number)


@dataclass(frozen=True, slots=True)
class Reading:
    label: str
    unit: str
    read: Callable[[Snapshot], float]
    decimals: int = 1
    label_of: Callable[[float], str] | None = None  # words instead of the number (a state)
    missing: str = ""  # shown while the value is undefined (NaN); empty: always defined

    def text(self, snapshot: Snapshot) -> str:
        value = self.read(snapshot)
        if self.missing and not math.isfinite(value):
            return self.missing
        if self.label_of is not None:
            return self.label_of(value)
        number = f"{value:,.{self.decimals}f}"
        return f"{number} {self.unit}" if self.unit else number

    def in_units(self, system: UnitSystem) -> Reading:
        """The same reading shown in ``system`` (this one reads SI)."""
        shown = conversion(self.unit, system)
        if shown.is_identity:
            return self
        read = self.read
        return replace(
            self,
            unit=shown.unit,
            read=lambda snap: shown.to_display(read(snap)),
            decimals=shown.decimals(self.decimals),
        )


@dataclass(frozen=True, slots=True)
class Parameter:
    """A number the engineer may set: shown with its current value, applied by ``apply``."""

    label: str
    unit: str
    low: float
    high: float
    step: float
    read: Callable[[Snapshot], float]
    apply: Callable[[float], Command]
    decimals: int = 1

    def in_units(self, system: UnitSystem) -> Parameter:
        """The same parameter set in ``system``: its range, step and value shown there, and
        a value set there applied in SI (this one is SI)."""
        shown = conversion(self.unit, system)
        if shown.is_identity:
            return self
        read, apply = self.read, self.apply
        decimals = shown.decimals(self.decimals)
        return replace(
            self,
            unit=shown.unit,
            low=shown.to_display(self.low),
            high=shown.to_display(self.high),
            step=shown.difference_to_display(self.step),
            read=lambda snap: shown.to_display(read(snap)),
            apply=lambda value: apply(shown.typed_to_si(value, decimals)),
            decimals=decimals,
        )


@dataclass(frozen=True, slots=True)
class Choice:
    """One of a few settings (pump control mode, power smoothing)."""

    label: str
    options: tuple[str, ...]
    read: Callable[[Snapshot], int]
    apply: Callable[[int], Command]


@dataclass(frozen=True, slots=True)
class Action:
    label: str
    tooltip: str
    command: Command


@dataclass(frozen=True, slots=True)
class Phrase:
    """Words with quantities in them, a ``{}`` for each: an alarm line that names a limit
    (``GPUs throttling above {}``), written out in the units shown."""

    words: str
    quantities: tuple[Quantity, ...]

    def text(self, system: UnitSystem) -> str:
        return self.words.format(*(quantity.text(system) for quantity in self.quantities))


AlarmLine = str | Phrase  # words alone, or words with quantities


@dataclass(frozen=True, slots=True)
class ObjectView:
    selection: Selection
    title: str
    where: str
    readings: tuple[Reading, ...]
    parameters: tuple[Parameter, ...] = ()
    choices: tuple[Choice, ...] = ()
    actions: tuple[Action, ...] = ()
    alarm_lines: Callable[[Snapshot], Sequence[AlarmLine]] = field(default=lambda _s: [])
    units: UnitSystem = UnitSystem.SI  # what the readings, parameters and alarms are shown in

    def in_units(self, system: UnitSystem) -> ObjectView:
        """The view with its readings, parameters and alarms shown in ``system``."""
        return replace(
            self,
            readings=tuple(r.in_units(system) for r in self.readings),
            parameters=tuple(p.in_units(system) for p in self.parameters),
            units=UnitSystem(system),
        )

    def alarms(self, snapshot: Snapshot) -> list[str]:
        """The object's active alarm conditions, any limit they name in ``units``."""
        return [
            line if isinstance(line, str) else line.text(self.units)
            for line in self.alarm_lines(snapshot)
        ]


def object_name(selection: Selection, scenario: Scenario, topology: Topology) -> str:
    kind, i = selection.kind, selection.index
    if kind == "rack":
        return topology.rack_name(i)
    if kind == "cdu":
        return topology.cdu_names[i]
    if kind == "hall":
        return f"{topology.hall_names[i]} electrical room"
    if kind == "workcell":
        return scenario.workcells[i].name
    if kind in ("robot", "service-robot"):
        cell, robot, unit = robot_units(scenario, service=kind == "service-robot")[i]
        return f"{scenario.workcells[cell].name} {robot.name} {unit + 1}"
    return {
        "dry-coolers": "Dry coolers",
        "chillers": "Chillers",
        "transformer": "Main transformers",
        "bess": "Battery storage (BESS)",
        "generator": "Generators",
    }[kind]


def describe(selection: Selection, scenario: Scenario, topology: Topology) -> ObjectView:
    """The view of one selected object; raises ValueError for an unknown kind or index."""
    builders = {
        "rack": _rack,
        "cdu": _cdu,
        "hall": _hall,
        "dry-coolers": _dry_coolers,
        "chillers": _chillers,
        "transformer": _transformer,
        "bess": _bess,
        "generator": _generator,
        "workcell": _workcell,
        "robot": _robot,
        "service-robot": _service_robot,
    }
    if selection.kind not in builders:
        raise ValueError(f"unknown object kind {selection.kind!r}; kinds: {', '.join(KINDS)}")
    count = {
        "rack": topology.rack_count,
        "cdu": topology.cdu_count,
        "hall": len(topology.hall_names),
        "workcell": len(scenario.workcells),
        "robot": len(robot_units(scenario)),
        "service-robot": len(robot_units(scenario, service=True)),
    }
    limit = count.get(selection.kind)
    if not 0 <= selection.index < (limit if limit is not None else 1 << 30):
        raise ValueError(f"no {selection.kind} number {selection.index}")
    return builders[selection.kind](selection, scenario, topology)


# ------------------------------------------------------------------ per kind


NEAR_THROTTLE_K = 5.0  # a GPU this close to its throttle limit is worth a warning
SUPPLY_DEVIATION_K = 2.0  # a CDU supply this far above its setpoint is not keeping up


def _rack(sel: Selection, s: Scenario, topo: Topology) -> ObjectView:
    i = sel.index
    rack_type = s.rack_types[topo.rack_type_names[topo.rack_type[i]]]
    design_flow = rack_type.design_flow_lpm
    tripped = Phrase("TRIPPED: GPUs reached {}", (Quantity(rack_type.gpu_critical_c, "°C"),))
    throttling = Phrase("GPUs throttling above {}", (Quantity(rack_type.gpu_throttle_c, "°C"),))
    near_throttle = Phrase(
        "GPU temperature within {} of the throttle limit", (Quantity(NEAR_THROTTLE_K, "K"),)
    )
    low_flow = Phrase("coolant flow below half of design ({})", (Quantity(design_flow, "L/min"),))

    def alarms(snap: Snapshot) -> list[AlarmLine]:
        r = snap.racks
        found: list[AlarmLine] = []
        if r.tripped[i]:
            found.append(tripped)
        elif r.throttled[i]:
            found.append(throttling)
        elif r.gpu_temp_c[i] >= rack_type.gpu_throttle_c - NEAR_THROTTLE_K:
            found.append(near_throttle)
        if r.flow_lpm[i] < 0.5 * design_flow:
            found.append(low_flow)
        return found

    def set_cap(percent: float) -> Command:
        return lambda sim: sim.set_rack_power_cap(np.array([i]), percent / 100.0)

    r = lambda name: lambda snap: float(getattr(snap.racks, name)[i])  # noqa: E731
    return ObjectView(
        sel,
        topo.rack_name(i),
        f"{topo.hall_names[topo.rack_hall[i]]} · row {topo.row_names[topo.rack_row[i]]} · "
        f"{topo.cdu_names[topo.rack_cdu[i]]} · {topo.rack_type_names[topo.rack_type[i]]}",
        readings=(
            Reading("GPU temperature", "°C", r("gpu_temp_c")),
            Reading("Coolant inlet", "°C", r("inlet_temp_c")),
            Reading("Coolant outlet", "°C", r("outlet_temp_c")),
            Reading("Coolant flow", "L/min", r("flow_lpm"), 0),
            Reading("Power", "kW", r("power_kw")),
            Reading("Heat to liquid", "kW", r("liquid_heat_kw")),
            Reading("Utilization", "%", lambda snap: 100.0 * snap.racks.utilization[i], 0),
            Reading("Tokens/s", "", r("tokens_per_s"), 0),
        ),
        parameters=(
            Parameter(
                "GPU power cap",
                "% TDP",
                30.0,
                100.0,
                5.0,
                lambda snap: 100.0 * snap.racks.power_cap_fraction[i],
                set_cap,
                0,
            ),
        ),
        actions=(
            Action(
                "Reset tripped racks",
                "bring every tripped rack back online, as "
                "an operator's reset after the cause is cleared",
                lambda sim: sim.reset_racks(),
            ),
        ),
        alarm_lines=alarms,
    )


def _cdu(sel: Selection, s: Scenario, topo: Topology) -> ObjectView:
    i = sel.index
    name = topo.cdu_names[i]
    cdu_type = s.cdu_types[topo.cdu_type_names[topo.cdu_type[i]]]
    racks = topo.cdu_racks(i)
    supply_high = Phrase(
        "supply more than {} above its setpoint", (Quantity(SUPPLY_DEVIATION_K, "K"),)
    )

    def alarms(snap: Snapshot) -> list[AlarmLine]:
        c = snap.cdus
        found: list[AlarmLine] = []
        if c.pumps_running[i] == 0:
            found.append("NO PUMP RUNNING: the racks behind it have no flow")
        elif c.pumps_running[i] < cdu_type.pumps_required:
            found.append(f"{int(c.pumps_running[i])} of {cdu_type.pumps_required} pumps running")
        if c.supply_c[i] > c.supply_setpoint_c[i] + SUPPLY_DEVIATION_K:
            found.append(supply_high)
        return found

    c = lambda name_: lambda snap: float(getattr(snap.cdus, name_)[i])  # noqa: E731

    def set_mode(option: int) -> Command:
        if option == 0:
            return lambda sim: sim.set_cdu_pump_speed(i, None)
        return lambda sim: sim.set_cdu_pump_speed(i, 1.0)

    return ObjectView(
        sel,
        name,
        f"{topo.hall_names[topo.cdu_hall[i]]} · {topo.cdu_type_names[topo.cdu_type[i]]} · "
        f"serves {racks.size} racks",
        readings=(
            Reading("Supply", "°C", c("supply_c")),
            Reading("Return", "°C", c("return_c")),
            Reading("Flow", "L/min", c("flow_lpm"), 0),
            Reading("Branch dp", "kPa", c("dp_kpa"), 0),
            Reading("Pump speed", "%", lambda snap: 100.0 * snap.cdus.pump_speed[i], 0),
            Reading("Pumps running", "", c("pumps_running"), 0),
            Reading("Heat to facility water", "kW", c("duty_kw"), 0),
            Reading("Facility valve", "%", lambda snap: 100.0 * snap.cdus.facility_valve[i], 0),
            Reading("Pump power", "kW", c("pump_power_kw")),
        ),
        parameters=(
            Parameter(
                "Supply setpoint",
                "°C",
                15.0,
                50.0,
                0.5,
                c("supply_setpoint_c"),
                lambda value: lambda sim: sim.set_cdu_supply_setpoint(i, value),
            ),
            Parameter(
                "Fixed pump speed",
                "%",
                100.0 * cdu_type.pump_min_speed,
                100.0,
                5.0,
                lambda snap: 100.0 * snap.cdus.pump_speed[i],
                lambda value: lambda sim: sim.set_cdu_pump_speed(i, value / 100.0),
                0,
            ),
        ),
        choices=(
            Choice(
                "Pump control",
                ("automatic (dp setpoint)", "fixed speed"),
                lambda snap: int(snap.cdus.pump_manual[i]),
                set_mode,
            ),
        ),
        actions=(
            Action(
                "Trip a pump",
                "take one pump out of service",
                lambda sim: sim.apply(PumpTrip(kind="pump-trip", at_s=0, target=name)),
            ),
            Action(
                "Restore a pump",
                "put one tripped pump back in service",
                lambda sim: sim.apply(PumpTrip(kind="pump-restore", at_s=0, target=name)),
            ),
        ),
        alarm_lines=alarms,
    )


def _hall(sel: Selection, s: Scenario, topo: Topology) -> ObjectView:
    h = sel.index
    in_hall = topo.rack_hall == h

    def alarms(snap: Snapshot) -> list[str]:
        found = []
        for label, loading in (
            ("transformers", snap.power.hall_transformer_loading[h]),
            ("UPS", snap.power.hall_ups_loading[h]),
        ):
            if loading > 1.0:
                found.append(f"{label} overloaded: {100 * loading:.0f} %")
            elif loading >= 0.8:
                found.append(f"{label} at {100 * loading:.0f} % of rating")
        tripped = int(np.count_nonzero(snap.racks.tripped[in_hall]))
        if tripped:
            found.append(f"{tripped} racks tripped")
        if not snap.power.hall_powered[h]:
            found.append("NO POWER: the UPS batteries ran down, the racks are off")
        elif snap.power.hall_load_shed[h]:
            found.append("load shed from the generators: racks on the UPS batteries")
        return found

    def set_cap(percent: float) -> Command:
        return lambda sim: sim.set_rack_power_cap(in_hall, percent / 100.0)

    return ObjectView(
        sel,
        f"{topo.hall_names[h]} electrical room",
        f"{int(in_hall.sum())} racks · unit-substation transformers, UPS, busways",
        readings=(
            Reading("IT power", "MW", lambda snap: snap.racks.power_kw[in_hall].sum() / 1e3, 2),
            Reading(
                "Transformer loading",
                "%",
                lambda snap: 100.0 * snap.power.hall_transformer_loading[h],
                0,
            ),
            Reading("UPS loading", "%", lambda snap: 100.0 * snap.power.hall_ups_loading[h], 0),
            Reading("Low-voltage bus", "pu", lambda snap: snap.power.hall_lv_voltage_pu[h], 3),
            Reading("Hall air", "°C", lambda snap: float(snap.plant.hall_air_c[h])),
            Reading("Hottest GPU", "°C", lambda snap: snap.racks.gpu_temp_c[in_hall].max()),
        ),
        parameters=(
            Parameter(
                "GPU power cap, whole hall",
                "% TDP",
                30.0,
                100.0,
                5.0,
                lambda snap: 100.0 * snap.racks.power_cap_fraction[in_hall].max(),
                set_cap,
                0,
            ),
        ),
        alarm_lines=alarms,
    )


def _dry_coolers(sel: Selection, s: Scenario, topo: Topology) -> ObjectView:
    count = s.heat_rejection.dry_coolers.count
    return ObjectView(
        sel,
        "Dry coolers",
        f"{count} units in the cooling yard · facility water loop",
        readings=(
            Reading("Facility water supply", "°C", lambda snap: snap.plant.fws_supply_c),
            Reading("Facility water return", "°C", lambda snap: snap.plant.fws_return_c),
            Reading("Heat rejected", "MW", lambda snap: snap.plant.dry_cooler_duty_kw / 1e3, 2),
            Reading("Fan speed", "%", lambda snap: 100.0 * snap.plant.dry_cooler_fan_speed, 0),
            Reading("Units running", "", lambda snap: snap.plant.dry_coolers_running, 0),
            Reading("Outdoor dry-bulb", "°C", lambda snap: snap.site["ambient_c"]),
        ),
    )


def _chillers(sel: Selection, s: Scenario, topo: Topology) -> ObjectView:
    chillers = s.heat_rejection.chillers
    return ObjectView(
        sel,
        "Chillers",
        f"{chillers.count} x {chillers.capacity_kw:,.0f} kW · chilled "
        "water for the CRAHs (behind a waterside economizer) and trim of the facility water",
        readings=(
            Reading("Duty", "MW", lambda snap: snap.plant.chiller_duty_kw / 1e3, 2),
            Reading("Units running", "", lambda snap: snap.plant.chillers_running, 0),
            Reading("COP", "", lambda snap: snap.plant.chiller_cop, 2, missing="none running"),
            Reading("Outdoor dry-bulb", "°C", lambda snap: snap.site["ambient_c"]),
        ),
    )


def _transformer(sel: Selection, s: Scenario, topo: Topology) -> ObjectView:
    mains = s.power.main_transformers

    def alarms(snap: Snapshot) -> list[str]:
        found = []
        if not snap.power.utility_available:
            found.append("UTILITY OUTAGE")
        if snap.site["grid_import_kw"] > snap.power.grid_import_cap_kw:
            found.append("grid import above the cap")
        if snap.power.main_transformer_loading > 1.0:
            found.append("main transformers overloaded")
        return found

    return ObjectView(
        sel,
        "Main transformers",
        f"{mains.hv_kv:g}/{mains.lv_kv:g} kV · utility {s.power.utility.voltage_kv:g} kV",
        readings=(
            Reading("Loading", "%", lambda snap: 100.0 * snap.power.main_transformer_loading, 0),
            Reading("Grid import", "MW", lambda snap: snap.site["grid_import_kw"] / 1e3, 2),
            Reading("Import cap", "MW", lambda snap: snap.power.grid_import_cap_kw / 1e3, 1),
            Reading("Medium-voltage bus", "pu", lambda snap: snap.power.mv_voltage_pu, 3),
            Reading(
                "Electrical losses", "MW", lambda snap: snap.site["electrical_loss_kw"] / 1e3, 2
            ),
        ),
        alarm_lines=alarms,
    )


def _bess(sel: Selection, s: Scenario, topo: Topology) -> ObjectView:
    bess = s.power.bess

    def alarms(snap: Snapshot) -> list[str]:
        return (
            ["state of charge near its floor"]
            if snap.site["bess_soc"] < bess.soc_min + 0.05
            else []
        )

    return ObjectView(
        sel,
        "Battery storage (BESS)",
        f"{bess.energy_mwh:g} MWh / {bess.power_mw:g} MW",
        readings=(
            Reading(
                "Power (+ discharging)", "MW", lambda snap: snap.site["bess_power_kw"] / 1e3, 2
            ),
            Reading("State of charge", "%", lambda snap: 100.0 * snap.site["bess_soc"], 1),
        ),
        choices=(
            Choice(
                "GPU power smoothing",
                ("off", "on"),
                lambda snap: int(snap.power.gpu_power_smoothing),
                lambda option: lambda sim: sim.set_power_smoothing(option == 1),
            ),
        ),
        alarm_lines=alarms,
    )


def _generator(sel: Selection, s: Scenario, topo: Topology) -> ObjectView:
    gens = s.power.generators

    def sets_in(state: int) -> Callable[[Snapshot], int]:
        return lambda snap: int(np.count_nonzero(snap.power.generator_state == state))

    def alarms(snap: Snapshot) -> list[str]:
        found = [] if snap.power.utility_available else ["running on backup"]
        failed = sets_in(GENERATOR_FAILED)(snap)
        if failed:
            found.append(f"{failed} set{'s' * (failed > 1)} FAILED (did not start or tripped)")
        shed = [topo.hall_names[h] for h in np.flatnonzero(snap.power.hall_load_shed)]
        if shed:
            found.append(f"load shed: {', '.join(shed)} on UPS batteries")
        return found

    return ObjectView(
        sel,
        "Generators",
        f"{gens.units} x {gens.rating_mw:g} MW · on the bus "
        f"{gens.start_delay_s:g} s after a utility loss",
        readings=(
            Reading("Units online", "", lambda snap: snap.power.generators_online, 0),
            Reading("Units starting", "", sets_in(GENERATOR_STARTING), 0),
            Reading("Units failed", "", sets_in(GENERATOR_FAILED), 0),
            Reading("Output", "MW", lambda snap: snap.site["generator_kw"] / 1e3, 2),
        ),
        alarm_lines=alarms,
    )


STATE_NAMES = tuple(state.name.lower() for state in RobotState)
STOP_TEXT: dict[int, str] = {
    StopCause.EMERGENCY_STOP: "EMERGENCY STOP",
    StopCause.SAFETY_ZONE_INTRUSION: "SAFETY-ZONE INTRUSION: protective stop",
    StopCause.BATTERY_LOW: "battery low: charging",
}
LOW_BATTERY = 0.25  # warn a little above the robots' own charge threshold (0.2)


def _robots(snap: Snapshot) -> RobotsState:
    """The robots of a snapshot taken with them (the window's are: robots=True)."""
    if snap.robots is None:
        raise ValueError("a robot's reading is asked of a snapshot taken without robots")
    return snap.robots


def _state_name(value: float) -> str:
    return STATE_NAMES[int(value)]


def _cell_actions(cell: int) -> tuple[Action, ...]:
    return (
        Action(
            "Emergency stop",
            "stop every robot of the cell where it stands",
            lambda sim: sim.workcell_emergency_stop(cell),
        ),
        Action(
            "Person enters the zone",
            "someone steps into the guarded zone: a protective stop of the cell's robots",
            lambda sim: sim.workcell_safety_zone_intrusion(cell),
        ),
        Action(
            "Reset and start",
            "clear the cell's stop and carry on where its robots stood",
            lambda sim: sim.workcell_reset(cell),
        ),
    )


def _state_counts(cell: int) -> tuple[Reading, ...]:
    return tuple(
        Reading(
            f"Robots {state.name.lower()}",
            "",
            _state_count(cell, state),
            0,
        )
        for state in RobotState
    )


def _state_count(cell: int, state: RobotState) -> Callable[[Snapshot], float]:
    return lambda snap: float(_robots(snap).cell_state_counts[cell, state])


def _workcell(sel: Selection, s: Scenario, topo: Topology) -> ObjectView:
    k = sel.index
    cell = s.workcells[k]
    robots = ", ".join(f"{r.count} x {r.model}" for r in cell.robots)
    rated_kw = sum(r.count * r.peak_power_w for r in cell.robots) / 1e3

    def alarms(snap: Snapshot) -> list[str]:
        r = _robots(snap)
        found = []
        if r.cell_emergency_stop[k]:
            found.append("EMERGENCY STOP")
        if r.cell_intrusion[k]:
            found.append("SAFETY-ZONE INTRUSION: robots in a protective stop")
        charging = int(r.cell_state_counts[k, RobotState.CHARGING])
        if charging:
            found.append(f"{charging} robot(s) charging a low battery")
        waiting = int(r.cell_state_counts[k, RobotState.WAITING])
        if waiting:
            found.append(f"{waiting} robot(s) waiting for their AI (serving racks slow)")
        return found

    def r(name: str, scale: float = 1.0):
        return lambda snap: scale * float(getattr(_robots(snap), name)[k])

    power = (
        Reading("Robot power", "kW", r("cell_power_kw"), 2),
        Reading("Drawn from the site", "kW", r("cell_grid_kw"), 2),
    )
    if cell.kind == "service":
        readings = (
            Reading("Repairs done", "", r("cell_cycles"), 0),
            Reading(
                "Mean time to repair",
                "min",
                r("cell_mean_time_to_repair_s", 1 / 60),
                1,
                missing="no repair yet",
            ),
            Reading("Tripped racks waiting", "", lambda snap: _robots(snap).repairs_open, 0),
            Reading("Utilization", "%", r("cell_utilization", 100.0), 0),
            *power,
            *_state_counts(k),
        )
        where = (
            f"service fleet of {cell.hall} · {robots} · {cell.repair_time_s / 60:g} min "
            f"a repair · rated {rated_kw:.1f} kW"
        )
    else:
        readings = (
            Reading("Throughput", "parts/h", r("cell_throughput_per_h"), 0),
            Reading("Cycles done", "", r("cell_cycles"), 0),
            Reading("Utilization", "%", r("cell_utilization", 100.0), 0),
            Reading("OEE", "%", r("cell_oee", 100.0), 0),
            *power,
            *_state_counts(k),
        )
        served = ", ".join(cell.served_by) or "no racks"
        where = f"{cell.kind} workcell · {robots} · AI on {served} · rated {rated_kw:.1f} kW"
    return ObjectView(
        sel, cell.name, where, readings=readings, actions=_cell_actions(k), alarm_lines=alarms
    )


def _robot_alarms(
    cause: Callable[[Snapshot], int], soc: Callable[[Snapshot], float], has_battery: bool
) -> Callable[[Snapshot], list[str]]:
    def alarms(snap: Snapshot) -> list[str]:
        found = []
        code = int(cause(snap))
        if code in STOP_TEXT:
            found.append(STOP_TEXT[code])
        if has_battery and code != StopCause.BATTERY_LOW and soc(snap) < LOW_BATTERY:
            found.append(f"battery at {100 * soc(snap):.0f} %")
        return found

    return alarms


def _joint_deg(arm: int, joint: int) -> Callable[[Snapshot], float]:
    return lambda snap: float(np.degrees(_robots(snap).arm_joints_rad[arm, joint]))


def _robot(sel: Selection, s: Scenario, topo: Topology) -> ObjectView:
    i = sel.index
    k, robot, unit = robot_units(s)[i]
    cell = s.workcells[k]
    chain = CHAINS[robot.model]
    task = DEFAULT_TASKS[robot.model]
    arms = "two arms, mirrored" if task.get("arms", 1) == 2 else "one arm"
    joints = tuple(
        Reading(
            f"Joint {j + 1}",
            "°",
            _joint_deg(i, j),
            0,
        )
        for j in range(chain.joint_count)
    )
    battery = (
        (Reading("Battery", "%", lambda snap: 100.0 * _robots(snap).arm_soc[i], 0),)
        if robot.battery_wh > 0
        else ()
    )
    return ObjectView(
        sel,
        f"{cell.name} {robot.name} {unit + 1}",
        f"{robot.model} ({chain.name}, {arms}) · task: pick and place, "
        f"{task['payload_kg']:g} kg parts · {cell.name}",
        readings=(
            Reading(
                "State", "", lambda snap: float(_robots(snap).arm_state[i]), 0, label_of=_state_name
            ),
            Reading(
                "Gripper",
                "",
                lambda snap: float(_robots(snap).arm_gripper_closed[i]),
                0,
                label_of=lambda value: "closed" if value else "open",
            ),
            Reading("Power", "W", lambda snap: float(_robots(snap).arm_power_w[i]), 0),
            *battery,
            Reading("Cycles done", "", lambda snap: float(_robots(snap).arm_cycles[i]), 0),
            *joints,
        ),
        actions=_cell_actions(k),
        alarm_lines=_robot_alarms(
            lambda snap: _robots(snap).arm_stop_cause[i],
            lambda snap: _robots(snap).arm_soc[i],
            robot.battery_wh > 0,
        ),
    )


def _service_robot(sel: Selection, s: Scenario, topo: Topology) -> ObjectView:
    i = sel.index
    k, robot, unit = robot_units(s, service=True)[i]
    cell = s.workcells[k]

    def rack_name(value: float) -> str:
        return "none" if value < 0 else topo.rack_name(int(value))

    battery = (
        (Reading("Battery", "%", lambda snap: 100.0 * _robots(snap).service_soc[i], 0),)
        if robot.battery_wh > 0
        else ()
    )

    return ObjectView(
        sel,
        f"{cell.name} {robot.name} {unit + 1}",
        f"service robot of {cell.hall} · {robot.battery_wh:g} Wh · "
        f"{cell.repair_time_s / 60:g} min a repair",
        readings=(
            Reading(
                "State",
                "",
                lambda snap: float(_robots(snap).service_state[i]),
                0,
                label_of=_state_name,
            ),
            Reading(
                "Target rack",
                "",
                lambda snap: float(_robots(snap).service_target_rack[i]),
                0,
                label_of=rack_name,
            ),
            *battery,
            Reading("Power", "W", lambda snap: float(_robots(snap).service_power_w[i]), 0),
            Reading("Position east", "m", lambda snap: float(_robots(snap).service_xy_m[i, 0])),
            Reading("Position north", "m", lambda snap: float(_robots(snap).service_xy_m[i, 1])),
            Reading(
                "Heading",
                "°",
                lambda snap: float(np.degrees(_robots(snap).service_heading_rad[i]) % 360.0),
                0,
            ),
            Reading(
                "Fleet mean time to repair",
                "min",
                lambda snap: float(_robots(snap).cell_mean_time_to_repair_s[k]) / 60.0,
                1,
                missing="no repair yet",
            ),
        ),
        actions=_cell_actions(k),
        alarm_lines=_robot_alarms(
            lambda snap: _robots(snap).service_stop_cause[i],
            lambda snap: _robots(snap).service_soc[i],
            robot.battery_wh > 0,
        ),
    )
