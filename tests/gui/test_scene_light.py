"""Depth and framing of the 3D view: a sky gradient behind the site, floors pushed behind
what stands on them, and viewpoints that fill the view's shape."""

from __future__ import annotations

import numpy as np
import pytest

from twin.gui._vispy.sky import DARK_SKY

pytestmark = pytest.mark.gui


def _reach(canvas, corners: np.ndarray) -> tuple[float, np.ndarray]:
    """How far the corners reach towards the view's edges (1: touching the nearer pair),
    and the corners on screen."""
    width, height = canvas.canvas.size
    pixels, in_front = canvas.project(corners)
    assert in_front.all()
    reach = max(
        np.abs(pixels[:, 0] - width / 2).max() / (width / 2),
        np.abs(pixels[:, 1] - height / 2).max() / (height / 2),
    )
    return reach, pixels


@pytest.mark.parametrize("scenario", ["seoul-ai-factory", "gigawatt"])
def test_the_start_view_frames_the_built_site_to_fill_the_view(make_window, qtbot, scenario):
    window = make_window(scenario, running=False)
    canvas = window.canvas
    qtbot.waitUntil(lambda: canvas._framed_for == tuple(canvas.canvas.size), timeout=30_000)
    canvas.render()
    reach, pixels = _reach(canvas, canvas._framed["site"])
    assert 0.85 <= reach <= 1.0  # the built site fills the view, nothing cut off
    width, height = canvas.canvas.size
    assert np.all((pixels >= 0) & (pixels <= [width, height]))
    # every viewpoint is fitted the same way
    for key in ("yard", "substation", window.topology.hall_names[0]):
        canvas.go_to(key, animate=False)
        canvas.render()
        assert 0.85 <= _reach(canvas, canvas._framed[key])[0] <= 1.0, key
    # a resized view is framed again, and a camera someone moved stays where it is
    moved = canvas.current_viewpoint()
    window.resize(900, 900)
    qtbot.waitUntil(
        lambda: canvas._framed_for == tuple(canvas.canvas.size) and canvas.canvas.size[0] < 900,
        timeout=30_000,
    )
    assert canvas.current_viewpoint().center == pytest.approx(moved.center)
    canvas.go_to("site", animate=False)
    canvas.render()
    assert 0.85 <= _reach(canvas, canvas._framed["site"])[0] <= 1.0


def test_a_sky_gradient_above_the_horizon_replaces_the_flat_background(make_window, qtbot):
    window = make_window(running=False)
    canvas = window.canvas
    qtbot.waitUntil(lambda: window.snapshot is not None, timeout=30_000)
    canvas.view.camera.elevation = 4.0  # low: the horizon crosses the view
    image = canvas.render().astype(int)
    horizon = canvas.horizon_px()
    height = image.shape[0]
    assert 0 < horizon < height
    assert canvas.sky.node.visible and canvas.sky.sky_shown
    top, at_horizon = image[1, 1], image[max(int(horizon) - 2, 0), 1]
    assert np.abs(top - at_horizon).max() > 10  # a gradient, not one colour
    np.testing.assert_allclose(at_horizon, 255 * DARK_SKY[1][:3], atol=12)  # the haze
    assert image[:, 0].mean(axis=1).min() > 8  # no black anywhere down the edge
    # drawn with the ground after the opaque boxes, at the far plane: only where nothing is
    assert canvas.sky.node.order == canvas.site.root.order > canvas.racks.root.order
    assert canvas.sky.node._vshare.gl_state["depth_test"]
    # seen from high above, the horizon leaves the view and the sky is not drawn at all
    canvas.view.camera.elevation = 80.0
    canvas.render()
    assert canvas.horizon_px() <= 0 and not canvas.sky.sky_shown


def test_floors_are_pushed_behind_what_stands_on_them(make_window, qtbot):
    window = make_window(running=False)
    canvas = window.canvas

    def offset(node) -> tuple[bool, tuple | None]:
        state = node._vshare.gl_state
        return state.get("polygon_offset_fill", False), state.get("polygon_offset")

    ground, floors, pedestals = (
        offset(canvas.site.node),
        offset(canvas.halls.floor),
        offset(canvas.workcells.node),
    )
    assert ground[0] and floors[0] and pedestals[0]
    assert ground[1][1] > floors[1][1] == pedestals[1][1] > 0  # ground behind the floors
    # what stands on them has none, and resets what a floor drawn before it set
    for node in (
        canvas.halls.walls,
        canvas.racks.node,
        canvas.robots.boxes.node,
        canvas.robots.zones,
    ):
        assert offset(node) == (False, None)
        assert "polygon_offset_fill" in node._vshare.gl_state
