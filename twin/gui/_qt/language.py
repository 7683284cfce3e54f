"""The main window's languages: Qt translations of its menus, docks and figures, and of the
3D view's labels, and a shipped font that has Hangul for the widgets.

Texts are written in English and translated through Qt's translation system:
``resources/i18n/window_<lang>.ts`` holds the window's own (contexts ``MainWindow`` for
menus and docks, ``kpi`` for the KPI strip), ``twin_<lang>.ts`` the 3D labels' (context
``scene``, shared with the kiosk); each is compiled with ``pyside6-lrelease`` into the
``.qm`` beside it, loaded here.

Debian's desktop images often have no Korean font: the shipped NanumSquare (SIL Open Font
License, ``resources/fonts``) is registered with Qt and put behind the application's font,
so Latin keeps the usual look and Hangul falls back to it.
"""

from __future__ import annotations

import logging
from functools import cache

from PySide6.QtCore import QCoreApplication, QTranslator
from PySide6.QtGui import QFontDatabase
from PySide6.QtWidgets import QApplication

from twin.resources import resource_dir

log = logging.getLogger("twin.gui")

SOURCE_LANGUAGE = "en"
LANGUAGES = {"en": "English", "ko": "한국어"}  # each named in itself, as a menu lists them
CATALOGUES = ("window", "twin")  # resources/i18n/<catalogue>_<lang>.qm, in this order
FONT_FILES = ("NanumSquareR.ttf", "NanumSquareB.ttf")


@cache
def hangul_font_family() -> str:
    """Register the shipped font with Qt, once per process, and return its family."""
    families: list[str] = []
    for name in FONT_FILES:
        path = resource_dir() / "fonts" / name
        font_id = QFontDatabase.addApplicationFont(str(path))
        if font_id < 0:
            raise RuntimeError(f"Qt cannot load the font {path}")
        families += QFontDatabase.applicationFontFamilies(font_id)
    return families[0]


def install_language(language: str) -> list[QTranslator]:
    """Install the translators of ``language`` in the application (none for English, the
    source language) and make sure its widgets can draw it; returns the translators, for
    ``remove_language``."""
    if language not in LANGUAGES:
        raise ValueError(f"no language {language!r}; the window speaks {', '.join(LANGUAGES)}")
    if language == SOURCE_LANGUAGE:
        return []
    app = QCoreApplication.instance()
    if isinstance(app, QApplication):
        font = app.font()
        fallback = hangul_font_family()
        if fallback not in font.families():
            font.setFamilies([*font.families(), fallback])
            app.setFont(font)
    translators = []
    for catalogue in CATALOGUES:
        path = resource_dir() / "i18n" / f"{catalogue}_{language}.qm"
        translator = QTranslator()
        if path.is_file() and translator.load(str(path)):
            QCoreApplication.installTranslator(translator)
            translators.append(translator)
        else:
            log.warning("no %s translation at %s; those texts stay in English", language, path)
    return translators


def remove_language(translators: list[QTranslator]) -> None:
    for translator in translators:
        QCoreApplication.removeTranslator(translator)
