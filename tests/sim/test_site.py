"""Compile once: the site's structure is built once and shared, and a step reads only
what the simulation compiled from the scenario."""

from __future__ import annotations

import pytest

from twin.runs.output import component_columns
from twin.scenario import load
from twin.scenario.schema import ChillerTrip, Heatwave, PumpTrip, WorkloadSurge
from twin.sim.engine import Simulation
from twin.sim.site import Site


class _Gone:
    """Stands for a scenario the simulation must no longer read."""

    def __getattr__(self, name: str):
        raise AssertionError(f"the step read scenario.{name}")


def test_a_simulation_shares_the_site_it_is_given() -> None:
    scenario = load("seoul-ai-factory")
    site = Site.build(scenario)
    sim = Simulation.from_scenario(scenario, site=site)
    assert sim.site is site and sim.topology is site.topology
    sim.step()
    assert sim.snapshot().racks.gpu_temp_c.size == site.topology.rack_count
    # the robots stand where the shared layout puts them
    assert sim.robots.fleets[0].dock_m.tolist() == pytest.approx(
        site.layout.workcells.center_m[sim.robots.fleet_cell[0], :2].tolist()
    )


def test_steps_and_events_read_no_scenario_model() -> None:
    scenario = load("seoul-ai-factory")
    sim = Simulation(scenario, dt_s=60.0)
    sim.scenario = _Gone()  # everything the step needs was compiled in the constructor
    cdu = sim.topology.cdu_names[0]
    for event in (
        PumpTrip(at_s=0, kind="pump-trip", target=cdu, pumps=2),
        Heatwave(at_s=0, kind="heatwave", offset_k=6.0, duration_s=1800.0),
        ChillerTrip(at_s=0, kind="chiller-trip", units=1),
        WorkloadSurge(
            at_s=0,
            kind="workload-surge",
            halls=[sim.topology.hall_names[0]],
            utilization_step=0.2,
            duration_s=600.0,
        ),
    ):
        sim.apply(event)
    sim.step(30)
    snapshot = sim.snapshot()
    assert snapshot.time_s == pytest.approx(1800.0)
    assert snapshot.cdus.pumps_running[0] == 0  # the tripped CDU's pumps stay off
    # the component table is built from the snapshot, outside the simulation
    assert component_columns(snapshot.time_s, snapshot, scenario, sim.topology)["value"].size > 0
