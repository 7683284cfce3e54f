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

Per subloop: the points of one hydraulic loop together, quantity by quantity (a CV(RMSE)
over temperatures and flows at once would mix units): a CDU's secondary loop holds the
CDU's points and its racks', the facility water and heat rejection the plant's, each hall
its own, the site the rest.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field

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
        return (
            self.cv_rmse_pct <= HOURLY_CV_RMSE_LIMIT_PCT
            and abs(self.nmbe_pct) <= HOURLY_NMBE_LIMIT_PCT
        )


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


def hourly(
    time_s: np.ndarray, values: np.ndarray, good: np.ndarray, interval_s: float
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


def subloops(topology) -> dict[str, str]:
    """Component name -> its subloop's name: a rack and its CDU share the CDU's
    secondary loop."""
    names = {cdu: f"{cdu} secondary loop" for cdu in topology.cdu_names}
    for rack in range(topology.rack_count):
        names[topology.rack_name(rack)] = names[topology.cdu_names[topology.rack_cdu[rack]]]
    return names


def subloop_of(point: str, loops: dict[str, str]) -> str:
    kind, component, _ = split_point(point)
    if kind in ("cdu", "rack"):
        return loops.get(component, f"{component} secondary loop")
    if kind == "plant":
        return "facility water and heat rejection"
    if kind == "hall":
        return f"hall {component}"
    return "site"


@dataclass
class Validation:
    """Goodness of fit per point, per group and per subloop, at the data's interval and
    hourly."""

    per_point: dict[str, dict[str, Fit]]  # point -> {"interval", "hourly"}
    per_group: dict[str, dict[str, Fit]]
    # subloop -> quantity -> {"interval", "hourly"}
    per_subloop: dict[str, dict[str, dict[str, Fit]]] = field(default_factory=dict)

    def rms_group_cv_pct(self) -> float:
        """One figure for the whole fit: the RMS over the point groups of their CV(RMSE)
        at the data's interval, %; NaN where no group has one."""
        values = [
            fits["interval"].cv_rmse_pct
            for fits in self.per_group.values()
            if math.isfinite(fits["interval"].cv_rmse_pct)
        ]
        return float(np.sqrt(np.mean(np.square(values)))) if values else math.nan


def _pool(pooled: dict[str, list[tuple[np.ndarray, np.ndarray]]], fitted: int) -> dict[str, Fit]:
    return {
        scale: goodness(
            np.concatenate([a for a, _ in pairs]), np.concatenate([b for _, b in pairs]), fitted
        )
        for scale, pairs in pooled.items()
    }


def validate(
    time_s: np.ndarray,
    interval_s: float,
    measured: dict[str, np.ndarray],
    simulated: dict[str, np.ndarray],
    good: dict[str, np.ndarray],
    fitted: int = 0,
    loops: dict[str, str] | None = None,
) -> Validation:
    """``loops``: component -> subloop (``subloops``); without it each CDU is its own."""
    per_point: dict[str, dict[str, Fit]] = {}
    pooled: dict[str, dict[str, list[tuple[np.ndarray, np.ndarray]]]] = {}
    by_loop: dict[tuple[str, str], dict[str, list[tuple[np.ndarray, np.ndarray]]]] = {}
    for point, m in measured.items():
        s = simulated[point]
        ok = good[point] & np.isfinite(m) & np.isfinite(s)
        m_i, s_i = np.where(ok, m, np.nan), np.where(ok, s, np.nan)
        m_h = hourly(time_s, m_i, ok, interval_s)
        s_h = hourly(time_s, s_i, ok, interval_s)
        per_point[point] = {
            "interval": goodness(m_i, s_i, fitted),
            "hourly": goodness(m_h, s_h, fitted),
        }
        loop_group = (subloop_of(point, loops or {}), group_of(point))
        for target in (
            pooled.setdefault(group_of(point), {"interval": [], "hourly": []}),
            by_loop.setdefault(loop_group, {"interval": [], "hourly": []}),
        ):
            target["interval"].append((m_i, s_i))
            target["hourly"].append((m_h, s_h))
    per_group = {name: _pool(scales, fitted) for name, scales in pooled.items()}
    per_subloop: dict[str, dict[str, dict[str, Fit]]] = {}
    for (loop, group), scales in sorted(by_loop.items()):
        per_subloop.setdefault(loop, {})[group] = _pool(scales, fitted)
    return Validation(per_point, per_group, per_subloop)
