"""Fixtures shared across the test folders."""

from __future__ import annotations

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
