"""Time to bill and to settle a month of a run table.

Run: python -m benchmarks.bill_speed [--repeats 5]
(from the repository root, so that this checkout's twin is imported).
A synthetic 31-day profile in 60 s rows (44,640 rows, as `twin run --every 60s` writes for
a month) from 2026-04-01, across the 2026-04-16 reform, with one demand-response dispatch
on the last weekday: the bill under the shipped KEPCO high voltage B tariff (option III)
and the KPX settlement. Prints the median of the repeats in milliseconds.
"""

from __future__ import annotations

import argparse
import datetime as dt
import statistics
import time

import holidays
import numpy as np

from twin.grid.bill import make_bill
from twin.grid.dr import Dispatch, hourly_series, settle
from twin.grid.tariff import tariff_for
from twin.scenario.schema import DemandResponseProgramme, TariffChoice


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeats", type=int, default=5)
    args = parser.parse_args()
    start = dt.datetime(2026, 4, 1)
    time_s = np.arange(1, 31 * 1440 + 1) * 60.0
    rng = np.random.default_rng(1)
    power_kw = 40_000 + 5_000 * np.sin(2 * np.pi * time_s / 86400) + rng.normal(0, 500, time_s.size)
    tariff = tariff_for(
        TariffChoice(file="kepco-industrial-b", option="III", contract_demand_kw=60_000)
    )
    rule = DemandResponseProgramme(
        programme="reliability", registered_kw=10_000, energy_krw_per_kwh=150
    )
    dispatch = [Dispatch(dt.datetime(2026, 4, 30, 14), 2, 10_000.0)]
    kr = holidays.country_holidays("KR")
    bill_ms, settle_ms = [], []
    for _ in range(args.repeats):
        t0 = time.perf_counter()
        make_bill(tariff, start, time_s, power_kw)
        t1 = time.perf_counter()
        series = hourly_series(start, time_s, power_kw, {"tokens_per_s": power_kw})
        settle(rule, series, dispatch, kr, start, start + dt.timedelta(days=31))
        t2 = time.perf_counter()
        bill_ms.append((t1 - t0) * 1e3)
        settle_ms.append((t2 - t1) * 1e3)
    print(
        f"bill of a month, 44,640 rows: median {statistics.median(bill_ms):.0f} ms "
        f"({args.repeats} repeats)"
    )
    print(f"settlement of a month, 1 dispatch: median {statistics.median(settle_ms):.0f} ms")


if __name__ == "__main__":
    main()
