"""Fixtures shared across the test folders."""

from __future__ import annotations

from collections import defaultdict
from pathlib import Path

import pytest

from twin.runs.output import run_headless
from twin.scenario import builtin_scenarios, load


@pytest.fixture(scope="session")
def seoul_run(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """Two hours of seoul-ai-factory at 5 s steps, one row a minute, with its alarm journal
    (the run reports are made from)."""
    folder = tmp_path_factory.mktemp("run")
    out = folder / "site.csv"
    assert (
        run_headless(
            load("seoul-ai-factory"),
            duration_s=2 * 3600,
            dt_s=5.0,
            every_steps=12,
            out=out,
            progress=None,
            journal=folder / "site.alarms.sqlite",
            scenario_toml=builtin_scenarios()["seoul-ai-factory"].read_text(encoding="utf-8"),
        )
        == 0
    )
    return out


# Rough cost of a test, in units of a plain one (a fraction of a second), for the order
# files are handed out in: a test marked slow takes tens of seconds, one that draws into a
# real window several.
SLOW_WEIGHT = 100
GUI_WEIGHT = 20


def _weight(item: pytest.Item) -> int:
    if item.get_closest_marker("slow") is not None:
        return SLOW_WEIGHT
    if item.get_closest_marker("gui") is not None:
        return GUI_WEIGHT
    return 1


def pytest_configure(config: pytest.Config) -> None:
    # pytest-xdist's loadfile hands out files in the order sorted below, not (its default)
    # by their number of tests, which left the few long tests of a short file for the end
    if hasattr(config.option, "loadscopereorder"):
        config.option.loadscopereorder = False


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    """The heaviest files first, each file's tests in their own order: xdist's loadfile
    hands out files in this order, so the long ones start at once, the short ones fill in
    at the end, and the workers finish together instead of one of them running a long
    file alone at the end."""
    cost: dict[Path, int] = defaultdict(int)
    for item in items:
        cost[item.path] += _weight(item)
    items.sort(key=lambda item: -cost[item.path])  # stable: a file's tests keep their order
