"""Screenshots of the window at every viewpoint and of the kiosk at every act of its story,
in each language and size, with what a script can check of each.

Run (a display as large as the largest size):
    xvfb-run -a -s "-screen 0 3840x2160x24" .venv/bin/python benchmarks/screenshots.py \
        [--out screenshots] [--scenario seoul-ai-factory ...] [--size 1920x1080 ...] \
        [--language en ko] [--story ai-factory-tour] [--views N] [--acts N]

Writes ``main-SCENARIO-WxH-VIEW.png`` and ``kiosk-LANG-WxH-NN-STEP.png`` into --out and
prints a row per picture: the labels drawn, those outside the view or overlapping another
(both must be 0), those moved aside with a leader line, and the frames per second the
view drew while it was taken (median of the frame intervals over --seconds). The window
runs the real simulation at 60x; a kiosk act is entered as its story enters it (its
viewpoint, colour field, caption and callout), the story's events left to the tour.
"""

from __future__ import annotations

import argparse
import itertools
import statistics
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

SIZES = ("1920x1080", "3840x2160")
FRAMES = 6  # frames drawn after a viewpoint is set, before the picture: labels laid out


def _size(text: str) -> tuple[int, int]:
    try:
        width, height = (int(v) for v in text.lower().split("x"))
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not a size such as 1920x1080") from None
    if not (320 <= width <= 7680 and 240 <= height <= 4320):
        raise argparse.ArgumentTypeError(f"{text!r} must lie within 320x240 .. 7680x4320")
    return width, height


def _label_check(board, width: float, height: float) -> tuple[int, int, int, int]:
    """(drawn, outside the view, overlapping another, moved with a leader)."""
    plates = [p.plate for p in board.placed]
    outside = sum(
        1
        for x0, y0, x1, y1 in plates
        if x0 < -0.5 or y0 < -0.5 or x1 > width + 0.5 or y1 > height + 0.5
    )
    overlapping = sum(
        1
        for i, a in enumerate(plates)
        for b in plates[i + 1 :]
        if a[0] < b[2] - 0.5 and b[0] < a[2] - 0.5 and a[1] < b[3] - 0.5 and b[1] < a[3] - 0.5
    )
    moved = sum(1 for p in board.placed if p.moved)
    return len(plates), outside, overlapping, moved


def _wait_frames(app, canvas, count: int, timeout_s: float = 120.0) -> float:
    """Let the view draw ``count`` frames; their median rate, frames per second."""
    start = canvas.frames_drawn
    stamps = []
    deadline = time.monotonic() + timeout_s
    while canvas.frames_drawn < start + count and time.monotonic() < deadline:
        seen = canvas.frames_drawn
        app.processEvents()
        if canvas.frames_drawn != seen:
            stamps.append(time.monotonic())
        time.sleep(0.005)
    gaps = [b - a for a, b in itertools.pairwise(stamps)]
    return 1.0 / statistics.median(gaps) if gaps else float("nan")


def _row(name: str, fps: float, check: tuple[int, int, int, int]) -> str:
    drawn, outside, overlapping, moved = check
    verdict = "ok" if outside == 0 and overlapping == 0 else "LABELS"
    return f"{name:<52} {fps:6.1f} {drawn:6d} {outside:7d} {overlapping:7d} {moved:6d}  {verdict}"


def main_window(
    app,
    scenario_name: str,
    size: tuple[int, int],
    out: Path,
    views: int | None,
    failures: list[str],
) -> None:
    from twin.alarms import AlarmEngine
    from twin.gui._qt.main_window import MainWindow
    from twin.scenario import load
    from twin.sim.engine import Simulation

    scenario = load(scenario_name)
    simulation = Simulation.from_scenario(scenario)
    window = MainWindow(
        scenario, simulation, alarms=AlarmEngine.from_scenario(scenario), speed=60.0
    )
    try:
        window.resize(*size)
        window.show()
        deadline = time.monotonic() + 120.0
        while window.snapshot is None and time.monotonic() < deadline:
            app.processEvents()
            time.sleep(0.01)
        canvas = window.canvas
        keys = list(canvas.viewpoints)[:views]
        for key in keys:
            canvas.go_to(key, animate=False)
            fps = _wait_frames(app, canvas, FRAMES)
            width, height = canvas.view.size
            check = _label_check(canvas.labels, width, height)
            name = f"main-{scenario_name}-{size[0]}x{size[1]}-{key}.png"
            if not window.save_screenshot(out / name):
                failures.append(f"{name}: not written")
            if check[1] or check[2]:
                failures.append(f"{name}: {check[1]} labels outside, {check[2]} overlapping")
            print(_row(name, fps, check), flush=True)
    finally:
        window.close()
        window.runner.stop(10.0)
        window.deleteLater()
        app.processEvents()


def kiosk(
    app,
    story_name: str,
    language: str,
    size: tuple[int, int],
    out: Path,
    acts: int | None,
    failures: list[str],
) -> None:
    from twin.gui.kiosk._qt.window import KioskWindow
    from twin.gui.kiosk.app import prepare
    from twin.sim.engine import Simulation

    story, story_path, scenario, site = prepare(story_name, None)
    window = KioskWindow(
        scenario,
        Simulation.from_scenario(scenario, site=site),
        story,
        story_path=story_path,
        language=language,
    )
    try:
        window.resize(*size)
        window.show()
        canvas = window.canvas
        _wait_frames(app, canvas, FRAMES)
        for number, step in enumerate(story.steps[:acts], start=1):
            window.enter_step(step)
            flight_end = time.monotonic() + step.flight_s
            while time.monotonic() < flight_end:  # the camera's flight to the act's view
                app.processEvents()
                time.sleep(0.01)
            fps = _wait_frames(app, canvas, FRAMES)
            width, height = canvas.view.size
            check = _label_check(canvas.labels, width, height)
            name = f"kiosk-{language}-{size[0]}x{size[1]}-{number:02d}-{step.name}.png"
            if not window.save_screenshot(out / name):
                failures.append(f"{name}: not written")
            if check[1] or check[2]:
                failures.append(f"{name}: {check[1]} labels outside, {check[2]} overlapping")
            print(_row(name, fps, check), flush=True)
    finally:
        window.leave()  # the kiosk's only way out: a plain close is refused
        window.deleteLater()
        app.processEvents()


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--out", type=Path, default=Path("screenshots"))
    parser.add_argument("--scenario", nargs="+", default=["seoul-ai-factory", "gigawatt"])
    parser.add_argument("--size", nargs="+", type=_size, default=[_size(s) for s in SIZES])
    parser.add_argument("--language", nargs="+", choices=("en", "ko"), default=["en", "ko"])
    parser.add_argument("--story", default="ai-factory-tour")
    parser.add_argument("--views", type=int, default=None, help="only the first N viewpoints")
    parser.add_argument("--acts", type=int, default=None, help="only the first N acts")
    args = parser.parse_args(argv)

    from twin.gui.app import EXIT_NO_DISPLAY, display_problem

    problem = display_problem()
    if problem:
        print(problem, file=sys.stderr)
        return EXIT_NO_DISPLAY
    import vispy
    from PySide6.QtWidgets import QApplication

    vispy.use(app="pyside6", gl="gl+")
    app = QApplication.instance() or QApplication([])
    args.out.mkdir(parents=True, exist_ok=True)
    failures: list[str] = []
    print(f"{'picture':<52} {'fps':>6} {'labels':>6} {'outside':>7} {'overlap':>7} {'moved':>6}")
    for size in args.size:
        for name in args.scenario:
            main_window(app, name, size, args.out, args.views, failures)
        for language in args.language:
            kiosk(app, args.story, language, size, args.out, args.acts, failures)
    for failure in failures:
        print(f"FAIL {failure}")
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
