"""A study file read, checked against its base scenario, and expanded into runs.

Every problem is reported in one pass, as the scenario loader reports a scenario's: the
study file's own keys by their path (``sweep.parameters[1].path``), with a did-you-mean
for unknown keys; each sweep value is tried on the base scenario, and what the scenario
loader says of it is reported under the value that caused it.
"""

from __future__ import annotations

import hashlib
import itertools
import json
import math
import re
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any

import numpy as np
from pydantic import ValidationError

from twin import inputs
from twin.scenario import Problem, Scenario, ScenarioError
from twin.scenario.files import (
    builtin_scenarios,
    parse_toml,
    read_text,
    resolve_named_file,
    with_files_beside,
)
from twin.scenario.loader import from_dict
from twin.scenario.problems import validation_problems
from twin.study.failures import units_of
from twin.study.schema import MAX_RUNS, MonteCarlo, Study, Sweep

WEATHER_YEAR = "weather_year"  # a parameter that sets the year of scenario.start
SCENARIO_SEED = "scenario.seed"
REFERENCE_ID = "reference"
MANIFEST_MAX_BYTES = 64 * inputs.MIB  # a results folder's study.json: two TOML texts
_STEP = re.compile(r"([A-Za-z_][A-Za-z0-9_-]*)|\[(\d+)\]")


@dataclass(frozen=True, slots=True)
class RunSpec:
    """One run of a study: what differs from the base scenario, and its seeds."""

    run_id: str
    index: int  # -1 for the reference run
    seed: int  # the simulation's seed
    replica_seed: int | None  # the failure draw's seed (Monte Carlo only)
    overrides: tuple[tuple[str, Any], ...] = ()


@dataclass(frozen=True, slots=True)
class StudyPlan:
    study: Study
    source: str
    study_text: str
    scenario_text: str
    scenario_data: dict[str, Any]  # the base scenario's TOML, parsed
    scenario_folder: str  # where its relative files (the weather CSV) are
    scenario: Scenario
    runs: tuple[RunSpec, ...]  # the reference first

    @property
    def fingerprint(self) -> str:
        """Changes when anything that decides the runs' results changes."""
        digest = hashlib.sha256()
        for text in (self.study_text, self.scenario_text):
            digest.update(text.encode())
            digest.update(b"\0")
        if self.study.sweep is not None and self.study.sweep.method == "sobol":
            from importlib.metadata import version

            # SALib draws the design: another version may draw other points
            digest.update(f"SALib {version('SALib')}".encode())
        return digest.hexdigest()[:16]

    @property
    def parameter_paths(self) -> list[str]:
        return [p.path for p in self.study.sweep.parameters] if self.study.sweep else []

    @property
    def components(self) -> list[str]:
        return list(self.study.monte_carlo.components) if self.study.monte_carlo else []


def load_study(path: str | Path) -> StudyPlan:
    """A study file read and checked; a ScenarioError lists every problem."""
    path = Path(path)
    source = str(path)
    if path.is_dir():
        raise ScenarioError(source, [Problem("", "is a folder; give a study .toml file")])
    if not path.exists():
        raise ScenarioError(source, [Problem("", "no such file")])
    text = read_text(path)
    study = _validated(text, source)
    scenario_path = _scenario_path(study.study.scenario, path.parent, source)
    return _plan(study, text, source, read_text(scenario_path), scenario_path)


def load_study_text(manifest: Path) -> StudyPlan:
    """The plan a results folder was made from, out of the texts its manifest keeps."""
    try:
        found = inputs.parse_json(inputs.read_text(manifest, MANIFEST_MAX_BYTES))
        study_text, scenario_text = found["study_toml"], found["scenario_toml"]
        folder = Path(found.get("scenario_folder", manifest.parent))
        if not isinstance(study_text, str) or not isinstance(scenario_text, str):
            raise TypeError("texts expected")
    except inputs.InputFileError as exc:
        raise ScenarioError(str(manifest), [Problem("", str(exc))]) from None
    except (KeyError, TypeError, AttributeError):
        raise ScenarioError(
            str(manifest),
            [Problem("", ("not a study's manifest: it lacks the study's and scenario's texts"))],
        ) from None
    source = f"{manifest} (study_toml)"
    return _plan(
        _validated(study_text, source), study_text, source, scenario_text, folder / "scenario.toml"
    )


def _validated(text: str, source: str) -> Study:
    data = parse_toml(text, source)
    try:
        return Study.model_validate(data)
    except ValidationError as exc:
        raise ScenarioError(source, validation_problems(exc, Study)) from None
    except RecursionError:
        raise ScenarioError(source, [Problem("", "the file nests too deeply")]) from None


def _plan(
    study: Study, text: str, source: str, scenario_text: str, scenario_path: Path
) -> StudyPlan:
    scenario_data = parse_toml(scenario_text, str(scenario_path))
    folder = scenario_path.parent
    scenario = with_files_beside(from_dict(scenario_data, str(scenario_path)), folder)
    problems = _parameter_problems(study, scenario_data, folder)
    if study.monte_carlo is not None:
        problems += _component_problems(study.monte_carlo, scenario)
    if study.sweep is not None and study.sweep.method == "grid":
        total = math.prod(len(p.values or []) for p in study.sweep.parameters)
        if total > MAX_RUNS:
            problems.append(
                Problem(
                    "sweep.parameters",
                    (
                        f"the grid has {total:,} points, more than the {MAX_RUNS:,} a study may "
                        "hold; split it"
                    ),
                )
            )
    if problems:
        raise ScenarioError(source, problems)
    return StudyPlan(
        study,
        source,
        text,
        scenario_text,
        scenario_data,
        str(folder.absolute()),
        scenario,
        _runs(study, scenario),
    )


def _scenario_path(name: str, folder: Path, source: str) -> Path:
    builtins = builtin_scenarios()
    if name not in builtins and not Path(name).expanduser().is_absolute():
        candidate = folder / name
        if candidate.exists() or Path(name).suffix:
            name = str(candidate)
    try:
        return resolve_named_file(name, builtins, "scenario")
    except ScenarioError as exc:
        raise ScenarioError(
            source, [Problem("study.scenario", f"{name}: {p.message}") for p in exc.problems]
        ) from None


# --------------------------------------------------------------------------- parameters


def parse_path(path: str) -> list[str | int]:
    """``halls[0].rows[1].count`` -> ["halls", 0, "rows", 1, "count"]; ValueError if bad."""
    steps: list[str | int] = []
    position = 0
    while position < len(path):
        if steps and path[position] == ".":
            position += 1
        match = _STEP.match(path, position)
        if match is None or (match.group(1) is None and not steps):
            raise ValueError(
                f"{path!r} is not a field path such as "
                "facility_water.supply_setpoint_c or halls[0].rows[0].count"
            )
        steps.append(match.group(1) if match.group(1) is not None else int(match.group(2)))
        position = match.end()
    if not steps:
        raise ValueError("an empty path names no field")
    return steps


def apply_overrides(
    data: dict[str, Any], overrides: tuple[tuple[str, Any], ...] | list
) -> dict[str, Any]:
    """A copy of a scenario's parsed TOML with each (path, value) set; a KeyError or
    IndexError names the step of the path that does not exist."""
    out = json.loads(json.dumps(data, default=_keep_datetime), object_hook=_datetime_back)
    for path, value in overrides:
        if path == WEATHER_YEAR:
            start = out["scenario"]["start"]
            out["scenario"]["start"] = start.replace(year=int(value))
            continue
        steps = parse_path(path)
        node: Any = out
        for k, step in enumerate(steps[:-1]):
            where = _shown(steps[: k + 1])
            if isinstance(step, int):
                if not isinstance(node, list) or not -len(node) <= step < len(node):
                    size = len(node) if isinstance(node, list) else 0
                    raise IndexError(f"{where}: the scenario has {size} entries there")
                node = node[step]
            else:
                if not isinstance(node, dict):
                    raise KeyError(f"{where}: not a table")
                node = node.setdefault(step, {})
        last = steps[-1]
        if isinstance(last, int):
            if not isinstance(node, list) or not -len(node) <= last < len(node):
                raise IndexError(f"{path}: no entry [{last}] there")
            node[last] = value
        elif isinstance(node, dict):
            node[last] = value
        else:
            raise KeyError(f"{path}: not a table")
    return out


def _keep_datetime(value: Any) -> Any:
    if isinstance(value, datetime):
        return {"__datetime__": value.isoformat()}
    raise TypeError(f"cannot copy {type(value).__name__}")


def _datetime_back(obj: dict[str, Any]) -> Any:
    if set(obj) == {"__datetime__"}:
        return datetime.fromisoformat(obj["__datetime__"])
    return obj


def _shown(steps: list[str | int]) -> str:
    out = ""
    for step in steps:
        out += f"[{step}]" if isinstance(step, int) else (f".{step}" if out else step)
    return out


def scenario_for(
    data: dict[str, Any],
    overrides: tuple[tuple[str, Any], ...] | list,
    folder: str | Path,
    source: str = "<study run>",
    events: list[dict[str, Any]] | None = None,
) -> Scenario:
    """The base scenario with a run's changes, validated by the scenario loader."""
    changed = apply_overrides(data, overrides)
    if events:
        changed["events"] = [*changed.get("events", []), *events]
    return with_files_beside(from_dict(changed, source), Path(folder))


def _parameter_problems(study: Study, data: dict[str, Any], folder: Path) -> list[Problem]:
    if study.sweep is None:
        return []
    problems: list[Problem] = []
    seen: dict[str, int] = {}
    for i, parameter in enumerate(study.sweep.parameters):
        where = f"sweep.parameters[{i}]"
        if parameter.path in seen:
            problems.append(
                Problem(
                    f"{where}.path",
                    f"{parameter.path} is already swept by "
                    f"sweep.parameters[{seen[parameter.path]}]",
                )
            )
            continue
        seen[parameter.path] = i
        if parameter.path != WEATHER_YEAR:
            try:
                parse_path(parameter.path)
            except ValueError as exc:
                problems.append(Problem(f"{where}.path", str(exc)))
                continue
        tries = (
            [(f"{where}.values[{j}]", v) for j, v in enumerate(parameter.values)]
            if parameter.values is not None
            else [(f"{where}.low", parameter.low), (f"{where}.high", parameter.high)]
        )
        if (
            parameter.values is not None
            and len({type(v) for v in parameter.values if not isinstance(v, bool)} - {int, float})
            + any(isinstance(v, bool) for v in parameter.values)
            > 1
        ):
            problems.append(
                Problem(
                    f"{where}.values",
                    "all values of a parameter must be of one kind: numbers, strings or true/false",
                )
            )
            continue
        for at, value in tries:
            if parameter.integer and isinstance(value, float):
                value = round(value)
            problem = _value_problem(data, parameter.path, value, folder)
            if problem is not None:
                problems.append(Problem(at, problem))
                if "not a field" in problem or "unknown key" in problem:
                    break  # one report of a bad path is enough
    return problems


def _value_problem(data: dict[str, Any], path: str, value: Any, folder: Path) -> str | None:
    if path == WEATHER_YEAR:
        if (
            isinstance(value, bool)
            or not isinstance(value, int | float)
            or not (1900 <= value <= 2200 and float(value).is_integer())
        ):
            return f"a weather year is a whole year from 1900 to 2200 (got {value!r})"
        try:
            apply_overrides(data, [(path, value)])
        except ValueError as exc:  # 29 February in a year without it
            return f"the start {data['scenario']['start']} has no day in {value}: {exc}"
        return None
    try:
        scenario_for(data, [(path, value)], folder)
    except (KeyError, IndexError) as exc:
        return f"{path} is not a field of the scenario: {exc.args[0]}"
    except ScenarioError as exc:
        return "; ".join(_scenario_problem(path, p) for p in exc.problems)
    return None


def _scenario_problem(path: str, problem: Problem) -> str:
    if problem.message.startswith("unknown key"):
        field = problem.path.rsplit(".", 1)
        hint = problem.message[len("unknown key") :]
        return f"{path} is not a field of the scenario: unknown key {field[-1]!r}{hint}"
    return f"with this value the scenario says: {problem}"


def _component_problems(monte_carlo: MonteCarlo, scenario: Scenario) -> list[Problem]:
    problems = []
    for name in monte_carlo.components:
        if not units_of(scenario, name):
            problems.append(
                Problem(
                    f"monte_carlo.components.{name}",
                    (
                        f"the scenario {scenario.scenario.name} has no {name.replace('_', ' ')} "
                        "units to fail"
                    ),
                )
            )
        elif name == "transformer" and any(h.electrical.transformers < 2 for h in scenario.halls):
            problems.append(
                Problem(
                    f"monte_carlo.components.{name}",
                    (
                        "a hall with a single transformer cannot lose it (a hall blackout is a "
                        "utility-outage or cdu-loss matter, not modelled here)"
                    ),
                )
            )
    return problems


# --------------------------------------------------------------------------- runs


def _runs(study: Study, scenario: Scenario) -> tuple[RunSpec, ...]:
    base_seed = scenario.scenario.seed
    runs = [RunSpec(REFERENCE_ID, -1, base_seed, None)]
    if study.sweep is not None:
        for k, point in enumerate(_sweep_points(study.sweep, study.study.seed)):
            seed = int(dict(point).get(SCENARIO_SEED, base_seed))  # a swept seed is the run's
            runs.append(RunSpec(f"sweep-{k:06d}", k, seed, None, point))
        return tuple(runs)
    mc = study.require_monte_carlo()
    for r in range(mc.replicas):
        replica_seed = replica_seed_of(study.study.seed, r)
        seed = replica_seed if mc.vary_scenario_seed else base_seed
        runs.append(RunSpec(f"replica-{r:06d}", r, seed, replica_seed))
    return tuple(runs)


def replica_seed_of(study_seed: int, replica: int) -> int:
    """A replica's own seed: the same for the same study seed and replica number, whatever
    the number of replicas or the order they run in."""
    state = np.random.SeedSequence([study_seed, replica]).generate_state(2, dtype=np.uint32)
    return (int(state[0]) << 31) ^ int(state[1])


def _sweep_points(sweep: Sweep, study_seed: int) -> list[tuple[tuple[str, Any], ...]]:
    paths = [p.path for p in sweep.parameters]
    # a grid or list parameter gives values (Sweep._shape checks it)
    if sweep.method == "grid":
        combos = itertools.product(*(p.values or [] for p in sweep.parameters))
        return [tuple(zip(paths, combo, strict=True)) for combo in combos]
    if sweep.method == "list":
        return [
            tuple(zip(paths, combo, strict=True))
            for combo in zip(*(p.values or [] for p in sweep.parameters), strict=True)
        ]
    if sweep.method == "sobol":
        return _saltelli(sweep, study_seed)
    return _latin_hypercube(sweep, study_seed)


def _saltelli(sweep: Sweep, study_seed: int) -> list[tuple[tuple[str, Any], ...]]:
    """Saltelli's design for Sobol' indices (``twin.study.sensitivity``): run k is row k."""
    from twin.study.sensitivity import saltelli_points

    names = [p.path for p in sweep.parameters]
    matrix = saltelli_points(
        names, [p.require_bounds() for p in sweep.parameters], sweep.require_samples(), study_seed
    )
    return [
        tuple(
            (p.path, round(value) if p.integer else float(value))
            for p, value in zip(sweep.parameters, row, strict=True)
        )
        for row in matrix
    ]


def _latin_hypercube(sweep: Sweep, study_seed: int) -> list[tuple[tuple[str, Any], ...]]:
    """McKay et al. (1979): each parameter's range cut into ``samples`` equal strata, one
    sample in each, strata paired at random across parameters."""
    n, d = sweep.require_samples(), len(sweep.parameters)
    rng = np.random.default_rng([study_seed, 0x1A7])
    unit = (np.argsort(rng.random((d, n)), axis=1) + rng.random((d, n))) / n
    points = []
    for k in range(n):
        point = []
        for i, p in enumerate(sweep.parameters):
            low, high = p.require_bounds()
            value = low + unit[i, k] * (high - low)
            point.append((p.path, round(value) if p.integer else float(value)))
        points.append(tuple(point))
    return points
