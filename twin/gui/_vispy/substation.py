"""The power chain: main transformers, BESS, generators and each hall's electrical room."""

from __future__ import annotations

import numpy as np

from twin.gui._vispy.base import Adapter, ScenePalette, rgba
from twin.gui._vispy.geometry import box_node
from twin.scenario import Scenario
from twin.sim.layout import Layout
from twin.sim.snapshot import Snapshot

EQUIPMENT = rgba("#8d99a6")  # steel grey while loading is normal
NEAR_RATING = rgba("#ffb300")  # 80-100 % of the units in service
OVERLOADED = rgba("#e53935")
BESS_IDLE = rgba("#7a9a8a")
BESS_DISCHARGING = rgba("#ffb300")
BESS_CHARGING = rgba("#42a5f5")
GENERATOR_RUNNING = rgba("#ff7043")
GENERATOR_STOPPED = rgba("#6d7278")
_BESS_IDLE_KW = 50.0


def loading_rgba(loading: np.ndarray) -> np.ndarray:
    """Equipment stays grey until it nears its rating: alarms stand out, not normal load."""
    loading = np.atleast_1d(np.asarray(loading, float))
    colors = np.tile(EQUIPMENT, (loading.size, 1))
    colors[loading >= 0.8] = NEAR_RATING
    colors[loading > 1.0] = OVERLOADED
    return colors


class SubstationAdapter(Adapter):
    layer = "electrical"

    def __init__(self, scenario: Scenario, layout: Layout, parent,
                 palette: ScenePalette) -> None:
        super().__init__(parent)
        mains = scenario.power.main_transformers
        self._kv = f"{mains.hv_kv:g}/{mains.lv_kv:g} kV"
        self._generator_count = layout.generators.count
        self._bess_count = layout.bess.count
        self.transformers = box_node(layout.main_transformers, loading_rgba(np.zeros(1)), self.root)
        self.rooms = box_node(layout.electrical_rooms, loading_rgba(np.zeros(1)), self.root)
        self.bess = box_node(layout.bess, BESS_IDLE, self.root) if self._bess_count else None
        self.generators = (box_node(layout.generators, GENERATOR_STOPPED, self.root)
                           if self._generator_count else None)
        rect = layout.substation_rect_m
        corner = (rect[0], rect[3], 3.0)
        self.title = self._label("Substation & backup power", corner, size=11,
                                 bold=True)
        self.status = self._label("", corner, size=8, below=True)
        self.apply_palette(palette)

    def update(self, snapshot: Snapshot) -> None:
        power, site = snapshot.power, snapshot.site
        count = self.transformers.instance_positions.shape[0]
        self.transformers.instance_colors = np.tile(
            loading_rgba(np.array([power.main_transformer_loading])), (count, 1))
        self.rooms.instance_colors = loading_rgba(power.hall_transformer_loading)
        bess_kw = site["bess_power_kw"]
        if self.bess is not None:
            color = (BESS_DISCHARGING if bess_kw > _BESS_IDLE_KW
                     else BESS_CHARGING if bess_kw < -_BESS_IDLE_KW else BESS_IDLE)
            self.bess.instance_colors = np.tile(color, (self._bess_count, 1))
        if self.generators is not None:
            colors = np.tile(GENERATOR_STOPPED, (self._generator_count, 1))
            colors[:power.generators_online] = GENERATOR_RUNNING
            self.generators.instance_colors = colors
        utility = "utility on" if power.utility_available else "UTILITY LOST"
        self.status.text = (
            f"{self._kv} · {100 * power.main_transformer_loading:.0f} % loaded · {utility} · "
            f"BESS {100 * site['bess_soc']:.0f} % {bess_kw / 1000:+.1f} MW · "
            f"generators {power.generators_online}/{self._generator_count}")
