"""The kiosk window: the 3D view, the simulation runner and the overlay, run by a Show.

Composed from the twin's public pieces (``CanvasWrapper``, ``SimulationRunner``, the KPI
definitions, the object descriptions) without the main window's menus, toolbars and
docks. Only Ctrl+Shift+Q leaves: a close request (Alt+F4, the window manager) is
ignored, and every other key only hands the view to the visitor.

The 3D view is a native OpenGL window (``native_window``); the overlay (KPIs, clock,
colour key, caption, callout, hint, card) is painted into the view's own frames after the
scene, so nothing is composed over it.

Nothing grows while the show runs: one snapshot is kept, the runner's mailbox holds one,
the overlay is laid out once per screen size, and the only GL objects made after start-up
are the textures of the overlay's large type, a bounded number of them (``text_images``).
"""

from __future__ import annotations

import logging
import math
import time
from pathlib import Path

import numpy as np
from PySide6.QtCore import QCoreApplication, QEvent, QObject, QPointF, Qt, QTimer, Signal
from PySide6.QtGui import QCloseEvent, QImage, QKeyEvent
from PySide6.QtWidgets import QApplication, QGridLayout, QWidget

from twin.alarms import default_points
from twin.gui._qt.language import hangul_font_family
from twin.gui._qt.theme import THEMES
from twin.gui._vispy.canvas import CanvasWrapper
from twin.gui.colors import rack_color_fields
from twin.gui.kiosk._qt.language import load_translators
from twin.gui.kiosk._qt.overlay import KioskOverlay
from twin.gui.kiosk.camera import CameraDirector, Pose
from twin.gui.kiosk.show import Show
from twin.gui.kiosk.story import Step, Story, callout_target
from twin.gui.objects import Selection, describe
from twin.gui.runner import SimulationLike, SimulationRunner
from twin.gui.units import UnitSystem
from twin.scenario import Scenario
from twin.sim.snapshot import Snapshot

log = logging.getLogger("twin.kiosk")

FRAME_INTERVAL_MS = 16
KIOSK_TITLE_FRACTION = 1 / 40  # the 3D view's titles, of the screen's height: read from afar
QUIT_KEY = Qt.Key.Key_Q
QUIT_MODIFIERS = Qt.KeyboardModifier.ControlModifier | Qt.KeyboardModifier.ShiftModifier
QUIT_COMBINATION = "Ctrl+Shift+Q"
_MODIFIERS = (
    Qt.KeyboardModifier.ControlModifier
    | Qt.KeyboardModifier.ShiftModifier
    | Qt.KeyboardModifier.AltModifier
    | Qt.KeyboardModifier.MetaModifier
)
_KEYS = (QEvent.Type.KeyPress, QEvent.Type.KeyRelease, QEvent.Type.ShortcutOverride)
_PRESSES = (
    QEvent.Type.MouseButtonPress,
    QEvent.Type.MouseButtonDblClick,
    QEvent.Type.Wheel,
    QEvent.Type.TouchBegin,
    QEvent.Type.TabletPress,
)
_MOVES = (QEvent.Type.MouseMove, QEvent.Type.TouchUpdate, QEvent.Type.TabletMove)
_WATCHED = frozenset((*_KEYS, *_PRESSES, *_MOVES))


def is_quit_combination(event: QKeyEvent) -> bool:
    return event.key() == QUIT_KEY and (event.modifiers() & _MODIFIERS) == QUIT_MODIFIERS


class KioskWindow(QWidget):
    left = Signal()  # the quit combination was pressed and the window is closing

    def __init__(
        self,
        scenario: Scenario,
        simulation: SimulationLike,
        story: Story,
        *,
        story_path: Path | None = None,
        language: str = "en",
        units: UnitSystem | str = UnitSystem.SI,
    ) -> None:
        """``units``: the display units of the KPIs, the tapped object's card and the 3D
        labels (the simulation stays SI)."""
        super().__init__()
        self.setWindowTitle(f"twin — {story.story.title}")
        self.setWindowFlag(Qt.WindowType.FramelessWindowHint)
        app = _application()
        self.translators = load_translators(language, story_path)
        for translator in self.translators:
            app.installTranslator(translator)
        self.language = language
        self.units = UnitSystem(units)
        self.scenario, self.story = scenario, story
        self.site = simulation.site  # compiled once by the simulation
        self.topology, layout = self.site.topology, self.site.layout
        fields = rack_color_fields(scenario)
        self.canvas = CanvasWrapper(
            scenario, self.topology, layout, fields, THEMES["dark"].scene, native_window=True
        )
        self.canvas.set_units(self.units)
        self.canvas.labels.min_fraction = KIOSK_TITLE_FRACTION
        self.overlay = KioskOverlay(
            scenario,
            self.topology,
            default_points(scenario, self.topology),
            fields,
            hangul_font_family(),
            units=self.units,
            changed=self.canvas.canvas.update,
        )
        self.canvas.canvas.native.paint_over = self.overlay.paint
        self.canvas.canvas.events.resize.connect(self._on_view_resized)
        grid = QGridLayout(self)
        grid.setContentsMargins(0, 0, 0, 0)
        grid.addWidget(self.canvas.widget, 0, 0)
        self.resize(1280, 720)

        self.runner = SimulationRunner(simulation, speed=story.steps[0].speed, parent=self)
        self.runner.failed.connect(self._on_simulation_failed)
        self.runner.rejected.connect(self._on_rejected)
        self.director = CameraDirector(self.canvas.view.camera)
        self.show_ = Show(story, self, self.runner, start=scenario.scenario.start)
        self.canvas.events.selected.connect(self._on_selected)
        self.snapshot: Snapshot | None = None
        self.shown_generation = 0
        self._anchor: np.ndarray | None = None  # the callout's point of the site
        self._leaving = False
        self._last_move = time.monotonic()
        self._cursor_hidden = False
        self.frame_timer = QTimer(self)
        self.frame_timer.setInterval(FRAME_INTERVAL_MS)
        self.frame_timer.timeout.connect(self._on_frame)
        app.installEventFilter(self)
        self.runner.start()
        self.show_.start()
        self.frame_timer.start()

    # ----------------------------------------------------------------- the stage

    def enter_step(self, step: Step) -> None:
        view = self.canvas.viewpoints[step.view]
        self.director.fly(
            Pose(view.center, view.distance, view.elevation, view.azimuth),
            step.flight_s,
            step.orbit_deg_per_s,
        )
        if step.color is not None:
            self.canvas.set_color_field(step.color)
            self.overlay.set_color_field(step.color)
        self.overlay.start_chart(step.chart)
        caption = QCoreApplication.translate("story", step.caption) if step.caption else ""
        self.overlay.show_caption(caption)
        self._anchor = None
        if step.callout is not None:
            selection = Selection(
                *callout_target(step.callout.target, self.scenario, self.topology)
            )
            lower, upper = self.canvas.bounds(selection)
            self._anchor = np.array(
                [(lower[0] + upper[0]) / 2, (lower[1] + upper[1]) / 2, upper[2]]
            )
            self.overlay.callout.set_text(QCoreApplication.translate("story", step.callout.text))
        else:
            self.overlay.callout.set_text("")
        self._place_callout()

    def set_touring(self, touring: bool) -> None:
        if touring:
            self.canvas.select(None)
        else:
            self.director.stop()  # the camera is the visitor's now
            self.overlay.set_hint_countdown(math.ceil(self.show_.seconds_until_tour()))
        self.overlay.set_touring(touring)
        self._place_callout()

    # ----------------------------------------------------------------- frames

    def _on_frame(self) -> None:
        try:
            frame = self.runner.latest()
            snapshot = frame.snapshot
            self.show_.observe(frame.generation, snapshot)
            if snapshot is not None and frame.generation != self.shown_generation:
                self.shown_generation = frame.generation
                self.snapshot = snapshot
                self.canvas.update(snapshot)
                self.overlay.update_snapshot(snapshot)
            self.director.advance()
            self._place_callout()
            if not self.show_.touring:
                self.overlay.set_hint_countdown(math.ceil(self.show_.seconds_until_tour()))
            self._hide_idle_cursor()
        except Exception as exc:
            log.exception("kiosk: a frame failed")
            self.show_.fail(f"{type(exc).__name__}: {exc}")
        self.show_.tick()

    def _place_callout(self) -> None:
        """Keep the callout on its object as the camera moves; hidden while the object is
        behind the camera or off screen, and while a visitor has the view."""
        self.overlay.point_callout_at(self._callout_anchor())

    def _callout_anchor(self) -> QPointF | None:
        """Where the callout's object is in the view (its pixels), if in sight."""
        if self._anchor is None or not self.show_.touring:
            return None
        pixels, in_front = self.canvas.project(self._anchor[None])
        x, y = pixels[0]
        width, height = self.canvas.canvas.size
        if not in_front[0] or not (0 <= x < width and 0 <= y < height):
            return None
        return QPointF(x, y)

    def _on_view_resized(self, event) -> None:
        self.overlay.set_size(*(int(v) for v in event.size))

    def _on_selected(self, event) -> None:
        selection = event.selection
        view = None if selection is None else describe(selection, self.scenario, self.topology)
        self.overlay.show_card(view, self.snapshot)

    def _on_simulation_failed(self, report: str) -> None:
        self.show_.fail(f"the simulation raised:\n{report}")

    def _on_rejected(self, reason: str) -> None:
        log.warning(
            "kiosk: step %r: the simulation refused a command: %s", self.show_.step.name, reason
        )

    # ----------------------------------------------------------------- input

    def eventFilter(self, watched: QObject, event: QEvent) -> bool:
        kind = event.type()
        if kind not in _WATCHED or not self._owns(watched):
            return False
        if kind in _KEYS:
            if (
                kind == QEvent.Type.KeyPress
                and isinstance(event, QKeyEvent)
                and is_quit_combination(event)
            ):
                self.leave()
            elif kind == QEvent.Type.KeyPress:
                self.show_.visitor_input()
                self.runner.note_input()
            return True  # keys do nothing else in a kiosk: no shortcut can leave it
        self._reveal_cursor()
        if kind in _PRESSES:
            self.show_.visitor_input()
            self.runner.note_input()  # a fast step of the tour gives way to the visitor
        else:
            self.show_.visitor_activity()
        return False  # the 3D view orbits, zooms and picks as in the window

    def _owns(self, watched: QObject) -> bool:
        if watched is self.windowHandle() or watched is self.canvas.canvas.native:
            return True
        return isinstance(watched, QWidget) and (watched is self or self.isAncestorOf(watched))

    def _reveal_cursor(self) -> None:
        self._last_move = time.monotonic()
        if self._cursor_hidden:
            self._cursor_hidden = False
            self.unsetCursor()
            self.canvas.canvas.native.unsetCursor()

    def _hide_idle_cursor(self) -> None:
        idle_s = time.monotonic() - self._last_move
        if not self._cursor_hidden and idle_s >= self.story.story.cursor_hide_s:
            self._cursor_hidden = True
            self.setCursor(Qt.CursorShape.BlankCursor)
            self.canvas.canvas.native.setCursor(Qt.CursorShape.BlankCursor)

    # ----------------------------------------------------------------- leaving

    def leave(self) -> None:
        """Leave kiosk mode: the only way this window closes."""
        log.info("kiosk: %s pressed; leaving", QUIT_COMBINATION)
        self._leaving = True
        self.left.emit()
        self.close()

    def closeEvent(self, event: QCloseEvent) -> None:
        if not self._leaving:
            log.info("kiosk: a request to close was ignored; %s leaves", QUIT_COMBINATION)
            event.ignore()
            return
        self.frame_timer.stop()
        app = _application()
        app.removeEventFilter(self)
        for translator in self.translators:
            app.removeTranslator(translator)
        self.runner.stop()
        self.canvas.close()
        super().closeEvent(event)

    # ----------------------------------------------------------------- reports

    def state(self) -> dict[str, object]:
        """What the show is doing, for the smoke test's line of JSON and for tests."""
        overlay = self.overlay
        return {
            "step": self.show_.step.name,
            "touring": self.show_.touring,
            "loops": self.show_.loops,
            "restarts": self.show_.restarts,
            "language": self.language,
            "units": self.units.value,
            "caption": overlay.caption.text,
            "caption_visible": overlay.caption.visible,
            "callout": overlay.callout.text if overlay.callout.visible else None,
            "kpis": dict(overlay.kpis.values),
            "clock": overlay.clock.time_text,
            "outdoor": overlay.clock.outdoor_text,
            # the panels in window pixels (the view fills the window): x, y, width, height
            "panels": {
                name: [round(v) for v in (rect.x(), rect.y(), rect.width(), rect.height())]
                for name, rect in overlay.panels().items()
            },
        }

    def frame(self) -> QImage:
        """The view as it is now, the scene and the overlay over it: a frame drawn and
        read back (the back buffer holds no defined frame once swapped)."""
        native = self.canvas.canvas.native
        native.makeCurrent()
        native.paintGL()
        return native.grabFramebuffer()

    def save_screenshot(self, path: Path) -> bool:
        return self.frame().save(str(path))


def _application() -> QCoreApplication:
    app = QApplication.instance()
    if app is None:
        raise RuntimeError("the kiosk window needs the application made first")
    return app
