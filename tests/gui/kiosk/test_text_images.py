"""The kiosk overlay's large type drawn from images: where and how drawText would draw
it, each text drawn once while kept, a bounded number kept, small type drawn as text."""

from __future__ import annotations

import numpy as np
import pytest
from PySide6.QtCore import QRectF, Qt
from PySide6.QtGui import QColor, QFont, QImage, QPainter

from twin.gui._qt.language import hangul_font_family
from twin.gui.kiosk._qt.text_images import CACHED_GLYPH_PX, TextImages

pytestmark = pytest.mark.gui

BACKGROUND = QColor(8, 14, 22)
INK = QColor("#f2f6fa")
CENTRED_WRAPPED = int(Qt.AlignmentFlag.AlignCenter | Qt.TextFlag.TextWordWrap)


def _font(pixels: int, bold: bool = True) -> QFont:
    font = QFont(hangul_font_family())
    font.setPixelSize(pixels)
    font.setBold(bold)
    return font


def _picture(draw) -> np.ndarray:
    """What ``draw(painter)`` paints on a dark 900 x 400 px image, as (h, w, 4) levels."""
    image = QImage(900, 400, QImage.Format.Format_ARGB32_Premultiplied)
    image.fill(BACKGROUND)
    painter = QPainter(image)
    painter.setRenderHint(QPainter.RenderHint.TextAntialiasing)
    try:
        draw(painter)
    finally:
        painter.end()
    pixels = image.constBits()
    return np.frombuffer(pixels, np.uint8).reshape(400, 900, 4).astype(int).copy()


@pytest.mark.parametrize(
    ("rect", "flags", "text"),
    [
        (QRectF(40.3, 30.6, 800, 140), int(Qt.AlignmentFlag.AlignLeft), "23.6 MW"),
        (QRectF(10, 20, 700, 130), int(Qt.AlignmentFlag.AlignRight), "18:45"),
        (QRectF(20.5, 10, 860, 380), CENTRED_WRAPPED, "Tokens fall while the pumps are out"),
    ],
)
def test_large_type_lands_where_drawtext_puts_it(qapp, rect, flags, text):
    font = _font(120)
    images = TextImages()

    def direct(painter: QPainter) -> None:
        painter.setFont(font)
        painter.setPen(INK)
        painter.drawText(rect, flags, text)

    expected = _picture(direct)
    drawn = _picture(lambda painter: images.draw(painter, rect, flags, text, font, INK))
    assert images.drawn == 1 and len(images) == 1
    inked = np.abs(expected - _picture(lambda painter: None)).max(axis=2) > 40
    assert inked.sum() > 2000  # the text is there to compare
    assert np.abs(drawn - expected).max() <= 2


def test_each_text_is_drawn_once_while_kept_and_no_more_are_kept(qapp):
    images = TextImages(kept=3)
    font = _font(100)
    rect = QRectF(0, 0, 600, 120)
    flags = int(Qt.AlignmentFlag.AlignLeft)
    for _ in range(2):
        _picture(lambda painter: images.draw(painter, rect, flags, "48.38 Mtok/s", font, INK))
    assert images.drawn == 1
    for value in range(5):
        _picture(lambda painter, v=value: images.draw(painter, rect, flags, f"{v} MW", font, INK))
    assert len(images) == 3 and images.drawn == 6
    # another colour or place is another image
    _picture(lambda painter: images.draw(painter, rect, flags, "4 MW", font, QColor("#ff5252")))
    moved = rect.translated(0.5, 0)
    _picture(lambda painter: images.draw(painter, moved, flags, "4 MW", font, INK))
    assert images.drawn == 8


def test_small_type_and_empty_text_are_drawn_as_text(qapp):
    images = TextImages()
    small = _font(CACHED_GLYPH_PX)
    rect = QRectF(10, 10, 500, 100)
    picture = _picture(lambda painter: images.draw(painter, rect, 0, "PUE 1.148", small, INK))
    _picture(lambda painter: images.draw(painter, rect, 0, "", _font(120), INK))
    assert len(images) == 0 and images.drawn == 0
    blank = _picture(lambda painter: None)
    assert (np.abs(picture - blank).max(axis=2) > 40).sum() > 200


def test_at_least_one_image_must_be_kept():
    with pytest.raises(ValueError, match="at least one image"):
        TextImages(kept=0)
