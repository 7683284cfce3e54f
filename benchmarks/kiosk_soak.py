"""Kiosk soak: the trade-show tour at full simulation speed for a long while, with the
frame rate and the resident memory at its start and at its end.

Run: .venv/bin/python benchmarks/kiosk_soak.py [--minutes 30] [--story NAME|PATH]
         [--scenario NAME|PATH] [--sample-s 10] [--warm-up-s 60] [--as-written]
Without a display it starts Xvfb (1920x1080) for itself. The story plays as in
`twin kiosk`, full screen, except that every step runs the simulation as fast as it goes
(the heaviest load the show puts on the GUI thread; its steps still end on their
simulated conditions); --as-written keeps the story's speeds, as visitors see it. One
line per sample (time, frames per second over the sample, resident memory, loop and
step), one line per step that ended at its wall-clock cap or whose claim (``expect``)
did not show, then per step how often it ended on its condition and how often its
claims showed, and the start and end figures:
frames per second as the mean of the last three samples against the same steps in the
first loop (each step has its own view; before the show loops, against the first three
samples after the warm-up), resident memory after the warm-up and at the end, and the
change of each in %.
Target (issue 7): memory growth under 5 % over 30 minutes and no drop in frames per second.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import time
from pathlib import Path

SCREEN = "1920x1080"
EDGE_SAMPLES = 3


def rss_mib() -> float:
    """Resident memory now (not the peak), from the kernel."""
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    raise RuntimeError("no VmRSS in /proc/self/status")


def start_xvfb(size: str = SCREEN) -> subprocess.Popen:
    """An Xvfb of our own of ``size`` on a free display number, which it reports on a pipe."""
    read_end, write_end = os.pipe()
    server = subprocess.Popen(
        ["Xvfb", "-displayfd", str(write_end), "-screen", "0", f"{size}x24", "-nolisten", "tcp"],
        pass_fds=(write_end,),
        stderr=subprocess.DEVNULL,
    )
    os.close(write_end)
    with os.fdopen(read_end) as pipe:
        display = pipe.readline().strip()
    if not display:
        server.terminate()
        raise RuntimeError("Xvfb did not start")
    os.environ["DISPLAY"] = f":{display}"
    return server


def soak(args: argparse.Namespace) -> dict[str, object]:
    from PySide6.QtCore import QEvent, QTimer

    from twin.gui.app import create_application
    from twin.gui.kiosk._qt.window import KioskWindow
    from twin.gui.kiosk.app import prepare
    from twin.gui.kiosk.show import StepOutcome
    from twin.sim.engine import Simulation

    story, path, scenario, site = prepare(args.story, args.scenario)
    if not args.as_written:
        flat_out = [step.model_copy(update={"speed": None}) for step in story.steps]
        story = story.model_copy(update={"steps": flat_out})
    app = create_application()
    window = KioskWindow(
        scenario, Simulation.from_scenario(scenario, site=site), story, story_path=path
    )
    window.setGeometry(app.primaryScreen().geometry())
    window.showFullScreen()
    started = time.monotonic()
    samples: list[dict[str, object]] = []
    last = [started, 0]

    def sample() -> None:
        now, frames = time.monotonic(), window.canvas.frames_drawn
        row = {
            "t_s": round(now - started),
            "fps": round((frames - last[1]) / (now - last[0]), 1),
            "rss_mib": round(rss_mib(), 1),
            "loop": window.show_.loops,
            "step": window.show_.step.name,
            "restarts": window.show_.restarts,
        }
        last[:] = [now, frames]
        samples.append(row)
        print(json.dumps(row), flush=True)

    outcomes: list[StepOutcome] = []

    def ended(outcome: StepOutcome) -> None:
        outcomes.append(outcome)
        if outcome.ended_by == "cap" or not outcome.claims_shown:
            print(f"  {outcome.text()}", flush=True)

    window.show_.listeners.append(ended)
    timer = QTimer()
    timer.timeout.connect(sample)
    timer.start(round(args.sample_s * 1000))
    QTimer.singleShot(round(args.minutes * 60_000), window.leave)
    app.exec()
    timer.stop()
    loops, restarts = window.show_.loops, window.show_.restarts
    # Qt must be gone before our Xvfb is: it would find its display lost at exit
    window.deleteLater()
    app.sendPostedEvents(None, QEvent.Type.DeferredDelete)
    app.shutdown()

    settled = [s for s in samples if s["t_s"] >= args.warm_up_s]
    if len(settled) < 2 * EDGE_SAMPLES:
        raise SystemExit("too few samples after the warm-up: run longer or sample more often")
    final = settled[-EDGE_SAMPLES:]
    # Each step has its own view and frame rate: once the show has looped, the end is
    # compared with the same steps in the first loop, else with the first samples.
    same_steps = [
        s
        for s in settled
        if s["loop"] == settled[0]["loop"] and s["step"] in {f["step"] for f in final}
    ]
    looped = final[0]["loop"] > settled[0]["loop"] and bool(same_steps)
    first = same_steps if looped else settled[:EDGE_SAMPLES]
    fps_start = statistics.mean(s["fps"] for s in first)
    fps_end = statistics.mean(s["fps"] for s in final)
    rss_start, rss_end = settled[0]["rss_mib"], final[-1]["rss_mib"]
    return {
        "minutes": args.minutes,
        "story": story.story.name,
        "scenario": scenario.scenario.name,
        "loops": loops,
        "restarts": restarts,
        "fps_start": round(fps_start, 1),
        "fps_end": round(fps_end, 1),
        "fps_compared_with": "the same steps in the first loop"
        if looped
        else "the first samples (the show had not looped)",
        "fps_change_pct": round(100 * (fps_end / fps_start - 1), 1),
        "rss_start_mib": rss_start,
        "rss_end_mib": rss_end,
        "rss_growth_pct": round(100 * (rss_end / rss_start - 1), 2),
        "rss_peak_mib": max(s["rss_mib"] for s in samples),
        "steps": step_summary(story, outcomes),
    }


def step_summary(story, outcomes) -> dict[str, dict[str, object]]:
    """Per step: how many times it ended, how many of those on its condition (not its
    cap), how many with every claim shown, and the claims' last measured changes."""
    summary: dict[str, dict[str, object]] = {}
    for step in story.steps:
        mine = [o for o in outcomes if o.step == step.name]
        summary[step.name] = {
            "ended": len(mine),
            "on_condition": sum(o.ended_by != "cap" for o in mine),
            "claims": [e.text() for e in step.expect],
            "claims_shown": sum(o.claims_shown for o in mine) if step.expect else None,
            "last": mine[-1].text() if mine else None,
        }
    return summary


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--minutes", type=float, default=30.0, help="how long (default 30)")
    parser.add_argument("--story", help="built-in story name or TOML file (default the tour)")
    parser.add_argument("--scenario", help="built-in scenario or TOML file (default the story's)")
    parser.add_argument(
        "--sample-s", type=float, default=10.0, help="seconds between samples (default 10)"
    )
    parser.add_argument(
        "--warm-up-s",
        type=float,
        default=60.0,
        help="seconds left out of the start figures (default 60)",
    )
    parser.add_argument(
        "--as-written",
        action="store_true",
        help="keep the story's speeds (default: every step as fast as the simulation goes)",
    )
    args = parser.parse_args()
    server = start_xvfb() if not os.environ.get("DISPLAY") else None
    try:
        result = soak(args)
    finally:
        if server is not None:
            server.terminate()
            server.wait(10)
    print(
        f"frames per second  start {result['fps_start']}  end {result['fps_end']}  "
        f"change {result['fps_change_pct']:+} % (the end against "
        f"{result['fps_compared_with']})"
    )
    print(
        f"resident memory    start {result['rss_start_mib']} MiB  end "
        f"{result['rss_end_mib']} MiB  growth {result['rss_growth_pct']:+} %  peak "
        f"{result['rss_peak_mib']} MiB"
    )
    for name, row in result["steps"].items():
        claims = (
            f"claims shown {row['claims_shown']}/{row['ended']}"
            if row["claims"]
            else "no claim stated"
        )
        ended = f"ended {row['ended']}, on its condition {row['on_condition']}"
        print(f"step {name:<20} {ended}, {claims}")
    missed = [
        name
        for name, row in result["steps"].items()
        if row["claims"] and row["claims_shown"] != row["ended"]
    ]
    print(f"steps whose claim did not show: {', '.join(missed) or 'none'}")
    met = result["rss_growth_pct"] < 5 and result["fps_change_pct"] > -5
    print(
        f"{result['loops']} loop(s), {result['restarts']} restart(s); target (memory "
        f"growth under 5 %, fps within 5 % of the start): {'met' if met else 'missed'}"
    )
    print(json.dumps(result))
    return 0


if __name__ == "__main__":
    sys.exit(main())
