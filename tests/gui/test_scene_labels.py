"""Scene labels: one Text visual per style for the whole site, whichever adapter owns the
label; a hidden layer blanks its own labels and no others."""

from __future__ import annotations

import numpy as np
import pytest
from vispy.scene import visuals

pytestmark = pytest.mark.gui


def _text_visuals(canvas) -> list[visuals.Text]:
    return [node for node in canvas.labels.root.children if isinstance(node, visuals.Text)]


def test_labels_of_one_style_share_one_visual_across_adapters(make_window, qtbot):
    window = make_window(running=False)
    canvas = window.canvas
    qtbot.waitUntil(lambda: canvas.labels.visible, timeout=5000)
    texts = _text_visuals(canvas)
    styles = {(t.font_size, t.bold, t.anchors[1]) for t in texts}
    assert len(texts) == len(styles) == 3  # titles, status lines, workcell names
    titles = next(t for t in texts if t.bold)
    hall_names = list(window.topology.hall_names)
    assert titles.text[:len(hall_names)] == hall_names
    assert "Cooling yard" in titles.text and "Substation & backup power" in titles.text
    assert len(titles.pos) == len(titles.text)
    # no adapter keeps text visuals of its own
    for adapter in canvas.adapters:
        assert not [n for n in adapter.root.children if isinstance(n, visuals.Text)]


def test_a_hidden_layer_blanks_only_its_own_labels(make_window, qtbot):
    window = make_window(running=False)
    canvas = window.canvas
    qtbot.waitUntil(lambda: window.snapshot is not None and canvas.labels.visible,
                    timeout=5000)
    titles = next(t for t in _text_visuals(canvas) if t.bold)
    canvas.set_layer_visible("electrical", False)
    assert "Substation & backup power" not in titles.text
    assert "Cooling yard" in titles.text  # the hydraulic layer's, still shown
    assert not canvas.substation.title.visible and canvas.yard.title.visible
    assert canvas.substation.title.text == "Substation & backup power"  # kept, not drawn
    canvas.set_layer_visible("electrical", True)
    assert "Substation & backup power" in titles.text
    canvas.set_layer_visible("labels", False)
    assert not canvas.labels.root.visible and not canvas.yard.title.visible
    canvas.set_layer_visible("labels", True)
    assert canvas.yard.title.visible


def test_value_labels_change_only_their_own_text(make_window, qtbot):
    window = make_window(running=False)
    canvas = window.canvas
    qtbot.waitUntil(lambda: window.snapshot is not None and canvas.labels.visible,
                    timeout=5000)
    status = next(t for t in _text_visuals(canvas) if t.anchors[1] == "bottom")
    before = list(status.text)
    canvas.yard.set_text(canvas.yard.status, "facility water test")
    canvas.labels.flush()
    after = list(status.text)
    changed = [k for k, (a, b) in enumerate(zip(before, after, strict=True)) if a != b]
    assert len(changed) == 1 and after[changed[0]] == "facility water test"
    with pytest.raises(ValueError, match="labels here"):
        canvas.halls.set_text(canvas.halls.air_labels, ["only one"] * 99)


def test_labels_are_drawn_after_every_adapter_so_no_box_covers_them(make_window, qtbot):
    from vispy.scene.visuals import VisualNode

    window = make_window(running=False)
    canvas = window.canvas
    qtbot.waitUntil(lambda: canvas.labels.visible, timeout=5000)
    order = []
    original = VisualNode.draw

    def record(node):
        order.append(node)
        original(node)

    VisualNode.draw = record
    try:
        canvas.render()
    finally:
        VisualNode.draw = original
    texts = set(_text_visuals(canvas))
    boxes = [k for k, node in enumerate(order)
             if type(node).__name__ == "InstancedMesh"]
    first_label = min(k for k, node in enumerate(order) if node in texts)
    assert boxes and first_label > max(boxes)


def _board_with_two_labels():
    from vispy.scene import Node

    from twin.gui._vispy.base import LabelBoard, LabelStyle

    board = LabelBoard(Node())
    owners = object(), object()
    style = LabelStyle(size=10.0)
    low = board.add(owners[0], ["workcell A", "workcell B"], [[0, 0, 0], [500, 0, 0]], style,
                    rank=1)
    high = board.add(owners[1], "Hall 1", [2, 0, 0], style, rank=2)
    board.flush()
    return board, low, high, board._visuals[style]


def test_overlapping_labels_leave_the_lower_ranked_out():
    board, low, high, visual = _board_with_two_labels()

    def flat(points):  # 1 m a pixel, seen from above
        return np.asarray(points, float)[:, :2]

    board.declutter(flat, px_per_pt=1.0)
    # "workcell A" at x=0 runs ~62 px to the right and covers "Hall 1" at x=2: it goes
    assert list(visual.text) == ["", "workcell B", "Hall 1"]
    assert low.text == ["workcell A", "workcell B"]  # kept, only not drawn
    assert list(low.crowded) == [True, False] and not high.crowded.any()

    def spread(points):  # zoomed in: 100 px a metre
        return 100 * np.asarray(points, float)[:, :2]

    board.declutter(spread, px_per_pt=1.0)
    assert list(visual.text) == ["workcell A", "workcell B", "Hall 1"]


def test_a_hidden_owner_crowds_out_nobody():
    board, _, high, visual = _board_with_two_labels()
    board.show_owner(high.owner, False)
    board.declutter(lambda points: np.asarray(points, float)[:, :2], px_per_pt=1.0)
    assert list(visual.text) == ["workcell A", "workcell B", ""]


def test_the_gigawatt_site_view_draws_no_label_over_another(make_window, qtbot):
    from twin.gui._vispy.base import EM_WIDTH, LINE_HEIGHT

    window = make_window("gigawatt", running=False)
    canvas = window.canvas
    qtbot.waitUntil(lambda: window.snapshot is not None and canvas.labels.visible,
                    timeout=10000)
    canvas.go_to("site", animate=False)
    canvas.render()
    boxes = []
    px_per_pt = canvas.canvas.dpi / 72.0
    for labels in canvas.labels._labels.values():
        for label in labels:
            anchors = canvas.screen_positions(label.positions)
            em = label.style.size * px_per_pt
            for text, (x, y) in zip(label.shown_texts(), anchors, strict=True):
                if text:
                    height = LINE_HEIGHT * em
                    top = y if label.style.below else y - height
                    boxes.append((x, top, x + len(text) * EM_WIDTH * em, top + height))
    assert len(boxes) >= 5  # yard, substation and some halls still named
    for k, a in enumerate(boxes):
        for b in boxes[k + 1:]:
            assert not (a[0] < b[2] and b[0] < a[2] and a[1] < b[3] and b[1] < a[3])
    shown_titles = next(t for t in canvas.labels._visuals.values() if t.bold).text
    assert "Cooling yard" in shown_titles and "Substation & backup power" in shown_titles
    # closer, a hall's name comes back
    hall = window.topology.hall_names[-1]
    canvas.go_to(hall, animate=False)
    canvas.render()
    assert hall in next(t for t in canvas.labels._visuals.values() if t.bold).text
