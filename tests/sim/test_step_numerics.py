"""The step's numerics: implicit controllers, trips located inside a step, stability
over random valid scenarios, and the same answers at any step (a fast subset of the
matrix that benchmarks/step_matrix.py runs in full)."""

from __future__ import annotations

import functools
import math
import tomllib
from unittest import mock

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from twin.scenario import ScenarioError, load
from twin.scenario.files import builtin_scenarios
from twin.scenario.loader import from_dict
from twin.sim import engine
from twin.sim.control import pi_implicit
from twin.sim.engine import Simulation
from twin.sim.nodes import ChipProfile
from twin.sim.snapshot import SITE_COLUMNS
from twin.sim.step_check import DARK_SHARE, Case, Result, compare, run

COLUMN = {name: i for i, (name, _) in enumerate(SITE_COLUMNS)}
AMBIENT_COLUMNS = [
    i for i, (name, _) in enumerate(SITE_COLUMNS) if name in ("ambient_c", "wet_bulb_c")
]

# ------------------------------------------------------------------ implicit PI


def _explicit_pi(error, integral, dt, kp, ti_s, out_min, out_max):
    """A sampled PI that integrates the error it saw before acting over the whole step
    (the discretization the simulation does not use), with the same anti-windup."""
    p = kp * error
    integral = np.clip(integral + p * dt / ti_s, out_min - p, out_max - p)
    return np.clip(p + integral, out_min, out_max), integral


def _algebraic_plant(gain_k_per_unit: float):
    """A measured temperature that settles within any step: y = 60 - gain * u."""
    return lambda u: 60.0 - gain_k_per_unit * u


@pytest.mark.parametrize("dt", [60.0, 300.0])
def test_the_implicit_pi_settles_a_stiff_loop_where_the_explicit_one_swings(dt):
    plant = _algebraic_plant(50.0)  # 50 K per unit of valve: loop gain 2.5 at kp 0.05
    kw = dict(kp=0.05, ti_s=60.0, out_min=0.05, out_max=1.0)
    u, i = np.array([0.2]), np.array([0.2])
    explicit = []
    for _ in range(40):
        u, i = _explicit_pi(plant(u) - 35.0, i, dt, **kw)
        explicit.append(float(u[0]))
    assert max(explicit[-10:]) - min(explicit[-10:]) > 0.5  # it swings limit to limit
    u, i = np.array([0.2]), np.array([0.2])
    implicit = []
    for _ in range(40):
        u, i, error = pi_implicit(lambda v: plant(v) - 35.0, i, dt, guess=u, **kw)
        implicit.append(float(u[0]))
        assert error == pytest.approx(plant(u) - 35.0, abs=1e-6)
    assert implicit[-1] == pytest.approx(0.5, abs=1e-6)  # 60 - 50 u = 35
    steps = np.diff(implicit)
    assert np.all(steps <= 1e-9) or np.all(steps >= -1e-9)  # no overshoot


def test_the_implicit_pi_agrees_with_the_explicit_one_on_a_slow_loop():
    # a first-order plant far slower than the step: both discretizations see one error
    kw = dict(kp=0.05, ti_s=60.0, out_min=0.0, out_max=1.0)
    ue, ie = np.array([0.3]), np.array([0.3])
    ui, ii = ue.copy(), ie.copy()
    y_e = y_i = 40.0
    tau, dt = 600.0, 0.5
    for _ in range(2000):
        y_e += (60.0 - 40.0 * ue[0] - y_e) * dt / tau
        ue, ie = _explicit_pi(np.array([y_e - 35.0]), ie, dt, **kw)
        y_prev = y_i

        def after(v, y_prev=y_prev):
            return y_prev + (60.0 - 40.0 * v - y_prev) * dt / tau - 35.0

        ui, ii, _ = pi_implicit(after, ii, dt, guess=ui, **kw)
        y_i = float(after(ui)[0]) + 35.0
    assert ui[0] == pytest.approx(ue[0], abs=2e-3)
    assert y_i == pytest.approx(y_e, abs=0.05)


def test_the_implicit_pi_stops_at_its_limits_without_winding_up():
    plant = _algebraic_plant(5.0)  # too weak to reach the setpoint: saturates at 1
    u, i = np.array([0.5]), np.array([0.5])
    for _ in range(20):
        u, i, _ = pi_implicit(
            lambda v: plant(v) - 35.0,
            i,
            300.0,
            kp=0.05,
            ti_s=60.0,
            out_min=0.05,
            out_max=1.0,
            guess=u,
        )
    assert u[0] == 1.0
    assert i[0] + 0.05 * (plant(1.0) - 35.0) == pytest.approx(1.0)  # integral at the limit


# ------------------------------------------------------------------ trips inside a step


def _junction_by_small_steps(
    t0_c, coolant_c, power_w, resistance, tau, dt, throttle_c, critical_c, fraction, h=1e-4
):
    """The junction ODE by explicit Euler at a step far below tau, switching power as
    the GPU throttles and trips: the reference the located crossings must match."""
    capacity = tau / resistance
    t, temp, q = 0.0, t0_c, power_w
    throttle_at = trip_at = None
    energy = 0.0
    for _ in range(round(dt / h)):
        energy += q * h
        temp += (q - (temp - coolant_c) / resistance) * h / capacity
        t += h
        if throttle_at is None and temp >= throttle_c:
            throttle_at, q = t, power_w * fraction
        if trip_at is None and temp >= critical_c:
            trip_at, q = t, 0.0
    return throttle_at, trip_at, temp, energy / dt


@pytest.mark.parametrize(("start_c", "coolant_c"), [(60.0, 70.0), (60.0, 80.0), (90.0, 90.0)])
def test_throttle_and_trip_inside_a_step_follow_the_junctions_exact_solution(start_c, coolant_c):
    s = from_dict(tomllib.loads(builtin_scenarios()["single-rack"].read_text()))
    dt = 60.0
    sim = Simulation(s, dt_s=dt)
    r = sim.racks
    sim.state.junction_c[:] = start_c
    sim.state.rack_coolant_c[:] = coolant_c  # held over the step: the first-order case
    power_w = float(r.gpu_tdp_w[0])
    fraction = s.gpu_management.throttle_power_fraction
    chips = ChipProfile.constant(np.array([power_w]), dt, fraction)
    located = chips.located(sim, np.array([coolant_c]), np.array([True]))
    assert located is not None
    throttle_at, trip_at, end_c, mean_w = _junction_by_small_steps(
        start_c,
        coolant_c,
        power_w,
        float(r.junction_resistance_k_per_w[0]),
        float(sim.junction_tau_s[0]),
        dt,
        float(r.throttle_c[0]),
        float(r.critical_c[0]),
        fraction,
    )
    assert located.throttle_s[0] == pytest.approx(throttle_at if throttle_at else dt, abs=1e-3)
    assert located.trip_s[0] == pytest.approx(trip_at if trip_at else dt, abs=1e-3)
    got_end = located.junction_end_c(
        sim, sim.state.junction_c, sim.state.rack_coolant_c, np.array([coolant_c])
    )
    assert got_end[0] == pytest.approx(end_c, abs=1e-3)
    assert located.mean_w[0] == pytest.approx(mean_w, rel=1e-4)
    if throttle_at is None:
        assert start_c >= r.throttle_c[0] or coolant_c + power_w * 0.025 < r.throttle_c[0]


def test_a_rack_that_loses_its_coolant_trips_inside_the_step_and_its_energy_stops_then():
    """The CDU of single-rack is lost: at dt 60 s the rack trips inside a step, not
    after the step it overheated in, and the energy it drew stops at the trip."""
    case = Case(
        "single-rack",
        7,
        "cdu-loss",
        duration_s=5400.0,
        fault_at_s=3000.0,
        window_s=1800.0,
        settle_s=1800.0,
    )
    fine = run(case, 1.0)
    coarse = run(case, 60.0)
    assert fine.first_trip_s is not None and coarse.first_trip_s is not None
    assert abs(coarse.first_trip_s - fine.first_trip_s) <= 60.0
    assert coarse.gpu_over_trip_k <= 1.0
    assert abs(coarse.closure_error) < 1e-9


# ------------------------------------------------------------------ stability


def _variant(
    rows: int,
    racks_per_row: int,
    rack_l: float,
    cdu_l: float,
    facility_m3: float,
    ua_scale: float,
    month: int,
):
    data = tomllib.loads(builtin_scenarios()["single-rack"].read_text())
    racks = rows * racks_per_row
    cdu = data["cdu_types"]["cdu-200"]
    rack_type = data["rack_types"]["gb300-nvl72"]
    rack_type["coolant_volume_l"] = rack_l
    cdu.update(
        capacity_kw=200.0 * racks,
        pump_design_flow_lpm=200.0 * racks,
        facility_design_flow_lpm=250.0 * racks,
        secondary_volume_l=cdu_l,
        hx_ua_kw_per_k=40.0 * racks * ua_scale,
    )
    hall = data["halls"][0]
    hall["rows"][0].update(count=rows, racks_per_row=racks_per_row, rows_per_cdu=rows)
    hall["crah_capacity_kw"] = 40.0 * racks
    hall["electrical"].update(transformers=1, ups_modules=racks)
    data["power"]["distribution_transformer"]["rating_kva"] = 500.0 * racks
    data["power"]["main_transformers"]["rating_kva"] = 1000.0 * racks
    data["power"]["plant_transformers"]["rating_kva"] = 100.0 * racks
    data["power"]["utility"]["import_cap_mw"] = 0.5 * racks
    data["facility_water"].update(volume_m3=facility_m3, pump_design_flow_lps=4.0 * racks)
    data["heat_rejection"]["dry_coolers"].update(count=racks)
    data["heat_rejection"]["chillers"].update(count=racks)
    start = data["scenario"]["start"]
    data["scenario"]["start"] = start.replace(month=month)
    data["events"] = []
    return from_dict(data)


@settings(
    max_examples=25, deadline=None, derandomize=True, suppress_health_check=[HealthCheck.too_slow]
)
@given(
    rows=st.integers(1, 4),
    racks_per_row=st.integers(1, 40),
    rack_l=st.floats(5.0, 200.0),
    cdu_l=st.floats(10.0, 2000.0),
    facility_m3=st.floats(0.2, 50.0),
    ua_scale=st.floats(0.3, 5.0),
    month=st.integers(1, 12),
    dt=st.sampled_from([0.5, 1.0, 10.0, 60.0, 120.0, 300.0]),
    gain_scale=st.floats(0.2, 20.0),
)
def test_any_valid_scenario_stays_within_physical_bounds_at_any_step(
    rows, racks_per_row, rack_l, cdu_l, facility_m3, ua_scale, month, dt, gain_scale
):
    try:
        s = _variant(rows, racks_per_row, rack_l, cdu_l, facility_m3, ua_scale, month)
    except ScenarioError:
        return  # not a scenario the loader accepts
    gains = {
        name: getattr(engine, name) * gain_scale
        for name in ("VALVE_KP_PER_K", "CRAH_KP_PER_K", "FREE_COOLING_KP_PER_K", "PUMP_KP_PER_KPA")
    }
    with mock.patch.multiple(engine, **gains):
        sim = Simulation(s, dt_s=dt)
        start_min = min(
            float(sim.state.facility_c[0]),
            float(sim.state.chilled_c[0]),
            float(sim.state.hall_air_c.min()),
            float(sim.state.cdu_supply_c.min()),
        )
        coldest = start_min
        steps = min(math.ceil(4 * 3600.0 / dt), 300)
        for _ in range(steps):
            sim.step()
            st_ = sim.state
            ambient = sim.site_values()[AMBIENT_COLUMNS]  # dry and wet bulb of the step
            coldest = min(coldest, float(ambient.min()))
            liquid = np.concatenate([st_.rack_coolant_c, st_.cdu_coolant_c, st_.cdu_supply_c])
            assert np.all(np.isfinite(liquid)) and np.all(np.isfinite(st_.junction_c))
            assert liquid.min() >= sim.tcs.t_min_c and liquid.max() <= sim.tcs.t_max_c
            water = np.array([st_.facility_c[0], st_.chilled_c[0]])
            assert water.min() >= sim.fws.t_min_c and water.max() <= sim.fws.t_max_c
            nodes = np.concatenate([liquid, water, st_.hall_air_c, st_.junction_c])
            assert nodes.min() >= coldest - 1e-6  # nothing colder than its coldest source
            assert np.all(st_.junction_c <= sim.racks.critical_c + 1.0)
            assert 0.0 <= st_.rejection_fraction <= 1.0
            assert np.all((st_.valve >= engine.VALVE_MIN - 1e-12) & (st_.valve <= 1.0))
        assert abs(sim.ledger()["closure_error"]) < 1e-9


# ------------------------------------------------------------------ same answers at any step


def _result(dt: float, it_kw: list[float], facility_kw: list[float]) -> Result:
    it, facility = np.array(it_kw), np.array(facility_kw)
    windows = it.size
    return Result(
        dt,
        {
            "it_power_kw": it,
            "facility_power_kw": facility,
            "cooling_power_kw": 0.1 * facility,
            "pue": np.divide(facility, it, out=np.zeros(windows), where=it > 0),
        },
        np.zeros(windows, bool),
        np.zeros(windows, bool),
        None,
        -20.0,
        0.0,
    )


def test_a_mostly_dark_window_is_held_to_a_tenth_of_the_sites_level():
    """A window below DARK_SHARE of the run's largest is compared against that share of
    it, and its PUE (a ratio of two near-zero numbers) is left out; a lit window is held
    to 1 % of itself."""
    reference = _result(1.0, [100.0, 100.0, 2.0], [120.0, 120.0, 8.0])
    allowed = 0.009 * DARK_SHARE * 100.0  # under 1 % of a tenth of the largest window
    dark_off = _result(300.0, [100.0, 100.0, 2.0 + allowed], [120.0, 120.0, 8.0])
    assert not compare(reference, dark_off).failures  # 0.4 % of that window, PUE 4 % off
    too_far = _result(300.0, [100.0, 100.0, 2.0 + 2 * allowed], [120.0, 120.0, 8.0])
    assert compare(reference, too_far).failures
    lit_off = _result(300.0, [100.0, 101.5, 2.0], [120.0, 120.0, 8.0])
    failures = compare(reference, lit_off).failures
    assert any(f.startswith("it_power_kw") for f in failures)
    assert any(f.startswith("pue") for f in failures)


@functools.cache
def _case_run(case: Case, dt: float):
    return run(case, dt)


def _fast_case(scenario: str, month: int, fault: str) -> Case:
    return Case(scenario, month, fault, duration_s=2.5 * 3600.0, fault_at_s=2400.0, settle_s=1800.0)


@pytest.mark.parametrize(
    ("scenario", "month", "fault", "dt"),
    [
        ("single-rack", 1, "heatwave", 10.0),
        ("single-rack", 1, "heatwave", 60.0),
        ("single-rack", 1, "heatwave", 300.0),
        ("seoul-ai-factory", 1, "built-in", 10.0),
        ("seoul-ai-factory", 1, "built-in", 60.0),
        ("seoul-ai-factory", 1, "built-in", 300.0),
    ],
)
def test_coarse_steps_give_the_answers_of_one_second(scenario, month, fault, dt):
    case = _fast_case(scenario, month, fault)
    result = compare(_case_run(case, 1.0), _case_run(case, dt))
    assert not result.failures, f"{case.name} at dt {dt:g} s: {result.failures}"


def test_cases_branched_at_the_fault_give_the_runs_of_their_own_scenarios():
    """The matrix runs the time before the fault once for every fault: each copy, its
    fault scheduled then, must give what its own scenario run from the start gives."""
    from twin.sim.step_check import FAULTS, run_branches

    cases = [_fast_case("seoul-ai-factory", 7, fault) for fault in FAULTS]
    branched = run_branches(cases, 60.0)
    for case in cases:
        alone, shared = run(case, 60.0), branched[case]
        for name in alone.means:
            np.testing.assert_array_equal(shared.means[name], alone.means[name])
        np.testing.assert_array_equal(shared.throttled_windows, alone.throttled_windows)
        np.testing.assert_array_equal(shared.tripped_windows, alone.tripped_windows)
        assert (shared.first_trip_s, shared.gpu_over_trip_k, shared.closure_error) == (
            alone.first_trip_s,
            alone.gpu_over_trip_k,
            alone.closure_error,
        ), case.name
    with pytest.raises(ValueError, match="differ in their fault only"):
        run_branches([cases[0], _fast_case("seoul-ai-factory", 1, "none")], 60.0)


@pytest.mark.parametrize("dt", [60.0, 300.0])
def test_a_rack_restarted_onto_a_plant_on_free_cooling_costs_what_it_does_at_one_second(dt):
    """April: the rack trips in an outage and the operators power it on 30 min later,
    its 137 kW back at once on a plant idling on free cooling; the facility water's
    overshoot and the chillers' trim follow the path of dt = 1 s (multi-rate steps)."""
    case = _fast_case("single-rack", 4, "utility-outage")
    fine, coarse = _case_run(case, 1.0), _case_run(case, dt)
    assert fine.first_trip_s is not None
    assert not compare(fine, coarse).failures


def test_an_upset_refines_the_steps_of_the_window_after_it_and_only_those():
    data = tomllib.loads(builtin_scenarios()["single-rack"].read_text())
    # a heatwave that outlasts the run: its end, an upset too, comes after it
    data["events"] = [{"at_s": 3600.0, "kind": "heatwave", "duration_s": 36000.0, "offset_k": 3.0}]
    dt = 300.0
    sim = Simulation(from_dict(data), dt_s=dt)
    assert sim.refine_step_s == pytest.approx(5.0)
    refined_at = []
    take_refined = sim._refined_step

    def watched() -> None:
        refined_at.append(sim.state.time_s)
        take_refined()
        assert sim.dt_s == dt and sim.state.time_s == refined_at[-1] + dt

    sim._refined_step = watched  # type: ignore[method-assign]
    sim.step(round(4 * 3600 / dt))
    assert refined_at[0] == 3600.0  # the step the event falls in
    assert np.all(np.diff(refined_at) == dt)  # then every step of the window
    assert refined_at[-1] + dt >= 3600.0 + engine.REFINE_WINDOW_S
    assert refined_at[-1] < 3600.0 + engine.REFINE_WINDOW_S + dt
    assert abs(sim.site_values()[COLUMN["energy_closure_error"]]) < 1e-9


@pytest.mark.parametrize(("ends_after_s", "ending_step_refined"), [(7200.0, False), (7250.0, True)])
def test_a_heatwaves_end_refines_the_window_after_it(ends_after_s, ending_step_refined):
    """The sink drops by the heatwave's offset when it ends, an upset as its start is:
    the window after the end is refined, and the step it falls inside (when it does)."""
    data = tomllib.loads(builtin_scenarios()["single-rack"].read_text())
    data["events"] = [
        {"at_s": 3600.0, "kind": "heatwave", "duration_s": ends_after_s, "offset_k": 8.0}
    ]
    dt = 300.0
    sim = Simulation(from_dict(data), dt_s=dt)
    refined_at = []
    take_refined = sim._refined_step

    def watched() -> None:
        refined_at.append(sim.state.time_s)
        take_refined()

    sim._refined_step = watched  # type: ignore[method-assign]
    sim.step(round(5 * 3600 / dt))
    end_s = 3600.0 + ends_after_s
    after_end = [t for t in refined_at if t > 3600.0 + engine.REFINE_WINDOW_S]
    first_after = math.floor(end_s / dt) * dt if ending_step_refined else end_s
    assert after_end[0] == first_after
    assert np.all(np.diff(after_end) == dt)
    assert after_end[-1] + dt >= end_s + engine.REFINE_WINDOW_S
    assert after_end[-1] < end_s + engine.REFINE_WINDOW_S + dt
    assert abs(sim.site_values()[COLUMN["energy_closure_error"]]) < 1e-9


def test_a_checkpoint_inside_a_coarse_step_is_stepped_as_its_own_piece():
    """seoul-ai-factory's training checkpoints for the last minute of each half hour: at
    dt = 300 s the step that holds one is taken as 240 s and 60 s, reported as one step
    whose rates are the pieces' means weighted by their lengths; other steps are whole."""
    sim = Simulation(load("seoul-ai-factory"), dt_s=300.0)
    sim.step(round(1800 / 300.0))  # past the start (the first half hour is refined)
    split_at, pieces = [], []
    take_watched, take_split = sim._watched_step, sim._sub_steps

    def watched() -> None:
        take_watched()
        pieces.append((sim.dt_s, sim.site_values().copy()))

    def split(lengths: list[float]) -> None:
        split_at.append((sim.state.time_s, list(lengths)))
        pieces.clear()
        take_split(lengths)

    sim._watched_step = watched  # type: ignore[method-assign]
    sim._sub_steps = split  # type: ignore[method-assign]
    for _ in range(12):  # an hour
        sim.step()
        if split_at and split_at[-1][0] == sim.state.time_s - 300.0:
            (h0, first), (h1, second) = pieces
            assert (h0, h1) == (240.0, 60.0)
            for name in ("it_power_kw", "cooling_power_kw", "facility_power_kw"):
                weighted = (240.0 * first[COLUMN[name]] + 60.0 * second[COLUMN[name]]) / 300.0
                assert sim.site_values()[COLUMN[name]] == pytest.approx(weighted, rel=1e-12)
            # the checkpoint's minute draws less than the rest of the step
            assert second[COLUMN["it_power_kw"]] < 0.9 * first[COLUMN["it_power_kw"]]
    starts = [t for t, _ in split_at]
    assert starts == [t for t in np.arange(1800.0, 5400.0, 300.0) if (t + 300.0) % 1800 == 0]
    assert all(lengths == [240.0, 60.0] for _, lengths in split_at)
    assert abs(sim.site_values()[COLUMN["energy_closure_error"]]) < 1e-9


def test_a_step_no_longer_than_the_sub_step_is_never_refined():
    data = tomllib.loads(builtin_scenarios()["single-rack"].read_text())
    data["events"] = [{"at_s": 60.0, "kind": "utility-outage", "duration_s": 600.0}]
    sim = Simulation(from_dict(data), dt_s=5.0)
    with mock.patch.object(sim, "_refined_step", side_effect=AssertionError("refined")):
        sim.step(round(1800 / 5.0))
    assert sim.site_values()[COLUMN["tripped_racks"]] == 1.0


@functools.cache
def _outage_on_a_short_ride_through(dt: float) -> tuple[float, float, float | None, float]:
    """single-rack with 20 s of UPS battery at rating (about 27 s at its load) and a
    utility outage at 600 s: the cooling stops and the UPS runs down before the rack can
    trip. Returns the outage's IT and unserved energy (J), when the hall went dark and
    the ledger's closure error."""
    data = tomllib.loads(builtin_scenarios()["single-rack"].read_text())
    data["power"]["ups"]["battery_ride_through_s"] = 20.0
    data["events"] = [{"at_s": 600.0, "kind": "utility-outage", "duration_s": 600.0}]
    sim = Simulation(from_dict(data), dt_s=dt)
    sim.step(round(600.0 / dt))
    it_j = unserved_j = 0.0
    dark_at = None
    for _ in range(round(600.0 / dt)):
        sim.step()
        values = sim.site_values()
        it_j += values[COLUMN["it_power_kw"]] * 1e3 * dt
        unserved_j += values[COLUMN["unserved_kw"]] * 1e3 * dt
        if dark_at is None and not sim.power_chain.hall_powered.all():
            dark_at = sim.state.time_s
        assert values[COLUMN["tripped_racks"]] == 0  # it lost power before it overheated
    return it_j, unserved_j, dark_at, float(sim.ledger()["closure_error"])


@pytest.mark.slow
@pytest.mark.parametrize("dt", [10.0, 60.0, 300.0])
def test_a_ups_drops_its_racks_inside_the_step_its_batteries_empty(dt):
    """The UPS's end of discharge is located inside the step: the rack runs, draws and
    computes until its batteries are empty, at any dt as at dt = 1 s, and nothing goes
    unserved. (A UPS that drops its racks at the end of a step, or a step early, gets
    the outage's IT energy wrong by up to a step of the rack's load: 27 s against 60 s.)"""
    fine = _outage_on_a_short_ride_through(1.0)
    coarse = _outage_on_a_short_ride_through(dt)
    for it_j, unserved_j, dark_at, closure in (fine, coarse):
        assert it_j > 0.0 and dark_at is not None
        assert unserved_j == pytest.approx(0.0, abs=1.0)
        assert abs(closure) < 1e-9
    assert 600.0 + 20.0 < fine[2] < 600.0 + 40.0  # about 27 s of battery at its load
    assert coarse[0] == pytest.approx(fine[0], rel=0.01)
