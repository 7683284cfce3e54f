"""Helpers of the window tests: a paused window that shows each change, the pixel under a
point of the site."""

from __future__ import annotations

import numpy as np


def open_paused(make_window, qtbot, simulation):
    """A paused window on ``simulation`` showing its first snapshot, and a function that
    applies a change to the simulation and waits until the window shows the result."""
    window = make_window(simulation=simulation, running=False)
    qtbot.waitUntil(lambda: window.snapshot is not None, timeout=30_000)

    def change(function=lambda sim: None) -> None:
        generation = window.shown_generation
        window.runner.call(function)
        qtbot.waitUntil(lambda: window.shown_generation > generation, timeout=30_000)

    return window, change


def pixel_at(canvas, image: np.ndarray, point: np.ndarray) -> np.ndarray:
    """The rendered RGB at the pixel where a point of the site appears."""
    x, y = canvas.screen_position(point)
    scale = image.shape[1] / canvas.canvas.size[0]  # physical over logical pixels
    return image[int(y * scale), int(x * scale), :3].astype(int)
