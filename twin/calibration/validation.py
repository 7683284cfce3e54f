"""ASHRAE Guideline 14 goodness of fit: CV(RMSE) and NMBE per point and per point group.

    CV(RMSE) = 100 / mean(m) * sqrt( sum (m_i - s_i)^2 / (n - p) )
    NMBE     = 100 / mean(m) * sum (m_i - s_i) / (n - p)

with ``m`` measured, ``s`` simulated, ``n`` the rows compared and ``p`` the parameters
fitted (0 for the model before calibration). Guideline 14 sets its limits for hourly
data (CV(RMSE) <= 30 %, NMBE within +/-10 %; monthly 15 % and +/-5 %, as commonly
quoted: see ../shared/REFERENCES.md). The same limits are applied at the data's own
interval, where the Guideline sets none: a stated choice. Guideline 14 was written for
energy; applied to temperatures in °C the ratio to the mean depends on the scale's zero
(the Frontier cooling twin's validation did the same), so the report also gives the RMSE
in the point's unit.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

from twin.calibration.data import split_point

HOURLY_CV_RMSE_LIMIT_PCT = 30.0  # ASHRAE Guideline 14, hourly
HOURLY_NMBE_LIMIT_PCT = 10.0
HOUR_COVERAGE = 0.9  # an hour is compared when this share of its rows is good
UNDEFINED_MEAN = 1e-6  # |mean| below this: CV(RMSE) and NMBE have no meaning


@dataclass(frozen=True)
class Fit:
    n: int
    rmse: float  # in the point's unit
    cv_rmse_pct: float  # NaN where the measured mean is ~0
    nmbe_pct: float

    @property
    def passes(self) -> bool | None:
        if not math.isfinite(self.cv_rmse_pct):
            return None
        return (self.cv_rmse_pct <= HOURLY_CV_RMSE_LIMIT_PCT
                and abs(self.nmbe_pct) <= HOURLY_NMBE_LIMIT_PCT)


def goodness(measured: np.ndarray, simulated: np.ndarray, fitted: int = 0) -> Fit:
    ok = np.isfinite(measured) & np.isfinite(simulated)
    m, s = measured[ok], simulated[ok]
    n = int(m.size)
    dof = n - fitted
    if n == 0 or dof <= 0:
        return Fit(n, math.nan, math.nan, math.nan)
    error = m - s
    rmse = math.sqrt(float(np.dot(error, error)) / dof)
    mean = float(np.mean(m))
    if abs(mean) < UNDEFINED_MEAN:
        return Fit(n, rmse, math.nan, math.nan)
    return Fit(n, rmse, 100.0 * rmse / abs(mean), 100.0 * float(error.sum()) / dof / mean)


def hourly(time_s: np.ndarray, values: np.ndarray, good: np.ndarray, interval_s: float
           ) -> np.ndarray:
    """Hourly means of ``values`` over clock hours of simulated time; NaN for an hour
    with less than ``HOUR_COVERAGE`` of its rows good."""
    start_s = time_s - interval_s  # rows are interval ends
    hour = np.floor(start_s / 3600.0 + 1e-9).astype(np.int64)
    first = int(hour.min())
    index = hour - first
    count = np.bincount(index, weights=good.astype(float))
    total = np.bincount(index, weights=np.where(good, values, 0.0))
    expected = 3600.0 / interval_s
    with np.errstate(invalid="ignore", divide="ignore"):
        means = total / count
    return np.where(count >= HOUR_COVERAGE * expected, means, np.nan)


def group_of(point: str) -> str:
    """The point group: ``kind/quantity`` (every CDU's flow together, say)."""
    kind, _, quantity = split_point(point)
    return f"{kind}/{quantity}"


@dataclass
class Validation:
    """Goodness of fit per point and per group, at the data's interval and hourly."""

    per_point: dict[str, dict[str, Fit]]  # point -> {"interval", "hourly"}
    per_group: dict[str, dict[str, Fit]]


def validate(time_s: np.ndarray, interval_s: float, measured: dict[str, np.ndarray],
             simulated: dict[str, np.ndarray], good: dict[str, np.ndarray],
             fitted: int = 0) -> Validation:
    per_point: dict[str, dict[str, Fit]] = {}
    pooled: dict[str, dict[str, list[tuple[np.ndarray, np.ndarray]]]] = {}
    for point, m in measured.items():
        s = simulated[point]
        ok = good[point] & np.isfinite(m) & np.isfinite(s)
        m_i, s_i = np.where(ok, m, np.nan), np.where(ok, s, np.nan)
        m_h = hourly(time_s, m_i, ok, interval_s)
        s_h = hourly(time_s, s_i, ok, interval_s)
        per_point[point] = {"interval": goodness(m_i, s_i, fitted),
                            "hourly": goodness(m_h, s_h, fitted)}
        group = pooled.setdefault(group_of(point), {"interval": [], "hourly": []})
        group["interval"].append((m_i, s_i))
        group["hourly"].append((m_h, s_h))
    per_group = {
        name: {scale: goodness(np.concatenate([a for a, _ in pairs]),
                               np.concatenate([b for _, b in pairs]), fitted)
               for scale, pairs in scales.items()}
        for name, scales in pooled.items()}
    return Validation(per_point, per_group)
