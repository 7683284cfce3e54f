"""The coupled site simulation: workload, chips, coolant loops, plant, air, power, ledger.

``Simulation.from_scenario`` compiles a validated scenario once into flat arrays (the
shared ``Site`` of ``twin.sim.site``, the per-rack and per-CDU constants of
``twin.sim.parameters``, every other constant the step needs); ``step`` advances every
model by dt in a fixed order, reading no scenario model; ``snapshot`` copies the state
(``twin.sim.state``) and the step's ``StepOutputs`` out into an immutable ``Snapshot``.
Events act through ``twin.sim.events``; the coupled nodes a step solves are in
``twin.sim.nodes``.

Order inside a step: events -> weather -> workload (step mean and the swing's two levels)
-> GPU power (caps, smoothing, throttling) -> CDU hydraulics and pump PI -> chips, rack
coolant and CDU secondary nodes with the facility valves, one implicit solve in which
throttles and trips are located inside the step -> rack PSUs -> hall air + CRAHs ->
chillers on chilled water -> facility water with the CDUs' exchangers, free cooling
and the dry-cooler / tower fan PI, chiller trim -> robots -> power chain, BESS,
generators -> repaired racks back online, robots sent to racks that tripped -> ledger.

Numerics (the README's "Numerics" section has the reasons): the GPU junction is an
exact exponential over the rack coolant's end-of-step temperature, its throttle and
trip crossings roots of it; rack coolant, CDU and facility-water nodes are backward
Euler, coupled and solved in closed form (affine in their downstream neighbour), stable
for any dt and any number of racks per CDU; hall air is an exact exponential; the
valve, CRAH and fan PI controllers are solved at the step's end (``pi_implicit``);
every flow between nodes is the residual of the node it leaves, so the site ledger
closes to rounding whatever dt is.
"""

from __future__ import annotations

import itertools
import math
from dataclasses import replace
from typing import Any

import numpy as np

from twin.scenario import Scenario
from twin.sim import DT_RANGE_S, dt_in_range
from twin.sim.control import pi_implicit, pi_implicit_scalar, valve_flow_fraction
from twin.sim.coolant import CoolantTable
from twin.sim.events import SiteEvents
from twin.sim.hydraulics import (
    CduLoopParams,
    LoopSolution,
    branch_dp_per_speed2_kpa,
    solve_loops,
)
from twin.sim.live import LiveView
from twin.sim.nodes import (
    CduLoop,
    ChipProfile,
    FacilityWater,
    StoppingHeat,
    ideal_removal,
    staged_fan_power,
    units_running,
    weighted,
)
from twin.sim.parameters import CduParams, compile_racks
from twin.sim.plant import ChillerPlant, economizer_share, facility_pump_power_w
from twin.sim.power import GENERATOR_FAILED, PowerChain
from twin.sim.robotics.workcells import Workcells
from twin.sim.shelf_storage import ShelfStorage
from twin.sim.site import Site
from twin.sim.snapshot import (
    SITE_COLUMNS,
    SITE_NAMES,
    CduState,
    PlantState,
    PowerState,
    RackState,
    Snapshot,
    frozen_fields,
)
from twin.sim.state import J_PER_KWH, Ledger, State, StepOutputs
from twin.sim.sums import GroupSums
from twin.sim.thermal import relaxed_from_gap_c
from twin.sim.weather import Weather
from twin.sim.workload import WorkloadModel

AIR_DENSITY_KG_PER_M3 = 1.18  # dry air at 25 C, 1 atm
AIR_CP_J_PER_KG_K = 1006.0


class Simulation(SiteEvents):
    """The whole site, advanced in fixed steps of ``dt_s``; deterministic for a seed."""

    # the step's constants (``_use_step``)
    junction_decay: np.ndarray
    junction_relax_k_per_w: np.ndarray
    junction_from_end: np.ndarray
    junction_from_start: np.ndarray
    rack_chip_conductance_w_per_k: np.ndarray
    rack_capacity_per_s: np.ndarray
    junction_decay_less_one: np.ndarray  # decay - 1
    junction_released: np.ndarray  # 1 - decay
    junction_capacity_per_s: np.ndarray  # junction capacity / dt, J/K/s
    rack_node_conductance_w_per_k: np.ndarray  # coolant capacity / dt + chips' conductance
    _step_full_s: np.ndarray  # dt for every rack (read only)

    def __init__(
        self,
        scenario: Scenario,
        seed: int | None = None,
        dt_s: float = 1.0,
        site: Site | None = None,
    ):
        """``site``: the scenario's ``Site`` when the caller has built it already."""
        if not dt_in_range(dt_s):
            raise ValueError(
                f"dt_s must lie in {DT_RANGE_S[0]:g} .. {DT_RANGE_S[1]:g} s, got {dt_s}"
            )
        self.scenario = scenario
        self.seed = scenario.scenario.seed if seed is None else seed
        self.dt_s = float(dt_s)
        self.site = Site.build(scenario) if site is None else site
        self.topology = self.site.topology
        self._compile()
        self.reset()

    @classmethod
    def from_scenario(
        cls,
        scenario: Scenario,
        seed: int | None = None,
        dt_s: float = 1.0,
        site: Site | None = None,
    ) -> Simulation:
        return cls(scenario, seed=seed, dt_s=dt_s, site=site)

    @property
    def time_s(self) -> float:
        return self.state.time_s

    # ------------------------------------------------------------------ compile

    def _compile(self) -> None:
        s, topo = self.scenario, self.topology
        self.tcs = CoolantTable.build(s.coolant.tcs_fluid, s.coolant.pressure_kpa)
        self.fws = CoolantTable.build(s.coolant.facility_fluid, s.coolant.pressure_kpa)
        cdu_types = [s.cdu_types[name] for name in topo.cdu_type_names]
        t_design = float(np.mean([c.supply_setpoint_c for c in cdu_types])) + 5.0
        # Coolant masses are fixed, so capacities use properties at the design temperature;
        # flows use properties at the loop's current temperature each step.
        tcs_rho, tcs_cp = float(self.tcs.density(t_design)), float(self.tcs.cp(t_design))
        fw_t = s.facility_water.supply_setpoint_c + 5.0
        fw_rho, fw_cp = float(self.fws.density(fw_t)), float(self.fws.cp(fw_t))
        self.racks = compile_racks(s, topo, tcs_cp, tcs_rho)
        r = self.racks

        def per_cdu(values: list[float]) -> np.ndarray:
            return np.asarray(values, dtype=float)[topo.cdu_type]

        design_total_lpm = np.bincount(
            topo.rack_cdu, weights=r.design_flow_lpm, minlength=topo.cdu_count
        )
        shutoff = per_cdu([c.pump_shutoff_head_kpa for c in cdu_types])
        design_head = per_cdu([c.pump_design_head_kpa for c in cdu_types])
        design_flow = per_cdu([c.pump_design_flow_lpm for c in cdu_types])
        self.cdus = CduParams(
            pumps_installed=per_cdu([c.pumps for c in cdu_types]).astype(np.int64),
            pumps_required=per_cdu([c.pumps_required for c in cdu_types]).astype(np.int64),
            shutoff_head_kpa=shutoff,
            curve_a_kpa_per_lpm2=(shutoff - design_head) / design_flow**2,
            pump_efficiency=per_cdu([c.pump_efficiency for c in cdu_types]),
            min_speed=per_cdu([c.pump_min_speed for c in cdu_types]),
            hx_ua_w_per_k=per_cdu([c.hx_ua_kw_per_k * 1000.0 for c in cdu_types]),
            hx_k_kpa_per_lpm2=per_cdu([c.hx_pressure_drop_kpa for c in cdu_types])
            / np.maximum(design_total_lpm, 1e-9) ** 2,
            capacity_j_per_k=per_cdu([c.secondary_volume_l / 1000.0 for c in cdu_types])
            * tcs_rho
            * tcs_cp,
            supply_setpoint_c=per_cdu([c.supply_setpoint_c for c in cdu_types]),
            dp_setpoint_kpa=per_cdu([c.dp_setpoint_kpa for c in cdu_types]),
            facility_design_flow_kg_per_s=per_cdu([c.facility_design_flow_lpm for c in cdu_types])
            / 60000.0
            * fw_rho,
            branch_conductance_sum=np.bincount(
                topo.rack_cdu,
                weights=1.0 / np.sqrt(r.branch_k_kpa_per_lpm2),
                minlength=topo.cdu_count,
            ),
        )
        # the facility valves' characteristic: linear (the opening is the flow fraction)
        # unless a CDU type says otherwise
        self.valve_equal_share = per_cdu([c.facility_valve_equal_percentage for c in cdu_types])
        self.valve_rangeability = per_cdu([c.facility_valve_rangeability for c in cdu_types])
        self.valves_linear = not bool(np.any(self.valve_equal_share))
        self.rack_inv_sqrt_k = 1.0 / np.sqrt(r.branch_k_kpa_per_lpm2)
        self.rack_idle_w = r.gpus * r.gpu_idle_w
        self.rack_dynamic_w = r.gpus * (r.gpu_tdp_w - r.gpu_idle_w)
        self.rack_tdp_w = r.gpus * r.gpu_tdp_w
        self.rack_other_dynamic_w = r.other_w - r.other_idle_w
        self.rack_full_tokens = r.gpus * r.tokens_per_s_per_gpu
        self.rack_junction_capacity_j_per_k = r.gpus * r.junction_capacity_j_per_k
        self.junction_tau_s = r.junction_resistance_k_per_w * r.junction_capacity_j_per_k
        self.loop_params = CduLoopParams(
            shutoff_head_kpa=self.cdus.shutoff_head_kpa,
            curve_a_kpa_per_lpm2=self.cdus.curve_a_kpa_per_lpm2,
            series_k_kpa_per_lpm2=self.cdus.hx_k_kpa_per_lpm2,
            pump_efficiency=self.cdus.pump_efficiency,
        )
        self._loop = LoopSolution.empty(topo.cdu_count)
        # the scenario's UA, restored on a reset (``set_cdu_exchanger_ua`` changes it)
        self._design_hx_ua_w_per_k = self.cdus.hx_ua_w_per_k.copy()

        halls = s.halls
        self.hall_air_capacity_j_per_k = np.array(
            [h.air_volume_m3 * AIR_DENSITY_KG_PER_M3 * AIR_CP_J_PER_KG_K for h in halls]
        )
        chillers = s.heat_rejection.chillers
        self.crah_design_conductance_w_per_k = np.array(
            [
                h.crah_capacity_kw
                * 1000.0
                / max(h.room_setpoint_c - chillers.chilled_water_supply_c, 1.0)
                for h in halls
            ]
        )
        self.crah_fan_w = np.array([h.crah_fan_power_kw * 1000.0 for h in halls])
        self.room_setpoint_c = np.array([h.room_setpoint_c for h in halls])

        fw = s.facility_water
        self.fw_capacity_j_per_k = fw.volume_m3 * fw_rho * fw_cp
        self.fw_design_flow_kg_per_s = fw.pump_design_flow_lps / 1000.0 * fw_rho
        self.fw_cp = fw_cp
        self.chw_capacity_j_per_k = chillers.chilled_water_volume_m3 * fw_rho * fw_cp

        hr = s.heat_rejection
        self.dry_cooler_conductance_w_per_k = (
            hr.dry_coolers.count
            * hr.dry_coolers.capacity_kw
            * 1000.0
            / hr.dry_coolers.design_approach_k
        )
        self.dry_cooler_fan_w = hr.dry_coolers.count * hr.dry_coolers.fan_power_kw * 1000.0
        self.tower_conductance_w_per_k = (
            hr.cooling_towers.count
            * hr.cooling_towers.capacity_kw
            * 1000.0
            / hr.cooling_towers.design_approach_k
        )
        self.chillers = ChillerPlant(chillers)
        # the economizer's dry coolers draw the facility dry coolers' fan power per kW
        self.economizer_fan_w_per_w = hr.dry_coolers.fan_power_kw / hr.dry_coolers.capacity_kw
        self.chiller_spec, self.facility_water_spec = chillers, fw  # frozen models
        self.chiller_count = chillers.count
        self.chilled_water_setpoint_c = chillers.chilled_water_supply_c
        self.facility_setpoint_c = fw.supply_setpoint_c
        self.dry_cooler_count = hr.dry_coolers.count
        self.dry_cooler_min_speed: float = hr.dry_coolers.min_speed
        self.tower_fan_w_per_w = hr.cooling_towers.fan_power_kw_per_kw
        self.tower_water_l_per_kwh = hr.cooling_towers.water_l_per_kwh
        self.grid_carbon_kg_per_kwh = s.power.utility.carbon_kg_per_kwh
        self.generator_carbon_kg_per_kwh = s.power.generators.carbon_kg_per_kwh

        # GPU management: NVML smoothing's ramp limits per rack and step, its floor, and
        # the power a throttled GPU keeps
        gm = s.gpu_management
        self.smoothing_up_w_per_s = gm.smoothing_ramp_up_w_per_s * r.gpus
        self.smoothing_down_w_per_s = gm.smoothing_ramp_down_w_per_s * r.gpus
        self.smoothing_floor_w = gm.smoothing_floor_fraction * self.rack_tdp_w
        self.throttle_power_fraction = gm.throttle_power_fraction
        self.throttle_power_cut = 1.0 - gm.throttle_power_fraction

        # the topology's index arrays as numpy's own index type, which bincount and
        # gathers take without a conversion every step
        self.rack_cdu = topo.rack_cdu.astype(np.intp)
        self.rack_hall = topo.rack_hall.astype(np.intp)
        self.hall_of_cdu = topo.cdu_hall.astype(np.intp)
        self.hall_count = len(halls)
        # sums over each CDU's and each hall's racks, and over each hall's CDUs
        self.sum_by_cdu = GroupSums(self.rack_cdu, topo.cdu_count)
        self.sum_by_hall = GroupSums(self.rack_hall, self.hall_count)
        self.sum_cdus_by_hall = GroupSums(self.hall_of_cdu, self.hall_count)
        self.rack_names = [topo.rack_name(i) for i in range(topo.rack_count)]
        self.tariff_krw_per_kwh = np.asarray(s.power.utility.tariff_krw_per_kwh, dtype=float)
        self.rack_count_per_cdu = np.bincount(topo.rack_cdu, minlength=topo.cdu_count)
        # racks listed CDU by CDU (as the built-in sites are): a CDU's value reaches its
        # racks by repetition, cheaper than a gather
        self._racks_by_cdu = bool(np.all(np.diff(topo.rack_cdu) >= 0))
        # as many racks on every CDU: one count repeats faster than a count per CDU
        counts = np.unique(self.rack_count_per_cdu)
        self._repeats: int | np.ndarray = (
            int(counts[0]) if counts.size == 1 else self.rack_count_per_cdu
        )
        rack_volume_l = np.asarray(
            [s.rack_types[n].coolant_volume_l for n in topo.rack_type_names]
        )[topo.rack_type]
        self.cdu_inventory_l = per_cdu([c.secondary_volume_l for c in cdu_types]) + np.bincount(
            topo.rack_cdu, weights=rack_volume_l, minlength=topo.cdu_count
        )
        self.rack_index = {name: i for i, name in enumerate(self.rack_names)}
        self.cell_index = {c.name: k for k, c in enumerate(s.workcells)}
        self.cell_names = np.array([c.name for c in s.workcells], dtype=object)
        self.cell_is_service = np.array([c.kind == "service" for c in s.workcells], dtype=bool)
        self.weather = Weather.from_scenario(s, self.seed)
        self.facility_supply: Any = None  # see drive_with
        self.power_chain = PowerChain.from_scenario(s, topo, self.seed)
        self.robots = Workcells(s, topo, self.site.layout)
        self.operator_reset_s = s.site.operator_reset_s
        self._events = sorted(s.events, key=lambda e: e.at_s)
        self._util = np.zeros(topo.rack_count)
        self.refine_step_s = refine_step_s(self.fw_capacity_j_per_k, self.facility_loop_g_w_per_k())
        self._step_constants: dict[float, tuple[np.ndarray, ...]] = {}
        # the facility side's capacity rate per unit of valve opening, with and without
        # power for the cooling (the step's product, worked out once)
        self._cold_per_valve = {
            on: self.cdus.facility_design_flow_kg_per_s * self.fw_cp * on for on in (False, True)
        }
        for rate in self._cold_per_valve.values():
            rate.flags.writeable = False
        self._use_step(self.dt_s)

    def facility_loop_g_w_per_k(self) -> float:
        """What the facility water exchanges per K at design: the CDU exchangers at their
        design flow and the dry coolers and towers at full fan, W/K."""
        exchangers = float(np.sum(self.cdus.facility_design_flow_kg_per_s)) * self.fw_cp
        return exchangers + self.dry_cooler_conductance_w_per_k + self.tower_conductance_w_per_k

    def _use_step(self, dt_s: float) -> None:
        """Take steps of ``dt_s`` from now on: the step's constants of the chips' exact and
        the rack coolant's implicit updates (kept per step size, a refined step switches
        between two)."""
        constants = self._step_constants.get(dt_s)
        if constants is None:
            r = self.racks
            relax = -np.expm1(-dt_s / self.junction_tau_s)
            # the coolant under the chips moves linearly from its start to its end value
            # over the step: weights of the two in the junction's exact end temperature
            from_end = 1.0 - self.junction_tau_s * relax / dt_s
            decay = np.exp(-dt_s / self.junction_tau_s)
            chip_conductance = self.rack_junction_capacity_j_per_k * from_end / dt_s
            capacity_per_s = r.coolant_capacity_j_per_k / dt_s
            full = np.full(r.gpus.shape, dt_s)  # a steady profile's switch times
            full.flags.writeable = False
            constants = (
                decay,
                relax * r.junction_resistance_k_per_w,
                from_end,
                relax - from_end,
                chip_conductance,
                capacity_per_s,
                decay - 1.0,
                1.0 - decay,
                r.junction_capacity_j_per_k / dt_s,
                capacity_per_s + chip_conductance,
                full,
            )
            if len(self._step_constants) >= STEP_SIZES_KEPT:
                # pieces split at the demand's changes come in as many lengths as the
                # changes have phases against the step: keep the latest few
                del self._step_constants[next(iter(self._step_constants))]
            self._step_constants[dt_s] = constants
        self.dt_s = dt_s
        (
            self.junction_decay,
            self.junction_relax_k_per_w,
            self.junction_from_end,
            self.junction_from_start,
            self.rack_chip_conductance_w_per_k,
            self.rack_capacity_per_s,
            self.junction_decay_less_one,
            self.junction_released,
            self.junction_capacity_per_s,
            self.rack_node_conductance_w_per_k,
            self._step_full_s,
        ) = constants

    def set_step(self, dt_s: float) -> None:
        """Take steps of ``dt_s`` from the next one on (a kiosk's time-lapse takes coarse
        steps, its close-ups fine ones): the physics is the same at any step in
        ``DT_RANGE_S`` (README, "Numerics")."""
        if not dt_in_range(dt_s):
            raise ValueError(
                f"dt_s must lie in {DT_RANGE_S[0]:g} .. {DT_RANGE_S[1]:g} s, got {dt_s}"
            )
        self._use_step(float(dt_s))

    # ------------------------------------------------------------------ state

    def reset(self) -> None:
        """Back to the scenario's start: plant at its setpoints, racks idle, batteries as set."""
        topo, r, c = self.topology, self.racks, self.cdus
        n, m, h = topo.rack_count, topo.cdu_count, len(self.scenario.halls)
        s = self.scenario
        c.hx_ua_w_per_k[:] = self._design_hx_ua_w_per_k
        supply = c.supply_setpoint_c.copy()
        rack_coolant = supply[topo.rack_cdu].copy()
        idle_w = r.gpu_idle_w
        self.state = State(
            time_s=0.0,
            step=0,
            junction_c=rack_coolant + r.junction_resistance_k_per_w * idle_w,
            rack_coolant_c=rack_coolant,
            gpu_power_w=r.gpus * idle_w,
            throttled=np.zeros(n, dtype=bool),
            tripped=np.zeros(n, dtype=bool),
            cdu_coolant_c=supply.copy(),
            cdu_supply_c=supply,
            pump_speed=np.full(m, 0.8),
            pump_integral=np.full(m, 0.8),  # integral in output units: bumpless start
            pump_manual_speed=np.full(m, np.nan),
            supply_setpoint_c=c.supply_setpoint_c.copy(),
            pumps_available=c.pumps_installed.copy(),
            cdu_online=np.ones(m, dtype=bool),
            valve=np.full(m, 0.5),
            valve_integral=np.full(m, 0.5),
            hall_air_c=self.room_setpoint_c.copy(),
            crah_speed=np.full(h, 0.5),
            crah_integral=np.full(h, 0.5),
            facility_c=np.array([s.facility_water.supply_setpoint_c]),
            facility_supply_c=s.facility_water.supply_setpoint_c,
            rejection_fraction=0.5,
            rejection_integral=0.5,
            chilled_c=np.array([s.heat_rejection.chillers.chilled_water_supply_c]),
            chiller_integral=0.0,
            power_cap_fraction=np.full(n, s.gpu_management.power_cap_fraction),
            smoothing_enabled=s.gpu_management.smoothing_enabled,
            curtail_cap_fraction=np.ones(n),
            curtail_depth=0.0,
            chillers_in_service=s.heat_rejection.chillers.count,
            dry_coolers_in_service=s.heat_rejection.dry_coolers.count,
            valve_stuck=np.zeros(m, dtype=bool),
            valve_stuck_at=np.zeros(m),
            leak_rate_lpm=np.zeros(m),
            inventory_l=self.cdu_inventory_l.copy(),
            suction=np.ones(m),
            clog_factor=np.ones(m),
            rack_liquid_isolated=np.zeros(n, dtype=bool),
            rack_electrical_isolated=np.zeros(n, dtype=bool),
        )
        self.loop_params = replace(
            self.loop_params, series_k_kpa_per_lpm2=self.cdus.hx_k_kpa_per_lpm2
        )
        self.workload = WorkloadModel.build(s, topo, self.seed)
        self._curtail_levers = curtail_levers(self.workload, n)
        dr = s.demand_response
        # the scenario's programme: plus DR raises the import; generators only if it allows
        self._dr_raises = dr is not None and dr.programme == "plus"
        self._dr_generators = dr is not None and dr.generators_allowed
        self._dr_generators_now = self._dr_generators  # a load target may say otherwise
        self._lever_limit: int | None = None
        self.power_chain.reset()
        self.robots.reset()
        shelf = s.power.shelf_storage
        self.shelf_storage = (
            None
            if shelf is None
            else ShelfStorage.of(shelf.j_per_gpu, r.gpus, shelf.time_constant_s, shelf.efficiency)
        )
        self._next_event = 0
        self._pending_hall_w = np.zeros(h)
        self._lagged_hall_w: np.ndarray | None = None  # what a refined step's sub-steps take
        self._pending_j = 0.0
        # when the site's operators power each rack on again after a trip no service robot
        # takes (inf: none due)
        self._operator_reset_at_s = np.full(n, np.inf)
        self._next_reset_s = np.inf  # the earliest of them
        self._import_baseline_w: float | None = None
        self._demand_response: tuple[float, float] | None = None  # (end time, target kW)
        # the implicit controllers' plant slopes, carried from step to step (NaN: probe)
        self._valve_slope = np.full(m, np.nan)
        self._pump_slope = np.full(m, np.nan)
        self._crah_slope = np.full(h, np.nan)
        self._fan_slope = np.full(1, np.nan)
        self.ledger_state = Ledger(
            stored_start_j=self.stored_energy_j(), battery_start_j=self.battery_energy_j()
        )
        self._site = np.zeros(len(SITE_COLUMNS))
        self._outputs: StepOutputs | None = None
        self._refine_until_s = -np.inf
        self._online_after_w: float | None = None  # the online TDP at the last step's end
        self._site_tdp_w = float(self.rack_tdp_w.sum())
        self._junction_terms: tuple[np.ndarray, ...] | None = None
        # the last step's hydraulic inputs and answers (``_step_once``)
        self._hydraulics: tuple[Any, ...] | None = None

    def battery_energy_j(self) -> float:
        """Electrical energy held in the BESS, the UPS batteries, the robots' batteries and
        the power shelves' stores."""
        shelves_j = 0.0 if self.shelf_storage is None else self.shelf_storage.energy_j()
        return self.power_chain.battery_energy_j() + self.robots.battery_energy_j() + shelves_j

    def stored_energy_j(self) -> float:
        """Thermal energy above 0 C in chips, rack coolant, CDUs, hall air and plant water."""
        st, r = self.state, self.racks
        return float(
            np.dot(self.rack_junction_capacity_j_per_k, st.junction_c)
            + np.dot(r.coolant_capacity_j_per_k, st.rack_coolant_c)
            + np.dot(self.cdus.capacity_j_per_k, st.cdu_coolant_c)
            + np.dot(self.hall_air_capacity_j_per_k, st.hall_air_c)
            + self.fw_capacity_j_per_k * st.facility_c[0]
            + self.chw_capacity_j_per_k * st.chilled_c[0]
            + self._pending_j  # electrical-room heat that reaches the hall air next step
        )

    # ------------------------------------------------------------------ step

    def step(self, n: int = 1) -> None:
        for _ in range(n):
            if self.dt_s <= self.refine_step_s:
                self._step_once()
            elif self.state.time_s < self._refine_until_s or self._upset_due():
                self._refined_step()
            elif pieces := self._pieces_at_changes():
                self._sub_steps(pieces)
            else:
                self._watched_step()

    def _online_tdp_w(self) -> float:
        """The rack TDP that has power and is not tripped or isolated, W."""
        st = self.state
        online = ~(st.tripped | st.rack_electrical_isolated)
        share = self.power_chain.hall_powered_share[self.rack_hall]
        return float(np.dot(online * share, self.rack_tdp_w))

    def _heatwave_ends_within(self, end_s: float) -> bool:
        """Whether a heatwave ends after the step's start and by ``end_s``: the sink drops
        by its offset, an upset as its start (an event) is."""
        t0 = self.state.time_s
        return any(t0 < end <= end_s for _, end, _ in self.state.heatwaves)

    def _upset_due(self) -> bool:
        """Whether an event, a heatwave's end or the operators' power-on of a sizeable
        share of the racks falls within the coming step."""
        end_s = self.state.time_s + self.dt_s
        if self._next_event < len(self._events) and self._events[self._next_event].at_s < end_s:
            return True
        if self._heatwave_ends_within(end_s - 1e-9 * self.dt_s):
            return True
        if not self._next_reset_s < end_s:
            return False
        back = self._operator_reset_at_s < end_s
        return bool(back.any()) and (
            float(np.dot(back, self.rack_tdp_w)) >= UPSET_TDP_SHARE * self._site_tdp_w
        )

    def _watched_step(self) -> None:
        """One step; an upset in it (an event, a heatwave's end, racks tripping, dropped
        or back on together) has the steps of the next ``REFINE_WINDOW_S`` refined."""
        event_before = self._next_event
        heatwave_ends = self._heatwave_ends_within(self.state.time_s + self.dt_s)
        if self._online_after_w is None:
            self._online_after_w = self._online_tdp_w()
        online_before_w = self._online_after_w  # a command between steps counts in this one
        self._step_once()
        self._online_after_w = self._online_tdp_w()
        if (
            self._next_event != event_before
            or heatwave_ends
            or abs(self._online_after_w - online_before_w) >= UPSET_TDP_SHARE * self._site_tdp_w
        ):
            self._refine_until_s = self.state.time_s + REFINE_WINDOW_S

    def _pieces_at_changes(self) -> list[float] | None:
        """The coming step's pieces, s, split where the demand changes level for longer
        than the plant's loops take to follow (a checkpoint begins or ends, a job starts:
        ``WorkloadModel.level_changes``); None when nothing changes inside it. Changes
        closer than ``refine_step_s`` to the step's ends or to each other are not split at
        (the refined steps' own resolution)."""
        st, dt = self.state, self.dt_s
        t0, t1 = st.time_s, st.time_s + dt
        changes = self.workload.level_changes(t0, t1)
        if not changes:
            return None
        edges = [t0]
        for at in sorted(changes):
            if at - edges[-1] >= self.refine_step_s and t1 - at >= self.refine_step_s:
                edges.append(at)
        if len(edges) == 1:
            return None
        edges.append(t1)
        return [b - a for a, b in itertools.pairwise(edges)]

    def _refined_step(self) -> None:
        """One step of ``dt_s`` taken as sub-steps of at most ``refine_step_s``."""
        count = math.ceil(self.dt_s / self.refine_step_s - 1e-9)
        self._sub_steps([self.dt_s / count] * count)

    def _sub_steps(self, lengths: list[float]) -> None:
        """One step of ``dt_s`` taken as sub-steps of these lengths (s, summing to it),
        reported as one: rates as their means over the step (weighted by length), states
        at its end, the hottest GPU as the hottest of any sub-step."""
        st, dt = self.state, self.dt_s
        t0, step0 = st.time_s, st.step
        # weights relative to the first piece: exactly 1 for equal pieces, whose means
        # are then plain sums over their count
        weights = [h / lengths[0] for h in lengths]
        total_weight = math.fsum(weights)
        sums = np.zeros_like(self._site)
        hottest_c = -np.inf
        rate_sums: dict[str, Any] = {}
        # the heat the electrical rooms made in the step before reaches the hall air over
        # the whole of this one, and what the sub-steps make over the next, as for a step
        # of dt: the one-step lag stays a lag of dt, whatever the sub-steps
        self._lagged_hall_w = self._pending_hall_w
        made_j = np.zeros_like(self._pending_hall_w)
        in_use = None
        try:
            for h, weight in zip(lengths, weights, strict=True):
                if h != in_use:  # a refined step's pieces are all one length: set it once
                    self._use_step(h)
                    in_use = h
                self._watched_step()
                made_j += self._pending_hall_w * h
                sums += self._site if weight == 1.0 else self._site * weight
                hottest_c = max(hottest_c, float(self._site[_COLUMN["gpu_temp_max_c"]]))
                for name in _MEAN_OUTPUTS:  # summed apart: some arrays are reused buffers
                    value = getattr(self._outputs, name)
                    value = +value if weight == 1.0 else value * weight
                    rate_sums[name] = rate_sums[name] + value if name in rate_sums else value
        finally:
            self._use_step(dt)
            self._lagged_hall_w = None
        self._pending_hall_w = made_j / dt
        self._pending_j = float(made_j.sum())
        st.time_s, st.step = t0 + dt, step0 + 1
        site = self._site
        stored_j = self.stored_energy_j()
        site[_COLUMN["thermal_stored_kwh"]] = (
            stored_j - self.ledger_state.stored_start_j
        ) / J_PER_KWH
        site[_COLUMN["energy_closure_error"]] = self.ledger_state.summary(
            stored_j, self.battery_energy_j()
        )["closure_error"]
        site[_MEAN_COLUMNS] = sums[_MEAN_COLUMNS] / total_weight
        site[_COLUMN["time_s"]] = st.time_s
        site[_COLUMN["gpu_temp_max_c"]] = hottest_c
        it_w, facility_w = site[_COLUMN["it_power_kw"]], site[_COLUMN["facility_power_kw"]]
        site[_COLUMN["pue"]] = facility_w / it_w if it_w > 0 else np.nan
        assert self._outputs is not None
        self._outputs = replace(
            self._outputs, **{name: total / total_weight for name, total in rate_sums.items()}
        )

    def _step_once(self) -> None:
        st, r, c = self.state, self.racks, self.cdus
        self._junction_terms = ()  # worked out afresh each step (``junction_terms``)
        dt = self.dt_s
        t0 = st.time_s
        self._apply_due_events(t0)
        dry_bulb_c, wet_bulb_c = self.weather.at(t0 + 0.5 * dt)
        dry_bulb_c += sum(offset for start, end, offset in st.heatwaves if start <= t0 < end)
        wet_bulb_c = min(
            wet_bulb_c + sum(offset for start, end, offset in st.heatwaves if start <= t0 < end),
            dry_bulb_c,
        )

        # --- workload and GPU power -------------------------------------------------
        util = self.workload.utilization(t0, dt, self._util)
        # racks run unless tripped or their hall's UPS dropped them (batteries run down);
        # those of a UPS whose batteries empty within the step run until then, those the
        # operators power on within the step from then on (their GPU junctions, as those
        # of racks a UPS drops, see the mean power over the step: a simplification)
        restart_share = None
        if self._next_reset_s < t0 + dt:
            due = self._operator_reset_at_s < t0 + dt
            st.tripped[due] = False
            restart_share = np.where(
                due, np.minimum((t0 + dt - self._operator_reset_at_s) / dt, 1.0), 1.0
            )
            self._operator_reset_at_s[due] = np.inf
            self._next_reset_s = float(self._operator_reset_at_s.min())
        online = ~(st.tripped | st.rack_electrical_isolated)  # isolated: its breakers open
        live: np.ndarray = online
        ups_share = self.power_chain.hall_powered_share
        dark_s = None  # when a rack's UPS drops it inside the step
        if np.logical_or.reduce(ups_share < 1.0):
            rack_share = ups_share[self.rack_hall]
            online &= rack_share > 0.0
            live = online * rack_share
            dark_s = rack_share * dt
        if restart_share is not None:
            live = live * restart_share
        partly_live = dark_s is not None or restart_share is not None
        # every rack runs through the whole step (the common case): products with
        # ``live`` (ones) are left out, which changes no value
        all_live = not partly_live and bool(np.logical_and.reduce(online))

        def lived(w: np.ndarray) -> np.ndarray:
            return w if all_live else w * live

        demand_w = self.rack_idle_w + util * self.rack_dynamic_w
        ramp_w = 0.0
        if st.smoothing_enabled:
            # NVML power smoothing: ramp limits per GPU on the step's mean (the offset
            # moves both levels of a swing) and a floor while the job runs
            ramp_w = (
                np.clip(
                    demand_w,
                    st.gpu_power_w - self.smoothing_down_w_per_s * dt,
                    st.gpu_power_w + self.smoothing_up_w_per_s * dt,
                )
                - demand_w
            )
        cap_w = np.maximum(
            np.minimum(st.power_cap_fraction, st.curtail_cap_fraction) * self.rack_tdp_w,
            self.rack_idle_w,
        )
        held = (
            None
            if all_live and not np.logical_or.reduce(st.throttled)
            else (1.0 - self.throttle_power_cut * st.throttled) * live
        )

        def gpu_power_w(level: np.ndarray) -> np.ndarray:
            gpu = level * self.rack_dynamic_w
            gpu += self.rack_idle_w
            if st.smoothing_enabled:  # without smoothing the ramp is 0: nothing to add
                gpu += ramp_w
                gpu = np.maximum(gpu, np.where(level > 0, self.smoothing_floor_w, 0.0))
            gpu = np.minimum(gpu, cap_w)
            return gpu if held is None else gpu * held

        wl = self.workload
        swing = wl.split
        if swing:  # the training swings within the step, at both of their levels
            share = wl.high_share
            gpu_high_w, gpu_low_w = gpu_power_w(wl.high), gpu_power_w(wl.low)
            gpu_w = gpu_low_w + share * (gpu_high_w - gpu_low_w)
            other_high_w = lived(r.other_idle_w + wl.high * self.rack_other_dynamic_w)
            other_low_w = lived(r.other_idle_w + wl.low * self.rack_other_dynamic_w)
        else:
            gpu_w = gpu_power_w(util)
        other_w = lived(r.other_idle_w + util * self.rack_other_dynamic_w)
        st.gpu_power_w = gpu_w
        per_gpu_w = gpu_w / r.gpus
        other_liquid_w = other_w * r.liquid_other_fraction

        # --- CDU hydraulics (algebraic: pumps against parallel branches and the exchanger) --
        # without power for the cooling (an outage the backup sources cannot carry) the CDU
        # and facility pumps, CRAH and dry-cooler fans and chillers stop
        cooling_on = self.power_chain.auxiliaries_powered
        running = np.where(
            st.cdu_online & cooling_on, np.minimum(st.pumps_available, c.pumps_required), 0
        )
        # the pumps' differential-pressure PI solved at the step's end: the branch
        # pressure goes with the speed squared (pumps short of coolant at their suction,
        # air and cavitation, make less head)
        rack_g, g_sum = self._branch_conductances()
        # Everything below up to the branch flows is a function of these inputs alone
        # (the loop's parameters, replaced whenever they change, and the branch
        # conductances by identity; the rest by value). In steady operation the pumps'
        # controllers settle to the bit and the inputs repeat from step to step: the
        # last step's answers are then this one's, with nothing worked out again.
        hydraulics_in = (
            dt,
            id(self.loop_params),
            id(g_sum),
            id(rack_g),
            running.tobytes(),
            st.suction.tobytes(),
            st.pump_integral.tobytes(),
            st.pump_speed.tobytes(),
            self._pump_slope.tobytes(),
            st.pump_manual_speed.tobytes(),
        )
        kept = self._hydraulics
        if kept is not None and kept[0] == hydraulics_in:
            _, _, speed, integral, rack_flow_lpm = kept
            st.pump_speed, st.pump_integral = speed.copy(), integral.copy()
            loop = self._loop  # holds the answer to these inputs: written by the last solve
        else:
            dp_at_rated_kpa = branch_dp_per_speed2_kpa(self.loop_params, running, g_sum)
            dp_at_rated_kpa *= st.suction**2
            st.pump_speed, st.pump_integral, _ = pi_implicit(
                lambda speed: c.dp_setpoint_kpa - dp_at_rated_kpa * speed**2,
                st.pump_integral,
                dt,
                kp=PUMP_KP_PER_KPA,
                ti_s=PUMP_TI_S,
                out_min=c.min_speed,
                out_max=1.0,
                guess=st.pump_speed,
                error_slope=self._pump_slope,
            )
            manual = ~np.isnan(st.pump_manual_speed)
            if np.logical_or.reduce(manual):
                # a fixed speed overrides the loop; the integral follows it for a bumpless
                # return
                st.pump_speed[manual] = st.pump_manual_speed[manual]
                st.pump_integral[manual] = st.pump_manual_speed[manual]
            loop = solve_loops(
                self.loop_params, st.pump_speed * st.suction, running, g_sum, out=self._loop
            )
            # each branch at its CDU's pressure (``branch_flow_lpm``, the root spread by
            # ``at_racks``)
            rack_flow_lpm = rack_g * self.at_racks(np.sqrt(loop.branch_dp_kpa))
            rack_flow_lpm.flags.writeable = False
            # the objects named by identity are held, so that no other takes their id
            self._hydraulics = (
                hydraulics_in,
                (self.loop_params, g_sum, rack_g),
                st.pump_speed.copy(),
                st.pump_integral.copy(),
                rack_flow_lpm,
            )

        # --- chips, rack coolant, CDU secondary and its valve: one coupled implicit solve ---
        # capacity rates at each CDU's supply (racks) and return (exchanger) temperatures
        supply_vhc = self.tcs.volumetric_heat_capacity(st.cdu_supply_c)
        rack_rate = rack_flow_lpm * self.at_racks(supply_vhc / 60000.0)
        hot_rate = self.tcs.heat_capacity_rate_w_per_k(loop.flow_lpm, st.cdu_coolant_c)
        cold_per_valve = self._cold_per_valve[bool(cooling_on)]
        fw_start_c = float(st.facility_c[0])
        chips = ChipProfile.constant(per_gpu_w, dt, self.throttle_power_fraction, self._step_full_s)
        brackets: list[tuple[np.ndarray, ...]] | None = None
        for crossing_pass in range(MAX_CROSSING_PASSES):
            rack_base, rack_gain, carried_base, carried_gain = self._rack_response(
                chips, other_liquid_w, rack_rate
            )
            cdu = CduLoop(self, carried_base, carried_gain, loop.pump_power_w, hot_rate)
            if not crossing_pass:
                # the valves act on the step's first solve; a trip located inside the
                # step reaches them in the next (the heat it takes away is small)
                def supply_error_k(v: np.ndarray, cdu: CduLoop = cdu) -> np.ndarray:
                    return (
                        cdu.supply_c(self.valve_flow(v) * cold_per_valve, fw_start_c)
                        - st.supply_setpoint_c
                    )

                valve, valve_integral, _ = pi_implicit(
                    supply_error_k,
                    st.valve_integral,
                    dt,
                    kp=VALVE_KP_PER_K,
                    ti_s=VALVE_TI_S,
                    out_min=VALVE_MIN,
                    out_max=1.0,
                    guess=st.valve,
                    error_slope=self._valve_slope,
                )
                if np.logical_or.reduce(
                    st.valve_stuck
                ):  # the controller winds on; the valve does not follow
                    valve[st.valve_stuck] = st.valve_stuck_at[st.valve_stuck]
            cdu_offset_c, cdu_slope = cdu.return_affine(self.valve_flow(valve) * cold_per_valve)
            supply_c = cdu.supply_from(cdu_offset_c, cdu_slope, fw_start_c)
            if crossing_pass == MAX_CROSSING_PASSES - 1:
                break
            located = chips.located(self, rack_base + rack_gain * self.at_racks(supply_c), online)
            if located is None:
                break
            if brackets is None:
                brackets = [
                    (
                        np.zeros_like(per_gpu_w),
                        np.full_like(per_gpu_w, dt),
                        np.full_like(per_gpu_w, np.nan),
                        np.full_like(per_gpu_w, np.nan),
                    )
                    for _ in range(2)
                ]
            chips = located.bracketed(
                chips, brackets, last=crossing_pass == MAX_CROSSING_PASSES - 2
            )
        st.valve, st.valve_integral = valve, valve_integral

        # --- rack power through the PSUs, with what the chips drew until a trip ------------
        gpu_w = chips.mean_w * r.gpus
        # Work done follows the dynamic power the GPUs get against what the job asked for
        # (clocks scale with power near the top of the V/f curve; a linear simplification).
        asked = np.maximum(demand_w - self.rack_idle_w, 1e-9)
        if chips.steady:  # every rack ran the whole step
            st.gpu_power_w = gpu_w
            delivered = ((gpu_w - lived(self.rack_idle_w)) / asked).clip(0.0, 1.0)
        else:
            other_w = other_w * chips.online_share
            other_liquid_w = other_liquid_w * chips.online_share
            st.gpu_power_w = np.where(chips.tripped_in_step, 0.0, gpu_w)
            delivered = np.clip(
                (gpu_w - self.rack_idle_w * chips.online_share * live) / asked, 0.0, 1.0
            )
        delivered *= online
        rack_tokens = self.rack_full_tokens * util * delivered
        rack_levels_w: tuple[np.ndarray, np.ndarray] | None = None
        if swing:
            # what the chips drew until a trip scales both levels alike
            if chips.steady and per_gpu_w.min() > 0.0:
                # every rack ran the whole step on power: each level kept whole (the
                # quotient is 1 exactly, and so the products)
                high_dc_w = np.add(gpu_high_w, other_high_w, out=gpu_high_w)
                low_dc_w = np.add(gpu_low_w, other_low_w, out=gpu_low_w)
            else:
                kept = np.divide(
                    chips.mean_w, per_gpu_w, out=np.zeros_like(gpu_w), where=per_gpu_w > 0
                )
                if not chips.steady:
                    other_high_w = other_high_w * chips.online_share
                    other_low_w = other_low_w * chips.online_share
                high_dc_w = gpu_high_w * kept + other_high_w
                low_dc_w = gpu_low_w * kept + other_low_w
            rack_in_w, high_w, low_w = self.power_chain.rack_input_levels_w(
                high_dc_w, low_dc_w, share
            )
            rack_levels_w = (high_w, low_w)
        elif chips.steady or partly_live:
            rack_in_w = self.power_chain.rack_input_w(gpu_w + other_w)
        else:
            # a rack that trips inside the step draws through its PSUs at its load until
            # then and nothing after: two levels, each for its share of the step, so the
            # PSU, UPS and busway losses (and the room heat they make) are those of the
            # load that ran, not of the step's mean (at dt = 300 s the mean of a rack
            # that ran a fifth of the step sits at the bottom of the UPS curve)
            tripped_share = np.where(chips.tripped_in_step, chips.online_share, 1.0)
            running_in_w = self.power_chain.rack_input_w(
                np.divide(
                    gpu_w + other_w,
                    tripped_share,
                    out=np.zeros_like(gpu_w),
                    where=tripped_share > 0,
                )
            )
            rack_in_w = running_in_w * tripped_share
            rack_levels_w = (running_in_w, np.where(chips.tripped_in_step, 0.0, running_in_w))
        if partly_live:
            # a rack whose UPS drops it (or the operators power on) inside the step draws
            # through its PSUs at its load while it runs, not at the step's mean
            running_w = np.divide(gpu_w + other_w, live, out=np.zeros_like(gpu_w), where=live > 0)
            rack_in_w = np.where(live > 0, live * self.power_chain.rack_input_w(running_w), 0.0)
            if rack_levels_w is not None:
                kept = np.divide(
                    rack_in_w,
                    rack_levels_w[0] * share + rack_levels_w[1] * (1.0 - share),
                    out=np.zeros_like(rack_in_w),
                    where=rack_in_w > 0,
                )
                rack_levels_w = (rack_levels_w[0] * kept, rack_levels_w[1] * kept)
        air_w = rack_in_w - gpu_w - other_liquid_w  # fans, boards, PSU losses
        if self.shelf_storage is not None:
            # the shelves' stores serve the fast part of the draw (and flatten the swing
            # within the step); their losses are heat in the rack
            rack_in_w, shelf_loss_w = self.shelf_storage.step(rack_in_w, dt, live > 0)
            air_w += shelf_loss_w
            rack_levels_w = None

        # --- hall air and CRAHs on chilled water -----------------------------------------
        # the busway and UPS losses of this step's load; the transformers' losses and the
        # robots' heat of the previous step (held as pending heat, with what the load
        # flow found beyond the losses taken here)
        hall_air_in_w: np.ndarray = self.sum_by_hall(air_w)
        room_loss_w = self.power_chain.hall_room_loss_w(rack_in_w, rack_levels_w)
        hall_air_in_w += room_loss_w
        hall_air_in_w += (
            self._pending_hall_w if self._lagged_hall_w is None else self._lagged_hall_w
        )
        chilled_start_c = float(st.chilled_c[0])
        crah_conductance = self.crah_design_conductance_w_per_k * cooling_on
        crah_fan_full_w = self.crah_fan_w * cooling_on
        stop_s = chips.trip_s if not chips.steady else None
        if dark_s is not None:
            stop_s = dark_s if stop_s is None else np.minimum(stop_s, dark_s)
        air_profile = (
            None
            if stop_s is None
            else StoppingHeat(self.rack_hall, air_w, stop_s, dt, self.hall_count)
        )

        # the halls' air above the chilled water at the step's start (``relaxed_c``'s
        # first difference, the same at every fan speed)
        hall_gap_k = np.subtract(st.hall_air_c, chilled_start_c)

        def hall_air_c(speed: np.ndarray) -> np.ndarray:
            heat_w = hall_air_in_w + crah_fan_full_w * speed**3
            if air_profile is not None:
                heat_w = heat_w + air_profile.end_equivalent_w(
                    crah_conductance * speed / self.hall_air_capacity_j_per_k
                )
            return relaxed_from_gap_c(
                st.hall_air_c,
                hall_gap_k,
                self.hall_air_capacity_j_per_k,
                crah_conductance * speed,
                heat_w,
                dt,
            )

        st.crah_speed, st.crah_integral, _ = pi_implicit(
            lambda speed: hall_air_c(speed) - self.room_setpoint_c,
            st.crah_integral,
            dt,
            kp=CRAH_KP_PER_K,
            ti_s=CRAH_TI_S,
            out_min=CRAH_MIN_SPEED,
            out_max=1.0,
            guess=st.crah_speed,
            error_slope=self._crah_slope,
        )
        crah_fan_w = crah_fan_full_w * st.crah_speed**3
        hall_air_start_c = st.hall_air_c
        st.hall_air_c = hall_air_c(st.crah_speed)
        # what the CRAHs took: the residual of the heat that came in (the step's mean)
        crah_duty_w = (
            hall_air_in_w
            + crah_fan_w
            - self.hall_air_capacity_j_per_k * (st.hall_air_c - hall_air_start_c) / dt
        )

        # --- chilled water: the economizer's share first, chillers the rest ---------------
        chw_set = self.chilled_water_setpoint_c
        units = st.chillers_in_service * cooling_on
        chw_unit_w = self.chillers.unit_capacity_at(chw_set, dry_bulb_c)
        crah_w = float(np.add.reduce(crah_duty_w))
        chw_wanted_w, _ = ideal_removal(
            st.chilled_c[0], self.chw_capacity_j_per_k, crah_w, chw_set, np.inf, dt
        )
        economizer_w = economizer_share(self.chiller_spec, dry_bulb_c) * chw_wanted_w * cooling_on
        chw_duty_w, st.chilled_c[0] = ideal_removal(
            chilled_start_c,
            self.chw_capacity_j_per_k,
            crah_w - economizer_w,
            chw_set,
            units * chw_unit_w,
            dt,
        )
        economizer_fan_w = economizer_w * self.economizer_fan_w_per_w

        # --- facility water: CDU exchangers in, free cooling and chiller trim out ----------
        fw_flow = (
            float(np.sum(self.valve_flow(st.valve) * c.facility_design_flow_kg_per_s)) * cooling_on
        )
        fw_pump_w = facility_pump_power_w(
            self.facility_water_spec, fw_flow / self.fw_design_flow_kg_per_s
        )
        # units whose fans failed pass next to nothing (natural convection neglected)
        dry_share = st.dry_coolers_in_service / max(self.dry_cooler_count, 1)
        g_dry_full = (
            self.dry_cooler_conductance_w_per_k * dry_share
            if fw_start_c > dry_bulb_c and cooling_on
            else 0.0
        )
        g_tower_full = (
            self.tower_conductance_w_per_k if fw_start_c > wet_bulb_c and cooling_on else 0.0
        )
        fw_set = self.facility_setpoint_c
        # the units the chilled water leaves trim the facility water
        trim_capacity_w = max(
            units - chw_duty_w / chw_unit_w, 0.0
        ) * self.chillers.unit_capacity_at(fw_set, dry_bulb_c)
        plant = FacilityWater(
            self.fw_capacity_j_per_k,
            fw_start_c,
            dt,
            cdu.exchanger_g,
            cdu_offset_c,
            cdu_slope,
            fw_pump_w,
            g_dry_full,
            dry_bulb_c,
            g_tower_full,
            wet_bulb_c,
            fw_set + TRIM_DEADBAND_K,
            trim_capacity_w,
        )
        x, st.rejection_integral, _ = pi_implicit_scalar(
            lambda fan: plant.after_trim_c(fan) - fw_set,
            st.rejection_integral,
            dt,
            kp=FREE_COOLING_KP_PER_K,
            ti_s=FREE_COOLING_TI_S,
            out_min=0.0,
            out_max=1.0,
            guess=st.rejection_fraction,
            error_slope=self._fan_slope,
        )
        st.rejection_fraction = x
        fw_end_c, trim_w = plant.trimmed(x)
        if self.facility_supply is not None:
            # the measured supply at the step's end replaces the plant's balance
            fw_end_c = float(self.facility_supply.at(t0 + dt))
        g_dry, g_tower = g_dry_full * x, g_tower_full * x

        # every node's end temperature, and each flow between nodes as the residual of the
        # node it leaves, so that the ledger closes to rounding
        st.cdu_coolant_c = cdu_offset_c + cdu_slope * fw_end_c
        st.cdu_supply_c = st.cdu_coolant_c - cdu.kappa * (st.cdu_coolant_c - fw_end_c)
        supply_at_rack = self.at_racks(st.cdu_supply_c)
        rack_start_c = st.rack_coolant_c
        # (the rack-wide expressions below in place: the same operations, in their order)
        rack_end_c = np.multiply(rack_gain, supply_at_rack)
        rack_end_c += rack_base
        st.rack_coolant_c = rack_end_c
        junction_start_c = st.junction_c
        st.junction_c = chips.junction_end_c(self, st.junction_c, rack_start_c, st.rack_coolant_c)
        # (mean - C (T - T0) / dt) * gpus
        chip_out_w = np.subtract(st.junction_c, junction_start_c)
        chip_out_w *= r.junction_capacity_j_per_k
        chip_out_w /= dt
        np.subtract(chips.mean_w, chip_out_w, out=chip_out_w)
        chip_out_w *= r.gpus
        liquid_w = np.add(other_liquid_w, chip_out_w, out=chip_out_w)
        # liquid - C (X - X0) / dt
        carried_w = np.subtract(st.rack_coolant_c, rack_start_c)
        carried_w *= r.coolant_capacity_j_per_k
        carried_w /= dt
        np.subtract(liquid_w, carried_w, out=carried_w)
        cdu_heat_w = self.sum_by_cdu(carried_w)
        cdu_heat_w += loop.pump_power_w  # pump work ends up as heat in the coolant
        hx_duty_w = cdu_heat_w - c.capacity_j_per_k * (st.cdu_coolant_c - cdu.start_c) / dt
        fw_in_w = float(np.add.reduce(hx_duty_w)) + fw_pump_w
        free_w = fw_in_w - self.fw_capacity_j_per_k * (fw_end_c - fw_start_c) / dt - trim_w
        g_free = g_dry + g_tower
        dry_w = free_w * g_dry / g_free if g_free > 0 else 0.0
        tower_w = free_w * g_tower / g_free if g_free > 0 else 0.0
        st.facility_c[0] = fw_end_c

        # --- throttling and trips: located inside the step above, kept at its end ---------
        if chips.steady and not np.logical_or.reduce(st.throttled):
            # none throttled before or within the step: the same values, fewer passes
            st.throttled = st.junction_c >= r.throttle_c
            overheated = online & (st.junction_c >= r.critical_c)
        else:
            st.throttled = (st.junction_c >= r.throttle_c) | (
                (st.throttled | chips.throttled_in_step) & (st.junction_c > r.release_c)
            )
            # a rack whose coolant alone lifts it past its limit after the last located pass
            overheated = chips.tripped_in_step | (online & (st.junction_c >= r.critical_c))
        st.throttled &= ~overheated
        newly_overheated = overheated & ~st.tripped  # these get a service robot
        st.tripped = st.tripped | overheated
        dry_fan_w = (
            self.dry_cooler_fan_w * dry_share * staged_fan_power(x, self.dry_cooler_min_speed)
            if g_dry
            else 0.0
        )
        tower_fan_w = self.tower_fan_w_per_w * tower_w
        chw_chillers = self.chillers.duty(chw_duty_w, chw_set, dry_bulb_c)
        trim_chillers = self.chillers.duty(trim_w, fw_set, dry_bulb_c)
        chiller_w = chw_chillers.power_w + trim_chillers.power_w
        chillers_running = min(
            chw_chillers.units_running + trim_chillers.units_running, st.chillers_in_service
        )

        # --- power chain, batteries, generators ----------------------------------------
        cdu_pump_by_hall = self.sum_cdus_by_hall(loop.pump_power_w)
        hall_mech_w = cdu_pump_by_hall + crah_fan_w
        plant_w = fw_pump_w + dry_fan_w + tower_fan_w + chiller_w + economizer_fan_w
        robot_w = self.robots.step(dt, delivered)
        grid = self.power_chain.step(
            t0, dt, rack_in_w, hall_mech_w, plant_w, robot_w, rack_levels_w
        )
        # repaired racks come back for the next step, whatever tripped them may again
        if self.robots.repaired:
            st.tripped[self.robots.repaired] = False
        if np.logical_or.reduce(newly_overheated):
            tripped_now = np.flatnonzero(newly_overheated)
            self.robots.request_repairs(tripped_now)
            # A GPU tray's thermal trip (THERMTRIP: the board powers itself off) does not
            # clear when the coolant cools again: the tray stays off until someone powers
            # it on (a BMC power-on or a reseat). Where no service robot takes the rack
            # (none in its hall, or none can reach it) the site's operators do, after
            # their response time. A rack that merely lost its power (its UPS ran down)
            # is not tripped and comes back with the power, without anyone.
            unattended = tripped_now[~self.robots.awaiting_repair[tripped_now]]
            tripped_at_s = t0 + (dt if chips.steady else chips.trip_s[unattended])
            self._operator_reset_at_s[unattended] = tripped_at_s + self.operator_reset_s
            self._next_reset_s = float(self._operator_reset_at_s.min())
        self._pending_hall_w = (
            self.power_chain.losses.hall_indoor_w - room_loss_w + self.robots.hall_heat_w
        )
        self._pending_j = float(np.add.reduce(self._pending_hall_w)) * dt
        supplied_w = grid.grid_import_w + grid.bess_w  # what the site would import alone
        if self.power_chain.generator_dispatch_w is not None:
            supplied_w += grid.generator_w  # sets run in parallel for demand response
        if self._import_baseline_w is None:
            self._import_baseline_w = supplied_w
        self._import_baseline_w += (supplied_w - self._import_baseline_w) * -np.expm1(
            -dt / DR_BASELINE_S
        )

        # --- ledger: what left the site and what it cost ---------------------------------
        rejected_w = (
            dry_w
            + tower_w
            + trim_w
            + chw_duty_w
            + economizer_w
            + chiller_w
            + dry_fan_w
            + tower_fan_w
            + economizer_fan_w
            + grid.outdoor_loss_w
            + self.robots.outdoor_heat_w
        )
        led = self.ledger_state
        led.energy_in_j += (grid.grid_import_w + grid.generator_w) * dt
        led.heat_rejected_j += rejected_w * dt
        st.time_s = t0 + dt
        st.step += 1

        it_w = float(np.add.reduce(rack_in_w))  # at the racks' input: PSU losses are IT load
        stored_j = self.stored_energy_j()
        # the site's loads and its distribution losses, as its sources at the bus supply
        # them (grid + generators + BESS + UPS batteries + unserved: README, data dictionary)
        hall_mech_total_w = float(np.add.reduce(hall_mech_w))
        facility_w = it_w + hall_mech_total_w + plant_w + robot_w + grid.loss_w
        powered = online & ~st.tripped  # racks that ran through the step and still run
        flow_total = float(np.add.reduce(loop.flow_lpm))
        local_hour = self.weather.local_hour(t0)
        site = self._site
        values = {
            "time_s": st.time_s,
            "ambient_c": dry_bulb_c,
            "wet_bulb_c": wet_bulb_c,
            "it_power_kw": it_w / 1e3,
            "facility_power_kw": facility_w / 1e3,
            "cooling_power_kw": (hall_mech_total_w + plant_w) / 1e3,
            "electrical_loss_kw": grid.loss_w / 1e3,
            "robot_power_kw": robot_w / 1e3,
            "grid_import_kw": grid.grid_import_w / 1e3,
            "generator_kw": grid.generator_w / 1e3,
            "bess_power_kw": grid.bess_w / 1e3,
            "bess_loss_kw": grid.bess_loss_w / 1e3,
            "ups_battery_kw": grid.ups_battery_w / 1e3,
            "unserved_kw": grid.unserved_w / 1e3,
            "bess_soc": grid.bess_soc,
            "heat_rejected_kw": rejected_w / 1e3,
            "thermal_stored_kwh": (stored_j - led.stored_start_j) / J_PER_KWH,
            "pue": facility_w / it_w if it_w > 0 else np.nan,  # undefined without IT load
            "tcs_supply_c": weighted(st.cdu_supply_c, loop.flow_lpm, flow_total),
            "tcs_return_c": weighted(st.cdu_coolant_c, loop.flow_lpm, flow_total),
            "fws_supply_c": fw_end_c,
            "gpu_temp_max_c": float(np.maximum.reduce(st.junction_c)),
            "throttled_gpus": (
                float(np.dot(st.throttled & powered, r.gpus))
                if np.logical_or.reduce(st.throttled)
                else 0.0
            ),
            "tripped_racks": float(np.count_nonzero(st.tripped)),
            "tokens_per_s": float(np.add.reduce(rack_tokens)),
            "water_l_per_h": tower_w / 1e3 * self.tower_water_l_per_kwh,
            "cost_krw_per_h": grid.grid_import_w / 1e3 * self.tariff_krw_per_kwh[local_hour],
            "co2_kg_per_h": (
                grid.grid_import_w * self.grid_carbon_kg_per_kwh
                + grid.generator_w * self.generator_carbon_kg_per_kwh
            )
            / 1e3,
            "energy_closure_error": led.summary(stored_j, self.battery_energy_j())["closure_error"],
        }
        site[:] = [values[name] for name, _ in SITE_COLUMNS]
        self._outputs = StepOutputs(
            utilization=util,
            rack_in_w=rack_in_w,
            liquid_w=liquid_w,
            rack_tokens=rack_tokens,
            rack_inlet_c=supply_at_rack,
            rack_flow_lpm=rack_flow_lpm,
            loop=loop,
            hx_duty_w=hx_duty_w,
            pumps_running=running,
            powered=powered,
            dry_w=dry_w,
            tower_w=tower_w,
            trim_w=trim_w,
            chw_duty_w=chw_duty_w,
            chiller_cop=(chw_duty_w + trim_w) / chiller_w if chiller_w > 0 else np.nan,
            chillers_running=chillers_running,
            fw_rise_k=fw_in_w / max(fw_flow * self.fw_cp, 1e-9) if fw_flow > 0 else 0.0,
        )
        self._junction_terms = None

    def junction_terms(
        self, junction_c: np.ndarray, coolant_c: np.ndarray, power_w: np.ndarray
    ) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """The terms of the junctions' exact end temperature that the step's start gives,
        ``(from_start * coolant, decay * junction + from_start * coolant, relax * power)``
        (per GPU, K), worked out once a step for the racks' response, the located
        crossings and the end temperatures, which add them in this same order (read
        only). Kept only inside a step (``_step_once``): outside one, a caller may have
        changed the arrays in place."""
        kept = self._junction_terms
        if kept and kept[0] is junction_c and kept[1] is coolant_c and kept[2] is power_w:
            return kept[3], kept[4], kept[5]
        held = self.junction_from_start * coolant_c
        start = self.junction_decay * junction_c
        start += held
        relaxed = self.junction_relax_k_per_w * power_w
        if kept is not None:
            self._junction_terms = (junction_c, coolant_c, power_w, held, start, relaxed)
        return held, start, relaxed

    def at_racks(self, per_cdu: np.ndarray) -> np.ndarray:
        """A per-CDU array as per rack (each rack takes its CDU's value)."""
        if self._racks_by_cdu:
            return per_cdu.repeat(self._repeats)
        return per_cdu[self.rack_cdu]

    def _rack_response(
        self, chips: ChipProfile, other_liquid_w: np.ndarray, rack_rate_w_per_k: np.ndarray
    ) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
        """Each rack's coolant temperature at the step's end as ``base + gain * T_s``
        of its CDU's supply ``T_s`` at the end, and the heat it returns to the CDU as
        ``carried_base - carried_slope * T_s``.

        The junction is solved exactly over the coolant moving linearly from its start
        to its end temperature ``X``; its heat into the coolant is then ``H - K X``.
        The coolant node is backward Euler, ``C (X - X_0)/dt = L + H - K X - m (X - T_s)``,
        linear in ``X`` and ``T_s``, so chips, racks and CDUs are one implicit system,
        stable for any dt and any number of racks per CDU (the neighbour's value from
        the previous step, used instead, lets the racks' capacity overdrive a small CDU
        node at a long step)."""
        r, st = self.racks, self.state
        # the arithmetic of the plain expressions, operation for operation, in place
        relaxed_w = (
            chips.power_w * self.junction_released  # ``relaxed_w`` of a steady profile
            if chips.steady
            else chips.relaxed_w(self.junction_tau_s, self.junction_decay)
        )
        relaxed_w *= r.junction_resistance_k_per_w
        stored_w = self.junction_decay_less_one * st.junction_c
        held, _, _ = self.junction_terms(st.junction_c, st.rack_coolant_c, chips.power_w)
        stored_w += held
        stored_w += relaxed_w
        stored_w *= self.junction_capacity_per_s
        chip_heat_w = np.subtract(chips.mean_w, stored_w, out=stored_w)
        chip_heat_w *= r.gpus
        denominator = self.rack_node_conductance_w_per_k + rack_rate_w_per_k
        liquid_w = other_liquid_w if chips.steady else other_liquid_w * chips.online_share
        base = np.multiply(self.rack_capacity_per_s, st.rack_coolant_c)
        base += liquid_w
        base += chip_heat_w
        base /= denominator
        gain = np.divide(rack_rate_w_per_k, denominator, out=denominator)
        kept = np.subtract(1.0, gain, out=relaxed_w)
        kept *= rack_rate_w_per_k
        return base, gain, rack_rate_w_per_k * base, kept

    def valve_flow(self, opening: np.ndarray) -> np.ndarray:
        """The facility valves' flow over their design flow at ``opening`` (per CDU)."""
        if self.valves_linear:
            return opening
        return np.asarray(
            valve_flow_fraction(opening, self.valve_equal_share, self.valve_rangeability)
        )

    # ------------------------------------------------------------------ measured inputs

    def drive_with(self, weather=None, workload=None, facility_supply=None) -> None:
        """Drive the site with measured boundary conditions instead of the scenario's
        synthetic ones (calibration, shadow mode). ``reset()`` brings the scenario's
        workload back: call this again after it.

        ``weather`` answers ``at(time_s) -> (dry_bulb_c, wet_bulb_c)`` and
        ``local_hour(time_s)``, as ``twin.sim.weather.Weather`` does; ``workload``
        answers ``utilization(t0, dt, out)`` and ``level_changes(t0, t1)`` with the
        attributes ``split``, ``high``, ``low``, ``high_share`` and ``surge`` of
        ``twin.sim.workload.WorkloadModel``.
        Events, setpoints and equipment status still come from the timeline.

        ``facility_supply`` answers ``at(time_s) -> facility water supply temperature``
        (degC): the facility water's end temperature of every step is taken from it
        instead of the plant's heat balance, so the CDUs see the measured supply and
        nothing they reject moves it (a CDU calibrated alone, ``twin.calibration.
        subloop``). The plant's duties and powers are then not meaningful; set the
        starting temperature in ``state.facility_c`` to the measured value."""
        if facility_supply is not None:
            self.facility_supply = facility_supply
        if weather is not None:
            self.weather = weather
        if workload is not None:
            self.workload = workload

    # ------------------------------------------------------------------ operator commands
    # Applied between steps (the GUI sends them through its runner's queue), so a run that
    # receives the same commands at the same steps gives the same results.

    def set_cdu_supply_setpoint(self, cdu: int, setpoint_c: float) -> None:
        """Change one CDU's TCS supply temperature setpoint (the facility valve follows)."""
        low, high = SUPPLY_SETPOINT_RANGE_C
        if not low <= setpoint_c <= high:
            raise ValueError(
                f"a TCS supply setpoint must lie in {low:g} .. {high:g} °C, not {setpoint_c:g} °C"
            )
        self.state.supply_setpoint_c[self._cdu_index(cdu)] = setpoint_c

    def set_cdu_pump_speed(self, cdu: int, speed: float | None) -> None:
        """Run one CDU's pumps at a fixed speed (0-1 of rated), or None: back to automatic
        control on the branch differential pressure."""
        i = self._cdu_index(cdu)
        if speed is None:
            self.state.pump_manual_speed[i] = np.nan
            return
        low = float(self.cdus.min_speed[i])
        if not low <= speed <= 1.0:
            raise ValueError(f"a pump speed must lie in {low:g} .. 1 of rated speed, not {speed:g}")
        self.state.pump_manual_speed[i] = speed

    def set_rack_power_cap(self, racks: int | np.ndarray | None, fraction: float) -> None:
        """Cap GPU power at ``fraction`` of TDP on some racks (None: every rack)."""
        if not 0.0 < fraction <= 1.0:
            raise ValueError(f"a power cap is a fraction of TDP in (0, 1], not {fraction:g}")
        target = slice(None) if racks is None else racks
        self.state.power_cap_fraction[target] = fraction

    def set_power_smoothing(self, enabled: bool) -> None:
        self.state.smoothing_enabled = bool(enabled)

    def workcell_emergency_stop(self, cell: int) -> None:
        """Press a workcell's emergency stop: its robots stop where they are."""
        self.robots.emergency_stop(cell)

    def workcell_safety_zone_intrusion(self, cell: int) -> None:
        """Someone steps into a workcell's guarded zone: a protective stop of its robots."""
        self.robots.safety_zone_intrusion(cell)

    def workcell_reset(self, cell: int) -> None:
        """Clear a workcell's stop and start it again where its robots stood."""
        self.robots.reset_cell(cell)

    def set_cdu_exchanger_ua(self, cdu: int, ua_w_per_k: float) -> None:
        """Set one CDU exchanger's UA in W/K (a fouled exchanger's, as ``twin shadow``
        tracks it from its plant); a reset restores the scenario's."""
        if not (math.isfinite(ua_w_per_k) and ua_w_per_k > 0.0):
            raise ValueError(f"an exchanger UA must be a positive number of W/K, not {ua_w_per_k}")
        self.cdus.hx_ua_w_per_k[self._cdu_index(cdu)] = ua_w_per_k

    def set_cdu_series_resistance_factor(self, cdu: int, factor: float) -> None:
        """Set one CDU's series (strainer, exchanger) resistance to ``factor`` times design,
        in place of any filter clog under way on it; a reset restores design."""
        if not (math.isfinite(factor) and factor > 0.0):
            raise ValueError(f"a resistance factor must be a positive number, not {factor}")
        i = self._cdu_index(cdu)
        st = self.state
        st.clog_ramp = [w for w in st.clog_ramp if w[0] != i]
        st.clog_factor[i] = factor
        self._set_series_resistance()

    def _cdu_index(self, cdu: int) -> int:
        if not 0 <= cdu < self.topology.cdu_count:
            raise ValueError(f"no CDU number {cdu}; there are {self.topology.cdu_count}")
        return cdu

    def set_rack_isolation(
        self, rack: int, *, liquid: bool | None = None, electrical: bool | None = None
    ) -> None:
        """Isolate one rack, or end its isolation, between two steps (None: leave as is).
        Liquid: its branch's isolation valves shut, no coolant flows through it (its chips
        heat, throttle and trip as the physics says; its CDU's pumps see one branch less).
        Electrical: its feed breakers open, it draws nothing and makes no heat."""
        if not 0 <= rack < self.topology.rack_count:
            raise ValueError(f"no rack number {rack}; there are {self.topology.rack_count}")
        if liquid is not None:
            self.state.rack_liquid_isolated[rack] = liquid
        if electrical is not None:
            self.state.rack_electrical_isolated[rack] = electrical

    def _branch_conductances(self) -> tuple[np.ndarray, np.ndarray]:
        """Each rack branch's conductance and their sum per CDU, (L/min)/sqrt(kPa):
        the design ones, an isolated branch shut (no flow; isolation valves hold tight)."""
        shut = self.state.rack_liquid_isolated
        if not shut.any():
            return self.rack_inv_sqrt_k, self.cdus.branch_conductance_sum
        rack_g = np.where(shut, 0.0, self.rack_inv_sqrt_k)
        return rack_g, np.bincount(self.rack_cdu, weights=rack_g, minlength=self.topology.cdu_count)

    def reset_racks(self) -> int:
        """Bring tripped racks back online (an operator's reset); returns how many."""
        count = int(np.count_nonzero(self.state.tripped))
        self.state.tripped[:] = False
        self._operator_reset_at_s[:] = np.inf
        self._next_reset_s = np.inf
        return count

    def _last_grid_import_w(self) -> float:
        return float(self._site[_COLUMN["grid_import_kw"]]) * 1e3

    def hold_import(
        self,
        target_w: float | None,
        *,
        suspend: bool = True,
        generators: bool = False,
        levers: int | None = None,
    ) -> None:
        """Hold the grid import at or below ``target_w`` from now until told otherwise
        (None: let go), with demand response's levers in their order (``curtail_levers``;
        ``suspend`` False leaves out holding training at a checkpoint, so only power caps
        shed load), then the generator sets if ``generators`` allows; ``levers``: how many
        of them, in that order, may be pulled (0: the BESS alone; None: all). A load target
        (DSX Flex) acts through this; it replaces a scenario's dispatch under way."""
        self._use_levers(suspend=suspend, generators=generators)
        self._lever_limit = levers
        if target_w is None:
            self._end_demand_response()
            return
        if not target_w >= 0.0:
            raise ValueError(f"an import target is a power of 0 W or more, not {target_w:g}")
        self._demand_response = (np.inf, float(target_w))
        self.power_chain.set_demand_response(float(target_w))

    def _use_levers(self, *, suspend: bool, generators: bool) -> None:
        self._curtail_levers = curtail_levers(
            self.workload, self.topology.rack_count, suspend=suspend
        )
        self._dr_generators_now = generators
        self._lever_limit = None

    @property
    def demand_response_levers(self) -> list[tuple[np.ndarray, float, float]]:
        """The GPU levers a dispatch or load target pulls, in order (``curtail_levers``)."""
        return list(self._curtail_levers)

    @property
    def import_target_w(self) -> float | None:
        """The import demand response or a load target holds the site to (None: none)."""
        return None if self._demand_response is None else self._demand_response[1]

    @property
    def generator_lever_w(self) -> float:
        """What the generator sets could give demand response: the rating of those not
        failed (0 where the programme or the load target does not allow them)."""
        if not self._dr_generators_now:
            return 0.0
        gens = self.power_chain.p.generators
        usable = np.count_nonzero(self.power_chain.generator_state != GENERATOR_FAILED)
        return float(usable * gens.rating_mw * 1e6)

    def _end_demand_response(self) -> None:
        st = self.state
        self._demand_response = None
        self.power_chain.set_demand_response(None)
        self.power_chain.dispatch_generators(st.time_s, None)
        st.curtail_cap_fraction[:] = 1.0
        st.curtail_depth = 0.0

    def _follow_demand_response(self, target_w: float) -> None:
        """What the BESS cannot curtail, the GPU levers take in their order
        (``curtail_levers``), then the generator sets where allowed: an integral
        controller that pulls them deeper while the BESS is at its limit and import is
        above the target, and lets them go, the last pulled first, at 1 % of TDP (or of
        the sets' rating) per second otherwise. The sets' segment does not deepen while
        they are still starting or ramping towards what they were asked (no wind-up).
        Plus DR (a floor, not a cap) has the BESS alone: it charges."""
        if self.power_chain.demand_response_raise:
            return
        st = self.state
        shortfall_w = self._last_grid_import_w() - target_w
        it_w = max(float(self._site[_COLUMN["it_power_kw"]]) * 1e3, 1.0)
        levers = self._curtail_levers
        gen_w = self.generator_lever_w
        top = len(levers) + (1 if gen_w > 0 else 0)
        if self._lever_limit is not None:
            top = min(top, self._lever_limit)
        on_generators = gen_w > 0 and st.curtail_depth >= len(levers)
        if shortfall_w > 0 and self.power_chain.bess_limited:
            change = DR_CAP_GAIN * shortfall_w / (gen_w if on_generators else it_w)
            asked_w = max(st.curtail_depth - len(levers), 0.0) * gen_w
            if on_generators and self.power_chain.generators_w < asked_w - 1.0:
                change = 0.0
        else:
            change = -DR_CAP_RECOVERY_PER_S * self.dt_s
        st.curtail_depth = float(np.clip(st.curtail_depth + change, 0.0, top))
        st.curtail_cap_fraction[:] = 1.0
        for k, (racks, cap_from, cap_to) in enumerate(levers):
            if st.curtail_depth <= k:
                break
            share = min(st.curtail_depth - k, 1.0)
            np.minimum(
                st.curtail_cap_fraction,
                np.where(racks, cap_from + (cap_to - cap_from) * share, 1.0),
                out=st.curtail_cap_fraction,
            )
        if gen_w > 0:
            asked_w = max(st.curtail_depth - len(levers), 0.0) * gen_w
            self.power_chain.dispatch_generators(st.time_s, asked_w if asked_w > 0 else None)

    # ------------------------------------------------------------------ outputs

    def site_values(self) -> np.ndarray:
        """The latest step's site figures, ordered as ``SITE_COLUMNS`` (a view, do not keep)."""
        return self._site

    def ledger(self) -> dict[str, float]:
        return self.ledger_state.summary(self.stored_energy_j(), self.battery_energy_j())

    @property
    def has_output(self) -> bool:
        """Whether a step has run since the start or the last reset (snapshots need one)."""
        return self._outputs is not None

    @property
    def outputs(self) -> StepOutputs:
        """The latest step's outputs beside the state (a step must have run)."""
        if self._outputs is None:
            raise RuntimeError("no step has run yet: call step() first")
        return self._outputs

    def snapshot(self, *, robots: bool = True) -> Snapshot:
        """An immutable copy of the state. ``robots=False`` leaves out the robots' poses and
        routes, the costliest part, for readers that do not look at them (alarm scans)."""
        if self._outputs is None:
            raise RuntimeError("no step has run yet: call step() before snapshot()")
        st, out = self.state, self._outputs
        loop = out.loop
        site = {name: float(v) for (name, _), v in zip(SITE_COLUMNS, self._site, strict=True)}
        racks = frozen_fields(
            RackState,
            utilization=out.utilization,
            power_kw=out.rack_in_w / 1e3,
            gpu_temp_c=st.junction_c,
            inlet_temp_c=out.rack_inlet_c,
            outlet_temp_c=st.rack_coolant_c,
            flow_lpm=out.rack_flow_lpm,
            liquid_heat_kw=out.liquid_w / 1e3,
            throttled=st.throttled & out.powered,
            tripped=st.tripped,
            tokens_per_s=out.rack_tokens,
            power_cap_fraction=st.power_cap_fraction,
            liquid_isolated=st.rack_liquid_isolated,
            electrical_isolated=st.rack_electrical_isolated,
        )
        cdus = frozen_fields(
            CduState,
            supply_c=st.cdu_supply_c,
            return_c=st.cdu_coolant_c,
            flow_lpm=loop.flow_lpm,
            pump_speed=st.pump_speed,
            pumps_running=out.pumps_running,
            dp_kpa=loop.branch_dp_kpa,
            duty_kw=out.hx_duty_w / 1e3,
            facility_valve=st.valve,
            pump_power_kw=loop.pump_power_w / 1e3,
            supply_setpoint_c=st.supply_setpoint_c,
            pump_manual=~np.isnan(st.pump_manual_speed),
            valve_stuck=st.valve_stuck,
            leak_detected=st.leak_rate_lpm > 0,
            inventory_fraction=st.inventory_l / self.cdu_inventory_l,
            filter_resistance_factor=st.clog_factor,
        )
        plant = frozen_fields(
            PlantState,
            fws_supply_c=float(st.facility_c[0]),
            fws_return_c=float(st.facility_c[0] + out.fw_rise_k),
            dry_cooler_duty_kw=out.dry_w / 1e3,
            dry_cooler_fan_speed=st.rejection_fraction,
            dry_coolers_running=units_running(
                st.rejection_fraction, st.dry_coolers_in_service, self.dry_cooler_min_speed
            )
            if out.dry_w > 0
            else 0,
            dry_coolers_available=st.dry_coolers_in_service,
            chillers_available=st.chillers_in_service,
            chiller_duty_kw=(out.chw_duty_w + out.trim_w) / 1e3,
            chillers_running=out.chillers_running,
            chiller_cop=out.chiller_cop,
            tower_duty_kw=out.tower_w / 1e3,
            hall_air_c=st.hall_air_c,
        )
        power = frozen_fields(
            PowerState, **self.power_chain.state_fields(), gpu_power_smoothing=st.smoothing_enabled
        )
        return Snapshot(
            step=st.step,
            time_s=st.time_s,
            site=site,
            racks=racks,
            cdus=cdus,
            plant=plant,
            power=power,
            robots=self.robots.state(st.time_s) if robots else None,
        )

    def live_view(self) -> LiveView:
        """The latest step's state read as a snapshot is, field by field and without
        copies (``twin.sim.live``): for a reader on the stepping thread that is done with
        it before the next step, such as the alarm scan."""
        if self._outputs is None:
            raise RuntimeError("no step has run yet: call step() before live_view()")
        return LiveView(self)


_COLUMN = {name: i for i, (name, _) in enumerate(SITE_COLUMNS)}
# what a refined step reports as its sub-steps' mean (the others: their last value)
_MEAN_COLUMNS = np.array(
    [
        _COLUMN[name]
        for name in SITE_NAMES
        if name.endswith(("_kw", "_per_s", "_per_h")) or name in ("ambient_c", "wet_bulb_c")
    ]
)
_MEAN_OUTPUTS = (
    "utilization",
    "rack_in_w",
    "liquid_w",
    "rack_tokens",
    "hx_duty_w",
    "dry_w",
    "tower_w",
    "trim_w",
    "chw_duty_w",
)

# Controller tunings. Gains are per unit of the measured quantity; the integral time is
# the loop's design settling time. Every loop is solved at the step's end (pi_implicit),
# so it is stable whatever dt is against its own time constants.
PUMP_KP_PER_KPA = 0.0015  # speed per kPa of branch dp error; plant gain ~2 dp/n
PUMP_TI_S = 3.0
VALVE_KP_PER_K = 0.05  # facility valve opening per K of TCS supply error
VALVE_TI_S = 60.0
VALVE_MIN = 0.05  # valves keep a minimum flow through the exchanger
CRAH_KP_PER_K = 0.1
CRAH_TI_S = 300.0
CRAH_MIN_SPEED = 0.2
FREE_COOLING_KP_PER_K = 0.1
FREE_COOLING_TI_S = 120.0
TRIM_DEADBAND_K = 0.5  # chillers trim only what free cooling leaves above setpoint + band
SUPPLY_SETPOINT_RANGE_C = (15.0, 50.0)  # ASHRAE W17 .. W45 facility classes, with margin
DR_BASELINE_S = 300.0  # demand-response baseline: mean import over the last minutes
DR_CAP_GAIN = 0.5  # cap change per unit of shortfall / IT power, per step
DR_CAP_RECOVERY_PER_S = 0.01
DR_CAP_FLOOR = 0.3  # a power cap holds GPUs at 30 % of TDP at the least
MAX_CROSSING_PASSES = 8  # solves of a step in which a GPU throttles or trips
# Multi-rate steps: after an upset (an event, or racks worth this share of the site's
# TDP tripping, dropping or coming back within a step) the steps of the following window
# are taken as sub-steps at a rate from the plant's own loops (``refine_step_s``), so the
# transient the upset starts (the facility water and its free-cooling and trim loops
# catching up with a load that left or came back) follows the same path at any dt.
UPSET_TDP_SHARE = 0.02
REFINE_WINDOW_S = 5 * max(VALVE_TI_S, CRAH_TI_S, FREE_COOLING_TI_S)  # loops settle in ~5 Ti
REFINE_PER_TIME_CONSTANT = 12  # sub-steps per shortest time constant of the plant loops
REFINE_STEP_RANGE_S = (1.0, 10.0)
STEP_SIZES_KEPT = 8  # step lengths whose constants are kept (``_use_step``)


def refine_step_s(facility_capacity_j_per_k: float, facility_g_w_per_k: float) -> float:
    """The sub-step of a refined step: a twelfth of the shortest of the plant loops' own
    time constants (the CDU valves' and the free-cooling fans' integral times, the
    facility water's thermal time constant at design flow and full fans), within
    ``REFINE_STEP_RANGE_S``. The sub-steps are first order in their length: a restart
    of single-rack after an outage in January differs from dt = 1 s by 1.1 % of the
    hour's cooling power at 10 s sub-steps, 0.6 % at 5 s, 0.25 % at 2 s."""
    shortest_s = min(VALVE_TI_S, FREE_COOLING_TI_S)
    if facility_g_w_per_k > 0:
        shortest_s = min(shortest_s, facility_capacity_j_per_k / facility_g_w_per_k)
    low, high = REFINE_STEP_RANGE_S
    return min(max(shortest_s / REFINE_PER_TIME_CONSTANT, low), high)


def curtail_levers(
    workload: WorkloadModel, rack_count: int, *, suspend: bool = True
) -> list[tuple[np.ndarray, float, float]]:
    """The GPU levers demand response pulls once the BESS is at its limit, in order, each
    (racks, cap from, cap to) as fractions of TDP: power caps on the training racks down
    to ``DR_CAP_FLOOR``; then (if ``suspend``) the training jobs held at a checkpoint
    (cap 0: the GPUs idle, no work); last, power caps on the inference racks (users
    wait, so they go last; inference is never paused). Racks in no workload idle
    already."""
    training = np.zeros(rack_count, dtype=bool)
    for _, racks in workload.training:
        training[racks] = True
    inference = np.zeros(rack_count, dtype=bool)
    for _, racks, _ in workload.inference:
        inference[racks] = True
    inference &= ~training
    levers = []
    if training.any():
        levers.append((training, 1.0, DR_CAP_FLOOR))
        if suspend:
            levers.append((training, DR_CAP_FLOOR, 0.0))
    if inference.any():
        levers.append((inference, 1.0, DR_CAP_FLOOR))
    return levers
