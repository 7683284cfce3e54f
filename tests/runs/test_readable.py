"""Numbers and names as a report's reader reads them."""

from __future__ import annotations

import math

import pytest

from twin.runs.readable import (
    format_count,
    format_fixed,
    format_ratio,
    format_si,
    series_name,
)
from twin.sim.snapshot import SITE_NAMES


@pytest.mark.parametrize(
    ("value", "unit", "signed", "text"),
    [
        (5.494e11, "tokens", False, "549.4 G tokens"),
        (7.004e6, "KRW", False, "7.00 M KRW"),
        (-504_095.0, "KRW", True, "-504.1 k KRW"),
        (33.38e6, "Wh", False, "33.4 MWh"),  # a prefix joins an SI unit
        (73.66e9, "tokens", True, "+73.7 G tokens"),
        (2.5e15, "Wh", False, "2,500 TWh"),  # beyond the largest prefix
        (163.67, "kWh", False, "163.7 kWh"),
        (42.0, "", False, "42.00"),
        (-0.001, "h", True, "0.00 h"),  # rounds to zero: no sign
        (math.nan, "W", False, "–"),
    ],
)
def test_si_prefixes_never_an_exponent(value: float, unit: str, signed: bool, text: str) -> None:
    assert format_si(value, unit, signed=signed) == text
    assert "e+" not in text and "e-" not in text


def test_counts_are_whole_and_fixed_values_keep_their_decimals() -> None:
    assert format_count(14.0, "racks", signed=True) == "+14 racks"
    assert format_count(1234567.0) == "1,234,567"
    assert format_count(0.0, "racks", signed=True) == "0 racks"
    assert format_fixed(27.66, "K", 1, signed=True) == "+27.7 K"
    assert format_fixed(-0.04, "m³", 1, signed=True) == "0.0 m³"


@pytest.mark.parametrize(
    ("fraction", "text"),
    [
        (0.0, "0 %"),
        (1.2e-7, "0.000012 %"),
        (0.0123, "1.23 %"),
        (-6.6e-15, "< 0.000001 %"),
    ],
)
def test_ratios_as_percentages(fraction: float, text: str) -> None:
    assert format_ratio(fraction) == text


def test_every_site_column_has_a_name() -> None:
    for column in SITE_NAMES:
        assert series_name(column) != column
    assert series_name("gpu_temp_max_c") == "Hottest GPU (°C)"
    assert series_name("pue") == "PUE"
    assert series_name("a_foreign_column") == "a_foreign_column"
