"""Rectangles (or triangles) in a view's pixels, a colour at each corner, whose buffers are
rewritten in place: the label plates and the backdrop (sky, haze and the ground's fog).

vispy's Mesh makes a new colour buffer and a new colour function at every ``set_data``,
which marks its shader program changed: the next draw builds, compiles and links it
again (under software OpenGL, LLVM compiles it anew). The label plates change at every
frame the camera moves, so they would pay that at every frame; these quads only upload
their vertices.
"""

from __future__ import annotations

import numpy as np
from vispy.gloo import IndexBuffer, VertexBuffer
from vispy.scene.visuals import create_visual_node
from vispy.visuals import Visual

_VERTEX = """
varying vec4 v_color;
void main() {
    gl_Position = $transform(vec4($position, 0.0, 1.0));
    v_color = $color;
}
"""

# for a backdrop in a 3D scene: corners given in normalised device coordinates, just in
# front of the far plane (behind all but the last 1.5 % of the depth range at 3000:1),
# so that with the depth test it fills only where nothing has been drawn yet
_VERTEX_FAR = """
varying vec4 v_color;
void main() {
    gl_Position = vec4($position, 0.99999, 1.0);
    v_color = $color;
}
"""

_FRAGMENT = """
varying vec4 v_color;
void main() {
    gl_FragColor = v_color;
}
"""

# two triangles a rectangle, over its corners in the order ``set_rects`` takes them
_CORNERS = np.array([0, 1, 2, 0, 2, 3], np.uint32)


class QuadsVisual(Visual):
    """Axis-aligned rectangles in the parent's coordinates (a view's pixels), or with
    ``far``, in normalised device coordinates at the far plane, whatever the parent."""

    def __init__(self, far: bool = False) -> None:
        self._far = far
        super().__init__(vcode=_VERTEX_FAR if far else _VERTEX, fcode=_FRAGMENT)
        self._positions = VertexBuffer(np.zeros((4, 2), np.float32))
        self._colors = VertexBuffer(np.zeros((4, 4), np.float32))
        self._index_buffer = IndexBuffer(_CORNERS)
        self.shared_program.vert["position"] = self._positions
        self.shared_program.vert["color"] = self._colors
        self._draw_mode = "triangles"
        self._count = 0
        self._indexed_rects = 0  # rectangles the index buffer is laid out for (-1: triangles)

    @property
    def count(self) -> int:
        """How many rectangles (or triangles, after ``set_triangles``) are drawn."""
        return self._count

    def set_rects(self, rects: np.ndarray, corner_colors: np.ndarray) -> None:
        """Rectangles (n, 4: x0, y0, x1, y1) and the RGBA colour of each one's corners,
        (n, 4, 4) in the order (x0, y0), (x1, y0), (x1, y1), (x0, y1), or one (n, 4) colour
        for all four."""
        rects = np.asarray(rects, np.float32).reshape(-1, 4)
        colors = np.asarray(corner_colors, np.float32)
        if colors.ndim == 2:
            colors = np.repeat(colors[:, None, :], 4, axis=1)
        x0, y0, x1, y1 = rects.T
        vertices = np.stack(
            [np.column_stack(c) for c in ((x0, y0), (x1, y0), (x1, y1), (x0, y1))], axis=1
        )
        count = len(rects)
        if count:
            self._positions.set_data(np.ascontiguousarray(vertices.reshape(-1, 2)))
            self._colors.set_data(np.ascontiguousarray(colors.reshape(-1, 4)))
            if count != self._indexed_rects:
                base = 4 * np.arange(count, dtype=np.uint32)[:, None]
                self._index_buffer.set_data((base + _CORNERS).ravel())
                self._indexed_rects = count
        self._count = count
        self.update()

    def set_triangles(self, corners: np.ndarray, corner_colors: np.ndarray) -> None:
        """Triangles instead of rectangles: corners (3n, 2) and their RGBA colours (3n, 4),
        three a triangle; ``count`` is then the number of triangles."""
        corners = np.ascontiguousarray(corners, np.float32).reshape(-1, 2)
        colors = np.ascontiguousarray(corner_colors, np.float32).reshape(-1, 4)
        count = len(corners) // 3
        if count:
            self._positions.set_data(corners[: 3 * count])
            self._colors.set_data(colors[: 3 * count])
            self._index_buffer.set_data(np.arange(3 * count, dtype=np.uint32))
            self._indexed_rects = -1
        self._count = count
        self.update()

    def _prepare_draw(self, view) -> bool | None:
        return False if self._count == 0 else None

    def _prepare_transforms(self, view) -> None:
        if not self._far:
            view.view_program.vert["transform"] = view.transforms.get_transform()

    def _compute_bounds(self, axis, view):
        return None


Quads = create_visual_node(QuadsVisual)
