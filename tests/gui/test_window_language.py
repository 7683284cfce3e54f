"""The main window in Korean: chosen by ``--lang`` or View > Language and kept in the
settings; menus, docks, KPI titles and 3D labels translated together; the 3D labels drawn
with Hangul glyphs, every hall and area named, none repeating its kind, all inside the view
and apart; every text of the window has its translation and the shipped .qm is compiled
from the .ts."""

from __future__ import annotations

import subprocess
import sys
import xml.etree.ElementTree as ElementTree
from itertools import combinations
from pathlib import Path

import numpy as np
import pytest
from PySide6.QtCore import QCoreApplication, Qt
from PySide6.QtWidgets import QLabel

import twin.gui._qt.main_window
import twin.gui._qt.trends
from twin.alarms import AlarmState, Priority, default_points
from twin.gui._qt import alarms as alarm_panel
from twin.gui._qt import controls
from twin.gui._qt import timeline as timeline_panel
from twin.gui._vispy.legend import scene_legend
from twin.gui._vispy.scene_text import COOLING_YARD, KINDS, SUBSTATION, display_name
from twin.gui.colors import rack_color_fields, residual_fields
from twin.gui.kpis import site_kpis
from twin.gui.objects import KINDS as OBJECT_KINDS
from twin.gui.objects import Selection, describe
from twin.gui.trend_history import SITE_PLOTS
from twin.resources import resource_dir
from twin.scenario import load
from twin.settings import Settings, load_settings
from twin.sim.topology import build_topology

BUILT_IN = ("single-rack", "seoul-ai-factory", "gigawatt")
WIDGET_MODULES = ("main_window", "trends", "controls", "alarms", "timeline", "inspector")
WIDGET_MODULES += ("event_dialog", "power_quality", "legend")
FIXED_TITLES = ("dry-coolers", "chillers", "transformer", "bess", "generator")

pytestmark = pytest.mark.gui

I18N = resource_dir() / "i18n"
TOOLS = Path(sys.executable).parent


@pytest.fixture(autouse=True)
def config_home(tmp_path, monkeypatch):
    """Never the user's own settings."""
    monkeypatch.setenv("XDG_CONFIG_HOME", str(tmp_path / "config"))


def _hangul(text: str) -> bool:
    return any("\uac00" <= ch <= "\ud7a3" for ch in text)


def _finished(ts: Path) -> set[tuple[str, str]]:
    found = set()
    for context in ElementTree.parse(ts).getroot().iter("context"):
        for message in context.iter("message"):
            translation = message.find("translation")
            if translation.text and translation.get("type") is None:
                found.add((context.findtext("name"), message.findtext("source")))
    return found


def _shown_by_value() -> set[tuple[str, str]]:
    """The texts the window's panels show by value, which lupdate cannot see: speeds, colour
    fields, the legend, the alarm list's columns, priorities, states and points, the
    timeline's columns and statuses, and the inspector's readings, settings and actions of
    every kind of object in the built-in sites."""
    texts = {("colors", text) for text, _ in controls.SPEEDS} | {("colors", "tripped")}
    fields = [field for name in BUILT_IN for field in rack_color_fields(load(name))]
    for field in fields + list(residual_fields(lambda _quantity: np.zeros(1))):
        texts |= {("colors", field.label)} | {("colors", label) for _, label in field.marks}
        texts |= {("colors", category.label) for category in field.categories}
        texts |= {("colors", field.no_data)} if field.no_data else set()
    for group in scene_legend():
        texts.add(("legend", group.title))
        texts |= {("legend", e.label) for e in group.entries if not e.label.endswith("0 %")}
    texts |= {("alarms", column) for column in alarm_panel.COLUMNS}
    texts |= {("alarms", name) for name in alarm_panel.STATE_FILTERS}
    texts |= {("alarms", str(state)) for state in AlarmState}
    for priority in Priority:
        texts |= {("alarms", priority.label), ("alarms", f"show {priority.label} priority alarms")}
    texts |= {("alarms", text) for text in ("on", "off", "state")}
    texts |= {("timeline", column.title()) for column in timeline_panel.COLUMNS}
    texts |= {("timeline", timeline_panel.NOT_EDITABLE)}
    for status in ("applied before a reset", "done", "upcoming"):
        texts |= {("timeline", status), ("timeline", status + ", not saved")}
    texts |= {("timeline", "operator"), ("timeline", "timeline")}
    for name in BUILT_IN:
        scenario = load(name)
        topology = build_topology(scenario)
        texts |= {("alarms", p.description) for p in default_points(scenario, topology)}
        for kind in OBJECT_KINDS:
            for index in range(1 if kind in ("rack", "cdu") else 1_000):  # every hall, cell, robot
                try:
                    view = describe(Selection(kind, index), scenario, topology)
                except ValueError:  # no object of that number: the last of its kind was seen
                    break
                texts |= {("objects", r.label) for r in view.readings}
                texts |= {("objects", p.label) for p in view.parameters}
                for choice in view.choices:
                    texts |= {("objects", choice.label)} | {("objects", o) for o in choice.options}
                for action in view.actions:
                    texts |= {("objects", action.label), ("objects", action.tooltip)}
                if kind in FIXED_TITLES:
                    texts.add(("objects", view.title))
    return texts


def test_every_text_of_the_window_its_panels_trends_and_kpis_is_in_korean(tmp_path: Path) -> None:
    extracted = tmp_path / "extracted.ts"
    modules = [
        str(Path(twin.gui._qt.main_window.__file__).with_name(f"{m}.py")) for m in WIDGET_MODULES
    ]
    subprocess.run(
        [str(TOOLS / "pyside6-lupdate"), *modules, "-ts", str(extracted)],
        check=True,
        capture_output=True,
        timeout=120,
    )
    texts = {
        (c.findtext("name"), m.findtext("source"))
        for c in ElementTree.parse(extracted).getroot().iter("context")
        for m in c.iter("message")
    }
    assert ("MainWindow", "&View") in texts  # lupdate found the window's texts
    assert ("trends", "Plots") in texts  # and the trend panel's
    scenario = load("seoul-ai-factory")
    points = default_points(scenario, build_topology(scenario))
    texts |= {("kpi", kpi.title) for kpi in site_kpis(scenario, points)}
    for plot in SITE_PLOTS:  # names given by value, which lupdate cannot see
        texts |= {("trends", plot.title)} | {("trends", s.label) for s in plot.series}
    assert ("AlarmPanel", "Acknowledge all") in texts  # and the panels'
    texts |= _shown_by_value()
    missing = texts - _finished(I18N / "window_ko.ts")
    assert not missing, f"untranslated: {sorted(missing)}"


def test_the_shipped_window_qm_is_compiled_from_the_ts(tmp_path: Path) -> None:
    compiled = tmp_path / "window_ko.qm"
    subprocess.run(
        [str(TOOLS / "pyside6-lrelease"), str(I18N / "window_ko.ts"), "-qm", str(compiled)],
        check=True,
        capture_output=True,
        timeout=120,
    )
    assert compiled.read_bytes() == (I18N / "window_ko.qm").read_bytes(), (
        "resources/i18n/window_ko.qm is stale: run pyside6-lrelease resources/i18n/window_ko.ts"
    )


SYLLABLES_DIFFER = 0.4  # real syllables measure 0.58 and more; missing-glyph boxes 0.3


def _syllables(text: str) -> set[str]:
    return {ch for ch in text if _hangul(ch)}


def _syllable_difference(image: np.ndarray, label, canvas) -> float:
    """How much the syllables of a placed label differ in shape: the median, over pairs of
    different syllables, of the L1 distance of their rows' share of the ink (0 for
    identical shapes, as every missing glyph's box; 2 at most). Cells are cut by the
    font's advances from the centred text, rows are unaffected by sub-pixel shifts."""
    board = canvas.labels
    em = label.style.size * (canvas.canvas.dpi / 72.0) * board.scale
    x0, y0, x1, y1 = label.plate
    left = (x0 + x1) / 2 - board.font.width_em(label.text, label.style.bold) * em / 2
    ink = image[round(y0) + 2 : round(y1) - 2].mean(axis=2) > 160  # light text, dark plate
    profiles = {}
    for ch in label.text:
        advance = board.font.width_em(ch, label.style.bold) * em
        if _hangul(ch):
            rows = ink[:, int(left) : int(np.ceil(left + advance))].sum(axis=1).astype(float)
            assert rows.sum() > 0, f"{ch!r} of {label.text!r} drew nothing"
            profiles[ch] = rows / rows.sum()
        left += advance
    return float(
        np.median([np.abs(profiles[a] - profiles[b]).sum() for a, b in combinations(profiles, 2)])
    )


def test_the_glyph_check_tells_missing_glyphs_from_hangul(make_window, qtbot, monkeypatch):
    """The same titles in vispy's OpenSans, which has no Hangul, fail the check above."""
    from twin.gui._vispy import label_layer
    from twin.gui._vispy.label_font import fallback_font

    monkeypatch.setattr(label_layer, "label_font", fallback_font)
    window = make_window(language="ko", running=False)
    canvas = window.canvas
    qtbot.waitUntil(
        lambda: (
            window.snapshot is not None and canvas.labels.visible and bool(canvas.labels.placed)
        ),
        timeout=30_000,
    )
    canvas.go_to("site", animate=False)
    image = canvas.render().astype(int)
    titles = [
        label
        for label in canvas.labels.placed
        if label.style.bold and len(_syllables(label.text)) > 1
    ]
    assert titles and canvas.labels.font.face == "OpenSans"
    assert all(_syllable_difference(image, label, canvas) < SYLLABLES_DIFFER for label in titles)


def _overlaps(a, b) -> bool:
    return a[0] < b[2] and b[0] < a[2] and a[1] < b[3] and b[1] < a[3]


def test_korean_translates_the_menus_figures_and_3d_labels_together(make_window, qtbot, qapp):
    window = make_window(language="ko", running=False)
    canvas = window.canvas
    qtbot.waitUntil(
        lambda: (
            window.snapshot is not None and canvas.labels.visible and bool(canvas.labels.placed)
        ),
        timeout=30_000,
    )
    menus = [action.text() for action in window.menuBar().actions()]
    assert menus == ["파일(&F)", "시뮬레이션(&S)", "보기(&V)", "도움말(&H)"]
    assert window.kpis._titles["tripped"].text() == "트립된 랙"
    power = window.trends.site_views["power"]
    assert power.caption.textItem.toPlainText() == "▾ 전력 (MW)"
    assert [label.text for _, label in power.legend.items][:2] == ["IT 전력", "시설 전력"]
    assert window.language_actions["ko"].isChecked()
    # the panels: toolbar, colour bar, inspector, legend, alarm list and timeline
    assert window.time_controls.clock.text().endswith("1일째")
    assert window.color_panel.combo.currentText() == "GPU 온도"
    assert window.inspector.title.text() == "선택한 객체 없음"
    assert window.legend.swatches[0][1].text() == "트립: 임계 온도 초과로 정지"
    alarm_panel = window.alarm_panel
    assert alarm_panel.acknowledge_all_button.text() == "모두 확인"
    assert alarm_panel.model.headerData(0, Qt.Orientation.Horizontal) == "우선순위"
    assert alarm_panel.state_filter.currentText() == "모든 상태"
    timeline = window.timeline.table
    assert timeline.horizontalHeaderItem(1).text() == "이벤트"
    window.inspector.show_object(Selection("cdu", 0))
    assert window.inspector.title.text() != "선택한 객체 없음"
    assert "펌프 속도" in [label.text() for label in window.inspector.findChildren(QLabel)]
    # the widgets can draw Hangul on a machine without a Korean font: the shipped one
    # stands behind the application's font
    assert "NanumSquare" in qapp.font().families()

    canvas.go_to("site", animate=False)
    image = canvas.render().astype(int)
    width, height = canvas.canvas.size
    placed = canvas.labels.placed
    texts = {label.text for label in placed}
    expected = {display_name(hall) for hall in window.topology.hall_names}
    expected |= {QCoreApplication.translate("scene", COOLING_YARD)}
    expected |= {QCoreApplication.translate("scene", SUBSTATION)}
    assert all(_hangul(text) for text in expected)
    assert expected <= texts, f"not labelled: {expected - texts}"
    for label in placed:
        x0, y0, x1, y1 = label.plate
        assert 0 <= x0 < x1 <= width and 0 <= y0 < y1 <= height, label
        for kind in KINDS:  # "조립 1", never "조립 1 (조립)"
            assert label.text.count(QCoreApplication.translate("scene", kind)) <= 1, label
    for k, a in enumerate(placed):
        for b in placed[k + 1 :]:
            assert not _overlaps(a.plate, b.plate), (a, b)
    # drawn in Hangul glyphs, not in a font's box for a missing one: the syllables of a
    # title differ in shape
    titles = [label for label in placed if label.style.bold and len(_syllables(label.text)) > 1]
    assert titles
    for label in titles:
        assert _syllable_difference(image, label, canvas) > SYLLABLES_DIFFER, label.text

    window.close()  # the window takes its translators and font with it
    assert QCoreApplication.translate("scene", COOLING_YARD) == COOLING_YARD
    assert "NanumSquare" not in qapp.font().families()


def test_the_language_is_chosen_from_the_menu_and_kept_for_the_next_window(make_window, qtbot):
    settings = Settings()
    window = make_window("single-rack", settings=settings, source="single-rack", running=False)
    assert window.language == "en" and window.language_actions["en"].isChecked()
    assert next(a.text() for a in window.menuBar().actions()) == "&File"
    window.language_actions["ko"].trigger()  # as View > Language does
    assert "한국어" in window.statusBar().currentMessage()
    window.close()
    saved, problem = load_settings()
    assert problem is None and saved.language == "ko"

    again = make_window("single-rack", settings=saved, source="single-rack", running=False)
    assert again.language == "ko" and again.language_actions["ko"].isChecked()
    assert next(a.text() for a in again.menuBar().actions()) == "파일(&F)"
    again.close()  # translators are the application's: one window at a time, as twin opens
    asked = make_window("single-rack", settings=saved, language="en", running=False)
    assert next(a.text() for a in asked.menuBar().actions()) == "&File"


def test_a_language_twin_does_not_speak_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "settings.json"
    path.write_text('{"language": "fr"}', encoding="utf-8")
    settings, problem = load_settings(path)
    assert settings.language == "en" and "language" in problem
    result = subprocess.run(
        [sys.executable, "-m", "twin", "gui", "--lang", "fr"],
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert result.returncode == 2
    assert "--lang" in result.stderr and "'en', 'ko'" in result.stderr
