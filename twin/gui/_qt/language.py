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
from dataclasses import dataclass, field
from functools import cache

from PySide6.QtCore import QCoreApplication, QTranslator
from PySide6.QtGui import QFont, QFontDatabase
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


@dataclass
class InstalledLanguage:
    """What ``install_language`` changed in the application, for ``remove_language``."""

    translators: list[QTranslator] = field(default_factory=list)
    font_fallback: bool = False  # the application's font has the Hangul one behind it


# the application's font before the Hangul fallback, and how many installs still use it
# (a window opened in Korean replaces another in Korean before the other closes)
_font_before: list[QFont] = []
_fallback_users = 0


def install_language(language: str) -> InstalledLanguage:
    """Install the translators of ``language`` in the application (none for English, the
    source language) and make sure its widgets can draw it."""
    if language not in LANGUAGES:
        raise ValueError(f"no language {language!r}; the window speaks {', '.join(LANGUAGES)}")
    installed = InstalledLanguage()
    if language == SOURCE_LANGUAGE:
        return installed
    global _fallback_users
    app = QCoreApplication.instance()
    if isinstance(app, QApplication):
        if _fallback_users == 0:
            font = app.font()
            _font_before[:] = [QFont(font)]
            font.setFamilies([*font.families(), hangul_font_family()])
            app.setFont(font)
        _fallback_users += 1
        installed.font_fallback = True
    for catalogue in CATALOGUES:
        path = resource_dir() / "i18n" / f"{catalogue}_{language}.qm"
        translator = QTranslator()
        if path.is_file() and translator.load(str(path)):
            QCoreApplication.installTranslator(translator)
            installed.translators.append(translator)
        else:
            log.warning("no %s translation at %s; those texts stay in English", language, path)
    return installed


def remove_language(installed: InstalledLanguage) -> None:
    """Undo ``install_language``: the translators out, the application's font as it was."""
    for translator in installed.translators:
        QCoreApplication.removeTranslator(translator)
    installed.translators.clear()
    global _fallback_users
    app = QCoreApplication.instance()
    if installed.font_fallback and isinstance(app, QApplication):
        installed.font_fallback = False
        _fallback_users -= 1
        if _fallback_users == 0:
            app.setFont(_font_before.pop())
