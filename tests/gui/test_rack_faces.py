"""The racks draw only the faces that can turn towards the camera: the same picture for
fewer vertices."""

from __future__ import annotations

import numpy as np
import pytest

from twin.gui._vispy.geometry import ALL_FACES, BOTTOM, faces_facing, unit_cube

pytestmark = pytest.mark.gui


def test_faces_facing_an_eye_outside_and_inside_the_boxes_extent():
    lower = np.array([[0.0, 0.0, 0.0], [10.0, 0.0, 0.0]])
    upper = np.array([[1.0, 1.0, 2.0], [11.0, 1.0, 2.0]])
    # south-east of both, above: tops, east and south faces
    assert faces_facing([20.0, -5.0, 30.0], lower, upper) == {(2, 1), (0, 1), (1, -1)}
    # between the two in x: each shows the eye a different x face
    assert faces_facing([5.0, -5.0, 30.0], lower, upper) == {(2, 1), (0, 1), (0, -1), (1, -1)}
    # below the tops (a low camera between rows): no top
    assert (2, 1) not in faces_facing([20.0, -5.0, 1.0], lower, upper)
    vertices, triangles, greys = unit_cube(frozenset({(2, 1), (0, 1)}))
    assert vertices.shape == (8, 3) and triangles.shape == (4, 3) and greys.shape == (8, 4)


def test_the_eye_is_where_the_camera_is(make_window, qtbot):
    window = make_window(running=False)
    canvas = window.canvas
    qtbot.waitUntil(lambda: canvas.frames_drawn > 0, timeout=60_000)
    camera = canvas.view.camera
    eye = canvas.eye_position()
    assert np.linalg.norm(eye - np.asarray(camera.center)) == pytest.approx(
        camera.distance, rel=1e-3
    )
    height = eye[2] - camera.center[2]
    assert height == pytest.approx(camera.distance * np.sin(np.radians(camera.elevation)), rel=1e-3)


def test_the_site_view_draws_three_faces_a_rack_and_the_same_picture(
    make_window, qtbot, monkeypatch
):
    window = make_window(running=False)
    canvas = window.canvas
    qtbot.waitUntil(lambda: window.snapshot is not None, timeout=30_000)
    canvas.go_to("site", animate=False)
    shown = canvas.render()
    racks = canvas.racks
    assert len(racks.faces) == 3 and (2, 1) in racks.faces
    assert racks.node.mesh_data.get_vertices().shape[0] == 12  # instead of 20
    assert sum(node.visible for node in racks._nodes.values()) == 1
    # every face but the bottom (an eye among the racks faces them all): the same picture
    middle = (racks._drawn.lower_m.min(axis=0) + racks._drawn.upper_m.max(axis=0)) / 2
    racks.set_eye(middle + np.array([0.0, 0.0, 100.0]))
    assert racks.faces == ALL_FACES - {BOTTOM}
    assert racks.node.mesh_data.get_vertices().shape[0] == 20
    monkeypatch.setattr(racks, "set_eye", lambda eye: None)  # the render keeps them all
    assert np.array_equal(canvas.render(), shown)
    monkeypatch.undo()
    # a closer view, from among the halls: the faces turned towards it there
    canvas.go_to(window.topology.hall_names[0], animate=False)
    canvas.render()
    eye = canvas.eye_position()
    assert racks.faces == faces_facing(eye, racks._drawn.lower_m, racks._drawn.upper_m) - {BOTTOM}
