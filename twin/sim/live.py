"""A copy-free view of a simulation's latest step, read as a ``Snapshot`` is.

``Simulation.snapshot()`` copies every array so that another thread can keep it. A reader
on the stepping thread that is done before the next step (the alarm scan of ``twin run``
and of the window's simulation thread) needs none of that: ``LiveView`` has the same
attributes (``site``, ``racks.gpu_temp_c``, ``cdus.pumps_running``, ``power.*``...) and
builds each field only when it is read, from the simulation's own arrays. Its values change
with the next step; keep none of them. The fields mirror ``Simulation.snapshot`` one for
one (a test compares every field of both).
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Mapping
from typing import TYPE_CHECKING, Any

import numpy as np

from twin.sim.nodes import units_running
from twin.sim.power import POWER_FIELDS as CHAIN_FIELDS
from twin.sim.snapshot import SITE_NAMES

if TYPE_CHECKING:
    from twin.sim.engine import Simulation

Getter = Callable[["Simulation"], Any]


RACK_FIELDS: dict[str, Getter] = {
    "utilization": lambda sim: sim.outputs.utilization,
    "power_kw": lambda sim: sim.outputs.rack_in_w / 1e3,
    "gpu_temp_c": lambda sim: sim.state.junction_c,
    "inlet_temp_c": lambda sim: sim.outputs.rack_inlet_c,
    "outlet_temp_c": lambda sim: sim.state.rack_coolant_c,
    "flow_lpm": lambda sim: sim.outputs.rack_flow_lpm,
    "liquid_heat_kw": lambda sim: sim.outputs.liquid_w / 1e3,
    "throttled": lambda sim: sim.state.throttled,
    "tripped": lambda sim: sim.state.tripped,
    "tokens_per_s": lambda sim: sim.outputs.rack_tokens,
    "power_cap_fraction": lambda sim: sim.state.power_cap_fraction,
    "liquid_isolated": lambda sim: sim.state.rack_liquid_isolated,
    "electrical_isolated": lambda sim: sim.state.rack_electrical_isolated,
}
CDU_FIELDS: dict[str, Getter] = {
    "supply_c": lambda sim: sim.state.cdu_supply_c,
    "return_c": lambda sim: sim.state.cdu_coolant_c,
    "flow_lpm": lambda sim: sim.outputs.loop.flow_lpm,
    "pump_speed": lambda sim: sim.state.pump_speed,
    "pumps_running": lambda sim: sim.outputs.pumps_running,
    "dp_kpa": lambda sim: sim.outputs.loop.branch_dp_kpa,
    "duty_kw": lambda sim: sim.outputs.hx_duty_w / 1e3,
    "facility_valve": lambda sim: sim.state.valve,
    "pump_power_kw": lambda sim: sim.outputs.loop.pump_power_w / 1e3,
    "supply_setpoint_c": lambda sim: sim.state.supply_setpoint_c,
    "pump_manual": lambda sim: ~np.isnan(sim.state.pump_manual_speed),
    "valve_stuck": lambda sim: sim.state.valve_stuck,
    "leak_detected": lambda sim: sim.state.leak_rate_lpm > 0,
    "inventory_fraction": lambda sim: sim.state.inventory_l / sim.cdu_inventory_l,
    "filter_resistance_factor": lambda sim: sim.state.clog_factor,
}


PLANT_FIELDS: dict[str, Getter] = {
    "fws_supply_c": lambda sim: float(sim.state.facility_c[0]),
    "fws_return_c": lambda sim: float(sim.state.facility_c[0] + sim.outputs.fw_rise_k),
    "dry_cooler_duty_kw": lambda sim: sim.outputs.dry_w / 1e3,
    "dry_cooler_fan_speed": lambda sim: sim.state.rejection_fraction,
    "dry_coolers_running": lambda sim: (
        units_running(
            sim.state.rejection_fraction, sim.state.dry_coolers_in_service, sim.dry_cooler_min_speed
        )
        if sim.outputs.dry_w > 0
        else 0
    ),
    "dry_coolers_available": lambda sim: sim.state.dry_coolers_in_service,
    "chillers_available": lambda sim: sim.state.chillers_in_service,
    "chiller_duty_kw": lambda sim: (sim.outputs.chw_duty_w + sim.outputs.trim_w) / 1e3,
    "chillers_running": lambda sim: sim.outputs.chillers_running,
    "chiller_cop": lambda sim: sim.outputs.chiller_cop,
    "tower_duty_kw": lambda sim: sim.outputs.tower_w / 1e3,
    "hall_air_c": lambda sim: sim.state.hall_air_c,
}


def _of_chain(field: Callable[[Any], object]) -> Getter:
    return lambda sim: field(sim.power_chain)


POWER_FIELDS: dict[str, Getter] = {
    **{name: _of_chain(field) for name, field in CHAIN_FIELDS.items()},
    "gpu_power_smoothing": lambda sim: sim.state.smoothing_enabled,
}


def _group(name: str, fields: dict[str, Getter]) -> type:
    """A class for one state group (racks, CDUs, plant, power) whose attributes are its
    fields, each built from the simulation when read (plain properties: a field is found
    at once, where a ``__getattr__`` would be tried only after a failed lookup)."""

    def field(getter: Getter) -> property:
        return property(lambda self: getter(self._sim))

    def __init__(self, sim: Simulation) -> None:
        self._sim = sim

    namespace: dict[str, Any] = {"__slots__": ("_sim",), "__init__": __init__}
    namespace.update({field_name: field(getter) for field_name, getter in fields.items()})
    return type(name, (), namespace)


_LiveRacks = _group("LiveRacks", RACK_FIELDS)
_LiveCdus = _group("LiveCdus", CDU_FIELDS)
_LivePlant = _group("LivePlant", PLANT_FIELDS)
_LivePower = _group("LivePower", POWER_FIELDS)
_SITE_INDEX = {name: i for i, name in enumerate(SITE_NAMES)}


class _LiveSite(Mapping[str, float]):
    """The site figures as a snapshot's ``site`` dict reads them, each taken from the
    simulation's site row when read."""

    __slots__ = ("_values",)

    def __init__(self, values: np.ndarray) -> None:
        self._values = values

    def __getitem__(self, name: str) -> float:
        return float(self._values[_SITE_INDEX[name]])

    def __iter__(self) -> Iterator[str]:
        return iter(SITE_NAMES)

    def __len__(self) -> int:
        return len(SITE_NAMES)


class LiveView:
    """The latest step as a snapshot reads it (``step``, ``time_s``, ``site``, ``racks``,
    ``cdus``, ``plant``, ``power``; ``robots`` is None), without copies."""

    __slots__ = ("cdus", "plant", "power", "racks", "robots", "site", "step", "time_s")

    def __init__(self, sim: Simulation) -> None:
        self.step = sim.state.step
        self.time_s = sim.state.time_s
        self.site = _LiveSite(sim.site_values())
        self.racks = _LiveRacks(sim)
        self.cdus = _LiveCdus(sim)
        self.plant = _LivePlant(sim)
        self.power = _LivePower(sim)
        self.robots = None
