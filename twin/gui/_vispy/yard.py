"""The cooling yard: dry coolers, chillers and facility pumps; running units light up."""

from __future__ import annotations

import numpy as np

from twin.gui._vispy.base import Adapter, ScenePalette, rgba
from twin.gui._vispy.geometry import box_node
from twin.sim.layout import Layout
from twin.sim.snapshot import Snapshot

DRY_COOLER_RUNNING = rgba("#7fb3e0")
CHILLER_RUNNING = rgba("#3fb8a8")
STOPPED = rgba("#7d848c")
PUMP = rgba("#5f7a8a")


def _running_colors(count: int, running: int, on: np.ndarray, brightness: float = 1.0):
    colors = np.tile(STOPPED, (count, 1))
    lit = on.copy()
    lit[:3] *= brightness
    colors[:max(0, min(running, count))] = lit
    return colors


class YardAdapter(Adapter):
    layer = "hydraulic"

    def __init__(self, layout: Layout, parent, palette: ScenePalette) -> None:
        super().__init__(parent)
        self._dry_count = layout.dry_coolers.count
        self._chiller_count = layout.chillers.count
        self.dry_coolers = box_node(layout.dry_coolers, STOPPED, self.root) \
            if self._dry_count else None
        self.chillers = box_node(layout.chillers, STOPPED, self.root) \
            if self._chiller_count else None
        self.pumps = box_node(layout.facility_pumps, PUMP, self.root)
        rect = layout.yard_rect_m
        corner = (rect[0], rect[3], 3.0)
        self.title = self._label("Cooling yard", corner, size=11, bold=True)
        self.status = self._label("", corner, size=8, below=True)
        self.apply_palette(palette)

    def update(self, snapshot: Snapshot) -> None:
        plant = snapshot.plant
        if self.dry_coolers is not None:
            brightness = 0.7 + 0.3 * float(np.clip(plant.dry_cooler_fan_speed, 0.0, 1.0))
            self.dry_coolers.instance_colors = _running_colors(
                self._dry_count, plant.dry_coolers_running, DRY_COOLER_RUNNING, brightness)
        if self.chillers is not None:
            self.chillers.instance_colors = _running_colors(
                self._chiller_count, plant.chillers_running, CHILLER_RUNNING)
        self.status.text = (
            f"facility water {plant.fws_supply_c:.1f} / {plant.fws_return_c:.1f} °C · "
            f"dry coolers {plant.dry_coolers_running}/{self._dry_count} · "
            f"chillers {plant.chillers_running}/{self._chiller_count}")
