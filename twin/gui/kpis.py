"""The site figures of the KPI strip and the kiosk's overlay: what each shows of a snapshot,
in the display units, and how urgent it reads (normal, warning, alarm). Qt-free.

Where a figure is an alarmed quantity, its levels come from the alarm point's limits
(``twin.alarms.definitions``), so that the strip and the alarm list never disagree: a
figure reads "warning" once it reaches the point's first limit and "alarm" once it reaches
its most severe one; a point with a single limit warns within its deadband of it. The site
figure is the most extreme of the point's components (the hottest GPU), so it is held
against the lowest high limit (or the highest low limit) of any component.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from dataclasses import dataclass

import numpy as np

from twin.alarms.definitions import AlarmPoint
from twin.gui.units import UnitSystem, conversion
from twin.scenario import Scenario
from twin.scenario.names import rack_names
from twin.sim.snapshot import Snapshot

NORMAL, WARNING, ALARM = "normal", "warning", "alarm"
BESS_IDLE_KW = 50.0  # a battery moving less than this reads idle (the PCS's standby draw)


def bess_state(power_kw: float) -> str:
    """What the battery does at ``power_kw`` (positive: discharging into the site)."""
    if power_kw > BESS_IDLE_KW:
        return "discharging"
    if power_kw < -BESS_IDLE_KW:
        return "charging"
    return "idle"


def bess_text(soc: float, power_kw: float) -> str:
    """The battery's charge and what it does, with its power unsigned: "62 % · charging
    12.3 MW"."""
    state = bess_state(power_kw)
    text = f"{100 * soc:.0f} % · {state}"
    return text if state == "idle" else f"{text} {abs(power_kw) / 1000:.1f} MW"


def _si(value: float, unit: str) -> str:
    for factor, prefix in ((1e9, "G"), (1e6, "M"), (1e3, "k")):
        if abs(value) >= factor:
            return f"{value / factor:.2f} {prefix}{unit}"
    return f"{value:.0f} {unit}"


@dataclass(frozen=True, slots=True)
class Kpi:
    key: str
    title: str
    tooltip: str
    read: Callable[[Snapshot], tuple[str, str]]  # text and level
    si_unit: str  # of the figure shown (converted for display where ``twin.gui.units`` says)


@dataclass(frozen=True, slots=True)
class AlarmLevels:
    """A site figure's warning and alarm thresholds, in its alarm point's unit."""

    warning: float
    alarm: float
    high: bool  # high limits (the figure alarms upwards), else low ones

    def level(self, value: float) -> str:
        if not math.isfinite(value):
            return NORMAL
        if self.high:
            return ALARM if value >= self.alarm else WARNING if value >= self.warning else NORMAL
        return ALARM if value <= self.alarm else WARNING if value <= self.warning else NORMAL


def alarm_levels(points: Sequence[AlarmPoint], tag: str) -> AlarmLevels | None:
    """The levels of the site figure of the alarm point ``tag``; None where the scenario
    alarms no such point (a site without a BESS)."""
    point = next((p for p in points if p.tag == tag), None)
    if point is None:
        return None
    high = point.limits[0].condition.is_high
    extreme = np.min if high else np.max  # the component that reaches its limit first

    def value(index: int) -> float:
        return float(extreme(point.limits[index].value))

    if len(point.limits) > 1:
        return AlarmLevels(value(0), value(-1), high)
    deadband = float(np.min(point.deadband))
    return AlarmLevels(value(0) - deadband if high else value(0) + deadband, value(0), high)


def site_kpis(
    scenario: Scenario, points: Sequence[AlarmPoint], system: UnitSystem = UnitSystem.SI
) -> tuple[Kpi, ...]:
    """The site figures, their levels from ``points`` (the scenario's alarm points)."""
    rack_count = len(rack_names(scenario))
    throttle_c = min(t.gpu_throttle_c for t in scenario.rack_types.values())
    temperature = conversion("°C", system)
    gpu_levels = alarm_levels(points, "rack.gpu_temp")
    grid_levels = alarm_levels(points, "site.grid_import")
    soc_levels = alarm_levels(points, "site.bess_soc")

    def level(levels: AlarmLevels | None, value: float) -> str:
        return NORMAL if levels is None else levels.level(value)

    def grid(s: Snapshot) -> tuple[str, str]:
        used, cap = s.site["grid_import_kw"], s.power.grid_import_cap_kw
        return (
            f"{used / 1000:.1f} / {cap / 1000:.0f} MW",
            level(grid_levels, 100.0 * used / max(cap, 1e-9)),
        )  # the point's % of cap

    def gpu(s: Snapshot) -> tuple[str, str]:
        t = s.site["gpu_temp_max_c"]
        return f"{temperature.to_display(t):.1f} {temperature.unit}", level(gpu_levels, t)

    def throttled(s: Snapshot) -> tuple[str, str]:
        gpus = int(s.site["throttled_gpus"])
        return f"{gpus:,}", WARNING if gpus else NORMAL

    def tripped(s: Snapshot) -> tuple[str, str]:
        racks = int(s.site["tripped_racks"])  # stopped until reset: an alarm, not a warning
        return f"{racks:,}", ALARM if racks else NORMAL

    def pue(s: Snapshot) -> tuple[str, str]:
        value = s.site["pue"]  # NaN while no rack draws power: undefined, not zero
        return (f"{value:.3f}" if math.isfinite(value) else "–"), NORMAL

    def bess(s: Snapshot) -> tuple[str, str]:
        value = s.site["bess_soc"]
        return bess_text(value, s.site["bess_power_kw"]), level(soc_levels, 100.0 * value)

    return (
        Kpi(
            "it",
            "IT power",
            "electrical power into the racks",
            lambda s: (f"{s.site['it_power_kw'] / 1000:.1f} MW", NORMAL),
            "MW",
        ),
        Kpi(
            "facility",
            "Facility power",
            "all power the site uses",
            lambda s: (f"{s.site['facility_power_kw'] / 1000:.1f} MW", NORMAL),
            "MW",
        ),
        Kpi("pue", "PUE", "facility power over IT power", pue, ""),
        Kpi(
            "tokens",
            "Tokens/s",
            "useful AI work delivered",
            lambda s: (_si(s.site["tokens_per_s"], "tok/s"), NORMAL),
            "tok/s",
        ),
        Kpi(
            "grid", "Grid import", "power drawn from the utility against the import cap", grid, "MW"
        ),
        Kpi(
            "bess",
            "BESS",
            "battery state of charge, and the power it charges or discharges at",
            bess,
            "%",
        ),
        Kpi(
            "gpu",
            "Hottest GPU",
            f"throttling starts at {temperature.to_display(throttle_c):g} {temperature.unit}",
            gpu,
            "°C",
        ),
        Kpi(
            "throttled",
            "Throttled GPUs",
            "GPUs shedding power to stay below the limit",
            throttled,
            "",
        ),
        Kpi(
            "tripped",
            "Tripped racks",
            f"racks stopped by a protective trip (of {rack_count:,}) until reset",
            tripped,
            "",
        ),
        Kpi(
            "cost",
            "Cost",
            "electricity cost at the time-of-use tariff",
            lambda s: (f"₩{s.site['cost_krw_per_h'] / 1e6:.2f} M/h", NORMAL),
            "₩/h",
        ),
        Kpi(
            "co2",
            "CO₂",
            "emissions of grid import and generators",
            lambda s: (f"{s.site['co2_kg_per_h'] / 1000:.1f} t/h", NORMAL),
            "t/h",
        ),
    )
