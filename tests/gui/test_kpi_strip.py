"""The KPI strip's figures read from real snapshots, including undefined ones."""

from __future__ import annotations

from twin.gui._qt.kpi_strip import NORMAL, site_kpis
from twin.scenario import load
from twin.sim.engine import Simulation


def test_pue_reads_a_dash_without_it_load_and_three_decimals_with_it():
    scenario = load("single-rack").model_copy(update={"events": []})
    pue = next(kpi for kpi in site_kpis(scenario) if kpi.key == "pue")
    sim = Simulation(scenario, dt_s=1.0)
    sim.step(60)
    snap = sim.snapshot(robots=False)
    assert pue.read(snap) == (f"{snap.site['pue']:.3f}", NORMAL)
    sim.state.tripped[:] = True  # every rack down: no IT load, PUE undefined
    sim.step()
    assert pue.read(sim.snapshot(robots=False)) == ("–", NORMAL)
