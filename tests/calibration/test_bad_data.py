"""Bad measurements: each problem named, none fitted to."""

from __future__ import annotations

import numpy as np
import pytest

from tests.calibration.conftest import Plant
from twin.calibration.data import (
    DataError,
    Measurements,
    from_point_columns,
    parse_window,
    read_measurements,
    write_point_table,
)
from twin.calibration.fit import calibrate
from twin.calibration.model import DrivenModel
from twin.calibration.parameters import registry, select
from twin.calibration.screening import screen_outputs
from twin.calibration.validation import goodness, hourly
from twin.cli import main

WINDOW = (3600.0, 2 * 3600.0)


def _copy(m: Measurements) -> Measurements:
    return Measurements(
        m.time_s.copy(), m.interval_s, {p: v.copy() for p, v in m.values.items()}, dict(m.sources)
    )


@pytest.fixture(scope="module")
def clean(plant: Plant) -> Measurements:
    return plant.measurements()


def _refused(plant: Plant, m: Measurements) -> str:
    with pytest.raises(DataError) as caught:
        calibrate(
            m,
            plant.scenario,
            select(registry(plant.scenario), ["dry_coolers.*"]),
            window=WINDOW,
            warmup_s=1200.0,
        )
    return str(caught.value)


@pytest.mark.slow  # the synthetic plant runs once, ~25 s
def test_a_frozen_outdoor_temperature_stops_the_calibration(plant, clean):
    m = _copy(clean)
    m.values["site/ambient_c"][:] = 24.0
    assert "site/ambient_c stays at 24 for" in _refused(plant, m)


@pytest.mark.slow  # the synthetic plant runs once, ~25 s
def test_an_outdoor_temperature_in_fahrenheit_is_named(plant, clean):
    m = _copy(clean)
    m.values["site/ambient_c"] = m.values["site/ambient_c"] * 1.8 + 32.0
    message = _refused(plant, m)
    assert "site/ambient_c averages" in message and "convert it to °C" in message


@pytest.mark.slow  # the synthetic plant runs once, ~25 s
def test_a_long_gap_in_the_it_power_stops_the_calibration(plant, clean):
    m = _copy(clean)
    rack = "rack/R-01/power_kw"
    m.values[rack][140:200] = np.nan  # 30 min inside the fit window
    message = _refused(plant, m)
    assert f"{rack} has a gap of 30 min" in message and "--window" in message


@pytest.mark.slow  # the synthetic plant runs once, ~25 s
def test_data_without_the_racks_power_is_refused(plant, clean):
    m = _copy(clean)
    it_power = m.values.pop("site/it_power_kw")
    m.values.pop("rack/R-01/power_kw")
    assert "the data has no IT power" in _refused(plant, m)  # rack outlet temperatures only
    m.values["rack/R-99/power_kw"] = it_power  # a rack the scenario does not have
    assert "the data has no rack/R-01/power_kw and no site/it_power_kw" in _refused(plant, m)


@pytest.mark.slow  # the synthetic plant runs once, ~25 s
def test_nothing_usable_is_refused_rather_than_fitted(plant, clean):
    m = _copy(clean)
    keep = {"site/ambient_c", "site/wet_bulb_c", "rack/R-01/power_kw", "cdu/CDU/return_c"}
    m.values = {p: v for p, v in m.values.items() if p in keep}
    m.values["cdu/CDU/return_c"][:] = 40.0
    message = _refused(plant, m)
    assert message.startswith("no measured point is usable for a fit")
    assert "cdu/CDU/return_c: constant at 40" in message


@pytest.mark.slow  # the synthetic plant runs once, ~25 s
def test_bad_output_points_are_left_out_with_the_reason(plant, clean):
    """One model run at the prior judges them all: a constant, a stuck, a °F, a
    time-shifted and a mostly missing signal, while good signals stay."""
    m = _copy(clean)
    model_points = [
        "cdu/CDU/return_c",
        "cdu/CDU/duty_kw",
        "rack/R-01/outlet_temp_c",
        "plant/plant/fws_supply_c",
        "hall/lab/air_c",
        "cdu/CDU/facility_valve",
        "cdu/CDU/flow_lpm",
        "rack/R-01/gpu_temp_c",
    ]
    window = (3600.0, 4 * 3600.0)
    rows = np.flatnonzero(m.window(*window))
    m.values["cdu/CDU/duty_kw"][:] = 100.0  # frozen
    stuck = m.values["cdu/CDU/return_c"]
    stuck[rows[60] : rows[180]] = stuck[rows[60]]  # one value for an hour
    m.values["rack/R-01/outlet_temp_c"] = m.values["rack/R-01/outlet_temp_c"] * 1.8 + 32
    gpu = m.values["rack/R-01/gpu_temp_c"]
    m.values["rack/R-01/gpu_temp_c"] = np.concatenate([np.full(20, gpu[0]), gpu[:-20]])
    m.values["hall/lab/air_c"][rows[::3]] = np.nan
    m.values["hall/lab/air_c"][rows[1::3]] = np.nan
    model = DrivenModel(m, *window, model_points, warmup_s=1200.0)
    prior = model.run(plant.scenario)
    screening = screen_outputs(m, model.rows, prior.values)
    excluded = screening.excluded
    assert excluded["cdu/CDU/duty_kw"].startswith("constant at 100 while the model moves")
    assert excluded["rack/R-01/outlet_temp_c"].startswith("reads as °F, not °C")
    assert "runs 600 s behind the model" in excluded["rack/R-01/gpu_temp_c"]
    assert excluded["hall/lab/air_c"].startswith("only 33 % of its rows")
    assert "cdu/CDU/return_c" in screening.good  # kept, less its stuck hour
    assert (~screening.good["cdu/CDU/return_c"]).sum() >= 115
    assert any(
        text.startswith("cdu/CDU/return_c: stuck at one value") for text in screening.messages
    )
    for point in ("plant/plant/fws_supply_c", "cdu/CDU/facility_valve", "cdu/CDU/flow_lpm"):
        assert point in screening.good, screening.messages  # held constant by control: fine


@pytest.mark.slow  # the synthetic plant runs once, ~25 s
def test_a_bad_input_through_the_command_is_one_message_and_exit_2(plant, clean, tmp_path, capsys):
    m = _copy(clean)
    m.values["site/ambient_c"][:] = 24.0
    data = tmp_path / "points.csv"
    write_point_table(m, data)
    out = tmp_path / "calibrated.toml"
    code = main(
        [
            "calibrate",
            str(data),
            "--scenario",
            str(plant.scenario_path),
            "--fit",
            "dry_coolers.approach",
            "--window",
            "1h..2h",
            "--out",
            str(out),
            "--quiet",
        ]
    )
    err = capsys.readouterr().err
    assert code == 2 and err.startswith("twin calibrate: site/ambient_c stays at 24")
    assert "Traceback" not in err and not out.exists()


# ------------------------------------------------------------------ fast: no plant needed


@pytest.mark.parametrize(
    "text, expected", [("1h..26h", (3600.0, 93600.0)), ("0..90min", (0.0, 5400.0))]
)
def test_windows_are_durations(text, expected):
    assert parse_window(text) == expected


def test_irregular_and_repeated_times_are_put_on_a_grid_or_refused():
    t = np.array([10.0, 20.0, 40.0, 50.0, 60.0, 71.0])
    m = from_point_columns(t, {"site/ambient_c": np.arange(6.0)}, "x.csv")
    assert m.interval_s == 10.0 and m.time_s.tolist() == [10, 20, 30, 40, 50, 60, 70]
    assert m.values["site/ambient_c"][-1] == 5.0  # a second late: still its row
    assert np.isnan(m.values["site/ambient_c"][2])
    assert any("rows are missing" in note for note in m.notes)
    with pytest.raises(DataError, match="time_s repeats 20"):
        from_point_columns(np.array([10.0, 20.0, 20.0]), {"site/a_c": np.zeros(3)}, "x")
    with pytest.raises(DataError, match="is not a point name"):
        from_point_columns(t, {"supply": np.zeros(6)}, "x")


def test_guideline_14_figures_by_hand():
    measured = np.array([10.0, 12.0, 14.0, 16.0])
    simulated = np.array([11.0, 12.0, 13.0, 14.0])
    fit = goodness(measured, simulated, fitted=1)
    # errors -1, 0, 1, 2: sum 2, sum of squares 6, mean 13, n - p = 3
    assert fit.rmse == pytest.approx(np.sqrt(6 / 3))
    assert fit.cv_rmse_pct == pytest.approx(100 * np.sqrt(2) / 13)
    assert fit.nmbe_pct == pytest.approx(100 * 2 / 3 / 13)
    assert fit.passes is True
    assert (
        goodness(np.zeros(4), np.ones(4)).cv_rmse_pct
        != goodness(np.zeros(4), np.ones(4)).cv_rmse_pct
    )  # NaN: undefined for a zero mean
    time_s = np.arange(1, 121) * 60.0  # two hours of minute rows
    values = np.concatenate([np.full(60, 1.0), np.full(60, 3.0)])
    good = np.ones(120, dtype=bool)
    good[60:70] = False  # the second hour has 50 of 60 rows: below 90 %
    assert hourly(time_s, values, good, 60.0).tolist()[0] == 1.0
    assert np.isnan(hourly(time_s, values, good, 60.0)[1])


@pytest.mark.parametrize(
    "body",
    [
        "time_s,cdu/CDU-1/supply_c\n0,30\n60,Plant-Secret-42\n",  # a value that is no number
        "time_s,cdu/CDU-1/supply_c\n0,30\n60,31,Plant-Secret-42\n",  # a cell too many
    ],
)
def test_an_unreadable_measurement_file_is_named_without_its_text(tmp_path, body):
    from twin.calibration.data import read_measurements

    path = tmp_path / "m.csv"
    path.write_text(body, encoding="utf-8")
    with pytest.raises(DataError, match=r"m\.csv: cannot be read") as caught:
        read_measurements([path])
    assert "Plant-Secret-42" not in str(caught.value)


def test_a_component_table_is_read_point_by_point_with_its_missing_rows_empty(tmp_path):
    import pyarrow as pa
    import pyarrow.parquet as pq

    # a 'twin run' component table: one row per time, component and quantity, the
    # components interleaved; rack R-02 has no row at 20 s
    rows = [
        (t, "rack", rack, quantity, value)
        for t in (0.0, 10.0, 20.0, 30.0)
        for rack, quantity, value in (
            ("R-01", "outlet_temp_c", 40.0 + t),
            ("R-02", "outlet_temp_c", 50.0 + t),
            ("R-01", "power_kw", 100.0 + t),
        )
        if not (rack == "R-02" and t == 20.0)
    ]
    time_s, kind, component, quantity, value = zip(*rows, strict=True)
    table = pa.table(
        {
            "time_s": pa.array(time_s),
            "kind": pa.array(kind).dictionary_encode(),
            "component": pa.array(component).dictionary_encode(),
            "quantity": pa.array(quantity),
            "value": pa.array(value),
        }
    )
    path = tmp_path / "components.parquet"
    pq.write_table(table, path, row_group_size=4)  # points spread over several chunks
    m = read_measurements([path])
    assert list(m.values) == [
        "rack/R-01/outlet_temp_c",
        "rack/R-02/outlet_temp_c",
        "rack/R-01/power_kw",
    ]
    assert m.time_s.tolist() == [0.0, 10.0, 20.0, 30.0] and m.interval_s == 10.0
    assert m.values["rack/R-01/outlet_temp_c"].tolist() == [40.0, 50.0, 60.0, 70.0]
    assert m.values["rack/R-01/power_kw"].tolist() == [100.0, 110.0, 120.0, 130.0]
    r02 = m.values["rack/R-02/outlet_temp_c"]
    assert r02[[0, 1, 3]].tolist() == [50.0, 60.0, 80.0] and np.isnan(r02[2])
