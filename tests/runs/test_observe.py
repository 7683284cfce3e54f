"""The observer hook: every observer of a run hears of its start, each step with the events
applied since the step before, a reset, and its end, in the order given."""

from __future__ import annotations

import pytest

from twin.runs.observe import AppliedEvent, ObservedRun
from twin.scenario import load
from twin.scenario.schema import PumpTrip
from twin.sim.engine import Simulation


class Log:
    """An observer that writes down what it hears, with the simulated time."""

    def __init__(self, name: str, heard: list) -> None:
        self.name, self.heard = name, heard

    def on_start(self, run) -> None:
        self.heard.append((self.name, "start", run.time_s))

    def on_step(self, run, applied) -> None:
        self.heard.append((self.name, "step", run.time_s, tuple(applied)))

    def on_finish(self) -> None:
        self.heard.append((self.name, "finish"))


@pytest.fixture(scope="module")
def scenario():
    return load("single-rack").model_copy(update={"events": []})


def test_observers_hear_the_run_in_order_and_each_applied_event_once(scenario):
    heard: list = []
    sim = Simulation(scenario, dt_s=1.0)
    run = ObservedRun(sim, [Log("a", heard), Log("b", heard)])
    assert heard == [("a", "start", 0.0), ("b", "start", 0.0)]
    run.step()
    trip = PumpTrip(at_s=0, kind="pump-trip", target="CDU", pumps=1)
    applied = run.apply(trip)
    assert applied == AppliedEvent(1.0, trip)
    assert sim.state.pumps_available[0] == sim.cdus.pumps_installed[0] - 1  # it took effect
    run.step(2)
    run.finish()
    assert heard[2:] == [
        ("a", "step", 1.0, ()),
        ("b", "step", 1.0, ()),
        ("a", "step", 2.0, (applied,)),
        ("b", "step", 2.0, (applied,)),
        ("a", "step", 3.0, ()),
        ("b", "step", 3.0, ()),
        ("a", "finish"),
        ("b", "finish"),
    ]


def test_a_reset_starts_the_observers_again_and_drops_unhanded_events(scenario):
    heard: list = []
    sim = Simulation(scenario, dt_s=1.0)
    run = ObservedRun(sim, [Log("a", heard)])
    run.step(3)
    run.apply(PumpTrip(at_s=0, kind="pump-trip", target="CDU", pumps=1))
    run.reset()
    run.step()
    assert heard[-2:] == [("a", "start", 0.0), ("a", "step", 1.0, ())]


def test_a_refused_event_is_handed_to_no_observer(scenario):
    heard: list = []
    run = ObservedRun(Simulation(scenario, dt_s=1.0), [Log("a", heard)])
    with pytest.raises(ValueError):
        run.apply(PumpTrip(at_s=0, kind="pump-trip", target="no-such-cdu", pumps=1))
    run.step()
    assert heard[-1] == ("a", "step", 1.0, ())
