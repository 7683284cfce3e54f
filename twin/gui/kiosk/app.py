"""Start kiosk mode: check the story against its scenario, then run the show full screen
until Ctrl+Shift+Q, with screen sleep inhibited and a bounded log of what happened. The
values are shown in the display units of the user's settings (View > Units in the
window); the kiosk reads the settings and never saves them."""

from __future__ import annotations

import json
import logging
import sys
import time
from logging.handlers import RotatingFileHandler
from pathlib import Path

from twin.gui.kiosk.story import (
    DEFAULT_STORY,
    Story,
    check_story,
    load_story,
    resolve_story,
    staged,
    story_scenario,
)
from twin.paths import log_dir
from twin.scenario import Scenario, load
from twin.settings import load_settings
from twin.sim.site import Site
from twin.sim.weather import check_hourly_csv

EXIT_NO_DISPLAY = 2
LOG_FILE = "kiosk.log"
LOG_BYTES = 1_000_000  # a file of about 1 MB and three older ones: bounded over weeks
LOG_BACKUPS = 3

log = logging.getLogger("twin.kiosk")


def prepare(
    story_name_or_path: str | Path | None, scenario_name_or_path: str | Path | None
) -> tuple[Story, Path, Scenario, Site]:
    """The story, its file, the scenario it will play on and that scenario's site,
    checked against each other; a ScenarioError lists every problem. The scenario is
    staged for the story (its start, no scheduled events of its own)."""
    from twin.gui.colors import rack_color_fields
    from twin.gui.viewpoints import site_viewpoints

    path = resolve_story(story_name_or_path or DEFAULT_STORY)
    story = load_story(path)
    scenario = staged(story, load(scenario_name_or_path or story_scenario(story, path)))
    check_hourly_csv(scenario)
    site = Site.build(scenario)
    viewpoints = site_viewpoints(
        site.layout, site.topology.hall_names, tuple(cell.name for cell in scenario.workcells)
    )
    check_story(
        story,
        str(path),
        scenario,
        site.topology,
        viewpoints,
        [field.key for field in rack_color_fields(scenario)],
    )
    return story, path, scenario, site


def log_path() -> Path:
    return log_dir() / LOG_FILE


def _start_logging() -> logging.Handler | None:
    """Log to stderr and to a rotating file; None if the file cannot be written."""
    log.setLevel(logging.INFO)
    if not any(isinstance(h, logging.StreamHandler) for h in log.handlers):
        log.addHandler(logging.StreamHandler(sys.stderr))
    path = log_path()
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        handler = RotatingFileHandler(
            path, maxBytes=LOG_BYTES, backupCount=LOG_BACKUPS, encoding="utf-8"
        )
    except OSError as exc:
        log.warning("kiosk: cannot write the log file %s: %s", path, exc.strerror or exc)
        return None
    handler.setFormatter(logging.Formatter("%(asctime)s %(levelname)s %(message)s"))
    log.addHandler(handler)
    return handler


def run_kiosk(
    story_name_or_path: str | Path | None = None,
    scenario_name_or_path: str | Path | None = None,
    *,
    language: str = "en",
    screen: str | None = None,
    exit_after_s: float | None = None,
    screenshot: Path | None = None,
) -> int:
    """Run the show; returns the process exit code.

    ``screen`` is a screen's number (0, 1, ...) or name (as Qt lists them; default the
    primary). With ``exit_after_s`` the show leaves by itself after that many seconds,
    first saving a PNG of the screen to ``screenshot``, and prints one line of JSON:
    frames drawn, frames per second, simulated seconds and what the show was showing.
    """
    story, path, scenario, site = prepare(story_name_or_path, scenario_name_or_path)
    from twin.gui.app import create_application, display_problem

    problem = display_problem()
    if problem is not None:
        print(
            f"twin kiosk needs a display: {problem}.\n"
            "Run it in a desktop session, or under `xvfb-run` to try it.",
            file=sys.stderr,
        )
        return EXIT_NO_DISPLAY
    started = time.monotonic()
    app = create_application()
    chosen = _screen(app, screen)
    if isinstance(chosen, str):
        print(f"twin kiosk: {chosen}", file=sys.stderr)
        return EXIT_NO_DISPLAY
    handler = _start_logging()
    settings, settings_problem = load_settings()
    if settings_problem is not None:
        log.warning("kiosk: %s", settings_problem)
    from wakepy import keep

    from twin.gui.kiosk._qt.window import QUIT_COMBINATION, KioskWindow
    from twin.sim.engine import Simulation

    window = KioskWindow(
        scenario,
        Simulation.from_scenario(scenario, site=site),
        story,
        story_path=path,
        language=language,
        units=settings.units,
    )
    window.setGeometry(chosen.geometry())
    window.showFullScreen()
    log.info(
        "kiosk: story %s on %s in %s, %s units, on screen %r; %s leaves",
        story.story.name,
        scenario.scenario.name,
        language,
        settings.units,
        chosen.name(),
        QUIT_COMBINATION,
    )
    saved = True
    if exit_after_s is not None:
        from PySide6.QtCore import QTimer

        def finish() -> None:
            nonlocal saved
            if screenshot is not None:
                saved = window.save_screenshot(screenshot)
                if not saved:
                    print(
                        f"twin kiosk: could not write the screenshot {screenshot}", file=sys.stderr
                    )
            frames = window.canvas.frames_drawn
            print(
                json.dumps(
                    {
                        "frames_drawn": frames,
                        "fps": round(frames / (time.monotonic() - started), 1),
                        "simulated_s": window.snapshot.time_s if window.snapshot else 0.0,
                        "scenario": scenario.scenario.name,
                        "story": story.story.name,
                        **window.state(),
                    },
                    ensure_ascii=False,
                )
            )
            window.leave()

        QTimer.singleShot(round(exit_after_s * 1000), finish)

    def restart_on_error(kind, value, traceback) -> None:
        # an exception escaping a Qt callback ends up here: the show goes on
        log.error("kiosk: uncaught exception", exc_info=(kind, value, traceback))
        window.show_.fail(f"{kind.__name__}: {value}")

    previous_hook, sys.excepthook = sys.excepthook, restart_on_error
    try:
        with keep.presenting(on_fail="pass") as awake:
            if awake.active:
                log.info("kiosk: screen sleep inhibited (%s)", awake.active_method)
            else:
                log.warning(
                    "kiosk: screen sleep could not be inhibited:\n%s",
                    awake.result.get_failure_text(),
                )
            app.exec()
    finally:
        sys.excepthook = previous_hook
        if handler is not None:
            log.removeHandler(handler)
            handler.close()
    return 0 if saved else 1


def _screen(app, wanted: str | None):
    """The screen named or numbered ``wanted`` (default the primary), or why there is none."""
    screens = app.screens()
    if wanted is None:
        return app.primaryScreen()
    for number, screen in enumerate(screens):
        if wanted in (str(number), screen.name()):
            return screen
    listing = ", ".join(f"{n} ({s.name()})" for n, s in enumerate(screens))
    return f"no screen {wanted!r}; the screens are {listing}"
