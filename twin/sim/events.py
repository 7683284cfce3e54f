"""Events and faults acting on a running simulation: the timeline (scheduled events
applied at their time, the schedule edited between steps) and what each kind of event
sets in the state or the compiled parameters for the physics to act on (nothing is
scripted). ``SiteEvents`` is the part of ``Simulation`` that does this."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import replace
from typing import TYPE_CHECKING, Any

import numpy as np

from twin.scenario.schema import (
    CduLoss,
    ChillerTrip,
    CoolantLeak,
    DemandResponse,
    DryCoolerFailure,
    Event,
    FilterClog,
    GeneratorFailure,
    GridCap,
    HallElectricalFailure,
    Heatwave,
    PowerCap,
    PumpTrip,
    ServiceDispatch,
    Smoothing,
    UtilityOutage,
    ValveStuck,
    WorkcellStop,
    WorkloadSurge,
)
from twin.sim.workload import racks_of

if TYPE_CHECKING:
    from twin.sim.hydraulics import CduLoopParams
    from twin.sim.parameters import CduParams
    from twin.sim.power import PowerChain
    from twin.sim.robotics.workcells import Workcells
    from twin.sim.state import State
    from twin.sim.topology import Topology
    from twin.sim.workload import WorkloadModel

SUCTION_RESERVE = 0.05  # share of a loop's coolant its expansion tank can lose unfelt
# (engineering choice: tanks hold ~5-10 % of the loop volume; no public figure collected)
SUCTION_LOST = 0.15  # short by this share the pumps draw air and make no head


class SiteEvents:
    """The event handling of ``Simulation`` (a mixin: it acts on the simulation's state,
    compiled parameters, power chain, robots and workload)."""

    # what the simulation holds (set in ``Simulation.__init__``)
    dt_s: float
    state: State
    topology: Topology
    cdus: CduParams
    loop_params: CduLoopParams
    power_chain: PowerChain
    robots: Workcells
    workload: WorkloadModel
    cdu_inventory_l: np.ndarray
    dry_cooler_count: int
    chiller_count: int
    rack_index: dict[str, int]
    cell_index: dict[str, int]
    _events: list[Event]
    _next_event: int
    _import_baseline_w: float | None
    _demand_response: tuple[float, float] | None
    _follow_demand_response: Callable[[float], None]
    _end_demand_response: Callable[[], None]
    _use_levers: Callable[..., None]
    _dr_raises: bool  # the programme is plus DR: an event raises the import
    _dr_generators: bool  # the programme lets demand response start the generator sets

    @property
    def scheduled_events(self) -> tuple[Event, ...]:
        """The timeline in the order it plays: those applied already, then those to come."""
        return tuple(self._events)

    def replace_schedule(self, events: list[Event]) -> None:
        """Make ``events`` the timeline (the whole of it, past and future), between two
        steps. Events applied already stay applied and must still be in it; the others
        replace the events to come, and a new or changed one must not lie before the
        simulated time. Raises ValueError naming the first conflict; nothing changes then."""
        applied = self._events[: self._next_event]
        to_come = self._events[self._next_event :]
        upcoming = list(events)
        for event in applied:
            if event not in upcoming:
                raise ValueError(
                    f"{event.kind} at {event.at_s:g} s has already happened; "
                    "it can be neither changed nor removed"
                )
            upcoming.remove(event)
        now = self.state.time_s
        for event in upcoming:
            if event.at_s < now and event not in to_come:
                raise ValueError(
                    f"{event.kind} at {event.at_s:g} s lies before the simulated "
                    f"time ({now:g} s); schedule it later"
                )
        self._events = applied + sorted(upcoming, key=lambda e: e.at_s)

    def _apply_due_events(self, t0: float) -> None:
        while self._next_event < len(self._events) and self._events[self._next_event].at_s <= t0:
            self.apply(self._events[self._next_event])
            self._next_event += 1
        st = self.state
        st.heatwaves = [w for w in st.heatwaves if w[1] > t0]
        if st.surges:
            for _, racks, step in [w for w in st.surges if w[0] <= t0]:
                self.workload.surge[racks] -= step
            st.surges = [w for w in st.surges if w[0] > t0]
        if st.clog_ramp:
            self._foul_filters(t0)
        if st.leak_rate_lpm.any():
            self._drain_loops()
        if self._demand_response is not None and t0 >= self._demand_response[0]:
            self._end_demand_response()
        if self._demand_response is not None:
            self._follow_demand_response(self._demand_response[1])

    def _foul_filters(self, t0: float) -> None:
        """Strainer resistance rising linearly to its final factor over the ramp."""
        st = self.state
        for cdu, start, ramp_s, final in st.clog_ramp:
            share = min((t0 - start) / ramp_s, 1.0) if ramp_s > 0 else 1.0
            st.clog_factor[cdu] = 1.0 + (final - 1.0) * share
        st.clog_ramp = [w for w in st.clog_ramp if w[2] > 0 and t0 < w[1] + w[2]]
        self._set_series_resistance()

    def _set_series_resistance(self) -> None:
        self.loop_params = replace(
            self.loop_params,
            series_k_kpa_per_lpm2=self.cdus.hx_k_kpa_per_lpm2 * self.state.clog_factor,
        )

    def _drain_loops(self) -> None:
        """Coolant leaves the leaking loops; below the expansion tank's reserve the pumps
        draw air and lose head, none left once the loop is short by ``SUCTION_LOST``.
        The loop's heat capacity is held at its design value (the spill stays in the hall
        at loop temperature, a simplification that keeps the ledger's masses fixed)."""
        st = self.state
        st.inventory_l = np.maximum(st.inventory_l - st.leak_rate_lpm * self.dt_s / 60.0, 0.0)
        self._update_suction()

    def _update_suction(self) -> None:
        st = self.state
        short = 1.0 - st.inventory_l / self.cdu_inventory_l
        st.suction = np.clip((SUCTION_LOST - short) / (SUCTION_LOST - SUCTION_RESERVE), 0.0, 1.0)

    def apply(self, event: Event) -> None:
        """Apply an event now (scheduled ones arrive here at their time; the GUI too): the
        handler of its class sets state or compiled parameters for the physics to act on,
        nothing scripted."""
        handler = EVENT_HANDLERS.get(type(event))
        if handler is None:  # the schema's discriminated union admits no other class
            raise ValueError(f"unknown event {type(event).__name__} ({event.kind!r})")
        handler(self, event, self.state.time_s)

    # one handler per event class (the table below); ``t`` is the simulated time

    def _pumps(self, event: PumpTrip, t: float) -> None:
        cdu = self.topology.cdu_names.index(event.target)
        st = self.state
        if event.kind == "pump-trip":
            st.pumps_available[cdu] = max(st.pumps_available[cdu] - event.pumps, 0)
        else:
            st.pumps_available[cdu] = min(
                st.pumps_available[cdu] + event.pumps, self.cdus.pumps_installed[cdu]
            )

    def _cdu_online(self, event: CduLoss, t: float) -> None:
        self.state.cdu_online[self.topology.cdu_names.index(event.target)] = (
            event.kind == "cdu-restore"
        )

    def _heatwave(self, event: Heatwave, t: float) -> None:
        self.state.heatwaves.append((t, t + event.duration_s, event.offset_k))

    def _power_cap(self, event: PowerCap, t: float) -> None:
        st = self.state
        if event.target is None:
            st.power_cap_fraction[:] = event.fraction
        else:
            hall = self.topology.hall_names.index(event.target)
            st.power_cap_fraction[self.topology.rack_hall == hall] = event.fraction

    def _smoothing(self, event: Smoothing, t: float) -> None:
        self.state.smoothing_enabled = event.enabled

    def _demand_response_event(self, event: DemandResponse, t: float) -> None:
        # curtail from the baseline (recent mean import), not from one swing's value (plus
        # DR: raise it above the baseline, a floor the BESS charges to); the loader refuses
        # an event at the very start, before the first step has measured the baseline
        baseline_w = self._import_baseline_w or 0.0
        if self._dr_raises:
            target_w = baseline_w + event.curtail_mw * 1e6
        else:
            target_w = max(baseline_w - event.curtail_mw * 1e6, 0.0)
        self._use_levers(suspend=True, generators=self._dr_generators)
        self._demand_response = (t + event.duration_s, target_w)
        self.power_chain.set_demand_response(target_w, raise_load=self._dr_raises)

    def _grid_cap(self, event: GridCap, t: float) -> None:
        self.power_chain.set_import_cap(event.import_cap_mw * 1e6)

    def _utility_outage(self, event: UtilityOutage, t: float) -> None:
        self.power_chain.start_outage(t, event.duration_s, event.generators_failing_to_start)

    def _valve(self, event: ValveStuck, t: float) -> None:
        st, cdu = self.state, self.topology.cdu_names.index(event.target)
        if event.kind == "valve-stuck":
            st.valve_stuck[cdu] = True
            st.valve_stuck_at[cdu] = st.valve[cdu] if event.position is None else event.position
        else:
            st.valve_stuck[cdu] = False

    def _leak(self, event: CoolantLeak, t: float) -> None:
        st, cdu = self.state, self.topology.cdu_names.index(event.target)
        if event.kind == "coolant-leak":
            st.leak_rate_lpm[cdu] += event.rate_lpm
        else:
            st.leak_rate_lpm[cdu] = 0.0
            st.inventory_l[cdu] = self.cdu_inventory_l[cdu]  # topped up
            self._update_suction()

    def _filter(self, event: FilterClog, t: float) -> None:
        st, cdu = self.state, self.topology.cdu_names.index(event.target)
        st.clog_ramp = [w for w in st.clog_ramp if w[0] != cdu]
        if event.kind == "filter-clog":
            st.clog_ramp.append((cdu, t, event.ramp_s, event.factor))
            self._foul_filters(t)
        else:
            st.clog_factor[cdu] = 1.0
            self._set_series_resistance()

    def _dry_coolers(self, event: DryCoolerFailure, t: float) -> None:
        st = self.state
        if event.kind == "dry-cooler-fail":
            st.dry_coolers_in_service = max(st.dry_coolers_in_service - event.units, 0)
        else:
            st.dry_coolers_in_service = min(
                st.dry_coolers_in_service + event.units, self.dry_cooler_count
            )

    def _chillers(self, event: ChillerTrip, t: float) -> None:
        st = self.state
        if event.kind == "chiller-trip":
            st.chillers_in_service = max(st.chillers_in_service - event.units, 0)
        else:
            st.chillers_in_service = min(st.chillers_in_service + event.units, self.chiller_count)

    def _surge(self, event: WorkloadSurge, t: float) -> None:
        racks = racks_of(self.topology, event.halls, event.row_groups)
        self.workload.surge[racks] += event.utilization_step
        if hasattr(self.workload, "surged"):  # the scenario's own workload adds it from now
            self.workload.surged = True
        self.state.surges.append((t + event.duration_s, racks, event.utilization_step))

    def _hall_electrical(self, event: HallElectricalFailure, t: float) -> None:
        hall = self.topology.hall_names.index(event.target)
        change = -event.units if event.kind.endswith("-fail") else event.units
        if event.kind.startswith("transformer"):
            self.power_chain.change_hall_units(hall, transformers=change)
        else:
            self.power_chain.change_hall_units(hall, ups_modules=change)

    def _generators(self, event: GeneratorFailure, t: float) -> None:
        if event.kind == "generator-fail":
            self.power_chain.fail_generators(event.units)
        else:
            self.power_chain.restore_generators(t, event.units)

    def _workcell(self, event: WorkcellStop, t: float) -> None:
        cell = self.cell_index[event.target]
        if event.kind == "workcell-e-stop":
            self.robots.emergency_stop(cell)
        else:
            self.robots.reset_cell(cell)

    def _service_dispatch(self, event: ServiceDispatch, t: float) -> None:
        self.robots.request_repairs(np.array([self.rack_index[event.target]]))


EVENT_HANDLERS: dict[type, Callable[[SiteEvents, Any, float], None]] = {
    PumpTrip: SiteEvents._pumps,
    CduLoss: SiteEvents._cdu_online,
    Heatwave: SiteEvents._heatwave,
    PowerCap: SiteEvents._power_cap,
    Smoothing: SiteEvents._smoothing,
    DemandResponse: SiteEvents._demand_response_event,
    GridCap: SiteEvents._grid_cap,
    UtilityOutage: SiteEvents._utility_outage,
    ValveStuck: SiteEvents._valve,
    CoolantLeak: SiteEvents._leak,
    FilterClog: SiteEvents._filter,
    DryCoolerFailure: SiteEvents._dry_coolers,
    ChillerTrip: SiteEvents._chillers,
    WorkloadSurge: SiteEvents._surge,
    HallElectricalFailure: SiteEvents._hall_electrical,
    GeneratorFailure: SiteEvents._generators,
    WorkcellStop: SiteEvents._workcell,
    ServiceDispatch: SiteEvents._service_dispatch,
}
"""What each event class does to the running simulation (one entry per class of the
schema's ``Event`` union; a test checks none is missing)."""
