"""Monthly electricity bills from a load profile: energy by time-of-use period, the
demand charge on the billing demand, the per-kWh surcharges, fund and VAT.

The profile is the run table's grid import (interval means, the row's time at the end of
its interval). KEPCO's demand meter integrates quarter hours of the clock: each row must
lie inside one quarter hour, so that the 15-minute demand is exact (``twin run --every``
of 15 min or a divisor of it).
"""

from __future__ import annotations

import calendar
import csv
import datetime as dt
import io
import math
from dataclasses import dataclass, field

import numpy as np

from twin.grid.tariff import PERIODS, Tariff

QUARTER_HOUR_S = 900.0
EDGE_S = 1e-6  # rows end exactly on a quarter hour; floating time_s may miss it by this


class GridError(ValueError):
    """Input the grid package cannot use (a profile a bill or a settlement cannot be made
    from, a bad option); the message says why and what is needed."""


@dataclass
class MonthBill:
    """One calendar month's bill (the billing month is assumed to be the calendar month;
    KEPCO reads meters on a day set per customer)."""

    year: int
    month: int
    days_covered: float  # days of the month the profile covers
    energy_kwh: dict[str, float] = field(default_factory=lambda: dict.fromkeys(PERIODS, 0.0))
    energy_krw: dict[str, float] = field(default_factory=lambda: dict.fromkeys(PERIODS, 0.0))
    peak_demand_kw: float = 0.0  # highest 15-minute demand of the month
    peak_demand_at: dt.datetime | None = None  # start of that quarter hour
    billing_demand_kw: float = 0.0
    demand_rate_krw_per_kw: float = 0.0  # averaged over the days covered, by schedule
    demand_krw: float = 0.0
    climate_krw: float = 0.0
    fuel_krw: float = 0.0
    fund_krw: float = 0.0
    vat_krw: float = 0.0

    @property
    def total_kwh(self) -> float:
        return sum(self.energy_kwh.values())

    @property
    def energy_charge_krw(self) -> float:
        return sum(self.energy_krw.values())

    @property
    def before_tax_krw(self) -> float:
        return self.demand_krw + self.energy_charge_krw + self.climate_krw + self.fuel_krw

    @property
    def total_krw(self) -> float:
        return self.before_tax_krw + self.fund_krw + self.vat_krw


@dataclass
class Bill:
    tariff: str
    option: str
    months: list[MonthBill]

    @property
    def total_krw(self) -> float:
        return sum(m.total_krw for m in self.months)


def make_bill(
    tariff: Tariff, start: dt.datetime, time_s: np.ndarray, grid_import_kw: np.ndarray
) -> Bill:
    """The bill of a profile: row ``i`` is the mean import over ``(time_s[i-1], time_s[i]]``
    seconds after ``start`` (local time; the first row from 0)."""
    time_s = np.asarray(time_s, dtype=float)
    power_kw = np.asarray(grid_import_kw, dtype=float)
    if time_s.size == 0:
        raise GridError("the run table has no rows")
    if not np.all(np.isfinite(power_kw)):
        bad = int(np.flatnonzero(~np.isfinite(power_kw))[0])
        raise GridError(f"grid_import_kw is not a number at row {bad}; a bill needs every row")
    ends = time_s
    begins = np.concatenate(([0.0], time_s[:-1]))
    if np.any(ends <= begins):
        raise GridError("time_s must increase from row to row")
    origin = start.replace(hour=0, minute=0, second=0, microsecond=0)
    offset_s = (start - origin).total_seconds()
    block_first = np.floor((begins + offset_s + EDGE_S) / QUARTER_HOUR_S)
    block_last = np.floor((ends + offset_s - EDGE_S) / QUARTER_HOUR_S)
    if np.any(block_first != block_last):
        row = int(np.flatnonzero(block_first != block_last)[0])
        raise GridError(
            f"row {row} ({ends[row] - begins[row]:g} s) crosses a quarter hour of the clock; "
            "the 15-minute demand needs rows inside quarter hours: run with --every 15min "
            "or a divisor of it (60s, 5min) and a start on a whole minute"
        )
    energy_kwh = power_kw * (ends - begins) / 3600.0
    blocks, inverse = np.unique(block_first, return_inverse=True)
    block_kwh = np.bincount(inverse, weights=energy_kwh)
    block_start = [origin + dt.timedelta(seconds=float(b) * QUARTER_HOUR_S) for b in blocks]

    months: dict[tuple[int, int], MonthBill] = {}
    for when, kwh in zip(block_start, block_kwh, strict=True):
        bill = months.get((when.year, when.month))
        if bill is None:
            bill = months[(when.year, when.month)] = MonthBill(when.year, when.month, 0.0)
        period = tariff.period(when)
        bill.energy_kwh[period] += kwh
        bill.energy_krw[period] += kwh * tariff.energy_rate(when, period)
        demand_kw = kwh / (QUARTER_HOUR_S / 3600.0)
        if demand_kw > bill.peak_demand_kw:
            bill.peak_demand_kw, bill.peak_demand_at = demand_kw, when

    _cover_days(months, start, float(ends[-1]))
    ordered = [months[key] for key in sorted(months)]
    _demand_charges(tariff, ordered, start, float(ends[-1]))
    surcharges = tariff.data.surcharges
    for m in ordered:
        m.climate_krw = m.total_kwh * tariff.climate_krw_per_kwh
        m.fuel_krw = m.total_kwh * tariff.fuel_krw_per_kwh
        m.fund_krw = m.before_tax_krw * surcharges.power_fund_fraction
        m.vat_krw = m.before_tax_krw * surcharges.vat_fraction
    return Bill(tariff.name, tariff.option, ordered)


def _cover_days(
    months: dict[tuple[int, int], MonthBill], start: dt.datetime, duration_s: float
) -> None:
    end = start + dt.timedelta(seconds=duration_s)
    for (year, month), bill in months.items():
        first = dt.datetime(year, month, 1)
        last = dt.datetime(year, month, calendar.monthrange(year, month)[1]) + dt.timedelta(1)
        covered = min(end, last) - max(start, first)
        bill.days_covered = max(covered.total_seconds(), 0.0) / 86400.0


def _demand_charges(
    tariff: Tariff, months: list[MonthBill], start: dt.datetime, duration_s: float
) -> None:
    """Billing demand = the highest of this month's peak, the peaks of the ratchet months
    among the 12 months before (earlier months of the run, and ``ratchet_peak_kw`` for the
    months before it), and the contract minimum. The charge is prorated by the days of the
    month the profile covers, at the rate of the schedule in force on each of them."""
    rule = tariff.data.billing_demand
    floor_kw = rule.contract_fraction_min * tariff.contract_demand_kw
    end = start + dt.timedelta(seconds=duration_s)
    for i, m in enumerate(months):
        carried = [tariff.ratchet_peak_kw]
        for earlier in months[:i]:
            age = (m.year - earlier.year) * 12 + m.month - earlier.month
            if earlier.month in rule.ratchet_months and 0 < age < 12:
                carried.append(earlier.peak_demand_kw)
        m.billing_demand_kw = max(m.peak_demand_kw, floor_kw, *carried)
        days_in_month = calendar.monthrange(m.year, m.month)[1]
        first = dt.datetime(m.year, m.month, 1)
        rate_days = 0.0
        day = first
        while day.month == m.month:
            covered = (min(end, day + dt.timedelta(1)) - max(start, day)).total_seconds()
            if covered > 0:
                rate_days += tariff.demand_rate(day.date()) * covered / 86400.0
            day += dt.timedelta(1)
        m.demand_rate_krw_per_kw = rate_days / m.days_covered if m.days_covered else 0.0
        m.demand_krw = m.billing_demand_kw * rate_days / days_in_month


# --------------------------------------------------------------------------- text


BILL_COLUMNS = (
    "month",
    "days_covered",
    "light_kwh",
    "mid_kwh",
    "peak_kwh",
    "light_krw",
    "mid_krw",
    "peak_krw",
    "energy_krw",
    "peak_demand_kw",
    "peak_demand_at",
    "billing_demand_kw",
    "demand_rate_krw_per_kw",
    "demand_krw",
    "climate_krw",
    "fuel_krw",
    "fund_krw",
    "vat_krw",
    "total_krw",
)


def bill_rows(bill: Bill) -> list[dict[str, object]]:
    rows = []
    for m in bill.months:
        rows.append(
            {
                "month": f"{m.year:04d}-{m.month:02d}",
                "days_covered": round(m.days_covered, 4),
                **{f"{p}_kwh": round(m.energy_kwh[p], 3) for p in PERIODS},
                **{f"{p}_krw": round(m.energy_krw[p]) for p in PERIODS},
                "energy_krw": round(m.energy_charge_krw),
                "peak_demand_kw": round(m.peak_demand_kw, 3),
                "peak_demand_at": m.peak_demand_at.isoformat() if m.peak_demand_at else "",
                "billing_demand_kw": round(m.billing_demand_kw, 3),
                "demand_rate_krw_per_kw": round(m.demand_rate_krw_per_kw, 2),
                "demand_krw": round(m.demand_krw),
                "climate_krw": round(m.climate_krw),
                "fuel_krw": round(m.fuel_krw),
                "fund_krw": round(m.fund_krw),
                "vat_krw": round(m.vat_krw),
                "total_krw": round(m.total_krw),
            }
        )
    return rows


def bill_csv(bill: Bill) -> str:
    out = io.StringIO()
    writer = csv.DictWriter(out, fieldnames=BILL_COLUMNS, lineterminator="\n")
    writer.writeheader()
    writer.writerows(bill_rows(bill))
    return out.getvalue()


def bill_text(bill: Bill) -> str:
    """The bill as a few lines per month, in KRW (whole won) and kWh."""
    lines = [f"bill: {bill.tariff}, option {bill.option}"]
    for m in bill.months:
        partial = (
            ""
            if math.isclose(m.days_covered, calendar.monthrange(m.year, m.month)[1])
            else f" ({m.days_covered:.2f} days covered)"
        )
        lines.append(f"  {m.year:04d}-{m.month:02d}{partial}")
        for p in PERIODS:
            lines.append(f"    {p:<6} {m.energy_kwh[p]:>16,.0f} kWh  {m.energy_krw[p]:>18,.0f} KRW")
        at = f" at {m.peak_demand_at:%Y-%m-%d %H:%M}" if m.peak_demand_at else ""
        lines.append(
            f"    peak 15-min demand {m.peak_demand_kw:,.0f} kW{at}; billing demand "
            f"{m.billing_demand_kw:,.0f} kW"
        )
        lines.append(f"    demand charge {m.demand_krw:>20,.0f} KRW")
        lines.append(f"    energy charge {m.energy_charge_krw:>20,.0f} KRW")
        lines.append(f"    climate-env.  {m.climate_krw:>20,.0f} KRW")
        lines.append(f"    fuel-cost adj {m.fuel_krw:>20,.0f} KRW")
        lines.append(f"    fund + VAT    {m.fund_krw + m.vat_krw:>20,.0f} KRW")
        lines.append(f"    total         {m.total_krw:>20,.0f} KRW")
    if len(bill.months) > 1:
        lines.append(f"  all months      {bill.total_krw:>20,.0f} KRW")
    return "\n".join(lines)
