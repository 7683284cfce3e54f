"""Large type drawn once into an image, then shown as that image in every frame.

Qt's OpenGL painter keeps a texture of glyphs only for type up to 64 px; larger type it
fills glyph by glyph as outlines through the stencil, twice over each glyph's area and
without smoothing (jagged edges). The kiosk's KPI values and clock at 4K are 100-120 px:
under software OpenGL their outlines cost about a tenth of a frame's CPU. An image of
the text, drawn by Qt's raster painter (smoothed), is one textured rectangle a frame,
and is drawn again only when the text changes.
"""

from __future__ import annotations

import math
from collections import OrderedDict

from PySide6.QtCore import QPointF, QRectF, Qt
from PySide6.QtGui import QColor, QFont, QFontMetricsF, QImage, QPainter

# Qt's largest glyph kept in its glyph texture (QT_MAX_CACHED_GLYPH_SIZE, qpaintengineex.cpp)
CACHED_GLYPH_PX = 64
IMAGES_KEPT = 32  # a few frames' worth of texts (five KPI values, the clock, a caption)
_BLEED_PX = 2  # smoothed edges and overhanging glyphs reach this far past the text's box


class TextImages:
    """Texts drawn into images, the ``IMAGES_KEPT`` last used kept (each an OpenGL
    texture while kept: Qt frees the texture with its image)."""

    def __init__(self, kept: int = IMAGES_KEPT) -> None:
        if kept < 1:
            raise ValueError(f"at least one image must be kept, not {kept}")
        self.kept = kept
        self._images: OrderedDict[tuple, tuple[QPointF, QImage]] = OrderedDict()
        self.drawn = 0  # images drawn so far (each a text that was not kept)

    def __len__(self) -> int:
        return len(self._images)

    def draw(
        self,
        painter: QPainter,
        rect: QRectF,
        flags: int | Qt.AlignmentFlag,
        text: str,
        font: QFont,
        color: QColor,
    ) -> None:
        """Draw ``text`` as ``painter.drawText(rect, flags, text)`` would in ``font`` and
        ``color``: large type from an image, smaller type directly (the glyph texture
        draws it at least as fast)."""
        if font.pixelSize() <= CACHED_GLYPH_PX or not text:
            painter.setFont(font)
            painter.setPen(color)
            painter.drawText(rect, int(flags), text)
            return
        ratio = painter.device().devicePixelRatio()
        # the image lies on whole pixels; the text keeps its place to a fraction of one
        left, top = math.floor(rect.left()), math.floor(rect.top())
        offset = QPointF(rect.left() - left, rect.top() - top)
        size, shift = rect.size().toTuple(), offset.toTuple()
        key = (text, font.key(), color.rgba(), int(flags), ratio, size, shift)
        kept = self._images.get(key)
        if kept is None:
            kept = self._images[key] = self._render(rect, offset, flags, text, font, color, ratio)
            self.drawn += 1
            while len(self._images) > self.kept:
                self._images.popitem(last=False)
        else:
            self._images.move_to_end(key)
        corner, image = kept
        painter.drawImage(QPointF(left, top) + corner, image)

    @staticmethod
    def _render(
        rect: QRectF,
        offset: QPointF,
        flags: int | Qt.AlignmentFlag,
        text: str,
        font: QFont,
        color: QColor,
        ratio: float,
    ) -> tuple[QPointF, QImage]:
        """The text's image, as small as the text (not its rect), and where its corner
        lies from the rect's whole-pixel corner."""
        local = QRectF(offset, rect.size())
        inked = QFontMetricsF(font).boundingRect(local, int(flags), text)
        box = inked.adjusted(-_BLEED_PX, -_BLEED_PX, _BLEED_PX, _BLEED_PX).toAlignedRect()
        image = QImage(
            math.ceil(box.width() * ratio),
            math.ceil(box.height() * ratio),
            QImage.Format.Format_ARGB32_Premultiplied,
        )
        image.setDevicePixelRatio(ratio)
        image.fill(Qt.GlobalColor.transparent)
        painter = QPainter(image)
        try:
            painter.setRenderHint(QPainter.RenderHint.TextAntialiasing)
            painter.setFont(font)
            painter.setPen(color)
            painter.translate(-box.left(), -box.top())
            painter.drawText(local, int(flags), text)
        finally:
            painter.end()
        return QPointF(box.left(), box.top()), image
