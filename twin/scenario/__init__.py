"""Scenario files: the schema, the loader with its error reports, and the built-ins."""

from twin.scenario.loader import (
    Problem,
    ScenarioError,
    builtin_scenarios,
    it_nameplate_kw,
    load,
    loads,
    resolve,
)
from twin.scenario.names import cdu_unit_names
from twin.scenario.schema import Scenario

__all__ = [
    "Problem",
    "Scenario",
    "ScenarioError",
    "builtin_scenarios",
    "cdu_unit_names",
    "it_nameplate_kw",
    "load",
    "loads",
    "resolve",
]
