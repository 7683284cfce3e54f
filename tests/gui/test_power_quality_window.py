"""The power-quality view: the check runs on a thread while the window answers, its spectra
and the limit line land in the plot with a verdict per case, closing it cancels a check
under way, and the main window's "Power quality…" opens it for its scenario."""

from __future__ import annotations

import threading

import pytest
from PySide6.QtWidgets import QApplication

from twin.grid.power_quality import check, site_draw, spectrum, with_smoothing
from twin.gui import power_quality_view as view
from twin.gui._qt.power_quality import PowerQualityWindow
from twin.scenario import load

pytestmark = pytest.mark.gui


def _swinging_rack():
    s = load("single-rack")
    job = s.workloads[0].model_copy(
        update={"comm_utilization": 0.15, "comm_fraction": 0.3, "iteration_period_s": 2.0}
    )
    return s.model_copy(update={"workloads": [job]})


def _check_threads() -> list[threading.Thread]:
    return [t for t in threading.enumerate() if t.name == "twin-power-quality"]


@pytest.fixture
def open_view(qtbot):
    windows: list[PowerQualityWindow] = []

    def factory(scenario, **kwargs) -> PowerQualityWindow:
        window = PowerQualityWindow(scenario, **kwargs)
        qtbot.addWidget(window)
        window.show()
        qtbot.waitExposed(window)
        windows.append(window)
        return window

    yield factory
    for window in windows:
        window.close()
    assert _check_threads() == []


def test_the_spectra_the_limit_and_the_verdicts_are_shown(open_view, qtbot) -> None:
    scenario = _swinging_rack()
    window = open_view(scenario, duration_s=20.0, settle_s=10.0)
    with qtbot.waitSignal(window.checked, timeout=120000) as shown:
        window.start()
        # busy until the result comes back through the event loop
        assert window.progress.isVisible() and not window.run_button.isEnabled()
    result = shown.args[0]
    assert window.result is result and not window.running
    assert not window.progress.isVisible() and window.run_button.isEnabled()
    items = window.plot.getPlotItem().listDataItems()
    names = [item.name() for item in items]
    assert names == [*view_labels(result), "limit 20 % of the mean draw"]
    limit = items[-1].getData()
    assert list(limit[1]) == [20.0, 20.0]
    assert list(limit[0]) == list(result.cases[0].compliance.seen_hz)
    # the plotted spectrum is the site's own: the unsmoothed case run again gives its peak
    plain = site_draw(with_smoothing(scenario, None, bess_smoothing=False), 20.0, 0.1, 10.0)
    again = check(spectrum(plain.power_kw, 0.1))
    assert max(items[0].getData()[1]) == pytest.approx(100 * again.worst_relative, rel=1e-9)
    text = window.verdicts.text()
    assert "no smoothing: fails" in text
    assert "GPU smoothing (floor 0.6): passes" in text


def view_labels(result) -> list[str]:
    return [curve.label for curve in view.curves(result)]


def test_closing_the_view_cancels_a_check_under_way(open_view, qtbot) -> None:
    window = open_view(load("single-rack"), duration_s=3600.0, settle_s=60.0)
    window.start()
    qtbot.waitUntil(lambda: "running:" in window.status.text(), timeout=30000)
    assert window.running
    window.close()  # returns once the thread has stopped
    assert not window.running and _check_threads() == []
    assert window.result is None


def test_the_main_window_opens_the_view_for_its_scenario(make_window, qtbot) -> None:
    window = make_window("single-rack", running=False)
    action = next(
        a
        for menu in window.menuBar().actions()
        if menu.menu() is not None
        for a in menu.menu().actions()
        if a.text() == "&Power quality…"
    )
    action.trigger()
    view_window = window.power_quality
    assert view_window is not None and view_window.isVisible()
    assert view_window.scenario is window.scenario
    qtbot.waitUntil(lambda: "running:" in view_window.status.text(), timeout=30000)
    window.close()  # the view closes with it, its check cancelled
    assert not view_window.isVisible() and not view_window.running
    assert window.power_quality is None
    QApplication.processEvents()
    assert _check_threads() == []


def test_opening_the_view_again_replaces_the_one_open(make_window, qtbot) -> None:
    window = make_window("single-rack", running=False)
    first = window.show_power_quality()
    assert first.running, first.status.text()  # its check is under way on its thread
    second = window.show_power_quality()  # the first's check stops, its window goes
    assert second is not first and window.power_quality is second
    assert not first.isVisible() and not first.running and second.running
    assert len(_check_threads()) == 1
