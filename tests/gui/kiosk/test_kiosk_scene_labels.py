"""The kiosk's 3D labels: titles of at least 1/40 of the screen's height, Korean in Korean
mode, and after layout none outside the view or over another."""

from __future__ import annotations

import pytest

from tests.gui.kiosk.test_kiosk import make_kiosk  # noqa: F401 - the kiosk fixture

pytestmark = pytest.mark.gui


def test_kiosk_labels_are_large_and_korean_in_korean_mode(make_kiosk, qtbot):  # noqa: F811
    window = make_kiosk(language="ko")
    canvas = window.canvas
    qtbot.waitUntil(
        lambda: (
            window.snapshot is not None and canvas.labels.visible and bool(canvas.labels.placed)
        ),
        timeout=30_000,
    )
    canvas.render()
    width, height = canvas.canvas.size
    placed = canvas.labels.placed
    titles = [label for label in placed if label.style.bold]
    assert titles and all(label.plate[3] - label.plate[1] >= height / 40 for label in titles)
    assert all(any("\uac00" <= ch <= "\ud7a3" for ch in label.text) for label in titles)
    for k, a in enumerate(placed):
        x0, y0, x1, y1 = a.plate
        assert 0 <= x0 < x1 <= width and 0 <= y0 < y1 <= height
        for b in placed[k + 1 :]:
            assert not (
                a.plate[0] < b.plate[2]
                and b.plate[0] < a.plate[2]
                and a.plate[1] < b.plate[3]
                and b.plate[1] < a.plate[3]
            )
