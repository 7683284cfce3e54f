"""Instanced boxes with baked face shading, and picking boxes along a ray.

Every piece of equipment is drawn as an instance of one unit cube. Each face of the
cube carries a fixed grey level (a sun from the south-east, high up) that multiplies
the instance colour: boxes read as solid under software OpenGL at no per-pixel cost,
and the shading stays put while the camera orbits, as daylight would.
"""

from __future__ import annotations

import numpy as np
from vispy.scene import visuals

from twin.sim.layout import Boxes

# (normal axis, sign, grey level): top brightest, sunlit south and east faces next
_FACES = (
    (2, +1, 1.00),
    (2, -1, 0.45),
    (1, -1, 0.84),
    (1, +1, 0.62),
    (0, +1, 0.74),
    (0, -1, 0.56),
)


def _unit_cube(bottom: bool = True) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Vertices (24, 3) of a cube of side 1 centred on 0, faces (12, 3), grey (24, 4);
    without the ``bottom`` face, 20 vertices and 10 faces."""
    vertices, faces, colors = [], [], []
    for axis, sign, grey in _FACES:
        if (axis, sign) == (2, -1) and not bottom:
            continue
        u, v = [a for a in range(3) if a != axis]
        base = len(vertices)
        for du, dv in ((-1, -1), (1, -1), (1, 1), (-1, 1)):
            corner = np.zeros(3)
            corner[axis], corner[u], corner[v] = sign * 0.5, du * 0.5, dv * 0.5
            vertices.append(corner)
            colors.append((grey, grey, grey, 1.0))
        # anticlockwise seen from outside, so that opaque boxes can skip their back faces
        if np.cross(np.eye(3)[u], np.eye(3)[v])[axis] * sign > 0:
            faces += [(base, base + 1, base + 2), (base, base + 2, base + 3)]
        else:
            faces += [(base, base + 2, base + 1), (base, base + 3, base + 2)]
    return np.array(vertices, np.float32), np.array(faces, np.uint32), np.array(colors, np.float32)


UNIT_CUBE = _unit_cube()
UNIT_CUBE_ON_FLOOR = _unit_cube(bottom=False)


def scale_transforms(size: np.ndarray) -> np.ndarray:
    """(n, 3, 3) diagonal matrices that stretch the unit cube to ``size`` (n, 3)."""
    transforms = np.zeros((len(size), 3, 3), np.float32)
    idx = np.arange(3)
    transforms[:, idx, idx] = size
    return transforms


def box_node(boxes: Boxes, colors: np.ndarray, parent, *, shrink_m: float = 0.0,
             translucent: bool = False, on_floor: bool = False) -> visuals.InstancedMesh:
    """One InstancedMesh for all ``boxes``; ``shrink_m`` leaves a seam between neighbours.
    ``on_floor``: boxes standing on an opaque floor, whose bottoms no camera sees, are
    drawn without them (a sixth fewer vertices: thousands of racks)."""
    vertices, faces, greys = UNIT_CUBE_ON_FLOOR if on_floor else UNIT_CUBE
    size = np.maximum(boxes.size_m - np.array([shrink_m, shrink_m, 0.0]), 1e-3)
    node = visuals.InstancedMesh(
        vertices, faces, vertex_colors=greys,
        instance_positions=boxes.center_m.astype(np.float32),
        instance_transforms=scale_transforms(size),
        instance_colors=np.broadcast_to(colors, (boxes.count, 4)).astype(np.float32),
        parent=parent,
    )
    # Opaque boxes skip the faces turned away from the camera (software GL rasterises
    # fewer triangles); translucent walls are seen from inside and outside. The depth
    # mask stays on: left off, it would also stop the next frame's depth clear.
    node.set_gl_state("translucent" if translucent else "opaque", depth_test=True,
                      cull_face=not translucent)
    return node


def ray_hits(boxes: Boxes, origin: np.ndarray, direction: np.ndarray) -> np.ndarray:
    """Distance along the ray to each box (slab test), ``inf`` where the ray misses."""
    with np.errstate(divide="ignore", invalid="ignore"):
        inverse = 1.0 / direction
        t1 = (boxes.lower_m - origin) * inverse
        t2 = (boxes.upper_m - origin) * inverse
    near = np.nanmax(np.minimum(t1, t2), axis=1)
    far = np.nanmin(np.maximum(t1, t2), axis=1)
    hit = (far >= np.maximum(near, 0.0))
    return np.where(hit, np.maximum(near, 0.0), np.inf)


def nearest_hit(boxes: Boxes, origin: np.ndarray, direction: np.ndarray) -> int | None:
    if boxes.count == 0:
        return None
    distance = ray_hits(boxes, origin, direction)
    index = int(np.argmin(distance))
    return index if np.isfinite(distance[index]) else None
