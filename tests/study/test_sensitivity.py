"""Sobol' sensitivity: the analysis against the Ishigami function's analytic indices, the
study file's Saltelli design, and a small real study with its indices in the report."""

from __future__ import annotations

import math
import re
from pathlib import Path

import numpy as np
import pytest

from twin.cli import main
from twin.scenario import ScenarioError
from twin.study.analysis import columns
from twin.study.cluster import connect
from twin.study.plan import load_study
from twin.study.report import build_study_report
from twin.study.results import read_results
from twin.study.run import run_study
from twin.study.sensitivity import runs_per_sample, saltelli_points, sobol_indices

ISHIGAMI_A, ISHIGAMI_B = 7.0, 0.1
ISHIGAMI_NAMES = ["x1", "x2", "x3"]
ISHIGAMI_BOUNDS = [(-math.pi, math.pi)] * 3

# a study that finishes no run for this long has stalled: the test fails instead of waiting
STALL_S = 300.0


def ishigami(x: np.ndarray) -> np.ndarray:
    return (
        np.sin(x[:, 0])
        + ISHIGAMI_A * np.sin(x[:, 1]) ** 2
        + ISHIGAMI_B * x[:, 2] ** 4 * np.sin(x[:, 0])
    )


def ishigami_indices() -> tuple[list[float], list[float]]:
    """Analytic first-order and total indices (Ishigami & Homma 1990; Saltelli et al.,
    Global Sensitivity Analysis: The Primer, 2008)."""
    a, b, pi = ISHIGAMI_A, ISHIGAMI_B, math.pi
    variance = a * a / 8 + b * pi**4 / 5 + b * b * pi**8 / 18 + 0.5
    v1 = 0.5 * (1 + b * pi**4 / 5) ** 2
    v2 = a * a / 8
    v13 = 8 * b * b * pi**8 / 225  # x1 and x3 together; x3 alone explains nothing
    return (
        [v1 / variance, v2 / variance, 0.0],
        [(v1 + v13) / variance, v2 / variance, v13 / variance],
    )


@pytest.mark.parametrize("seed", range(4))
def test_sobol_indices_of_the_ishigami_function_hold_the_analytic_values(seed):
    x = saltelli_points(ISHIGAMI_NAMES, ISHIGAMI_BOUNDS, 1024, seed)
    assert x.shape == (1024 * runs_per_sample(3), 3)
    assert np.all((x >= -math.pi) & (x <= math.pi))
    found = sobol_indices(ISHIGAMI_NAMES, ISHIGAMI_BOUNDS, ishigami(x), seed=seed)
    assert found.samples_used == found.samples_planned == 1024
    first, total = ishigami_indices()
    for index, s1, st in zip(found.indices, first, total, strict=True):
        assert abs(index.first - s1) <= index.first_half_width, index
        assert abs(index.total - st) <= index.total_half_width, index
        assert 0 < index.first_half_width < 0.1 and 0 < index.total_half_width < 0.1
    # x3 acts only through its interaction with x1: ST well above S1
    assert found.indices[2].total - found.indices[2].first > 0.15


def test_a_missing_run_takes_its_block_out_and_the_rest_still_estimates():
    x = saltelli_points(ISHIGAMI_NAMES, ISHIGAMI_BOUNDS, 1024, 0)
    y = ishigami(x)
    y[[5, 8 * 100 + 3]] = math.nan  # runs in blocks 0 and 100 failed
    found = sobol_indices(ISHIGAMI_NAMES, ISHIGAMI_BOUNDS, y)
    assert (found.samples_used, found.samples_planned) == (1022, 1024)
    first, total = ishigami_indices()
    for index, s1, st in zip(found.indices, first, total, strict=True):
        assert abs(index.first - s1) <= index.first_half_width
        assert abs(index.total - st) <= index.total_half_width
    assert sobol_indices(ISHIGAMI_NAMES, ISHIGAMI_BOUNDS, np.ones(8 * 4)) is None  # no spread
    with pytest.raises(ValueError, match="whole blocks"):
        sobol_indices(ISHIGAMI_NAMES, ISHIGAMI_BOUNDS, np.ones(10))


SOBOL = """
[study]
name = "sobol"
scenario = "single-rack"
duration_s = "1h"
dt_s = "60s"
every_s = "15min"
seed = 4

[sweep]
method = "sobol"
samples = 4

[[sweep.parameters]]
path = "facility_water.supply_setpoint_c"
low = 26.0
high = 40.0

[[sweep.parameters]]
path = "workloads[0].compute_utilization"
low = 0.3
high = 1.0
"""


def test_a_sobol_study_file_needs_low_high_and_a_power_of_two(tmp_path):
    path = tmp_path / "bad.toml"
    path.write_text(
        SOBOL.replace("samples = 4", "samples = 6").replace(
            "low = 26.0\nhigh = 40.0", "values = [26, 40]"
        ),
        encoding="utf-8",
    )
    with pytest.raises(ScenarioError) as caught:
        load_study(path)
    report = caught.value.report()
    assert "a sobol parameter gives low and high, not values" in report
    path.write_text(SOBOL.replace("samples = 4", "samples = 6"), encoding="utf-8")
    with pytest.raises(ScenarioError, match=r"a power of 2 .* N \* 6 runs \(got 6\)"):
        load_study(path)


def test_a_sobol_study_runs_its_design_and_reports_the_indices(tmp_path):
    path = tmp_path / "study.toml"
    path.write_text(SOBOL, encoding="utf-8")
    plan = load_study(path)
    design = saltelli_points(plan.parameter_paths, [(26.0, 40.0), (0.3, 1.0)], 4, 4)
    assert len(plan.runs) == 1 + 4 * runs_per_sample(2)
    assert [[v for _, v in r.overrides] for r in plan.runs[1:]] == design.tolist()
    with connect(workers=2, processes=False) as client:
        tally = run_study(plan, tmp_path / "results", client, stall_s=STALL_S)
    assert tally.failed == 0
    c = columns(read_results(tmp_path / "results"))
    runs = np.array([str(r).startswith("sweep-") for r in c["run_id"]])
    pue = np.full(len(plan.runs) - 1, math.nan)
    pue[c["index"][runs].astype(int)] = c["pue"][runs]
    expected = sobol_indices(plan.parameter_paths, [(26.0, 40.0), (0.3, 1.0)], pue, seed=4)
    assert expected.samples_used == 4
    page = build_study_report(tmp_path / "results")
    assert "Sensitivity (Sobol' indices)" in page and "standardized regression" in page
    assert "4 of 4 base points have all their 6 runs finished" in page
    section = page[page.index("Sobol' indices") :]
    row = re.search(
        r"<td>pue</td><td>facility_water.supply_setpoint_c</td>"
        r"<td[^>]*>([^<]+)</td><td[^>]*>([^<]+)</td>",
        section,
    )
    assert row is not None, section[:2000]
    first = expected.indices[0]
    assert row.group(1) == (
        f"{first.first:.3f} ({first.first - first.first_half_width:.3f}"
        f" .. {first.first + first.first_half_width:.3f})"
    )
    assert row.group(2).startswith(f"{first.total:.3f} (")
    # tokens follow the utilization alone (no run throttles): the setpoint explains none
    tokens = np.full(len(plan.runs) - 1, math.nan)
    tokens[c["index"][runs].astype(int)] = c["tokens"][runs]
    assert np.all(c["hours_throttled_h"][runs] == 0)
    by_tokens = sobol_indices(plan.parameter_paths, [(26.0, 40.0), (0.3, 1.0)], tokens)
    assert by_tokens.indices[0].first == pytest.approx(0.0, abs=1e-9)
    assert by_tokens.indices[0].total == pytest.approx(0.0, abs=1e-9)
    assert by_tokens.indices[1].total > 0.5
    assert main(["report", str(tmp_path / "results"), "--out", str(tmp_path / "report.html")]) == 0
    assert "Sobol' indices" in Path(tmp_path / "report.html").read_text(encoding="utf-8")


def test_a_sobol_studys_fingerprint_names_the_salib_that_drew_its_design(tmp_path):
    path = tmp_path / "study.toml"
    path.write_text(SOBOL, encoding="utf-8")
    drawn = load_study(path).fingerprint
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr("importlib.metadata.version", lambda name: "0.0-other")
        assert load_study(path).fingerprint != drawn  # a resume would mix two designs
    assert load_study(path).fingerprint == drawn
