"""Kiosk stories: the built-in one plays on its scenario, and broken stories give the same
clear, complete reports as scenarios (file, key path, bad value, what is allowed, a
did-you-mean), from the parser and from ``twin kiosk`` (exit 2, no traceback)."""

from __future__ import annotations

import subprocess
import sys
from datetime import datetime, time, timedelta
from pathlib import Path

import pytest

from twin.cli import main
from twin.gui.kiosk.app import prepare
from twin.gui.kiosk.story import (
    DEFAULT_STORY,
    builtin_stories,
    load_story,
    loads_story,
    plan,
    resolve_story,
    staged,
    story_scenario,
)
from twin.scenario import ScenarioError, load, resolve

GOOD_STEP = """
[[steps]]
name = "one"
view = "hall-2"
hold_s = 10
speed = 600
caption = "Hello"
"""
TIMED_STEP = """
[[steps]]
name = "one"
view = "hall-2"
until = { after_s = 600 }
speed = 60
"""
HEAD = """
[story]
name = "test-story"
title = "A test"
"""


def _problems(text: str) -> list[str]:
    with pytest.raises(ScenarioError) as caught:
        loads_story(text, source="broken.toml")
    assert caught.value.source == "broken.toml"
    return [str(p) for p in caught.value.problems]


def test_the_builtin_story_plays_on_its_scenario_for_about_five_minutes() -> None:
    assert DEFAULT_STORY in builtin_stories()
    story, path, scenario, _ = prepare(None, None)
    assert path == builtin_stories()[DEFAULT_STORY]
    planned = plan(story, scenario.scenario.start)
    assert all(step.until is not None for step in story.steps)  # paced by simulated time
    assert 240 <= sum(p.wall_s or 0.0 for p in planned) <= 360
    assert all(p.wall_s is not None and p.wall_s < p.step.max_s for p in planned)
    assert scenario.scenario.name == "seoul-ai-factory"
    assert scenario.events == []  # the story is the script
    assert scenario.scenario.start == datetime(2026, 8, 1, 5, 30)
    kinds = {event.kind for step in story.steps for event in step.events}
    assert {
        "pump-trip",
        "pump-restore",
        "heatwave",
        "power-smoothing",
        "demand-response",
        "power-cap",
    } <= kinds
    assert any(step.reset_racks for step in story.steps)
    assert {step.view.partition(":")[0] for step in story.steps} >= {
        "site",
        "hall-1",
        "hall-2",
        "yard",
        "substation",
        "workcell",
    }


def test_the_builtin_storys_captions_agree_with_the_simulated_clock() -> None:
    """Where the machine keeps up: the morning in the morning, the heatwave's act over
    the afternoon, the demand response at the evening peak."""
    story, _, scenario, _ = prepare(None, None)
    start = scenario.scenario.start
    at = {
        p.step.name: (start + timedelta(seconds=p.start_s), start + timedelta(seconds=p.end_s))
        for p in plan(story, start)
    }
    assert (
        time(6) <= at["morning-inference"][0].time() < at["morning-inference"][1].time() <= time(10)
    )
    assert at["heatwave"][0].time() < time(12) and at["heatwave"][1].time() >= time(17)
    assert time(17, 30) <= at["demand-response"][0].time() <= time(19)
    claimed = {p.step.name for p in plan(story, start) if p.step.expect}
    assert {"morning-inference", "pump-trip", "heatwave", "demand-response"} <= claimed


def test_speed_max_is_as_fast_as_possible_and_events_fire_as_the_step_starts() -> None:
    story = loads_story(
        HEAD
        + GOOD_STEP.replace("speed = 600", 'speed = "max"')
        + 'events = [{ kind = "heatwave", offset_k = 5, duration_s = "2h" }]'
    )
    [step] = story.steps
    assert step.speed is None
    assert step.events[0].at_s == 0.0
    assert step.events[0].duration_s == 7200.0


BROKEN = [
    # (what to change, the problem's key path, fragments of its message)
    ((HEAD + GOOD_STEP).replace("[story]", "[story"), "", ("TOML syntax error at line 2, column",)),
    (
        HEAD.replace("[story]", "[stroy]") + GOOD_STEP,
        "stroy",
        ("unknown key", "did you mean 'story'?"),
    ),
    (
        HEAD + GOOD_STEP.replace("hold_s = 10", "hold = 10"),
        "steps[0].hold",
        ("unknown key", "did you mean 'hold_s'?", "allowed keys:"),
    ),
    (HEAD + GOOD_STEP.replace("speed = 600\n", ""), "steps[0].speed", ("required key is missing",)),
    (
        HEAD + GOOD_STEP.replace("speed = 600", 'speed = "fast"'),
        "steps[0].speed",
        ('a real-time factor such as 600, or "max"', "'fast'"),
    ),
    (
        HEAD + GOOD_STEP.replace("speed = 600", "speed = 5000"),
        "steps[0].speed",
        ("above 0 and at most 3600", "5000"),
    ),
    (
        HEAD + GOOD_STEP.replace("hold_s = 10", "hold_s = 0"),
        "steps[0].hold_s",
        ("from 1 to 600 s", "got 0"),
    ),
    (
        HEAD + GOOD_STEP.replace("hold_s = 10", 'hold_s = "ten"'),
        "steps[0].hold_s",
        ("'ten' is not a duration",),
    ),
    (
        HEAD + GOOD_STEP + "reset_racks = 'yes'",
        "steps[0].reset_racks",
        ("must be true or false", "'yes'"),
    ),
    (
        HEAD + GOOD_STEP + "flight_s = 20",
        "steps[0].flight_s",
        ("20 s is longer than the step's hold_s (10 s)",),
    ),
    (
        HEAD + GOOD_STEP + 'events = [{ kind = "pump-tirp", target = "H2-CDU-05" }]',
        "steps[0].events[0].kind",
        ("unknown kind 'pump-tirp'", "did you mean 'pump-trip'?"),
    ),
    (
        HEAD + GOOD_STEP + 'events = [{ kind = "heatwave", offset_k = 99, duration_s = "1h" }]',
        "steps[0].events[0].offset_k",
        ("from -30 to 30", "99"),
    ),
    (
        HEAD + GOOD_STEP + 'events = [{ at_s = 7000, kind = "power-smoothing", enabled = true }]',
        "steps[0].events[0].at_s",
        (
            "7000 simulated s is not within the step's hold_s at its speed (10 s x 600 = 6000 s)",
            "would never fire",
        ),
    ),
    (
        HEAD + TIMED_STEP + 'events = [{ at_s = 900, kind = "power-smoothing", enabled = true }]',
        "steps[0].events[0].at_s",
        ("900 simulated s is not within the step's until.after_s (600 s)",),
    ),
    (
        HEAD + TIMED_STEP.replace("name =", "hold_s = 10\nname ="),
        "steps[0].hold_s",
        ("a step with until ends in simulated time, capped by max_s", "one of until and hold_s"),
    ),
    (
        HEAD + GOOD_STEP.replace("hold_s = 10\n", ""),
        "steps[0]",
        ("the step never ends: give until", "or hold_s"),
    ),
    (
        HEAD + GOOD_STEP + "max_s = 20",
        "steps[0].max_s",
        ("caps a step with until; this one lasts hold_s",),
    ),
    (
        HEAD + TIMED_STEP.replace("after_s = 600", 'clock = "25:00"'),
        "steps[0].until.clock",
        ('a simulated time of day such as "18:30"', "'25:00'"),
    ),
    (
        HEAD + TIMED_STEP.replace("after_s = 600", 'clock = "18:00", after_s = 600'),
        "steps[0].until",
        ("give one of clock, after_s, or event with an optional after_s",),
    ),
    (
        HEAD + TIMED_STEP.replace("{ after_s = 600 }", "{}"),
        "steps[0].until",
        ("names no condition",),
    ),
    (
        HEAD
        + TIMED_STEP.replace("after_s = 600", 'event = "pump-trip", after_s = 60')
        + 'events = [{ kind = "pump-restore", target = "H2-CDU-05" }]',
        "steps[0].until.event",
        ("the step fires no 'pump-trip' event", "its events: pump-restore"),
    ),
    (
        HEAD + TIMED_STEP.replace("after_s = 600", "after = 600"),
        "steps[0].until.after",
        ("unknown key", "did you mean 'after_s'?"),
    ),
    (
        HEAD + TIMED_STEP + "max_s = 0",
        "steps[0].max_s",
        ("from 1 to 600 s",),
    ),
    (
        HEAD + TIMED_STEP + "dt_s = 1000",
        "steps[0].dt_s",
        ("from 0.1 to 300 s",),
    ),
    (
        HEAD + TIMED_STEP + 'expect = { kpi = "tokens", direction = "fall", at_least_pct = 10 }',
        "steps[0].expect[0].kpi",
        ("no site figure named 'tokens'", "did you mean 'tokens_per_s'?"),
    ),
    (
        HEAD + TIMED_STEP + 'expect = [{ kpi = "pue", direction = "up", at_least = 0.1 }]',
        "steps[0].expect[0].direction",
        ("must be 'rise' or 'fall'", "'up'"),
    ),
    (
        HEAD + TIMED_STEP + 'expect = [{ kpi = "pue", direction = "rise" }]',
        "steps[0].expect[0]",
        ("give the amount as one of at_least (in the KPI's unit) or at_least_pct",),
    ),
    (
        HEAD + TIMED_STEP + 'expect = [{ kpi = "pue", direction = "rise", at_least = -1 }]',
        "steps[0].expect[0].at_least",
        ("must be above 0 (got -1)",),
    ),
    (
        HEAD + TIMED_STEP + 'expect = [{ kpi = "pue", direction = "rise", by = 1 }]',
        "steps[0].expect[0].by",
        ("unknown key", "allowed keys: at_least, at_least_pct, direction, kpi"),
    ),
    (
        HEAD + GOOD_STEP + 'callout = { target = "bess" }',
        "steps[0].callout.text",
        ("required key is missing",),
    ),
    (
        HEAD + GOOD_STEP + GOOD_STEP,
        "steps[1].name",
        ("the name 'one' is already used at steps[0]",),
    ),
    ("steps = []\n" + HEAD, "steps", ("must have at least 1 item",)),
    (
        HEAD.replace('name = "test-story"', 'name = "bad name!"') + GOOD_STEP,
        "story.name",
        ("must be a name of letters, digits",),
    ),
    (
        HEAD + "start = 'tomorrow'\n" + GOOD_STEP,
        "story.start",
        ("local date and time such as 2026-08-01T00:00:00",),
    ),
    (HEAD + "idle_return_s = 0.5\n" + GOOD_STEP, "story.idle_return_s", ("from 1 to 3600 s",)),
]


@pytest.mark.parametrize(
    ("text", "path", "fragments"), BROKEN, ids=[row[1] or "syntax" for row in BROKEN]
)
def test_a_broken_story_is_reported_at_its_key(
    text: str, path: str, fragments: tuple[str, ...]
) -> None:
    problems = _problems(text)
    found = [p for p in problems if p.startswith(f"{path}: ") or (not path and ":" in p)]
    assert found, problems
    for fragment in fragments:
        assert any(fragment in p for p in found), (fragment, problems)


def test_every_problem_is_reported_in_one_pass() -> None:
    text = (
        HEAD
        + GOOD_STEP.replace("hold_s = 10", "hold_s = 0").replace("speed = 600", 'speed = "fast"')
        + "colour = 'power'"
    )
    problems = _problems(text)
    assert [p.split(":")[0] for p in problems] == [
        "steps[0].hold_s",
        "steps[0].speed",
        "steps[0].colour",
    ]
    assert "did you mean 'color'?" in problems[2]


def _story_file(tmp_path: Path, body: str) -> Path:
    path = tmp_path / "mine.toml"
    path.write_text(HEAD + 'scenario = "seoul-ai-factory"\n' + body, encoding="utf-8")
    return path


@pytest.mark.parametrize(
    ("body", "path", "fragments"),
    [
        (
            GOOD_STEP.replace('"hall-2"', '"hall-3"'),
            "steps[0].view",
            ("no viewpoint named 'hall-3'", "did you mean 'hall-2'?", "workcell:assembly-1"),
        ),
        (
            GOOD_STEP + 'callout = { target = "cdu:H2-CDU-55", text = "x" }',
            "steps[0].callout.target",
            ("no cdu named 'H2-CDU-55'", "did you mean 'H2-CDU-05'?"),
        ),
        (
            GOOD_STEP + 'callout = { target = "pump", text = "x" }',
            "steps[0].callout.target",
            ("'pump' names no object", "rack:NAME", "chillers"),
        ),
        (
            GOOD_STEP + 'color = "gpu_temperature"',
            "steps[0].color",
            ("no colour field named 'gpu_temperature'", "did you mean 'gpu_temp'?"),
        ),
        (
            GOOD_STEP + 'events = [{ kind = "pump-trip", target = "H9-CDU-01" }]',
            "steps[0].events[0].target",
            ("no CDU named 'H9-CDU-01'",),
        ),
        (
            GOOD_STEP + 'events = [{ kind = "power-cap", target = "hall-9", fraction = 0.5 }]',
            "steps[0].events[0].target",
            ("no hall named 'hall-9'", "known: hall-1, hall-2"),
        ),
    ],
)
def test_a_story_naming_what_the_scenario_lacks_is_reported(
    tmp_path: Path, body: str, path: str, fragments: tuple[str, ...]
) -> None:
    story_path = _story_file(tmp_path, body)
    with pytest.raises(ScenarioError) as caught:
        prepare(story_path, None)
    assert caught.value.source == f"{story_path} (with scenario seoul-ai-factory)"
    [problem] = [str(p) for p in caught.value.problems]
    assert problem.startswith(f"{path}: ")
    for fragment in fragments:
        assert fragment in problem


def test_story_names_and_files_are_resolved_like_scenarios(tmp_path: Path) -> None:
    assert resolve_story(DEFAULT_STORY) == builtin_stories()[DEFAULT_STORY]
    for name, fragment in (
        ("ai-factory", "did you mean 'ai-factory-tour'?"),
        (str(tmp_path), "is a folder"),
        (str(tmp_path / "none.toml"), "no such file"),
    ):
        with pytest.raises(ScenarioError) as caught:
            load_story(name)
        assert fragment in caught.value.report()


def test_a_story_names_its_scenario_beside_itself_and_may_move_its_start(tmp_path: Path) -> None:
    scenario_file = tmp_path / "plant.toml"
    scenario_file.write_bytes(resolve("single-rack").read_bytes())
    story_path = tmp_path / "tour.toml"
    story_path.write_text(
        HEAD
        + 'scenario = "plant.toml"\nstart = 2026-01-15T12:00:00\n'
        + GOOD_STEP.replace('"hall-2"', '"site"'),
        encoding="utf-8",
    )
    story = load_story(story_path)
    assert story_scenario(story, story_path) == str(scenario_file)
    scenario = staged(story, load(story_scenario(story, story_path)))
    assert scenario.scenario.start == datetime(2026, 1, 15, 12)
    assert story_scenario(load_story(DEFAULT_STORY), story_path) == "seoul-ai-factory"


# --------------------------------------------------------------------------- twin kiosk


def _run(capsys: pytest.CaptureFixture[str], *argv: str) -> tuple[int, str, str]:
    try:
        code = main(list(argv))
    except SystemExit as exc:  # --help
        code = exc.code if isinstance(exc.code, int) else 1
    out, err = capsys.readouterr()
    return code, out, err


def test_twin_kiosk_reports_a_broken_story_before_any_window(
    capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    path = tmp_path / "broken.toml"
    path.write_text(HEAD + GOOD_STEP.replace("speed = 600", "speed = -1"), encoding="utf-8")
    code, out, err = _run(capsys, "kiosk", "--story", str(path))
    assert code == 2
    assert out == ""
    assert err.startswith(f"{path}: 1 problem")
    assert "steps[0].speed: must be above 0 and at most 3600" in err
    assert "Traceback" not in err


def test_twin_kiosk_reports_a_story_that_does_not_fit_the_scenario(
    capsys: pytest.CaptureFixture[str],
) -> None:
    code, _, err = _run(capsys, "kiosk", "--scenario", "single-rack")
    assert code == 2
    assert "(with scenario single-rack)" in err
    assert "steps[1].view: no viewpoint named 'hall-2'" in err
    assert "Traceback" not in err


@pytest.mark.parametrize(
    ("argv", "fragment"),
    [
        (("kiosk", "--screenshot", "x.png"), "--screenshot needs --exit-after"),
        (("kiosk", "--lang", "fr"), "invalid choice: 'fr'"),
        (("kiosk", "--story", "tour"), "not a built-in story"),
    ],
)
def test_twin_kiosk_usage_errors_exit_2(
    capsys: pytest.CaptureFixture[str], argv: tuple[str, ...], fragment: str
) -> None:
    code, out, err = _run(capsys, *argv)
    assert code == 2
    assert out == ""
    assert fragment in err


def test_twin_kiosk_help_names_the_way_out(capsys: pytest.CaptureFixture[str]) -> None:
    code, out, _ = _run(capsys, "kiosk", "--help")
    assert code == 0
    flat = " ".join(out.split())
    for fragment in (
        "Ctrl+Shift+Q leaves kiosk mode; nothing else does",
        "--story",
        "--scenario",
        "--lang",
        "--screen",
        "--exit-after",
        "--screenshot",
    ):
        assert fragment in flat


def test_checking_a_story_imports_no_gui_toolkit() -> None:
    """``twin kiosk`` checks the story and its scenario before a window opens, and without
    Qt or vispy: a bad story is reported at once, even where no display can start."""
    code = (
        "import sys\n"
        "from twin.gui.kiosk.app import prepare\n"
        "prepare(None, None)\n"
        "print(sorted(m for m in sys.modules if m.split('.')[0] in "
        "('PySide6', 'vispy', 'pyqtgraph', 'OpenGL')))"
    )
    done = subprocess.run(
        [sys.executable, "-c", code],
        cwd=Path(__file__).resolve().parents[3],
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip() == "[]"
