"""The sky behind the site: a gradient from the horizon's haze up to the zenith's blue,
drawn first in the view's pixels instead of one flat clear colour, and how the site's
flat parts keep off each other's depth.

The gradient is one mesh of two quads (zenith to horizon band, band to ground), drawn
without depth test (it writes no depth): the scene covers it wherever it stands.
"""

from __future__ import annotations

import numpy as np
from vispy.scene import visuals

from twin.gui._vispy.base import ScenePalette, rgba

# zenith, the horizon band and the ground's haze at the bottom of the view, per theme
DARK_SKY = (rgba("#0b1220"), rgba("#25364a"), rgba("#1b232c"))
LIGHT_SKY = (rgba("#8fb4d9"), rgba("#e6edf3"), rgba("#d7dde2"))
FLOOR_OFFSET = 2.0  # hall floors and workcell pedestals, under what stands on them
GROUND_OFFSET = 4.0  # the ground and its pads, under the floors
HORIZON_AT = 0.55  # the band, as a fraction of the view's height from the top


def sky_colors(palette: ScenePalette) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """The dark sky for a dark background, else the light one."""
    background = rgba(palette.background)
    return DARK_SKY if background[:3].mean() < 0.5 else LIGHT_SKY


class SkyBackdrop:
    """The gradient, sized to the view (``resize``) and coloured by the theme."""

    def __init__(self, view, palette: ScenePalette) -> None:
        self.node = visuals.Mesh(parent=view)
        self.node.order = -100  # before the view's scene
        self.node.set_gl_state("translucent", depth_test=False, cull_face=False)
        self._size: tuple[int, int] | None = None
        self._colors = sky_colors(palette)

    def set_palette(self, palette: ScenePalette) -> None:
        self._colors = sky_colors(palette)
        size, self._size = self._size, None
        if size is not None:
            self.resize(size)

    def resize(self, size: tuple[int, int]) -> None:
        """Cover a view ``size`` pixels wide and high (nothing is done for the same size)."""
        size = (int(size[0]), int(size[1]))
        if size == self._size:
            return
        self._size = size
        width, height = size
        band = HORIZON_AT * height
        rows = np.array([0.0, band, float(height)])
        vertices = np.array([[x, y] for y in rows for x in (0.0, float(width))], np.float32)
        faces = np.array([[0, 1, 3], [0, 3, 2], [2, 3, 5], [2, 5, 4]], np.uint32)
        colors = np.repeat(np.array(self._colors, np.float32), 2, axis=0)
        self.node.set_data(vertices=vertices, faces=faces, vertex_colors=colors)


def push_back(node, units: float) -> None:
    """Draw ``node``'s faces as if ``units`` depth steps farther than they are (polygon
    offset): a floor under equipment, or a slab under a floor, then never shares depth
    with what stands on it (no stripes where the two meet, at any distance)."""
    node.update_gl_state(polygon_offset_fill=True, polygon_offset=(units, units))
