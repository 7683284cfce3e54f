"""The command line: check, scenarios, --help, and argument errors (exit 2, no traceback).

``twin run`` is exercised only up to the point where it would start the engine: a stand-in
``twin.runs.output`` module records the call instead, so these tests do not depend on the engine.
"""

from __future__ import annotations

import os
import subprocess
import sys
import types
from pathlib import Path
from typing import Any

import pytest

from twin.cli import main
from twin.scenario import builtin_scenarios

BUILTINS = ("gigawatt", "seoul-ai-factory", "single-rack")
REPO = Path(__file__).resolve().parent.parent


def _run_main(capsys: pytest.CaptureFixture[str], *argv: str) -> tuple[int, str, str]:
    try:
        code = main(list(argv))
    except SystemExit as exc:  # only --help and --version exit this way
        code = exc.code if isinstance(exc.code, int) else 1
    out, err = capsys.readouterr()
    return code, out, err


# --------------------------------------------------------------------------- check


@pytest.mark.parametrize("name", BUILTINS)
def test_check_accepts_each_builtin(capsys: pytest.CaptureFixture[str], name: str) -> None:
    code, out, err = _run_main(capsys, "check", name)
    assert code == 0, err
    assert err == ""
    assert out.startswith(f"{name}: ")
    assert "- valid" in out.splitlines()[0]
    for label in ("racks", "IT nameplate", " MW", "CDUs", "robots"):
        assert label in out


def test_check_prints_the_seoul_figures(capsys: pytest.CaptureFixture[str]) -> None:
    code, out, _ = _run_main(capsys, "check", "seoul-ai-factory")
    assert code == 0
    lines = {line.split(None, 1)[0]: line for line in out.splitlines()[1:]}
    assert lines["racks"].split()[-1] == "336"
    assert "44.3 MW" in lines["IT"]
    assert lines["CDUs"].split()[-1] == "24"
    assert "11 in 4 workcell(s)" in lines["robots"]  # a service fleet in each hall


def test_check_accepts_a_path(capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    path = tmp_path / "copy.toml"
    path.write_bytes(builtin_scenarios()["single-rack"].read_bytes())
    code, out, _ = _run_main(capsys, "check", str(path))
    assert code == 0
    assert out.startswith("single-rack: ")


BROKEN = """\
[scenario]
name = "broken"
title = "Broken on purpose"
"""


def _broken_file(tmp_path: Path) -> Path:
    text = builtin_scenarios()["single-rack"].read_text(encoding="utf-8")
    text = text.replace("gpu_tdp_w = 1400", "gpu_tdp_w = 9000")
    text = text.replace('tcs_fluid = "PG25"', 'tcs_fluid = "glycol"')
    text = text.replace("volume_m3 = 2.0", "volum_m3 = 2.0")
    path = tmp_path / "broken.toml"
    path.write_text(text, encoding="utf-8")
    return path


def test_check_rejects_a_broken_file(capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    path = _broken_file(tmp_path)
    code, out, err = _run_main(capsys, "check", str(path))
    assert code == 2
    assert out == ""
    assert "Traceback" not in err
    lines = err.splitlines()
    assert lines[0].startswith(f"{path}: ")
    assert "problems" in lines[0]
    for fragment in (
        "rack_types.gb300-nvl72.gpu_tdp_w: must be above 0 and at most 5000 W (got 9000 W)",
        "coolant.tcs_fluid: must be 'water' or 'PG25' (got 'glycol')",
        "facility_water.volum_m3: unknown key (did you mean 'volume_m3'?)",
        "facility_water.volume_m3: required key is missing",
    ):
        assert any(fragment in line for line in lines), f"{fragment!r} not in\n{err}"


def test_check_rejects_broken_references(
    capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    text = builtin_scenarios()["single-rack"].read_text(encoding="utf-8")
    path = tmp_path / "refs.toml"
    path.write_text(text.replace('cdu = "CDU" }', 'cdu = "CDU2" }'), encoding="utf-8")
    code, _, err = _run_main(capsys, "check", str(path))
    assert code == 2
    assert "halls[0].rows[0].cdu: no CDU group in hall 'lab' named 'CDU2'" in err
    assert "Traceback" not in err


def test_check_reports_toml_syntax_with_line_and_column(
    capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    path = tmp_path / "syntax.toml"
    path.write_text(BROKEN + "seed = = 3\n", encoding="utf-8")
    code, out, err = _run_main(capsys, "check", str(path))
    assert code == 2
    assert out == ""
    assert "TOML syntax error at line 4, column " in err
    assert "Traceback" not in err


@pytest.mark.parametrize(
    ("argument", "fragments"),
    [
        ("seoul-ai-factroy", ("did you mean 'seoul-ai-factory'?", "gigawatt", "single-rack")),
        ("no/such/file.toml", ("no/such/file.toml: 1 problem", "no such file")),
    ],
)
def test_check_unknown_scenario(
    capsys: pytest.CaptureFixture[str], argument: str, fragments: tuple[str, ...]
) -> None:
    code, out, err = _run_main(capsys, "check", argument)
    assert code == 2
    assert out == ""
    for fragment in fragments:
        assert fragment in err
    assert "Traceback" not in err


def test_check_non_utf8_file(capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    path = tmp_path / "bytes.toml"
    path.write_bytes(b'[scenario]\nname = "\xff"\n')
    code, _, err = _run_main(capsys, "check", str(path))
    assert code == 2
    assert "not UTF-8" in err
    assert "Traceback" not in err


# --------------------------------------------------------------------------- scenarios


def test_scenarios_lists_the_three(capsys: pytest.CaptureFixture[str]) -> None:
    code, out, err = _run_main(capsys, "scenarios")
    assert code == 0
    assert err == ""
    lines = out.splitlines()
    assert [line.split()[0] for line in lines] == list(BUILTINS)
    for line in lines:
        assert " racks " in line
        assert " MW IT " in line
    assert sum("(default)" in line for line in lines) == 1
    assert "(default)" in next(line for line in lines if line.startswith("seoul-ai-factory"))


# --------------------------------------------------------------------------- help


@pytest.mark.parametrize(
    ("argv", "fragments"),
    [
        ((), ("gui", "run", "check", "scenarios", "seoul-ai-factory")),
        (
            ("gui",),
            (
                "--scenario",
                "--exit-after",
                "ms, s, min, h or d",
                "90s, 15min, 6h, 2d",
                "--screenshot",
            ),
        ),
        (
            ("run",),
            (
                "--duration",
                "--dt",
                "0.1 s to 300 s",
                "--every",
                "multiple of --dt",
                "ms, s, min, h or d",
                "(default 60s)",
                "--out",
                ".csv",
                ".parquet",
                "--seed",
                "--components",
                "units",
            ),
        ),
        (("check",), ("MW", "kW", "°C", "L/min", "90s, 15min, 6h, 2d", "exit status is 2")),
        (
            ("scenarios",),
            (
                "racks",
                "MW",
            ),
        ),
    ],
)
def test_help_explains_options_with_units(
    capsys: pytest.CaptureFixture[str], argv: tuple[str, ...], fragments: tuple[str, ...]
) -> None:
    code, out, err = _run_main(capsys, *argv, "--help")
    assert code == 0
    assert err == ""
    assert out.startswith("usage: twin")
    flat = " ".join(out.split())  # argparse wraps lines
    for fragment in fragments:
        assert fragment in flat, f"{fragment!r} not in help of {argv}"


def test_version(capsys: pytest.CaptureFixture[str]) -> None:
    code, out, _ = _run_main(capsys, "--version")
    assert code == 0
    assert out.startswith("twin ")


# --------------------------------------------------------------------------- run arguments


@pytest.fixture
def engine(monkeypatch: pytest.MonkeyPatch) -> list[dict[str, Any]]:
    """Replace twin.runs.output with a stand-in that records the run instead of simulating."""
    calls: list[dict[str, Any]] = []
    fake = types.ModuleType("twin.runs.output")

    def run_headless(scenario: Any, **kwargs: Any) -> int:
        calls.append({"scenario": scenario, **kwargs})
        return 0

    fake.run_headless = run_headless  # type: ignore[attr-defined]
    fake.OutputError = type("OutputError", (Exception,), {})  # type: ignore[attr-defined]
    monkeypatch.setitem(sys.modules, "twin.runs.output", fake)
    return calls


def _run_args(out: Path, *extra: str) -> list[str]:
    return ["run", "--scenario", "single-rack", "--duration", "1h", "--out", str(out), *extra]


def test_good_run_arguments_reach_the_engine(
    capsys: pytest.CaptureFixture[str], engine: list[dict[str, Any]], tmp_path: Path
) -> None:
    out = tmp_path / "site.csv"
    code, _, err = _run_main(
        capsys,
        *_run_args(
            out,
            "--dt",
            "500ms",
            "--every",
            "15min",
            "--seed",
            "7",
            "--flush-every",
            "2s",
            "--quiet",
        ),
    )
    assert code == 0, err
    [call] = engine
    assert call["scenario"].scenario.name == "single-rack"
    assert call["duration_s"] == 3600
    assert call["dt_s"] == 0.5
    assert call["every_steps"] == 1800
    assert call["out"] == out
    assert call["seed"] == 7
    assert call["flush_wall_s"] == 2.0
    assert call["progress"] is None


@pytest.mark.parametrize(
    ("extra", "fragments"),
    [
        (("--duration", "5x"), ("--duration", "'5x' is not a duration", "90s, 15min, 6h, 2d")),
        (("--duration", "0s"), ("--duration", "must be longer than zero")),
        (("--dt", "0"), ("--dt", "'0' is not a duration", "did you mean '0s'?")),
        (("--duration", "nan"), ("--duration", "'nan' is not a duration", "2d)\n")),
        (("--duration", "inf"), ("--duration", "'inf' is not a duration", "2d)\n")),
        (("--dt", "0s"), ("--dt", "must be longer than zero")),
        (("--dt", "50ms"), ("--dt 0.05s is outside 0.1 s to 300 s",)),
        (("--dt", "10min"), ("--dt 10min is outside 0.1 s to 300 s",)),
        (("--dt", "7s", "--every", "60s"), ("--every 1min must be a whole multiple of --dt 7s",)),
        (("--dt", "2s", "--every", "1s"), ("--every 1s must be a whole multiple of --dt 2s",)),
        (("--out", "x.txt"), ("--out x.txt must end in .csv or .parquet",)),
        (("--flush-every", "100ms"), ("--flush-every 0.1s is outside 0.5s to 1h",)),
        (("--flush-every", "2h"), ("--flush-every 2h is outside 0.5s to 1h",)),
        (("--flush-every", "-1s"), ("--flush-every",)),
        (("--out", "{tmp}/missing/site.csv"), ("the folder of", "does not exist")),
        (("--components", "{tmp}/c.csv"), ("--components", "must end in .parquet")),
        (("--seed", "-3"), ("--seed", "outside 0 .. 2^63-1")),
        (("--seed", "abc"), ("--seed", "'abc' is not a whole number")),
        (("--scenario", "seoul"), ("not a built-in scenario", "seoul-ai-factory")),
        (("--bogus",), ("unrecognized arguments: --bogus",)),
    ],
)
def test_bad_run_arguments_exit_2_before_the_engine(
    capsys: pytest.CaptureFixture[str],
    engine: list[dict[str, Any]],
    tmp_path: Path,
    extra: tuple[str, ...],
    fragments: tuple[str, ...],
) -> None:
    argv = [a.replace("{tmp}", str(tmp_path)) for a in _run_args(tmp_path / "site.csv", *extra)]
    code, out, err = _run_main(capsys, *argv)
    assert code == 2
    assert out == ""
    assert "Traceback" not in err
    for fragment in fragments:
        assert fragment in err, f"{fragment!r} not in {err!r}"
    assert engine == []


def test_run_with_a_broken_scenario_exits_2_before_the_engine(
    capsys: pytest.CaptureFixture[str], engine: list[dict[str, Any]], tmp_path: Path
) -> None:
    path = _broken_file(tmp_path)
    argv = ["run", "--scenario", str(path), "--duration", "1h", "--out", str(tmp_path / "x.csv")]
    code, _, err = _run_main(capsys, *argv)
    assert code == 2
    assert err.startswith(f"{path}: ")
    assert "gpu_tdp_w" in err
    assert "Traceback" not in err
    assert engine == []


@pytest.mark.parametrize(
    ("argv", "fragment"),
    [
        (("run", "--duration", "1h", "--out", "x.csv"), "required: --scenario"),
        (("check",), "required: NAME|PATH"),
        (("frob",), "invalid choice: 'frob'"),
        (("gui", "--screenshot", "x.png"), "--screenshot needs --exit-after"),
        (("gui", "--exit-after", "soon"), "'soon' is not a duration"),
        (("gui", "--exit-after", "-3"), "'-3' must be a number of seconds above zero"),
        (("gui", "--exit-after", "nan"), "'nan' must be a number of seconds above zero"),
    ],
)
def test_usage_errors_exit_2(
    capsys: pytest.CaptureFixture[str], argv: tuple[str, ...], fragment: str
) -> None:
    code, out, err = _run_main(capsys, *argv)
    assert code == 2
    assert out == ""
    assert fragment in err
    assert "Traceback" not in err


# --------------------------------------------------------------------------- subprocess


def _python_m_twin(*args: str) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "PYTHONPATH": str(REPO)}
    return subprocess.run(
        [sys.executable, "-m", "twin", *args],
        capture_output=True,
        text=True,
        timeout=60,
        cwd=REPO,
        env=env,
        check=False,
    )


def test_python_dash_m_twin_check() -> None:
    done = _python_m_twin("check", "single-rack")
    assert done.returncode == 0, done.stderr
    assert done.stdout.startswith("single-rack: ")
    assert "IT nameplate" in done.stdout
    assert done.stderr == ""


def test_python_dash_m_twin_check_broken(tmp_path: Path) -> None:
    path = _broken_file(tmp_path)
    done = _python_m_twin("check", str(path))
    assert done.returncode == 2
    assert done.stdout == ""
    assert done.stderr.startswith(f"{path}: ")
    assert "Traceback" not in done.stderr
