"""Batch least squares over a window, with identifiability from the Jacobian.

Each parameter is fitted as ``x = value / prior`` (1 at the prior), within its bounds.
Residuals are ``(measured - model) / sigma`` over every usable row of every usable
point, sigma the point's noise (``screening.noise_sigma``), so that points of different
units weigh by how well they are measured. ``scipy.optimize.least_squares`` (trust
region reflective, bounds) minimises them under a soft-L1 loss, which weighs outliers
(spikes, a sensor's bad minutes) linearly instead of quadratically. The Jacobian is
forward differences of whole simulation runs. When the solver stops, the cost is searched
along the least-determined direction and the solver goes on from a lower point
(``down_the_valley``).

Identifiability: from the Jacobian at the prior, the covariance ``(J^T J)^-1`` gives
each parameter's standard deviation given the data and its correlation with the
others. A parameter the data determine worse than ``MAX_RELATIVE_STD`` (no point
responds to it, or its effect is a copy of another's) is left at its prior and named,
with the parameter it is most correlated with; the worst goes first and the rest are
judged again. After the fit the covariance allows for residuals correlated in time and
across points (``fit_covariance``: per parameter the larger of Newey-West's and an AR(1)
inflation of ``s^2 (J^T J)^-1``), and a parameter it leaves worse than
``MAX_RELATIVE_STD`` goes back to its prior.
"""

from __future__ import annotations

import fnmatch
import math
import time
from collections.abc import Callable
from dataclasses import dataclass, field

import numpy as np

from twin.calibration.data import DataError, Measurements
from twin.calibration.model import DEFAULT_WARMUP_S, DrivenModel, ModelRun, is_modelled
from twin.calibration.parameters import Parameter, ScenarioFactory
from twin.calibration.screening import Screening, check_inputs, noise_sigma, screen_outputs
from twin.calibration.validation import Validation, subloops, validate
from twin.scenario import Scenario
from twin.sim.topology import build_topology

MAX_RELATIVE_STD = 0.25  # a parameter known worse than +/-25 % from the data stays at prior
FD_STEP = 1e-3  # relative forward-difference step
LOSS = "soft_l1"
LOSS_SCALE = 3.0  # residuals beyond ~3 sigma weigh linearly
MAX_ITERATIONS = 25  # function evaluations of the trust-region solver
TOLERANCE = 1e-4  # relative change of cost and parameters that ends the fit: far below
# what the data determine, far above rounding
VALLEY_SEARCHES = 3  # searches along the least-determined direction after the solver stops
VALLEY_REACH = 0.2  # how far (relative, largest component) a search may move
VALLEY_EVALUATIONS = 16  # model runs a search may take
VALLEY_EIGENVALUE = 0.1  # a valley: the least-determined direction's eigenvalue of the
# column-normalised J^T J below this (1 - |r| for two parameters: |r| above 0.9)


@dataclass
class ParameterResult:
    param: Parameter
    value: float  # fitted, or the prior where left there
    std: float  # NaN where not fitted
    fitted: bool
    note: str = ""


@dataclass
class WindowResult:
    """A window's data, the model before and after, and their validation."""

    label: str
    start_s: float
    end_s: float
    time_s: np.ndarray
    measured: dict[str, np.ndarray]
    before: ModelRun
    after: ModelRun | None
    screening: Screening
    validation_before: Validation
    validation_after: Validation | None = None


@dataclass
class Calibration:
    params: list[ParameterResult]
    correlation: np.ndarray  # between the fitted parameters
    fit_window: WindowResult
    holdout: WindowResult | None
    input_notes: list[str]
    evaluations: int
    wall_s: float
    warmup_s: float
    sigma: dict[str, float]
    offsets: dict[str, float] = field(default_factory=dict)  # point -> sensor offset found
    messages: list[str] = field(default_factory=list)

    @property
    def fitted(self) -> list[ParameterResult]:
        return [r for r in self.params if r.fitted]


class _Objective:
    """Scaled residuals of the model at relative parameter values, with a cache. A point
    given a sensor offset has its mean residual taken out (the offset's least-squares
    estimate, solved for in closed form at every evaluation)."""

    def __init__(
        self,
        factory: ScenarioFactory,
        model: DrivenModel,
        m: Measurements,
        good: dict[str, np.ndarray],
        sigma: dict[str, float],
        offset_points: set[str],
    ):
        self.factory, self.model, self.good, self.sigma = factory, model, good, sigma
        self.offset_points = offset_points
        self.priors = np.array([p.prior for p in factory.params])
        self.measured = {p: m.values[p][model.rows] for p in good}
        self.lengths = [int(g.sum()) for g in good.values()]  # rows per point, in order
        # the row of each residual, in order
        self.rows = np.concatenate([np.flatnonzero(g) for g in good.values()])
        self.evaluations = 0
        self.offsets: dict[str, float] = {}
        self._cache: dict[bytes, np.ndarray] = {}

    def run(self, x: np.ndarray) -> ModelRun:
        self.evaluations += 1
        return self.model.run(self.factory.build(list(x * self.priors)))

    def scaled(self, run: ModelRun) -> np.ndarray:
        parts = []
        for p, g in self.good.items():
            raw = (self.measured[p] - run.values[p])[g]
            if p in self.offset_points:
                self.offsets[p] = float(np.mean(raw[np.isfinite(raw)]))
                raw = raw - self.offsets[p]
            parts.append(raw / self.sigma[p])
        r = np.concatenate(parts)
        return np.where(np.isfinite(r), r, 0.0)

    def residuals(self, x: np.ndarray) -> np.ndarray:
        key = np.asarray(x, dtype=float).tobytes()
        if key not in self._cache:
            # the last point only: the solver asks for it again
            self._cache = {key: self.scaled(self.run(np.asarray(x, dtype=float)))}
        return self._cache[key]

    def jacobian(self, x: np.ndarray, upper: np.ndarray) -> np.ndarray:
        r0 = self.residuals(x)
        offsets = dict(self.offsets)
        columns = []
        for j in range(x.size):
            step = FD_STEP * max(abs(x[j]), 1.0)
            if x[j] + step > upper[j]:
                step = -step  # at the upper bound: difference backwards
            shifted = x.copy()
            shifted[j] += step
            columns.append((self.scaled(self.run(shifted)) - r0) / step)
        self.offsets = offsets
        return np.column_stack(columns) if columns else np.zeros((r0.size, 0))


def robust_cost(r: np.ndarray) -> float:
    """The solver's cost of scaled residuals under ``LOSS`` (soft-L1 at ``LOSS_SCALE``)."""
    return float(LOSS_SCALE**2 * np.sum(np.sqrt(1.0 + (r / LOSS_SCALE) ** 2) - 1.0))


def down_the_valley(
    fun: Callable[[np.ndarray], np.ndarray],
    z: np.ndarray,
    jac: np.ndarray,
    lower: np.ndarray,
    upper: np.ndarray,
) -> np.ndarray | None:
    """A point further down the fit's least-determined direction, or None where the
    parameters do not trade off (no eigenvalue below ``VALLEY_EIGENVALUE``) or the cost
    falls by less than ``TOLERANCE`` along it.

    Where parameters trade off (a long narrow valley of the cost), the trust region
    shrinks before the solver has followed the valley to its floor: the finite-difference
    slopes across it carry the simulation's discrete events (a chiller staging a step
    earlier), and the Gauss-Newton step the solver trusts along it is a small difference
    of large ones. The cost along the valley itself is smooth, so a bounded scalar search
    (Brent) along the eigenvector of the smallest eigenvalue of the column-normalised
    ``J^T J`` finds its floor in a few runs; the solver then continues from there.
    The same remedy as geodesic steps for "sloppy" models (Transtrum, Machta and Sethna,
    Phys. Rev. E 83, 036701, 2011), reduced to a search along one line."""
    from scipy.optimize import minimize_scalar

    if z.size < 2:
        return None
    norms = np.linalg.norm(jac, axis=0)
    if not np.all(norms > 0):
        return None
    unit = jac / norms
    eigenvalues, eigenvectors = np.linalg.eigh(unit.T @ unit)
    if eigenvalues[0] >= VALLEY_EIGENVALUE:
        return None  # no valley: the solver's own steps are sound
    direction = eigenvectors[:, 0] / norms
    direction /= np.max(np.abs(direction))  # the largest component moves 1 (relative)
    # the line's span inside the bounds, at most VALLEY_REACH either way
    with np.errstate(divide="ignore", invalid="ignore"):
        to_upper = np.where(direction != 0, (upper - z) / direction, np.inf)
        to_lower = np.where(direction != 0, (lower - z) / direction, -np.inf)
    ahead = float(min(np.min(np.maximum(to_upper, to_lower)), VALLEY_REACH))
    back = float(max(np.max(np.minimum(to_upper, to_lower)), -VALLEY_REACH))
    start = robust_cost(fun(z))
    found = minimize_scalar(
        lambda a: robust_cost(fun(np.clip(z + a * direction, lower, upper))),
        bounds=(back, ahead),
        method="bounded",
        options={"xatol": TOLERANCE * 10, "maxiter": VALLEY_EVALUATIONS},
    )
    if not found.fun < start * (1.0 - TOLERANCE):
        return None
    return np.clip(z + float(found.x) * direction, lower, upper)


def hac_covariance(jac: np.ndarray, r: np.ndarray, rows: np.ndarray) -> np.ndarray:
    """The parameters' covariance robust to residuals correlated in time and across
    points (Newey and West, Econometrica 55, 703, 1987): ``B M B`` with ``B = (J^T J)^-1``
    and ``M`` the long-run covariance of the scores ``g_t = sum_i J_it r_i`` over the
    residuals ``i`` of row ``t``, lags weighted by Bartlett's kernel up to Andrews'
    (Econometrica 59, 817, 1991) AR(1) plug-in bandwidth ``1.1447 (a T)^(1/3)``,
    ``a = 4 rho^2 / ((1 - rho)^2 (1 + rho)^2)``, ``rho`` the scores' lag-one correlation.

    A model driven by measured inputs carries their noise into every point at once, and
    its error is smooth in time: ``s^2 (J^T J)^-1`` treats each residual as independent
    evidence and understated the uncertainty several times over on the synthetic plant
    (a pump efficiency seen only through the site's power given +/-19 % where the data
    determine it to +/-35 %). This is still a lower bound where the model's error is a
    bias (the input noise's errors-in-variables effect) rather than noise."""
    p = jac.shape[1]
    if p == 0:
        return np.zeros((0, 0))
    bread = _covariance(jac)
    if not np.all(np.isfinite(bread)):
        return bread
    scores = np.zeros((int(rows.max()) + 1, p))
    np.add.at(scores, rows, jac * r[:, None])
    total = float(np.sum(scores * scores))
    rho = float(np.sum(scores[1:] * scores[:-1])) / total if total > 0 else 0.0
    rho = min(max(rho, 0.0), 0.98)
    a = 4.0 * rho**2 / ((1.0 - rho) ** 2 * (1.0 + rho) ** 2)
    bandwidth = min(math.ceil(1.1447 * (a * scores.shape[0]) ** (1.0 / 3.0)), scores.shape[0] - 1)
    meat = scores.T @ scores
    for lag in range(1, bandwidth + 1):
        shifted = scores[lag:].T @ scores[:-lag]
        meat += (1.0 - lag / (bandwidth + 1.0)) * (shifted + shifted.T)
    return bread @ meat @ bread


def _correlated_residuals(r: np.ndarray, lengths: list[int]) -> float:
    """The variance inflation of residuals correlated from row to row: ``(1 + rho) /
    (1 - rho)`` for a lag-one correlation ``rho`` pooled over the points' series (an
    AR(1) approximation: n rows carry the information of n (1 - rho) / (1 + rho))."""
    num = den = 0.0
    start = 0
    for n in lengths:
        series = r[start : start + n]
        start += n
        if n > 2:
            num += float(np.dot(series[1:], series[:-1]))
            den += float(np.dot(series, series))
    rho = min(max(num / den, 0.0), 0.98) if den > 0 else 0.0
    return (1.0 + rho) / (1.0 - rho)


def fit_covariance(
    jac: np.ndarray, r: np.ndarray, rows: np.ndarray, lengths: list[int]
) -> np.ndarray:
    """The fitted parameters' covariance: per parameter the larger variance of two
    estimates for residuals correlated in time, with Newey-West's correlations.

    Each understates in its own regime: Newey-West (``hac_covariance``) where the errors
    persist over much of a short window (its Bartlett bandwidth truncates them), the
    AR(1) inflation of ``s^2 (J^T J)^-1`` where the model's error is shared across points
    at a row (it sees each point's series alone)."""
    hac = hac_covariance(jac, r, rows)
    dof = max(r.size - jac.shape[1], 1)
    ar1 = _covariance(jac) * (float(np.dot(r, r)) / dof) * _correlated_residuals(r, lengths)
    if not (np.all(np.isfinite(hac)) and np.all(np.isfinite(ar1))):
        return ar1
    std = np.sqrt(np.maximum(np.diag(hac), np.diag(ar1)))
    return _correlation(hac) * np.outer(std, std)


def _covariance(jac: np.ndarray) -> np.ndarray:
    """``(J^T J)^-1``; a column that others reproduce gets an infinite variance (a
    pseudo-inverse would hide that behind a finite minimum-norm answer)."""
    p = jac.shape[1]
    if p == 0:
        return np.zeros((0, 0))
    # each column's part that no combination of the others reproduces
    own = np.empty(p)
    for j in range(p):
        others = np.delete(jac, j, axis=1)
        column = jac[:, j]
        if others.shape[1]:
            coef = np.linalg.lstsq(others, column, rcond=None)[0]
            column = column - others @ coef
        own[j] = float(np.dot(column, column))
    norms2 = np.einsum("ij,ij->j", jac, jac)
    if np.any(own <= 1e-12 * np.maximum(norms2, 1e-300)):
        cov = np.full((p, p), 0.0)
        np.fill_diagonal(cov, np.where(own <= 1e-12 * norms2, np.inf, 1.0 / own))
        return cov
    return np.linalg.inv(jac.T @ jac)


def _correlation(cov: np.ndarray) -> np.ndarray:
    d = np.sqrt(np.clip(np.diag(cov), 1e-300, None))
    with np.errstate(invalid="ignore"):
        corr = np.clip(cov / np.outer(d, d), -1.0, 1.0)
    return np.where(np.isfinite(corr), corr, 0.0)


def _column_correlation(jac: np.ndarray) -> np.ndarray:
    """Cosines between sensitivity columns: +/-1 where two parameters act alike."""
    norms = np.linalg.norm(jac, axis=0)
    unit = jac / np.where(norms > 0, norms, 1.0)
    return unit.T @ unit


def identifiable(
    jac: np.ndarray, names: list[str], scale: float = 1.0
) -> tuple[list[int], dict[int, str]]:
    """Columns the data determine within ``MAX_RELATIVE_STD``, and for the others why
    not: the worst-determined is dropped first and the rest judged again."""
    active = list(range(jac.shape[1]))
    dropped: dict[int, str] = {}
    if not active:
        return active, dropped
    norms = np.linalg.norm(jac, axis=0)
    for j in list(active):
        if norms[j] * MAX_RELATIVE_STD < 1e-6 * max(norms.max(), 1.0) or norms[j] == 0:
            dropped[j] = "not seen by the data: no usable point responds to it"
            active.remove(j)
    while active:
        cov = _covariance(jac[:, active]) * scale**2
        std = np.sqrt(np.clip(np.diag(cov), 0, None))
        worst = int(np.argmax(std))
        if std[worst] <= MAX_RELATIVE_STD:
            break
        j = active[worst]
        cov_active = _covariance(jac[:, active])
        corr = (
            _correlation(cov_active)
            if np.all(np.isfinite(cov_active))
            else -_column_correlation(jac[:, active])
        )
        partner_note = ""
        if len(active) > 1:
            row = np.abs(corr[worst]).copy()
            row[worst] = -1
            k = int(np.argmax(row))
            partner_note = f"; most correlated with {names[active[k]]} (r = {corr[worst, k]:+.3f})"
        alone = 1.0 / norms[j] * scale if norms[j] > 0 else math.inf
        dropped[j] = (
            f"not determined by the data: +/-{100 * min(std[worst], 99.99):.0f} % "
            f"with the others (+/-{100 * min(alone, 99.99):.1f} % alone)"
            f"{partner_note}"
        )
        active.remove(j)
    return active, dropped


def calibrate(
    m: Measurements,
    scenario: Scenario,
    params: list[Parameter],
    window: tuple[float, float] | None = None,
    holdout: tuple[float, float] | None = None,
    warmup_s: float = DEFAULT_WARMUP_S,
    offset_patterns: list[str] | None = None,
    progress: Callable[[str], None] | None = None,
    facility_supply: str = "",
    refine_step_s: float = 0.0,
) -> Calibration:
    """Fit ``params`` over ``window``; ``facility_supply``, a point of the data, drives
    the facility water's temperature instead of the plant's balance (a CDU fitted
    alone, ``twin.calibration.subloop``) and is then not compared; ``refine_step_s``,
    where given, the sub-step after an upset (that of the whole site)."""
    from scipy.optimize import least_squares

    say = progress or (lambda _text: None)
    started = time.perf_counter()
    if window is None:
        window = (float(m.time_s[0]) - m.interval_s + warmup_s, float(m.time_s[-1]))
    points = [p for p in m.values if is_modelled(p) and p != facility_supply]
    if not points:
        raise DataError(
            "the data holds no point the model predicts (temperatures, flows, "
            "powers of racks, CDUs, halls, the plant or the site)"
        )
    model = DrivenModel(m, window[0], window[1], points, warmup_s, facility_supply, refine_step_s)
    span = slice(model.first, int(model.rows[-1]) + 1)
    input_notes = check_inputs(m, scenario, span)
    factory = ScenarioFactory(scenario, params)
    say(
        f"model at its prior over {window[0]:g}..{window[1]:g} s "
        f"({model.rows.size} rows, steps of {model.dt_s:g} s)"
    )
    prior_run = model.run(factory.build([p.prior for p in params]))
    screening = screen_outputs(m, model.rows, prior_run.values)
    if not screening.good:
        raise DataError(
            "no measured point is usable for a fit: "
            + "; ".join(f"{p}: {w}" for p, w in screening.excluded.items())
        )
    sigma = {p: noise_sigma(p, m.values[p][model.rows][screening.good[p]]) for p in screening.good}
    offset_points = {
        p
        for p in screening.good
        if any(fnmatch.fnmatchcase(p, pattern) for pattern in offset_patterns or [])
    }
    unmatched = [
        pattern
        for pattern in offset_patterns or []
        if not any(fnmatch.fnmatchcase(p, pattern) for p in m.values)
    ]
    if unmatched:
        raise DataError(f"--offset {unmatched[0]} names no point of the data")
    objective = _Objective(factory, model, m, screening.good, sigma, offset_points)
    names = [p.name for p in params]
    x_prior = np.ones(len(params))
    lower = np.array([p.lower / p.prior for p in params])
    upper = np.array([p.upper / p.prior for p in params])
    say(f"sensitivities of {len(params)} parameters")
    jac0 = objective.jacobian(x_prior, upper) if params else np.zeros((0, 0))
    active, dropped = identifiable(jac0, names)
    x = x_prior.copy()
    cov = np.zeros((0, 0))
    # each round fits the parameters still active; one fitted worse than
    # MAX_RELATIVE_STD goes back to its prior and the rest are fitted again without it
    while active:
        say(f"fitting {', '.join(names[j] for j in active)}")
        first_jac = jac0[:, active] if np.array_equal(x, x_prior) else None
        base = x.copy()

        def fun(z, active=active, base=base):
            full = base.copy()
            full[active] = z
            return objective.residuals(full)

        def jac(z, active=active, base=base, first=first_jac):
            if first is not None and np.allclose(z, base[active]):
                return first
            full = base.copy()
            full[active] = z
            return objective.jacobian(full, upper)[:, active]

        z = np.clip(x[active], lower[active], upper[active])
        for search in range(VALLEY_SEARCHES + 1):
            z = least_squares(
                fun,
                z,
                jac=jac,
                bounds=(lower[active], upper[active]),
                loss=LOSS,
                f_scale=LOSS_SCALE,
                x_scale="jac",
                max_nfev=MAX_ITERATIONS,
                ftol=TOLERANCE,
                xtol=TOLERANCE,
            ).x
            jac_end = jac(z)
            if search == VALLEY_SEARCHES:
                break
            further = down_the_valley(fun, z, jac_end, lower[active], upper[active])
            if further is None:
                break
            say("further along the least-determined direction")
            z = further
        x[active] = z
        r = objective.residuals(x)
        cov = fit_covariance(jac_end, r, objective.rows, objective.lengths)
        std = np.sqrt(np.clip(np.diag(cov), 0, None))
        poor = [active[k] for k in range(len(active)) if std[k] > MAX_RELATIVE_STD]
        if not poor:
            break
        worst = active[int(np.argmax(std))]
        dropped[worst] = (
            f"fitted to +/-{100 * float(np.max(std)):.0f} % only: left at "
            "its prior rather than fitted to noise"
        )
        x[worst] = 1.0
        active = [j for j in active if j != worst]
        cov = np.zeros((0, 0))
    results = []
    std_of = dict(zip(active, np.sqrt(np.clip(np.diag(cov), 0, None)), strict=False))
    for j, p in enumerate(params):
        if j in std_of:
            note = ""
            if math.isclose(x[j], lower[j], rel_tol=1e-6) or math.isclose(
                x[j], upper[j], rel_tol=1e-6
            ):
                note = "at its bound: the data would take it further"
            results.append(
                ParameterResult(p, float(x[j] * p.prior), float(std_of[j] * p.prior), True, note)
            )
        else:
            results.append(
                ParameterResult(p, p.prior, math.nan, False, dropped.get(j, "not fitted"))
            )
    correlation = _correlation(cov) if cov.size else np.zeros((0, 0))
    say("validating")
    final = factory.build([float(v) for v in x * objective.priors])
    if params or offset_points:
        objective.residuals(x)  # the offsets at the solution
        offsets = dict(objective.offsets)
        after_run = model.run(final)
    else:  # nothing fitted: the model after is the model before
        offsets = {}
        after_run = ModelRun(prior_run.rows, dict(prior_run.values))
    for point, offset in offsets.items():  # the sensor's offset is the data's, not the model's
        after_run.values[point] = after_run.values[point] + offset
    loops = subloops(build_topology(scenario))
    fit_window = _window_result(
        "fit window", window, m, model, prior_run, after_run, screening, len(active), loops
    )
    holdout_result = None
    if holdout is not None:
        hold_model = DrivenModel(
            m, holdout[0], holdout[1], points, warmup_s, facility_supply, refine_step_s
        )
        check_inputs(m, scenario, slice(hold_model.first, int(hold_model.rows[-1]) + 1))
        hold_prior = hold_model.run(factory.build([p.prior for p in params]))
        hold_screen = screen_outputs(m, hold_model.rows, hold_prior.values)
        hold_after = hold_model.run(final)
        for point, offset in offsets.items():
            if point in hold_after.values:
                hold_after.values[point] = hold_after.values[point] + offset
        holdout_result = _window_result(
            "held-out window", holdout, m, hold_model, hold_prior, hold_after, hold_screen, 0, loops
        )
    return Calibration(
        results,
        correlation,
        fit_window,
        holdout_result,
        input_notes,
        objective.evaluations + 2,
        time.perf_counter() - started,
        warmup_s,
        sigma,
        offsets,
        list(m.notes),
    )


def _window_result(
    label: str,
    window: tuple[float, float],
    m: Measurements,
    model: DrivenModel,
    before: ModelRun,
    after: ModelRun,
    screening: Screening,
    fitted: int,
    loops: dict[str, str],
) -> WindowResult:
    time_s = m.time_s[model.rows]
    measured = {p: m.values[p][model.rows] for p in screening.good}
    return WindowResult(
        label,
        window[0],
        window[1],
        time_s,
        measured,
        before,
        after,
        screening,
        validate(time_s, m.interval_s, measured, before.values, screening.good, 0, loops),
        validate(time_s, m.interval_s, measured, after.values, screening.good, fitted, loops),
    )
