"""The power chain as a tree, the BESS, the generators and the utility connection.

Utility (154 kV) -> main transformers -> 22.9 kV bus -> per hall: unit-substation
transformers -> UPS modules -> one busway per row -> rack PSUs; mechanical loads of a
hall (CDU pumps, CRAH fans) from the hall's transformers without UPS; the yard plant
(dry coolers, chillers, facility pumps) and the robot workcells through the plant
transformers. Each step is a load flow of this radial network, from the loads up,
P_in = P_out + loss:

* rack PSUs: efficiency curve vs load on an N+N power shelf (GB200 power shelves:
  8 shelves x 6 PSUs x 5.5 kW, rated at twice the rack's nameplate);
* busways: a series resistance (from the loss at rated current) fed at rated voltage by
  the UPS, the row's load at its end; the end voltage in closed form, I^2 R at the
  actual current I = S / V;
* UPS: efficiency curve vs per-module load (modules share the load), or eco mode;
* transformers: the units in service of each group in parallel, each a T equivalent
  circuit per unit on its rating: series impedance of ``impedance_pct`` whose
  resistance gives the rated copper loss, a magnetizing conductance drawing the no-load
  loss at rated voltage (so it goes with V^2). A backward/forward sweep (powers up the
  tree, voltage magnitudes down it by the exact relation of a radial branch) from the
  utility bus at rated voltage gives the 22.9 kV and LV bus voltages and the copper
  losses at the actual currents. Two sweeps from a flat start agree with a converged
  load flow to about 1e-6; the tests check losses and voltages against pandapower's.

Simplifications: one power factor for all loads (0.95, active-PFC supplies), each
drawing constant power whatever its voltage; no magnetizing reactive current (the
scenario gives none); transformers at their rated ratio, no tap changers (the loader
makes the voltages agree); ``xr_ratio`` unused, the copper loss fixing the resistance;
busways without reactance; UPS outputs at rated voltage (in eco mode too); the utility
bus at rated voltage, also while generators or the BESS carry the site.

Losses of busways, UPS and unit-substation transformers appear as heat in the hall's
electrical rooms (its air); main and plant transformers stand outdoors, BESS containers
reject their conversion losses outdoors.

Utility outage: each generator set starts (crank, run-up, transfer: ``start_delay_s``,
NFPA 110 Type 10) and closes onto the 22.9 kV bus, then picks up load at the scenario's
ramp rate (load acceptance taken as a ramp), both at their moment inside a step (the
step gets the ramp's exact mean, and the BESS and UPS batteries the shortfall's); a set
that fails to start is locked out after NFPA 110 cycle cranking (``crank_lockout_s``).
Until the start sequence is over the BESS and the UPS batteries bridge what the sets do
not yet carry. Then load
management (a paralleling switchgear's load shed) compares the running sets' rating and
what the BESS can give with the load: the cooling plant and the halls' mechanical loads
come first; halls are kept on the bus in scenario order (the first hall has the highest
priority) while their UPS inputs fit, and the rest are shed: their UPS carry the racks
from their batteries and drop the load at end of discharge (located inside the step:
the racks run for the share of it that the stored energy lasts); a shed hall goes back on
once the spare capacity exceeds its load by ``LOAD_ADD_MARGIN`` (the UPS restart on
input power, the racks with them). Where the sources cannot carry even the cooling
(``auxiliaries_powered`` false; the engine stops pumps, fans and chillers) every hall is
shed; with no source at all the bus is dead and its transformers carry and lose
nothing. When the utility returns every hall and the cooling go back on it and the sets
unload at their ramp rate, then stop. Simplifications: no frequency or voltage transient
as a set picks up load, no retransfer delay or cool-down run, UPS batteries recharge
from the utility only, the cooling restarts at once (no chiller restart time), and the
robot cells' draw on a dead bus is reported unserved (``unserved_w``) while they run on.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass

import numpy as np

from twin.scenario import Scenario
from twin.scenario.schema import Curve, TransformerSpec
from twin.sim.sums import GroupSums
from twin.sim.topology import Topology

POWER_FACTOR = 0.95  # IT and drive loads with active power-factor correction
TAN_PHI = math.sqrt(1.0 / POWER_FACTOR**2 - 1.0)  # reactive over active power
SWEEPS = 2  # backward/forward sweeps per step from a flat start, then a last backward
PSU_RATING_PER_NAMEPLATE = 2.0  # N+N power shelves
GENERATOR_OFF, GENERATOR_STARTING, GENERATOR_RUNNING, GENERATOR_FAILED = range(4)
GENERATOR_STATES = ("off", "starting", "running", "failed")
"""Names of the codes in ``PowerState.generator_state``, by code."""
# Engineering choice (no public figure): switchgear load-add settings leave headroom for
# the block a hall adds.
LOAD_ADD_MARGIN = 0.1  # a shed hall goes back on with 10 % spare capacity over its load
# A UPS's end of discharge is located inside a step at the draw its batteries carried in
# the step before; the draw in the step itself differs a little (the load moved). In that
# step a UPS drops its racks once less than this share of its battery energy is left,
# and may draw as far below its end-of-discharge point (a battery's reserve below the
# UPS's cut-off voltage) so that nothing goes unserved.
UPS_EMPTY_FRACTION = 0.01
GENERATOR_RNG_STREAM = 0x67656E  # the fail-to-start draws' own stream of the seed
# busway loss per row, UPS output, input and rating per hall, W; the bus load's two
# levels (share, high offset, low offset) or None
_UpsFlows = tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray, tuple[float, float, float] | None]


def curve_efficiency(curve: Curve, load_fraction: np.ndarray | float) -> np.ndarray:
    """Efficiency 0-1 at a load 0-1+ of rating; flat beyond the curve's ends."""
    return np.interp(
        np.asarray(load_fraction) * 100.0, curve.load_pct, np.asarray(curve.efficiency_pct) / 100.0
    )


class CurveTable:
    """A ``Curve`` as arrays, built once: ``curve_efficiency`` and ``input_through_curve``
    without converting the scenario's lists every step (the same values to the last bit)."""

    def __init__(self, curve: Curve):
        self.load_pct = np.asarray(curve.load_pct, dtype=float)
        self.efficiency = np.asarray(curve.efficiency_pct) / 100.0

    def input_w(self, out_w: np.ndarray, rating_w: np.ndarray | float) -> np.ndarray:
        """Input power of a stage whose efficiency depends on its output load."""
        load_pct = np.asarray(out_w / rating_w)
        load_pct *= 100.0
        efficiency = np.interp(load_pct, self.load_pct, self.efficiency)
        if (
            isinstance(efficiency, np.ndarray)
            and isinstance(out_w, np.ndarray)
            and efficiency.shape == out_w.shape
        ):
            return np.divide(out_w, efficiency, out=efficiency)
        return out_w / efficiency


def ramp_energy_j(
    online_s: np.ndarray, t0: float, t1: float, rating_w: float, ramp_w_per_s: float, cap_w: float
) -> float:
    """Energy from ``t0`` to ``t1`` of sets that each give nothing until their
    ``online_s``, then ramp at ``ramp_w_per_s`` to ``rating_w``, their sum held to at
    most ``cap_w`` (the load they carry): exact, the sum being piecewise linear between
    the sets' kinks (online, full)."""
    if cap_w <= 0.0 or online_s.size == 0 or t1 <= t0:
        return 0.0
    kinks = np.concatenate(([t0, t1], online_s, online_s + rating_w / ramp_w_per_s))
    times = np.unique(np.clip(kinks, t0, t1))
    total_w = np.clip(ramp_w_per_s * (times[:, None] - online_s[None, :]), 0.0, rating_w).sum(
        axis=1
    )
    width = np.diff(times)
    low, high = np.minimum(total_w[:-1], total_w[1:]), np.maximum(total_w[:-1], total_w[1:])
    # the share of each segment below the cap (the sum is linear along it)
    below = np.clip(
        np.divide(cap_w - low, high - low, out=np.ones_like(low), where=high > low), 0.0, 1.0
    )
    below[low >= cap_w] = 0.0
    under_cap = 0.5 * (low + np.minimum(high, cap_w)) * below * width
    return float(np.sum(under_cap + cap_w * (1.0 - below) * width))


def input_through_curve(
    curve: Curve, out_w: np.ndarray, rating_w: np.ndarray | float
) -> np.ndarray:
    """Input power of a stage whose efficiency depends on its output load."""
    return out_w / curve_efficiency(curve, out_w / rating_w)


class TransformerGroups:
    """Groups of equal transformers in parallel, for a backward/forward sweep.

    Each group is the T equivalent circuit per unit on its own rating (units in service x
    unit rating): half the series impedance, the magnetizing branch (a conductance that
    draws the no-load loss at rated voltage), the other half. Resistance from the copper
    loss at rated current, reactance the rest of the short-circuit impedance. Arrays hold
    one group per element; ``single`` keeps plain floats, which numpy cannot beat for one.
    Voltages are squared magnitudes, powers and currents per unit on the group's rating.
    """

    def __init__(self, specs: list[TransformerSpec], units: np.ndarray):
        unit_va = np.array([s.rating_kva for s in specs]) * 1e3
        z = np.array([s.impedance_pct for s in specs]) / 100.0
        self.rating_va = unit_va * units
        self.r = np.array([s.load_loss_kw for s in specs]) * 1e3 / unit_va
        # purely resistive if a scenario's impedance is below its copper loss
        self.x = np.sqrt(np.maximum(z * z - self.r**2, 0.0))
        self.r_half = self.r / 2.0
        self.x_half = self.x / 2.0
        self.z_half_sq = self.r_half**2 + self.x_half**2
        self.g = np.array([s.no_load_loss_kw for s in specs]) * 1e3 / unit_va
        self.start()

    @classmethod
    def single(cls, spec: TransformerSpec, units: float) -> TransformerGroups:
        group = cls([spec], np.array([units], float))
        for name in ("rating_va", "r", "x", "r_half", "x_half", "z_half_sq", "g"):
            setattr(group, name, float(getattr(group, name)[0]))
        return group

    def start(self) -> None:
        """Flat start: every bus at rated voltage."""
        self.v_mid_sq: np.ndarray | float = 1.0
        self.v_lv_sq: np.ndarray | float = 1.0

    def backward(self, p_lv: np.ndarray | float, q_lv: np.ndarray | float) -> None:
        """Powers into the HV terminals (``p_hv``, ``q_hv``) for loads on the LV terminals,
        at the present voltage estimates."""
        self.i_lv_sq = (p_lv * p_lv + q_lv * q_lv) / self.v_lv_sq
        # into the LV half at the magnetizing node, then into the HV half
        self.p_mid = p_lv + self.r_half * self.i_lv_sq
        self.q_mid = q_lv + self.x_half * self.i_lv_sq
        p_hv = self.p_mid + self.g * self.v_mid_sq
        self.i_hv_sq = (p_hv * p_hv + self.q_mid * self.q_mid) / self.v_mid_sq
        self.p_hv = p_hv + self.r_half * self.i_hv_sq
        self.q_hv = self.q_mid + self.x_half * self.i_hv_sq

    def forward(self, v_hv_sq: np.ndarray | float) -> None:
        """Voltages down each half from the HV terminals, by the exact relation of a
        radial branch, V_r^2 = V_s^2 - 2 (r P_s + x Q_s) + |z|^2 I^2 (sending-end P, Q)."""
        self.v_mid_sq = (
            v_hv_sq - (self.r * self.p_hv + self.x * self.q_hv) + self.z_half_sq * self.i_hv_sq
        )
        self.v_lv_sq = (
            self.v_mid_sq
            - (self.r * self.p_mid + self.x * self.q_mid)
            + self.z_half_sq * self.i_lv_sq
        )


@dataclass(slots=True)
class GridResult:
    """What the site drew in the step, W. Sources are signed as seen by the site's bus:
    ``grid_import_w + generator_w + bess_w + ups_battery_w + unserved_w == demand_w``
    exactly, every step."""

    demand_w: float  # loads + chain losses: at the utility point, plus shed halls' UPS draw
    grid_import_w: float
    generator_w: float
    bess_w: float  # at the BESS's AC terminals on the bus, positive discharging
    ups_battery_w: float  # UPS batteries: positive feeding their UPS, negative recharging
    bess_soc: float
    loss_w: float  # busway + UPS + transformers (PSU losses are in the racks' input)
    bess_loss_w: float  # conversion losses inside the BESS, between its cells and the bus
    outdoor_loss_w: float  # outdoor transformers and the BESS's conversion losses
    unserved_w: float  # load no source could carry (robots on a dead bus, a shortfall)


@dataclass(slots=True)
class Losses:
    hall_indoor_w: np.ndarray


class PowerChain:
    """The electrical side of the site, compiled from the scenario."""

    def __init__(self, s: Scenario, topo: Topology, seed: int | None = None):
        self.p = s.power
        self.seed = s.scenario.seed if seed is None else seed
        self.topo = topo
        halls = s.halls
        # numpy's own index type, which bincount and gathers take without a conversion
        self.row_hall = topo.row_hall.astype(np.intp)
        self.rack_row = topo.rack_row.astype(np.intp)
        self.rack_hall = topo.rack_hall.astype(np.intp)
        self.row_count = len(topo.row_names)
        self.hall_count = len(halls)
        # sums over each row's racks, each hall's rows and each hall's racks
        self.sum_by_row = GroupSums(self.rack_row, self.row_count)
        self.sum_rows_by_hall = GroupSums(self.row_hall, self.hall_count)
        self.sum_by_hall = GroupSums(self.rack_hall, self.hall_count)
        self.hall_transformers = np.array([h.electrical.transformers for h in halls], float)
        self.hall_ups_modules = np.array([h.electrical.ups_modules for h in halls], float)
        # N of N+R: units the design needs; more in service means a spare still stands
        self.hall_transformers_needed = self.hall_transformers - [
            h.electrical.transformer_redundancy for h in halls
        ]
        self.hall_ups_needed = self.hall_ups_modules - [h.electrical.ups_redundancy for h in halls]
        rack_nameplate = np.array(
            [s.rack_types[n].nameplate_kw * 1e3 for n in topo.rack_type_names]
        )[topo.rack_type]
        self.psu_rating_w = rack_nameplate * PSU_RATING_PER_NAMEPLATE
        self.psu_curve = CurveTable(self.p.rack_psu)
        self.ups_curve = CurveTable(self.p.ups.efficiency)
        b = self.p.busway
        self.busway_rating_va = np.sqrt(3) * b.voltage_v * b.rating_a
        # series resistance, per unit on the busway's rating
        self.busway_r = b.loss_kw_at_rating * 1e3 / self.busway_rating_va
        # one group per hall, then the plant: the transformers on the 22.9 kV bus
        self.lv = TransformerGroups(
            [self.p.distribution_transformer] * self.hall_count + [self.p.plant_transformers],
            np.append(self.hall_transformers, self.p.plant_transformers.units),
        )
        self.lv_load_w = np.zeros(self.hall_count + 1)
        self.lv_unit_va = self.lv.rating_va / np.append(
            self.hall_transformers, self.p.plant_transformers.units
        )
        self.main = TransformerGroups.single(
            self.p.main_transformers, self.p.main_transformers.units
        )
        bess = self.p.bess
        self.bess_capacity_j = bess.energy_mwh * 3.6e9
        self.bess_power_w = bess.power_mw * 1e6
        self.eta_one_way = float(np.sqrt(bess.round_trip_efficiency))
        self.losses = Losses(np.zeros(self.hall_count))
        self.reset()

    @classmethod
    def from_scenario(cls, s: Scenario, topo: Topology, seed: int | None = None) -> PowerChain:
        return cls(s, topo, seed)

    def reset(self) -> None:
        self.hall_transformers_in_service = self.hall_transformers.copy()
        self.hall_ups_in_service = self.hall_ups_modules.copy()
        self._rate_lv_groups()
        bess = self.p.bess
        self.bess_energy_j = bess.initial_soc * self.bess_capacity_j
        self.ups_capacity_j = (
            self.hall_ups_modules
            * self.p.ups.module_rating_kw
            * 1e3
            * self.p.ups.battery_ride_through_s
        )
        self.ups_energy_j = self.ups_capacity_j.copy()
        self.import_cap_w = self.p.utility.import_cap_mw * 1e6
        self.demand_response_w: float | None = None
        self.demand_response_raise = False  # plus DR: the target is a floor
        self.generator_dispatch_w: float | None = None  # asked of the sets in parallel
        self.outage: tuple[float, float] | None = None  # (start, end)
        self.generators_w = 0.0
        units = self.p.generators.units
        self.generator_state = np.full(units, GENERATOR_OFF, np.int8)
        self.generator_started_s = np.zeros(units)  # its start began
        self.generator_online_s = np.zeros(units)  # it closed onto the bus
        self.generator_fails_start = np.zeros(units, dtype=bool)  # on the present demand
        self.generator_rng = np.random.default_rng([GENERATOR_RNG_STREAM, self.seed])
        self.start_demanded = False  # an outage is due and the sets have not started yet
        self.failing_to_start = 0
        self.hall_shed = np.zeros(self.hall_count, dtype=bool)  # UPS input off the bus
        self.hall_powered = np.ones(self.hall_count, dtype=bool)  # UPS output live
        # share of the coming step with the UPS output live: below 1 where its batteries
        # reach end of discharge within the step (the engine runs its racks until then)
        self.hall_powered_share = np.ones(self.hall_count)
        self.hall_ups_input_w = np.zeros(self.hall_count)  # each UPS's input, last step
        self.hall_block_w = np.zeros(self.hall_count)  # peak UPS input at the bus, outage
        self.hall_battery_w = np.zeros(self.hall_count)  # drawn from its UPS batteries
        self.auxiliaries_powered = True  # cooling plant and halls' mechanical loads fed
        self.auxiliaries_peak_w = 0.0  # their peak demand at the bus since the outage began
        self.auxiliaries_w = 0.0  # their demand at the bus in the last step
        # the busway and UPS flows ``hall_room_loss_w`` found for the step's rack load,
        # which ``step`` takes over for the same load (None: none since the last step)
        # (rack input, levels, their flows, the halls' busway and UPS losses)
        self._step_flows: tuple[object, object, _UpsFlows, np.ndarray] | None = None
        # the smoothing low-pass's step factor per step size (the same expression)
        self._smoothing_alpha: dict[float, float] = {}
        self.next_step: tuple[float, float] | None = None  # (start s, dt s) as last planned
        self.smoothed_demand_w: float | None = None
        self.losses.hall_indoor_w[:] = 0.0
        self.row_loading = np.zeros(self.row_count)
        self.hall_transformer_loading = np.zeros(self.hall_count)
        self.hall_ups_loading = np.zeros(self.hall_count)
        self.main_loading = 0.0
        self.plant_loading = 0.0
        self.hall_lv_voltage_pu = np.ones(self.hall_count)
        self.plant_lv_voltage_pu = 1.0
        self.mv_voltage_pu = 1.0
        self.row_busway_loss_w = np.zeros(self.row_count)
        self.hall_transformer_loss_w = np.zeros(self.hall_count)
        self.plant_transformer_loss_w = 0.0
        self.main_transformer_loss_w = 0.0
        self.available = True
        self.bess_limited = False

    # ------------------------------------------------------------------ commands

    def change_hall_units(self, hall: int, transformers: int = 0, ups_modules: int = 0) -> None:
        """Take units of a hall out of service (negative) or back (positive), keeping at
        least one of each and no more than installed. The units left carry the load: the
        group's rating shrinks, so loading and copper loss rise, no-load loss falls. The
        UPS batteries stay (strings shared by the modules)."""
        self.hall_transformers_in_service[hall] = np.clip(
            self.hall_transformers_in_service[hall] + transformers, 1, self.hall_transformers[hall]
        )
        self.hall_ups_in_service[hall] = np.clip(
            self.hall_ups_in_service[hall] + ups_modules, 1, self.hall_ups_modules[hall]
        )
        self._rate_lv_groups()

    def _rate_lv_groups(self) -> None:
        self.lv.rating_va[:-1] = self.lv_unit_va[:-1] * self.hall_transformers_in_service
        self.lv_to_main = self.lv.rating_va / self.main.rating_va

    def set_import_cap(self, cap_w: float) -> None:
        self.import_cap_w = cap_w

    def set_demand_response(self, target_w: float | None, *, raise_load: bool = False) -> None:
        """Hold the import at most at ``target_w`` (the BESS discharges), or with
        ``raise_load`` at least at it (plus DR: the BESS charges); None: neither."""
        self.demand_response_w = target_w
        self.demand_response_raise = raise_load and target_w is not None

    def dispatch_generators(self, t: float, output_w: float | None) -> None:
        """Run the generator sets in parallel with the utility for demand response: those
        standing by start (the same sequence and fail-to-start draws as for an outage)
        and the running ones move to ``output_w`` together at their ramp rate; None: they
        unload at their ramp and stop."""
        if output_w is None or output_w <= 0.0:
            self.generator_dispatch_w = None
            return
        if self.generator_dispatch_w is None and self.utility_available(t):
            self._start_standby_sets(t)
        self.generator_dispatch_w = output_w

    def start_outage(self, t: float, duration_s: float, failing_to_start: int = 0) -> None:
        """The utility feed is lost from ``t`` for ``duration_s``: when it goes, every set
        standing by starts; the last ``failing_to_start`` of them, and those the
        fail-to-start probability draws, crank without starting and lock out."""
        self.outage = (t, t + duration_s)
        self.failing_to_start = failing_to_start
        self.start_demanded = True
        if self.next_step is not None and t <= self.next_step[0]:
            # lost now: the cooling stops at once if nothing can carry it
            self.auxiliaries_peak_w = self.auxiliaries_w
            self.auxiliaries_powered = bool(
                self.auxiliaries_w
                <= (
                    np.count_nonzero(self.generator_state == GENERATOR_RUNNING)
                    * self.p.generators.rating_mw
                    * 1e6
                    + self._bess_available_w(self.next_step[1])
                )
            )
            if not self.auxiliaries_powered:
                self.hall_shed[:] = True
                self._plan_discharge(self.next_step[1])

    def _start_standby_sets(self, t: float) -> None:
        idle = np.flatnonzero(self.generator_state == GENERATOR_OFF)
        # every idle set gets its draw whatever the event says: a seed gives the same draws
        fails = self.generator_rng.random(idle.size) < self.p.generators.fail_to_start_probability
        fails[idle.size - min(self.failing_to_start, idle.size) :] = True
        self.generator_state[idle] = GENERATOR_STARTING
        self.generator_started_s[idle] = t
        self.generator_fails_start[idle] = fails
        self.start_demanded = False

    def fail_generators(self, units: int) -> None:
        """Take the last ``units`` sets not yet failed out of service; running ones trip."""
        candidates = np.flatnonzero(self.generator_state != GENERATOR_FAILED)
        chosen = candidates[candidates.size - min(units, candidates.size) :]
        self.generator_state[chosen] = GENERATOR_FAILED
        self.generator_fails_start[chosen] = False

    def restore_generators(self, t: float, units: int) -> None:
        """Return the first ``units`` failed sets to service (repaired and reset); during an
        outage they start at once, and start."""
        chosen = np.flatnonzero(self.generator_state == GENERATOR_FAILED)[:units]
        self.generator_fails_start[chosen] = False
        if self.utility_available(t):
            self.generator_state[chosen] = GENERATOR_OFF
        else:
            self.generator_state[chosen] = GENERATOR_STARTING
            self.generator_started_s[chosen] = t

    def utility_available(self, t: float) -> bool:
        return self.outage is None or not self.outage[0] <= t < self.outage[1]

    def battery_energy_j(self) -> float:
        return float(self.bess_energy_j + np.add.reduce(self.ups_energy_j))

    # ------------------------------------------------------------------ per step

    def rack_input_w(self, rack_dc_w: np.ndarray) -> np.ndarray:
        """Rack AC input through the PSUs (their loss stays in the rack as heat)."""
        return self.psu_curve.input_w(rack_dc_w, self.psu_rating_w)

    def rack_input_levels_w(
        self, high_dc_w: np.ndarray, low_dc_w: np.ndarray, high_share: np.ndarray
    ) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """``(mean, high, low)`` rack AC inputs of a load at two levels within the step:
        the PSU loss at each level, weighted by its share (the exact step mean of a
        load that swings between them)."""
        high = self.rack_input_w(high_dc_w)
        low = self.rack_input_w(low_dc_w)
        mean = high - low
        mean *= high_share
        mean += low
        return mean, high, low

    def step(
        self,
        t0: float,
        dt: float,
        rack_in_w: np.ndarray,
        hall_mech_w: np.ndarray,
        plant_w: float,
        robot_w: float,
        rack_levels_w: tuple[np.ndarray, np.ndarray] | None = None,
    ) -> GridResult:
        """One step's load flow and supply. Racks of a hall whose UPS dropped its load
        (``hall_powered`` false, decided at the end of the previous step) draw nothing.

        ``rack_levels_w``: ``(high, low)`` rack inputs when the racks swing between two
        levels within the step (``rack_in_w`` their mean). The UPS efficiency curve and
        the BESS (its smoothing, peak shaving and conversion losses) then see each
        hall's and the site's load at both levels, in phase, each for the share of the
        step that keeps the mean; busways and transformers carry the mean (their
        I^2 R loss of the swing's variance is neglected: a simplification)."""
        available = self.utility_available(t0)
        self.available = available
        self._advance_generators(t0, dt, available)
        flows = self._step_flows
        self._step_flows = None
        room_loss: np.ndarray | None = None
        if flows is None or flows[0] is not rack_in_w or flows[1] is not rack_levels_w:
            busway_loss, ups_out, ups_in, ups_rating, bus_swing = self._ups_flows(
                rack_in_w, rack_levels_w
            )
        else:
            busway_loss, ups_out, ups_in, ups_rating, bus_swing = flows[2]
            room_loss = flows[3]
        self.hall_ups_loading = ups_out / ups_rating
        # a shed hall's UPS draws on its batteries (same conversion losses), not the bus
        fed = ~self.hall_shed
        lv_load = self.lv_load_w
        lv_load[:-1] = ups_in * fed + hall_mech_w
        lv_load[-1] = plant_w + robot_w
        if available or self._backup_bus_live(dt):
            lv_in, demand = self._sweep(lv_load)
        else:
            lv_in, demand = self._dead_bus(lv_load)
        lv_loss = lv_in - lv_load
        main_loss = demand - float(np.add.reduce(lv_in))
        dist_loss = lv_loss[:-1]
        plant_loss = float(lv_loss[-1])
        self.row_busway_loss_w = busway_loss
        self.hall_transformer_loss_w = dist_loss
        self.plant_transformer_loss_w = plant_loss
        self.main_transformer_loss_w = main_loss
        if room_loss is None:
            room_loss = self._room_loss_w(busway_loss, ups_out, ups_in)
        self.losses.hall_indoor_w[:] = room_loss + dist_loss
        chain_loss = float(np.add.reduce(self.losses.hall_indoor_w) + plant_loss + main_loss)
        outdoor = plant_loss + main_loss
        result = self._supply(
            t0, dt, demand, chain_loss, outdoor, ups_out * fed, ups_in * ~fed, bus_swing
        )
        self._manage_load(t0 + dt, dt, ups_in, demand, float(np.add.reduce(lv_load)))
        return result

    def _ups_and_busways(
        self, rack_in_w: np.ndarray
    ) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
        """``(busway loss per row, UPS output, UPS input, UPS rating per hall)``, W, at
        the racks' mean input; the racks of a hall whose UPS dropped them draw nothing.
        A hall whose UPS reaches end of discharge inside the step carries its load until
        then and nothing after: busway and UPS take that load for that share."""
        row_w: np.ndarray = self.sum_by_row(rack_in_w)
        if not np.logical_and.reduce(self.hall_powered):
            row_w *= self.hall_powered[self.row_hall]
        share = self.hall_powered_share
        # a UPS ends its discharge inside the step (its share strictly between 0 and 1)
        partial = bool(
            np.logical_or.reduce(share < 1.0)
            and np.logical_or.reduce((share > 0.0) & (share < 1.0))
        )
        if partial:
            hall_share = np.where((share > 0.0) & (share < 1.0), share, 1.0)
            row_w /= hall_share[self.row_hall]
        busway_loss = self._busways(row_w)
        ups_out = self.sum_rows_by_hall(row_w + busway_loss)
        ups = self.p.ups
        ups_rating = self.hall_ups_in_service * ups.module_rating_kw * 1e3
        if ups.mode == "eco":
            ups_in = ups_out / (ups.eco_efficiency_pct / 100.0)
        else:
            ups_in = self.ups_curve.input_w(ups_out, ups_rating)
        if partial:
            busway_loss *= hall_share[self.row_hall]
            ups_out *= hall_share
            ups_in *= hall_share
        return busway_loss, ups_out, ups_in, ups_rating

    def hall_room_loss_w(
        self, rack_in_w: np.ndarray, rack_levels_w: tuple[np.ndarray, np.ndarray] | None = None
    ) -> np.ndarray:
        """Each hall's busway and UPS losses, W: the part of its electrical rooms' heat
        known before the step's load flow (which adds the transformers'). The busways
        carry the racks' mean input; the UPS, where the racks run at two levels within
        the step (``rack_levels_w``, as in ``step``), the weighted loss of both. The
        flows found here serve the step's ``step`` when it gets the same (unchanged)
        arrays, so the engine works them out once per step."""
        flows = self._ups_flows(rack_in_w, rack_levels_w)
        busway_loss, ups_out, ups_in, _, _ = flows
        room_loss = self._room_loss_w(busway_loss, ups_out, ups_in)
        self._step_flows = (rack_in_w, rack_levels_w, flows, room_loss)
        return room_loss

    def _room_loss_w(
        self, busway_loss_w: np.ndarray, ups_out_w: np.ndarray, ups_in_w: np.ndarray
    ) -> np.ndarray:
        """Each hall's busway and UPS losses, W."""
        by_hall = self.sum_rows_by_hall(busway_loss_w)
        return by_hall + (ups_in_w - ups_out_w)

    def _ups_flows(
        self, rack_in_w: np.ndarray, rack_levels_w: tuple[np.ndarray, np.ndarray] | None
    ) -> _UpsFlows:
        """``(busway loss per row, UPS output, UPS input, UPS rating, bus swing)`` of a
        rack load, as ``_ups_and_busways`` and ``_ups_levels`` give them."""
        busway_loss, ups_out, ups_in, ups_rating = self._ups_and_busways(rack_in_w)
        bus_swing = None
        if rack_levels_w is not None:
            ups_in, bus_swing = self._ups_levels(
                rack_in_w, rack_levels_w, ups_out, ups_in, ups_rating
            )
        return busway_loss, ups_out, ups_in, ups_rating, bus_swing

    def _ups_levels(
        self,
        rack_in_w: np.ndarray,
        levels_w: tuple[np.ndarray, np.ndarray],
        ups_out_w: np.ndarray,
        ups_in_w: np.ndarray,
        rating_w: np.ndarray,
    ) -> tuple[np.ndarray, tuple[float, float, float] | None]:
        """Each hall's UPS input as the weighted mean over the two levels, and the bus
        load's two levels ``(share, high offset, low offset)`` from its mean (W), the
        halls' swings taken in phase; None where nothing swings."""
        count = self.hall_count
        powered = self.hall_powered
        by_hall = self.sum_by_hall
        mean = by_hall(rack_in_w)
        high = by_hall(levels_w[0]) - mean
        low = by_hall(levels_w[1]) - mean
        high *= powered
        low *= powered
        span = high - low
        if not np.logical_or.reduce(span > 0):
            return ups_in_w, None
        # the hall's share at the upper level: what keeps its mean
        share = np.divide(-low, span, out=np.zeros(count), where=span > 0)
        ups = self.p.ups
        if ups.mode == "eco":
            in_high = (ups_out_w + high) / (ups.eco_efficiency_pct / 100.0)
            in_low = (ups_out_w + low) / (ups.eco_efficiency_pct / 100.0)
        else:
            in_high = self.ups_curve.input_w(ups_out_w + high, rating_w)
            in_low = self.ups_curve.input_w(np.maximum(ups_out_w + low, 0.0), rating_w)
        ups_in_w = in_low + share * (in_high - in_low)
        fed = ~self.hall_shed
        bus_high = float(np.dot(in_high - ups_in_w, fed))
        bus_low = float(np.dot(in_low - ups_in_w, fed))
        if not bus_high > bus_low:
            return ups_in_w, None
        return ups_in_w, (-bus_low / (bus_high - bus_low), bus_high, bus_low)

    def _backup_bus_live(self, dt: float) -> bool:
        """Whether a source energizes the 22.9 kV bus in an outage: a set on it, or the BESS."""
        return bool(
            (self.generator_state == GENERATOR_RUNNING).any() or self._bess_available_w(dt) > 0.0
        )

    def _dead_bus(self, lv_load_w: np.ndarray) -> tuple[np.ndarray, float]:
        """No source on the bus: the transformers carry nothing and lose nothing; what the
        loads still ask for (robots on cable) goes unserved."""
        self.mv_voltage_pu = 0.0
        self.hall_lv_voltage_pu = np.zeros(self.hall_count)
        self.plant_lv_voltage_pu = 0.0
        self.hall_transformer_loading = np.zeros(self.hall_count)
        self.plant_loading = 0.0
        self.main_loading = 0.0
        return lv_load_w.copy(), float(lv_load_w.sum())

    def _busways(self, row_w: np.ndarray) -> np.ndarray:
        """Busway I^2 R loss per row, W, each fed at rated voltage by its hall's UPS.

        Per unit on the busway's rating, a resistance r with a load P + jQ at its end
        (sending end at 1) has the end voltage V^2 = (a + sqrt(a^2 - 4 r^2 |S|^2)) / 2,
        a = 1 - 2 r P.
        """
        r = self.busway_r
        p = row_w / self.busway_rating_va
        s_sq = (p / POWER_FACTOR) ** 2
        a = 1.0 - 2.0 * r * p
        current_sq = 2.0 * s_sq / (a + np.sqrt(a * a - 4.0 * r * r * s_sq))
        self.row_loading = np.sqrt(current_sq)  # over rated current
        return self.p.busway.loss_kw_at_rating * 1e3 * current_sq

    def _sweep(self, lv_load_w: np.ndarray) -> tuple[np.ndarray, float]:
        """Load flow of the transformers from the utility bus (rated voltage) to the loads
        on the LV buses: (power into each LV group W, demand at the utility W)."""
        lv, main = self.lv, self.main
        lv.start()
        main.start()
        p_lv = lv_load_w / lv.rating_va
        q_lv = p_lv * TAN_PHI
        for sweep in range(SWEEPS + 1):
            lv.backward(p_lv, q_lv)
            main.backward(float(lv.p_hv @ self.lv_to_main), float(lv.q_hv @ self.lv_to_main))
            if sweep < SWEEPS:
                main.forward(1.0)
                lv.forward(main.v_lv_sq)
        self.mv_voltage_pu = math.sqrt(main.v_lv_sq)
        lv_v = np.sqrt(lv.v_lv_sq)
        self.hall_lv_voltage_pu = lv_v[:-1]
        self.plant_lv_voltage_pu = float(lv_v[-1])
        lv_loading = np.sqrt(lv.i_lv_sq)  # over rated current of the units in service
        self.hall_transformer_loading = lv_loading[:-1]
        self.plant_loading = float(lv_loading[-1])
        self.main_loading = math.sqrt(main.i_lv_sq)
        return lv.p_hv * lv.rating_va, main.p_hv * main.rating_va

    def _advance_generators(self, t0: float, dt: float, available: bool) -> None:
        """The sets' start sequence: on the bus ``start_delay_s`` after their start (in
        the step in which that falls, from that moment), or locked out after
        ``crank_lockout_s`` of cranking; a start under way stops when the utility
        returns."""
        if not available and self.start_demanded and self.outage is not None:
            self._start_standby_sets(self.outage[0])
        state = self.generator_state
        starting = state == GENERATOR_STARTING
        if not np.logical_or.reduce(starting):
            return
        if available and self.generator_dispatch_w is None:
            state[starting] = GENERATOR_OFF
            return
        gens = self.p.generators
        since = t0 - self.generator_started_s
        fails = self.generator_fails_start
        state[starting & fails & (since >= gens.crank_lockout_s)] = GENERATOR_FAILED
        on_bus = starting & ~fails & (since + dt > gens.start_delay_s)
        state[on_bus] = GENERATOR_RUNNING
        self.generator_online_s[on_bus] = self.generator_started_s[on_bus] + gens.start_delay_s

    def _generator_output_w(self, t0: float, dt: float, available: bool, bus_w: float) -> float:
        """What the running sets give, the step's mean (W): up to their rating, each
        ramping from the moment it closed onto the bus, together no more than the bus
        load; once the utility is back they unload at their ramp and stop.
        ``generators_w`` keeps their output at the step's end."""
        gens = self.p.generators
        running = self.generator_state == GENERATOR_RUNNING
        ramp_w_per_s = gens.ramp_mw_per_s * 1e6
        if available and self.generator_dispatch_w is not None:
            return self._dispatched_output_w(t0, dt, bus_w, self.generator_dispatch_w)
        if available:
            start_w = self.generators_w
            rate_w_per_s = int(np.add.reduce(running)) * ramp_w_per_s
            self.generators_w = max(start_w - rate_w_per_s * dt, 0.0)
            if self.generators_w == 0.0:
                self.generator_state[running] = GENERATOR_OFF
            if start_w <= 0.0:
                return 0.0
            # the unloading ramp's mean over the step (down to nothing within it or not)
            mean_w = (
                0.5 * start_w * start_w / rate_w_per_s / dt
                if start_w <= rate_w_per_s * dt
                else start_w - 0.5 * rate_w_per_s * dt
            )
            return min(mean_w, bus_w)
        online_s = self.generator_online_s[running]
        rating_w = gens.rating_mw * 1e6
        each_w = np.clip(ramp_w_per_s * (t0 + dt - online_s), 0.0, rating_w)
        self.generators_w = min(bus_w, float(each_w.sum()))
        return ramp_energy_j(online_s, t0, t0 + dt, rating_w, ramp_w_per_s, bus_w) / dt

    def _dispatched_output_w(self, t0: float, dt: float, bus_w: float, dispatch_w: float) -> float:
        """The sets in parallel with the utility (demand response), the step's mean (W):
        from nothing, each ramps from the moment it closed onto the bus up to the output
        asked (exact, ``ramp_energy_j``); from a running output, they move together
        towards it at their summed ramp rate (the mean of that ramp and hold, exact).
        Never more than the bus load: they do not export."""
        gens = self.p.generators
        running = self.generator_state == GENERATOR_RUNNING
        rating_w = gens.rating_mw * 1e6
        ramp_w_per_s = gens.ramp_mw_per_s * 1e6
        asked_w = min(dispatch_w, int(running.sum()) * rating_w, bus_w)
        start_w = self.generators_w
        if start_w <= 0.0:
            online_s = self.generator_online_s[running]
            each_w = np.clip(ramp_w_per_s * (t0 + dt - online_s), 0.0, rating_w)
            self.generators_w = min(asked_w, float(each_w.sum()))
            return ramp_energy_j(online_s, t0, t0 + dt, rating_w, ramp_w_per_s, asked_w) / dt
        rate_w_per_s = int(running.sum()) * ramp_w_per_s
        if rate_w_per_s <= 0.0:
            self.generators_w = 0.0
            return 0.0
        gap_w = asked_w - start_w
        reach_s = abs(gap_w) / rate_w_per_s
        if reach_s >= dt:
            self.generators_w = start_w + math.copysign(rate_w_per_s * dt, gap_w)
            return 0.5 * (start_w + self.generators_w)
        self.generators_w = asked_w
        return asked_w - 0.5 * gap_w * reach_s / dt

    def _bess_reach_w(self, t0: float, dt: float, bus_w: float, generator_w: float) -> float:
        """In an outage, the most the BESS can give over the step (mean W) within its
        power rating at every moment: the sets' shortfall ``d(t)`` below the bus load,
        held to the rating, ``mean(min(d, P))``. A set coming on or ramping within the
        step leaves a shortfall that is large at first and none later; its mean alone
        would let the BESS carry what the UPS batteries carry in those first seconds."""
        shortfall_w = bus_w - generator_w
        above_w = bus_w - self.bess_power_w  # load the BESS alone cannot carry
        if above_w <= 0.0 or shortfall_w <= 0.0:
            return shortfall_w
        gens = self.p.generators
        running = self.generator_state == GENERATOR_RUNNING
        # mean of max(above - g(t), 0): the shortfall beyond the rating
        beyond_w = (
            above_w
            - ramp_energy_j(
                self.generator_online_s[running],
                t0,
                t0 + dt,
                gens.rating_mw * 1e6,
                gens.ramp_mw_per_s * 1e6,
                above_w,
            )
            / dt
        )
        return max(shortfall_w - beyond_w, 0.0)

    def _supply(
        self,
        t0: float,
        dt: float,
        demand: float,
        chain_loss: float,
        outdoor: float,
        fed_ups_out_w: np.ndarray,
        shed_ups_in_w: np.ndarray,
        bus_swing: tuple[float, float, float] | None = None,
    ) -> GridResult:
        """Share the bus demand between utility, generators, BESS and the UPS batteries of
        the halls on the bus; shed halls' UPS carry their own load from their batteries."""
        available = self.available
        gen_w = self._generator_output_w(t0, dt, available, demand)
        residual = demand - gen_w
        if available:
            # recharge the UPS batteries from the grid at up to 10 % of their rating per
            # hour: a load the BESS sees, so peak shaving and demand response cover it too
            refill = np.minimum(
                self.ups_capacity_j - self.ups_energy_j, 0.1 * self.ups_capacity_j * dt / 3600.0
            )
            residual += float(np.add.reduce(refill)) / dt
        else:
            refill = np.zeros_like(self.ups_energy_j)
        self._follow_swings(available, residual, dt)
        share = bus_swing[0] if bus_swing is not None and available else 1.0
        if bus_swing is not None and 0.0 < share < 1.0:
            # the battery answers the load at each level for that level's share of the step
            _, high_w, low_w = bus_swing
            high_out, high_loss = self._bess_apply(
                self._bess_request(available, residual + high_w, dt), share * dt
            )
            limited = self.bess_limited
            low_out, low_loss = self._bess_apply(
                self._bess_request(available, residual + low_w, dt), (1.0 - share) * dt
            )
            self.bess_limited = self.bess_limited or limited
            bess_w = share * high_out + (1.0 - share) * low_out
            bess_loss = share * high_loss + (1.0 - share) * low_loss
        else:
            request = self._bess_request(available, residual, dt)
            if not available:
                request = min(request, self._bess_reach_w(t0, dt, demand, gen_w))
            bess_w, bess_loss = self._bess_apply(request, dt)
        residual -= bess_w
        # a UPS whose end of discharge falls in this step may reach into its reserve
        reserve_j = (self.hall_powered_share < 1.0) * (UPS_EMPTY_FRACTION * self.ups_capacity_j)
        if np.logical_or.reduce(self.hall_shed):
            battery_w = np.minimum(
                shed_ups_in_w, np.maximum(self.ups_energy_j + reserve_j, 0.0) / dt
            )
            unserved = float(np.add.reduce(shed_ups_in_w - battery_w))
            self.ups_energy_j -= battery_w * dt
            ups_w = float(np.add.reduce(battery_w))
        else:  # no hall draws on its batteries alone (shed inputs all 0: the same zeros)
            battery_w = np.zeros_like(self.ups_energy_j)
            unserved = 0.0
            ups_w = 0.0
        if available:
            grid_w = residual
            self.ups_energy_j += refill
            ups_w -= float(np.add.reduce(refill)) / dt
        else:
            grid_w = 0.0
            if residual > 1e-6:  # below a microwatt: rounding, not a shortfall
                # the UPS batteries of the halls on the bus carry the IT load the other
                # sources leave (a UPS limits its input and its batteries make up the rest)
                stored_j = np.where(
                    self.hall_shed, 0.0, np.maximum(self.ups_energy_j + reserve_j, 0.0)
                )
                stored = float(stored_j.sum())
                pooled_w = min(residual, float(fed_ups_out_w.sum()), stored / dt)
                if stored > 0:
                    share_w = stored_j / stored * pooled_w
                    self.ups_energy_j -= share_w * dt
                    battery_w = battery_w + share_w
                ups_w += pooled_w
                unserved += residual - pooled_w
        self.hall_battery_w = battery_w
        soc = self.bess_energy_j / self.bess_capacity_j if self.bess_capacity_j > 0 else 0.0
        return GridResult(
            demand_w=demand + float(np.add.reduce(shed_ups_in_w)),
            grid_import_w=grid_w,
            generator_w=gen_w,
            bess_w=bess_w,
            ups_battery_w=ups_w,
            bess_soc=soc,
            loss_w=chain_loss,
            bess_loss_w=bess_loss,
            outdoor_loss_w=outdoor + bess_loss,
            unserved_w=unserved,
        )

    def _manage_load(
        self, t_next: float, dt: float, ups_in_w: np.ndarray, demand_w: float, lv_load_w: float
    ) -> None:
        """Load management for the next step: which halls' UPS inputs stay on the backup
        bus, and which UPS still carry their racks (see the module's docstring)."""
        self.next_step = (t_next, dt)
        self.hall_ups_input_w = ups_in_w
        # each hall's UPS input as seen at the bus (losses of the transformers pro rata)
        drawing_w = ups_in_w * (demand_w / max(lv_load_w, 1.0))
        on_bus = ~self.hall_shed & self.hall_powered
        # the cooling plant and the halls' mechanical loads, with their losses
        essential_w = demand_w - float(np.add.reduce(drawing_w[on_bus]))
        self.auxiliaries_w = essential_w
        if self.utility_available(t_next):
            self.hall_shed[:] = False
            self.hall_powered[:] = True
            self.hall_powered_share[:] = 1.0
            self.hall_block_w[:] = 0.0
            self.auxiliaries_powered = True
            self.auxiliaries_peak_w = 0.0
            return
        # a hall's block: the peak of its UPS input since the outage began, so that the
        # swings of a training job do not make the switchgear add and shed it in turn
        self.hall_block_w = np.where(
            self.hall_powered, np.maximum(self.hall_block_w, drawing_w), self.hall_block_w
        )
        gens = self.p.generators
        running = self.generator_state == GENERATOR_RUNNING
        # a load on the bus stays while the sets' rating carries it (the UPS and the BESS
        # bridge their ramp); one goes back on only once the sets can take it up now
        rated_w = int(np.add.reduce(running)) * gens.rating_mw * 1e6
        ready_w = float(
            np.minimum(
                gens.rating_mw * 1e6,
                gens.ramp_mw_per_s * 1e6 * (t_next - self.generator_online_s[running] + dt),
            ).sum()
        )
        bess_w = self._bess_available_w(dt)
        # the cooling goes down when no source can carry it, and comes back (as a block,
        # at its peak) once one can
        if self.auxiliaries_powered:
            self.auxiliaries_peak_w = max(self.auxiliaries_peak_w, essential_w)
            self.auxiliaries_powered = essential_w <= rated_w + bess_w
        else:
            self.auxiliaries_powered = (
                self.auxiliaries_peak_w * (1.0 + LOAD_ADD_MARGIN) <= ready_w + bess_w
            )
        settled = not (self.start_demanded or (self.generator_state == GENERATOR_STARTING).any())
        if not self.auxiliaries_powered:
            # no load is put on a bus that cannot even carry the cooling
            self.hall_shed[:] = True
        elif settled:
            spare_w = bess_w - self.auxiliaries_peak_w
            fed = np.zeros(self.hall_count, dtype=bool)
            for hall in range(self.hall_count):  # by priority: scenario order
                block_w = self.hall_block_w[hall]
                if on_bus[hall]:
                    fits = block_w <= spare_w + rated_w
                else:
                    fits = block_w * (1.0 + LOAD_ADD_MARGIN) <= spare_w + ready_w
                if not fits:
                    break
                fed[hall] = True
                spare_w -= block_w
            self.hall_shed = ~fed
        # end of discharge: a UPS whose batteries emptied within this step dropped its
        # racks then (they ran for the step's share before it), unless its input now
        # carries them
        emptied = (self.hall_powered_share < 1.0) & (
            self.ups_energy_j <= UPS_EMPTY_FRACTION * self.ups_capacity_j
        )
        self.hall_powered = (self.hall_powered & ~emptied) | (settled & ~self.hall_shed)
        self._plan_discharge(dt)

    def _plan_discharge(self, dt: float) -> None:
        """When each UPS's batteries will empty in the coming step, at the draw they
        carry now (the whole UPS input of a shed hall, its part of the pooled draw
        otherwise): ``hall_powered_share``."""
        next_draw_j = np.where(self.hall_shed, self.hall_ups_input_w, self.hall_battery_w) * dt
        left_j = np.maximum(self.ups_energy_j, 0.0)
        self.hall_powered_share = (
            np.where(
                next_draw_j > 0.0,
                np.clip(
                    np.divide(
                        left_j, next_draw_j, out=np.ones(self.hall_count), where=next_draw_j > 0.0
                    ),
                    0.0,
                    1.0,
                ),
                1.0,
            )
            * self.hall_powered
        )

    def _bess_available_w(self, dt: float) -> float:
        """What the BESS could give over a step, W, within its power and charge."""
        if self.bess_capacity_j <= 0:
            return 0.0
        usable_j = max(self.bess_energy_j - self.p.bess.soc_min * self.bess_capacity_j, 0.0)
        return min(self.bess_power_w, usable_j * self.eta_one_way / dt)

    def _follow_swings(self, available: bool, mean_w: float, dt: float) -> None:
        """Advance the smoothing's low-pass of the demand by the step's mean (exact for a
        demand held over the step); restart it when the grid returns."""
        if not available or self.bess_capacity_j <= 0 or not self.p.bess.smoothing:
            self.smoothed_demand_w = None
            return
        if self.smoothed_demand_w is None:
            self.smoothed_demand_w = mean_w
        alpha = self._smoothing_alpha.get(dt)
        if alpha is None:
            alpha = float(-np.expm1(-dt / self.p.bess.smoothing_time_constant_s))
            self._smoothing_alpha[dt] = alpha
        self.smoothed_demand_w += alpha * (mean_w - self.smoothed_demand_w)

    def _bess_request(self, available: bool, residual_w: float, dt: float) -> float:
        """Wanted BESS power, W (positive discharging), before its limits."""
        bess = self.p.bess
        if self.bess_capacity_j <= 0:
            return 0.0
        if not available:
            return residual_w
        request = 0.0
        if self.demand_response_raise and self.demand_response_w is not None:
            # plus DR: charge what lifts the import to the floor; nothing else runs
            request = min(residual_w - self.demand_response_w, 0.0)
            limit = self.import_cap_w - bess.peak_shaving_margin_mw * 1e6
            return max(request, -max(limit - residual_w, 0.0))
        if self.demand_response_w is not None:
            request = max(request, residual_w - self.demand_response_w)
        if bess.peak_shaving:
            request = max(
                request, residual_w - (self.import_cap_w - bess.peak_shaving_margin_mw * 1e6)
            )
        if bess.smoothing and self.smoothed_demand_w is not None:
            # discharge the fast part of the swings: demand minus its low-pass
            fast = residual_w - self.smoothed_demand_w
            # plus a slow pull back to the initial state of charge (an hour's time constant),
            # so round-trip losses of smoothing do not drain the battery
            restore = (self.bess_energy_j - bess.initial_soc * self.bess_capacity_j) / 3600.0
            if request == 0.0:
                request = fast + restore
        if request <= 0.0 and self.demand_response_w is None:
            # recharge slowly toward the initial state of charge, under the cap
            target = bess.initial_soc * self.bess_capacity_j
            if self.bess_energy_j < target:
                headroom = max(
                    self.import_cap_w - bess.peak_shaving_margin_mw * 1e6 - residual_w, 0.0
                )
                request = min(request, -min(0.1 * self.bess_power_w, headroom))
        if request < 0.0:
            # charging (recharge or smoothing) never lifts the import above the cap less
            # the margin, nor above a demand-response target
            limit = self.import_cap_w - bess.peak_shaving_margin_mw * 1e6
            if self.demand_response_w is not None:
                limit = min(limit, self.demand_response_w)
            request = max(request, -max(limit - residual_w, 0.0))
        return request

    def _bess_apply(self, request_w: float, dt: float) -> tuple[float, float]:
        """Apply power and state-of-charge limits; returns (power at the bus W, loss W)."""
        bess = self.p.bess
        self.bess_limited = True
        if self.bess_capacity_j <= 0:
            return 0.0, 0.0
        e_min = bess.soc_min * self.bess_capacity_j
        e_max = bess.soc_max * self.bess_capacity_j
        eta = self.eta_one_way
        if request_w >= 0:
            limit = min(self.bess_power_w, max(self.bess_energy_j - e_min, 0.0) * eta / dt)
            out = min(request_w, limit)
            self.bess_limited = out < request_w - 1.0
            drawn = out / eta
            self.bess_energy_j -= drawn * dt
            return out, drawn - out
        limit = min(self.bess_power_w, max(e_max - self.bess_energy_j, 0.0) / (eta * dt))
        taken = min(-request_w, limit)
        self.bess_limited = taken < -request_w - 1.0
        self.bess_energy_j += taken * eta * dt
        return -taken, taken * (1.0 - eta)

    def state_fields(self) -> dict[str, object]:
        return {name: field(self) for name, field in POWER_FIELDS.items()}


# The power chain's state as a snapshot holds it (``PowerState`` less the GPU smoothing),
# one getter per field, so that a live view (``twin.sim.live``) builds only what it reads.
POWER_FIELDS: dict[str, Callable[[PowerChain], object]] = {
    "hall_transformer_loading": lambda p: p.hall_transformer_loading,
    "hall_ups_loading": lambda p: p.hall_ups_loading,
    "hall_transformers_in_service": lambda p: p.hall_transformers_in_service.astype(np.int64),
    "hall_ups_modules_in_service": lambda p: p.hall_ups_in_service.astype(np.int64),
    "hall_redundant": lambda p: (
        (p.hall_transformers_in_service > p.hall_transformers_needed)
        & (p.hall_ups_in_service > p.hall_ups_needed)
    ),
    "row_busway_loading": lambda p: p.row_loading,
    "main_transformer_loading": lambda p: p.main_loading,
    "plant_transformer_loading": lambda p: p.plant_loading,
    "hall_lv_voltage_pu": lambda p: p.hall_lv_voltage_pu,
    "mv_voltage_pu": lambda p: p.mv_voltage_pu,
    "plant_lv_voltage_pu": lambda p: p.plant_lv_voltage_pu,
    "grid_import_cap_kw": lambda p: p.import_cap_w / 1e3,
    "utility_available": lambda p: p.available,
    "generators_online": lambda p: int(np.count_nonzero(p.generator_state == GENERATOR_RUNNING)),
    "generator_state": lambda p: p.generator_state,
    "hall_powered": lambda p: p.hall_powered,
    "hall_load_shed": lambda p: p.hall_shed,
}
