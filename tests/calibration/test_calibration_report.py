"""``twin report`` on a calibration: the record ``twin calibrate`` writes beside its
scenario, read back into the same Guideline 14 report, HTML and PDF; damaged, foreign
and hostile records refused with one message."""

from __future__ import annotations

import dataclasses
import json
import re
import shutil
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from pypdf import PdfReader

from tests.calibration.conftest import Plant, noisy_point_table
from twin.calibration.data import read_measurements
from twin.calibration.fit import calibrate
from twin.calibration.parameters import registry, select
from twin.calibration.record import (
    METADATA_KEY,
    CalibrationRecord,
    RecordError,
    record_path,
    write_record,
)
from twin.calibration.report import build_report, record_report_content
from twin.cli import main

PROVENANCE = re.compile(r"<p class='note'>From the calibration record.*?</p>")

pytestmark = pytest.mark.slow


@dataclass
class Calibrated:
    folder: Path
    scenario: Path  # calibrated.toml
    record: Path
    report: Path  # what twin calibrate --report wrote
    data: Path


@pytest.fixture(scope="module")
def calibrated(plant: Plant, tmp_path_factory: pytest.TempPathFactory) -> Calibrated:
    """A real ``twin calibrate`` run: a fit window and a held-out window, one parameter
    fitted and one left at its prior."""
    folder = tmp_path_factory.mktemp("calibrated")
    data = folder / "points.parquet"
    noisy_point_table(plant, data)
    out, report = folder / "calibrated.toml", folder / "calibration.html"
    code = main(
        [
            "calibrate",
            str(data),
            "--scenario",
            str(plant.scenario_path),
            "--fit",
            "dry_coolers.approach",
            "facility_water.volume",
            "--window",
            "1h..3h",
            "--holdout",
            "3h..5h",
            "--warmup",
            "20min",
            "--out",
            str(out),
            "--report",
            str(report),
            "--quiet",
        ]
    )
    assert code == 0
    return Calibrated(folder, out, record_path(out), report, data)


def _body(page: str) -> str:
    return page[page.index("<body>") : page.index("</body>")]


def test_calibrate_writes_its_record_beside_the_scenario(calibrated: Calibrated):
    assert calibrated.record == calibrated.folder / "calibrated.calibration.parquet"
    assert calibrated.record.is_file()
    assert not list(calibrated.folder.glob(".*.tmp"))  # the hidden temporary is gone
    schema = pq.read_schema(calibrated.record)
    meta = json.loads(schema.metadata[METADATA_KEY])
    assert meta["format"] == "twin calibration" and meta["version"] == 1
    assert set(meta["columns"]) == {
        "window",
        "point",
        "time_s",
        "measured",
        "before",
        "after",
        "used",
    }
    assert [w["name"] for w in meta["windows"]] == ["fit", "holdout"]
    table = pq.read_table(calibrated.record)
    fit_rows = pa.compute.equal(table["window"].cast(pa.string()), "fit")
    points = meta["windows"][0]["points"]
    assert table.filter(fit_rows).num_rows == 240 * len(points)  # 2 h of 30 s rows each
    params = {p["name"]: p for p in meta["parameters"]}
    assert params["dry_coolers.approach"]["fitted"] and params["dry_coolers.approach"]["std"] > 0
    volume = params["facility_water.volume"]
    assert not volume["fitted"] and volume["std"] is None and "prior" in volume["note"]


def test_twin_report_on_the_record_is_the_calibrate_report(calibrated: Calibrated, tmp_path):
    """The same sections, number for number, and where the record came from."""
    out = tmp_path / "report.html"
    assert main(["report", str(calibrated.record), "--out", str(out)]) == 0
    page = out.read_text(encoding="utf-8")
    provenance = PROVENANCE.findall(page)
    assert len(provenance) == 1 and "calibrated.calibration.parquet" in provenance[0]
    expected = _body(calibrated.report.read_text(encoding="utf-8"))
    assert PROVENANCE.sub("", _body(page), count=1) == expected
    for text in (
        "Per point group",
        "Per subloop",
        "CDU secondary loop",
        "facility water and heat rejection",
        "interval: before CV(RMSE) / NMBE %",
        "hourly: before",
        "held-out window",
        "stuck or stale",
        "residual, measured − model",
    ):
        assert text in page, text
    assert "<svg" in page and "class='better'>pass" in page
    # the calibrated scenario names its record: the same report
    by_scenario = tmp_path / "by-scenario.html"
    assert main(["report", str(calibrated.scenario), "--out", str(by_scenario)]) == 0
    assert by_scenario.read_text(encoding="utf-8") == page


def _fits(validation) -> list:
    """Every Fit of a validation as plain numbers (NaN compared equal by assert_equal)."""
    out = []
    for table in (validation.per_point, validation.per_group):
        for name, scales in table.items():
            out += [(name, s, dataclasses.astuple(f)) for s, f in scales.items()]
    for loop, groups in validation.per_subloop.items():
        for group, scales in groups.items():
            out += [(loop, group, s, dataclasses.astuple(f)) for s, f in scales.items()]
    return out


def test_a_record_read_back_validates_exactly_as_the_calibration(plant: Plant, tmp_path):
    data = tmp_path / "points.csv"
    m = noisy_point_table(plant, data, seed=5)
    m = read_measurements([data])
    cal = calibrate(
        m,
        plant.scenario,
        select(registry(plant.scenario), ["dry_coolers.approach"]),
        window=(3600.0, 2 * 3600.0),
        holdout=(2 * 3600.0, 3 * 3600.0),
        warmup_s=1200.0,
    )
    path = tmp_path / "x.calibration.parquet"
    write_record(
        path,
        cal,
        scenario=plant.scenario,
        data=[str(data)],
        calibrated_text="[scenario]\n",
        interval_s=m.interval_s,
    )
    back = CalibrationRecord.read(path).calibration
    for mine, theirs in ((cal.fit_window, back.fit_window), (cal.holdout, back.holdout)):
        for name in ("validation_before", "validation_after"):
            np.testing.assert_equal(_fits(getattr(theirs, name)), _fits(getattr(mine, name)))
        assert set(theirs.screening.good) == set(mine.screening.good)
    assert [dataclasses.astuple(r.param) for r in back.params] == [
        dataclasses.astuple(r.param) for r in cal.params
    ]
    content = record_report_content(path)
    expected = _body(build_report(cal, plant.scenario.scenario.name, [str(data)]))
    assert PROVENANCE.sub("", "".join(content.sections), count=1) == expected[len("<body>") :]


@pytest.mark.usefixtures("qapp")
def test_twin_report_on_a_calibration_writes_a_pdf(calibrated: Calibrated, tmp_path):
    out = tmp_path / "calibration.pdf"
    assert main(["report", str(calibrated.scenario), "--out", str(out)]) == 0
    reader = PdfReader(out)
    assert reader.metadata.title == "twin calibration report: single-rack"
    text = " ".join(" ".join(page.extract_text() for page in reader.pages).split())
    for phrase in (
        "Calibration of single-rack",
        "Per point group",
        "Per subloop",
        "held-out window",
        "Validation (ASHRAE Guideline 14)",
        "stuck or stale",
        "at prior: fitted to",
    ):
        assert phrase in text, phrase
    # a subloop's row, its figures as the HTML report gives them
    after = CalibrationRecord.read(calibrated.record).calibration.fit_window.validation_after
    fits = after.per_subloop["CDU secondary loop"]["cdu/duty_kw"]
    figures = [f"{f.cv_rmse_pct:.3g} / {f.nmbe_pct:.3g}" for f in fits.values()]
    assert "CDU secondary loop cdu/duty_kw" in text and all(f in text for f in figures)
    pages = len(reader.pages)
    footer = "twin calibration report: single-rack (calibrated.calibration.parquet)"
    assert f"{footer} page 1 of {pages}" in text and f"{footer} page {pages} of {pages}" in text
    charts = _body(calibrated.report.read_text(encoding="utf-8")).count("<svg")
    images = {
        ref.idnum
        for page in reader.pages
        for ref in page["/Resources"].get("/XObject", {}).values()
        if ref.get_object()["/Subtype"] == "/Image"
    }
    assert len(images) == charts > 0  # every residual chart, as an image


@pytest.mark.parametrize(
    ("options", "message"),
    [
        (["--compare", "other.csv"], "--compare is for runs"),
        (["--journal", "x.sqlite"], "--journal is for a run, not a calibration"),
        (["--page-size", "A4"], "--page-size is for a PDF"),
    ],
)
def test_options_a_calibration_report_does_not_take_are_refused(
    calibrated: Calibrated, tmp_path, capsys, options, message
):
    out = tmp_path / "r.html"
    assert main(["report", str(calibrated.record), *options, "--out", str(out)]) == 2
    assert message in capsys.readouterr().err and not out.exists()


def test_the_calibrated_scenario_must_be_its_records(calibrated: Calibrated, tmp_path, capsys):
    edited = tmp_path / "calibrated.toml"
    shutil.copy(calibrated.scenario, edited)
    out = tmp_path / "r.html"
    # no record beside it
    assert main(["report", str(edited), "--out", str(out)]) == 2
    err = capsys.readouterr().err
    assert "calibrated.calibration.parquet" in err and "there is none" in err
    # a record beside it, of the scenario before an edit
    shutil.copy(calibrated.record, record_path(edited))
    with edited.open("a", encoding="utf-8") as f:
        f.write("# edited\n")
    assert main(["report", str(edited), "--out", str(out)]) == 2
    err = capsys.readouterr().err
    assert "is not the scenario calibrated.calibration.parquet was written with" in err
    assert not out.exists()


def _rewrite(source: Path, target: Path, meta=None, table=None) -> None:
    """A copy of the record with its metadata and/or rows changed."""
    original = pq.read_table(source)
    found = json.loads(original.schema.metadata[METADATA_KEY])
    rows = table(original) if table else original
    text = json.dumps(meta(found) if meta else found)
    pq.write_table(rows.replace_schema_metadata({METADATA_KEY: text}), target)


def _set(path: list, value):
    def change(meta):
        node = meta
        for key in path[:-1]:
            node = node[key]
        node[path[-1]] = value
        return meta

    return change


def _drop_last_rows(table: pa.Table) -> pa.Table:
    return table.slice(0, table.num_rows - 7)


def _swap_time(table: pa.Table) -> pa.Table:
    time_s = table["time_s"].to_numpy().copy()
    time_s[5] += 1e9
    return table.set_column(table.schema.get_field_index("time_s"), "time_s", pa.array(time_s))


def _as_text(table: pa.Table) -> pa.Table:
    i = table.schema.get_field_index("measured")
    return table.set_column(i, "measured", table["measured"].cast(pa.string()))


DAMAGED = {
    "newer": ({"meta": _set(["version"], 99)}, "written by a newer twin"),
    "foreign format": ({"meta": _set(["format"], "something else")}, "not a twin calibration"),
    "bad version": ({"meta": _set(["version"], "1")}, "format version is '1'"),
    "a NaN prior": (
        {"meta": _set(["parameters", 0, "prior"], float("nan"))},
        "metadata's parameters.0.prior",
    ),
    "an unknown key": ({"meta": _set(["where_to_write"], "/etc")}, "where_to_write"),
    "a point not a point": (
        {"meta": _set(["windows", 0, "points", 0], "../../etc/passwd")},
        "is not a point name",
    ),
    "windows out of order": (
        {"meta": lambda m: {**m, "windows": [m["windows"][1], m["windows"][0]]}},
        "not the fit window",
    ),
    "correlation size": ({"meta": _set(["correlation"], [[1.0, 0.0]])}, "correlation is not"),
    "rows cut off": ({"table": _drop_last_rows}, "not the same number"),
    "times off the grid": ({"table": _swap_time}, "not one grid"),
    "a column of text": ({"table": _as_text}, "'measured' column holds string"),
}


@pytest.mark.parametrize("case", list(DAMAGED))
def test_a_damaged_record_is_one_message_and_exit_2(calibrated: Calibrated, tmp_path, capsys, case):
    changes, message = DAMAGED[case]
    damaged = tmp_path / "damaged.calibration.parquet"
    _rewrite(calibrated.record, damaged, **changes)
    out = tmp_path / "r.html"
    assert main(["report", str(damaged), "--out", str(out)]) == 2
    err = capsys.readouterr().err
    assert err.startswith(f"twin report: {damaged}") and message in err, err
    assert "Traceback" not in err and len(err.strip().splitlines()) == 1
    assert not out.exists()


def test_truncated_flipped_and_foreign_files_are_refused(
    calibrated: Calibrated, plant: Plant, tmp_path, capsys
):
    whole = calibrated.record.read_bytes()
    out = tmp_path / "r.html"
    cases = {
        "truncated": (whole[: len(whole) // 2], "damaged, truncated or not Parquet"),
        "text": (b"time_s,point\n1,2\n", "damaged, truncated or not Parquet"),
        "empty": (b"", "damaged, truncated or not Parquet"),
    }
    # a byte flipped inside the model's values: their page's checksum no longer matches
    chunk = pq.ParquetFile(calibrated.record).metadata.row_group(0).column(5)
    start = chunk.dictionary_page_offset or chunk.data_page_offset
    at = start + chunk.total_compressed_size // 2
    flipped = bytearray(whole)
    flipped[at] ^= 0xFF
    cases["flipped"] = (bytes(flipped), "checksum verification failed")
    for name, (content, message) in cases.items():
        path = tmp_path / f"{name}.calibration.parquet"
        path.write_bytes(content)
        assert main(["report", str(path), "--out", str(out)]) == 2, name
        err = capsys.readouterr().err
        assert message in err and "Traceback" not in err, (name, err)
    # a run's table under a record's name, and one that does not exist
    foreign = tmp_path / "site.calibration.parquet"
    pq.write_table(pq.read_table(plant.components), foreign)
    assert main(["report", str(foreign), "--out", str(out)]) == 2
    assert "is not a twin calibration record" in capsys.readouterr().err
    missing = tmp_path / "gone.calibration.parquet"
    assert main(["report", str(missing), "--out", str(out)]) == 2
    assert "does not exist" in capsys.readouterr().err
    assert not out.exists()


def test_a_calibration_that_fitted_nothing_is_reported(calibrated: Calibrated, tmp_path):
    """Every parameter left at its prior: no correlation, p = 0, the report still whole."""

    def nothing_fitted(meta):
        for p in meta["parameters"]:
            p.update(fitted=False, std=None, value=p["prior"], note="not determined")
        meta["correlation"] = []
        meta["windows"][0]["fitted"] = 0
        return meta

    record = tmp_path / "none.calibration.parquet"
    _rewrite(calibrated.record, record, meta=nothing_fitted)
    out = tmp_path / "r.html"
    assert main(["report", str(record), "--out", str(out)]) == 0
    page = out.read_text(encoding="utf-8")
    assert "uses p = 0 fitted parameters after" in page and "at prior: not determined" in page


def test_a_hostile_record_is_text_on_the_page(calibrated: Calibrated, tmp_path):
    """Names and paths in a record are shown, escaped; twin writes --out and nothing
    else, and reads nothing the record names."""
    hostile = tmp_path / "hostile.calibration.parquet"
    secret = tmp_path / "secret.txt"
    secret.write_text("do not read", encoding="utf-8")

    def change(meta):
        meta["scenario"] = "<script>alert(1)</script>"
        meta["data"] = [str(secret), "../../../../etc/shadow"]
        meta["messages"] = ["<img src=x onerror=alert(1)>"]
        return meta

    _rewrite(calibrated.record, hostile, meta=change)
    before = sorted(p.name for p in tmp_path.iterdir())
    out = tmp_path / "r.html"
    assert main(["report", str(hostile), "--out", str(out)]) == 0
    page = out.read_text(encoding="utf-8")
    assert "<script>" not in page and "&lt;script&gt;" in page
    assert "<img src=x" not in page and "do not read" not in page
    assert sorted(p.name for p in tmp_path.iterdir()) == sorted([*before, "r.html"])


def test_a_record_that_cannot_be_written_leaves_nothing(plant: Plant, tmp_path, monkeypatch):
    """A failed write leaves no record and no temporary: a record under its name is whole."""
    source = tmp_path / "whole.calibration.parquet"
    data = tmp_path / "points.csv"
    noisy_point_table(plant, data, seed=3)
    m = read_measurements([data])
    cal = calibrate(
        m,
        plant.scenario,
        select(registry(plant.scenario), ["dry_coolers.approach"]),
        window=(3600.0, 1.5 * 3600.0),
        warmup_s=1200.0,
    )

    def full_disk(*_args, **_kwargs):
        raise OSError(28, "No space left on device")

    monkeypatch.setattr("twin.runs.output._fsync_file", full_disk)
    with pytest.raises(OSError, match="No space left"):
        write_record(
            source,
            cal,
            scenario=plant.scenario,
            data=[str(data)],
            calibrated_text="",
            interval_s=m.interval_s,
        )
    assert list(tmp_path.iterdir()) == [data]
    with pytest.raises(RecordError, match="does not exist"):
        CalibrationRecord.read(source)


@settings(
    max_examples=40,
    derandomize=True,
    database=None,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture],
)
@given(data=st.data())
def test_a_randomly_damaged_record_is_reported_or_refused_cleanly(
    calibrated: Calibrated, tmp_path, capsys, data
):
    """Bytes flipped, inserted or cut anywhere: a report (the damage missed what it
    reads) or exit 2 with one line, never an exception."""
    whole = calibrated.record.read_bytes()
    at = data.draw(st.integers(0, len(whole) - 1))
    noise = data.draw(st.binary(min_size=1, max_size=16))
    damaged = data.draw(
        st.sampled_from(
            [
                whole[:at],
                whole[:at] + noise + whole[at + len(noise) :],
                whole[:at] + noise + whole[at:],
            ]
        )
    )
    path = tmp_path / "fuzz.calibration.parquet"
    path.write_bytes(damaged)
    code = main(["report", str(path), "--out", str(tmp_path / "fuzz.html")])
    err = capsys.readouterr().err
    assert code in (0, 2) and "Traceback" not in err
    if code == 2:
        assert len(err.strip().splitlines()) == 1, err
