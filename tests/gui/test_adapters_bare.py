"""Each vispy adapter on a bare scene node, without a canvas or a window: fed a real
snapshot, the colours and positions it hands to its visuals follow the simulated state."""

from __future__ import annotations

import dataclasses

import numpy as np
import pytest
from vispy.scene import Node

from twin.gui._vispy.busways import BuswayAdapter
from twin.gui._vispy.cdus import NO_PUMP_RGBA, CduAdapter
from twin.gui._vispy.piping import PipingAdapter
from twin.gui._vispy.racks import RackAdapter
from twin.gui._vispy.substation import OVERLOADED, loading_rgba
from twin.gui.colors import TRIPPED_RGBA, rack_color_fields
from twin.scenario import load
from twin.sim.engine import Simulation

pytestmark = pytest.mark.gui


@pytest.fixture(scope="module")
def seoul():
    scenario = load("seoul-ai-factory")
    sim = Simulation.from_scenario(scenario, dt_s=10.0)
    sim.step(30)
    return scenario, sim.topology, sim.site.layout, sim.snapshot(robots=False)


def _with(snapshot, part: str, **fields):
    return dataclasses.replace(
        snapshot, **{part: dataclasses.replace(getattr(snapshot, part), **fields)}
    )


def test_racks_take_the_fields_colours_and_tripped_racks_stand_out(seoul):
    scenario, _, layout, snapshot = seoul
    fields = rack_color_fields(scenario)
    racks = RackAdapter(layout, fields, Node())
    racks.update(snapshot)
    assert np.allclose(racks.colors, fields[0].colorize(snapshot.racks))
    tripped = np.zeros(layout.racks.count, bool)
    tripped[[0, 7]] = True
    racks.update(_with(snapshot, "racks", tripped=tripped))
    assert (racks.colors[tripped] == TRIPPED_RGBA).all()
    assert np.allclose(racks.colors[~tripped], fields[0].colorize(snapshot.racks)[~tripped])
    racks.set_field("power")
    power = next(f for f in fields if f.key == "power")
    assert np.allclose(racks.colors[~tripped], power.colorize(snapshot.racks)[~tripped])
    racks.show_layer("thermal", False)  # greyed out, the same for every rack
    assert (racks.colors[~tripped] == racks.colors[~tripped][0]).all()


def test_cdus_dim_with_pump_speed_and_turn_red_without_a_pump(seoul):
    _, _, layout, snapshot = seoul
    cdus = CduAdapter(layout, Node())
    count = layout.cdus.count
    speed = np.linspace(0.0, 1.0, count)
    running = np.ones(count, int)
    running[1] = 0
    cdus.update(_with(snapshot, "cdus", pump_speed=speed, pumps_running=running))
    assert (cdus.colors[1] == NO_PUMP_RGBA).all()
    brightness = cdus.colors[running > 0, :3].sum(axis=1)
    assert np.all(np.diff(brightness) >= 0) and brightness[-1] > brightness[0]


def test_busways_show_their_loading_and_an_overload(seoul):
    _, topology, layout, snapshot = seoul
    busways = BuswayAdapter(layout, topology, Node())
    loading = np.full(len(topology.row_names), 0.5)
    loading[0] = 1.2
    busways.update(_with(snapshot, "power", row_busway_loading=loading))
    per_row = busways.colors.reshape(len(topology.row_names), -1, 4)
    assert (per_row[0] == OVERLOADED).all()
    assert np.allclose(per_row[1:], loading_rgba(np.array([0.5]))[0])


def test_pipes_carry_the_cdus_flow_and_temperatures_and_stop_with_the_pumps(seoul):
    scenario, topology, layout, snapshot = seoul
    piping = PipingAdapter(scenario, topology, layout, Node())
    piping.update(snapshot)
    assert (piping.speed_m_s > 0).any()
    assert np.isfinite(piping.temperature_c).all()
    hot = piping.color_of(np.array([piping.high_c]))[0]
    cold = piping.color_of(np.array([piping.low_c]))[0]
    assert not np.allclose(hot, cold)
    stopped = _with(snapshot, "cdus", pumps_running=np.zeros(topology.cdu_count, int))
    piping.update(stopped)
    technology_cooling = piping.cdu >= 0
    assert (piping.speed_m_s[technology_cooling] == 0).all()
