"""Numbers and names as a report's reader reads them: SI prefixes instead of scientific
notation ("549.4 G tokens", "7.00 M KRW"), counts as whole numbers, the site columns and the
run's settings by their names ("Hottest GPU (°C)", "Step"), never by their keys.

The series names are the window's trend names (``twin.gui.trend_history``), so a chart in
a report and a trend in the window call a value the same.
"""

from __future__ import annotations

import math

SI_PREFIXES = ((1e12, "T"), (1e9, "G"), (1e6, "M"), (1e3, "k"))
# units a prefix joins (MWh); before any other unit it stands apart (549.4 G tokens, 7.00 M KRW)
SI_UNITS = frozenset({"W", "Wh", "g", "m", "Hz", "J"})

SERIES_NAMES: dict[str, tuple[str, str]] = {
    # column: (name, unit as stored)
    "time_s": ("Simulated time", "s"),
    "ambient_c": ("Outdoor dry bulb", "°C"),
    "wet_bulb_c": ("Outdoor wet bulb", "°C"),
    "it_power_kw": ("IT power", "kW"),
    "facility_power_kw": ("Facility power", "kW"),
    "cooling_power_kw": ("Cooling power", "kW"),
    "electrical_loss_kw": ("Electrical losses", "kW"),
    "robot_power_kw": ("Robot power", "kW"),
    "grid_import_kw": ("Grid import", "kW"),
    "generator_kw": ("Generators", "kW"),
    "bess_power_kw": ("Battery (discharging +)", "kW"),
    "bess_loss_kw": ("Battery losses", "kW"),
    "ups_battery_kw": ("UPS batteries", "kW"),
    "unserved_kw": ("Unserved load", "kW"),
    "bess_soc": ("Battery state of charge", "0-1"),
    "heat_rejected_kw": ("Heat rejected", "kW"),
    "thermal_stored_kwh": ("Heat stored", "kWh"),
    "pue": ("PUE", ""),
    "tcs_supply_c": ("TCS supply", "°C"),
    "tcs_return_c": ("TCS return", "°C"),
    "fws_supply_c": ("Facility water", "°C"),
    "gpu_temp_max_c": ("Hottest GPU", "°C"),
    "throttled_gpus": ("Throttled GPUs", ""),
    "tripped_racks": ("Tripped racks", ""),
    "tokens_per_s": ("Tokens/s", ""),
    "water_l_per_h": ("Water use", "L/h"),
    "cost_krw_per_h": ("Electricity cost", "KRW/h"),
    "co2_kg_per_h": ("CO₂ emissions", "kg/h"),
    "energy_closure_error": ("Energy ledger closure error", ""),
}

SETTING_NAMES = {
    # what a run output's metadata says about its run
    "scenario": "Scenario",
    "seed": "Seed",
    "dt_s": "Step",
    "every_s": "Row interval",
    "start": "Start",
    "twin_version": "twin version",
    "racks": "Racks",
    "cdus": "CDUs",
}


def series_name(column: str) -> str:
    """A site column's name with its unit: "Hottest GPU (°C)"; an unknown column keeps its
    key (a foreign or newer table)."""
    if column not in SERIES_NAMES:
        return column
    name, unit = SERIES_NAMES[column]
    return f"{name} ({unit})" if unit else name


def format_si(value: float, unit: str = "", *, signed: bool = False) -> str:
    """A value with an SI prefix from a thousand up: 549.4 G tokens, 7.00 M KRW, 812.5 kWh
    (for a unit that already carries a prefix, scale it first). Three or four significant
    digits; thousands separated below a thousand's prefix; "–" when unknown."""
    if not math.isfinite(value):
        return "–"
    for factor, prefix in SI_PREFIXES:
        if abs(value) >= factor:
            scaled = value / factor
            # beyond the largest prefix: thousands separated
            decimals = 0 if abs(scaled) >= 1000 else 2 if abs(scaled) < 10 else 1
            gap = "" if unit in SI_UNITS or not unit else " "
            return _signed(scaled, decimals, f"{prefix}{gap}{unit}", signed)
    return _signed(value, 2 if abs(value) < 100 else 1, unit, signed)


def _signed(value: float, decimals: int, unit: str, signed: bool) -> str:
    """``value`` to ``decimals``, a + on increases when ``signed``; what rounds to zero is
    written 0, unsigned."""
    text = f"{value:,.{decimals}f}"
    if float(text.replace(",", "")) == 0:
        text = text.lstrip("-")
    elif signed and value > 0:
        text = "+" + text
    return f"{text} {unit}".rstrip()


def format_count(value: float, unit: str = "", *, signed: bool = False) -> str:
    """A count: a whole number, thousands separated ("14 racks", "+3")."""
    if not math.isfinite(value):
        return "–"
    return _signed(round(value), 0, unit, signed)


def format_fixed(value: float, unit: str, decimals: int, *, signed: bool = False) -> str:
    """A value with a fixed number of decimals and its unit ("83.4 °C")."""
    if not math.isfinite(value):
        return "–"
    return _signed(value, decimals, unit, signed)


def format_ratio(value: float) -> str:
    """A small fraction as a percentage without exponent: 0.000012 % rather than 1.2e-07;
    below a millionth of a percent either way, "< 0.000001 %"."""
    if not math.isfinite(value):
        return "–"
    percent = value * 100
    if percent == 0:
        return "0 %"
    if abs(percent) < 1e-6:
        return "< 0.000001 %"
    decimals = max(2, 1 - math.floor(math.log10(abs(percent))) + 1)
    return f"{percent:.{min(decimals, 6)}f} %"
