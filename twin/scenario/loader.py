"""Load a scenario file: TOML syntax, schema, then cross-references, every problem in one pass."""

from __future__ import annotations

import difflib
import json
import re
import tomllib
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from types import UnionType
from typing import Annotated, Any, Union, get_args, get_origin

from pydantic import BaseModel, ValidationError
from pydantic.fields import FieldInfo

from twin import inputs
from twin.resources import resource_dir
from twin.scenario.names import cdu_unit_names, rack_names
from twin.scenario.schema import (
    CDU_EVENT_KINDS,
    CONSISTENCY_ERROR,
    CONVEYOR_END_GAP_M,
    ROBOT_MODELS,
    WORKCELL_SIZE_M,
    ChillerTrip,
    DemandResponse,
    DryCoolerFailure,
    Event,
    GeneratorFailure,
    HallElectricalFailure,
    Scenario,
    UtilityOutage,
    Workcell,
)

SCENARIO_SUFFIX = ".toml"
MAX_FILE_BYTES = 16 * inputs.MIB  # a scenario or story; the largest built-in is a few kB

_UNIT_SUFFIXES = {
    "_kw": "kW", "_mw": "MW", "_w": "W", "_kva": "kVA", "_kv": "kV", "_v": "V", "_a": "A",
    "_c": "°C", "_k": "K", "_kpa": "kPa", "_lpm": "L/min", "_lps": "L/s", "_l": "L",
    "_m3": "m³", "_m": "m", "_s": "s", "_pct": "%", "_mwh": "MWh", "_wh": "Wh",
    "_deg": "degrees", "_h": "h", "_k_per_w": "K/W", "_kw_per_k": "kW/K",
    "_w_per_s": "W/s", "_mw_per_s": "MW/s", "_kg_per_kwh": "kg/kWh", "_l_per_kwh": "L/kWh",
    "_krw_per_kwh": "KRW/kWh", "_kw_per_kw": "kW/kW", "_mva": "MVA", "_krw_per_kw": "KRW/kW",
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
_CHILLER_CURVES = ("chillers follow the DOE-2 part-load and lift curves; set "
                   "heat_rejection.chillers.reference_cop (and curves) instead")
REMOVED_KEYS = {
    "heat_rejection.chillers.carnot_fraction": _CHILLER_CURVES,
    "heat_rejection.chillers.condenser_approach_k": _CHILLER_CURVES,
    "heat_rejection.chillers.evaporator_approach_k": _CHILLER_CURVES,
}


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
    if path.is_dir():
        raise ScenarioError(text, [Problem("", f"is a folder; give a {kind} .toml file")])
    if path.exists():
        return path  # read_text says what is wrong with a path that is not a regular file
    looks_like_path = path.suffix or "/" in text or "\\" in text
    if looks_like_path:
        raise ScenarioError(text, [Problem("", "no such file")])
    hint = did_you_mean(text, builtins)
    raise ScenarioError(
        text,
        [Problem("", f"not a built-in {kind}{hint}; built-ins: {', '.join(builtins)}; "
                     "or give the path of a .toml file")],
    )


def load(name_or_path: str | Path) -> Scenario:
    """A scenario from its built-in name or its file; the files it names (the weather
    CSV) are taken relative to the scenario file's folder."""
    path = resolve(name_or_path)
    return with_files_beside(loads(read_text(path), source=str(path)), path.parent)


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


def loads(text: str, source: str = "<scenario>") -> Scenario:
    return from_dict(parse_toml(text, source), source)


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
        f" ({hint})" if hint else "")


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


# --------------------------------------------------------------------------- messages


def validation_problems(exc: ValidationError, root: type[BaseModel] = Scenario) -> list[Problem]:
    """Every error pydantic found validating ``root`` (a scenario, or another file's model
    built the same way, such as a kiosk story), worded as scenario problems are."""
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


def _range_text(bounds: dict[str, float], unit: str) -> str:
    """``from 0 to 1``, ``above 0 and at most 5000 W``, ``at least 0 s``."""
    u = f" {unit}" if unit else ""
    low = (f"above {_number(bounds['gt'])}" if "gt" in bounds
           else f"at least {_number(bounds['ge'])}" if "ge" in bounds else "")
    high = (f"below {_number(bounds['lt'])}" if "lt" in bounds
            else f"at most {_number(bounds['le'])}" if "le" in bounds else "")
    if "ge" in bounds and "le" in bounds:
        return f"from {_number(bounds['ge'])} to {_number(bounds['le'])}{u}"
    if low and high:
        return f"{low} and {high}{u}"
    return f"{low or high}{u}" if low or high else ""


_NUMBER_ERRORS = {
    "int_type", "int_parsing", "int_from_float", "int_parsing_size",
    "float_type", "float_parsing", "finite_number",
}
_BOUND_ERRORS = {"greater_than", "greater_than_equal", "less_than", "less_than_equal"}
_TABLE_ERRORS = {"dict_type", "model_type", "model_attributes_type"}
_DATETIME_ERRORS = {"datetime_type", "datetime_parsing", "datetime_from_date_parsing",
                    "datetime_object_invalid", "date_from_datetime_parsing"}
_NAME_RULE = ("letters, digits, '_', '.' and '-', starting with a letter or digit, "
              "at most 64 characters")


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
    allowed = _range_text(spot.bounds, unit)
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
        adjective = ("whole " if kind.startswith("int")
                     else "finite " if kind == "finite_number" else "")
        expected = f" {allowed}" if allowed else f" in {unit}" if unit else ""
        return Problem(path, f"must be a {adjective}number{expected} (got {_show(got)})")
    if kind in ("bool_type", "bool_parsing"):
        return Problem(path, f"must be true or false (got {_show(got)})")
    if kind == "literal_error":
        return Problem(path, f"must be {ctx.get('expected', 'one of the allowed values')} "
                             f"(got {_show(got)})")
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
        return Problem(path, f"must be at most {ctx.get('max_length')} characters "
                             f"(got {len(got) if isinstance(got, str) else '?'})")
    if kind == "string_type":
        return Problem(path, f"must be a string in quotes (got {_show(got)})")
    if kind in _TABLE_ERRORS:
        return Problem(path, f"must be a table of keys (got {_show(got)})")
    if kind in ("list_type", "tuple_type"):
        return Problem(path, f"must be an array [...] (got {_show(got)})")
    if kind in _DATETIME_ERRORS:
        return Problem(path, "must be a local date and time such as 2026-08-01T00:00:00 "
                             f"(got {_show(got)})")
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


# --------------------------------------------------------------------------- references


def check_references(s: Scenario) -> list[Problem]:
    """Names that must exist, counts that must agree and capacities that must hold."""
    problems: list[Problem] = []
    hall_names = [h.name for h in s.halls]
    cdu_names: set[str] = set()
    row_group_names: set[str] = set()
    _unique(problems, [(f"halls[{i}].name", h.name) for i, h in enumerate(s.halls)])
    # Row groups and CDUs are named site-wide (workloads, workcells and events use the names).
    _unique(problems, [(f"halls[{i}].rows[{j}].name", r.name)
                       for i, h in enumerate(s.halls) for j, r in enumerate(h.rows)])
    _unique(problems, [(f"halls[{i}].cdus[{j}].name", unit)
                       for i, h in enumerate(s.halls) for j, c in enumerate(h.cdus)
                       for unit in dict.fromkeys([c.name, *cdu_unit_names(c.name, c.count)])],
            what="CDU name")
    for i, hall in enumerate(s.halls):
        where = f"halls[{i}]"
        groups = {c.name: c for c in hall.cdus}
        for j, group in enumerate(hall.cdus):
            if group.type not in s.cdu_types:
                problems.append(Problem(f"{where}.cdus[{j}].type", unknown_name(
                    "CDU type", group.type, s.cdu_types)))
            cdu_names.update(cdu_unit_names(group.name, group.count))
        rows_on_group: dict[str, int] = {}
        hall_load_kw = 0.0
        for j, rows in enumerate(hall.rows):
            row_where = f"{where}.rows[{j}]"
            row_group_names.add(rows.name)
            rack = s.rack_types.get(rows.rack_type)
            if rack is None:
                problems.append(Problem(f"{row_where}.rack_type", unknown_name(
                    "rack type", rows.rack_type, s.rack_types)))
            else:
                hall_load_kw += rack.nameplate_kw * rows.count * rows.racks_per_row
            if rows.cdu not in groups:
                problems.append(Problem(f"{row_where}.cdu", unknown_name(
                    f"CDU group in hall {hall.name!r}", rows.cdu, groups)))
                continue
            rows_on_group[rows.cdu] = rows_on_group.get(rows.cdu, 0) + rows.count
            if rack is not None and rows.rows_per_cdu * rows.racks_per_row * rack.nameplate_kw > (
                s.cdu_types[groups[rows.cdu].type].capacity_kw * 1.0001
                if groups[rows.cdu].type in s.cdu_types else float("inf")
            ):
                problems.append(Problem(row_where, (
                    f"{rows.rows_per_cdu} row(s) of {rows.racks_per_row} racks "
                    f"({rows.rows_per_cdu * rows.racks_per_row * rack.nameplate_kw:,.0f} kW) "
                    f"exceed one {groups[rows.cdu].type} CDU "
                    f"({s.cdu_types[groups[rows.cdu].type].capacity_kw:,.0f} kW)")))
        index = {c.name: j for j, c in enumerate(hall.cdus)}
        for name, row_count in rows_on_group.items():
            group = groups[name]
            served = sum(-(-r.count // r.rows_per_cdu) for r in hall.rows if r.cdu == name)
            if served != group.count:
                problems.append(Problem(f"{where}.cdus[{index[name]}].count", (
                    f"CDU group {name!r} has count = {group.count} but its {row_count} row(s) "
                    f"need {served} CDU(s) (count of rows / rows_per_cdu); set count = {served}")))
        for name in sorted(groups.keys() - rows_on_group.keys(), key=index.__getitem__):
            problems.append(Problem(f"{where}.cdus[{index[name]}]", (
                f"CDU group {name!r} serves no rows; name it in a row group's cdu key "
                "or remove it")))
        el = hall.electrical
        spec = s.power.distribution_transformer
        usable = el.transformers - el.transformer_redundancy
        if usable < 1:
            problems.append(Problem(f"{where}.electrical.transformer_redundancy",
                                    "leaves no working transformer"))
        elif usable * spec.rating_kva * _POWER_FACTOR < hall_load_kw:
            problems.append(Problem(f"{where}.electrical.transformers", (
                f"{usable} working x {spec.rating_kva:,.0f} kVA "
                f"(N+{el.transformer_redundancy}) cannot carry the hall's "
                f"{hall_load_kw:,.0f} kW IT nameplate at power factor {_POWER_FACTOR}")))
        ups_usable = el.ups_modules - el.ups_redundancy
        if ups_usable < 1:
            problems.append(Problem(f"{where}.electrical.ups_redundancy",
                                    "leaves no working UPS module"))
        elif ups_usable * s.power.ups.module_rating_kw < hall_load_kw:
            problems.append(Problem(f"{where}.electrical.ups_modules", (
                f"{ups_usable} working x {s.power.ups.module_rating_kw:,.0f} kW "
                f"(N+{el.ups_redundancy}) cannot carry the hall's {hall_load_kw:,.0f} kW")))

    site_it_kw = it_nameplate_kw(s)
    mt = s.power.main_transformers
    usable = mt.units - mt.redundancy
    if usable < 1:
        problems.append(Problem("power.main_transformers.redundancy",
                                "leaves no working transformer"))
    elif usable * mt.rating_kva * _POWER_FACTOR < site_it_kw:
        problems.append(Problem("power.main_transformers.units", (
            f"{usable} working x {mt.rating_kva:,.0f} kVA (N+{mt.redundancy}) cannot carry "
            f"the site's {site_it_kw:,.0f} kW IT nameplate")))
    p = s.power
    for where, got, want, bus in (
        ("power.main_transformers.hv_kv", mt.hv_kv, p.utility.voltage_kv,
         "the utility feed (power.utility.voltage_kv)"),
        ("power.distribution_transformer.hv_kv", p.distribution_transformer.hv_kv, mt.lv_kv,
         "the main transformers' LV side (power.main_transformers.lv_kv)"),
        ("power.plant_transformers.hv_kv", p.plant_transformers.hv_kv, mt.lv_kv,
         "the main transformers' LV side (power.main_transformers.lv_kv)"),
    ):
        if abs(got - want) > 1e-6 * want:
            problems.append(Problem(where, (
                f"{got:g} kV does not match {bus}, {want:g} kV; the voltages must agree")))
    if p.plant_transformers.units - p.plant_transformers.redundancy < 1:
        problems.append(Problem("power.plant_transformers.redundancy",
                                "leaves no working transformer"))

    for i, w in enumerate(s.workloads):
        for j, hall_name in enumerate(w.halls):
            if hall_name not in hall_names:
                problems.append(Problem(f"workloads[{i}].halls[{j}]",
                                        unknown_name("hall", hall_name, hall_names)))
        for j, group_name in enumerate(w.row_groups):
            if group_name not in row_group_names:
                problems.append(Problem(f"workloads[{i}].row_groups[{j}]",
                                        unknown_name("row group", group_name, row_group_names)))
    _unique(problems, [(f"workloads[{i}].name", w.name) for i, w in enumerate(s.workloads)])
    _unique(problems, [(f"workcells[{i}].name", c.name) for i, c in enumerate(s.workcells)])
    for i, cell in enumerate(s.workcells):
        _unique(problems, [(f"workcells[{i}].robots[{j}].name", r.name)
                           for j, r in enumerate(cell.robots)])
    for i, cell in enumerate(s.workcells):
        if cell.hall is not None and cell.hall not in hall_names:
            problems.append(Problem(f"workcells[{i}].hall", unknown_name("hall", cell.hall,
                                                                       hall_names)))
        for j, group_name in enumerate(cell.served_by):
            if group_name not in row_group_names:
                problems.append(Problem(f"workcells[{i}].served_by[{j}]",
                                        unknown_name("row group", group_name, row_group_names)))
        for j, robot in enumerate(cell.robots):
            if robot.idle_power_w > robot.peak_power_w:
                problems.append(Problem(f"workcells[{i}].robots[{j}].idle_power_w",
                                        "must not exceed peak_power_w"))
            allowed = ROBOT_MODELS[cell.kind]
            if robot.model not in allowed:
                home = next(kind for kind, models in ROBOT_MODELS.items()
                            if robot.model in models)
                problems.append(Problem(f"workcells[{i}].robots[{j}].model", (
                    f"{cell.kind} cells hold {' or '.join(map(repr, allowed))} robots; "
                    f"{robot.model!r} robots work in {home} cells")))
        problems += _workcell_kind_problems(i, cell, hall_names)
    service_halls: dict[str, int] = {}
    for i, cell in enumerate(s.workcells):
        if cell.kind != "service" or cell.hall is None:
            continue
        if cell.hall in service_halls:
            problems.append(Problem(f"workcells[{i}].hall", (
                f"hall {cell.hall!r} already has its service cell at "
                f"workcells[{service_halls[cell.hall]}]; one fleet serves a hall")))
        else:
            service_halls[cell.hall] = i
    # rack names are spelled out from the site, which must be sound for that
    problems += event_problems(s, s.events, racks_known=not problems)
    return problems


def event_target_names(s: Scenario, kind: str, racks_known: bool = True
                       ) -> dict[str, tuple[str, list[str]]]:
    """What the name-valued fields of an event of ``kind`` may name on this site: per
    field, what a name stands for and the names there are (``{"target": ("CDU",
    [...])}`` for a pump trip); empty for kinds that name nothing. ``racks_known``: the
    site is sound enough to name its racks."""
    halls = [h.name for h in s.halls]
    if kind in CDU_EVENT_KINDS:
        return {"target": ("CDU", [unit for h in s.halls for c in h.cdus
                                   for unit in cdu_unit_names(c.name, c.count)])}
    if kind in ("power-cap", "transformer-fail", "transformer-restore", "ups-fail",
                "ups-restore"):
        return {"target": ("hall", halls)}
    if kind == "workload-surge":
        return {"halls": ("hall", halls),
                "row_groups": ("row group", [r.name for h in s.halls for r in h.rows])}
    if kind in ("workcell-e-stop", "workcell-reset"):
        return {"target": ("workcell", [c.name for c in s.workcells])}
    if kind == "service-dispatch" and racks_known:
        return {"target": ("rack", rack_names(s))}
    return {}


def event_problems(s: Scenario, events: list[Event], duration_s: float | None = None,
                   where: str = "events", racks_known: bool = True) -> list[Problem]:
    """Events whose targets the site lacks, whose unit counts exceed what is installed, or
    (given the run's ``duration_s``) that fall after the run ends; the GUI and ``twin run``
    check their events here too. ``racks_known``: the site is sound enough to name its
    racks (``load`` checked it)."""
    hall_names = [h.name for h in s.halls]
    hr = s.heat_rejection
    problems: list[Problem] = []
    for i, event in enumerate(events):
        at = f"{where}[{i}]"
        kind = event.kind
        if duration_s is not None and event.at_s > duration_s:
            problems.append(Problem(f"{at}.at_s", (
                f"{event.at_s:g} s is after the run ends ({duration_s:g} s)")))
        unknown = False
        for field, (what, names) in event_target_names(s, kind, racks_known).items():
            value = getattr(event, field)
            for path, name in ([(f"{at}.{field}[{j}]", v) for j, v in enumerate(value)]
                               if isinstance(value, list) else [(f"{at}.{field}", value)]):
                if name is not None and name not in names:
                    problems.append(Problem(path, unknown_name(what, name, names)))
                    unknown = True
        if isinstance(event, DryCoolerFailure | ChillerTrip):
            installed = (hr.dry_coolers.count if isinstance(event, DryCoolerFailure)
                         else hr.chillers.count)
            if kind.endswith(("-fail", "-trip")) and event.units > installed:
                problems.append(Problem(f"{at}.units", (
                    f"{event.units} exceeds the {installed} installed")))
        elif isinstance(event, GeneratorFailure):
            if event.units > s.power.generators.units:
                problems.append(Problem(f"{at}.units", (
                    f"{event.units} exceeds the {s.power.generators.units} generator sets "
                    "installed")))
        elif isinstance(event, UtilityOutage):
            if event.generators_failing_to_start > s.power.generators.units:
                problems.append(Problem(f"{at}.generators_failing_to_start", (
                    f"{event.generators_failing_to_start} exceeds the "
                    f"{s.power.generators.units} generator sets installed")))
        elif isinstance(event, DemandResponse):
            if event.at_s <= 0:
                problems.append(Problem(f"{at}.at_s", (
                    "a demand-response curtails from the site's import baseline, which the "
                    "first step measures: schedule it after the start (e.g. '1s')")))
        elif (isinstance(event, HallElectricalFailure) and kind.endswith("-fail")
              and not unknown):
            el = s.halls[hall_names.index(event.target)].electrical
            what, installed = (("transformers", el.transformers) if kind.startswith("t")
                               else ("UPS modules", el.ups_modules))
            if event.units >= installed:
                problems.append(Problem(f"{at}.units", (
                    f"{event.units} of the hall's {installed} {what} would leave none "
                    "in service (a hall blackout is a utility-outage or cdu-loss "
                    "matter, not modelled here)")))
    return problems


def _workcell_kind_problems(i: int, cell: Workcell, hall_names: list[str]) -> list[Problem]:
    """What each kind of cell must and must not have."""
    where = f"workcells[{i}]"
    problems = []
    if cell.kind == "service":
        if len(cell.robots) > 1:
            problems.append(Problem(f"{where}.robots", (
                f"a service cell is one fleet of alike robots: give them as one entry with "
                f"a count, not {len(cell.robots)} entries")))
        if cell.hall is None:
            problems.append(Problem(f"{where}.hall", (
                "a service cell's robots work in a hall: name it "
                f"(known: {', '.join(hall_names)})")))
        if cell.served_by:
            problems.append(Problem(f"{where}.served_by", (
                "service robots are sent by the racks that trip, not paced by an AI; "
                "served_by belongs to assembly and humanoid cells")))
    elif "repair_time_s" in cell.model_fields_set:
        problems.append(Problem(f"{where}.repair_time_s",
                                f"only service cells repair racks; this is a {cell.kind} cell"))
    if cell.conveyor is not None:
        if cell.kind != "assembly":
            problems.append(Problem(f"{where}.conveyor",
                                    f"only assembly cells have a conveyor; this is a "
                                    f"{cell.kind} cell"))
        else:
            longest = WORKCELL_SIZE_M["assembly"][0] - 2 * CONVEYOR_END_GAP_M
            if cell.conveyor.length_m > longest:
                problems.append(Problem(f"{where}.conveyor.length_m", (
                    f"{cell.conveyor.length_m:g} m does not fit the assembly cell's "
                    f"{WORKCELL_SIZE_M['assembly'][0]:g} m floor; at most {longest:g} m")))
    return problems


# Apparent to real power of modern IT loads with active PFC power supplies.


_POWER_FACTOR = 0.95


def it_nameplate_kw(s: Scenario) -> float:
    total = 0.0
    for hall in s.halls:
        for rows in hall.rows:
            rack = s.rack_types.get(rows.rack_type)
            if rack is not None:
                total += rack.nameplate_kw * rows.count * rows.racks_per_row
    return total


def unknown_name(what: str, name: object, choices: Any) -> str:
    listing = ", ".join(list(choices)[:12]) + (" ..." if len(list(choices)) > 12 else "")
    return f"no {what} named {name!r}{did_you_mean(str(name), choices)}; known: {listing}"


def _unique(problems: list[Problem], named: list[tuple[str, str]], what: str = "name") -> None:
    """Report every (path, name) whose name was already used at an earlier path."""
    first: dict[str, str] = {}
    reported: set[str] = set()
    for where, name in named:
        if name in first:
            if first[name] != where and where not in reported:
                reported.add(where)
                problems.append(Problem(where, (
                    f"the {what} {name!r} is already used at {first[name]}; names must be unique")))
        else:
            first[name] = where
