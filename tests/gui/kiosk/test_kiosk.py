"""Kiosk mode as visitors meet it: `twin kiosk` with its smoke-test options, Korean that
renders with the shipped font, the hand-over to a visitor and back, the callout, the
only way out, and a show that survives its own failures."""

from __future__ import annotations

import json
import logging
import os
import re
import subprocess
import sys
import threading

import numpy as np
import pytest
from PySide6.QtCore import QPoint, Qt
from PySide6.QtGui import QColor, QFont, QFontInfo, QImage, QPainter, QRawFont
from PySide6.QtTest import QTest

from tests.fakes import FakeSimulation, scenario_named
from twin.gui.kiosk._qt.overlay import ACCENT
from twin.gui.kiosk.story import DEFAULT_STORY, Story, load_story, loads_story
from twin.gui.objects import Selection, describe
from twin.gui.units import US_GALLON_L

pytestmark = pytest.mark.gui

# captions of the built-in story: their Korean is shipped
HEATWAVE = (
    "A summer heatwave pushes the afternoon past 35 °C. The dry coolers can no longer "
    "reach 30 °C water on their own, so the chillers take over, and PUE rises."
)
FINALE = (
    "Everything you saw is one coupled simulation running faster than real time. "
    "Touch the screen to explore it yourself."
)
STORY = f"""
[story]
name = "gui-test"
title = "A short tour"
idle_return_s = 1
cursor_hide_s = 0.5

[[steps]]
name = "first"
view = "hall-2"
hold_s = 3
flight_s = 0
speed = 60
caption = "{HEATWAVE}"
callout = {{ target = "cdu:H2-CDU-05", text = "Both pumps tripped" }}

[[steps]]
name = "second"
view = "site"
hold_s = 2
flight_s = 1
speed = 60
caption = "{FINALE}"

[[steps]]
name = "third"
view = "yard"
hold_s = 2
flight_s = 1
speed = 60
"""


def _threads() -> set[threading.Thread]:
    return {t for t in threading.enumerate() if t.is_alive()}


@pytest.fixture
def make_kiosk(qtbot, qapp):
    """Build a KioskWindow on a FakeSimulation of the Seoul site; leave it afterwards and
    fail the test if widgets, threads or translators outlive it."""
    import vispy

    from twin.gui.kiosk._qt.window import KioskWindow

    vispy.use(app="pyside6", gl="gl+")
    widgets_before = set(qapp.topLevelWidgets())
    threads_before = _threads()
    windows: list[KioskWindow] = []

    def factory(
        story: str | Story = STORY, *, language: str = "en", simulation=None, units: str = "SI"
    ) -> KioskWindow:
        scenario = scenario_named("seoul-ai-factory")
        story = loads_story(story) if isinstance(story, str) else story
        window = KioskWindow(
            scenario, simulation or FakeSimulation(scenario), story, language=language, units=units
        )
        window.resize(1280, 800)
        window.show()
        qtbot.waitExposed(window)
        windows.append(window)
        return window

    yield factory

    for window in windows:
        if window.isVisible():
            window.leave()
        window.deleteLater()
    qtbot.waitUntil(lambda: all(not w.runner.running for w in windows), timeout=30_000)
    qapp.processEvents()
    qapp.sendPostedEvents(None, 0)
    qapp.processEvents()
    leaked_widgets = [
        w for w in qapp.topLevelWidgets() if w not in widgets_before and w.isVisible()
    ]
    leaked_threads = _threads() - threads_before
    if leaked_widgets or leaked_threads:
        pytest.fail(
            f"the kiosk leaked widgets {leaked_widgets} or threads "
            f"{[t.name for t in leaked_threads]}"
        )
    from PySide6.QtCore import QCoreApplication

    assert QCoreApplication.translate("kiosk", "Hottest GPU") == "Hottest GPU"


def test_twin_kiosk_shows_the_overlay_and_a_caption_then_exits(tmp_path):
    shot = tmp_path / "shot.png"
    config = tmp_path / "config" / "twin"
    config.mkdir(parents=True)
    (config / "settings.json").write_text('{"units": "US customary"}', encoding="utf-8")
    env = {
        **os.environ,
        "XDG_STATE_HOME": str(tmp_path / "state"),
        "XDG_CONFIG_HOME": str(tmp_path / "config"),
    }
    done = subprocess.run(
        [sys.executable, "-m", "twin", "kiosk", "--exit-after", "20", "--screenshot", str(shot)],
        capture_output=True,
        text=True,
        timeout=180,
        env=env,
    )
    assert done.returncode == 0, done.stderr
    assert "Traceback" not in done.stderr
    report = json.loads(done.stdout.strip().splitlines()[-1])
    assert report["story"] == "ai-factory-tour" and report["scenario"] == "seoul-ai-factory"
    assert report["frames_drawn"] > 0 and report["simulated_s"] > 0
    assert report["touring"] and report["restarts"] == 0
    assert report["step"] in ("welcome", "morning-inference")
    assert report["caption_visible"]
    assert "digital twin" in report["caption"] or "Morning in Seoul" in report["caption"]
    assert report["kpis"]["it"].endswith(" MW") and report["kpis"]["grid"].endswith("/ 60 MW")
    assert report["units"] == "US customary"  # as the window's settings have them
    assert report["kpis"]["gpu"].endswith(" °F")
    assert re.fullmatch(r"\d\d:\d\d", report["clock"])  # the simulated time at the site
    assert report["outdoor"].startswith("Outdoor ") and report["outdoor"].endswith(" °F")
    image = QImage(str(shot))
    assert (image.width(), image.height()) == (1600, 1000)  # the whole (virtual) screen

    def bright_share(rect: list[int]) -> float:
        x0, y0, w, h = rect
        light = [
            image.pixelColor(x, y).lightness()
            for x in range(x0, x0 + w, 3)
            for y in range(y0, y0 + h, 3)
        ]
        return float(np.mean(np.array(light) > 200))

    # white text on the dark panels, in the frame the 3D view drew (no widget over it)
    for panel in ("caption", "kpis", "clock"):
        assert bright_share(report["panels"][panel]) > 0.02, panel
    log = (tmp_path / "state" / "twin" / "log" / "kiosk.log").read_text()
    assert "story ai-factory-tour on seoul-ai-factory in en, US customary units" in log
    assert (config / "settings.json").read_text(encoding="utf-8") == '{"units": "US customary"}'
    assert "Ctrl+Shift+Q pressed; leaving" in log


def _hangul(text: str) -> list[str]:
    return [ch for ch in text if "\uac00" <= ch <= "\ud7a3"]


def _rendered(font: QFont, text: str) -> np.ndarray:
    image = QImage(1200, 120, QImage.Format.Format_Grayscale8)
    image.fill(0)
    painter = QPainter(image)
    painter.setFont(font)
    painter.setPen(QColor("white"))
    painter.drawText(10, 90, text)
    painter.end()
    return np.frombuffer(image.constBits(), np.uint8).reshape(120, image.bytesPerLine()).copy()


def test_korean_captions_render_with_the_shipped_font(make_kiosk, qtbot):
    from twin.gui._qt.language import hangul_font_family
    from twin.resources import resource_dir

    window = make_kiosk(language="ko")
    caption = window.overlay.caption.text
    assert caption.startswith("여름 폭염으로")  # the step's caption, through Qt's translator
    assert window.overlay.kpis.titles["gpu"] == "최고 GPU 온도"
    assert window.overlay.key.title == "GPU 온도 (°C)"
    qtbot.waitUntil(lambda: window.overlay.clock.outdoor_text.startswith("외기 "), timeout=30_000)
    family = hangul_font_family()
    font = window.overlay.caption.font
    assert QFontInfo(font).family() == family == "NanumSquare"
    assert QRawFont(str(resource_dir() / "fonts" / "NanumSquareR.ttf"), 40).familyName() == family

    syllables = sorted(set(_hangul(caption)))
    raw = QRawFont.fromFont(font)
    assert all(raw.supportsCharacter(ord(ch)) for ch in syllables)
    glyphs = raw.glyphIndexesForString("".join(syllables))
    assert 0 not in glyphs  # glyph 0 is .notdef, the box

    # Drawn with this font alone (no fallback to another), the caption is not boxes:
    alone = QFont(font)
    alone.setStyleStrategy(QFont.StyleStrategy.NoFontMerging)
    alone.setPixelSize(40)
    text = "".join(syllables[:12])
    drawn = _rendered(alone, text)
    boxes = _rendered(alone, "\ue000" * len(text))  # a private-use code point: no glyph
    assert drawn.any() and boxes.any()
    assert np.abs(drawn.astype(int) - boxes).sum() > 0.2 * drawn.astype(int).sum()
    shapes = {raw.alphaMapForGlyph(g).bits().tobytes() for g in glyphs[:12]}
    assert len(shapes) == len(glyphs[:12])  # every syllable its own shape; boxes are alike
    assert window.state()["language"] == "ko"


def _click_canvas(window, point: QPoint | None = None) -> None:
    native = window.canvas.canvas.native
    QTest.mouseClick(
        native,
        Qt.MouseButton.LeftButton,
        Qt.KeyboardModifier.NoModifier,
        point or QPoint(native.width() // 2, native.height() // 2),
    )


def test_input_pauses_the_tour_and_idle_time_resumes_it(make_kiosk, qtbot):
    # idle for 5 s resumes: the touches below, 0.7 s apart, keep the tour paused on a
    # loaded machine too
    window = make_kiosk(STORY.replace("idle_return_s = 1\n", "idle_return_s = 5\n", 1))
    overlay = window.overlay
    qtbot.waitUntil(lambda: overlay.callout.visible, timeout=30_000)
    assert overlay.caption.visible and not overlay.hint.visible
    noted = window.runner._input_until
    _click_canvas(window)
    assert not window.show_.touring
    assert window.runner._input_until > noted  # the simulation gives way to the visitor
    assert overlay.hint.visible and "The tour resumes in" in overlay.hint.text
    assert not overlay.caption.visible and not overlay.callout.visible
    assert window.runner.speed == 2.0
    for _ in range(3):  # a visitor who keeps touching keeps the view, past the step's 3 s
        qtbot.wait(700)
        QTest.keyClick(window, Qt.Key.Key_Space)
    assert not window.show_.touring and window.show_.step.name == "first"
    qtbot.waitUntil(lambda: window.show_.touring, timeout=30_000)
    assert window.show_.step.name == "first"  # the interrupted step starts again
    assert overlay.caption.visible and not overlay.hint.visible
    assert window.runner.speed == 60


def _wait_framed(window, qtbot) -> None:
    """Until the view has drawn at its size and fitted its viewpoints to it (the camera
    stays where it is after that while the step holds still)."""
    canvas = window.canvas
    qtbot.waitUntil(
        lambda: (
            canvas.frames_drawn > 0
            and canvas._framed_for == tuple(int(v) for v in canvas.view.size)
        ),
        timeout=30_000,
    )


def test_a_tapped_rack_shows_its_card(make_kiosk, qtbot):
    # the first step holds its view for as long as the test may take to aim at the rack
    window = make_kiosk(STORY.replace("hold_s = 3\n", "hold_s = 600\n", 1))
    _wait_framed(window, qtbot)  # the first view is in place (no flight)
    rack = 200  # in hall 2, in view
    lower, upper = window.canvas.bounds(Selection("rack", rack))
    top = np.array([(lower[0] + upper[0]) / 2, (lower[1] + upper[1]) / 2, upper[2]])
    x, y = window.canvas.screen_position(top)  # its top: no neighbour in front
    _click_canvas(window, QPoint(round(x), round(y)))
    qtbot.waitUntil(lambda: window.overlay.card.visible, timeout=30_000)
    assert window.overlay.card.title == window.topology.rack_name(rack)
    assert "GPU temperature" in window.overlay.card.readings
    assert "card" in window.state()["panels"]


def test_the_kpis_and_a_tapped_racks_card_follow_the_display_units(make_kiosk, qtbot):
    simulation = FakeSimulation(scenario_named("seoul-ai-factory"))
    window = make_kiosk(simulation=simulation, units="US customary")
    kpis = window.overlay.kpis.values
    hottest = float(simulation.gpu_temp_c.max())  # 80 °C
    qtbot.waitUntil(lambda: kpis["gpu"] == f"{hottest * 9 / 5 + 32:.1f} °F", timeout=30_000)
    assert kpis["it"].endswith(" MW")  # power stays as it is
    rack = 200
    window.overlay.card.show_view(
        describe(Selection("rack", rack), window.scenario, window.topology), window.snapshot
    )
    gpu_c = simulation.gpu_temp_c[rack]
    lines = window.overlay.card.readings.splitlines()
    assert lines[:4] == [
        f"GPU temperature: {gpu_c * 9 / 5 + 32:.1f} °F",
        "Coolant inlet: 95.0 °F",
        "Coolant outlet: 113.0 °F",
        f"Coolant flow: {180 / float(US_GALLON_L):.1f} gpm",
    ]
    assert lines[4].startswith("Power: ") and lines[4].endswith(" kW")
    assert window.state()["units"] == "US customary"


def test_the_callout_points_at_its_object_as_the_camera_moves(make_kiosk, qtbot):
    window = make_kiosk(STORY.replace("hold_s = 3\n", "hold_s = 600\n", 1))  # held while read
    callout = window.overlay.callout
    qtbot.waitUntil(lambda: callout.visible, timeout=30_000)
    _wait_framed(window, qtbot)
    assert callout.text == "Both pumps tripped"
    cdu = window.topology.cdu_names.index("H2-CDU-05")
    lower, upper = window.canvas.bounds(Selection("cdu", cdu))
    top = np.array([(lower[0] + upper[0]) / 2, (lower[1] + upper[1]) / 2, upper[2]])
    qtbot.waitUntil(lambda: _dot_at(window, *window.canvas.screen_position(top)), timeout=30_000)
    before = window.canvas.screen_position(top)
    window.canvas.view.camera.azimuth += 25
    after = window.canvas.screen_position(top)
    assert np.hypot(after[0] - before[0], after[1] - before[1]) > 20
    qtbot.waitUntil(lambda: _dot_at(window, *after), timeout=30_000)
    assert not _dot_at(window, *before)


def _dot_at(window, x: float, y: float) -> bool:
    """Whether the view's frame shows the callout's accent-coloured dot at (x, y)."""
    frame = window.frame()
    if not frame.rect().contains(QPoint(round(x), round(y))):
        return False
    found, accent = frame.pixelColor(round(x), round(y)), QColor(ACCENT)
    return all(
        abs(a - b) <= 2 for a, b in zip(found.getRgb()[:3], accent.getRgb()[:3], strict=True)
    )


def test_only_the_quit_combination_leaves(make_kiosk, qtbot):
    window = make_kiosk()
    left = []
    window.left.connect(lambda: left.append(True))
    window.close()  # what Alt+F4 or a window manager asks for
    for key, modifiers in (
        (Qt.Key.Key_F4, Qt.KeyboardModifier.AltModifier),
        (Qt.Key.Key_Escape, Qt.KeyboardModifier.NoModifier),
        (Qt.Key.Key_Q, Qt.KeyboardModifier.ControlModifier),
        (Qt.Key.Key_W, Qt.KeyboardModifier.ControlModifier),
    ):
        QTest.keyClick(window, key, modifiers)
    qtbot.wait(100)
    assert window.isVisible() and window.runner.running and not left
    QTest.keyClick(
        window,
        Qt.Key.Key_Q,
        Qt.KeyboardModifier.ControlModifier | Qt.KeyboardModifier.ShiftModifier,
    )
    qtbot.waitUntil(lambda: not window.isVisible(), timeout=30_000)
    assert left == [True]
    qtbot.waitUntil(lambda: not window.runner.running, timeout=30_000)


def test_the_cursor_hides_when_idle_and_returns_on_movement(make_kiosk, qtbot):
    window = make_kiosk()
    native = window.canvas.canvas.native
    qtbot.waitUntil(lambda: native.cursor().shape() == Qt.CursorShape.BlankCursor, timeout=30_000)
    QTest.mouseMove(native, QPoint(100, 100))
    QTest.mouseMove(native, QPoint(140, 120))
    assert native.cursor().shape() != Qt.CursorShape.BlankCursor
    assert window.show_.touring  # moving the mouse is no reason to stop the tour


def test_each_loop_starts_the_simulation_again(make_kiosk, qtbot):
    simulation = FakeSimulation(scenario_named("seoul-ai-factory"))
    window = make_kiosk(
        STORY.replace("hold_s = 3", "hold_s = 1")
        .replace("hold_s = 2", "hold_s = 1")
        .replace("flight_s = 1", "flight_s = 0.5"),
        simulation=simulation,
    )
    qtbot.waitUntil(lambda: window.show_.loops == 2, timeout=30_000)
    qtbot.waitUntil(lambda: simulation.log.count("reset") == 2, timeout=30_000)
    assert window.show_.step.name == "first"


def test_an_exception_in_a_step_is_logged_and_the_show_starts_the_step_again(
    make_kiosk, qtbot, caplog, monkeypatch
):
    window = make_kiosk()
    original = window.overlay.show_caption
    failures = []

    def breaks_once_on_the_site(text: str) -> None:
        if window.show_.step.name == "second" and not failures:
            failures.append(text)
            raise RuntimeError("the caption could not be shown")
        original(text)

    monkeypatch.setattr(window.overlay, "show_caption", breaks_once_on_the_site)
    with caplog.at_level(logging.ERROR, logger="twin.kiosk"):
        qtbot.waitUntil(lambda: window.show_.restarts == 1, timeout=30_000)
    assert "step 'second' (2 of 3) failed; starting it again" in caplog.text
    assert "the caption could not be shown" in caplog.text
    assert window.show_.step.name == "second"
    assert window.overlay.caption.text.startswith("Everything you saw")  # shown this time
    qtbot.waitUntil(lambda: window.show_.step.name == "third", timeout=30_000)


class BrokenSimulation(FakeSimulation):
    def apply(self, event) -> None:
        raise RuntimeError("the events broke")


def test_a_failure_in_the_simulation_is_logged_and_the_step_starts_again(make_kiosk, qtbot, caplog):
    simulation = BrokenSimulation(scenario_named("seoul-ai-factory"))
    story = STORY.replace(
        'caption = "Everything',
        'events = [{ kind = "power-smoothing", enabled = true }]\ncaption = "Everything',
    )
    with caplog.at_level(logging.ERROR, logger="twin.kiosk"):
        window = make_kiosk(story, simulation=simulation)
        qtbot.waitUntil(lambda: window.show_.restarts == 1, timeout=30_000)
    assert "step 'second' (2 of 3) failed" in caplog.text
    assert "the simulation raised" in caplog.text and "the events broke" in caplog.text
    steps = simulation.steps
    qtbot.waitUntil(lambda: simulation.steps > steps + 5, timeout=30_000)  # running again
    assert window.show_.restarts == 1  # the event that failed is not fired again
    assert not window.runner.paused


def test_the_overlay_scales_with_the_screen(make_kiosk, qtbot):
    window = make_kiosk()
    kpis = window.overlay.kpis
    small = kpis.value_font.pixelSize()
    window.resize(1280, 1000)
    qtbot.waitUntil(lambda: kpis.value_font.pixelSize() > small, timeout=30_000)
    assert kpis.value_font.pixelSize() == round(1000 / 18)
    assert kpis.value_font_for("it").pixelSize() == kpis.value_font.pixelSize()
    qtbot.waitUntil(
        lambda: window.state()["kpis"]["pue"] == "1.100",  # from the snapshots
        timeout=30_000,
    )


def test_the_overlay_is_painted_in_the_frames_of_a_native_gl_window(make_kiosk, qtbot):
    from PySide6.QtOpenGL import QOpenGLWindow
    from PySide6.QtWidgets import QWidget

    window = make_kiosk()
    native = window.canvas.canvas.native
    assert isinstance(native, QOpenGLWindow)  # 3x the frame rate of a composed view
    # nothing is composed over the view: its container is the window's only widget
    assert window.findChildren(QWidget) == [window.canvas.widget]
    qtbot.waitUntil(lambda: window.overlay.kpis.values["pue"] == "1.100", timeout=30_000)
    x, y, width, height = window.state()["panels"]["kpis"]

    def light(frame) -> float:
        pixels = [
            frame.pixelColor(px, py).lightness()
            for px in range(x, x + width, 3)
            for py in range(y, y + height, 3)
        ]
        return float(np.mean(np.array(pixels) > 200))

    with_overlay = light(window.frame())
    window.overlay.visible = False
    without = light(window.frame())
    assert with_overlay > 0.02 and with_overlay > 4 * without


def test_every_callout_of_the_builtin_tour_lies_in_its_steps_view(make_kiosk, qtbot):
    """Seen from where each step's flight ends, its callout's object is on screen, so the
    callout shows (the service robots' among them)."""
    story = load_story(DEFAULT_STORY)
    window = make_kiosk(story)
    _wait_framed(window, qtbot)
    shown = {}
    for step in story.steps:
        if step.callout is not None:
            window.enter_step(step.model_copy(update={"flight_s": 0.0}))
            shown[step.name] = window.state()["callout"]
    expected = {s.name: s.callout.text for s in story.steps if s.callout is not None}
    assert shown == expected
    assert shown["service-robot"] == "Service robots dispatched"
