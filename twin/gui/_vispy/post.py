"""Anti-aliasing as a post-process: the scene is drawn into a texture, then onto the
screen through FXAA (fast approximate anti-aliasing, after Timothy Lottes' FXAA 3.11,
console variant: the common short form), which blends each pixel along a contrast edge
with its neighbours across it.

MSAA multiplies the rasteriser's work per pixel, which software OpenGL pays on the CPU;
FXAA is one pass of nine texture reads per pixel (fewer where there is no edge), at any
scene complexity. Still, a full-view pass is not free under llvmpipe (see the README's
figures), so ``ANTIALIASING_MODES``' "auto" turns it on only for a hardware renderer.
"""

from __future__ import annotations

import numpy as np
from vispy import gloo, scene
from vispy.gloo import gl

ANTIALIASING_MODES = ("auto", "on", "off")
# vispy's depth render buffers are 16-bit: at a site view's distances that leaves floors
# and pads centimetres apart sharing depth (stripes); off-screen renders and the FXAA
# target take 24 bits, as the window's own depth buffer has
GL_DEPTH_COMPONENT24 = 0x81A6
SOFTWARE_RENDERERS = ("llvmpipe", "softpipe", "swrast", "software")

_VERTEX = """
attribute vec2 a_position;
varying vec2 v_uv;
void main() {
    v_uv = 0.5 * (a_position + 1.0);
    gl_Position = vec4(a_position, 0.0, 1.0);
}
"""

_FRAGMENT = """
uniform sampler2D u_scene;
uniform vec2 u_texel;
varying vec2 v_uv;
const vec3 LUMA = vec3(0.299, 0.587, 0.114);
const float REDUCE_MIN = 1.0 / 128.0;
const float REDUCE_MUL = 1.0 / 8.0;
const float SPAN_MAX = 8.0;
const float EDGE_THRESHOLD = 1.0 / 16.0;
void main() {
    vec3 rgb_m = texture2D(u_scene, v_uv).rgb;
    float luma_nw = dot(texture2D(u_scene, v_uv + vec2(-1.0, -1.0) * u_texel).rgb, LUMA);
    float luma_ne = dot(texture2D(u_scene, v_uv + vec2(1.0, -1.0) * u_texel).rgb, LUMA);
    float luma_sw = dot(texture2D(u_scene, v_uv + vec2(-1.0, 1.0) * u_texel).rgb, LUMA);
    float luma_se = dot(texture2D(u_scene, v_uv + vec2(1.0, 1.0) * u_texel).rgb, LUMA);
    float luma_m = dot(rgb_m, LUMA);
    float luma_min = min(luma_m, min(min(luma_nw, luma_ne), min(luma_sw, luma_se)));
    float luma_max = max(luma_m, max(max(luma_nw, luma_ne), max(luma_sw, luma_se)));
    if (luma_max - luma_min < EDGE_THRESHOLD) {  // no edge: the pixel as drawn
        gl_FragColor = vec4(rgb_m, 1.0);
        return;
    }
    vec2 dir = vec2(-((luma_nw + luma_ne) - (luma_sw + luma_se)),
                    (luma_nw + luma_sw) - (luma_ne + luma_se));
    float reduce = max((luma_nw + luma_ne + luma_sw + luma_se) * 0.25 * REDUCE_MUL, REDUCE_MIN);
    float scale = 1.0 / (min(abs(dir.x), abs(dir.y)) + reduce);
    dir = clamp(dir * scale, vec2(-SPAN_MAX), vec2(SPAN_MAX)) * u_texel;
    vec3 rgb_a = 0.5 * (texture2D(u_scene, v_uv + dir * (1.0 / 3.0 - 0.5)).rgb
                      + texture2D(u_scene, v_uv + dir * (2.0 / 3.0 - 0.5)).rgb);
    vec3 rgb_b = rgb_a * 0.5 + 0.25 * (texture2D(u_scene, v_uv - dir * 0.5).rgb
                                     + texture2D(u_scene, v_uv + dir * 0.5).rgb);
    float luma_b = dot(rgb_b, LUMA);
    gl_FragColor = vec4((luma_b < luma_min || luma_b > luma_max) ? rgb_a : rgb_b, 1.0);
}
"""


def is_software(renderer: str) -> bool:
    """Whether an OpenGL renderer string names a software rasteriser."""
    return any(name in renderer.lower() for name in SOFTWARE_RENDERERS)


def depth_buffer(shape: tuple[int, int]) -> gloo.RenderBuffer:
    """A 24-bit depth render buffer of ``shape`` (height, width)."""
    return gloo.RenderBuffer(shape, format=GL_DEPTH_COMPONENT24)


class PostProcessCanvas(scene.SceneCanvas):
    """A SceneCanvas that can draw its scene through FXAA, on screen and in ``render``,
    and renders off screen with a 24-bit depth buffer.

    ``antialiasing``: one of ``ANTIALIASING_MODES``; "auto" is on unless the renderer is
    a software one (known at the first draw, when a context is current)."""

    def __init__(self, *args, antialiasing: str = "auto", **kwargs) -> None:
        self._mode = "off"
        self.renderer: str | None = None
        self._target: gloo.FrameBuffer | None = None
        self._program: gloo.Program | None = None
        super().__init__(*args, **kwargs)
        self.antialiasing = antialiasing

    @property
    def antialiasing(self) -> str:
        return self._mode

    @antialiasing.setter
    def antialiasing(self, mode: str) -> None:
        if mode not in ANTIALIASING_MODES:
            raise ValueError(f"antialiasing {mode!r} is not one of {', '.join(ANTIALIASING_MODES)}")
        self._mode = mode
        self.update()

    @property
    def fxaa(self) -> bool:
        """Whether the next frame goes through FXAA."""
        if self._mode == "auto":
            return self.renderer is not None and not is_software(self.renderer)
        return self._mode == "on"

    def render(self, region=None, size=None, bgcolor=None, crop=None, alpha=True):
        """The scene drawn off screen, as SceneCanvas.render (same arguments), but with a
        24-bit depth buffer."""
        self.set_current()
        offset = (0, 0) if region is None else region[:2]
        canvas_size = self.size if region is None else region[2:]
        if size is None:
            size = tuple(int(x * self.pixel_scale) for x in canvas_size)
        shape = (size[1], size[0])
        fbo = gloo.FrameBuffer(color=gloo.RenderBuffer(shape), depth=depth_buffer(shape))
        self.push_fbo(fbo, offset, canvas_size)
        try:
            self._draw_scene(bgcolor=bgcolor)
            result = fbo.read(crop=crop)
        finally:
            self.pop_fbo()
        return result if alpha else result[..., :3]

    def _draw_scene(self, bgcolor=None) -> None:
        if self.renderer is None:
            self.set_current()
            self.renderer = str(gl.glGetParameter(gl.GL_RENDERER))
        if not self.fxaa:
            super()._draw_scene(bgcolor)
            return
        outer, _, _ = self._current_framebuffer()
        if outer is None:
            width, height = self.physical_size
        else:
            height, width = outer.color_buffer.shape[:2]
        target = self._scene_target((int(width), int(height)))
        _, offset, csize = self._current_framebuffer()
        self.push_fbo(target, offset, csize)
        try:
            super()._draw_scene(bgcolor)
        finally:
            self.pop_fbo()
        program = self._fxaa_program()
        program["u_texel"] = (1.0 / width, 1.0 / height)
        self.context.set_viewport(0, 0, int(width), int(height))
        self.context.set_state(depth_test=False, blend=False, cull_face=False)
        program.draw("triangle_strip")

    def _scene_target(self, size: tuple[int, int]) -> gloo.FrameBuffer:
        """The texture the scene is drawn into, at ``size`` (width, height) pixels."""
        shape = (size[1], size[0])
        if self._target is None or self._target.color_buffer.shape[:2] != shape:
            color = gloo.Texture2D(
                shape=(*shape, 3), format="rgb", interpolation="linear", wrapping="clamp_to_edge"
            )
            self._target = gloo.FrameBuffer(color=color, depth=depth_buffer(shape))
            self._fxaa_program()["u_scene"] = color
        return self._target

    def _fxaa_program(self) -> gloo.Program:
        if self._program is None:
            self._program = gloo.Program(_VERTEX, _FRAGMENT)
            self._program["a_position"] = np.array([[-1, -1], [1, -1], [-1, 1], [1, 1]], np.float32)
        return self._program
