"""The robot workcells: their raised floors on the site, with their names (the robots and
what stands with them: ``robots``)."""

from __future__ import annotations

import numpy as np

from twin.gui._vispy.base import Adapter, LabelBoard, ScenePalette, rgba
from twin.gui._vispy.geometry import box_node
from twin.gui._vispy.scene_text import workcell_label
from twin.gui._vispy.sky import FLOOR_OFFSET, push_back
from twin.scenario import Scenario
from twin.sim.layout import Layout

PEDESTAL = rgba("#f2c230")  # safety yellow, as painted around real robot cells


class WorkcellAdapter(Adapter):
    """Static: the floors do not change."""

    layer = "robots"

    def __init__(
        self, scenario: Scenario, layout: Layout, parent, palette: ScenePalette, labels: LabelBoard
    ) -> None:
        super().__init__(parent, labels)
        cells = layout.workcells
        self.node = box_node(cells, PEDESTAL, self.root) if cells.count else None
        if self.node is not None:
            push_back(self.node, FLOOR_OFFSET)  # under the safety zones' floors
        if cells.count:
            self._label(
                [workcell_label(cell.name, cell.kind) for cell in scenario.workcells],
                np.column_stack([cells.lower_m[:, :2], cells.upper_m[:, 2] + 1.0]),
                size=8,
                rank=2,
            )
        self.apply_palette(palette)
