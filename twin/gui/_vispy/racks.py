"""The racks: one InstancedMesh for all of them, coloured by the selected field."""

from __future__ import annotations

import numpy as np
from vispy.scene import visuals

from twin.gui._vispy.base import Adapter
from twin.gui._vispy.colors import SELECTED_RGBA, TRIPPED_RGBA, ColorField
from twin.gui._vispy.geometry import box_node, nearest_hit
from twin.sim.layout import Layout
from twin.sim.snapshot import Snapshot
from twin.sim.topology import Topology

RACK_SEAM_M = 0.05  # a thin gap so that the racks of a row read as separate cabinets
_IDLE_RGBA = (0.55, 0.58, 0.62, 1.0)  # before the first snapshot


def _box_edges(lower: np.ndarray, upper: np.ndarray) -> np.ndarray:
    """The 12 edges of a box as 24 line-segment end points."""
    corners = np.array([[x, y, z] for z in (lower[2], upper[2]) for y in (lower[1], upper[1])
                        for x in (lower[0], upper[0])])
    pairs = [(0, 1), (2, 3), (4, 5), (6, 7), (0, 2), (1, 3), (4, 6), (5, 7),
             (0, 4), (1, 5), (2, 6), (3, 7)]
    return corners[np.array(pairs).ravel()]


class RackAdapter(Adapter):
    layer = "thermal"

    def __init__(self, layout: Layout, topology: Topology, fields: tuple[ColorField, ...],
                 parent) -> None:
        super().__init__(parent)
        self._boxes = layout.racks
        self._topology = topology
        self._fields = {f.key: f for f in fields}
        self.field = fields[0]
        self.selected: int | None = None
        self._snapshot: Snapshot | None = None
        self.colors = np.tile(np.asarray(_IDLE_RGBA, np.float32), (self._boxes.count, 1))
        self.node = box_node(self._boxes, self.colors, self.root, shrink_m=RACK_SEAM_M)
        self._outline = visuals.Line(connect="segments", color=SELECTED_RGBA, width=2.5,
                                     parent=self.root)
        self._outline.order = 5
        self._outline.set_gl_state("translucent", depth_test=False)
        self._outline.visible = False
        self._tag = visuals.Text("", color=SELECTED_RGBA, font_size=10, bold=True,
                                 anchor_x="center", anchor_y="bottom", parent=self.root)
        self._tag.order = 11
        self._tag.set_gl_state("translucent", depth_test=False)
        self._tag.visible = False

    def set_field(self, key: str) -> None:
        self.field = self._fields[key]
        if self._snapshot is not None:
            self.update(self._snapshot)

    def update(self, snapshot: Snapshot) -> None:
        self._snapshot = snapshot
        colors = self.field.colorize(snapshot.racks)
        colors[np.asarray(snapshot.racks.tripped, bool)] = TRIPPED_RGBA
        self.colors = colors
        self.node.instance_colors = colors

    def select(self, index: int | None) -> None:
        self.selected = index
        self._outline.visible = self._tag.visible = index is not None
        if index is not None:
            pad = np.array([0.08, 0.08, 0.08])
            lower, upper = self._boxes.lower_m[index] - pad, self._boxes.upper_m[index] + pad
            self._outline.set_data(pos=_box_edges(lower, upper).astype(np.float32))
            self._tag.text = self._topology.rack_name(index)
            self._tag.pos = (self._boxes.center_m[index, 0], self._boxes.center_m[index, 1],
                             upper[2] + 0.3)

    def pick(self, origin: np.ndarray, direction: np.ndarray) -> int | None:
        return nearest_hit(self._boxes, origin, direction)
