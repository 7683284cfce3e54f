"""What all adapters share: the scene palette of each theme, and their labels on the
scene's label layer (``label_layer``)."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from vispy.color import Color
from vispy.scene import Node

from twin.gui._vispy.label_layer import Label, LabelBoard, LabelStyle
from twin.sim.snapshot import Snapshot

__all__ = [
    "LAYERS",
    "Adapter",
    "Label",
    "LabelBoard",
    "LabelStyle",
    "ScenePalette",
    "rgba",
    "set_visible",
]


@dataclass(frozen=True, slots=True)
class ScenePalette:
    background: str
    ground: tuple[float, float, float, float]
    floor: tuple[float, float, float, float]
    wall: tuple[float, float, float, float]
    label: str
    grid: tuple[float, float, float, float]


LIGHT_SCENE = ScenePalette(
    background="#dfe4ea",
    ground=(0.80, 0.83, 0.80, 1.0),
    floor=(0.93, 0.94, 0.95, 1.0),
    wall=(0.55, 0.65, 0.78, 0.16),
    label="#1d2733",
    grid=(0.55, 0.60, 0.58, 0.35),
)
DARK_SCENE = ScenePalette(
    background="#141a21",
    ground=(0.16, 0.19, 0.21, 1.0),
    floor=(0.30, 0.33, 0.37, 1.0),
    wall=(0.55, 0.70, 0.90, 0.12),
    label="#e3e9f0",
    grid=(0.40, 0.46, 0.50, 0.35),
)


def rgba(color: tuple[float, ...] | str) -> np.ndarray:
    return np.asarray(Color(color).rgba, np.float32)


def set_visible(node: Node, visible: bool) -> None:
    """Show or hide ``node`` if that changes it: setting ``visible`` at all asks vispy
    for another frame, and a level of detail set before each frame would never rest."""
    if node.visible != visible:
        node.visible = visible


LAYERS = ("thermal", "hydraulic", "electrical", "robots", "labels")
"""Layers the user can toggle: each adapter belongs to one (or to none, like the ground);
"labels" is every adapter's text."""


class Adapter:
    """An adapter draws one kind of thing; ``update`` takes a snapshot and only moves
    arrays to the GPU, so it stays cheap enough to run every frame.

    Every visual of an adapter hangs under its own ``root`` node, so that hiding the
    adapter's layer is one flag; its labels are on the scene's ``LabelBoard``.
    """

    layer: str | None = None

    def __init__(self, parent, labels: LabelBoard | None = None) -> None:
        self.root = Node(parent=parent, name=type(self).__name__)
        self._board = labels

    def _label(
        self,
        text: str | list[str],
        pos,
        *,
        size: float = 9.0,
        bold: bool = False,
        below: bool = False,
        rank: int = 0,
    ) -> Label:
        """A label just above ``pos`` (its left end there), or just ``below`` it; or, with a
        list of texts and one position per text, several labels of one style. Where labels
        would overlap on screen, those of higher ``rank`` stay."""
        if self._board is None:
            raise RuntimeError(f"{type(self).__name__} was made without a label board")
        return self._board.add(self, text, pos, LabelStyle(size, bold, below), rank=rank)

    def update(self, snapshot: Snapshot) -> None:
        """Things with no simulated state (pedestals, walls) keep their look."""

    def update_labels(self, snapshot: Snapshot) -> None:
        """Refresh the labels that show values; called a few times a second, not per frame."""

    @staticmethod
    def set_text(label: Label, text: str | list[str]) -> None:
        """Change a label (or each of several, given a list); the board lays the text out
        again at its next flush, and only if it changed."""
        label.text = text

    def apply_palette(self, palette: ScenePalette) -> None:
        """Colours that follow the theme (labels take theirs from the board)."""

    def show_layer(self, layer: str, visible: bool) -> None:
        if layer == self.layer:
            self.root.visible = visible
            if self._board is not None:
                self._board.show_owner(self, visible)
