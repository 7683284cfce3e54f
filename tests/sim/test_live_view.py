"""The copy-free live view reads every field as the snapshot does, without copying."""

from __future__ import annotations

from dataclasses import fields

import numpy as np
import pytest

from twin.scenario import load
from twin.sim.engine import Simulation
from twin.sim.snapshot import CduState, PlantState, PowerState, RackState

GROUPS = {"racks": RackState, "cdus": CduState, "plant": PlantState, "power": PowerState}


@pytest.mark.parametrize("name", ["single-rack", "seoul-ai-factory"])
def test_every_field_of_the_live_view_equals_the_snapshots(name):
    sim = Simulation.from_scenario(load(name), dt_s=5.0)
    with pytest.raises(RuntimeError, match="no step has run yet"):
        sim.live_view()
    sim.step(30)
    snapshot, view = sim.snapshot(robots=False), sim.live_view()
    assert (view.step, view.time_s, view.site, view.robots) == (
        snapshot.step,
        snapshot.time_s,
        snapshot.site,
        None,
    )
    for group, cls in GROUPS.items():
        for field in fields(cls):
            live = getattr(getattr(view, group), field.name)
            copied = getattr(getattr(snapshot, group), field.name)
            assert np.array_equal(live, copied, equal_nan=True), (group, field.name)
    with pytest.raises(AttributeError):
        view.racks.no_such_field  # noqa: B018
    # no copies: the view reads the simulation's own arrays
    assert view.racks.gpu_temp_c is sim.state.junction_c
