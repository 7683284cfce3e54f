"""Scene labels: a screen-space layer over the view, one Text visual per style for the
whole site whichever adapter owns the label; a hidden layer blanks its own labels and no
others; after layout no plate leaves the view or overlaps another, every hall is named,
and in Korean the labels are Korean, drawn in a font that has the glyphs."""

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
    qtbot.waitUntil(lambda: canvas.labels.visible, timeout=30_000)
    texts = _text_visuals(canvas)
    styles = canvas.labels._visuals
    assert len(texts) == len(styles) == 3  # titles, status lines, workcell names
    assert set(texts) == set(styles.values())
    titles = next(t for t in texts if t.bold)
    hall_names = list(window.topology.hall_names)
    assert titles.text[: len(hall_names)] == hall_names  # English: the scenario's names
    assert "Cooling yard" in titles.text and "Substation & backup power" in titles.text
    assert len(titles.pos) == len(titles.text)
    # no adapter keeps text visuals of its own
    for adapter in canvas.adapters:
        assert not [n for n in adapter.root.children if isinstance(n, visuals.Text)]
    # large type reads its distance field once a pixel, not through a 16-read filter
    for text in texts:
        shader = text._program.frag.compile()
        assert "CatRom2D" not in shader and shader.count("texture2D(") <= 5


def test_a_hidden_layer_blanks_only_its_own_labels(make_window, qtbot):
    window = make_window(running=False)
    canvas = window.canvas
    qtbot.waitUntil(lambda: window.snapshot is not None and canvas.labels.visible, timeout=30_000)
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
    qtbot.waitUntil(lambda: window.snapshot is not None and canvas.labels.visible, timeout=30_000)
    status = next(t for style, t in canvas.labels._visuals.items() if style.below)
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
    qtbot.waitUntil(lambda: canvas.labels.visible, timeout=30_000)
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
    boxes = [k for k, node in enumerate(order) if type(node).__name__ == "InstancedMesh"]
    first_label = min(k for k, node in enumerate(order) if node in texts)
    assert boxes and first_label > max(boxes)


def _overlaps(a, b) -> bool:
    return a[0] < b[2] and b[0] < a[2] and a[1] < b[3] and b[1] < a[3]


def _check_layout(canvas) -> list:
    """The placed labels, checked: inside the canvas, none over another."""
    width, height = canvas.canvas.size
    placed = canvas.labels.placed
    for label in placed:
        x0, y0, x1, y1 = label.plate
        assert 0 <= x0 < x1 <= width and 0 <= y0 < y1 <= height, label
    for k, a in enumerate(placed):
        for b in placed[k + 1 :]:
            assert not _overlaps(a.plate, b.plate), (a, b)
    return placed


def test_lay_out_moves_crowded_names_aside_and_keeps_plates_in_the_view():
    from twin.gui._vispy.label_layer import lay_out

    anchors = np.array([[100, 100], [102, 101], [104, 100], [395, 50], [-10, 50]], float)
    sizes = np.array([[80, 20], [80, 20], [80, 20], [60, 20], [40, 20]], float)
    below = np.zeros(5, bool)
    seen = np.array([True, True, True, True, False])
    movable = np.array([True, True, False, True, True])
    plates, shown = lay_out(anchors, sizes, below, seen, (400, 300), movable)
    # the first keeps its place: left end at its point, just above it
    assert plates[0][0] == 100 and plates[0][3] < 100
    assert shown[1] and not np.allclose(plates[1][:2], [102, 81], atol=2)  # moved aside
    assert not shown[2]  # a value label whose place is taken is left out
    assert shown[3] and plates[3][2] <= 400  # slid back in at the right edge
    assert not shown[4]  # its point is outside the view
    kept = plates[shown]
    for k, a in enumerate(kept):
        assert a[0] >= 0 and a[2] <= 400 and a[1] >= 0 and a[3] <= 300
        for b in kept[k + 1 :]:
            assert not _overlaps(a, b)


def test_every_hall_of_the_gigawatt_site_is_named_and_no_label_overlaps(make_window, qtbot):
    window = make_window("gigawatt", running=False)
    canvas = window.canvas
    qtbot.waitUntil(lambda: window.snapshot is not None and canvas.labels.visible, timeout=30_000)
    for view in ("site", "yard", "substation", *window.topology.hall_names):
        canvas.go_to(view, animate=False)
        canvas.render()
        placed = _check_layout(canvas)
        if view == "site":
            texts = {label.text for label in placed}
            assert set(window.topology.hall_names) <= texts
            assert {"Cooling yard", "Substation & backup power"} <= texts
            assert "assembly-1" in texts and "assembly-1 (assembly)" not in texts
            moved = [label for label in placed if label.moved]
            assert all(label.style.size >= 8 for label in moved)
    assert canvas.labels.leaders.visible or not any(label.moved for label in placed)


def test_labels_grow_with_the_view_and_stay_on_top(make_window, qtbot):
    window = make_window(running=False)
    canvas = window.canvas
    qtbot.waitUntil(lambda: window.snapshot is not None and canvas.labels.visible, timeout=30_000)
    canvas.render()
    height = canvas.canvas.size[1]
    canvas.labels.min_fraction = 1 / 40
    canvas.render()
    titles = [label for label in canvas.labels.placed if label.style.bold]
    assert titles
    for label in titles:  # the plate is the text's line and padding: the text at least
        assert label.plate[3] - label.plate[1] >= height / 40
    # drawn after the view's scene, without depth test: no box covers a label
    assert canvas.labels.root.parent is canvas.view
    assert canvas.labels.root.order > canvas.view.scene.order
    for visual in (*canvas.labels._visuals.values(), canvas.labels.plates):
        assert not visual._vshare.gl_state.get("depth_test", True)


def _hangul(text: str) -> str:
    return "".join(ch for ch in text if "\uac00" <= ch <= "\ud7a3")


def test_korean_mode_labels_the_scene_in_korean(make_window, qtbot, qapp):
    from twin.gui.kiosk._qt.language import load_translators

    translators = load_translators("ko")
    for translator in translators:
        qapp.installTranslator(translator)
    try:
        window = make_window(running=False)
        canvas = window.canvas
        qtbot.waitUntil(
            lambda: (
                window.snapshot is not None and canvas.labels.visible and bool(canvas.labels.placed)
            ),
            timeout=30_000,
        )
        canvas.render()
        texts = {label.text for label in canvas.labels.placed}
        assert "냉각 야드" in texts and "홀 1" in texts
        # value lines too, placed or not
        assert all(text.startswith("공기 ") for text in canvas.halls.air_labels.text)
        assert "설비 냉각수" in canvas.yard.status.text
        font = canvas.labels.font
        assert font.face == "NanumSquare"
        assert all(visual.face == "NanumSquare" for visual in canvas.labels._visuals.values())
        syllables = set(_hangul("".join(texts)))
        assert syllables and all(font.has_glyph(ch) for ch in syllables)
        # drawn: the plate of a Korean title carries text pixels, not an empty plate
        image = canvas.render().astype(int)
        title = next(label for label in canvas.labels.placed if label.text == "냉각 야드")
        x0, y0, x1, y1 = (round(v) for v in title.plate)
        inner = image[y0 + 3 : y1 - 3, x0 + 3 : x1 - 3]
        bright = inner.mean(axis=2) > 160  # light text on the dark theme's plate
        assert bright.sum() > 40
    finally:
        for translator in translators:
            qapp.removeTranslator(translator)


def test_a_glyph_distance_field_is_made_once_a_process_and_drawn_as_vispy_draws_it():
    from vispy.visuals.text.text import SDFRendererCPU

    from twin.gui._vispy import label_layer

    # a glyph as vispy hands it over: a 256-point bitmap with its spread, here a ring
    y, x = np.mgrid[:160, :128]
    radius = np.hypot(y - 80, x - 64)
    data = np.where((radius > 20) & (radius < 40), 255, 0).astype(np.uint8)
    size = (32, 40)  # stored 4x smaller
    expected = np.zeros((48, 48, 3), np.uint8)
    SDFRendererCPU().render_to_texture(data, expected, (5, 3), size)
    kept = len(label_layer._DISTANCE_FIELDS)
    for _ in range(2):  # a second board: the field is taken from the first
        atlas = np.zeros_like(expected)
        label_layer._SharedDistanceFields().render_to_texture(data, atlas, (5, 3), size)
        np.testing.assert_array_equal(atlas, expected)
        assert len(label_layer._DISTANCE_FIELDS) == kept + 1
