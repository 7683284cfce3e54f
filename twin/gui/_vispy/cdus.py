"""The CDUs: one box at the end of the rows each serves, lit by its pump speed."""

from __future__ import annotations

import numpy as np

from twin.gui._vispy.base import Adapter, rgba
from twin.gui._vispy.geometry import box_node
from twin.gui._vispy.instances import send_colors
from twin.sim.layout import Layout
from twin.sim.snapshot import Snapshot

CDU_RGBA = rgba("#4f7cac")
NO_PUMP_RGBA = rgba("#e53935")  # no pump running: the racks behind it lose their flow


class CduAdapter(Adapter):
    layer = "hydraulic"

    def __init__(self, layout: Layout, parent) -> None:
        super().__init__(parent)
        self._boxes = layout.cdus
        self.colors = np.tile(CDU_RGBA, (layout.cdus.count, 1))
        self.node = box_node(layout.cdus, self.colors, self.root, on_floor=True)

    def update(self, snapshot: Snapshot) -> None:
        cdus = snapshot.cdus
        shade = 0.55 + 0.45 * np.clip(np.asarray(cdus.pump_speed, np.float32), 0.0, 1.0)
        colors = np.tile(CDU_RGBA, (shade.size, 1))
        colors[:, :3] *= shade[:, None]
        colors[np.asarray(cdus.pumps_running) == 0] = NO_PUMP_RGBA
        self.colors = colors
        send_colors(self.node, colors)
