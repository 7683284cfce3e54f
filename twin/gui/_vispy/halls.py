"""The data halls: floor, translucent walls (no roof, so the racks show), name and air."""

from __future__ import annotations

import numpy as np

from twin.gui._vispy.base import Adapter, LabelBoard, ScenePalette
from twin.gui._vispy.geometry import box_node
from twin.gui._vispy.scene_text import AIR, display_name, tr
from twin.gui._vispy.sky import FLOOR_OFFSET, push_back
from twin.gui.units import UnitSystem, conversion
from twin.sim.layout import Boxes, Layout
from twin.sim.snapshot import Snapshot

WALL_THICKNESS_M = 0.3
FLOOR_THICKNESS_M = 0.08


def _walls(halls: Boxes) -> Boxes:
    centers, sizes = [], []
    t = WALL_THICKNESS_M
    for (cx, cy, cz), (sx, sy, sz) in zip(halls.center_m, halls.size_m, strict=True):
        for dx, dy, wx, wy in ((0, -1, sx, t), (0, 1, sx, t), (-1, 0, t, sy), (1, 0, t, sy)):
            centers.append((cx + dx * (sx - t) / 2, cy + dy * (sy - t) / 2, cz))
            sizes.append((wx, wy, sz))
    return Boxes(center_m=np.array(centers), size_m=np.array(sizes))


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
        self.walls = box_node(_walls(halls), np.ones(4, np.float32), self.root, translucent=True)
        self.walls.order = 3  # after the opaque boxes, so they show through
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
        self.walls.instance_colors = np.tile(
            np.asarray(palette.wall, np.float32), (self.walls.instance_positions.shape[0], 1)
        )
