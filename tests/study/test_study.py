"""twin study: the study file's errors, the plan, failure draws, and whole studies on
Dask's real scheduler (threads in this process, and worker processes)."""

from __future__ import annotations

import contextlib
import math
import os
import signal
import socketserver
import subprocess
import sys
import threading
import time
from pathlib import Path

import numpy as np
import pyarrow.parquet as pq
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import twin.study.cluster as study_cluster
from twin.cli import main
from twin.scenario import ScenarioError, load
from twin.study.analysis import mean_interval, monte_carlo_summary, wilson_interval
from twin.study.cluster import connect
from twin.study.failures import draw
from twin.study.kpis import run_kpis
from twin.study.plan import REFERENCE_ID, load_study, replica_seed_of
from twin.study.report import SWEEP_KPIS, replica_scenario_text, standardized_regression
from twin.study.results import ResultsError, read_results
from twin.study.run import BudgetExceeded, StudyStalled, run_study
from twin.study.schema import MonteCarlo
from twin.study.simulate import simulate
from twin.study.task import RunTask, execute

ROOT = Path(__file__).resolve().parents[2]
# a study that finishes no run for this long has stalled: the test fails instead of waiting
STALL_S = 300.0

SWEEP = """
[study]
name = "setpoint-sweep"
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
path = "heat_rejection.dry_coolers.count"
values = [1, 2]
"""

MONTE_CARLO = """
[study]
name = "availability"
scenario = "single-rack"
duration_s = "2h"
dt_s = "60s"
every_s = "15min"
seed = 7

[monte_carlo]
replicas = 3

[monte_carlo.components.dry_cooler]
mtbf_h = 0.05
mttr_h = 0.5
repair_distribution = "fixed"
"""


def write(folder: Path, text: str, name: str = "study.toml") -> Path:
    path = folder / name
    path.write_text(text, encoding="utf-8")
    return path


@pytest.fixture(scope="module")
def threads():
    """A Dask cluster of two worker threads in this process (the real scheduler)."""
    with connect(workers=2, processes=False) as client:
        yield client


# --------------------------------------------------------------------------- study files


def test_a_bad_study_file_lists_every_problem_with_its_path(tmp_path):
    path = write(
        tmp_path,
        """
[study]
name = "bad"
scenario = "single-rack"
duration = "1h"
dt_s = "60s"
every_s = "7min"

[sweep]
method = "grid"
samples = 4

[[sweep.parameters]]
path = "facility_water.supply_setpoint"
values = [30]

[[sweep.parameters]]
path = "facility_water.supply_setpoint_c"
values = [30, 500]
""",
    )
    with pytest.raises(ScenarioError) as caught:
        load_study(path)
    report = caught.value.report()
    assert "study.duration: unknown key (did you mean 'duration_s'?)" in report
    assert "study.duration_s: required key is missing" in report
    assert "sweep.samples: samples is for latin-hypercube" in report
    assert report.startswith(f"{path}: ")


def test_a_swept_path_and_value_are_checked_against_the_scenario(tmp_path):
    path = write(
        tmp_path,
        SWEEP.replace(
            'supply_setpoint_c"\nvalues = [28, 36]', 'supply_setpoint"\nvalues = [28, 36]'
        ).replace("values = [1, 2]", "values = [1, -2]"),
    )
    with pytest.raises(ScenarioError) as caught:
        load_study(path)
    problems = {p.path: p.message for p in caught.value.problems}
    assert "did you mean 'supply_setpoint_c'?" in problems["sweep.parameters[0].values[0]"]
    assert "heat_rejection.dry_coolers.count" in problems["sweep.parameters[1].values[1]"]
    assert "sweep.parameters[1].values[0]" not in problems


def test_the_command_line_reports_a_bad_study_with_exit_status_2(tmp_path, capsys):
    path = write(tmp_path, SWEEP.replace('method = "grid"', 'method = "gird"'))
    assert main(["study", str(path), "--out", str(tmp_path / "results")]) == 2
    err = capsys.readouterr().err
    assert "sweep.method: must be 'grid', 'list', 'latin-hypercube' or 'sobol' (got 'gird')" in err
    assert not (tmp_path / "results").exists()


@pytest.mark.parametrize(
    "address, said",
    [
        ("tcp://127.0.0.1:9", "cannot reach the Dask scheduler at tcp://127.0.0.1:9"),
        ("nonsense", "missing port number in address 'nonsense'; give the scheduler's address"),
        ("http://127.0.0.1:9", "unknown address scheme 'http'"),
    ],
)
def test_an_unreachable_scheduler_is_named(tmp_path, capsys, monkeypatch, address, said):
    # nothing listens on port 9: refused at once, then Dask retries until its timeout
    monkeypatch.setattr(study_cluster, "CONNECT_TIMEOUT_S", 2.0)
    path = write(tmp_path, SWEEP)
    code = main(
        ["study", str(path), "--out", str(tmp_path / "r"), "--quiet", "--scheduler", address]
    )
    assert code == 2
    assert said in capsys.readouterr().err
    assert not (tmp_path / "r").exists()


class _NotAScheduler(socketserver.ThreadingTCPServer):
    """A service on a free local port that is not a Dask scheduler: it answers each
    connection with ``answer`` (nothing: it waits for the client to hang up)."""

    daemon_threads = True

    def __init__(self, answer: bytes):
        class Handler(socketserver.BaseRequestHandler):
            def handle(self) -> None:
                self.request.settimeout(60)
                if answer:
                    self.request.sendall(answer)
                    return
                with contextlib.suppress(OSError):
                    while self.request.recv(4096):
                        pass

        super().__init__(("127.0.0.1", 0), Handler)
        self.thread = threading.Thread(target=self.serve_forever, daemon=True)

    def __enter__(self):
        self.thread.start()
        return self

    def __exit__(self, *exc):
        self.shutdown()
        self.server_close()
        self.thread.join(10)


@pytest.mark.parametrize(
    "answer, said",
    [(b"", "it said nothing within 2 s"), (b"HTTP/1.0 400 Bad Request\r\n\r\n", "")],
    ids=["silent", "web-server"],
)
def test_a_service_that_is_not_a_scheduler_is_named_in_bounded_time(
    tmp_path, capsys, monkeypatch, answer, said
):
    """Dask's client waits for a scheduler's handshake without end once connected."""
    monkeypatch.setattr(study_cluster, "CONNECT_TIMEOUT_S", 2.0)
    path = write(tmp_path, SWEEP)
    with _NotAScheduler(answer) as service:
        address = f"tcp://127.0.0.1:{service.server_address[1]}"
        code = main(
            ["study", str(path), "--out", str(tmp_path / "r"), "--quiet", "--scheduler", address]
        )
    assert code == 2
    err = capsys.readouterr().err
    assert f"{address} is not a Dask scheduler: {said}" in err, err
    assert not (tmp_path / "r").exists()


def test_a_study_runs_on_a_scheduler_given_by_its_address(tmp_path):
    from distributed import LocalCluster

    one_run = SWEEP.replace('"grid"', '"list"').replace("[28, 36]", "[30]").replace("[1, 2]", "[2]")
    plan = load_study(write(tmp_path, one_run))
    with (
        LocalCluster(n_workers=1, processes=False, dashboard_address=":0") as cluster,
        connect(scheduler=cluster.scheduler_address) as client,
    ):
        tally = run_study(plan, tmp_path / "results", client, stall_s=STALL_S)
    assert tally.done == 2 and tally.failed == 0


def test_grid_list_and_latin_hypercube_plans(tmp_path):
    grid = load_study(write(tmp_path, SWEEP))
    assert [r.run_id for r in grid.runs][:2] == [REFERENCE_ID, "sweep-000000"]
    assert [dict(r.overrides) for r in grid.runs[1:]] == [
        {"facility_water.supply_setpoint_c": a, "heat_rejection.dry_coolers.count": b}
        for a in (28, 36)
        for b in (1, 2)
    ]
    listed = load_study(write(tmp_path, SWEEP.replace('"grid"', '"list"'), "list.toml"))
    assert len(listed.runs) == 3
    lhs = load_study(
        write(
            tmp_path,
            """
[study]
name = "lhs"
scenario = "single-rack"
duration_s = "1h"
seed = 3
[sweep]
method = "latin-hypercube"
samples = 10
[[sweep.parameters]]
path = "facility_water.supply_setpoint_c"
low = 25.0
high = 35.0
[[sweep.parameters]]
path = "weather_year"
low = 2015
high = 2024
integer = true
""",
            "lhs.toml",
        )
    )
    setpoints = sorted(dict(r.overrides)["facility_water.supply_setpoint_c"] for r in lhs.runs[1:])
    # one sample in each tenth of the range
    assert [int((v - 25.0) // 1.0) for v in setpoints] == list(range(10))
    assert all(isinstance(dict(r.overrides)["weather_year"], int) for r in lhs.runs[1:])


# --------------------------------------------------------------------------- failures


def test_drawn_availability_matches_the_analytic_value_within_its_interval():
    """Up times exponential (MTBF 1 h), repairs fixed at 15 min, 200 h per replica: the time
    average tends to MTBF / (MTBF + MTTR) = 0.8."""
    scenario = load("single-rack")
    mc = MonteCarlo.model_validate(
        {
            "replicas": 300,
            "components": {
                "utility": {"mtbf_h": 1.0, "mttr_h": 0.25, "repair_distribution": "fixed"}
            },
        }
    )
    availability = []
    for replica in range(300):
        drawn = draw(scenario, mc, 200 * 3600.0, np.random.default_rng(replica_seed_of(1, replica)))
        assert drawn.failures["utility"] > 0  # every replica fails
        availability.append(1 - drawn.downtime_h["utility"] / drawn.unit_hours["utility"])
    estimate = mean_interval(np.array(availability))
    assert estimate.low <= 0.8 <= estimate.high
    assert estimate.high - estimate.low < 0.005


def test_a_draw_is_the_same_for_the_same_seed_and_events_pair_up():
    scenario = load("single-rack")
    mc = MonteCarlo.model_validate(
        {
            "replicas": 1,
            "components": {"dry_cooler": {"mtbf_h": 2.0, "mttr_h": 1.0}, "chiller": {}},
            "common_cause": [
                {
                    "name": "heat",
                    "rate_per_year": 2000,
                    "duration_s": "3h",
                    "heatwave_offset_k": 6,
                    "chiller_units": 1,
                }
            ],
        }
    )
    first = draw(scenario, mc, 48 * 3600.0, np.random.default_rng(11))
    again = draw(scenario, mc, 48 * 3600.0, np.random.default_rng(11))
    other = draw(scenario, mc, 48 * 3600.0, np.random.default_rng(12))
    assert first == again and first != other
    kinds = [e["kind"] for e in first.events]
    assert kinds.count("dry-cooler-fail") == first.failures["dry_cooler"]
    assert 0 <= kinds.count("dry-cooler-fail") - kinds.count("dry-cooler-restore") <= 1
    assert "heatwave" in kinds
    assert all(0 <= e["at_s"] < 48 * 3600.0 for e in first.events)


def test_wilson_interval_holds_the_certain_cases():
    assert wilson_interval(10, 10).high == 1.0 and wilson_interval(10, 10).low > 0.6
    assert wilson_interval(0, 10).low == 0.0


# --------------------------------------------------------------------------- studies


def test_a_sweep_streams_one_part_per_run(tmp_path, threads):
    plan = load_study(write(tmp_path, SWEEP))
    seen = []
    tally = run_study(plan, tmp_path / "results", threads, on_result=seen.append, stall_s=STALL_S)
    assert tally.done == 5 and tally.failed == 0
    parts = sorted(p.name for p in (tmp_path / "results" / "runs").iterdir())
    assert parts == [f"run-{r.run_id}.parquet" for r in sorted(plan.runs, key=lambda r: r.run_id)]
    table = read_results(tmp_path / "results")
    rows = {r["run_id"]: r for r in table.to_pylist()}
    reference = rows[REFERENCE_ID]
    assert reference["tokens_lost"] == 0 and reference["output_availability"] == 1
    for row in rows.values():
        assert row["status"] == "ok"
        assert row["energy_mwh"] > row["it_energy_mwh"] > 0
        assert math.isclose(row["pue"], row["energy_mwh"] / row["it_energy_mwh"])
        assert math.isclose(row["simulated_h"], 1.0)
    warm = rows["sweep-000002"]  # 36 C supply, one dry cooler
    assert warm["param.facility_water.supply_setpoint_c"] == 36.0
    assert warm["param.heat_rejection.dry_coolers.count"] == 1.0
    # runs differ where their parameters do
    assert len({round(r["pue"], 9) for r in rows.values()}) > 1
    assert main(["report", str(tmp_path / "results"), "--out", str(tmp_path / "s.html")]) == 0
    page = (tmp_path / "s.html").read_text(encoding="utf-8")
    assert page.count("<svg") == len(SWEEP_KPIS) * 2  # each KPI against both parameters
    assert "standardized regression coefficients" in page


def test_standardized_regression_ranks_a_known_linear_response():
    rng = np.random.default_rng(5)
    x = rng.random((200, 3))
    y = 3.0 * x[:, 0] - 1.0 * x[:, 2]  # the second parameter does nothing
    src, r2 = standardized_regression(x, y)
    assert r2 == pytest.approx(1.0)
    assert abs(src[0]) > abs(src[2]) > abs(src[1])
    assert src[1] == pytest.approx(0.0, abs=1e-9)


def test_a_monte_carlo_is_deterministic_per_replica_seed(tmp_path, threads):
    plan = load_study(write(tmp_path, MONTE_CARLO))
    run_study(plan, tmp_path / "results", threads, stall_s=STALL_S)
    rows = {r["run_id"]: r for r in read_results(tmp_path / "results").to_pylist()}
    replica = next(r for r in plan.runs if r.run_id == "replica-000001")
    assert rows["replica-000001"]["replica_seed"] == replica_seed_of(7, 1)
    again = execute(
        RunTask(
            replica,
            plan.study.study,
            plan.scenario_data,
            plan.scenario_folder,
            plan.study.monte_carlo,
        )
    )
    assert again.ok
    for key, value in again.kpis.items():
        assert value == rows["replica-000001"][key] or (
            math.isnan(value) and math.isnan(rows["replica-000001"][key])
        ), key
    for row in rows.values():
        if row["run_id"] != REFERENCE_ID:
            assert row["failures.dry_cooler"] >= 1  # MTBF of 3 minutes: every replica fails
    summary = monte_carlo_summary(tmp_path / "results")
    assert summary.replicas == 3 and summary.failed_runs == 0
    assert summary.components[0].component == "dry_cooler"
    assert summary.components[0].observed.value < 1
    # the report's worst replica, rerun from the scenario it offers, gives the same KPIs
    worst = summary.worst[0]
    text = replica_scenario_text(plan, worst["replica_seed"])
    scenario_file = tmp_path / "worst.toml"
    scenario_file.write_text(text, encoding="utf-8")
    folder = tmp_path / "rerun"
    folder.mkdir()
    info = plan.study.study
    files = simulate(
        load(scenario_file),
        duration_s=info.duration_s,
        dt_s=info.dt_s,
        every_s=info.every_s,
        seed=int(rows[worst["run_id"]]["seed"]),
        folder=folder,
    )
    for key, value in run_kpis(files.site_table, files.journal).items():
        stored = rows[worst["run_id"]][key]
        assert value == stored or (math.isnan(value) and math.isnan(stored)), key
    assert main(["report", str(tmp_path / "results"), "--out", str(tmp_path / "m.html")]) == 0
    page = (tmp_path / "m.html").read_text(encoding="utf-8")
    assert "Worst replicas" in page and f"download='{worst['run_id']}.toml'" in page


def test_a_failing_run_is_recorded_with_its_seed_and_the_study_goes_on(tmp_path, threads):
    """A weather file that does not exist passes the schema but fails the run itself."""
    path = write(
        tmp_path,
        SWEEP.replace(
            'path = "heat_rejection.dry_coolers.count"\nvalues = [1, 2]',
            'path = "climate.hourly_csv"\nvalues = ["missing.csv"]',
        ),
    )
    plan = load_study(path)
    tally = run_study(plan, tmp_path / "results", threads, stall_s=STALL_S)
    assert tally.done == 3 and tally.failed == 2
    assert f"(seed {plan.scenario.scenario.seed})" in tally.failures[0]
    assert "missing.csv" in tally.failures[0] and "no such file" in tally.failures[0]
    rows = {r["run_id"]: r for r in read_results(tmp_path / "results").to_pylist()}
    assert rows["sweep-000000"]["status"] == "failed"
    assert "missing.csv" in rows["sweep-000000"]["error"]
    assert rows[REFERENCE_ID]["status"] == "ok"


def test_a_budget_too_small_stops_after_the_calibration_run(tmp_path, threads):
    path = write(
        tmp_path, SWEEP.replace('every_s = "15min"', 'every_s = "15min"\nbudget_core_h = 0.00001')
    )
    with pytest.raises(BudgetExceeded, match="core-hours"):
        run_study(load_study(path), tmp_path / "results", threads, stall_s=STALL_S)
    assert [p.name for p in (tmp_path / "results" / "runs").iterdir()] == ["run-reference.parquet"]


def test_results_of_another_study_are_not_resumed(tmp_path, threads):
    run_study(load_study(write(tmp_path, SWEEP)), tmp_path / "results", threads, stall_s=STALL_S)
    with pytest.raises(ResultsError, match="--resume"):
        run_study(
            load_study(tmp_path / "study.toml"), tmp_path / "results", threads, stall_s=STALL_S
        )
    changed = write(tmp_path, SWEEP.replace("[28, 36]", "[28, 34]"), "changed.toml")
    with pytest.raises(ResultsError, match="another study"):
        run_study(load_study(changed), tmp_path / "results", threads, resume=True, stall_s=STALL_S)


# --------------------------------------------------------------------------- processes


def _hear_ctrl_c() -> None:
    """In the child before it starts: Ctrl+C as in a terminal. A test run started in the
    background ignores SIGINT, and a program inherits that (Python then installs no
    KeyboardInterrupt handler)."""
    signal.signal(signal.SIGINT, signal.SIG_DFL)


def _twin(*args: str) -> subprocess.Popen:
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    return subprocess.Popen(
        [sys.executable, "-m", "twin", *args],
        cwd=ROOT,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        preexec_fn=_hear_ctrl_c,
    )


def _wait_for(condition, timeout_s: float = 300.0) -> None:
    deadline = time.monotonic() + timeout_s
    while not condition():
        assert time.monotonic() < deadline, "timed out"
        time.sleep(0.2)


@pytest.mark.slow
@pytest.mark.parametrize("stop", [signal.SIGINT, signal.SIGKILL], ids=["ctrl-c", "killed"])
def test_a_stopped_study_keeps_its_runs_and_resumes(tmp_path, stop):
    import psutil

    # the signal comes one poll (0.2 s) after the first part is stored, while nine runs of
    # 360 steps each are still to go on the one worker
    sweep = SWEEP.replace("[28, 36]", "[28, 30, 32, 34, 36]").replace('"60s"', '"10s"')
    study = write(tmp_path, sweep)
    results = tmp_path / "results"
    runs = results / "runs"
    process = _twin("study", str(study), "--out", str(results), "--workers", "1")
    _wait_for(lambda: len(list(runs.glob("run-sweep-*.parquet"))) >= 1 if runs.is_dir() else False)
    children = psutil.Process(process.pid).children(recursive=True)
    process.send_signal(stop)
    _, err = process.communicate(timeout=120)
    if stop == signal.SIGINT:
        assert process.returncode == 130, err
        assert "add --resume" in err
    else:  # the workers notice their nanny is gone and end
        _, alive = psutil.wait_procs(children, timeout=60)
        assert not alive
    for leftover in runs.glob(".*.partial"):  # a part cut off mid-write: removed on resume
        assert stop == signal.SIGKILL, leftover
    kept = {p.name: p.stat().st_mtime_ns for p in runs.glob("run-*.parquet")}
    assert 2 <= len(kept) < 11
    for part in runs.glob("run-*.parquet"):
        assert pq.read_table(part).num_rows == 1  # every part complete
    process = _twin("study", str(study), "--out", str(results), "--workers", "1", "--resume")
    _, err = process.communicate(timeout=600)
    assert process.returncode == 0, err
    after = {p.name: p.stat().st_mtime_ns for p in runs.glob("run-*.parquet")}
    assert len(after) == 11
    assert all(after[name] == mtime for name, mtime in kept.items())  # not run again
    assert not list(runs.glob(".*"))


def test_a_worker_killed_mid_run_has_its_run_done_elsewhere(tmp_path):
    plan = load_study(write(tmp_path, SWEEP.replace('duration_s = "1h"', 'duration_s = "3h"')))
    with connect(workers=2) as client:
        killed: list[int] = []
        stored: list[str] = []

        def kill_a_busy_worker(row) -> None:
            stored.append(row["run_id"])
            if killed or len(stored) < 2:  # the reference runs alone; then runs are in flight
                return
            _wait_for(lambda: any(client.processing().values()), 60)
            busy = [w for w, keys in client.processing().items() if keys]
            pid = client.run(os.getpid, workers=busy[:1])[busy[0]]
            os.kill(pid, signal.SIGKILL)
            killed.append(pid)

        tally = run_study(
            plan, tmp_path / "results", client, on_result=kill_a_busy_worker, stall_s=STALL_S
        )
    assert killed
    assert tally.failed == 0 and tally.done == len(plan.runs)
    rows = read_results(tmp_path / "results").to_pylist()
    assert {r["status"] for r in rows} == {"ok"} and len(rows) == len(plan.runs)


def test_a_cluster_file_is_checked_and_a_missing_extra_named(tmp_path, capsys):
    study = write(tmp_path, SWEEP)
    bad = write(tmp_path, '[cluster]\nkind = "slurn"\nworkers = 0\n', "bad.toml")
    assert (
        main(["study", str(study), "--out", str(tmp_path / "a"), "--quiet", "--cluster", str(bad)])
        == 2
    )
    err = capsys.readouterr().err
    assert "cluster.kind: must be 'slurm', 'pbs', 'sge', 'lsf' or 'kubernetes'" in err
    assert "cluster.workers: must be" in err
    slurm = write(
        tmp_path,
        '[cluster]\nkind = "slurm"\nworkers = 2\n[cluster.options]\ncores = 1\n',
        "slurm.toml",
    )
    try:
        import dask_jobqueue  # noqa: F401
    except ImportError:
        assert (
            main(
                [
                    "study",
                    str(study),
                    "--out",
                    str(tmp_path / "b"),
                    "--quiet",
                    "--cluster",
                    str(slurm),
                ]
            )
            == 2
        )
        assert "needs dask-jobqueue: pip install dask-jobqueue" in capsys.readouterr().err


def test_a_swept_scenario_seed_is_the_runs_seed(tmp_path):
    plan = load_study(
        write(
            tmp_path,
            SWEEP.replace(
                'path = "heat_rejection.dry_coolers.count"\nvalues = [1, 2]',
                'path = "scenario.seed"\nvalues = [5, 6]',
            ),
        )
    )
    assert [r.seed for r in plan.runs[1:]] == [5, 6, 5, 6]


def test_kept_tables_hold_each_runs_site_series(tmp_path, threads):
    path = write(
        tmp_path,
        SWEEP.replace('every_s = "15min"', 'every_s = "15min"\nkeep_tables = true')
        .replace('"grid"', '"list"')
        .replace("[28, 36]", "[30]")
        .replace("[1, 2]", "[2]"),
    )
    run_study(load_study(path), tmp_path / "results", threads, stall_s=STALL_S)
    kept = sorted(p.name for p in (tmp_path / "results" / "tables").iterdir())
    assert kept == ["reference.parquet", "sweep-000000.parquet"]
    site = pq.read_table(tmp_path / "results" / "tables" / "sweep-000000.parquet")
    assert site.num_rows == 4  # an hour of 15-minute rows
    rows = {r["run_id"]: r for r in read_results(tmp_path / "results").to_pylist()}
    tokens = float(np.sum(site.column("tokens_per_s").to_numpy() * 900.0))
    assert tokens == pytest.approx(rows["sweep-000000"]["tokens"])


def test_a_scheduler_without_workers_is_said_and_the_study_waits_for_some(tmp_path, monkeypatch):
    import io
    import threading

    from distributed import Client, LocalCluster

    import twin.study.run as study_run

    monkeypatch.setattr(study_run, "WAIT_S", 0.5)
    plan = load_study(write(tmp_path, SWEEP.replace("[28, 36]", "[30]")))
    progress = io.StringIO()
    with (
        LocalCluster(n_workers=0, processes=False, dashboard_address=":0") as cluster,
        Client(cluster) as client,
    ):
        said = threading.Event()

        class Watch(io.StringIO):
            def write(self, text: str) -> int:
                if "has no workers" in text:
                    said.set()
                return progress.write(text)

        def add_a_worker_once_told() -> None:
            said.wait(120)
            cluster.scale(1)

        helper = threading.Thread(target=add_a_worker_once_told)
        helper.start()
        tally = run_study(plan, tmp_path / "results", client, progress=Watch(), stall_s=STALL_S)
        helper.join()
    assert said.is_set()
    assert "Ctrl+C stops and keeps every run stored" in progress.getvalue()
    assert tally.done == len(plan.runs) and tally.failed == 0


def test_a_study_that_finishes_no_run_stops_when_told_to_wait_no_longer(tmp_path, monkeypatch):
    from distributed import Client, LocalCluster

    import twin.study.run as study_run

    monkeypatch.setattr(study_run, "WAIT_S", 0.2)
    plan = load_study(write(tmp_path, SWEEP))
    with (
        LocalCluster(n_workers=0, processes=False, dashboard_address=":0") as cluster,
        Client(cluster) as client,
    ):
        started = time.monotonic()
        with pytest.raises(
            StudyStalled, match=r"no run finished in \d+ s \(0 workers, 0 runs done\)"
        ):
            run_study(plan, tmp_path / "results", client, stall_s=1.0)
        assert time.monotonic() - started < 60
    assert not list((tmp_path / "results" / "runs").iterdir())


@settings(
    max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(
    text=st.one_of(
        st.text(max_size=300),
        st.builds(
            lambda base, cut: base[:cut], st.sampled_from([SWEEP, MONTE_CARLO]), st.integers(0, 600)
        ),
    )
)
def test_any_study_text_is_loaded_or_refused_with_problems(tmp_path, text):
    path = write(tmp_path, text, "fuzz.toml")
    try:
        load_study(path)
    except ScenarioError as exc:
        assert exc.problems and all(str(p) for p in exc.problems)


def test_a_damaged_results_folder_is_refused_by_the_report(tmp_path, capsys):
    results = tmp_path / "results"
    (results / "runs").mkdir(parents=True)
    (results / "study.json").write_text("{not json", encoding="utf-8")
    assert main(["report", str(results), "--out", str(tmp_path / "r.html")]) == 2
    assert "is not valid JSON" in capsys.readouterr().err
