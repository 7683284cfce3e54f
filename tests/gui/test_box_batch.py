"""BoxBatch: an adapter's groups of boxes in one InstancedMesh, changed group by group."""

from __future__ import annotations

import numpy as np
import pytest
from vispy.scene import Node

from twin.gui._vispy.geometry import scale_transforms
from twin.gui._vispy.instances import BoxBatch, box_group
from twin.sim.layout import Boxes

RED, BLUE, GREY = (
    np.array(c, np.float32) for c in ((1, 0, 0, 1), (0, 0, 1, 1), (0.5, 0.5, 0.5, 1))
)


def _boxes(count: int, x0: float) -> Boxes:
    centers = np.column_stack([x0 + np.arange(count), np.zeros(count), np.full(count, 0.5)])
    return Boxes(centers, np.ones((count, 3)))


def _batch() -> BoxBatch:
    return BoxBatch(
        {
            "a": box_group(_boxes(3, 0.0), RED),
            "empty": box_group(_boxes(0, 0.0), GREY),
            "b": box_group(_boxes(2, 10.0), np.stack([BLUE, GREY]), shrink_m=0.2),
        },
        Node(),
    )


def test_groups_are_consecutive_slices_of_one_mesh():
    batch = _batch()
    assert batch.node.instance_positions.shape == (5, 3)
    np.testing.assert_allclose(batch.group_positions("b")[:, 0], [10, 11])
    np.testing.assert_allclose(batch.group_colors("a"), np.tile(RED, (3, 1)))
    np.testing.assert_allclose(batch.group_colors("b"), [BLUE, GREY])
    np.testing.assert_allclose(batch.group_transforms("b")[0].diagonal(), [0.8, 0.8, 1.0])
    assert batch.group_colors("empty").shape == (0, 4)
    assert "b" in batch and "c" not in batch
    with pytest.raises(ValueError):
        batch.group_colors("a")[0] = BLUE  # views, not a way around set_colors


def test_a_change_touches_its_group_only_and_reaches_the_mesh_once_sent():
    batch = _batch()
    batch.set_colors("b", RED)
    np.testing.assert_allclose(batch.group_colors("a"), np.tile(RED, (3, 1)))
    np.testing.assert_allclose(batch.group_colors("b"), np.tile(RED, (2, 1)))
    assert not np.allclose(batch.node.instance_colors.rgba[3:], RED)  # not sent yet
    moved = np.array([[0.0, 5.0, 1.0], [1.0, 5.0, 1.0], [2.0, 5.0, 1.0]])
    batch.place("a", moved, scale_transforms(np.full((3, 3), 2.0)))
    batch.send()
    np.testing.assert_allclose(batch.node.instance_colors.rgba, batch.colors)
    np.testing.assert_allclose(batch.node.instance_positions[:3], moved)
    np.testing.assert_allclose(batch.node.instance_positions[3:, 0], [10, 11])
    np.testing.assert_allclose(batch.node.instance_transforms[:3, 0, 0], 2.0)
    np.testing.assert_allclose(batch.node.instance_transforms[3:, 0, 0], 0.8)


def test_a_batch_needs_a_box():
    with pytest.raises(ValueError, match="at least one box"):
        BoxBatch({"empty": box_group(_boxes(0, 0.0), GREY)}, Node())


def test_boxes_on_the_floor_have_no_bottom_to_shade():
    from twin.gui._vispy.geometry import UNIT_CUBE, UNIT_CUBE_ON_FLOOR, box_node

    vertices, faces, greys = UNIT_CUBE_ON_FLOOR
    assert vertices.shape == (20, 3) and faces.shape == (10, 3) and len(greys) == 20
    centres = vertices[faces].mean(axis=1)
    assert not np.any(np.isclose(centres[:, 2], -0.5))  # no face down
    full = UNIT_CUBE[0][UNIT_CUBE[1]].mean(axis=1)
    assert np.isclose(full[:, 2], -0.5).sum() == 2  # the whole cube has its two
    node = box_node(_boxes(4, 0.0), RED, Node(), on_floor=True)
    assert node.mesh_data.get_vertices().shape[0] == 20
