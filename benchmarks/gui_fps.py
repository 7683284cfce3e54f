"""Window frame rate, input latency and start-up, with the simulation running.

Run: xvfb-run -a -s "-screen 0 1920x1080x24" .venv/bin/python benchmarks/gui_fps.py
         [--scenario NAME ...] [--speed 60|max ...] [--seconds 10] [--profile N]
         [--size 1920x1080] [--antialiasing auto|on|off]
Each scenario and speed runs in a fresh process, so that start-up counts from launch.
The real main window opens at --size (default 1920x1080) on the real engine and goes through four
phases of --seconds each:
  window as it runs  the window's own timer pulls snapshots (its fps is what users see);
  redrawing at once  a 0 ms timer pulls and redraws without pause: the most the view can
                     draw, and the frame time to optimise;
  empty scene        redrawing at once with every adapter hidden: the ceiling that
                     clearing, Qt's composition and the swap leave on this machine;
  input              the window as it runs, sent a key press (Space: pause) and a click on
                     a rack (picking) from another thread at random moments, as the window
                     system would; timed to their handler and, for clicks, to the next frame.
Frame times are the intervals between draws of the canvas; percentiles and medians, since
machines are shared and noisy; CPU per frame (the GUI thread's and the software
rasteriser's, the simulation thread's left out) changes less with others' load.
--profile N adds phases of redrawing at once that show where frame time goes: draw time
and shader rebuilds per visual, the GUI thread's top N functions under cProfile, and each
adapter's update time.
Targets: seoul-ai-factory 60 fps, gigawatt 30 fps, input answered within 50 ms, the live
scenario shown within 3 s of start. Coolant tables come from the per-user cache, as `twin`
reads them; the very first start on a machine builds them (about 1.3 s more).
"""

from __future__ import annotations

import argparse
import cProfile
import itertools
import json
import multiprocessing
import os
import pstats
import random
import statistics
import sys
import threading
import time
from collections import defaultdict
from concurrent.futures import ProcessPoolExecutor
from pathlib import Path

import numpy as np
from PySide6.QtCore import QEventLoop, QObject, QPoint, Qt, QTimer, Signal
from PySide6.QtGui import QKeySequence
from PySide6.QtTest import QTest

from twin.gui.app import EXIT_NO_DISPLAY, display_problem

SCENARIOS = ("seoul-ai-factory", "gigawatt")
WINDOW_SIZE = (1920, 1080)
SETTLE_S = 2.0  # after the first live frame: first uploads, caches and the runner's pace
START_TIMEOUT_S = 120.0
STATS_INTERVAL_MS = 500  # the runner's own stats window
INPUT_GAP_S = (0.1, 0.3)  # random, so that input lands at every phase of a frame
ANSWER_TIMEOUT_S = 2.0
PROFILED_UPDATE_REPEATS = 20


def rss_mib() -> float:
    """Resident memory now (not the peak), from the kernel."""
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    raise RuntimeError("no VmRSS in /proc/self/status")


def rendering_cpu_s() -> float:
    """CPU time this process has used so far, less that of its Python threads other than
    the GUI thread (the simulation's): what the GUI thread and the software rasteriser's
    threads used, which other load on a shared machine changes far less than frame rates."""
    total = time.process_time()
    tick = os.sysconf("SC_CLK_TCK")
    for thread in threading.enumerate():
        if thread is threading.main_thread() or thread.native_id is None:
            continue
        try:
            stat = Path(f"/proc/self/task/{thread.native_id}/stat").read_text()
        except OSError:  # it ended meanwhile
            continue
        utime, stime = stat.rsplit(")", 1)[1].split()[11:13]
        total -= (int(utime) + int(stime)) / tick
    return total


def percentiles_ms(seconds: list[float] | np.ndarray) -> dict[str, float]:
    if len(seconds) == 0:
        return {"p50": float("nan"), "p95": float("nan"), "p99": float("nan")}
    p50, p95, p99 = np.percentile(np.asarray(seconds) * 1000, [50, 95, 99])
    return {"p50": float(p50), "p95": float(p95), "p99": float(p99)}


def run_for(seconds: float) -> None:
    """Let the GUI thread's event loop run, as app.exec would (no sleeping poll)."""
    loop = QEventLoop()
    QTimer.singleShot(round(seconds * 1000), loop.quit)
    loop.exec()


def wait_until(condition, timeout_s: float) -> bool:
    loop = QEventLoop()

    def check() -> None:
        if condition():
            loop.quit()

    poll = QTimer()
    poll.setInterval(10)
    poll.timeout.connect(check)
    poll.start()
    QTimer.singleShot(round(timeout_s * 1000), loop.quit)
    loop.exec()
    poll.stop()
    return condition()


class FrameClock:
    """Times every draw of the canvas: when it began and when its scene was drawn (GL
    commands flushed; llvmpipe rasterises and Qt composes after that)."""

    def __init__(self, window) -> None:
        self.window = window
        self.begins: list[float] = []
        self.ends: list[float] = []
        self.live_at: float | None = None
        draw = window.canvas.canvas.events.draw
        draw.connect(self._on_begin, position="first")
        draw.connect(self._on_end, position="last")

    def _on_begin(self, _event) -> None:
        self.begins.append(time.perf_counter())

    def _on_end(self, _event) -> None:
        self.ends.append(time.perf_counter())
        if self.live_at is None and self.window.snapshot is not None:
            self.live_at = self.ends[-1]


def observe(window, clock: FrameClock, seconds: float) -> dict:
    """Frames drawn and simulation pace over ``seconds`` of the event loop."""
    stats = []
    sampler = QTimer()
    sampler.setInterval(STATS_INTERVAL_MS)
    sampler.timeout.connect(lambda: stats.append(window.runner.stats()))
    first = len(clock.begins)
    began, cpu_began = time.perf_counter(), rendering_cpu_s()
    sampler.start()
    run_for(seconds)
    sampler.stop()
    elapsed, cpu = time.perf_counter() - began, rendering_cpu_s() - cpu_began
    begins = np.array(clock.begins[first:])
    ends = np.array(clock.ends[first : len(clock.begins)])
    running = [s for s in stats if not s.paused and s.steps_per_s > 0]
    return {
        "frames": len(begins),
        "fps": len(begins) / elapsed,
        "frame_ms": percentiles_ms(np.diff(begins)),
        "cpu_ms_per_frame": 1000 * cpu / max(1, len(begins)),
        "scene_draw_ms": percentiles_ms(ends - begins[: len(ends)]),
        "steps_per_s": statistics.median(s.steps_per_s for s in running) if running else 0.0,
        "realtime_factor": statistics.median(s.speed for s in running) if running else 0.0,
    }


class ContinuousRedraw:
    """Pulls the newest snapshot and asks for a frame at every turn of the event loop, so
    frames come as fast as the GUI thread can draw them."""

    def __init__(self, window) -> None:
        self.window = window
        self.pull_s: list[float] = []  # pulls that showed a new snapshot: adapters and widgets
        self._timer = QTimer()
        self._timer.setInterval(0)
        self._timer.timeout.connect(self._tick)

    def __enter__(self) -> ContinuousRedraw:
        self._timer.start()
        return self

    def __exit__(self, *_exc) -> None:
        self._timer.stop()

    def _tick(self) -> None:
        shown = self.window.shown_generation
        began = time.perf_counter()
        self.window.pull_snapshot()
        if self.window.shown_generation != shown:
            self.pull_s.append(time.perf_counter() - began)
        self.window.canvas.canvas.update()


class InputProbe(QObject):
    """Sends Space (run/pause) and rack clicks from another thread at random moments and
    times the window's answer. Qt delivers the request to the GUI thread through its event
    queue, behind whatever the window is busy with, as it would a key from the window system."""

    requested = Signal(str, float)  # what to send, and perf_counter when it was sent

    def __init__(self, window) -> None:
        super().__init__()
        self.window = window
        self.handled_s: dict[str, list[float]] = {"key": [], "click": []}
        self.drawn_s: list[float] = []  # click to the frame showing the selection
        self.sent = 0
        self._sent_at = 0.0
        self._awaiting_draw = False
        self._answered = threading.Event()
        space = QKeySequence(Qt.Key.Key_Space)
        run_pause = [a for a in window.actions() if a.shortcut() == space]
        if not run_pause:
            raise RuntimeError("the window has no Space shortcut to run and pause")
        run_pause[0].triggered.connect(self._on_key_handled)  # after the window's own slot
        # last of the release handlers: after the window has picked and selected
        window.canvas.canvas.events.mouse_release.connect(self._on_click_handled, position="last")
        window.canvas.canvas.events.draw.connect(self._on_drawn, position="last")
        self.requested.connect(self._deliver, Qt.ConnectionType.QueuedConnection)
        layout = window.layout_.racks
        rack = layout.count // 2
        top = np.append(layout.center_m[rack, :2], layout.upper_m[rack, 2])
        x, y = window.canvas.screen_position(top)
        self.click_at = QPoint(round(x), round(y))

    def run(self, seconds: float) -> None:
        sender = threading.Thread(
            target=self._send, args=(time.perf_counter() + seconds,), name="input-sender"
        )
        sender.start()
        run_for(seconds + ANSWER_TIMEOUT_S)
        sender.join()

    def _send(self, until: float) -> None:
        rng = random.Random(7)
        for kind in itertools.cycle(("key", "click")):
            time.sleep(rng.uniform(*INPUT_GAP_S))
            if time.perf_counter() >= until:
                return
            self._answered.clear()
            self.sent += 1
            self.requested.emit(kind, time.perf_counter())
            self._answered.wait(ANSWER_TIMEOUT_S)  # one at a time; a lost one is counted

    def _deliver(self, kind: str, sent_at: float) -> None:
        self._sent_at = sent_at
        if kind == "key":
            QTest.keyClick(self.window, Qt.Key.Key_Space)
        else:
            QTest.mouseClick(
                self.window.canvas.canvas.native, Qt.MouseButton.LeftButton, pos=self.click_at
            )

    def _on_key_handled(self) -> None:
        self.handled_s["key"].append(time.perf_counter() - self._sent_at)
        self.window.set_running(True)  # Space paused it: keep the simulation at full pace
        self._answered.set()

    def _on_click_handled(self, _event) -> None:
        self.handled_s["click"].append(time.perf_counter() - self._sent_at)
        self._awaiting_draw = True

    def _on_drawn(self, _event) -> None:
        if self._awaiting_draw:
            self._awaiting_draw = False
            self.drawn_s.append(time.perf_counter() - self._sent_at)
            self._answered.set()

    def summary(self) -> dict:
        answered = len(self.handled_s["key"]) + len(self.drawn_s)
        return {
            "key_handled_ms": percentiles_ms(self.handled_s["key"]),
            "click_handled_ms": percentiles_ms(self.handled_s["click"]),
            "click_drawn_ms": percentiles_ms(self.drawn_s),
            "sent": self.sent,
            "unanswered": self.sent - answered,
        }


class VisualCosts:
    """Per frame, each visual's draw time and the shader programs vispy rebuilt for it,
    summed by adapter. A rebuild (compile and link) follows a change of a visual's data
    layout, such as a new instance buffer; it costs milliseconds under software GL."""

    def __init__(self) -> None:
        self.draw_s: dict[str, float] = defaultdict(float)
        self.rebuilds: dict[str, int] = defaultdict(int)
        self._built = 0

    def __enter__(self) -> VisualCosts:
        from vispy.scene.visuals import VisualNode
        from vispy.visuals.shaders.program import ModularProgram

        self._originals = (VisualNode.draw, ModularProgram._build)
        draw, build = self._originals

        def timed_draw(node) -> None:
            built, began = self._built, time.perf_counter()
            draw(node)
            # adapters hang their visuals under a root node named after the adapter
            key = f"{node.parent.name or '(canvas)'}: {type(node).__name__}"
            self.draw_s[key] += time.perf_counter() - began
            self.rebuilds[key] += self._built - built

        def counted_build(program) -> None:
            self._built += 1
            build(program)

        VisualNode.draw, ModularProgram._build = timed_draw, counted_build
        return self

    def __exit__(self, *_exc) -> None:
        from vispy.scene.visuals import VisualNode
        from vispy.visuals.shaders.program import ModularProgram

        VisualNode.draw, ModularProgram._build = self._originals

    def print(self, frames: int) -> None:
        print(f"{'draw per frame, by adapter: visual':<44}{'ms':>8}{'rebuilds':>10}")
        for key in sorted(self.draw_s, key=self.draw_s.get, reverse=True):
            print(
                f"  {key:<42}{1000 * self.draw_s[key] / frames:8.2f}"
                f"{self.rebuilds[key] / frames:10.2f}"
            )
        print(
            f"  {'all visuals':<42}{1000 * sum(self.draw_s.values()) / frames:8.2f}"
            f"{sum(self.rebuilds.values()) / frames:10.2f}"
        )


def median_ms(function, argument) -> float:
    times = []
    for _ in range(PROFILED_UPDATE_REPEATS):
        began = time.perf_counter()
        function(argument)
        times.append(time.perf_counter() - began)
    return 1000 * statistics.median(times)


def profile_frames(window, clock: FrameClock, seconds: float, top: int, title: str) -> None:
    """Where the frame time of redrawing at once goes: visuals, then the GUI thread's
    functions under cProfile (which slows them), then each snapshot consumer."""
    print(f"\n--- where frame time goes, redrawing at once: {title} ---")
    with ContinuousRedraw(window), VisualCosts() as costs:
        frames = observe(window, clock, seconds)
    print(
        f"{frames['fps']:.1f} fps, frame p50 {frames['frame_ms']['p50']:.1f} ms, scene draw "
        f"p50 {frames['scene_draw_ms']['p50']:.1f} ms"
    )
    costs.print(max(1, frames["frames"]))
    profile = cProfile.Profile()
    with ContinuousRedraw(window):
        profile.enable()
        run_for(seconds)
        profile.disable()
    stats = pstats.Stats(profile, stream=sys.stdout)
    stats.sort_stats("tottime").print_stats(top)
    stats.sort_stats("cumulative").print_stats(top)
    print("update from the newest snapshot, median ms:")
    snapshot = window.snapshot
    for adapter in window.canvas.adapters:
        print(f"  {type(adapter).__name__:<20}{median_ms(adapter.update, snapshot):8.2f}")
    for widget, update in (
        (window.kpis, window.kpis.update_snapshot),
        (window.inspector, window.inspector.update_snapshot),
    ):
        print(f"  {type(widget).__name__:<20}{median_ms(update, snapshot):8.2f}")


def measure(
    name: str,
    speed: float | None,
    seconds: float,
    profile_top: int,
    size: tuple[int, int],
    launched_at: float,
    antialiasing: str = "auto",
) -> dict:
    """One window on one scenario, in this (fresh) process."""
    rss_at_launch = rss_mib()
    # the window's modules load here, after the memory of a bare process is read
    from twin.alarms import AlarmEngine
    from twin.gui._qt.main_window import MainWindow
    from twin.gui.app import create_application
    from twin.paths import cache_dir
    from twin.scenario import load
    from twin.sim import coolant
    from twin.sim.engine import Simulation

    loading = time.perf_counter()
    scenario = load(name)
    with coolant.tables_cached_in(cache_dir() / "coolant"):  # as `twin` does (twin.cli.main)
        simulation = Simulation.from_scenario(scenario)
    app = create_application()
    window = MainWindow(
        scenario, simulation, alarms=AlarmEngine.from_scenario(scenario), speed=speed, running=True
    )
    if antialiasing != "auto":
        window.canvas.canvas.antialiasing = antialiasing
    clock = FrameClock(window)
    window.setGeometry(0, 0, *size)
    window.show()
    window.activateWindow()  # shortcuts go to the active window
    if not wait_until(lambda: clock.live_at is not None, START_TIMEOUT_S):
        raise RuntimeError(
            f"{name}: no live frame within {START_TIMEOUT_S:.0f} s "
            f"({len(clock.ends)} frames drawn, snapshot "
            f"{'shown' if window.snapshot is not None else 'never shown'})"
        )
    result = {
        "scenario": name,
        "speed": "max" if speed is None else f"{speed:g}",
        "fxaa": getattr(window.canvas.canvas, "fxaa", False),
        "racks": window.topology.rack_count,
        "canvas_px": list(window.canvas.canvas.physical_size),
        "startup_s": time.time() - launched_at - (time.perf_counter() - clock.live_at),
        "startup_from_load_s": clock.live_at - loading,
        "rss_mib_at_launch": rss_at_launch,
        "rss_mib_at_first_frame": rss_mib(),
    }
    run_for(SETTLE_S)
    result["window"] = observe(window, clock, seconds)
    with ContinuousRedraw(window) as redraw:
        result["redraw"] = observe(window, clock, seconds)
    result["redraw"]["snapshot_to_widgets_ms"] = percentiles_ms(redraw.pull_s)
    result["empty_scene"] = empty_scene(window, clock, seconds)
    probe = InputProbe(window)
    probe.run(seconds)
    result["input"] = probe.summary()
    if profile_top:
        profile_frames(window, clock, seconds, profile_top, f"{name} at speed {result['speed']}")
    result["rss_mib_at_end"] = rss_mib()
    window.close()
    app.processEvents()
    result["runner_stopped"] = not window.runner.running
    return result


def empty_scene(window, clock: FrameClock, seconds: float) -> dict:
    """Redrawing at once with every adapter hidden: what clearing the canvas, Qt's
    composition of the window and the swap cost on this machine, the ceiling of any scene."""
    roots = [adapter.root for adapter in window.canvas.adapters]
    shown = [root.visible for root in roots]
    for root in roots:
        root.visible = False
    with ContinuousRedraw(window):
        result = observe(window, clock, seconds)
    for root, visible in zip(roots, shown, strict=True):
        root.visible = visible
    return {
        "fps": result["fps"],
        "frame_ms": result["frame_ms"],
        "cpu_ms_per_frame": result["cpu_ms_per_frame"],
    }


def parse_speed(text: str) -> float | None:
    from twin.gui._qt.controls import SPEEDS  # the speeds the window offers

    speed = None if text == "max" else float(text)
    offered = [value for _, value in SPEEDS]
    if speed not in offered:
        choices = ", ".join("max" if v is None else f"{v:g}" for v in offered)
        raise argparse.ArgumentTypeError(f"the window offers the speeds {choices}")
    return speed


def print_table(results: list[dict]) -> None:
    def pair(ms: dict) -> str:
        return f"{ms['p50']:.0f}/{ms['p95']:.0f}"

    rows = [
        (
            "",
            "",
            "start-up",
            "window",
            "window frame",
            "redraw",
            "redraw frame",
            "redraw CPU",
            "empty",
            "empty CPU",
            "key",
            "click",
            "click→frame",
            "simulation",
            "x real",
            "RSS MiB",
            "load",
        ),
        (
            "scenario",
            "speed",
            "s",
            "fps",
            "p50/p95 ms",
            "fps",
            "p50/p95/p99 ms",
            "ms/frame",
            "fps",
            "ms/frame",
            "p50/p95 ms",
            "p50/p95 ms",
            "p50/p95 ms",
            "steps/s",
            "time",
            "first→end",
            "before",
        ),
    ]
    for r in results:
        w, d, i = r["window"], r["redraw"], r["input"]
        rows.append(
            (
                r["scenario"],
                r["speed"],
                f"{r['startup_s']:.2f}",
                f"{w['fps']:.1f}",
                pair(w["frame_ms"]),
                f"{d['fps']:.1f}",
                f"{pair(d['frame_ms'])}/{d['frame_ms']['p99']:.0f}",
                f"{d['cpu_ms_per_frame']:.1f}",
                f"{r['empty_scene']['fps']:.1f}",
                f"{r['empty_scene']['cpu_ms_per_frame']:.1f}",
                pair(i["key_handled_ms"]),
                pair(i["click_handled_ms"]),
                pair(i["click_drawn_ms"]),
                f"{w['steps_per_s']:,.0f}",
                f"{w['realtime_factor']:,.0f}",
                f"{r['rss_mib_at_first_frame']:.0f}→{r['rss_mib_at_end']:.0f}",
                f"{r['load_before']:.1f}",
            )
        )
    widths = [max(len(row[c]) for row in rows) + 2 for c in range(len(rows[0]))]
    print()
    for row in rows:
        print(
            row[0].ljust(widths[0])
            + "".join(cell.rjust(width) for cell, width in zip(row[1:], widths[1:], strict=True))
        )
    print(
        "window: the window's own snapshot timer, as users see it; redraw: a frame asked for "
        "at every turn\nof the event loop, the most the view draws; empty: the same with "
        "nothing in the scene, the\nceiling set by clearing, composing and swapping the "
        "window. CPU: the\nGUI thread's and the rasteriser's CPU time per frame (the simulation's "
        "left out), which load\non a shared machine changes far less than fps. "
        "Key and click: sent at "
        "random moments while the\nwindow runs, to their handler; click→frame: to the frame "
        "showing the selection. Simulation:\nwhile the window runs. Load: the 1-minute load "
        "average before the run (others on the machine)."
    )


def parse_size(text: str) -> tuple[int, int]:
    try:
        width, height = (int(part) for part in text.lower().split("x"))
    except ValueError:
        raise argparse.ArgumentTypeError(
            f"{text!r} is no size; write WIDTHxHEIGHT, e.g. 1280x720"
        ) from None
    if width < 64 or height < 64:
        raise argparse.ArgumentTypeError(f"{text!r} is too small; at least 64x64")
    return width, height


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "--scenario", action="append", help="repeatable; default: " + ", ".join(SCENARIOS)
    )
    parser.add_argument(
        "--speed",
        action="append",
        type=parse_speed,
        help="real-time factor or max, repeatable; default 60",
    )
    parser.add_argument("--seconds", type=float, default=10.0, help="length of each phase")
    parser.add_argument(
        "--size",
        type=parse_size,
        default=WINDOW_SIZE,
        help="window size WIDTHxHEIGHT; default 1920x1080",
    )
    parser.add_argument(
        "--antialiasing",
        choices=("auto", "on", "off"),
        default="auto",
        help="FXAA in the 3D view; default auto (off on software OpenGL)",
    )
    parser.add_argument(
        "--profile",
        type=int,
        default=0,
        metavar="N",
        help="profile the GUI thread and print the top N functions",
    )
    args = parser.parse_args()
    problem = display_problem()
    if problem is not None:
        print(
            f"gui_fps needs a display: {problem}. Run it under Xvfb:\n"
            '  xvfb-run -a -s "-screen 0 1920x1080x24" .venv/bin/python '
            "benchmarks/gui_fps.py",
            file=sys.stderr,
        )
        return EXIT_NO_DISPLAY
    results = []
    for name in args.scenario or SCENARIOS:
        for speed in args.speed or [60.0]:
            # a pool of one per run: its process starts at submit, so start-up counts it
            load_before = os.getloadavg()[0]
            with ProcessPoolExecutor(1, mp_context=multiprocessing.get_context("spawn")) as pool:
                result = pool.submit(
                    measure,
                    name,
                    speed,
                    args.seconds,
                    args.profile,
                    args.size,
                    time.time(),
                    args.antialiasing,
                ).result()
            result["load_before"] = load_before
            print(json.dumps(result), flush=True)
            results.append(result)
    print_table(results)
    return 0


if __name__ == "__main__":
    sys.exit(main())
