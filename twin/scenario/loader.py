"""Load a scenario file: TOML syntax, schema, then cross-references, every problem in one
pass (``files`` reads, ``problems`` words what is wrong, ``references`` checks names)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from pydantic import ValidationError

from twin.scenario.files import parse_toml, read_text, resolve, with_files_beside
from twin.scenario.problems import Problem, ScenarioError, validation_problems
from twin.scenario.references import check_references
from twin.scenario.schema import Scenario


def load(name_or_path: str | Path) -> Scenario:
    """A scenario from its built-in name or its file; the files it names (the weather
    CSV) are taken relative to the scenario file's folder."""
    path = resolve(name_or_path)
    return with_files_beside(loads(read_text(path), source=str(path)), path.parent)


def loads(text: str, source: str = "<scenario>") -> Scenario:
    return from_dict(parse_toml(text, source), source)


def from_dict(data: dict[str, Any], source: str = "<scenario>") -> Scenario:
    try:
        scenario = Scenario.model_validate(data)
    except ValidationError as exc:
        raise ScenarioError(source, validation_problems(exc)) from None
    except RecursionError:
        raise ScenarioError(source, [Problem("", "the file nests too deeply")]) from None
    problems = check_references(scenario)
    if problems:
        raise ScenarioError(source, problems)
    return scenario
