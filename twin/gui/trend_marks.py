"""What the trend plots mark besides their curves, Qt-free: limit lines (the GPUs' throttle
and trip temperatures, the alarm limits of the site's points), the events applied to the
run, as short labels, and the training jobs' checkpoints, as spans of time.

A limit is in its plot's unit (``TrendPlot.unit``, SI) and converted to the display units
as it is drawn. An alarm limit is drawn only where one value holds for every component of
its point (a site with two rack types has two throttle temperatures and draws both; an
alarm limit that differs per CDU is not a line).
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

import numpy as np

from twin.alarms.definitions import AlarmPoint
from twin.scenario import Scenario
from twin.scenario.schema import TrainingWorkload
from twin.scenario.units import format_duration
from twin.sim.workload import checkpoint_windows

# alarm points drawn on a site plot: tag -> (plot key, the name of what it alarms)
ALARMED_PLOTS = {
    "rack.gpu_temp": ("temperatures", "GPU"),
    "cdu.return_temp": ("temperatures", "TCS return"),
    "plant.fws_supply": ("temperatures", "Facility water"),
    "site.bess_soc": ("bess", "State of charge"),
}


@dataclass(frozen=True, slots=True)
class TrendLimit:
    """A horizontal line on a plot: its value in the plot's unit, what it is, and whether
    crossing it stops equipment (a trip) rather than warns (an alarm, a throttle)."""

    value: float
    label: str
    trip: bool = False


def plot_limits(
    scenario: Scenario, points: Iterable[AlarmPoint]
) -> dict[str, tuple[TrendLimit, ...]]:
    """The limit lines of each site plot, by its key, lowest first; limits of one value
    share one line, their names joined."""
    lines: dict[str, dict[float, list[str]]] = {}
    trips: set[tuple[str, float]] = set()

    def add(key: str, value: float, label: str, trip: bool = False) -> None:
        lines.setdefault(key, {}).setdefault(round(float(value), 6), []).append(label)
        if trip:
            trips.add((key, round(float(value), 6)))

    for rack_type in scenario.rack_types.values():
        add("temperatures", rack_type.gpu_throttle_c, "GPU throttle")
        add("temperatures", rack_type.gpu_critical_c, "GPU trip", trip=True)
    for point in points:
        if point.tag not in ALARMED_PLOTS:
            continue
        key, name = ALARMED_PLOTS[point.tag]
        for limit in point.limits:
            values = np.unique(np.asarray(limit.value, dtype=float))
            if values.size == 1:
                add(
                    key,
                    float(values[0]),
                    f"{name} alarm {limit.condition.value} ({limit.priority.label})",
                )
    return {
        key: tuple(
            TrendLimit(value, " · ".join(dict.fromkeys(labels)), (key, value) in trips)
            for value, labels in sorted(values.items())
        )
        for key, values in lines.items()
    }


CHECKPOINTS_DRAWN_MAX = 200  # more in view than this (a long zoom-out): none are drawn


@dataclass(frozen=True, slots=True)
class CheckpointSchedule:
    """A training job's checkpoints: each interval after its start ends with one (as
    ``twin.sim.workload`` models them), during which its GPUs idle at low power."""

    job: str
    start_s: float
    interval_s: float
    duration_s: float

    def windows(self, left_s: float, right_s: float) -> list[tuple[float, float]]:
        """(start, end) of the checkpoints that overlap ``left_s`` .. ``right_s``."""
        return checkpoint_windows(self.start_s, self.interval_s, self.duration_s, left_s, right_s)


def checkpoint_schedules(scenario: Scenario) -> tuple[CheckpointSchedule, ...]:
    return tuple(
        CheckpointSchedule(w.name, w.start_s, w.checkpoint_interval_s, w.checkpoint_duration_s)
        for w in scenario.workloads
        if isinstance(w, TrainingWorkload) and w.checkpoint_duration_s > 0
    )


def event_label(kind: str, target: str | None = None) -> str:
    """An event's marker text: its kind, and what it acts on when it names one."""
    return f"{kind} {target}" if target else kind


def event_marker(time_s: float, event: object) -> tuple[float, str]:
    """(time, label) of an applied event, for its marker; the tooltip-length label names
    its kind and target, and when it lasts, for how long."""
    label = event_label(
        getattr(event, "kind", type(event).__name__), getattr(event, "target", None)
    )
    duration_s = getattr(event, "duration_s", None)
    if duration_s:
        label += f" for {format_duration(duration_s)}"
    return time_s, label
