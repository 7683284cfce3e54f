"""GUI fixtures: a window factory that fails on leaks (on ``tests.fakes.FakeSimulation``
unless a test gives its own simulation)."""

from __future__ import annotations

import threading

import pytest

from tests.fakes import FakeSimulation, scenario_named
from twin.alarms import AlarmEngine


def _python_threads() -> set[threading.Thread]:
    return {t for t in threading.enumerate() if t.is_alive()}


@pytest.fixture
def make_window(qtbot, qapp):
    """Build a MainWindow on a FakeSimulation; close it afterwards and fail the test if
    top-level widgets or threads outlive it."""
    import vispy

    from twin.gui._qt.main_window import MainWindow

    vispy.use(app="pyside6", gl="gl+")
    widgets_before = set(qapp.topLevelWidgets())
    threads_before = _python_threads()
    windows: list[MainWindow] = []

    def factory(name: str = "seoul-ai-factory", **kwargs) -> MainWindow:
        scenario = scenario_named(name)
        simulation = kwargs.pop("simulation", None) or FakeSimulation(scenario)
        alarms = kwargs.pop("alarms", None) or AlarmEngine.from_scenario(scenario)
        window = MainWindow(scenario, simulation, alarms=alarms, **kwargs)
        if kwargs.get("settings") is None:  # saved settings bring their own size
            window.resize(1280, 800)
        window.show()
        qtbot.waitExposed(window)
        windows.append(window)
        return window

    yield factory

    for window in windows:
        window.close()
        window.deleteLater()
    qtbot.waitUntil(lambda: all(not w.runner.running for w in windows), timeout=30_000)
    qapp.processEvents()
    qapp.sendPostedEvents(None, 0)  # run the deleteLater calls
    qapp.processEvents()
    leaked_widgets = [
        w for w in qapp.topLevelWidgets() if w not in widgets_before and w.isVisible()
    ]
    leaked_threads = _python_threads() - threads_before
    if leaked_widgets or leaked_threads:
        pytest.fail(
            f"the window leaked widgets {leaked_widgets} or threads "
            f"{[t.name for t in leaked_threads]}"
        )
