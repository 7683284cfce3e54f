"""The one hook for everything that consumes a run: ``RunObserver``, and ``ObservedRun``
that steps a simulation and tells its observers.

Whatever reads a run as it goes implements three calls, made on the thread that steps the
simulation, in the order the observers were given:

- ``on_start(run)``: the run begins, or its simulation went back to its start (a reset);
- ``on_step(run, applied)``: one step has been taken; ``applied`` holds the events applied
  to the simulation since the step before (an operator's injected faults), oldest first;
- ``on_finish()``: the run ended normally; an observer that writes files finishes them
  (a run that fails leaves its outputs to whoever opened them).

``run`` is the simulation itself (``RunView``): an observer reads what it needs, when it
needs it: ``site_values()`` each step (the site table), a copy-free ``live_view()`` every
scan (the alarm engine), an immutable ``snapshot()`` when a row is due (the recorder, the
component table). Nothing is copied for an observer that does not ask.

The alarm engine, the recorder and the site and component tables of ``twin run`` are
observers; ``twin run`` (``twin.runs.output``), a replay in the window and the live window
(``twin.gui.runner``) drive their observers through ``ObservedRun``. Code that plugs into a
run (plant telemetry, studies) implements the same three calls.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any, Protocol

from twin.scenario.schema import Event
from twin.sim.snapshot import Snapshot


class RunView(Protocol):
    """What an observer may read of the simulation it observes (the live engine, or a
    recording played back)."""

    dt_s: float

    @property
    def time_s(self) -> float: ...

    def snapshot(self, *, robots: bool = True) -> Snapshot: ...


@dataclass(frozen=True, slots=True)
class AppliedEvent:
    """An event applied to a running simulation, at the simulated time it took effect."""

    time_s: float
    event: Event


class RunObserver(Protocol):
    """Reads a run as it goes; called on the thread that steps the simulation."""

    def on_start(self, run: Any) -> None: ...

    def on_step(self, run: Any, applied: Sequence[AppliedEvent]) -> None: ...

    def on_finish(self) -> None: ...


class ObservedRun:
    """A simulation and the observers of its run: ``step`` steps it and tells each observer,
    ``apply`` applies an event and hands it to the observers with the next step, ``reset``
    goes back to the start and starts the observers again. Not thread-safe: one thread
    steps, applies and resets."""

    def __init__(self, simulation: Any, observers: Sequence[RunObserver] = ()) -> None:
        self.simulation = simulation
        self.observers = tuple(observers)
        self._pending: list[AppliedEvent] = []
        for observer in self.observers:
            observer.on_start(simulation)

    def step(self, n: int = 1) -> None:
        simulation = self.simulation
        for _ in range(n):
            before_s = simulation.time_s
            simulation.step()
            if simulation.time_s == before_s:  # a shadow waiting for its plant's clock
                return
            applied, self._pending = tuple(self._pending), []
            for observer in self.observers:
                observer.on_step(simulation, applied)

    def apply(self, event: Event) -> AppliedEvent:
        """Apply ``event`` to the simulation now (it raises ValueError for an event the
        simulation refuses, and nothing is handed on)."""
        self.simulation.apply(event)
        applied = AppliedEvent(self.simulation.time_s, event)
        self._pending.append(applied)
        return applied

    def reset(self) -> None:
        self.simulation.reset()
        self._pending.clear()
        for observer in self.observers:
            observer.on_start(self.simulation)

    def finish(self) -> None:
        for observer in self.observers:
            observer.on_finish()
