"""The rack colour fields: which value colours the racks, its colour map, range and units.

Ranges are fixed per scenario (not stretched to each frame's values) so that a colour
always means the same temperature or power while the simulation runs. Qt-free; vispy's
colour maps do the mapping, imported when a first colour is asked for (the kiosk checks a
story's colour fields before any window opens).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, replace
from functools import cached_property
from typing import Any

import numpy as np

from twin.gui.units import UnitSystem, conversion
from twin.scenario import Scenario
from twin.sim.snapshot import RackState

TRIPPED_RGBA = np.array([0.93, 0.16, 0.85, 1.0], np.float32)  # magenta: outside every map
SELECTED_RGBA = np.array([0.0, 0.9, 1.0, 1.0], np.float32)
NO_DATA_RGBA = np.array([0.55, 0.55, 0.55, 1.0], np.float32)  # grey: no value to colour by


class ColorRamp:
    """Colours evenly spaced over [0, 1], linearly interpolated (a vispy ``Colormap``)."""

    def __init__(self, colors: list[str]) -> None:
        self.colors = tuple(colors)

    @cached_property
    def colormap(self) -> Any:
        from vispy.color import Colormap

        return Colormap(list(self.colors))

    def map(self, fraction: np.ndarray) -> np.ndarray:
        """(n, 4) RGBA of each fraction in [0, 1]."""
        return self.colormap.map(fraction)


# blue (cool) to red (hot), after ColorBrewer RdYlBu
THERMAL = ColorRamp(
    [
        "#313695",
        "#4575b4",
        "#74add1",
        "#abd9e9",
        "#e0f3f8",
        "#fee090",
        "#fdae61",
        "#f46d43",
        "#d73027",
        "#a50026",
    ]
)
# dark to bright, after viridis: for quantities that are not temperatures
LOAD = ColorRamp(["#440154", "#3b528b", "#21918c", "#5ec962", "#fde725"])
# blue (plant below model) through white (they agree) to red (plant above), ColorBrewer RdBu
DIVERGING = ColorRamp(["#2166ac", "#67a9cf", "#d1e5f0", "#f7f7f7", "#fddbc7", "#ef8a62", "#b2182b"])


@dataclass(frozen=True, slots=True)
class Category:
    label: str
    rgba: tuple[float, float, float, float]


@dataclass(frozen=True, slots=True)
class ColorField:
    """One way to colour the racks: a continuous map over [low, high] or categories."""

    key: str
    label: str
    unit: str
    values: Callable[[RackState], np.ndarray]
    low: float = 0.0
    high: float = 1.0
    colormap: ColorRamp | None = None
    categories: tuple[Category, ...] = ()
    marks: tuple[tuple[float, str], ...] = ()  # values worth a tick on the colour bar
    no_data: str = ""  # what a rack without a value (NaN) means; it is drawn grey

    @property
    def ramp(self) -> ColorRamp:
        """The colour map of a continuous field (one without categories)."""
        if self.colormap is None:
            raise ValueError(f"the colour field {self.key} has categories, not a colour map")
        return self.colormap

    def colorize(self, racks: RackState) -> np.ndarray:
        """(n, 4) float32 RGBA for every rack."""
        values = self.values(racks)
        if self.categories:
            table = np.array([c.rgba for c in self.categories], np.float32)
            return table[np.asarray(values, dtype=np.intp)]
        values = np.asarray(values, float)
        span = self.high - self.low
        fraction = np.clip((values - self.low) / span, 0.0, 1.0)
        missing = ~np.isfinite(values)
        rgba = self.ramp.map(np.where(missing, 0.0, fraction)).astype(np.float32)
        rgba[missing] = NO_DATA_RGBA
        return rgba

    def in_units(self, system: UnitSystem) -> ColorField:
        """The field with its values, range and marks in ``system`` (this one is SI). A
        conversion scales and shifts, so every rack keeps its colour."""
        shown = conversion(self.unit, system)
        if self.categories or shown.is_identity:
            return self
        values = self.values
        return replace(
            self,
            unit=shown.unit,
            low=shown.to_display(self.low),
            high=shown.to_display(self.high),
            values=lambda racks: shown.to_display(values(racks)),
            marks=tuple((shown.to_display(v), label) for v, label in self.marks),
        )

    def format(self, value: float) -> str:
        if self.categories:
            return self.categories[int(value)].label
        if not np.isfinite(value) and self.no_data:
            return self.no_data
        return f"{value:.1f} {self.unit}".rstrip()


def _rack_state_category(racks: RackState) -> np.ndarray:
    return np.where(racks.tripped, 2, np.where(racks.throttled, 1, 0))


def rack_color_fields(scenario: Scenario) -> tuple[ColorField, ...]:
    types = scenario.rack_types.values()
    throttle_c = min(t.gpu_throttle_c for t in types)
    critical_c = max(t.gpu_critical_c for t in types)
    nameplate_kw = max(t.nameplate_kw for t in types)
    supply_c = min(t.supply_setpoint_c for t in scenario.cdu_types.values())
    return (
        ColorField(
            "gpu_temp",
            "GPU temperature",
            "°C",
            lambda r: r.gpu_temp_c,
            low=30.0,
            high=critical_c,
            colormap=THERMAL,
            marks=((throttle_c, "throttle"),),
        ),
        ColorField(
            "outlet_temp",
            "Coolant outlet temperature",
            "°C",
            lambda r: r.outlet_temp_c,
            low=supply_c - 5.0,
            high=supply_c + 25.0,
            colormap=THERMAL,
            marks=((supply_c, "CDU supply"),),
        ),
        ColorField(
            "power",
            "Rack power",
            "kW",
            lambda r: r.power_kw,
            low=0.0,
            high=round(nameplate_kw, -1),
            colormap=LOAD,
        ),
        ColorField(
            "utilization",
            "Utilization",
            "%",
            lambda r: 100.0 * r.utilization,
            low=0.0,
            high=100.0,
            colormap=LOAD,
        ),
        ColorField(
            "state",
            "Throttling state",
            "",
            _rack_state_category,
            categories=(
                Category("normal", (0.42, 0.62, 0.50, 1.0)),
                Category("throttled", (1.0, 0.66, 0.0, 1.0)),
                Category("tripped", tuple(TRIPPED_RGBA.tolist())),
            ),
        ),
    )


# How far plant and model may part before the colour saturates: a few times the shadow's
# learned noise band on a return temperature (~0.2-0.5 K) and a flow (~1-2 % of a rack's
# ~190 L/min). Engineering choices, not sourced limits.
RESIDUAL_RANGES = {
    "rack.return_temp_c": ("rack return temperature", "K", 3.0),
    "rack.flow_lpm": ("rack coolant flow", "L/min", 20.0),
}


def _residuals_of(
    residuals: Callable[[str], np.ndarray], quantity: str
) -> Callable[[RackState], np.ndarray]:
    return lambda _racks: residuals(quantity)


def residual_fields(residuals: Callable[[str], np.ndarray]) -> tuple[ColorField, ...]:
    """Colour fields of a shadow's residuals: per rack, the plant's value less the model's
    (``residuals(quantity)``, NaN where the point was not compared), for the quantities of
    ``RESIDUAL_RANGES``."""
    return tuple(
        ColorField(
            f"residual:{quantity}",
            f"Plant - model: {what}",
            unit,
            _residuals_of(residuals, quantity),
            low=-span,
            high=span,
            colormap=DIVERGING,
            marks=((0.0, "agree"),),
            no_data="not compared",
        )
        for quantity, (what, unit, span) in RESIDUAL_RANGES.items()
    )
