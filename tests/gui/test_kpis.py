"""The site figures read from real snapshots, including undefined ones, and their levels
set by the alarm points' limits."""

from __future__ import annotations

import math
from types import SimpleNamespace

from twin.alarms import default_points
from twin.alarms.definitions import BESS_SOC_LOW_LOW_MARGIN, BESS_SOC_LOW_MARGIN
from twin.gui.kpis import ALARM, NORMAL, WARNING, alarm_levels, site_kpis
from twin.scenario import load
from twin.sim.engine import Simulation
from twin.sim.topology import build_topology


def _kpis(scenario):
    points = default_points(scenario, build_topology(scenario))
    return points, {kpi.key: kpi for kpi in site_kpis(scenario, points)}


def test_pue_reads_a_dash_without_it_load_and_three_decimals_with_it():
    scenario = load("single-rack").model_copy(update={"events": []})
    _, kpis = _kpis(scenario)
    sim = Simulation(scenario, dt_s=1.0)
    sim.step(60)
    snap = sim.snapshot(robots=False)
    assert kpis["pue"].read(snap) == (f"{snap.site['pue']:.3f}", NORMAL)
    sim.state.tripped[:] = True  # every rack down: no IT load, PUE undefined
    sim.step()
    assert kpis["pue"].read(sim.snapshot(robots=False)) == ("–", NORMAL)


def test_the_hottest_gpu_warns_at_the_throttle_alarm_and_alarms_at_its_high_high():
    scenario = load("seoul-ai-factory")
    points, kpis = _kpis(scenario)
    [gpu_point] = [p for p in points if p.tag == "rack.gpu_temp"]
    high, high_high = (float(min(limit.value)) for limit in gpu_point.limits)
    throttle_c = min(t.gpu_throttle_c for t in scenario.rack_types.values())
    assert high == throttle_c and high_high > high

    def level(temp_c: float) -> str:
        return kpis["gpu"].read(SimpleNamespace(site={"gpu_temp_max_c": temp_c}))[1]

    assert level(high - 0.1) == NORMAL
    assert level(high) == WARNING
    assert level(high_high - 0.1) == WARNING
    assert level(high_high) == ALARM


def test_the_bess_and_the_grid_import_read_as_their_alarms_do():
    scenario = load("seoul-ai-factory")
    points, kpis = _kpis(scenario)
    soc_min = scenario.power.bess.soc_min

    def soc_level(soc: float) -> str:
        return kpis["bess"].read(SimpleNamespace(site={"bess_soc": soc, "bess_power_kw": 0.0}))[1]

    assert soc_level(soc_min + BESS_SOC_LOW_MARGIN + 0.01) == NORMAL
    assert soc_level(soc_min + BESS_SOC_LOW_MARGIN - 0.01) == WARNING
    assert soc_level(soc_min + BESS_SOC_LOW_LOW_MARGIN - 0.01) == ALARM
    # one limit (the import cap): a warning within its deadband below it
    levels = alarm_levels(points, "site.grid_import")
    assert (levels.warning, levels.alarm, levels.high) == (99.0, 100.0, True)

    def grid_level(used_kw: float) -> str:
        snap = SimpleNamespace(
            site={"grid_import_kw": used_kw}, power=SimpleNamespace(grid_import_cap_kw=1000.0)
        )
        return kpis["grid"].read(snap)[1]

    assert [grid_level(kw) for kw in (980.0, 995.0, 1000.0)] == [NORMAL, WARNING, ALARM]


def test_a_site_without_a_bess_never_warns_of_its_charge():
    scenario = load("single-rack")
    bess = scenario.power.bess.model_copy(update={"energy_mwh": 0.0})
    scenario = scenario.model_copy(
        update={"power": scenario.power.model_copy(update={"bess": bess})}
    )
    points, kpis = _kpis(scenario)
    assert alarm_levels(points, "site.bess_soc") is None
    assert (
        kpis["bess"].read(SimpleNamespace(site={"bess_soc": 0.0, "bess_power_kw": 0.0}))[1]
        == NORMAL
    )


def test_an_undefined_figure_reads_normal():
    _, kpis = _kpis(load("single-rack"))
    assert kpis["gpu"].read(SimpleNamespace(site={"gpu_temp_max_c": math.nan}))[1] == NORMAL


def test_tripped_racks_have_their_own_red_tile_beside_the_amber_throttled_gpus():
    _, kpis = _kpis(load("seoul-ai-factory"))

    def read(key: str, gpus: float, racks: float) -> tuple[str, str]:
        return kpis[key].read(
            SimpleNamespace(site={"throttled_gpus": gpus, "tripped_racks": racks})
        )

    assert read("throttled", 0, 11) == ("0", NORMAL)
    assert read("tripped", 0, 11) == ("11", ALARM)
    assert read("throttled", 8640, 0) == ("8,640", WARNING)
    assert read("tripped", 8640, 0) == ("0", NORMAL)
    assert "of 336" in kpis["tripped"].tooltip


def test_the_bess_reads_charging_or_discharging_with_its_power_unsigned_in_mw():
    _, kpis = _kpis(load("seoul-ai-factory"))

    def text(soc: float, power_kw: float) -> str:
        return kpis["bess"].read(
            SimpleNamespace(site={"bess_soc": soc, "bess_power_kw": power_kw})
        )[0]

    assert text(0.62, -12_345.0) == "62 % · charging 12.3 MW"
    assert text(0.62, 3_100.0) == "62 % · discharging 3.1 MW"
    assert text(0.62, -20.0) == "62 % · idle"  # the converter's standby draw
    assert "-" not in text(0.5, -9_000.0) and "+" not in text(0.5, 9_000.0)
