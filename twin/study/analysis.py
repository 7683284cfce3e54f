"""What a study's results say: Monte Carlo statistics with confidence intervals, and for a
sweep each run's KPIs against the study's limits.

Intervals are two-sided 95 %: a mean's by Student's t over the replicas (replicas are
independent draws), a proportion's by Wilson's score interval (sound near 0 and 1, where
availability studies live). A per-run figure is scaled to a year by the run's length, as
if the run's failure process went on unchanged (a run much shorter than the components'
cycles sees fewer failures than a year's share: every unit starts up).
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from pathlib import Path
from statistics import NormalDist
from typing import Any

import numpy as np

from twin.study.failures import HOURS_PER_YEAR, reliability
from twin.study.plan import load_study_text
from twin.study.results import MANIFEST, parameter_column, read_results

CONFIDENCE = 0.95
# Student's t, two-sided 95 % (the 0.975 quantile), for 1..30 degrees of freedom; above 30
# the normal quantile is used (within 2 % of t).
_T_975 = (
    12.706,
    4.303,
    3.182,
    2.776,
    2.571,
    2.447,
    2.365,
    2.306,
    2.262,
    2.228,
    2.201,
    2.179,
    2.160,
    2.145,
    2.131,
    2.120,
    2.110,
    2.101,
    2.093,
    2.086,
    2.080,
    2.074,
    2.069,
    2.064,
    2.060,
    2.056,
    2.052,
    2.048,
    2.045,
    2.042,
)
_Z_975 = NormalDist().inv_cdf(0.975)


@dataclass(frozen=True, slots=True)
class Estimate:
    value: float
    low: float
    high: float
    n: int

    def text(self, fmt: str = "{:,.4g}") -> str:
        if not math.isfinite(self.value):
            return "n/a"
        return (
            f"{fmt.format(self.value)} (95 % CI {fmt.format(self.low)} .. "
            f"{fmt.format(self.high)}, n={self.n})"
        )


def mean_interval(values: np.ndarray) -> Estimate:
    x = np.asarray(values, dtype=float)
    x = x[np.isfinite(x)]
    n = x.size
    if n == 0:
        return Estimate(math.nan, math.nan, math.nan, 0)
    mean = float(x.mean())
    if n == 1:
        return Estimate(mean, -math.inf, math.inf, 1)
    t = _T_975[n - 2] if n - 1 <= len(_T_975) else _Z_975
    half = t * float(x.std(ddof=1)) / math.sqrt(n)
    return Estimate(mean, mean - half, mean + half, n)


def wilson_interval(successes: int, n: int) -> Estimate:
    if n == 0:
        return Estimate(math.nan, math.nan, math.nan, 0)
    p, z = successes / n, _Z_975
    centre = (p + z * z / (2 * n)) / (1 + z * z / n)
    half = z * math.sqrt(p * (1 - p) / n + z * z / (4 * n * n)) / (1 + z * z / n)
    low = 0.0 if successes == 0 else max(centre - half, 0.0)  # exact at the ends
    high = 1.0 if successes == n else min(centre + half, 1.0)
    return Estimate(p, low, high, n)


def per_year_probability(p: float, run_h: float) -> float:
    """The chance of at least one occurrence in a year, from its chance ``p`` in a run of
    ``run_h`` hours, occurrences taken as a Poisson process."""
    if not math.isfinite(p) or run_h <= 0:
        return math.nan
    if p >= 1.0:
        return 1.0
    rate_per_h = -math.log1p(-p) / run_h
    return 1.0 - math.exp(-rate_per_h * HOURS_PER_YEAR)


def run_availability(mtbf_h: float, mttr_h: float, run_h: float) -> float:
    """A unit's expected time-average availability over a run of ``run_h`` hours when it
    starts up and its times to failure and to repair are exponential (a two-state Markov
    process, failure rate λ = 1/MTBF, repair rate μ = 1/MTTR):

        μ/(λ+μ) + λ/((λ+μ)² T) · (1 − e^(−(λ+μ)T))

    the integral over the run of A(t) = μ/(λ+μ) + λ/(λ+μ) e^(−(λ+μ)t) (Billinton and Allan,
    Reliability Evaluation of Engineering Systems, 2nd ed. 1992, ch. 9). It tends to
    MTBF/(MTBF+MTTR) for long runs and is above it for short ones."""
    fail, repair = 1.0 / mtbf_h, 1.0 / mttr_h
    rate = fail + repair
    return repair / rate + fail / (rate * rate * run_h) * -math.expm1(-rate * run_h)


@dataclass(frozen=True, slots=True)
class ComponentAvailability:
    component: str
    observed: Estimate  # time-average over each replica's units, then across replicas
    long_run: float  # MTBF / (MTBF + MTTR)
    failures_per_replica: Estimate
    over_the_run: float  # run_availability; NaN unless failures and repairs are exponential


@dataclass(frozen=True, slots=True)
class MonteCarloSummary:
    replicas: int
    failed_runs: int
    run_h: float
    output_availability: Estimate
    tokens_lost_per_year: Estimate
    any_trip: Estimate  # per run
    any_trip_per_year: tuple[float, float, float]
    components: list[ComponentAvailability]
    worst: list[dict[str, Any]]  # the runs that lost most tokens


def columns(table: Any) -> dict[str, np.ndarray]:
    """A results table's columns as numpy arrays: numbers as float (None as NaN; seeds above
    2^53 lose digits: take them from the plan), text and true/false as objects."""
    import pyarrow as pa

    out = {}
    for name in table.column_names:
        column = table.column(name)
        numeric = pa.types.is_integer(column.type) or pa.types.is_floating(column.type)
        values = column.to_pylist()
        out[name] = (
            np.array([math.nan if v is None else v for v in values], dtype=float)
            if numeric
            else np.array(values, dtype=object)
        )
    return out


def monte_carlo_summary(folder: Path) -> MonteCarloSummary:
    plan = load_study_text(folder / MANIFEST)
    table = read_results(folder)
    c = columns(table)
    replica = np.array([str(r).startswith("replica-") for r in c["run_id"]])
    ok = replica & (c["status"] == "ok")
    run_h = plan.study.study.duration_s / 3600.0
    lost = c["tokens_lost"][ok] * HOURS_PER_YEAR / run_h
    trips = int(np.sum(c["max_tripped_racks"][ok] > 0))
    any_trip = wilson_interval(trips, int(ok.sum()))
    components = []
    for name, given in plan.study.require_monte_carlo().components.items():
        figures = reliability(name, given)
        unit_h = c[f"unit_hours.{name}"][ok]
        down = c[f"downtime_h.{name}"][ok]
        with np.errstate(invalid="ignore", divide="ignore"):
            per_replica = 1.0 - down / unit_h
        exponential = (
            given.failure_distribution == "exponential" or given.weibull_shape == 1.0
        ) and given.repair_distribution == "exponential"
        components.append(
            ComponentAvailability(
                name,
                mean_interval(per_replica),
                figures.mtbf_h / (figures.mtbf_h + figures.mttr_h),
                mean_interval(c[f"failures.{name}"][ok]),
                run_availability(figures.mtbf_h, figures.mttr_h, run_h)
                if exponential
                else math.nan,
            )
        )
    order = np.argsort(-np.nan_to_num(c["tokens_lost"][ok], nan=-np.inf))[:5]
    specs = {spec.run_id: spec for spec in plan.runs}  # exact seeds (a float column rounds)
    worst = [
        {
            "run_id": c["run_id"][ok][i],
            "replica_seed": specs[c["run_id"][ok][i]].replica_seed,
            "tokens_lost": float(c["tokens_lost"][ok][i]),
            "output_availability": float(c["output_availability"][ok][i]),
        }
        for i in order
    ]
    return MonteCarloSummary(
        int(replica.sum()),
        int(np.sum(replica & (c["status"] != "ok"))),
        run_h,
        mean_interval(c["output_availability"][ok]),
        mean_interval(lost),
        any_trip,
        (
            per_year_probability(any_trip.value, run_h),
            per_year_probability(any_trip.low, run_h),
            per_year_probability(any_trip.high, run_h),
        ),
        components,
        worst,
    )


def summary_lines(folder: Path) -> list[str]:
    """What ``twin study`` prints at its end."""
    plan = load_study_text(folder / MANIFEST)
    if plan.study.monte_carlo is not None:
        s = monte_carlo_summary(folder)
        lines = [
            f"Monte Carlo over {s.replicas:,} replicas of {s.run_h:,.4g} h "
            f"({s.failed_runs} failed):",
            f"  output availability (tokens / reference)  {s.output_availability.text()}",
            f"  tokens lost per year                      {s.tokens_lost_per_year.text('{:,.4g}')}",
            f"  P(any rack trip) per run                  {s.any_trip.text('{:.3f}')}",
            "  P(any rack trip) per year                 "
            + (
                f"{s.any_trip_per_year[0]:.3f} (95 % CI {s.any_trip_per_year[1]:.3f} .. "
                f"{s.any_trip_per_year[2]:.3f})"
                if s.any_trip.n
                else "n/a"
            ),
        ]
        for comp in s.components:
            exact = (
                f"; expected over the run {comp.over_the_run:.5f}"
                if math.isfinite(comp.over_the_run)
                else ""
            )
            lines.append(
                f"  {comp.component:<11} availability {comp.observed.text('{:.5f}')};"
                f" long-run MTBF/(MTBF+MTTR) {comp.long_run:.5f}{exact}; failures "
                f"per replica {comp.failures_per_replica.text('{:,.3g}')}"
            )
        return lines
    table = read_results(folder)
    c = columns(table)
    sweep = np.array([str(r).startswith("sweep-") for r in c["run_id"]])
    ok = sweep & (c["status"] == "ok")
    limits = plan.study.limits
    feasible = np.ones(len(ok), dtype=bool)
    checks = [
        ("peak_import_mw", limits.import_cap_mw, "<="),
        ("hours_throttled_h", limits.hours_throttled_max, "<="),
        ("pue", limits.pue_max, "<="),
        ("output_availability", limits.availability_min, ">="),
    ]
    for name, limit, sense in checks:
        if limit is not None:
            feasible &= (c[name] <= limit) if sense == "<=" else (c[name] >= limit)
    lines = [
        f"sweep: {int(ok.sum()):,} runs finished, {int(np.sum(sweep & ~ok)):,} failed; "
        f"{int(np.sum(feasible & ok)):,} within the study's limits"
    ]
    params = [parameter_column(p) for p in plan.parameter_paths]
    header = [p.removeprefix("param.") for p in params] + [
        "PUE",
        "peak MW",
        "throttled h",
        "tokens lost",
        "ok",
    ]
    lines.append("  " + " | ".join(header))
    for i in np.flatnonzero(ok)[:20]:
        values = [str(c[p][i]) if c[p].dtype == object else f"{c[p][i]:g}" for p in params]
        values += [
            f"{c['pue'][i]:.4f}",
            f"{c['peak_import_mw'][i]:,.3f}",
            f"{c['hours_throttled_h'][i]:,.2f}",
            f"{c['tokens_lost'][i]:,.4g}",
            "yes" if feasible[i] else "no",
        ]
        lines.append("  " + " | ".join(values))
    if ok.sum() > 20:
        lines.append(f"  ... {int(ok.sum()) - 20:,} more in {folder}")
    return lines
