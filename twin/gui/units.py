"""Display units: what the window shows, in SI (as simulated) or in US customary units.

Only what is shown is converted, at display time. The simulation, recordings, ``twin run``
outputs and reports stay SI, and a value typed in a display unit goes back to SI before it
reaches the simulation.

Factors, from NIST Special Publication 811 (2008), Appendix B, "Conversion factors",
and the exact definitions behind them:

- 1 ft = 0.3048 m exactly (the international foot);
- 1 gal (US) = 231 in³ = 3.785411784 L exactly;
- 1 psi = 1 lbf/in² = 0.45359237 kg × 9.80665 m/s² / (0.0254 m)² exactly (the pound,
  standard gravity and the inch are exact): 6.894757293168… kPa, which Appendix B lists
  rounded as 6.894 757 E+03 Pa;
- t/°F = t/°C × 9/5 + 32 for a temperature, and a temperature difference of 1 K (1 °C)
  is 9/5 °F with no offset.

Power and energy (kW, MW, kWh, MWh) stay as they are: US data-centre practice uses them
too; so do percentages, currency, CO₂ and tokens (``KEPT_SI`` says why for each unit). A
unit string found in neither table passes through unchanged, never converted by a guess.

A number that words name (an alarm's limit, the size of a fault offered) is a
``Quantity``: kept SI and written out in the display units only when shown.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from enum import StrEnum
from fractions import Fraction

# exact, as defined; kept as fractions so that a value typed in US units comes back to SI
# from the decimal number typed, not from its binary approximation
FOOT_M = Fraction("0.3048")
US_GALLON_L = Fraction("3.785411784")
POUND_KG = Fraction("0.45359237")
STANDARD_GRAVITY_M_S2 = Fraction("9.80665")
INCH_M = Fraction("0.0254")
PSI_KPA = POUND_KG * STANDARD_GRAVITY_M_S2 / INCH_M**2 / 1000  # lbf per in², in kPa


class UnitSystem(StrEnum):
    SI = "SI"
    US_CUSTOMARY = "US customary"


@dataclass(frozen=True, slots=True)
class Conversion:
    """From an SI unit to the unit shown: shown = si × factor + offset."""

    si_unit: str
    unit: str
    factor: Fraction = Fraction(1)
    offset: Fraction = Fraction(0)

    @property
    def is_identity(self) -> bool:
        return self.factor == 1 and self.offset == 0

    def to_display(self, si_value):
        """A number or a numpy array in the SI unit, in the unit shown."""
        if self.is_identity:
            return si_value
        # × numerator ÷ denominator: exact where the result is (35 °C × 9 ÷ 5 + 32 = 95 °F)
        return si_value * float(self.factor.numerator) / float(self.factor.denominator) + float(
            self.offset
        )

    def to_si(self, display_value):
        if self.is_identity:
            return display_value
        return (
            (display_value - float(self.offset))
            * float(self.factor.denominator)
            / float(self.factor.numerator)
        )

    def typed_to_si(self, typed: float, decimals: int) -> float:
        """A value typed with ``decimals`` decimals, in SI: the exact conversion of the
        decimal number typed, rounded once (64.4 °F is 18 °C, not 18.000000000000004)."""
        if self.is_identity:
            return typed
        exact = (Fraction(f"{typed:.{decimals}f}") - self.offset) / self.factor
        return float(exact)

    def text_to_si(self, text: str) -> float:
        """A number typed as text (``64.4``, ``1e3``), in SI: the exact conversion of the
        decimal number written, rounded once; ValueError if it is no number."""
        if self.is_identity:
            return float(text)
        return float((Fraction(text.strip()) - self.offset) / self.factor)

    def difference_to_display(self, si_difference):
        """A step or a span: scaled, never offset."""
        return si_difference * float(self.factor.numerator) / float(self.factor.denominator)

    def decimals(self, si_decimals: int) -> int:
        """Decimals that show the value at least as finely as in SI (a psi is 6.9 kPa:
        one more decimal)."""
        return si_decimals + max(0, math.ceil(math.log10(1 / self.factor) - 1e-9))


def _to_us(si_unit: str, unit: str, factor: Fraction, offset: int = 0) -> Conversion:
    return Conversion(si_unit, unit, Fraction(factor), Fraction(offset))


US_CUSTOMARY_UNITS: dict[str, Conversion] = {
    c.si_unit: c
    for c in (
        _to_us("°C", "°F", Fraction(9, 5), 32),
        # temperature differences: the same 9/5, never the 32 °F offset
        _to_us("K", "Δ°F", Fraction(9, 5)),
        _to_us("Δ°C", "Δ°F", Fraction(9, 5)),
        _to_us("L/min", "gpm", 1 / US_GALLON_L),
        _to_us("kPa", "psi", 1 / PSI_KPA),
        _to_us("m", "ft", 1 / FOOT_M),
    )
}
"""The SI units the window shows that US customary shows otherwise, keyed by SI unit."""

KEPT_SI: dict[str, str] = {
    "": "a count or a ratio (PUE, COP, pumps running)",
    "%": "a fraction",
    "% of cap": "a fraction of the grid import cap",
    "% TDP": "a fraction of the GPUs' thermal design power",
    "pu": "per unit of the nominal voltage",
    "W": "power: US data-centre practice uses watts too",
    "kW": "power: US data-centre practice uses kilowatts too",
    "MW": "power: US data-centre practice uses megawatts too",
    "kWh": "energy: US utilities bill in kilowatt-hours",
    "MWh": "energy: US utilities bill in megawatt-hours",
    "min": "time",
    "°": "an angle",
    "parts/h": "a production rate",
    "tok/s": "AI work: tokens per second",
    "₩/h": "the tariff's currency, as the scenario states it",
    "t/h": "CO₂ in metric tonnes, as emission factors and reports state it",
}
"""SI units shown the same in every system, and why."""


def conversion(si_unit: str, system: UnitSystem | str) -> Conversion:
    """How a value in ``si_unit`` is shown in ``system``; an identity for SI and for a
    unit found in no table (it is shown as it is, not guessed at)."""
    if UnitSystem(system) is UnitSystem.US_CUSTOMARY and si_unit in US_CUSTOMARY_UNITS:
        return US_CUSTOMARY_UNITS[si_unit]
    return Conversion(si_unit, si_unit)


_DIFFERENCE_UNITS = {"°C": "Δ°C"}  # a difference of two temperatures is no temperature


def difference_conversion(si_unit: str, system: UnitSystem | str) -> Conversion:
    """How a difference of two values in ``si_unit`` is shown in ``system``: scaled but
    never offset (two temperatures 1 °C apart are 1.8 °F apart, not 33.8 °F). In SI it
    keeps the unit of the values."""
    shown = conversion(_DIFFERENCE_UNITS.get(si_unit, si_unit), system)
    return Conversion(si_unit, si_unit) if shown.is_identity else shown


def is_accounted_for(si_unit: str) -> bool:
    """Whether a unit the window shows is either converted or deliberately kept SI."""
    return si_unit in US_CUSTOMARY_UNITS or si_unit in KEPT_SI


SHOWN_FIGURES = 4  # significant figures of a converted value: more tell nothing typed


def figures_text(value: float, figures: int = SHOWN_FIGURES) -> str:
    """``264.2``, ``1.321``, ``9``, ``12346``: rounded to ``figures`` significant figures
    (at least to a whole number), without an exponent or trailing zeros."""
    if value == 0 or not math.isfinite(value):
        return f"{value:g}"
    decimals = max(0, figures - 1 - math.floor(math.log10(abs(value))))
    text = f"{value:.{decimals}f}"
    return text.rstrip("0").rstrip(".") if "." in text else text


@dataclass(frozen=True, slots=True)
class Quantity:
    """A number in an SI unit that words name (a throttle limit, a leak's rate)."""

    si_value: float
    si_unit: str

    def text(self, system: UnitSystem | str) -> str:
        """The number and its unit in ``system``: as it is where the unit is not converted
        (``87 °C``, ``30 %``), else converted to ``SHOWN_FIGURES`` significant figures
        (``188.6 °F``, ``2.642 gpm``)."""
        shown = conversion(self.si_unit, system)
        number = (
            f"{self.si_value:g}"
            if shown.is_identity
            else figures_text(shown.to_display(self.si_value))
        )
        return f"{number} {shown.unit}" if shown.unit else number
