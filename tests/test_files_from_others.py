"""Files from others and command lines a user can get wrong, fuzzed: every file kind twin
reads (scenario, story, settings, recording manifest and parts, alarm journal, run tables
in CSV and Parquet, weather CSV) damaged, truncated, random, nested or foreign, and random
argument vectors, through the real ``twin.cli.main`` in-process (a few as real processes).

What must hold: each case is accepted or ends in exit code 2 with a message and no
traceback; nothing is written outside the output paths given (the work folder is listed
before and after, and twin's per-run temporary folder is gone after each command); a file
twin cannot use is never lost (a broken settings file is kept aside byte for byte); an
error about a weather CSV never shows the file's content.

Derandomized with no example database, so CI sees the same examples on every run;
TWIN_FUZZ_EXAMPLES sets the examples per family (default 40), and TWIN_FUZZ_TALLY=1
prints the cases tried and how each ended.
"""

from __future__ import annotations

import contextlib
import hashlib
import io
import json
import os
import shutil
import sqlite3
import subprocess
import sys
import tempfile
from collections import Counter
from pathlib import Path
from unittest import mock

import pyarrow as pa
import pyarrow.parquet as pq
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from twin.alarms import JournalError, read_journal
from twin.cli import main
from twin.gui.kiosk.app import prepare
from twin.gui.kiosk.story import builtin_stories
from twin.runs.recording import Recording, RecordingError
from twin.scenario import ScenarioError, builtin_scenarios
from twin.settings import Settings, load_settings

EXAMPLES = int(os.environ.get("TWIN_FUZZ_EXAMPLES", "40"))
FUZZ = settings(
    max_examples=EXAMPLES,
    derandomize=True,
    database=None,
    deadline=None,
    suppress_health_check=[
        HealthCheck.too_slow,
        HealthCheck.data_too_large,
        HealthCheck.function_scoped_fixture,
    ],
)
SECRET = "s3cr3t-Do-Not-Echo"
TALLY: dict[str, Counter] = {}
SCRATCH_PREFIX = "twin-"
SYSTEM_TMP_PREFIX = "system-tmp-"


def _count(family: str, outcome: str) -> None:
    TALLY.setdefault(family, Counter())[outcome] += 1


@pytest.fixture(scope="module", autouse=True)
def _print_tally():
    yield
    if os.environ.get("TWIN_FUZZ_TALLY"):
        for family, counts in sorted(TALLY.items()):
            print(
                f"\n{family:<22} tried {sum(counts.values()):>5}  "
                + "  ".join(f"{k} {v}" for k, v in sorted(counts.items()))
            )


# --------------------------------------------------------------------------- helpers


def _files(folder: Path) -> set[str]:
    return {str(p.relative_to(folder)) for p in folder.rglob("*")}


def _contents(folder: Path) -> dict[str, str]:
    """Each file's digest, to show that reading a file changed nothing in it."""
    return {
        str(p.relative_to(folder)): hashlib.sha256(p.read_bytes()).hexdigest()
        for p in folder.rglob("*")
        if p.is_file()
    }


def twin(
    argv: list[str], work: Path, *, outputs: tuple[str, ...] = (), out: io.StringIO | None = None
) -> tuple[int, str]:
    """``twin ARGV`` in-process with ``work`` as the current folder; returns the exit code
    and standard error after checking that nothing was written in ``work`` but
    ``outputs`` (no file added, none changed: no data lost) and that no temporary folder
    was left behind."""
    before, contents = _files(work), _contents(work)
    out, err = out or io.StringIO(), io.StringIO()
    cwd = os.getcwd()
    # the system's temporary folder, as twin sees it, is one of the test's own: other
    # processes on the machine make folders in the real one
    system_tmp = Path(tempfile.mkdtemp(prefix=SYSTEM_TMP_PREFIX))
    tempfile.tempdir, saved_tmp = str(system_tmp), tempfile.tempdir
    os.chdir(work)
    try:
        with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
            try:
                code = main(argv)
            except SystemExit as exc:  # --help and --version only
                code = exc.code if isinstance(exc.code, int) else 1
    finally:
        os.chdir(cwd)
        tempfile.tempdir = saved_tmp
    left = sorted(p.name for p in system_tmp.iterdir())
    shutil.rmtree(system_tmp)
    assert not left, f"twin {argv} left {left} in the temporary folder"
    new = _files(work) - before
    assert all(any(name == o or name.startswith(f"{o}/") for o in outputs) for name in new), (
        f"twin {argv} wrote {sorted(new)}"
    )
    after = _contents(work)
    changed = [
        name
        for name, digest in contents.items()
        if name not in outputs and after.get(name) != digest
    ]
    assert not changed, f"twin {argv} changed or removed {changed}"
    return code, err.getvalue()


def clean(family: str, code: int, err: str, *, accepted: tuple[int, ...] = (0,)) -> None:
    """Accepted, or exit 2 with a message and no traceback."""
    assert "Traceback" not in err, err
    assert code in (*accepted, 2), (code, err)
    if code == 2:
        assert err.strip(), "an error without a message"
        assert len(err.strip().splitlines()) <= 30, err
    _count(family, "clean error" if code == 2 else "accepted")


def _mutated_bytes(original: bytes) -> st.SearchStrategy[bytes]:
    """A file as it arrives damaged: truncated, bytes flipped or inserted, a stretch of
    random bytes, empty, or nothing like the original."""
    size = len(original)

    def truncate(cut: int) -> bytes:
        return original[:cut]

    def flip(at_and_bytes: tuple[int, bytes]) -> bytes:
        at, noise = at_and_bytes
        return original[:at] + noise + original[at + len(noise) :]

    def insert(at_and_bytes: tuple[int, bytes]) -> bytes:
        at, noise = at_and_bytes
        return original[:at] + noise + original[at:]

    position = st.integers(0, max(size - 1, 0))
    return st.one_of(
        position.map(truncate),
        st.tuples(position, st.binary(min_size=1, max_size=64)).map(flip),
        st.tuples(position, st.binary(min_size=1, max_size=64)).map(insert),
        st.binary(max_size=4096),
        st.just(b""),
        st.sampled_from(
            [
                b"\x00" * 4096,
                b"\xff\xfe" + "é".encode("utf-16-le") * 100,
                b"PK\x03\x04" + b"\x00" * 100,
                b"SQLite format 3\x00" + b"\x01" * 100,
                b"PAR1" + b"\x00" * 64 + b"PAR1",
            ]
        ),
    )


_json_scalars = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(-(2**70), 2**70),
    st.floats(allow_nan=False, allow_infinity=False),
    st.text(max_size=12),
    st.sampled_from(["../../etc/passwd", "/dev/zero", "part-00000.parquet", "", "x" * 300]),
)
_json_values = st.recursive(
    _json_scalars,
    lambda inner: st.one_of(
        st.lists(inner, max_size=4), st.dictionaries(st.text(max_size=8), inner, max_size=4)
    ),
    max_leaves=8,
)


def _nested(depth: int, kind: str) -> str:
    return {
        "json": "[" * depth + "]" * depth,
        "object": '{"a":' * depth + "1" + "}" * depth,
        "toml": "a = " + "[" * depth + "]" * depth + "\n",
    }[kind]


# --------------------------------------------------------------------------- made once


@pytest.fixture(scope="module")
def made(tmp_path_factory) -> dict[str, Path]:
    """A real run's outputs: site tables in CSV and Parquet, its journal and recording."""
    folder = tmp_path_factory.mktemp("made")
    for out in ("site.csv", "site.parquet"):
        argv = [
            "run",
            "--scenario",
            "single-rack",
            "--duration",
            "20min",
            "--out",
            str(folder / out),
            "--quiet",
        ]
        if out == "site.csv":
            argv += ["--record", str(folder / "run.twinrec"), "--record-every", "60s"]
        assert main(argv) == 0
    paths = {
        "csv": folder / "site.csv",
        "parquet": folder / "site.parquet",
        "journal": folder / "site.alarms.sqlite",
        "recording": folder / "run.twinrec",
    }
    assert all(p.exists() for p in paths.values())
    return paths


@pytest.fixture
def work(tmp_path) -> Path:
    folder = tmp_path / "work"
    folder.mkdir()
    return folder


def _fresh(work: Path) -> Path:
    """An empty folder for one example, inside ``work``."""
    return Path(tempfile.mkdtemp(dir=work))


# --------------------------------------------------------------------------- scenario


SCENARIO_BYTES = builtin_scenarios()["single-rack"].read_bytes()


@FUZZ
@given(
    content=st.one_of(
        _mutated_bytes(SCENARIO_BYTES),
        st.integers(10, 100_000).map(lambda d: _nested(d, "toml").encode()),
    )
)
def test_a_damaged_scenario_file_is_checked_cleanly(work, content):
    example = _fresh(work)
    (example / "s.toml").write_bytes(content)
    code, err = twin(["check", str(example / "s.toml")], example)
    clean("scenario", code, err)


# --------------------------------------------------------------------------- story


STORY_TEXT = builtin_stories()["ai-factory-tour"].read_text(encoding="utf-8")
_story_lines = STORY_TEXT.splitlines()
_toml_values = st.sampled_from(
    [
        '""',
        "0",
        "-1",
        "1e999",
        "nan",
        "inf",
        "true",
        '"max"',
        "[]",
        "{}",
        '"../../etc/passwd"',
        '"/dev/zero"',
        "2026-13-45T99:00:00",
        '"x"',
        "[[1]]",
        '{ kind = "pump-trip" }',
        "999999",
        '"' + "x" * 500 + '"',
    ]
)


@st.composite
def _story_variants(draw) -> bytes:
    kind = draw(st.sampled_from(["line", "value", "bytes"]))
    lines = list(_story_lines)
    if kind == "bytes":
        return draw(_mutated_bytes(STORY_TEXT.encode()))
    index = draw(st.integers(0, len(lines) - 1))
    if kind == "line":
        action = draw(st.sampled_from(["delete", "duplicate", "swap"]))
        if action == "delete":
            del lines[index]
        elif action == "duplicate":
            lines.insert(index, lines[index])
        else:
            other = draw(st.integers(0, len(lines) - 1))
            lines[index], lines[other] = lines[other], lines[index]
    else:
        keyed = [i for i, line in enumerate(lines) if " = " in line and not line.startswith("#")]
        at = keyed[index % len(keyed)]
        key = lines[at].split(" = ", 1)[0]
        lines[at] = f"{key} = {draw(_toml_values)}"
    return "\n".join(lines).encode()


@FUZZ
@given(content=_story_variants())
def test_a_damaged_story_is_a_scenario_error(work, content):
    """Through the kiosk's checks before its window: the story, the scenario it names
    (a path from the story's folder) and the story against that scenario."""
    example = _fresh(work)
    path = example / "story.toml"
    path.write_bytes(content)
    try:
        prepare(path, None)
    except ScenarioError as exc:
        assert exc.problems
        _count("story", "clean error")
    else:
        _count("story", "accepted")


# --------------------------------------------------------------------------- settings


@FUZZ
@given(
    content=st.one_of(
        _json_values.map(lambda v: json.dumps(v).encode()),
        st.fixed_dictionaries(
            {},
            optional={
                "theme": _json_values,
                "units": _json_values,
                "speed": _json_values,
                "last_scenario": _json_values,
                "window_geometry": _json_values,
            },
        ).map(lambda v: json.dumps(v).encode()),
        _mutated_bytes(json.dumps(Settings().model_dump()).encode()),
        st.integers(10, 200_000).map(lambda d: _nested(d, "json").encode()),
        st.integers(10, 5_000).map(lambda d: _nested(d, "object").encode()),
    )
)
def test_a_broken_settings_file_is_kept_aside_never_lost(work, content):
    example = _fresh(work)
    path = example / "settings.json"
    path.write_bytes(content)
    settings_, problem = load_settings(path)
    assert isinstance(settings_, Settings)
    if problem is None:
        assert path.read_bytes() == content
        _count("settings", "accepted")
        return
    assert settings_ == Settings() and "defaults are in use" in problem
    broken = example / "settings.json.broken"
    assert broken.read_bytes() == content, "the user's file was lost"
    assert _files(example) == {"settings.json.broken"}
    _count("settings", "clean error")


def test_broken_settings_files_never_overwrite_each_other(tmp_path):
    path = tmp_path / "settings.json"
    for content in (b"{", b"[]", b'{"theme": "purple"}'):
        path.write_bytes(content)
        assert load_settings(path)[1] is not None
    assert [
        (tmp_path / name).read_bytes()
        for name in ("settings.json.broken", "settings.json.broken-2", "settings.json.broken-3")
    ] == [b"{", b"[]", b'{"theme": "purple"}']


# --------------------------------------------------------------------------- recording


def _copy_recording(made: dict[str, Path], example: Path) -> Path:
    recording = example / "run.twinrec"
    shutil.copytree(made["recording"], recording)
    return recording


def _play_through(scenario_file, simulation_factory, **kwargs) -> int:
    """The window's part of a replay without the window: every row, as it plays them."""
    from twin.scenario import load

    simulation = simulation_factory(load(scenario_file))
    while True:
        simulation.snapshot()
        if simulation.at_end:
            return 0
        simulation.step()


def _replay(recording: Path, example: Path) -> tuple[int, str]:
    """``twin replay`` with the window left out: every check before it runs for real, and
    every row is played as the window would."""
    with mock.patch("twin.gui.app.run_gui", side_effect=_play_through) as window:
        code, err = twin(["replay", str(recording)], example)
    assert window.called == (code == 0)
    return code, err


@st.composite
def _manifest_variants(draw, original: dict) -> bytes:
    kind = draw(st.sampled_from(["key", "key", "part", "bytes", "nested"]))
    manifest = json.loads(json.dumps(original))
    if kind == "bytes":
        return draw(_mutated_bytes(json.dumps(original, indent=1).encode()))
    if kind == "nested":
        return _nested(draw(st.integers(10, 100_000)), "json").encode()
    if kind == "key":
        key = draw(
            st.sampled_from([*manifest, "metadata.scenario", "metadata.every_s", "metadata.racks"])
        )
        value = draw(_json_values)
        if key.startswith("metadata."):
            manifest["metadata"][key.split(".")[1]] = value
        elif draw(st.booleans()):
            del manifest[key]
        else:
            manifest[key] = value
    else:
        parts = manifest["parts"]
        index = draw(st.integers(0, len(parts) - 1))
        parts[index] = draw(
            st.one_of(
                _json_values,
                st.fixed_dictionaries(
                    {
                        "file": st.sampled_from(
                            [
                                "../../x.parquet",
                                "/dev/zero",
                                "part-00009.parquet",
                                "manifest.json",
                                "part-00000.parquet",
                            ]
                        )
                    }
                ),
            )
        )
    return json.dumps(manifest).encode()


_ORIGINAL_MANIFEST: dict = {}


@FUZZ
@given(data=st.data())
def test_a_damaged_manifest_is_replayed_and_reported_cleanly(made, work, data):
    if not _ORIGINAL_MANIFEST:
        _ORIGINAL_MANIFEST.update(json.loads((made["recording"] / "manifest.json").read_text()))
    example = _fresh(work)
    recording = _copy_recording(made, example)
    (recording / "manifest.json").write_bytes(data.draw(_manifest_variants(_ORIGINAL_MANIFEST)))
    with contextlib.suppress(RecordingError):
        Recording.open(recording)
    code, err = _replay(recording, example)
    clean("recording manifest", code, err)
    code, err = twin(["report", str(recording), "--out", "r.html"], example, outputs=("r.html",))
    clean("recording manifest", code, err)


def _foreign_parquet(draw) -> bytes:
    names = draw(
        st.lists(
            st.sampled_from(
                [
                    "step",
                    "time_s",
                    "facility_power_kw",
                    "racks.gpu_temp_c",
                    "cdus.supply_c",
                    "other",
                ]
            ),
            min_size=1,
            max_size=5,
            unique=True,
        )
    )
    rows = draw(st.integers(0, 4))
    columns = {}
    for name in names:
        kind = draw(st.sampled_from(["float", "int", "text", "bool", "list", "nan"]))
        columns[name] = {
            "float": pa.array([float(i) for i in range(rows)]),
            "int": pa.array(list(range(rows, 0, -1))),
            "text": pa.array([SECRET] * rows),
            "bool": pa.array([True] * rows),
            "list": pa.array([[1.0, 2.0]] * rows),
            "nan": pa.array([float("nan")] * rows),
        }[kind]
    table = pa.table(columns)
    if draw(st.booleans()):
        table = table.replace_schema_metadata(
            {
                b"twin.shapes": draw(
                    st.sampled_from(
                        [
                            b"{",
                            b"[]",
                            b'{"racks.gpu_temp_c": [1000000000, "f4"]}',
                            b'{"racks.gpu_temp_c": [2, "O"]}',
                            b'{"x": [3, "f8"]}',
                            "é".encode("latin-1"),
                        ]
                    )
                )
            }
        )
    sink = io.BytesIO()
    pq.write_table(table, sink)
    return sink.getvalue()


@FUZZ
@given(data=st.data())
def test_a_damaged_recording_part_is_replayed_and_reported_cleanly(made, work, data):
    example = _fresh(work)
    recording = _copy_recording(made, example)
    parts = sorted(recording.glob("part-*.parquet"))
    part = parts[data.draw(st.integers(0, len(parts) - 1))]
    if data.draw(st.booleans()):
        content = data.draw(_mutated_bytes(part.read_bytes()))
    else:
        content = _foreign_parquet(data.draw)
    part.write_bytes(content)
    code, err = _replay(recording, example)
    clean("recording part", code, err)
    code, err = twin(["report", str(recording), "--out", "r.html"], example, outputs=("r.html",))
    clean("recording part", code, err)


def test_a_manifest_cannot_choose_where_a_replay_writes(made, tmp_path):
    """A manifest whose scenario is named like a path, with a scenario copy that no longer
    matches it: the replay's scenario file is twin's own, in its temporary folder, and
    that folder is removed when the command ends."""
    work = tmp_path / "a" / "b"
    work.mkdir(parents=True)
    recording = _copy_recording(made, work)
    manifest = json.loads((recording / "manifest.json").read_text())
    manifest["metadata"]["scenario"] = "../../target/config"
    (recording / "manifest.json").write_text(json.dumps(manifest))
    (recording / "scenario.toml").write_text("# edited by someone else\n")
    opened = []

    def window(scenario_file, *args, **kwargs):
        opened.append(Path(scenario_file))
        assert Path(scenario_file).read_text(encoding="utf-8") == manifest["scenario_toml"]
        return 0

    with mock.patch("twin.gui.app.run_gui", window):
        code, err = twin(["replay", str(recording)], work)
    assert code == 0, err
    scratch = opened[0].parent.parent
    assert scratch.parent.name.startswith(SYSTEM_TMP_PREFIX)  # the temporary folder
    assert scratch.name.startswith(SCRATCH_PREFIX) and opened[0].name == "scenario.toml"
    assert not scratch.exists()
    assert not (tmp_path / "target").exists() and not (tmp_path / "a" / "target").exists()


def test_a_replay_whose_rows_do_not_fit_its_scenario_is_refused(made, tmp_path):
    recording = _copy_recording(made, tmp_path)
    manifest = json.loads((recording / "manifest.json").read_text())
    manifest["scenario_toml"] = builtin_scenarios()["seoul-ai-factory"].read_text()
    (recording / "manifest.json").write_text(json.dumps(manifest))
    (recording / "scenario.toml").unlink()
    code, err = _replay(recording, tmp_path)
    assert code == 2 and "its rows hold 1 racks where its scenario has 336" in err


# --------------------------------------------------------------------------- journal


def _foreign_journal(draw, path: Path) -> None:
    with contextlib.closing(sqlite3.connect(path)) as db:
        for table in draw(
            st.lists(st.sampled_from(["meta", "events", "other"]), unique=True, max_size=3)
        ):
            columns = draw(
                st.sampled_from(
                    [
                        "(a)",
                        "(key, value)",
                        "(sim_time_s, event)",
                        "(id INTEGER PRIMARY KEY, sim_time_s)",
                    ]
                )
            )
            db.execute(f"CREATE TABLE {table} {columns}")
            width = columns.count(",") + 1
            db.execute(
                f"INSERT INTO {table} VALUES ({', '.join('?' * width)})",
                [SECRET] * width if "INTEGER" not in columns else [None, SECRET],
            )
        db.commit()


@FUZZ
@given(data=st.data())
def test_a_damaged_journal_is_reported_cleanly(made, work, data):
    example = _fresh(work)
    journal = example / "j.sqlite"
    if data.draw(st.booleans()):
        journal.write_bytes(data.draw(_mutated_bytes(made["journal"].read_bytes())))
    else:
        _foreign_journal(data.draw, journal)
    before = journal.read_bytes()
    with contextlib.suppress(JournalError):
        read_journal(journal)
    code, err = twin(
        ["report", str(made["csv"]), "--journal", str(journal), "--out", "r.html"],
        example,
        outputs=("r.html",),
    )
    clean("journal", code, err)
    assert journal.read_bytes() == before, "reading changed the journal"


def test_a_journal_in_a_read_only_folder_is_read_whole_without_files_beside_it(tmp_path):
    """A killed run's journal (its rows still in the -wal file, no -shm index): as in a
    read-only folder, where SQLite could not make the index, it is read from a copy."""
    from twin.alarms import AlarmJournal, JournalRow

    live = tmp_path / "live"
    live.mkdir()
    journal = AlarmJournal(live / "site.alarms.sqlite", {"scenario": "single-rack"})
    for k in range(25):
        journal.record(
            JournalRow(
                float(k),
                0.0,
                "raise",
                "rack.gpu_temp",
                "H",
                "H1-R01-01",
                "high",
                "active",
                90.0,
                85.0,
                "°C",
                "GPU hot",
            )
        )
    journal.commit()
    shared = tmp_path / "shared"
    shared.mkdir()
    # a killed run leaves its journal under the partial name, with the WAL beside it
    for suffix in ("", "-wal"):
        shutil.copyfile(f"{journal.partial}{suffix}", shared / f"site.alarms.sqlite{suffix}")
    journal.close()
    shared.chmod(0o555)
    try:
        assert len(read_journal(shared / "site.alarms.sqlite")) == 25
        assert _files(shared) == {"site.alarms.sqlite", "site.alarms.sqlite-wal"}
        finished = tmp_path / "finished"
        finished.mkdir()
        shutil.copyfile(live / "site.alarms.sqlite", finished / "site.alarms.sqlite")
        finished.chmod(0o555)
        assert len(read_journal(finished / "site.alarms.sqlite")) == 25
        assert _files(finished) == {"site.alarms.sqlite"}
    finally:
        shared.chmod(0o755)
        (tmp_path / "finished").chmod(0o755)


# --------------------------------------------------------------------------- run tables


@st.composite
def _csv_variants(draw, original: str) -> bytes:
    kind = draw(st.sampled_from(["cell", "line", "bytes"]))
    if kind == "bytes":
        return draw(_mutated_bytes(original.encode()))
    lines = original.splitlines()
    index = draw(st.integers(0, len(lines) - 1))
    if kind == "line":
        lines[index] = draw(
            st.sampled_from(
                [
                    "",
                    "#",
                    "# scenario: ../../etc/passwd",
                    "# scenario: /dev/zero",
                    ",,,",
                    SECRET,
                    '"unterminated',
                    "1,2",
                    "nan," * 30,
                ]
            )
        )
    else:
        cells = lines[index].split(",")
        cells[draw(st.integers(0, len(cells) - 1))] = draw(
            st.sampled_from(["", "nan", "inf", "-1", "1e400", SECRET, "0x10", '"', "1,5"])
        )
        lines[index] = ",".join(cells)
    return "\n".join(lines).encode()


@FUZZ
@given(data=st.data())
def test_a_damaged_csv_run_table_is_reported_and_compared_cleanly(made, work, data):
    example = _fresh(work)
    table = example / "site.csv"
    table.write_bytes(data.draw(_csv_variants(made["csv"].read_text(encoding="utf-8"))))
    code, err = twin(["report", str(table), "--out", "r.html"], example, outputs=("r.html",))
    clean("run table csv", code, err)
    code, err = twin(
        ["report", str(made["csv"]), "--compare", str(table), "--out", "c.html"],
        example,
        outputs=("c.html",),
    )
    clean("run table csv", code, err)


@pytest.mark.parametrize(
    "body",
    [
        b"time_s,pue\n60,1.1\n\xff\xfe,1,2\n",  # not UTF-8, in a row pyarrow would name
        f"time_s,pue\n60,{SECRET}\n".encode(),  # a value that is not a number
        f"time_s,pue\n60,1.1,{SECRET}\n120,1.2\n".encode(),  # a row with a cell too many
    ],
)
def test_a_csv_run_table_is_refused_in_one_line_that_shows_none_of_it(made, tmp_path, body):
    table = tmp_path / "site.csv"
    table.write_bytes(body)
    code, err = twin(["report", str(table), "--out", "r.html"], tmp_path, outputs=("r.html",))
    assert code == 2 and len(err.strip().splitlines()) == 1, err
    assert "Traceback" not in err and "Exception ignored" not in err and SECRET not in err, err


@FUZZ
@given(data=st.data())
def test_a_damaged_parquet_run_table_is_reported_and_compared_cleanly(made, work, data):
    example = _fresh(work)
    table = example / "site.parquet"
    if data.draw(st.booleans()):
        table.write_bytes(data.draw(_mutated_bytes(made["parquet"].read_bytes())))
    else:
        table.write_bytes(_foreign_parquet(data.draw))
    code, err = twin(["report", str(table), "--out", "r.html"], example, outputs=("r.html",))
    clean("run table parquet", code, err)
    code, err = twin(
        ["report", str(made["parquet"]), "--compare", str(table), "--out", "c.html"],
        example,
        outputs=("c.html",),
    )
    clean("run table parquet", code, err)


def test_a_run_table_cannot_make_the_report_read_a_file(made, tmp_path):
    table = tmp_path / "site.csv"
    table.write_text(
        made["csv"].read_text().replace("# scenario: single-rack", "# scenario: /dev/zero")
    )
    code, err = twin(["report", str(table), "--out", "r.html"], tmp_path, outputs=("r.html",))
    assert code == 0, err
    # the scenario comes from the text the table carries, whatever name it gives
    report = (tmp_path / "r.html").read_text(encoding="utf-8")
    assert "the scenario could not be loaded" not in report
    assert "does not carry its scenario" not in report


# --------------------------------------------------------------------------- weather CSV


WEATHER_HEADER = "time,dry_bulb_c,wet_bulb_c\n"
WEATHER_ROWS = "".join(
    f"2026-08-01T{h:02d}:00,{25 + h / 4:.2f},{21 + h / 8:.2f}\n" for h in range(24)
)


def _scenario_with_weather(folder: Path, csv: str = "weather.csv") -> Path:
    text = SCENARIO_BYTES.decode()
    text = text.replace("[climate]\n", f"[climate]\nhourly_csv = {json.dumps(csv)}\n", 1)
    (folder / "s.toml").write_text(text, encoding="utf-8")
    return folder / "s.toml"


@st.composite
def _weather_variants(draw) -> bytes:
    kind = draw(st.sampled_from(["cell", "line", "bytes", "big"]))
    original = WEATHER_HEADER + WEATHER_ROWS
    if kind == "bytes":
        return draw(_mutated_bytes(original.encode()))
    if kind == "big":
        return (
            WEATHER_HEADER + "2026-08-01T00:00," + "9" * draw(st.integers(1, 300_000)) + ",1\n"
        ).encode()
    lines = original.splitlines()
    index = draw(st.integers(0, len(lines) - 1))
    if kind == "line":
        lines[index] = draw(
            st.sampled_from(
                [SECRET, f"{SECRET},{SECRET},{SECRET}", "", f'"{SECRET}', "\x00", f"{SECRET},1,1"]
            )
        )
    else:
        cells = lines[index].split(",")
        cells[draw(st.integers(0, len(cells) - 1))] = draw(
            st.sampled_from([SECRET, "", "nan", "inf", "-100", "99", "2026-02-30T00:00", "1e400"])
        )
        lines[index] = ",".join(cells)
    return "\n".join(lines).encode()


@FUZZ
@given(content=_weather_variants())
def test_a_damaged_weather_csv_is_checked_without_showing_its_content(work, content):
    example = _fresh(work)
    scenario = _scenario_with_weather(example)
    (example / "weather.csv").write_bytes(content)
    code, err = twin(["check", str(scenario)], example)
    clean("weather csv", code, err)
    assert SECRET not in err


@pytest.mark.parametrize(
    ("target", "message"),
    [
        ("/dev/zero", "is not a regular file"),
        ("missing.csv", "no such file"),
        (".", "is a folder"),
        ("binary.csv", "is not UTF-8 text"),
        ("secret.csv", "the header must be time,dry_bulb_c,wet_bulb_c"),
    ],
)
def test_the_weather_csv_twin_check_refuses(tmp_path, target, message):
    (tmp_path / "binary.csv").write_bytes(bytes(range(256)) * 4)
    (tmp_path / "secret.csv").write_text(f"{SECRET}\n", encoding="utf-8")
    scenario = _scenario_with_weather(tmp_path, target)
    code, err = twin(["check", str(scenario)], tmp_path)
    assert code == 2 and message in err and "climate.hourly_csv" in err
    assert SECRET not in err


def test_the_weather_csv_is_found_beside_its_scenario_not_in_the_current_folder(tmp_path):
    from twin.scenario import load
    from twin.sim.weather import Weather

    site = tmp_path / "site"
    site.mkdir()
    (site / "weather.csv").write_text(WEATHER_HEADER + WEATHER_ROWS, encoding="utf-8")
    scenario_file = _scenario_with_weather(site)
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    out = io.StringIO()
    code, err = twin(["check", str(scenario_file)], elsewhere, out=out)
    assert code == 0, err
    assert f"weather          24 rows from {site / 'weather.csv'}" in out.getvalue()
    cwd = os.getcwd()
    os.chdir(elsewhere)
    try:
        weather = Weather.from_scenario(load(scenario_file), seed=1)
    finally:
        os.chdir(cwd)
    assert weather.hourly is not None
    assert weather.hourly[1][4] == pytest.approx(26.0)  # 04:00 in the CSV, not the normals


# --------------------------------------------------------------------------- command line


_durations = st.sampled_from(
    [
        "1h",
        "90s",
        "0s",
        "-1s",
        "1e9d",
        "99999999999999999999d",
        "36500d",
        "36501d",
        "1",
        "abc",
        "",
        "0.05s",
        "301s",
        "7min",
        "9" * 400 + "d",
        "nan s",
        "1 h",
    ]
)
_paths = st.sampled_from(
    [
        "out.csv",
        "out.parquet",
        "out.txt",
        "missing/out.csv",
        ".",
        "/dev/zero",
        "/proc/out.csv",
        "folder",
        "folder/x.csv",
        "",
        "out.sqlite",
        "rec",
        "../out.csv",
        "out.html",
        "out.pdf",
        "shot.png",
        "shot.jpg",
        "single-rack",
        "scenario.toml",
        "a b.csv",
    ]
)
_words = st.sampled_from(
    [
        "single-rack",
        "seoul-ai-factory",
        "nope",
        "scenario.toml",
        "/dev/zero",
        "ai-factory-tour",
        "en",
        "ko",
        "fr",
        "0",
        "1",
        "-1",
        "2**64",
        "18446744073709551616",
        "HDMI-1",
        "A4",
        "A5",
        "Letter",
        "--",
        "-x",
        "é",
        "\x00",
    ]
)
_options = {
    "run": [
        "--scenario",
        "--duration",
        "--dt",
        "--out",
        "--every",
        "--seed",
        "--components",
        "--journal",
        "--record",
        "--record-every",
        "--quiet",
    ],
    "check": [],
    "scenarios": [],
    "report": ["--compare", "--journal", "--out", "--page-size"],
    "gui": ["--scenario", "--exit-after", "--screenshot", "--study"],
    "replay": ["--compare", "--exit-after", "--screenshot"],
    "kiosk": ["--scenario", "--story", "--lang", "--screen", "--exit-after", "--screenshot"],
}


@st.composite
def _argv(draw) -> list[str]:
    command = draw(st.sampled_from([*_options, "nope", "--version", "--help", "-h", ""]))
    argv = [command] if command else []
    if command in ("check", "report", "replay"):
        argv.append(draw(st.one_of(_paths, _words)))
    for _ in range(draw(st.integers(0, 6))):
        option = draw(st.sampled_from(_options.get(command) or ["--out", "--nope"]))
        argv.append(option)
        if option != "--quiet" and draw(st.integers(0, 9)):
            argv.append(draw(st.one_of(_durations, _paths, _words)))
    return argv


@FUZZ
@given(argv=_argv())
def test_random_command_lines_end_in_a_clear_message(work, argv):
    """The engine, the window and the kiosk are left out (each records that it was asked
    to start): the arguments and files before them are checked for real."""
    example = _fresh(work)
    (example / "folder").mkdir()
    (example / "scenario.toml").write_bytes(SCENARIO_BYTES)
    with (
        mock.patch("twin.runs.output.run_headless", return_value=0) as engine,
        mock.patch("twin.gui.app.run_gui", return_value=0) as window,
        mock.patch("twin.gui.study_app.run_study_gui", return_value=0),
        mock.patch("twin.gui.kiosk.app.run_kiosk", return_value=0) as kiosk,
    ):
        code, err = twin(argv, example, outputs=("out.html", "out.pdf"))
    clean("command line", code, err)
    if code == 0 and argv and argv[0] in ("run", "gui", "kiosk"):
        assert {"run": engine, "gui": window, "kiosk": kiosk}[argv[0]].called


@pytest.mark.parametrize(
    ("argv", "message"),
    [
        (
            [
                "run",
                "--scenario",
                "single-rack",
                "--duration",
                "99999999999999999999d",
                "--out",
                "x.csv",
            ],
            "at most 36,500d (100 years)",
        ),
        (
            ["run", "--scenario", "single-rack", "--duration", "36501d", "--out", "x.csv"],
            "at most 36,500d",
        ),
        (
            [
                "run",
                "--scenario",
                "single-rack",
                "--duration",
                "1h",
                "--every",
                "2h",
                "--out",
                "x.csv",
            ],
            "--every 2h is longer than --duration 1h",
        ),
        (
            [
                "run",
                "--scenario",
                "single-rack",
                "--duration",
                "1h",
                "--out",
                "x.parquet",
                "--components",
                "x.parquet",
            ],
            "--out and --components name the same file",
        ),
        (
            ["run", "--scenario", "single-rack", "--duration", "1h", "--out", "folder"],
            "must end in .csv or .parquet",
        ),
        (
            ["run", "--scenario", "single-rack", "--duration", "1h", "--out", "folder.csv"],
            "is a folder; give a file name",
        ),
        (
            [
                "run",
                "--scenario",
                "single-rack",
                "--duration",
                "1h",
                "--out",
                "x.csv",
                "--seed",
                "9" * 5000,
            ],
            "is not a whole number",
        ),
        (
            ["run", "--scenario", "single-rack", "--duration", "1h", "--out", "x" * 300 + ".csv"],
            ".csv: File name too long",
        ),
        (
            [
                "run",
                "--scenario",
                "single-rack",
                "--duration",
                "1h",
                "--out",
                "x.csv",
                "--record",
                "r" * 300,
            ],
            "--record " + "r" * 300 + ": File name too long",
        ),
        (["report", "x.csv", "--out", "x" * 300 + ".html"], ".html: File name too long"),
        (["gui", "--exit-after", "1e300"], "more than the 7 days"),
        (["gui", "--exit-after", "5", "--screenshot", "shot.jpg"], "must end in .png"),
        (
            ["kiosk", "--exit-after", "5", "--screenshot", "missing/shot.png"],
            "the folder of missing/shot.png does not exist",
        ),
        (["kiosk", "--lang", "fr"], "invalid choice: 'fr'"),
        (["check", "/dev/zero"], "is not a regular file"),
        (["check", "9" * 400 + "d"], "File name too long"),
    ],
)
def test_bad_arguments_are_named(tmp_path, argv, message):
    (tmp_path / "folder.csv").mkdir()
    (tmp_path / "folder").mkdir()
    code, err = twin(argv, tmp_path)
    assert code == 2 and message in err and "Traceback" not in err, err


def _twin_process(*argv: str, **kwargs) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-m", "twin", *argv],
        capture_output=True,
        text=True,
        timeout=300,
        cwd=kwargs.pop("cwd", None),
        **kwargs,
    )


def test_a_reader_that_stops_early_ends_twin_quietly(tmp_path):
    """``twin scenarios | head -1``: the pipe closes before twin writes; no traceback and
    no "Exception ignored" from the interpreter's last flush."""
    worktree = Path(__file__).resolve().parents[1]
    process = subprocess.Popen(
        [sys.executable, "-m", "twin", "scenarios"],
        cwd=worktree,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
    )
    process.stdout.close()  # the reader is gone before twin prints a line
    err = process.stderr.read().decode()
    process.stderr.close()
    assert process.wait(timeout=300) in (0, 141)
    assert "Traceback" not in err and "Exception ignored" not in err, err


def test_a_random_journal_given_to_a_real_process_is_one_line(made, tmp_path):
    journal = tmp_path / "j.sqlite"
    journal.write_bytes(os.urandom(8192))
    worktree = Path(__file__).resolve().parents[1]
    result = _twin_process(
        "report",
        str(made["csv"]),
        "--journal",
        str(journal),
        "--out",
        str(tmp_path / "r.html"),
        cwd=worktree,
    )
    assert result.returncode == 2
    assert result.stderr.strip().splitlines() == [
        f"twin report: --journal {journal}: not an alarm journal (not an SQLite file)"
    ]


def test_a_century_long_run_is_refused_by_a_real_process(tmp_path):
    worktree = Path(__file__).resolve().parents[1]
    result = _twin_process(
        "run",
        "--scenario",
        "single-rack",
        "--duration",
        "99999999999999999999d",
        "--out",
        str(tmp_path / "x.csv"),
        cwd=worktree,
    )
    assert result.returncode == 2 and "Traceback" not in result.stderr
    assert not any(tmp_path.iterdir())


@pytest.mark.parametrize("target", ["/dev/zero", "binary.csv"])
def test_a_run_with_an_unreadable_weather_csv_makes_no_output(tmp_path, target):
    (tmp_path / "binary.csv").write_bytes(bytes(range(256)) * 4)
    scenario = _scenario_with_weather(tmp_path, target)
    code, err = twin(
        ["run", "--scenario", str(scenario), "--duration", "1h", "--out", "site.csv", "--quiet"],
        tmp_path,
    )
    assert code == 2 and "climate.hourly_csv" in err and "Traceback" not in err
    assert not (tmp_path / "site.csv").exists()
