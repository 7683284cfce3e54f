"""The robot workcells: their raised floors on the site, with their names (the robots and
what stands with them: ``robots``)."""

from __future__ import annotations

from twin.gui._vispy.base import Adapter, ScenePalette, rgba
from twin.gui._vispy.geometry import box_node
from twin.scenario import Scenario
from twin.sim.layout import Layout

PEDESTAL = rgba("#f2c230")  # safety yellow, as painted around real robot cells


class WorkcellAdapter(Adapter):
    """Static: the floors do not change."""

    layer = "robots"

    def __init__(self, scenario: Scenario, layout: Layout, parent,
                 palette: ScenePalette) -> None:
        super().__init__(parent)
        cells = layout.workcells
        self.node = box_node(cells, PEDESTAL, self.root) if cells.count else None
        for cell, lower, upper in zip(scenario.workcells, cells.lower_m, cells.upper_m,
                                      strict=True):
            self._label(f"{cell.name} ({cell.kind})", (lower[0], lower[1], upper[2] + 1.0),
                        size=8)
        self.apply_palette(palette)
