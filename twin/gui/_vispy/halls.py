"""The data halls: floor, cut-away walls (no roof, so the racks show), name and air.

A hall reads as a building: its walls are opaque, but each wall that stands between the
camera and the hall's inside is cut down to a low stub, as in an architect's cut-away,
while the walls beyond keep their full height. Which walls are cut follows the camera.
"""

from __future__ import annotations

import numpy as np

from twin.gui._vispy.base import Adapter, LabelBoard, ScenePalette
from twin.gui._vispy.geometry import box_node, scale_transforms
from twin.gui._vispy.instances import send_transforms
from twin.gui._vispy.scene_text import AIR, display_name, tr
from twin.gui._vispy.sky import FLOOR_OFFSET, push_back
from twin.gui.units import UnitSystem, conversion
from twin.sim.layout import Boxes, Layout
from twin.sim.snapshot import Snapshot

WALL_THICKNESS_M = 0.3
FLOOR_THICKNESS_M = 0.08
STUB_HEIGHT_M = 1.0  # a wall cut away in front of the camera keeps this much
# the walls' outward directions, in the order ``_walls`` makes them: south, north, west, east
_OUTWARD = np.array([(0, -1), (0, 1), (-1, 0), (1, 0)], float)


def _walls(halls: Boxes) -> Boxes:
    centers, sizes = [], []
    t = WALL_THICKNESS_M
    for (cx, cy, cz), (sx, sy, sz) in zip(halls.center_m, halls.size_m, strict=True):
        for (dx, dy), wx, wy in zip(_OUTWARD, (sx, sx, t, t), (t, t, sy, sy), strict=True):
            centers.append((cx + dx * (sx - t) / 2, cy + dy * (sy - t) / 2, cz))
            sizes.append((wx, wy, sz))
    return Boxes(center_m=np.array(centers), size_m=np.array(sizes))


def cut_away(walls: Boxes, eye_m: np.ndarray) -> np.ndarray:
    """Whether each wall stands between ``eye_m`` and its hall's inside: the eye lies
    beyond the wall's outer face (walls come four per hall, as ``_walls`` makes them)."""
    outward = np.tile(_OUTWARD, (walls.count // 4, 1))
    outer_face = walls.center_m[:, :2] + outward * walls.size_m[:, :2] / 2
    return ((np.asarray(eye_m)[:2] - outer_face) * outward).sum(axis=1) > 0


class HallAdapter(Adapter):
    def __init__(
        self,
        layout: Layout,
        names: tuple[str, ...],
        parent,
        palette: ScenePalette,
        labels: LabelBoard,
    ) -> None:
        super().__init__(parent, labels)
        halls = layout.halls
        floor_center = halls.center_m.copy()
        floor_center[:, 2] = FLOOR_THICKNESS_M / 2
        floor_size = halls.size_m.copy()
        floor_size[:, 2] = FLOOR_THICKNESS_M
        self.floor = box_node(Boxes(floor_center, floor_size), np.ones(4, np.float32), self.root)
        push_back(self.floor, FLOOR_OFFSET)  # under the racks' feet and the walls
        self._walls = _walls(halls)
        self.cut: np.ndarray | None = None  # which walls are cut down to stubs now
        self.walls = box_node(self._walls, np.ones(4, np.float32), self.root, on_floor=True)
        label_pos = np.column_stack(
            [halls.lower_m[:, 0] + 0.5, halls.lower_m[:, 1] + 0.5, halls.upper_m[:, 2] + 0.5]
        )
        self.name_labels = self._label(
            [display_name(n) for n in names], label_pos, size=11, bold=True, rank=3
        )
        # where labels crowd, every hall's name before any hall's air temperature
        self.air_labels = self._label([""] * len(names), label_pos, size=8, below=True, rank=1)
        self.temperature = conversion("°C", UnitSystem.SI)  # how the labels show it
        self.apply_palette(palette)

    def set_eye(self, eye_m: np.ndarray) -> None:
        """Cut down the walls in front of a camera at ``eye_m``, raise the others."""
        cut = cut_away(self._walls, eye_m)
        if self.cut is not None and np.array_equal(cut, self.cut):
            return
        self.cut = cut
        size = self._walls.size_m.copy()
        size[cut, 2] = np.minimum(size[cut, 2], STUB_HEIGHT_M)
        center = self._walls.center_m.copy()
        center[:, 2] = size[:, 2] / 2
        send_transforms(self.walls, scale_transforms(size), center)

    def update_labels(self, snapshot: Snapshot) -> None:
        t = self.temperature
        self.set_text(
            self.air_labels,
            [
                tr(AIR, temperature=f"{t.to_display(air_c):.1f} {t.unit}")
                for air_c in snapshot.plant.hall_air_c
            ],
        )

    def apply_palette(self, palette: ScenePalette) -> None:
        super().apply_palette(palette)
        self.floor.instance_colors = np.tile(
            np.asarray(palette.floor, np.float32), (self.floor.instance_positions.shape[0], 1)
        )
        # opaque: the floor's tone, tinted by the palette's wall colour
        floor, tint = np.asarray(palette.floor, np.float32), np.asarray(palette.wall, np.float32)
        wall = np.clip(floor * 1.15 + (tint - floor) * 0.25, 0.0, 1.0)
        wall[3] = 1.0
        self.walls.instance_colors = np.tile(wall, (self.walls.instance_positions.shape[0], 1))
