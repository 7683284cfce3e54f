"""The scene labels' type: the shipped NanumSquare (Hangul and Latin alike), given to vispy,
and the width of a text in it, for the label layout.

vispy finds a face by name through the system's fonts (fontconfig), or among fonts
registered with it as ``<face>-Regular.ttf`` and ``<face>-Bold.ttf`` in a folder. The
machines twin runs on often have no Korean font at all (Debian's Mesa/Xvfb images have
none), so the shipped files are registered: copied once, under those names, to twin's
cache folder. Where that cannot be written, the labels fall back to vispy's own
OpenSans (Latin only) and say so in the log.
"""

from __future__ import annotations

import functools
import logging
import shutil
from dataclasses import dataclass, field
from pathlib import Path

from vispy.util.fonts import register_vispy_font

from twin.paths import cache_dir
from twin.resources import resource_dir

log = logging.getLogger("twin.gui")

FACE = "NanumSquare"
SHIPPED = {False: "NanumSquareR.ttf", True: "NanumSquareB.ttf"}  # by bold
FALLBACK_FACE = "OpenSans"  # vispy's own font, always there
_MEASURE_PX = 64  # freetype renders at this size to measure; widths are in ems


@dataclass
class LabelFont:
    """A face vispy can draw, and the files to measure text in it."""

    face: str
    files: dict[bool, Path]  # by bold
    _advances: dict[tuple[bool, str], float] = field(default_factory=dict)

    @functools.cached_property
    def _faces(self):
        import freetype  # vispy's own dependency for text

        faces = {}
        for bold, path in self.files.items():
            face = freetype.Face(str(path))
            face.set_pixel_sizes(0, _MEASURE_PX)
            faces[bold] = face
        return faces

    @property
    def line_em(self) -> float:
        """The height of a line of text (ascender to descender), in ems."""
        face = self._faces[False]
        return (face.ascender - face.descender) / face.units_per_EM

    def width_em(self, text: str, bold: bool = False) -> float:
        """The advance of ``text`` in ems (kerning left out: labels are short)."""
        total = 0.0
        for char in text:
            key = (bold, char)
            if key not in self._advances:
                face = self._faces[bold]
                face.load_char(char)
                self._advances[key] = face.glyph.advance.x / 64 / _MEASURE_PX
            total += self._advances[key]
        return total

    def has_glyph(self, char: str) -> bool:
        return self._faces[False].get_char_index(char) != 0


def _registered(folder: Path) -> dict[bool, Path]:
    """The shipped files under vispy's names in ``folder``, copied there if missing."""
    folder.mkdir(parents=True, exist_ok=True)
    files = {}
    for bold, name in SHIPPED.items():
        source = resource_dir() / "fonts" / name
        target = folder / f"{FACE}-{'Bold' if bold else 'Regular'}.ttf"
        if not target.is_file() or target.stat().st_size != source.stat().st_size:
            partial = target.with_suffix(".part")
            shutil.copyfile(source, partial)
            partial.replace(target)  # whole or not at all, if two windows start at once
        register_vispy_font(folder, FACE, bold, False)
        files[bold] = target
    return files


@functools.cache
def label_font() -> LabelFont:
    """The labels' font, registered with vispy once per process."""
    try:
        return LabelFont(FACE, _registered(cache_dir() / "fonts"))
    except OSError as error:
        log.warning(
            "3D labels: cannot register the shipped NanumSquare font (%s); they use "
            "%s, which has no Hangul",
            error,
            FALLBACK_FACE,
        )
        return fallback_font()


def fallback_font() -> LabelFont:
    """vispy's own OpenSans: always there, Latin only."""
    # the module by its full name: vispy.util.fonts hides it behind a set of the same name
    from vispy.util.fonts._vispy_fonts import _get_vispy_font_filename

    return LabelFont(
        FALLBACK_FACE,
        {
            bold: Path(_get_vispy_font_filename(FALLBACK_FACE, bold, False))
            for bold in (False, True)
        },
    )
