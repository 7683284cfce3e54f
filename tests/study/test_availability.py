"""Monte Carlo availability against its analytic value: a utility feed whose MTBF is so
short that every replica loses it, repaired after exponential times; the availability the
study measures must hold the exact expected value for the run's length within its 95 %
confidence interval, and the simulated site must be off the grid exactly while the drawn
outages last (to the step)."""

from __future__ import annotations

import math

import numpy as np
import pyarrow.parquet as pq
import pytest

from twin.scenario import load
from twin.sim.engine import Simulation
from twin.study.analysis import mean_interval, monte_carlo_summary, run_availability
from twin.study.cluster import connect
from twin.study.failures import draw
from twin.study.plan import REFERENCE_ID, load_study, replica_seed_of, scenario_for
from twin.study.results import read_results
from twin.study.run import run_study
from twin.study.schema import MonteCarlo

MTBF_H, MTTR_H = 0.5, 0.25
RUN_H, DT_S = 6.0, 60.0
REPLICAS = 30

STUDY = f"""
[study]
name = "utility-availability"
scenario = "single-rack"
duration_s = "{RUN_H:g}h"
dt_s = "{DT_S:g}s"
every_s = "{DT_S:g}s"
seed = 2
keep_tables = true

[monte_carlo]
replicas = {REPLICAS}

[monte_carlo.components.utility]
mtbf_h = {MTBF_H}
mttr_h = {MTTR_H}
repair_distribution = "exponential"
"""


def test_run_availability_is_the_markov_value_and_tends_to_the_long_run_one():
    long_run = MTBF_H / (MTBF_H + MTTR_H)
    assert run_availability(MTBF_H, MTTR_H, 1e7) == pytest.approx(long_run)
    assert run_availability(MTBF_H, MTTR_H, 1e-9) == pytest.approx(1.0)
    # λ = 2/h, μ = 4/h, T = 6 h: 4/6 + 2/(36 * 6) * (1 - e^-36)
    assert math.isclose(run_availability(MTBF_H, MTTR_H, RUN_H), 4 / 6 + 2 / 216, rel_tol=1e-12)


def test_drawn_availability_holds_the_exact_value_for_the_run_length_not_the_long_run_one():
    """4,000 replicas of 4 h, MTBF 15 min, MTTR 7.5 min, both exponential: the interval is
    narrow enough to tell the run's expected availability (0.6736) from the long-run one
    (0.6667)."""
    scenario = load("single-rack")
    mc = MonteCarlo.model_validate(
        {
            "replicas": 1,
            "components": {
                "utility": {"mtbf_h": 0.25, "mttr_h": 0.125, "repair_distribution": "exponential"}
            },
        }
    )
    availability = []
    for replica in range(4000):
        drawn = draw(scenario, mc, 4 * 3600.0, np.random.default_rng(replica_seed_of(1, replica)))
        assert drawn.failures["utility"] > 0  # every replica fails
        availability.append(1 - drawn.downtime_h["utility"] / drawn.unit_hours["utility"])
    estimate = mean_interval(np.array(availability))
    assert estimate.low <= run_availability(0.25, 0.125, 4.0) <= estimate.high
    assert not estimate.low <= 0.25 / 0.375 <= estimate.high


def _steps_down(events: list[dict], horizon_s: float, sub_step_s: float):
    """The rows of a run at DT_S without the utility, for outages drawn at ``at_s`` for
    ``duration_s``: ``(down, either)``. The step an outage falls in is taken in
    sub-steps (an upset), so the feed goes at the first sub-step starting at or after
    its time and comes back ``duration_s`` later, at the start of the first sub-step or
    step after that (a sub-step while the upset's window lasts): a row is off the grid
    when all of it is, and the row the feed comes back in is ``either``."""
    down = np.zeros(round(horizon_s / DT_S), dtype=bool)
    either = np.zeros_like(down)
    starts = np.arange(down.size) * DT_S
    for event in events:
        assert event["kind"] == "utility-outage"
        begin = math.ceil(event["at_s"] / sub_step_s) * sub_step_s
        end = begin + event["duration_s"]
        after_begin = starts >= begin
        down |= after_begin & (starts + DT_S - sub_step_s < end)
        either |= after_begin & (starts < end) & (starts + DT_S - sub_step_s >= end)
    return down, either


@pytest.mark.slow
def test_a_study_whose_utility_always_fails_measures_the_analytic_availability(tmp_path):
    path = tmp_path / "study.toml"
    path.write_text(STUDY, encoding="utf-8")
    plan = load_study(path)
    # worker processes, as a study runs by default: 31 CPU-bound runs of seconds each would
    # hold in-process workers' GIL against the scheduler's event loop
    with connect(workers=2) as client:
        tally = run_study(plan, tmp_path / "results", client)
    assert tally.failed == 0 and tally.done == REPLICAS + 1
    rows = {r["run_id"]: r for r in read_results(tmp_path / "results").to_pylist()}
    expected = run_availability(MTBF_H, MTTR_H, RUN_H)

    summary = monte_carlo_summary(tmp_path / "results")
    utility = summary.components[0]
    assert utility.component == "utility" and utility.over_the_run == expected
    assert utility.observed.n == REPLICAS
    assert utility.observed.low <= expected <= utility.observed.high
    assert utility.observed.high - utility.observed.low < 0.1

    base = scenario_for(plan.scenario_data, (), plan.scenario_folder)
    sub_step_s = Simulation(base, dt_s=DT_S).refine_step_s
    measured = []
    for spec in plan.runs:
        table = pq.read_table(tmp_path / "results" / "tables" / f"{spec.run_id}.parquet")
        off_grid = table.column("grid_import_kw").to_numpy() <= 1e-6
        if spec.run_id == REFERENCE_ID:
            assert not off_grid.any()
            continue
        assert rows[spec.run_id]["failures.utility"] >= 1  # every replica loses the feed
        drawn = draw(
            base, plan.study.monte_carlo, RUN_H * 3600.0, np.random.default_rng(spec.replica_seed)
        )
        # the simulated site is off the grid in exactly the steps the draw says
        down, either = _steps_down(drawn.events, RUN_H * 3600.0, sub_step_s)
        assert np.array_equal(off_grid & ~either, down), spec
        measured.append(1.0 - off_grid.mean())
        # rows only partly off the grid (one at each end of an outage) are not counted
        assert (
            abs(off_grid.sum() * DT_S / 3600.0 - rows[spec.run_id]["downtime_h.utility"])
            <= 2 * rows[spec.run_id]["failures.utility"] * DT_S / 3600.0
        )
    simulated = mean_interval(np.array(measured))
    assert simulated.low <= expected <= simulated.high
