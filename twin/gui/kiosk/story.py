"""Kiosk stories: the TOML script of a trade-show tour, validated as scenarios are.

A story is a loop of steps. Each step flies the camera to a saved viewpoint, shows a
caption (and optionally a callout next to one object), sets the simulation's speed and
step and fires scenario events into the running simulation at simulated times. A step
ends when the simulation reaches what its ``until`` names (a time of day, a simulated
span, an event that has taken effect and a span after it), or at its wall-clock cap
``max_s`` if the machine cannot keep up; a step without ``until`` lasts ``hold_s``
wall-clock seconds. What a step's caption claims is stated in ``expect`` (a KPI, a
direction and an amount, from the step's start to its end), which the show measures.

Problems are reported by the scenario loader's machinery (``ScenarioError``): file, key
path, bad value and what is allowed, did-you-mean for unknown keys, every problem in one
pass. No Qt here.
"""

from __future__ import annotations

import math
from collections.abc import Collection
from dataclasses import dataclass
from datetime import datetime, time, timedelta
from pathlib import Path
from typing import Annotated, Any, Literal

from pydantic import BeforeValidator, Field, ValidationError, model_validator

from twin.resources import resource_dir
from twin.scenario import Scenario
from twin.scenario.files import builtin_scenarios, parse_toml, read_text, resolve_named_file
from twin.scenario.problems import (
    Problem,
    ScenarioError,
    did_you_mean,
    unknown_name,
    validation_problems,
)
from twin.scenario.references import event_problems
from twin.scenario.schema import Duration, Event, Name, Strict
from twin.sim import DT_RANGE_S
from twin.sim.snapshot import SITE_NAMES
from twin.sim.topology import Topology

STORY_SUFFIX = ".toml"
DEFAULT_STORY = "ai-factory-tour"
MAX_SPEED = 3600.0  # the window's fastest real-time factor; faster is "max"
# callout targets that name one object of their kind; the others are kind:name
SITE_OBJECTS = ("dry-coolers", "chillers", "transformer", "bess", "generator")
NAMED_OBJECTS = ("rack", "cdu", "hall", "workcell")
DEFAULT_MAX_S = 60.0  # a step's wall-clock cap where the story gives none


def _speed(value: object) -> object:
    """``"max"`` is as fast as the simulation can go (None, as the runner takes it)."""
    if value == "max":
        return None
    if isinstance(value, str | bool):
        raise ValueError('a speed is a real-time factor such as 600, or "max"')
    return value


Speed = Annotated[Annotated[float, Field(gt=0, le=MAX_SPEED)] | None, BeforeValidator(_speed)]
"""Simulated seconds per wall-clock second, or None: as fast as possible."""


def _time_of_day(value: object) -> object:
    """``"18:30"`` (or a TOML local time such as 18:30:00): a time of day at the site."""
    if isinstance(value, time):
        return value
    if isinstance(value, str):
        try:
            return time.fromisoformat(value)
        except ValueError:
            pass
    raise ValueError('a simulated time of day such as "18:30"')


TimeOfDay = Annotated[time, BeforeValidator(_time_of_day)]


class Until(Strict):
    """What ends a step, in simulated time: exactly one of ``clock``, ``after_s`` alone,
    or ``event`` (with ``after_s`` counted from when that event took effect)."""

    clock: TimeOfDay | None = Field(
        None,
        description=(
            'the site\'s local time of day the simulation reaches, e.g. "18:30" (its next '
            "occurrence from the step's start)"
        ),
    )
    event: str | None = Field(
        None,
        min_length=1,
        description="the kind of one of the step's events, e.g. pump-trip: once it (every "
        "event of that kind the step fires) has taken effect in the simulation",
    )
    after_s: Duration | None = Field(
        None,
        description=(
            "simulated seconds after the step's start, or after ``event`` has taken effect "
            "(default 0 there)"
        ),
    )


def _one_or_many(value: object) -> object:
    return [value] if isinstance(value, dict) else value


class Expectation(Strict):
    """What a step's caption claims, as the show measures it: ``kpi`` changes in
    ``direction`` by at least ``at_least`` (in the KPI's own unit) or ``at_least_pct`` (of
    its value at the step's start), from the step's start to its end."""

    kpi: str = Field(
        min_length=1,
        description="a site figure of the snapshots, e.g. tokens_per_s or grid_import_kw",
    )
    direction: Literal["rise", "fall"]
    at_least: float | None = Field(None, gt=0, description="in the KPI's unit, e.g. kW")
    at_least_pct: float | None = Field(None, gt=0, le=1000)

    def text(self) -> str:
        """``tokens_per_s falls at least 10 %``"""
        verb = "rises" if self.direction == "rise" else "falls"
        amount = (
            f"{self.at_least_pct:g} %" if self.at_least_pct is not None else f"{self.at_least:g}"
        )
        return f"{self.kpi} {verb} at least {amount}"

    def change(self, start: float, end: float) -> float:
        """The change in this expectation's direction and terms: % of ``start`` or the
        KPI's unit; positive when the KPI moved the expected way."""
        moved = end - start if self.direction == "rise" else start - end
        if self.at_least_pct is None:
            return moved
        return 100.0 * moved / abs(start) if start else (math.inf if moved > 0 else 0.0)

    def shown(self, start: float, end: float) -> bool:
        needed = self.at_least_pct if self.at_least_pct is not None else self.at_least
        assert needed is not None  # the loader requires one of the two
        return math.isfinite(start) and math.isfinite(end) and self.change(start, end) >= needed


class StoryInfo(Strict):
    name: Name
    title: str = Field(min_length=1, max_length=120)
    scenario: str = Field(
        "seoul-ai-factory",
        min_length=1,
        description=(
            "the scenario the story is written for: a built-in name, or a path relative to "
            "the story file"
        ),
    )
    start: datetime | None = Field(
        None,
        description=(
            "replaces the scenario's start: the local date and time at the site when each loop "
            "begins, e.g. 2026-08-01T05:30:00 for a tour that opens with the morning"
        ),
    )
    idle_return_s: Duration = Field(
        60.0,
        ge=1,
        le=3600,
        description=("wall-clock seconds without input before the tour takes over again"),
    )
    cursor_hide_s: Duration = Field(
        3.0,
        ge=0.5,
        le=600,
        description=("wall-clock seconds without mouse movement before the cursor is hidden"),
    )


class Callout(Strict):
    target: str = Field(
        min_length=1,
        description=(
            "kind:name (rack:H2-R05-07, cdu:H2-CDU-05, hall:hall-1, workcell:assembly-1) or "
            "one of the site's plant objects (chillers, dry-coolers, transformer, bess, "
            "generator)"
        ),
    )
    text: str = Field(min_length=1, max_length=120)


class Step(Strict):
    name: Name
    until: Until | None = Field(
        None, description="what ends the step, in simulated time (or hold_s: wall-clock)"
    )
    max_s: Duration = Field(
        DEFAULT_MAX_S,
        ge=1,
        le=600,
        description=(
            "wall-clock cap of a step with until: it ends then even where the simulation "
            "has not got there (a slow machine never stalls the tour)"
        ),
    )
    hold_s: Duration | None = Field(
        None, ge=1, le=600, description="wall-clock seconds on screen, for a step without until"
    )
    dt_s: Duration = Field(
        1.0,
        ge=DT_RANGE_S[0],
        le=DT_RANGE_S[1],
        description="the simulation's step while the step plays: coarser for time-lapses",
    )
    expect: Annotated[list[Expectation], BeforeValidator(_one_or_many)] = Field(
        default_factory=list,
        description="what the caption claims, measured from the step's start to its end",
    )
    view: str = Field(
        min_length=1,
        description="a saved viewpoint: site, a hall's name, yard, substation or workcell:NAME",
    )
    flight_s: float = Field(3.0, ge=0, le=30, description="camera flight to the view")
    orbit_deg_per_s: float = Field(
        0.0, ge=-30, le=30, description=("slow turn about the view's centre while the step holds")
    )
    speed: Speed
    caption: str = Field("", max_length=240)
    callout: Callout | None = None
    color: str | None = Field(None, description="rack colour field, e.g. gpu_temp or power")
    chart: Literal["tokens", "power"] | None = Field(
        None,
        description=(
            "the step's evidence as a small live chart from the step's start: tokens per "
            "second, or grid import against IT power"
        ),
    )
    reset_racks: bool = Field(False, description="bring tripped racks back as the step starts")
    events: list[Event] = Field(
        default_factory=list,
        description=(
            "scenario events; at_s is simulated seconds after the step starts (default 0)"
        ),
    )

    @property
    def wall_limit_s(self) -> float:
        """The most wall-clock time the step lasts: hold_s, or its cap max_s."""
        return self.hold_s if self.hold_s is not None else self.max_s

    @model_validator(mode="before")
    @classmethod
    def _events_fire_as_the_step_starts(cls, data: Any) -> Any:
        if not isinstance(data, dict) or not isinstance(data.get("events"), list):
            return data
        events = [{"at_s": 0.0, **e} if isinstance(e, dict) else e for e in data["events"]]
        return {**data, "events": events}


class Story(Strict):
    story: StoryInfo
    steps: list[Step] = Field(min_length=1, max_length=500)


# --------------------------------------------------------------------------- files


def builtin_story_dir() -> Path:
    return resource_dir() / "stories"


def builtin_stories() -> dict[str, Path]:
    """Names of the stories shipped with twin, mapped to their files, sorted by name."""
    return {p.stem: p for p in sorted(builtin_story_dir().glob(f"*{STORY_SUFFIX}"))}


def resolve_story(name_or_path: str | Path) -> Path:
    """A built-in story's name or a path to a TOML file."""
    return resolve_named_file(name_or_path, builtin_stories(), "story")


def load_story(name_or_path: str | Path) -> Story:
    path = resolve_story(name_or_path)
    return loads_story(read_text(path), source=str(path))


def loads_story(text: str, source: str = "<story>") -> Story:
    data = parse_toml(text, source)
    try:
        story = Story.model_validate(data)
    except ValidationError as exc:
        raise ScenarioError(source, validation_problems(exc, Story)) from None
    except RecursionError:
        raise ScenarioError(source, [Problem("", "the file nests too deeply")]) from None
    problems = _timing_problems(story)
    if problems:
        raise ScenarioError(source, problems)
    return story


def staged(story: Story, scenario: Scenario) -> Scenario:
    """The scenario as the story plays it: from the story's start, if it names one, and
    without the scenario's own scheduled events (the story is the script)."""
    info = scenario.scenario
    if story.story.start is not None:
        info = info.model_copy(update={"start": story.story.start})
    return scenario.model_copy(update={"scenario": info, "events": []})


def story_scenario(story: Story, story_path: Path) -> str:
    """The scenario a story names: a built-in name, else a path beside the story file."""
    name = story.story.scenario
    if name in builtin_scenarios():
        return name
    path = Path(name).expanduser()
    return str(path if path.is_absolute() else story_path.parent / path)


def _timing_problems(story: Story) -> list[Problem]:
    problems = []
    seen: dict[str, int] = {}
    for i, step in enumerate(story.steps):
        where = f"steps[{i}]"
        if step.name in seen:
            problems.append(
                Problem(
                    f"{where}.name",
                    (
                        f"the name {step.name!r} is already used at steps[{seen[step.name]}]; "
                        "names must be unique"
                    ),
                )
            )
        seen.setdefault(step.name, i)
        problems += _ending_problems(step, where, "max_s" in step.model_fields_set)
        limit = "hold_s" if step.until is None else "max_s"
        if step.flight_s > step.wall_limit_s:
            problems.append(
                Problem(
                    f"{where}.flight_s",
                    (
                        f"{step.flight_s:g} s is longer than the step's {limit} "
                        f"({step.wall_limit_s:g} s)"
                    ),
                )
            )
        problems += _event_time_problems(step, where)
        for j, expectation in enumerate(step.expect):
            at = f"{where}.expect[{j}]"
            if expectation.kpi not in SITE_NAMES:
                problems.append(
                    Problem(f"{at}.kpi", unknown_name("site figure", expectation.kpi, SITE_NAMES))
                )
            if (expectation.at_least is None) == (expectation.at_least_pct is None):
                problems.append(
                    Problem(
                        at,
                        "give the amount as one of at_least (in the KPI's unit) or "
                        "at_least_pct (% of its value at the step's start)",
                    )
                )
    return problems


def _ending_problems(step: Step, where: str, capped: bool) -> list[Problem]:
    """A step ends on ``until`` (simulated) or after ``hold_s`` (wall-clock): exactly one."""
    until = step.until
    if until is None:
        if step.hold_s is None:
            return [
                Problem(
                    where,
                    "the step never ends: give until (a simulated time of day, span or "
                    "event) or hold_s (wall-clock seconds)",
                )
            ]
        return (
            [Problem(f"{where}.max_s", "caps a step with until; this one lasts hold_s")]
            if capped
            else []
        )
    if step.hold_s is not None:
        return [
            Problem(
                f"{where}.hold_s",
                "a step with until ends in simulated time, capped by max_s; give one of "
                "until and hold_s",
            )
        ]
    forms = "clock, after_s, or event with an optional after_s"
    if until.clock is not None and (until.event is not None or until.after_s is not None):
        return [Problem(f"{where}.until", f"give one of {forms}")]
    if until.clock is None and until.event is None and until.after_s is None:
        return [Problem(f"{where}.until", f"names no condition; give one of {forms}")]
    kinds = [event.kind for event in step.events]
    if until.event is not None and until.event not in kinds:
        fired = ", ".join(dict.fromkeys(kinds)) or "none"
        return [
            Problem(
                f"{where}.until.event",
                f"the step fires no {until.event!r} event{did_you_mean(until.event, kinds)}; "
                f"its events: {fired}",
            )
        ]
    return []


def _event_time_problems(step: Step, where: str) -> list[Problem]:
    """Events the step would end before firing: a simulated ``at_s`` past the step's
    simulated span (``until.after_s``, or ``hold_s`` at the step's speed)."""
    if step.until is not None and step.until.event is None and step.until.after_s is not None:
        span_s, what = step.until.after_s, f"until.after_s ({step.until.after_s:g} s)"
    elif step.until is None and step.hold_s is not None and step.speed is not None:
        span_s = step.hold_s * step.speed
        what = f"hold_s at its speed ({step.hold_s:g} s x {step.speed:g} = {span_s:g} s)"
    else:
        return []
    return [
        Problem(
            f"{where}.events[{j}].at_s",
            (
                f"{event.at_s:g} simulated s is not within the step's {what}: the event "
                "would never fire"
            ),
        )
        for j, event in enumerate(step.events)
        if event.at_s >= span_s
    ]


@dataclass(frozen=True, slots=True)
class PlannedStep:
    """Where a step falls in a loop where the machine keeps up with its speed: simulated
    seconds from the loop's start at its start and end, and its wall-clock length (None
    at speed "max", which depends on the machine)."""

    step: Step
    start_s: float
    end_s: float
    wall_s: float | None


def plan(story: Story, start: datetime) -> list[PlannedStep]:
    """Each step's simulated start and end and its wall-clock length, on a machine that
    keeps up with the speeds asked for (events are taken to fire on time). A step with
    ``hold_s`` covers ``hold_s x speed``; at speed "max" it is counted as covering nothing."""
    planned = []
    now_s = 0.0
    for step in story.steps:
        until = step.until
        if until is None:
            hold_s = step.hold_s or 0.0
            span_s = 0.0 if step.speed is None else hold_s * step.speed
            wall_s: float | None = hold_s
        else:
            if until.clock is not None:
                at = start + timedelta(seconds=now_s)
                target = datetime.combine(at.date(), until.clock)
                if target < at:
                    target += timedelta(days=1)
                span_s = (target - at).total_seconds()
            elif until.event is not None:
                fired = next(e for e in step.events if e.kind == until.event)
                span_s = fired.at_s + (until.after_s or 0.0)
            else:
                span_s = until.after_s or 0.0
            wall_s = None if step.speed is None else min(span_s / step.speed, step.max_s)
        planned.append(PlannedStep(step, now_s, now_s + span_s, wall_s))
        now_s += span_s
    return planned


# --------------------------------------------------------------------------- the scenario


def callout_target(target: str, scenario: Scenario, topology: Topology) -> tuple[str, int]:
    """The object a callout points at, as (kind, index); ValueError says why not."""
    if target in SITE_OBJECTS:
        return target, 0
    kind, _, name = target.partition(":")
    names: dict[str, list[str]] = {
        "rack": [topology.rack_name(i) for i in range(topology.rack_count)],
        "cdu": list(topology.cdu_names),
        "hall": list(topology.hall_names),
        "workcell": [cell.name for cell in scenario.workcells],
    }
    if kind not in names or not name:
        forms = [f"{k}:NAME" for k in NAMED_OBJECTS] + list(SITE_OBJECTS)
        raise ValueError(
            f"{target!r} names no object{did_you_mean(target, forms)}; write {', '.join(forms)}"
        )
    if name not in names[kind]:
        raise ValueError(unknown_name(kind, name, names[kind]))
    return kind, names[kind].index(name)


def check_story(
    story: Story,
    source: str,
    scenario: Scenario,
    topology: Topology,
    viewpoints: Collection[str],
    color_fields: Collection[str],
) -> None:
    """Raise a ScenarioError listing every step that names what ``scenario`` lacks: a
    viewpoint, a callout's object, a rack colour field, an event's target."""
    problems = []
    for i, step in enumerate(story.steps):
        where = f"steps[{i}]"
        if step.view not in viewpoints:
            problems.append(
                Problem(f"{where}.view", unknown_name("viewpoint", step.view, list(viewpoints)))
            )
        if step.callout is not None:
            try:
                callout_target(step.callout.target, scenario, topology)
            except ValueError as exc:
                problems.append(Problem(f"{where}.callout.target", str(exc)))
        if step.color is not None and step.color not in color_fields:
            problems.append(
                Problem(
                    f"{where}.color", unknown_name("colour field", step.color, list(color_fields))
                )
            )
        problems += event_problems(scenario, step.events, where=f"{where}.events")
    if problems:
        raise ScenarioError(f"{source} (with scenario {scenario.scenario.name})", problems)


def texts(story: Story) -> list[str]:
    """Every caption and callout text of a story, in order, once each: what translators
    translate (in the ``story`` context)."""
    found = [step.caption for step in story.steps if step.caption]
    found += [step.callout.text for step in story.steps if step.callout is not None]
    return list(dict.fromkeys(found))
