"""The sky behind the site: a gradient from the horizon's haze up to the zenith's blue,
drawn first in the view's pixels instead of one flat clear colour, and how the site's
flat parts keep off each other's depth.

The gradient is one quad from the view's top to the horizon, drawn without depth test
(it writes no depth): the scene covers it wherever it stands.
"""

from __future__ import annotations

import numpy as np

from twin.gui._vispy.base import ScenePalette, rgba
from twin.gui._vispy.quads import Quads

# the zenith and the horizon's haze, per theme
DARK_SKY = (rgba("#0b1220"), rgba("#25364a"))
LIGHT_SKY = (rgba("#8fb4d9"), rgba("#e6edf3"))
FLOOR_OFFSET = 2.0  # hall floors and workcell pedestals, under what stands on them
GROUND_OFFSET = 4.0  # the ground and its pads, under the floors
HORIZON_AT = 0.55  # a horizon this far down the view has the zenith's blue at the top


def sky_colors(palette: ScenePalette) -> tuple[np.ndarray, np.ndarray]:
    """The dark sky for a dark background, else the light one."""
    background = rgba(palette.background)
    return DARK_SKY if background[:3].mean() < 0.5 else LIGHT_SKY


class SkyBackdrop:
    """The gradient above the horizon, sized to the view (``place``) and coloured by the
    theme; below the horizon the view is cleared to the horizon's haze (``haze``).

    Only the part above the horizon is drawn: software OpenGL pays for every pixel of a
    full-view quad (about 14 ms of CPU a frame at 1614x682 with llvmpipe, blended or not),
    and below the horizon the ground covers most of the view anyway. Seen from above,
    with the horizon out of the view, the sky costs nothing.
    """

    def __init__(self, view, palette: ScenePalette) -> None:
        self.node = Quads(parent=view)  # placed anew at every camera move
        self.node.order = -100  # before the view's scene
        # opaque, no depth: drawn first, it writes no depth and the scene covers it
        self.node.set_gl_state("opaque", depth_test=False, cull_face=False)
        self.node.visible = False
        self._placed: tuple | None = None
        self._colors = sky_colors(palette)

    @property
    def haze(self) -> np.ndarray:
        """The colour at and below the horizon: the view's clear colour."""
        return self._colors[1]

    def set_palette(self, palette: ScenePalette) -> None:
        self._colors = sky_colors(palette)
        placed, self._placed = self._placed, None
        if placed is not None:
            self.place(*placed)

    def place(self, size: tuple[int, int], horizon_px: float) -> None:
        """Cover a view ``size`` pixels wide and high from its top down to the horizon,
        ``horizon_px`` from the top (nothing is done where neither changed)."""
        horizon = float(np.clip(round(horizon_px), 0, size[1]))
        placed = ((int(size[0]), int(size[1])), horizon)
        if placed == self._placed:
            return
        self._placed = placed
        if horizon < 1:
            self.node.visible = False
            return
        zenith, band = self._colors[0], self._colors[1]
        # the zenith's colour at the view's top only when the horizon is low in the view
        top = band + (zenith - band) * min(1.0, horizon / (HORIZON_AT * size[1]))
        self.node.set_rects(
            np.array([[0.0, 0.0, float(size[0]), horizon]]), np.array([[top, top, band, band]])
        )
        self.node.visible = True


def push_back(node, units: float) -> None:
    """Draw ``node``'s faces as if ``units`` depth steps farther than they are (polygon
    offset): a floor under equipment, or a slab under a floor, then never shares depth
    with what stands on it (no stripes where the two meet, at any distance)."""
    node.update_gl_state(polygon_offset_fill=True, polygon_offset=(units, units))
