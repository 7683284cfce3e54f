"""Replay shows what the live run showed; damaged recordings say what is wrong and what is
readable; compare finds the cost of a fault."""

from __future__ import annotations

import json
from dataclasses import fields
from pathlib import Path

import numpy as np
import pytest

from twin.cli import main
from twin.runs.output import run_headless
from twin.runs.recording import MANIFEST, Recorder, Recording, RecordingError, run_metadata
from twin.runs.replay import ReplaySimulation, SiteSeries, compare
from twin.scenario import builtin_scenarios, load, loads
from twin.sim.engine import Simulation


@pytest.fixture(autouse=True)
def _flush_without_waiting(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr("twin.runs.recording.MIN_FLUSH_WALL_S", 0.0)


def _live_and_recorded(path: Path, name: str, minutes: int, every_s: float):
    scenario = load(name)
    sim = Simulation.from_scenario(scenario)
    live = {}
    with Recorder(
        path,
        scenario_toml=builtin_scenarios()[name].read_text(),
        metadata=run_metadata(
            scenario_name=name,
            seed=sim.seed,
            dt_s=sim.dt_s,
            start=scenario.scenario.start.isoformat(),
            topology=sim.topology,
        ),
        every_s=every_s,
        flush_every_s=120.0,
    ) as recorder:
        for _ in range(minutes * 60):
            sim.step()
            if sim.time_s % every_s == 0:
                live[sim.time_s] = sim.snapshot()
            recorder.on_step(sim)
    return live, Recording.open(path)


def _assert_same_state(live, replayed, group: str) -> None:
    for f in fields(live):
        expected, got = getattr(live, f.name), getattr(replayed, f.name)
        if f.name == "service_routes_m":  # not recorded: empty routes, one per robot
            assert len(got) == len(expected) and all(r.shape == (0, 2) for r in got)
        elif isinstance(expected, np.ndarray) and expected.dtype.kind == "f":
            np.testing.assert_allclose(
                got, expected, rtol=1e-6, atol=1e-6, err_msg=f"{group}.{f.name}"
            )
        else:
            np.testing.assert_array_equal(got, expected, err_msg=f"{group}.{f.name}")


def test_replay_shows_the_live_values(tmp_path: Path) -> None:
    live, recording = _live_and_recorded(
        tmp_path / "seoul.twinrec", "seoul-ai-factory", minutes=10, every_s=30.0
    )
    replay = ReplaySimulation(recording)
    assert replay.dt_s == 30.0 and replay.has_output
    times = []
    while True:
        snap = replay.snapshot()
        times.append(snap.time_s)
        expected = live[snap.time_s]
        assert snap.step == expected.step
        assert snap.site == expected.site  # float64: exactly the live figures
        for group in ("racks", "cdus", "plant", "power", "robots"):
            _assert_same_state(getattr(expected, group), getattr(snap, group), group)
        if replay.at_end:
            break
        replay.step()
    assert times == sorted(live)
    assert replay.snapshot(robots=False).robots is None


def test_seek_step_and_reset(tmp_path: Path) -> None:
    _, recording = _live_and_recorded(
        tmp_path / "r.twinrec", "single-rack", minutes=10, every_s=60.0
    )
    replay = ReplaySimulation(recording)
    assert replay.time_s == 60.0
    assert replay.seek(359.0) == 300.0 and replay.snapshot().time_s == 300.0
    replay.step(3)
    assert replay.time_s == 480.0
    replay.step(100)
    assert replay.time_s == 600.0 and replay.at_end
    assert replay.seek(-50.0) == 60.0
    replay.seek(400.0)
    replay.reset()
    assert replay.time_s == 60.0


@pytest.fixture
def five_parts(tmp_path: Path) -> Path:
    path = tmp_path / "r.twinrec"
    _live_and_recorded(path, "single-rack", minutes=10, every_s=60.0)
    assert len(json.loads((path / MANIFEST).read_text())["parts"]) == 5
    return path


def test_a_truncated_part_keeps_the_parts_before_it(five_parts: Path) -> None:
    damaged = five_parts / "part-00003.parquet"
    damaged.write_bytes(damaged.read_bytes()[:200])
    recording = Recording.open(five_parts)
    assert len(recording) == 6 and recording.end_s == 360.0
    [problem] = recording.problems
    assert problem.startswith("part 4 of 5 (part-00003.parquet) is damaged (")
    assert recording.summary().endswith("6min readable (6 rows to 6min)")


def test_a_missing_part(five_parts: Path) -> None:
    (five_parts / "part-00001.parquet").unlink()
    recording = Recording.open(five_parts)
    assert len(recording) == 2
    assert recording.problems == ("part 2 of 5 (part-00001.parquet) is missing",)


@pytest.mark.parametrize(
    ("damage", "message"),
    [
        (
            lambda p: (p / "part-00000.parquet").write_bytes(b"PAR1garbage"),
            "nothing is readable: part 1 of 5 (part-00000.parquet) is damaged",
        ),
        (lambda p: (p / MANIFEST).write_text("{not json"), "manifest.json is damaged"),
        (lambda p: (p / MANIFEST).unlink(), "not a twin recording (no manifest.json)"),
        (
            lambda p: (p / MANIFEST).write_text('{"format": "other"}'),
            "does not describe a twin recording",
        ),
    ],
)
def test_unreadable_recordings_raise_a_clear_error(five_parts: Path, damage, message: str) -> None:
    damage(five_parts)
    with pytest.raises(RecordingError, match="^" + str(five_parts)) as info:
        Recording.open(five_parts)
    assert message in str(info.value)


def test_a_missing_recording_and_a_file(tmp_path: Path) -> None:
    with pytest.raises(RecordingError, match="no such recording"):
        Recording.open(tmp_path / "nothing")
    (tmp_path / "site.csv").write_text("time_s\n1\n")
    with pytest.raises(RecordingError, match="not a twin recording"):
        Recording.open(tmp_path / "site.csv")


def test_replay_cli_reports_a_bad_recording(capsys, tmp_path: Path) -> None:
    assert main(["replay", str(tmp_path / "nothing")]) == 2
    err = capsys.readouterr().err
    assert err.strip() == f"twin replay: {tmp_path / 'nothing'}: no such recording"


PUMP_TRIP = """
[[events]]
at_s = "10min"
kind = "pump-trip"
target = "CDU"
pumps = 2
"""


@pytest.mark.slow
def test_compare_shows_the_cost_of_a_pump_trip(tmp_path: Path) -> None:
    text = builtin_scenarios()["single-rack"].read_text()
    runs = {}
    for label, scenario_text in (("base", text), ("trip", text + PUMP_TRIP)):
        out = tmp_path / f"{label}.csv"
        assert (
            run_headless(
                loads(scenario_text),
                duration_s=3600,
                dt_s=1.0,
                every_steps=60,
                out=out,
                progress=None,
                record=tmp_path / f"{label}.twinrec",
                scenario_toml=scenario_text,
            )
            == 0
        )
        runs[label] = out
    tables = compare(runs["base"], runs["trip"])
    recordings = compare(tmp_path / "base.twinrec", tmp_path / "trip.twinrec")
    for result in (tables, recordings):
        assert result.differences["peak_gpu_temp_c"] > 5.0
        assert result.lost_tokens > 0 and result.differences["tokens"] < 0
        assert result.differences["energy_mwh"] < 0  # throttled GPUs draw less
        assert result.differences["duration_h"] == 0
        before = result.time_s <= 600
        a, b = result.series["gpu_temp_max_c"]
        np.testing.assert_allclose(a[before], b[before])  # the same run until the trip
        assert np.max(b[~before] - a[~before]) > 5.0
    assert SiteSeries.read(runs["trip"]).metadata["scenario"] == "single-rack"


def test_site_series_errors(tmp_path: Path) -> None:
    (tmp_path / "other.csv").write_text("a,b\n1,2\n")
    with pytest.raises(RecordingError, match="not a twin site table"):
        SiteSeries.read(tmp_path / "other.csv")
    (tmp_path / "bad.parquet").write_bytes(b"nope")
    with pytest.raises(RecordingError, match="cannot be read"):
        SiteSeries.read(tmp_path / "bad.parquet")
    (tmp_path / "x.txt").write_text("")
    with pytest.raises(RecordingError, match="not a run output"):
        SiteSeries.read(tmp_path / "x.txt")


def test_replay_bar_asks_to_seek(qtbot) -> None:
    from twin.gui._qt.replay_bar import ReplayBar

    bar = ReplayBar(60.0, 600.0, 60.0)
    qtbot.addWidget(bar)
    asked: list[float] = []
    bar.seek_requested.connect(asked.append)
    bar.show_time(300.0)
    assert asked == [] and bar._label.text() == "5min / 10min"
    bar._slider.setValue(8)
    assert asked == [540.0]


def test_fields_an_older_recording_lacks_read_as_a_blank_snapshot(tmp_path: Path) -> None:
    import pyarrow.parquet as pq

    from twin.runs.recording import SHAPES_KEY
    from twin.sim.snapshot import blank_snapshot

    _, recording = _live_and_recorded(
        tmp_path / "seoul.twinrec", "seoul-ai-factory", minutes=2, every_s=30.0
    )
    lacking = (
        "cdus.valve_stuck",
        "power.row_busway_loading",
        "power.hall_redundant",
        "plant.chillers_available",
        "pue",
    )
    for part in sorted(recording.path.glob("part-*.parquet")):
        table = pq.read_table(part)
        shapes = json.loads(table.schema.metadata[SHAPES_KEY])
        older = table.drop_columns([c for c in lacking if c in table.column_names])
        older = older.replace_schema_metadata(
            {
                SHAPES_KEY: json.dumps(
                    {name: shape for name, shape in shapes.items() if name not in lacking}
                )
            }
        )
        pq.write_table(older, part)
    snap = Recording.open(recording.path).snapshot(0)
    topology = Simulation.from_scenario(load("seoul-ai-factory")).topology
    blank = blank_snapshot(
        racks=topology.rack_count,
        cdus=topology.cdu_count,
        halls=len(topology.hall_names),
        rows=len(topology.row_names),
        generators=len(snap.power.generator_state),
    )
    np.testing.assert_array_equal(snap.cdus.valve_stuck, blank.cdus.valve_stuck)
    assert snap.cdus.valve_stuck.dtype == bool and snap.cdus.valve_stuck.shape == (
        topology.cdu_count,
    )
    assert snap.power.row_busway_loading.shape == (len(topology.row_names),)
    assert np.isnan(snap.power.row_busway_loading).all()
    assert snap.power.hall_redundant.shape == (len(topology.hall_names),)
    assert not snap.power.hall_redundant.any()
    assert snap.plant.chillers_available == 0
    assert np.isnan(snap.site["pue"])
    assert np.isfinite(snap.site["it_power_kw"])  # what the row holds is read as before
