"""The step matrix's stored runs: each run is kept as it finishes and reused by a later
invocation on the same sources, so the week-long matrix can be built up over sittings."""

from __future__ import annotations

import importlib
from pathlib import Path

import pytest

ARGS = ["--scenarios", "single-rack", "--months", "7", "--faults", "none", "--dts", "60"]
ARGS += ["--days", "0.125", "--jobs", "1"]


@pytest.fixture(scope="module")
def step_matrix():
    # imported by its package name, so that its worker processes can import it too
    return importlib.import_module("benchmarks.step_matrix")


def _table(out: str) -> list[str]:
    return [line for line in out.splitlines() if line.startswith("single-rack m07")]


@pytest.mark.slow
def test_stored_runs_are_reused_and_damaged_or_foreign_ones_are_run_again(
    step_matrix, tmp_path: Path, capfd: pytest.CaptureFixture[str]
) -> None:
    folder = tmp_path / "runs"
    assert step_matrix.main([*ARGS, "--results", str(folder)]) == 0
    first = capfd.readouterr().out
    stored = sorted(p.name for p in folder.iterdir())
    assert stored == [
        "single-rack-m07-none-10800s-dt1.json",
        "single-rack-m07-none-10800s-dt60.json",
    ]
    assert step_matrix.main([*ARGS, "--results", str(folder)]) == 0
    second = capfd.readouterr().out
    assert "2 of 2 run(s) read" in second
    assert _table(second) == _table(first) and _table(first)

    coarse = folder / stored[1]
    digest = step_matrix.behaviour_digest(60.0)
    assert step_matrix.load_result(coarse, digest) is not None
    assert step_matrix.load_result(coarse, "0" * 64) is None  # other sources: not reused
    coarse.write_text("{not json", encoding="utf-8")  # damaged: run again
    assert step_matrix.load_result(coarse, digest) is None
    assert step_matrix.main([*ARGS, "--results", str(folder)]) == 0
    third = capfd.readouterr().out
    assert "1 of 2 run(s) read" in third
    assert "single-rack m07 none dt 60 s" in third and "dt 1 s" not in third
    assert _table(third) == _table(first)
    assert step_matrix.load_result(coarse, digest) is not None

    # the table so far, with a month not run yet: nothing runs, the missing case is named
    partial = [*ARGS, "--results", str(folder), "--stored-only"]
    partial[partial.index("7")] = "1,7"
    assert step_matrix.main(partial) == 3
    fourth = capfd.readouterr().out
    assert "1 of 2 case(s) stored whole" in fourth and "to run: single-rack m01 none" in fourth
    assert _table(fourth) == _table(first)
    assert sorted(p.name for p in folder.iterdir()) == stored


def test_an_unusable_results_folder_is_refused(
    step_matrix, tmp_path: Path, capfd: pytest.CaptureFixture[str]
) -> None:
    blocker = tmp_path / "file"
    blocker.write_text("", encoding="utf-8")
    with pytest.raises(SystemExit) as stop:
        step_matrix.main([*ARGS, "--results", str(blocker / "runs")])
    assert stop.value.code == 2
    assert "--results" in capfd.readouterr().err
    with pytest.raises(SystemExit) as stop:
        step_matrix.main([*ARGS, "--stored-only"])
    assert stop.value.code == 2
    assert "--stored-only reads the runs kept by --results" in capfd.readouterr().err
