"""The point list: derived from a scenario, written and read back, checked against it."""

from __future__ import annotations

import csv
import subprocess
import sys
from pathlib import Path

import pytest

from tests.exchange.conftest import ROOT, THREE_CDU
from twin.exchange.contract import POINT_TYPES
from twin.exchange.points import (
    check_points,
    default_points,
    read_points,
    write_points,
)
from twin.scenario import load
from twin.scenario.problems import ScenarioError
from twin.sim.topology import build_topology


@pytest.fixture(scope="module")
def seoul():
    scenario = load("seoul-ai-factory")
    return scenario, build_topology(scenario)


def test_every_point_is_in_the_contract_and_unique(seoul):
    scenario, topo = seoul
    points = default_points(scenario, topo)
    assert len({p.tag_path for p in points}) == len(points)
    for p in points:
        assert p.point_type in POINT_TYPES[p.object_type]
        meta = p.metadata()
        assert ("engUnit" in meta) != ("stateText" in meta) or p.object_type == "System"
        if p.object_type == "Rack":  # the contract gives racks no processArea or isSetpoint
            described = "stateText" if "Isolation" in p.point_type else "engUnit"
            assert set(meta) == {
                "objectType",
                "pointType",
                "rackLocationName",
                "rackLocationId",
                described,
            } | ({"integration"} if p.integration else set())
    assert check_points(points, scenario, topo) == []
    racks_per_point = topo.rack_count * 9  # 5 readings, 2 statuses, 2 requests
    assert sum(p.object_type == "Rack" for p in points) == racks_per_point


def test_topology_runs_from_the_utility_meter_to_each_rack(seoul):
    scenario, topo = seoul
    points = default_points(scenario, topo)
    meters = {p.object_id: p.serves_id for p in points if p.object_type == "PowerMeter"}
    racks = {topo.rack_name(i) for i in range(topo.rack_count)}
    fed = {rack for hall_meter in meters["UTILITY-MTR"] for rack in meters[hall_meter]}
    assert fed == racks
    cdu_served = {p.object_id: p.serves_id for p in points if p.object_type == "CDU"}
    assert cdu_served["H1-CDU-03"] == tuple(topo.rack_name(i) for i in topo.cdu_racks(2))


@pytest.mark.parametrize("suffix", [".csv", ".toml"])
def test_written_list_reads_back_equal(seoul, tmp_path, suffix):
    scenario, topo = seoul
    points = default_points(scenario, topo)
    path = tmp_path / f"points{suffix}"
    write_points(points, path)
    assert read_points(path) == points


def test_check_names_each_problem(tmp_path):
    scenario = load(THREE_CDU)
    points = default_points(scenario)
    path = tmp_path / "points.csv"
    write_points(points, path)
    with path.open(newline="") as f:
        reader = csv.DictReader(f)
        columns, rows = reader.fieldnames, list(reader)
    rows = [r for r in rows if r["component"] != "R02-01"]  # leave rack R02-01 unmapped
    rows[0]["engUnit"] = "F"  # a unit mismatch
    rows[1]["tagPath"] = rows[0]["tagPath"]  # a duplicate tagPath
    rows[2]["component"] = "R09-01"  # an object the scenario lacks
    with path.open("w", newline="") as f:
        writer = csv.DictWriter(f, columns)
        writer.writeheader()
        writer.writerows(rows)
    report = ScenarioError(str(path), check_points(read_points(path), scenario)).report()
    assert "engUnit: 'F' does not match rack.supply_temp_c in 'C'" in report
    assert "tagPath: duplicate" in report
    assert "'R09-01' is not a rack of the scenario" in report
    assert "no point maps R02-01" in report


def _twin(*args: str) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-m", "twin", *args], cwd=ROOT, capture_output=True, text=True, timeout=300
    )


def test_cli_writes_and_checks_a_point_list(tmp_path):
    out = tmp_path / "points.toml"
    done = _twin("points", "--scenario", str(THREE_CDU), "--out", str(out))
    assert done.returncode == 0, done.stderr
    assert "67 points" in done.stdout
    done = _twin("check", str(THREE_CDU), "--points", str(out))
    assert done.returncode == 0, done.stderr
    out.write_text(out.read_text().replace('quantity = "cdu.flow_lpm"', 'quantity = "flow"'))
    done = _twin("check", str(THREE_CDU), "--points", str(out))
    assert done.returncode == 2
    assert "quantity: 'flow' is not one of" in done.stderr
    assert "Traceback" not in done.stderr


@pytest.mark.parametrize(
    "args, message",
    [
        (["points", "--out", "x.json"], "must end in .csv or .toml"),
        (["plant", "--broker", "http://x"], "must look like mqtt://HOST:PORT"),
        (["plant", "--broker", "mqtt://u:p@host:1883"], "must not carry a user name"),
        (["plant", "--broker", "embedded:99999"], "the port must be a number"),
        (["shadow", "--broker", "mqtt://h:1", "--record", "/nonexistent/x"], "does not exist"),
        (["plant", "--broker", "mqtt://h:1", "--speed", "fast"], "not a speed"),
    ],
)
def test_bad_arguments_are_one_line_and_exit_2(tmp_path, args, message):
    done = _twin(args[0], "--scenario", str(THREE_CDU), *args[1:])
    assert done.returncode == 2
    assert message in done.stderr
    assert "Traceback" not in done.stderr
    assert not Path(ROOT / "x.json").exists()
