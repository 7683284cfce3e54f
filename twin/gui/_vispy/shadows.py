"""Contact shadows: a dark, soft-edged patch on the floor under every rack row and piece
of equipment, so that what stands on the floor reads as standing on it.

A cheap stand-in for ambient occlusion (the light the floor loses next to a tall object):
each footprint gets a quad of constant darkness and a fringe that fades to nothing over a
width that grows with the object's height. All patches are one static mesh, drawn blended
just in front of the floor it lies on (a polygon offset between the floors' and that of
what stands on them), so it never z-fights with the floor or hides a box. Seen from
so far that a fringe would be under two pixels wide, the patches are not drawn at all
(level of detail: at the gigawatt site's full view they are thousands of sub-pixel
triangles that cost the software rasteriser about a third of a frame).
"""

from __future__ import annotations

import numpy as np
from vispy.scene import visuals

from twin.gui._vispy.base import Adapter, set_visible
from twin.gui._vispy.halls import FLOOR_THICKNESS_M
from twin.gui._vispy.site import PAD_TOP_M
from twin.sim.layout import Boxes, Layout
from twin.sim.topology import Topology

SHADOW_OFFSET = 1.0  # in front of the floors (sky.FLOOR_OFFSET), behind what stands on them
DARKNESS = 0.5  # opacity of the patch under the object, fading to 0 at the fringe's edge
FRINGE_PER_HEIGHT = 0.3  # fringe width per metre of the object's height
FRINGE_M = (0.3, 2.5)  # but never narrower or wider than this
MIN_PX_PER_M = 3.0  # drawn from this scale on: a rack's fringe (0.66 m) 2 px wide
# every layer an object belongs to must be shown for its shadow to be drawn
_KINDS = (
    ("racks", None),
    ("cdus", "hydraulic"),
    ("dry_coolers", "hydraulic"),
    ("chillers", "hydraulic"),
    ("facility_pumps", "hydraulic"),
    ("electrical_rooms", "electrical"),
    ("main_transformers", "electrical"),
    ("bess", "electrical"),
    ("generators", "electrical"),
)


def _inside(points: np.ndarray, rects: np.ndarray) -> np.ndarray:
    """Whether each point (n, 2) lies in any of the rectangles (m, 4)."""
    rects = np.atleast_2d(rects)
    x, y = points[:, :1], points[:, 1:2]
    within = (x >= rects[:, 0]) & (x <= rects[:, 2]) & (y >= rects[:, 1]) & (y <= rects[:, 3])
    return np.any(within, axis=1)


def row_footprints(racks: Boxes, rack_row: np.ndarray) -> Boxes:
    """One box per rack row: what the row's racks cover together."""
    rows = np.unique(rack_row)
    lower = np.array([racks.lower_m[rack_row == r].min(axis=0) for r in rows])
    upper = np.array([racks.upper_m[rack_row == r].max(axis=0) for r in rows])
    return Boxes((lower + upper) / 2, upper - lower)


def shadow_mesh(boxes: Boxes, floor_z_m: np.ndarray) -> tuple[np.ndarray, ...]:
    """Vertices (8n, 3), faces (10n, 3) and RGBA colours (8n, 4) of the patches under
    ``boxes``, each at its floor's height ``floor_z_m`` (n,)."""
    n = boxes.count
    height = boxes.size_m[:, 2]
    fringe = np.clip(FRINGE_PER_HEIGHT * height, *FRINGE_M)
    lower, upper = boxes.lower_m[:, :2], boxes.upper_m[:, :2]
    vertices = np.zeros((n, 8, 3), np.float32)
    for k, (sx, sy) in enumerate(((0, 0), (1, 0), (1, 1), (0, 1))):
        corner = np.column_stack([(upper if sx else lower)[:, 0], (upper if sy else lower)[:, 1]])
        outward = np.array([2 * sx - 1, 2 * sy - 1], float) * fringe[:, None]
        vertices[:, k, :2] = corner
        vertices[:, 4 + k, :2] = corner + outward
    vertices[:, :, 2] = floor_z_m[:, None]
    colors = np.zeros((n, 8, 4), np.float32)
    colors[:, :4, 3] = DARKNESS
    # the inner quad, then each side's band between the inner and the outer edge
    local = [(0, 1, 2), (0, 2, 3)]
    for a in range(4):
        b = (a + 1) % 4
        local += [(a, 4 + a, 4 + b), (a, 4 + b, b)]
    faces = (np.arange(n)[:, None, None] * 8 + np.array(local)[None]).reshape(-1, 3)
    return vertices.reshape(-1, 3), faces.astype(np.uint32), colors.reshape(-1, 4)


class ContactShadowAdapter(Adapter):
    """The patches of every kind of object whose layers are shown."""

    def __init__(self, layout: Layout, topology: Topology, parent) -> None:
        super().__init__(parent)
        self._parts: dict[str, tuple[str | None, Boxes, np.ndarray]] = {}
        halls = np.column_stack([layout.halls.lower_m[:, :2], layout.halls.upper_m[:, :2]])
        pads = np.vstack([layout.yard_rect_m, layout.substation_rect_m])
        for kind, layer in _KINDS:
            boxes = getattr(layout, kind)
            if kind == "racks":
                boxes = row_footprints(boxes, topology.rack_row)
            if boxes.count == 0:
                continue
            centres = boxes.center_m[:, :2]
            floor_z = np.where(
                _inside(centres, halls),
                FLOOR_THICKNESS_M,
                np.where(_inside(centres, pads), PAD_TOP_M, 0.0),
            )
            self._parts[kind] = (layer, boxes, floor_z)
        self._hidden: set[str] = set()
        self._near = True  # close enough for the patches to show (``set_scale``)
        self._any = False  # any layer with patches shown
        self.node = visuals.Mesh(parent=self.root)
        self.node.order = 1  # after the opaque floors and boxes it darkens
        self.node.set_gl_state(
            "translucent",
            depth_test=True,
            cull_face=False,
            polygon_offset_fill=True,
            polygon_offset=(SHADOW_OFFSET, SHADOW_OFFSET),
        )
        self._build()

    @property
    def footprints(self) -> dict[str, Boxes]:
        """The footprints shadowed now, by kind (those of hidden layers left out)."""
        return {
            kind: boxes
            for kind, (layer, boxes, _) in self._parts.items()
            if layer not in self._hidden
        }

    @property
    def drawn(self) -> bool:
        return bool(self.node.visible)

    def set_scale(self, px_per_m: float) -> None:
        """Draw the patches only where their fringes are wide enough to see."""
        self._near = px_per_m >= MIN_PX_PER_M
        self._show()

    def _show(self) -> None:
        set_visible(self.node, self._any and self._near)

    def _build(self) -> None:
        shown = [part for part in self._parts.values() if part[0] not in self._hidden]
        self._any = bool(shown)
        if not shown:
            self._show()
            return
        meshes = [shadow_mesh(boxes, floor_z) for _, boxes, floor_z in shown]
        offsets = np.cumsum([0] + [len(v) for v, _, _ in meshes[:-1]])
        self.node.set_data(
            vertices=np.vstack([v for v, _, _ in meshes]),
            faces=np.vstack([f + o for (_, f, _), o in zip(meshes, offsets, strict=True)]),
            vertex_colors=np.vstack([c for _, _, c in meshes]),
        )
        self._show()

    def show_layer(self, layer: str, visible: bool) -> None:
        hidden = self._hidden | {layer} if not visible else self._hidden - {layer}
        if hidden != self._hidden:
            self._hidden = hidden
            self._build()
