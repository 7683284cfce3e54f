"""The selection highlight: an outline around the selected object and its name above it.

Drawn over everything (no depth test), so a selected rack deep in a hall still shows.
"""

from __future__ import annotations

import numpy as np
from vispy.scene import visuals

from twin.gui._vispy.base import Adapter
from twin.gui.colors import SELECTED_RGBA

OUTLINE_PAD_M = 0.08


def box_edges(lower: np.ndarray, upper: np.ndarray) -> np.ndarray:
    """The 12 edges of a box as 24 line-segment end points."""
    corners = np.array(
        [
            [x, y, z]
            for z in (lower[2], upper[2])
            for y in (lower[1], upper[1])
            for x in (lower[0], upper[0])
        ]
    )
    pairs = [
        (0, 1),
        (2, 3),
        (4, 5),
        (6, 7),
        (0, 2),
        (1, 3),
        (4, 6),
        (5, 7),
        (0, 4),
        (1, 5),
        (2, 6),
        (3, 7),
    ]
    return corners[np.array(pairs).ravel()]


class SelectionAdapter(Adapter):
    def __init__(self, parent) -> None:
        super().__init__(parent)
        self.outline = visuals.Line(
            connect="segments", color=SELECTED_RGBA, width=2.5, parent=self.root
        )
        self.outline.order = 5
        self.outline.set_gl_state("translucent", depth_test=False)
        self.tag = visuals.Text(
            "",
            color=SELECTED_RGBA,
            font_size=10,
            bold=True,
            anchor_x="center",
            anchor_y="bottom",
            parent=self.root,
        )
        self.tag.order = 11
        self.tag.set_gl_state("translucent", depth_test=False)
        self.root.visible = False

    def show(self, lower: np.ndarray, upper: np.ndarray, name: str) -> None:
        """Outline the box from ``lower`` to ``upper`` (site metres) and name it."""
        self.move(lower, upper)
        self.tag.text = name
        self.root.visible = True

    def move(self, lower: np.ndarray, upper: np.ndarray) -> None:
        """Put the outline and its name around a new box (a selected object that moves)."""
        pad = np.full(3, OUTLINE_PAD_M)
        lower, upper = np.asarray(lower) - pad, np.asarray(upper) + pad
        self.outline.set_data(pos=box_edges(lower, upper).astype(np.float32))
        self.tag.pos = ((lower[0] + upper[0]) / 2, (lower[1] + upper[1]) / 2, upper[2] + 0.3)

    def hide(self) -> None:
        self.root.visible = False
