"""The faults an engineer may inject on a selected object: the right-click menu's model.

``faults_for`` lists, for one ``Selection``, labelled factories of schema events: called
with the simulation's current time they return the ``Event`` to apply, the same event a
scenario's timeline or ``twin run`` would carry (``runner.call(lambda sim:
sim.apply(event))``). No Qt here, so the list is tested without a window. Sizes of the
offered faults (a 10 L/min leak, a 30 % surge for an hour...) are engineering choices for
a quick what-if; a timeline states its own. Labels name sizes in the display units; the
events carry them in SI, as the schema has them.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from typing import Literal, NamedTuple

from twin.gui.objects import KINDS, Selection
from twin.gui.units import Quantity, UnitSystem
from twin.scenario import Scenario
from twin.scenario.schema import (
    CduLoss,
    ChillerTrip,
    CoolantLeak,
    DemandResponse,
    DryCoolerFailure,
    Event,
    FilterClog,
    GeneratorFailure,
    HallElectricalFailure,
    PumpTrip,
    ServiceDispatch,
    UtilityOutage,
    ValveStuck,
    WorkcellStop,
    WorkloadSurge,
)
from twin.sim.robotics.workcells import robot_units
from twin.sim.topology import Topology

LEAK_RATE_LPM = 10.0  # a failed quick-disconnect rather than a drip or a burst hose
CLOG_FACTOR = 4.0  # resistance over design: a strainer well past its 0.6 bar alarm
CLOG_RAMP_S = 3600.0
SURGE_STEP = 0.3  # utilization added by a new job or a traffic spike
SURGE_S = 3600.0
OUTAGE_S = 600.0  # long enough for the generators to start and take the load
CURTAIL_MW = 10.0
CURTAIL_S = 3600.0


class Fault(NamedTuple):
    label: str
    make: Callable[[float], Event]  # simulated time now (s) -> the event to apply


def faults_for(
    selection: Selection,
    scenario: Scenario,
    topology: Topology,
    units: UnitSystem | str = UnitSystem.SI,
) -> list[Fault]:
    """The faults and restores that apply to the selected object, in menu order, labelled
    in ``units``; raises ValueError for an unknown kind or index."""
    kind, i = selection.kind, selection.index
    if kind not in KINDS:
        raise ValueError(f"no kind of object {kind!r}; known: {', '.join(KINDS)}")
    counts = {
        "rack": topology.rack_count,
        "cdu": topology.cdu_count,
        "hall": len(topology.hall_names),
        "workcell": len(scenario.workcells),
        "robot": len(robot_units(scenario)),
        "service-robot": len(robot_units(scenario, service=True)),
    }
    if not 0 <= i < counts.get(kind, 1):
        raise ValueError(f"no {kind} number {i}")
    if kind == "rack":
        return _rack(i, scenario, topology)
    if kind == "cdu":
        return _cdu(topology.cdu_names[i], units)
    if kind == "hall":
        return _hall(i, scenario, topology)
    if kind in ("workcell", "robot", "service-robot"):
        cell = (
            i
            if kind == "workcell"
            else robot_units(scenario, service=kind == "service-robot")[i][0]
        )
        return _workcell(scenario.workcells[cell].name)
    return _plant(kind, scenario)


def _rack(i: int, scenario: Scenario, topology: Topology) -> list[Fault]:
    hall = topology.hall_names[topology.rack_hall[i]]
    group = topology.row_group_names[topology.row_group[topology.rack_row[i]]]
    name = topology.rack_name(i)
    faults = [
        Fault(
            f"Workload surge on rows {group} (+{SURGE_STEP:.0%}, 1 h)",
            lambda t: WorkloadSurge(
                kind="workload-surge",
                at_s=t,
                halls=[hall],
                row_groups=[group],
                utilization_step=SURGE_STEP,
                duration_s=SURGE_S,
            ),
        )
    ]
    if any(c.kind == "service" and c.hall == hall for c in scenario.workcells):
        faults.append(
            Fault(
                "Send a service robot",
                lambda t: ServiceDispatch(kind="service-dispatch", at_s=t, target=name),
            )
        )
    return faults


def _cdu(name: str, units: UnitSystem | str) -> list[Fault]:
    leak = Quantity(LEAK_RATE_LPM, "L/min").text(units)
    return [
        Fault("Trip a pump", lambda t: PumpTrip(kind="pump-trip", at_s=t, target=name)),
        Fault("Restore a pump", lambda t: PumpTrip(kind="pump-restore", at_s=t, target=name)),
        Fault("Lose the CDU", lambda t: CduLoss(kind="cdu-loss", at_s=t, target=name)),
        Fault("Restore the CDU", lambda t: CduLoss(kind="cdu-restore", at_s=t, target=name)),
        Fault(
            "Facility valve stuck", lambda t: ValveStuck(kind="valve-stuck", at_s=t, target=name)
        ),
        Fault(
            "Release the facility valve",
            lambda t: ValveStuck(kind="valve-release", at_s=t, target=name),
        ),
        Fault(
            f"Coolant leak ({leak})",
            lambda t: CoolantLeak(kind="coolant-leak", at_s=t, target=name, rate_lpm=LEAK_RATE_LPM),
        ),
        Fault(
            "Repair the leak and refill",
            lambda t: CoolantLeak(kind="leak-repair", at_s=t, target=name),
        ),
        Fault(
            f"Filter clogging (x{CLOG_FACTOR:g} resistance over 1 h)",
            lambda t: FilterClog(
                kind="filter-clog", at_s=t, target=name, factor=CLOG_FACTOR, ramp_s=CLOG_RAMP_S
            ),
        ),
        Fault("Clean the filter", lambda t: FilterClog(kind="filter-clean", at_s=t, target=name)),
    ]


HallElectricalKind = Literal["transformer-fail", "transformer-restore", "ups-fail", "ups-restore"]


def _hall_electrical(kind: HallElectricalKind, hall: str) -> Callable[[float], Event]:
    return lambda t: HallElectricalFailure(kind=kind, at_s=t, target=hall)


def _hall(i: int, scenario: Scenario, topology: Topology) -> list[Fault]:
    name = topology.hall_names[i]
    el = scenario.halls[i].electrical
    faults = []
    units: tuple[tuple[str, int, HallElectricalKind, HallElectricalKind], ...] = (
        ("transformer", el.transformers, "transformer-fail", "transformer-restore"),
        ("UPS module", el.ups_modules, "ups-fail", "ups-restore"),
    )
    for what, installed, fail, restore in units:
        if installed > 1:  # the last unit cannot fail (a hall blackout is not modelled)
            faults += [
                Fault(f"Fail a {what}", _hall_electrical(fail, name)),
                Fault(f"Restore a {what}", _hall_electrical(restore, name)),
            ]
    faults.append(
        Fault(
            f"Workload surge on the hall (+{SURGE_STEP:.0%}, 1 h)",
            lambda t: WorkloadSurge(
                kind="workload-surge",
                at_s=t,
                halls=[name],
                utilization_step=SURGE_STEP,
                duration_s=SURGE_S,
            ),
        )
    )
    return faults


def _workcell(name: str) -> list[Fault]:
    return [
        Fault(
            "Emergency stop", lambda t: WorkcellStop(kind="workcell-e-stop", at_s=t, target=name)
        ),
        Fault(
            "Reset and start", lambda t: WorkcellStop(kind="workcell-reset", at_s=t, target=name)
        ),
    ]


def _plant(kind: str, scenario: Scenario) -> list[Fault]:
    hr = scenario.heat_rejection
    if kind == "dry-coolers":
        count = hr.dry_coolers.count
        if count == 0:
            return []
        quarter = max(math.ceil(count / 4), 1)
        return [
            Fault(
                "Fail one dry cooler's fans",
                lambda t: DryCoolerFailure(kind="dry-cooler-fail", at_s=t, units=1),
            ),
            Fault(
                f"Fail a quarter of the dry coolers ({quarter})",
                lambda t: DryCoolerFailure(kind="dry-cooler-fail", at_s=t, units=quarter),
            ),
            Fault(
                "Restore every dry cooler",
                lambda t: DryCoolerFailure(kind="dry-cooler-restore", at_s=t, units=count),
            ),
        ]
    if kind == "chillers":
        count = hr.chillers.count
        if count == 0:
            return []
        return [
            Fault("Trip a chiller", lambda t: ChillerTrip(kind="chiller-trip", at_s=t)),
            Fault("Restore a chiller", lambda t: ChillerTrip(kind="chiller-restore", at_s=t)),
            Fault(
                "Trip every chiller",
                lambda t: ChillerTrip(kind="chiller-trip", at_s=t, units=count),
            ),
        ]
    if kind == "bess":
        return [
            Fault(
                f"Demand-response request ({CURTAIL_MW:g} MW, 1 h)",
                lambda t: DemandResponse(
                    kind="demand-response", at_s=t, curtail_mw=CURTAIL_MW, duration_s=CURTAIL_S
                ),
            )
        ]
    outage = Fault(
        f"Utility outage ({OUTAGE_S / 60:g} min)",
        lambda t: UtilityOutage(kind="utility-outage", at_s=t, duration_s=OUTAGE_S),
    )
    if kind == "transformer":  # what befalls the utility feed
        return [outage]
    sets = scenario.power.generators.units
    if sets == 0:
        return [outage]
    # half the sets: a common-cause failure (bad fuel, a starting-air fault) beyond N+R
    failing = max(sets // 2, 1)
    return [
        outage,
        Fault(
            f"Utility outage, {failing} of {sets} generator sets fail to start",
            lambda t: UtilityOutage(
                kind="utility-outage",
                at_s=t,
                duration_s=OUTAGE_S,
                generators_failing_to_start=failing,
            ),
        ),
        Fault("Trip a generator set", lambda t: GeneratorFailure(kind="generator-fail", at_s=t)),
        Fault(
            "Restore a generator set", lambda t: GeneratorFailure(kind="generator-restore", at_s=t)
        ),
    ]
