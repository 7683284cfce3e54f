"""The scene's labels as a layer of their own, drawn in screen space over the 3D view.

Every label is a plate (a translucent background with a halo edge) with its text on it,
drawn after the scene and without depth test: racks, pipes and safety zones never hide
one. Each label is tied to a point of the site; the layout (``lay_out``) runs whenever
the view or a text changes:

- labels whose point is behind the camera or outside the view are left out;
- the others are placed by rank (then in the order they were added): each at its
  preferred place (its left end at its point, above it, or below it for a second line),
  else, for names (rank ``MOVABLE_RANK`` and up), at the nearest free place around it,
  tied to its point by a leader line; a label with no free place within reach is left
  out;
- no plate reaches past the view's edge, none overlaps another.

Text sizes follow the view's height (``text_scale``), so labels read the same from a
laptop to a 4K wall; the kiosk asks for titles of at least 1/40 of it. The type is the
shipped NanumSquare (``label_font``), which has Hangul: the labels are translated with
the rest of the interface (``scene_text``).
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable
from dataclasses import dataclass

import numpy as np
from vispy.color import Color
from vispy.scene import Node, visuals
from vispy.visuals.text.text import FontManager, SDFRendererCPU, TextVisual

from twin.gui._vispy.label_font import LabelFont, label_font
from twin.gui._vispy.quads import Quads

REFERENCE_HEIGHT_PX = 720  # a style's size is its size in points on a view this tall
PAD_PX = (0.45, 0.2)  # plate padding around the text, in ems (across, up and down)
GAP_PX = 2.0  # kept between plates
HALO_PX = 1.5  # the plate's edge
LEADER_MIN_PX = 6.0  # a plate moved less than this from its place needs no leader
MOVABLE_RANK = 2  # labels of this rank or higher move aside when crowded; others go
OFF_SCREEN = -1e5  # where the text of a label left out waits (its layout is kept)
# where a crowded label may go: steps of its own height up and down, of half its width
# sideways, nearest first
_ROWS = (0, -1, 1, -2, 2, -3, 3, -4, 4)
_COLUMNS = (0.0, -0.5, 0.5, -1.0, 1.0)
_CANDIDATES = sorted(
    ((r, c) for r in _ROWS for c in _COLUMNS),
    key=lambda rc: (abs(rc[0]) + 2 * abs(rc[1]), abs(rc[1])),
)


# vispy's text shader reads a glyph's distance field through a bicubic (Catmull-Rom) filter
# of 16 texture reads a pixel from 50 px type up: the kiosk's titles at 4K (54 px) cost
# about 40 ms of CPU a frame under software OpenGL in a site view. The atlas holds glyphs
# of 64 px, so type of that size is barely magnified and one bilinear read draws the same
# edge; smaller type keeps vispy's path (one read, or five for type under 30 px).
_BICUBIC = """        if(u_npix >= 50.0)
            rgb = CatRom2D(u_font_atlas, u_font_atlas_shape, uv);
        else
            rgb = texture2D(u_font_atlas, uv);"""
_BILINEAR = """        rgb = texture2D(u_font_atlas, uv);"""


def _one_read(fragment: str) -> str:
    if _BICUBIC not in fragment:
        raise RuntimeError("vispy's text shader changed: its bicubic read was not found")
    return fragment.replace(_BICUBIC, _BILINEAR).replace('#include "misc/spatial-filters.frag"', "")


# distance fields made in this process, by glyph bitmap: ~8 ms of CPU each, which every new
# window's labels (and every test's) would pay again for the same glyphs
_DISTANCE_FIELDS: dict[tuple, np.ndarray] = {}
_DISTANCE_FIELDS_KEPT = 4096  # ~20 KB each: Latin, digits and a kiosk's Hangul fit


class _SharedDistanceFields(SDFRendererCPU):
    """vispy's CPU distance-field renderer, each field computed once a process."""

    def render_to_texture(self, data, texture, offset, size) -> None:
        key = (data.shape, tuple(size), hashlib.blake2b(data.tobytes(), digest_size=16).digest())
        field = _DISTANCE_FIELDS.get(key)
        if field is None:
            field = np.empty((size[1], size[0], 3), np.uint8)
            super().render_to_texture(data, field, (0, 0), size)
            if len(_DISTANCE_FIELDS) < _DISTANCE_FIELDS_KEPT:
                _DISTANCE_FIELDS[key] = field
        x, y = offset
        texture[y : y + size[1], x : x + size[0], :] = field


class _LabelFonts(FontManager):
    """A board's glyph atlases, their distance fields shared with every other board."""

    def __init__(self) -> None:
        super().__init__(method="cpu")
        self._renderer = _SharedDistanceFields()


class LabelText(visuals.Text):
    """vispy's text, its distance field read once a pixel at every size (``_BICUBIC``)."""

    _shaders = {  # noqa: RUF012 - vispy's own class attribute, read-only
        "vertex": TextVisual._shaders["vertex"],
        "fragment": _one_read(TextVisual._shaders["fragment"]),
    }


@dataclass(frozen=True, slots=True)
class LabelStyle:
    size: float = 9.0  # points on a ``REFERENCE_HEIGHT_PX`` view
    bold: bool = False
    below: bool = False  # under its point (a second line), else just above it


class Label:
    """One label, or several of one style, on a ``LabelBoard``: ``text`` is a string for one
    label and a list for several."""

    def __init__(
        self,
        board: LabelBoard,
        owner: object,
        style: LabelStyle,
        texts: list[str],
        single: bool,
        positions: np.ndarray,
        rank: int,
    ) -> None:
        self._board, self.owner, self.style = board, owner, style
        self._texts, self._single = texts, single
        self.positions, self.rank = positions, rank
        self.crowded = np.zeros(len(texts), bool)  # left out by the last layout

    @property
    def text(self) -> str | list[str]:
        return self._texts[0] if self._single else list(self._texts)

    @text.setter
    def text(self, text: str | list[str]) -> None:
        texts = [text] if self._single and isinstance(text, str) else list(text)
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
        return list(self._texts)


@dataclass(frozen=True, slots=True)
class PlacedLabel:
    """A label as the last layout drew it: its plate (x0, y0, x1, y1 in canvas pixels, y
    down), its point on screen, and whether it was moved off its place (with a leader)."""

    text: str
    plate: tuple[float, float, float, float]
    anchor: tuple[float, float]
    moved: bool
    style: LabelStyle


def _preferred_top(anchor_y: float, height: float, below: bool) -> float:
    """A plate's top at its place: just under its point, or just over it (a title and
    its second line at one point stay ``GAP_PX`` apart)."""
    half_gap = GAP_PX / 2 + 0.01
    return anchor_y + half_gap if below else anchor_y - half_gap - height


def lay_out(
    anchors: np.ndarray,
    sizes: np.ndarray,
    below: np.ndarray,
    seen: np.ndarray,
    view_px: tuple[float, float],
    movable: np.ndarray | None = None,
) -> tuple[np.ndarray, np.ndarray]:
    """Plates (n, 4: x0, y0, x1, y1) for labels given in priority order, and which are
    shown. ``anchors`` (n, 2) are their points on screen, ``sizes`` (n, 2) their plates'
    widths and heights, ``below`` whether each hangs under its point, ``seen`` whether its
    point is in front of the camera and inside the view, ``movable`` whether it may leave
    its place when that is taken (else it is left out; default: all may)."""
    width, height = view_px
    count = len(anchors)
    plates = np.zeros((count, 4))
    shown = np.zeros(count, bool)
    kept = np.zeros((0, 4))
    steps = np.array(_CANDIDATES, float)
    for k in range(count):
        if not seen[k]:
            continue
        w, h = sizes[k]
        if w > width or h > height:
            continue
        tried = steps if movable is None or movable[k] else steps[:1]
        x0 = anchors[k, 0] + tried[:, 1] * w
        y0 = _preferred_top(anchors[k, 1], h, below[k]) + tried[:, 0] * (h + GAP_PX)
        # a plate cut by the view's edge slides back in, where it stays near its point
        x0 = np.clip(x0, 0.0, width - w)
        y0 = np.clip(y0, 0.0, height - h)
        boxes = np.column_stack([x0, y0, x0 + w, y0 + h])
        free = ~(
            (boxes[:, None, 0] < kept[None, :, 2] + GAP_PX)
            & (kept[None, :, 0] < boxes[:, None, 2] + GAP_PX)
            & (boxes[:, None, 1] < kept[None, :, 3] + GAP_PX)
            & (kept[None, :, 1] < boxes[:, None, 3] + GAP_PX)
        ).any(axis=1)
        if not free.any():
            continue
        plates[k] = boxes[int(np.argmax(free))]
        shown[k] = True
        kept = np.vstack([kept, plates[k]])
    return plates, shown


def text_scale(
    view_height_px: float, largest_pt: float, px_per_pt: float, min_fraction: float
) -> float:
    """How much larger than their sizes the labels are drawn on a view ``view_height_px``
    tall: in proportion to the height (never below their sizes), and so that the largest
    style is at least ``min_fraction`` of the height."""
    scale = max(1.0, view_height_px / REFERENCE_HEIGHT_PX)
    if min_fraction > 0 and largest_pt > 0:
        scale = max(scale, min_fraction * view_height_px / (largest_pt * px_per_pt))
    return scale


def _plate_color(text_color: str) -> tuple[np.ndarray, np.ndarray]:
    """The plate's fill and halo for a text colour: dark plates under light text."""
    rgb = np.asarray(Color(text_color).rgb)
    light_text = rgb @ np.array([0.299, 0.587, 0.114]) > 0.5
    if light_text:
        return np.array([0.07, 0.09, 0.12, 0.78]), np.array([0.55, 0.65, 0.78, 0.55])
    return np.array([0.98, 0.98, 0.99, 0.82]), np.array([0.25, 0.30, 0.36, 0.45])


def _halo_frame(plates: np.ndarray, width: float) -> np.ndarray:
    """The halo around plates (n, 4: x0, y0, x1, y1) as four rectangles each (4n, 4): a
    frame ``width`` wide, not a larger plate under each (software OpenGL pays for every
    pixel of each layer)."""
    x0, y0, x1, y1 = plates.T
    return np.concatenate(
        [
            np.column_stack([x0 - width, y0 - width, x1 + width, y0]),  # above
            np.column_stack([x0 - width, y1, x1 + width, y1 + width]),  # below
            np.column_stack([x0 - width, y0, x0, y1]),  # left
            np.column_stack([x1, y0, x1 + width, y1]),  # right
        ]
    )


def _over(top: np.ndarray, under: np.ndarray) -> np.ndarray:
    """One RGBA colour that, blended over anything, gives what ``top`` blended over
    ``under`` blended over it gives: the plate's fill over its halo, in one layer."""
    alpha = 1.0 - (1.0 - top[3]) * (1.0 - under[3])
    rgb = (top[:3] * top[3] + under[:3] * under[3] * (1.0 - top[3])) / alpha
    return np.append(rgb, alpha)


class LabelBoard:
    """Every scene label in one layer over the view: one Text visual per style, one mesh
    of plates and one line visual of leaders, whoever owns the labels.

    On software OpenGL each visual costs about 0.3 ms a frame whatever it draws, so the
    labels of every adapter share these few. The owners' layers hide their labels by
    blanking them; a label the layout leaves out keeps its text (laying text out is
    slow) and waits off screen.
    """

    def __init__(self, parent, *, font: LabelFont | None = None) -> None:
        """``parent``: the view (a ViewBox) whose pixels the labels are placed in."""
        self.root = Node(parent=parent, name="Labels")
        self.root.order = 100  # after the view's scene: over everything in it
        self.font = font or label_font()
        self._labels: dict[LabelStyle, list[Label]] = {}
        self._visuals: dict[LabelStyle, LabelText] = {}
        # one glyph atlas for every style of the board (a glyph's distance field does not
        # depend on the size it is drawn at): each glyph is rendered once, not per style
        self._fonts = _LabelFonts()
        self._widths: dict[LabelStyle, np.ndarray] = {}  # text widths in ems
        self._hidden_owners: set[int] = set()
        self._stale: set[LabelStyle] = set()
        self.plates = Quads(parent=self.root)  # rewritten at every move of the camera
        self.plates.order = 0
        self.plates.set_gl_state("translucent", depth_test=False, cull_face=False)
        self.leaders = visuals.Line(connect="segments", width=1.5, parent=self.root)
        self.leaders.order = -1  # under the plates: a leader never crosses a text
        self.leaders.set_gl_state("translucent", depth_test=False)
        self.min_fraction = 0.0  # the largest style's least height, as part of the view's
        self.placed: list[PlacedLabel] = []
        self._text_color = "#e3e9f0"
        self._fill, self._halo = _plate_color(self._text_color)
        self.scale = 1.0
        self._layout_key: tuple | None = None

    def add(
        self, owner: object, text: str | list[str], pos, style: LabelStyle, *, rank: int = 0
    ) -> Label:
        """A label of ``owner`` just above ``pos`` (its left end there), or ``below`` it; or,
        with a list of texts and one position per text, several. Where labels crowd,
        those of higher ``rank`` keep their place."""
        single = isinstance(text, str)
        texts = [text] if isinstance(text, str) else list(text)
        positions = np.atleast_2d(np.asarray(pos, np.float64))
        if len(positions) != len(texts):
            raise ValueError(f"{len(texts)} labels need as many positions, not {len(positions)}")
        label = Label(self, owner, style, texts, single, positions, rank)
        self._labels.setdefault(style, []).append(label)
        if style not in self._visuals:
            visual = LabelText(
                "",
                face=self.font.face,
                font_size=style.size,
                bold=style.bold,
                anchor_x="center",
                anchor_y="center",
                color=self._text_color,
                parent=self.root,
                font_manager=self._fonts,
            )
            visual.order = 2
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
        if self.root.visible != visible:
            self.root.visible = visible

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
        self._stale.update(
            style
            for style, labels in self._labels.items()
            if any(label.owner is owner for label in labels)
        )
        self.flush()

    def set_color(self, color: str) -> None:
        self._text_color = color
        self._fill, self._halo = _plate_color(color)
        for visual in self._visuals.values():
            visual.color = color
        self._layout_key = None

    def flush(self) -> None:
        """Lay out again the text of the styles whose texts changed: vispy lays out all of
        a visual's text at every assignment, so this runs once per round of changes."""
        for style in self._stale:
            texts = [text for label in self._labels[style] for text in label.shown_texts()]
            visual = self._visuals[style]
            visual.text = texts
            visual.pos = np.full((len(texts), 2), OFF_SCREEN, np.float32)
            self._widths[style] = np.array([self.font.width_em(t, style.bold) for t in texts])
        if self._stale:
            self._layout_key = None
        self._stale.clear()

    def layout(
        self,
        project: Callable[[np.ndarray], tuple[np.ndarray, np.ndarray]],
        view_px: tuple[float, float],
        px_per_pt: float,
        view_key: tuple,
    ) -> None:
        """Place every label for the view: ``project`` maps (n, 3) site metres to (n, 2)
        canvas pixels and whether each point is in front of the camera; ``view_key`` says
        what the view is (nothing is done when neither it nor a text changed)."""
        self.flush()
        key = (view_key, tuple(view_px), px_per_pt, self.min_fraction)
        if key == self._layout_key:
            return
        self._layout_key = key
        width, height = view_px
        largest = max((s.size for s in self._labels), default=0.0)
        self.scale = text_scale(height, largest, px_per_pt, self.min_fraction)
        entries = []  # (-rank, order, style, index into the style's texts, label, k)
        anchors_3d = []
        order = 0
        for style, labels in self._labels.items():
            start = 0
            for label in labels:
                texts = label.shown_texts()
                for k, text in enumerate(texts):
                    if text:
                        entries.append((-label.rank, order, style, start + k, label, k))
                        anchors_3d.append(label.positions[k])
                        order += 1
                start += len(texts)
        for labels in self._labels.values():
            for label in labels:
                label.crowded = np.ones(len(label._texts), bool)
        if not entries:
            self._draw([], np.zeros((0, 4)), np.zeros((0, 2)), np.zeros(0, bool))
            return
        anchors, in_front = project(np.asarray(anchors_3d))
        sort = sorted(range(len(entries)), key=lambda i: entries[i][:2])
        entries = [entries[i] for i in sort]
        anchors, in_front = anchors[sort], in_front[sort]
        sizes = np.array(
            [self._plate_size(style, index, px_per_pt) for _, _, style, index, _, _ in entries]
        )
        below = np.array([style.below for _, _, style, _, _, _ in entries])
        seen = (
            in_front
            & (anchors[:, 0] >= 0)
            & (anchors[:, 0] <= width)
            & (anchors[:, 1] >= 0)
            & (anchors[:, 1] <= height)
        )
        movable = np.array([-rank >= MOVABLE_RANK for rank, *_ in entries])
        plates, shown = lay_out(anchors, sizes, below, seen, (width, height), movable)
        for (_, _, _, _, label, k), is_shown in zip(entries, shown, strict=True):
            label.crowded[k] = not is_shown
        self._draw(entries, plates, anchors, shown)

    def _plate_size(self, style: LabelStyle, index: int, px_per_pt: float) -> tuple[float, float]:
        em = style.size * px_per_pt * self.scale
        return (
            (self._widths[style][index] + 2 * PAD_PX[0]) * em,
            (self.font.line_em + 2 * PAD_PX[1]) * em,
        )

    def _draw(
        self, entries: list, plates: np.ndarray, anchors: np.ndarray, shown: np.ndarray
    ) -> None:
        self.placed = []
        positions = {
            style: np.full(
                (len(visual.text) if isinstance(visual.text, list) else 1, 2),
                OFF_SCREEN,
                np.float32,
            )
            for style, visual in self._visuals.items()
        }
        leaders = []
        for (_, _, style, index, label, k), plate, anchor, is_shown in zip(
            entries, plates, anchors, shown, strict=True
        ):
            if not is_shown:
                continue
            preferred_y = _preferred_top(anchor[1], plate[3] - plate[1], style.below)
            moved = bool(
                abs(plate[0] - anchor[0]) > LEADER_MIN_PX
                or abs(plate[1] - preferred_y) > LEADER_MIN_PX
            )
            if moved:
                nearest = np.clip(anchor, plate[:2], plate[2:])
                leaders += [anchor, nearest]
            positions[style][index] = ((plate[0] + plate[2]) / 2, (plate[1] + plate[3]) / 2)
            x0, y0, x1, y1 = (float(v) for v in plate)
            self.placed.append(
                PlacedLabel(
                    label._texts[k],
                    (x0, y0, x1, y1),
                    (float(anchor[0]), float(anchor[1])),
                    moved,
                    style,
                )
            )
        for style, visual in self._visuals.items():
            visual.font_size = style.size * self.scale
            visual.pos = positions[style]
        boxes = np.array([p.plate for p in self.placed]).reshape(-1, 4)
        if len(boxes):
            frame = _halo_frame(boxes, HALO_PX)
            self.plates.set_rects(
                np.concatenate([frame, boxes]),
                np.concatenate(
                    [
                        np.tile(self._halo, (len(frame), 1)),
                        np.tile(_over(self._fill, self._halo), (len(boxes), 1)),
                    ]
                ),
            )
        if self.plates.visible != bool(len(boxes)):  # setting it at all asks for a frame
            self.plates.visible = bool(len(boxes))
        if leaders:
            self.leaders.set_data(
                pos=np.asarray(leaders, np.float32), color=(*tuple(self._halo[:3]), 0.9)
            )
        if self.leaders.visible != bool(leaders):
            self.leaders.visible = bool(leaders)
