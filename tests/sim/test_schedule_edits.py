"""The timeline replaced between two steps: edited events fire at their new time, removed
ones never, the past cannot be changed, and results stay those of a scenario written
with the new timeline from the start."""

from __future__ import annotations

import numpy as np
import pytest

from twin.scenario import load
from twin.scenario.schema import CduLoss, PumpTrip
from twin.sim.engine import Simulation

TRIP = PumpTrip(kind="pump-trip", at_s=600.0, target="CDU", pumps=2)
LOSS = CduLoss(kind="cdu-loss", at_s=1800.0, target="CDU")


@pytest.fixture(scope="module")
def bench():
    return load("single-rack").model_copy(update={"events": [TRIP, LOSS]})


def pumps_running(sim: Simulation) -> int:
    return int(sim.snapshot(robots=False).cdus.pumps_running[0])


def online(sim: Simulation) -> bool:
    return bool(sim.state.cdu_online[0])


def test_an_edited_event_fires_at_its_new_time_and_a_removed_one_never(bench):
    sim = Simulation(bench, dt_s=10.0)
    sim.step(30)  # 300 s: nothing has happened yet
    later = TRIP.model_copy(update={"at_s": 1200.0})
    sim.replace_schedule([later])
    assert sim.scheduled_events == (later,)
    sim.step(60)  # 900 s: the trip's old time has passed
    assert pumps_running(sim) > 0
    sim.step(40)  # 1300 s
    assert pumps_running(sim) == 0
    sim.step(100)  # 2300 s: the CDU loss was taken off the timeline
    assert online(sim)


def test_an_edit_before_the_event_gives_the_run_of_a_scenario_written_that_way(bench):
    moved = [TRIP.model_copy(update={"at_s": 900.0}), LOSS]
    edited = Simulation(bench, dt_s=10.0)
    edited.step(20)
    edited.replace_schedule(moved)
    edited.step(180)
    written = Simulation(bench.model_copy(update={"events": moved}), dt_s=10.0)
    written.step(200)
    np.testing.assert_array_equal(edited.site_values(), written.site_values())
    np.testing.assert_array_equal(edited.state.junction_c, written.state.junction_c)


def test_what_has_happened_cannot_be_changed_and_nothing_goes_into_the_past(bench):
    sim = Simulation(bench, dt_s=10.0)
    sim.step(70)  # 700 s: the trip has happened
    with pytest.raises(ValueError, match="pump-trip at 600 s has already happened"):
        sim.replace_schedule([LOSS])
    with pytest.raises(ValueError, match="pump-trip at 600 s has already happened"):
        sim.replace_schedule([TRIP.model_copy(update={"at_s": 650.0}), LOSS])
    with pytest.raises(ValueError, match="lies before the simulated time"):
        sim.replace_schedule([TRIP, LOSS.model_copy(update={"at_s": 650.0})])
    assert sim.scheduled_events == (TRIP, LOSS)  # nothing changed
    # the past stays; an event exactly now fires in the next step
    now = LOSS.model_copy(update={"at_s": sim.time_s})
    sim.replace_schedule([TRIP, now])
    sim.step()
    assert not online(sim)


def test_a_reset_plays_the_edited_timeline_from_the_start(bench):
    sim = Simulation(bench, dt_s=10.0)
    sim.step(100)  # past the trip
    sim.replace_schedule([TRIP])  # the CDU loss is taken off
    sim.reset()
    sim.step(200)
    assert pumps_running(sim) == 0 and online(sim)
