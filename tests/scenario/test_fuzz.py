"""Random mutations of valid scenarios: the loader either accepts them or raises the clean
ScenarioError; never any other exception (which the CLI would show as a traceback).

Derandomized with no example database, so CI sees the same examples on every run.
"""

from __future__ import annotations

import datetime as dt
import math
from typing import Any

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from twin.scenario import Scenario, ScenarioError, loads
from twin.scenario.loader import from_dict

from .helpers import builtin_dict, builtin_text

FUZZED = ("single-rack", "seoul-ai-factory")
SOURCE = "fuzzed.toml"

FUZZ = dict(
    derandomize=True,
    database=None,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
)

_scalars = st.one_of(
    st.integers(min_value=-(2**70), max_value=2**70),
    st.sampled_from([0, -1, 1, 2**63, -(2**63), 10**400]),
    st.sampled_from([4400, 5000]).map(lambda digits: 10**digits),  # too long to print
    st.floats(allow_nan=True, allow_infinity=True),
    st.sampled_from([math.nan, math.inf, -math.inf, -0.0, 1e308, -1e308, 5e-324]),
    st.text(max_size=12),
    st.sampled_from(
        [
            "",
            " ",
            "6h",
            "90s",
            "-1s",
            "1e999d",
            "PG25",
            "H1-CDU-03",
            "hall-1",
            "pump-trip",
            "training",
            "x" * 200,
            "\x00",
            "é",
        ]
    ),
    st.booleans(),
    st.none(),
    st.datetimes(min_value=dt.datetime(1, 1, 1), max_value=dt.datetime(9999, 12, 31)),
    st.dates(),
    st.times(),
)
_values = st.recursive(
    _scalars,
    lambda inner: st.one_of(
        st.lists(inner, max_size=4),
        st.dictionaries(st.text(max_size=8), inner, max_size=3),
    ),
    max_leaves=6,
)


def _slots(node: Any, out: list[tuple[Any, Any]]) -> list[tuple[Any, Any]]:
    """Every (container, key or index) in the tree, parents before children."""
    if isinstance(node, dict):
        for key, value in node.items():
            out.append((node, key))
            _slots(value, out)
    elif isinstance(node, list):
        for index, value in enumerate(node):
            out.append((node, index))
            _slots(value, out)
    return out


def _mutate(data: dict[str, Any], draw: Any) -> str:
    slots = _slots(data, [])
    container, key = slots[draw(st.integers(0, len(slots) - 1))]
    action = draw(
        st.sampled_from(
            ["delete", "replace", "replace", "rename", "duplicate", "insert", "nest", "wrap"]
        )
    )
    if action == "delete":
        del container[key]
    elif action == "replace":
        container[key] = draw(_values)
    elif action == "rename" and isinstance(container, dict):
        new_key = draw(
            st.one_of(st.text(max_size=10), st.just(str(key) + "x"), st.just(str(key)[:-1]))
        )
        container[new_key] = container.pop(key)
    elif action == "duplicate" and isinstance(container, list):
        container.append(container[key])
    elif action == "insert" and isinstance(container, dict):
        container[draw(st.text(max_size=10))] = draw(_values)
    elif action == "insert" and isinstance(container, list):
        container.insert(key, draw(_values))
    elif action == "nest":
        container[key] = {"value": container[key]}
    elif action == "wrap":
        container[key] = [container[key]]
    return f"{action} {key!r}"


def _finite_everywhere(node: Any) -> bool:
    if isinstance(node, float):
        return math.isfinite(node)
    if isinstance(node, dict):
        return all(_finite_everywhere(v) for v in node.values())
    if isinstance(node, list | tuple):
        return all(_finite_everywhere(v) for v in node)
    return True


def _check_outcome(result: Scenario | ScenarioError) -> None:
    if isinstance(result, Scenario):
        assert _finite_everywhere(result.model_dump()), "a non-finite number was accepted"
        return
    report = result.report()
    assert isinstance(report, str)
    assert report.startswith(f"{SOURCE}: ")
    assert result.problems, "a ScenarioError must carry at least one problem"
    for problem in result.problems:
        assert isinstance(problem.path, str)
        assert problem.message.strip(), f"empty message at {problem.path!r}"
    assert "Traceback" not in report


@settings(max_examples=130, **FUZZ)
@given(name=st.sampled_from(FUZZED), data=st.data())
def test_mutated_dicts_give_scenario_or_clean_error(name: str, data: st.DataObject) -> None:
    scenario = builtin_dict(name)
    count = data.draw(st.integers(1, 4), label="mutations")
    for _ in range(count):
        if not _slots(scenario, []):
            break
        data.draw(st.just(_mutate(scenario, data.draw)), label="mutation")
    try:
        result: Scenario | ScenarioError = from_dict(scenario, source=SOURCE)
    except ScenarioError as error:
        result = error
    _check_outcome(result)


def _edit_text(text: str, draw: Any) -> str:
    lines = text.splitlines(keepends=True)
    if not lines:
        return draw(st.text(max_size=20))
    action = draw(
        st.sampled_from(
            [
                "delete-line",
                "duplicate-line",
                "swap-lines",
                "insert-text",
                "replace-char",
                "truncate",
                "replace-value",
            ]
        )
    )
    i = draw(st.integers(0, len(lines) - 1))
    if action == "delete-line":
        del lines[i]
    elif action == "duplicate-line":
        lines.insert(i, lines[i])
    elif action == "swap-lines":
        j = draw(st.integers(0, len(lines) - 1))
        lines[i], lines[j] = lines[j], lines[i]
    elif action == "insert-text":
        at = draw(st.integers(0, len(lines[i])))
        piece = draw(
            st.one_of(
                st.text(max_size=6),
                st.sampled_from(
                    ["[", "]", "=", '"', "'''", "#", "\n", "{", "}", ",", "\\", "-", "inf", "nan"]
                ),
            )
        )
        lines[i] = lines[i][:at] + piece + lines[i][at:]
    elif action == "replace-char" and lines[i]:
        at = draw(st.integers(0, len(lines[i]) - 1))
        lines[i] = lines[i][:at] + draw(st.characters()) + lines[i][at + 1 :]
    elif action == "truncate":
        return "".join(lines)[: draw(st.integers(0, len(text)))]
    elif action == "replace-value" and "=" in lines[i]:
        key = lines[i].split("=", 1)[0]
        value = draw(
            st.sampled_from(
                [
                    "-1",
                    "0",
                    "nan",
                    "inf",
                    "-inf",
                    "1e400",
                    '"6h"',
                    '"x"',
                    "true",
                    "[]",
                    "{}",
                    "[1, 2, 3]",
                    "2026-08-01",
                    "9" * 30,
                    "9" * 5000,
                    '""',
                    "{ a = 1 }",
                    "[[[[1]]]]",
                ]
            )
        )
        lines[i] = f"{key}= {value}\n"
    return "".join(lines)


@settings(max_examples=80, **FUZZ)
@given(name=st.sampled_from(FUZZED), data=st.data())
def test_edited_toml_text_gives_scenario_or_clean_error(name: str, data: st.DataObject) -> None:
    text = builtin_text(name)
    for _ in range(data.draw(st.integers(1, 3), label="edits")):
        text = _edit_text(text, data.draw)
    try:
        result: Scenario | ScenarioError = loads(text, source=SOURCE)
    except ScenarioError as error:
        result = error
    _check_outcome(result)


def test_unmutated_builtins_pass_the_same_check() -> None:
    for name in FUZZED:
        _check_outcome(from_dict(builtin_dict(name), source=SOURCE))
        _check_outcome(loads(builtin_text(name), source=SOURCE))
