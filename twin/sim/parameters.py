"""The site's constants compiled from a scenario into flat per-rack and per-CDU arrays
(SI units), once, before the first step; the step reads only these."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from twin.scenario import Scenario
from twin.sim.topology import Topology


@dataclass(frozen=True, slots=True)
class RackParams:
    """Per-rack constants compiled from the rack types (SI units)."""

    gpus: np.ndarray
    gpu_tdp_w: np.ndarray  # per GPU
    gpu_idle_w: np.ndarray
    other_w: np.ndarray  # per rack at full load
    other_idle_w: np.ndarray
    liquid_other_fraction: np.ndarray  # share of non-GPU power into cold plates
    junction_resistance_k_per_w: np.ndarray  # per GPU
    junction_capacity_j_per_k: np.ndarray  # per GPU, from time constant / resistance
    throttle_c: np.ndarray
    release_c: np.ndarray
    critical_c: np.ndarray
    coolant_capacity_j_per_k: np.ndarray
    branch_k_kpa_per_lpm2: np.ndarray  # dp = k Q^2 at the design point
    design_flow_lpm: np.ndarray
    tokens_per_s_per_gpu: np.ndarray
    nameplate_w: np.ndarray


def compile_racks(s: Scenario, topo: Topology, tcs_cp: float, tcs_rho: float) -> RackParams:
    types = [s.rack_types[name] for name in topo.rack_type_names]

    def per_rack(values: list[float]) -> np.ndarray:
        return np.asarray(values, dtype=float)[topo.rack_type]

    def liquid_other(t) -> float:
        # GPUs sit on cold plates entirely; the rest of the scenario's liquid share falls on
        # the non-GPU parts (CPUs, NVLink switches, NICs), taken at nameplate.
        gpu_w = t.gpus * t.gpu_tdp_w
        other_w = t.other_power_kw * 1000.0
        if other_w <= 0:
            return 0.0
        return float(np.clip((t.liquid_fraction * (gpu_w + other_w) - gpu_w) / other_w, 0, 1))

    resistance = per_rack([t.gpu_thermal_resistance_k_per_w for t in types])
    volume_m3 = per_rack([t.coolant_volume_l / 1000.0 for t in types])
    flow = per_rack([t.design_flow_lpm for t in types])
    return RackParams(
        gpus=per_rack([t.gpus for t in types]),
        gpu_tdp_w=per_rack([t.gpu_tdp_w for t in types]),
        gpu_idle_w=per_rack([t.gpu_idle_w for t in types]),
        other_w=per_rack([t.other_power_kw * 1000.0 for t in types]),
        other_idle_w=per_rack([t.other_idle_power_kw * 1000.0 for t in types]),
        liquid_other_fraction=per_rack([liquid_other(t) for t in types]),
        junction_resistance_k_per_w=resistance,
        junction_capacity_j_per_k=per_rack([t.gpu_time_constant_s for t in types]) / resistance,
        throttle_c=per_rack([t.gpu_throttle_c for t in types]),
        release_c=per_rack([t.gpu_throttle_release_c for t in types]),
        critical_c=per_rack([t.gpu_critical_c for t in types]),
        coolant_capacity_j_per_k=volume_m3 * tcs_rho * tcs_cp,
        branch_k_kpa_per_lpm2=per_rack([t.design_pressure_drop_kpa for t in types]) / flow**2,
        design_flow_lpm=flow,
        tokens_per_s_per_gpu=per_rack([t.tokens_per_s_per_gpu for t in types]),
        nameplate_w=per_rack([t.nameplate_kw * 1000.0 for t in types]),
    )


@dataclass(frozen=True, slots=True)
class CduParams:
    pumps_installed: np.ndarray  # int
    pumps_required: np.ndarray  # int, run together (N of N+1)
    shutoff_head_kpa: np.ndarray
    curve_a_kpa_per_lpm2: np.ndarray  # H = n^2 H0 - a Q_pump^2
    pump_efficiency: np.ndarray
    min_speed: np.ndarray
    hx_ua_w_per_k: np.ndarray
    hx_k_kpa_per_lpm2: np.ndarray  # exchanger + manifolds in series with the branches
    capacity_j_per_k: np.ndarray  # secondary coolant
    supply_setpoint_c: np.ndarray
    dp_setpoint_kpa: np.ndarray
    facility_design_flow_kg_per_s: np.ndarray
    branch_conductance_sum: np.ndarray  # sum over racks of 1/sqrt(k), design valves
