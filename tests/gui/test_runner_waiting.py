"""A simulation that cannot step yet (a shadow whose plant has not published) leaves the
runner waiting, neither failing nor publishing, and its first step is published."""

from __future__ import annotations

import itertools
import threading

import pytest

from tests.fakes import FakeSimulation, scenario_named
from twin.gui.runner import SimulationRunner

pytestmark = pytest.mark.gui


class WaitingSimulation(FakeSimulation):
    """Steps only once ``plant_ready`` is set, as a shadow steps only to the plant's clock."""

    def __init__(self, scenario) -> None:
        super().__init__(scenario)
        self.plant_ready = threading.Event()
        self.calls = 0

    def step(self, n: int = 1) -> None:
        self.calls += 1
        if self.plant_ready.wait(0.01):
            super().step(n)


class CountingObserver:
    def __init__(self) -> None:
        self.times_s: list[float] = []

    def on_start(self, simulation) -> None:
        pass

    def on_step(self, simulation, applied) -> None:
        self.times_s.append(simulation.time_s)

    def on_finish(self) -> None:
        pass


def test_the_runner_waits_for_a_simulation_that_cannot_step_yet(qtbot):
    simulation = WaitingSimulation(scenario_named("single-rack"))
    observer = CountingObserver()
    runner = SimulationRunner(simulation, observers=[observer], speed=None)
    failures: list[str] = []
    runner.failed.connect(failures.append)
    runner.start()
    try:
        qtbot.waitUntil(lambda: simulation.calls >= 20, timeout=30_000)
        assert runner.latest().snapshot is None and not failures
        assert observer.times_s == []  # no step, nothing to observe
        simulation.plant_ready.set()
        qtbot.waitUntil(lambda: runner.latest().snapshot is not None, timeout=30_000)
        assert not failures
        assert observer.times_s[0] == simulation.dt_s
        assert all(b > a for a, b in itertools.pairwise(observer.times_s))
    finally:
        assert runner.stop(10)
