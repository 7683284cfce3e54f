"""The ground of the site and the concrete pads of the cooling yard and the substation."""

from __future__ import annotations

import numpy as np

from twin.gui._vispy.base import Adapter, ScenePalette
from twin.gui._vispy.geometry import box_node
from twin.gui._vispy.sky import GROUND_OFFSET, push_back
from twin.sim.layout import Boxes, Layout

GROUND_MARGIN_M = 40.0
PAD_TOP_M = 0.15  # pads stand this far above the ground so that the two never z-fight


def _slab(rect: np.ndarray, z_m: float, thickness_m: float) -> tuple[list[float], list[float]]:
    center = [(rect[0] + rect[2]) / 2, (rect[1] + rect[3]) / 2, z_m - thickness_m / 2]
    return center, [rect[2] - rect[0], rect[3] - rect[1], thickness_m]


class SiteAdapter(Adapter):
    def __init__(self, layout: Layout, parent, palette: ScenePalette) -> None:
        super().__init__(parent)
        margin = np.array([-1, -1, 1, 1]) * GROUND_MARGIN_M
        slabs = [
            _slab(layout.site_rect_m + margin, 0.0, 0.2),
            _slab(layout.yard_rect_m, PAD_TOP_M, 0.1),
            _slab(layout.substation_rect_m, PAD_TOP_M, 0.1),
        ]
        boxes = Boxes(
            center_m=np.array([c for c, _ in slabs]), size_m=np.array([s for _, s in slabs])
        )
        self.node = box_node(boxes, np.ones(4, np.float32), self.root)
        push_back(self.node, GROUND_OFFSET)  # behind the hall floors and workcells
        self.apply_palette(palette)

    def apply_palette(self, palette: ScenePalette) -> None:
        ground = np.asarray(palette.ground, np.float32)
        pad = np.clip(ground * 1.12, 0.0, 1.0)
        pad[3] = 1.0
        self.node.instance_colors = np.array([ground, pad, pad], np.float32)
