"""Variance-based (Sobol') sensitivity of a sweep's KPIs, with SALib.

A ``method = "sobol"`` sweep samples its parameters by Saltelli's scheme (SALib's scrambled
Sobol' sequence): ``samples`` = N base points give N * (2D + 2) runs for D parameters, in
blocks of 2D + 2 that belong together. Jansen's and Saltelli's estimators (Saltelli et al.
2010, as SALib implements them) turn the runs' KPIs into first-order indices S1 (the share
of the KPI's variance a parameter explains alone) and total indices ST (alone and with
every other parameter), each with a 95 % bootstrap confidence interval over the blocks.

A run that failed or has not finished takes its whole block out of the estimate (the
estimators need every run of a block); the indices then rest on fewer base points, which
the report says.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

CONFIDENCE = 0.95
BOOTSTRAP_RESAMPLES = 200


def runs_per_sample(parameters: int) -> int:
    """Runs in one block of Saltelli's design (second-order terms included)."""
    return 2 * parameters + 2


def _problem(names: list[str], bounds: list[tuple[float, float]]) -> dict:
    return {"num_vars": len(names), "names": list(names), "bounds": [list(b) for b in bounds]}


def saltelli_points(
    names: list[str], bounds: list[tuple[float, float]], samples: int, seed: int
) -> np.ndarray:
    """The design: ``samples * (2D + 2)`` rows, one column per parameter, within bounds;
    the same for the same seed."""
    from SALib.sample import sobol as sobol_sample

    return sobol_sample.sample(
        _problem(names, bounds),
        samples,
        calc_second_order=True,
        scramble=True,
        seed=np.random.default_rng(seed),
    )


@dataclass(frozen=True, slots=True)
class SobolIndex:
    parameter: str
    first: float  # S1
    first_half_width: float  # the 95 % interval is first ± first_half_width
    total: float  # ST
    total_half_width: float


@dataclass(frozen=True, slots=True)
class SobolResult:
    indices: list[SobolIndex]  # in the parameters' order
    samples_used: int  # base points whose whole block finished
    samples_planned: int


def sobol_indices(
    names: list[str], bounds: list[tuple[float, float]], y: np.ndarray, seed: int = 0
) -> SobolResult | None:
    """S1 and ST with their intervals from the outputs ``y`` of a Saltelli design, in the
    design's row order (NaN where a run failed or is missing). None when fewer than two
    whole blocks are left or the output does not vary (the indices are undefined)."""
    from SALib.analyze import sobol as sobol_analyze

    step = runs_per_sample(len(names))
    y = np.asarray(y, dtype=float)
    if y.size % step:
        raise ValueError(f"{y.size} outputs are not whole blocks of {step} runs")
    blocks = y.reshape(-1, step)
    whole = blocks[np.all(np.isfinite(blocks), axis=1)]
    if len(whole) < 2 or np.ptp(whole) == 0:
        return None
    found = sobol_analyze.analyze(
        _problem(names, bounds),
        whole.ravel(),
        calc_second_order=True,
        num_resamples=BOOTSTRAP_RESAMPLES,
        conf_level=CONFIDENCE,
        seed=seed,
    )
    indices = [
        SobolIndex(
            name,
            float(found["S1"][i]),
            float(found["S1_conf"][i]),
            float(found["ST"][i]),
            float(found["ST_conf"][i]),
        )
        for i, name in enumerate(names)
    ]
    if not all(math.isfinite(v) for s in indices for v in (s.first, s.total)):
        return None
    return SobolResult(indices, len(whole), len(blocks))
