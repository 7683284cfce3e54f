"""Start the window: check for a display, build the QApplication, run until closed."""

from __future__ import annotations

import json
import os
import sys
import time
from collections.abc import Callable, Mapping, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

from twin.resources import resource_dir
from twin.scenario import Scenario, ScenarioError, load
from twin.settings import load_settings
from twin.sim.weather import check_hourly_csv

if TYPE_CHECKING:
    from twin.alarms import AlarmEngine
    from twin.runs.observe import RunObserver
    from twin.runs.replay import SiteSeries

DEFAULT_SCENARIO = "seoul-ai-factory"
APP_ID = "io.github.twin.Twin"  # the desktop entry's and AppStream's id (packaging/linux)
EXIT_NO_DISPLAY = 2
# Qt platforms that draw without an X11 or Wayland server and can still host OpenGL
_PLATFORMS_WITHOUT_SERVER = ("eglfs", "vnc")


def display_problem(
    environ: Mapping[str, str] = os.environ, platform: str = sys.platform
) -> str | None:
    """Why no window could be shown here, or None when a display is available."""
    if not platform.startswith("linux"):
        return None
    qpa = environ.get("QT_QPA_PLATFORM", "").split(":", 1)[0].strip().lower()
    if qpa == "offscreen" or qpa == "minimal":
        return f"QT_QPA_PLATFORM={qpa} cannot host the OpenGL 3D view"
    if qpa in _PLATFORMS_WITHOUT_SERVER:
        return None
    if environ.get("DISPLAY") or environ.get("WAYLAND_DISPLAY"):
        return None
    return "neither DISPLAY nor WAYLAND_DISPLAY is set"


def create_application():
    """The QApplication twin's windows run in, set up once per process."""
    # Native windows (the 3D view) are painted when Qt delivers their update request,
    # by default 5 ms after it is asked for: a fifth of a frame at 40 fps, idle. Read once,
    # when the first request is made; a value the user set is kept.
    os.environ.setdefault("QT_QPA_UPDATE_IDLE_TIME", "0")
    # PyOpenGL checks glGetError after every call; vispy makes hundreds of calls a frame.
    import OpenGL

    OpenGL.ERROR_CHECKING = False
    # Qt and vispy are imported only once a window can be shown
    import vispy
    from PySide6.QtCore import Qt
    from PySide6.QtGui import QGuiApplication, QIcon
    from PySide6.QtWidgets import QApplication

    # The simulation thread runs Python between numpy calls; a shorter GIL switch interval
    # (default 5 ms) keeps the GUI thread's many short waits for the GIL short.
    sys.setswitchinterval(0.001)
    app = QApplication.instance()
    if app is None:
        # fractional scale factors (150 %) as they are: crisp text on high-DPI laptops
        QGuiApplication.setHighDpiScaleFactorRoundingPolicy(
            Qt.HighDpiScaleFactorRoundingPolicy.PassThrough
        )
        app = QApplication(sys.argv[:1])
    app.setApplicationName("twin")
    app.setOrganizationName("twin")
    # Wayland compositors match windows to the installed menu entry by this name
    app.setDesktopFileName(APP_ID)
    app.setWindowIcon(QIcon(str(resource_dir() / "icons" / "twin.svg")))
    app.setStyle("Fusion")  # the same look on every platform, themed by our palette
    vispy.use(app="pyside6", gl="gl+")
    return app


def run_gui(
    scenario_name_or_path: str | Path | None,
    simulation_factory: Callable[[Scenario], Any],
    *,
    exit_after_s: float | None = None,
    screenshot: Path | None = None,
    theme: str | None = None,
    language: str | None = None,
    reference: SiteSeries | None = None,
    observers: Callable[[Scenario, Any], Sequence[RunObserver]] | None = None,
    alarms: Callable[[Scenario, Any], AlarmEngine] | None = None,
    connection: Callable[[], str] | None = None,
) -> int:
    """Open the twin window on a scenario; returns the process exit code.

    ``simulation_factory`` builds the simulation the window runs (duck-typed, see
    ``twin.gui.runner.SimulationLike``). With ``exit_after_s`` the window closes by
    itself after that many seconds, first saving a PNG of itself to ``screenshot``, and
    prints one line of JSON: frames drawn, frames per second and simulated seconds.
    Opening another scenario from the window replaces it with a new one. Without a
    scenario the last one opened comes back; theme, speed and the window's layout are the
    user's settings (``twin.settings``), saved when a window closes. ``language`` (en, ko)
    is the first window's; others speak the saved one (View > Language). ``reference``, a run
    already checked (``twin.runs.replay.read_reference``), is compared with the first window's run.
    ``observers(scenario, simulation)`` gives the run observers of each window's run
    (``twin.runs.observe``: plant telemetry, studies); ``alarms(scenario, simulation)`` its
    alarm engine (by default the scenario's alarms). ``connection()``, when given, tells
    the state of the run's outside connection (a broker) in the status bar.
    """
    problem = display_problem()
    if problem is not None:
        print(
            f"twin gui needs a display: {problem}.\n"
            "Run it under a desktop session, or `xvfb-run twin gui` on a machine "
            "without one.",
            file=sys.stderr,
        )
        return EXIT_NO_DISPLAY

    started = time.monotonic()
    # a smoke test (--exit-after) leaves the user's settings as they are
    settings, settings_problem = load_settings()
    source = str(scenario_name_or_path or settings.last_scenario or DEFAULT_SCENARIO)
    try:
        scenario = load(source)
        if scenario_name_or_path is None:  # one given was checked as the command needs
            check_hourly_csv(scenario)
    except ScenarioError as exc:
        if scenario_name_or_path is not None:
            raise  # the command line reports it
        settings_problem = f"the last scenario could not be opened again: {exc}"
        source = DEFAULT_SCENARIO
        scenario = load(source)
    app = create_application()
    from PySide6.QtCore import QTimer

    from twin.alarms import AlarmEngine
    from twin.gui._qt.main_window import MainWindow

    current: list[MainWindow] = []
    persist = exit_after_s is None

    def open_window(
        chosen: Scenario, chosen_source: str, previous: MainWindow | None = None
    ) -> None:
        simulation = simulation_factory(chosen)
        window = MainWindow(
            chosen,
            simulation,
            alarms=(
                alarms(chosen, simulation)
                if alarms is not None
                else AlarmEngine.from_scenario(chosen)
            ),
            observers=observers(chosen, simulation) if observers else (),
            connection=connection,
            theme=previous.theme.name if previous else theme or settings.theme,
            speed=settings.speed,
            language=(language if previous is None else None) or settings.language,
            settings=settings if persist else None,
            source=chosen_source,
            reference=reference if previous is None else None,
        )
        window.scenario_chosen.connect(lambda s, src: open_window(s, src, window))
        if previous is not None:
            window.setGeometry(previous.geometry())
            previous.close()
            previous.deleteLater()
            current.remove(previous)
        current.append(window)
        window.show()
        if settings_problem and previous is None:
            window.statusBar().showMessage(settings_problem, 20000)

    open_window(scenario, source)
    saved = True
    if exit_after_s is not None:

        def finish() -> None:
            nonlocal saved
            window = current[-1]
            if screenshot is not None:
                saved = window.save_screenshot(screenshot)
                if not saved:
                    print(f"twin gui: could not write the screenshot {screenshot}", file=sys.stderr)
            elapsed = time.monotonic() - started
            frames = window.canvas.frames_drawn
            print(
                json.dumps(
                    {
                        "frames_drawn": frames,
                        "fps": round(frames / elapsed, 1),
                        "simulated_s": window.snapshot.time_s if window.snapshot else 0.0,
                        "scenario": window.scenario.scenario.name,
                    }
                )
            )
            window.close()

        QTimer.singleShot(round(exit_after_s * 1000), finish)
    app.exec()
    return 0 if saved else 1
