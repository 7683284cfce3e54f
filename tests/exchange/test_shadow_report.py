"""``twin report`` on a shadow recording: Guideline 14 fit per point and per group, and the
coverage by reason, on a recording made by real twin plant and twin shadow processes on
Mosquitto, and on one written with known values."""

from __future__ import annotations

import json
import math
import os
import re
import subprocess
import sys

import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from tests.exchange.conftest import ROOT, THREE_CDU, wait_for_line
from twin.exchange.points import BY_KEY, MEASURED, default_points
from twin.exchange.record import BAD_QUALITY, MISSING, STALE, USED, ShadowRecorder
from twin.exchange.report import ShadowSeries, build_shadow_report
from twin.scenario import load


def _report(*args: str) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-m", "twin", "report", *args],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=300,
    )


def _cells(html: str, first: str) -> list[str]:
    """The cells of the table row whose first cell is ``first``."""
    row = re.search(r"<tr><td>" + re.escape(first) + r"</td>(.*?)</tr>", html)
    assert row, f"no row {first!r}"
    return [first, *re.findall(r"<td[^>]*>(.*?)</td>", row.group(1))]


def test_report_of_a_recorded_shadow_run(broker, processes, tmp_path):
    record = tmp_path / "record"
    shadow_log, plant_log = tmp_path / "shadow.log", tmp_path / "plant.log"
    shadow = processes.twin(
        "shadow",
        "--scenario",
        str(THREE_CDU),
        "--broker",
        broker.url,
        "--duration",
        "15min",
        "--record",
        str(record),
        log=shadow_log,
    )
    wait_for_line(shadow_log, "connected to", shadow)
    # the hall's UPS carries its racks 30 s into a utility outage, then its points go bad;
    # most samples dropped: some points have no value yet at the first evaluations
    outage = tmp_path / "outage.toml"
    outage.write_text(
        THREE_CDU.read_text().replace(
            "[power.ups]\n", "[power.ups]\nbattery_ride_through_s = 30.0\n"
        )
        + ('\n[[events]]\nat_s = "6min"\nkind = "utility-outage"\nduration_s = "3min"\n')
    )
    plant = processes.twin(
        "plant",
        "--scenario",
        str(outage),
        "--broker",
        broker.url,
        "--speed",
        "max",
        "--duration",
        "16min",
        "--dropout",
        "0.9",
        log=plant_log,
    )
    assert plant.wait(600) == 0, plant_log.read_text()
    assert shadow.wait(600) == 0, shadow_log.read_text()
    out = tmp_path / "report.html"
    done = _report(str(record), "--out", str(out))
    assert done.returncode == 0, done.stderr
    html = out.read_text()
    assert "twin shadow report: three-cdu" in html
    # the recording itself, read independently
    table = pq.read_table(sorted((record / "series").glob("part-*.parquet"))).to_pandas()
    # the boundary points (rack power, outdoor air) are recorded to drive a calibration and
    # are not compared: the report counts the measured points
    compared = {
        p.tag_path for p in default_points(load(THREE_CDU)) if BY_KEY[p.quantity].role == MEASURED
    }
    assert not table.tag_path.isin(compared).all()
    table = table[table.tag_path.isin(compared)]
    tag = next(
        p.tag_path
        for p in default_points(load(THREE_CDU))
        if p.quantity == "cdu.flow_lpm" and p.component == "L-CDU-02"
    )
    rows = table[table.tag_path == tag]
    used = rows[rows.coverage == USED]
    m, s = used.measured.to_numpy(), used.modelled.to_numpy()
    n = m.size
    assert n > 20
    cv = 100 * math.sqrt(((m - s) ** 2).sum() / (n - 1)) / m.mean()
    nmbe = 100 * (m - s).sum() / ((n - 1) * m.mean())
    cells = _cells(html, tag)
    assert cells[4] == f"{len(rows):,}"  # evaluations
    assert cells[5].startswith(f"{n:,} (")  # used
    assert float(cells[11]) == pytest.approx(cv, rel=2e-3)
    assert float(cells[12]) == pytest.approx(nmbe, rel=2e-3, abs=1e-3)
    # the outage and the dropouts left values of bad quality and missing ones (stale ones
    # need a point that stops: the known-values test below counts those)
    assert (table.coverage == BAD_QUALITY).any() and (table.coverage == MISSING).any()
    for code in (USED, MISSING, BAD_QUALITY, STALE):
        assert f"{int((table.coverage == code).sum()):,} (" in html
    group = _cells(html, "cdu/flow_lpm")
    assert group[1] == "LPM" and group[2] == "3"
    assert "Traceback" not in done.stderr


def test_report_of_known_values_pools_groups_and_counts_coverage(tmp_path):
    scenario = load(THREE_CDU)
    points = default_points(scenario)
    recorder = ShadowRecorder(
        tmp_path / "rec", points, scenario_name="three-cdu", evaluate_every_s=60.0
    )
    flows = [i for i, p in enumerate(points) if p.quantity == "cdu.flow_lpm"]
    n = len(points)
    rng = np.random.default_rng(3)
    expected = {i: ([], []) for i in flows}
    for k in range(180):  # three hours at one evaluation a minute
        measured = np.full(n, 100.0) + rng.normal(0, 5, n)
        modelled = np.full(n, 98.0)
        coverage = np.full(n, USED)
        coverage[flows[0]] = (USED, MISSING, BAD_QUALITY, STALE)[k % 4]
        for i in flows:
            if coverage[i] == USED:
                expected[i][0].append(measured[i])
                expected[i][1].append(modelled[i])
        recorder.add(60.0 * (k + 1), measured, modelled, np.ones(n, dtype=np.int64), coverage)
    recorder.close()
    series = ShadowSeries.read(tmp_path / "rec")
    validation = series.validation()
    pooled_m = np.concatenate([expected[i][0] for i in flows])
    pooled_s = np.concatenate([expected[i][1] for i in flows])
    error = pooled_m - pooled_s
    dof = error.size - 1
    group = validation.per_group["cdu/flow_lpm"]["interval"]
    assert group.n == error.size
    assert group.cv_rmse_pct == pytest.approx(
        100 * math.sqrt((error**2).sum() / dof) / pooled_m.mean()
    )
    assert group.nmbe_pct == pytest.approx(100 * error.sum() / dof / pooled_m.mean())
    # a point used one evaluation in four has no hour 90 % covered: no hourly figure
    first = series.point_name(
        series.points.index(
            next(p for p in series.points if p.tag_path == points[flows[0]].tag_path)
        )
    )
    assert validation.per_point[first]["hourly"].n == 0
    assert (
        validation.per_point[
            series.point_name([p.tag_path for p in series.points].index(points[flows[1]].tag_path))
        ]["hourly"].n
        == 3
    )
    html = build_shadow_report(series)
    cells = _cells(html, points[flows[0]].tag_path)
    assert cells[4:9] == ["180", "45 (25.0 %)", "45 (25.0 %)", "45 (25.0 %)", "45 (25.0 %)"]
    # per subloop: each rack in its CDU's secondary loop, from the point list's servesId
    loops = series.subloops()
    racks = {p.component for p in series.points if p.quantity.startswith("rack.")}
    cdus = {p.component for p in series.points if p.quantity.startswith("cdu.")}
    assert len(cdus) == 3 and racks and racks <= set(loops)
    assert {loops[r] for r in racks} == {f"{c} secondary loop" for c in cdus}
    for cdu in cdus:
        assert {"cdu/flow_lpm", "rack/flow_lpm"} <= set(
            validation.per_subloop[f"{cdu} secondary loop"]
        )
    assert "<h2>Fit per subloop</h2>" in html and "facility water and heat rejection" in html
    # a residual chart per point group
    assert "<h2>Residuals over time</h2>" in html
    assert html.count("<svg") == len(validation.per_group)


def test_report_refuses_a_damaged_shadow_recording_plainly(tmp_path):
    recorder = ShadowRecorder(
        tmp_path / "rec",
        default_points(load(THREE_CDU)),
        scenario_name="three-cdu",
        evaluate_every_s=10.0,
    )
    recorder.close()  # no evaluation: no series part
    out = tmp_path / "r.html"
    done = _report(str(tmp_path / "rec"), "--out", str(out))
    assert done.returncode == 2 and "no readable series part" in done.stderr
    (tmp_path / "rec" / "recording.json").write_text("{")
    done = _report(str(tmp_path / "rec"), "--out", str(out))
    assert done.returncode == 2 and "recording.json is missing or not" in done.stderr
    done = _report(str(tmp_path / "rec"), "--out", str(tmp_path / "r.pdf"))
    assert done.returncode == 2 and "is HTML" in done.stderr
    assert "Traceback" not in done.stderr and not out.exists()


def _recording_of_two_parts(folder):
    points = default_points(load(THREE_CDU))
    recorder = ShadowRecorder(folder, points, scenario_name="three-cdu", evaluate_every_s=10.0)
    n = len(points)
    for k in range(60):  # two parts of 30 evaluations
        values = np.full(n, 50.0)
        recorder.add(10.0 * (k + 1), values, values, np.ones(n, np.int64), np.full(n, USED))
    recorder.close()
    return sorted((folder / "series").glob("part-*.parquet"))


@pytest.mark.parametrize("manifest", ["nested", "fifo", "huge"])
def test_a_hostile_shadow_manifest_is_one_message(tmp_path, manifest):
    _recording_of_two_parts(tmp_path / "rec")
    path = tmp_path / "rec" / "recording.json"
    path.unlink()
    if manifest == "nested":  # deeper than the JSON parser's recursion
        path.write_text("[" * 200_000 + "]" * 200_000)
    elif manifest == "fifo":  # reading it would wait forever
        os.mkfifo(path)
    else:
        path.write_text(json.dumps({"scenario": "x" * 2_000_000, "evaluate_every_s": 10}))
    out = tmp_path / "r.html"
    done = _report(str(tmp_path / "rec"), "--out", str(out))
    assert done.returncode == 2, done.stderr
    assert "Traceback" not in done.stderr and len(done.stderr.splitlines()) == 1
    assert "recording.json is missing or not the recording's manifest" in done.stderr
    assert not out.exists()


def test_a_series_part_of_other_types_is_named_and_left_out(tmp_path):
    _, second = _recording_of_two_parts(tmp_path / "rec")
    table = pq.read_table(second)
    secret = "s3cr3t-in-the-part"
    pq.write_table(
        table.set_column(
            table.column_names.index("measured"),
            "measured",
            pa.array([secret] * len(table)),
        ),
        second,
    )
    series = ShadowSeries.read(tmp_path / "rec")
    assert series.time_s.size == 30  # the first part's evaluations
    assert series.problems == [
        f"{second.name} is left out: its columns time_s, tag_path, measured, modelled, "
        "coverage are not of the types twin shadow writes"
    ]
    out = tmp_path / "r.html"
    done = _report(str(tmp_path / "rec"), "--out", str(out))
    assert done.returncode == 0, done.stderr
    page = out.read_text(encoding="utf-8")
    assert second.name in page and secret not in page
