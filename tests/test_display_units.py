"""Display units: exact factors, temperatures against temperature differences, unknown
units left alone, and every unit the window and the kiosk show (the inspector, KPIs,
colour bar, alarm list, timeline and event editor) either converted or deliberately SI."""

from __future__ import annotations

from fractions import Fraction
from types import SimpleNamespace

import numpy as np
import pytest

from twin.alarms import AlarmKey, AlarmState, AlarmView, Priority, default_points
from twin.gui._qt.alarms import limit_text, value_text
from twin.gui._qt.kpi_strip import site_kpis
from twin.gui._vispy.colors import rack_color_fields
from twin.gui.event_form import event_fields, event_models
from twin.gui.objects import KINDS, Selection, describe
from twin.gui.units import (
    FOOT_M,
    KEPT_SI,
    PSI_KPA,
    US_CUSTOMARY_UNITS,
    US_GALLON_L,
    UnitSystem,
    conversion,
    difference_conversion,
    is_accounted_for,
)
from twin.scenario import builtin_scenarios, load
from twin.sim.robots import robot_units
from twin.sim.topology import build_topology

SI, US = UnitSystem.SI, UnitSystem.US_CUSTOMARY


def test_factors_are_nist_sp_811_appendix_b():
    assert Fraction("0.3048") == FOOT_M
    assert Fraction("3.785411784") == US_GALLON_L
    assert float(PSI_KPA) == pytest.approx(6.894757293168, abs=5e-13)
    assert round(PSI_KPA * 1000, 3) == Fraction("6894.757")  # Appendix B: 6.894 757 E+03 Pa
    assert conversion("m", US).to_display(0.3048) == 1.0
    assert conversion("L/min", US).to_display(3.785411784) == 1.0
    assert conversion("kPa", US).to_display(float(PSI_KPA)) == pytest.approx(1.0, rel=1e-15)
    assert conversion("kPa", US).to_display(100.0) == pytest.approx(14.503773773, rel=1e-10)
    assert conversion("L/min", US).to_display(1000.0) == pytest.approx(264.172052358, rel=1e-11)
    assert conversion("m", US).to_display(100.0) == pytest.approx(328.083989501, rel=1e-11)


@pytest.mark.parametrize(("celsius", "fahrenheit"), [
    (0.0, 32.0), (100.0, 212.0), (-40.0, -40.0), (35.0, 95.0), (37.0, 98.6), (15.0, 59.0)])
def test_temperatures_take_the_offset(celsius, fahrenheit):
    shown = conversion("°C", US)
    assert shown.unit == "°F"
    assert shown.to_display(celsius) == pytest.approx(fahrenheit, abs=1e-12)
    assert shown.to_si(fahrenheit) == pytest.approx(celsius, abs=1e-12)


def test_a_typed_value_comes_back_to_si_exactly():
    shown = conversion("°C", US)
    for celsius in np.arange(15.0, 50.5, 0.5):  # the CDU supply setpoint's range and step
        typed = round(shown.to_display(celsius), 1)  # as the spin box shows it
        assert shown.typed_to_si(typed, 1) == celsius
    assert shown.typed_to_si(64.4, 1) == 18.0  # where (64.4 - 32) × 5 / 9 is not
    assert shown.to_si(64.4) != 18.0
    flow = conversion("L/min", US)
    assert flow.typed_to_si(100.0, 1) == float(Fraction("378.5411784"))
    assert conversion("kPa", US).typed_to_si(15.0, 1) == float(15 * PSI_KPA)
    assert conversion("%", US).typed_to_si(72.5, 0) == 72.5  # kept SI: untouched


@pytest.mark.parametrize("si_unit", ["K", "Δ°C"])
def test_temperature_differences_never_take_the_offset(si_unit):
    shown = conversion(si_unit, US)
    assert shown.unit == "Δ°F"
    assert shown.to_display(0.0) == 0.0
    assert shown.to_display(10.0) == 18.0
    assert shown.to_display(-5.0) == -9.0
    assert shown.to_si(18.0) == 10.0
    # a step of an absolute temperature is a difference too
    assert conversion("°C", US).difference_to_display(0.5) == 0.9


def test_a_difference_of_temperatures_is_shown_without_the_offset():
    apart = difference_conversion("°C", US)
    assert (apart.unit, apart.to_display(10.0), apart.to_display(0.0)) == ("Δ°F", 18.0, 0.0)
    assert difference_conversion("°C", SI).unit == "°C"  # as SI shows it today
    assert difference_conversion("kPa", US) == conversion("kPa", US)  # no offset to drop
    assert difference_conversion("kW", US).is_identity


@pytest.mark.parametrize("si_unit", sorted(US_CUSTOMARY_UNITS))
def test_round_trips(si_unit):
    values = np.random.default_rng(7).uniform(-1e4, 1e4, 1000)
    shown = conversion(si_unit, US)
    np.testing.assert_allclose(shown.to_si(shown.to_display(values)), values,
                               rtol=1e-14, atol=1e-11)
    assert shown.unit != si_unit


def test_unknown_units_pass_through_unchanged():
    for unknown in ("furlong", "BTU/h", "m³", "kg", "°R"):
        shown = conversion(unknown, US)
        assert shown.is_identity and shown.unit == unknown
        assert shown.to_display(12.5) == 12.5 and shown.to_si(12.5) == 12.5
        assert not is_accounted_for(unknown)


def test_si_shows_everything_as_simulated():
    for si_unit in (*US_CUSTOMARY_UNITS, *KEPT_SI):
        shown = conversion(si_unit, SI)
        assert shown.is_identity and shown.unit == si_unit
        assert shown.to_display(41.7) == 41.7


def test_kept_units_stay_si_in_us_customary():
    assert not set(KEPT_SI) & set(US_CUSTOMARY_UNITS)
    for si_unit in KEPT_SI:
        assert conversion(si_unit, US).is_identity


def test_coarser_units_show_more_decimals():
    assert conversion("kPa", US).decimals(0) == 1  # psi: 6.9 kPa
    assert conversion("L/min", US).decimals(0) == 1  # gpm: 3.8 L/min
    assert conversion("m", US).decimals(1) == 1  # ft is finer than m
    assert conversion("°C", US).decimals(1) == 1  # so is °F
    assert conversion("kW", US).decimals(2) == 2


def _selections(scenario, topology):
    counts = {"rack": topology.rack_count, "cdu": topology.cdu_count,
              "hall": len(topology.hall_names), "workcell": len(scenario.workcells),
              "robot": len(robot_units(scenario)),
              "service-robot": len(robot_units(scenario, service=True))}
    for kind in KINDS:
        for index in range(counts.get(kind, 1)):
            yield Selection(kind, index)


def _shown_units(scenario) -> set[str]:
    topology = build_topology(scenario)
    units: set[str] = set()
    for selection in _selections(scenario, topology):
        view = describe(selection, scenario, topology)
        units.update(reading.unit for reading in view.readings if reading.label_of is None)
        units.update(parameter.unit for parameter in view.parameters)
    units.update(kpi.si_unit for kpi in site_kpis(scenario))  # the kiosk's KPIs among them
    units.update(field.unit for field in rack_color_fields(scenario) if not field.categories)
    return units


def _alarm_units(scenario) -> set[str]:
    """The units of the alarm list's values and limits."""
    return {point.unit for point in default_points(scenario, build_topology(scenario))}


def _event_units(scenario) -> set[str]:
    """The units of the event editor's numbers and of the timeline's details (durations
    are written with their own unit, ``15min``)."""
    return {spec.unit for kind in event_models() for spec in event_fields(kind, scenario)
            if spec.widget in ("number", "integer")}


@pytest.mark.parametrize("name", sorted(builtin_scenarios()))
def test_every_unit_the_window_shows_is_converted_or_deliberately_si(name):
    scenario = load(name)
    units = _shown_units(scenario)
    alarms, events = _alarm_units(scenario), _event_units(scenario)
    unaccounted = sorted(unit for unit in units | alarms | events if not is_accounted_for(unit))
    assert not unaccounted, f"add {unaccounted} to US_CUSTOMARY_UNITS or KEPT_SI"
    assert {"°C", "L/min", "kPa"} <= units  # the conversions the US teams read
    assert {"°C", "K", "L/min", "kPa"} <= alarms
    assert {"K", "L/min"} <= events  # a heatwave's offset, a leak's rate


def _alarm(unit: str, value: float, limit: float | None, condition: str = "H") -> AlarmView:
    return AlarmView(AlarmKey("point", condition, 0), "a point", "C-1", Priority.LOW,
                     AlarmState.UNACKNOWLEDGED, True, value, limit, unit, None, 0.0, 0.0, "",
                     None)


@pytest.mark.parametrize(("unit", "value", "limit", "si", "us"), [
    ("°C", 95.0, 87.0, ("95.0 °C", "H 87.0 °C"), ("203.0 °F", "H 188.6 °F")),
    ("K", 3.0, 2.0, ("3.0 K", "H 2.0 K"), ("5.4 Δ°F", "H 3.6 Δ°F")),  # no offset
    ("L/min", 90.0, 144.0, ("90.0 L/min", "H 144.0 L/min"),
     (f"{90 / float(US_GALLON_L):.2f} gpm", f"H {144 / float(US_GALLON_L):.2f} gpm")),
    ("kPa", 44.0, 77.0, ("44.0 kPa", "H 77.0 kPa"),
     (f"{44 / float(PSI_KPA):.2f} psi", f"H {77 / float(PSI_KPA):.2f} psi")),
    ("% of cap", 103.5, 100.0, ("103.5 % of cap", "H 100.0 % of cap"),
     ("103.5 % of cap", "H 100.0 % of cap")),
])
def test_alarm_values_and_limits_are_shown_in_the_display_units(unit, value, limit, si, us):
    alarm = _alarm(unit, value, limit)
    assert (value_text(alarm), limit_text(alarm)) == si
    assert (value_text(alarm, US), limit_text(alarm, US)) == us
    assert us[0] != si[0] or unit == "% of cap"
    state = _alarm("", 1.0, None, "ON")
    assert (value_text(state, US), limit_text(state, US)) == ("on", "state")


def test_an_object_view_reads_and_applies_through_its_units():
    scenario = load("single-rack")
    topology = build_topology(scenario)
    view = describe(Selection("cdu", 0), scenario, topology)
    assert view.in_units(SI).readings == view.readings  # SI: the very same readings
    us = view.in_units(US)
    snapshot = SimpleNamespace(cdus=SimpleNamespace(
        supply_c=np.array([35.0]), flow_lpm=np.array([2500.0]), dp_kpa=np.array([110.0]),
        supply_setpoint_c=np.array([30.0]), pump_speed=np.array([0.7])))
    readings = {r.label: r for r in us.readings}
    assert readings["Supply"].unit == "°F" and readings["Supply"].read(snapshot) == 95.0
    assert readings["Flow"].unit == "gpm"
    assert readings["Flow"].read(snapshot) == pytest.approx(2500.0 / 3.785411784, rel=1e-15)
    assert readings["Branch dp"].text(snapshot) == "16.0 psi"  # 110 kPa, one more decimal
    assert readings["Pump speed"] is {r.label: r for r in view.readings}["Pump speed"]
    setpoint = {p.label: p for p in us.parameters}["Supply setpoint"]
    assert (setpoint.unit, setpoint.low, setpoint.high, setpoint.step) == ("°F", 59.0, 122.0,
                                                                           0.9)
    assert setpoint.read(snapshot) == 86.0
    sent = []
    setpoint.apply(95.0)(SimpleNamespace(set_cdu_supply_setpoint=lambda i, c: sent.append(c)))
    assert sent == [35.0]


def test_colour_fields_keep_their_colours_in_other_units():
    scenario = load("seoul-ai-factory")
    n = 50
    racks = SimpleNamespace(gpu_temp_c=np.linspace(20.0, 100.0, n),
                            outlet_temp_c=np.linspace(20.0, 70.0, n),
                            power_kw=np.linspace(0.0, 150.0, n), utilization=np.linspace(0, 1, n),
                            tripped=np.zeros(n, bool), throttled=np.zeros(n, bool))
    for field in rack_color_fields(scenario):
        shown = field.in_units(US)
        np.testing.assert_allclose(shown.colorize(racks), field.colorize(racks), atol=1e-6)
        if field.unit == "°C":
            assert shown.unit == "°F"
            assert shown.low == field.low * 9 / 5 + 32 and shown.high == field.high * 9 / 5 + 32
            assert [label for _, label in shown.marks] == [label for _, label in field.marks]
            assert shown.marks[0][0] == pytest.approx(field.marks[0][0] * 9 / 5 + 32)
        else:
            assert shown is field


def test_the_hottest_gpu_kpi_is_shown_in_the_display_units():
    scenario = load("single-rack")
    snapshot = SimpleNamespace(site={"gpu_temp_max_c": 85.0})
    si = {kpi.key: kpi for kpi in site_kpis(scenario)}["gpu"]
    us = {kpi.key: kpi for kpi in site_kpis(scenario, US)}["gpu"]
    assert si.read(snapshot)[0] == "85.0 °C"
    assert us.read(snapshot) == ("185.0 °F", si.read(snapshot)[1])  # the level stays
    assert "°F" in us.tooltip and "°C" in si.tooltip
