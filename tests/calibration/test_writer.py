"""The calibrated scenario file: values in place, comments kept, the loader's approval."""

from __future__ import annotations

import math
from types import SimpleNamespace

import numpy as np
import pytest

from twin.calibration.fit import Calibration, ParameterResult
from twin.calibration.parameters import ScenarioFactory, registry
from twin.calibration.writer import calibrated_text
from twin.scenario import ScenarioError, builtin_scenarios, load, loads


def _calibration(results: list[ParameterResult]) -> Calibration:
    window = SimpleNamespace(start_s=3600.0, end_s=7200.0)  # all the writer reads of it
    return Calibration(results, np.eye(len(results)), window, None, [], 10, 1.0, 1800.0, {})


def test_every_kind_of_parameter_is_written_where_the_scenario_reads_it():
    original = builtin_scenarios()["single-rack"].read_text(encoding="utf-8")
    scenario = load("single-rack")
    params = {p.name: p for p in registry(scenario)}
    fitted = {
        "cdu.cdu-200.hx_ua": 31.5,
        "cdu.cdu-200.pump_head": 0.9,
        "power.ups.loss": 1.5,
        "facility_water.pump_efficiency": 0.7,
    }
    results = [
        ParameterResult(params[name], value, 0.01 * value, True) for name, value in fitted.items()
    ]
    results.append(
        ParameterResult(
            params["chillers.reference_cop"],
            2.96,
            math.nan,
            False,
            "not seen by the data: no usable point responds to it",
        )
    )
    text = calibrated_text(original, _calibration(results), ["plant.csv"])
    written = loads(text)
    expected = ScenarioFactory(scenario, [params[n] for n in fitted]).build(list(fitted.values()))
    assert written.cdu_types == expected.cdu_types
    # written to five significant digits
    assert written.power.ups.efficiency.efficiency_pct == pytest.approx(
        expected.power.ups.efficiency.efficiency_pct, rel=1e-5
    )
    assert written.facility_water == expected.facility_water
    assert "# Single rack: one GB300 NVL72-class rack" in text
    assert "hx_ua_kw_per_k = 31.5 # calibrated: +/- 0.32 kW/K, prior 40" in text
    table = written.calibration
    assert table.window_s == (3600.0, 7200.0) and table.data == ["plant.csv"]
    cop = table.parameters["chillers.reference_cop"]
    assert not cop.fitted and cop.std is None and cop.note.startswith("not seen")
    assert table.parameters["cdu.cdu-200.hx_ua"].field == "cdu_types.cdu-200.hx_ua_kw_per_k"


def test_a_calibration_table_with_a_backward_window_is_refused():
    text = builtin_scenarios()["single-rack"].read_text(encoding="utf-8")
    text += '\n[calibration]\ndata = ["x.csv"]\nwindow_s = [7200.0, 3600.0]\n'
    with pytest.raises(ScenarioError, match="window_s"):
        loads(text)
