"""Bad input and killed runs, tallied: what `twin` does with every file kind and argument a
user can get wrong, and how much of a killed run's output survives.

Run: nice -n 10 python -m benchmarks.bad_input_tally [--variants N] [--kills K]
     [--families scenario,story,...] [--formats parquet,csv] [--jobs J] [--seed S]
(from the repository root, so that this checkout's twin is imported).

Bad input: each family's file (scenario, story, settings, recording, journal, run table,
weather CSV) is given truncated, empty, random, deeply nested, foreign (another format) and
unreadable (a folder, a named pipe, a link to /dev/zero: permissions mean nothing to root),
and bad command lines and output paths are tried, each by the real `python -m twin` in its
own process and folder with a timeout: scenarios and weather files by `twin check`, stories
by `twin kiosk` without a display (a story that passes every check stops there), settings
by `twin gui --exit-after 1` (under xvfb-run when no DISPLAY is set), recordings, journals
and run tables by `twin report`. A case ends as a clean error (exit 2 with a
message, no traceback), accepted (exit 0: a file used as far as it is readable, or a broken
settings file moved aside as the README says), a traceback, or other (another exit code, a
timeout, a temporary folder left behind, a file written outside the paths given, a foreign
file's text echoed). Data lost counts files given to twin that were changed or removed (a
broken settings file must be kept aside byte for byte; what is at an output path is
replaced by a run, as the README says). --variants N draws N truncations,
random files, foreign formats and random command lines per family (default 1).

Killed runs: `twin run --out site.parquet|site.csv --record run.twinrec` on seoul-ai-factory
is killed with SIGKILL at a random moment after it reports progress. Just before the kill
the rows on disk are read (what the run had flushed); after it they are read again. Data
lost is flushed rows no longer readable or changed; "behind" is how far the last readable
row trails the run's last progress line, against the bound of FLUSH_WALL_S of the run's
pace. `twin report` must then state what is missing.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import os
import random
import re
import shutil
import signal
import stat
import subprocess
import sys
import tempfile
import threading
import time
from collections import Counter
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from twin.resources import resource_dir
from twin.runs import FLUSH_WALL_S
from twin.runs.recording import Recording, RecordingError
from twin.runs.replay import SiteSeries
from twin.scenario import builtin_scenarios

REPO = Path(__file__).resolve().parents[1]
MARKER = "Foreign-Text-7f3a"  # in foreign files: an error must never show it
DAMAGE = ("truncated", "empty", "random", "nested", "foreign", "folder", "pipe", "dev-zero")
FAMILIES = (
    "scenario",
    "story",
    "settings",
    "recording",
    "journal",
    "run-table",
    "weather-csv",
    "cli-arguments",
    "output-paths",
)
OUTCOMES = ("clean error", "accepted", "traceback", "other")
PROGRESS = re.compile(r"([\d.]+)% simulated, ([\d,]+)x real time")
KILL_DURATION_S = 30 * 86400.0  # far longer than a run is let go
KILL_EVERY_S = 60.0


@dataclass
class Case:
    family: str
    label: str
    argv: list[str]
    files: dict[str, bytes | str] = field(default_factory=dict)  # str: "folder", "pipe"...
    outputs: tuple[str, ...] = ()  # names twin may create (and their .partial)
    display: bool = False  # the window opens: needs an X server
    file_size_limit: int | None = None  # RLIMIT_FSIZE: a disk that fills up
    timeout_s: float = 120.0


@dataclass
class Result:
    case: Case
    outcome: str
    lost: int
    note: str = ""


# --------------------------------------------------------------------------- damage


def _foreign(kind: str, rng: random.Random) -> bytes:
    """A file of another format, carrying text twin must never echo."""
    choices = {
        "json": json.dumps({"title": MARKER, "rows": [MARKER] * 3}).encode(),
        "toml": f'title = "{MARKER}"\n[{MARKER}]\nvalue = "{MARKER}"\n'.encode(),
        "csv": f"{MARKER},{MARKER}\n1,2\n{MARKER},3\n".encode(),
        "png": b"\x89PNG\r\n\x1a\n" + MARKER.encode() + bytes(200),
        "sqlite": b"SQLite format 3\x00" + MARKER.encode() + bytes(4000),
        "parquet": b"PAR1" + MARKER.encode() + bytes(64) + b"PAR1",
        "zip": b"PK\x03\x04" + MARKER.encode() + bytes(100),
    }
    return choices[rng.choice(sorted(set(choices) - {kind}))]


def _nested(kind: str) -> bytes | None:
    depth = 100_000
    return {
        "json": ("[" * depth + "]" * depth).encode(),
        "toml": ("a = " + "[" * depth + "]" * depth + "\n").encode(),
        "csv": ("time,dry_bulb_c,wet_bulb_c\n" + '"' * depth + "\n").encode(),
    }.get(kind)


def damaged(original: bytes, kind: str, damage: str, rng: random.Random) -> bytes | str | None:
    """The damaged file's bytes, or "folder", "pipe", "dev-zero"; None where the damage
    means nothing for this kind (a binary format cannot nest)."""
    if damage == "truncated":
        return original[: rng.randrange(1, len(original))]
    if damage == "empty":
        return b""
    if damage == "random":  # with text an error must not echo somewhere inside
        noise = rng.randbytes(rng.randrange(1, 16_384))
        at = rng.randrange(len(noise) + 1)
        return noise[:at] + MARKER.encode() + noise[at:]
    if damage == "nested":
        return _nested(kind)
    if damage == "foreign":
        return _foreign(kind, rng)
    return damage  # folder, pipe, dev-zero


def _file_cases(
    family: str, name: str, kind: str, original: bytes, argv: list[str], variants: int, seed: int
) -> list[Case]:
    cases = []
    for damage in DAMAGE:
        repeats = variants if damage in ("truncated", "random", "foreign") else 1
        for i in range(repeats):
            rng = random.Random(f"{seed}-{family}-{name}-{damage}-{i}")
            content = damaged(original, kind, damage, rng)
            if content is not None:
                label = f"{name} {damage}" + (f" #{i + 1}" if repeats > 1 else "")
                cases.append(Case(family, label, list(argv), {name: content}))
    return cases


# --------------------------------------------------------------------------- families


def _run_outputs(base: Path) -> None:
    """A real run's outputs, the originals damaged copies are made of."""
    for out, extra in (
        ("site.csv", ["--record", "run.twinrec", "--record-every", "60s", "--quiet"]),
        ("site.parquet", ["--quiet"]),
    ):
        done = _twin(
            ["run", "--scenario", "single-rack", "--duration", "20min", "--out", out, *extra],
            base,
            timeout_s=600,
        )
        if done[0] != 0:
            raise SystemExit(f"the run making the originals failed: {done[1][-2000:]}")


WEATHER = "time,dry_bulb_c,wet_bulb_c\n" + "".join(
    f"2026-08-01T{h:02d}:00,{25 + h / 4:.2f},{21 + h / 8:.2f}\n" for h in range(24)
)


def _cases(families: list[str], base: Path, variants: int, seed: int) -> list[Case]:
    scenario = builtin_scenarios()["single-rack"].read_bytes()
    story = (resource_dir() / "stories" / "ai-factory-tour.toml").read_bytes()
    settings = json.dumps({"theme": "dark", "units": "SI", "speed": 60.0}).encode()
    report = ["--out", "r.html"]
    cases: list[Case] = []
    if "scenario" in families:
        cases += _file_cases(
            "scenario", "s.toml", "toml", scenario, ["check", "s.toml"], variants, seed
        )
    if "story" in families:
        cases += _file_cases(
            "story", "story.toml", "toml", story, ["kiosk", "--story", "story.toml"], variants, seed
        )
    if "settings" in families:
        for case in _file_cases(
            "settings",
            "config/twin/settings.json",
            "json",
            settings,
            ["gui", "--scenario", "single-rack", "--exit-after", "1"],
            variants,
            seed,
        ):
            case.display, case.timeout_s = True, 300.0
            cases.append(case)
    if "recording" in families:
        recording = base / "run.twinrec"
        manifest = (recording / "manifest.json").read_bytes()
        part = (recording / "part-00000.parquet").read_bytes()
        whole = _folder_files(recording, "run.twinrec")
        for name, kind, original in (
            ("run.twinrec/manifest.json", "json", manifest),
            ("run.twinrec/part-00000.parquet", "parquet", part),
        ):
            for case in _file_cases(
                "recording",
                name,
                kind,
                original,
                ["report", "run.twinrec", *report],
                variants,
                seed,
            ):
                case.files = {**whole, **case.files}
                case.outputs = ("r.html",)
                cases.append(case)
    if "journal" in families:
        table = (base / "site.csv").read_bytes()
        journal = (base / "site.alarms.sqlite").read_bytes()
        for case in _file_cases(
            "journal",
            "j.sqlite",
            "sqlite",
            journal,
            ["report", "site.csv", "--journal", "j.sqlite", *report],
            variants,
            seed,
        ):
            case.files["site.csv"] = table
            case.outputs = ("r.html",)
            cases.append(case)
    if "run-table" in families:
        for name in ("site.csv", "site.parquet"):
            kind = name.rsplit(".", 1)[1]
            for case in _file_cases(
                "run-table",
                name,
                kind,
                (base / name).read_bytes(),
                ["report", name, *report],
                variants,
                seed,
            ):
                case.outputs = ("r.html",)
                cases.append(case)
    if "weather-csv" in families:
        text = scenario.decode().replace(
            "[climate]\n", '[climate]\nhourly_csv = "weather.csv"\n', 1
        )
        for case in _file_cases(
            "weather-csv",
            "site/weather.csv",
            "csv",
            WEATHER.encode(),
            ["check", "site/s.toml"],
            variants,
            seed,
        ):
            case.files["site/s.toml"] = text.encode()
            cases.append(case)
    if "cli-arguments" in families:
        cases += _argument_cases(variants, seed)
    if "output-paths" in families:
        cases += _output_path_cases(base)
    return cases


def _folder_files(folder: Path, name: str) -> dict[str, bytes | str]:
    return {f"{name}/{p.relative_to(folder)}": p.read_bytes() for p in folder.rglob("*")}


RUN = ["run", "--scenario", "single-rack", "--duration", "10min", "--every", "5min", "--quiet"]
BAD_VALUES = {
    "--duration": [
        "99999999999999999999d",
        "36501d",
        "nan",
        "inf",
        "-1s",
        "0s",
        "",
        "abc",
        "1e999d",
        "9" * 400 + "d",
        "1 parsec",
    ],
    "--dt": ["0.01s", "301s", "nan", "-60s", "1e-300s"],
    "--every": ["0s", "-5min", "20min", "nan"],
    "--seed": ["9" * 5000, "-1", "1.5", "0x10", ""],
    "--scenario": ["nope", "/dev/zero", "/", "../../etc/passwd", ""],
    "--record-every": ["abc", "0s", "1e999s"],
}


def _argument_cases(variants: int, seed: int) -> list[Case]:
    """Every bad value of a `twin run` option once, other commands' bad arguments, and
    random command lines: a valid run with one value swapped for a random word."""
    cases = []
    for option, values in BAD_VALUES.items():
        for value in values:
            argv = _with([*RUN, "--out", "out.csv"], option, value)
            cases.append(
                Case(
                    "cli-arguments",
                    f"run {option} {value[:24]!r}",
                    argv,
                    outputs=("out.csv", "out.alarms.sqlite"),
                )
            )
    for argv in (
        ["nope"],
        [],
        ["check"],
        ["report", "x.csv"],
        ["report", "x.csv", "--out", "r.html", "--page-size", "A5"],
        ["gui", "--exit-after", "1e300"],
        ["gui", "--exit-after", "5", "--screenshot", "shot.jpg"],
        ["kiosk", "--lang", "fr"],
        ["kiosk", "--story", "nope"],
        ["replay", "missing.twinrec"],
        ["run", "--scenario", "single-rack", "--unknown-option"],
        ["run", "--scenario", "single-rack", "--out", "out.csv", "--components", "out.csv"],
    ):
        cases.append(Case("cli-arguments", " ".join(argv)[:40] or "(none)", argv))
    words = sorted(
        {v for values in BAD_VALUES.values() for v in values}
        | {"1h", "90s", "single-rack", "out.parquet", "--", "-x", "é", "2**64"}
    )
    rng = random.Random(f"{seed}-argv")
    for i in range(8 * variants):
        option, word = rng.choice(sorted(BAD_VALUES)), rng.choice(words)
        cases.append(
            Case(
                "cli-arguments",
                f"random #{i + 1}: {option} {word[:20]!r}",
                _with([*RUN, "--out", "out.csv"], option, word),
                outputs=("out.csv", "out.alarms.sqlite"),
            )
        )
    return cases


def _with(argv: list[str], option: str, value: str) -> list[str]:
    argv = list(argv)
    if option in argv:
        argv[argv.index(option) + 1] = value
    else:
        argv += [option, value]
    return argv


def _output_path_cases(base: Path) -> list[Case]:
    old = (base / "site.csv").read_bytes()  # an earlier run's complete table
    # 10 simulated days of minute rows: far more than the file size limit lets through
    full_disk_run = [
        "run",
        "--scenario",
        "single-rack",
        "--duration",
        "10d",
        "--dt",
        "60s",
        "--every",
        "1min",
        "--quiet",
    ]
    c = []

    def add(label: str, argv: list[str], files=None, outputs=(), **kwargs) -> None:
        c.append(Case("output-paths", label, argv, files or {}, outputs, **kwargs))

    add("--out an existing folder", [*RUN, "--out", "folder.csv"], {"folder.csv": "folder"})
    add("--out in a missing folder", [*RUN, "--out", "missing/out.csv"])
    add("--out under a file", [*RUN, "--out", "file/out.csv"], {"file": b"x"})
    add("--out unwritable (/proc)", [*RUN, "--out", "/proc/out.csv"])
    add("--out name too long", [*RUN, "--out", "x" * 300 + ".csv"])
    add("--out wrong suffix", [*RUN, "--out", "out.txt"])
    add("--out empty", [*RUN, "--out", ""])
    add("--out too long with .partial", [*RUN, "--out", "x" * 250 + ".csv"])
    add(
        "--out a named pipe",
        [*RUN, "--out", "pipe.csv"],
        {"pipe.csv": "pipe"},
        outputs=("pipe.csv", "pipe.alarms.sqlite"),
    )
    add(
        "--journal an existing folder",
        [*RUN, "--out", "out.csv", "--journal", "j"],
        {"j": "folder"},
    )
    add("--record onto a file", [*RUN, "--out", "out.csv", "--record", "rec"], {"rec": b"mine"})
    add("--components = --out", [*RUN, "--out", "o.parquet", "--components", "o.parquet"])
    for out in ("site.csv", "site.parquet"):
        add(
            f"full disk (file size limit), {out}",
            [*full_disk_run, "--out", out],
            outputs=(out, "site.alarms.sqlite"),
            file_size_limit=58 * 1024,
            timeout_s=300,
        )
    add(
        "report --out a folder",
        ["report", "t.csv", "--out", "r.html"],
        {"t.csv": old, "r.html": "folder"},
    )
    add("report --out wrong suffix", ["report", "t.csv", "--out", "r.docx"], {"t.csv": old})
    add(
        "report --out unwritable (/proc)",
        ["report", "t.csv", "--out", "/proc/r.html"],
        {"t.csv": old},
    )
    return c


# --------------------------------------------------------------------------- running


def _env(display: bool, case_dir: Path) -> dict[str, str]:
    env = {
        **os.environ,
        "PYTHONPATH": str(REPO),
        "TMPDIR": str(case_dir / ".tmp"),
        "XDG_CONFIG_HOME": str(case_dir / "config"),
        "XDG_CACHE_HOME": str(case_dir / ".cache"),
        "XDG_STATE_HOME": str(case_dir / ".state"),
    }
    if not display:  # a command that would open a window stops at its display check
        for name in ("DISPLAY", "WAYLAND_DISPLAY", "QT_QPA_PLATFORM"):
            env.pop(name, None)
    return env


def _twin(argv, cwd: Path, *, display=False, limit=None, timeout_s=120.0, env=None):
    """`python -m twin ARGV`: (exit code or None on timeout, stdout + stderr)."""
    command = [sys.executable, "-m", "twin", *argv]
    if display and not os.environ.get("DISPLAY"):
        command = ["xvfb-run", "-a", "-s", "-screen 0 1280x800x24", *command]

    def preexec() -> None:
        os.setsid()
        if limit is not None:
            import resource

            resource.setrlimit(resource.RLIMIT_FSIZE, (limit, limit))

    process = subprocess.Popen(
        command,
        cwd=cwd,
        env=env or {**os.environ, "PYTHONPATH": str(REPO)},
        stdin=subprocess.DEVNULL,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        preexec_fn=preexec,
    )
    try:
        out, _ = process.communicate(timeout=timeout_s)
        return process.returncode, out.decode("utf-8", "replace")
    except subprocess.TimeoutExpired:
        os.killpg(process.pid, signal.SIGKILL)
        out, _ = process.communicate()
        return None, out.decode("utf-8", "replace")


def _make(case_dir: Path, files: dict[str, bytes | str]) -> None:
    for name, content in files.items():
        path = case_dir / name
        path.parent.mkdir(parents=True, exist_ok=True)
        if content == "folder":
            path.mkdir()
        elif content == "pipe":
            os.mkfifo(path)
        elif content == "dev-zero":
            path.symlink_to("/dev/zero")
        else:
            path.write_bytes(content)


def _inventory(folder: Path) -> dict[str, str]:
    """Each entry under ``folder`` by kind and content (a pipe is never opened)."""
    found = {}
    for path in sorted(folder.rglob("*")):
        name = str(path.relative_to(folder))
        if name.split("/")[0] in (".tmp", ".cache", ".state"):
            continue
        mode = path.lstat().st_mode
        if stat.S_ISLNK(mode):
            found[name] = "link " + os.readlink(path)
        elif stat.S_ISDIR(mode):
            found[name] = "folder"
        elif stat.S_ISFIFO(mode):
            found[name] = "pipe"
        else:
            found[name] = hashlib.sha256(path.read_bytes()).hexdigest()
    return found


def run_case(case: Case, root: Path, index: int) -> Result:
    case_dir = root / f"case-{index:04d}"
    (case_dir / ".tmp").mkdir(parents=True)
    _make(case_dir, case.files)
    before = _inventory(case_dir)
    code, output = _twin(
        case.argv,
        case_dir,
        display=case.display,
        limit=case.file_size_limit,
        timeout_s=case.timeout_s,
        env=_env(case.display, case_dir),
    )
    after = _inventory(case_dir)
    lost = 0
    for name, what in before.items():
        if case.family == "settings" and name.endswith("settings.json"):
            kept = [n for n in after if n.startswith(name)]  # in place or moved aside
            lost += not any(after[n] == what for n in kept)
        elif after.get(name) != what and name not in case.outputs:
            lost += 1  # (a run replaces what is at its output paths, as the README says)
    if "Traceback" in output:
        outcome, note = "traceback", output.strip().splitlines()[-1]
    elif code is None:
        outcome, note = "other", f"no answer within {case.timeout_s:.0f} s"
    elif code == 2 and case.family == "story" and "needs a display" in output:
        outcome, note = "accepted", ""  # the story passed every check before the window
    elif code == 2 and output.strip():
        outcome, note = "clean error", ""
    elif code == 0:
        outcome, note = "accepted", ""
    else:
        outcome, note = "other", f"exit {code}: {output.strip()[-200:]}"
    left = sorted(p.name for p in (case_dir / ".tmp").iterdir() if not p.name.startswith("xvfb"))
    added = sorted(
        n
        for n in set(after) - set(before)
        if not any(n == o or n.startswith((f"{o}.", f"{o}/")) for o in case.outputs)
        and not n.startswith("config/twin/settings.json.broken")
    )
    for bad, why in (
        (MARKER in output, "echoed a foreign file's text"),
        (bool(left), f"left {left} in the temporary folder"),
        (bool(added), f"wrote {added[:3]}"),
    ):
        if bad and outcome != "traceback":
            outcome, note = "other", why
    if outcome == "clean error" and len(output.strip().splitlines()) > 30:
        outcome, note = "other", "an error of more than 30 lines"
    shutil.rmtree(case_dir, ignore_errors=True)
    return Result(case, outcome, lost, note)


# --------------------------------------------------------------------------- killed runs


@dataclass
class Kill:
    fmt: str
    flushed: dict[str, int]  # rows on disk just before the kill, per output
    readable: dict[str, int]  # rows read after it
    lost: int
    behind_rows: float  # last readable row behind the last progress line
    bound_rows: float  # what FLUSH_WALL_S of the run's pace allows
    reported: bool  # twin report ran and said what is missing
    note: str = ""


def _site_rows(path: Path) -> SiteSeries | None:
    try:
        return SiteSeries.read(path)
    except RecordingError:  # nothing flushed yet
        return None


def _recording_rows(path: Path) -> int:
    try:
        return len(Recording.open(path))
    except RecordingError:
        return 0


def kill_once(fmt: str, root: Path, rng: random.Random) -> Kill:
    folder = Path(tempfile.mkdtemp(dir=root, prefix=f"kill-{fmt}-"))
    out = f"site.{fmt}"
    command = [
        sys.executable,
        "-m",
        "twin",
        "run",
        "--scenario",
        "seoul-ai-factory",
        "--duration",
        "30d",
        "--dt",
        "60s",
        "--out",
        out,
        "--record",
        "run.twinrec",
    ]
    process = subprocess.Popen(
        command,
        cwd=folder,
        env={**os.environ, "PYTHONPATH": str(REPO)},
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
    )
    stderr: list[str] = []
    reader = threading.Thread(
        target=lambda: [
            stderr.append(c.decode("utf-8", "replace"))
            for c in iter(lambda: process.stderr.read1(4096), b"")
        ],
        daemon=True,
    )
    reader.start()
    deadline = time.monotonic() + 300
    while not PROGRESS.findall("".join(stderr)):
        if process.poll() is not None or time.monotonic() > deadline:
            process.kill()
            raise SystemExit(f"the run to kill never reported progress: {''.join(stderr)[-2000:]}")
        time.sleep(0.05)
    time.sleep(rng.uniform(0.0, 2 * FLUSH_WALL_S))
    seen = _site_rows(folder / out)
    seen_recording = _recording_rows(folder / "run.twinrec")
    time.sleep(rng.uniform(0.0, 1.0))
    process.kill()  # SIGKILL: no cleanup, no last flush
    process.wait(timeout=60)
    reader.join(timeout=10)
    process.stderr.close()
    percent, rate = PROGRESS.findall("".join(stderr))[-1]
    simulated_s, pace = float(percent) / 100 * KILL_DURATION_S, float(rate.replace(",", ""))

    after = _site_rows(folder / out)
    rows_after = 0 if after is None else after.columns["time_s"].size
    rows_seen = 0 if seen is None else seen.columns["time_s"].size
    lost = max(0, rows_seen - rows_after)
    if seen is not None and after is not None:  # flushed rows come back unchanged
        n = min(rows_seen, rows_after)
        changed = np.zeros(n, dtype=bool)
        for name, values in seen.columns.items():
            a, b = np.asarray(after.columns[name][:n]), np.asarray(values[:n])
            same = a == b
            if a.dtype.kind == "f":
                same |= np.isnan(a) & np.isnan(b)
            changed |= ~same
        lost += int(np.count_nonzero(changed))
    recording_after = _recording_rows(folder / "run.twinrec")
    lost += max(0, seen_recording - recording_after)
    last_s = float(after.columns["time_s"][-1]) if rows_after else 0.0
    page = folder / "report.html"
    code, output = _twin(["report", out, "--out", str(page)], folder, timeout_s=300)
    reported = (
        (
            code == 0
            and "Traceback" not in output
            and "Incomplete data" in page.read_text(encoding="utf-8")
        )
        if rows_after
        else (code == 2 and "Traceback" not in output)
    )
    shutil.rmtree(folder, ignore_errors=True)
    return Kill(
        fmt,
        {out: rows_seen, "run.twinrec": seen_recording},
        {out: rows_after, "run.twinrec": recording_after},
        lost,
        max(0.0, (simulated_s - last_s) / KILL_EVERY_S),
        pace * (FLUSH_WALL_S + 2.0) / KILL_EVERY_S,
        reported,
        "" if reported else f"report: exit {code}: {output.strip()[-300:]}",
    )


# --------------------------------------------------------------------------- main


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument(
        "--variants",
        type=int,
        default=1,
        help="truncations, random files, foreign formats and random "
        "command lines per family (default 1)",
    )
    parser.add_argument("--kills", type=int, default=2, help="kills per format (default 2)")
    parser.add_argument(
        "--families", default=",".join(FAMILIES), help="comma-separated families (default: all)"
    )
    parser.add_argument("--formats", default="parquet,csv", help="formats to kill (parquet,csv)")
    parser.add_argument("--jobs", type=int, default=2, help="cases run at once (default 2)")
    parser.add_argument("--seed", type=int, default=1)
    args = parser.parse_args(argv)
    families = [f.strip() for f in args.families.split(",") if f.strip()]
    unknown = sorted(set(families) - set(FAMILIES))
    if unknown:
        parser.error(f"unknown families {unknown}; choose from {', '.join(FAMILIES)}")
    formats = [f for f in args.formats.split(",") if f]
    if set(formats) - {"parquet", "csv"}:
        parser.error("--formats takes parquet and csv")
    if "settings" in families and not os.environ.get("DISPLAY") and not shutil.which("xvfb-run"):
        print("settings: left out (the window needs DISPLAY or xvfb-run)")
        families.remove("settings")

    started = time.monotonic()
    load = Path("/proc/loadavg").read_text().split()[:3] if Path("/proc/loadavg").exists() else []
    with tempfile.TemporaryDirectory(prefix="bad-input-") as tmp:
        root = Path(tmp)
        base = root / "originals"
        base.mkdir()
        _run_outputs(base)
        cases = _cases(families, base, args.variants, args.seed)
        with ThreadPoolExecutor(max_workers=max(1, args.jobs)) as pool:
            results = list(pool.map(lambda ic: run_case(ic[1], root, ic[0]), enumerate(cases)))
        rng = random.Random(args.seed)
        kills = [kill_once(fmt, root, rng) for fmt in formats for _ in range(args.kills)]

    print(f"\nBad input ({len(results)} cases, each `python -m twin` in its own process)")
    print(
        f"{'family':<15}{'cases':>6}{'clean errors':>14}{'accepted':>10}{'tracebacks':>12}"
        f"{'other':>7}{'data lost':>11}"
    )
    totals: Counter = Counter()
    for family in families:
        mine = [r for r in results if r.case.family == family]
        counts = Counter(r.outcome for r in mine)
        lost = sum(r.lost for r in mine)
        totals.update(counts)
        totals["lost"] += lost
        print(
            f"{family:<15}{len(mine):>6}{counts['clean error']:>14}{counts['accepted']:>10}"
            f"{counts['traceback']:>12}{counts['other']:>7}{lost:>11}"
        )
    print(
        f"{'all':<15}{len(results):>6}{totals['clean error']:>14}{totals['accepted']:>10}"
        f"{totals['traceback']:>12}{totals['other']:>7}{totals['lost']:>11}"
    )
    for r in results:
        if r.outcome in ("traceback", "other") or r.lost:
            print(f"  {r.case.family}: {r.case.label}: {r.outcome}; {r.note} (lost {r.lost})")

    if kills:
        print(
            f"\nKilled runs (SIGKILL, seoul-ai-factory, dt 60 s, rows every 60 s, "
            f"flush every {FLUSH_WALL_S:.0f} s of wall time)"
        )
        print(
            f"{'format':<8}{'output':<14}{'flushed rows':>13}{'readable after':>16}"
            f"{'lost':>6}{'behind (rows)':>15}{'bound':>7}{'report says':>13}"
        )
        for k in kills:
            site, recording = k.flushed
            print(
                f"{k.fmt:<8}{site:<14}{k.flushed[site]:>13}{k.readable[site]:>16}{k.lost:>6}"
                f"{k.behind_rows:>15.0f}{k.bound_rows:>7.0f}"
                f"{'missing rows' if k.reported else 'NOTHING':>13}"
            )
            print(f"{'':<8}{recording:<14}{k.flushed[recording]:>13}{k.readable[recording]:>16}")
            if k.note:
                print(f"  {k.note}")
        print(
            f"kills {len(kills)}, data lost {sum(k.lost for k in kills)} rows, "
            f"over the bound {sum(k.behind_rows > k.bound_rows for k in kills)}, "
            f"reports that say what is missing {sum(k.reported for k in kills)}"
        )
    print(
        f"\ntracebacks {totals['traceback']}, data lost "
        f"{totals['lost'] + sum(k.lost for k in kills)}; "
        f"{time.monotonic() - started:.0f} s wall, load average at start {' '.join(load)}"
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
