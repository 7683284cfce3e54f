"""The cooling plant's machines against published figures: chiller COP on the ASHRAE 90.1
curves (rating point, IPLV, bounds), the waterside economizer, the facility pumps."""

from __future__ import annotations

import tomllib

import numpy as np
import pytest

from twin.scenario import ScenarioError, builtin_scenarios, load
from twin.scenario.loader import from_dict
from twin.scenario.schema import ChillerCurves, Chillers, FacilityWater
from twin.sim.engine import Simulation
from twin.sim.plant import ChillerPlant, economizer_share, facility_pump_power_w

W_PER_TON = 3516.85  # refrigeration ton
EER_PER_COP = 3.412  # Btu/h per W


def plant(**fields) -> ChillerPlant:
    return ChillerPlant(Chillers(count=4, capacity_kw=5000.0, **fields))


def iplv_eer(p: ChillerPlant) -> float:
    """AHRI 550/590 IPLV: 100/75/50/25 % of rated capacity at 35/26.7/18.3/12.8 C air
    (95/80/65/55 F), 6.7 C leaving water, weighted 1/42/45/12 %."""
    rated_w = p.unit_capacity_w
    points = ((1.0, 35.0, 0.01), (0.75, 26.67, 0.42), (0.5, 18.33, 0.45), (0.25, 12.78, 0.12))
    return EER_PER_COP * sum(
        weight * p.duty(share * rated_w, 6.67, air_c).cop for share, air_c, weight in points
    )


def test_rating_point_gives_the_reference_cop():
    p = plant()
    assert p.full_load_cop(44 / 1.8 - 160 / 9, 35.0) == pytest.approx(2.96, rel=2e-3)  # 44 F
    assert p.capacity_fraction(6.67, 35.0) == pytest.approx(1.0, abs=1e-3)
    assert plant(reference_cop=3.3).full_load_cop(6.67, 35.0) == pytest.approx(3.3, rel=2e-3)


@pytest.mark.parametrize(
    ("full_load_eer", "iplv_required_eer"),
    [
        (10.1, 14.0),  # ASHRAE 90.1-2019 Table 6.8.1-3, air-cooled >= 150 tons, path A
        (9.562, 12.75),  # ASHRAE 90.1-2010 Table 6.8.1C, air-cooled >= 150 tons, path A
    ],
)
def test_part_load_follows_the_standard_iplv(full_load_eer, iplv_required_eer):
    """The curves were fit to chillers that just meet the standard: a chiller rated at the
    full-load minimum reaches about the IPLV minimum."""
    assert 5000.0 * 1e3 / W_PER_TON > 150
    p = plant(reference_cop=full_load_eer / EER_PER_COP)
    assert iplv_eer(p) == pytest.approx(iplv_required_eer, rel=0.05)


def test_part_load_and_cycling():
    p = plant()
    # EIRFPLR: 0.141 + 0.655 PLR + 0.203 PLR^2: 0.51925 at half load, 0.999 at full
    assert p.cop(0.5, 6.67, 35.0) / p.cop(1.0, 6.67, 35.0) == pytest.approx(
        0.5 * 0.999 / 0.51925, rel=1e-9
    )
    # below the minimum part load the compressor cycles: the COP at the minimum
    assert p.cop(0.05, 6.67, 35.0) == pytest.approx(p.cop(0.2, 6.67, 35.0), rel=1e-12)
    # staging: the fewest units that carry the duty, all at the same part load
    unit_w = p.unit_capacity_at(10.0, 30.0)
    duty = p.duty(2.5 * unit_w, 10.0, 30.0)
    assert duty.units_running == 3
    assert duty.cop == pytest.approx(p.cop(2.5 / 3, 10.0, 30.0), rel=1e-12)
    assert np.isnan(p.duty(0.0, 10.0, 30.0).cop) and p.duty(0.0, 10.0, 30.0).power_w == 0.0


def test_cop_is_bounded_by_published_performance_in_any_weather():
    """Winter, warm chilled water, any part load: the clamped curves never give more than
    an air-cooled chiller does (a fraction of Carnot would pass 30 in winter)."""
    p = plant()
    cops = [
        p.cop(plr, leaving, air)
        for plr in np.linspace(0.05, 1.0, 20)
        for leaving in (5.0, 10.0, 18.0, 30.0)
        for air in np.linspace(-30.0, 50.0, 17)
    ]
    assert min(cops) > 1.0 and max(cops) < 5.5
    winter = p.full_load_cop(18.0, -10.0)
    assert winter == pytest.approx(p.full_load_cop(10.0, 12.7), rel=1e-12)  # clamped
    assert winter < 8.0
    # warmer air costs efficiency, colder water too
    assert p.full_load_cop(7.0, 40.0) < p.full_load_cop(7.0, 30.0)
    assert p.full_load_cop(5.0, 30.0) < p.full_load_cop(10.0, 30.0)


def test_a_curve_set_beyond_published_performance_is_capped():
    flat = ChillerCurves(eirft=[1.0, 0.0, 0.0, 0.0, 0.0, 0.0])
    assert plant(reference_cop=12.0, curves=flat).full_load_cop(7.0, 30.0) == 8.0
    assert plant(reference_cop=12.0, curves=flat, max_cop=10.0).full_load_cop(7.0, 30.0) == 10.0


@pytest.mark.parametrize(
    ("curves", "field", "fragment"),
    [
        ({"capft": [2.0, 0, 0, 0, 0, 0]}, "capft", "rating point"),
        ({"eirfplr": [0.5, 0.2, 0.0]}, "eirfplr", "full load"),
        ({"ambient_range_c": [40.0, 12.0]}, "ambient_range_c", "low to high"),
        (
            {"eirft": [1.0, 0, 0, 0, 0, 0.0], "leaving_water_range_c": [5.0]},
            "leaving_water_range_c",
            "exactly 2 items",
        ),
    ],
)
def test_bad_curves_are_reported_at_their_key(curves, field, fragment):
    with builtin_scenarios()["seoul-ai-factory"].open("rb") as f:
        data = tomllib.load(f)
    data["heat_rejection"]["chillers"]["curves"] = curves
    with pytest.raises(ScenarioError) as info:
        from_dict(data, source="bad.toml")
    messages = {p.path: p.message for p in info.value.problems}
    assert fragment in messages[f"heat_rejection.chillers.curves.{field}"]


def test_economizer_share_follows_the_outdoor_air():
    spec = Chillers(count=1, capacity_kw=100.0)  # 18 C supply, 6.7 K, 12 K approach
    assert economizer_share(spec, -5.0) == 1.0
    assert economizer_share(spec, 18.0 + 6.7 - 12.0) == 0.0
    assert economizer_share(spec, 30.0) == 0.0
    assert economizer_share(spec, 18.0 + 6.7 - 12.0 - 3.35) == pytest.approx(0.5)
    assert economizer_share(spec.model_copy(update={"economizer": False}), -5.0) == 0.0


def _month(name: str, month: int, **chillers):
    s = load(name)
    info = s.scenario.model_copy(update={"start": s.scenario.start.replace(month=month, day=15)})
    hr = s.heat_rejection
    rejection = hr.model_copy(update={"chillers": hr.chillers.model_copy(update=chillers)})
    return s.model_copy(update={"scenario": info, "events": [], "heat_rejection": rejection})


@pytest.mark.parametrize("economizer", [True, False])
def test_winter_chilled_water_is_free_cooled_and_the_ledger_closes(economizer):
    sim = Simulation(_month("seoul-ai-factory", 1, economizer=economizer), dt_s=10.0)
    sim.step(360)
    snap = sim.snapshot(robots=False)
    assert snap.site["ambient_c"] < 0.0
    if economizer:
        assert snap.plant.chiller_duty_kw == 0.0 and snap.plant.chillers_running == 0
        assert np.isnan(snap.plant.chiller_cop)
    else:
        assert snap.plant.chiller_duty_kw > 1000.0 and snap.plant.chillers_running >= 1
        assert 3.0 < snap.plant.chiller_cop < 5.5
    assert snap.plant.hall_air_c.max() < 30.0  # the CRAHs still hold the halls
    assert abs(sim.ledger()["closure_error"]) < 1e-6


def test_summer_chillers_run_at_a_published_cop():
    sim = Simulation(_month("seoul-ai-factory", 8), dt_s=10.0)
    sim.step(360)
    snap = sim.snapshot(robots=False)
    assert snap.site["ambient_c"] > 20.0
    assert snap.plant.chillers_running >= 1
    expected = ChillerPlant(sim.scenario.heat_rejection.chillers)
    assert 2.5 < snap.plant.chiller_cop < expected.full_load_cop(10.0, 12.7)
    assert abs(sim.ledger()["closure_error"]) < 1e-6


def test_facility_pumps_hold_their_static_head_and_minimum_flow():
    fw = FacilityWater(
        supply_setpoint_c=30.0,
        volume_m3=400.0,
        pump_design_flow_lps=1150.0,
        pump_design_head_kpa=250.0,
        pump_efficiency=0.75,
    )
    design_w = 1.150 * 250e3 / 0.75
    assert facility_pump_power_w(fw, 1.0) == pytest.approx(design_w, rel=1e-12)
    half = facility_pump_power_w(fw, 0.5) / design_w
    assert half == pytest.approx(0.5 * (0.3 + 0.7 * 0.25), rel=1e-12)
    assert 0.125 < half <= 0.30  # above the cube law; ASHRAE 90.1-2019 6.5.4.2: <= 30 %
    # below the drives' minimum the pumps run at it, a bypass taking the rest
    at_min = facility_pump_power_w(fw, 0.3)
    assert facility_pump_power_w(fw, 0.05) == at_min > 0.0
    assert facility_pump_power_w(fw, 0.0) == 0.0  # stopped
    cube = fw.model_copy(update={"pump_static_head_fraction": 0.0, "pump_min_flow_fraction": 0.0})
    assert facility_pump_power_w(cube, 0.5) == pytest.approx(design_w / 8, rel=1e-12)
    flows = np.linspace(0.3, 1.2, 19)
    assert np.all(np.diff([facility_pump_power_w(fw, q) for q in flows]) > 0)
