"""The study file's schema: a base scenario, a sweep or a Monte Carlo, the run's length.

Built like the scenario schema (``twin.scenario.schema.Strict``): unknown keys are errors
with a did-you-mean, numbers are checked for range and type, durations take units.
"""

from __future__ import annotations

from typing import Annotated, Literal

from pydantic import Field, model_validator

from twin.scenario.schema import (
    Duration,
    Fraction,
    Name,
    NonNegative,
    Positive,
    Strict,
    _inconsistent,
)

MAX_RUNS = 1_000_000  # a study is a plan for a cluster, not an unbounded loop
ParameterValue = float | int | bool | str


class StudyInfo(Strict):
    name: Name
    title: str = Field("", max_length=120)
    scenario: str = Field(
        min_length=1,
        description=("built-in scenario name or a TOML file, relative to the study file's folder"),
    )
    duration_s: Duration = Field(gt=0, le=100 * 365 * 86400.0, description="each run's length")
    dt_s: Duration = Field(60.0, ge=0.1, le=300.0, description="simulation step")
    every_s: Duration = Field(
        3600.0,
        gt=0,
        description=("output interval the KPIs are summed over, a whole multiple of dt_s"),
    )
    seed: int = Field(0, ge=0, le=2**63 - 1, description="seed of the sampling and failures")
    keep_tables: bool = Field(False, description="also keep each run's full site table")
    budget_core_h: Positive | None = Field(
        None,
        description=(
            "refuse to start when the calibration run says the study needs more core-hours"
        ),
    )

    @model_validator(mode="after")
    def _intervals(self) -> StudyInfo:
        ratio = self.every_s / self.dt_s
        if abs(ratio - round(ratio)) > 1e-6 or round(ratio) < 1:
            raise _inconsistent(
                "every_s", f"{self.every_s:g} s must be a whole multiple of dt_s ({self.dt_s:g} s)"
            )
        if self.every_s > self.duration_s:
            raise _inconsistent(
                "every_s",
                f"{self.every_s:g} s is longer than the run (duration_s {self.duration_s:g} s)",
            )
        return self


class Parameter(Strict):
    path: str = Field(
        min_length=1,
        description=(
            "a scenario field such as facility_water.supply_setpoint_c or halls[0].rows[0].count;"
            " weather_year sets the year of scenario.start"
        ),
    )
    values: list[ParameterValue] | None = Field(None, min_length=1, max_length=100_000)
    low: float | None = None
    high: float | None = None
    integer: bool = Field(False, description="round Latin-hypercube samples to whole numbers")

    def require_bounds(self) -> tuple[float, float]:
        """(low, high) of a sampled parameter (latin-hypercube, sobol: ``Sweep`` checks
        they are given)."""
        if self.low is None or self.high is None:
            raise ValueError(f"the parameter {self.path} gives values, not low and high")
        return self.low, self.high


SAMPLED = ("latin-hypercube", "sobol")  # methods that draw points between low and high


class Sweep(Strict):
    method: Literal["grid", "list", "latin-hypercube", "sobol"]
    samples: int | None = Field(
        None,
        ge=1,
        le=MAX_RUNS,
        description=(
            "latin-hypercube: the number of runs; sobol: the base points N of Saltelli's "
            "design, a power of 2, giving N * (2D + 2) runs for D parameters"
        ),
    )
    parameters: list[Parameter] = Field(min_length=1, max_length=64)

    def require_samples(self) -> int:
        """The samples of a sampled sweep (latin-hypercube, sobol: ``_shape`` checks they
        are given)."""
        if self.samples is None:
            raise ValueError(f"a {self.method} sweep has no samples")
        return self.samples

    @model_validator(mode="after")
    def _shape(self) -> Sweep:
        for i, p in enumerate(self.parameters):
            if self.method in SAMPLED:
                if p.values is not None:
                    raise _inconsistent(
                        "parameters", f"a {self.method} parameter gives low and high, not values", i
                    )
                if p.low is None or p.high is None:
                    raise _inconsistent(
                        "parameters", f"a {self.method} parameter needs low and high", i
                    )
                if not p.low < p.high:
                    raise _inconsistent(
                        "parameters", f"low {p.low:g} must be below high {p.high:g}", i
                    )
            elif p.values is None or p.low is not None or p.high is not None:
                raise _inconsistent(
                    "parameters",
                    f"a {self.method} parameter gives values = [...], not low and high",
                    i,
                )
        if self.method == "latin-hypercube" and self.samples is None:
            raise _inconsistent("samples", "latin-hypercube needs samples (the number of runs)")
        if self.method == "sobol":
            runs_per_sample = 2 * len(self.parameters) + 2
            if self.samples is None or self.samples < 2 or self.samples & (self.samples - 1):
                raise _inconsistent(
                    "samples",
                    "sobol needs samples, the number of base "
                    "points N: a power of 2 from 2 up (the Sobol' sequence "
                    f"is balanced only there); the study runs N * "
                    f"{runs_per_sample} runs" + (f" (got {self.samples})" if self.samples else ""),
                )
            if self.samples * runs_per_sample > MAX_RUNS:
                raise _inconsistent(
                    "samples",
                    f"{self.samples} * {runs_per_sample} runs is "
                    f"more than the {MAX_RUNS:,} a study may hold",
                )
        if self.method not in SAMPLED and self.samples is not None:
            raise _inconsistent(
                "samples",
                f"samples is for latin-hypercube and sobol; a "
                f"{self.method} runs every value it is given",
            )
        if self.method == "list":
            lengths = {len(p.values or []) for p in self.parameters}
            if len(lengths) > 1:
                raise _inconsistent(
                    "parameters",
                    "a list sweep pairs the k-th values of each "
                    f"parameter: they need equal lengths (got "
                    f"{sorted(lengths)})",
                )
        return self


class ComponentClass(Strict):
    """Failures and repairs of one component class; a missing figure takes the default
    from ``twin.study.failures.DEFAULT_RELIABILITY``."""

    mtbf_h: Positive | None = Field(None, description="mean time between failures per unit")
    mttr_h: Positive | None = Field(None, description="mean time to repair")
    failure_distribution: Literal["exponential", "weibull"] = "exponential"
    weibull_shape: Positive = Field(1.0, le=20, description="beta; 1 is exponential")
    repair_distribution: Literal["exponential", "lognormal", "fixed"] = "lognormal"
    repair_sigma: Positive = Field(0.8, le=5, description="lognormal shape of repair times")


ComponentName = Literal[
    "cdu", "cdu_pump", "dry_cooler", "chiller", "transformer", "ups_module", "generator", "utility"
]


class CommonCause(Strict):
    """Faults that come together (a heatwave with a chiller trip): a Poisson process of
    ``rate_per_year``, each occurrence applying all of its parts at once for
    ``duration_s``."""

    name: Name
    rate_per_year: Positive = Field(le=10_000)
    duration_s: Duration = Field(gt=0)
    heatwave_offset_k: float = Field(0.0, ge=-30, le=30)
    chiller_units: int = Field(0, ge=0, le=10_000)
    dry_cooler_units: int = Field(0, ge=0, le=100_000)
    utility_outage: bool = False

    @model_validator(mode="after")
    def _something(self) -> CommonCause:
        if (
            self.heatwave_offset_k == 0
            and self.chiller_units == 0
            and self.dry_cooler_units == 0
            and not self.utility_outage
        ):
            raise _inconsistent(
                "heatwave_offset_k",
                "a common cause needs at least one of "
                "heatwave_offset_k, chiller_units, dry_cooler_units, "
                "utility_outage",
            )
        return self


class MonteCarlo(Strict):
    replicas: int = Field(ge=1, le=MAX_RUNS)
    vary_scenario_seed: bool = Field(
        False,
        description=(
            "give each replica its own scenario seed (weather anomalies, workload noise) too; "
            "tokens lost against the reference then mix failures with weather"
        ),
    )
    components: dict[ComponentName, ComponentClass] = Field(default_factory=dict)
    common_cause: list[CommonCause] = Field(default_factory=list, max_length=64)

    @model_validator(mode="after")
    def _something_fails(self) -> MonteCarlo:
        if not self.components and not self.common_cause:
            raise _inconsistent(
                "components",
                "a Monte Carlo needs at least one component "
                "class (such as [monte_carlo.components.chiller]) or a "
                "common_cause",
            )
        return self


class Limits(Strict):
    """Limits the report draws the feasible region against."""

    import_cap_mw: Positive | None = None
    hours_throttled_max: NonNegative | None = None
    pue_max: Annotated[float, Field(ge=1.0)] | None = None
    availability_min: Fraction | None = None


class Study(Strict):
    study: StudyInfo
    sweep: Sweep | None = None
    monte_carlo: MonteCarlo | None = None
    limits: Limits = Limits()

    def require_sweep(self) -> Sweep:
        """The [sweep] of a sweep study; a Monte Carlo study raises ValueError."""
        if self.sweep is None:
            raise ValueError(f"the study {self.study.name} is a Monte Carlo, not a sweep")
        return self.sweep

    def require_monte_carlo(self) -> MonteCarlo:
        """The [monte_carlo] of a Monte Carlo study; a sweep study raises ValueError."""
        if self.monte_carlo is None:
            raise ValueError(f"the study {self.study.name} is a sweep, not a Monte Carlo")
        return self.monte_carlo

    @model_validator(mode="after")
    def _one_kind(self) -> Study:
        if (self.sweep is None) == (self.monte_carlo is None):
            raise _inconsistent(
                "sweep",
                "a study has either a [sweep] or a [monte_carlo] "
                "table" + (", not both" if self.sweep is not None else ""),
            )
        return self
