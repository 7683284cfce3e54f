"""Coolant properties from a table built once from CoolProp, interpolated per step.

CoolProp is imported only inside ``CoolantTable.build``: the per-step methods are plain
``np.interp`` on a uniform temperature grid, so a step never calls CoolProp.

Simplifications:

* Properties depend on temperature only; the pressure is fixed when the table is built
  (liquids are nearly incompressible: water density changes ~0.05 % per 10 bar).
* Linear interpolation between grid points (0.5 K by default; the error is below
  1e-5 relative for density and cp and ~1e-4 for viscosity at that spacing).
* Outside the table range the end values are held (``np.interp``), not extrapolated.
  The range is the requested one clamped to where the fluid is a liquid that CoolProp
  describes:

  - water ("Water", Helmholtz equation of state): from the triple point (0.01 C) to
    0.5 K below saturation at the table pressure (119.7 C at 200 kPa, 99.1 C at
    101 kPa), so the table never contains steam;
  - PG25 ("INCOMP::MPG[0.25]", 25 % by mass propylene glycol in water, CoolProp's
    incompressible-fluid fit): from 0.01 K above its freezing point (-9.78 C) to the
    fit's upper limit (100 C). The fit ignores pressure.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Literal

import numpy as np

_COOLPROP_NAMES = {"water": "Water", "PG25": "INCOMP::MPG[0.25]"}
_KELVIN = 273.15
_WATER_SATURATION_MARGIN_K = 0.5  # stay clear of boiling at the table pressure
_FREEZE_MARGIN_K = 0.01  # CoolProp rejects states exactly at the freezing point
M3_PER_S_PER_LPM = 1.0 / 60000.0


def _readonly(values: list[float]) -> np.ndarray:
    a = np.asarray(values, dtype=np.float64)
    a.flags.writeable = False  # the table is shared by every caller: freeze its data too
    return a


@dataclass(frozen=True, slots=True)
class CoolantTable:
    """Liquid properties against temperature on a uniform grid (SI units).

    Build with ``CoolantTable.build``; the arrays are read-only.
    """

    fluid: str  # "water" or "PG25"
    pressure_kpa: float  # absolute pressure the table was evaluated at
    t_c: np.ndarray  # grid temperatures, C, strictly increasing
    density_kg_per_m3: np.ndarray
    cp_j_per_kg_k: np.ndarray
    viscosity_pa_s: np.ndarray  # dynamic viscosity
    volumetric_heat_capacity_j_per_m3_k: np.ndarray  # rho * cp, tabulated to save a product

    @classmethod
    def build(
        cls,
        fluid: Literal["water", "PG25"],
        pressure_kpa: float,
        t_min_c: float = -10.0,
        t_max_c: float = 120.0,
        step_k: float = 0.5,
    ) -> CoolantTable:
        """Tabulate ``fluid`` at ``pressure_kpa`` (absolute) from ``t_min_c`` to ``t_max_c``.

        The range is clamped to the fluid's liquid range (see the module docstring); the
        grid spacing is at most ``step_k`` and both clamped ends are grid points.
        Raises ValueError for an unknown fluid, a non-positive pressure or step, or a
        range that is empty after clamping.
        """
        from CoolProp.CoolProp import PropsSI  # table-building time only

        if fluid not in _COOLPROP_NAMES:
            raise ValueError(f"unknown coolant {fluid!r}; expected one of {list(_COOLPROP_NAMES)}")
        if not (math.isfinite(pressure_kpa) and pressure_kpa > 0):
            raise ValueError(f"pressure_kpa must be positive and finite, got {pressure_kpa}")
        if not (math.isfinite(step_k) and step_k > 0):
            raise ValueError(f"step_k must be positive and finite, got {step_k}")
        name = _COOLPROP_NAMES[fluid]
        p_pa = pressure_kpa * 1000.0
        if fluid == "water":
            lo_k = PropsSI("Tmin", name)  # triple point; CoolProp has no supercooled liquid
            hi_k = PropsSI("T", "P", p_pa, "Q", 0, name) - _WATER_SATURATION_MARGIN_K
        else:
            lo_k = PropsSI("T_freeze", "T", 300.0, "P", p_pa, name) + _FREEZE_MARGIN_K
            hi_k = PropsSI("Tmax", name)
        lo_c = max(float(t_min_c), lo_k - _KELVIN)
        hi_c = min(float(t_max_c), hi_k - _KELVIN)
        if not hi_c > lo_c:
            raise ValueError(
                f"{fluid} at {pressure_kpa:g} kPa is liquid from {lo_k - _KELVIN:.2f} to "
                f"{hi_k - _KELVIN:.2f} C; requested {t_min_c:g} to {t_max_c:g} C leaves nothing")
        n = math.ceil((hi_c - lo_c) / step_k - 1e-9) + 1
        t_c = np.linspace(lo_c, hi_c, max(n, 2))
        t_k = t_c + _KELVIN
        rho = [PropsSI("D", "T", t, "P", p_pa, name) for t in t_k]
        cp = [PropsSI("C", "T", t, "P", p_pa, name) for t in t_k]
        mu = [PropsSI("V", "T", t, "P", p_pa, name) for t in t_k]
        t_c.flags.writeable = False
        return cls(
            fluid=fluid,
            pressure_kpa=float(pressure_kpa),
            t_c=t_c,
            density_kg_per_m3=_readonly(rho),
            cp_j_per_kg_k=_readonly(cp),
            viscosity_pa_s=_readonly(mu),
            volumetric_heat_capacity_j_per_m3_k=_readonly([r * c for r, c in zip(rho, cp,
                                                                                   strict=True)]),
        )

    @property
    def t_min_c(self) -> float:
        """Lowest tabulated temperature, C (after clamping to the liquid range)."""
        return float(self.t_c[0])

    @property
    def t_max_c(self) -> float:
        """Highest tabulated temperature, C (after clamping to the liquid range)."""
        return float(self.t_c[-1])

    def density(self, t_c: np.ndarray | float) -> np.ndarray:
        """Density, kg/m3, at ``t_c`` (C)."""
        return np.interp(t_c, self.t_c, self.density_kg_per_m3)

    def cp(self, t_c: np.ndarray | float) -> np.ndarray:
        """Isobaric specific heat, J/(kg K), at ``t_c`` (C)."""
        return np.interp(t_c, self.t_c, self.cp_j_per_kg_k)

    def viscosity(self, t_c: np.ndarray | float) -> np.ndarray:
        """Dynamic viscosity, Pa s, at ``t_c`` (C)."""
        return np.interp(t_c, self.t_c, self.viscosity_pa_s)

    def volumetric_heat_capacity(self, t_c: np.ndarray | float) -> np.ndarray:
        """rho * cp, J/(m3 K), at ``t_c`` (C): one interpolation instead of two."""
        return np.interp(t_c, self.t_c, self.volumetric_heat_capacity_j_per_m3_k)

    def heat_capacity_rate_w_per_k(
        self, flow_lpm: np.ndarray | float, t_c: np.ndarray | float
    ) -> np.ndarray:
        """Capacity rate m_dot * cp, W/K, of a volumetric flow ``flow_lpm`` (L/min) at
        ``t_c`` (C). Zero flow gives exactly zero."""
        rate = np.multiply(self.volumetric_heat_capacity(t_c), flow_lpm)
        rate *= M3_PER_S_PER_LPM
        return rate

    def mass_flow_kg_per_s(
        self, flow_lpm: np.ndarray | float, t_c: np.ndarray | float
    ) -> np.ndarray:
        """Mass flow, kg/s, of a volumetric flow ``flow_lpm`` (L/min) at ``t_c`` (C)."""
        m = np.multiply(self.density(t_c), flow_lpm)
        m *= M3_PER_S_PER_LPM
        return m
