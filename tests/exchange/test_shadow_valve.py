"""The facility valve's characteristic tracked by the shadow: a plant whose valves are
mostly equal-percentage, a model whose valves are linear."""

from __future__ import annotations

import io

import numpy as np
import pytest

from tests.exchange.conftest import THREE_CDU, noisy_bms_into
from twin.calibration.online import ValveCharacteristicTracker
from twin.exchange.points import default_points
from twin.exchange.shadow import Shadow
from twin.scenario import load
from twin.scenario.schema import WorkloadSurge
from twin.sim.control import valve_flow_fraction
from twin.sim.engine import Simulation

PLANT_SHARE = 0.7  # of equal percentage: the plant's valves are not the model's (0)
HOUR_S = 3600.0


def _load_steps() -> list[WorkloadSurge]:
    """The racks' load stepped down and back every ten minutes, by different amounts, so
    that the valves move over a good part of their stroke."""
    steps = [-0.95, -0.5, -0.8, -0.3, -0.9, -0.65]
    return [
        WorkloadSurge(
            at_s=300.0 + 600.0 * k,
            kind="workload-surge",
            halls=["lab"],
            utilization_step=step,
            duration_s=420.0,
        )
        for k, step in enumerate(steps * 2)
    ]


@pytest.mark.slow  # an hour of plant time, plant and shadow at 1 s steps
def test_a_valve_characteristic_unlike_the_models_is_tracked_within_an_hour():
    scenario = load(THREE_CDU)
    plant_types = {
        name: cdu.model_copy(update={"facility_valve_equal_percentage": PLANT_SHARE})
        for name, cdu in scenario.cdu_types.items()
    }
    plant = Simulation.from_scenario(
        scenario.model_copy(update={"events": _load_steps(), "cdu_types": plant_types}),
        dt_s=1.0,
    )
    points = default_points(scenario, plant.topology)
    log = io.StringIO()
    shadow = Shadow(Simulation.from_scenario(scenario, dt_s=1.0), points, log=log)
    bms = noisy_bms_into(shadow, plant, scenario, points, log)
    openings = []
    while plant.time_s < HOUR_S:
        plant.step()
        bms.observe(plant.snapshot(robots=False))
        shadow.advance()
        openings.append(float(plant.state.valve[1]))
    assert max(openings) - min(openings) > 0.3  # the data moved the valves
    values = [v for v in shadow.estimation.values() if v.quantity == "valve_characteristic"]
    assert len(values) == 3
    for v in values:
        # within 10 % of the plant's share, and the band holds it
        assert v.value == pytest.approx(PLANT_SHARE, rel=0.10), v
        assert v.band_low <= PLANT_SHARE <= v.band_high, v
        assert v.design == 0.0 and v.alarm is not None and "not the model's" in v.alarm
    # the flow the valve passes at half its stroke, as the plant's
    tracker = shadow.estimation.trackers[1]["valve_characteristic"]
    assert isinstance(tracker, ValveCharacteristicTracker)
    half = float(valve_flow_fraction(0.5, PLANT_SHARE, 50.0))
    assert tracker.flow_fraction(0.5, values[1].value) == pytest.approx(half, rel=0.10)
    # tracked with the characteristic, the exchanger's UA is the plant's (design): a
    # smaller UA would have fitted a linear valve's flow at one opening
    assert tracker.ua_kw_per_k == pytest.approx(40.0, rel=0.10)
    assert "valve equal-% share" in shadow.estimation.summary()
    assert any("facility valve characteristic" in line for line in log.getvalue().splitlines())
    np.testing.assert_equal(shadow.estimation.drift_alarm("valve_characteristic"), [1, 1, 1])
