"""Live changes to instanced boxes, written into the buffers already on the GPU.

vispy's InstancedMesh setters (``instance_colors`` and the like) make new vertex buffers
and mark the whole mesh changed: its next draw rebuilds the mesh and compiles and links
its shader program again, for every mesh changed in a frame. These functions write the
new values into the buffers the mesh already has (same number of instances), so that a
frame costs only the upload.
"""

from __future__ import annotations

import numpy as np
from vispy.color import ColorArray
from vispy.scene import visuals

from twin.gui._vispy.geometry import UNIT_CUBE, scale_transforms
from twin.sim.layout import Boxes


def send_colors(node: visuals.InstancedMesh, colors: np.ndarray) -> None:
    """New (n, 4) RGBA colours for the n instances of ``node``."""
    colors = np.ascontiguousarray(colors, np.float32)
    node._instance_colors_vbo.set_data(colors)
    node._instance_colors = ColorArray(colors)
    node.update()


def send_transforms(
    node: visuals.InstancedMesh, transforms: np.ndarray, positions: np.ndarray | None = None
) -> None:
    """New (n, 3, 3) transforms, and (n, 3) positions if given, for ``node``'s instances.

    The mesh's bounds stay as they were: they only frame the camera's auto-range, which
    twin does not use.
    """
    transforms = np.asarray(transforms, np.float32)
    for k, buffer in enumerate(node._instance_transforms_vbos):
        buffer.set_data(np.ascontiguousarray(transforms[..., k]))
    node._instance_transforms = transforms
    if positions is not None:
        positions = np.ascontiguousarray(positions, np.float32)
        node._instance_positions_vbo.set_data(positions)
        node._instance_positions = positions
    node.update()


class BoxBatch:
    """Named groups of boxes drawn as one InstancedMesh of the unit cube.

    One visual costs about 0.3 ms a frame on software OpenGL whatever it draws, so an
    adapter's boxes go into one mesh rather than one per kind of equipment. Groups are
    slices of the instance buffers: ``set_colors`` and ``place`` change a group on the CPU
    side, ``send`` uploads each changed buffer once.
    """

    def __init__(
        self,
        groups: dict[str, tuple[np.ndarray, np.ndarray, np.ndarray]],
        parent,
        *,
        cull_face: bool = True,
    ) -> None:
        """``groups``: name -> (centres (n, 3), transforms (n, 3, 3), colours (n, 4) or one
        colour (4,)); a group may be empty. ``cull_face``: skip back faces, for groups
        whose transforms never mirror the cube."""
        self._slices: dict[str, slice] = {}
        start = 0
        for name, (centers, _, _) in groups.items():
            self._slices[name] = slice(start, start + len(centers))
            start += len(centers)
        if start == 0:
            raise ValueError("a batch of boxes needs at least one box")
        self.positions = np.concatenate(
            [np.asarray(c, np.float32) for c, _, _ in groups.values()]
        ).reshape(-1, 3)
        self.transforms = np.concatenate(
            [np.asarray(t, np.float32) for _, t, _ in groups.values()]
        ).reshape(-1, 3, 3)
        self.colors = (
            np.concatenate(
                [
                    np.broadcast_to(np.asarray(rgba, np.float32), (len(c), 4))
                    for c, _, rgba in groups.values()
                ]
            )
            .reshape(-1, 4)
            .copy()
        )
        vertices, faces, greys = UNIT_CUBE
        self.node = visuals.InstancedMesh(
            vertices,
            faces,
            vertex_colors=greys,
            instance_positions=self.positions,
            instance_transforms=self.transforms,
            instance_colors=self.colors,
            parent=parent,
        )
        # the depth mask stays on: left off, it would also stop the next frame's depth clear
        self.node.set_gl_state(
            "opaque", depth_test=True, cull_face=cull_face, polygon_offset_fill=False
        )
        self._colors_changed = self._placement_changed = False

    def __contains__(self, name: str) -> bool:
        return name in self._slices

    def group_colors(self, name: str) -> np.ndarray:
        """The colours of group ``name`` as drawn (a read-only view)."""
        view = self.colors[self._slices[name]]
        view.flags.writeable = False
        return view

    def group_transforms(self, name: str) -> np.ndarray:
        view = self.transforms[self._slices[name]]
        view.flags.writeable = False
        return view

    def group_positions(self, name: str) -> np.ndarray:
        view = self.positions[self._slices[name]]
        view.flags.writeable = False
        return view

    def set_colors(self, name: str, colors: np.ndarray) -> None:
        """New colours for group ``name``: (n, 4), or one (4,) for all its boxes."""
        self.colors[self._slices[name]] = colors
        self._colors_changed = True

    def place(self, name: str, centers: np.ndarray, transforms: np.ndarray) -> None:
        """Move and stretch the boxes of group ``name`` (as many as it has)."""
        part = self._slices[name]
        self.positions[part] = centers
        self.transforms[part] = transforms
        self._placement_changed = True

    def send(self) -> None:
        """Upload what changed since the last ``send``."""
        if self._colors_changed:
            send_colors(self.node, self.colors)
            self._colors_changed = False
        if self._placement_changed:
            send_transforms(self.node, self.transforms, self.positions)
            self._placement_changed = False


def box_group(
    boxes: Boxes, colors, *, shrink_m: float = 0.0
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """A group for ``BoxBatch`` from axis-aligned boxes; ``shrink_m`` leaves a seam between
    neighbours."""
    size = np.maximum(boxes.size_m - np.array([shrink_m, shrink_m, 0.0]), 1e-3)
    return boxes.center_m, scale_transforms(size), np.asarray(colors, np.float32)
