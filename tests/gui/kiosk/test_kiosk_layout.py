"""The kiosk overlay's fixed layout: panels sized for the widest values they can plausibly
show, so that nothing is cut and nothing moves between snapshots or steps; every panel
inside the view and clear of the others on the screens a kiosk runs on."""

from __future__ import annotations

import itertools
from dataclasses import replace

import pytest
from PySide6.QtCore import QCoreApplication, QRectF
from PySide6.QtGui import QFontMetricsF

from tests.fakes import FakeSimulation, scenario_named
from twin.alarms import default_points
from twin.gui._qt.language import hangul_font_family
from twin.gui.colors import rack_color_fields
from twin.gui.kiosk._qt.language import load_translators
from twin.gui.kiosk._qt.overlay import KIOSK_KPIS, KioskOverlay, rack_nameplate_kw
from twin.gui.units import UnitSystem
from twin.sim.snapshot import Snapshot

pytestmark = pytest.mark.gui

SCREENS = ((1920, 1080), (3840, 2160))
LONG_CAPTION = (
    "A summer heatwave pushes the afternoon past 35 °C. The dry coolers can no longer "
    "reach 30 °C water on their own, so the chillers take over, and PUE rises."
)


def _overlay(name: str, units: UnitSystem) -> tuple[KioskOverlay, FakeSimulation]:
    scenario = scenario_named(name)
    simulation = FakeSimulation(scenario)
    topology = simulation.topology
    overlay = KioskOverlay(
        scenario,
        topology,
        default_points(scenario, topology),
        rack_color_fields(scenario),
        hangul_font_family(),
        units=units,
    )
    return overlay, simulation


def _with(snapshot: Snapshot, *, cap_kw: float, **site: float) -> Snapshot:
    return replace(
        snapshot,
        site={**snapshot.site, **site},
        power=replace(snapshot.power, grid_import_cap_kw=cap_kw),
    )


def _widest_snapshots(snapshot: Snapshot, max_facility_mw: float) -> list[Snapshot]:
    """The widest figures a site of ``max_facility_mw`` plausibly shows: its power near
    that, tokens of three digits before the point at every prefix, GPUs below zero and
    above 100 °C."""
    kw = max_facility_mw * 1000 * 0.999
    return [
        _with(
            snapshot,
            cap_kw=kw,
            it_power_kw=kw,
            facility_power_kw=kw,
            grid_import_kw=kw,
            pue=1.999,
            tokens_per_s=tokens,
            gpu_temp_max_c=gpu_c,
            ambient_c=ambient_c,
        )
        for tokens, gpu_c, ambient_c in (
            (987.65e3, -38.8, -38.8),
            (987.65e6, 148.8, 48.8),
            (987.65e9, 99.9, -8.8),
        )
    ]


def _disjoint(a: QRectF, b: QRectF) -> bool:
    return not a.intersects(b)


@pytest.mark.parametrize(
    ("scenario", "units", "language"),
    [
        ("seoul-ai-factory", UnitSystem.SI, "en"),
        ("seoul-ai-factory", UnitSystem.US_CUSTOMARY, "ko"),
        ("gigawatt", UnitSystem.SI, "en"),
    ],
)
def test_the_widest_values_fit_and_no_panel_moves(qapp, scenario, units, language):
    translators = load_translators(language)
    for translator in translators:
        qapp.installTranslator(translator)
    try:
        overlay, simulation = _overlay(scenario, units)
        overlay.show_caption(QCoreApplication.translate("story", LONG_CAPTION))
        overlay.set_hint_countdown(60)
        overlay.start_chart("power")
        racks_kw = rack_nameplate_kw(scenario_named(scenario), simulation.topology)
        nameplate_mw = float(racks_kw.sum()) / 1000
        # the power figures of a gigawatt site have four digits before the point
        assert scenario != "gigawatt" or 2 * nameplate_mw >= 1000
        snapshots = [
            simulation.snapshot(),
            *_widest_snapshots(simulation.snapshot(), 2 * nameplate_mw),
        ]
        for (width, height), touring in itertools.product(SCREENS, (True, False)):
            overlay.set_size(width, height)
            overlay.set_touring(touring)  # the caption, or the visitor's hint in its place
            assert overlay.caption.visible == touring and overlay.hint.visible != touring
            view = QRectF(0, 0, width, height)
            shown = ("kpis", "clock", "key", *(("caption", "chart") if touring else ("hint",)))
            fixed = {name: overlay.panels()[name] for name in shown}
            for snapshot in snapshots:
                overlay.update_snapshot(snapshot)
                panels = overlay.panels()
                assert {name: panels[name] for name in fixed} == fixed  # nothing moved
                for key in KIOSK_KPIS:
                    assert overlay.kpis.fits(key), (key, overlay.kpis.values[key])
                    # drawn at full size: the panel was made for it
                    assert overlay.kpis.value_font_for(key) == overlay.kpis.value_font, key
                    assert overlay.kpis.rect.contains(overlay.kpis.value_rects[key])
                clock = overlay.clock
                outdoor = QFontMetricsF(clock.outdoor_font).horizontalAdvance(clock.outdoor_text)
                assert outdoor <= clock.outdoor_rect.width(), clock.outdoor_text
                names = list(panels)
                for k, name in enumerate(names):
                    assert view.contains(panels[name]), (name, panels[name])
                    for other in names[k + 1 :]:
                        assert _disjoint(panels[name], panels[other]), (name, other)
            key_width = QFontMetricsF(overlay.key.font).horizontalAdvance(overlay.key.title)
            assert key_width <= overlay.key.rect.width() - 3 * round(height / 44 * 0.8)
    finally:
        for translator in translators:
            qapp.removeTranslator(translator)


def test_a_value_beyond_the_plausible_is_drawn_smaller_not_cut(qapp):
    overlay, simulation = _overlay("seoul-ai-factory", UnitSystem.SI)
    overlay.set_size(1920, 1080)
    huge = _with(simulation.snapshot(), cap_kw=9e9, grid_import_kw=9e9, it_power_kw=9e9)
    overlay.update_snapshot(huge)
    assert overlay.kpis.values["it"] == "9000000.0 MW"
    assert overlay.kpis.fits("it") and overlay.kpis.fits("grid")
    smaller = overlay.kpis.value_font_for("it").pixelSize()
    assert smaller < overlay.kpis.value_font.pixelSize()
    overlay.update_snapshot(simulation.snapshot())  # back to a usual figure: full size again
    assert overlay.kpis.value_font_for("it") == overlay.kpis.value_font


def test_the_evidence_chart_draws_the_steps_figures_inside_its_plot(qapp):
    overlay, simulation = _overlay("seoul-ai-factory", UnitSystem.SI)
    overlay.set_size(1920, 1080)
    overlay.start_chart("tokens")
    first = simulation.snapshot()
    tokens = first.site["tokens_per_s"]
    for k in range(40):  # tokens fall by a fifth over 40 simulated minutes
        at = replace(first, time_s=first.time_s + 60.0 * k)
        overlay.update_snapshot(_with(at, cap_kw=60e3, tokens_per_s=tokens * (1 - 0.005 * k)))
    chart = overlay.chart
    assert chart.visible and "chart" in overlay.panels()
    (line,) = chart.polylines()
    assert line.size() == 40
    assert all(chart.plot.adjusted(-0.5, -0.5, 0.5, 0.5).contains(p) for p in line)
    assert line.last().y() > line.first().y() + 0.5 * chart.plot.height()  # the fall shows
    overlay.update_snapshot(replace(first, time_s=0.0))  # the loop starts again
    assert chart.count == 1
    overlay.set_touring(False)  # a visitor's card takes its place
    assert not chart.visible and "chart" not in overlay.panels()
    overlay.start_chart(None)
    overlay.set_touring(True)
    assert not chart.visible
