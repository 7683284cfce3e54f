"""``twin gui --plant mqtt://...``: the window's simulation, published as a virtual BMS;
``twin gui --shadow mqtt://...``: the window shows a shadow's model following a plant.

``PublishingSimulation`` wraps a ``Simulation`` (everything else delegated, so the window's
fault injection and scenario events act on the published plant) and hands the snapshot
after every step to a ``VirtualBms``; write-backs are applied between steps. One MQTT link
serves every scenario the window opens; each gets its own BMS.
"""

from __future__ import annotations

import queue
import sys
from typing import TextIO

from twin.exchange import contract
from twin.exchange.broker import BrokerSettings, MqttLink
from twin.exchange.plant import VirtualBms
from twin.exchange.points import default_points
from twin.exchange.shadow import Shadow
from twin.scenario import Scenario


class PublishingSimulation:
    def __init__(self, sim, link: MqttLink, log: TextIO) -> None:
        self._sim = sim
        self._link = link
        self._log = log
        self._bms = self._new_bms()

    def _new_bms(self) -> VirtualBms:
        sim = self._sim
        bms = VirtualBms(sim.scenario, sim.topology, default_points(sim.scenario, sim.topology),
                         lambda topic, payload, retain: self._link.publish(topic, payload,
                                                                           retain=retain),
                         sim.set_cdu_supply_setpoint, seed=sim.seed, log=self._log)
        self._link.on_connect = bms.republish_all
        return bms

    def step(self, n: int = 1) -> None:
        for _ in range(n):
            self._sim.step()
            self._bms.observe(self._sim.snapshot(robots=False))
            while True:
                try:
                    topic, payload, wall_s = self._link.inbox.get_nowait()
                except queue.Empty:
                    break
                self._bms.handle(topic, payload, wall_s)
            self._bms.check_heartbeats()

    def reset(self) -> None:
        """Back to the start: a new BMS, all metadata and values again from t = 0."""
        self._sim.reset()
        self._bms = self._new_bms()

    def __getattr__(self, name: str):
        return getattr(self._sim, name)


def publishing_factory(settings: BrokerSettings, log: TextIO = sys.stderr):
    """A simulation factory for ``run_gui``: each scenario's simulation, published."""
    from twin.sim.engine import Simulation

    link = MqttLink(settings, log=log, name="twin gui --plant")
    started = []

    def build(scenario: Scenario) -> PublishingSimulation:
        simulation = PublishingSimulation(Simulation.from_scenario(scenario), link, log)
        link.subscriptions = simulation._bms.subscriptions
        if not started:
            link.start()
            started.append(True)
        return simulation

    return build


SHADOW_WAIT_S = 0.05  # a step with no plant time to go to waits this long for messages


class ShadowSimulation:
    """The shadow's model for the window: a step goes as far as the plant's clock allows
    (none while no newer value has come), whatever speed the window asks; divergence
    alarms and stale points are printed as ``twin shadow`` prints them."""

    def __init__(self, sim, link: MqttLink, log: TextIO) -> None:
        self._sim = sim
        self._link = link
        self.shadow = Shadow(sim, default_points(sim.scenario, sim.topology), log=log)

    def step(self, n: int = 1) -> None:
        for _ in range(n):
            self._ingest(block=not self.shadow.can_step())
            if not self.shadow.step_once():
                return

    def _ingest(self, block: bool) -> None:
        try:
            first = self._link.inbox.get(timeout=SHADOW_WAIT_S) if block else \
                self._link.inbox.get_nowait()
        except queue.Empty:
            self.shadow.set_connected(self._link.connected.is_set())
            return
        self.shadow.ingest(first[0], first[1])
        while True:
            try:
                topic, payload, _ = self._link.inbox.get_nowait()
            except queue.Empty:
                break
            self.shadow.ingest(topic, payload)
        self.shadow.set_connected(self._link.connected.is_set())

    def reset(self) -> None:
        """The plant's clock decides the time: a reset starts a new shadow from t = 0."""
        self._sim.reset()
        self.shadow = Shadow(self._sim, self.shadow.points, log=self.shadow.log)

    def __getattr__(self, name: str):
        return getattr(self._sim, name)


def shadow_factory(settings: BrokerSettings, log: TextIO = sys.stderr):
    """A simulation factory for ``run_gui``: a shadow of the scenario, fed from the broker."""
    from twin.sim.engine import Simulation

    link = MqttLink(settings, subscriptions=(f"{contract.ROOT}/{contract.BMS_PUBLISHER}/#",),
                    log=log, name="twin gui --shadow")
    started = []

    def build(scenario: Scenario) -> ShadowSimulation:
        simulation = ShadowSimulation(Simulation.from_scenario(scenario), link, log)
        if not started:
            link.start()
            started.append(True)
        return simulation

    return build
