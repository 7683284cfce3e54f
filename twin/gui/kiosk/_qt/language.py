"""The kiosk's languages and type: Qt translations, and a shipped font that has Hangul.

Captions are written in English in the story file and translated through Qt's
translation system: ``resources/i18n/twin_<lang>.ts`` holds the translations of the
overlay's labels (context ``kiosk``) and of the built-in stories' texts (context
``story``), compiled with ``pyside6-lrelease`` into the ``.qm`` file loaded here. A story
file of one's own may bring ``<story>_<lang>.qm`` beside it.

Type: NanumSquare (SIL Open Font License, ``resources/fonts``), registered by
``twin.gui._qt.language.hangul_font_family`` as for the main window, covers all 11,172
Hangul syllables and Latin, so both languages look alike and render on machines without a
Korean font.
"""

from __future__ import annotations

import logging
from pathlib import Path

from PySide6.QtCore import QTranslator

from twin.resources import resource_dir

log = logging.getLogger("twin.kiosk")

SOURCE_LANGUAGE = "en"
LANGUAGES = ("en", "ko")


def i18n_dir() -> Path:
    return resource_dir() / "i18n"


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
