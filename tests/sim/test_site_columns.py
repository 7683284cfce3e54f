"""The site columns add up: sources at the bus equal facility power at every step and
every output row, whatever the faults; throttled GPUs are powered ones; PUE is undefined
without IT load."""

from __future__ import annotations

import copy
import math
import tomllib
from typing import Any

import numpy as np
import pyarrow.parquet as pq
import pytest
from pydantic import TypeAdapter

from twin.runs.output import run_headless
from twin.scenario import builtin_scenarios, load
from twin.scenario.loader import from_dict
from twin.scenario.schema import Event
from twin.sim.engine import Simulation
from twin.sim.snapshot import SITE_COLUMNS, SITE_NAMES

COLUMN = {name: i for i, (name, _) in enumerate(SITE_COLUMNS)}
SOURCES = ("grid_import_kw", "generator_kw", "bess_power_kw", "ups_battery_kw", "unserved_kw")
USES = ("it_power_kw", "cooling_power_kw", "electrical_loss_kw", "robot_power_kw")
EVENT = TypeAdapter(Event)


def seoul(**power_tables: dict[str, Any]):
    """seoul-ai-factory without its timeline, ``power.<table>.<key>`` replaced."""
    with builtin_scenarios()["seoul-ai-factory"].open("rb") as f:
        data = copy.deepcopy(tomllib.load(f))
    data["events"] = []
    for table, changes in power_tables.items():
        data["power"][table].update(changes)
    return from_dict(data, source="variant.toml")


def event(**fields: Any) -> Event:
    return EVENT.validate_python({"at_s": 0, **fields})


def assert_balanced(values: np.ndarray, where: str) -> None:
    facility = values[COLUMN["facility_power_kw"]]
    scale = max(abs(facility), 1.0)
    sources = sum(values[COLUMN[name]] for name in SOURCES)
    uses = sum(values[COLUMN[name]] for name in USES)
    assert sources == pytest.approx(facility, rel=1e-9, abs=1e-9 * scale), where
    assert uses == pytest.approx(facility, rel=1e-9, abs=1e-9 * scale), where


def run_checked(sim: Simulation, steps: int, seen: dict[str, float]) -> None:
    """Step, checking the balance after every step; ``seen`` keeps the largest magnitude
    each source column reached (so a case shows it exercised what it claims)."""
    for _ in range(steps):
        sim.step()
        values = sim.site_values()
        assert_balanced(values, f"t = {sim.time_s:g} s")
        for name in (*SOURCES, "bess_loss_kw"):
            seen[name] = max(seen.get(name, 0.0), abs(float(values[COLUMN[name]])))


@pytest.mark.parametrize("dt_s", [1.0, 60.0])
def test_sources_equal_facility_power_through_an_outage_with_failing_sets(dt_s):
    """14 of 22 sets fail to start: the BESS and the UPS batteries bridge, halls are shed
    and their UPS run their racks from the batteries, then the utility returns and the
    batteries recharge from the grid."""
    sim = Simulation(seoul(), dt_s=dt_s)
    seen: dict[str, float] = {}
    run_checked(sim, round(600 / dt_s), seen)
    sim.apply(event(kind="utility-outage", duration_s=1200, generators_failing_to_start=14))
    run_checked(sim, round(2400 / dt_s), seen)
    assert seen["generator_kw"] > 0 and seen["bess_power_kw"] > 0
    assert seen["ups_battery_kw"] > 0 and seen["bess_loss_kw"] > 0
    assert abs(sim.ledger()["closure_error"]) < 1e-3


def test_sources_equal_facility_power_on_a_dead_bus_with_robots_unserved():
    """Every set fails and the BESS is at its floor: nothing energizes the bus; the racks
    run on their UPS batteries and the robot cells' draw goes unserved."""
    s = seoul(bess={"initial_soc": 0.1, "soc_min": 0.1})
    assert s.workcells
    sim = Simulation(s, dt_s=5.0)
    seen: dict[str, float] = {}
    run_checked(sim, 12, seen)
    sim.apply(event(kind="utility-outage", duration_s=1800, generators_failing_to_start=22))
    run_checked(sim, round(2400 / 5.0), seen)
    assert seen["unserved_kw"] > 0 and seen["ups_battery_kw"] > 0
    assert seen["generator_kw"] == 0.0


@pytest.mark.parametrize("dt_s", [1.0, 10.0])
def test_sources_equal_facility_power_under_demand_response_and_a_grid_cap(dt_s):
    sim = Simulation(seoul(), dt_s=dt_s)
    seen: dict[str, float] = {}
    run_checked(sim, round(900 / dt_s), seen)
    sim.apply(event(kind="demand-response", curtail_mw=15.0, duration_s=900))
    run_checked(sim, round(1200 / dt_s), seen)
    sim.apply(event(kind="grid-cap", import_cap_mw=40.0))
    run_checked(sim, round(900 / dt_s), seen)
    assert seen["bess_power_kw"] > 1000 and seen["bess_loss_kw"] > 0


@pytest.mark.slow
@pytest.mark.parametrize("dt_s", [0.5, 300.0])
def test_sources_equal_facility_power_on_a_site_without_backup(dt_s):
    """single-rack has neither sets nor BESS: in an outage the UPS carries the rack until
    it trips; then the utility returns and the UPS batteries recharge."""
    s = load("single-rack").model_copy(update={"events": []})
    sim = Simulation(s, dt_s=dt_s)
    seen: dict[str, float] = {}
    run_checked(sim, math.ceil(900 / dt_s), seen)
    sim.apply(event(kind="utility-outage", duration_s=1800))
    run_checked(sim, math.ceil(3600 / dt_s), seen)
    assert seen["ups_battery_kw"] > 0


def test_every_output_row_balances(tmp_path):
    """``twin run``'s rows are interval means: the balance holds for them too, through an
    outage, and PUE is the interval's energy ratio."""
    s = seoul().model_copy(
        update={
            "events": [
                event(
                    at_s=600, kind="utility-outage", duration_s=900, generators_failing_to_start=14
                )
            ]
        }
    )
    out = tmp_path / "site.parquet"
    assert run_headless(s, duration_s=2400, dt_s=2.0, every_steps=30, out=out, progress=None) == 0
    table = pq.read_table(out)
    assert table.num_rows == 40 and table.column_names == list(SITE_NAMES)
    rows = np.column_stack([table.column(name).to_numpy() for name, _ in SITE_COLUMNS])
    for values in rows:
        assert_balanced(values, f"row at {values[COLUMN['time_s']]:g} s")
        assert values[COLUMN["pue"]] == pytest.approx(
            values[COLUMN["facility_power_kw"]] / values[COLUMN["it_power_kw"]], rel=1e-12
        )
    assert (rows[:, COLUMN["ups_battery_kw"]] > 0).any()


def test_shed_halls_and_tripped_racks_do_not_count_as_throttled():
    """Racks whose UPS dropped them draw nothing and shed nothing; tripped racks are
    counted as tripped only."""
    s = seoul(bess={"initial_soc": 0.1, "soc_min": 0.1})
    sim = Simulation(s, dt_s=5.0)
    sim.step(12)
    sim.apply(event(kind="utility-outage", duration_s=3600, generators_failing_to_start=22))
    gpus = sim.racks.gpus
    saw_tripped = False
    fed = sim.power_chain.hall_powered[sim.topology.rack_hall].copy()  # for the next step
    for _ in range(round(1200 / 5.0)):
        sim.step()
        snap = sim.snapshot(robots=False)
        powered = fed & ~snap.racks.tripped
        fed = snap.power.hall_powered[sim.topology.rack_hall]
        assert not (snap.racks.throttled & ~powered).any()
        assert snap.site["throttled_gpus"] == float(np.dot(snap.racks.throttled, gpus))
        assert snap.site["throttled_gpus"] <= float(gpus[powered].sum())
        saw_tripped |= bool(snap.racks.tripped.any())
    assert saw_tripped  # the cooling stopped: hot racks tripped, and were not counted


def test_pue_is_undefined_without_it_load():
    """Every rack tripped: no IT power, so no PUE (NaN), while the site still draws power."""
    s = load("single-rack").model_copy(update={"events": []})
    sim = Simulation(s, dt_s=1.0)
    sim.step(60)
    sim.state.tripped[:] = True
    sim.step()
    values = sim.site_values()
    assert values[COLUMN["it_power_kw"]] == 0.0
    assert values[COLUMN["facility_power_kw"]] > 0.0
    assert math.isnan(values[COLUMN["pue"]])
