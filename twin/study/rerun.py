"""One run of a study done again, as a recording for ``twin replay`` and the window.

A study's run is deterministic: the base scenario with the run's parameter values, its
drawn failures (a Monte Carlo replica's, from its replica seed) as ``[[events]]``, and its
simulation seed give the run the study made, step for step. The recording keeps that
scenario as TOML text (a relative weather file made absolute), so it replays anywhere the
weather file is.

Recordings go under the results folder the user named, ``RESULTS/recordings/<run id>/``,
written under a hidden name and renamed when the run has finished: a folder under its
final name is a whole recording, and a second request for the run reuses it.
"""

from __future__ import annotations

import contextlib
import os
import shutil
from pathlib import Path
from typing import IO, Any

import numpy as np

from twin.scenario import ScenarioError, loads
from twin.study.failures import draw
from twin.study.plan import RunSpec, StudyPlan, apply_overrides, scenario_for

RECORDINGS = "recordings"
RECORDING = "recording"  # the recording inside a run's folder, beside its site table
SITE_TABLE = "site.parquet"
JOURNAL = "site.alarms.sqlite"


class RerunError(Exception):
    """A run that cannot be done again; the message says why."""


def run_spec(plan: StudyPlan, run_id: str) -> RunSpec:
    for spec in plan.runs:
        if spec.run_id == run_id:
            return spec
    raise RerunError(f"the study {plan.study.study.name} has no run {run_id!r}")


def run_scenario_data(plan: StudyPlan, spec: RunSpec) -> dict[str, Any]:
    """The scenario a run ran, as parsed TOML: the base scenario with the run's parameter
    values and its drawn failures appended to ``[[events]]``."""
    data = apply_overrides(plan.scenario_data, spec.overrides)
    if plan.study.monte_carlo is not None and spec.replica_seed is not None:
        base = scenario_for(plan.scenario_data, spec.overrides, plan.scenario_folder)
        drawn = draw(
            base,
            plan.study.monte_carlo,
            plan.study.study.duration_s,
            np.random.default_rng(spec.replica_seed),
        )
        data["events"] = [*data.get("events", []), *drawn.events]
    climate = data.get("climate")
    if isinstance(climate, dict):
        csv = climate.get("hourly_csv")
        if isinstance(csv, str) and not Path(csv).expanduser().is_absolute():
            climate["hourly_csv"] = str((Path(plan.scenario_folder) / csv).absolute())
    return data


def run_scenario_text(plan: StudyPlan, spec: RunSpec) -> str:
    import tomli_w

    header = (
        f"# run {spec.run_id} of twin study {plan.study.study.name}: seed {spec.seed}"
        + (f", replica seed {spec.replica_seed}" if spec.replica_seed is not None else "")
        + "\n"
    )
    return header + tomli_w.dumps(_plain(run_scenario_data(plan, spec)))


def _plain(value: Any) -> Any:
    """numpy numbers (a drawn event's times) as Python's, which TOML writers take."""
    if isinstance(value, dict):
        return {k: _plain(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_plain(v) for v in value]
    return value.item() if isinstance(value, np.generic) else value


def recording_folder(results: Path, run_id: str) -> Path:
    """Where a run's recording is (or will be) kept; its run's site table beside it."""
    return results / RECORDINGS / run_id


def recorded(results: Path, run_id: str) -> Path | None:
    """The run's finished recording, or None."""
    folder = recording_folder(results, run_id)
    return folder / RECORDING if (folder / SITE_TABLE).is_file() else None


def record_run(
    plan: StudyPlan, results: Path, run_id: str, progress: IO[str] | None = None
) -> Path:
    """Run ``run_id`` again with a recording (reusing a finished one); returns the
    recording's folder. ``progress`` takes ``twin run``'s progress lines; an exception it
    raises stops the run, and nothing is left behind."""
    from twin.runs.output import OutputError, RunFailed, run_headless

    spec = run_spec(plan, run_id)
    done = recorded(results, run_id)
    if done is not None:
        return done
    final = recording_folder(results, run_id)
    partial = final.with_name(f".{run_id}.partial-{os.getpid()}")
    info = plan.study.study
    text = run_scenario_text(plan, spec)
    try:
        shutil.rmtree(partial, ignore_errors=True)
        partial.mkdir(parents=True)
        (partial / "scenario.toml").write_text(text, encoding="utf-8")
        run_headless(
            loads(text, f"{run_id} of {info.name}"),
            duration_s=info.duration_s,
            dt_s=info.dt_s,
            every_steps=round(info.every_s / info.dt_s),
            out=partial / SITE_TABLE,
            seed=spec.seed,
            progress=progress,
            journal=partial / JOURNAL,
            record=partial / RECORDING,
            scenario_toml=text,
        )
        if final.exists():  # a folder left without its site table: not a whole recording
            shutil.rmtree(final)
        os.replace(partial, final)
    except (OutputError, RunFailed, ScenarioError) as exc:
        raise RerunError(f"rerunning {run_id}: {exc}") from None
    except OSError as exc:
        raise RerunError(
            f"cannot write the recording of {run_id} under {final.parent}: {exc.strerror or exc}"
        ) from None
    finally:
        with contextlib.suppress(OSError):
            if partial.exists():
                shutil.rmtree(partial)
    return final / RECORDING
