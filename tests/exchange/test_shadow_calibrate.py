"""``twin calibrate`` on a ``twin shadow --record`` folder: a plant with a fouled exchanger
and a warm dry-cooler approach, published by its virtual BMS (sensor noise, dropouts,
deadbands) to a shadow of the design scenario in one process, recorded, then calibrated
from the recording alone."""

from __future__ import annotations

import tomllib

import numpy as np
import pyarrow.parquet as pq
import pytest

from tests.calibration.conftest import plant_text
from tests.exchange.plant_recording import record_shadow
from twin.calibration.record import CalibrationRecord, record_path
from twin.cli import main
from twin.exchange.points import BY_KEY, MEASURED, default_points
from twin.exchange.record import ShadowRecorder
from twin.exchange.report import ShadowSeries
from twin.scenario import loads

TRUTH_FACTORS = {"cdu.cdu-200.hx_ua": 0.75, "dry_coolers.approach": 1.2}


@pytest.mark.slow  # 26 h of plant time recorded, then about 25 model runs over 80 min
def test_calibrate_recovers_the_plant_from_a_shadow_recording(tmp_path, capsys):
    record = tmp_path / "shadow-run"
    truth = {
        name: value
        for name, value in record_shadow(record, 26.0, TRUTH_FACTORS).items()
        if name in TRUTH_FACTORS
    }
    # the boundary points are recorded, and kept out of the shadow's own fit
    series = ShadowSeries.read(record)
    assert {p.quantity for p, _, _ in series.inputs} == {"rack.power_kw", "site.ambient_c"}
    assert "rack.power_kw" not in {p.quantity for p in series.points}
    fit_rows = (record / "fit.csv").read_text(encoding="utf-8")
    assert "rack.power_kw" not in fit_rows and "cdu.flow_lpm" in fit_rows
    tags = set(pq.read_table(record / "series").column("tag_path").to_pylist())
    assert any(tag.endswith("/power_kw") for tag in tags)

    plant = tmp_path / "plant.toml"
    plant.write_text(plant_text(), encoding="utf-8")
    out, report = tmp_path / "calibrated.toml", tmp_path / "calibration.html"
    code = main(
        [
            "calibrate",
            str(record),
            "--scenario",
            str(plant),
            "--fit",
            "cdu.*.hx_ua",
            "dry_coolers.approach",
            "--window",
            "40min..2h",
            "--holdout",
            "2h..26h",
            "--out",
            str(out),
            "--report",
            str(report),
            "--quiet",
        ]
    )
    printed = capsys.readouterr().out
    assert code == 0
    written = loads(out.read_text(encoding="utf-8"))  # the loader validates it
    table = written.calibration.parameters
    for name, true_value in truth.items():
        fitted = table[name]
        assert fitted.fitted, name
        error = abs(fitted.value - true_value)
        assert error <= max(0.05 * true_value, 2 * fitted.std), (name, fitted.value, true_value)
        print(f"{name}: {fitted.value:.4g} ± {fitted.std:.2g} against {true_value:.4g}")
    ua = written.cdu_types["cdu-200"].hx_ua_kw_per_k
    assert ua == pytest.approx(table["cdu.cdu-200.hx_ua"].value)
    assert tomllib.loads(out.read_text(encoding="utf-8"))["calibration"]["data"] == [str(record)]
    # on the held-out day (a day and its night of plant data the fit never saw) the
    # calibrated model is at least 3x closer to the plant
    held_out = CalibrationRecord.read(record_path(out)).calibration.holdout
    assert held_out.time_s[-1] - held_out.time_s[0] >= 24 * 3600.0 - 60.0
    before, after = (
        held_out.validation_before.rms_group_cv_pct(),
        held_out.validation_after.rms_group_cv_pct(),
    )
    print(f"held-out day: CV(RMSE) {before:.2f} % uncalibrated, {after:.2f} % calibrated")
    assert before >= 3 * after, (before, after)
    page = report.read_text(encoding="utf-8")
    # the recording's points under the model's names, those it has no model for named
    assert "cdu/CDU/facility_valve" in page and "plant/plant/fws_supply_c" in page
    assert "not compared by the calibration" in page and "rack.supply_temp_c" in page
    # one whole hour in the window and two parameters fitted: no hourly figure (n - p < 1),
    # which is neither a pass nor a fail
    assert "Guideline 14 (hourly, fit window): 0 of" in printed
    assert "undefined (too few whole hours" in printed


def test_a_recording_without_the_plants_inputs_is_refused_plainly(tmp_path, capsys):
    record = tmp_path / "shadow-run"
    record_shadow(record, 0.1, TRUTH_FACTORS, keep=lambda p: p.quantity != "rack.power_kw")
    m = ShadowSeries.read(record).measurements()
    assert "site/ambient_c" in m.values
    assert not any(point.endswith("/power_kw") for point in m.values)
    assert np.isfinite(m.values["cdu/CDU/flow_lpm"]).any()
    code = main(
        [
            "calibrate",
            str(record),
            "--scenario",
            "single-rack",
            "--warmup",
            "1min",
            "--out",
            str(tmp_path / "c.toml"),
            "--quiet",
        ]
    )
    assert code == 2
    err = capsys.readouterr().err
    assert "has no IT power" in err and "Traceback" not in err
    assert not (tmp_path / "c.toml").exists()
    # a folder that is not a recording
    (record / "series").rename(tmp_path / "elsewhere")
    args = [
        "calibrate",
        str(record),
        "--scenario",
        "single-rack",
        "--out",
        str(tmp_path / "c.toml"),
    ]
    assert main(args) == 2
    assert "is read as a 'twin shadow --record' recording" in capsys.readouterr().err


def test_only_measured_points_are_compared_in_a_recording(tmp_path):
    scenario = loads(plant_text())
    points = default_points(scenario)
    recorder = ShadowRecorder(
        tmp_path / "rec", points, scenario_name="plant", evaluate_every_s=10.0
    )
    n = len(points)
    for k in range(5):
        recorder.add(
            10.0 * (k + 1),
            np.full(n, 50.0),
            np.full(n, 49.0),
            np.ones(n, dtype=np.int64),
            np.zeros(n, dtype=np.int8),
        )
    recorder.close()
    series = ShadowSeries.read(tmp_path / "rec")
    assert {BY_KEY[p.quantity].role for p in series.points} == {MEASURED}
    assert {p.quantity for p, _, _ in series.inputs} == {"rack.power_kw", "site.ambient_c"}
    assert series.measured.shape == (5, len(series.points))
    m = series.measurements()
    assert m.values["rack/R-01/power_kw"].tolist() == [50.0] * 5
    assert m.values["cdu/CDU/pump_speed"].tolist() == [0.5] * 5  # % to a fraction
