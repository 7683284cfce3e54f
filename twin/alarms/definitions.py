"""Alarm definitions: which simulated values are alarmed, at what limits, how urgently.

An ``AlarmPoint`` reads one quantity from a ``Snapshot`` for every component of a kind
(all racks, all CDUs, the halls, the site) as one array, so the engine compares a whole
family of alarms with one numpy operation. Each of its ``Limit``s (HH, H, L, LL, or ON
for a discrete state) is a separate alarm per component with its own priority, as
ISA-18.2 treats a high and a high-high alarm on one transmitter.

``default_points`` derives the limits from the scenario (the rack types' throttle and
critical temperatures, design flows, CDU setpoints, the BESS limits); where a limit is an
engineering choice it says so, and every point stays replaceable
(``dataclasses.replace``). ``default_suppression`` lists the consequential alarms hidden
by design while their cause stands.

Deadbands and delays start from the starting values commonly quoted from ISA-TR18.2.3
for basic alarm design (deadband: flow 5 %, pressure 2 %, temperature 1 % of range;
on/off delays: flow and pressure 15 s, temperature 60 s; a secondary summary, not
checked here against the report's text). Where the twin's dynamics are faster (a GPU's
15 s thermal time constant) the delay is shorter and says why.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from enum import IntEnum, StrEnum

import numpy as np

from twin.scenario import Scenario
from twin.sim.power import GENERATOR_FAILED
from twin.sim.snapshot import Snapshot
from twin.sim.topology import Topology


class Priority(IntEnum):
    """ISA-18.2 priorities; a smaller number is more urgent (sorts first)."""

    CRITICAL = 1
    HIGH = 2
    MEDIUM = 3
    LOW = 4

    @property
    def label(self) -> str:
        return self.name.lower()

    @property
    def color_hex(self) -> str:
        """The priority's one colour wherever alarms are shown (ISA-101 style: used for
        nothing else)."""
        return PRIORITY_HEX[self]


PRIORITY_HEX = {
    Priority.CRITICAL: "#c62828",
    Priority.HIGH: "#ef6c00",
    Priority.MEDIUM: "#f9a825",
    Priority.LOW: "#1e88e5",
}


class Condition(StrEnum):
    HIGH_HIGH = "HH"
    HIGH = "H"
    LOW = "L"
    LOW_LOW = "LL"
    ON = "ON"  # a discrete state (tripped, no pump running, outage): value 1 when present

    @property
    def is_high(self) -> bool:
        return self in (Condition.HIGH_HIGH, Condition.HIGH, Condition.ON)


@dataclass(frozen=True, slots=True)
class Limit:
    condition: Condition
    value: float | np.ndarray  # one for all components, or one per component
    priority: Priority


@dataclass(frozen=True, slots=True)
class AlarmPoint:
    """One quantity alarmed on every component of a kind.

    A high alarm comes in when the value reaches its limit (``>=``) and goes out when it
    falls below limit - deadband; a low alarm mirrors that. ``on_delay_s`` and
    ``off_delay_s`` (simulated time) hold the change back until the condition has stood
    that long. ``source_kind`` / ``source_index`` name the object the window selects for
    each component (see ``twin.gui.objects.KINDS``); None where none is drawn.
    """

    tag: str
    description: str
    unit: str
    components: tuple[str, ...]
    read: Callable[[Snapshot], np.ndarray]
    limits: tuple[Limit, ...]
    deadband: float | np.ndarray = 0.0  # in the point's unit; one, or one per component
    on_delay_s: float = 0.0
    off_delay_s: float = 0.0
    source_kind: str | None = None
    source_index: np.ndarray | None = None  # per component, within source_kind


@dataclass(frozen=True, slots=True)
class SuppressedTarget:
    """Alarms of ``tag`` hidden while the cause holds: ``cause_index`` maps each of the
    point's components to the cause component it depends on; None for a site-wide
    cause that covers every component."""

    tag: str
    cause_index: np.ndarray | None = None


@dataclass(frozen=True, slots=True)
class SuppressionRule:
    """Suppression by design: consequential alarms that tell the operator nothing the
    cause's own alarm does not. The suppression holds ``hold_s`` after the cause is gone,
    so that the consequences settle and clear (their off-delays run) unseen."""

    reason: str
    cause: Callable[[Snapshot], np.ndarray]  # bool per cause component
    targets: tuple[SuppressedTarget, ...]
    hold_s: float = 0.0


# --------------------------------------------------------------------------- defaults

GPU_ON_DELAY_S = 5.0  # a third of the GPU's thermal time constant (15 s in the scenarios)
GPU_OFF_DELAY_S = 10.0
FLOW_DELAY_S = 15.0  # ISA-TR18.2.3 starting values (see the module docstring)
PRESSURE_DELAY_S = 15.0
TEMPERATURE_DELAY_S = 60.0
FLOW_DEADBAND = 0.05  # of the design flow
PRESSURE_DEADBAND = 0.02  # of the setpoint
TEMPERATURE_DEADBAND_K = 0.5  # 1 % of a 0-50 °C range
# Loadings: longer than the training swings (0.2-3 Hz) and the BESS smoothing (30 s), so
# a swing does not alarm but a sustained overload does. Engineering choice.
LOADING_DELAY_S = 30.0
LOADING_DEADBAND_PCT = 2.0
LOADING_HIGH_PCT = 90.0  # engineering choice: room for one more step of load
LOADING_OVERLOAD_PCT = 100.0  # rated current of the units in service

RACK_FLOW_LOW = 0.8  # of design flow; engineering choice
RACK_FLOW_LOW_LOW = 0.5  # the inspector's "below half of design" condition
CDU_SUPPLY_DEVIATION_HIGH_K = 2.0  # the inspector's "more than 2 K above its setpoint"
CDU_SUPPLY_DEVIATION_HIGH_HIGH_K = 5.0
# Return: supply setpoint + design rise (10 K: OCP guideline, 1.5 L/min per kW at
# dT <= 10 K) + 5 K (H) or + 10 K (HH); engineering choice.
DESIGN_RISE_K = 10.0
RETURN_MARGIN_HIGH_K = 5.0
RETURN_MARGIN_HIGH_HIGH_K = 10.0
CDU_DP_LOW = 0.7  # of the branch dp setpoint; engineering choice
CDU_DP_LOW_LOW = 0.4
HALL_AIR_HIGH_C = 32.0  # ASHRAE TC9.9 class A1 allowable upper inlet
HALL_AIR_HIGH_HIGH_C = 35.0  # class A2 allowable upper inlet
FACILITY_WATER_HIGH_K = 3.0  # above its supply setpoint; engineering choice
FACILITY_WATER_HIGH_HIGH_K = 6.0
GRID_IMPORT_DELAY_S = 60.0  # peak shaving answers within a minute; engineering choice
BESS_SOC_LOW_MARGIN = 0.10  # above soc_min; engineering choice
BESS_SOC_LOW_LOW_MARGIN = 0.05  # the inspector's "near its floor" condition
BESS_DEADBAND_PCT = 1.0
# The longest off-delay of a suppressed alarm (TEMPERATURE_DELAY_S) plus the time a
# restored CDU loop takes to bring its supply back within the deviation limit (about a
# minute on the Seoul site), with margin: a restored CDU and its racks do not alarm on the
# way back. Engineering choice.
SUPPRESSION_HOLD_S = 180.0


def _one(value: float | bool) -> np.ndarray:
    """A site-level value as the reading of a point with one component."""
    return np.array([float(value)])


# Readings that are also suppression causes: one function for both, so that a scan reads
# them once (the alarm engine gives a rule the reading of a point with its cause's function)
def _cdu_no_pump(s: Snapshot) -> np.ndarray:
    return s.cdus.pumps_running == 0


def _rack_tripped(s: Snapshot) -> np.ndarray:
    return s.racks.tripped


def _utility_outage(s: Snapshot) -> np.ndarray:
    return _one(not s.power.utility_available)


def default_points(scenario: Scenario, topology: Topology) -> tuple[AlarmPoint, ...]:
    """The alarm points of a site, limits taken from its scenario (see the constants)."""
    topo = topology
    rack_types = [scenario.rack_types[name] for name in topo.rack_type_names]
    cdu_types = [scenario.cdu_types[name] for name in topo.cdu_type_names]

    def per_rack(values: list[float]) -> np.ndarray:
        return np.asarray(values, dtype=float)[topo.rack_type]

    def per_cdu(values: list[float]) -> np.ndarray:
        return np.asarray(values, dtype=float)[topo.cdu_type]

    racks = tuple(topo.rack_name(i) for i in range(topo.rack_count))
    installed_transformers = np.array([h.electrical.transformers for h in scenario.halls])
    installed_ups = np.array([h.electrical.ups_modules for h in scenario.halls])
    rack_ids = np.arange(topo.rack_count)
    cdu_ids = np.arange(topo.cdu_count)
    hall_ids = np.arange(len(topo.hall_names))
    sole = np.zeros(1, dtype=np.int64)  # the one object of its kind (main transformers)
    throttle_c = per_rack([t.gpu_throttle_c for t in rack_types])
    critical_c = per_rack([t.gpu_critical_c for t in rack_types])
    # the rack type's own throttle hysteresis is the deadband
    hysteresis_k = throttle_c - per_rack([t.gpu_throttle_release_c for t in rack_types])
    design_flow = per_rack([t.design_flow_lpm for t in rack_types])
    dp_setpoint = per_cdu([c.dp_setpoint_kpa for c in cdu_types])
    design_supply_c = per_cdu([c.supply_setpoint_c for c in cdu_types])
    fws_setpoint_c = scenario.facility_water.supply_setpoint_c

    def loading(
        tag: str,
        description: str,
        components: tuple[str, ...],
        read: Callable[[Snapshot], np.ndarray],
        source_kind: str | None,
        source_index: np.ndarray | None,
    ) -> AlarmPoint:
        return AlarmPoint(
            tag,
            description,
            "%",
            components,
            read,
            (
                Limit(Condition.HIGH, LOADING_HIGH_PCT, Priority.LOW),
                Limit(Condition.HIGH_HIGH, LOADING_OVERLOAD_PCT, Priority.HIGH),
            ),
            deadband=LOADING_DEADBAND_PCT,
            on_delay_s=LOADING_DELAY_S,
            off_delay_s=LOADING_DELAY_S,
            source_kind=source_kind,
            source_index=source_index,
        )

    points = [
        AlarmPoint(
            "rack.gpu_temp",
            "GPU temperature",
            "°C",
            racks,
            lambda s: s.racks.gpu_temp_c,
            # H: the GPUs throttle (work is lost now); HH: halfway to the trip
            (
                Limit(Condition.HIGH, throttle_c, Priority.MEDIUM),
                Limit(Condition.HIGH_HIGH, (throttle_c + critical_c) / 2, Priority.HIGH),
            ),
            deadband=hysteresis_k,
            on_delay_s=GPU_ON_DELAY_S,
            off_delay_s=GPU_OFF_DELAY_S,
            source_kind="rack",
            source_index=rack_ids,
        ),
        AlarmPoint(
            # the GPUs reached their critical temperature
            "rack.tripped",
            "rack tripped",
            "",
            racks,
            _rack_tripped,
            (Limit(Condition.ON, 1.0, Priority.CRITICAL),),
            source_kind="rack",
            source_index=rack_ids,
        ),
        AlarmPoint(
            "rack.flow",
            "rack coolant flow",
            "L/min",
            racks,
            lambda s: s.racks.flow_lpm,
            (
                Limit(Condition.LOW, RACK_FLOW_LOW * design_flow, Priority.LOW),
                Limit(Condition.LOW_LOW, RACK_FLOW_LOW_LOW * design_flow, Priority.HIGH),
            ),
            deadband=FLOW_DEADBAND * design_flow,
            on_delay_s=FLOW_DELAY_S,
            off_delay_s=FLOW_DELAY_S,
            source_kind="rack",
            source_index=rack_ids,
        ),
        AlarmPoint(
            "cdu.supply_deviation",
            "TCS supply above its setpoint",
            "K",
            topo.cdu_names,
            # a deviation alarm: the operator may move the setpoint
            lambda s: s.cdus.supply_c - s.cdus.supply_setpoint_c,
            (
                Limit(Condition.HIGH, CDU_SUPPLY_DEVIATION_HIGH_K, Priority.LOW),
                Limit(Condition.HIGH_HIGH, CDU_SUPPLY_DEVIATION_HIGH_HIGH_K, Priority.MEDIUM),
            ),
            deadband=TEMPERATURE_DEADBAND_K,
            on_delay_s=TEMPERATURE_DELAY_S,
            off_delay_s=TEMPERATURE_DELAY_S,
            source_kind="cdu",
            source_index=cdu_ids,
        ),
        AlarmPoint(
            "cdu.return_temp",
            "TCS return temperature",
            "°C",
            topo.cdu_names,
            lambda s: s.cdus.return_c,
            (
                Limit(
                    Condition.HIGH,
                    design_supply_c + DESIGN_RISE_K + RETURN_MARGIN_HIGH_K,
                    Priority.LOW,
                ),
                Limit(
                    Condition.HIGH_HIGH,
                    design_supply_c + DESIGN_RISE_K + RETURN_MARGIN_HIGH_HIGH_K,
                    Priority.MEDIUM,
                ),
            ),
            deadband=TEMPERATURE_DEADBAND_K,
            on_delay_s=TEMPERATURE_DELAY_S,
            off_delay_s=TEMPERATURE_DELAY_S,
            source_kind="cdu",
            source_index=cdu_ids,
        ),
        AlarmPoint(
            "cdu.dp",
            "branch differential pressure",
            "kPa",
            topo.cdu_names,
            lambda s: s.cdus.dp_kpa,
            (
                Limit(Condition.LOW, CDU_DP_LOW * dp_setpoint, Priority.LOW),
                Limit(Condition.LOW_LOW, CDU_DP_LOW_LOW * dp_setpoint, Priority.HIGH),
            ),
            deadband=PRESSURE_DEADBAND * dp_setpoint,
            on_delay_s=PRESSURE_DELAY_S,
            off_delay_s=PRESSURE_DELAY_S,
            source_kind="cdu",
            source_index=cdu_ids,
        ),
        AlarmPoint(
            "cdu.no_pump",
            "no pump running",
            "",
            topo.cdu_names,
            _cdu_no_pump,
            (Limit(Condition.ON, 1.0, Priority.CRITICAL),),
            source_kind="cdu",
            source_index=cdu_ids,
        ),
        AlarmPoint(
            "cdu.leak",
            "coolant leak detected",
            "",
            topo.cdu_names,
            lambda s: s.cdus.leak_detected,
            (Limit(Condition.ON, 1.0, Priority.CRITICAL),),
            source_kind="cdu",
            source_index=cdu_ids,
        ),
        AlarmPoint(
            "cdu.valve_stuck",
            "facility valve not following its controller",
            "",
            topo.cdu_names,
            lambda s: s.cdus.valve_stuck,
            (Limit(Condition.ON, 1.0, Priority.MEDIUM),),
            source_kind="cdu",
            source_index=cdu_ids,
        ),
        AlarmPoint(
            "hall.redundancy_lost",
            "a failed transformer or UPS module took the last spare",
            "",
            topo.hall_names,
            # a hall built without spares is not in alarm; one that lost them is
            lambda s: (
                ~s.power.hall_redundant
                & (
                    (s.power.hall_transformers_in_service < installed_transformers)
                    | (s.power.hall_ups_modules_in_service < installed_ups)
                )
            ),
            (Limit(Condition.ON, 1.0, Priority.HIGH),),
            source_kind="hall",
            source_index=hall_ids,
        ),
        AlarmPoint(
            # load management took the hall's UPS inputs off the backup bus: its racks
            # run on the UPS batteries, minutes from going dark
            "hall.load_shed",
            "UPS on battery, load shed from the generators",
            "",
            topo.hall_names,
            lambda s: s.power.hall_load_shed,
            (Limit(Condition.ON, 1.0, Priority.HIGH),),
            source_kind="hall",
            source_index=hall_ids,
        ),
        AlarmPoint(
            "hall.power_lost",
            "UPS dropped the racks: batteries discharged",
            "",
            topo.hall_names,
            lambda s: ~s.power.hall_powered,
            (Limit(Condition.ON, 1.0, Priority.CRITICAL),),
            source_kind="hall",
            source_index=hall_ids,
        ),
        AlarmPoint(
            "hall.air_temp",
            "hall air temperature",
            "°C",
            topo.hall_names,
            lambda s: s.plant.hall_air_c,
            (
                Limit(Condition.HIGH, HALL_AIR_HIGH_C, Priority.LOW),
                Limit(Condition.HIGH_HIGH, HALL_AIR_HIGH_HIGH_C, Priority.MEDIUM),
            ),
            deadband=TEMPERATURE_DEADBAND_K,
            on_delay_s=TEMPERATURE_DELAY_S,
            off_delay_s=TEMPERATURE_DELAY_S,
            source_kind="hall",
            source_index=hall_ids,
        ),
        loading(
            "hall.transformer_loading",
            "unit-substation transformer loading",
            topo.hall_names,
            lambda s: 100.0 * s.power.hall_transformer_loading,
            "hall",
            hall_ids,
        ),
        loading(
            "hall.ups_loading",
            "UPS loading",
            topo.hall_names,
            lambda s: 100.0 * s.power.hall_ups_loading,
            "hall",
            hall_ids,
        ),
        loading(
            "row.busway_loading",
            "busway loading",
            tuple(f"{row} busway" for row in topo.row_names),
            lambda s: 100.0 * s.power.row_busway_loading,
            "hall",
            topo.row_hall,
        ),
        loading(
            "site.main_transformer_loading",
            "main transformer loading",
            ("main transformers",),
            lambda s: _one(100.0 * s.power.main_transformer_loading),
            "transformer",
            sole,
        ),
        # the plant transformers are not drawn: no object to fly to
        loading(
            "site.plant_transformer_loading",
            "plant transformer loading",
            ("plant transformers",),
            lambda s: _one(100.0 * s.power.plant_transformer_loading),
            None,
            None,
        ),
        AlarmPoint(
            "site.grid_import",
            "grid import against the import cap",
            "% of cap",
            ("utility feed",),
            lambda s: _one(
                100.0 * s.site["grid_import_kw"] / max(s.power.grid_import_cap_kw, 1e-9)
            ),
            (Limit(Condition.HIGH, 100.0, Priority.MEDIUM),),
            deadband=1.0,
            on_delay_s=GRID_IMPORT_DELAY_S,
            off_delay_s=GRID_IMPORT_DELAY_S,
            source_kind="transformer",
            source_index=sole,
        ),
        AlarmPoint(
            "site.utility_outage",
            "utility outage",
            "",
            ("utility feed",),
            _utility_outage,
            (Limit(Condition.ON, 1.0, Priority.HIGH),),
            source_kind="transformer",
            source_index=sole,
        ),
        AlarmPoint(
            "plant.fws_supply",
            "facility water supply temperature",
            "°C",
            ("facility water",),
            lambda s: _one(s.plant.fws_supply_c),
            (
                Limit(Condition.HIGH, fws_setpoint_c + FACILITY_WATER_HIGH_K, Priority.LOW),
                Limit(
                    Condition.HIGH_HIGH,
                    fws_setpoint_c + FACILITY_WATER_HIGH_HIGH_K,
                    Priority.MEDIUM,
                ),
            ),
            deadband=TEMPERATURE_DEADBAND_K,
            on_delay_s=TEMPERATURE_DELAY_S,
            off_delay_s=TEMPERATURE_DELAY_S,
            source_kind="dry-coolers",
            source_index=sole,
        ),
    ]
    bess = scenario.power.bess
    if bess.energy_mwh > 0:
        points.append(
            AlarmPoint(
                "site.bess_soc",
                "BESS state of charge",
                "%",
                ("BESS",),
                lambda s: _one(100.0 * s.site["bess_soc"]),
                (
                    Limit(
                        Condition.LOW, 100.0 * (bess.soc_min + BESS_SOC_LOW_MARGIN), Priority.LOW
                    ),
                    Limit(
                        Condition.LOW_LOW,
                        100.0 * (bess.soc_min + BESS_SOC_LOW_LOW_MARGIN),
                        Priority.HIGH,
                    ),
                ),
                deadband=BESS_DEADBAND_PCT,
                on_delay_s=FLOW_DELAY_S,
                off_delay_s=FLOW_DELAY_S,
                source_kind="bess",
                source_index=sole,
            )
        )
    sets = scenario.power.generators.units
    if sets > 0:
        points.append(
            AlarmPoint(
                # did not start on demand (locked out after cranking) or tripped
                "generator.failed",
                "generator set failed",
                "",
                tuple(f"generator set {k + 1}" for k in range(sets)),
                lambda s: s.power.generator_state == GENERATOR_FAILED,
                (Limit(Condition.ON, 1.0, Priority.CRITICAL),),
                # the sets are one object to fly to, as the window picks them
                source_kind="generator",
                source_index=np.zeros(sets, dtype=np.int64),
            )
        )
    return tuple(points)


def default_suppression(topology: Topology) -> tuple[SuppressionRule, ...]:
    """Consequential alarms hidden by design while their cause stands (and
    ``SUPPRESSION_HOLD_S`` after it is gone).

    - A CDU with no pump running: its racks' flow and GPU temperature alarms and its own
      dp, supply and return alarms all follow from the lost flow. Its racks' trip alarms
      stay: each tripped rack needs an operator's reset.
    - A tripped rack: its GPU temperature alarms (the trip alarm says more; the GPUs are
      off and cooling).
    - A utility outage: grid import against the cap (nothing is imported) and the main
      transformers' loading (de-energized; the load flow still reports the load as if fed
      from the utility bus). BESS state of charge and the halls' loadings stay: they
      matter most while the site runs on backup.
    """
    topo = topology
    cdu_ids = np.arange(topo.cdu_count)
    return (
        SuppressionRule(
            "its CDU has no pump running",
            _cdu_no_pump,
            (
                SuppressedTarget("rack.flow", topo.rack_cdu),
                SuppressedTarget("rack.gpu_temp", topo.rack_cdu),
                SuppressedTarget("cdu.dp", cdu_ids),
                SuppressedTarget("cdu.supply_deviation", cdu_ids),
                SuppressedTarget("cdu.return_temp", cdu_ids),
            ),
            SUPPRESSION_HOLD_S,
        ),
        SuppressionRule(
            "the rack is tripped",
            _rack_tripped,
            (SuppressedTarget("rack.gpu_temp", np.arange(topo.rack_count)),),
            SUPPRESSION_HOLD_S,
        ),
        SuppressionRule(
            "utility outage",
            _utility_outage,
            (
                SuppressedTarget("site.grid_import"),
                SuppressedTarget("site.main_transformer_loading"),
            ),
            SUPPRESSION_HOLD_S,
        ),
    )
