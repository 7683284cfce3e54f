"""The racks: one InstancedMesh for all of them, coloured by the selected field; hot racks
glow; seen close enough, each has a door on its front and a status light.

The glow is an emissive term: a rack whose GPUs run hot shines in its own field colour on
every face, the sides it would leave in shade included, rising from ``GLOW_FROM_K`` below
the throttle temperature to full at the critical one. It is computed per rack on the CPU
(one float per rack) and applied in the fragment shader.
"""

from __future__ import annotations

import numpy as np
from vispy.gloo import VertexBuffer
from vispy.visuals.filters import Filter
from vispy.visuals.shaders import Varying

from twin.gui._vispy.base import Adapter, rgba, set_visible
from twin.gui._vispy.geometry import ALL_FACES, BOTTOM, box_node, faces_facing, shrunk
from twin.gui._vispy.instances import BoxBatch, send_colors
from twin.gui.colors import TRIPPED_RGBA, ColorField
from twin.sim.layout import Boxes, Layout
from twin.sim.snapshot import Snapshot

RACK_SEAM_M = 0.05  # a thin gap so that the racks of a row read as separate cabinets
_IDLE_RGBA = (0.55, 0.58, 0.62, 1.0)  # before the first snapshot, or thermal layer off
GLOW_FROM_K = 10.0  # racks begin to glow this far below the GPUs' throttle temperature
DETAIL_PX_PER_M = 30.0  # doors and status lights from this scale on (a rack ~18 px wide)
DOOR_SHADE = 0.72  # a door is its rack's colour, darker, inside a frame of the rack's own
DOOR_INSET_M = 0.06  # the frame around a door
DOOR_PROUD_M = 0.015  # a door stands this far out of its rack's front
LIGHT_SIZE_M = 0.07
# status lights, as on a real rack's front panel
LIGHT_RUNNING = rgba("#3ddc84")
LIGHT_THROTTLED = rgba("#ffb300")
LIGHT_TRIPPED = rgba("#ff1744")
LIGHT_OFF = rgba("#37474f")  # no power (isolated) or idle

_GLOW_VERTEX = """
void pass_glow() {
    $v_emit = $color.rgb * $glow;
}
"""
_GLOW_FRAGMENT = """
void apply_glow() {
    gl_FragColor.rgb = min(max(gl_FragColor.rgb, $v_emit) + 0.2 * $v_emit, vec3(1.0));
}
"""


class GlowFilter(Filter):
    """The emissive term of one rack mesh: ``glow`` (one float per rack, shared by every
    face set) times the rack's colour."""

    def __init__(self, colors: VertexBuffer, glow: VertexBuffer) -> None:
        emit = Varying("v_emit", "vec3")
        super().__init__(vcode=_GLOW_VERTEX, fcode=_GLOW_FRAGMENT, fpos=5)
        self.vshader["v_emit"] = emit
        self.fshader["v_emit"] = emit
        self.vshader["color"] = colors
        self.vshader["glow"] = glow


def rack_glow(field: ColorField | None, racks, tripped: np.ndarray) -> np.ndarray:
    """0-1 per rack from the GPU temperature: 0 up to ``GLOW_FROM_K`` below the throttle
    temperature (the ``gpu_temp`` field's mark), 1 at the critical one (its top); tripped
    racks are dark."""
    if field is None or not field.marks:
        return np.zeros(len(tripped), np.float32)
    start = field.marks[0][0] - GLOW_FROM_K
    glow = np.clip((np.asarray(racks.gpu_temp_c, float) - start) / (field.high - start), 0, 1)
    glow[tripped] = 0.0
    return np.nan_to_num(glow).astype(np.float32)


def _front_details(boxes: Boxes, front: np.ndarray) -> tuple[dict, np.ndarray, np.ndarray]:
    """A ``BoxBatch``'s groups for the doors and the status lights of racks ``boxes``
    whose fronts face ``front`` (+1 north, -1 south), and their centres."""
    lower, upper = boxes.lower_m, boxes.upper_m
    width, depth, height = boxes.size_m.T
    face_y = boxes.center_m[:, 1] + front * depth / 2
    door_center = np.column_stack(
        [boxes.center_m[:, 0], face_y + front * DOOR_PROUD_M / 2, (lower[:, 2] + upper[:, 2]) / 2]
    )
    door_size = np.column_stack(
        [width - 2 * DOOR_INSET_M, np.full(boxes.count, DOOR_PROUD_M), height - 2 * DOOR_INSET_M]
    )
    light_center = np.column_stack(
        [
            upper[:, 0] - DOOR_INSET_M - 2 * LIGHT_SIZE_M,
            face_y + front * (DOOR_PROUD_M + LIGHT_SIZE_M / 2),
            upper[:, 2] - DOOR_INSET_M - 2 * LIGHT_SIZE_M,
        ]
    )
    light_size = np.full((boxes.count, 3), LIGHT_SIZE_M)
    diagonal = np.zeros((boxes.count, 3, 3), np.float32)
    doors, lights = diagonal.copy(), diagonal.copy()
    idx = np.arange(3)
    doors[:, idx, idx], lights[:, idx, idx] = door_size, light_size
    groups = {
        "doors": (door_center, doors, np.asarray(_IDLE_RGBA, np.float32)),
        "lights": (light_center, lights, LIGHT_OFF),
    }
    return groups, door_center, light_center


def status_lights(snapshot: Snapshot) -> np.ndarray:
    """(n, 4) the status light of each rack: tripped, throttled, running or off."""
    racks = snapshot.racks
    colors = np.tile(LIGHT_OFF, (len(racks.tripped), 1))
    running = (np.asarray(racks.power_kw) > 0) & ~np.asarray(racks.electrical_isolated, bool)
    colors[running] = LIGHT_RUNNING
    colors[np.asarray(racks.throttled, bool)] = LIGHT_THROTTLED
    colors[np.asarray(racks.tripped, bool)] = LIGHT_TRIPPED
    return colors


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
        self._temperature = self._fields.get("gpu_temp")
        self._snapshot: Snapshot | None = None
        self.colors = np.tile(np.asarray(_IDLE_RGBA, np.float32), (self._boxes.count, 1))
        self.glow = np.zeros(self._boxes.count, np.float32)
        self._glow_vbo = VertexBuffer(self.glow, divisor=1)
        self._drawn = shrunk(self._boxes, RACK_SEAM_M)
        # what decides which faces can face the camera, kept off the per-frame path: the
        # highest lower corner and the lowest upper corner of all racks, per axis
        self._extremes = (
            self._drawn.lower_m.max(axis=0, keepdims=True),
            self._drawn.upper_m.min(axis=0, keepdims=True),
        )
        self.faces = ALL_FACES - {BOTTOM}
        self._nodes = {self.faces: self._rack_node(self.faces)}
        self.node = self._nodes[self.faces]
        groups, self.door_centers, self.light_centers = _front_details(
            self._drawn, np.asarray(layout.rack_front, float)
        )
        self.details = BoxBatch(groups, self.root)
        self.details.node.visible = False
        self.detailed = False

    def _rack_node(self, faces):
        node = box_node(self._boxes, self.colors, self.root, shrink_m=RACK_SEAM_M, faces=faces)
        node.attach(GlowFilter(node._instance_colors_vbo, self._glow_vbo))
        return node

    def set_scale(self, px_per_m: float) -> None:
        """Show the doors and status lights only where a rack is wide enough on screen
        for them to read (level of detail: thousands of racks at a site view)."""
        detailed = px_per_m >= DETAIL_PX_PER_M
        if detailed != self.detailed:
            self.detailed = detailed
            set_visible(self.details.node, detailed)
            if detailed and self._snapshot is not None:
                self._send_details(self._snapshot)

    def _send_details(self, snapshot: Snapshot) -> None:
        self.details.set_colors("doors", np.clip(self.colors * [*[DOOR_SHADE] * 3, 1.0], 0, 1))
        self.details.set_colors("lights", status_lights(snapshot))
        self.details.send()

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
            node = self._nodes[faces] = self._rack_node(faces)
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
        tripped = np.asarray(snapshot.racks.tripped, bool)
        colors[tripped] = TRIPPED_RGBA
        self.colors = colors
        self.glow = (
            rack_glow(self._temperature, snapshot.racks, tripped)
            if self.thermal
            else np.zeros(self._boxes.count, np.float32)
        )
        self._glow_vbo.set_data(self.glow)
        send_colors(self.node, colors)
        if self.detailed:
            self._send_details(snapshot)

    def show_layer(self, layer: str, visible: bool) -> None:
        if layer != self.layer:
            super().show_layer(layer, visible)
            return
        self.thermal = visible
        if self._snapshot is not None:
            self.update(self._snapshot)
