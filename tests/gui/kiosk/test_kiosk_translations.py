"""Korean for everything the kiosk shows: every label in the kiosk's code and every text of
the built-in stories has a finished translation, and the shipped .qm is the one
``pyside6-lrelease`` makes from the .ts (so an edit of the .ts cannot be forgotten)."""

from __future__ import annotations

import subprocess
import sys
import xml.etree.ElementTree as ElementTree
from pathlib import Path

import pytest

import twin.gui.kiosk
from twin.gui.kiosk.story import builtin_stories, load_story, texts
from twin.resources import resource_dir

I18N = resource_dir() / "i18n"
KIOSK_CODE = Path(twin.gui.kiosk.__file__).parent
TOOLS = Path(sys.executable).parent


def _messages(ts: Path) -> dict[tuple[str, str], tuple[str, str | None]]:
    """(context, source) -> (translation, its type: None when finished)."""
    found = {}
    for context in ElementTree.parse(ts).getroot().iter("context"):
        name = context.findtext("name")
        for message in context.iter("message"):
            translation = message.find("translation")
            found[(name, message.findtext("source"))] = (
                translation.text or "",
                translation.get("type"),
            )
    return found


def _finished(ts: Path) -> dict[tuple[str, str], str]:
    return {key: text for key, (text, kind) in _messages(ts).items() if text and kind is None}


@pytest.mark.parametrize("story", list(builtin_stories()))
def test_every_text_of_the_builtin_stories_is_in_korean(story: str) -> None:
    korean = _finished(I18N / "twin_ko.ts")
    for text in texts(load_story(story)):
        translated = korean.get(("story", text))
        assert translated, f"no Korean for {text!r}"
        assert any("\uac00" <= ch <= "\ud7a3" for ch in translated)


def test_every_label_in_the_kiosk_code_is_in_korean(tmp_path: Path) -> None:
    extracted = tmp_path / "extracted.ts"
    sources = sorted(str(p) for p in KIOSK_CODE.rglob("*.py"))
    subprocess.run(
        [str(TOOLS / "pyside6-lupdate"), *sources, "-ts", str(extracted)],
        check=True,
        capture_output=True,
        timeout=120,
    )
    labels = set(_messages(extracted))
    assert ("kiosk", "Hottest GPU") in labels  # lupdate found the kiosk's strings
    missing = labels - set(_finished(I18N / "twin_ko.ts"))
    assert not missing, f"untranslated: {sorted(missing)}"


def test_the_shipped_qm_is_compiled_from_the_ts(tmp_path: Path) -> None:
    compiled = tmp_path / "twin_ko.qm"
    subprocess.run(
        [str(TOOLS / "pyside6-lrelease"), str(I18N / "twin_ko.ts"), "-qm", str(compiled)],
        check=True,
        capture_output=True,
        timeout=120,
    )
    assert compiled.read_bytes() == (I18N / "twin_ko.qm").read_bytes(), (
        "resources/i18n/twin_ko.qm is stale: run pyside6-lrelease resources/i18n/twin_ko.ts"
    )
