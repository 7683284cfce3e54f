"""Instanced boxes with baked face shading, and picking boxes along a ray.

Every piece of equipment is drawn as an instance of one unit cube. Each face of the
cube carries a fixed grey level (a sun from the south-east, high up) that multiplies
the instance colour: boxes read as solid under software OpenGL at no per-pixel cost,
and the shading stays put while the camera orbits, as daylight would.
"""

from __future__ import annotations

import functools

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


ALL_FACES = frozenset((axis, sign) for axis, sign, _ in _FACES)
BOTTOM = (2, -1)


@functools.cache
def unit_cube(
    faces: frozenset[tuple[int, int]] = ALL_FACES,
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """A cube of side 1 centred on 0 with the given ``faces`` ((axis, sign) pairs): four
    vertices (n, 3), two triangles (m, 3) and a grey (n, 4) per face."""
    vertices: list[np.ndarray] = []
    triangles: list[tuple[int, int, int]] = []
    colors: list[tuple[float, float, float, float]] = []
    for axis, sign, grey in _FACES:
        if (axis, sign) not in faces:
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
            triangles += [(base, base + 1, base + 2), (base, base + 2, base + 3)]
        else:
            triangles += [(base, base + 2, base + 1), (base, base + 3, base + 2)]
    return (
        np.array(vertices, np.float32).reshape(-1, 3),
        np.array(triangles, np.uint32).reshape(-1, 3),
        np.array(colors, np.float32).reshape(-1, 4),
    )


UNIT_CUBE = unit_cube()
UNIT_CUBE_ON_FLOOR = unit_cube(ALL_FACES - {BOTTOM})  # boxes whose bottoms no camera sees


def faces_facing(
    eye_m: np.ndarray, lower_m: np.ndarray, upper_m: np.ndarray
) -> frozenset[tuple[int, int]]:
    """The faces that turn towards a camera at ``eye_m`` on at least one of the boxes
    from ``lower_m`` to ``upper_m`` (n, 3): the +x face of a box faces the eye when the
    eye lies beyond the box's upper x, and so on. The others are back faces of every box
    and need not be drawn at all."""
    eye = np.asarray(eye_m, float)
    return frozenset(
        {(axis, +1) for axis in range(3) if eye[axis] > upper_m[:, axis].min()}
        | {(axis, -1) for axis in range(3) if eye[axis] < lower_m[:, axis].max()}
    )


def scale_transforms(size: np.ndarray) -> np.ndarray:
    """(n, 3, 3) diagonal matrices that stretch the unit cube to ``size`` (n, 3)."""
    transforms = np.zeros((len(size), 3, 3), np.float32)
    idx = np.arange(3)
    transforms[:, idx, idx] = size
    return transforms


def shrunk(boxes: Boxes, shrink_m: float) -> Boxes:
    """``boxes`` narrower by ``shrink_m`` across (x and y), leaving seams between them."""
    return Boxes(
        boxes.center_m, np.maximum(boxes.size_m - np.array([shrink_m, shrink_m, 0.0]), 1e-3)
    )


def box_node(
    boxes: Boxes,
    colors: np.ndarray,
    parent,
    *,
    shrink_m: float = 0.0,
    translucent: bool = False,
    on_floor: bool = False,
    faces: frozenset[tuple[int, int]] | None = None,
) -> visuals.InstancedMesh:
    """One InstancedMesh for all ``boxes``; ``shrink_m`` leaves a seam between neighbours.
    ``on_floor``: boxes standing on an opaque floor, whose bottoms no camera sees, are
    drawn without them (a sixth fewer vertices: thousands of racks); ``faces``: only those
    faces (see ``faces_facing``)."""
    if faces is None:
        faces = ALL_FACES - {BOTTOM} if on_floor else ALL_FACES
    vertices, triangles, greys = unit_cube(faces)
    size = shrunk(boxes, shrink_m).size_m
    node = visuals.InstancedMesh(
        vertices,
        triangles,
        vertex_colors=greys,
        instance_positions=boxes.center_m.astype(np.float32),
        instance_transforms=scale_transforms(size),
        instance_colors=np.broadcast_to(colors, (boxes.count, 4)).astype(np.float32),
        parent=parent,
    )
    # Opaque boxes skip the faces turned away from the camera (software GL rasterises
    # fewer triangles); translucent walls are seen from inside and outside. The depth
    # mask stays on: left off, it would also stop the next frame's depth clear. No polygon
    # offset (``sky.push_back``) carries over from the floor drawn before.
    node.set_gl_state(
        "translucent" if translucent else "opaque",
        depth_test=True,
        cull_face=not translucent,
        polygon_offset_fill=False,
    )
    return node


def ray_hits(boxes: Boxes, origin: np.ndarray, direction: np.ndarray) -> np.ndarray:
    """Distance along the ray to each box (slab test), ``inf`` where the ray misses."""
    with np.errstate(divide="ignore", invalid="ignore"):
        inverse = 1.0 / direction
        t1 = (boxes.lower_m - origin) * inverse
        t2 = (boxes.upper_m - origin) * inverse
    near = np.nanmax(np.minimum(t1, t2), axis=1)
    far = np.nanmin(np.maximum(t1, t2), axis=1)
    hit = far >= np.maximum(near, 0.0)
    return np.where(hit, np.maximum(near, 0.0), np.inf)


def nearest_hit(boxes: Boxes, origin: np.ndarray, direction: np.ndarray) -> int | None:
    if boxes.count == 0:
        return None
    distance = ray_hits(boxes, origin, direction)
    index = int(np.argmin(distance))
    return index if np.isfinite(distance[index]) else None
