"""``twin gui --study RESULTS``: the study view, and the replay windows it opens."""

from __future__ import annotations

import json
import sys
import time
from pathlib import Path
from typing import Any

from twin.gui.app import display_problem
from twin.gui.study_view import load_study_runs


def replay_window(recording_folder: Path, theme: str, windows: list[Any]) -> Any:
    """A twin window playing a recording, as ``twin replay`` opens it; opening another
    scenario from it runs that scenario live in a new window. ``windows`` holds every
    window opened (each leaves it when it closes)."""
    from twin.alarms import AlarmEngine
    from twin.gui._qt.main_window import MainWindow
    from twin.runs.recording import Recording
    from twin.runs.replay import ReplaySimulation
    from twin.scenario import load
    from twin.sim.engine import Simulation
    from twin.sim.site import Site

    recording = Recording.open(recording_folder)
    scenario_file = recording.scenario_file()
    scenario = load(scenario_file)
    window = MainWindow(
        scenario,
        ReplaySimulation(recording, Site.build(scenario)),
        alarms=AlarmEngine.from_scenario(scenario),
        theme=theme,
        source=str(scenario_file),
    )

    def open_live(chosen: Any, source: str) -> None:
        live = MainWindow(
            chosen,
            Simulation.from_scenario(chosen),
            alarms=AlarmEngine.from_scenario(chosen),
            theme=window.theme.name,
            source=source,
        )
        live.setGeometry(window.geometry())
        _keep(live, windows)
        live.show()
        window.close()

    window.scenario_chosen.connect(open_live)
    _keep(window, windows)
    return window


def _keep(window: Any, windows: list[Any]) -> None:
    from PySide6.QtCore import Qt

    window.setAttribute(Qt.WidgetAttribute.WA_DeleteOnClose)
    window.destroyed.connect(lambda: windows.remove(window) if window in windows else None)
    windows.append(window)


def run_study_gui(
    folder: Path, *, exit_after_s: float | None = None, screenshot: Path | None = None
) -> int:
    """Open the study view on a results folder (already checked to be one); returns the
    process exit code. With ``exit_after_s`` the window closes by itself, first saving a
    PNG of itself to ``screenshot``, and prints one line of JSON (runs shown, points)."""
    problem = display_problem()
    if problem is not None:
        print(
            f"twin gui needs a display: {problem}.\n"
            "Run it under a desktop session, or `xvfb-run twin gui` on a machine "
            "without one.",
            file=sys.stderr,
        )
        return 2
    runs = load_study_runs(folder)
    from twin.gui.app import create_application
    from twin.settings import load_settings

    app = create_application()
    from PySide6.QtCore import QTimer

    from twin.gui._qt.study_window import StudyWindow
    from twin.gui._qt.theme import THEMES

    settings, _ = load_settings()
    theme = THEMES[settings.theme]
    theme.apply(app)
    replays: list[Any] = []

    def open_replay(recording_folder: Path) -> None:
        replay_window(recording_folder, theme.name, replays).show()

    view = StudyWindow(runs, open_replay, theme=theme)
    view.show()
    started = time.monotonic()
    saved = True
    if exit_after_s is not None:

        def finish() -> None:
            nonlocal saved
            if screenshot is not None:
                saved = view.grab().save(str(screenshot))
                if not saved:
                    print(f"twin gui: could not write the screenshot {screenshot}", file=sys.stderr)
            print(
                json.dumps(
                    {
                        "study": runs.plan.study.study.name,
                        "runs_shown": len(view.runs.run_ids),
                        "points": int(view.point_rows.size),
                        "wall_s": round(time.monotonic() - started, 1),
                    }
                )
            )
            for window in list(replays):
                window.close()
            view.close()

        QTimer.singleShot(round(exit_after_s * 1000), finish)
    app.exec()
    return 0 if saved else 1
