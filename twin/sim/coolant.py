"""Coolant properties from a table built once from CoolProp, interpolated per step.

CoolProp is imported only inside ``CoolantTable.build``: the per-step methods are plain
``np.interp`` on a uniform temperature grid, so a step never calls CoolProp. Importing
CoolProp alone takes over a second (a third of the window's start-up), so an application
can keep built tables on disk and read them back instead: ``CoolantTable.build`` given a
``cache_dir``, or every build inside a ``tables_cached_in`` block (the command line runs
each command in one). A cached table is tied to the CoolProp version that built it.

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

import functools
import logging
import math
import os
import zipfile
from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from dataclasses import dataclass, fields
from importlib import metadata
from pathlib import Path
from typing import Literal

import numpy as np

_COOLPROP_NAMES = {"water": "Water", "PG25": "INCOMP::MPG[0.25]"}
_KELVIN = 273.15
_WATER_SATURATION_MARGIN_K = 0.5  # stay clear of boiling at the table pressure
_FREEZE_MARGIN_K = 0.01  # CoolProp rejects states exactly at the freezing point
M3_PER_S_PER_LPM = 1.0 / 60000.0
_CACHE_FORMAT = 1  # bump when the table's fields or their meaning change

log = logging.getLogger(__name__)
# the folder of the enclosing ``tables_cached_in`` block: a context variable, so it is the
# block's own and a thread started inside sees it only when run in a copy of the context
_block_cache_dir: ContextVar[Path | None] = ContextVar("twin_coolant_cache_dir", default=None)


@contextmanager
def tables_cached_in(directory: Path) -> Iterator[None]:
    """Inside the block, ``CoolantTable.build`` keeps the tables it makes in ``directory``
    (created when first written) and reads them back when asked for the same table again;
    when the block ends, builds go back to what they did before it."""
    token = _block_cache_dir.set(directory)
    try:
        yield
    finally:
        _block_cache_dir.reset(token)


def _coolprop_version() -> str | None:
    try:
        return metadata.version("CoolProp")  # the package's metadata: no import of it
    except metadata.PackageNotFoundError:
        return None


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
        cache_dir: Path | None = None,
    ) -> CoolantTable:
        """Tabulate ``fluid`` at ``pressure_kpa`` (absolute) from ``t_min_c`` to ``t_max_c``.

        The range is clamped to the fluid's liquid range (see the module docstring); the
        grid spacing is at most ``step_k`` and both clamped ends are grid points.
        Raises ValueError for an unknown fluid, a non-positive pressure or step, or a
        range that is empty after clamping. With a cache folder (``cache_dir``, else the
        enclosing ``tables_cached_in`` block's), a table built before with the same
        arguments and CoolProp version is read back, and a new one kept there.
        """
        folder = cache_dir if cache_dir is not None else _block_cache_dir.get()
        cache_file = _cache_file(folder, fluid, pressure_kpa, t_min_c, t_max_c, step_k)
        if cache_file is not None:
            cached = _read_cached(cache_file, fluid, pressure_kpa)
            if cached is not None:
                return cached
        table = _tabulated(
            fluid, float(pressure_kpa), float(t_min_c), float(t_max_c), float(step_k)
        )
        if cache_file is not None:
            _write_cached(cache_file, table)
        return table

    @classmethod
    def _tabulate(
        cls, fluid: str, pressure_kpa: float, t_min_c: float, t_max_c: float, step_k: float
    ) -> CoolantTable:
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
                f"{hi_k - _KELVIN:.2f} C; requested {t_min_c:g} to {t_max_c:g} C leaves nothing"
            )
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
            volumetric_heat_capacity_j_per_m3_k=_readonly(
                [r * c for r, c in zip(rho, cp, strict=True)]
            ),
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


@functools.lru_cache(maxsize=16)
def _tabulated(
    fluid: str, pressure_kpa: float, t_min_c: float, t_max_c: float, step_k: float
) -> CoolantTable:
    """A table made once a process for the same arguments: it is immutable, and CoolProp
    spends ~30 ms on it, which a calibration or a study building hundreds of engines
    would otherwise pay each time."""
    return CoolantTable._tabulate(fluid, pressure_kpa, t_min_c, t_max_c, step_k)


_ARRAYS = tuple(f.name for f in fields(CoolantTable) if f.name not in ("fluid", "pressure_kpa"))


def _cache_file(
    folder: Path | None,
    fluid: str,
    pressure_kpa: float,
    t_min_c: float,
    t_max_c: float,
    step_k: float,
) -> Path | None:
    version = _coolprop_version()
    if folder is None or version is None or fluid not in _COOLPROP_NAMES:
        return None
    return folder / (
        f"coolant-v{_CACHE_FORMAT}-{fluid}-{pressure_kpa!r}kPa-"
        f"{t_min_c!r}-{t_max_c!r}C-{step_k!r}K-CoolProp{version}.npz"
    )


def _read_cached(path: Path, fluid: str, pressure_kpa: float) -> CoolantTable | None:
    """The table in ``path``, or None when there is none or it is not a whole, sane table
    (then it is built again and the file replaced)."""
    if not path.is_file():
        return None
    try:
        with np.load(path, allow_pickle=False) as data:
            arrays = {name: np.array(data[name], dtype=np.float64) for name in _ARRAYS}
    except (OSError, ValueError, KeyError, EOFError, zipfile.BadZipFile) as exc:
        log.warning("coolant table cache %s is unreadable (%s); building it again", path, exc)
        return None
    t_c = arrays["t_c"]
    if (
        t_c.ndim != 1
        or t_c.size < 2
        or np.any(np.diff(t_c) <= 0)
        or any(a.shape != t_c.shape or not np.all(np.isfinite(a)) for a in arrays.values())
    ):
        log.warning("coolant table cache %s is not a valid table; building it again", path)
        return None
    for a in arrays.values():
        a.flags.writeable = False
    return CoolantTable(fluid=fluid, pressure_kpa=float(pressure_kpa), **arrays)


def _write_cached(path: Path, table: CoolantTable) -> None:
    """Write the table next to its final name and rename it into place, so that a reader
    never sees half a file; a cache that cannot be written only costs time."""
    partial = path.with_name(f"{path.name}.{os.getpid()}.partial")
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        with partial.open("wb") as out:
            np.savez(out, **{name: getattr(table, name) for name in _ARRAYS})
        os.replace(partial, path)
    except OSError as exc:
        log.warning("coolant table cache %s cannot be written: %s", path, exc)
        partial.unlink(missing_ok=True)
