"""What the inspector says of the generators and the halls through an outage whose sets
fall short (the views are plain models: real snapshots, no window)."""

from __future__ import annotations

import pytest

from twin.gui.objects import Selection, describe
from twin.scenario import load
from twin.scenario.schema import UtilityOutage
from twin.sim.engine import Simulation


@pytest.fixture(scope="module")
def outage_snapshots():
    scenario = load("seoul-ai-factory").model_copy(update={"events": []})
    sim = Simulation(scenario, dt_s=1.0)
    sim.step(60)
    sim.apply(
        UtilityOutage(
            at_s=0, kind="utility-outage", duration_s=1200, generators_failing_to_start=14
        )
    )
    snaps = {}
    for second in range(1, 1001):
        sim.step()
        if second in (5, 100, 1000):
            snaps[second] = sim.snapshot(robots=False)
    return scenario, sim.topology, snaps


def readings(view, snap) -> dict[str, str]:
    return {r.label: r.text(snap) for r in view.readings}


def test_the_generator_view_counts_sets_starting_running_and_failed(outage_snapshots):
    scenario, topology, snaps = outage_snapshots
    view = describe(Selection("generator", 0), scenario, topology)
    assert readings(view, snaps[5])["Units starting"] == "22"
    later = readings(view, snaps[100])
    assert (later["Units online"], later["Units starting"], later["Units failed"]) == (
        "8",
        "0",
        "14",
    )
    alarms = view.alarms(snaps[100])
    assert "14 sets FAILED (did not start or tripped)" in alarms
    assert "load shed: hall-2 on UPS batteries" in alarms


def test_the_hall_view_says_when_its_racks_ride_on_batteries_and_when_they_lose_power(
    outage_snapshots,
):
    scenario, topology, snaps = outage_snapshots
    hall_2 = describe(Selection("hall", 1), scenario, topology)
    hall_1 = describe(Selection("hall", 0), scenario, topology)
    assert any("load shed" in a for a in hall_2.alarms(snaps[100]))
    assert any("NO POWER" in a for a in hall_2.alarms(snaps[1000]))
    assert not any("NO POWER" in a or "load shed" in a for a in hall_1.alarms(snaps[1000]))
