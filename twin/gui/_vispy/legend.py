"""The colours of the 3D view that carry a meaning, with what each means, in groups: the
window's legend (``twin.gui._qt.legend``) shows every entry. The rack colour field has its
own bar with units in the toolbar; its tripped and selected colours are here.

The colours are the adapters' own constants, never copies, so a colour changed in an
adapter changes in the legend.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from twin.gui._vispy import (
    cdus,
    piping,
    racks,
    robot_parts,
    robots,
    substation,
    workcells,
    yard,
)
from twin.gui.colors import NO_DATA_RGBA, SELECTED_RGBA, TRIPPED_RGBA

LOADING_SHOWN = (0.0, 0.5, 0.9, 1.0)  # loadings the equipment scale is shown at


@dataclass(frozen=True)
class LegendEntry:
    label: str
    rgba: np.ndarray  # (4,) 0-1


@dataclass(frozen=True)
class LegendGroup:
    title: str
    entries: tuple[LegendEntry, ...]


def scene_legend() -> tuple[LegendGroup, ...]:
    loading = substation.loading_rgba(np.array(LOADING_SHOWN))
    return (
        LegendGroup(
            "Racks",
            (
                LegendEntry("tripped: offline above the critical temperature", TRIPPED_RGBA),
                LegendEntry("selected", SELECTED_RGBA),
                LegendEntry("no value: a plant point not compared (shadow)", NO_DATA_RGBA),
            ),
        ),
        LegendGroup(
            "Rack status lights (seen up close); hot racks glow in their own colour",
            (
                LegendEntry("running", racks.LIGHT_RUNNING),
                LegendEntry("throttling to stay below the GPU limit", racks.LIGHT_THROTTLED),
                LegendEntry("tripped", racks.LIGHT_TRIPPED),
                LegendEntry("no power", racks.LIGHT_OFF),
            ),
        ),
        LegendGroup(
            "Transformers, UPS, busways: loading of the units in service",
            (
                *(
                    LegendEntry(f"{fraction * 100:.0f} %", color)
                    for fraction, color in zip(LOADING_SHOWN, loading, strict=True)
                ),
                LegendEntry("overloaded: above 100 %", substation.OVERLOADED),
            ),
        ),
        LegendGroup(
            "Battery (BESS)",
            (
                LegendEntry("idle", substation.BESS_IDLE),
                LegendEntry("discharging", substation.BESS_DISCHARGING),
                LegendEntry("charging", substation.BESS_CHARGING),
                LegendEntry("state-of-charge bar on the roof", substation.CHARGE),
            ),
        ),
        LegendGroup(
            "Generators",
            (
                LegendEntry("running", substation.GENERATOR_RUNNING),
                LegendEntry("starting", substation.GENERATOR_STARTING),
                LegendEntry("stopped", substation.GENERATOR_STOPPED),
                LegendEntry("failed", substation.GENERATOR_FAILED),
            ),
        ),
        LegendGroup(
            "Utility line",
            (
                LegendEntry("live", substation.LINE_LIVE),
                LegendEntry("dead: utility outage", substation.LINE_DEAD),
            ),
        ),
        LegendGroup(
            "Cooling",
            (
                LegendEntry("CDU", cdus.CDU_RGBA),
                LegendEntry("CDU with no pump running", cdus.NO_PUMP_RGBA),
                LegendEntry("dry cooler running", yard.DRY_COOLER_RUNNING),
                LegendEntry("chiller running", yard.CHILLER_RUNNING),
                LegendEntry("dry cooler or chiller stopped", yard.STOPPED),
                LegendEntry("water flowing (dots move with it)", piping.DOT_RGBA),
                LegendEntry("water standing still", piping.STILL_DOT_RGBA),
            ),
        ),
        LegendGroup(
            "Robots",
            (
                LegendEntry("workcell pedestal (safety yellow)", workcells.PEDESTAL),
                LegendEntry("safety zone, robots running", robots.ZONE_RGBA),
                LegendEntry("safety zone, robots stopped", robots.ZONE_STOPPED_RGBA),
                *(
                    LegendEntry(
                        f"service robot's beacon: {robot_parts.SERVICE_STATE_NAMES[state]}", color
                    )
                    for state, color in robot_parts.SERVICE_STATE_RGBA.items()
                ),
                LegendEntry("service robot's route", robots.ROUTE_RGBA),
            ),
        ),
    )
