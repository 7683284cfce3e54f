"""Scenario files on disk: built-in names, paths, reading and TOML syntax (every
failure a ScenarioError that says what is wrong and what is accepted)."""

from __future__ import annotations

import re
import tomllib
from pathlib import Path
from typing import Any

from twin import inputs
from twin.resources import resource_dir
from twin.scenario.problems import Problem, ScenarioError, did_you_mean
from twin.scenario.schema import (
    Scenario,
)

SCENARIO_SUFFIX = ".toml"
MAX_FILE_BYTES = 16 * inputs.MIB  # a scenario or story; the largest built-in is a few kB


def builtin_scenario_dir() -> Path:
    return resource_dir() / "scenarios"


def builtin_scenarios() -> dict[str, Path]:
    """Names of the scenarios shipped with twin, mapped to their files, sorted by name."""
    return {p.stem: p for p in sorted(builtin_scenario_dir().glob(f"*{SCENARIO_SUFFIX}"))}


def resolve(name_or_path: str | Path) -> Path:
    """A built-in scenario's name or a path to a TOML file."""
    return resolve_named_file(name_or_path, builtin_scenarios(), "scenario")


def resolve_named_file(name_or_path: str | Path, builtins: dict[str, Path], kind: str) -> Path:
    """One of ``builtins`` by name, or a path to a TOML file; a clear error otherwise."""
    text = str(name_or_path)
    if text in builtins:
        return builtins[text]
    path = Path(text).expanduser()
    try:
        is_folder, exists = path.is_dir(), path.exists()
    except OSError as exc:  # a name too long for the file system, a looping link...
        raise ScenarioError(text, [Problem("", exc.strerror or str(exc))]) from None
    if is_folder:
        raise ScenarioError(text, [Problem("", f"is a folder; give a {kind} .toml file")])
    if exists:
        return path  # read_text says what is wrong with a path that is not a regular file
    looks_like_path = path.suffix or "/" in text or "\\" in text
    if looks_like_path:
        raise ScenarioError(text, [Problem("", "no such file")])
    hint = did_you_mean(text, builtins)
    raise ScenarioError(
        text,
        [
            Problem(
                "",
                f"not a built-in {kind}{hint}; built-ins: {', '.join(builtins)}; "
                "or give the path of a .toml file",
            )
        ],
    )


def with_files_beside(scenario: Scenario, folder: Path) -> Scenario:
    """The scenario with a relative ``climate.hourly_csv`` made absolute against
    ``folder``, the scenario file's own, whatever the current folder."""
    csv = scenario.climate.hourly_csv
    if csv is None or Path(csv).is_absolute():
        return scenario
    climate = scenario.climate.model_copy(update={"hourly_csv": str((folder / csv).absolute())})
    return scenario.model_copy(update={"climate": climate})


def read_text(path: Path) -> str:
    """A UTF-8 file's text; a file that cannot be read or decoded, that is not a regular
    file or is larger than ``MAX_FILE_BYTES`` is a ScenarioError."""
    try:
        return inputs.read_text(path, MAX_FILE_BYTES)
    except inputs.InputFileError as exc:
        raise ScenarioError(str(path), [Problem("", str(exc))]) from None


_TOML_AT = re.compile(r"\s*\((?:at line (\d+), column (\d+)|at end of document)\)\s*$")
_TOML_HINTS = {
    "Cannot overwrite a value": "a key is given twice",
    "Cannot declare": "a table is declared twice",
    "Invalid value": "check quotes, brackets, commas and number formats",
    "Invalid statement": "each line holds key = value, [table] or [[array of tables]]",
}


def parse_toml(text: str, source: str) -> dict[str, Any]:
    """TOML text as a dictionary; a syntax error is a ScenarioError with line and column."""
    try:
        data = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        raise ScenarioError(source, [Problem("", _toml_message(str(exc), text))]) from None
    except RecursionError:
        raise ScenarioError(source, [Problem("", "TOML nests too deeply")]) from None
    except ValueError as exc:  # e.g. an integer with thousands of digits
        raise ScenarioError(source, [Problem("", f"TOML value cannot be read: {exc}")]) from None
    return data


def _toml_message(message: str, text: str) -> str:
    """``TOML syntax error at line L, column C: what`` (tomllib says "end of document"
    for errors on the last line; that is turned into a line and column too)."""
    match = _TOML_AT.search(message)
    what = message[: match.start()] if match else message
    if match and match.group(1):
        line, column = int(match.group(1)), int(match.group(2))
    else:
        lines = text.splitlines() or [""]
        line, column = len(lines), len(lines[-1]) + 1
    hint = next((h for key, h in _TOML_HINTS.items() if what.startswith(key)), "")
    return f"TOML syntax error at line {line}, column {column}: {what}" + (
        f" ({hint})" if hint else ""
    )
