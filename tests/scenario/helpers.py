"""Shared helpers for the scenario tests: the built-in scenarios as text and as dicts."""

from __future__ import annotations

import copy
import tomllib
from functools import cache
from typing import Any

from twin.scenario import builtin_scenarios

BUILTINS = ("gigawatt", "seoul-ai-factory", "single-rack")


@cache
def builtin_text(name: str) -> str:
    return builtin_scenarios()[name].read_text(encoding="utf-8")


@cache
def _builtin_dict(name: str) -> dict[str, Any]:
    return tomllib.loads(builtin_text(name))


def builtin_dict(name: str) -> dict[str, Any]:
    """A fresh deep copy of a built-in scenario as parsed by tomllib, free to mutate."""
    return copy.deepcopy(_builtin_dict(name))
