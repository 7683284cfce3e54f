"""Online estimation: drifting quantities tracked from a noisy stream of the simulation."""

from __future__ import annotations

import numpy as np
import pytest

from twin.calibration.online import (
    RecursiveLeastSquares,
    cdu_design,
    exchanger_ua_sample,
    exchanger_ua_tracker,
    sensor_offset_tracker,
    series_resistance_sample,
    series_resistance_tracker,
)
from twin.scenario import load
from twin.scenario.schema import FilterClog
from twin.sim.engine import Simulation
from twin.sim.heat_exchange import exchanger_conductance_w_per_k


def test_rls_with_forgetting_follows_a_ramp_and_converges_on_a_constant():
    rng = np.random.default_rng(3)
    rls = RecursiveLeastSquares(np.array([1.0, 0.0]))
    for k in range(2000):
        phi = np.array([1.0, rng.uniform(-1, 1)])
        truth = np.array([2.0 + 0.001 * k, -0.5])
        rls.update(phi, float(phi @ truth) + 0.01 * rng.standard_normal(), 0.98)
    assert rls.theta[0] == pytest.approx(2.0 + 0.001 * 1999, abs=0.08)
    assert rls.theta[1] == pytest.approx(-0.5, abs=0.02)
    # the level lags the ramp, so successive innovations correlate and the band widens
    assert abs(rls.theta[1] + 0.5) < 2 * rls.std()[1] < 0.2


@pytest.mark.slow  # 2.2 simulated hours at 10 s steps
def test_a_clogging_strainer_is_tracked_within_10_percent_within_an_hour_and_alarms():
    """single-rack's strainer fouls to 4x its resistance over 2 h (a known rate);
    the tracker, fed flow, pump speed and branch dp with sensor noise every 10 s,
    is within 10 % of the true series resistance from an hour on."""
    scenario = load("single-rack")
    clog = FilterClog(at_s=600.0, kind="filter-clog", target="CDU", factor=4.0, ramp_s=7200.0)
    sim = Simulation(scenario.model_copy(update={"events": [clog]}), dt_s=10.0)
    rack_flow = scenario.rack_types["gb300-nvl72"].design_flow_lpm
    curve, design_k = cdu_design(scenario, "cdu-200", rack_flow)
    tracker = series_resistance_tracker("CDU", design_k, high_ratio=2.0)
    rng = np.random.default_rng(17)
    errors_after_hour = []
    for _ in range(int(2.2 * 3600 / 10)):
        sim.step()
        snap = sim.snapshot(robots=False)
        cdus = snap.cdus
        flow = cdus.flow_lpm[0] * (1 + 0.005 * rng.standard_normal())
        dp = cdus.dp_kpa[0] + 0.5 * rng.standard_normal()
        speed = cdus.pump_speed[0] + 0.002 * rng.standard_normal()
        phi, y = series_resistance_sample(curve, flow, speed, int(cdus.pumps_running[0]), dp)
        estimate = tracker.update(snap.time_s, phi, y)
        true_k = design_k * cdus.filter_resistance_factor[0]
        if snap.time_s >= 600.0 + 3600.0:
            errors_after_hour.append(abs(estimate.value - true_k) / true_k)
    assert errors_after_hour and max(errors_after_hour) < 0.10
    assert tracker.history[-1].ratio > 3.0  # it followed the clog most of the way
    raised = [text for _, text in tracker.alarms]
    assert raised and "series resistance" in raised[0] and "clogging" in raised[0]
    # the alarm came after the resistance passed 2x design (at 2400 s) and its delay
    assert tracker.alarms[0][0] >= 600.0 + 2400.0 + tracker.confirm_s - 1


def test_exchanger_ua_inverted_from_temperatures_and_flows():
    ua_w_per_k, hot, cold = 40e3, 12e3, 17e3
    g = float(
        exchanger_conductance_w_per_k(np.array([ua_w_per_k]), np.array([hot]), np.array([cold]))[0]
    )
    hot_in, cold_in = 44.0, 30.0
    hot_out = hot_in - g * (hot_in - cold_in) / hot
    phi, ua = exchanger_ua_sample(hot_in, hot_out, hot / 1e3, cold_in, cold / 1e3)
    assert phi == 1.0 and ua == pytest.approx(40.0, rel=1e-9)
    assert exchanger_ua_sample(30.2, 30.1, 12, 30.0, 17) == (0.0, 0.0)  # no span: nothing


def test_a_fouling_exchanger_raises_a_ua_alarm_and_clears_after_cleaning():
    tracker = exchanger_ua_tracker("H1-CDU-07", 420.0, low_ratio=0.85)
    rng = np.random.default_rng(5)
    for k in range(720):
        t = 10.0 * k
        ua = 420.0 * (1.0 - 0.3 * min(t / 3600.0, 1.0)) if t < 5400 else 420.0
        tracker.update(t, 1.0, ua * (1 + 0.02 * rng.standard_normal()))
    messages = [text for _, text in tracker.alarms]
    assert messages[0].startswith("H1-CDU-07 exchanger UA") and "fouling" in messages[0]
    assert "below design" in messages[0]
    assert messages[-1].endswith("(cleared)")


def test_a_sensor_offset_between_two_sensors_of_one_water_is_found():
    tracker = sensor_offset_tracker("CDU supply vs rack inlet", limit=0.5)
    rng = np.random.default_rng(9)
    for k in range(600):
        offset = 0.0 if k < 200 else 0.8
        tracker.update(10.0 * k, 1.0, offset + 0.1 * rng.standard_normal())
    assert tracker.history[-1].value == pytest.approx(0.8, abs=0.05)
    assert tracker.alarm is not None and tracker.alarm.endswith("a sensor offset")
    assert tracker.alarms[0][0] > 2000.0  # not before the offset appeared
