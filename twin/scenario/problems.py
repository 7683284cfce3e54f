"""Problems with a scenario (or another file built the same way) and how they are
worded: where (a TOML key path), what, and what would be accepted; pydantic's validation
errors turned into these; suggestions for misspelt names."""

from __future__ import annotations

import difflib
import json
import re
from collections.abc import Mapping
from dataclasses import dataclass
from types import UnionType
from typing import Annotated, Any, Union, get_args, get_origin

from pydantic import BaseModel, ValidationError
from pydantic.fields import FieldInfo

from twin.scenario.schema import (
    CONSISTENCY_ERROR,
    Scenario,
)

_UNIT_SUFFIXES = {
    "_kw": "kW",
    "_mw": "MW",
    "_w": "W",
    "_kva": "kVA",
    "_kv": "kV",
    "_v": "V",
    "_a": "A",
    "_c": "°C",
    "_k": "K",
    "_kpa": "kPa",
    "_lpm": "L/min",
    "_lps": "L/s",
    "_l": "L",
    "_m3": "m³",
    "_m": "m",
    "_s": "s",
    "_pct": "%",
    "_mwh": "MWh",
    "_wh": "Wh",
    "_deg": "degrees",
    "_h": "h",
    "_k_per_w": "K/W",
    "_kw_per_k": "kW/K",
    "_w_per_s": "W/s",
    "_mw_per_s": "MW/s",
    "_kg_per_kwh": "kg/kWh",
    "_l_per_kwh": "L/kWh",
    "_krw_per_kwh": "KRW/kWh",
    "_kw_per_kw": "kW/kW",
    "_mva": "MVA",
    "_krw_per_kw": "KRW/kW",
}


@dataclass(frozen=True, slots=True)
class Problem:
    """One thing wrong with a scenario: where, what, and what would be accepted."""

    path: str
    message: str

    def __str__(self) -> str:
        return f"{self.path}: {self.message}" if self.path else self.message


class ScenarioError(Exception):
    """A scenario that cannot be used; carries every problem found."""

    def __init__(self, source: str, problems: list[Problem]):
        self.source = source
        self.problems = problems
        super().__init__(self.report())

    def report(self) -> str:
        count = len(self.problems)
        head = f"{self.source}: {count} problem{'s' if count != 1 else ''}"
        return "\n".join([head, *(f"  {p}" for p in self.problems)])


# Keys earlier scenario files may hold, and what took their place.
_CHILLER_CURVES = (
    "chillers follow the DOE-2 part-load and lift curves; set "
    "heat_rejection.chillers.reference_cop (and curves) instead"
)
REMOVED_KEYS = {
    "heat_rejection.chillers.carnot_fraction": _CHILLER_CURVES,
    "heat_rejection.chillers.condenser_approach_k": _CHILLER_CURVES,
    "heat_rejection.chillers.evaporator_approach_k": _CHILLER_CURVES,
}


# --------------------------------------------------------------------------- messages


def validation_problems(exc: ValidationError, root: Any = Scenario) -> list[Problem]:
    """Every error pydantic found validating ``root`` (a scenario, or another file's model
    built the same way, such as a kiosk story; or an annotation such as the union of
    events), worded as scenario problems are."""
    return [_problem(e, root) for e in exc.errors()]


_BARE_KEY = re.compile(r"^[A-Za-z0-9_-]+$")


def _format_loc(loc: tuple[Any, ...]) -> str:
    """``halls[0].rows[1].cdu``; dictionary keys that TOML would quote are quoted."""
    out = ""
    for part in loc:
        if isinstance(part, int):
            out += f"[{part}]"
        else:
            key = str(part) if _BARE_KEY.match(str(part)) else json.dumps(str(part))
            out += f".{key}" if out else key
    return out


def key_unit(key: object) -> str:
    """The unit a key's name carries: ``rate_lpm`` is in L/min; "" for none."""
    if not isinstance(key, str):
        return ""
    for suffix in sorted(_UNIT_SUFFIXES, key=len, reverse=True):
        if key.endswith(suffix):
            return _UNIT_SUFFIXES[suffix]
    return _UNIT_NAMES.get(key, "")


_UNIT_NAMES = {"peak_hour": "h"}


def _show(value: object) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"  # as TOML writes it
    try:
        text = repr(value)
    except ValueError:  # an integer too long to print
        return "a number with too many digits"
    return text if len(text) <= 60 else text[:57] + "..."


def _number(value: float) -> str:
    return f"{value:g}" if isinstance(value, float) else str(value)


@dataclass(frozen=True, slots=True)
class _Spot:
    """What the schema says about one location: shown path, type, bounds, lengths."""

    path: tuple[Any, ...]
    annotation: Any
    bounds: dict[str, float]
    lengths: dict[str, int]


def _spot(loc: tuple[Any, ...], root: type[BaseModel] = Scenario) -> _Spot:
    """Walk the schema along a pydantic error location.

    Discriminator tags that pydantic inserts (``events[0].pump-trip.at_s``) are dropped from
    the shown path; a ``[key]`` step (an error in a dictionary key) is dropped too.
    """
    annotation: Any = root
    metadata: list[Any] = []
    shown: list[Any] = []
    for part in loc:
        if part == "[key]":
            annotation, metadata = None, []
            continue
        annotation, metadata, visible = _step(annotation, part)
        if visible:
            shown.append(part)
    bounds: dict[str, float] = {}
    lengths: dict[str, int] = {}
    if annotation is not None:
        base, inner = _unwrap(annotation)
        if get_origin(base) is tuple and Ellipsis not in get_args(base):
            lengths["min_length"] = lengths["max_length"] = len(get_args(base))
        for item in [*metadata, *inner]:
            for name in ("gt", "ge", "lt", "le"):
                value = getattr(item, name, None)
                if isinstance(value, int | float):
                    # a field may narrow its type's bounds (Duration >= 0, a step >= 1 s)
                    tightest = max if name in ("gt", "ge") else min
                    bounds[name] = tightest(bounds.get(name, value), value)
            for name in ("min_length", "max_length"):
                if isinstance(getattr(item, name, None), int):
                    lengths[name] = getattr(item, name)
    return _Spot(tuple(shown), annotation, bounds, lengths)


def _unwrap(annotation: Any) -> tuple[Any, list[Any]]:
    """Strip ``Annotated`` (collecting its constraints) and ``| None``."""
    metadata: list[Any] = []
    while True:
        if get_origin(annotation) is Annotated:
            base, *extra = get_args(annotation)
            for item in extra:
                metadata.extend(item.metadata if isinstance(item, FieldInfo) else [item])
            annotation = base
            continue
        if get_origin(annotation) in (Union, UnionType):
            args = [a for a in get_args(annotation) if a is not type(None)]
            if len(args) == 1:
                annotation = args[0]
                continue
        return annotation, metadata


def _step(annotation: Any, part: Any) -> tuple[Any, list[Any], bool]:
    if annotation is None:
        return None, [], True
    annotation, _ = _unwrap(annotation)
    if isinstance(annotation, type) and issubclass(annotation, BaseModel):
        field = annotation.model_fields.get(part) if isinstance(part, str) else None
        if field is None:
            return None, [], True
        return field.annotation, list(field.metadata), True
    origin, args = get_origin(annotation), get_args(annotation)
    if origin is list and isinstance(part, int) and args:
        return args[0], [], True
    if origin is tuple and isinstance(part, int) and args:
        item = args[0] if len(args) == 2 and args[1] is Ellipsis else args[min(part, len(args) - 1)]
        return item, [], True
    if origin is dict and len(args) == 2:
        return args[1], [], True
    if origin in (Union, UnionType):  # a discriminated union: the tag names the member
        for arg in args:
            if part in _kinds(arg):
                return arg, [], False
    return None, [], True


def _kinds(annotation: Any) -> list[str]:
    """The ``kind`` tags a model, or a union of models, accepts."""
    annotation, _ = _unwrap(annotation)
    if isinstance(annotation, type) and issubclass(annotation, BaseModel):
        field = annotation.model_fields.get("kind")
        return list(get_args(field.annotation)) if field is not None else []
    if get_origin(annotation) in (Union, UnionType):
        return [k for arg in get_args(annotation) for k in _kinds(arg)]
    return []


def range_text(bounds: dict[str, float], unit: str) -> str:
    """``from 0 to 1``, ``above 0 and at most 5000 W``, ``at least 0 s``."""
    u = f" {unit}" if unit else ""
    low = (
        f"above {_number(bounds['gt'])}"
        if "gt" in bounds
        else f"at least {_number(bounds['ge'])}"
        if "ge" in bounds
        else ""
    )
    high = (
        f"below {_number(bounds['lt'])}"
        if "lt" in bounds
        else f"at most {_number(bounds['le'])}"
        if "le" in bounds
        else ""
    )
    if "ge" in bounds and "le" in bounds:
        return f"from {_number(bounds['ge'])} to {_number(bounds['le'])}{u}"
    if low and high:
        return f"{low} and {high}{u}"
    return f"{low or high}{u}" if low or high else ""


_NUMBER_ERRORS = {
    "int_type",
    "int_parsing",
    "int_from_float",
    "int_parsing_size",
    "float_type",
    "float_parsing",
    "finite_number",
}
_BOUND_ERRORS = {"greater_than", "greater_than_equal", "less_than", "less_than_equal"}
_TABLE_ERRORS = {"dict_type", "model_type", "model_attributes_type"}
_DATETIME_ERRORS = {
    "datetime_type",
    "datetime_parsing",
    "datetime_from_date_parsing",
    "datetime_object_invalid",
    "date_from_datetime_parsing",
}
_NAME_RULE = (
    "letters, digits, '_', '.' and '-', starting with a letter or digit, at most 64 characters"
)


def _problem(error: Mapping[str, Any], root: type[BaseModel] = Scenario) -> Problem:
    loc = tuple(error["loc"])
    kind = error["type"]
    ctx = error.get("ctx") or {}
    got = error.get("input")
    if kind == CONSISTENCY_ERROR:
        loc = (*loc, ctx["field"]) + ((ctx["index"],) if "index" in ctx else ())
        return Problem(_format_loc(_spot(loc, root).path), error["msg"])
    spot = _spot(loc, root)
    path = _format_loc(spot.path)
    key = next((p for p in reversed(spot.path) if isinstance(p, str)), None)
    unit = key_unit(key)
    allowed = range_text(spot.bounds, unit)
    if kind == "extra_forbidden":
        allowed_keys = _fields_at(loc[:-1], root)
        replaced_by = REMOVED_KEYS.get(path)
        if replaced_by is not None:
            return Problem(path, f"no longer a setting: {replaced_by}")
        hint = did_you_mean(str(loc[-1]), allowed_keys)
        listing = f"; allowed keys: {', '.join(sorted(allowed_keys))}" if allowed_keys else ""
        return Problem(path, f"unknown key{hint}{listing}")
    if kind in ("union_tag_invalid", "union_tag_not_found"):
        kinds = _kinds(spot.annotation)
        choices = ", ".join(repr(k) for k in kinds)
        where = _format_loc((*spot.path, "kind"))
        if kind == "union_tag_not_found":
            return Problem(where, f"required key is missing; one of {choices}")
        tag = got.get("kind") if isinstance(got, dict) else ctx.get("tag")
        hint = did_you_mean(tag, kinds) if isinstance(tag, str) else ""
        return Problem(where, f"unknown kind {_show(tag)}{hint}; allowed kinds: {choices}")
    if kind == "missing":
        what = f"; expected a number {allowed}" if allowed else ""
        return Problem(path, f"required key is missing{what}")
    if kind in _BOUND_ERRORS:
        return Problem(path, f"must be {allowed} (got {_show(got)}{' ' + unit if unit else ''})")
    if kind in _NUMBER_ERRORS:
        adjective = (
            "whole " if kind.startswith("int") else "finite " if kind == "finite_number" else ""
        )
        expected = f" {allowed}" if allowed else f" in {unit}" if unit else ""
        return Problem(path, f"must be a {adjective}number{expected} (got {_show(got)})")
    if kind in ("bool_type", "bool_parsing"):
        return Problem(path, f"must be true or false (got {_show(got)})")
    if kind == "literal_error":
        return Problem(
            path, f"must be {ctx.get('expected', 'one of the allowed values')} (got {_show(got)})"
        )
    if kind in ("too_short", "too_long"):
        low = spot.lengths.get("min_length", ctx.get("min_length"))
        high = spot.lengths.get("max_length", ctx.get("max_length"))
        if low is not None and low == high:
            need, count = "exactly", low
        elif kind == "too_short":
            need, count = "at least", low
        else:
            need, count = "at most", high
        noun = ("entry", "entries") if isinstance(got, dict) else ("item", "items")
        entries = f"{count} {noun[0] if count == 1 else noun[1]}"
        return Problem(path, f"must have {need} {entries} (got {ctx.get('actual_length')})")
    if kind == "string_pattern_mismatch":
        return Problem(path, f"must be a name of {_NAME_RULE} (got {_show(got)})")
    if kind == "string_too_short":
        return Problem(path, "must not be empty")
    if kind == "string_too_long":
        return Problem(
            path,
            f"must be at most {ctx.get('max_length')} characters "
            f"(got {len(got) if isinstance(got, str) else '?'})",
        )
    if kind == "string_type":
        return Problem(path, f"must be a string in quotes (got {_show(got)})")
    if kind in _TABLE_ERRORS:
        return Problem(path, f"must be a table of keys (got {_show(got)})")
    if kind in ("list_type", "tuple_type"):
        return Problem(path, f"must be an array [...] (got {_show(got)})")
    if kind in _DATETIME_ERRORS:
        return Problem(
            path, f"must be a local date and time such as 2026-08-01T00:00:00 (got {_show(got)})"
        )
    message = error["msg"].replace("Input should be", "must be").replace("Value error, ", "")
    if isinstance(got, dict | list) or _show(got) in message:
        return Problem(path, message)
    return Problem(path, f"{message} (got {_show(got)})")


def _fields_at(loc: tuple[Any, ...], root: type[BaseModel] = Scenario) -> list[str]:
    """Field names of the model that the location points into, for did-you-mean hints."""
    annotation: Any = root
    for part in loc:
        annotation, _, _ = _step(annotation, part)
        if annotation is None:
            return []
    model, _ = _unwrap(annotation)
    if isinstance(model, type) and issubclass(model, BaseModel):
        return list(model.model_fields)
    return []


def did_you_mean(word: str, choices: Any) -> str:
    close = difflib.get_close_matches(word, list(choices), n=1, cutoff=0.6)
    return f" (did you mean {close[0]!r}?)" if close else ""


def unknown_name(what: str, name: object, choices: Any) -> str:
    listing = ", ".join(list(choices)[:12]) + (" ..." if len(list(choices)) > 12 else "")
    return f"no {what} named {name!r}{did_you_mean(str(name), choices)}; known: {listing}"
