"""Headless output: the site table in CSV and Parquet, its metadata, interval rules, and
the per-component table, written by a real run."""

from __future__ import annotations

import csv
import io

import numpy as np
import pyarrow.parquet as pq
import pytest

from twin.output import SITE_NAMES, run_headless
from twin.scenario import load
from twin.sim.engine import Simulation


@pytest.fixture(scope="module")
def single():
    return load("single-rack")


def test_csv_rows_are_interval_means_with_metadata(single, tmp_path):
    out = tmp_path / "site.csv"
    assert run_headless(single, duration_s=600, dt_s=1.0, every_steps=60, out=out,
                        progress=None) == 0
    text = out.read_text(encoding="utf-8")
    meta = [line for line in text.splitlines() if line.startswith("#")]
    assert "# scenario: single-rack" in meta and "# dt_s: 1" in meta
    rows = list(csv.DictReader(io.StringIO("\n".join(
        line for line in text.splitlines() if not line.startswith("#")))))
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
    assert float(rows[0]["it_power_kw"]) == pytest.approx(steps[:, column("it_power_kw")].mean(),
                                                          rel=1e-5)
    assert float(rows[0]["gpu_temp_max_c"]) == pytest.approx(
        steps[:, column("gpu_temp_max_c")].max(), rel=1e-5)
    assert float(rows[0]["bess_soc"]) == pytest.approx(steps[-1, column("bess_soc")], rel=1e-5)


def test_parquet_carries_the_same_columns_metadata_and_a_ledger(single, tmp_path):
    out = tmp_path / "site.parquet"
    components = tmp_path / "components.parquet"
    assert run_headless(single, duration_s=3600, dt_s=5.0, every_steps=12, out=out,
                        components=components, seed=7, progress=None) == 0
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
    for expected in (("rack", "power_kw"), ("rack", "gpu_temp_c"), ("cdu", "flow_lpm"),
                     ("hall", "transformer_loading"), ("hall", "lv_voltage_pu"),
                     ("row", "busway_loading"), ("plant", "fws_supply_c"),
                     ("plant", "mv_voltage_pu")):
        assert expected in quantities, expected
    voltage = np.array([v for q, v in zip(long["quantity"], long["value"], strict=True)
                        if q == "lv_voltage_pu"])
    assert voltage.size and np.all((voltage > 0.9) & (voltage <= 1.0))
