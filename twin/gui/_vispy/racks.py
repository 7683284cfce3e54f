"""The racks: one InstancedMesh for all of them, coloured by the selected field."""

from __future__ import annotations

import numpy as np

from twin.gui._vispy.base import Adapter, set_visible
from twin.gui._vispy.geometry import ALL_FACES, BOTTOM, box_node, faces_facing, shrunk
from twin.gui._vispy.instances import send_colors
from twin.gui.colors import TRIPPED_RGBA, ColorField
from twin.sim.layout import Layout
from twin.sim.snapshot import Snapshot

RACK_SEAM_M = 0.05  # a thin gap so that the racks of a row read as separate cabinets
_IDLE_RGBA = (0.55, 0.58, 0.62, 1.0)  # before the first snapshot, or thermal layer off


class RackAdapter(Adapter):
    """Hiding the thermal layer greys the racks out rather than removing them: the halls
    keep their shape while the other layers are looked at."""

    layer = "thermal"

    def __init__(self, layout: Layout, fields: tuple[ColorField, ...], parent) -> None:
        super().__init__(parent)
        self._boxes = layout.racks
        self.thermal = True
        self._fields = {f.key: f for f in fields}
        self.field = fields[0]
        self._snapshot: Snapshot | None = None
        self.colors = np.tile(np.asarray(_IDLE_RGBA, np.float32), (self._boxes.count, 1))
        self._drawn = shrunk(self._boxes, RACK_SEAM_M)
        # what decides which faces can face the camera, kept off the per-frame path: the
        # highest lower corner and the lowest upper corner of all racks, per axis
        self._extremes = (
            self._drawn.lower_m.max(axis=0, keepdims=True),
            self._drawn.upper_m.min(axis=0, keepdims=True),
        )
        self.faces = ALL_FACES - {BOTTOM}
        self._nodes = {
            self.faces: box_node(
                self._boxes, self.colors, self.root, shrink_m=RACK_SEAM_M, faces=self.faces
            )
        }
        self.node = self._nodes[self.faces]

    def set_eye(self, eye_m: np.ndarray) -> None:
        """Draw only the faces that turn towards a camera at ``eye_m`` on some rack (never
        the bottoms). Seen from outside the racks' extent, as in a site view, that is the
        top and two sides: 40 % fewer vertices than every face but the bottom, for the
        same picture (the faces left out are back faces, culled anyway)."""
        faces = faces_facing(eye_m, *self._extremes) - {BOTTOM}
        if faces == self.faces:
            return
        node = self._nodes.get(faces)
        if node is None:
            node = self._nodes[faces] = box_node(
                self._boxes, self.colors, self.root, shrink_m=RACK_SEAM_M, faces=faces
            )
        else:
            send_colors(node, self.colors)
        set_visible(self.node, False)
        set_visible(node, True)
        self.node, self.faces = node, faces

    def set_field(self, key: str) -> None:
        self.field = self._fields[key]
        if self._snapshot is not None:
            self.update(self._snapshot)

    def update(self, snapshot: Snapshot) -> None:
        self._snapshot = snapshot
        if self.thermal:
            colors = self.field.colorize(snapshot.racks)
        else:
            colors = np.tile(np.asarray(_IDLE_RGBA, np.float32), (self._boxes.count, 1))
        colors[np.asarray(snapshot.racks.tripped, bool)] = TRIPPED_RGBA
        self.colors = colors
        send_colors(self.node, colors)

    def show_layer(self, layer: str, visible: bool) -> None:
        if layer != self.layer:
            super().show_layer(layer, visible)
            return
        self.thermal = visible
        if self._snapshot is not None:
            self.update(self._snapshot)
