"""The backdrop of the site: the sky's gradient from the horizon's haze up to the zenith's
blue, the haze beyond the site's ground, and the ground's distance fog; and how the
site's flat parts keep off each other's depth.

Software OpenGL pays for every pixel a layer fills (about 10 ns of CPU each with llvmpipe,
whatever the shader: 80 ms a frame for one layer over 3840x2160), but next to nothing for
the clear. So the backdrop is drawn after the opaque scene, at the far plane with the
depth test, where nothing has been drawn yet: the pixels the site covers cost it almost
nothing. And the view is cleared to whichever of the two large flat colours covers more
of it, so that it need not be drawn at all:

- the haze (seen from afar, a site view: the ground ends well inside the view): the
  ground is drawn as a mesh (``SiteAdapter``), and the backdrop is only the sky;
- the ground (close up, a hall's view: it fills the view): the backdrop adds the haze
  where the ground plane lies beyond the ground's edge, and the fog on the ground where
  it shows (changes a colour by half a level of 255 or more), in strips of rows cut to
  the ground's outline, their colour interpolated between the strips' edges. This needs
  no mesh: the ground is flat and level and the camera never rolls, so its fog is a
  function of the screen row alone (all its points on one row lie at one depth).

The choice follows the camera at each frame, by the area each way would fill; both draw
the same picture (to a level of 255). Seen from above with the horizon out of the view,
the sky costs nothing. From below the ground (a camera turned under it) the ground is
drawn as a mesh.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from twin.gui._vispy.base import ScenePalette, rgba
from twin.gui._vispy.quads import Quads

# the zenith and the horizon's haze, per theme
DARK_SKY = (rgba("#0b1220"), rgba("#25364a"))
LIGHT_SKY = (rgba("#8fb4d9"), rgba("#e6edf3"))
FLOOR_OFFSET = 2.0  # hall floors and workcell pedestals, under what stands on them
GROUND_OFFSET = 4.0  # the ground and its pads, under the floors
HORIZON_AT = 0.55  # a horizon this far down the view has the zenith's blue at the top
FOG_STRIPS = 12  # the fog's rise on the ground, in strips of equal steps of depth
GROUND_WAYS = ("auto", "mesh", "backdrop")  # how the ground is drawn (``SkyBackdrop``)


def sky_colors(palette: ScenePalette) -> tuple[np.ndarray, np.ndarray]:
    """The dark sky for a dark background, else the light one."""
    background = rgba(palette.background)
    return DARK_SKY if background[:3].mean() < 0.5 else LIGHT_SKY


@dataclass(frozen=True, slots=True)
class GroundView:
    """The ground as the camera sees it, in the view's pixels (y down).

    ``outline``: the ground's top face (m, 2), a convex polygon, cut where it passes
    behind the camera (empty where none of it is in front). ``fog_rows``: the screen
    rows (k,) at which the fog on the ground reaches ``fog_amounts`` (k,), from the row
    where it begins up towards the horizon (rows decreasing); empty without fog.
    ``below``: the camera is under the ground (the backdrop is then haze below the
    horizon and the ground is drawn as a mesh)."""

    outline: np.ndarray
    fog_rows: np.ndarray
    fog_amounts: np.ndarray
    below: bool = False

    def key(self) -> tuple:
        return (
            tuple(np.round(self.outline, 2).ravel()),
            tuple(np.round(self.fog_rows, 2)),
            tuple(np.round(self.fog_amounts, 4)),
            self.below,
        )


def clip_convex(polygon: np.ndarray, distance: np.ndarray) -> np.ndarray:
    """The part of a convex ``polygon`` (n, k: x, y and any values carried along
    linearly) where ``distance`` (n,), a linear function of position, is at least 0
    (Sutherland-Hodgman, one edge)."""
    kept: list[np.ndarray] = []
    n = len(polygon)
    for i in range(n):
        a, b = polygon[i], polygon[(i + 1) % n]
        da, db = distance[i], distance[(i + 1) % n]
        if da >= 0:
            kept.append(a)
        if (da >= 0) != (db >= 0):
            kept.append(a + (da / (da - db)) * (b - a))
    return np.array(kept, float).reshape(-1, polygon.shape[1])


def _rect(x0: float, y0: float, x1: float, y1: float) -> np.ndarray:
    return np.array([[x0, y0], [x1, y0], [x1, y1], [x0, y1]], float)


def _inward_edges(outline: np.ndarray) -> list[tuple[np.ndarray, float]]:
    """Each edge of a convex polygon as (normal, offset): a point p lies on the inner
    side of the edge where normal @ p + offset >= 0."""
    centre = outline.mean(axis=0)
    edges = []
    for i in range(len(outline)):
        a, b = outline[i], outline[(i + 1) % len(outline)]
        normal = np.array([b[1] - a[1], a[0] - b[0]])
        length = float(np.hypot(*normal))
        if length < 1e-9:
            continue
        normal /= length
        offset = -float(normal @ a)
        if normal @ centre + offset < 0:
            normal, offset = -normal, -offset
        edges.append((normal, offset))
    return edges


def outside_of(region: np.ndarray, outline: np.ndarray) -> list[np.ndarray]:
    """Convex pieces that together cover the convex ``region`` less the convex
    ``outline`` (both (n, 2)): for each edge of the outline, what of the region lies
    beyond it but within the edges before it."""
    if len(outline) < 3:
        return [region]
    pieces = []
    rest = region
    for normal, offset in _inward_edges(outline):
        if len(rest) < 3:
            break
        inside = rest[:, :2] @ normal + offset
        beyond = clip_convex(rest, -inside)
        if len(beyond) >= 3:
            pieces.append(beyond)
        rest = clip_convex(rest, inside)
    return pieces


def fan(polygon: np.ndarray) -> np.ndarray:
    """A convex polygon (n, k) as triangles ((n - 2) * 3, k)."""
    if len(polygon) < 3:
        return np.zeros((0, polygon.shape[1]))
    index = np.array([[0, i, i + 1] for i in range(1, len(polygon) - 1)]).ravel()
    return polygon[index]


def area(polygon: np.ndarray) -> float:
    """The area of a polygon (n, 2+) (shoelace)."""
    if len(polygon) < 3:
        return 0.0
    x, y = polygon[:, 0], polygon[:, 1]
    return 0.5 * abs(float(x @ np.roll(y, -1) - y @ np.roll(x, -1)))


def _within(polygon: np.ndarray, x0: float, y0: float, x1: float, y1: float) -> np.ndarray:
    """A convex polygon (n, k) cut to a rectangle."""
    for distance in (
        lambda p: p[:, 0] - x0,
        lambda p: x1 - p[:, 0],
        lambda p: p[:, 1] - y0,
        lambda p: y1 - p[:, 1],
    ):
        if len(polygon) < 3:
            break
        polygon = clip_convex(polygon, distance(polygon))
    return polygon


class SkyBackdrop:
    """The backdrop (see the module's notes), placed at every camera move (``place``) and
    coloured by the theme. ``clear_color`` is the view's clear colour and ``ground_mesh``
    whether the ground is to be drawn as a mesh, both as last placed. The node belongs in
    the 3D scene, drawn after its opaque boxes and before what blends over the ground."""

    def __init__(self, scene, palette: ScenePalette) -> None:
        self.node = Quads(far=True, parent=scene)  # placed anew at every camera move
        # at the far plane, where nothing has been drawn yet (see ``Quads``)
        self.node.set_gl_state("opaque", depth_test=True, cull_face=False)
        self.node.visible = False
        self.sky_shown = False  # whether the sky's gradient is part of the backdrop
        self.ground_mesh = True
        self._ground_way = "auto"
        self._placed: tuple | None = None
        self._arguments: tuple[tuple[int, int], float, GroundView] | None = None
        self._colors = sky_colors(palette)
        self._ground = rgba(palette.ground)

    @property
    def haze(self) -> np.ndarray:
        """The colour at the horizon, and beyond the ground's edge."""
        return self._colors[1]

    @property
    def clear_color(self) -> np.ndarray:
        """The view's clear colour: the ground's where the backdrop draws the haze, else
        the haze."""
        return self.haze if self.ground_mesh else self._ground

    @property
    def ground_way(self) -> str:
        """One of ``GROUND_WAYS``: "auto" (the cheaper way at each frame; the default),
        or always as a "mesh", or by the "backdrop" (but from below the ground)."""
        return self._ground_way

    @ground_way.setter
    def ground_way(self, way: str) -> None:
        if way not in GROUND_WAYS:
            raise ValueError(f"ground way {way!r} is not one of {', '.join(GROUND_WAYS)}")
        self._ground_way = way
        self._placed = None
        if self._arguments is not None:
            self.place(*self._arguments)

    def set_palette(self, palette: ScenePalette) -> None:
        self._colors = sky_colors(palette)
        self._ground = rgba(palette.ground)
        self._placed = None
        if self._arguments is not None:
            self.place(*self._arguments)

    def place(self, size: tuple[int, int], horizon_px: float, ground: GroundView) -> None:
        """Draw the backdrop of a view ``size`` pixels wide and high whose horizon runs
        ``horizon_px`` from its top, over the ``ground`` as seen (nothing is done where
        none of it changed)."""
        self._arguments = (size, horizon_px, ground)
        width, height = int(size[0]), int(size[1])
        horizon = float(np.clip(round(horizon_px), 0, height))
        key = ((width, height), horizon, ground.key())
        if key == self._placed:
            return
        self._placed = key
        zenith, band = self._colors[0], self._colors[1]
        corners, colors = [], []
        self.sky_shown = horizon >= 1
        if self.sky_shown:
            # the zenith's colour at the view's top only when the horizon is low in the view
            top = band + (zenith - band) * min(1.0, horizon / (HORIZON_AT * height))
            sky = fan(_rect(0.0, 0.0, width, horizon))
            corners.append(sky)
            colors.append(top + (sky[:, 1:2] / horizon) * (band - top))
        below = _rect(0.0, horizon, width, height)
        outline = _within(ground.outline, 0.0, horizon, width, height)
        fog = self._fog(ground, outline, horizon)
        haze_pieces = outside_of(below, outline) if len(outline) >= 3 else [below]
        haze_area = sum(area(piece) for piece in haze_pieces)
        fog_area = sum(area(t) for t in fog.reshape(-1, 3, 3)) if len(fog) else 0.0
        if ground.below or self._ground_way != "auto":
            self.ground_mesh = ground.below or self._ground_way == "mesh"
        else:
            self.ground_mesh = haze_area + fog_area > area(outline)
        if not self.ground_mesh:
            for piece in haze_pieces:
                haze = fan(piece)
                corners.append(haze)
                colors.append(np.tile(band, (len(haze), 1)))
            if len(fog):
                corners.append(fog[:, :2])
                colors.append(self._ground + fog[:, 2:3] * (band - self._ground))
        if corners:
            pixels = np.concatenate(corners)[:, :2]
            ndc = np.column_stack([2 * pixels[:, 0] / width - 1, 1 - 2 * pixels[:, 1] / height])
            self.node.set_triangles(ndc, np.concatenate(colors))
        else:
            self.node.set_triangles(np.zeros((0, 2)), np.zeros((0, 4)))
        self.node.visible = bool(corners)

    def _fog(self, ground: GroundView, outline: np.ndarray, horizon: float) -> np.ndarray:
        """Triangles (n, 3: x, y, fog amount) of the fog on the ground where it shows:
        strips between the rows the fog is known at, and from the last of them up to
        the horizon, each cut to the ground's ``outline`` (within the view)."""
        rows, amounts = ground.fog_rows, ground.fog_amounts
        if len(rows) == 0 or len(outline) < 3:
            return np.zeros((0, 3))
        # the least fog that changes a colour by half a level of 255
        shows = 0.5 / 255 / max(float(np.abs(self.haze - self._ground)[:3].max()), 1e-6)
        # the strips' edges, bottom up; past the last row the fog holds to the horizon
        edges, levels = rows, amounts
        if horizon < rows[-1]:
            edges, levels = np.append(rows, horizon), np.append(amounts, amounts[-1])
        triangles = []
        for k in range(len(edges) - 1):
            bottom, top = edges[k], edges[k + 1]
            if top >= bottom or max(levels[k], levels[k + 1]) < shows:
                continue
            piece = clip_convex(outline, outline[:, 1] - top)
            piece = clip_convex(piece, bottom - piece[:, 1]) if len(piece) >= 3 else piece
            if len(piece) < 3:
                continue
            # the fog along the strip: linear in the row between its known edges
            share = (bottom - piece[:, 1]) / (bottom - top)
            amount = levels[k] + share * (levels[k + 1] - levels[k])
            triangles.append(fan(np.column_stack([piece[:, :2], amount])))
        return np.concatenate(triangles) if triangles else np.zeros((0, 3))


def push_back(node, units: float) -> None:
    """Draw ``node``'s faces as if ``units`` depth steps farther than they are (polygon
    offset): a floor under equipment, or a slab under a floor, then never shares depth
    with what stands on it (no stripes where the two meet, at any distance)."""
    node.update_gl_state(polygon_offset_fill=True, polygon_offset=(units, units))
