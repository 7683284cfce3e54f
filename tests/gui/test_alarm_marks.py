"""Objects in alarm are outlined in 3D in their priority's colour; unacknowledged ones
blink, acknowledged ones are steady, shelved ones are not marked."""

from __future__ import annotations

import numpy as np
import pytest
from vispy.color import Color

from tests.fakes import FakeSimulation, scenario_named
from tests.gui.helpers import open_paused
from twin.alarms import AlarmKey, AlarmState, AlarmView, Priority
from twin.gui.objects import Selection

pytestmark = pytest.mark.gui


def alarm(
    source: tuple[str, int] | None,
    priority: Priority,
    state: AlarmState,
    tag: str = "rack.gpu_temp",
) -> AlarmView:
    active = state in (AlarmState.UNACKNOWLEDGED, AlarmState.ACKNOWLEDGED)
    return AlarmView(
        key=AlarmKey(tag, "H", source[1] if source else 0),
        description=tag,
        component="",
        priority=priority,
        state=state,
        active=active,
        value=1.0,
        limit=0.5,
        unit="",
        source=source,
        active_since_s=0.0 if active else None,
        changed_s=0.0,
        note="",
        shelved_until_s=None,
    )


def _rgba(priority: Priority) -> np.ndarray:
    return np.array(Color(priority.color_hex).rgba, np.float32)


@pytest.fixture
def hall_window(make_window, qtbot):
    window, _ = open_paused(make_window, qtbot, FakeSimulation(scenario_named("seoul-ai-factory")))
    window.canvas.go_to(window.topology.hall_names[0], animate=False)
    return window


def test_marks_follow_the_most_urgent_alarm_and_the_state(hall_window):
    canvas = hall_window.canvas
    marks = canvas.alarm_marks
    canvas.show_alarms(
        [
            alarm(("rack", 5), Priority.MEDIUM, AlarmState.UNACKNOWLEDGED),
            alarm(("rack", 5), Priority.CRITICAL, AlarmState.UNACKNOWLEDGED, "rack.tripped"),
            alarm(("rack", 6), Priority.HIGH, AlarmState.ACKNOWLEDGED),
            alarm(("rack", 7), Priority.CRITICAL, AlarmState.SHELVED),
            alarm(("cdu", 0), Priority.LOW, AlarmState.RETURNED_UNACKNOWLEDGED, "cdu.flow"),
            alarm(("cdu", 0), Priority.HIGH, AlarmState.ACKNOWLEDGED, "cdu.supply"),
            alarm(None, Priority.CRITICAL, AlarmState.UNACKNOWLEDGED, "site.grid"),
        ]
    )
    assert marks.marked == {
        ("rack", 5): (Priority.CRITICAL, AlarmState.UNACKNOWLEDGED),
        ("rack", 6): (Priority.HIGH, AlarmState.ACKNOWLEDGED),
        ("cdu", 0): (Priority.HIGH, AlarmState.ACKNOWLEDGED),
    }
    colors = marks.colors.reshape(3, 24, 4)  # 12 edges per box, in the order marked
    assert np.allclose(colors[0], _rgba(Priority.CRITICAL))
    assert np.allclose(colors[1], _rgba(Priority.HIGH))
    marks._toggle()  # the blink's off phase: the unacknowledged one goes dark
    colors = marks.colors.reshape(3, 24, 4)
    assert np.all(colors[0, :, 3] == 0.0) and np.allclose(colors[1], _rgba(Priority.HIGH))
    marks._toggle()
    assert marks.lit


def test_a_returned_alarm_blinks_dimmed_and_cleared_marks_go(hall_window):
    marks = hall_window.canvas.alarm_marks
    hall_window.canvas.show_alarms(
        [alarm(("cdu", 1), Priority.LOW, AlarmState.RETURNED_UNACKNOWLEDGED)]
    )
    assert 0.0 < marks.colors[0, 3] < 1.0 and marks._blink.running
    hall_window.canvas.show_alarms([])
    assert marks.marked == {} and not marks.outline.visible and not marks._blink.running


def test_the_mark_is_drawn_around_the_rack(hall_window):
    canvas = hall_window.canvas
    lower, upper = canvas.bounds(Selection("rack", 20))
    before = canvas.render()
    canvas.show_alarms([alarm(("rack", 20), Priority.CRITICAL, AlarmState.ACKNOWLEDGED)])
    after = canvas.render()
    changed = np.argwhere(np.abs(after[..., :3].astype(int) - before[..., :3]).max(axis=2) > 60)
    assert len(changed) > 20
    corners = [
        canvas.screen_position(np.array([x, y, upper[2]]))
        for x in (lower[0], upper[0])
        for y in (lower[1], upper[1])
    ]
    scale = before.shape[1] / canvas.canvas.size[0]
    xs, ys = np.array(corners)[:, 0] * scale, np.array(corners)[:, 1] * scale
    near = (
        (changed[:, 1] > xs.min() - 30)
        & (changed[:, 1] < xs.max() + 30)
        & (changed[:, 0] > ys.min() - 60)
        & (changed[:, 0] < ys.max() + 60)
    )
    assert near.all()  # only around that rack
    red = after[changed[:, 0], changed[:, 1], :3].astype(int)
    assert np.median(red[:, 0] - red[:, 2]) > 80  # the critical red, not the selection's cyan
