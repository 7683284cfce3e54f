"""The show: plays a story's steps in a loop, each until the simulation reaches what the
step waits for (or its wall-clock cap), hands over to visitors and takes back over when
they leave, measures what each step claims, and recovers from its own failures.

The window calls ``observe`` with each frame the runner publishes, ``tick`` on its frame
timer, ``visitor_input`` for a touch, click or key and ``visitor_activity`` for mere
movement. What the show changes goes to a ``Stage`` (camera, captions: the window) and
to the simulation through a runner (reset, speed, commands applied between two steps).
No Qt here, so the show's timing is tested with a fake clock and fake frames.

A step's start is marked on the simulation's own thread, between two of its steps: the
simulated time, the step's KPIs and the generation of the runner's frame then. Only
frames published after that mark count for the step (a frame from before a loop's reset
would otherwise read as the evening). Events fire once a frame shows their simulated
``at_s`` after the step's start; an event has taken effect once a frame is later than
the simulated time at which the simulation applied it.

An exception inside a step, or in the simulation, is logged and the step starts again
on the next tick without firing again what it already fired; a step that fails
``MAX_RESTARTS`` times in a row is skipped, so a broken step cannot stall the loop.
"""

from __future__ import annotations

import logging
import math
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any, Protocol

from twin.gui.kiosk.story import Expectation, Step, Story
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


class Published(Protocol):  # the runner's Frame (frozen: its fields read-only)
    @property
    def generation(self) -> int: ...


class SnapshotLike(Protocol):  # a frozen Snapshot
    @property
    def time_s(self) -> float: ...

    @property
    def site(self) -> Mapping[str, float]: ...


class SimulationControl(Protocol):  # SimulationRunner's GUI side
    def latest(self) -> Published: ...

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


@dataclass(frozen=True, slots=True)
class Measured:
    """One expectation of a step, measured: the KPI at the step's start and end."""

    expectation: Expectation
    start: float
    end: float

    @property
    def shown(self) -> bool:
        return self.expectation.shown(self.start, self.end)

    def text(self) -> str:
        e = self.expectation
        change = e.change(self.start, self.end)
        amount = f"{change:.1f} %" if e.at_least_pct is not None else f"{change:.4g}"
        verdict = "shown" if self.shown else "NOT shown"
        return f"{e.text()}: {verdict} ({self.start:.4g} -> {self.end:.4g}, {amount})"


@dataclass(frozen=True, slots=True)
class StepOutcome:
    """How a step went: what ended it (``condition``: its ``until``; ``cap``: its
    wall-clock cap first; ``hold``: its hold_s), its simulated span as the site's local
    times, its wall-clock length and its expectations measured."""

    step: str
    loop: int
    ended_by: str
    started: datetime | None
    ended: datetime | None
    wall_s: float
    measured: tuple[Measured, ...]

    @property
    def claims_shown(self) -> bool:
        return all(m.shown for m in self.measured)

    def text(self) -> str:
        span = (
            f"{self.started:%H:%M}-{self.ended:%H:%M} simulated"
            if self.started and self.ended
            else "no simulated time seen"
        )
        claims = "; ".join(m.text() for m in self.measured) or "no claim stated"
        return (
            f"step {self.step!r} (loop {self.loop}) ended by its {self.ended_by} after "
            f"{self.wall_s:.1f} s, {span}: {claims}"
        )


@dataclass(slots=True)
class _Entry:
    """A step's run from its start: written by the simulation's thread (the mark, the
    events' times), read by the GUI's; a new one for each start, so that a late write
    lands in the old one."""

    origin: tuple[int, float, dict[str, float] | None] | None = None
    applied_s: dict[int, float] = field(default_factory=dict)  # by the cue's index
    now_s: float = math.nan  # the newest counted frame's simulated time
    end_values: dict[str, float] | None = None


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
        start: datetime,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        """``start``: the site's local date and time at the simulation's time zero."""
        self.story = story
        self.stage = stage
        self.simulation = simulation
        self.start_at = start
        self.clock = clock
        self.cues = tuple(step_cues(step) for step in story.steps)
        self.step_index = 0
        self.touring = True
        self.loops = 0  # loops started, the first included
        self.restarts = 0  # steps started again after a failure
        self.outcomes: dict[str, StepOutcome] = {}  # the latest of each step
        self.listeners: list[Callable[[StepOutcome], None]] = []  # told of each outcome
        self._entry = _Entry()
        self._frame: tuple[int, SnapshotLike | None] = (0, None)
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

    def simulated_s(self) -> float:
        """Simulated seconds since the current step started (NaN before its first frame)."""
        origin = self._entry.origin
        return self._entry.now_s - origin[1] if origin is not None else math.nan

    # ----------------------------------------------------------------- driving

    def start(self) -> None:
        self._guarded(lambda: self._enter(0))

    def observe(self, generation: int, snapshot: SnapshotLike | None) -> None:
        """The runner's newest frame (its generation and snapshot)."""
        self._frame = (generation, snapshot)

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
        self._follow_simulation()
        if not self.touring:
            if now - self._last_input >= self.story.story.idle_return_s:
                self.touring = True
                self.stage.set_touring(True)
                self._enter(self.step_index, resumed=True)
            return
        self._fire_due()
        ended_by = self._ended_by(now - self._started_at)
        if ended_by is not None:
            self._failures = 0
            self._finish(ended_by, now)
            self._enter((self.step_index + 1) % len(self.story.steps))

    def _follow_simulation(self) -> None:
        """Count the newest frame for the step if it was published after the step's mark."""
        entry = self._entry
        generation, snapshot = self._frame
        if entry.origin is None or snapshot is None or generation <= entry.origin[0]:
            return
        entry.now_s = float(snapshot.time_s)
        kpis = {e.kpi for e in self.step.expect}
        entry.end_values = {kpi: float(snapshot.site[kpi]) for kpi in kpis}
        if entry.origin[2] is None:  # marked before the simulation had output
            entry.origin = (entry.origin[0], entry.origin[1], dict(entry.end_values))

    def _ended_by(self, wall_s: float) -> str | None:
        step, entry = self.step, self._entry
        until = step.until
        if until is None:
            return "hold" if step.hold_s is not None and wall_s >= step.hold_s else None
        origin = entry.origin
        if origin is not None and not math.isnan(entry.now_s):
            if until.event is not None:
                # taken effect: every event of the kind applied, and a frame later than
                # the simulated time the last of them was applied at
                times = [
                    entry.applied_s.get(i)
                    for i, cue in enumerate(self.cues[self.step_index])
                    if cue.label == until.event
                ]
                if times and None not in times:
                    applied_s = max(t for t in times if t is not None)
                    after_s = until.after_s or 0.0
                    if entry.now_s > applied_s and entry.now_s >= applied_s + after_s:
                        return "condition"
            elif entry.now_s >= origin[1] + self._span_s(origin[1]):
                return "condition"
        return "cap" if wall_s >= step.max_s else None

    def _span_s(self, origin_s: float) -> float:
        """Simulated seconds from the step's start to its clock or after_s."""
        until = self.step.until
        assert until is not None
        if until.clock is None:
            return until.after_s or 0.0
        at = self.start_at + timedelta(seconds=origin_s)
        target = datetime.combine(at.date(), until.clock)
        if target < at:
            target += timedelta(days=1)
        return (target - at).total_seconds()

    def _finish(self, ended_by: str, now: float) -> None:
        entry, step = self._entry, self.step
        origin = entry.origin
        start_values = origin[2] if origin is not None else None
        measured = tuple(
            Measured(
                e,
                (start_values or {}).get(e.kpi, math.nan),
                (entry.end_values or {}).get(e.kpi, math.nan),
            )
            for e in step.expect
        )
        seen = origin is not None and not math.isnan(entry.now_s)
        outcome = StepOutcome(
            step=step.name,
            loop=self.loops,
            ended_by=ended_by,
            started=self.start_at + timedelta(seconds=origin[1]) if seen and origin else None,
            ended=self.start_at + timedelta(seconds=entry.now_s) if seen else None,
            wall_s=now - self._started_at,
            measured=measured,
        )
        self.outcomes[step.name] = outcome
        if ended_by == "cap" or not outcome.claims_shown:
            log.warning("kiosk: %s", outcome.text())
        else:
            log.info("kiosk: %s", outcome.text())
        for listener in self.listeners:
            listener(outcome)

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
        it already fired left as it is and its simulated start kept (its wall-clock cap
        starts again)."""
        self.step_index = index
        self._started_at = self.clock()
        if not resumed:
            self._fired = 0
            if index == 0:  # each loop starts from the scenario's start: no drift
                self.loops += 1
                self.simulation.reset()
        if self.touring:
            step = self.step
            self.simulation.set_speed(step.speed)
            self.simulation.call(lambda sim: sim.set_step(step.dt_s))
            if not resumed:
                self._entry = _Entry()
                self.simulation.call(self._marking(self._entry, step))
            self.stage.enter_step(step)
            self._fire_due()

    def _marking(self, entry: _Entry, step: Step) -> Callable[[Any], object]:
        """The step's start, taken on the simulation's thread between two of its steps."""
        control = self.simulation
        kpis = {e.kpi for e in step.expect}

        def mark(sim: Any) -> None:
            generation = control.latest().generation  # the frame after this one counts
            values = None
            if sim.has_output:
                site = sim.snapshot(robots=False).site
                values = {kpi: float(site[kpi]) for kpi in kpis}
            entry.origin = (generation, float(sim.time_s), values)

        return mark

    def _fire_due(self) -> None:
        """Apply the step's cues whose simulated ``at_s`` a counted frame has reached (those
        at 0 at once, right after the step's mark)."""
        cues, entry = self.cues[self.step_index], self._entry
        elapsed_s = self.simulated_s()
        while self._fired < len(cues) and (
            cues[self._fired].at_s == 0.0 or cues[self._fired].at_s <= elapsed_s
        ):
            index, cue = self._fired, cues[self._fired]
            self._fired += 1  # counted first: a cue that fails is not fired again
            self.simulation.call(_recording(index, cue, entry))

    def _hand_over(self) -> None:
        self.simulation.set_speed(VISITOR_SPEED)
        self.stage.set_touring(False)


def _recording(index: int, cue: Cue, entry: _Entry) -> Callable[[Any], object]:
    """Apply ``cue`` (the step's ``index``-th) and note the simulated time it took
    effect at."""

    def run(sim: Any) -> None:
        cue.apply(sim)
        entry.applied_s[index] = float(sim.time_s)

    return run
