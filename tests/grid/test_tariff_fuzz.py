"""Random mutations of the shipped tariff: the loader accepts the file or raises the clean
ScenarioError, and a file it accepts bills a day without any other exception.

Derandomized with no example database, so CI sees the same examples on every run.
"""

from __future__ import annotations

import datetime as dt
import math
import tomllib
from typing import Any

import numpy as np
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from pydantic import ValidationError

from twin.grid.bill import GridError, make_bill
from twin.grid.tariff import Tariff, TariffFile, builtin_tariffs, choice_problems
from twin.scenario import ScenarioError
from twin.scenario.problems import Problem, validation_problems
from twin.scenario.schema import TariffChoice

SHIPPED = tomllib.loads(builtin_tariffs()["kepco-industrial-b"].read_text(encoding="utf-8"))

_values = st.one_of(
    st.integers(min_value=-(2**40), max_value=2**40),
    st.floats(allow_nan=True, allow_infinity=True),
    st.sampled_from([0, -1, 24, 13, 1e308, math.nan, "", "I", "summer", "peak", "saturday"]),
    st.text(max_size=8),
    st.booleans(),
    st.dates(min_value=dt.date(2000, 1, 1), max_value=dt.date(2100, 1, 1)),
    st.lists(st.integers(-2, 30), max_size=6),
)


def _slots(node: Any, out: list) -> list:
    if isinstance(node, dict):
        for key, value in node.items():
            out.append((node, key))
            _slots(value, out)
    elif isinstance(node, list):
        for index, value in enumerate(node):
            out.append((node, index))
            _slots(value, out)
    return out


def _copy(node: Any) -> Any:
    if isinstance(node, dict):
        return {k: _copy(v) for k, v in node.items()}
    if isinstance(node, list):
        return [_copy(v) for v in node]
    return node


@settings(
    max_examples=150,
    derandomize=True,
    database=None,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow],
)
@given(data=st.data())
def test_a_mutated_tariff_is_checked_cleanly_and_bills_if_accepted(data: st.DataObject) -> None:
    tariff = _copy(SHIPPED)
    for _ in range(data.draw(st.integers(1, 3), label="mutations")):
        slots = _slots(tariff, [])
        if not slots:
            break
        container, key = slots[data.draw(st.integers(0, len(slots) - 1))]
        action = data.draw(st.sampled_from(["delete", "replace", "replace", "wrap"]))
        if action == "delete":
            del container[key]
        elif action == "replace":
            container[key] = data.draw(_values)
        else:
            container[key] = [container[key]]
    try:
        checked = TariffFile.model_validate(tariff)
    except ValidationError as exc:  # the loader turns exactly these into a ScenarioError
        problems = validation_problems(exc, TariffFile)
        error = ScenarioError("fuzzed.toml", problems)
        assert all(isinstance(p, Problem) and p.message.strip() for p in error.problems)
        return
    choice = TariffChoice(file="fuzzed.toml", option="II", contract_demand_kw=5000)
    if choice_problems(choice, checked):
        return
    time_s = np.arange(1, 97) * 900.0
    try:
        bill = make_bill(
            Tariff(checked, "II", 5000.0), dt.datetime(2026, 5, 9), time_s, np.full(96, 1000.0)
        )
    except GridError:
        return
    assert all(math.isfinite(m.total_krw) for m in bill.months)
