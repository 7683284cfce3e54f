"""KPX demand response settled on a run: the customer baseline load of recent similar
days, performance = baseline - metered per dispatched hour, delivered against committed,
work forgone, and what the programme pays or charges.

The rules are the scenario's ``[demand_response]`` (``DemandResponseProgramme``):
reliability DR (a monthly capacity payment for the registered reduction, energy paid per
kWh delivered when dispatched, a penalty below a share of the commitment), economic DR (a
bid reduction paid per kWh delivered, the same penalty) and plus DR (consumption raised in
surplus hours, paid per kWh above the baseline). The baseline (CBL) is KPX's kind of rule:
of the last ``baseline_days`` similar days before the dispatch day (weekdays for a weekday;
Saturdays, Sundays and holidays for those), not dispatched themselves, ranked by their load
in the dispatched hours, the ``baseline_kept_days`` highest (Max(4/5)) or middle ones
(Mid(6/10)) are averaged hour by hour. KPX's same-day adjustment is not applied.
"""

from __future__ import annotations

import calendar
import datetime as dt
import math
from dataclasses import dataclass, field

import numpy as np

from twin.grid.bill import GridError
from twin.scenario.schema import DemandResponseProgramme

HOUR_S = 3600.0
EDGE_S = 1e-6


@dataclass(frozen=True)
class Dispatch:
    """A dispatch of whole clock hours from ``start``: ``committed_kw`` of reduction (or,
    for plus DR, of increase) in each."""

    start: dt.datetime
    hours: int
    committed_kw: float


@dataclass
class HourlySeries:
    """Clock hours of a run: energy drawn from the grid, and means of other columns."""

    start: list[dt.datetime]  # each hour's start, consecutive
    grid_kwh: np.ndarray
    complete: np.ndarray  # bool: the run covered the whole hour
    means: dict[str, np.ndarray] = field(default_factory=dict)  # per hour, e.g. tokens_per_s

    def index(self, when: dt.datetime) -> int | None:
        if not self.start:
            return None
        k = round((when - self.start[0]).total_seconds() / HOUR_S)
        return k if 0 <= k < len(self.start) and self.start[k] == when else None


@dataclass
class DispatchResult:
    dispatch: Dispatch
    baseline_days: list[dt.date]
    baseline_kwh: list[float]  # per dispatched hour
    metered_kwh: list[float]
    performance_kwh: list[float]  # baseline - metered (plus DR: metered - baseline)
    paid_kwh: float  # performance counted for payment: each hour's, 0 to the commitment
    energy_krw: float
    penalty_krw: float
    tokens_forgone: float  # baseline days' tokens in those hours minus the run's
    by_source_kwh: dict[str, float]  # what each source gave: BESS, generators, the site's load
    notes: list[str] = field(default_factory=list)

    @property
    def committed_kwh(self) -> float:
        return self.dispatch.committed_kw * self.dispatch.hours

    @property
    def delivered_kwh(self) -> float:
        return sum(self.performance_kwh)

    @property
    def delivered_fraction(self) -> float:
        return self.delivered_kwh / self.committed_kwh if self.committed_kwh else math.nan


@dataclass
class Settlement:
    programme: DemandResponseProgramme
    dispatches: list[DispatchResult]
    capacity_krw: float  # reliability DR's capacity payment for the days the run covers

    @property
    def revenue_krw(self) -> float:
        return (
            self.capacity_krw
            + sum(d.energy_krw for d in self.dispatches)
            - sum(d.penalty_krw for d in self.dispatches)
        )


# --------------------------------------------------------------------------- series


def hourly_series(
    start: dt.datetime,
    time_s: np.ndarray,
    grid_import_kw: np.ndarray,
    columns: dict[str, np.ndarray] | None = None,
) -> HourlySeries:
    """Clock hours of a run table (row ``i`` the mean over ``(time_s[i-1], time_s[i]]``);
    each row must lie inside one clock hour."""
    time_s = np.asarray(time_s, dtype=float)
    begins = np.concatenate(([0.0], time_s[:-1]))
    origin = start.replace(minute=0, second=0, microsecond=0)
    offset_s = (start - origin).total_seconds()
    first = np.floor((begins + offset_s + EDGE_S) / HOUR_S)
    last = np.floor((time_s + offset_s - EDGE_S) / HOUR_S)
    if np.any(first != last):
        row = int(np.flatnonzero(first != last)[0])
        raise GridError(
            f"row {row} crosses a clock hour; demand response is settled by the "
            "hour: run with --every 1h or a divisor of it"
        )
    seconds = time_s - begins
    hours = np.arange(int(first[0]), int(first[-1]) + 1)
    slot = (first - hours[0]).astype(int)
    covered_s = np.bincount(slot, weights=seconds, minlength=hours.size)
    grid_kwh = np.bincount(
        slot, weights=np.asarray(grid_import_kw) * seconds / HOUR_S, minlength=hours.size
    )
    means = {}
    for name, values in (columns or {}).items():
        total = np.bincount(slot, weights=np.asarray(values) * seconds, minlength=hours.size)
        means[name] = np.divide(total, covered_s, out=np.zeros(hours.size), where=covered_s > 0)
    return HourlySeries(
        [origin + dt.timedelta(hours=int(h)) for h in hours],
        grid_kwh,
        complete=covered_s >= HOUR_S - 1e-3,
        means=means,
    )


# --------------------------------------------------------------------------- baseline


def day_group(day: dt.date, holidays) -> str:
    """KPX's similar days: weekdays with weekdays, the rest (weekends, holidays) together."""
    return "other" if day.weekday() >= 5 or day in holidays else "weekday"


def baseline(
    series: HourlySeries,
    dispatch: Dispatch,
    rule: DemandResponseProgramme,
    holidays,
    dispatched_days: set[dt.date],
    column: str | None = None,
) -> tuple[list[dt.date], np.ndarray, list[str]]:
    """The baseline of the dispatched hours: (the days used, per hour the value of the grid
    energy or of ``column``, notes on what fell short of the rule)."""
    day = dispatch.start.date()
    group = day_group(day, holidays)
    hours = [dispatch.start + dt.timedelta(hours=k) for k in range(dispatch.hours)]
    candidates: list[tuple[dt.date, np.ndarray]] = []
    back = 1
    notes = []
    while len(candidates) < rule.baseline_days:
        earlier = day - dt.timedelta(days=back)
        back += 1
        if series.start and earlier < series.start[0].date():
            break
        if earlier in dispatched_days or day_group(earlier, holidays) != group:
            continue
        index = [series.index(h - (day - earlier)) for h in hours]
        if any(i is None or not series.complete[i] for i in index):
            continue
        values = series.grid_kwh if column is None else series.means[column]
        candidates.append((earlier, np.array([values[i] for i in index])))
    if not candidates:
        raise GridError(
            f"the dispatch at {dispatch.start:%Y-%m-%d %H:%M} has no similar day before it in "
            "the run to take a baseline from; start the run days earlier"
        )
    if len(candidates) < rule.baseline_days:
        notes.append(
            f"baseline from {len(candidates)} similar day(s), not the "
            f"{rule.baseline_days} the rule asks (the run starts too late)"
        )
    keep = min(rule.baseline_kept_days, len(candidates))
    # rank by the grid load in the dispatched hours, whatever the column averaged
    ranked = sorted(candidates, key=lambda c: _grid_load(series, hours, day - c[0]), reverse=True)
    if rule.baseline_pick == "highest":
        kept = ranked[:keep]
    else:
        drop = (len(ranked) - keep) // 2
        kept = ranked[drop : drop + keep]
    return [d for d, _ in kept], np.mean([v for _, v in kept], axis=0), notes


def _grid_load(series: HourlySeries, hours: list[dt.datetime], back: dt.timedelta) -> float:
    """Grid energy in the dispatched hours, ``back`` days earlier."""
    return float(sum(series.grid_kwh[series.index(h - back)] for h in hours))


# --------------------------------------------------------------------------- settlement


def settle(
    rule: DemandResponseProgramme,
    series: HourlySeries,
    dispatches: list[Dispatch],
    holidays,
    period_start: dt.datetime,
    period_end: dt.datetime,
) -> Settlement:
    """Settle ``dispatches`` on ``series``; the capacity payment covers the days from
    ``period_start`` to ``period_end`` (the run's), prorated within each month."""
    dispatched_days = {d.start.date() for d in dispatches}
    raise_load = rule.programme == "plus"
    results = []
    for dispatch in dispatches:
        index = [
            series.index(dispatch.start + dt.timedelta(hours=k)) for k in range(dispatch.hours)
        ]
        if any(i is None for i in index):
            raise GridError(
                f"the dispatch at {dispatch.start:%Y-%m-%d %H:%M} for "
                f"{dispatch.hours} h is not all inside the run"
            )
        days, base_kwh, notes = baseline(series, dispatch, rule, holidays, dispatched_days)
        metered = np.array([series.grid_kwh[i] for i in index])
        performance = (metered - base_kwh) if raise_load else (base_kwh - metered)
        paid = float(np.clip(performance, 0.0, dispatch.committed_kw).sum())
        committed_kwh = dispatch.committed_kw * dispatch.hours
        shortfall = rule.penalty_below_fraction * committed_kwh - float(performance.sum())
        penalty = max(shortfall, 0.0) * rule.penalty_krw_per_kwh
        tokens = 0.0
        if "tokens_per_s" in series.means:
            _, base_tokens, _ = baseline(
                series, dispatch, rule, holidays, dispatched_days, column="tokens_per_s"
            )
            run_tokens = np.array([series.means["tokens_per_s"][i] for i in index])
            tokens = float((base_tokens - run_tokens).sum() * HOUR_S)
        by_source = {}
        for name, label in (("bess_power_kw", "BESS"), ("generator_kw", "generators")):
            if name in series.means:
                _, base_kw, _ = baseline(
                    series, dispatch, rule, holidays, dispatched_days, column=name
                )
                run_kw = np.array([series.means[name][i] for i in index])
                by_source[label] = float((run_kw - base_kw).sum())  # kW x 1 h each
        by_source["site load"] = float(performance.sum()) - sum(by_source.values())
        results.append(
            DispatchResult(
                dispatch,
                days,
                base_kwh.tolist(),
                metered.tolist(),
                performance.tolist(),
                paid,
                paid * rule.energy_krw_per_kwh,
                penalty,
                tokens,
                by_source,
                notes,
            )
        )
    capacity = _capacity_payment(rule, period_start, period_end)
    return Settlement(rule, results, capacity)


def _capacity_payment(rule: DemandResponseProgramme, start: dt.datetime, end: dt.datetime) -> float:
    total = 0.0
    month = dt.datetime(start.year, start.month, 1)
    while month < end:
        days = calendar.monthrange(month.year, month.month)[1]
        following = month + dt.timedelta(days=days)
        covered = (min(end, following) - max(start, month)).total_seconds() / 86400.0
        total += rule.registered_kw * rule.capacity_krw_per_kw_month * covered / days
        month = following
    return total


def dispatches_of(events, start: dt.datetime) -> list[Dispatch]:
    """The scenario's ``demand-response`` events as dispatches of the clock hours they
    cover (KPX dispatches whole hours)."""
    out = []
    for event in events:
        if event.kind != "demand-response":
            continue
        begin = start + dt.timedelta(seconds=event.at_s)
        finish = begin + dt.timedelta(seconds=event.duration_s)
        first = begin.replace(minute=0, second=0, microsecond=0)
        hours = max(math.ceil((finish - first).total_seconds() / HOUR_S - 1e-9), 1)
        out.append(Dispatch(first, hours, event.curtail_mw * 1000.0))
    return out


# --------------------------------------------------------------------------- text


def settlement_text(s: Settlement) -> str:
    rule = s.programme
    lines = [f"demand response: KPX {rule.programme} DR, {rule.registered_kw:,.0f} kW registered"]
    for r in s.dispatches:
        d = r.dispatch
        lines.append(
            f"  dispatch {d.start:%Y-%m-%d %H:%M}, {d.hours} h, {d.committed_kw:,.0f} kW committed"
        )
        lines.append(f"    baseline from {', '.join(f'{x:%m-%d}' for x in r.baseline_days)}")
        lines.append(
            f"    delivered {r.delivered_kwh:,.0f} of {r.committed_kwh:,.0f} kWh "
            f"({r.delivered_fraction:.0%}); paid on {r.paid_kwh:,.0f} kWh"
        )
        sources = ", ".join(f"{k} {v:,.0f} kWh" for k, v in r.by_source_kwh.items())
        lines.append(f"    from: {sources}")
        lines.append(f"    tokens forgone {r.tokens_forgone:,.0f}")
        lines.append(
            f"    energy payment {r.energy_krw:,.0f} KRW, penalty {r.penalty_krw:,.0f} KRW"
        )
        lines.extend(f"    note: {n}" for n in r.notes)
    if rule.programme == "reliability":
        lines.append(f"  capacity payment {s.capacity_krw:,.0f} KRW")
    lines.append(f"  revenue {s.revenue_krw:,.0f} KRW")
    return "\n".join(lines)
