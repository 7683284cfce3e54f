"""The words of the 3D view's labels, translated with the rest of the interface.

Labels are written in English and go through Qt's translation system (context
``scene`` of ``resources/i18n/twin_<lang>.ts``): whatever translators the application
has installed (the kiosk installs Korean for ``--language ko``) translate them too.
``PHRASES`` lists every text translated here, so that a test can check each has its
translation; phrases with ``{fields}`` are formatted after translation, so a translation
may put the values where its grammar wants them.

Names from the scenario (``hall-1``, ``assembly-1``) are the user's own and stay as
written, except that the words twin's scenarios build them from (``NAME_WORDS``) are
translated: ``hall-1-service`` reads 홀 1 서비스 in Korean.
"""

from __future__ import annotations

import re

from PySide6.QtCore import QCoreApplication

CONTEXT = "scene"

COOLING_YARD = "Cooling yard"
SUBSTATION = "Substation & backup power"
AIR = "air {temperature}"
FACILITY_WATER = "facility water {supply} / {ret}"
DRY_COOLERS = "dry coolers {running}/{total}"
FANS = "fans {percent} %"
CHILLERS = "chillers {running}/{total}"
LOADED = "{percent} % loaded"
UTILITY_ON = "utility on"
UTILITY_LOST = "UTILITY LOST"
BESS_CHARGING_LABEL = "BESS {soc} % charging {power}"
BESS_DISCHARGING_LABEL = "BESS {soc} % discharging {power}"
BESS_IDLE_LABEL = "BESS {soc} % idle"
GENERATORS = "generators {online}/{total}"
KINDS = ("assembly", "humanoid", "service")  # the scenario's workcell kinds
NAME_WORDS = ("hall", "bench", "lab", "cell")  # with the kinds

PHRASES = (
    COOLING_YARD,
    SUBSTATION,
    AIR,
    FACILITY_WATER,
    DRY_COOLERS,
    FANS,
    CHILLERS,
    LOADED,
    UTILITY_ON,
    UTILITY_LOST,
    BESS_CHARGING_LABEL,
    BESS_DISCHARGING_LABEL,
    BESS_IDLE_LABEL,
    GENERATORS,
    *KINDS,
    *NAME_WORDS,
)

_WORD = re.compile(r"[A-Za-z]+|\d+|[^A-Za-z\d]+")


def tr(phrase: str, **fields: object) -> str:
    """``phrase`` in the interface's language, with ``fields`` filled in."""
    text = QCoreApplication.translate(CONTEXT, phrase)
    return text.format(**fields) if fields else text


def display_name(name: str) -> str:
    """A scenario name with its known words translated (unchanged where none is, or in
    English)."""
    parts = _WORD.findall(name)
    words = [tr(part) if part in NAME_WORDS or part in KINDS else part for part in parts]
    if words == parts:
        return name
    # a translated name reads as words: separators become spaces
    return " ".join(word for word in words if word.strip(" -_."))


def workcell_label(name: str, kind: str) -> str:
    """A workcell's name, with its kind where the name does not already say it."""
    shown = display_name(name)
    if kind.lower() in name.lower():
        return shown
    return f"{shown} ({tr(kind)})"
