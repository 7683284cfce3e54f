"""The site's structure, compiled once from a scenario and shared by everything that
needs it: the simulation, the alarm engine, the window's 3D view, the kiosk.

``Site.build`` expands the scenario's compact description into its topology (flat index
arrays of racks, rows, CDUs and halls, ``twin.sim.topology``) and its layout (where each
part stands, ``twin.sim.layout``). Both are immutable; whoever holds a simulation takes
its ``site`` rather than building another.
"""

from __future__ import annotations

from dataclasses import dataclass

from twin.scenario import Scenario
from twin.sim.layout import Layout, build_layout
from twin.sim.topology import Topology, build_topology


@dataclass(frozen=True, slots=True)
class Site:
    """A scenario's topology and layout, built together once."""

    topology: Topology
    layout: Layout

    @classmethod
    def build(cls, scenario: Scenario) -> Site:
        topology = build_topology(scenario)
        return cls(topology, build_layout(scenario, topology))
