"""Calibration of the whole seoul site: its parameters recovered from its own data.

Run: python -m benchmarks.calibrate_seoul [--hours 1 | --days 7] [--interval 10]
[--by-cdu [--cdu NAME...]] [--fit NAME...]
(from the repository root, so that this checkout's twin is imported).

The plant: seoul-ai-factory with the fitted parameters perturbed by known amounts
(``TRUTH_FACTORS``), run by twin's own simulation for ``--hours`` (``--days``) at steps of
``--interval`` up to 30 s (the model's longest step, so the model steps as the plant did)
and written every ``--interval`` as its site and component tables (every rack, CDU and
hall, no sensor noise). ``twin calibrate``'s fit then runs on all of it after ``--warmup``:
on the whole site, or with ``--by-cdu`` the CDU and rack parameters on the CDUs named by
``--cdu`` alone (each driven by its racks' power and the measured facility water supply)
and the site's parameters on the whole site with those fixed.
Prints the calibration's CPU time (with --by-cdu: per CDU and for the site stage), its
model runs and the CPU time of one, each fitted parameter's error against its truth, and
the RMS over point groups of the CV(RMSE) at the data's interval before and after. The
default hour keeps the run to minutes on a laptop.

Times are CPU time of this process (one thread), which a shared machine disturbs less
than wall time.
"""

from __future__ import annotations

import argparse
import math
import sys
import tempfile
import time
from pathlib import Path

from twin.calibration.data import read_measurements
from twin.calibration.fit import calibrate
from twin.calibration.model import MAX_DT_S
from twin.calibration.parameters import ScenarioFactory, registry, select
from twin.calibration.subloop import calibrate_by_cdu
from twin.runs.output import run_headless
from twin.scenario import load

# A fouled exchanger, a dirty strainer, a warmer dry-cooler approach, less heat to liquid,
# lossier PSUs: the same kinds of faults as the calibration tests' plant.
TRUTH_FACTORS = {
    "cdu.cdu-2300.hx_ua": 0.8,
    "cdu.cdu-2300.series_dp": 1.25,
    "dry_coolers.approach": 1.15,
    "rack.gb300-nvl72.liquid_fraction": 0.95,
    "power.rack_psu.loss": 1.2,
}
DEFAULT_FIT = list(TRUTH_FACTORS)
STEP_S = 10.0


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "--hours",
        type=float,
        default=1.0,
        help="hours of 10 s data (1; the fit window starts after --warmup)",
    )
    parser.add_argument("--days", type=float, help="days of data instead of --hours")
    parser.add_argument(
        "--interval", type=float, default=STEP_S, help="the data's interval, s (10)"
    )
    parser.add_argument(
        "--by-cdu",
        action="store_true",
        help="fit the CDU and rack parameters on CDUs alone, then the site's on the site",
    )
    parser.add_argument(
        "--cdu",
        nargs="+",
        metavar="NAME",
        help="with --by-cdu: the CDUs fitted (names or patterns; default all)",
    )
    parser.add_argument(
        "--warmup",
        type=float,
        default=20.0,
        help="minutes the model settles before the fit window (20)",
    )
    parser.add_argument(
        "--fit",
        nargs="+",
        default=DEFAULT_FIT,
        metavar="NAME",
        help="parameters fitted (default: the five perturbed ones)",
    )
    args = parser.parse_args(argv)
    hours = 24.0 * args.days if args.days else args.hours
    warmup_s = args.warmup * 60.0
    interval_s = args.interval
    plant_step_s = interval_s / math.ceil(interval_s / MAX_DT_S - 1e-9)
    if interval_s < 1.0 or abs(interval_s - round(interval_s)) > 1e-9:
        parser.error("--interval must be a whole number of seconds, at least 1")
    if args.cdu and not args.by_cdu:
        parser.error("--cdu chooses the CDUs of --by-cdu")
    if hours * 3600.0 <= warmup_s + 10 * interval_s:
        parser.error(f"--hours {hours:g} leaves no fit window after a {args.warmup:g} min warm-up")
    scenario = load("seoul-ai-factory")
    params = registry(scenario)
    unknown = [name for name in args.fit if name not in {p.name for p in params}]
    if unknown:
        parser.error(f"--fit {' '.join(unknown)}: not a parameter of seoul-ai-factory")
    truth = {p.name: p.prior * TRUTH_FACTORS.get(p.name, 1.0) for p in params}
    plant = ScenarioFactory(scenario, params).build([truth[p.name] for p in params])
    with tempfile.TemporaryDirectory() as folder:
        site, components = Path(folder) / "site.csv", Path(folder) / "components.parquet"
        started = time.process_time()
        run_headless(
            plant,
            duration_s=hours * 3600.0,
            dt_s=plant_step_s,
            every_steps=round(interval_s / plant_step_s),
            out=site,
            components=components,
            progress=None,
        )
        data_cpu_s = time.process_time() - started
        m = read_measurements([site, components])
        fitted = select(params, args.fit)
        started = time.process_time()
        window = (warmup_s, hours * 3600.0)
        split = None
        if args.by_cdu:
            split = calibrate_by_cdu(
                m, scenario, fitted, window=window, warmup_s=warmup_s, cdus=args.cdu
            )
            cal = split.calibration
        else:
            cal = calibrate(m, scenario, fitted, window=window, warmup_s=warmup_s)
        cpu_s = time.process_time() - started
    print(
        f"seoul-ai-factory, {hours:g} h of {interval_s:g} s data ({len(m.values)} points, "
        f"{m.time_s.size} rows; the plant's run at {plant_step_s:g} s steps took "
        f"{data_cpu_s:.1f} CPU s): calibration of {len(fitted)} parameters "
        f"{'by CDU ' if split else ''}{cpu_s:.1f} CPU s, {cal.evaluations} model runs of "
        f"{cpu_s / cal.evaluations:.2f} CPU s on average"
    )
    if split is not None:
        for fit in split.per_cdu:
            runs = fit.calibration.evaluations
            values = ", ".join(
                f"{r.param.name} {r.value:.5g}" + ("" if r.fitted else " (prior)")
                for r in fit.calibration.params
            )
            print(
                f"  {fit.cdu} alone: {fit.cpu_s:.1f} CPU s, {runs} model runs of "
                f"{fit.cpu_s / runs:.2f} CPU s: {values}"
            )
        print(f"  whole site with the CDUs' values: {split.site_cpu_s:.1f} CPU s")
    for r in cal.params:
        true_value = truth[r.param.name]
        status = (
            f"fitted {r.value:.5g} ± {r.std:.2g}"
            if r.fitted
            else f"at prior {r.value:.5g} ({r.note})"
        )
        print(
            f"  {r.param.name}: truth {true_value:.5g}, {status}, error "
            f"{100 * (r.value - true_value) / true_value:+.1f} %"
        )
    before = cal.fit_window.validation_before.rms_group_cv_pct()
    after = cal.fit_window.validation_after.rms_group_cv_pct()
    print(
        f"  CV(RMSE) at {interval_s:g} s, RMS over point groups: {before:.2f} % before, "
        f"{after:.2f} % after"
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
