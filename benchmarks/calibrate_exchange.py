"""Calibration through DSX Exchange: every parameter of the synthetic plant recovered from a
shadow's recording.

Run: python -m benchmarks.calibrate_exchange [--hours 5] [--window 40min..3h]
[--holdout 3h..5h] [--fit NAME...]
(from the repository root, so that this checkout's twin is imported).

The synthetic plant of the calibration tests (single-rack serving a varying load, eight
parameters off design by known amounts: exchanger UA -25 %, series resistance +30 %, pump
efficiency -15 %, dry-cooler approach +20 %, liquid share -6 %, junction resistance
+15 %, PSU losses +25 %, facility-water volume +30 %) runs for ``--hours`` at 10 s steps.
`twin plant`'s virtual BMS reads it as sensors do (noise, 5 % dropouts, the point list's
deadbands) and hands every message to a shadow of the design scenario, which records
(`twin shadow --record`'s recorder). `twin calibrate` then fits ``--fit`` from the
recording alone over ``--window``, validates on ``--holdout``, and estimates an offset of
each rack outlet sensor. Printed: each parameter's fitted value, its uncertainty, its true
value and the error, whether it is within 5 % or two standard deviations of the truth (or
why it was left at its prior), the held-out window's RMS of the point groups' CV(RMSE)
before and after, and the CPU time of the calibration (one thread).
"""

from __future__ import annotations

import argparse
import contextlib
import io
import math
import sys
import tempfile
import time
from pathlib import Path

from tests.calibration.conftest import TRUTH_FACTORS, plant_text
from tests.exchange.plant_recording import STEP_S, record_shadow
from twin.calibration.record import CalibrationRecord, record_path
from twin.cli import main as twin
from twin.scenario import loads

ALL_PARAMETERS = list(TRUTH_FACTORS)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--hours", type=float, default=5.0, help="plant time recorded (5)")
    parser.add_argument("--window", default="40min..3h", help="fit window (40min..3h)")
    parser.add_argument("--holdout", default="3h..5h", help="held-out window (3h..5h)")
    parser.add_argument(
        "--fit",
        nargs="+",
        default=ALL_PARAMETERS,
        metavar="NAME",
        help="parameters fitted (default: the eight perturbed)",
    )
    args = parser.parse_args(argv)
    with tempfile.TemporaryDirectory() as temporary:
        folder = Path(temporary)
        truth = record_shadow(folder / "recording", args.hours, TRUTH_FACTORS)
        scenario_path = folder / "plant.toml"
        scenario_path.write_text(plant_text(), encoding="utf-8")
        out = folder / "calibrated.toml"
        started = time.process_time()
        with contextlib.redirect_stdout(io.StringIO()):
            code = twin(
                [
                    "calibrate",
                    str(folder / "recording"),
                    "--scenario",
                    str(scenario_path),
                    "--fit",
                    *args.fit,
                    "--window",
                    args.window,
                    "--holdout",
                    args.holdout,
                    "--offset",
                    "rack/*/outlet_temp_c",
                    "--out",
                    str(out),
                    "--quiet",
                ]
            )
        cpu_s = time.process_time() - started
        if code != 0:
            print(f"twin calibrate failed with exit status {code}")
            return code
        calibrated = loads(out.read_text(encoding="utf-8")).calibration
        assert calibrated is not None  # twin calibrate always writes the table
        cal = CalibrationRecord.read(record_path(out)).calibration
    print(
        f"{args.hours:g} h recorded through the virtual BMS at {STEP_S:g} s; fit over "
        f"{args.window}, held out {args.holdout}; calibration {cpu_s:.0f} CPU s, "
        f"{cal.evaluations} model runs"
    )
    for name in sorted(calibrated.parameters):
        fitted, true_value = calibrated.parameters[name], truth[name]
        error_pct = 100.0 * (fitted.value / true_value - 1.0)
        if not fitted.fitted:
            print(f"  {name:38s} left at {fitted.value:.4g} ({error_pct:+.1f} %): {fitted.note}")
            continue
        std = fitted.std or 0.0
        within = abs(fitted.value - true_value) <= max(0.05 * true_value, 2.0 * std)
        print(
            f"  {name:38s} {fitted.value:.4g} +/- {std:.2g} against {true_value:.4g} "
            f"({error_pct:+.2f} %, {abs(fitted.value - true_value) / std if std else math.inf:.1f}"
            f" sigma): {'within' if within else 'OUTSIDE'} 5 % or two sigma"
        )
    for point, offset in cal.offsets.items():
        print(f"  {point} sensor offset {offset:+.3f} (none applied)")
    if cal.holdout is not None:
        before = cal.holdout.validation_before.rms_group_cv_pct()
        after = cal.holdout.validation_after.rms_group_cv_pct()
        print(
            f"held-out window: RMS CV(RMSE) {before:.2f} % uncalibrated, {after:.2f} % "
            f"calibrated ({before / after:.1f}x lower)"
        )
    return 0


if __name__ == "__main__":
    sys.exit(main())
