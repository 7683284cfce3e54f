"""A study's run done again as a recording: the same scenario, seed and KPIs as the study's
run (a sweep point and a Monte Carlo replica), reused once made, nothing left when
stopped; and the study view's model of a results folder (no Qt)."""

from __future__ import annotations

import math
from pathlib import Path

import numpy as np
import pytest

from twin.gui.study_view import load_study_runs, sort_key
from twin.runs.recording import Recording
from twin.study.cluster import connect
from twin.study.kpis import run_kpis
from twin.study.plan import REFERENCE_ID, load_study
from twin.study.rerun import (
    JOURNAL,
    SITE_TABLE,
    RerunError,
    record_run,
    recording_folder,
    run_scenario_text,
    run_spec,
)
from twin.study.results import read_results
from twin.study.run import run_study

# a study that finishes no run for this long has stalled: the test fails instead of waiting
STALL_S = 300.0

SWEEP = """
[study]
name = "rerun-sweep"
scenario = "single-rack"
duration_s = "1h"
dt_s = "60s"
every_s = "15min"

[sweep]
method = "grid"

[[sweep.parameters]]
path = "facility_water.supply_setpoint_c"
values = [28, 36]

[[sweep.parameters]]
path = "workloads[0].compute_utilization"
values = [0.5, 1.0]
"""

MONTE_CARLO = """
[study]
name = "rerun-replicas"
scenario = "single-rack"
duration_s = "2h"
dt_s = "60s"
every_s = "15min"
seed = 5

[monte_carlo]
replicas = 2

[monte_carlo.components.dry_cooler]
mtbf_h = 0.1
mttr_h = 0.5
repair_distribution = "fixed"
"""


@pytest.fixture(scope="module")
def studies(tmp_path_factory) -> dict[str, Path]:
    folder = tmp_path_factory.mktemp("studies")
    out = {}
    with connect(workers=2, processes=False) as client:
        for name, text in (("sweep", SWEEP), ("monte-carlo", MONTE_CARLO)):
            path = folder / f"{name}.toml"
            path.write_text(text, encoding="utf-8")
            assert run_study(load_study(path), folder / name, client, stall_s=STALL_S).failed == 0
            out[name] = folder / name
    return out


def _same_kpis(folder: Path, row: dict) -> None:
    for key, value in run_kpis(folder / SITE_TABLE, folder / JOURNAL).items():
        assert value == row[key] or (math.isnan(value) and math.isnan(row[key])), key


@pytest.mark.parametrize(
    ("kind", "run_id"), [("sweep", "sweep-000002"), ("monte-carlo", "replica-000001")]
)
def test_a_rerun_records_the_studys_run_step_for_step(studies, kind, run_id):
    results = studies[kind]
    runs = load_study_runs(results)
    recording = record_run(runs.plan, results, run_id)
    assert recording == recording_folder(results, run_id) / "recording"
    rows = {r["run_id"]: r for r in read_results(results).to_pylist()}
    _same_kpis(recording.parent, rows[run_id])
    opened = Recording.open(recording)
    assert not opened.problems
    assert opened.end_s == runs.plan.study.study.duration_s
    spec = run_spec(runs.plan, run_id)
    assert opened.scenario_toml == run_scenario_text(runs.plan, spec)
    if kind == "monte-carlo":  # the replica's drawn failures are in the recorded scenario
        assert (
            opened.scenario_toml.count("dry-cooler-fail")
            == rows[run_id]["failures.dry_cooler"]
            >= 1
        )
    else:
        assert opened.scenario().facility_water.supply_setpoint_c == 36.0
    # asked again, the finished recording is reused
    stamp = (recording.parent / SITE_TABLE).stat().st_mtime_ns
    assert record_run(runs.plan, results, run_id) == recording
    assert (recording.parent / SITE_TABLE).stat().st_mtime_ns == stamp


def test_a_stopped_rerun_leaves_nothing_and_an_unknown_run_is_named(studies):
    results = studies["sweep"]
    plan = load_study_runs(results).plan

    class Stop(Exception):
        pass

    class StopAtOnce:
        def write(self, text: str) -> int:
            raise Stop

        def flush(self) -> None:
            raise Stop

    with pytest.MonkeyPatch.context() as patch:
        patch.setattr("time.perf_counter", iter(np.arange(0.0, 1e6, 10.0)).__next__)
        with pytest.raises(Stop):
            record_run(plan, results, "sweep-000001", progress=StopAtOnce())
    left = sorted(p.name for p in (results / "recordings").iterdir())
    assert "sweep-000001" not in left and not any(name.startswith(".") for name in left)
    with pytest.raises(RerunError, match="has no run 'sweep-000099'"):
        record_run(plan, results, "sweep-000099")


def test_the_study_views_model_reads_the_runs_and_offers_axes(studies):
    sweep = load_study_runs(studies["sweep"])
    assert sweep.run_ids == [REFERENCE_ID, *(f"sweep-{k:06d}" for k in range(4))]
    assert sweep.x_choices()[:2] == [
        "param.facility_water.supply_setpoint_c",
        "param.workloads[0].compute_utilization",
    ]
    assert sweep.default_axes() == ("param.facility_water.supply_setpoint_c", "pue")
    assert "tokens_lost" in sweep.y_choices() and "status" not in sweep.y_choices()
    xs, ys, rows = sweep.points("param.workloads[0].compute_utilization", "tokens_lost")
    assert rows.tolist() == [1, 2, 3, 4]  # not the reference run
    assert xs.tolist() == [0.5, 1.0, 0.5, 1.0]
    assert ys[0] > 0 and ys[1] == 0  # half the utilization loses tokens against the reference
    assert sweep.column("param.facility_water.supply_setpoint_c").label == (
        "facility_water.supply_setpoint_c"
    )
    replicas = load_study_runs(studies["monte-carlo"])
    assert replicas.default_axes() == ("failures.dry_cooler", "tokens_lost")
    assert replicas.title.startswith("rerun-replicas: Monte Carlo of single-rack, 3 of 3 runs")
    assert sorted([3.0, math.nan, 1.0], key=sort_key)[:2] == [1.0, 3.0]


def test_a_rerun_of_a_scenario_with_a_relative_weather_file_replays_from_anywhere(
    tmp_path, monkeypatch
):
    from twin.scenario import builtin_scenarios

    site = tmp_path / "site"
    site.mkdir()
    (site / "weather.csv").write_text(
        "time,dry_bulb_c,wet_bulb_c\n"
        + "".join(f"2026-08-01T{h:02d}:00,{30 + h / 4:.2f},{24 + h / 8:.2f}\n" for h in range(24)),
        encoding="utf-8",
    )
    text = builtin_scenarios()["single-rack"].read_text(encoding="utf-8")
    (site / "hot.toml").write_text(
        text.replace("[climate]\n", '[climate]\nhourly_csv = "weather.csv"\n', 1), encoding="utf-8"
    )
    (site / "study.toml").write_text(SWEEP.replace('"single-rack"', '"hot.toml"'), encoding="utf-8")
    plan = load_study(site / "study.toml")
    with connect(workers=1, processes=False) as client:
        assert run_study(plan, tmp_path / "results", client, stall_s=STALL_S).failed == 0
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    monkeypatch.chdir(elsewhere)
    recording = record_run(plan, tmp_path / "results", "sweep-000003")
    rows = {r["run_id"]: r for r in read_results(tmp_path / "results").to_pylist()}
    _same_kpis(recording.parent, rows["sweep-000003"])
    scenario = Recording.open(recording).scenario()
    assert scenario.climate.hourly_csv == str((site / "weather.csv").absolute())
