"""What evolves in a simulation (``State``), the energy ledger, and what a step works
out beside the state for its snapshot (``StepOutputs``)."""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from twin.sim.hydraulics import LoopSolution

J_PER_KWH = 3.6e6


@dataclass(slots=True)
class Ledger:
    """Site energy ledger, all in joules since the start of the run."""

    energy_in_j: float = 0.0  # grid import + generators at their terminals
    heat_rejected_j: float = 0.0  # to outdoor air (dry coolers, towers, chillers, outdoor losses)
    stored_start_j: float = 0.0  # thermal energy held at the start (above 0 C)
    battery_start_j: float = 0.0  # BESS + UPS battery energy at the start

    def summary(self, stored_j: float, battery_j: float) -> dict[str, float]:
        d_stored = stored_j - self.stored_start_j
        d_battery = battery_j - self.battery_start_j
        residual = self.energy_in_j - self.heat_rejected_j - d_stored - d_battery
        scale = max(self.energy_in_j, 1.0)
        return {
            "energy_in_kwh": self.energy_in_j / J_PER_KWH,
            "heat_rejected_kwh": self.heat_rejected_j / J_PER_KWH,
            "thermal_stored_kwh": d_stored / J_PER_KWH,
            "battery_stored_kwh": d_battery / J_PER_KWH,
            "residual_kwh": residual / J_PER_KWH,
            "closure_error": residual / scale,
        }


@dataclass(slots=True)
class State:
    """Everything that evolves; arrays are updated in place by the step."""

    time_s: float
    step: int
    junction_c: np.ndarray  # per rack, representative GPU
    rack_coolant_c: np.ndarray
    gpu_power_w: np.ndarray  # per rack, after smoothing, caps and throttling
    throttled: np.ndarray
    tripped: np.ndarray
    cdu_coolant_c: np.ndarray  # secondary return / tank node
    cdu_supply_c: np.ndarray
    pump_speed: np.ndarray
    pump_integral: np.ndarray
    pump_manual_speed: np.ndarray  # per CDU: operator's fixed speed, NaN under dp control
    supply_setpoint_c: np.ndarray  # per CDU: TCS supply setpoint, the operator may change it
    pumps_available: np.ndarray
    cdu_online: np.ndarray
    valve: np.ndarray
    valve_integral: np.ndarray
    hall_air_c: np.ndarray
    crah_speed: np.ndarray
    crah_integral: np.ndarray
    facility_c: np.ndarray  # scalar node in a 1-element array: facility return header
    facility_supply_c: float
    rejection_fraction: float  # dry-cooler / tower fan command 0-1
    rejection_integral: float
    chilled_c: np.ndarray  # chilled water node for the CRAH coils
    chiller_integral: float
    power_cap_fraction: np.ndarray  # per rack
    smoothing_enabled: bool
    curtail_cap_fraction: np.ndarray  # per rack: demand-response cap on GPU power, 1 = none
    curtail_depth: float  # how many of the demand-response GPU levers are pulled, 0 = none
    chillers_in_service: int
    dry_coolers_in_service: int
    valve_stuck: np.ndarray  # per CDU, bool: the facility valve ignores its controller
    valve_stuck_at: np.ndarray  # per CDU, the opening it is stuck at
    leak_rate_lpm: np.ndarray  # per CDU, coolant escaping the secondary loop
    inventory_l: np.ndarray  # per CDU, coolant left in the secondary loop and its racks
    suction: np.ndarray  # per CDU, 0-1: pump head left as the loop runs short of coolant
    clog_factor: np.ndarray  # per CDU, series resistance over design (1 = clean)
    rack_liquid_isolated: np.ndarray  # per rack, bool: its branch's isolation valves shut
    rack_electrical_isolated: np.ndarray  # per rack, bool: its feed breakers open
    clog_ramp: list[tuple[int, float, float, float]] = field(default_factory=list)
    # (CDU, start s, ramp s, final factor) of strainers still fouling
    surges: list[tuple[float, np.ndarray, float]] = field(default_factory=list)
    # (end s, racks, utilization step) of workload surges in force
    heatwaves: list[tuple[float, float, float]] = field(default_factory=list)


@dataclass(frozen=True, slots=True)
class StepOutputs:
    """What the latest step worked out beside the state, for ``snapshot`` and the live
    view (SI units; arrays belong to the step: copy them to keep them)."""

    utilization: np.ndarray  # per rack, the step's mean demand 0-1
    rack_in_w: np.ndarray  # per rack, AC input through the PSUs
    liquid_w: np.ndarray  # per rack, heat into the coolant
    rack_tokens: np.ndarray  # per rack, tokens per second
    rack_inlet_c: np.ndarray
    rack_flow_lpm: np.ndarray
    loop: LoopSolution  # the CDUs' hydraulics
    hx_duty_w: np.ndarray  # per CDU, through its exchanger
    pumps_running: np.ndarray  # per CDU
    powered: np.ndarray  # per rack: ran through the step and still runs
    dry_w: float  # dry-cooler duty
    tower_w: float
    trim_w: float  # chillers trimming the facility water
    chw_duty_w: float  # chillers on the chilled water
    chiller_cop: float  # NaN while no chiller runs
    chillers_running: int
    fw_rise_k: float  # facility water's rise through the CDUs
