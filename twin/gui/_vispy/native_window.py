"""A vispy canvas in a native OpenGL window (QOpenGLWindow), shown in a window container.

vispy's Qt backend draws into a QOpenGLWidget. Qt composes such a widget with the rest of
the window on every frame: the whole top-level window is drawn again as textured quads and
swapped. Under software OpenGL that composition costs more than most scenes (measured at
1920x1080 with llvmpipe: a bare glClear in a QOpenGLWidget ran 49 fps, in a QOpenGLWindow
164 fps). A native window swaps only its own pixels and leaves the other widgets alone.

The price is Qt's usual one for native child windows: widgets cannot float over it and
``QWidget.grab`` sees it blank (``CanvasWrapper.render`` draws it instead). What must lie
over the view (the kiosk's captions, KPIs and callouts) is painted into the same frame by
``paint_over``, a QPainter on the window after vispy has drawn the scene.
"""

from __future__ import annotations

import types
from collections.abc import Callable

from PySide6.QtGui import QOffscreenSurface, QOpenGLContext, QPainter, QSurfaceFormat
from PySide6.QtOpenGL import QOpenGLPaintDevice, QOpenGLWindow
from vispy import app
from vispy.app.backends import (
    _pyside6,  # noqa: F401 - binds vispy's Qt backend to PySide6
    _qt,
)
from vispy.gloo import gl


class WindowCanvasBackend(_qt.QtBaseCanvasBackend, QOpenGLWindow):
    """vispy's canvas backend on a QOpenGLWindow; input handling is vispy's own
    (``QtBaseCanvasBackend``), only the surface, the context and painting differ."""

    # painted over the scene in every frame, with a QPainter on the window (view pixels)
    paint_over: Callable[[QPainter], None] | None = None

    def _init_specific(self, p, kwargs) -> None:
        gl_format: QSurfaceFormat = _qt._set_config(p.context.config)
        gl_format.setSwapInterval(1 if p.vsync else 0)
        # QPainter fills curved shapes through the stencil (``paint_over``); packed with
        # the 24-bit depth, it costs no memory of its own
        gl_format.setStencilBufferSize(8)
        # A context of our own on an off-screen surface answers vispy's GL queries (and
        # off-screen renders) before the window is shown; the window's context shares
        # its buffers, textures and programs.
        early_context = QOpenGLContext()
        early_context.setFormat(gl_format)
        early_context.create()
        QOpenGLWindow.__init__(self, early_context, QOpenGLWindow.UpdateBehavior.NoPartialUpdate)
        # Both go with the window, not at the interpreter's exit after the application
        early_context.setParent(self)
        self._early_context = early_context
        self._early_surface = QOffscreenSurface(None, self)
        self._early_surface.setFormat(gl_format)
        self._early_surface.create()
        early_context.makeCurrent(self._early_surface)
        p.context.shared.add_ref("qt", self)
        self.setFormat(gl_format)
        self._initialized = True
        self.screenChanged.connect(self.screen_changed)

    # QWidget calls of the base backend that a QWindow spells differently, or has no use for

    def setMouseTracking(self, _enable: bool) -> None:
        """A QWindow gets every mouse move already."""

    def _vispy_set_title(self, title: str) -> None:
        if self._vispy_canvas is not None:
            self.setTitle(title)

    def devicePixelRatioF(self) -> float:
        return self.devicePixelRatio()

    def _vispy_set_current(self) -> None:
        if self._vispy_canvas is None:
            return
        if self.isValid():
            self.makeCurrent()
        else:
            self._early_context.makeCurrent(self._early_surface)

    def _vispy_swap_buffers(self) -> None:
        """QOpenGLWindow swaps after ``paintGL`` by itself (the canvas runs without
        vispy's autoswap)."""

    def _vispy_get_fb_bind_location(self) -> int:
        return self.defaultFramebufferObject()

    def _vispy_close(self) -> None:
        self.close()
        self.doneCurrent()

    def initializeGL(self) -> None:
        if self._vispy_canvas is not None:
            self._vispy_canvas.events.initialize()

    def resizeGL(self, w: int, h: int) -> None:
        if self._vispy_canvas is None:
            return
        ratio = self.devicePixelRatio()
        physical = (int(w * ratio), int(h * ratio))
        self._vispy_set_physical_size(*physical)
        self._vispy_canvas.events.resize(size=(self.width(), self.height()), physical_size=physical)

    def paintGL(self) -> None:
        if self._vispy_canvas is None:
            return
        self._vispy_canvas.set_current()
        if self.paint_over is None:
            self._vispy_canvas.events.draw(region=None)
            return
        # vispy draws as QPainter's native painting: QPainter sets its own state again
        # after it, except what it assumes it left as it was (see _hand_back_to_qpainter)
        ratio = self.devicePixelRatio()
        device = QOpenGLPaintDevice(self.size() * ratio)  # the bound framebuffer's size
        device.setDevicePixelRatio(ratio)
        painter = QPainter(device)
        try:
            painter.beginNativePainting()
            try:
                self._vispy_canvas.events.draw(region=None)
            finally:
                _hand_back_to_qpainter()
                painter.endNativePainting()
            self.paint_over(painter)
        finally:
            painter.end()
            # QPainter drew with programs of its own: vispy's note of the program in use,
            # which spares it a glUseProgram, no longer holds
            self._vispy_canvas.context.shared.parser.env.pop("current_program", None)


_QT_ATTRIBUTES = 16  # vertex attributes to reset: at least as many as vispy's programs use


def _hand_back_to_qpainter() -> None:
    """Undo what vispy leaves set that QPainter neither sets nor expects: faces culled
    by their winding and the depth test (they eat its shapes), a texture unit other than
    the first (its glyphs and gradients would be read from vispy's textures), and
    instanced vertex attributes (every vertex of its shapes would be the first)."""
    gl.glDisable(gl.GL_CULL_FACE)
    gl.glDisable(gl.GL_DEPTH_TEST)
    gl.glActiveTexture(gl.GL_TEXTURE0)
    instanced = hasattr(gl, "glVertexAttribDivisor")
    for attribute in range(_QT_ATTRIBUTES):
        gl.glDisableVertexAttribArray(attribute)
        if instanced:
            gl.glVertexAttribDivisor(attribute, 0)


class _WindowBackendApplication(app.Application):
    """vispy's PySide6 application whose canvases are native windows."""

    def __init__(self) -> None:
        module = app.use_app("pyside6").backend_module
        self._window_module = types.SimpleNamespace(**vars(module))
        self._window_module.CanvasBackend = WindowCanvasBackend
        super().__init__("pyside6")

    @property
    def backend_module(self):
        return self._window_module


_application: _WindowBackendApplication | None = None


def window_application() -> app.Application:
    """The vispy application to pass to a SceneCanvas that should be a native window."""
    global _application
    if _application is None:
        _application = _WindowBackendApplication()
    return _application
