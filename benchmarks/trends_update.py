"""Time the trend dock: one redraw (curves set and painted) and one selection change.

Run: xvfb-run -a -s "-screen 0 1920x1080x24" .venv/bin/python benchmarks/trends_update.py
         [--scenario NAME] [--repeats 30]
The panel is 1400x320 px, as in the window, fed one snapshot of the real engine moved on
in time (the trends read only site figures, so one step of physics is enough). Printed:
  append     recording one snapshot (every frame, 30-60 Hz)
  redraw     ``refresh`` (curves set from the rings) and a synchronous repaint of the
             plots: the cost of one redraw, paid at the panel's redraw rate
  select     ``set_selection`` with a repaint, alternately for two racks and for a rack
             and a CDU (other units, so other plots): what a click in the 3D view adds
Medians and quartiles in ms, since machines are shared and noisy; the redraw rate and
the redraw time per second of wall time follow from ``REDRAW_INTERVAL_MS``.
"""

from __future__ import annotations

import argparse
import dataclasses
import statistics
import time


def _quartiles(samples: list[float]) -> str:
    q1, median, q3 = statistics.quantiles(samples, n=4)
    return f"median {median:7.2f} ms  (quartiles {q1:.2f}-{q3:.2f})"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--scenario", default="seoul-ai-factory")
    parser.add_argument("--repeats", type=int, default=30)
    args = parser.parse_args()

    from twin.gui.app import create_application

    app = create_application()
    from twin.gui._qt import trends
    from twin.gui._qt.trends import TrendPanel
    from twin.gui.objects import Selection, describe
    from twin.scenario import load
    from twin.sim.engine import Simulation

    scenario = load(args.scenario)
    simulation = Simulation.from_scenario(scenario)
    simulation.step()
    base = simulation.snapshot(robots=False)
    panel = TrendPanel(scenario.scenario.start)
    panel.resize(1400, 320)
    panel.show()
    app.processEvents()

    def at(time_s: float):
        return dataclasses.replace(base, time_s=time_s)

    for k in range(3000):  # an hour of history at 60 Hz and 1x... enough bins to draw
        panel.append(at(1.2 * k))
    now = 3600.0

    appends, redraws = [], []
    for _ in range(args.repeats):
        now += 1.2
        started = time.perf_counter()
        panel.append(at(now))
        appends.append((time.perf_counter() - started) * 1e3)
        started = time.perf_counter()
        panel.refresh()
        panel.graphics.viewport().repaint()
        redraws.append((time.perf_counter() - started) * 1e3)
        app.processEvents()

    def readings(kind: str, index: int) -> tuple:
        view = describe(Selection(kind, index), scenario, simulation.topology)
        return tuple((r.label, r.unit, r.read) for r in view.readings)

    selects = {}
    for pair in (("rack", 0), ("rack", 1)), (("rack", 0), ("cdu", 0)):
        chosen = [readings(*selection) for selection in pair]
        times = selects[" to ".join(kind for kind, _ in pair)] = []
        for k in range(args.repeats):
            started = time.perf_counter()
            panel.set_selection(f"object {k}", chosen[k % 2])
            panel.graphics.viewport().repaint()
            times.append((time.perf_counter() - started) * 1e3)
            app.processEvents()

    rate_hz = 1000.0 / trends.REDRAW_INTERVAL_MS
    print(f"scenario {args.scenario}, {args.repeats} repeats")
    print(f"append  {_quartiles(appends)}")
    print(
        f"redraw  {_quartiles(redraws)}  at up to {rate_hz:g} Hz: "
        f"{statistics.median(redraws) * rate_hz:.0f} ms per second"
    )
    for pair, times in selects.items():
        print(f"select {pair:<12} {_quartiles(times)}")
    panel.close()


if __name__ == "__main__":
    main()
