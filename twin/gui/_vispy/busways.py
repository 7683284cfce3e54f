"""The busways: one over each row of racks, coloured by how hard it is loaded.

A busway hangs over the racks' fronts (the cold-aisle side), clear of the coolant
pipes over their backs.
"""

from __future__ import annotations

import numpy as np

from twin.gui._vispy.base import Adapter
from twin.gui._vispy.geometry import box_node
from twin.gui._vispy.instances import send_colors
from twin.gui._vispy.piping import RowLines
from twin.gui._vispy.substation import loading_rgba
from twin.sim.layout import Boxes, Layout
from twin.sim.snapshot import Snapshot
from twin.sim.topology import Topology

BUSWAY_SECTION_M = (0.3, 0.2)  # width, height
BUSWAY_OFFSET_M = 0.3  # from the row's centre line towards the racks' fronts
BUSWAY_CLEARANCE_M = 0.5  # over the rack tops


def busway_boxes(rows: RowLines) -> Boxes:
    count = len(rows.y)
    center = np.column_stack(
        [
            (rows.west + rows.east) / 2,
            rows.y + rows.front * BUSWAY_OFFSET_M,
            rows.top + BUSWAY_CLEARANCE_M,
        ]
    )
    size = np.column_stack(
        [
            rows.east - rows.west,
            np.full(count, BUSWAY_SECTION_M[0]),
            np.full(count, BUSWAY_SECTION_M[1]),
        ]
    )
    return Boxes(center, size)


class BuswayAdapter(Adapter):
    layer = "electrical"

    def __init__(self, layout: Layout, topology: Topology, parent) -> None:
        super().__init__(parent)
        self._boxes = busway_boxes(RowLines.of(layout, topology))
        self.colors = loading_rgba(np.zeros(self._boxes.count))
        self.node = box_node(self._boxes, self.colors, self.root)

    def update(self, snapshot: Snapshot) -> None:
        self.colors = loading_rgba(snapshot.power.row_busway_loading)
        send_colors(self.node, self.colors)
