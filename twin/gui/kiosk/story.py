"""Kiosk stories: the TOML script of a trade-show tour, validated as scenarios are.

A story is a loop of steps. Each step flies the camera to a saved viewpoint, shows a
caption (and optionally a callout next to one object), sets the simulation's speed and
fires scenario events into the running simulation. A step lasts ``hold_s`` seconds of
wall-clock time whatever the simulation's speed: that is what visitors see.

Problems are reported by the scenario loader's machinery (``ScenarioError``): file, key
path, bad value and what is allowed, did-you-mean for unknown keys, every problem in one
pass. No Qt here.
"""

from __future__ import annotations

from collections.abc import Collection
from datetime import datetime
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
from twin.sim.topology import Topology

STORY_SUFFIX = ".toml"
DEFAULT_STORY = "ai-factory-tour"
MAX_SPEED = 3600.0  # the window's fastest real-time factor; faster is "max"
# callout targets that name one object of their kind; the others are kind:name
SITE_OBJECTS = ("dry-coolers", "chillers", "transformer", "bess", "generator")
NAMED_OBJECTS = ("rack", "cdu", "hall", "workcell")


def _speed(value: object) -> object:
    """``"max"`` is as fast as the simulation can go (None, as the runner takes it)."""
    if value == "max":
        return None
    if isinstance(value, str | bool):
        raise ValueError('a speed is a real-time factor such as 600, or "max"')
    return value


Speed = Annotated[Annotated[float, Field(gt=0, le=MAX_SPEED)] | None, BeforeValidator(_speed)]
"""Simulated seconds per wall-clock second, or None: as fast as possible."""


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
    hold_s: Duration = Field(ge=1, le=600, description="wall-clock seconds on screen")
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
            "scenario events; at_s is wall-clock seconds after the step starts (default 0)"
        ),
    )

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
        if step.name in seen:
            problems.append(
                Problem(
                    f"steps[{i}].name",
                    (
                        f"the name {step.name!r} is already used at steps[{seen[step.name]}]; "
                        "names must be unique"
                    ),
                )
            )
        seen.setdefault(step.name, i)
        if step.flight_s > step.hold_s:
            problems.append(
                Problem(
                    f"steps[{i}].flight_s",
                    (f"{step.flight_s:g} s is longer than the step's hold_s ({step.hold_s:g} s)"),
                )
            )
        for j, event in enumerate(step.events):
            if event.at_s >= step.hold_s:
                problems.append(
                    Problem(
                        f"steps[{i}].events[{j}].at_s",
                        (
                            f"{event.at_s:g} s is not within the step's hold_s "
                            f"({step.hold_s:g} s): the event would never fire"
                        ),
                    )
                )
    return problems


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
