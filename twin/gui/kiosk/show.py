"""The show: plays a story's steps in a loop on wall-clock time, hands over to visitors
and takes back over when they leave, and recovers from its own failures.

The window calls ``tick`` on its frame timer, ``visitor_input`` for a touch, click or
key and ``visitor_activity`` for mere movement. What the show changes goes to a
``Stage`` (camera, captions: the window) and to the simulation through a runner (reset,
speed, commands applied between two steps). No Qt here, so the show's timing is tested
with a fake clock.

An exception inside a step, or in the simulation, is logged and the step starts again
on the next tick without firing again what it already fired; a step that fails
``MAX_RESTARTS`` times in a row is skipped, so a broken step cannot stall the loop.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, Protocol

from twin.gui.kiosk.story import Step, Story
from twin.scenario.schema import Event

log = logging.getLogger("twin.kiosk")

MAX_RESTARTS = 3
# A visitor explores the twin live: twice real time, as slow as the runner goes with a
# 1 s step (it takes a step only once one is due within its 0.5 s catch-up window).
VISITOR_SPEED = 2.0


class Stage(Protocol):
    def enter_step(self, step: Step) -> None:
        """Show a step: fly to its view, show its caption and callout."""

    def set_touring(self, touring: bool) -> None:
        """Switch between the tour and the visitor's interactive view."""


class SimulationControl(Protocol):  # SimulationRunner's GUI side
    def reset(self) -> None: ...

    def resume(self) -> None: ...

    def set_speed(self, speed: float | None) -> None: ...

    def call(self, function: Callable[[Any], object]) -> None: ...


@dataclass(frozen=True, slots=True)
class Cue:
    """Something a step does to the simulation once, ``at_s`` after it starts."""

    at_s: float
    label: str
    apply: Callable[[Any], object]


def _applying(event: Event) -> Callable[[Any], object]:
    return lambda sim: sim.apply(event)


def step_cues(step: Step) -> tuple[Cue, ...]:
    cues = (
        [Cue(0.0, "reset tripped racks", lambda sim: sim.reset_racks())] if step.reset_racks else []
    )
    cues += [Cue(event.at_s, event.kind, _applying(event)) for event in step.events]
    return tuple(sorted(cues, key=lambda cue: cue.at_s))


class Show:
    def __init__(
        self,
        story: Story,
        stage: Stage,
        simulation: SimulationControl,
        *,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.story = story
        self.stage = stage
        self.simulation = simulation
        self.clock = clock
        self.cues = tuple(step_cues(step) for step in story.steps)
        self.step_index = 0
        self.touring = True
        self.loops = 0  # loops started, the first included
        self.restarts = 0  # steps started again after a failure
        self._started_at = 0.0
        self._fired = 0  # cues of the current step already applied
        self._failures = 0  # of the current step, in a row
        self._restart_pending = False
        self._last_input = -float("inf")

    @property
    def step(self) -> Step:
        return self.story.steps[self.step_index]

    def seconds_until_tour(self) -> float:
        """While a visitor has the view: how long until the tour takes over again."""
        idle_s = self.clock() - self._last_input
        return max(self.story.story.idle_return_s - idle_s, 0.0)

    # ----------------------------------------------------------------- driving

    def start(self) -> None:
        self._guarded(lambda: self._enter(0))

    def tick(self) -> None:
        self._guarded(self._advance)

    def visitor_input(self) -> None:
        """A touch, click or key: the visitor takes over (or keeps) the view."""
        self._last_input = self.clock()
        if self.touring:
            self.touring = False
            self._guarded(self._hand_over)

    def visitor_activity(self) -> None:
        """Movement without a press: keeps a visitor's session alive, starts none."""
        if not self.touring:
            self._last_input = self.clock()

    def fail(self, what: str) -> None:
        """Something in the show failed (the simulation's traceback, or a description);
        log it and start the current step again."""
        log.error(
            "kiosk: step %r (%d of %d) failed; starting it again: %s",
            self.step.name,
            self.step_index + 1,
            len(self.story.steps),
            what,
        )
        self._failures += 1
        self._restart_pending = True

    # ----------------------------------------------------------------- inside

    def _guarded(self, action: Callable[[], None]) -> None:
        try:
            action()
        except Exception as exc:
            log.exception("kiosk: step %r raised", self.step.name)
            self.fail(f"{type(exc).__name__}: {exc}")

    def _advance(self) -> None:
        if self._restart_pending:
            self._restart()
            return
        now = self.clock()
        if not self.touring:
            if now - self._last_input >= self.story.story.idle_return_s:
                self.touring = True
                self.stage.set_touring(True)
                self._enter(self.step_index, resumed=True)
            return
        self._fire_due(now)
        if now - self._started_at >= self.step.hold_s:
            self._failures = 0
            self._enter((self.step_index + 1) % len(self.story.steps))

    def _restart(self) -> None:
        self._restart_pending = False
        self.restarts += 1
        self.simulation.resume()  # the runner pauses itself when the simulation raises
        if self._failures >= MAX_RESTARTS:
            log.error(
                "kiosk: step %r failed %d times in a row; going on to the next",
                self.step.name,
                self._failures,
            )
            self._failures = 0
            self._enter((self.step_index + 1) % len(self.story.steps))
        else:
            self._enter(self.step_index, resumed=True)

    def _enter(self, index: int, *, resumed: bool = False) -> None:
        """Start step ``index``; ``resumed``: again, after a visitor or a failure, with what
        it already fired left as it is."""
        self.step_index = index
        self._started_at = self.clock()
        if not resumed:
            self._fired = 0
            if index == 0:  # each loop starts from the scenario's start: no drift
                self.loops += 1
                self.simulation.reset()
        if self.touring:
            self.simulation.set_speed(self.step.speed)
            self.stage.enter_step(self.step)
            self._fire_due(self._started_at)

    def _fire_due(self, now: float) -> None:
        cues = self.cues[self.step_index]
        while self._fired < len(cues) and cues[self._fired].at_s <= now - self._started_at:
            cue = cues[self._fired]
            self._fired += 1  # counted first: a cue that fails is not fired again
            self.simulation.call(cue.apply)

    def _hand_over(self) -> None:
        self.simulation.set_speed(VISITOR_SPEED)
        self.stage.set_touring(False)
