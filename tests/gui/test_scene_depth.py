"""Light and depth of the 3D view, drawn for real: FXAA blends edges, distance fog fades far
parts into the haze, contact shadows lie under every rack row, halls are cut away in front
of the camera, hot racks glow, and every viewpoint frames what it shows."""

from __future__ import annotations

import numpy as np
import pytest

from twin.gui._vispy import fog as fog_module
from twin.gui._vispy import post
from twin.gui._vispy.halls import STUB_HEIGHT_M
from twin.gui._vispy.post import is_software
from twin.gui._vispy.racks import GlowFilter, rack_glow
from twin.gui._vispy.shadows import MIN_PX_PER_M, SHADOW_OFFSET
from twin.gui._vispy.sky import FLOOR_OFFSET

pytestmark = pytest.mark.gui


def _paused(make_window, qtbot, name="seoul-ai-factory"):
    window = make_window(name, running=False)
    canvas = window.canvas
    qtbot.waitUntil(
        lambda: window.snapshot is not None and canvas._framed_for == tuple(canvas.canvas.size),
        timeout=30_000,
    )
    canvas.set_layer_visible("labels", False)  # plates would cover what is sampled
    return window, canvas


def _pixel(canvas, image: np.ndarray, point) -> np.ndarray:
    """The median colour of the 3x3 pixels where a point of the site appears."""
    x, y = canvas.screen_position(np.asarray(point, float))
    scale = image.shape[1] / canvas.canvas.size[0]
    row, col = int(y * scale), int(x * scale)
    patch = image[max(row - 1, 0) : row + 2, max(col - 1, 0) : col + 2, :3].reshape(-1, 3)
    return np.median(patch.astype(float), axis=0)


def test_fxaa_blends_the_edges_and_leaves_flat_areas_alone(make_window, qtbot):
    window, canvas = _paused(make_window, qtbot)
    canvas.go_to(window.topology.hall_names[0], animate=False)
    canvas.canvas.antialiasing = "off"
    plain = canvas.render().astype(int)
    assert not canvas.canvas.fxaa
    canvas.canvas.antialiasing = "on"
    smoothed = canvas.render().astype(int)
    assert canvas.canvas.fxaa
    # where the picture is flat (no neighbour differs), FXAA leaves it as drawn
    luma = plain @ np.array([0.299, 0.587, 0.114])
    contrast = np.zeros_like(luma)
    for dy, dx in ((-1, -1), (-1, 1), (1, -1), (1, 1), (0, 1), (1, 0), (0, -1), (-1, 0)):
        contrast = np.maximum(contrast, np.abs(luma - np.roll(np.roll(luma, dy, 0), dx, 1)))
    changed = np.abs(plain - smoothed).max(axis=2) > 2
    flat = contrast < 4
    assert changed.sum() > 1000  # edges were blended
    assert changed[flat].mean() < 0.01
    # blended: a changed edge pixel lies between the darkest and brightest of its neighbours
    edges = changed & (contrast > 40)
    assert edges.sum() > 500
    neighbours = np.stack(
        [np.roll(np.roll(luma, dy, 0), dx, 1) for dy in (-1, 0, 1) for dx in (-1, 0, 1)]
    )
    smoothed_luma = smoothed @ np.array([0.299, 0.587, 0.114])
    inside = (smoothed_luma >= neighbours.min(axis=0) - 2) & (
        smoothed_luma <= neighbours.max(axis=0) + 2
    )
    assert inside[edges].mean() > 0.95
    assert (np.abs(smoothed_luma - luma)[edges] > 4).mean() > 0.5  # and visibly so
    # the same picture otherwise: nothing shifted, nothing missing
    assert np.abs(plain - smoothed).mean() < 3.0
    # automatic: off on a software renderer such as this llvmpipe, on with a graphics card
    canvas.canvas.antialiasing = "auto"
    canvas.render()
    assert canvas.canvas.fxaa == (not is_software(canvas.canvas.renderer))
    assert is_software("llvmpipe (LLVM 15.0.6, 256 bits)")
    assert not is_software("NVIDIA H200/PCIe/SSE2")
    with pytest.raises(ValueError, match="auto, on, off"):
        canvas.canvas.antialiasing = "msaa"
    # the window's setting is kept
    window.set_antialiasing("on")
    assert canvas.canvas.antialiasing == "on"
    assert window.antialiasing_actions["on"].isChecked()


def test_fog_fades_far_racks_into_the_haze_and_leaves_near_ones(make_window, qtbot):
    window, canvas = _paused(make_window, qtbot)
    canvas.set_layer_visible("thermal", False)  # every rack one grey: alike but for depth
    for layer in ("hydraulic", "electrical", "robots"):
        canvas.set_layer_visible(layer, False)
    canvas.view.camera.elevation = 12.0  # low: a deep view across the site
    canvas.render()
    eye = canvas.eye_position()
    racks = window.layout_.racks
    tops = np.column_stack([racks.center_m[:, :2], racks.upper_m[:, 2]])
    pixels, in_front = canvas.project(tops)
    width, height = canvas.canvas.size
    seen = in_front & np.all((pixels > 5) & (pixels < [width - 5, height - 5]), axis=1)
    distance = np.where(seen, np.linalg.norm(tops - eye, axis=1), np.nan)
    near, far = tops[np.nanargmin(distance)], tops[np.nanargmax(distance)]
    haze = 255 * canvas.sky.haze[:3]
    fogged = canvas.render()
    canvas.fog.enabled = False
    clear = canvas.render()
    canvas.fog.enabled = True
    canvas.render()

    def to_haze(image, point) -> float:
        return float(np.abs(_pixel(canvas, image, point) - haze).sum())

    # the far rack is drawn much nearer the haze's colour than without fog, the near one not
    assert to_haze(fogged, far) < to_haze(clear, far) - 12
    assert to_haze(fogged, near) == pytest.approx(to_haze(clear, near), abs=6)
    assert to_haze(fogged, far) / to_haze(clear, far) < to_haze(fogged, near) / to_haze(clear, near)
    # every mesh and line of the site carries the fog, racks' later face sets included
    for adapter in canvas.adapters:
        for node in _visuals(adapter.root):
            assert node in canvas.fog._filters, node
    start_w, end_w, strength = canvas.fog.amount_range
    assert start_w < end_w and strength == fog_module.STRENGTH


def _visuals(node):
    if isinstance(node, fog_module._FOGGED_TYPES):
        yield node
    for child in node.children:
        yield from _visuals(child)


def test_contact_shadows_lie_under_every_rack_row(make_window, qtbot):
    window, canvas = _paused(make_window, qtbot)
    topology, layout = window.topology, window.layout_
    rows = canvas.shadows.footprints["racks"]
    assert rows.count == len(np.unique(topology.rack_row))
    for r, row in enumerate(np.unique(topology.rack_row)):
        mine = topology.rack_row == row
        lower, upper = rows.lower_m[r], rows.upper_m[r]
        assert np.all(layout.racks.lower_m[mine] >= lower - 1e-6)
        assert np.all(layout.racks.upper_m[mine] <= upper + 1e-6)
    for kind in ("cdus", "dry_coolers", "main_transformers"):
        assert canvas.shadows.footprints[kind].count == getattr(layout, kind).count
    # drawn: the floor just past a row's end, on the camera's side, is darker with them
    hall = topology.hall_names[0]
    canvas.go_to(hall, animate=False)
    canvas.set_layer_visible("hydraulic", False)
    canvas.set_layer_visible("robots", False)
    eye = canvas.eye_position()
    shaded = canvas.render().astype(float)
    canvas.shadows.root.visible = False
    bare = canvas.render().astype(float)
    canvas.shadows.root.visible = True
    assert canvas.shadows.drawn  # close enough for the fringes to show
    beside = []
    in_hall = topology.row_hall[np.unique(topology.rack_row)] == 0  # the rows of that hall
    for lower, upper in zip(rows.lower_m[in_hall], rows.upper_m[in_hall], strict=True):
        end_x = upper[0] + 0.15 if eye[0] > upper[0] else lower[0] - 0.15
        point = (end_x, (lower[1] + upper[1]) / 2, 0.1)
        x, y = canvas.screen_position(np.array(point))
        if 0 < x < canvas.canvas.size[0] and 0 < y < canvas.canvas.size[1]:
            beside.append(_pixel(canvas, bare, point).sum() - _pixel(canvas, shaded, point).sum())
    assert len(beside) >= 4
    assert np.mean(np.array(beside) > 15) > 0.8
    # between the floors' polygon offset and none: never z-fights with either
    state = canvas.shadows.node._vshare.gl_state
    assert state["polygon_offset_fill"] and 0 < SHADOW_OFFSET < FLOOR_OFFSET
    assert state["polygon_offset"] == (SHADOW_OFFSET, SHADOW_OFFSET)
    # hidden with the layer of what casts them
    canvas.set_layer_visible("hydraulic", False)
    assert "cdus" not in canvas.shadows.footprints and "racks" in canvas.shadows.footprints


def test_halls_are_cut_away_in_front_of_the_camera(make_window, qtbot):
    window, canvas = _paused(make_window, qtbot)
    walls = canvas.halls

    def heights() -> np.ndarray:
        return walls.walls.instance_transforms[:, 2, 2]

    canvas.render()
    full = window.layout_.halls.size_m[:, 2].repeat(4)
    cut = walls.cut.copy()
    assert cut.any() and (~cut).any()
    np.testing.assert_allclose(heights()[cut], STUB_HEIGHT_M)
    np.testing.assert_allclose(heights()[~cut], full[~cut])
    # seen from the other side, the other walls are cut
    canvas.view.camera.azimuth += 180.0
    canvas.render()
    assert np.array_equal(walls.cut, ~cut)
    assert walls.walls._vshare.gl_state["cull_face"]  # opaque now, no blending


def test_hot_racks_glow_in_their_own_colour(make_window, qtbot):
    window, canvas = _paused(make_window, qtbot)
    racks = canvas.racks
    field = racks._fields["gpu_temp"]
    throttle_c, critical_c = field.marks[0][0], field.high
    snapshot = window.snapshot
    temps = np.full(len(snapshot.racks.gpu_temp_c), 40.0)
    temps[0], temps[1] = critical_c, throttle_c
    tripped = np.zeros(len(temps), bool)
    hot = type(snapshot.racks)(
        **{
            **{f: getattr(snapshot.racks, f) for f in snapshot.racks.__dataclass_fields__},
            "gpu_temp_c": temps,
        }
    )
    glow = rack_glow(field, hot, tripped)
    assert glow[0] == 1.0 and 0 < glow[1] < 1 and glow[2] == 0.0
    tripped[0] = True
    assert rack_glow(field, hot, tripped)[0] == 0.0  # a tripped rack is dark
    assert any(isinstance(f, GlowFilter) for f in racks.node._vshare.filters)
    # drawn: a glowing rack's shaded side is lit up towards its top's colour
    canvas.go_to(window.topology.hall_names[0], animate=False)
    for layer in ("hydraulic", "electrical", "robots"):
        canvas.set_layer_visible(layer, False)
    eye = canvas.eye_position()
    box = window.layout_.racks
    k = int(np.argmin(np.linalg.norm(box.center_m - eye, axis=1)))  # the nearest rack
    side = box.center_m[k].copy()
    side[0] = box.upper_m[k, 0] if eye[0] > box.upper_m[k, 0] else box.lower_m[k, 0]
    side[2] = box.size_m[k, 2] * 0.3
    dark = _pixel(canvas, canvas.render(), side)
    racks.glow = np.zeros_like(racks.glow)
    racks.glow[k] = 1.0
    racks._glow_vbo.set_data(racks.glow)
    lit = _pixel(canvas, canvas.render(), side)
    assert lit.sum() > dark.sum() + 30


@pytest.mark.parametrize("scenario", ["single-rack", "seoul-ai-factory", "gigawatt"])
def test_every_viewpoint_frames_its_subject_to_fill_the_view(make_window, qtbot, scenario):
    _, canvas = _paused(make_window, qtbot, scenario)
    width, height = canvas.canvas.size
    for key in canvas.viewpoints:
        canvas.go_to(key, animate=False)
        canvas.render()
        pixels, in_front = canvas.project(canvas._framed[key])
        assert in_front.all(), key
        reach = max(
            np.abs(pixels[:, 0] - width / 2).max() / (width / 2),
            np.abs(pixels[:, 1] - height / 2).max() / (height / 2),
        )
        assert 0.85 <= reach <= 1.0, (key, reach)  # fills the view, nothing cut off
        if scenario == "gigawatt" and key == "site":
            # contact shadows' fringes would be under 2 px: left out (level of detail)
            assert canvas.px_per_m() < MIN_PX_PER_M and not canvas.shadows.drawn


def _pad_spread(canvas, layout) -> list[float]:
    """The spread of brightness in 5x5 patches along the middle of the cooling yard's and
    the substation's pads (with what stands on them hidden): stripes make it large."""
    image = canvas.render().astype(float) @ np.array([0.299, 0.587, 0.114])
    scale = image.shape[1] / canvas.canvas.size[0]
    spreads = []
    for x0, y0, x1, y1 in (layout.yard_rect_m, layout.substation_rect_m):
        for f in (0.3, 0.5, 0.7):
            along_x = x1 - x0 > y1 - y0
            x = x0 + (x1 - x0) * (f if along_x else 0.5)
            y = y0 + (y1 - y0) * (0.5 if along_x else f)
            px, py = (v * scale for v in canvas.screen_position(np.array([x, y, 0.15])))
            row, col = int(py), int(px)
            if 2 <= row < image.shape[0] - 2 and 2 <= col < image.shape[1] - 2:
                spreads.append(float(image[row - 2 : row + 3, col - 2 : col + 3].std()))
    return spreads


def test_pads_show_no_stripes_in_off_screen_renders(make_window, qtbot, monkeypatch):
    window, canvas = _paused(make_window, qtbot, "single-rack")
    window.set_theme("light")  # the pads' light concrete on the ground: stripes stand out
    for layer in ("hydraulic", "electrical", "robots"):
        canvas.set_layer_visible(layer, False)
    for way in ("auto", "mesh"):  # the ground drawn by the backdrop or as a mesh under them
        canvas.sky.ground_way = way
        spreads = _pad_spread(canvas, window.layout_)
        assert len(spreads) >= 6
        assert max(spreads) < 1.5, (way, spreads)
    # the same picture with vispy's 16-bit depth buffer shows the stripes this test catches
    monkeypatch.setattr(post, "GL_DEPTH_COMPONENT24", 0x81A5)  # GL_DEPTH_COMPONENT16
    assert max(_pad_spread(canvas, window.layout_)) > 3.0


@pytest.mark.parametrize("view", ["site", "hall-1"])
def test_the_backdrop_draws_the_ground_and_its_fog_as_the_mesh_does(make_window, qtbot, view):
    _, canvas = _paused(make_window, qtbot)
    for layer in ("hydraulic", "robots"):  # flow dots and robots move between the pictures
        canvas.set_layer_visible(layer, False)
    canvas.go_to(view, animate=False)
    canvas.view.camera.elevation = 18.0  # the fog rises over the ground towards the horizon
    pictures = {}
    for way in ("mesh", "backdrop"):
        canvas.sky.ground_way = way
        pictures[way] = canvas.render().astype(int)
        assert canvas.sky.ground_mesh == (way == "mesh")
        assert canvas.site.node.visible == (way == "mesh") != canvas.site.pads.visible
        assert canvas.canvas.bgcolor.rgba[:3] == pytest.approx(
            (canvas.sky.haze if way == "mesh" else canvas.sky.clear_color)[:3]
        )
    difference = np.abs(pictures["mesh"] - pictures["backdrop"]).max(axis=2)
    # the same picture to a level or two, but along the ground's edge (rasterised apart)
    assert (difference > 2).mean() < 0.003, (difference > 2).mean()
    # and the fog it draws is there: without it, much of the ground is another colour
    canvas.fog.enabled = False
    clear = canvas.render().astype(int)
    canvas.fog.enabled = True
    changed = np.abs(clear - pictures["backdrop"]).max(axis=2)
    assert (changed > 1).mean() > 0.02
    # "auto" picks the way that fills fewer pixels: the ground fills a hall's view
    canvas.sky.ground_way = "auto"
    canvas.render()
    if view == "hall-1":
        assert not canvas.sky.ground_mesh


def test_no_fragment_shader_of_the_view_may_discard_for_picking_or_clipping(make_window, qtbot):
    """Software OpenGL runs a shader that may discard without its early depth test: the
    view's scene carries neither vispy's picking filter nor its view box's clipper."""
    _, canvas = _paused(make_window, qtbot)
    canvas.set_layer_visible("labels", True)
    canvas.go_to("site", animate=False)
    canvas.render()

    def visuals(node):
        if hasattr(node, "view_program"):
            yield node
        for child in node.children:
            yield from visuals(child)

    checked = list(visuals(canvas.view.scene)) + list(visuals(canvas.labels.root))
    assert len(checked) > 20
    for visual in checked:
        for part in getattr(visual, "_subvisuals", None) or [visual]:
            fragment = part.view_program.frag.compile()
            assert "picking_filter" not in fragment, visual
            assert "fb_to_clip" not in fragment, visual
