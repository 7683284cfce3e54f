"""Runs a simulation on a worker thread and hands the newest frame to the GUI.

The worker steps the simulation at the requested speed through an ``ObservedRun`` (its
observers, the alarm engine first, are told of every step: ``twin.runs.observe``) and puts
each new ``Frame`` (the snapshot, the alarm summary as of that snapshot, the events applied
so far) in a one-slot, lock-protected mailbox; the GUI takes it on its own timer and never
waits for the simulation. Everything that changes the simulation (pause, speed, a step, an
injected event, any callable) goes through a queue and is applied by the worker between
two steps, so the simulation and its observers are only ever touched by one thread.
"""

from __future__ import annotations

import queue
import threading
import time
import traceback
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any, Protocol

from PySide6.QtCore import QObject, Signal

from twin.alarms import AlarmEngine, AlarmSummary
from twin.runs.observe import AppliedEvent, ObservedRun, RunObserver
from twin.scenario.schema import Event
from twin.sim.site import Site
from twin.sim.snapshot import Snapshot

PUBLISH_INTERVAL_S = 1 / 120  # at full speed, publish often enough for a 60 Hz display
GUI_SHARE = 0.3  # at full speed, the worker pauses 0.3 s per second it steps
INPUT_WINDOW_S = 0.2  # ... and gives way this long after a click or key (the answer's time)
MAX_LAG_S = 0.5  # further behind real time than this, the worker stops trying to catch up
IDLE_WAIT_S = 0.25
STATS_WINDOW_S = 0.5


class SimulationLike(Protocol):
    dt_s: float

    @property
    def site(self) -> Site: ...

    @property
    def time_s(self) -> float: ...

    @property
    def has_output(self) -> bool: ...

    def step(self, n: int = 1) -> None: ...

    def snapshot(self, *, robots: bool = True) -> Snapshot: ...

    def reset(self) -> None: ...


@dataclass(frozen=True, slots=True)
class Frame:
    """What the worker publishes, one per generation: the newest snapshot, the alarm
    summary taken right after it (None without an alarm engine), and every event the
    runner applied since it started, oldest first (a frame replaces the one before it, so
    the whole list travels: a GUI that skipped a frame misses none)."""

    generation: int
    snapshot: Snapshot | None
    alarms: AlarmSummary | None
    applied: tuple[AppliedEvent, ...]


NO_FRAME = Frame(0, None, None, ())


@dataclass(frozen=True, slots=True)
class RunnerStats:
    steps_per_s: float  # simulation steps per second of wall time
    speed: float  # simulated seconds per second of wall time, as achieved
    paused: bool


class SimulationRunner(QObject):
    """Steps ``simulation`` on a worker thread; ``speed`` is a real-time factor or None
    for as fast as possible."""

    failed = Signal(str)  # the traceback of an exception raised on the worker
    rejected = Signal(str)  # why the simulation refused a command (a value out of range)

    def __init__(
        self,
        simulation: SimulationLike,
        *,
        alarms: AlarmEngine | None = None,
        observers: Sequence[RunObserver] = (),
        speed: float | None = 1.0,
        paused: bool = False,
        parent: QObject | None = None,
    ) -> None:
        """``alarms`` scans the run and its summary goes out with each frame; ``observers``
        are told of every step after it."""
        super().__init__(parent)
        self._sim = simulation
        self._alarms = alarms
        self._observed = ObservedRun(simulation, [*([alarms] if alarms else []), *observers])
        self._applied: tuple[AppliedEvent, ...] = ()  # worker side
        self._commands: queue.Queue[Callable[[], None]] = queue.Queue()
        self._lock = threading.Lock()
        self._frame = NO_FRAME
        self._stats = RunnerStats(0.0, 0.0, paused)
        self._stopping = threading.Event()
        self._thread: threading.Thread | None = None
        # worker-side state: only the worker reads or writes these once it runs
        self._speed = speed
        self._paused = paused
        self._pending_steps = 0
        self._anchor_wall = 0.0
        self._anchor_sim = 0.0
        self._window = (0.0, 0, 0.0)  # start, steps and simulated time of the stats window
        self._last_publish = 0.0
        self._input_until = 0.0  # written by the GUI thread (one float: atomic)
        self.speed = speed  # what the GUI asked for last, for display
        self.paused = paused

    # ----------------------------------------------------------------- GUI side

    def start(self) -> None:
        if self._thread is not None:
            raise RuntimeError("the runner was already started")
        self._thread = threading.Thread(target=self._run, name="twin-simulation", daemon=True)
        self._thread.start()

    def stop(self, timeout_s: float = 5.0) -> bool:
        """Stop the worker after its current step; True once it has ended."""
        self._stopping.set()
        self._commands.put(lambda: None)  # wake a worker waiting on the queue
        if self._thread is None:
            return True
        self._thread.join(timeout_s)
        return not self._thread.is_alive()

    @property
    def running(self) -> bool:
        return self._thread is not None and self._thread.is_alive()

    def latest(self) -> Frame:
        """The newest frame (its generation grows with each one published)."""
        with self._lock:
            return self._frame

    def stats(self) -> RunnerStats:
        with self._lock:
            return self._stats

    def note_input(self) -> None:
        """The user clicked or pressed a key: a worker stepping flat out gives way for
        ``INPUT_WINDOW_S`` after its current batch, so that the answer comes at once."""
        self._input_until = time.monotonic() + INPUT_WINDOW_S

    def pause(self) -> None:
        self.paused = True
        self._commands.put(self._do_pause)

    def resume(self) -> None:
        self.paused = False
        self._commands.put(self._do_resume)

    def set_speed(self, speed: float | None) -> None:
        if speed is not None and speed <= 0:
            raise ValueError(f"speed must be positive or None, not {speed}")
        self.speed = speed
        self._commands.put(lambda: self._do_set_speed(speed))

    def step(self, n: int = 1) -> None:
        """Pause, then advance exactly ``n`` steps."""
        self.paused = True
        self._commands.put(lambda: self._do_step(n))

    def reset(self) -> None:
        self._commands.put(self._do_reset)

    def call(self, function: Callable[[Any], object]) -> None:
        """Apply ``function(simulation)`` on the worker between two steps; a ValueError it
        raises is reported by ``rejected`` and the simulation goes on. (The observers see
        the steps the runner takes, not steps taken by ``function``.)"""
        self._commands.put(lambda: self._do_call(function))

    def inject(self, make: Callable[[float], Event]) -> None:
        """Apply the event ``make(time_s)`` builds, at the simulation's time, between two
        steps; it goes out in the frames' ``applied`` from then on (a ValueError is
        reported by ``rejected``)."""
        self._commands.put(lambda: self._do_inject(make))

    # ----------------------------------------------------------------- worker side

    def _do_pause(self) -> None:
        self._paused = True
        self._publish_stats(0.0, 0.0)

    def _do_resume(self) -> None:
        self._paused = False
        self._anchor()

    def _do_set_speed(self, speed: float | None) -> None:
        self._speed = speed
        self._anchor()

    def _do_step(self, n: int) -> None:
        self._paused = True
        self._pending_steps += n

    def _do_reset(self) -> None:
        self._observed.reset()
        self._anchor()
        self._publish()

    def _do_inject(self, make: Callable[[float], Event]) -> None:
        try:
            applied = self._observed.apply(make(self._sim.time_s))
        except ValueError as exc:
            self.rejected.emit(str(exc))
            return
        self._applied = (*self._applied, applied)
        self._publish()

    def _do_call(self, function: Callable[[Any], object]) -> None:
        try:
            function(self._sim)
        except ValueError as exc:
            self.rejected.emit(str(exc))
            return
        self._publish()

    def _anchor(self) -> None:
        self._anchor_wall = time.monotonic()
        self._anchor_sim = self._sim.time_s

    def _publish(self) -> None:
        # a snapshot reports the rates of the step before it: after a start or a reset,
        # take that first step
        if not self._sim.has_output:
            self._observed.step(1)
            if not self._sim.has_output:  # a shadow whose plant has not published yet
                return
        snapshot = self._sim.snapshot()
        alarms = self._alarms.summary() if self._alarms is not None else None
        with self._lock:
            self._frame = Frame(self._frame.generation + 1, snapshot, alarms, self._applied)

    def _publish_stats(self, steps_per_s: float, speed: float) -> None:
        with self._lock:
            self._stats = RunnerStats(steps_per_s, speed, self._paused)

    def _seconds_until_due(self) -> float:
        speed = self._speed
        if self._pending_steps:
            return 0.0
        if self._paused:
            return IDLE_WAIT_S
        if speed is None:  # full speed
            return 0.0
        due = self._anchor_sim + speed * (time.monotonic() - self._anchor_wall)
        early_s = (self._sim.time_s + self._sim.dt_s - due) / speed
        return min(max(early_s, 0.0), IDLE_WAIT_S)

    def _apply_commands(self, wait_s: float) -> None:
        try:
            command = (
                self._commands.get(timeout=wait_s) if wait_s > 0 else self._commands.get_nowait()
            )
        except queue.Empty:
            return
        while True:
            if self._stopping.is_set():
                return
            command()
            try:
                command = self._commands.get_nowait()
            except queue.Empty:
                return

    def _steps_due(self) -> int:
        """Steps to take now: the pending single steps, or enough to meet the speed."""
        if self._pending_steps:
            n, self._pending_steps = self._pending_steps, 0
            return n
        if self._paused:
            return 0
        if self._speed is None:
            return 1
        now = time.monotonic()
        due = self._anchor_sim + self._speed * (now - self._anchor_wall)
        behind_s = (due - self._sim.time_s) / self._speed
        # allowed lag: at least one step's worth of wall time, or slow speeds never step
        lag_limit_s = MAX_LAG_S + self._sim.dt_s / self._speed
        if behind_s > lag_limit_s:  # too slow for this speed: go on from here
            self._anchor_wall = now - lag_limit_s
            self._anchor_sim = self._sim.time_s
            due = self._sim.time_s + self._speed * lag_limit_s
        return max(0, int((due - self._sim.time_s) / self._sim.dt_s + 1e-9))

    def _run(self) -> None:
        self._guarded(self._publish)
        self._anchor()
        self._window = (time.monotonic(), 0, self._sim.time_s)
        self._last_publish = 0.0
        while not self._stopping.is_set():
            self._guarded(self._apply_commands, self._seconds_until_due())
            if not self._stopping.is_set():
                self._guarded(self._advance)

    def _guarded(self, function: Callable[..., None], *args: object) -> None:
        """Run ``function``; if it raises, pause and report, and keep the worker alive."""
        try:
            function(*args)
        except Exception:
            self._paused = True
            self._pending_steps = 0
            self._publish_stats(0.0, 0.0)
            self.failed.emit(traceback.format_exc())

    def _advance(self) -> None:
        n = self._steps_due()
        if n == 0:
            return
        batch_start = time.monotonic()
        budget_end = batch_start + PUBLISH_INTERVAL_S
        taken = 0
        # one step at a time within a frame's budget, so that commands wait at most a frame
        while taken < n and (taken == 0 or time.monotonic() < budget_end):
            self._observed.step(1)
            taken += 1
        if self._speed is None or taken < n:
            # Stepping flat out, the worker would hold the GIL nearly all the time and the
            # GUI thread would wait for it on every call: leave it a share of the time.
            now = time.monotonic()
            if now < self._input_until:
                self._stopping.wait(self._input_until - now)
            else:
                self._stopping.wait(GUI_SHARE * (now - batch_start))
        if self._paused:
            self._pending_steps += n - taken
        now = time.monotonic()
        if self._paused or now - self._last_publish >= PUBLISH_INTERVAL_S:
            self._publish()
            self._last_publish = now
        start, steps, sim_start = self._window
        steps += taken
        elapsed = now - start
        if elapsed >= STATS_WINDOW_S:
            self._publish_stats(steps / elapsed, (self._sim.time_s - sim_start) / elapsed)
            self._window = (now, 0, self._sim.time_s)
        else:
            self._window = (start, steps, sim_start)
