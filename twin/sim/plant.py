"""The cooling plant's machines: air-cooled chillers on the DOE-2 electric-chiller model,
the waterside economizer, and the facility-water pumps on their system curve.

The DOE-2 model (EnergyPlus ``Chiller:Electric:EIR``) scales a chiller's rated capacity
and rated electric input ratio (EIR = 1 / COP) by three curves, with ``t`` the leaving
chilled-water temperature and ``a`` the air entering the condenser (outdoor dry-bulb):

    capacity  = Q_rated x CAPFT(t, a)
    power     = capacity / COP_rated x EIRFT(t, a) x EIRFPLR(PLR),   PLR = load / capacity

CAPFT and EIRFT are biquadratic, EIRFPLR quadratic. Each is evaluated with ``t`` and ``a``
clamped to the curves' validity range (as EnergyPlus does), so the model never
extrapolates: above the range's leaving temperature (the CRAHs' 18 C chilled water, the
facility water's 30 C trim) it takes the COP at the range's warmest water, which
understates the gain of warmer water (a few % per K); below its coldest air, the COP at
that air. Below the minimum part-load ratio the compressor cycles: the power at the
minimum PLR, for the share of the time it runs. Any COP the curves give is capped at the
scenario's ``max_cop``.

Staging: a duty runs the fewest units that carry it, all at the same part load. The
chilled water and the facility-water trim are staged apart (each on its own units, the
trim on the capacity the chilled water leaves).

Waterside economizer (integrated, in series ahead of the chillers: ASHRAE 90.1 6.5.1.2):
the chilled-water return passes a plate exchanger cooled by its own dry-cooler section
before it reaches the chillers. It cools the return down to at best the outdoor
dry-bulb plus ``economizer_approach_k``, so it takes the share

    share = clip((T_return - T_dry_bulb - approach) / (T_return - T_supply), 0, 1)

of the chilled-water duty (all of it in cold weather, none above the return
temperature less the approach), with T_return - T_supply the loop's design difference
(variable flow at a fixed temperature difference); the chillers carry the rest. Its fans
draw the facility dry coolers' fan power per kW of capacity (at full speed: a
conservative simplification). Simplified: a fixed approach, whatever the load.

Facility-water pumps: variable speed on the system curve H = H_static + k Q^2. In a closed
loop the static part is the differential pressure the pumps hold at the most remote CDU
(its exchanger and control valve), which does not fall with flow; ``k`` makes the design
head at the design flow. The pumps never run below ``pump_min_flow_fraction`` of design
flow (the drives' minimum speed; a bypass passes what the CDU valves do not take). With
constant efficiency (affinity laws; the drop in motor and drive efficiency at low speed is
neglected), the power over its design value at flow fraction q is

    P / P_design = q (s + (1 - s) q^2),   s = H_static / H_design, q >= q_min

a cube law only when s = 0. The default s = 0.3 draws 24 % of design power at half flow;
ASHRAE 90.1-2019 6.5.4.2 asks variable-flow pumps for at most 30 %.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

from twin.scenario.schema import Chillers, FacilityWater, biquadratic, quadratic


@dataclass(frozen=True, slots=True)
class ChillerDuty:
    """What the chillers draw for one duty (one leaving-water temperature) over a step."""

    power_w: float  # compressors and condenser fans
    units_running: int
    cop: float  # duty over power; NaN when the duty is zero


class ChillerPlant:
    """The scenario's chillers on their curves (see the module docstring). The scenario's
    figures are copied into plain floats: the engine calls this every step."""

    def __init__(self, spec: Chillers):
        curves = spec.curves
        self.unit_capacity_w = spec.capacity_kw * 1e3
        self.capft = tuple(curves.capft)
        self.eirft = tuple(curves.eirft)
        self.eirfplr = tuple(curves.eirfplr)
        self.leaving_range_c = tuple(curves.leaving_water_range_c)
        self.ambient_range_c = tuple(curves.ambient_range_c)
        self.reference_cop = spec.reference_cop
        self.min_part_load = spec.min_load_fraction
        self.max_cop = spec.max_cop

    def _clamped(self, leaving_c: float, ambient_c: float) -> tuple[float, float]:
        low_t, high_t = self.leaving_range_c
        low_a, high_a = self.ambient_range_c
        return min(max(leaving_c, low_t), high_t), min(max(ambient_c, low_a), high_a)

    def capacity_fraction(self, leaving_c: float, ambient_c: float) -> float:
        """CAPFT: a unit's available capacity over its rated capacity."""
        return biquadratic(self.capft, *self._clamped(leaving_c, ambient_c))

    def unit_capacity_at(self, leaving_c: float, ambient_c: float) -> float:
        """A unit's available capacity, W, at these temperatures."""
        return self.unit_capacity_w * self.capacity_fraction(leaving_c, ambient_c)

    def full_load_cop(self, leaving_c: float, ambient_c: float) -> float:
        """COP of a unit at full load (PLR 1), capped at ``max_cop``."""
        return self.cop(1.0, leaving_c, ambient_c)

    def cop(self, part_load: float, leaving_c: float, ambient_c: float) -> float:
        """COP of one unit at a part-load ratio 0 < PLR <= 1 of its available capacity."""
        return self._cop(part_load, *self._clamped(leaving_c, ambient_c))

    def _cop(self, part_load: float, t: float, a: float) -> float:
        eir = biquadratic(self.eirft, t, a) / self.reference_cop
        run = max(part_load, self.min_part_load)
        # power per available capacity; a cycling compressor runs PLR / PLR_min of the time
        power_per_capacity = eir * quadratic(self.eirfplr, run) * part_load / run
        return min(part_load / power_per_capacity, self.max_cop)

    def duty(self, load_w: float, leaving_c: float, ambient_c: float) -> ChillerDuty:
        """Power for a cooling duty, W, staged on the fewest units that carry it."""
        if load_w <= 0.0:
            return ChillerDuty(0.0, 0, math.nan)
        t, a = self._clamped(leaving_c, ambient_c)
        unit_w = self.unit_capacity_w * biquadratic(self.capft, t, a)
        units = max(math.ceil(load_w / unit_w - 1e-9), 1)
        cop = self._cop(min(load_w / (units * unit_w), 1.0), t, a)
        return ChillerDuty(load_w / cop, units, cop)


def economizer_share(spec: Chillers, ambient_c: float) -> float:
    """Share of the chilled-water duty the waterside economizer takes (0 when the scenario
    has none)."""
    if not spec.economizer:
        return 0.0
    delta_k = spec.chilled_water_delta_t_k
    return_c = spec.chilled_water_supply_c + delta_k
    return min(max((return_c - ambient_c - spec.economizer_approach_k) / delta_k, 0.0), 1.0)


def facility_pump_power_w(fw: FacilityWater, flow_fraction: float) -> float:
    """Electric power of the facility-water pumps, W, for the flow the CDU valves take as a
    fraction of the pumps' design flow (0: the pumps are stopped)."""
    if flow_fraction <= 0.0:
        return 0.0
    design_w = (
        fw.pump_design_flow_lps / 1000.0 * fw.pump_design_head_kpa * 1000.0 / fw.pump_efficiency
    )
    q = max(flow_fraction, fw.pump_min_flow_fraction)
    s = fw.pump_static_head_fraction
    return design_w * q * (s + (1.0 - s) * q * q)
