"""``twin gui --plant mqtt://...``: the window's run, published as a virtual BMS;
``twin gui --shadow mqtt://...``: the window shows a shadow's model following a plant.

The plant is a run observer: ``PlantConnection.observers`` gives each scenario the window
opens a ``BmsObserver`` (``twin.exchange.plant``) on one shared MQTT link, so the window's
fault injection and scenario events act on the published plant. The shadow decides how far
its model steps (the plant's clock), so it is the window's simulation:
``ShadowConnection.simulation`` builds a ``ShadowSimulation``, whose alarm engine (the
scenario's alarms and the shadow's divergence, stale-point, bad-quality and connection
alarms) is the window's. Both tell the window's status bar the broker connection's state.
"""

from __future__ import annotations

import queue
import sys
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from functools import partial
from typing import TextIO

import numpy as np

from twin.alarms import AlarmEngine
from twin.alarms.definitions import default_points as default_alarm_points
from twin.alarms.definitions import default_suppression
from twin.exchange import contract
from twin.exchange.broker import BrokerSettings, MqttLink
from twin.exchange.estimation import TrackedValue
from twin.exchange.plant import BmsObserver
from twin.exchange.points import components_of, default_points
from twin.exchange.record import COVERAGE_NAMES, USED
from twin.exchange.shadow import QUIET_S, Shadow
from twin.runs.observe import RunObserver
from twin.scenario import Scenario
from twin.scenario.problems import key_unit
from twin.scenario.schema import Event
from twin.sim.site import Site
from twin.sim.snapshot import Snapshot


def connection_text(link: MqttLink) -> str:
    """The window's connection indicator (read on the GUI thread; the link's state is a
    thread-safe event)."""
    state = "connected" if link.connected.is_set() else "not connected, retrying"
    return f"broker {link.settings.address}: {state}"


class PlantConnection:
    """``twin gui --plant``: the observers ``run_gui`` gives each window's run, a virtual
    BMS publishing it on one MQTT link (connected when the first window opens)."""

    def __init__(self, settings: BrokerSettings, log: TextIO = sys.stderr) -> None:
        self.link = MqttLink(settings, log=log, name="twin gui --plant")
        self.log = log

    def observers(self, scenario: Scenario, simulation) -> Sequence[RunObserver]:
        bms = BmsObserver(self.link, default_points(scenario, simulation.topology), log=self.log)
        if not self.link.started:
            self.link.subscriptions = bms.subscriptions
            self.link.start()
        return (bms,)

    def status(self) -> str:
        return connection_text(self.link)


SHADOW_WAIT_S = 0.05  # a step with no plant time to go to waits this long for messages
MEASURED_KINDS = ("rack", "cdu", "hall")  # objects of the window with measured points


@dataclass(frozen=True, slots=True)
class MeasuredReading:
    """One measured point of an object beside the model's value, at the shadow's latest
    evaluation, in the unit the plant publishes it in."""

    label: str  # pointType and processArea
    unit: str
    measured: float  # NaN: no value
    modelled: float
    coverage: str  # used, missing, bad quality, stale


class ShadowSimulation:
    """The shadow's model for the window (``twin.gui.runner.SimulationLike``): a step goes
    as far as the plant's clock allows (none while no newer value has come), whatever speed
    the window asks; divergence alarms and stale points are printed as ``twin shadow``
    prints them and raised in ``alarms``, the window's alarm engine."""

    def __init__(self, simulation, link: MqttLink, log: TextIO) -> None:
        self._sim = simulation
        self._link = link
        self._last_message_s = time.monotonic()
        self.shadow = Shadow(
            simulation, default_points(simulation.scenario, simulation.topology), log=log
        )
        topology = simulation.topology
        # one engine for the model's own alarms and the shadow's: its points read the
        # shadow in force, so a reset (a new shadow) keeps the window's alarm list
        self.alarms = AlarmEngine(
            [
                *default_alarm_points(simulation.scenario, topology),
                *self.shadow.alarm_points(lambda: self.shadow),
            ],
            default_suppression(topology),
        )
        self.shadow.alarms = self.alarms
        # per point-list quantity: the racks with a compared point of it, and those points
        self._rack_point_index: dict[str, tuple[np.ndarray, np.ndarray]] = {}

    # what the window and the observers read, as the simulation has it
    @property
    def dt_s(self) -> float:
        return self._sim.dt_s

    @property
    def time_s(self) -> float:
        return self._sim.time_s

    @property
    def has_output(self) -> bool:
        return self._sim.has_output

    @property
    def scenario(self) -> Scenario:
        return self._sim.scenario

    @property
    def site(self) -> Site:
        return self._sim.site

    @property
    def topology(self):
        return self._sim.topology

    @property
    def seed(self) -> int:
        return self._sim.seed

    def snapshot(self, *, robots: bool = True) -> Snapshot:
        return self._sim.snapshot(robots=robots)

    def live_view(self):
        return self._sim.live_view()

    def site_values(self):
        return self._sim.site_values()

    # what the window does to the model: faults and the schedule act on it as on a plant
    def apply(self, event: Event) -> None:
        self._sim.apply(event)

    def replace_schedule(self, events) -> None:
        self._sim.replace_schedule(events)

    def step(self, n: int = 1) -> None:
        if not self._sim.has_output:
            # the window and its alarm engine read a first snapshot before the plant's
            # first value may have come: the model takes its first step on its own
            self._sim.step()
            return
        for _ in range(n):
            self._ingest(block=not self.shadow.can_step())
            if not self.shadow.step_once():
                return

    def _ingest(self, block: bool) -> None:
        try:
            first = (
                self._link.inbox.get(timeout=SHADOW_WAIT_S)
                if block
                else self._link.inbox.get_nowait()
            )
        except queue.Empty:
            self.shadow.set_connected(self._link.connected.is_set())
            # the bus quiet for QUIET_S: the plant's newest instant is complete
            if time.monotonic() - self._last_message_s >= QUIET_S:
                self.shadow.caught_up = True
            return
        self._last_message_s = time.monotonic()
        self.shadow.ingest(first[0], first[1])
        while True:
            try:
                topic, payload, _ = self._link.inbox.get_nowait()
            except queue.Empty:
                break
            self.shadow.ingest(topic, payload)
        self.shadow.set_connected(self._link.connected.is_set())

    def measurements(self, kind: str, index: int) -> tuple[float, list[MeasuredReading]]:
        """The measured points of the window's object ``kind`` number ``index`` beside the
        model, at the shadow's latest evaluation (its plant time; NaN and none before the
        first or for an object the plant measures nothing of)."""
        shadow = self.shadow
        comparison = shadow.comparison
        if comparison is None or kind not in MEASURED_KINDS:
            return float("nan"), []
        names = components_of(kind, self._sim.topology)
        if not 0 <= index < len(names):
            return float("nan"), []
        rows = []
        for i in shadow.compared_points.get((kind, names[index]), ()):
            p = shadow.points[i]
            label = " ".join([p.point_type, *p.process_area])
            rows.append(
                MeasuredReading(
                    label,
                    p.eng_unit,
                    float(comparison.measured[i]),
                    float(comparison.modelled[i]),
                    COVERAGE_NAMES[int(comparison.coverage[i])],
                )
            )
        return comparison.time_s, rows

    def tracked(self, kind: str, index: int) -> list[TrackedValue]:
        """The slowly drifting quantities the shadow tracks for the window's object (a
        CDU's series resistance, exchanger UA and sensor offsets), each with its band; none
        for other objects or before the estimation's warm-up has ended."""
        if kind != "cdu":
            return []
        name = self._sim.topology.cdu_names[index]
        return [v for v in self.shadow.estimation.values() if v.component == name]

    def measured_series(
        self, kind: str, index: int
    ) -> tuple[tuple[str, str, Callable[[object], float]], ...]:
        """For the window's trends of a selected object: each of its compared points as
        ``(label, unit, read)``, ``read`` giving the plant's value at the shadow's latest
        evaluation (NaN when not compared then), in the unit the model's own reading of that
        quantity has (``C`` of the plant is twin's ``°C``)."""
        if kind not in MEASURED_KINDS:
            return ()
        names = components_of(kind, self._sim.topology)
        if not 0 <= index < len(names):
            return ()
        series = []
        for i in self.shadow.compared_points.get((kind, names[index]), ()):
            p = self.shadow.points[i]
            label = "plant: " + " ".join([p.point_type, *p.process_area])
            series.append(
                (
                    label,
                    key_unit(p.quantity.rsplit(".", 1)[-1]) or p.eng_unit,
                    partial(self._latest_measured, i),
                )
            )
        return tuple(series)

    def _latest_measured(self, point: int, _snapshot: object = None) -> float:
        comparison = self.shadow.comparison
        if comparison is None or comparison.coverage[point] != USED:
            return float("nan")
        return float(comparison.measured[point])

    def rack_residuals(self, quantity: str) -> np.ndarray:
        """Per rack, the plant's value of ``quantity`` (a point-list quantity such as
        ``rack.return_temp_c``) less the model's, at the shadow's latest evaluation; NaN
        where that point was not compared then (missing, bad quality, stale, unmapped)."""
        shadow = self.shadow
        comparison = shadow.comparison
        residual = np.full(self._sim.topology.rack_count, np.nan)
        if comparison is None:
            return residual
        racks, points = self._rack_points(quantity)
        used = comparison.coverage[points] == USED
        residual[racks[used]] = (
            comparison.measured[points[used]] - comparison.modelled[points[used]]
        )
        return residual

    def _rack_points(self, quantity: str) -> tuple[np.ndarray, np.ndarray]:
        """The racks that have a compared point of ``quantity``, and those points."""
        found = self._rack_point_index.get(quantity)
        if found is None:
            rack_of = {name: i for i, name in enumerate(components_of("rack", self._sim.topology))}
            pairs = [
                (rack_of[p.component], i)
                for i, p in enumerate(self.shadow.points)
                if p.quantity == quantity and self.shadow.compared[i] and p.component in rack_of
            ]
            found = (
                np.array([r for r, _ in pairs], dtype=np.intp),
                np.array([i for _, i in pairs], dtype=np.intp),
            )
            self._rack_point_index[quantity] = found
        return found

    def reset(self) -> None:
        """The plant's clock decides the time: a reset starts a new shadow from t = 0."""
        self._sim.reset()
        self.shadow = Shadow(self._sim, self.shadow.points, log=self.shadow.log, alarms=self.alarms)


class ShadowConnection:
    """``twin gui --shadow``: each window's simulation is a shadow of its scenario, fed
    from one MQTT link, and its alarm engine is the shadow's."""

    def __init__(self, settings: BrokerSettings, log: TextIO = sys.stderr) -> None:
        self.link = MqttLink(
            settings,
            subscriptions=(f"{contract.ROOT}/{contract.BMS_PUBLISHER}/#",),
            log=log,
            name="twin gui --shadow",
        )
        self.log = log

    def simulation(self, scenario: Scenario) -> ShadowSimulation:
        from twin.sim.engine import Simulation

        simulation = ShadowSimulation(Simulation.from_scenario(scenario), self.link, self.log)
        if not self.link.started:
            self.link.start()
        return simulation

    @staticmethod
    def alarms(scenario: Scenario, simulation: ShadowSimulation) -> AlarmEngine:
        return simulation.alarms

    def status(self) -> str:
        return connection_text(self.link)
