"""What the event editor asks for, read off the schema, and how its answers are checked.

``event_fields`` describes the fields of one kind of event generically from its pydantic
model (so a kind or a field added to the schema appears in the editor by itself): a time
or duration typed like ``15min``, a number with the unit its name carries and the range
the schema allows, a true/false, a choice among literals, or names of the site's objects
where the loader checks them (``event_target_names``). ``check_event`` builds the event
from what was typed and checks it as a scenario file's event is checked (the schema, then
the site), and that it lies after the simulated time now. No Qt here.

Events are stored in SI, as the schema has them. ``FieldSpec.in_units`` shows a number's
field in the display units (``twin.gui.units``): its unit, range and default there, a
value typed there taken back to SI exactly (``typed_value``), and ``shown_problems``
says a range problem there too. ``event_details`` is an event in a line, as the timeline
lists it.
"""

from __future__ import annotations

import math
import types
import typing
from dataclasses import dataclass, replace
from typing import Any, Literal, get_args, get_origin

from pydantic import BaseModel, BeforeValidator, TypeAdapter, ValidationError
from pydantic.fields import FieldInfo

from twin.gui.timeline import duration_text
from twin.gui.units import Conversion, Quantity, UnitSystem, conversion, figures_text
from twin.scenario import Scenario
from twin.scenario.problems import Problem, key_unit, unknown_name, validation_problems
from twin.scenario.references import event_problems, event_target_names
from twin.scenario.schema import Event
from twin.scenario.units import DURATION_FORMS

Widget = Literal["duration", "number", "integer", "flag", "choice", "name", "names", "text"]

_EVENT = TypeAdapter(Event)


def event_models() -> dict[str, type[BaseModel]]:
    """Every event kind of the vocabulary and the model that holds it, in schema order."""
    union: tuple[type[BaseModel], ...] = (
        get_args(get_args(Event)[0]) if get_origin(Event) is typing.Annotated else ()
    )
    return {
        kind: model for model in union for kind in get_args(model.model_fields["kind"].annotation)
    }


@dataclass(frozen=True, slots=True)
class FieldSpec:
    """One field of an event as the editor shows it."""

    name: str
    label: str  # the name without its unit: "rate" for rate_lpm
    unit: str  # "L/min"; "" for none
    widget: Widget
    required: bool
    default: Any  # what an empty entry stands for (None: the option is not set)
    choices: tuple[str, ...] = ()  # literal values, or the site's names
    noun: str = ""  # what a name stands for: "CDU", "hall"
    hint: str = ""  # the allowed range and the schema's description
    bounds: tuple[tuple[str, float], ...] = ()  # ("ge", 0.0), ("le", 1000.0): in ``unit``
    description: str = ""  # the schema's
    shown: Conversion | None = None  # from the schema's unit to ``unit``; None: the same

    def in_units(self, system: UnitSystem | str) -> FieldSpec:
        """The field as the editor shows it in ``system``: a number's unit, range and
        default converted (``shown`` set); itself where nothing changes."""
        shown = conversion(self.unit, system)
        if self.widget != "number" or shown.is_identity:
            return self
        bounds = tuple((name, shown.to_display(value)) for name, value in self.bounds)
        default = None if self.default is None else shown.to_display(self.default)
        description = self.description
        if any(ch.isdigit() for ch in description):  # its figures are the schema's
            description = f"{description} (in {self.unit})"
        return replace(
            self,
            unit=shown.unit,
            default=default,
            bounds=bounds,
            hint=_hint(dict(bounds), description),
            shown=shown,
        )


def _unwrap(annotation: Any) -> tuple[Any, bool, list[Any]]:
    """The annotation without ``| None`` and ``Annotated``, whether None is allowed, and
    the constraints it carried."""
    optional, metadata = False, []
    while True:
        if get_origin(annotation) is typing.Annotated:
            base, *extra = get_args(annotation)
            for item in extra:
                metadata.extend(item.metadata if isinstance(item, FieldInfo) else [item])
            annotation = base
        elif (
            get_origin(annotation) in (typing.Union, types.UnionType)
            and type(None) in get_args(annotation)
            and len(get_args(annotation)) == 2
        ):
            annotation = next(a for a in get_args(annotation) if a is not type(None))
            optional = True
        else:
            return annotation, optional, metadata


def _bounds(metadata: list[Any]) -> dict[str, float]:
    """The tightest of the constraints given: ``{"ge": 0, "le": 1}``."""
    found: dict[str, float] = {}
    for item in metadata:
        for name, tighter in (("ge", max), ("gt", max), ("le", min), ("lt", min)):
            value = getattr(item, name, None)
            if isinstance(value, int | float):
                found[name] = tighter(found.get(name, value), value)
    for strict, loose in (("gt", "ge"), ("lt", "le")):
        if strict in found and loose in found:
            keep_strict = (
                found[strict] >= found[loose] if strict == "gt" else found[strict] <= found[loose]
            )
            del found[loose if keep_strict else strict]
    return found


_BOUND_WORDS = {"ge": "at least", "gt": "above", "le": "at most", "lt": "below"}


def _bounds_text(bounds: dict[str, float]) -> str:
    """``0 to 1``, ``above 0``."""
    if "ge" in bounds and "le" in bounds:
        return f"{bounds['ge']:g} to {bounds['le']:g}"
    return " and ".join(f"{_BOUND_WORDS[name]} {value:g}" for name, value in bounds.items())


def _hint(bounds: dict[str, float], description: str) -> str:
    return "; ".join(part for part in (_bounds_text(bounds), description) if part)


def _range_text(bounds: dict[str, float], unit: str) -> str:
    """``from 0 to 264.172 gpm``, ``at least 0 gpm``: as the scenario's problems say it."""
    if "ge" in bounds and "le" in bounds:
        return f"from {bounds['ge']:g} to {bounds['le']:g} {unit}"
    return f"{_bounds_text(bounds)} {unit}"


def _label(name: str, unit: str) -> str:
    """The field's name without the unit it ends in: ``rate`` for ``rate_lpm``."""
    if name == "at_s":
        return "time"
    parts = name.split("_")
    for k in range(len(parts) - 1, 0, -1):
        if unit and key_unit("_" + "_".join(parts[k:])) == unit:
            return " ".join(parts[:k])
    return " ".join(parts)


def event_fields(kind: str, scenario: Scenario) -> list[FieldSpec]:
    """The fields of an event of ``kind`` (its time first, its kind left out)."""
    model = event_models()[kind]
    names = event_target_names(scenario, kind)
    specs = []
    for name, field in model.model_fields.items():
        if name == "kind":
            continue
        annotation, optional, inner = _unwrap(field.annotation)
        unit = key_unit(name)
        required = field.is_required()
        default = None if required else field.get_default(call_default_factory=True)
        bounds = _bounds([*field.metadata, *inner])
        description = field.description or ""
        hint = _hint(bounds, description)
        if name in names:
            noun, site_names = names[name]
            widget: Widget = "names" if get_origin(annotation) is list else "name"
            specs.append(
                FieldSpec(
                    name,
                    _label(name, ""),
                    "",
                    widget,
                    required,
                    default,
                    tuple(site_names),
                    noun,
                    hint,
                )
            )
            continue
        if any(isinstance(m, BeforeValidator) for m in field.metadata) and unit == "s":
            widget, hint = "duration", "; ".join(p for p in (hint, DURATION_FORMS) if p)
        elif annotation is bool:
            widget = "flag"
        elif annotation is int:
            widget = "integer"
        elif annotation is float:
            widget = "number"
        elif get_origin(annotation) is Literal:
            widget = "choice"
        elif get_origin(annotation) is list:
            widget = "names"  # names the site does not list: typed, separated by commas
        else:
            widget = "text"
        choices = tuple(str(c) for c in get_args(annotation)) if widget == "choice" else ()
        specs.append(
            FieldSpec(
                name,
                _label(name, unit),
                unit,
                widget,
                required and not optional,
                default,
                choices,
                "",
                hint,
                tuple(bounds.items()),
                description,
            )
        )
    specs.sort(key=lambda spec: spec.name != "at_s")
    return specs


def typed_value(spec: FieldSpec, text: str) -> object:
    """What an entry typed as text stands for: a number where one is meant (so that the
    schema's range is checked), in SI where the field shows another unit (the decimal
    number typed converted exactly: 64.4 °F is 18 °C), seconds for a bare number in a
    duration; anything else is handed on as typed, for the schema to name the problem."""
    text = text.strip()
    try:
        if spec.widget == "integer":
            return int(text)
        if spec.widget == "number" and spec.shown is not None:
            return spec.shown.text_to_si(text)
        if spec.widget in ("number", "duration"):
            return float(text)
    except ValueError:
        pass
    return text


def shown_number(spec: FieldSpec, si_value: float) -> str:
    """A number's value in the unit the field shows: as it is where that is the schema's
    unit, else converted to ``SHOWN_FIGURES`` significant figures (``1.321`` gpm)."""
    if spec.shown is None:
        return (
            str(int(si_value)) if si_value.is_integer() and abs(si_value) < 1e15 else repr(si_value)
        )
    return figures_text(spec.shown.to_display(si_value))


def shown_problems(
    problems: list[Problem], specs: list[FieldSpec], values: dict[str, object]
) -> list[Problem]:
    """``check_event``'s problems with a number's range said in the unit its field shows
    (``values`` as checked, in SI): the schema's problems say it in the schema's unit."""
    by_name = {spec.name: spec for spec in specs if spec.shown is not None}
    if not by_name:
        return problems
    out = []
    for problem in problems:
        spec = by_name.get(problem.path)
        message = None if spec is None else _shown_message(spec, values.get(spec.name, ...))
        out.append(problem if message is None else Problem(problem.path, message))
    return out


def _shown_message(spec: FieldSpec, value: object) -> str | None:
    """What is wrong with a converted number's ``value`` (SI; ``...`` when none was
    entered), in the field's unit; None where it is not about the number's range."""
    bounds = dict(spec.bounds)
    allowed = _range_text(bounds, spec.unit) if bounds else f"in {spec.unit}"
    if value is ...:
        return f"required key is missing; expected a number {allowed}"
    if isinstance(value, str):
        return f"must be a number {allowed} (got {value!r})"
    if not isinstance(value, float) or spec.shown is None:
        return None
    shown = spec.shown.to_display(value)
    above_low = shown > bounds["gt"] if "gt" in bounds else shown >= bounds.get("ge", -math.inf)
    below_high = shown < bounds["lt"] if "lt" in bounds else shown <= bounds.get("le", math.inf)
    if above_low and below_high:
        return None  # another rule of the schema's, said as it says it
    return f"must be {allowed} (got {figures_text(shown)} {spec.unit})"


def event_details(event: Event, system: UnitSystem | str = UnitSystem.SI) -> str:
    """The event's fields other than its kind and time in a line, numbers with their units
    in ``system`` (``target H1-CDU-03; rate 2.642 gpm``), durations as written
    (``duration 1h``)."""
    parts = []
    for name, value in event.model_dump(exclude={"kind", "at_s"}).items():
        if value in (None, [], ""):
            continue
        unit = key_unit(name)
        label = _label(name, unit)
        if isinstance(value, bool):
            parts.append(f"{label} {'true' if value else 'false'}")
        elif not isinstance(value, int | float):
            text = ", ".join(map(str, value)) if isinstance(value, list) else str(value)
            parts.append(f"{label} {text}")
        elif unit == "s":
            parts.append(f"{label} {duration_text(float(value))}")
        else:
            parts.append(f"{label} {Quantity(value, unit).text(system)}")
    return "; ".join(parts)


def check_event(
    scenario: Scenario, kind: str, values: dict[str, object], now_s: float
) -> tuple[Event | None, list[Problem]]:
    """The event ``values`` make (each field's value, left out when nothing was entered)
    and every problem with it, each under the name of its field (``target``,
    ``halls[1]``) or with an empty path: the schema's ranges and rules, the site's names
    and installed units, and a time after ``now_s``."""
    try:
        event = _EVENT.validate_python({"kind": kind, **values})
    except ValidationError as exc:
        problems = validation_problems(exc, root=Event)
        return None, problems + _unknown_names(scenario, kind, values, problems)
    prefix = "event[0]."
    problems = [
        Problem(p.path.removeprefix(prefix), p.message)
        for p in event_problems(scenario, [event], where="event")
    ]
    if event.at_s <= now_s:
        problems.insert(
            0,
            Problem(
                "at_s",
                (
                    f"{event.at_s:g} s is not after the simulated time now ({now_s:g} s); "
                    "an event can only be scheduled ahead"
                ),
            ),
        )
    return (None if problems else event), problems


def _unknown_names(
    scenario: Scenario, kind: str, values: dict[str, object], found: list[Problem]
) -> list[Problem]:
    """Names the site lacks, in fields the schema had nothing against: the site's check
    needs a valid event, and every problem is to be shown at once."""
    reported = {field_of(problem) for problem in found}
    problems = []
    for field, (what, names) in event_target_names(scenario, kind).items():
        value = values.get(field)
        if field in reported or value is None:
            continue
        for path, name in (
            [(f"{field}[{j}]", v) for j, v in enumerate(value)]
            if isinstance(value, list)
            else [(field, value)]
        ):
            if isinstance(name, str) and name not in names:
                problems.append(Problem(path, unknown_name(what, name, names)))
    return problems


def field_of(problem: Problem) -> str:
    """The field a problem is about (``halls`` for ``halls[1]``), "" for the whole event."""
    return problem.path.split(".")[0].split("[")[0]
