"""The saved viewpoints of the 3D view: the whole site, each hall, the cooling yard, the
substation and each workcell, each framed to show its whole rectangle. Qt-free: the kiosk
checks a story's camera moves against them before any window opens."""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

from twin.sim.layout import Layout

FIELD_OF_VIEW_DEG = 35.0


@dataclass(frozen=True, slots=True)
class Viewpoint:
    label: str
    center: tuple[float, float, float]
    distance: float
    elevation: float
    azimuth: float


def framing(
    label: str,
    rect: np.ndarray,
    *,
    elevation: float = 38.0,
    azimuth: float = -35.0,
    height_m: float = 0.0,
) -> Viewpoint:
    """A viewpoint that shows the whole rectangle (xmin, ymin, xmax, ymax)."""
    # far enough for the rectangle's circumscribed circle to fit the view's height
    radius = max(math.hypot(rect[2] - rect[0], rect[3] - rect[1]) / 2, 8.0)
    distance = radius / math.tan(math.radians(FIELD_OF_VIEW_DEG / 2))
    center = ((rect[0] + rect[2]) / 2, (rect[1] + rect[3]) / 2, height_m)
    return Viewpoint(label, center, distance, elevation, azimuth)


def site_viewpoints(
    layout: Layout, hall_names: tuple[str, ...], workcell_names: tuple[str, ...] = ()
) -> dict[str, Viewpoint]:
    views = {"site": framing("Whole site", layout.site_rect_m, elevation=42.0)}
    for h, name in enumerate(hall_names):
        views[name] = framing(
            f"Hall {name}", layout.hall_rect_m(h), elevation=48.0, azimuth=-30.0, height_m=1.0
        )
    views["yard"] = framing("Cooling yard", layout.yard_rect_m, elevation=35.0)
    views["substation"] = framing(
        "Substation", layout.substation_rect_m, elevation=35.0, azimuth=30.0
    )
    for name, lower, upper in zip(
        workcell_names, layout.workcells.lower_m, layout.workcells.upper_m, strict=True
    ):
        rect = np.array([lower[0], lower[1], upper[0], upper[1]])
        views[f"workcell:{name}"] = framing(f"Workcell {name}", rect, elevation=30.0, azimuth=-25.0)
    return views
