"""Same answers at any step: runs one case at several dt and compares them with dt = 1 s.

A case is a built-in scenario started on the first of a month, with or without a fault
(the scenario's own events, a CDU lost for half an hour, a utility outage of ten
minutes, a heatwave of 8 K for a day) applied ``fault_at_s`` into the run. The first
``settle_s`` are not compared: the run starts from the compiled start state (every
controller at a mid output, every node at its setpoint), not from a steady state, and
how the plant settles from there is a start-up transient, not the physics under test. For each dt
the run gives the means of IT, facility and cooling power and of PUE (the ratio of the
means) over windows of ``window_s``; whether and where it throttles and trips; the first
trip after the fault; and how far the hottest GPU ever went above its trip temperature.
``compare`` holds a run against the dt = 1 s reference with the tolerances of the
README's step-size guarantee. ``benchmarks/step_matrix.py`` runs the whole matrix and
tests/sim/test_step_matrix.py a fast subset.
"""

from __future__ import annotations

import copy
import dataclasses
import tomllib
from collections.abc import Callable
from dataclasses import dataclass, field

import numpy as np

from twin.scenario.files import builtin_scenarios
from twin.scenario.loader import from_dict
from twin.sim.engine import Simulation
from twin.sim.snapshot import SITE_COLUMNS
from twin.sim.topology import build_topology

FAULTS = ("none", "built-in", "cdu-loss", "utility-outage", "heatwave")
MEANS = ("it_power_kw", "facility_power_kw", "cooling_power_kw", "pue")
MEAN_TOLERANCE = 0.01  # window means within 1 % of dt = 1 s
# A window whose reference runs below this share of the run's largest window is mostly
# dark (its racks tripped or lost their UPS): its means are held to 1 % of this share of
# the largest (0.1 % of the site's full level, 3.6 s of full load in an hour, finer than
# the max(dt, 30 s) the first trip may move), and its PUE, a ratio of two near-zero
# numbers, is not compared (its facility and IT power are).
DARK_SHARE = 0.1
TRIP_GPU_MARGIN_K = 1.0  # the hottest GPU never more than this above its trip limit
_COLUMN = {name: i for i, (name, _) in enumerate(SITE_COLUMNS)}


@dataclass(frozen=True)
class Case:
    scenario: str
    month: int
    fault: str
    duration_s: float
    fault_at_s: float
    window_s: float = 3600.0
    settle_s: float = 3600.0  # not compared: the plant settling from its compiled start

    @property
    def name(self) -> str:
        return f"{self.scenario} m{self.month:02d} {self.fault}"


@dataclass
class Result:
    dt_s: float
    means: dict[str, np.ndarray]  # per window
    throttled_windows: np.ndarray  # bool per window: any GPU throttled in it
    tripped_windows: np.ndarray  # bool per window: any rack tripped in it
    first_trip_s: float | None  # first step after the fault that ends with a tripped rack
    gpu_over_trip_k: float  # max over the run of hottest GPU minus its trip temperature
    closure_error: float
    wall_s: float = field(default=0.0)


def scenario_of(case: Case):
    """The case's scenario: the built-in one started on the case's month, its events
    replaced by the case's fault."""
    data = tomllib.loads(builtin_scenarios()[case.scenario].read_text(encoding="utf-8"))
    start = data["scenario"]["start"]
    data["scenario"]["start"] = start.replace(month=case.month, day=1)
    own = data.get("events", [])
    at = case.fault_at_s
    if case.fault == "none":
        events = []
    elif case.fault == "built-in":
        # the scenario's own timeline, moved so that its first event falls at fault_at_s
        first = min((_seconds(e["at_s"]) for e in own), default=0.0)
        events = [{**e, "at_s": _seconds(e["at_s"]) - first + at} for e in own]
    elif case.fault == "cdu-loss":
        cdu = build_topology(from_dict(data)).cdu_names[0]
        events = [
            {"at_s": at, "kind": "cdu-loss", "target": cdu},
            {"at_s": at + 1800.0, "kind": "cdu-restore", "target": cdu},
        ]
    elif case.fault == "utility-outage":
        events = [{"at_s": at, "kind": "utility-outage", "duration_s": 600.0}]
    elif case.fault == "heatwave":
        events = [{"at_s": at, "kind": "heatwave", "offset_k": 8.0, "duration_s": 86400.0}]
    else:
        raise ValueError(f"unknown fault {case.fault!r}; known: {', '.join(FAULTS)}")
    if at < case.settle_s:
        raise ValueError(f"{case.name}: the fault at {at:g} s falls in the settling time")
    data["events"] = events
    return from_dict(data, source=case.name)


def _seconds(value) -> float:
    from twin.scenario.units import parse_duration

    return float(value) if isinstance(value, int | float) else parse_duration(value)


class _Tally:
    """A run's figures as it steps: window sums, throttle and trip flags, the first trip
    after the fault and the hottest GPU's excess. Plain arrays, so a copy of it goes with
    a copy of the simulation it follows."""

    def __init__(self, case: Case, dt_s: float, sim: Simulation) -> None:
        self.case, self.dt_s = case, dt_s
        self.settle = round(case.settle_s / dt_s)
        self.per_window = round(case.window_s / dt_s)
        self.windows = round((case.duration_s - case.settle_s) / dt_s) // self.per_window
        self.total = self.settle + self.windows * self.per_window
        self.done = 0  # steps taken
        self.sums = np.zeros((self.windows, len(_SUMMED)))
        self.throttled = np.zeros(self.windows, dtype=bool)
        self.tripped = np.zeros(self.windows, dtype=bool)
        self.first_trip: float | None = None
        self.critical = sim.racks.critical_c
        self.over = -np.inf
        self.wall_s = 0.0

    def advance(self, sim: Simulation, until: int) -> None:
        """Step ``sim`` until ``until`` steps of the run are done."""
        import time

        started = time.perf_counter()
        if self.done < self.settle:
            n = min(self.settle, until) - self.done
            sim.step(n)  # the settling time is not compared
            self.done += n
        site = sim.site_values()
        while self.done < until:
            sim.step()
            w = (self.done - self.settle) // self.per_window
            self.sums[w] += site[_SUMMED]
            self.throttled[w] |= site[_COLUMN["throttled_gpus"]] > 0
            self.tripped[w] |= site[_COLUMN["tripped_racks"]] > 0
            self.over = max(self.over, float(np.max(sim.state.junction_c - self.critical)))
            if (
                self.first_trip is None
                and sim.state.time_s > self.case.fault_at_s
                and site[_COLUMN["tripped_racks"]] > 0
            ):
                self.first_trip = sim.state.time_s
            self.done += 1
        self.wall_s += time.perf_counter() - started

    def result(self, sim: Simulation) -> Result:
        sums = self.sums / self.per_window
        means = {name: sums[:, i] for i, name in enumerate(n for n in MEANS if n != "pue")}
        means["pue"] = np.divide(
            means["facility_power_kw"],
            means["it_power_kw"],
            out=np.zeros(self.windows),
            where=means["it_power_kw"] > 0,
        )
        return Result(
            self.dt_s,
            means,
            self.throttled,
            self.tripped,
            self.first_trip,
            self.over,
            sim.ledger()["closure_error"],
            self.wall_s,
        )


_SUMMED = [_COLUMN[name] for name in MEANS if name != "pue"]


def run(case: Case, dt_s: float) -> Result:
    """The case at ``dt_s``, its events in its scenario from the start."""
    sim = Simulation(scenario_of(case), dt_s=dt_s)
    tally = _Tally(case, dt_s, sim)
    tally.advance(sim, tally.total)
    return tally.result(sim)


def run_branches(
    cases: list[Case], dt_s: float, finished: Callable[[Case, Result], None] | None = None
) -> dict[Case, Result]:
    """Cases that differ only in their fault, at ``dt_s``: the run without a fault up to
    the fault's time, then one copy of it per case with the case's events scheduled
    (``Simulation.replace_schedule``), which steps as a scenario written with them from
    the start does (bit for bit: tests/sim/test_step_numerics.py). The time before the
    fault is simulated once for all the cases instead of once each. ``finished`` is
    called with each case's result as soon as it is made."""
    first = cases[0]
    shared = dataclasses.replace(first, fault="none")
    if any(dataclasses.replace(c, fault="none") != shared for c in cases):
        raise ValueError("run_branches: the cases must differ in their fault only")
    if len(cases) == 1:
        result = run(first, dt_s)
        if finished is not None:
            finished(first, result)
        return {first: result}
    sim = Simulation(scenario_of(shared), dt_s=dt_s)
    tally = _Tally(shared, dt_s, sim)
    fault_step = int((first.fault_at_s + 1e-9) // dt_s)  # at or before the fault
    tally.advance(sim, fault_step)
    results = {}
    for k, case in enumerate(cases):
        # the last case takes the shared run itself
        branch, branch_tally = (sim, tally) if k == len(cases) - 1 else copy.deepcopy((sim, tally))
        branch_tally.case = case
        if case.fault != "none":
            branch.replace_schedule(list(scenario_of(case).events))
        branch_tally.advance(branch, branch_tally.total)
        results[case] = branch_tally.result(branch)
        if finished is not None:
            finished(case, results[case])
    return results


@dataclass
class Comparison:
    worst_mean_error: dict[str, float]  # relative, worst window
    extra_throttling: int  # windows that throttle where dt = 1 s does not
    extra_trips: int
    trip_delay_s: float | None  # first trip minus the reference's (None: neither trips)
    gpu_over_trip_k: float
    failures: list[str]


def compare(reference: Result, other: Result) -> Comparison:
    failures = []
    worst = {}
    it = reference.means["it_power_kw"]
    lit = it >= DARK_SHARE * np.max(it) if it.size else np.zeros(0, dtype=bool)
    for name in MEANS:
        ref, got = reference.means[name], other.means[name]
        if name == "pue":
            ref, got = ref[lit], got[lit]
        scale = np.maximum(np.abs(ref), 1e-9)
        if ref.size:
            scale = np.maximum(scale, DARK_SHARE * np.max(np.abs(ref)))
        error = float(np.max(np.abs(got - ref) / scale)) if ref.size else 0.0
        worst[name] = error
        if error > MEAN_TOLERANCE:
            failures.append(f"{name} differs by {100 * error:.2f} %")
    extra_throttling = int(np.count_nonzero(other.throttled_windows & ~reference.throttled_windows))
    extra_trips = int(np.count_nonzero(other.tripped_windows & ~reference.tripped_windows))
    if extra_throttling:
        failures.append(f"throttles in {extra_throttling} window(s) where dt = 1 s does not")
    if extra_trips:
        failures.append(f"trips in {extra_trips} window(s) where dt = 1 s does not")
    delay = None
    if (reference.first_trip_s is None) != (other.first_trip_s is None):
        failures.append(
            "trips where dt = 1 s does not"
            if reference.first_trip_s is None
            else "does not trip where dt = 1 s does"
        )
    elif reference.first_trip_s is not None and other.first_trip_s is not None:
        delay = other.first_trip_s - reference.first_trip_s
        if abs(delay) > max(other.dt_s, 30.0) + 1e-6:
            failures.append(f"first trip {delay:+.0f} s from dt = 1 s's")
    if other.gpu_over_trip_k > TRIP_GPU_MARGIN_K:
        failures.append(f"hottest GPU {other.gpu_over_trip_k:.1f} K above its trip limit")
    return Comparison(worst, extra_throttling, extra_trips, delay, other.gpu_over_trip_k, failures)
