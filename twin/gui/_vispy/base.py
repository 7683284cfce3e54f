"""What all adapters share: the scene palette of each theme and labels that follow it."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import numpy as np
from vispy.color import Color
from vispy.scene import Node, visuals

from twin.sim.snapshot import Snapshot


@dataclass(frozen=True, slots=True)
class ScenePalette:
    background: str
    ground: tuple[float, float, float, float]
    floor: tuple[float, float, float, float]
    wall: tuple[float, float, float, float]
    label: str
    grid: tuple[float, float, float, float]


LIGHT_SCENE = ScenePalette(
    background="#dfe4ea", ground=(0.80, 0.83, 0.80, 1.0), floor=(0.93, 0.94, 0.95, 1.0),
    wall=(0.55, 0.65, 0.78, 0.16), label="#1d2733", grid=(0.55, 0.60, 0.58, 0.35),
)
DARK_SCENE = ScenePalette(
    background="#141a21", ground=(0.16, 0.19, 0.21, 1.0), floor=(0.30, 0.33, 0.37, 1.0),
    wall=(0.55, 0.70, 0.90, 0.12), label="#e3e9f0", grid=(0.40, 0.46, 0.50, 0.35),
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


@dataclass(frozen=True, slots=True)
class LabelStyle:
    size: float = 9.0
    bold: bool = False
    below: bool = False  # under its position (a second line), else just above it


EM_WIDTH = 0.62  # mean advance of a character in the labels' sans-serif font, in ems
LINE_HEIGHT = 1.25  # in ems


class Label:
    """One label, or several of one style, on a ``LabelBoard``: ``text`` is a string for one
    label and a list for several, as vispy's Text takes them."""

    def __init__(self, board: LabelBoard, owner: object, style: LabelStyle,
                 texts: list[str], single: bool, positions: np.ndarray, rank: int) -> None:
        self._board, self.owner, self.style = board, owner, style
        self._texts, self._single = texts, single
        self.positions, self.rank = positions, rank
        self.crowded = np.zeros(len(texts), bool)  # left out where it would overlap others

    @property
    def text(self) -> str | list[str]:
        return self._texts[0] if self._single else list(self._texts)

    @text.setter
    def text(self, text: str | list[str]) -> None:
        texts = [text] if self._single else list(text)
        if len(texts) != len(self._texts):
            raise ValueError(f"{len(self._texts)} labels here, {len(texts)} texts given")
        if texts != self._texts:
            self._texts[:] = texts
            self._board.changed(self.style)

    @property
    def visible(self) -> bool:
        """Drawn: the board's labels are shown and so is the layer of the label's owner."""
        return self._board.visible and self._board.owner_visible(self.owner)

    def shown_texts(self) -> list[str]:
        if not self._board.owner_visible(self.owner):
            return [""] * len(self._texts)
        return [("" if crowded else text) for text, crowded in zip(self._texts, self.crowded,
                                                                    strict=True)]


class LabelBoard:
    """Every scene label of one style in one Text visual, whoever owns it.

    On software OpenGL each visual costs about 0.3 ms a frame whatever it draws: a gigawatt
    site's hall labels alone were a sixth of a frame as one visual each, and still seven
    visuals as one per adapter and style. The owners' layers hide their labels by blanking
    them. vispy places 3D text with y pointing down the screen: anchor "top" puts the text
    above its position.

    Labels that would overlap on screen are thinned out (``declutter``), the higher
    ``rank`` first: from a gigawatt site's full view, the halls' names and not a heap of
    text over them.
    """

    def __init__(self, parent) -> None:
        self.root = Node(parent=parent, name="Labels")
        # vispy orders siblings only: the board as a whole comes after every adapter's
        # boxes, so that no box drawn later covers a label
        self.root.order = 10
        self._labels: dict[LabelStyle, list[Label]] = {}
        self._visuals: dict[LabelStyle, visuals.Text] = {}
        self._positions: dict[LabelStyle, list[np.ndarray]] = {}
        self._hidden_owners: set[int] = set()
        self._stale: set[LabelStyle] = set()

    def add(self, owner: object, text: str | list[str], pos, style: LabelStyle, *,
            rank: int = 0) -> Label:
        """A label of ``owner`` just above ``pos`` (its left end there), or ``below`` it; or,
        with a list of texts and one position per text, several. Where labels would
        overlap, those of higher ``rank`` stay."""
        single = isinstance(text, str)
        texts = [text] if single else list(text)
        positions = np.atleast_2d(np.asarray(pos, np.float32))
        if len(positions) != len(texts):
            raise ValueError(f"{len(texts)} labels need as many positions, not {len(positions)}")
        label = Label(self, owner, style, texts, single, positions, rank)
        self._labels.setdefault(style, []).append(label)
        self._positions.setdefault(style, []).append(positions)
        if style not in self._visuals:
            visual = visuals.Text("", font_size=style.size, bold=style.bold, anchor_x="left",
                                  anchor_y="bottom" if style.below else "top",
                                  parent=self.root)
            visual.set_gl_state("translucent", depth_test=False)
            self._visuals[style] = visual
        self._stale.add(style)
        return label

    def changed(self, style: LabelStyle) -> None:
        self._stale.add(style)

    @property
    def visible(self) -> bool:
        return self.root.visible

    @visible.setter
    def visible(self, visible: bool) -> None:
        set_visible(self.root, visible)

    def owner_visible(self, owner: object) -> bool:
        return id(owner) not in self._hidden_owners

    def show_owner(self, owner: object, visible: bool) -> None:
        """Show or blank the labels of ``owner`` (as its layer is shown or hidden)."""
        key = id(owner)
        if visible == (key not in self._hidden_owners):
            return
        if visible:
            self._hidden_owners.discard(key)
        else:
            self._hidden_owners.add(key)
        self._stale.update(style for style, labels in self._labels.items()
                           if any(label.owner is owner for label in labels))
        self.flush()

    def declutter(self, to_screen: Callable[[np.ndarray], np.ndarray], px_per_pt: float
                  ) -> None:
        """Leave out the labels that would overlap a label of higher rank (or an earlier
        one of the same rank) on screen. ``to_screen`` maps (n, 3) site metres to (n, 2)
        pixels; sizes are estimated from the text's length (``EM_WIDTH``)."""
        entries = []  # (rank, order, label, index, box)
        order = 0
        for labels in self._labels.values():
            for label in labels:
                if not self.owner_visible(label.owner):
                    continue
                anchors = to_screen(label.positions)
                em = label.style.size * px_per_pt
                for k, (text, (x, y)) in enumerate(zip(label._texts, anchors, strict=True)):
                    if not text:
                        continue
                    width, height = len(text) * EM_WIDTH * em, LINE_HEIGHT * em
                    top = y if label.style.below else y - height
                    entries.append((-label.rank, order, label, k, (x, top, x + width,
                                                                   top + height)))
                    order += 1
        entries.sort(key=lambda entry: entry[:2])
        kept: list[tuple[float, float, float, float]] = []
        crowded = {id(label): np.zeros(len(label._texts), bool)
                   for labels in self._labels.values() for label in labels}
        for _, _, label, k, box in entries:
            if any(box[0] < other[2] and other[0] < box[2] and box[1] < other[3]
                   and other[1] < box[3] for other in kept):
                crowded[id(label)][k] = True
            else:
                kept.append(box)
        for style, labels in self._labels.items():
            for label in labels:
                if not np.array_equal(label.crowded, crowded[id(label)]):
                    label.crowded = crowded[id(label)]
                    self._stale.add(style)
        self.flush()

    def set_color(self, color: str) -> None:
        for visual in self._visuals.values():
            visual.color = color

    def flush(self) -> None:
        """Lay out again the styles whose texts changed: vispy lays out all of a visual's
        text at every assignment, so this runs once per round of changes."""
        for style in self._stale:
            texts = [text for label in self._labels[style] for text in label.shown_texts()]
            visual = self._visuals[style]
            visual.text = texts
            visual.pos = np.concatenate(self._positions[style])
        self._stale.clear()


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

    def _label(self, text: str | list[str], pos, *, size: float = 9.0, bold: bool = False,
               below: bool = False, rank: int = 0) -> Label:
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
