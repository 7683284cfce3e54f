"""The kiosk's languages and type: Qt translations, and a shipped font that has Hangul.

Captions are written in English in the story file and translated through Qt's
translation system: ``resources/i18n/twin_<lang>.ts`` holds the translations of the
overlay's labels (context ``kiosk``) and of the built-in stories' texts (context
``story``), compiled with ``pyside6-lrelease`` into the ``.qm`` file loaded here. A story
file of one's own may bring ``<story>_<lang>.qm`` beside it.

NanumSquare (SIL Open Font License, ``resources/fonts``) covers all 11,172 Hangul
syllables and Latin, so both languages look alike and render on machines without a
Korean font.
"""

from __future__ import annotations

import logging
from functools import cache
from pathlib import Path

from PySide6.QtCore import QTranslator
from PySide6.QtGui import QFontDatabase

from twin.resources import resource_dir

log = logging.getLogger("twin.kiosk")

SOURCE_LANGUAGE = "en"
LANGUAGES = ("en", "ko")
FONT_FILES = ("NanumSquareR.ttf", "NanumSquareB.ttf")


def i18n_dir() -> Path:
    return resource_dir() / "i18n"


def font_dir() -> Path:
    return resource_dir() / "fonts"


@cache
def kiosk_font_family() -> str:
    """Register the shipped font with Qt, once per process, and return its family."""
    families: list[str] = []
    for name in FONT_FILES:
        path = font_dir() / name
        font_id = QFontDatabase.addApplicationFont(str(path))
        if font_id < 0:
            raise RuntimeError(f"Qt cannot load the kiosk font {path}")
        families += QFontDatabase.applicationFontFamilies(font_id)
    return families[0]


def load_translators(language: str, story_path: Path | None = None) -> list[QTranslator]:
    """Translators for ``language`` (none for English, the source language): twin's own,
    then the story's beside its file, if there is one."""
    if language not in LANGUAGES:
        raise ValueError(f"no language {language!r}; the kiosk speaks {', '.join(LANGUAGES)}")
    if language == SOURCE_LANGUAGE:
        return []
    files = [i18n_dir() / f"twin_{language}.qm"]
    if story_path is not None:
        files.append(story_path.with_name(f"{story_path.stem}_{language}.qm"))
    translators = []
    for path in files:
        if not path.is_file():
            continue
        translator = QTranslator()
        if translator.load(str(path)):
            translators.append(translator)
        else:
            log.warning("kiosk: %s is not a Qt translation file; ignored", path)
    if not translators:
        log.warning("kiosk: no %s translation found; captions stay in English", language)
    return translators
