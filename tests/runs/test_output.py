"""Headless output: the site table in CSV and Parquet, its metadata, interval rules, and
the per-component table, written by a real run."""

from __future__ import annotations

import csv
import io
import os

import numpy as np
import pyarrow.parquet as pq
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from twin.cli import main
from twin.runs.output import SiteWriter, _fmt, csv_line, run_headless
from twin.runs.replay import SiteSeries
from twin.scenario import builtin_scenarios, load
from twin.sim.engine import Simulation
from twin.sim.snapshot import SITE_NAMES


@pytest.fixture(scope="module")
def single():
    return load("single-rack")


@settings(max_examples=300, deadline=None)
@given(
    st.lists(
        st.one_of(
            st.floats(allow_nan=True, allow_infinity=True),
            st.integers(-(10**16), 10**16).map(float),  # whole numbers on both sides of 1e15
            st.sampled_from([-0.0, 1e15, -1e15, 1e15 - 1, 999_999.0, 1e6, 0.5]),
        ),
        min_size=1,
        max_size=40,
    )
)
def test_a_csv_line_is_what_the_csv_module_writes_of_each_value_formatted(values):
    row = np.array(values, dtype=float)
    expected = io.StringIO()
    csv.writer(expected).writerow([_fmt(v) for v in row.tolist()])
    assert csv_line(row) == expected.getvalue()


def test_csv_rows_are_interval_means_with_metadata(single, tmp_path):
    out = tmp_path / "site.csv"
    assert (
        run_headless(single, duration_s=600, dt_s=1.0, every_steps=60, out=out, progress=None) == 0
    )
    text = out.read_text(encoding="utf-8")
    meta = [line for line in text.splitlines() if line.startswith("#")]
    assert "# scenario: single-rack" in meta and "# dt_s: 1" in meta
    rows = list(
        csv.DictReader(
            io.StringIO("\n".join(line for line in text.splitlines() if not line.startswith("#")))
        )
    )
    assert len(rows) == 10 and tuple(rows[0]) == SITE_NAMES
    # the same run by hand: the first row is the mean of the first minute's steps
    sim = Simulation.from_scenario(single, dt_s=1.0)
    steps = []
    for _ in range(60):
        sim.step()
        steps.append(sim.site_values().copy())
    steps = np.array(steps)
    column = SITE_NAMES.index
    assert float(rows[0]["time_s"]) == 60.0
    assert float(rows[0]["it_power_kw"]) == pytest.approx(
        steps[:, column("it_power_kw")].mean(), rel=1e-5
    )
    assert float(rows[0]["gpu_temp_max_c"]) == pytest.approx(
        steps[:, column("gpu_temp_max_c")].max(), rel=1e-5
    )
    assert float(rows[0]["bess_soc"]) == pytest.approx(steps[-1, column("bess_soc")], rel=1e-5)


def test_parquet_carries_the_same_columns_metadata_and_a_ledger(single, tmp_path):
    out = tmp_path / "site.parquet"
    components = tmp_path / "components.parquet"
    assert (
        run_headless(
            single,
            duration_s=3600,
            dt_s=5.0,
            every_steps=12,
            out=out,
            components=components,
            seed=7,
            progress=None,
        )
        == 0
    )
    table = pq.read_table(out)
    assert table.column_names == list(SITE_NAMES)
    assert table.num_rows == 60
    meta = {k.decode(): v.decode() for k, v in table.schema.metadata.items()}
    assert meta["seed"] == "7" and meta["dt_s"] == "5" and meta["every_s"] == "60"
    closure = table.column("energy_closure_error").to_numpy()
    assert np.all(np.abs(closure) < 1e-3)

    long = pq.read_table(components).to_pydict()
    assert set(long) >= {"time_s", "component", "kind", "quantity", "value"}
    assert len(set(long["time_s"])) == 60
    quantities = set(zip(long["kind"], long["quantity"], strict=True))
    for expected in (
        ("rack", "power_kw"),
        ("rack", "gpu_temp_c"),
        ("cdu", "flow_lpm"),
        ("hall", "transformer_loading"),
        ("hall", "lv_voltage_pu"),
        ("row", "busway_loading"),
        ("plant", "fws_supply_c"),
        ("plant", "mv_voltage_pu"),
    ):
        assert expected in quantities, expected
    voltage = np.array(
        [v for q, v in zip(long["quantity"], long["value"], strict=True) if q == "lv_voltage_pu"]
    )
    assert voltage.size and np.all((voltage > 0.9) & (voltage <= 1.0))


def _metadata(duration_s: float = 600.0, scenario_toml: str | None = None) -> dict[str, str]:
    meta = {"scenario": "single-rack", "every_s": "60", "duration_s": f"{duration_s:g}"}
    if scenario_toml is not None:
        meta["scenario_toml"] = scenario_toml
    return meta


def _row(time_s: float, it_kw: float = 100.0, facility_kw: float = 120.0) -> np.ndarray:
    row = np.zeros(len(SITE_NAMES))
    row[SITE_NAMES.index("time_s")] = time_s
    row[SITE_NAMES.index("it_power_kw")] = it_kw
    row[SITE_NAMES.index("facility_power_kw")] = facility_kw
    return row


@pytest.mark.parametrize("suffix", [".csv", ".parquet"])
def test_a_table_has_its_final_name_only_once_finished(tmp_path, suffix):
    path = tmp_path / f"site{suffix}"
    path.write_text("an earlier run's table", encoding="utf-8")
    writer = SiteWriter(path, _metadata(scenario_toml="[scenario]\nname = 'x'\n"))
    assert not path.exists()  # replaced: never taken for this run's while it is partial
    for k in range(1, 6):
        writer.write(_row(60.0 * k))
    writer.flush()
    partial = tmp_path / f"site{suffix}.partial"
    assert partial.exists()
    series = SiteSeries.read(path)  # the final name leads to the partial output
    assert series.columns["time_s"].tolist() == [60.0, 120.0, 180.0, 240.0, 300.0]
    assert any("never completed" in p for p in series.problems)
    assert any("rows after 5min are missing (5 of 10 rows)" in p for p in series.problems)
    assert series.metadata["scenario_toml"] == "[scenario]\nname = 'x'\n"
    for k in range(6, 11):
        writer.write(_row(60.0 * k))
    writer.finish()
    assert path.is_file() and not partial.exists()
    assert sorted(p.name for p in tmp_path.iterdir()) == [path.name]
    series = SiteSeries.read(path)
    assert series.problems == () and series.columns["time_s"].size == 10
    if suffix == ".parquet":  # one ordinary Parquet file, one row group per part
        assert pq.ParquetFile(path).metadata.num_row_groups == 2


def test_pue_is_the_intervals_energy_ratio_and_undefined_without_it_power(tmp_path):
    path = tmp_path / "site.csv"
    writer = SiteWriter(path, _metadata(duration_s=120.0))
    writer.write(_row(60.0, it_kw=100.0, facility_kw=125.0))
    writer.write(_row(120.0, it_kw=0.0, facility_kw=30.0))
    writer.finish()
    lines = [line for line in path.read_text().splitlines() if not line.startswith("#")]
    pue = [row["pue"] for row in csv.DictReader(io.StringIO("\n".join(lines)))]
    assert pue == ["1.25", "nan"]
    series = SiteSeries.read(path)
    assert series.columns["pue"][0] == 1.25 and np.isnan(series.columns["pue"][1])
    from twin.runs.report import build_report

    page = build_report(path)
    assert "PUE is undefined in 1 of 2 rows" in page


def test_a_cut_off_last_line_and_a_damaged_part_are_named(tmp_path):
    path = tmp_path / "site.csv"
    writer = SiteWriter(path, _metadata())
    for k in range(1, 4):
        writer.write(_row(60.0 * k))
    writer.flush()
    partial = tmp_path / "site.csv.partial"
    with partial.open("a", encoding="utf-8") as f:
        f.write("240,1.5,2")  # a kill in the middle of the fourth row
    series = SiteSeries.read(partial)
    assert series.columns["time_s"].tolist() == [60.0, 120.0, 180.0]
    assert any("the last row was cut off" in p for p in series.problems)

    table = tmp_path / "site.parquet"
    writer = SiteWriter(table, _metadata())
    for k in range(1, 10):
        writer.write(_row(60.0 * k))
        if k % 3 == 0:
            writer.flush()  # three parts of three rows
    parts = tmp_path / "site.parquet.partial"
    (parts / "part-00001.parquet").write_bytes(b"PAR1 not a Parquet file PAR1")
    series = SiteSeries.read(table)
    assert series.columns["time_s"].tolist() == [60.0, 120.0, 180.0]
    assert any("part 2 of 3 (part-00001.parquet) is damaged" in p for p in series.problems)
    assert any("rows after 3min are missing" in p for p in series.problems)


def test_a_gap_in_the_rows_is_named(tmp_path):
    path = tmp_path / "site.csv"
    writer = SiteWriter(path, _metadata(duration_s=300.0))
    for k in (1, 2, 5):
        writer.write(_row(60.0 * k))
    writer.finish()
    series = SiteSeries.read(path)
    assert series.problems == ("2 rows are missing between 2min to 5min",)


def test_the_report_takes_the_scenario_its_run_carries(tmp_path, capsys):
    # a custom scenario named like a built-in is reported as itself, not as the built-in
    text = builtin_scenarios()["single-rack"].read_text(encoding="utf-8")
    custom = tmp_path / "single-rack.toml"
    custom.write_text(text.replace('title = "', 'title = "Custom: ', 1), encoding="utf-8")
    out = tmp_path / "site.parquet"
    assert (
        main(
            ["run", "--scenario", str(custom), "--duration", "10min", "--out", str(out), "--quiet"]
        )
        == 0
    )
    custom.unlink()  # the report needs no scenario file
    report = tmp_path / "report.html"
    assert main(["report", str(out), "--out", str(report)]) == 0
    page = report.read_text(encoding="utf-8")
    assert "Custom: " in page and "Incomplete data" not in page
    carried = pq.read_table(out).schema.metadata[b"scenario_toml"].decode()
    assert carried.startswith(text[:40]) and "Custom: " in carried


@pytest.mark.parametrize("make", ["folder", "partial-with-foreign-files"])
def test_an_output_path_in_the_way_is_a_clean_error(tmp_path, capsys, make):
    out = tmp_path / "site.parquet"
    if make == "folder":
        out.mkdir()
        expected = "--out", "is a folder; give a file name"
    else:
        (tmp_path / "site.parquet.partial").mkdir()
        (tmp_path / "site.parquet.partial" / "notes.txt").write_text("mine")
        expected = ("holds files twin did not write; move it away",)
    code = main(
        ["run", "--scenario", "single-rack", "--duration", "10min", "--out", str(out), "--quiet"]
    )
    err = capsys.readouterr().err
    assert code == 2 and "Traceback" not in err and len(err.strip().splitlines()) == 1
    for fragment in expected:
        assert fragment in err
    assert not (tmp_path / "site.alarms.sqlite.partial").exists()  # nothing half-opened left


@pytest.mark.skipif(
    os.name != "posix" or os.geteuid() == 0,
    reason="root writes into read-only folders; needs an ordinary user",
)
def test_an_unwritable_folder_is_a_clean_error(tmp_path, capsys):
    folder = tmp_path / "read-only"
    folder.mkdir(mode=0o555)
    code = main(
        [
            "run",
            "--scenario",
            "single-rack",
            "--duration",
            "10min",
            "--out",
            str(folder / "site.csv"),
            "--quiet",
        ]
    )
    err = capsys.readouterr().err
    assert code == 2 and "is not writable" in err and "Traceback" not in err
