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


def send_colors(node: visuals.InstancedMesh, colors: np.ndarray) -> None:
    """New (n, 4) RGBA colours for the n instances of ``node``."""
    colors = np.ascontiguousarray(colors, np.float32)
    node._instance_colors_vbo.set_data(colors)
    node._instance_colors = ColorArray(colors)
    node.update()


def send_transforms(node: visuals.InstancedMesh, transforms: np.ndarray,
                    positions: np.ndarray | None = None) -> None:
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
