"""KPX demand-response settlement against hand calculations.

June 2026: Wed 3 June is a public holiday (local elections) and Sat 6 June Memorial Day;
the dispatch on Thu 11 June takes its baseline from the weekdays 10, 9, 8, 5 and 4 June.
"""

from __future__ import annotations

import datetime as dt

import holidays
import numpy as np
import pytest

from twin.grid.bill import GridError
from twin.grid.dr import Dispatch, dispatches_of, hourly_series, settle
from twin.scenario.schema import DemandResponse, DemandResponseProgramme

START = dt.datetime(2026, 6, 1)
KR = holidays.country_holidays("KR")


def _hours_of(day: int, hours: range) -> list[int]:
    return [(day - 1) * 24 + h for h in hours]


def _site(days: int = 11):
    """Hourly rows from 1 June: 3 MW, with the dispatch hours' loads set per day."""
    n = days * 24
    grid = np.full(n, 3000.0)
    for day, kw in {10: 5000, 9: 5200, 8: 4800, 5: 6000, 4: 4000, 3: 9000, 2: 7000}.items():
        grid[_hours_of(day, range(14, 16))] = kw
    grid[_hours_of(11, range(14, 16))] = [4500, 4400]
    tokens = np.full(n, 1000.0)
    tokens[_hours_of(11, range(14, 16))] = 800.0
    bess = np.zeros(n)
    bess[_hours_of(11, range(14, 16))] = 300.0
    time_s = np.arange(1, n + 1) * 3600.0
    return time_s, grid, {"tokens_per_s": tokens, "bess_power_kw": bess}


def _rule(**extra) -> DemandResponseProgramme:
    values = {
        "programme": "reliability",
        "registered_kw": 1000,
        "energy_krw_per_kwh": 150,
        "capacity_krw_per_kw_month": 4000,
        "penalty_below_fraction": 0.9,
        "penalty_krw_per_kwh": 300,
        **extra,
    }
    return DemandResponseProgramme(**values)


def _settle(rule, dispatch, days: int = 11):
    time_s, grid, columns = _site(days)
    series = hourly_series(START, time_s, grid, columns)
    end = START + dt.timedelta(days=days)
    return settle(rule, series, [dispatch], KR, START, end)


def test_reliability_dispatch_max_four_of_five() -> None:
    s = _settle(_rule(), Dispatch(dt.datetime(2026, 6, 11, 14), 2, 1000.0))
    (r,) = s.dispatches
    # last five weekdays (3 June a holiday): 10, 9, 8, 5, 4; the four highest in 14-16 h
    assert sorted(r.baseline_days) == [dt.date(2026, 6, d) for d in (5, 8, 9, 10)]
    assert r.baseline_kwh == pytest.approx([5250.0, 5250.0])
    assert r.performance_kwh == pytest.approx([750.0, 850.0])
    assert r.delivered_kwh == pytest.approx(1600.0)
    assert r.delivered_fraction == pytest.approx(0.8)
    assert r.energy_krw == pytest.approx(1600 * 150)
    assert r.penalty_krw == pytest.approx((0.9 * 2000 - 1600) * 300)
    assert r.tokens_forgone == pytest.approx(200 * 3600 * 2)
    assert r.by_source_kwh == pytest.approx({"BESS": 600.0, "site load": 1000.0})
    assert s.capacity_krw == pytest.approx(1000 * 4000 * 11 / 30)
    assert s.revenue_krw == pytest.approx(1000 * 4000 * 11 / 30 + 240_000 - 60_000)


def test_economic_dispatch_middle_days() -> None:
    rule = _rule(
        programme="economic",
        capacity_krw_per_kw_month=0,
        baseline_days=4,
        baseline_kept_days=2,
        baseline_pick="middle",
    )
    (r,) = _settle(rule, Dispatch(dt.datetime(2026, 6, 11, 14), 2, 1000.0)).dispatches
    # 10, 9, 8, 5 June ranked 6000, 5200, 5000, 4800: the middle two
    assert r.baseline_kwh == pytest.approx([5100.0, 5100.0])
    assert r.paid_kwh == pytest.approx(600 + 700)


def test_over_delivery_is_paid_up_to_the_commitment() -> None:
    (r,) = _settle(_rule(), Dispatch(dt.datetime(2026, 6, 11, 14), 2, 800.0)).dispatches
    assert r.paid_kwh == pytest.approx(750 + 800)
    assert r.penalty_krw == 0.0


def test_plus_dr_pays_consumption_above_the_baseline_of_weekends_and_holidays() -> None:
    time_s, grid, _ = _site(14)
    grid[_hours_of(13, range(12, 13))] = 3300.0
    grid[_hours_of(14, range(12, 13))] = 3600.0
    series = hourly_series(START, time_s, grid)
    rule = _rule(
        programme="plus",
        capacity_krw_per_kw_month=0,
        baseline_days=3,
        baseline_kept_days=3,
        energy_krw_per_kwh=50,
    )
    s = settle(
        rule,
        series,
        [Dispatch(dt.datetime(2026, 6, 14, 12), 1, 400.0)],
        KR,
        START,
        START + dt.timedelta(days=14),
    )
    (r,) = s.dispatches
    # Sundays, Saturdays and holidays go together: 13 (Sat), 7 (Sun), 6 (Sat, Memorial Day)
    assert sorted(r.baseline_days) == [dt.date(2026, 6, d) for d in (6, 7, 13)]
    assert r.baseline_kwh == pytest.approx([3100.0])
    assert r.performance_kwh == pytest.approx([500.0])
    assert r.paid_kwh == pytest.approx(400.0)
    assert s.revenue_krw == pytest.approx(400 * 50)


def test_a_short_history_is_noted_and_none_is_refused() -> None:
    (r,) = _settle(_rule(), Dispatch(dt.datetime(2026, 6, 4, 14), 1, 100.0)).dispatches
    assert sorted(r.baseline_days) == [dt.date(2026, 6, 1), dt.date(2026, 6, 2)]
    assert "2 similar day(s)" in r.notes[0]
    with pytest.raises(GridError, match="no similar day"):
        _settle(_rule(), Dispatch(dt.datetime(2026, 6, 1, 14), 1, 100.0))


def test_events_become_dispatches_of_whole_hours() -> None:
    events = [
        DemandResponse(
            kind="demand-response", at_s=14 * 3600 + 600, curtail_mw=2.0, duration_s=5400
        )
    ]
    (d,) = dispatches_of(events, START)
    assert d == Dispatch(dt.datetime(2026, 6, 1, 14), 2, 2000.0)


def test_rows_across_clock_hours_are_refused() -> None:
    with pytest.raises(GridError, match="crosses a clock hour"):
        hourly_series(START, np.array([5400.0, 10800.0]), np.array([1.0, 1.0]))


def test_a_dispatch_across_midnight_takes_the_same_hours_of_earlier_days() -> None:
    # Wed 10 June 23:00 to Thu 11 June 01:00: the baseline days' 23:00 and next 00:00
    time_s, grid, _ = _site(12)
    grid[[(d - 1) * 24 + 23 for d in range(1, 12)]] = 2000.0
    grid[[d * 24 for d in range(1, 12)]] = 2500.0
    series = hourly_series(START, time_s, grid)
    rule = _rule(baseline_days=2, baseline_kept_days=2)
    (r,) = settle(
        rule,
        series,
        [Dispatch(dt.datetime(2026, 6, 10, 23), 2, 100.0)],
        KR,
        START,
        START + dt.timedelta(days=12),
    ).dispatches
    assert sorted(r.baseline_days) == [dt.date(2026, 6, 8), dt.date(2026, 6, 9)]
    assert r.baseline_kwh == pytest.approx([2000.0, 2500.0])
