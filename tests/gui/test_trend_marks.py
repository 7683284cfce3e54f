"""Limit lines and event markers on the trend plots, and a replay that never passes for the
live simulation."""

from __future__ import annotations

import dataclasses

import numpy as np
import pytest
from PySide6.QtCore import QPointF
from PySide6.QtGui import QColor

from tests.fakes import FakeSimulation, scenario_named
from twin.alarms import default_points
from twin.gui._qt.trends import TrendPanel
from twin.gui.trend_marks import checkpoint_schedules, event_marker, plot_limits
from twin.gui.units import UnitSystem
from twin.sim.topology import build_topology

pytestmark = pytest.mark.gui

SEOUL = scenario_named("seoul-ai-factory")


def _limits(scenario=SEOUL):
    return plot_limits(scenario, default_points(scenario, build_topology(scenario)))


def test_limits_come_from_the_rack_types_and_the_alarm_points() -> None:
    limits = _limits()
    rack_type = next(iter(SEOUL.rack_types.values()))
    temperatures = {limit.value: limit for limit in limits["temperatures"]}
    throttle = temperatures[rack_type.gpu_throttle_c]
    trip = temperatures[rack_type.gpu_critical_c]
    # the GPU's high alarm is its throttle temperature: one line, both names
    assert throttle.label.startswith("GPU throttle") and "GPU alarm H (medium)" in throttle.label
    assert not throttle.trip
    assert trip.label == "GPU trip" and trip.trip
    assert any("GPU alarm HH" in limit.label for limit in limits["temperatures"])
    assert any(limit.label.startswith("Facility water alarm H") for limit in limits["temperatures"])
    assert [limit.value for limit in limits["temperatures"]] == sorted(temperatures)
    soc = [limit.label for limit in limits["bess"]]
    assert soc == ["State of charge alarm LL (high)", "State of charge alarm L (low)"]
    # two rack types with their own temperatures: a line for each
    data = SEOUL.model_dump()
    first = next(iter(data["rack_types"].values()))
    data["rack_types"]["hotter"] = dict(
        first,
        gpu_throttle_c=first["gpu_throttle_c"] + 3,
        gpu_critical_c=first["gpu_critical_c"] + 3,
    )
    data["halls"][0]["rows"][0]["rack_type"] = "hotter"
    labels = [limit.label for limit in _limits(SEOUL.model_validate(data))["temperatures"]]
    assert sum(label == "GPU trip" for label in labels) == 2


def test_an_event_marker_names_its_kind_target_and_duration() -> None:
    events = {event.kind: event for event in SEOUL.events}
    assert event_marker(14400.0, events["pump-trip"]) == (14400.0, "pump-trip H1-CDU-03")


@pytest.fixture
def panel(qtbot):
    panel = TrendPanel(SEOUL.scenario.start)
    qtbot.addWidget(panel)
    panel.resize(900, 900)
    panel.show()
    qtbot.waitExposed(panel)
    return panel


def test_limit_lines_are_drawn_in_range_and_in_the_display_units(panel, qtbot) -> None:
    base = FakeSimulation(SEOUL).snapshot()
    panel.set_limits(_limits())
    for t in (0.0, 10.0, 20.0):
        panel.append(dataclasses.replace(base, time_s=t))
    panel.refresh()
    view = panel.site_views["temperatures"]
    trip_c = next(iter(SEOUL.rack_types.values())).gpu_critical_c
    lines = {limit.label: line for limit, line in view.limits}
    assert lines["GPU trip"].value() == pytest.approx(trip_c)
    assert lines["GPU trip"].isVisible() and lines["GPU trip"].label.isVisible()
    # the value axis takes the lines in, however far from the curves they lie
    qtbot.waitUntil(lambda: view.plot.getViewBox().viewRange()[1][1] >= trip_c, timeout=30_000)
    panel.set_units(UnitSystem.US_CUSTOMARY)
    assert lines["GPU trip"].value() == pytest.approx(trip_c * 9 / 5 + 32)
    assert panel.site_views["power"].limits == []  # the import cap is a series of its own


def test_event_markers_on_every_plot_named_on_the_top_one(panel) -> None:
    markers = [(600.0, "cdu-loss CDU"), (1200.0, "pump-trip H1-CDU-03")]
    panel.set_events(markers)
    shown = [key for key, view in panel.site_views.items() if view.plot.isVisible()]
    for key in shown:
        lines = panel.site_views[key].event_lines
        assert [line.value() for line in lines] == [600.0, 1200.0]
        named = [line.label.format for line in lines if getattr(line, "label", None)]
        assert named == ([label for _t, label in markers] if key == shown[0] else [])
    panel.set_plot_shown(shown[0], False)  # the next plot down takes the names
    assert [line.label.format for line in panel.site_views[shown[1]].event_lines] == [
        "cdu-loss CDU",
        "pump-trip H1-CDU-03",
    ]
    panel.set_events([])  # the run started again
    assert all(not view.event_lines for view in panel.site_views.values())


def test_the_window_marks_events_once_past_and_draws_the_limits(make_window, qtbot) -> None:
    window = make_window(
        "seoul-ai-factory", simulation=FakeSimulation(SEOUL, dt_s=3600.0), running=False
    )
    temperatures = window.trends.site_views["temperatures"]
    assert any(limit.label == "GPU trip" for limit, _line in temperatures.limits)
    first_event_s = min(event.at_s for event in SEOUL.events)
    qtbot.waitUntil(lambda: window.snapshot is not None, timeout=30_000)
    assert temperatures.event_lines == []
    for _ in range(int(first_event_s // 3600) + 1):
        window.step()
    qtbot.waitUntil(
        lambda: any(line.value() == first_event_s for line in temperatures.event_lines),
        timeout=10000,
    )


def test_a_fast_swing_reads_as_an_envelope_between_two_lines(panel) -> None:
    base = FakeSimulation(SEOUL).snapshot()
    # a training swing much faster than a bin: 60 and 70 °C alternating, twenty to a bin
    for k in range(400):
        panel.append(
            dataclasses.replace(
                base,
                time_s=k * 0.05,
                site={**base.site, "gpu_temp_max_c": 70.0 if k % 2 else 60.0 + k / 100},
            )
        )
    panel.refresh()
    view = panel.site_views["temperatures"]
    k = [series.label for series in view.spec.series].index("Hottest GPU")
    low, high = (np.asarray(edge.getOriginalDataset()[1]) for edge in view.envelopes[k])
    assert low.size == high.size >= 20
    assert np.all(high == 70.0) and np.all(np.diff(low) > 0)  # the minima rise, one per bin
    # the bins' own strokes are upright (minimum to maximum), never bin to bin
    assert view.curves[k].opts["connect"] == "pairs"
    assert view.envelopes[k][0].opts["pen"] == view.curves[k].opts["pen"]


def test_a_square_wave_over_a_day_draws_a_muted_band_under_its_solid_mean(panel) -> None:
    """Training's swing (1 of 4 samples at 80 °C, the rest at 40 °C) seen over a day, 48 s a
    bin: a band from 40 to 80 in a muted colour, and across it the mean, 50 °C, solid."""
    base = FakeSimulation(SEOUL).snapshot()
    panel.set_time_window(86400.0)
    for plot in ("power", "tokens"):
        panel.set_plot_shown(plot, False)  # the temperatures alone: a tall plot
    for k in range(4 * 3600):  # an hour, a sample every quarter of a second
        panel.append(
            dataclasses.replace(
                base,
                time_s=k / 4,
                site={**base.site, "gpu_temp_max_c": 80.0 if k % 4 == 0 else 40.0},
            )
        )
    panel.refresh()
    view = panel.site_views["temperatures"]
    k = [series.label for series in view.spec.series].index("Hottest GPU")
    mean = np.asarray(view.means[k].getOriginalDataset()[1])
    np.testing.assert_allclose(mean[1:-1], 50.0)  # whole bins
    low, high = (np.asarray(edge.getOriginalDataset()[1]) for edge in view.envelopes[k])
    assert np.all(low[1:-1] == 40.0) and np.all(high[1:-1] == 80.0)
    band, solid = view.curves[k].opts["pen"].color(), view.means[k].opts["pen"].color()
    assert band != solid  # a muted colour: many bins' strokes to a pixel stay muted
    # drawn: the mean's row in the series' own colour, the band's rows in a blend of it
    image = panel.graphics.grab().toImage()
    viewbox = view.plot.getViewBox()

    def pixel_rows(value: float, rows: tuple[int, ...] = (0,)) -> list[list]:
        """Per pixel across the band, the colours at ``value``'s row and those beside it."""
        y = panel.graphics.mapFromScene(viewbox.mapViewToScene(QPointF(1800.0, value))).y()
        x0 = panel.graphics.mapFromScene(viewbox.mapViewToScene(QPointF(600.0, value))).x()
        x1 = panel.graphics.mapFromScene(viewbox.mapViewToScene(QPointF(3000.0, value))).x()
        return [[image.pixelColor(x, y + dy) for dy in rows] for x in range(x0, x1)]

    def near(color, target) -> bool:
        return all(
            abs(a - b) <= 24 for a, b in zip(color.getRgb()[:3], target.getRgb()[:3], strict=True)
        )

    on_mean = pixel_rows(50.0, (-1, 0, 1))  # a 1-px line, within a pixel of its value
    assert sum(any(near(c, solid) for c in column) for column in on_mean) > 0.8 * len(on_mean)
    in_band = [column[0] for column in pixel_rows(65.0)]
    background = QColor(panel._theme.base)
    assert not any(near(c, solid) for c in in_band)  # muted, not the series' colour
    assert sum(not near(c, background) for c in in_band) > 0.8 * len(in_band)  # but drawn


def test_checkpoints_close_each_interval_of_a_training_job() -> None:
    [schedule] = checkpoint_schedules(SEOUL)  # frontier-training: 1 min every 30 min
    assert (schedule.interval_s, schedule.duration_s) == (1800.0, 60.0)
    assert schedule.windows(0.0, 3600.0) == [(1740.0, 1800.0), (3540.0, 3600.0)]
    assert schedule.windows(1790.0, 1795.0) == [(1740.0, 1800.0)]  # inside one
    assert schedule.windows(100.0, 1700.0) == []
    late = dataclasses.replace(schedule, start_s=7200.0)
    assert late.windows(0.0, 7200.0) == []  # before the job starts
    assert late.windows(0.0, 9000.0) == [(8940.0, 9000.0)]


def test_checkpoints_are_shaded_on_the_power_and_throughput_plots(panel) -> None:
    base = FakeSimulation(SEOUL).snapshot()
    panel.set_checkpoints(checkpoint_schedules(SEOUL))
    panel.set_time_window(3600.0)
    for t in range(0, 3601, 30):
        panel.append(dataclasses.replace(base, time_s=float(t)))
    panel.refresh()
    for key in ("power", "tokens"):
        spans = [r.getRegion() for r in panel.site_views[key].checkpoint_spans if r.isVisible()]
        assert spans == [(1740.0, 1800.0), (3540.0, 3600.0)], key
    assert not panel.site_views["temperatures"].checkpoint_spans
    # drawn: the span's columns are tinted, the columns beside it are not
    image = panel.graphics.grab().toImage()
    viewbox = panel.site_views["power"].plot.getViewBox()

    def column(time_s: float) -> QColor:
        low, high = viewbox.viewRange()[1]
        point = viewbox.mapViewToScene(QPointF(time_s, low + 0.1 * (high - low)))
        return image.pixelColor(panel.graphics.mapFromScene(point))

    assert column(1770.0) != column(1500.0)
    assert column(1500.0) == QColor(panel._theme.base)
    # a day in view: the checkpoints that have come so far, none still to come
    panel.set_time_window(86400.0)
    spans = [r for r in panel.site_views["power"].checkpoint_spans if r.isVisible()]
    assert len(spans) == 2
