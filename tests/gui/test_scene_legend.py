"""The legend names every colour of the 3D view that carries a meaning, and draws it."""

from __future__ import annotations

import numpy as np
import pytest

from twin.gui import colors
from twin.gui._qt.legend import swatch_color
from twin.gui._vispy import (
    cdus,
    piping,
    racks,
    robot_parts,
    robots,
    substation,
    workcells,
    yard,
)
from twin.gui._vispy.legend import scene_legend

pytestmark = pytest.mark.gui

# colours of parts that say nothing but what they are (a fan's blades, a bench's wood)
STRUCTURAL = {
    "FAN_BLADES",
    "PUMP",
    "FINGER_RGBA",
    "PEDESTAL_RGBA",
    "BELT_RGBA",
    "PART_RGBA",
    "BENCH_RGBA",
    "BODY_RGBA",
    "JOINT_RGBA",
    "WHEEL_RGBA",
    "VISOR_RGBA",
    "SERVICE_CHASSIS_RGBA",
    "ARM_RGBA",
}


def _colour_constants():
    for module in (cdus, piping, racks, robots, robot_parts, substation, workcells, yard, colors):
        for name, value in vars(module).items():
            if (
                name.isupper()
                and isinstance(value, np.ndarray)
                and value.shape == (4,)
                and name not in STRUCTURAL
            ):
                yield f"{module.__name__}.{name}", value
            if name.isupper() and isinstance(value, dict) and name not in STRUCTURAL:
                for key, colour in value.items():
                    if isinstance(colour, np.ndarray) and colour.shape == (4,):
                        yield f"{module.__name__}.{name}[{key!r}]", colour


def test_every_colour_that_means_something_has_an_entry() -> None:
    shown = [entry.rgba for group in scene_legend() for entry in group.entries]
    constants = dict(_colour_constants())
    assert len(constants) >= 20
    missing = [
        name
        for name, value in constants.items()
        if not any(np.allclose(value, rgba) for rgba in shown)
    ]
    assert not missing, f"colours without a legend entry: {missing}"
    for group in scene_legend():
        labels = [entry.label for entry in group.entries]
        assert len(labels) == len(set(labels)), group.title


def test_the_window_draws_each_swatch_in_its_colour(make_window, qtbot) -> None:
    window = make_window("seoul-ai-factory", running=False)
    window.legend_dock.raise_()
    qtbot.waitUntil(window.legend.isVisible, timeout=30_000)
    entries = [entry for group in window.legend.groups for entry in group.entries]
    assert len(window.legend.swatches) == len(entries)
    for (swatch, text), entry in zip(window.legend.swatches, entries, strict=True):
        assert text.text() == entry.label
        pixel = swatch.grab().toImage().pixelColor(swatch.width() // 2, swatch.height() // 2)
        assert pixel.rgb() == swatch_color(entry.rgba).rgb(), entry.label
    # the View menu shows and hides it like the other docks
    assert any(
        action is window.legend_dock.toggleViewAction()
        for menu in window.menuBar().actions()
        if menu.menu()
        for action in menu.menu().actions()
    )


def test_a_mark_on_the_rack_colour_bar_carries_its_unit() -> None:
    from tests.fakes import scenario_named
    from twin.gui._qt.controls import mark_label
    from twin.gui.units import UnitSystem

    scenario = scenario_named("seoul-ai-factory")
    throttle_c = next(iter(scenario.rack_types.values())).gpu_throttle_c
    field = next(f for f in colors.rack_color_fields(scenario) if f.marks)
    value, label = field.marks[0]
    assert mark_label(field, value, label) == f"throttle {throttle_c:g} °C"
    us = field.in_units(UnitSystem.US_CUSTOMARY)
    assert mark_label(us, *us.marks[0]) == f"throttle {throttle_c * 9 / 5 + 32:g} °F"
