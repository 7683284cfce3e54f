"""The main window's 3D view is a native OpenGL window in a container (Qt does not compose
it with the widgets on every frame): it draws, answers clicks and right clicks, shows up
in screenshots and goes away with the window."""

from __future__ import annotations

import itertools

import numpy as np
import pytest

pytestmark = pytest.mark.gui


def _rack_top(window, rack: int) -> tuple[int, int]:
    boxes = window.canvas.racks._boxes
    top = np.append(boxes.center_m[rack, :2], boxes.upper_m[rack, 2])
    x, y = window.canvas.screen_position(top)
    return round(x), round(y)


def test_the_view_is_a_native_window_that_draws_frames(make_window, qtbot):
    from PySide6.QtOpenGL import QOpenGLWindow

    window = make_window(running=True, speed=60.0)
    native = window.canvas.canvas.native
    assert isinstance(native, QOpenGLWindow)
    assert window.canvas.widget is not native  # the container is what the layout holds
    assert window.centralWidget().isAncestorOf(window.canvas.widget)
    qtbot.waitUntil(native.isExposed, timeout=30_000)
    drawn = window.canvas.frames_drawn
    qtbot.waitUntil(lambda: window.canvas.frames_drawn > drawn + 5, timeout=60_000)
    ratio = native.devicePixelRatio()
    assert window.canvas.canvas.physical_size == (
        round(native.width() * ratio),
        round(native.height() * ratio),
    )


def test_the_view_follows_its_container_when_the_window_resizes(make_window, qtbot):
    window = make_window(running=False)
    native = window.canvas.canvas.native
    qtbot.waitUntil(native.isExposed, timeout=30_000)
    before = window.canvas.canvas.size
    window.resize(window.width() + 120, window.height() + 80)
    qtbot.waitUntil(lambda: window.canvas.canvas.size != before, timeout=30_000)
    container = window.canvas.widget
    assert window.canvas.canvas.size == (container.width(), container.height())


def test_a_screenshot_shows_the_3d_view_where_it_is(make_window, qtbot, tmp_path):
    from PySide6.QtCore import QPoint
    from PySide6.QtGui import QImage

    window = make_window(running=False)
    qtbot.waitUntil(lambda: window.snapshot is not None, timeout=30_000)
    shot = tmp_path / "window.png"
    assert window.save_screenshot(shot)
    image = QImage(str(shot)).convertToFormat(QImage.Format.Format_RGB888)
    container = window.canvas.widget
    corner = container.mapTo(window, QPoint(0, 0))
    scale = image.width() / window.width()
    rows = np.frombuffer(image.constBits(), np.uint8).reshape(image.height(), image.bytesPerLine())[
        :, : 3 * image.width()
    ]
    pixels = rows.reshape(image.height(), image.width(), 3)
    top, left = round(corner.y() * scale), round(corner.x() * scale)
    height, width = round(container.height() * scale), round(container.width() * scale)
    view = pixels[top : top + height, left : left + width].astype(int)
    rendered = window.canvas.render().astype(int)
    rendered = rendered[: view.shape[0], : view.shape[1]]
    assert view.reshape(-1, 3).std(axis=0).max() > 10  # the scene, not a blank rectangle
    assert np.abs(view - rendered).mean() < 3  # the view as drawn, in its place


def test_a_right_click_on_a_rack_opens_its_fault_menu(make_window, qtbot):
    from PySide6.QtCore import QPoint, Qt
    from PySide6.QtWidgets import QApplication, QMenu

    from twin.gui.objects import Selection

    window = make_window(running=False)
    qtbot.waitUntil(lambda: window.snapshot is not None, timeout=30_000)
    window.canvas.go_to(window.topology.hall_names[0], animate=False)
    rack = 37
    x, y = _rack_top(window, rack)
    assert window.canvas.pick((x, y)) == Selection("rack", rack)
    native = window.canvas.canvas.native
    qtbot.mouseClick(native, Qt.MouseButton.RightButton, pos=QPoint(x, y))

    def open_menus() -> list[QMenu]:
        return [w for w in QApplication.topLevelWidgets() if isinstance(w, QMenu) and w.isVisible()]

    qtbot.waitUntil(lambda: len(open_menus()) == 1, timeout=30_000)
    [menu] = open_menus()
    try:
        assert menu.actions()[0].text() == window.topology.rack_name(rack)
        assert window.canvas.selected == Selection("rack", rack)
        # opens at the click (Qt moves it left or up where it would leave the screen)
        origin = window.canvas.widget.mapToGlobal(QPoint(x, y))
        assert menu.geometry().adjusted(-40, -40, 40, 40).contains(origin)
    finally:
        menu.close()


def test_a_right_drag_moves_the_camera_and_opens_no_menu(make_window, qtbot):
    from PySide6.QtCore import QEvent, QPointF, Qt
    from PySide6.QtGui import QMouseEvent
    from PySide6.QtWidgets import QApplication, QMenu

    window = make_window(running=False)
    qtbot.waitUntil(lambda: window.snapshot is not None, timeout=30_000)
    native = window.canvas.canvas.native
    distance = window.canvas.view.camera.distance
    right = Qt.MouseButton.RightButton

    def send(kind: QEvent.Type, y: float, button: Qt.MouseButton, held) -> None:
        # straight to the view's window, as the window system delivers them: no popup or
        # pointer grab left by another test stands between
        at = QPointF(300, y)
        event = QMouseEvent(
            kind, at, native.mapToGlobal(at), button, held, Qt.KeyboardModifier.NoModifier
        )
        QApplication.sendEvent(native, event)

    send(QEvent.Type.MouseButtonPress, 300, right, right)
    # vispy drops a move within 10 ms of the one before: the drag goes on, a step each
    # poll, until the camera zooms
    drag = itertools.cycle(range(310, 500, 10))

    def dragged_on() -> bool:
        send(QEvent.Type.MouseMove, next(drag), Qt.MouseButton.NoButton, right)
        return window.canvas.view.camera.distance != distance

    qtbot.waitUntil(dragged_on, timeout=30_000)
    send(QEvent.Type.MouseButtonRelease, 360, right, Qt.MouseButton.NoButton)
    assert not [w for w in QApplication.topLevelWidgets() if isinstance(w, QMenu) and w.isVisible()]


def test_between_snapshots_the_flow_dots_move_on_and_stop_when_paused(make_window, qtbot):
    # at 1x a snapshot comes once a second; the dots move with the water between them
    window = make_window(running=True, speed=1.0)
    canvas = window.canvas
    canvas.go_to(window.topology.hall_names[0], animate=False)
    qtbot.waitUntil(lambda: window.snapshot is not None, timeout=30_000)
    qtbot.waitUntil(lambda: canvas.piping.speed_m_s.max() > 0, timeout=30_000)
    qtbot.waitUntil(lambda: canvas.labels.visible, timeout=30_000)  # glyphs loaded
    qtbot.wait(100)
    generation, frames = window.shown_generation, canvas.frames_drawn
    dots = canvas.piping.dot_positions.copy()
    # drawn on, not once a snapshot: more frames than snapshots shown, whatever the
    # machine's frame rate
    qtbot.waitUntil(lambda: canvas.frames_drawn - frames >= 8, timeout=60_000)
    assert canvas.frames_drawn - frames > window.shown_generation - generation
    assert not np.allclose(canvas.piping.dot_positions, dots)
    window.set_running(False)
    qtbot.wait(100)
    frames, dots = canvas.frames_drawn, canvas.piping.dot_positions.copy()
    qtbot.wait(300)
    assert canvas.frames_drawn - frames <= 1  # nothing moves: nothing to draw
    assert np.allclose(canvas.piping.dot_positions, dots)


def test_the_window_shortcuts_work_while_the_view_has_the_focus(make_window, qtbot):
    from PySide6.QtCore import QPoint, Qt
    from PySide6.QtGui import QGuiApplication

    window = make_window(running=True, speed=60.0)
    native = window.canvas.canvas.native
    qtbot.waitUntil(native.isExposed, timeout=30_000)
    window.activateWindow()
    qtbot.mouseClick(native, Qt.MouseButton.LeftButton, pos=QPoint(5, 5))
    qtbot.waitUntil(lambda: QGuiApplication.focusWindow() is native, timeout=30_000)
    assert not window.runner.paused
    qtbot.keyClick(native, Qt.Key.Key_Space)  # run / pause, a shortcut of the main window
    qtbot.waitUntil(lambda: window.runner.paused, timeout=30_000)
    qtbot.keyClick(native, Qt.Key.Key_Space)
    qtbot.waitUntil(lambda: not window.runner.paused, timeout=30_000)
