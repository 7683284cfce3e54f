"""Display units: exact factors, temperatures against temperature differences, unknown
units left alone, and every unit the window and the kiosk show (the inspector and its
alarm lines, KPIs, colour bar, alarm list, timeline, event editor and fault menu) either
converted or deliberately SI."""

from __future__ import annotations

import re
from dataclasses import replace
from fractions import Fraction
from types import SimpleNamespace

import numpy as np
import pytest

from twin.alarms import AlarmKey, AlarmState, AlarmView, Priority, default_points
from twin.gui._qt.alarms import limit_text, value_text
from twin.gui.colors import rack_color_fields
from twin.gui.event_form import (
    check_event,
    event_fields,
    event_models,
    shown_problems,
    typed_value,
)
from twin.gui.faults import faults_for
from twin.gui.kpis import site_kpis
from twin.gui.objects import KINDS, Phrase, Selection, describe
from twin.gui.units import (
    FOOT_M,
    KEPT_SI,
    PSI_KPA,
    US_CUSTOMARY_UNITS,
    US_GALLON_L,
    Quantity,
    UnitSystem,
    conversion,
    difference_conversion,
    is_accounted_for,
)
from twin.scenario import builtin_scenarios, load
from twin.sim.engine import Simulation
from twin.sim.power import GENERATOR_FAILED
from twin.sim.robotics.cells import StopCause
from twin.sim.robotics.workcells import robot_units
from twin.sim.topology import build_topology

SI, US = UnitSystem.SI, UnitSystem.US_CUSTOMARY

SI_NUMBER = re.compile(
    r"\d\s?(?:{})(?![\w/])".format(
        "|".join(re.escape(unit) for unit in sorted(US_CUSTOMARY_UNITS, key=len, reverse=True))
    )
)
"""A number written with an SI unit that US customary shows otherwise: ``87 °C``, ``2 K``."""


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


@pytest.mark.parametrize(
    ("celsius", "fahrenheit"),
    [(0.0, 32.0), (100.0, 212.0), (-40.0, -40.0), (35.0, 95.0), (37.0, 98.6), (15.0, 59.0)],
)
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
    np.testing.assert_allclose(
        shown.to_si(shown.to_display(values)), values, rtol=1e-14, atol=1e-11
    )
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
    counts = {
        "rack": topology.rack_count,
        "cdu": topology.cdu_count,
        "hall": len(topology.hall_names),
        "workcell": len(scenario.workcells),
        "robot": len(robot_units(scenario)),
        "service-robot": len(robot_units(scenario, service=True)),
    }
    for kind in KINDS:
        for index in range(counts.get(kind, 1)):
            yield Selection(kind, index)


def _snapshots_in_alarm(scenario):
    """A real snapshot of the site, and copies of it in which each alarm line of the
    inspector shows for every object of its kind: racks tripped, throttling or near their
    limit, with little flow; CDUs without pumps, above their setpoints; halls overloaded or
    without power; the utility lost, generators failed, the battery and robots run down."""
    simulation = Simulation(scenario)
    simulation.step(1)
    snapshot = simulation.snapshot()
    racks, cdus, power, robots = (snapshot.racks, snapshot.cdus, snapshot.power, snapshot.robots)
    site = {**snapshot.site, "bess_soc": 0.0, "grid_import_kw": 2 * power.grid_import_cap_kw}
    cdus = replace(cdus, supply_c=cdus.supply_setpoint_c + 10.0)
    power = replace(
        power,
        utility_available=False,
        generator_state=np.full_like(power.generator_state, GENERATOR_FAILED),
        hall_load_shed=np.ones_like(power.hall_load_shed),
    )
    robots = robots and replace(
        robots,
        arm_stop_cause=np.full_like(robots.arm_stop_cause, StopCause.EMERGENCY_STOP),
        arm_soc=np.zeros_like(robots.arm_soc),
        service_soc=np.zeros_like(robots.service_soc),
        cell_emergency_stop=np.ones_like(robots.cell_emergency_stop),
    )
    yield snapshot
    for tripped, throttled, loading in ((True, True, 1.2), (False, True, 0.9), (False, False, 0.5)):
        yield replace(
            snapshot,
            site=site,
            robots=robots,
            racks=replace(
                racks,
                tripped=np.full_like(racks.tripped, tripped),
                throttled=np.full_like(racks.throttled, throttled),
                gpu_temp_c=np.full_like(racks.gpu_temp_c, 1000.0),
                flow_lpm=np.zeros_like(racks.flow_lpm),
            ),
            cdus=replace(cdus, pumps_running=cdus.pumps_running * (loading < 1)),
            power=replace(
                power,
                main_transformer_loading=loading,
                hall_transformer_loading=np.full_like(power.hall_transformer_loading, loading),
                hall_powered=np.full_like(power.hall_powered, loading < 1),
            ),
        )


def _alarm_lines(scenario, system: UnitSystem) -> tuple[set[str], list[str]]:
    """The SI units the inspector's alarm lines name limits in, and every alarm line of
    the first and the last object of each kind, as shown in ``system``."""
    topology = build_topology(scenario)
    snapshots = list(_snapshots_in_alarm(scenario))
    units: set[str] = set()
    texts: list[str] = []
    for selection in _ends(scenario, topology):
        view = describe(selection, scenario, topology)
        shown = view.in_units(system)
        for snapshot in snapshots:
            units.update(
                quantity.si_unit
                for line in view.alarm_lines(snapshot)
                if isinstance(line, Phrase)
                for quantity in line.quantities
            )
            texts += shown.alarms(snapshot)
    return units, texts


def _ends(scenario, topology) -> set[Selection]:
    """The first and the last object of each kind."""
    last = {selection.kind: selection for selection in _selections(scenario, topology)}
    return {*(Selection(kind, 0) for kind in last), *last.values()}


def _shown_units(scenario) -> set[str]:
    topology = build_topology(scenario)
    units: set[str] = set()
    for selection in _selections(scenario, topology):
        view = describe(selection, scenario, topology)
        units.update(reading.unit for reading in view.readings if reading.label_of is None)
        units.update(parameter.unit for parameter in view.parameters)
    units.update(kpi.si_unit for kpi in site_kpis(scenario, default_points(scenario, topology)))
    units.update(field.unit for field in rack_color_fields(scenario) if not field.categories)
    return units


def _alarm_units(scenario) -> set[str]:
    """The units of the alarm list's values and limits."""
    return {point.unit for point in default_points(scenario, build_topology(scenario))}


def _event_units(scenario) -> set[str]:
    """The units of the event editor's numbers and of the timeline's details (durations
    are written with their own unit, ``15min``)."""
    return {
        spec.unit
        for kind in event_models()
        for spec in event_fields(kind, scenario)
        if spec.widget in ("number", "integer")
    }


@pytest.mark.parametrize("name", sorted(builtin_scenarios()))
def test_every_unit_the_window_shows_is_converted_or_deliberately_si(name):
    scenario = load(name)
    units = _shown_units(scenario)
    alarms, events = _alarm_units(scenario), _event_units(scenario)
    lines, _ = _alarm_lines(scenario, SI)
    unaccounted = sorted(
        unit for unit in units | alarms | events | lines if not is_accounted_for(unit)
    )
    assert not unaccounted, f"add {unaccounted} to US_CUSTOMARY_UNITS or KEPT_SI"
    assert {"°C", "L/min", "kPa"} <= units  # the conversions the US teams read
    assert {"°C", "K", "L/min", "kPa"} <= alarms
    assert {"K", "L/min"} <= events  # a heatwave's offset, a leak's rate
    assert {"°C", "K", "L/min"} <= lines  # a GPU's limits, the margin to them, design flow


def _fault_labels(scenario, system: UnitSystem) -> list[str]:
    """The fault menu of the first and the last object of each kind, as labelled in
    ``system``."""
    topology = build_topology(scenario)
    return [
        fault.label
        for selection in _ends(scenario, topology)
        for fault in faults_for(selection, scenario, topology, system)
    ]


def _event_problems(scenario, system: UnitSystem) -> list[str]:
    """What the event editor says, in ``system``, about each number of each kind of event
    left out, typed as zero, as no number, or far outside its range either way."""
    messages = []
    for kind in event_models():
        specs = [spec.in_units(system) for spec in event_fields(kind, scenario)]
        valid = {
            spec.name: _valid_entry(spec)
            for spec in specs
            if spec.required or spec.widget == "number"
        }
        if check_event(scenario, kind, valid, 0.0)[1]:
            continue  # an event the site cannot take (the failure of its only transformer)
        for spec in specs:
            if spec.widget not in ("number", "integer"):
                continue
            for typed in (None, "0", "abc", "-1e6", "1e6"):
                values = {k: v for k, v in valid.items() if k != spec.name}
                if typed is not None:
                    values[spec.name] = typed_value(spec, typed)
                _, problems = check_event(scenario, kind, values, 0.0)
                messages += [p.message for p in shown_problems(problems, specs, values)]
    return messages


def _valid_entry(spec) -> object:
    """An entry the event editor accepts for a required field or a number (the time: an
    hour in)."""
    if spec.widget == "duration":
        return 3600.0
    if spec.widget in ("name", "choice"):
        return spec.choices[0] if spec.choices else ""  # none: a site without workcells
    if spec.widget == "names":
        return list(spec.choices[:1])
    if spec.widget == "flag":
        return False
    return typed_value(spec, "1")  # a count, a fraction, an offset, a power


@pytest.mark.parametrize("name", sorted(builtin_scenarios()))
def test_no_alarm_line_fault_or_event_problem_names_an_si_unit_in_us_customary(name):
    scenario = load(name)
    _, si_lines = _alarm_lines(scenario, SI)
    _, lines = _alarm_lines(scenario, US)
    faults, problems = _fault_labels(scenario, US), _event_problems(scenario, US)
    assert [text for text in (*lines, *faults, *problems) if SI_NUMBER.search(text)] == []
    # what is checked names numbers in units: in SI, and in US customary units there
    assert any(SI_NUMBER.search(text) for text in si_lines)
    assert len(lines) == len(si_lines) and any("°F" in text for text in lines)
    assert any("gpm" in text for text in faults)
    assert any("gpm" in text for text in problems)
    assert any("Δ°F" in text for text in problems)  # a heatwave's offset


def test_alarm_lines_and_fault_labels_name_their_numbers_in_the_display_units():
    scenario = load("single-rack")
    topology = build_topology(scenario)
    rack = describe(Selection("rack", 0), scenario, topology)

    def racks(tripped=False, throttled=False, gpu_c=60.0, flow_lpm=180.0):
        return SimpleNamespace(
            racks=SimpleNamespace(
                tripped=np.array([tripped]),
                throttled=np.array([throttled]),
                gpu_temp_c=np.array([gpu_c]),
                flow_lpm=np.array([flow_lpm]),
            )
        )

    throttling = racks(throttled=True, gpu_c=88.0, flow_lpm=60.0)
    assert (
        rack.alarms(throttling)
        == rack.in_units(SI).alarms(throttling)
        == ["GPUs throttling above 87 °C", "coolant flow below half of design (180 L/min)"]
    )
    us = rack.in_units(US)
    assert us.alarms(throttling) == [
        "GPUs throttling above 188.6 °F",
        f"coolant flow below half of design ({180 / float(US_GALLON_L):.2f} gpm)",
    ]
    assert us.alarms(racks(tripped=True)) == ["TRIPPED: GPUs reached 206.6 °F"]  # 97 °C
    # a margin is a temperature difference: 5 K is 9 Δ°F, not 41 °F
    assert us.alarms(racks(gpu_c=84.0)) == ["GPU temperature within 9 Δ°F of the throttle limit"]
    assert rack.alarms(racks(gpu_c=84.0)) == ["GPU temperature within 5 K of the throttle limit"]
    assert us.alarms(racks()) == []
    cdu = describe(Selection("cdu", 0), scenario, topology)
    behind = SimpleNamespace(
        cdus=SimpleNamespace(
            pumps_running=np.array([1]),
            supply_c=np.array([40.0]),
            supply_setpoint_c=np.array([35.0]),
        )
    )
    assert cdu.alarms(behind) == ["supply more than 2 K above its setpoint"]
    assert cdu.in_units(US).alarms(behind) == ["supply more than 3.6 Δ°F above its setpoint"]

    si = faults_for(Selection("cdu", 0), scenario, topology)
    shown = faults_for(Selection("cdu", 0), scenario, topology, US)
    changed = {a.label: b.label for a, b in zip(si, shown, strict=True) if a.label != b.label}
    assert changed == {"Coolant leak (10 L/min)": "Coolant leak (2.642 gpm)"}
    leaks = [fault.make(60.0) for fault in (si[6], shown[6])]
    assert leaks[0] == leaks[1] and leaks[1].rate_lpm == 10.0  # the event stays SI


def test_a_quantity_is_written_in_the_display_units():
    assert Quantity(87.0, "°C").text(SI) == "87 °C"
    assert Quantity(87.0, "°C").text(US) == "188.6 °F"
    assert Quantity(10.0, "L/min").text(US) == "2.642 gpm"  # as the timeline writes it
    assert Quantity(2.0, "K").text(US) == "3.6 Δ°F"
    assert Quantity(110.0, "kPa").text(US) == "15.95 psi"
    assert Quantity(30.0, "%").text(US) == "30 %"  # kept SI: as it is
    assert Quantity(3, "").text(US) == "3"


def _alarm(unit: str, value: float, limit: float | None, condition: str = "H") -> AlarmView:
    return AlarmView(
        AlarmKey("point", condition, 0),
        "a point",
        "C-1",
        Priority.LOW,
        AlarmState.UNACKNOWLEDGED,
        True,
        value,
        limit,
        unit,
        None,
        0.0,
        0.0,
        "",
        None,
    )


@pytest.mark.parametrize(
    ("unit", "value", "limit", "si", "us"),
    [
        ("°C", 95.0, 87.0, ("95.0 °C", "H 87.0 °C"), ("203.0 °F", "H 188.6 °F")),
        ("K", 3.0, 2.0, ("3.0 K", "H 2.0 K"), ("5.4 Δ°F", "H 3.6 Δ°F")),  # no offset
        (
            "L/min",
            90.0,
            144.0,
            ("90.0 L/min", "H 144.0 L/min"),
            (f"{90 / float(US_GALLON_L):.2f} gpm", f"H {144 / float(US_GALLON_L):.2f} gpm"),
        ),
        (
            "kPa",
            44.0,
            77.0,
            ("44.0 kPa", "H 77.0 kPa"),
            (f"{44 / float(PSI_KPA):.2f} psi", f"H {77 / float(PSI_KPA):.2f} psi"),
        ),
        (
            "% of cap",
            103.5,
            100.0,
            ("103.5 % of cap", "H 100.0 % of cap"),
            ("103.5 % of cap", "H 100.0 % of cap"),
        ),
    ],
)
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
    snapshot = SimpleNamespace(
        cdus=SimpleNamespace(
            supply_c=np.array([35.0]),
            flow_lpm=np.array([2500.0]),
            dp_kpa=np.array([110.0]),
            supply_setpoint_c=np.array([30.0]),
            pump_speed=np.array([0.7]),
        )
    )
    readings = {r.label: r for r in us.readings}
    assert readings["Supply"].unit == "°F" and readings["Supply"].read(snapshot) == 95.0
    assert readings["Flow"].unit == "gpm"
    assert readings["Flow"].read(snapshot) == pytest.approx(2500.0 / 3.785411784, rel=1e-15)
    assert readings["Branch dp"].text(snapshot) == "16.0 psi"  # 110 kPa, one more decimal
    assert readings["Pump speed"] is {r.label: r for r in view.readings}["Pump speed"]
    setpoint = {p.label: p for p in us.parameters}["Supply setpoint"]
    assert (setpoint.unit, setpoint.low, setpoint.high, setpoint.step) == ("°F", 59.0, 122.0, 0.9)
    assert setpoint.read(snapshot) == 86.0
    sent = []
    setpoint.apply(95.0)(SimpleNamespace(set_cdu_supply_setpoint=lambda i, c: sent.append(c)))
    assert sent == [35.0]


def test_colour_fields_keep_their_colours_in_other_units():
    scenario = load("seoul-ai-factory")
    n = 50
    racks = SimpleNamespace(
        gpu_temp_c=np.linspace(20.0, 100.0, n),
        outlet_temp_c=np.linspace(20.0, 70.0, n),
        power_kw=np.linspace(0.0, 150.0, n),
        utilization=np.linspace(0, 1, n),
        tripped=np.zeros(n, bool),
        throttled=np.zeros(n, bool),
    )
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
    points = default_points(scenario, build_topology(scenario))
    si = {kpi.key: kpi for kpi in site_kpis(scenario, points)}["gpu"]
    us = {kpi.key: kpi for kpi in site_kpis(scenario, points, US)}["gpu"]
    assert si.read(snapshot)[0] == "85.0 °C"
    assert us.read(snapshot) == ("185.0 °F", si.read(snapshot)[1])  # the level stays
    assert "°F" in us.tooltip and "°C" in si.tooltip
