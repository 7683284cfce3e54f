"""``twin gui --plant mqtt://...``: the window's simulation, published as a virtual BMS.

``PublishingSimulation`` wraps a ``Simulation`` (everything else delegated, so the window's
fault injection and scenario events act on the published plant) and hands the snapshot
after every step to a ``VirtualBms``; write-backs are applied between steps. One MQTT link
serves every scenario the window opens; each gets its own BMS.
"""

from __future__ import annotations

import queue
import sys
from typing import TextIO

from twin.exchange.broker import BrokerSettings, MqttLink
from twin.exchange.plant import VirtualBms
from twin.exchange.points import default_points
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
