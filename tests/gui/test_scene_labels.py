"""Scene labels: one Text visual per style for the whole site, whichever adapter owns the
label; a hidden layer blanks its own labels and no others."""

from __future__ import annotations

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
