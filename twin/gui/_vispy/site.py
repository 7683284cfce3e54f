"""The ground of the site and the concrete pads of the cooling yard and the substation.

The ground is drawn as a mesh with the pads on it (``node``), or by the view's backdrop
(``sky``), which leaves the pads to a mesh of their own (``pads``): one of the two is
shown, as the backdrop chooses at each frame.
"""

from __future__ import annotations

import numpy as np

from twin.gui._vispy.base import Adapter, ScenePalette, set_visible
from twin.gui._vispy.geometry import box_node
from twin.gui._vispy.sky import GROUND_OFFSET, push_back
from twin.sim.layout import Boxes, Layout

GROUND_MARGIN_M = 40.0
GROUND_THICKNESS_M = 0.2
PAD_TOP_M = 0.15  # pads stand this far above the ground so that the two never z-fight


def _slab(rect: np.ndarray, z_m: float, thickness_m: float) -> tuple[list[float], list[float]]:
    center = [(rect[0] + rect[2]) / 2, (rect[1] + rect[3]) / 2, z_m - thickness_m / 2]
    return center, [rect[2] - rect[0], rect[3] - rect[1], thickness_m]


def _slabs(slabs: list[tuple[list[float], list[float]]]) -> Boxes:
    return Boxes(center_m=np.array([c for c, _ in slabs]), size_m=np.array([s for _, s in slabs]))


class SiteAdapter(Adapter):
    def __init__(self, layout: Layout, parent, palette: ScenePalette) -> None:
        super().__init__(parent)
        # the ground's top face (x0, y0, x1, y1) at z = 0
        self.ground_rect_m = layout.site_rect_m + np.array([-1, -1, 1, 1]) * GROUND_MARGIN_M
        pads = [
            _slab(layout.yard_rect_m, PAD_TOP_M, 0.1),
            _slab(layout.substation_rect_m, PAD_TOP_M, 0.1),
        ]
        ground = _slab(self.ground_rect_m, 0.0, GROUND_THICKNESS_M)
        self.node = box_node(_slabs([ground, *pads]), np.ones(4, np.float32), self.root)
        self.pads = box_node(_slabs(pads), np.ones(4, np.float32), self.root)
        for node in (self.node, self.pads):
            push_back(node, GROUND_OFFSET)  # behind the hall floors and workcells
        self.pads.visible = False
        self.apply_palette(palette)

    def show_ground_mesh(self, shown: bool) -> None:
        """Draw the ground as a mesh, or leave it to the backdrop (the pads alone)."""
        set_visible(self.node, shown)
        set_visible(self.pads, not shown)

    def apply_palette(self, palette: ScenePalette) -> None:
        ground = np.asarray(palette.ground, np.float32)
        pad = np.clip(ground * 1.12, 0.0, 1.0)
        pad[3] = 1.0
        self.node.instance_colors = np.array([ground, pad, pad], np.float32)
        self.pads.instance_colors = np.array([pad, pad], np.float32)
