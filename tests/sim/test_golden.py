"""Golden outputs: a short `twin run` of every built-in scenario, with a fault of every kind
inside it, must write exactly the tables stored under ``tests/golden/``.

Any change of behaviour fails here: the site table is compared byte for byte (its
metadata, the scenario's text and every row), the component table value by value to the
last bit (each quantity's count, exact sum, minimum, maximum and a SHA-256 of its values
and component names, per output interval), the alarm journal row by row (all but the wall
clock). Refactors and speed-ups must leave them untouched.

An intended change of the physics regenerates them with one command (then review the
diff of ``tests/golden/`` and commit it with the change):

    TWIN_REGENERATE_GOLDEN=1 python -m pytest tests/sim/test_golden.py

The values are exact for one numpy build on one CPU family: numpy picks SIMD kernels
(exp, log, sums) by CPU, whose last bits may differ on another machine class.
"""

from __future__ import annotations

import hashlib
import math
import os
import platform
import sqlite3
import subprocess
import sys
import tomllib
import typing
from pathlib import Path

import CoolProp
import numpy as np
import pyarrow.parquet as pq
import pytest
from pydantic import TypeAdapter

from twin.scenario import builtin_scenarios, load
from twin.scenario.references import event_problems
from twin.scenario.schema import Event
from twin.sim.topology import build_topology

REPO = Path(__file__).resolve().parents[2]
GOLDEN = REPO / "tests" / "golden"
REGENERATE = os.environ.get("TWIN_REGENERATE_GOLDEN") == "1"
# (dt, every, time unit of the fault timeline): the run lasts 30 units. A fine step, long
# enough for swings and trips inside a step, and the coarsest step over 30 hours.
RUNS = {"dt5s": ("5s", "1min", "min"), "dt300s": ("300s", "1h", "h")}


def fault_events(name: str, unit: str = "min") -> str:
    """TOML for one event of every kind inside the run (times and durations in ``unit``),
    aimed at the scenario's first CDU, hall, rack and workcell, appended to its own
    timeline."""
    scenario = load(name)
    topo = build_topology(scenario)
    cdu, last_cdu = topo.cdu_names[0], topo.cdu_names[-1]
    hall, rack = topo.hall_names[0], topo.rack_name(0)
    nameplate_mw = (
        sum(scenario.rack_types[topo.rack_type_names[t]].nameplate_kw for t in topo.rack_type) / 1e3
    )
    events = [
        (2, "pump-trip", f'target = "{cdu}"\npumps = 2'),
        (3, "heatwave", f'offset_k = 8.0\nduration_s = "10{unit}"'),
        (
            4,
            "workload-surge",
            f'halls = ["{hall}"]\nutilization_step = 0.3\nduration_s = "8{unit}"',
        ),
        (5, "power-cap", f'fraction = 0.8\ntarget = "{hall}"'),
        (6, "pump-restore", f'target = "{cdu}"\npumps = 2'),
        (7, "power-smoothing", "enabled = false"),
        (8, "valve-stuck", f'target = "{last_cdu}"\nposition = 0.2'),
        (9, "coolant-leak", f'target = "{last_cdu}"\nrate_lpm = 40.0'),
        (10, "filter-clog", f'target = "{cdu}"\nfactor = 6.0\nramp_s = "5{unit}"'),
        (11, "chiller-trip", "units = 1"),
        (12, "dry-cooler-fail", "units = 1"),
        (13, "demand-response", f'curtail_mw = {0.1 * nameplate_mw!r}\nduration_s = "5{unit}"'),
        (14, "valve-release", f'target = "{last_cdu}"'),
        (15, "transformer-fail", f'target = "{hall}"\nunits = 1'),
        (16, "leak-repair", f'target = "{last_cdu}"'),
        (16, "ups-fail", f'target = "{hall}"\nunits = 1'),
        (17, "transformer-restore", f'target = "{hall}"\nunits = 1'),
        (18, "chiller-restore", "units = 1"),
        (18, "ups-restore", f'target = "{hall}"\nunits = 1'),
        (19, "dry-cooler-restore", "units = 1"),
        (20, "filter-clean", f'target = "{cdu}"'),
        (20, "power-smoothing", "enabled = true"),
        (21, "utility-outage", f'duration_s = "3{unit}"\ngenerators_failing_to_start = 1'),
        (22, "generator-fail", "units = 1"),
        (23, "service-dispatch", f'target = "{rack}"'),
        (24, "cdu-loss", f'target = "{cdu}"'),
        (25, "generator-restore", "units = 1"),
        (26, "grid-cap", f"import_cap_mw = {0.9 * nameplate_mw!r}"),
        (27, "cdu-restore", f'target = "{cdu}"'),
    ]
    if scenario.workcells:
        cell = scenario.workcells[0].name
        events += [
            (25, "workcell-e-stop", f'target = "{cell}"'),
            (28, "workcell-reset", f'target = "{cell}"'),
        ]
    blocks = [
        f'\n[[events]]\nat_s = "{at}{unit}"\nkind = "{kind}"\n{fields}\n'
        for at, kind, fields in events
    ]
    # a small site lacks some of what the faults act on (a hall's only transformer,
    # generators): those are left out
    adapter = TypeAdapter(Event)
    kept = [
        block
        for block in blocks
        if not event_problems(
            scenario, [adapter.validate_python(tomllib.loads(block)["events"][0])]
        )
    ]
    return "".join(kept)


def run_twin(name: str, run: str, folder: Path) -> dict[str, str]:
    """`twin run` of the scenario with its faults, in a process of its own; the outputs
    as the golden files hold them."""
    scenario_file = folder / f"{name}.toml"
    builtin = builtin_scenarios()[name]
    dt, every, unit = RUNS[run]
    scenario_file.write_text(
        builtin.read_text(encoding="utf-8") + fault_events(name, unit), encoding="utf-8"
    )
    for extra in builtin.parent.glob("*.csv"):  # the weather files it names, beside it
        (folder / extra.name).write_bytes(extra.read_bytes())
    site, components, journal = (
        folder / "site.csv",
        folder / "components.parquet",
        folder / "alarms.sqlite",
    )
    done = subprocess.run(
        [
            sys.executable,
            "-m",
            "twin",
            "run",
            "--scenario",
            str(scenario_file),
            "--duration",
            f"30{unit}",
            "--dt",
            dt,
            "--every",
            every,
            "--out",
            str(site),
            "--components",
            str(components),
            "--journal",
            str(journal),
            "--quiet",
        ],
        capture_output=True,
        text=True,
        timeout=600,
        cwd=REPO,
        env={**os.environ, "PYTHONPATH": str(REPO)},
        check=False,
    )
    assert done.returncode == 0, done.stderr
    return {
        "site.csv": site_text(site),
        "components.csv": component_digest(components),
        "alarms.csv": journal_text(journal),
    }


def site_text(path: Path) -> str:
    """The site table as written, less the line naming twin's version."""
    lines = path.read_text(encoding="utf-8").splitlines(keepends=True)
    return "".join(line for line in lines if not line.startswith("# twin_version:"))


def component_digest(path: Path) -> str:
    """Per output interval and quantity: how many components, the exact sum, minimum and
    maximum of their values and a SHA-256 over the names and the values' bits."""
    table = pq.read_table(path).to_pydict()
    groups: dict[tuple[float, str, str], tuple[list[str], list[float]]] = {}
    for time_s, component, kind, quantity, value in zip(
        table["time_s"],
        table["component"],
        table["kind"],
        table["quantity"],
        table["value"],
        strict=True,
    ):
        names, values = groups.setdefault((time_s, kind, quantity), ([], []))
        names.append(component)
        values.append(value)
    lines = ["time_s,kind,quantity,count,sum,min,max,sha256\n"]
    for (time_s, kind, quantity), (names, values) in groups.items():
        digest = hashlib.sha256("\n".join(names).encode())
        digest.update(np.asarray(values, dtype="<f8").tobytes())
        finite = [v for v in values if math.isfinite(v)]
        lines.append(
            f"{time_s!r},{kind},{quantity},{len(values)},{math.fsum(finite)!r},"
            f"{min(values)!r},{max(values)!r},{digest.hexdigest()[:16]}\n"
        )
    return "".join(lines)


def journal_text(path: Path) -> str:
    """Every alarm transition in the journal, without the wall-clock time; those of one
    instant sorted (the engine scans its alarms in no fixed order within a step)."""
    columns = (
        "sim_time_s",
        "event",
        "tag",
        "condition",
        "component",
        "priority",
        "state",
        "value",
        "limit_value",
        "unit",
        "note",
        "duration_s",
    )
    with sqlite3.connect(path) as db:
        rows = db.execute(f"SELECT {', '.join(columns)} FROM events ORDER BY id").fetchall()
    lines = sorted((row[0], ",".join(repr(v) for v in row)) for row in rows)
    return ",".join(columns) + "\n" + "".join(f"{line}\n" for _, line in lines)


def numeric_platform() -> str:
    """What decides the last bits of the outputs besides twin: numpy and CoolProp, the
    processor's architecture and the SIMD features numpy dispatches to (a vectorised exp
    on AVX-512 need not round as the scalar one does)."""
    from numpy._core._multiarray_umath import __cpu_features__

    features = " ".join(sorted(name for name, on in __cpu_features__.items() if on))
    return (
        f"numpy {np.__version__}; CoolProp {CoolProp.__version__}; "
        f"{platform.machine()}; {features}\n"
    )


PLATFORM_FILE = GOLDEN / "PLATFORM.txt"


@pytest.mark.slow
@pytest.mark.parametrize("run", sorted(RUNS))
@pytest.mark.parametrize("name", sorted(builtin_scenarios()))
def test_twin_run_writes_the_golden_outputs(name: str, run: str, tmp_path: Path) -> None:
    if REGENERATE:
        PLATFORM_FILE.write_text(numeric_platform(), encoding="utf-8")
    elif PLATFORM_FILE.read_text(encoding="utf-8") != numeric_platform():
        pytest.skip(
            "the golden outputs are bit-exact for the numeric platform they were made "
            f"on ({PLATFORM_FILE.name}), not this one: regenerate them here from a "
            "commit known good, then compare (TWIN_REGENERATE_GOLDEN=1)"
        )
    outputs = run_twin(name, run, tmp_path)
    folder = GOLDEN / name / run
    if REGENERATE:
        folder.mkdir(parents=True, exist_ok=True)
        for file_name, text in outputs.items():
            (folder / file_name).write_text(text, encoding="utf-8")
    missing = [f for f in outputs if not (folder / f).is_file()]
    assert not missing, (
        f"no golden {missing} for {name}: TWIN_REGENERATE_GOLDEN=1 "
        "python -m pytest tests/sim/test_golden.py"
    )
    for file_name, text in outputs.items():
        expected = (folder / file_name).read_text(encoding="utf-8").splitlines()
        got = text.splitlines()
        first = next(
            (i for i, (a, b) in enumerate(zip(expected, got, strict=False)) if a != b),
            min(len(expected), len(got)),
        )
        assert got == expected, (
            f"{name} {file_name} differs from tests/golden/{name}/{run}/{file_name} from line "
            f"{first + 1}:\n  golden: {expected[first : first + 1]}\n  now:    "
            f"{got[first : first + 1]}\n(intended? regenerate: TWIN_REGENERATE_GOLDEN=1 "
            "python -m pytest tests/sim/test_golden.py)"
        )


def test_the_fault_timeline_has_every_event_kind() -> None:
    """The golden runs go through every kind of event the schema knows, each kind in at
    least one scenario."""
    union = typing.get_args(Event)[0]
    kinds = {
        kind
        for member in typing.get_args(union)
        for kind in typing.get_args(member.model_fields["kind"].annotation)
    }
    covered = {
        event["kind"]
        for name in builtin_scenarios()
        for event in tomllib.loads(fault_events(name))["events"]
    }
    assert covered == kinds
