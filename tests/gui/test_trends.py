"""The trend panel records snapshots in fixed memory, follows simulated time, trends the
selection, reads values under the crosshair and exports what it shows."""

from __future__ import annotations

import csv
import dataclasses
from datetime import datetime, timedelta

import numpy as np
import pytest

from tests.fakes import FakeSimulation, scenario_named
from twin.gui._qt.theme import DARK, LIGHT
from twin.gui._qt.trends import SELECTION_KEY, ExportError, TrendPanel
from twin.gui.trend_history import SITE_PLOTS, TIME_SCALES

pytestmark = pytest.mark.gui

DAY_S = 86400.0
SCENARIO = scenario_named("single-rack")
START = SCENARIO.scenario.start


@pytest.fixture(scope="module")
def base():
    return FakeSimulation(SCENARIO).snapshot()


def at(base, time_s: float, **site: float):
    """The base snapshot moved to another time, with some site values changed."""
    values = dict(base.site)
    values.update(site)
    return dataclasses.replace(base, time_s=time_s, site=values)


@pytest.fixture
def panel(qtbot):
    panel = TrendPanel(START)
    qtbot.addWidget(panel)
    panel.resize(900, 900)
    panel.show()
    qtbot.waitExposed(panel)
    return panel


def curve_data(panel: TrendPanel, key: str, label: str) -> tuple[np.ndarray, np.ndarray]:
    view = panel.site_views[key]
    curve = view.curves[[s.label for s in view.spec.series].index(label)]
    x, y = curve.getOriginalDataset()
    if x is None:  # pyqtgraph keeps no arrays for an emptied curve
        return np.empty(0), np.empty(0)
    return np.asarray(x), np.asarray(y)


def test_appended_snapshots_appear_in_the_curves_in_display_units(panel, base):
    for t, it_kw, gpu_c, soc in (
        (0.0, 1000.0, 60.0, 0.5),
        (10.0, 2000.0, 70.0, 0.6),
        (20.0, 1500.0, 65.0, 0.7),
    ):
        panel.append(at(base, t, it_power_kw=it_kw, gpu_temp_max_c=gpu_c, bess_soc=soc))
    panel.refresh()
    x, y = curve_data(panel, "power", "IT power")
    # each bin is drawn as its minimum and its maximum at the time of its latest sample
    np.testing.assert_allclose(x, [0, 0, 10, 10, 20, 20])
    np.testing.assert_allclose(y, [1.0, 1.0, 2.0, 2.0, 1.5, 1.5])  # MW
    np.testing.assert_allclose(
        curve_data(panel, "temperatures", "Hottest GPU")[1][::2], [60, 70, 65]
    )
    panel.set_plot_shown("bess", True)  # hidden plots are not drawn until shown
    np.testing.assert_allclose(
        curve_data(panel, "bess", "State of charge")[1][::2], [50, 60, 70]
    )  # %
    cap = curve_data(panel, "power", "Import cap")[1]
    np.testing.assert_allclose(cap, base.power.grid_import_cap_kw / 1000)


def test_snapshots_within_one_bin_keep_its_minimum_and_maximum(panel, base):
    fine_bin_s = TIME_SCALES[0][1]
    for k, gpu_c in enumerate((70.0, 90.0, 65.0, 72.0)):
        panel.append(at(base, k * fine_bin_s / 8, gpu_temp_max_c=gpu_c))
    panel.refresh()
    x, y = curve_data(panel, "temperatures", "Hottest GPU")
    np.testing.assert_allclose(y, [65.0, 90.0])  # the spike survives
    assert x[0] == pytest.approx(3 * fine_bin_s / 8)


def test_panel_keeps_a_full_day_in_fixed_memory_at_high_speed(panel, base):
    nbytes = panel.nbytes
    step_s = 50.0  # 3,000× real time shown at 60 frames per second
    capacity = max(ring.capacity for ring in panel.site_history.rings)
    times = np.arange(0.0, 3 * DAY_S, step_s)
    assert len(times) > 2 * capacity
    for t in times:
        panel.append(at(base, t, it_power_kw=t))
    panel.set_time_window(DAY_S)
    panel.refresh()
    assert panel.nbytes == nbytes
    x, y = curve_data(panel, "power", "IT power")
    now = times[-1]
    assert x[0] <= now - DAY_S and x[-1] == now
    np.testing.assert_allclose(y, x / 1000)
    assert len(x) <= 2 * capacity + 4


def test_time_window_combo_sets_the_visible_range_of_every_plot(panel, base):
    panel.append(at(base, 60.0))
    panel.refresh()
    assert panel.site_views["power"].plot.viewRange()[0] == pytest.approx([0, 900])  # from 0
    now = 2 * DAY_S + 1234.0
    panel.append(at(base, now))
    panel.refresh()
    for index in range(panel.window_box.count()):
        panel.window_box.setCurrentIndex(index)
        window_s = panel.window_box.itemData(index)
        for view in panel.views():
            assert view.plot.viewRange()[0] == pytest.approx([now - window_s, now])
    assert [panel.window_box.itemText(i) for i in range(3)] == ["15 min", "1 h", "1 day"]
    with pytest.raises(ValueError, match="time window"):
        panel.set_time_window(1234.0)


def test_time_axis_ticks_whole_hours_of_the_site_in_its_civil_time(qtbot):
    start = datetime(2026, 7, 1, 7, 25, 30)  # not on a whole hour: ticks must shift
    panel = TrendPanel(start)
    qtbot.addWidget(panel)
    panel.resize(900, 600)
    panel.graphics.grab()  # lay out and draw the axis once, as showing it would
    hour_s = 3600.0
    axis = panel.site_views["power"].plot.getAxis("bottom")
    hours = dict(axis.tickValues(0.0, DAY_S, 900))[hour_s]
    assert len(hours) >= 3
    labels = axis.tickStrings(hours, 1.0, hour_s)
    for value, label in zip(hours, labels, strict=True):
        moment = start + timedelta(seconds=value)
        assert (moment.minute, moment.second) == (0, 0)
        assert label == f"{moment:%H:%M}"


def test_selection_is_trended_per_unit_from_the_selection_on_and_cleared(panel, base):
    panel.append(at(base, 0.0, gpu_temp_max_c=50.0))
    series = (
        ("GPU temperature", "°C", lambda s: s.site["gpu_temp_max_c"]),
        ("Power", "kW", lambda s: s.site["it_power_kw"]),
        ("Outlet", "°C", lambda s: s.site["gpu_temp_max_c"] - 10.0),
    )
    panel.set_selection("rack A-01", series)
    assert [view.spec.unit for view in panel.selection_views] == ["°C", "kW"]
    assert [view.caption.textItem.toPlainText() for view in panel.selection_views] == [
        "▾ rack A-01 (°C)",
        "▾ rack A-01 (kW)",
    ]
    for t, gpu_c, it_kw in ((10.0, 60.0, 100.0), (20.0, 62.0, 110.0)):
        panel.append(at(base, t, gpu_temp_max_c=gpu_c, it_power_kw=it_kw))
    panel.refresh()
    temperatures, power = panel.selection_views
    x, gpu = (np.asarray(a) for a in temperatures.curves[0].getOriginalDataset())
    np.testing.assert_allclose(x[::2], [0, 10, 20])  # starts with the values at selection
    np.testing.assert_allclose(gpu[::2], [50, 60, 62])
    np.testing.assert_allclose(
        np.asarray(temperatures.curves[1].getOriginalDataset()[1])[::2], [40, 50, 52]
    )
    np.testing.assert_allclose(
        np.asarray(power.curves[0].getOriginalDataset()[1])[::2],
        [base.site["it_power_kw"], 100, 110],
    )
    plots = [view.plot for view in panel.selection_views]
    panel.set_selection(None, ())
    assert panel.selection_views == [] and panel.selection_history is None
    assert not any(plot.isVisible() for plot in plots)  # kept, hidden, for the next one
    panel.set_selection("CDU 1", (("Flow", "L/min", lambda s: 2500.0),))
    assert panel.selection_views[0].plot is plots[0]  # reused, not made again
    assert panel.selection_views[0].caption.textItem.toPlainText() == "▾ CDU 1 (L/min)"
    assert [c.name() for c in panel.selection_views[0].curves] == [None]
    assert not plots[1].isVisible() and plots[0].isVisible()
    assert panel.selection_views[0].plot.getAxis("left").labelUnits == "L/min"
    panel.set_selection(None, ())
    panel.append(at(base, 30.0))  # still records the site
    panel.refresh()
    assert curve_data(panel, "power", "IT power")[0][-1] == 30.0


def test_crosshair_readout_shows_the_values_at_a_time_with_units(panel, base):
    for k in range(11):
        panel.append(at(base, 60.0 * k, it_power_kw=1000.0 * k, gpu_temp_max_c=50.0 + k))
    panel.refresh()
    panel.show_readout(185.0)  # nearest sample: 180 s
    power = panel.site_views["power"]
    text = power.readout.textItem.toPlainText()
    assert "IT power 3.00 MW" in text
    assert f"Import cap {base.power.grid_import_cap_kw / 1000:.2f} MW" in text
    assert "Hottest GPU 53.0 °C" in panel.site_views["temperatures"].readout.textItem.toPlainText()
    assert power.line.isVisible() and power.line.value() == 185.0
    assert power.readout.isVisible()
    assert not panel.site_views["cost"].readout.isVisible()  # hidden plots stay quiet
    stamp = START + timedelta(seconds=185)
    assert panel.cursor_label.text().startswith(f"{stamp:%Y-%m-%d %H:%M:%S}")
    panel.hide_readout()
    assert not power.line.isVisible() and not power.readout.isVisible()
    assert panel.cursor_label.text() == ""


def test_readout_shows_the_range_of_a_bin_that_holds_several_values(panel, base):
    for t, gpu_c in ((0.0, 61.0), (0.1, 67.5), (0.2, 64.0)):
        panel.append(at(base, t, gpu_temp_max_c=gpu_c))
    panel.refresh()
    panel.show_readout(0.1)
    text = panel.site_views["temperatures"].readout.textItem.toPlainText()
    assert "Hottest GPU 61.0–67.5 °C" in text


def test_moving_the_mouse_over_a_plot_shows_the_readout_and_leaving_hides_it(panel, base, qtbot):
    from PySide6.QtCore import QEvent, QPointF
    from PySide6.QtWidgets import QApplication

    for k in range(16):
        panel.append(at(base, 60.0 * k, it_power_kw=1000.0 * k))
    panel.refresh()
    view = panel.site_views["power"]
    viewbox = view.plot.getViewBox()
    scene_pos = QPointF(
        viewbox.mapViewToScene(QPointF(300.0, 0.0)).x(), viewbox.sceneBoundingRect().center().y()
    )
    qtbot.mouseMove(panel.graphics.viewport(), panel.graphics.mapFromScene(scene_pos))
    qtbot.waitUntil(view.readout.isVisible, timeout=30_000)
    assert view.line.value() == pytest.approx(300.0, abs=5.0)
    assert "IT power 5.00 MW" in view.readout.textItem.toPlainText()
    QApplication.sendEvent(panel.graphics, QEvent(QEvent.Type.Leave))
    assert not view.readout.isVisible()


def test_zooming_a_plot_stops_following_and_moves_all_plots_live_resumes(panel, base, qtbot):
    from PySide6.QtCore import QPoint, QPointF, Qt
    from PySide6.QtGui import QWheelEvent
    from PySide6.QtWidgets import QApplication

    for k in range(20):
        panel.append(at(base, 60.0 * k))
    panel.refresh()
    followed = panel.site_views["power"].plot.viewRange()[0]
    viewbox = panel.site_views["pue"].plot.getViewBox()
    pos = panel.graphics.mapFromScene(viewbox.sceneBoundingRect().center())
    wheel = QWheelEvent(
        QPointF(pos),
        QPointF(panel.graphics.viewport().mapToGlobal(pos)),
        QPoint(),
        QPoint(0, 240),
        Qt.MouseButton.NoButton,
        Qt.KeyboardModifier.NoModifier,
        Qt.ScrollPhase.NoScrollPhase,
        False,
    )
    QApplication.sendEvent(panel.graphics.viewport(), wheel)
    assert not panel.following and not panel.live_button.isChecked()
    zoomed = viewbox.viewRange()[0]
    assert zoomed[1] - zoomed[0] < followed[1] - followed[0]
    for view in panel.views():
        assert view.plot.viewRange()[0] == pytest.approx(zoomed)
    panel.append(at(base, 5000.0))
    panel.refresh()
    assert viewbox.viewRange()[0] == pytest.approx(zoomed)  # stays where the user put it
    panel.live_button.click()
    assert panel.following
    assert viewbox.viewRange()[0] == pytest.approx([5000.0 - 900.0, 5000.0])


def test_user_chooses_the_plots_shown(panel, base):
    panel.append(at(base, 0.0))
    shown = {key for key, view in panel.site_views.items() if view.plot.isVisible()}
    assert shown == {plot.key for plot in SITE_PLOTS if plot.shown}
    assert {"power", "temperatures", "tokens"} <= shown
    panel.plot_actions["tokens"].trigger()  # unchecks it, as a click in the menu does
    assert not panel.site_views["tokens"].plot.isVisible()
    panel.set_plot_shown("cost", True)
    assert panel.plot_actions["cost"].isChecked()
    assert panel.site_views["cost"].plot.isVisible()
    lowest = panel.shown_views()[-1]
    assert lowest is panel.site_views["co2"] or lowest is panel.site_views["cost"]
    assert lowest.plot.getAxis("bottom").style["showValues"]
    assert not panel.site_views["power"].plot.getAxis("bottom").style["showValues"]
    panel.set_selection("rack", (("Power", "kW", lambda s: 1.0),))
    panel.set_plot_shown(SELECTION_KEY, False)
    assert not panel.selection_views[0].plot.isVisible()


def test_export_writes_the_plots_shown_to_png_and_their_data_to_csv(panel, base, tmp_path):
    from PySide6.QtGui import QImage

    for k in range(5):
        panel.append(at(base, 10.0 * k, it_power_kw=1234.5 * (k + 1), pue=1.1 + 0.01 * k))
    panel.set_plot_shown("pue", False)
    png, table = tmp_path / "trends.png", tmp_path / "trends.csv"
    panel.export_png(png)
    image = QImage(str(png))
    assert not image.isNull()
    assert image.width() == pytest.approx(panel.graphics.ci.width(), abs=2)
    pixels = np.array(
        [
            image.pixelColor(x, y).lightness()
            for x in range(0, image.width(), 13)
            for y in range(0, image.height(), 11)
        ]
    )
    assert pixels.std() > 5  # plots drawn, not a flat background

    panel.export_csv(table)
    with table.open(newline="") as file:
        rows = list(csv.reader(file))
    header, data = rows[0], np.array(rows[1:], dtype=float)
    assert "IT power [MW]_x" in header and "Hottest GPU [°C]_y" in header
    assert not any(name.startswith("PUE") for name in header)  # hidden plots are left out
    x = data[:, header.index("IT power [MW]_x")]
    it_mw = data[:, header.index("IT power [MW]_y")]
    np.testing.assert_allclose(x, np.repeat([0, 10, 20, 30, 40], 2))
    np.testing.assert_allclose(it_mw, np.repeat(1.2345 * np.arange(1, 6), 2))


def test_export_failures_raise_a_clear_error_and_the_menu_reports_them(
    panel, base, tmp_path, monkeypatch, qtbot
):
    from PySide6.QtWidgets import QFileDialog, QMessageBox

    panel.append(at(base, 0.0))
    missing = tmp_path / "no-such-folder" / "trends"
    for export, suffix in ((panel.export_png, ".png"), (panel.export_csv, ".csv")):
        with pytest.raises(ExportError, match=r"Could not write .*no-such-folder"):
            export(missing.with_suffix(suffix))

    chosen = [str(tmp_path / "chosen"), str(missing)]  # the dialog adds no suffix
    monkeypatch.setattr(QFileDialog, "getSaveFileName", lambda *args, **kwargs: (chosen.pop(0), ""))
    panel.export_csv_action.trigger()
    assert (tmp_path / "chosen.csv").is_file()
    assert panel.findChild(QMessageBox) is None
    panel.export_csv_action.trigger()
    box = panel.findChild(QMessageBox)
    assert box is not None and box.isVisible()
    assert "no-such-folder" in box.text()
    box.close()


def test_time_going_backwards_clears_the_history(panel, base):
    for k in range(10):
        panel.append(at(base, 100.0 + 10 * k, it_power_kw=5000.0))
    panel.append(at(base, 5.0, it_power_kw=2000.0))  # the simulation was reset
    panel.refresh()
    x, y = curve_data(panel, "power", "IT power")
    np.testing.assert_allclose(x, [5.0, 5.0])
    np.testing.assert_allclose(y, [2.0, 2.0])
    panel.clear()
    assert panel.latest_time_s is None and panel.site_history.empty
    assert len(curve_data(panel, "power", "IT power")[0]) == 0


def test_a_hidden_panel_records_but_draws_only_when_shown(panel, base, qtbot):
    panel.append(at(base, 0.0, it_power_kw=1000.0))
    panel.refresh()
    panel.hide()
    panel.append(at(base, 10.0, it_power_kw=3000.0))
    qtbot.wait(3 * 50)
    assert curve_data(panel, "power", "IT power")[0][-1] == 0.0  # not redrawn while hidden
    panel.show()
    qtbot.waitExposed(panel)
    x, y = curve_data(panel, "power", "IT power")
    assert x[-1] == 10.0 and y[-1] == 3.0


def test_plots_follow_the_theme(panel, base):
    from PySide6.QtCore import Qt
    from PySide6.QtGui import QColor

    panel.set_selection("rack", (("Power", "kW", lambda s: 1.0),))
    views = panel.views()

    def colours():
        return [curve.opts["pen"].color().name() for view in views for curve in view.curves]

    dark = colours()
    panel.apply_theme(LIGHT)
    light = colours()
    assert panel.graphics.backgroundBrush().color() == QColor(LIGHT.base)
    assert light != dark
    cap = panel.site_views["power"].curves[-1].opts["pen"]
    assert cap.color() == QColor(LIGHT.alarm) and cap.style() == Qt.PenStyle.DashLine
    axis = panel.site_views["power"].plot.getAxis("left")
    assert axis.textPen().color() == QColor(LIGHT.text)
    panel.apply_theme(DARK)
    assert colours() == dark


def _selection_y_range(
    panel, base, name: str, values: list[float], first_t: float
) -> tuple[float, float]:
    """The value range the first selection plot shows after ``values`` came in, one a
    snapshot from ``first_t`` on, 10 s apart."""
    feed = iter(values)
    panel.set_selection(name, (("Flow", "L/min", lambda s: next(feed)),))
    for k in range(1, len(values)):
        panel.append(at(base, first_t + 10.0 * k))
    panel.refresh()
    viewbox = panel.selection_views[0].plot.getViewBox()
    viewbox.updateAutoRange()
    low, high = viewbox.viewRange()[1]
    return low, high


def test_a_steady_value_is_drawn_flat_not_magnified_to_its_last_digits(panel, base):
    panel.append(at(base, 0.0))
    low, high = _selection_y_range(
        panel, base, "CDU 1", [189.7852, 189.7856, 189.7853, 189.7855], 0.0
    )
    assert high - low >= 0.01 * 189.7856 - 1e-9  # a percent of the value, not 0.0004
    assert low <= 189.7852 and high >= 189.7856  # and the data in view
    # a value that really moves still fills the plot
    low, high = _selection_y_range(panel, base, "CDU 2", [100.0, 150.0, 200.0, 250.0], 30.0)
    assert high - low < 2 * (250.0 - 100.0)
