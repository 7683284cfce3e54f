"""Scenario files: the schema, the loader with its error reports, and the built-ins."""

from twin.scenario.files import builtin_scenarios, resolve
from twin.scenario.loader import load, loads
from twin.scenario.names import cdu_unit_names
from twin.scenario.problems import Problem, ScenarioError
from twin.scenario.references import it_nameplate_kw
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
