"""A shadow's recording of the synthetic plant of the calibration tests, made through the
virtual BMS in one process: shared by the calibration-through-DSX-Exchange test and its
benchmark."""

from __future__ import annotations

import io
from collections.abc import Callable
from pathlib import Path

from tests.calibration.conftest import plant_text
from tests.exchange.conftest import noisy_bms_into
from twin.calibration.parameters import ScenarioFactory, registry
from twin.exchange.points import default_points
from twin.exchange.record import ShadowRecorder
from twin.exchange.shadow import Shadow
from twin.scenario import loads
from twin.sim.engine import Simulation

STEP_S = 10.0  # plant and shadow: the calibration's model steps at the data's 10 s rows


def record_shadow(
    folder: Path,
    hours: float,
    factors: dict[str, float],
    keep: Callable[[object], bool] = lambda point: True,
) -> dict[str, float]:
    """Record into ``folder`` a shadow of the design scenario following the plant with its
    parameters off design by ``factors`` (the points ``keep`` selects); every parameter's
    true value."""
    scenario = loads(plant_text())
    params = registry(scenario)
    values = [p.prior * factors.get(p.name, 1.0) for p in params]
    plant = Simulation.from_scenario(ScenarioFactory(scenario, params).build(values), dt_s=STEP_S)
    points = [p for p in default_points(scenario, plant.topology) if keep(p)]
    log = io.StringIO()
    recorder = ShadowRecorder(folder, points, scenario_name="plant", evaluate_every_s=STEP_S)
    shadow = Shadow(
        Simulation.from_scenario(scenario, dt_s=STEP_S), points, log=log, recorder=recorder.add
    )
    bms = noisy_bms_into(shadow, plant, scenario, points, log)
    while plant.time_s < hours * 3600.0:
        plant.step()
        bms.observe(plant.snapshot(robots=False))
        shadow.advance()
    recorder.close()
    return {p.name: v for p, v in zip(params, values, strict=True)}
