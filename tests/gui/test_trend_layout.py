"""The stacked trend plots stay readable in the trend dock as the window opens, on a large
screen and on a small laptop: every plot is named by a caption in a header row above its
data, its legend beside it there (neither covers a curve), its value labels keep apart
and inside the plot, nothing runs into the plot above or below, and plots that would be
squeezed below their minimum height scroll instead, with their time axis kept in view. A
plot collapses to its header and opens again, and the window keeps which are collapsed."""

from __future__ import annotations

import dataclasses
import itertools
import math

import numpy as np
import pytest

from tests.fakes import FakeSimulation, scenario_named
from twin.gui._qt.trends import MIN_PLOT_HEIGHT_PX, PLOT_GAP_PX, SELECTION_KEY
from twin.gui.trend_history import SITE_PLOTS
from twin.runs.replay import SiteSeries

pytestmark = pytest.mark.gui

SCENARIO = "single-rack"
MINUTES = 15


def _open(make_window, qtbot, size: tuple[int, int]):
    window = make_window(SCENARIO, running=False)
    window.resize(*size)
    qtbot.waitUntil(lambda: window.snapshot is not None, timeout=30_000)
    qtbot.waitUntil(lambda: window.size().height() == size[1], timeout=30_000)
    return window


def _feed(window, qtbot) -> None:
    """A quarter of an hour of site figures that move, one snapshot a minute."""
    base = FakeSimulation(scenario_named(SCENARIO)).snapshot()
    for minute in range(MINUTES + 1):
        site = dict(base.site)
        wave = math.sin(minute / 3)
        site.update(
            it_power_kw=40_000 + 3_000 * wave,
            facility_power_kw=44_000 + 3_000 * wave,
            grid_import_kw=44_000,
            gpu_temp_max_c=70 + 8 * wave,
            tcs_supply_c=35.0,
            tcs_return_c=45.0,
            fws_supply_c=30.0,
            tokens_per_s=1.4e8 + 2e7 * wave,
            pue=1.1 + 0.02 * wave,
            bess_soc=0.8 - 0.01 * minute,
            throttled_gpus=float(minute % 4),
            cost_krw_per_h=2e6 + 1e5 * wave,
            co2_kg_per_h=20_000 + 1_000 * wave,
        )
        window.trends.append(dataclasses.replace(base, time_s=60.0 * minute, site=site))
    _wait_drawn(window, qtbot)


def _wait_drawn(window, qtbot) -> None:
    """Until the throttled redraw has drawn the newest snapshot and the panel painted."""
    trends = window.trends

    def drawn() -> bool:
        x, _ = trends.site_views["power"].curves[0].getOriginalDataset()
        return x is not None and len(x) > 0 and x[-1] == 60.0 * MINUTES

    qtbot.waitUntil(drawn, timeout=30_000)
    trends.graphics.grab()  # lay out and paint, as the screen would


def _value_labels(view) -> list[tuple[object, str]]:
    """The labels the left axis of a plot draws, in scene coordinates, as it paints them."""
    from PySide6.QtGui import QPainter, QPicture

    axis = view.plot.getAxis("left")
    picture = QPicture()
    painter = QPainter(picture)
    try:
        if axis.style["tickFont"]:
            painter.setFont(axis.style["tickFont"])
        _, _, texts = axis.generateDrawSpecs(painter)
    finally:
        painter.end()
    return [(axis.mapRectToScene(rect), text) for rect, _, text in texts]


def _assert_readable(trends) -> None:
    """Every plot shown has a caption and legend above its data, two or more value labels,
    and nothing written on it (caption, value labels, legend) runs past half the gap to the
    plots beside it or into anything else written."""
    from PySide6.QtGui import QColor

    image = trends.graphics.grab().toImage()
    shown = trends.shown_views()
    assert len(shown) >= 3
    written = []
    bottoms = []
    for view in shown:
        key = view.spec.key
        plot = view.plot.sceneBoundingRect()
        bottoms.append(plot.top())
        room = plot.adjusted(0, -PLOT_GAP_PX / 2, 0, PLOT_GAP_PX / 2)
        viewbox = view.plot.getViewBox().sceneBoundingRect()
        assert viewbox.height() >= MIN_PLOT_HEIGHT_PX - 0.5, key
        caption = view.caption.sceneBoundingRect()
        # in the header: above the data (the text item's blank margin may reach it)
        assert caption.bottom() - 2 <= viewbox.top(), f"{key}: the caption is over the data"
        assert caption.top() >= plot.top() - 0.5, f"{key}: the caption is cut off"
        # the caption is really drawn: light text on the dark theme's background
        corner = trends.graphics.mapFromScene(caption.center())
        lightness = [
            QColor(image.pixel(corner.x() + dx, corner.y() + dy)).lightness()
            for dx in range(-20, 20)
            for dy in range(-4, 5)
        ]
        assert max(lightness) - min(lightness) > 80, key
        labels = _value_labels(view)
        assert len(labels) >= 2, f"{key}: value labels {[text for _, text in labels]}"
        things = [("caption", caption), *((f"value {text}", rect) for rect, text in labels)]
        if view.legend.isVisible():
            legend = view.legend.sceneBoundingRect()
            assert legend.bottom() <= viewbox.top() + 0.5, f"{key}: the legend is over the data"
            things.append(("legend", legend))
        for what, rect in things:
            assert room.contains(rect), f"{key} {what} {rect} runs out of the plot {plot}"
            written.append((f"{key} {what}", rect))
    assert bottoms == sorted(bottoms)  # stacked in order, one below the other
    for (first, a), (second, b) in itertools.combinations(written, 2):
        assert not a.intersects(b), f"{first} {a} overlaps {second} {b}"


def _reference() -> SiteSeries:
    times = np.arange(0.0, 1801.0, 30.0)
    wave = np.cos(times / 200)
    return SiteSeries(
        "baseline.csv",
        {
            "time_s": times,
            "facility_power_kw": 45_000 + 2_000 * wave,
            "it_power_kw": 41_000 + 2_000 * wave,
            "gpu_temp_max_c": 65 + 5 * wave,
            "tokens_per_s": 1.3e8 + 1e7 * wave,
        },
        {"scenario": SCENARIO},
    )


@pytest.mark.parametrize(("size", "scrolls"), [((1920, 1080), False), ((1366, 768), True)])
def test_the_default_plots_are_readable_and_in_view_on_a_1080p_screen(
    make_window, qtbot, size, scrolls
):
    """A 1080-p screen shows the three default plots whole; a laptop's keeps them as tall
    (and the 3D view its room) and scrolls them."""
    window = _open(make_window, qtbot, size)
    _feed(window, qtbot)
    trends = window.trends
    assert [view.spec.key for view in trends.shown_views()] == [
        plot.key for plot in SITE_PLOTS if plot.shown
    ]
    assert (trends.scroll_area.verticalScrollBar().maximum() > 0) is scrolls
    _assert_readable(trends)
    captions = [view.caption.textItem.toPlainText() for view in trends.shown_views()]
    assert captions == ["▾ Power (MW)", "▾ Temperature (°C)", "▾ Throughput (Mtok/s)"]

    # Comparing with another run narrows the plots for the KPI table and names both runs
    # in the legends, which stay clear of the captions.
    assert window.compare_with(_reference())
    trends.refresh()
    trends.graphics.grab()
    assert trends.comparison_table.isVisible()
    _assert_readable(trends)
    trends.set_difference(True)
    trends.graphics.grab()
    assert trends.site_views["temperatures"].caption.textItem.toPlainText() == (
        "▾ Temperature A − B (°C)"
    )
    _assert_readable(trends)
    trends.set_difference(False)

    # Plots narrowed for a wider table: legends take more rows, clear of the captions,
    # and their headers grow to hold them, above the data.
    splitter = trends.scroll_area.parentWidget()
    splitter.setSizes([700, splitter.width() - 700])
    qtbot.waitUntil(lambda: trends.graphics.width() <= 700, timeout=30_000)
    assert trends.site_views["power"].legend.columnCount < 6
    qtbot.waitUntil(lambda: _assert_readable(trends), timeout=30_000)  # headers grown


def test_plots_that_do_not_fit_keep_their_height_and_scroll(make_window, qtbot):
    window = _open(make_window, qtbot, (1366, 768))
    trends = window.trends
    for key in trends.plot_actions:
        trends.set_plot_shown(key, True)
    trends.set_selection(
        "rack A-01",
        (
            ("GPU temperature", "°C", lambda s: s.site["gpu_temp_max_c"]),
            ("Inlet", "°C", lambda s: s.site["tcs_supply_c"]),
            # a span that pyqtgraph would label every 20 kW, 10 px apart at the least height
            ("Power", "kW", lambda s: s.site["it_power_kw"] / 75),
        ),
    )
    _feed(window, qtbot)
    shown = trends.shown_views()
    assert len(shown) == len(SITE_PLOTS) + 2
    scroll_bar = trends.scroll_area.verticalScrollBar()
    assert scroll_bar.maximum() > 0
    _assert_readable(trends)
    assert shown[0].caption.textItem.toPlainText() == "▾ rack A-01 (°C)"

    # scrolled to the end, the time axis under the lowest plot is in view
    scroll_bar.setValue(scroll_bar.maximum())
    viewport = trends.scroll_area.viewport()
    time_axis = shown[-1].plot.getAxis("bottom")
    assert time_axis.style["showValues"]
    axis_rect = trends.graphics.mapFromScene(time_axis.sceneBoundingRect()).boundingRect()
    top_left = trends.graphics.mapTo(viewport, axis_rect.topLeft())
    bottom_right = trends.graphics.mapTo(viewport, axis_rect.bottomRight())
    assert viewport.rect().contains(top_left) and viewport.rect().contains(bottom_right)

    # fewer plots fit again: no scrolling
    for key in trends.plot_actions:
        trends.set_plot_shown(key, key in {"power", "temperatures"})
    assert trends.plot_actions[SELECTION_KEY].isChecked() is False
    qtbot.waitUntil(lambda: scroll_bar.maximum() == 0, timeout=30_000)


def _tick_labels(axis) -> list[tuple[float, str]]:
    """The time labels an axis draws: their centres across the screen, and their text."""
    from PySide6.QtGui import QPainter, QPicture

    picture = QPicture()
    painter = QPainter(picture)
    try:
        _, _, texts = axis.generateDrawSpecs(painter)
    finally:
        painter.end()
    view = axis.scene().views()[0]
    return [
        (view.viewport().mapToGlobal(view.mapFromScene(axis.mapToScene(rect.center()))).x(), text)
        for rect, _, text in texts
    ]


def test_the_time_axis_stays_in_view_while_the_plots_scroll(make_window, qtbot):
    from PySide6.QtCore import QPoint, QRect
    from PySide6.QtGui import QColor

    window = _open(make_window, qtbot, (1366, 768))
    trends = window.trends
    for key in trends.plot_actions:
        trends.set_plot_shown(key, True)
    _feed(window, qtbot)
    scroll_bar = trends.scroll_area.verticalScrollBar()
    assert scroll_bar.maximum() > 0 and scroll_bar.value() == 0
    viewport = trends.scroll_area.viewport()
    pinned = trends.time_axis
    lowest = trends.shown_views()[-1].plot.getAxis("bottom")
    qtbot.waitUntil(pinned.isVisible, timeout=30_000)

    def assert_pinned_like_the_lowest_axis() -> None:
        # along the bottom of the visible plots, as wide as the scroll area shows them
        area = QRect(viewport.mapTo(trends, QPoint(0, 0)), viewport.size())
        strip = QRect(pinned.mapTo(trends, QPoint(0, 0)), pinned.size())
        assert strip.bottom() == area.bottom() and strip.left() == area.left(), (strip, area)
        assert strip.width() == area.width() and 15 <= strip.height() <= 40, strip
        # the same labels as the axis under the lowest plot, at the same places across
        assert pinned.axis.range == lowest.range
        labels, expected = _tick_labels(pinned.axis), _tick_labels(lowest)
        assert [text for _, text in labels] == [text for _, text in expected]
        assert len(labels) >= 3, labels
        for (x, _), (x_expected, _) in zip(labels, expected, strict=True):
            assert abs(x - x_expected) <= 1

    qtbot.waitUntil(assert_pinned_like_the_lowest_axis, timeout=30_000)
    assert [text for _, text in _tick_labels(pinned.axis)][:2] == ["00:01", "00:02"]

    # it is drawn: the labels' light text on the dark theme, over the plot there
    image = trends.grab().toImage()
    corner = pinned.mapTo(trends, QPoint(0, 0))
    row = corner.y() + pinned.height() - 8
    lightness = [
        QColor(image.pixel(x, row)).lightness()
        for x in range(corner.x() + 80, corner.x() + pinned.width() - 20)
    ]
    assert max(lightness) - min(lightness) > 80

    # panning the plots moves it along
    trends.set_following(False)
    trends.views()[-1].plot.setXRange(120.0, 420.0, padding=0)
    qtbot.waitUntil(lambda: pinned.axis.range == [120.0, 420.0], timeout=30_000)
    qtbot.waitUntil(assert_pinned_like_the_lowest_axis, timeout=30_000)
    trends.set_following(True)

    # scrolled to the end, the lowest plot's own axis is in view and none is pinned
    scroll_bar.setValue(scroll_bar.maximum())
    qtbot.waitUntil(lambda: not pinned.isVisible(), timeout=30_000)
    scroll_bar.setValue(scroll_bar.maximum() // 2)
    qtbot.waitUntil(pinned.isVisible, timeout=30_000)

    # plots that fit need none
    for key in trends.plot_actions:
        trends.set_plot_shown(key, key in {"power", "temperatures"})
    qtbot.waitUntil(lambda: scroll_bar.maximum() == 0, timeout=30_000)
    qtbot.waitUntil(lambda: not pinned.isVisible(), timeout=30_000)


def test_a_plot_collapses_to_its_header_on_a_click_and_the_window_keeps_it(
    make_window, qtbot, tmp_path, monkeypatch
):
    from PySide6.QtCore import Qt

    from twin.settings import Settings, load_settings

    monkeypatch.setenv("XDG_CONFIG_HOME", str(tmp_path / "config"))  # never the user's own
    window = make_window(SCENARIO, running=False, settings=Settings(), source=SCENARIO)
    window.resize(1920, 1080)
    qtbot.waitUntil(lambda: window.snapshot is not None, timeout=30_000)
    qtbot.waitUntil(lambda: window.height() == 1080, timeout=30_000)
    _feed(window, qtbot)
    trends = window.trends
    power, temperatures, tokens = (
        trends.site_views[k] for k in ("power", "temperatures", "tokens")
    )
    power_height = power.plot.getViewBox().height()

    def click_caption(view) -> None:
        centre = trends.graphics.mapFromScene(view.caption.sceneBoundingRect().center())
        qtbot.mouseClick(trends.graphics.viewport(), Qt.MouseButton.LeftButton, pos=centre)

    click_caption(temperatures)
    assert trends.collapsed == {"temperatures"} and temperatures.collapsed
    assert temperatures.caption.textItem.toPlainText() == "▸ Temperature (°C)"
    assert not temperatures.plot.getViewBox().isVisible() and not temperatures.legend.isVisible()
    # its header only; the room goes to the plots still open
    qtbot.waitUntil(
        lambda: temperatures.plot.height() <= temperatures._header_px + 0.5, timeout=30_000
    )
    qtbot.waitUntil(lambda: power.plot.getViewBox().height() > power_height + 20, timeout=30_000)
    qtbot.waitUntil(lambda: _assert_headers_apart(trends), timeout=30_000)
    assert trends.open_views() == [power, tokens]
    # the lowest plot collapsed: the time runs under the lowest one open
    click_caption(tokens)
    assert trends.open_views()[-1] is power
    assert power.plot.getAxis("bottom").style["showValues"]
    assert not tokens.plot.getAxis("bottom").isVisible()
    click_caption(tokens)
    assert trends.collapsed == {"temperatures"} and tokens.plot.getViewBox().isVisible()
    qtbot.waitUntil(lambda: tokens.plot.getAxis("bottom").style["showValues"], timeout=30_000)

    window.close()
    saved, problem = load_settings()
    assert problem is None and saved.trends_collapsed == ["temperatures"]
    again = make_window(SCENARIO, running=False, settings=saved, source=SCENARIO)
    assert again.trends.collapsed == {"temperatures"}
    assert again.trends.site_views["temperatures"].collapsed
    kept = again.trends.site_views["temperatures"]
    again.trends.set_collapsed("temperatures", False)  # as a click does
    assert not kept.collapsed and again.trends.collapsed == frozenset()
    again.trends.set_collapsed("a plot of another version", True)  # from old settings
    assert again.trends.collapsed == frozenset()


def _assert_headers_apart(trends) -> None:
    """The plots shown, collapsed or open, stacked in order without overlapping."""
    rects = [view.plot.sceneBoundingRect() for view in trends.shown_views()]
    for upper, lower in itertools.pairwise(rects):
        assert upper.bottom() <= lower.top() + 0.5, (upper, lower)
