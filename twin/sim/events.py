"""Events and faults acting on a running simulation: the timeline (scheduled events
applied at their time, the schedule edited between steps) and what each kind of event
sets in the state or the compiled parameters for the physics to act on (nothing is
scripted). ``SiteEvents`` is the part of ``Simulation`` that does this."""

from __future__ import annotations

from dataclasses import replace

import numpy as np

from twin.scenario.schema import Event
from twin.sim.workload import racks_of

SUCTION_RESERVE = 0.05  # share of a loop's coolant its expansion tank can lose unfelt
# (engineering choice: tanks hold ~5-10 % of the loop volume; no public figure collected)
SUCTION_LOST = 0.15  # short by this share the pumps draw air and make no head
FAULT_KINDS = frozenset({
    "valve-stuck", "valve-release", "coolant-leak", "leak-repair", "filter-clog",
    "filter-clean", "dry-cooler-fail", "dry-cooler-restore", "chiller-trip", "chiller-restore",
    "workload-surge", "transformer-fail", "transformer-restore", "ups-fail", "ups-restore",
    "generator-fail", "generator-restore", "workcell-e-stop", "workcell-reset", "service-dispatch"})


class SiteEvents:
    """The event handling of ``Simulation`` (a mixin: it acts on the simulation's state,
    compiled parameters, power chain, robots and workload)."""

    @property
    def scheduled_events(self) -> tuple[Event, ...]:
        """The timeline in the order it plays: those applied already, then those to come."""
        return tuple(self._events)

    def replace_schedule(self, events: list[Event]) -> None:
        """Make ``events`` the timeline (the whole of it, past and future), between two
        steps. Events applied already stay applied and must still be in it; the others
        replace the events to come, and a new or changed one must not lie before the
        simulated time. Raises ValueError naming the first conflict; nothing changes then."""
        applied = self._events[:self._next_event]
        to_come = self._events[self._next_event:]
        upcoming = list(events)
        for event in applied:
            if event not in upcoming:
                raise ValueError(f"{event.kind} at {event.at_s:g} s has already happened; "
                                 "it can be neither changed nor removed")
            upcoming.remove(event)
        now = self.state.time_s
        for event in upcoming:
            if event.at_s < now and event not in to_come:
                raise ValueError(f"{event.kind} at {event.at_s:g} s lies before the simulated "
                                 f"time ({now:g} s); schedule it later")
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
            self._follow_demand_response()

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
            series_k_kpa_per_lpm2=self.cdus.hx_k_kpa_per_lpm2 * self.state.clog_factor)

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
        """Apply an event now (scheduled ones arrive here at their time; the GUI too)."""
        st, t = self.state, self.state.time_s
        kind = event.kind
        if kind in FAULT_KINDS:
            self._apply_fault(event, t)
            return
        if kind in ("pump-trip", "pump-restore", "cdu-loss", "cdu-restore"):
            cdu = self.topology.cdu_names.index(event.target)
            if kind == "pump-trip":
                st.pumps_available[cdu] = max(st.pumps_available[cdu] - event.pumps, 0)
            elif kind == "pump-restore":
                st.pumps_available[cdu] = min(st.pumps_available[cdu] + event.pumps,
                                              self.cdus.pumps_installed[cdu])
            else:
                st.cdu_online[cdu] = kind == "cdu-restore"
        elif kind == "heatwave":
            st.heatwaves.append((t, t + event.duration_s, event.offset_k))
        elif kind == "power-cap":
            if event.target is None:
                st.power_cap_fraction[:] = event.fraction
            else:
                hall = self.topology.hall_names.index(event.target)
                st.power_cap_fraction[self.topology.rack_hall == hall] = event.fraction
        elif kind == "power-smoothing":
            st.smoothing_enabled = event.enabled
        elif kind == "demand-response":
            # curtail from the baseline (recent mean import), not from one swing's value
            # (plus DR: raise it above the baseline, a floor the BESS charges to)
            if self._dr_raises:
                target_w = self._import_baseline_w + event.curtail_mw * 1e6
            else:
                target_w = max(self._import_baseline_w - event.curtail_mw * 1e6, 0.0)
            self._use_levers(suspend=True, generators=self._dr_generators)
            self._demand_response = (t + event.duration_s, target_w)
            self.power_chain.set_demand_response(target_w, raise_load=self._dr_raises)
        elif kind == "grid-cap":
            self.power_chain.set_import_cap(event.import_cap_mw * 1e6)
        elif kind == "utility-outage":
            self.power_chain.start_outage(t, event.duration_s,
                                          event.generators_failing_to_start)
        else:  # the schema's discriminated union admits no other kind
            raise ValueError(f"unknown event kind {kind!r}")

    def _apply_fault(self, event: Event, t: float) -> None:
        """The fault vocabulary beyond the original events; each sets state that the physics
        acts on, nothing scripted."""
        st, kind, topo = self.state, event.kind, self.topology
        if kind in ("valve-stuck", "valve-release", "coolant-leak", "leak-repair",
                    "filter-clog", "filter-clean"):
            cdu = topo.cdu_names.index(event.target)
            if kind == "valve-stuck":
                st.valve_stuck[cdu] = True
                st.valve_stuck_at[cdu] = (st.valve[cdu] if event.position is None
                                          else event.position)
            elif kind == "valve-release":
                st.valve_stuck[cdu] = False
            elif kind == "coolant-leak":
                st.leak_rate_lpm[cdu] += event.rate_lpm
            elif kind == "leak-repair":
                st.leak_rate_lpm[cdu] = 0.0
                st.inventory_l[cdu] = self.cdu_inventory_l[cdu]  # topped up
                self._update_suction()
            elif kind == "filter-clog":
                st.clog_ramp = [w for w in st.clog_ramp if w[0] != cdu]
                st.clog_ramp.append((cdu, t, event.ramp_s, event.factor))
                self._foul_filters(t)
            else:
                st.clog_ramp = [w for w in st.clog_ramp if w[0] != cdu]
                st.clog_factor[cdu] = 1.0
                self._set_series_resistance()
        elif kind == "dry-cooler-fail":
            st.dry_coolers_in_service = max(st.dry_coolers_in_service - event.units, 0)
        elif kind == "dry-cooler-restore":
            st.dry_coolers_in_service = min(st.dry_coolers_in_service + event.units,
                                            self.dry_cooler_count)
        elif kind == "chiller-trip":
            st.chillers_in_service = max(st.chillers_in_service - event.units, 0)
        elif kind == "chiller-restore":
            st.chillers_in_service = min(st.chillers_in_service + event.units,
                                         self.chiller_count)
        elif kind == "workload-surge":
            racks = racks_of(topo, event.halls, event.row_groups)
            self.workload.surge[racks] += event.utilization_step
            st.surges.append((t + event.duration_s, racks, event.utilization_step))
        elif kind in ("transformer-fail", "transformer-restore", "ups-fail", "ups-restore"):
            hall = topo.hall_names.index(event.target)
            change = -event.units if kind.endswith("-fail") else event.units
            if kind.startswith("transformer"):
                self.power_chain.change_hall_units(hall, transformers=change)
            else:
                self.power_chain.change_hall_units(hall, ups_modules=change)
        elif kind == "generator-fail":
            self.power_chain.fail_generators(event.units)
        elif kind == "generator-restore":
            self.power_chain.restore_generators(t, event.units)
        elif kind == "workcell-e-stop":
            self.robots.emergency_stop(self.cell_index[event.target])
        elif kind == "workcell-reset":
            self.robots.reset_cell(self.cell_index[event.target])
        else:  # service-dispatch
            self.robots.request_repairs(np.array([self.rack_index[event.target]]))
