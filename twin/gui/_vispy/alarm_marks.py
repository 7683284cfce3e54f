"""Objects in alarm, marked in 3D: an outline in the colour of the alarm's priority.

An object with an active alarm is outlined in the colour of its most urgent one, drawn
over everything like the selection, so that a rack in alarm deep in a hall still shows.
As on an ISA-101 display, an unacknowledged alarm blinks (once a second) and an
acknowledged one is steady; one that has cleared but waits for acknowledgement blinks
dimmed. Shelved and suppressed alarms are not marked. All outlines are one line visual.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence

import numpy as np
from vispy import app
from vispy.color import Color
from vispy.scene import visuals

from twin.alarms import AlarmState, AlarmView, Priority
from twin.gui._vispy.base import Adapter
from twin.gui._vispy.selection import box_edges

BLINK_INTERVAL_S = 0.5  # on half a second, off half a second
MARK_PAD_M = 0.15  # outside the selection outline (0.08 m), so both show
RETURNED_ALPHA = 0.45  # cleared, not yet acknowledged
MARKED_STATES = {
    AlarmState.UNACKNOWLEDGED: True,
    AlarmState.ACKNOWLEDGED: False,
    AlarmState.RETURNED_UNACKNOWLEDGED: True,
}  # state -> blinks
"""The states an object is marked for, and whether the mark blinks."""

Bounds = Callable[[str, int], tuple[np.ndarray, np.ndarray] | None]


class AlarmMarkAdapter(Adapter):
    def __init__(self, parent, request_draw: Callable[[], None]) -> None:
        super().__init__(parent)
        self.outline = visuals.Line(connect="segments", width=2.0, parent=self.root)
        self.outline.order = 4  # under the selection outline
        self.outline.set_gl_state("translucent", depth_test=False)
        self.outline.visible = False
        self.marked: dict[tuple[str, int], tuple[Priority, AlarmState]] = {}
        self._points = np.zeros((0, 3), np.float32)
        self._colors = np.zeros((0, 4), np.float32)
        self._blinks = np.zeros(0, bool)  # per vertex
        self.lit = True  # the blinking marks' phase
        self._request_draw = request_draw
        self._blink = app.Timer(interval=BLINK_INTERVAL_S, connect=self._toggle, start=False)

    def show_alarms(self, alarms: Sequence[AlarmView], bounds: Bounds) -> None:
        """Mark the sources of ``alarms``, each in the colour of its most urgent marked
        alarm (an active one before one that has cleared); ``bounds`` gives an object's
        box, or None for one the view does not draw."""
        marked: dict[tuple[str, int], tuple[Priority, AlarmState]] = {}
        sourced = [
            (a.source, a) for a in alarms if a.source is not None and a.state in MARKED_STATES
        ]
        for source, alarm in sorted(sourced, key=lambda sa: (not sa[1].active, sa[1].priority)):
            marked.setdefault(source, (alarm.priority, alarm.state))  # most urgent first
        if marked == self.marked:
            return
        self.marked = marked
        points, colors, blinks = [], [], []
        for (kind, index), (priority, state) in marked.items():
            box = bounds(kind, index)
            if box is None:
                continue
            lower, upper = box
            pad = np.full(3, MARK_PAD_M)
            points.append(box_edges(np.asarray(lower) - pad, np.asarray(upper) + pad))
            rgba = np.array(Color(priority.color_hex).rgba, np.float32)
            if state is AlarmState.RETURNED_UNACKNOWLEDGED:
                rgba[3] = RETURNED_ALPHA
            colors.append(np.tile(rgba, (24, 1)))
            blinks.append(np.full(24, MARKED_STATES[state]))
        self._points = (
            np.concatenate(points).astype(np.float32) if points else np.zeros((0, 3), np.float32)
        )
        self._colors = np.concatenate(colors) if colors else np.zeros((0, 4), np.float32)
        self._blinks = np.concatenate(blinks) if blinks else np.zeros(0, bool)
        if self._blinks.any():
            self._blink.start()
        else:
            self._blink.stop()
            self.lit = True
        self._draw()

    @property
    def colors(self) -> np.ndarray:
        """Each outline vertex's colour as drawn now (blinking ones clear when off)."""
        colors = self._colors.copy()
        if not self.lit:
            colors[self._blinks, 3] = 0.0
        return colors

    def _toggle(self, _event=None) -> None:
        self.lit = not self.lit
        self._draw()

    def _draw(self) -> None:
        if len(self._points) == 0:
            self.outline.visible = False
        else:
            self.outline.set_data(pos=self._points, color=self.colors)
            self.outline.visible = True
        self._request_draw()

    def close(self) -> None:
        self._blink.stop()
