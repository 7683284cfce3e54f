"""The one place a study calls twin's headless run: point ``simulate`` elsewhere when that
API moves, and nothing else in ``twin.study`` changes."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from twin.scenario import Scenario


@dataclass(frozen=True, slots=True)
class RunFiles:
    site_table: Path  # Parquet, one row per output interval (the README's data dictionary)
    journal: Path  # the alarm journal (SQLite)


def simulate(
    scenario: Scenario, *, duration_s: float, dt_s: float, every_s: float, seed: int, folder: Path
) -> RunFiles:
    """Run ``scenario`` headless as ``twin run`` does, writing into ``folder``; raises what
    ``twin.runs.output.run_headless`` raises."""
    from twin.runs.output import run_headless

    files = RunFiles(folder / "site.parquet", folder / "site.alarms.sqlite")
    run_headless(
        scenario,
        duration_s=duration_s,
        dt_s=dt_s,
        every_steps=round(every_s / dt_s),
        out=files.site_table,
        seed=seed,
        progress=None,
        journal=files.journal,
    )
    return files
