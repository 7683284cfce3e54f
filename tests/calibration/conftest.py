"""A synthetic plant: single-rack serving a varying load, its parameters perturbed by
known amounts, run by twin's own simulation and written as real run tables."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pytest

from twin.calibration.data import Measurements, read_measurements, write_point_table
from twin.calibration.parameters import ScenarioFactory, registry
from twin.runs.output import run_headless
from twin.scenario import Scenario, builtin_scenarios, loads

PLANT_WORKLOAD = """[[workloads]]
name = "serving"
kind = "inference"
halls = ["lab"]
peak_utilization = 0.95
trough_utilization = 0.4
peak_hour = 14.0
noise = 0.15
noise_time_constant_s = 900.0

[[events]]
at_s = "2h"
kind = "workload-surge"
halls = ["lab"]
utilization_step = -0.35
duration_s = "40min"

[[events]]
at_s = "330min"
kind = "workload-surge"
halls = ["lab"]
utilization_step = -0.3
duration_s = "30min"
"""

TRUTH_FACTORS = {
    "cdu.cdu-200.hx_ua": 0.75,  # a fouled exchanger
    "cdu.cdu-200.series_dp": 1.3,  # a dirty strainer: not separable from the pump curve
    "cdu.cdu-200.pump_efficiency": 0.85,
    "dry_coolers.approach": 1.2,
    "rack.gb300-nvl72.liquid_fraction": 0.94,
    "rack.gb300-nvl72.junction_resistance": 1.15,
    "power.rack_psu.loss": 1.25,
    "facility_water.volume": 1.3,
}
HOURS = 30  # a fit window in the first hours, a held-out day after it
INTERVAL_S = 30.0


def plant_text() -> str:
    """single-rack with a diurnal, noisy load and two load steps (the data needs
    movement for the capacitances to show), from 08:00 for 30 h."""
    text = builtin_scenarios()["single-rack"].read_text(encoding="utf-8")
    text = text[: text.index("[[workloads]]")] + PLANT_WORKLOAD
    return text.replace("start = 2026-08-01T00:00:00", "start = 2026-08-01T08:00:00")


@dataclass
class Plant:
    scenario: Scenario  # the model's: design values
    scenario_path: Path
    truth: dict[str, float]  # parameter -> true value
    site: Path
    components: Path
    folder: Path

    def measurements(self) -> Measurements:
        return read_measurements([self.site, self.components])


@pytest.fixture(scope="session")
def plant(tmp_path_factory: pytest.TempPathFactory) -> Plant:
    folder = tmp_path_factory.mktemp("plant")
    text = plant_text()
    scenario = loads(text)
    path = folder / "plant.toml"
    path.write_text(text, encoding="utf-8")
    truth, site, components = run_perturbed_plant(
        scenario, folder, TRUTH_FACTORS, HOURS, INTERVAL_S
    )
    return Plant(scenario, path, truth, site, components, folder)


def run_perturbed_plant(
    scenario: Scenario, folder: Path, factors: dict[str, float], hours: float, interval_s: float
) -> tuple[dict[str, float], Path, Path]:
    """Run ``scenario`` with its parameters off design by ``factors`` and write its
    site and component tables to ``folder``: (the true parameter values, site table,
    component table)."""
    params = registry(scenario)
    truth = {p.name: p.prior * factors.get(p.name, 1.0) for p in params}
    true_scenario = ScenarioFactory(scenario, params).build([truth[p.name] for p in params])
    site, components = folder / "site.csv", folder / "components.parquet"
    # one row per plant step, as the model steps: the rack powers read as interval means
    assert (
        run_headless(
            true_scenario,
            duration_s=hours * 3600.0,
            dt_s=interval_s,
            every_steps=1,
            out=site,
            components=components,
            progress=None,
        )
        == 0
    )
    return truth, site, components


def noisy_point_table(
    plant: Plant, path: Path, seed: int = 11, offsets: dict[str, float] | None = None
) -> Measurements:
    """The plant's measurements as sensors give them: noise (0.05 K, 0.5 % of flows and
    powers, 0.003 of positions), 2 % of rows dropped at random, offsets where given;
    written to ``path`` as a point table."""
    m = plant.measurements()
    rng = np.random.default_rng(seed)
    for point, values in m.values.items():
        quantity = point.rsplit("/", 1)[-1]
        if quantity.endswith("_c"):
            noise = 0.05 * rng.standard_normal(values.size)
        elif quantity in ("facility_valve", "pump_speed", "dry_cooler_fan_speed"):
            noise = 0.003 * rng.standard_normal(values.size)
        else:
            noise = 0.005 * np.abs(values) * rng.standard_normal(values.size)
        values += noise + (offsets or {}).get(point, 0.0)
        if point not in ("site/ambient_c", "site/wet_bulb_c", "site/it_power_kw"):
            values[rng.random(values.size) < 0.02] = np.nan
    write_point_table(m, path)
    return m
