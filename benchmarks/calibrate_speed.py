"""Calibration speed: one CDU from a day of 10 s data; the seoul site from a week.

Run: python -m benchmarks.calibrate_speed [--hours 24] [--repeats K] [--seoul-hours 1]
[--fit NAME...]
(from the repository root, so that this checkout's twin is imported).

One CDU: the synthetic plant of the calibration tests (single-rack serving a varying
load, parameters perturbed by known amounts) run for ``--hours`` at 10 s steps with
10 s rows, then calibrated on its CDU's parameters (exchanger UA, series resistance,
pump efficiency, loop volume; ``--fit`` names others) over all of it. Prints the median
over repeats of the calibration's CPU time, the model runs it took and the CPU time of
one run.

Seoul: a week of seoul-ai-factory is not run here. What a calibration of it costs is
(model runs) x (one run over a week): one run's cost is measured over ``--seoul-hours``
of driven model (its step at 10 s data) and scaled to a week, and the runs are those the
one-CDU calibration took per parameter, times seoul's parameters: an estimate, printed
as one.

Times are CPU time of this process (one thread), which a shared machine disturbs less
than wall time.
"""

from __future__ import annotations

import argparse
import statistics
import sys
import tempfile
import time
from pathlib import Path

from tests.calibration.conftest import TRUTH_FACTORS, plant_text
from twin.calibration.data import from_point_columns, read_measurements
from twin.calibration.fit import calibrate
from twin.calibration.model import DrivenModel, is_modelled
from twin.calibration.parameters import ScenarioFactory, registry, select
from twin.runs.output import run_headless
from twin.scenario import load, loads
from twin.sim.engine import Simulation

CDU_PARAMETERS = ["cdu.*.hx_ua", "cdu.*.series_dp", "cdu.*.pump_efficiency", "cdu.*.loop_volume"]
WEEK_S = 7 * 86400.0


def one_cdu(hours: float, folder: Path, fit: list[str]) -> tuple[float, int, float]:
    """(calibration CPU s, model runs, CPU s of one run) for one CDU from 10 s data."""
    scenario = loads(plant_text())
    params = registry(scenario)
    truth = ScenarioFactory(scenario, params).build(
        [p.prior * TRUTH_FACTORS.get(p.name, 1.0) for p in params]
    )
    site, components = folder / "site.csv", folder / "components.parquet"
    run_headless(
        truth,
        duration_s=hours * 3600.0,
        dt_s=10.0,
        every_steps=1,
        out=site,
        components=components,
        progress=None,
    )
    m = read_measurements([site, components])
    started = time.process_time()
    cal = calibrate(m, scenario, select(params, fit), window=(1800.0, hours * 3600.0))
    total = time.process_time() - started
    return total, cal.evaluations, total / cal.evaluations


def seoul_run_per_week(hours: float) -> tuple[float, int]:
    """CPU s of one driven run of seoul-ai-factory over a week (scaled from ``hours``),
    and its number of parameters."""
    scenario = load("seoul-ai-factory")
    sim = Simulation(scenario, dt_s=10.0)
    rows = round(hours * 3600.0 / 10.0) + 1
    values = {
        "site/ambient_c": [],
        "site/wet_bulb_c": [],
        "site/it_power_kw": [],
        "cdu/" + sim.topology.cdu_names[0] + "/return_c": [],
    }
    for _ in range(rows):  # the data: the site's own run, sampled every 10 s
        sim.step()
        site = sim.live_view().site
        for point in ("ambient_c", "wet_bulb_c", "it_power_kw"):
            values[f"site/{point}"].append(site[point])
        values["cdu/" + sim.topology.cdu_names[0] + "/return_c"].append(
            float(sim.state.cdu_coolant_c[0])
        )
    time_s = [10.0 * (k + 1) for k in range(rows)]
    m = from_point_columns(time_s, values, "seoul")
    model = DrivenModel(m, 10.0, time_s[-1], [p for p in values if is_modelled(p)], warmup_s=0.0)
    started = time.process_time()
    model.run(scenario)
    per_run = time.process_time() - started
    return per_run * WEEK_S / (hours * 3600.0), len(registry(scenario))


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--hours", type=float, default=24.0, help="data for one CDU (24)")
    parser.add_argument("--repeats", type=int, default=1)
    parser.add_argument(
        "--seoul-hours",
        type=float,
        default=1.0,
        help="driven seoul model time measured, then scaled to a week",
    )
    parser.add_argument(
        "--fit",
        nargs="+",
        default=CDU_PARAMETERS,
        metavar="NAME",
        help="parameters fitted (default: the CDU's four)",
    )
    args = parser.parse_args(argv)
    totals, runs, per_run = [], [], []
    for _ in range(args.repeats):
        with tempfile.TemporaryDirectory() as folder:
            total, count, each = one_cdu(args.hours, Path(folder), args.fit)
        totals.append(total)
        runs.append(count)
        per_run.append(each)
    print(
        f"one CDU, {args.hours:g} h of 10 s data ({len(args.fit)} parameters): "
        f"median {statistics.median(totals):.1f} CPU s, {statistics.median(runs):.0f} "
        f"model runs of {statistics.median(per_run):.2f} CPU s, over {args.repeats} "
        "repeat(s)"
    )
    week_run, seoul_params = seoul_run_per_week(args.seoul_hours)
    runs_per_param = statistics.median(runs) / len(args.fit)
    estimate = week_run * runs_per_param * seoul_params
    print(
        f"seoul-ai-factory, a week of 10 s data: one driven run {week_run:.0f} CPU s "
        f"(measured over {args.seoul_hours:g} h, scaled); a calibration of its "
        f"{seoul_params} parameters at {runs_per_param:.1f} runs each: about "
        f"{estimate / 3600:.0f} CPU h (estimate, not run)"
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
