"""GUI fixtures: a simulation test double and a window factory that fails on leaks."""

from __future__ import annotations

import threading
from functools import cache

import numpy as np
import pytest

from twin.scenario import Scenario, load
from twin.sim.snapshot import (
    SITE_COLUMNS,
    CduState,
    PlantState,
    PowerState,
    RackState,
    Snapshot,
    frozen_fields,
)
from twin.sim.topology import Topology, build_topology


@cache
def scenario_named(name: str) -> Scenario:
    return load(name)


class FakeSimulation:
    """Stands in for the engine: real ``Snapshot`` objects of the scenario's sizes, with
    GPU temperatures that tests may set (``gpu_temp_c``) and a log of what happened."""

    def __init__(self, scenario: Scenario, dt_s: float = 1.0, step_delay_s: float = 0.0):
        self.topology: Topology = build_topology(scenario)
        self.dt_s = dt_s
        self.step_delay_s = step_delay_s
        self.steps = 0
        self.log: list[str] = []
        n = self.topology.rack_count
        self.gpu_temp_c = np.linspace(40.0, 80.0, n)
        self.tripped = np.zeros(n, bool)
        self.throttled = np.zeros(n, bool)

    @property
    def time_s(self) -> float:
        return self.steps * self.dt_s

    @property
    def has_output(self) -> bool:
        return self.steps > 0

    def step(self, n: int = 1) -> None:
        if self.step_delay_s:
            threading.Event().wait(self.step_delay_s * n)
        self.steps += n
        self.log.append(f"step {n}")

    def reset(self) -> None:
        self.steps = 0
        self.log.append("reset")

    def snapshot(self) -> Snapshot:
        n, c = self.topology.rack_count, self.topology.cdu_count
        halls = len(self.topology.hall_names)
        site = dict.fromkeys((name for name, _ in SITE_COLUMNS), 0.0)
        site.update(time_s=self.time_s, it_power_kw=n * 120.0, facility_power_kw=n * 132.0,
                    pue=1.1, gpu_temp_max_c=float(self.gpu_temp_c.max()), bess_soc=0.8,
                    grid_import_kw=n * 132.0, tokens_per_s=n * 4.3e5)
        ones = np.ones(n)
        racks = frozen_fields(
            RackState, utilization=0.8 * ones, power_kw=120.0 * ones,
            gpu_temp_c=self.gpu_temp_c, inlet_temp_c=35.0 * ones, outlet_temp_c=45.0 * ones,
            flow_lpm=180.0 * ones, liquid_heat_kw=100.0 * ones, throttled=self.throttled,
            tripped=self.tripped, tokens_per_s=4.3e5 * ones, power_cap_fraction=ones)
        cdus = frozen_fields(
            CduState, supply_c=np.full(c, 35.0), return_c=np.full(c, 45.0),
            flow_lpm=np.full(c, 2500.0), pump_speed=np.full(c, 0.7),
            pumps_running=np.ones(c, int), dp_kpa=np.full(c, 110.0),
            duty_kw=np.full(c, 1500.0), facility_valve=np.full(c, 0.6),
            pump_power_kw=np.full(c, 12.0), supply_setpoint_c=np.full(c, 35.0),
            pump_manual=np.zeros(c, bool))
        plant = frozen_fields(
            PlantState, fws_supply_c=30.0, fws_return_c=40.0, dry_cooler_duty_kw=30000.0,
            dry_cooler_fan_speed=0.6, dry_coolers_running=20, chiller_duty_kw=0.0,
            chillers_running=1, chiller_cop=5.0, tower_duty_kw=0.0,
            hall_air_c=np.full(halls, 27.0))
        power = frozen_fields(
            PowerState, hall_transformer_loading=np.full(halls, 0.6),
            hall_ups_loading=np.full(halls, 0.5),
            row_busway_loading=np.full(len(self.topology.row_names), 0.5),
            main_transformer_loading=0.45, plant_transformer_loading=0.4,
            hall_lv_voltage_pu=np.full(halls, 0.97), mv_voltage_pu=0.99,
            plant_lv_voltage_pu=0.98,
            grid_import_cap_kw=60000.0, utility_available=True, generators_online=0,
            gpu_power_smoothing=False)
        return Snapshot(step=self.steps, time_s=self.time_s, site=site, racks=racks,
                        cdus=cdus, plant=plant, power=power)


def _python_threads() -> set[threading.Thread]:
    return {t for t in threading.enumerate() if t.is_alive()}


@pytest.fixture
def make_window(qtbot, qapp):
    """Build a MainWindow on a FakeSimulation; close it afterwards and fail the test if
    top-level widgets or threads outlive it."""
    import vispy

    from twin.gui._qt.main_window import MainWindow

    vispy.use(app="pyside6", gl="gl+")
    widgets_before = set(qapp.topLevelWidgets())
    threads_before = _python_threads()
    windows: list[MainWindow] = []

    def factory(name: str = "seoul-ai-factory", **kwargs) -> MainWindow:
        scenario = scenario_named(name)
        simulation = kwargs.pop("simulation", None) or FakeSimulation(scenario)
        window = MainWindow(scenario, simulation, **kwargs)
        if kwargs.get("settings") is None:  # saved settings bring their own size
            window.resize(1280, 800)
        window.show()
        qtbot.waitExposed(window)
        windows.append(window)
        return window

    yield factory

    for window in windows:
        window.close()
        window.deleteLater()
    qtbot.waitUntil(lambda: all(not w.runner.running for w in windows), timeout=5000)
    qapp.processEvents()
    qapp.sendPostedEvents(None, 0)  # run the deleteLater calls
    qapp.processEvents()
    leaked_widgets = [w for w in qapp.topLevelWidgets()
                      if w not in widgets_before and w.isVisible()]
    leaked_threads = _python_threads() - threads_before
    if leaked_widgets or leaked_threads:
        pytest.fail(f"the window leaked widgets {leaked_widgets} or threads "
                    f"{[t.name for t in leaked_threads]}")
