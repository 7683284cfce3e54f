"""Load a scenario file: TOML syntax, schema, then cross-references, every problem in one pass."""

from __future__ import annotations

import difflib
import tomllib
from dataclasses import dataclass
from pathlib import Path
from typing import Any, get_args, get_origin

from pydantic import BaseModel, ValidationError

from twin.resources import resource_dir
from twin.scenario.schema import Scenario

SCENARIO_SUFFIX = ".toml"

_UNIT_SUFFIXES = {
    "_kw": "kW", "_mw": "MW", "_w": "W", "_kva": "kVA", "_kv": "kV", "_v": "V", "_a": "A",
    "_c": "°C", "_k": "K", "_kpa": "kPa", "_lpm": "L/min", "_lps": "L/s", "_l": "L",
    "_m3": "m³", "_m": "m", "_s": "s", "_pct": "%", "_mwh": "MWh", "_wh": "Wh",
    "_deg": "degrees", "_h": "h", "_k_per_w": "K/W", "_kw_per_k": "kW/K",
    "_w_per_s": "W/s", "_mw_per_s": "MW/s", "_kg_per_kwh": "kg/kWh", "_l_per_kwh": "L/kWh",
    "_krw_per_kwh": "KRW/kWh", "_kw_per_kw": "kW/kW", "_mva": "MVA",
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


def builtin_scenario_dir() -> Path:
    return resource_dir() / "scenarios"


def builtin_scenarios() -> dict[str, Path]:
    """Names of the scenarios shipped with twin, mapped to their files, sorted by name."""
    return {p.stem: p for p in sorted(builtin_scenario_dir().glob(f"*{SCENARIO_SUFFIX}"))}


def resolve(name_or_path: str | Path) -> Path:
    """A built-in scenario's name or a path to a TOML file."""
    text = str(name_or_path)
    builtins = builtin_scenarios()
    if text in builtins:
        return builtins[text]
    path = Path(text).expanduser()
    if path.is_file():
        return path
    looks_like_path = path.suffix or "/" in text or "\\" in text
    if looks_like_path:
        raise ScenarioError(text, [Problem("", "no such file")])
    hint = _did_you_mean(text, builtins)
    raise ScenarioError(
        text,
        [Problem("", f"not a built-in scenario{hint}; built-ins: {', '.join(builtins)}; "
                     "or give the path of a .toml file")],
    )


def load(name_or_path: str | Path) -> Scenario:
    path = resolve(name_or_path)
    try:
        text = path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        raise ScenarioError(str(path), [Problem("", f"cannot read the file: {exc}")]) from None
    return loads(text, source=str(path))


def loads(text: str, source: str = "<scenario>") -> Scenario:
    try:
        data = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        raise ScenarioError(source, [Problem("", f"TOML syntax error: {exc}")]) from None
    return from_dict(data, source)


def from_dict(data: dict[str, Any], source: str = "<scenario>") -> Scenario:
    try:
        scenario = Scenario.model_validate(data)
    except ValidationError as exc:
        raise ScenarioError(source, [_problem(e) for e in exc.errors()]) from None
    except RecursionError:
        raise ScenarioError(source, [Problem("", "the file nests too deeply")]) from None
    problems = check_references(scenario)
    if problems:
        raise ScenarioError(source, problems)
    return scenario


# --------------------------------------------------------------------------- messages


def _format_loc(loc: tuple[Any, ...]) -> str:
    out = ""
    for part in loc:
        if isinstance(part, int):
            out += f"[{part}]"
        else:
            out += f".{part}" if out else str(part)
    return out


def _unit(key: object) -> str:
    if not isinstance(key, str):
        return ""
    for suffix in sorted(_UNIT_SUFFIXES, key=len, reverse=True):
        if key.endswith(suffix):
            return _UNIT_SUFFIXES[suffix]
    return ""


def _show(value: object) -> str:
    text = repr(value)
    return text if len(text) <= 60 else text[:57] + "..."


def _problem(error: dict[str, Any]) -> Problem:
    loc = tuple(error["loc"])
    kind = error["type"]
    if kind == "extra_forbidden":
        allowed = _fields_at(loc[:-1])
        key = str(loc[-1])
        hint = _did_you_mean(key, allowed)
        listing = f"; allowed keys: {', '.join(sorted(allowed))}" if allowed else ""
        return Problem(_format_loc(loc), f"unknown key{hint}{listing}")
    message = error["msg"].replace("Input should be", "must be").replace("Value error, ", "")
    unit = _unit(next((p for p in reversed(loc) if isinstance(p, str)), None))
    if unit and kind in {"greater_than", "greater_than_equal", "less_than", "less_than_equal"}:
        message = f"{message} {unit}"
    if kind == "missing":
        message = "required key is missing"
        return Problem(_format_loc(loc), message)
    if kind == "union_tag_invalid":
        message = f"unknown kind {error['input'].get('kind')!r}; " + message.split(";", 1)[-1]
        message = message.replace("Input tag", "tag")
    got = error.get("input")
    if isinstance(got, dict | list):
        return Problem(_format_loc(loc), message)
    return Problem(_format_loc(loc), f"{message} (got {_show(got)})")


def _fields_at(loc: tuple[Any, ...]) -> list[str]:
    """Field names of the model that the location points into, for did-you-mean hints."""
    annotation: Any = Scenario
    for part in loc:
        annotation = _descend(annotation, part)
        if annotation is None:
            return []
    model = _model_of(annotation)
    return list(model.model_fields) if model else []


def _descend(annotation: Any, part: Any) -> Any:
    model = _model_of(annotation)
    if model is not None:
        if isinstance(part, str) and part in model.model_fields:
            return model.model_fields[part].annotation
        return None
    origin = get_origin(annotation)
    args = [a for a in get_args(annotation) if a is not type(None)]
    if origin in (list, tuple) and isinstance(part, int) and args:
        return args[0]
    if origin is dict and len(args) == 2:
        return args[1]
    for arg in args:  # unions: a discriminated event is located by its kind tag
        model = _model_of(arg)
        if model and "kind" in model.model_fields:
            kinds = get_args(model.model_fields["kind"].annotation)
            if part in kinds:
                return model
        inner = _descend(arg, part)
        if inner is not None:
            return inner
    return None


def _model_of(annotation: Any) -> type[BaseModel] | None:
    if isinstance(annotation, type) and issubclass(annotation, BaseModel):
        return annotation
    for arg in get_args(annotation):
        if isinstance(arg, type) and issubclass(arg, BaseModel) and get_origin(annotation) is None:
            return arg
    return None


def _did_you_mean(word: str, choices: Any) -> str:
    close = difflib.get_close_matches(word, list(choices), n=1, cutoff=0.6)
    return f" (did you mean {close[0]!r}?)" if close else ""


# --------------------------------------------------------------------------- references


def check_references(s: Scenario) -> list[Problem]:
    """Names that must exist, counts that must agree and capacities that must hold."""
    problems: list[Problem] = []
    hall_names = [h.name for h in s.halls]
    cdu_names: set[str] = set()
    row_group_names: set[str] = set()
    _unique(problems, "halls", hall_names)
    for i, hall in enumerate(s.halls):
        where = f"halls[{i}]"
        _unique(problems, f"{where}.cdus", [c.name for c in hall.cdus])
        _unique(problems, f"{where}.rows", [r.name for r in hall.rows])
        groups = {c.name: c for c in hall.cdus}
        for j, group in enumerate(hall.cdus):
            if group.type not in s.cdu_types:
                problems.append(Problem(f"{where}.cdus[{j}].type", _unknown(
                    "CDU type", group.type, s.cdu_types)))
            cdu_names.update(cdu_unit_names(group.name, group.count))
        rows_on_group: dict[str, int] = {}
        hall_load_kw = 0.0
        for j, rows in enumerate(hall.rows):
            row_where = f"{where}.rows[{j}]"
            row_group_names.add(rows.name)
            rack = s.rack_types.get(rows.rack_type)
            if rack is None:
                problems.append(Problem(f"{row_where}.rack_type", _unknown(
                    "rack type", rows.rack_type, s.rack_types)))
            else:
                hall_load_kw += rack.nameplate_kw * rows.count * rows.racks_per_row
            if rows.cdu not in groups:
                problems.append(Problem(f"{row_where}.cdu", _unknown(
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
        for name, row_count in rows_on_group.items():
            group = groups[name]
            served = sum(-(-r.count // r.rows_per_cdu) for r in hall.rows if r.cdu == name)
            if served != group.count:
                problems.append(Problem(f"{where}.cdus[{name}]", (
                    f"the rows on this group need {served} CDU(s) ({row_count} rows) "
                    f"but count is {group.count}; set count = {served}")))
        for name in groups.keys() - rows_on_group.keys():
            problems.append(Problem(f"{where}.cdus[{name}]", "serves no rows"))
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
    for where, got, want in (
        ("power.main_transformers.hv_kv", mt.hv_kv, p.utility.voltage_kv),
        ("power.distribution_transformer.hv_kv", p.distribution_transformer.hv_kv, mt.lv_kv),
        ("power.plant_transformers.hv_kv", p.plant_transformers.hv_kv, mt.lv_kv),
    ):
        if abs(got - want) > 1e-6 * want:
            problems.append(Problem(where, f"is {got:g} kV but the bus it connects to is {want:g} kV"))
    if p.plant_transformers.units - p.plant_transformers.redundancy < 1:
        problems.append(Problem("power.plant_transformers.redundancy",
                                "leaves no working transformer"))

    for i, w in enumerate(s.workloads):
        for j, hall in enumerate(w.halls):
            if hall not in hall_names:
                problems.append(Problem(f"workloads[{i}].halls[{j}]",
                                        _unknown("hall", hall, hall_names)))
        for j, group in enumerate(w.row_groups):
            if group not in row_group_names:
                problems.append(Problem(f"workloads[{i}].row_groups[{j}]",
                                        _unknown("row group", group, row_group_names)))
    _unique(problems, "workloads", [w.name for w in s.workloads])
    _unique(problems, "workcells", [c.name for c in s.workcells])
    for i, cell in enumerate(s.workcells):
        if cell.hall is not None and cell.hall not in hall_names:
            problems.append(Problem(f"workcells[{i}].hall", _unknown("hall", cell.hall,
                                                                       hall_names)))
        for j, group in enumerate(cell.served_by):
            if group not in row_group_names:
                problems.append(Problem(f"workcells[{i}].served_by[{j}]",
                                        _unknown("row group", group, row_group_names)))
        for j, robot in enumerate(cell.robots):
            if robot.idle_power_w > robot.peak_power_w:
                problems.append(Problem(f"workcells[{i}].robots[{j}].idle_power_w",
                                        "must not exceed peak_power_w"))
    for i, event in enumerate(s.events):
        target = getattr(event, "target", None)
        if event.kind in ("pump-trip", "pump-restore", "cdu-loss", "cdu-restore"):
            if target not in cdu_names:
                problems.append(Problem(f"events[{i}].target",
                                        _unknown("CDU", target, sorted(cdu_names))))
        elif event.kind == "power-cap" and target is not None and target not in hall_names:
            problems.append(Problem(f"events[{i}].target", _unknown("hall", target, hall_names)))
    return problems


# Apparent to real power of modern IT loads with active PFC power supplies.
_POWER_FACTOR = 0.95


def cdu_unit_names(group: str, count: int) -> list[str]:
    """Names of the CDUs a group expands to: ``H1-CDU`` x 3 gives ``H1-CDU-01`` .. ``-03``."""
    if count == 1:
        return [group]
    width = max(2, len(str(count)))
    return [f"{group}-{k:0{width}d}" for k in range(1, count + 1)]


def it_nameplate_kw(s: Scenario) -> float:
    total = 0.0
    for hall in s.halls:
        for rows in hall.rows:
            rack = s.rack_types.get(rows.rack_type)
            if rack is not None:
                total += rack.nameplate_kw * rows.count * rows.racks_per_row
    return total


def _unknown(what: str, name: object, choices: Any) -> str:
    listing = ", ".join(list(choices)[:12]) + (" ..." if len(list(choices)) > 12 else "")
    return f"no {what} named {name!r}{_did_you_mean(str(name), choices)}; known: {listing}"


def _unique(problems: list[Problem], where: str, names: list[str]) -> None:
    seen: set[str] = set()
    for name in names:
        if name in seen:
            problems.append(Problem(where, f"the name {name!r} is used twice"))
        seen.add(name)
