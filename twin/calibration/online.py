"""Live state estimation: slowly drifting quantities tracked from a stream of samples.

Each tracked quantity is linear in what is measured, ``y = phi . theta + e``, and is
followed by recursive least squares with exponential forgetting (memory
``memory_s``: older samples weigh ``exp(-age / memory_s)``), which is a Kalman filter
for a random-walk state. Its band is two standard deviations, the noise variance
estimated from the innovations. A drift past a quantity's limit, held for
``confirm_s``, raises an alarm message; it clears once back inside with a margin.

Quantities and the physics that makes them linear:

* ``series_resistance``: a CDU's exchanger + manifolds + strainer, ``k_s`` in
  kPa/(L/min)^2. Its pumps give ``H = n^2 H0 - a (Q/N)^2`` (the curve of
  ``twin.sim.hydraulics``), the racks take ``dp``, the rest is ``k_s Q^2``:
  ``y = n^2 H0 - a (Q/N)^2 - dp``, ``phi = Q^2``. A clogging strainer shows here.
* ``exchanger_ua``: a CDU exchanger's UA in kW/K, each sample inverted from the
  counterflow effectiveness of its measured temperatures and flows (``phi = 1``).
  Fouling shows here.
* ``sensor_offset``: the difference between two sensors of one quantity (a CDU's
  supply and its racks' inlet), ``phi = 1``.

These run on any stream of (model inputs, measurements); ``twin.exchange.estimation``
runs them inside ``twin shadow`` on the plant's measurements.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field

import numpy as np

from twin.scenario import Scenario

DEFAULT_MEMORY_S = 300.0  # forgetting time constant: a fouling strainer moves over hours
DEFAULT_CONFIRM_S = 300.0  # a drift must last this long before it alarms
CLEAR_MARGIN = 0.5  # an alarm clears inside this share of its limit's distance from design
MAX_CORRELATION = 0.95  # the inflation of a band for correlated samples stops at 39x


class RecursiveLeastSquares:
    """``theta`` of ``y = phi . theta + e`` with exponential forgetting."""

    def __init__(self, theta0: np.ndarray, relative_std0: float = 1.0):
        self.theta = np.asarray(theta0, dtype=float).copy()
        scale = np.where(self.theta != 0, np.abs(self.theta), 1.0) * relative_std0
        self.p = np.diag(scale**2)  # covariance over the noise variance
        self.noise_var = math.nan
        self.lag_covariance = 0.0  # of successive innovations, the same forgetting
        self._weight = 0.0
        self._last_innovation: float | None = None

    def update(self, phi: np.ndarray, y: float, forgetting: float) -> float:
        """One sample; returns the innovation (``y`` minus its prediction)."""
        phi = np.asarray(phi, dtype=float)
        innovation = float(y - phi @ self.theta)
        p_phi = self.p @ phi
        gain = p_phi / (forgetting + float(phi @ p_phi))
        self.theta = self.theta + gain * innovation
        # Joseph form: stays symmetric and positive definite in floating point, where
        # the short form P - K phi^T P drifts and the estimate runs away
        shrink = np.eye(phi.size) - np.outer(gain, phi)
        self.p = (shrink @ self.p @ shrink.T + forgetting * np.outer(gain, gain)) / forgetting
        # noise variance: the same forgetting over squared innovations
        self._weight = forgetting * self._weight + 1.0
        previous = 0.0 if math.isnan(self.noise_var) else self.noise_var
        self.noise_var = previous + (innovation**2 - previous) / self._weight
        if self._last_innovation is not None:
            self.lag_covariance += (
                innovation * self._last_innovation - self.lag_covariance
            ) / self._weight
        self._last_innovation = innovation
        return innovation

    def advance(self, transition: np.ndarray) -> None:
        """Carry the state forward, ``theta <- F theta`` (a trend's prediction step)."""
        self.theta = transition @ self.theta
        self.p = transition @ self.p @ transition.T

    def std(self) -> np.ndarray:
        """Standard deviations of ``theta``, inflated by ``(1 + rho) / (1 - rho)`` for the
        innovations' correlation ``rho`` from one sample to the next (a sensor's deadband
        or a slow disturbance makes successive samples say less than independent ones)."""
        var = 0.0 if math.isnan(self.noise_var) else self.noise_var
        rho = min(max(self.lag_covariance / var, 0.0), MAX_CORRELATION) if var > 0 else 0.0
        return np.sqrt(np.clip(np.diag(self.p) * var * (1 + rho) / (1 - rho), 0.0, None))


@dataclass
class Estimate:
    time_s: float
    value: float
    std: float
    ratio: float  # value over design


@dataclass
class DriftTracker:
    """One tracked quantity with its design value, limits and alarm."""

    name: str  # e.g. "H1-CDU-07 series resistance"
    unit: str
    design: float
    low_ratio: float | None  # alarm below design x this (None: no low limit)
    high_ratio: float | None
    meaning_low: str = ""  # what a low value means ("fouling")
    meaning_high: str = ""
    memory_s: float = DEFAULT_MEMORY_S
    confirm_s: float = DEFAULT_CONFIRM_S
    history: list[Estimate] = field(default_factory=list)
    keep_history: bool = True  # False: only the latest estimate (a long-running shadow)
    # True: the value and its rate of change are tracked together (a constant-velocity
    # Kalman filter, with forgetting as its process noise), so a steady ramp is followed
    # without the lag of about memory x rate a level alone has
    trend: bool = False
    alarm: str | None = None  # the active alarm's message
    alarms: list[tuple[float, str]] = field(default_factory=list)  # raised and cleared
    _rls: RecursiveLeastSquares | None = None
    _last_s: float | None = None
    _outside_since: float | None = None

    def update(self, time_s: float, phi: float, y: float) -> Estimate | None:
        """One sample (``y = phi * value``); None while the sample says nothing (phi 0)."""
        if not (math.isfinite(phi) and math.isfinite(y)) or phi == 0:
            return None
        if self._rls is None:
            # a trend's rate is per memory, its prior spread one design value per memory
            self._rls = RecursiveLeastSquares(
                np.array([self.design, 0.0] if self.trend else [self.design])
            )
            if self.trend:
                self._rls.p[1, 1] = 1.0 if self.design == 0 else self.design**2
        dt = 0.0 if self._last_s is None else max(time_s - self._last_s, 0.0)
        self._last_s = time_s
        forgetting = math.exp(-dt / self.memory_s) if dt else 1.0
        if self.trend:
            self._rls.advance(np.array([[1.0, dt / self.memory_s], [0.0, 1.0]]))
            self._rls.update(np.array([phi, 0.0]), y, forgetting)
        else:
            self._rls.update(np.array([phi]), y, forgetting)
        value = float(self._rls.theta[0])
        estimate = Estimate(time_s, value, float(self._rls.std()[0]), value / self.design)
        self._keep(estimate)
        self._judge(estimate)
        return estimate

    def _keep(self, estimate: Estimate) -> None:
        if self.keep_history:
            self.history.append(estimate)
        else:
            self.history[:] = [estimate]

    def _judge(self, e: Estimate) -> None:
        low = self.low_ratio is not None and e.ratio < self.low_ratio
        high = self.high_ratio is not None and e.ratio > self.high_ratio
        if low or high:
            if self._outside_since is None:
                self._outside_since = e.time_s
            if self.alarm is None and e.time_s - self._outside_since >= self.confirm_s:
                if low:
                    text = (
                        f"{self.name} {100 * (1 - e.ratio):.0f} % below design "
                        f"({e.value:.4g} {self.unit} against {self.design:.4g})"
                    )
                    meaning = self.meaning_low
                else:
                    text = (
                        f"{self.name} {e.ratio:.2f} x design ({e.value:.4g} {self.unit} "
                        f"against {self.design:.4g})"
                    )
                    meaning = self.meaning_high
                self.alarm = f"{text}: {meaning}" if meaning else text
                self.alarms.append((e.time_s, self.alarm))
            return
        self._outside_since = None
        if self.alarm is None:
            return
        inside = True
        if self.low_ratio is not None:
            inside &= e.ratio > 1 - CLEAR_MARGIN * (1 - self.low_ratio)
        if self.high_ratio is not None:
            inside &= e.ratio < 1 + CLEAR_MARGIN * (self.high_ratio - 1)
        if inside:
            self.alarms.append((e.time_s, f"{self.name} back within limits (cleared)"))
            self.alarm = None


# --------------------------------------------------------------------------- quantities


@dataclass(frozen=True)
class PumpCurve:
    """One pump at rated speed, ``H = n^2 H0 - a Q_pump^2`` (``twin.sim.hydraulics``)."""

    shutoff_head_kpa: float
    curve_a_kpa_per_lpm2: float

    def head_kpa(self, speed: float, pumps: int, flow_lpm: float) -> float:
        per_pump = flow_lpm / pumps
        return speed * speed * self.shutoff_head_kpa - self.curve_a_kpa_per_lpm2 * per_pump**2


def cdu_design(
    scenario: Scenario, cdu_type: str, racks_design_flow_lpm: float
) -> tuple[PumpCurve, float]:
    """A CDU type's pump curve and design series resistance (kPa/(L/min)^2), as the
    engine compiles them: the exchanger's drop at its racks' total design flow."""
    c = scenario.cdu_types[cdu_type]
    curve = PumpCurve(
        c.pump_shutoff_head_kpa,
        (c.pump_shutoff_head_kpa - c.pump_design_head_kpa) / c.pump_design_flow_lpm**2,
    )
    return curve, c.hx_pressure_drop_kpa / racks_design_flow_lpm**2


def series_resistance_tracker(
    name: str, design_k: float, high_ratio: float = 2.0, **kwargs
) -> DriftTracker:
    """A clogging strainer's resistance rises steadily: tracked with its trend."""
    kwargs.setdefault("trend", True)
    return DriftTracker(
        f"{name} series resistance",
        "kPa/(L/min)^2",
        design_k,
        None,
        high_ratio,
        meaning_high="strainer or exchanger clogging",
        **kwargs,
    )


def series_resistance_sample(
    curve: PumpCurve, flow_lpm: float, pump_speed: float, pumps_running: int, dp_kpa: float
) -> tuple[float, float]:
    """``(phi, y)`` of one sample: ``y = H_pump - dp = k_s Q^2``."""
    if pumps_running <= 0 or flow_lpm <= 0:
        return 0.0, 0.0
    head = curve.head_kpa(pump_speed, pumps_running, flow_lpm)
    return flow_lpm * flow_lpm, head - dp_kpa


def exchanger_ua_tracker(
    name: str, design_ua_kw_per_k: float, low_ratio: float = 0.85, **kwargs
) -> DriftTracker:
    """Fouling lowers UA steadily: tracked with its trend."""
    kwargs.setdefault("trend", True)
    return DriftTracker(
        f"{name} exchanger UA",
        "kW/K",
        design_ua_kw_per_k,
        low_ratio,
        None,
        meaning_low="fouling",
        **kwargs,
    )


def exchanger_ua_sample(
    hot_in_c: float,
    hot_out_c: float,
    hot_rate_kw_per_k: float,
    cold_in_c: float,
    cold_rate_kw_per_k: float,
) -> tuple[float, float]:
    """``(1, UA)`` of one sample from the counterflow effectiveness
    ``eps = C_hot (T_hot,in - T_hot,out) / (C_min (T_hot,in - T_cold,in))`` inverted:
    ``NTU = ln((1 - eps Cr) / (1 - eps)) / (1 - Cr)`` (``eps / (1 - eps)`` at Cr = 1).
    ``(0, 0)`` when the sample says nothing (no temperature difference, eps out of
    (0, 1))."""
    c_min = min(hot_rate_kw_per_k, cold_rate_kw_per_k)
    c_max = max(hot_rate_kw_per_k, cold_rate_kw_per_k)
    span = hot_in_c - cold_in_c
    if c_min <= 0 or span <= 0.5:
        return 0.0, 0.0
    eps = hot_rate_kw_per_k * (hot_in_c - hot_out_c) / (c_min * span)
    cr = c_min / c_max
    if not 0.0 < eps < min(1.0, 1.0 / cr) - 1e-6:
        return 0.0, 0.0
    if abs(1.0 - cr) < 1e-9:
        ntu = eps / (1.0 - eps)
    else:
        ntu = math.log((1.0 - eps * cr) / (1.0 - eps)) / (1.0 - cr)
    return 1.0, ntu * c_min


def sensor_offset_tracker(name: str, limit: float, unit: str = "K", **kwargs) -> DriftTracker:
    """The offset between two sensors of one quantity; design 0 is held as a ratio of a
    unit ``limit`` (the tracker's ratio is then the offset over the limit)."""
    return _OffsetTracker(f"{name} offset", unit, limit, None, None, **kwargs)


class _OffsetTracker(DriftTracker):
    """Tracks ``a - b`` around zero; alarms when its size passes ``design`` (the limit)."""

    def update(self, time_s: float, phi: float, y: float) -> Estimate | None:
        if not math.isfinite(y):
            return None
        if self._rls is None:
            self._rls = RecursiveLeastSquares(np.array([0.0]))
            self._rls.p[:] = self.design**2
        dt = 0.0 if self._last_s is None else max(time_s - self._last_s, 0.0)
        self._last_s = time_s
        self._rls.update(np.array([1.0]), y, math.exp(-dt / self.memory_s) if dt else 1.0)
        value = float(self._rls.theta[0])
        estimate = Estimate(time_s, value, float(self._rls.std()[0]), value / self.design)
        self._keep(estimate)
        outside = abs(estimate.ratio) > 1.0
        if outside:
            if self._outside_since is None:
                self._outside_since = time_s
            if self.alarm is None and time_s - self._outside_since >= self.confirm_s:
                self.alarm = (
                    f"{self.name} {value:+.2f} {self.unit} (limit "
                    f"{self.design:g} {self.unit}): a sensor offset"
                )
                self.alarms.append((time_s, self.alarm))
        else:
            self._outside_since = None
            if self.alarm is not None and abs(estimate.ratio) < CLEAR_MARGIN:
                self.alarms.append((time_s, f"{self.name} back within limits (cleared)"))
                self.alarm = None
        return estimate


# --------------------------------------------------------------------------- valve

VALVE_SHARE_LIMIT = 0.25  # of the equal-percentage share: past it the valve is not the
# model's (a quarter of the way from linear to equal percentage moves the flow at half
# opening by ~9 % of design flow at R = 50; an engineering choice)
VALVE_SHARE_RANGE = (0.0, 1.0)  # linear to equal percentage: the model's family (a
# quick-opening valve is outside it)
VALVE_STEP = 1e-4  # relative step of the numerical derivatives
VALVE_SAMPLE_STD = 0.005  # of a sample's effectiveness: 0.05 K sensors over a 10-20 K span
VALVE_ITERATIONS = 2  # Gauss-Newton steps per sample, each from the last estimate
VALVE_WINDOW_MEMORIES = 3.0  # samples older than this many memories weigh < 5 % and go


def valve_characteristic_tracker(
    name: str,
    design_share: float,
    rangeability: float,
    design_ua_kw_per_k: float,
    limit: float = VALVE_SHARE_LIMIT,
    **kwargs,
) -> ValveCharacteristicTracker:
    """The facility valve's inherent characteristic (its equal-percentage share, 0 for a
    linear valve) tracked with the exchanger's UA from the heat the exchanger moves at
    each opening (``ValveCharacteristicTracker``)."""
    return ValveCharacteristicTracker(
        f"{name} facility valve characteristic",
        "equal-% share",
        design_share,
        None,
        None,
        meaning_high="the valve's characteristic is not the model's (another trim, or worn)",
        rangeability=rangeability,
        design_ua_kw_per_k=design_ua_kw_per_k,
        limit=limit,
        **kwargs,
    )


@dataclass
class ValveCharacteristicTracker(DriftTracker):
    """The facility valve's equal-percentage share ``b`` and the exchanger's UA, tracked
    together by weighted nonlinear least squares over the recent samples (weights
    ``exp(-age / memory_s)``, a few Gauss-Newton steps from the last estimate at each
    sample, the prior as a pseudo-observation).

    A sample is the exchanger's hot-side effectiveness measured, ``(T_hot,in -
    T_hot,out) / (T_hot,in - T_cold,in)``, against the counterflow one of the UA and
    the facility flow the valve passes at its opening,
    ``C_cold = C_cold,design ((1 - b) x + b R^(x - 1))`` (``twin.sim.control.
    valve_flow_fraction``). One opening cannot tell a smaller UA from a valve that
    passes less: the two separate as the opening moves (load, facility water
    temperature). Where the data do not move the valve, the prior holds the estimate
    and its band stays wide; the alarm needs the band inside the limit as well as the
    value past it. (A recursive, linearised filter was tried first: early samples at
    one opening send it along the valley where UA and ``b`` trade off, and its
    shrunken covariance keeps it there.)

    ``value`` is ``b``; an Estimate's ``ratio`` is ``(b - design) / limit`` (1 at the
    limit), as for the sensor offsets. ``ua_kw_per_k`` is the fit's own UA."""

    rangeability: float = 50.0
    design_ua_kw_per_k: float = 1.0
    limit: float = VALVE_SHARE_LIMIT
    _theta: np.ndarray | None = None
    _samples: list[tuple[float, float, float, float, float]] = field(default_factory=list)

    @property
    def ua_kw_per_k(self) -> float:
        return self.design_ua_kw_per_k if self._theta is None else float(self._theta[0])

    @property
    def span_s(self) -> float:
        """Plant time between the oldest and the newest sample the fit holds."""
        return self._samples[-1][0] - self._samples[0][0] if self._samples else 0.0

    def flow_fraction(self, opening: float, share: float | None = None) -> float:
        from twin.sim.control import valve_flow_fraction

        b = self.design if share is None else share
        return float(valve_flow_fraction(opening, b, self.rangeability))

    def _hot_effectiveness(
        self,
        theta: np.ndarray,
        opening: np.ndarray | float,
        hot_rate: np.ndarray | float,
        cold_rate_full: np.ndarray | float,
    ) -> np.ndarray:
        from twin.sim.control import valve_flow_fraction
        from twin.sim.heat_exchange import exchanger_conductance_w_per_k

        fraction = valve_flow_fraction(opening, float(theta[1]), self.rangeability)
        cold = np.maximum(fraction, 1e-6) * cold_rate_full
        g = exchanger_conductance_w_per_k(max(float(theta[0]), 1e-6), hot_rate, cold)
        return np.asarray(g) / hot_rate

    def observe(
        self,
        time_s: float,
        opening: float,
        hot_in_c: float,
        hot_out_c: float,
        hot_rate_kw_per_k: float,
        cold_in_c: float,
        cold_rate_full_kw_per_k: float,
    ) -> Estimate | None:
        """One sample of the CDU's measurements; None while it says nothing (no flow, no
        temperature difference, the valve shut)."""
        span = hot_in_c - cold_in_c
        values = (opening, hot_in_c, hot_out_c, hot_rate_kw_per_k, cold_in_c)
        if (
            not all(math.isfinite(v) for v in values)
            or hot_rate_kw_per_k <= 0
            or cold_rate_full_kw_per_k <= 0
            or span <= 0.5
            or opening <= 0
        ):
            return None
        measured = (hot_in_c - hot_out_c) / span
        if not 0.0 < measured < 1.0:
            return None
        self._samples.append(
            (time_s, opening, hot_rate_kw_per_k, cold_rate_full_kw_per_k, measured)
        )
        while (
            self._samples and self._samples[0][0] < time_s - VALVE_WINDOW_MEMORIES * self.memory_s
        ):
            self._samples.pop(0)
        prior = np.array([self.design_ua_kw_per_k, self.design])
        prior_std = np.array([0.5 * self.design_ua_kw_per_k, 0.5])
        theta = prior.copy() if self._theta is None else self._theta.copy()
        t, x, hot, cold, y = (np.array(column) for column in zip(*self._samples, strict=True))
        w = np.exp(-(time_s - t) / self.memory_s)
        steps = np.array([VALVE_STEP * self.design_ua_kw_per_k, VALVE_STEP])
        jac = np.zeros((y.size, 2))
        r = y - self._hot_effectiveness(theta, x, hot, cold)
        for _ in range(VALVE_ITERATIONS):
            for j in range(2):
                moved = theta.copy()
                moved[j] += steps[j]
                jac[:, j] = (self._hot_effectiveness(moved, x, hot, cold) - (y - r)) / steps[j]
            # the prior as two pseudo-samples against a sample's spread
            weight = VALVE_SAMPLE_STD**2 / prior_std**2
            normal = jac.T @ (jac * w[:, None]) + np.diag(weight)
            gradient = jac.T @ (w * r) + weight * (prior - theta)
            theta = theta + np.linalg.solve(normal, gradient)
            theta[0] = max(theta[0], 0.05 * self.design_ua_kw_per_k)
            theta[1] = min(max(theta[1], VALVE_SHARE_RANGE[0]), VALVE_SHARE_RANGE[1])
            r = y - self._hot_effectiveness(theta, x, hot, cold)
        self._theta = theta
        # the band: the residuals' spread (at least a sample's assumed one while few),
        # inflated for their correlation from sample to sample
        effective = float(w.sum())
        var = float(np.sum(w * r * r) / max(effective - 2.0, 1.0)) if effective > 3 else 0.0
        var = max(var, 0.1 * VALVE_SAMPLE_STD**2)
        rho = 0.0
        if r.size > 2 and float(np.dot(r, r)) > 0:
            rho = min(max(float(np.dot(r[1:], r[:-1]) / np.dot(r, r)), 0.0), MAX_CORRELATION)
        weight = var / prior_std**2
        normal = jac.T @ (jac * w[:, None]) + np.diag(weight)
        cov = np.linalg.inv(normal) * var * (1 + rho) / (1 - rho)
        value = float(theta[1])
        std = math.sqrt(max(float(cov[1, 1]), 0.0))
        estimate = Estimate(time_s, value, std, (value - self.design) / self.limit)
        self._keep(estimate)
        self._judge_share(estimate)
        return estimate

    def update(self, time_s: float, phi: float, y: float) -> Estimate | None:
        raise TypeError("a valve characteristic takes its samples through observe()")

    def _judge_share(self, e: Estimate) -> None:
        outside = abs(e.ratio) > 1.0 and 2.0 * e.std < self.limit
        if outside:
            if self._outside_since is None:
                self._outside_since = e.time_s
            if self.alarm is None and e.time_s - self._outside_since >= self.confirm_s:
                self.alarm = (
                    f"{self.name} {e.value:.2f} {self.unit} against {self.design:.2f} in "
                    f"the model (limit ±{self.limit:g}): {self.meaning_high}"
                )
                self.alarms.append((e.time_s, self.alarm))
            return
        self._outside_since = None
        if self.alarm is not None and abs(e.ratio) < CLEAR_MARGIN:
            self.alarms.append((e.time_s, f"{self.name} back within limits (cleared)"))
            self.alarm = None
