"""Distance fog: what lies far behind the point the camera looks at fades into the
horizon's haze, so the far parts of a large site and the ground's far edge melt into the
sky instead of ending in a hard line.

A depth cue, not a model of the atmosphere: the fog is measured in multiples of the
camera's distance to the point it orbits (nothing in front of that point is fogged; at
``END`` times that distance it reaches ``STRENGTH``), so a hall seen close up and the
whole gigawatt campus seen from afar both keep their subject clear and fade what lies
beyond it. Each drawn fragment pays a few arithmetic operations (its depth comes from the
vertex shader, interpolated); no extra pass.
"""

from __future__ import annotations

import numpy as np
from vispy.scene import visuals
from vispy.visuals.filters import Filter
from vispy.visuals.shaders import Varying

START = 0.8  # fog begins a little before the point the camera orbits (x its distance)
END = 2.2  # and is at its strongest this far
STRENGTH = 0.85  # the most of a colour the haze replaces

_VERTEX = """
void fog_depth() {
    $v_depth = gl_Position.w;
}
"""

_FRAGMENT = """
void apply_fog() {
    float amount = $strength * smoothstep($start_w, $end_w, $v_depth);
    gl_FragColor.rgb = mix(gl_FragColor.rgb, $haze.rgb, amount);
}
"""


class FogFilter(Filter):
    """The fog term of one visual (see ``Fog``)."""

    def __init__(self) -> None:
        depth = Varying("v_depth", "float")
        super().__init__(vcode=_VERTEX, fcode=_FRAGMENT, fpos=9)  # after colour filters
        self.vshader["v_depth"] = depth
        self.fshader["v_depth"] = depth
        self.set(np.zeros(4, np.float32), 1.0, 2.0, 0.0)

    def set(self, haze: np.ndarray, start_w: float, end_w: float, strength: float) -> None:
        self.fshader["haze"] = tuple(float(c) for c in haze[:4])
        self.fshader["start_w"] = float(start_w)
        self.fshader["end_w"] = float(end_w)
        self.fshader["strength"] = float(strength)


_FOGGED_TYPES = (visuals.Mesh, visuals.InstancedMesh, visuals.Line)


class Fog:
    """Fog on every mesh and line under the ``roots`` (the adapters' pipes, boxes and
    ground; not labels, the selection or alarm marks, which must read at any distance).
    Visuals added later (the racks' face sets, made as the camera first sees them) are
    covered at the next ``place``."""

    def __init__(self, roots) -> None:
        self._roots = tuple(roots)
        self._filters: dict[object, FogFilter] = {}
        self._haze = np.zeros(4, np.float32)
        self._params = (1.0, 2.0, STRENGTH)
        self.enabled = True

    def set_haze(self, haze: np.ndarray) -> None:
        self._haze = np.asarray(haze, np.float32)
        self._apply(self._filters.values())

    def place(self, depth_w_of_centre: float) -> None:
        """Fit the fog to the camera: ``depth_w_of_centre`` is the clip-space w of the
        point the camera orbits (w grows with the distance from the eye)."""
        self._cover()
        strength = STRENGTH if self.enabled else 0.0
        params = (START * depth_w_of_centre, END * depth_w_of_centre, strength)
        if params != self._params:
            self._params = params
            self._apply(self._filters.values())

    def _cover(self) -> None:
        fresh = []
        for root in self._roots:
            fresh += self._cover_node(root)
        self._apply(fresh)

    def _cover_node(self, node) -> list[FogFilter]:
        fresh = []
        if isinstance(node, _FOGGED_TYPES) and node not in self._filters:
            fog = self._filters[node] = FogFilter()
            node.attach(fog)
            fresh.append(fog)
        for child in node.children:
            fresh += self._cover_node(child)
        return fresh

    def _apply(self, filters) -> None:
        for fog in filters:
            fog.set(self._haze, *self._params)

    @property
    def amount_range(self) -> tuple[float, float, float]:
        """(start w, end w, strength) as last placed."""
        return self._params
