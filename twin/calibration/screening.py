"""Bad data found before a fit: each problem named, and what was done about it.

Inputs drive the model, so a bad input stops the calibration (``DataError``): a gap
longer than ``MAX_INPUT_GAP_S``, an outdoor temperature frozen for an hour, one that
reads as °F. A bad output point is left out of the fit (or its bad rows are), with a
message: a constant signal where the model's prediction moves, a sensor stuck at one
value while the model moves, a temperature that reads as °F, a series shifted in time
against the inputs, too little coverage. Judging "the model moves" uses the model at
its prior parameters: a signal that is constant in the plant (a flow held by its
controller) is no fault.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field

import numpy as np

from twin.calibration.data import DataError, Measurements, split_point
from twin.calibration.model import is_input
from twin.scenario import Scenario

MAX_INPUT_GAP_S = 900.0  # longer input gaps are not bridged: the plant may have moved
FROZEN_INPUT_S = 3600.0  # an outdoor temperature that does not change for an hour is frozen
STUCK_S = 1800.0  # an output repeating one value this long while the model moves is stuck
MIN_COVERAGE = 0.5  # an output with less than half its rows is left out
MAX_SHIFT_S = 3600.0  # lags searched for a time shift between a source and the inputs
SHIFT_GAIN = 0.1  # a lag must explain this much more of the variance than none
FAHRENHEIT_GAIN = 3.0  # reading a series as °F must fit the model this many times better
FAHRENHEIT_MIN_ERROR_K = 5.0
CLIMATE_TOLERANCE_K = 20.0  # an outdoor series this far from the month's normal is suspect


def noise_floor(point: str, values: np.ndarray) -> float:
    """The least error a point is weighted by, in its unit: sensor resolution and the
    model's own step-size error (engineering choice: 0.05 K, 0.2 % of the mean for
    powers, flows and pressures, 0.002 for a valve or speed fraction)."""
    quantity = split_point(point)[2]
    mean = float(np.nanmean(np.abs(values))) if np.isfinite(values).any() else 1.0
    if quantity.endswith("_c"):
        return 0.05
    if quantity in ("facility_valve", "pump_speed", "dry_cooler_fan_speed"):
        return 0.002
    return max(0.002 * mean, 1e-3)


def noise_sigma(point: str, values: np.ndarray) -> float:
    """The point's noise: the scatter of its second differences (white noise shows in
    them, a smooth signal does not), never below its floor."""
    x = values[np.isfinite(values)]
    floor = noise_floor(point, values)
    if x.size < 5:
        return floor
    second = np.diff(x, 2)
    mad = float(np.median(np.abs(second - np.median(second))))
    return max(1.4826 * mad / math.sqrt(6.0), floor)


@dataclass
class Screening:
    good: dict[str, np.ndarray] = field(default_factory=dict)  # point -> rows usable
    excluded: dict[str, str] = field(default_factory=dict)  # point -> why left out
    messages: list[str] = field(default_factory=list)  # everything noticed, in order


def check_inputs(m: Measurements, scenario: Scenario, span: slice) -> list[str]:
    """Problems of the inputs over the rows the model runs; DataError on any that stops
    the calibration. Returns notes on what was bridged."""
    notes = []
    month = scenario.scenario.start.month - 1
    normal_c = scenario.climate.monthly_dry_bulb_c[month]
    for point in [p for p in m.values if is_input(p)]:
        x = m.values[point][span]
        good = np.isfinite(x)
        if not good.any():
            raise DataError(f"{point} has no value in the window: the model cannot be driven")
        gap_rows = _longest_run(~good)
        if gap_rows * m.interval_s > MAX_INPUT_GAP_S:
            raise DataError(
                f"{point} has a gap of {gap_rows * m.interval_s / 60:g} min; "
                f"inputs may miss at most {MAX_INPUT_GAP_S / 60:g} min in a row "
                "(choose a --window without it)"
            )
        if gap_rows:
            notes.append(
                f"{point}: {int((~good).sum())} missing rows bridged linearly "
                f"(longest {gap_rows * m.interval_s:g} s)"
            )
        quantity = split_point(point)[2]
        if quantity in ("ambient_c", "wet_bulb_c"):
            frozen = _longest_run(np.concatenate([[False], np.diff(x) == 0]))
            if frozen * m.interval_s >= FROZEN_INPUT_S:
                raise DataError(
                    f"{point} stays at {x[np.isfinite(x)][0]:g} for "
                    f"{frozen * m.interval_s / 3600:g} h: a frozen feed; the model "
                    "cannot be driven by it"
                )
            mean = float(np.nanmean(x))
            as_c = (mean - 32.0) / 1.8
            if (
                abs(mean - normal_c) > CLIMATE_TOLERANCE_K
                and abs(as_c - normal_c) < CLIMATE_TOLERANCE_K
            ):
                raise DataError(
                    f"{point} averages {mean:.1f}, {abs(mean - normal_c):.0f} K "
                    f"from the month's normal ({normal_c:g} °C), but "
                    f"{as_c:.1f} read as °F: convert it to °C"
                )
        if quantity in ("power_kw", "it_power_kw") and np.nanmin(x) < 0:
            raise DataError(f"{point} holds negative power ({np.nanmin(x):g} kW)")
    return notes


def screen_outputs(m: Measurements, rows: np.ndarray, prior: dict[str, np.ndarray]) -> Screening:
    """Rows of each modelled point fit to use, with the model at its prior parameters
    (``prior``: point -> values at ``rows``) as the reference."""
    out = Screening()
    interval = m.interval_s
    for point, model in prior.items():
        x = m.values[point][rows].copy()
        good = np.isfinite(x)
        floor = noise_floor(point, x)
        model_moves = float(np.nanmax(model) - np.nanmin(model)) > 3 * floor
        coverage = good.mean()
        if coverage < MIN_COVERAGE:
            out.excluded[point] = (
                f"only {100 * coverage:.0f} % of its rows hold a value "
                f"(at least {100 * MIN_COVERAGE:.0f} % needed)"
            )
            continue
        if not good.all():
            out.messages.append(f"{point}: {int((~good).sum())} of {x.size} rows missing")
        values = x[good]
        if model_moves and float(values.max() - values.min()) == 0.0:
            out.excluded[point] = (
                f"constant at {values[0]:g} while the model moves by "
                f"{np.nanmax(model) - np.nanmin(model):.3g}: a frozen or "
                "disconnected signal"
            )
            continue
        stuck = _stuck_rows(x, model, floor, max(3, math.ceil(STUCK_S / interval)))
        if stuck.any():
            good &= ~stuck
            out.messages.append(
                f"{point}: stuck at one value for {int(stuck.sum())} rows "
                f"({stuck.sum() * interval / 3600:.2g} h) while the model "
                "moves; those rows are left out"
            )
        if split_point(point)[2].endswith("_c"):
            error = _rms(x - model, good)
            as_f = _rms((x - 32.0) / 1.8 - model, good)
            if error > FAHRENHEIT_MIN_ERROR_K and as_f * FAHRENHEIT_GAIN < error:
                out.excluded[point] = (
                    f"reads as °F, not °C: {_rms(x, good):.1f} against a "
                    f"model at {_rms(model, good):.1f} °C; converted it "
                    f"would be off by {as_f:.2g} K. Convert the source"
                )
                continue
        lag = _time_shift(x, model, good, math.ceil(MAX_SHIFT_S / interval), floor)
        if lag:
            out.excluded[point] = (
                f"runs {abs(lag) * interval:g} s "
                f"{'behind' if lag > 0 else 'ahead of'} the model "
                "driven by the inputs: a clock offset between its source "
                f"({m.sources.get(point, '?')}) and the inputs'?"
            )
            continue
        if good.mean() < MIN_COVERAGE:
            out.excluded[point] = f"only {100 * good.mean():.0f} % of its rows are usable"
            continue
        out.good[point] = good
    for point, why in out.excluded.items():
        out.messages.append(f"{point} left out: {why}")
    return out


def _rms(x: np.ndarray, good: np.ndarray) -> float:
    v = x[good & np.isfinite(x)]
    return float(np.sqrt(np.mean(v * v))) if v.size else 0.0


def _longest_run(flags: np.ndarray) -> int:
    best = run = 0
    for flag in flags.tolist():
        run = run + 1 if flag else 0
        best = max(best, run)
    return best


def _stuck_rows(x: np.ndarray, model: np.ndarray, floor: float, min_rows: int) -> np.ndarray:
    """Rows in runs of one repeated value at least ``min_rows`` long over which the
    model moves by more than three noise floors."""
    stuck = np.zeros(x.size, dtype=bool)
    start = 0
    for i in range(1, x.size + 1):
        if i < x.size and x[i] == x[start]:
            continue
        if i - start >= min_rows and np.isfinite(x[start]):
            moved = float(np.nanmax(model[start:i]) - np.nanmin(model[start:i]))
            if moved > 3 * floor:
                stuck[start:i] = True
        start = i
    return stuck


def _time_shift(
    x: np.ndarray, model: np.ndarray, good: np.ndarray, max_lag: int, floor: float
) -> int:
    """The lag in rows (positive: the data comes later) at which the data best follows
    the model, when it explains ``SHIFT_GAIN`` more of the variance than no lag and the
    data varies well above its noise; else 0."""
    ok = good & np.isfinite(model)
    if ok.sum() < 4 * max(max_lag, 1):
        max_lag = int(ok.sum() // 4)
    if max_lag < 2:
        return 0
    xs = np.where(ok, x - np.nanmean(x[ok]), 0.0)
    ms = np.where(ok, model - np.nanmean(model[ok]), 0.0)
    if np.std(ms[ok]) < 10 * floor or np.std(xs[ok]) == 0:
        return 0

    def corr(lag: int) -> float:
        if lag >= 0:
            a, b, w = xs[lag:], ms[: xs.size - lag], ok[lag:] & ok[: ok.size - lag]
        else:
            a, b, w = xs[:lag], ms[-lag:], ok[:lag] & ok[-lag:]
        a, b = a[w], b[w]
        den = math.sqrt(float(np.dot(a, a)) * float(np.dot(b, b)))
        return float(np.dot(a, b)) / den if den > 0 else 0.0

    scores = {lag: corr(lag) for lag in range(-max_lag, max_lag + 1)}
    best = max(scores, key=scores.__getitem__)
    if abs(best) >= 2 and scores[best] ** 2 - max(scores[0], 0.0) ** 2 > SHIFT_GAIN:
        return best
    return 0
