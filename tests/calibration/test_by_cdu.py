"""A site calibrated one CDU at a time gives the whole-site fit's answer."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pytest

from tests.calibration.conftest import PLANT_WORKLOAD, run_perturbed_plant
from twin.calibration.data import DataError, Measurements, read_measurements
from twin.calibration.fit import calibrate
from twin.calibration.model import DrivenModel, is_modelled
from twin.calibration.parameters import ScenarioFactory, registry, select
from twin.calibration.subloop import (
    calibrate_by_cdu,
    cdu_measurements,
    cdu_scenario,
    facility_supply_point,
)
from twin.cli import main
from twin.scenario import Scenario, loads
from twin.sim.engine import Simulation

THREE_CDU = Path(__file__).parents[1] / "exchange" / "three-cdu.toml"
TRUTH_FACTORS = {
    "cdu.cdu-200.hx_ua": 0.8,
    "cdu.cdu-200.series_dp": 1.3,
    "dry_coolers.approach": 1.15,
}
HOURS = 2.0
INTERVAL_S = 30.0
WARMUP_S = 1800.0


@dataclass
class Site:
    scenario: Scenario
    text: str
    truth: dict[str, float]
    data: list[Path]

    def measurements(self) -> Measurements:
        return read_measurements(self.data)


@pytest.fixture(scope="module")
def site(tmp_path_factory: pytest.TempPathFactory) -> Site:
    """Three racks on three CDUs under a noisy, diurnal load with a load step, the CDU
    type's exchanger and strainer and the dry coolers off design."""
    folder = tmp_path_factory.mktemp("three-cdu-plant")
    text = THREE_CDU.read_text(encoding="utf-8")
    workload = PLANT_WORKLOAD.replace('at_s = "2h"', 'at_s = "65min"')
    text = text[: text.index("[[workloads]]")] + workload
    scenario = loads(text)
    truth, table, components = run_perturbed_plant(
        scenario, folder, TRUTH_FACTORS, HOURS, INTERVAL_S
    )
    return Site(scenario, text, truth, [table, components])


def test_a_cdu_alone_reproduces_its_points_in_the_whole_site(site: Site):
    m = site.measurements()
    reduced, rename = cdu_scenario(site.scenario, "L-CDU-02")
    assert [h.name for h in reduced.halls] == ["lab"]
    assert rename == {"R02-01": "L-CDU-02-R-01"}
    mine = cdu_measurements(m, "L-CDU-02", rename)
    supply = facility_supply_point(mine)
    assert supply == "plant/plant/fws_supply_c"
    points = [p for p in mine.values if is_modelled(p) and p != supply]
    assert "cdu/L-CDU-02/supply_c" in points and "cdu/L-CDU-01/supply_c" not in points
    window = (WARMUP_S, HOURS * 3600.0)
    whole = DrivenModel(m, *window, [p for p in m.values if is_modelled(p)], WARMUP_S)
    refine_s = Simulation(site.scenario, dt_s=INTERVAL_S).refine_step_s
    alone = DrivenModel(mine, *window, points, WARMUP_S, supply, refine_s)
    truth = ScenarioFactory(site.scenario, registry(site.scenario)).build(list(site.truth.values()))
    reduced_truth = ScenarioFactory(reduced, registry(reduced)).build(
        [site.truth[p.name] for p in registry(reduced)]
    )
    whole_run, alone_run = whole.run(truth), alone.run(reduced_truth)
    back = {v: k for k, v in rename.items()}
    for point in points:
        kind, component, quantity = point.split("/")
        original = f"{kind}/{back.get(component, component)}/{quantity}"
        scale = max(float(np.nanmax(np.abs(whole_run.values[original]))), 1.0)
        error = np.max(np.abs(alone_run.values[point] - whole_run.values[original]))
        # to rounding, but where the whole site refines its steps after the load step:
        # there the measured supply is interpolated between the data's rows
        assert error <= 1e-3 * scale, (point, error)


@pytest.mark.slow
def test_fitting_one_cdu_at_a_time_gives_the_whole_site_fit(site: Site):
    m = site.measurements()
    params = select(registry(site.scenario), list(TRUTH_FACTORS))
    window = (WARMUP_S, HOURS * 3600.0)
    whole = calibrate(m, site.scenario, params, window=window, warmup_s=WARMUP_S)
    split = calibrate_by_cdu(m, site.scenario, params, window=window, warmup_s=WARMUP_S)
    assert [f.cdu for f in split.per_cdu] == ["L-CDU-01", "L-CDU-02", "L-CDU-03"]
    for fit in split.per_cdu:  # each CDU's own estimate of its type's values
        for r in fit.calibration.params:
            assert r.fitted and r.value == pytest.approx(site.truth[r.param.name], rel=0.01)
    by_name = {r.param.name: r for r in whole.params}
    for r in split.calibration.params:
        assert r.fitted, (r.param.name, r.note)
        truth = site.truth[r.param.name]
        assert r.value == pytest.approx(by_name[r.param.name].value, rel=0.005), r.param.name
        assert r.value == pytest.approx(truth, rel=0.01), r.param.name
    assert split.calibration.correlation.shape == (3, 3)
    before = split.calibration.fit_window.validation_before
    after = split.calibration.fit_window.validation_after
    worst_before = max(v["interval"].cv_rmse_pct for v in before.per_group.values())
    worst_after = max(v["interval"].cv_rmse_pct for v in after.per_group.values())
    assert worst_after < worst_before / 3


def test_fitting_by_cdu_without_the_facility_supply_is_one_message(site: Site, tmp_path, capsys):
    m = site.measurements()
    del m.values["plant/plant/fws_supply_c"], m.values["site/fws_supply_c"]
    params = select(registry(site.scenario), ["cdu.*.hx_ua"])
    with pytest.raises(DataError, match="facility water supply temperature"):
        calibrate_by_cdu(m, site.scenario, params)
    plant = tmp_path / "plant.toml"
    plant.write_text(site.text, encoding="utf-8")
    command = ["calibrate", *map(str, site.data), "--scenario", str(plant)]
    out = ["--out", str(tmp_path / "out.toml")]
    code = main([*command, "--cdu", "L-CDU-01", *out])
    assert code != 0
    assert "add --by-cdu" in capsys.readouterr().err
    code = main([*command, "--by-cdu", "--cdu", "X-*", *out])
    assert code != 0
    assert "--cdu X-* names no CDU" in capsys.readouterr().err


@pytest.mark.slow  # two small fits through the command, ~7 CPU s
def test_calibrate_by_cdu_writes_the_calibrated_scenario_and_its_record(site: Site, tmp_path):
    plant = tmp_path / "plant.toml"
    plant.write_text(site.text, encoding="utf-8")
    out, report = tmp_path / "calibrated.toml", tmp_path / "calibration.html"
    code = main(
        [
            "calibrate",
            *map(str, site.data),
            "--scenario",
            str(plant),
            "--by-cdu",
            "--cdu",
            "L-CDU-02",
            "--fit",
            "cdu.*.hx_ua",
            "dry_coolers.approach",
            "--window",
            "40min..80min",
            "--warmup",
            "20min",
            "--out",
            str(out),
            "--report",
            str(report),
            "--quiet",
        ]
    )
    assert code == 0
    scenario = loads(out.read_text(encoding="utf-8"))
    ua = scenario.cdu_types["cdu-200"].hx_ua_kw_per_k
    assert ua == pytest.approx(site.truth["cdu.cdu-200.hx_ua"], rel=0.02)
    approach = scenario.heat_rejection.dry_coolers.design_approach_k
    assert approach == pytest.approx(site.truth["dry_coolers.approach"], rel=0.02)
    assert (tmp_path / "calibrated.calibration.parquet").is_file()
    page = report.read_text(encoding="utf-8")
    assert "1 CDU(s) alone" in page and "Guideline 14" in page
