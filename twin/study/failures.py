"""Failures and repairs drawn per component, turned into the scenario's own fault events.

Each unit of a component class alternates between up and down (an alternating renewal
process): time to failure from the class's failure distribution with mean ``mtbf_h``,
repair time from its repair distribution with mean ``mttr_h``. Every unit starts up and
new (a simplification: a real fleet starts at mixed ages). A failure inside the run becomes
the class's fault event (``chiller-trip``...), its repair the matching restore event, so
the physics decides what the loss of that unit costs. Units fail independently except
through ``common_cause`` entries, Poisson processes whose occurrences apply several faults
at once (a heatwave with a chiller trip).

The long-run availability of one unit is MTBF / (MTBF + MTTR); a run much shorter than
a cycle sees less downtime than that on average, since every unit starts up.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any

import numpy as np

from twin.scenario import Scenario, cdu_unit_names
from twin.study.schema import ComponentClass, ComponentName, MonteCarlo

HOURS_PER_YEAR = 8760.0


@dataclass(frozen=True, slots=True)
class Reliability:
    mtbf_h: float
    mttr_h: float
    source: str


# Defaults for a class the study names without figures. IEEE 493 (Gold Book) tables give
# failure rates and repair times for the electrical classes; the figures below are taken as
# adjustable assumptions of that order, not quotations: set your own from your vendors'
# and your site's records. The README's reliability table repeats them with their status.
DEFAULT_RELIABILITY: dict[ComponentName, Reliability] = {
    # liquid-filled transformers: 0.005-0.015 failures per unit-year (IEEE 493 class data,
    # via a secondary summary); 0.01/yr taken; repair assumed a week (replace from a spare)
    "transformer": Reliability(
        HOURS_PER_YEAR / 0.01, 168.0, "IEEE 493 order (secondary); repair assumed"
    ),
    # UPS modules: no public figure collected; vendors quote module MTBF of several hundred
    # thousand hours; 250,000 h assumed, swap in 8 h assumed
    "ups_module": Reliability(250_000.0, 8.0, "assumed"),
    # standby diesel sets, failure while running or on demand lumped: assumed 50,000 h, 48 h
    "generator": Reliability(50_000.0, 48.0, "assumed"),
    # the utility feed: one interruption a year of an hour, assumed (set your utility's
    # SAIFI and CAIDI)
    "utility": Reliability(HOURS_PER_YEAR, 1.0, "assumed"),
    # cooling classes: no public failure data collected; assumed
    "cdu": Reliability(100_000.0, 8.0, "assumed"),
    "cdu_pump": Reliability(50_000.0, 24.0, "assumed"),
    "dry_cooler": Reliability(50_000.0, 24.0, "assumed"),
    "chiller": Reliability(20_000.0, 48.0, "assumed"),
}
COMPONENT_CLASSES = tuple(DEFAULT_RELIABILITY)


@dataclass(frozen=True, slots=True)
class Unit:
    """One failing unit: the events that take it out and bring it back."""

    fail: dict[str, Any]
    restore: dict[str, Any] | None  # None: the fail event carries its own duration


def units_of(scenario: Scenario, component: str) -> list[Unit]:
    """Every unit of a component class on this site, with its fault events."""
    hr, el = scenario.heat_rejection, scenario.power
    if component in ("cdu", "cdu_pump"):
        cdus = [
            (unit, scenario.cdu_types[group.type].pumps)
            for hall in scenario.halls
            for group in hall.cdus
            for unit in cdu_unit_names(group.name, group.count)
        ]
        if component == "cdu":
            return [
                Unit({"kind": "cdu-loss", "target": c}, {"kind": "cdu-restore", "target": c})
                for c, _ in cdus
            ]
        return [
            Unit(
                {"kind": "pump-trip", "target": c, "pumps": 1},
                {"kind": "pump-restore", "target": c, "pumps": 1},
            )
            for c, pumps in cdus
            for _ in range(pumps)
        ]
    if component == "dry_cooler":
        return [
            Unit(
                {"kind": "dry-cooler-fail", "units": 1}, {"kind": "dry-cooler-restore", "units": 1}
            )
        ] * hr.dry_coolers.count
    if component == "chiller":
        return [
            Unit({"kind": "chiller-trip", "units": 1}, {"kind": "chiller-restore", "units": 1})
        ] * hr.chillers.count
    if component in ("transformer", "ups_module"):
        word = "transformer" if component == "transformer" else "ups"
        return [
            Unit(
                {"kind": f"{word}-fail", "target": h.name, "units": 1},
                {"kind": f"{word}-restore", "target": h.name, "units": 1},
            )
            for h in scenario.halls
            for _ in range(
                h.electrical.transformers if word == "transformer" else h.electrical.ups_modules
            )
        ]
    if component == "generator":
        return [
            Unit({"kind": "generator-fail", "units": 1}, {"kind": "generator-restore", "units": 1})
        ] * el.generators.units
    if component == "utility":
        return [Unit({"kind": "utility-outage"}, None)]
    raise ValueError(f"unknown component class {component!r}")


def reliability(component: ComponentName, given: ComponentClass) -> Reliability:
    default = DEFAULT_RELIABILITY[component]
    return Reliability(
        given.mtbf_h or default.mtbf_h,
        given.mttr_h or default.mttr_h,
        "study" if given.mtbf_h and given.mttr_h else default.source,
    )


def _time_to_failure_h(
    rng: np.random.Generator, given: ComponentClass, mean_h: float, n: int
) -> np.ndarray:
    if given.failure_distribution == "weibull":
        shape = given.weibull_shape
        scale = mean_h / math.gamma(1.0 + 1.0 / shape)  # so that the mean is mean_h
        return scale * rng.weibull(shape, n)
    return rng.exponential(mean_h, n)


def _repair_h(rng: np.random.Generator, given: ComponentClass, mean_h: float, n: int) -> np.ndarray:
    if given.repair_distribution == "fixed":
        return np.full(n, mean_h)
    if given.repair_distribution == "lognormal":
        sigma = given.repair_sigma
        return rng.lognormal(math.log(mean_h) - sigma**2 / 2, sigma, n)  # mean is mean_h
    return rng.exponential(mean_h, n)


@dataclass(frozen=True, slots=True)
class Draw:
    """A replica's failures: the events to add and what they amount to per class."""

    events: list[dict[str, Any]]
    failures: dict[str, int]  # failures starting inside the run, per class
    downtime_h: dict[str, float]  # unit-hours down inside the run, per class
    unit_hours: dict[str, float]  # units x run hours, per class


def draw(
    scenario: Scenario, monte_carlo: MonteCarlo, duration_s: float, rng: np.random.Generator
) -> Draw:
    """One replica's failures over ``duration_s``, deterministic for ``rng``'s seed."""
    horizon_h = duration_s / 3600.0
    events: list[dict[str, Any]] = []
    failures: dict[str, int] = {}
    downtime: dict[str, float] = {}
    unit_hours: dict[str, float] = {}
    for component in COMPONENT_CLASSES:  # a fixed order keeps the draw deterministic
        given = monte_carlo.components.get(component)
        if given is None:
            continue
        figures = reliability(component, given)
        units = units_of(scenario, component)
        failures[component], downtime[component] = 0, 0.0
        unit_hours[component] = len(units) * horizon_h
        if not units:
            continue
        clock_h = np.zeros(len(units))
        alive = np.ones(len(units), dtype=bool)
        while alive.any():
            index = np.flatnonzero(alive)
            fail_h = clock_h[index] + _time_to_failure_h(rng, given, figures.mtbf_h, len(index))
            repair_h = _repair_h(rng, given, figures.mttr_h, len(index))
            for unit, start_h, length_h in zip(index, fail_h, repair_h, strict=True):
                if start_h >= horizon_h:
                    alive[unit] = False
                    continue
                end_h = start_h + length_h
                failures[component] += 1
                downtime[component] += min(end_h, horizon_h) - start_h
                events.extend(_unit_events(units[unit], start_h, length_h, horizon_h))
                clock_h[unit] = end_h
                alive[unit] = end_h < horizon_h
    for cause in monte_carlo.common_cause:
        events.extend(_common_cause_events(scenario, cause, horizon_h, rng))
    return Draw(events, failures, downtime, unit_hours)


def _unit_events(
    unit: Unit, start_h: float, length_h: float, horizon_h: float
) -> list[dict[str, Any]]:
    if unit.restore is None:  # an outage with its own duration
        return [{**unit.fail, "at_s": start_h * 3600.0, "duration_s": length_h * 3600.0}]
    out = [{**unit.fail, "at_s": start_h * 3600.0}]
    if start_h + length_h < horizon_h:
        out.append({**unit.restore, "at_s": (start_h + length_h) * 3600.0})
    return out


def _common_cause_events(
    scenario: Scenario, cause: Any, horizon_h: float, rng: np.random.Generator
) -> list[dict[str, Any]]:
    hr = scenario.heat_rejection
    chillers = min(cause.chiller_units, hr.chillers.count)
    coolers = min(cause.dry_cooler_units, hr.dry_coolers.count)
    out: list[dict[str, Any]] = []
    t_h = rng.exponential(HOURS_PER_YEAR / cause.rate_per_year)
    while t_h < horizon_h:
        at_s, end_s = t_h * 3600.0, t_h * 3600.0 + cause.duration_s
        inside = end_s < horizon_h * 3600.0
        if cause.heatwave_offset_k:
            out.append(
                {
                    "kind": "heatwave",
                    "at_s": at_s,
                    "offset_k": cause.heatwave_offset_k,
                    "duration_s": cause.duration_s,
                }
            )
        for fail, restore, units in (
            ("chiller-trip", "chiller-restore", chillers),
            ("dry-cooler-fail", "dry-cooler-restore", coolers),
        ):
            if units:
                out.append({"kind": fail, "at_s": at_s, "units": units})
                if inside:
                    out.append({"kind": restore, "at_s": end_s, "units": units})
        if cause.utility_outage:
            out.append({"kind": "utility-outage", "at_s": at_s, "duration_s": cause.duration_s})
        t_h += rng.exponential(HOURS_PER_YEAR / cause.rate_per_year)
    return out
