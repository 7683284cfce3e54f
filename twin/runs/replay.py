"""Replay and comparison of recorded runs (``twin.runs.recording`` writes and reads the
format).

``ReplaySimulation`` plays a recording through the same duck-typed interface as the live
simulation (``twin.gui.runner.SimulationLike``): one step moves one recorded row on, and a
snapshot is rebuilt from the row without running any physics. What a row does not hold is
filled in neutrally: the robots' mission routes are empty, and a state field missing from an
older recording reads as in a blank snapshot of the site (``twin.sim.snapshot.blank_snapshot``):
NaN (numbers), 0 (counts) or False (flags).

``compare(a, b)`` sets two runs (recordings or ``twin run`` site tables) side by side: KPIs
of each over the time both cover, their differences (b - a) and the site series on a common
time axis. ``comparison_problem`` says why two runs cannot be compared (another scenario,
another start, no simulated time in common); ``SiteLog`` keeps a live run's site figures so
that it can be compared as it goes.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from twin.runs.recording import MANIFEST, Recording, RecordingError
from twin.scenario.units import format_duration
from twin.sim.site import Site
from twin.sim.snapshot import SITE_NAMES, Snapshot


class ReplaySimulation:
    """A recording played back as a simulation (``SimulationLike``): each step moves one
    recorded row on and stays on the last row at the end; ``seek`` jumps to a time."""

    def __init__(self, recording: Recording, site: Site | None = None) -> None:
        """``site``: the recorded scenario's ``Site`` when the caller has built it."""
        self.recording = recording
        self.dt_s = recording.every_s
        self._index = 0
        self._site = site

    @property
    def site(self) -> Site:
        """The recorded site's topology and layout, built once from its scenario."""
        if self._site is None:
            self._site = Site.build(self.recording.scenario())
        return self._site

    @property
    def time_s(self) -> float:
        return float(self.recording.times[self._index])

    @property
    def has_output(self) -> bool:
        return True  # Recording.open guarantees at least one row

    @property
    def at_end(self) -> bool:
        return self._index == len(self.recording) - 1

    def step(self, n: int = 1) -> None:
        self._index = min(self._index + n, len(self.recording) - 1)

    def snapshot(self, *, robots: bool = True) -> Snapshot:
        return self.recording.snapshot(self._index, robots=robots)

    def reset(self) -> None:
        self._index = 0

    def seek(self, time_s: float) -> float:
        """Go to the last row at or before ``time_s``; returns that row's time."""
        self._index = self.recording.index_at(time_s)
        return self.time_s


# ----------------------------------------------------------------------- comparison

KPI_LABELS = {
    "duration_h": "simulated time (h)",
    "energy_mwh": "facility energy (MWh)",
    "it_energy_mwh": "IT energy (MWh)",
    "peak_gpu_temp_c": "peak GPU temperature (°C)",
    "tokens": "tokens delivered",
    "cost_krw": "electricity cost (KRW)",
    "co2_t": "CO2 (t)",
    "water_m3": "water (m³)",
    "max_tripped_racks": "most racks tripped at once",
}
# KPIs for which a larger value is the better outcome; for the others smaller is better
HIGHER_IS_BETTER = frozenset({"tokens"})


@dataclass(frozen=True, slots=True)
class SiteSeries:
    """A run's site columns (``SITE_COLUMNS``) and what the run wrote about itself."""

    source: str
    columns: dict[str, np.ndarray]
    metadata: dict[str, str] = field(default_factory=dict)
    problems: tuple[str, ...] = ()  # what could not be read (``Recording.problems``)

    @classmethod
    def read(cls, path: str | Path) -> SiteSeries:
        """A recording folder, or a ``twin run`` site table in .csv or .parquet, whole or
        partial (``twin.runs.runtable``): what cannot be read is named in ``problems``."""
        from twin.runs.runtable import PARTIAL_SUFFIX, RunTableError, read_run_table

        path = Path(path)
        if path.is_dir() and (
            (path / MANIFEST).exists()
            or not (path.name.endswith(PARTIAL_SUFFIX) or any(path.glob("part-*.parquet")))
        ):
            return cls.of(Recording.open(path))  # or names what a recording lacks
        try:
            table = read_run_table(path)
        except RunTableError as exc:
            raise RecordingError(str(exc)) from None
        return cls(str(path), table.columns, table.metadata, tuple(table.problems))

    @classmethod
    def of(cls, recording: Recording) -> SiteSeries:
        return cls(
            str(recording.path), recording.site_series(), recording.metadata, recording.problems
        )

    @property
    def name(self) -> str:
        """The run's file or folder name, to label it."""
        return Path(self.source).name

    def until(self, end_s: float) -> SiteSeries:
        keep = self.columns["time_s"] <= end_s + 1e-9
        return SiteSeries(
            self.source, {k: v[keep] for k, v in self.columns.items()}, self.metadata, self.problems
        )


def kpis(series: SiteSeries) -> dict[str, float]:
    """Totals and peaks of a run, keyed as ``KPI_LABELS``. Each row stands for the
    interval since the previous one (site-table rows are interval means, so their
    totals are exact)."""
    c = series.columns
    t = c["time_s"]
    dt = np.diff(t, prepend=0.0)

    def total(name: str, scale: float) -> float:
        return float(np.sum(c[name] * dt) * scale) if name in c else float("nan")

    def peak(name: str) -> float:
        return float(np.max(c[name])) if name in c else float("nan")

    return {
        "duration_h": float(t[-1]) / 3600,
        "energy_mwh": total("facility_power_kw", 1 / 3.6e6),
        "it_energy_mwh": total("it_power_kw", 1 / 3.6e6),
        "peak_gpu_temp_c": peak("gpu_temp_max_c"),
        "tokens": total("tokens_per_s", 1.0),
        "cost_krw": total("cost_krw_per_h", 1 / 3600),
        "co2_t": total("co2_kg_per_h", 1 / 3.6e6),
        "water_m3": total("water_l_per_h", 1 / 3.6e6),
        "max_tripped_racks": peak("tripped_racks"),
    }


@dataclass(frozen=True, slots=True)
class Comparison:
    """Two runs over the time both cover: ``differences`` are b - a; ``series`` maps each
    site column to (a, b) on ``time_s``, a's row times with b interpolated onto them."""

    a: SiteSeries
    b: SiteSeries
    kpis_a: dict[str, float]
    kpis_b: dict[str, float]
    differences: dict[str, float]
    time_s: np.ndarray
    series: dict[str, tuple[np.ndarray, np.ndarray]]

    @property
    def lost_tokens(self) -> float:
        """Tokens run b delivered fewer than run a."""
        return self.kpis_a["tokens"] - self.kpis_b["tokens"]

    def outcome(self, key: str) -> str:
        """Whether run b did "better" or "worse" than run a on a KPI; "" when equal or
        unknown."""
        diff = self.differences[key]
        if diff == 0 or not np.isfinite(diff):
            return ""
        return "better" if (diff > 0) == (key in HIGHER_IS_BETTER) else "worse"


def compare(
    a: SiteSeries | Recording | str | Path, b: SiteSeries | Recording | str | Path
) -> Comparison:
    first, second = _as_series(a), _as_series(b)
    end_s = min(first.columns["time_s"][-1], second.columns["time_s"][-1])
    first, second = first.until(end_s), second.until(end_s)
    kpis_a, kpis_b = kpis(first), kpis(second)
    t = first.columns["time_s"]
    t_b = second.columns["time_s"]
    shared = [n for n in SITE_NAMES if n in first.columns and n in second.columns]
    series = {n: (first.columns[n], np.interp(t, t_b, second.columns[n])) for n in shared}
    return Comparison(
        first, second, kpis_a, kpis_b, {k: kpis_b[k] - kpis_a[k] for k in kpis_a}, t, series
    )


def _as_series(run: SiteSeries | Recording | str | Path) -> SiteSeries:
    if isinstance(run, SiteSeries):
        return run
    if isinstance(run, Recording):
        return SiteSeries.of(run)
    return SiteSeries.read(run)


COMPARABLE = (
    "runs of the same scenario from the same start, as 'twin run' output tables "
    "(.csv, .parquet) or recording folders"
)


def comparison_problem(a: SiteSeries, b: SiteSeries) -> str | None:
    """Why run b cannot be compared with run a, or None. Runs must be of the same scenario
    and start (simulated time 0 the same moment), as far as their metadata say, and share
    some simulated time when both have rows; their steps and lengths may differ."""
    for key, what in (("scenario", "scenario"), ("start", "start")):
        mine, other = a.metadata.get(key), b.metadata.get(key)
        if mine and other and mine != other:
            return f"{b.source} is a run of {what} {other}, {a.name} of {mine}"
    t_a, t_b = a.columns["time_s"], b.columns["time_s"]
    if t_a.size and t_b.size and min(t_a[-1], t_b[-1]) < max(t_a[0], t_b[0]):
        return (
            f"{b.source} covers {format_duration(t_b[0])} to {format_duration(t_b[-1])} "
            f"and {a.name} {format_duration(t_a[0])} to {format_duration(t_a[-1])}: no "
            "simulated time in common"
        )
    return None


def read_reference(path: str | Path, run: SiteSeries) -> SiteSeries:
    """The run at ``path`` to compare ``run`` with; raises ``RecordingError`` naming what
    is wrong and what can be compared. A recording that is readable only in part is
    returned with its ``problems``."""
    reference = SiteSeries.read(path)
    problem = comparison_problem(run, reference)
    if problem is not None:
        raise RecordingError(problem)
    return reference


class SiteLog:
    """A live run's site figures for comparing it with a reference run as it goes: at
    most one row per ``every_s`` of simulated time, up to the first row at or past
    ``end_s``, in arrays allocated once. Time going backwards (a reset) starts it again."""

    def __init__(
        self, source: str, metadata: Mapping[str, str], every_s: float, end_s: float
    ) -> None:
        self.source = source
        self.metadata = dict(metadata)
        self.every_s = every_s
        self.end_s = end_s
        self._values = np.full((math.ceil(end_s / every_s) + 2, len(SITE_NAMES)), np.nan)
        self._time_column = SITE_NAMES.index("time_s")
        self._count = 0

    def __len__(self) -> int:
        return self._count

    @property
    def name(self) -> str:
        return self.source

    def add(self, time_s: float, site: Mapping[str, float]) -> None:
        if self._count:
            last_s = self._values[self._count - 1, self._time_column]
            if time_s < last_s:
                self._count = 0
            elif (
                time_s < last_s + self.every_s - 1e-9
                or last_s >= self.end_s
                or self._count == len(self._values)
            ):
                return
        row = self._values[self._count]
        row[:] = [site.get(name, np.nan) for name in SITE_NAMES]
        row[self._time_column] = time_s
        self._count += 1

    def until(self, end_s: float) -> SiteSeries:
        rows = self._values[: self._count]
        rows = rows[rows[:, self._time_column] <= end_s + 1e-9]
        return SiteSeries(
            self.source,
            {name: rows[:, i].copy() for i, name in enumerate(SITE_NAMES)},
            self.metadata,
        )
