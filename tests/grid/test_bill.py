"""Bills against hand calculations from the shipped KEPCO high voltage B table, option II.

Unit prices used (KRW/kWh, spring/autumn; resources/tariffs/kepco-industrial-b.toml):
before 2026-04-16 light 116.2, mid 140.7, peak 171.6; from it light 121.3, mid 140.7,
peak 158.4; demand charge 8,620 KRW/kW a month; climate 9.0 and fuel 5.0 KRW/kWh; fund
3.2 % and VAT 10 % of the bill before them.
"""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import numpy as np
import pytest

from twin.grid.bill import GridError, make_bill
from twin.grid.tariff import tariff_for
from twin.scenario.schema import TariffChoice

MINUTE_S = 60.0


def _tariff(option: str = "II", contract_kw: float = 5000.0, **extra):
    return tariff_for(
        TariffChoice(
            file="kepco-industrial-b", option=option, contract_demand_kw=contract_kw, **extra
        )
    )


def _profile(hours: float, kw: float, step_s: float = MINUTE_S):
    time_s = np.arange(1, round(hours * 3600 / step_s) + 1) * step_s
    return time_s, np.full(time_s.size, kw)


def _spike(time_s, power_kw, at_s: float, minutes: int, kw: float) -> None:
    """Rows ending in (at_s, at_s + minutes] draw ``kw``."""
    power_kw[(time_s > at_s) & (time_s <= at_s + minutes * MINUTE_S)] = kw


def test_two_days_across_the_reform_with_a_fifteen_minute_peak() -> None:
    # Wed 2026-04-15 under the old schedule, Thu 2026-04-16 under the reform, 1 MW flat,
    # and 5 min at 4 MW from 19:00 on the 16th: a peak hour since the reform (mid before).
    time_s, power_kw = _profile(48, 1000.0)
    _spike(time_s, power_kw, (24 + 19) * 3600.0, 5, 4000.0)
    bill = make_bill(_tariff(), dt.datetime(2026, 4, 15), time_s, power_kw)
    (april,) = bill.months
    # weekday hours: old peak 10-12, 13-17 (6 h), mid 9, 12, 17-23 (8 h), light 10 h;
    # reform peak 10, 15-17, 18-21 (6 h), mid 9, 11-15, 17, 21-23 (8 h), light 10 h
    assert april.energy_kwh == pytest.approx({"light": 20_000, "mid": 16_000, "peak": 12_000 + 250})
    assert april.energy_krw["light"] == pytest.approx(10_000 * 116.2 + 10_000 * 121.3)
    assert april.energy_krw["mid"] == pytest.approx(16_000 * 140.7)
    assert april.energy_krw["peak"] == pytest.approx(6_000 * 171.6 + 6_250 * 158.4)
    # the meter's quarter hour 19:00-19:15: (5 min x 4 MW + 10 min x 1 MW) / 15 min
    assert april.peak_demand_kw == pytest.approx(2000.0)
    assert april.peak_demand_at == dt.datetime(2026, 4, 16, 19, 0)
    assert april.billing_demand_kw == pytest.approx(2000.0)  # above 30 % of 5 MW
    assert april.days_covered == pytest.approx(2.0)
    assert april.demand_krw == pytest.approx(2000 * 8620 * 2 / 30)
    assert april.climate_krw == pytest.approx(48_250 * 9.0)
    assert april.fuel_krw == pytest.approx(48_250 * 5.0)
    before = 2000 * 8620 * 2 / 30 + 6_645_800 + 48_250 * 14.0
    assert april.before_tax_krw == pytest.approx(before)
    assert april.total_krw == pytest.approx(before * 1.132)


def test_a_site_that_defers_the_reform_keeps_the_old_periods() -> None:
    time_s, power_kw = _profile(24, 1000.0)
    bill = make_bill(
        _tariff(reform_date=dt.date(2026, 9, 30)), dt.datetime(2026, 4, 16), time_s, power_kw
    )
    (april,) = bill.months
    assert april.energy_krw["peak"] == pytest.approx(6_000 * 171.6)
    assert april.energy_krw["light"] == pytest.approx(10_000 * 116.2)


def test_a_holiday_is_light_all_day_with_the_spring_midday_discount() -> None:
    # Tue 2026-05-05, Children's Day: light load all day at 121.3, and 11-14 h at half price
    time_s, power_kw = _profile(24, 1000.0)
    bill = make_bill(_tariff(), dt.datetime(2026, 5, 5), time_s, power_kw)
    (may,) = bill.months
    assert may.energy_kwh == pytest.approx({"light": 24_000, "mid": 0, "peak": 0})
    assert may.energy_krw["light"] == pytest.approx(21_000 * 121.3 + 3_000 * 121.3 * 0.5)


def test_a_substitute_holiday_from_the_holidays_library_is_light_all_day() -> None:
    # Mon 2026-05-25 is the alternative holiday for Buddha's Birthday (Sun 24 May)
    time_s, power_kw = _profile(24, 1000.0)
    (may,) = make_bill(_tariff(), dt.datetime(2026, 5, 25), time_s, power_kw).months
    assert may.energy_kwh["light"] == pytest.approx(24_000)


def test_a_saturday_bills_its_peak_hours_as_mid() -> None:
    # Sat 2026-05-09: the six peak hours become mid (14 h mid), 11-14 h at half price
    time_s, power_kw = _profile(24, 1000.0)
    (may,) = make_bill(_tariff(), dt.datetime(2026, 5, 9), time_s, power_kw).months
    assert may.energy_kwh == pytest.approx({"light": 10_000, "mid": 14_000, "peak": 0})
    assert may.energy_krw["mid"] == pytest.approx(11_000 * 140.7 + 3_000 * 140.7 * 0.5)


def test_a_weekday_in_winter_has_its_evening_peak() -> None:
    # Wed 2026-12-02, reform schedule, winter: peak 10, 17-21, 22 h; option I
    time_s, power_kw = _profile(24, 1000.0)
    (dec,) = make_bill(_tariff("I"), dt.datetime(2026, 12, 2), time_s, power_kw).months
    assert dec.energy_kwh == pytest.approx({"light": 10_000, "mid": 8_000, "peak": 6_000})
    assert dec.energy_krw["peak"] == pytest.approx(6_000 * 214.1)


def test_september_peak_ratchets_into_october() -> None:
    # quarter-hour rows: 3 MW on 30 Sep (a ratchet month), 1 MW on 1 Oct
    time_s, power_kw = _profile(48, 1000.0, step_s=900.0)
    power_kw[:96] = 3000.0
    bill = make_bill(_tariff(), dt.datetime(2026, 9, 30), time_s, power_kw)
    september, october = bill.months
    assert september.billing_demand_kw == pytest.approx(3000.0)
    assert october.peak_demand_kw == pytest.approx(1000.0)
    assert october.billing_demand_kw == pytest.approx(3000.0)
    assert october.demand_krw == pytest.approx(3000 * 8620 / 31)


def test_earlier_peaks_and_the_contract_floor_set_the_billing_demand() -> None:
    time_s, power_kw = _profile(24, 1000.0, step_s=900.0)
    start = dt.datetime(2026, 11, 4)
    (nov,) = make_bill(_tariff(ratchet_peak_kw=2500.0), start, time_s, power_kw).months
    assert nov.billing_demand_kw == pytest.approx(2500.0)
    (nov,) = make_bill(_tariff(contract_kw=10_000.0), start, time_s, power_kw).months
    assert nov.billing_demand_kw == pytest.approx(3000.0)  # 30 % of the contract


def test_rows_longer_than_a_quarter_hour_are_refused() -> None:
    time_s, power_kw = _profile(4, 1000.0, step_s=3600.0)
    with pytest.raises(GridError, match="crosses a quarter hour"):
        make_bill(_tariff(), dt.datetime(2026, 5, 6), time_s, power_kw)


def test_a_missing_value_is_refused() -> None:
    time_s, power_kw = _profile(1, 1000.0)
    power_kw[7] = np.nan
    with pytest.raises(GridError, match="row 7"):
        make_bill(_tariff(), dt.datetime(2026, 5, 6), time_s, power_kw)


def test_the_shipped_tariffs_load(tmp_path: Path) -> None:
    for name in ("kepco-industrial-b", "kepco-industrial-c"):
        tariff = tariff_for(TariffChoice(file=name, option="III", contract_demand_kw=1e5))
        assert tariff.period(dt.datetime(2026, 7, 1, 14)) == "mid"  # reform: 13-15 h mid
        assert tariff.period(dt.datetime(2026, 3, 4, 14)) == "peak"  # before it
        assert tariff.period(dt.datetime(2026, 7, 1, 3)) == "light"


def test_a_demand_rate_that_changes_within_the_month_is_prorated_by_day(tmp_path: Path) -> None:
    # a copy of the shipped tariff whose reform schedule charges 9,000 KRW/kW for option II:
    # 1-15 April at 8,620, 16-30 April at 9,000 (a month of 30 days)
    from twin.grid.tariff import builtin_tariffs

    text = builtin_tariffs()["kepco-industrial-b"].read_text(encoding="utf-8")
    head, reform = text.split("valid_from = 2026-04-16")
    reform = reform.replace("demand_krw_per_kw = 8620", "demand_krw_per_kw = 9000")
    path = tmp_path / "tariff.toml"
    path.write_text(head + "valid_from = 2026-04-16" + reform, encoding="utf-8")
    tariff = tariff_for(TariffChoice(file=str(path), option="II", contract_demand_kw=1000))
    time_s, power_kw = _profile(30 * 24, 2000.0, step_s=900.0)
    (april,) = make_bill(tariff, dt.datetime(2026, 4, 1), time_s, power_kw).months
    assert april.days_covered == pytest.approx(30.0)
    assert april.demand_krw == pytest.approx(2000 * (15 * 8620 + 15 * 9000) / 30)
    assert april.demand_rate_krw_per_kw == pytest.approx((8620 + 9000) / 2)


def test_april_2026_across_the_reform_billed_by_hand() -> None:
    # A whole month at 1 MW in quarter-hour rows, option II, contract 5 MW, and one quarter
    # hour at 3 MW on Tue 21 April 19:00 (peak since the reform, mid before it).
    # 1-15 April, old schedule (1 April a Wednesday): 11 weekdays (light 10 h, mid 8 h,
    # peak 6 h), Saturdays 4 and 11 (peak billed as mid: mid 14 h, light 10 h), Sundays 5
    # and 12 (light 24 h). 16-30 April, reform: the same counts of days, and on Saturdays
    # 18, 25 and Sundays 19, 26 the hours 11-14 are half price (mid on a Saturday, light on
    # a Sunday). No public holiday in April.
    time_s, power_kw = _profile(30 * 24, 1000.0, step_s=900.0)
    spike_row = (20 * 24 + 19) * 4  # the row ending 19:15 on the 21st
    power_kw[spike_row] = 3000.0
    (april,) = make_bill(
        _tariff(ratchet_peak_kw=2500.0), dt.datetime(2026, 4, 1), time_s, power_kw
    ).months
    old_light_h, old_mid_h, old_peak_h = 11 * 10 + 2 * 10 + 2 * 24, 11 * 8 + 2 * 14, 11 * 6
    assert (old_light_h, old_mid_h, old_peak_h) == (178, 116, 66)
    assert april.energy_kwh == pytest.approx(
        {"light": 2 * 178_000, "mid": 2 * 116_000, "peak": 2 * 66_000 + 500}
    )
    assert april.energy_krw["light"] == pytest.approx(
        178_000 * 116.2 + (178_000 - 6_000 * 0.5) * 121.3
    )
    assert april.energy_krw["mid"] == pytest.approx(
        116_000 * 140.7 + (116_000 - 6_000 * 0.5) * 140.7
    )
    assert april.energy_krw["peak"] == pytest.approx(66_000 * 171.6 + 66_500 * 158.4)
    assert april.peak_demand_kw == pytest.approx(3000.0)
    assert april.peak_demand_at == dt.datetime(2026, 4, 21, 19, 0)
    assert april.billing_demand_kw == pytest.approx(3000.0)  # above the 2,500 carried in
    assert april.demand_krw == pytest.approx(3000 * 8620)
    kwh = 720_500
    energy_krw = (
        178_000 * 116.2
        + 175_000 * 121.3
        + 116_000 * 140.7
        + 113_000 * 140.7
        + 66_000 * 171.6
        + 66_500 * 158.4
    )
    before = 3000 * 8620 + energy_krw + kwh * (9.0 + 5.0)
    assert april.before_tax_krw == pytest.approx(before)
    assert april.fund_krw == pytest.approx(before * 0.032)
    assert april.vat_krw == pytest.approx(before * 0.1)
    assert april.total_krw == pytest.approx(before * 1.132)


def test_may_2026_with_its_holidays_billed_by_hand() -> None:
    # A whole month at 1 MW, option III, contract 5 MW, reform schedule. Holidays on
    # weekdays: Fri 1 (Labour Day), Tue 5 (Children's Day), Mon 25 (substitute for Buddha's
    # Birthday, Sun 24): 18 working weekdays (light 10 h, mid 8 h, peak 6 h), 5 Saturdays
    # (mid 14 h, 11-14 h at half price; light 10 h), 5 Sundays and 3 holidays (light 24 h,
    # 11-14 h at half price). Flat 1 MW is under the 30 % floor of 5 MW: billed on 1.5 MW.
    time_s, power_kw = _profile(31 * 24, 1000.0, step_s=900.0)
    (may,) = make_bill(_tariff("III"), dt.datetime(2026, 5, 1), time_s, power_kw).months
    light_h, mid_h, peak_h = 18 * 10 + 5 * 10 + 8 * 24, 18 * 8 + 5 * 14, 18 * 6
    assert (light_h, mid_h, peak_h) == (422, 214, 108)
    assert may.energy_kwh == pytest.approx({"light": 422_000, "mid": 214_000, "peak": 108_000})
    assert may.energy_krw["light"] == pytest.approx((422_000 - 8 * 3_000 * 0.5) * 119.4)
    assert may.energy_krw["mid"] == pytest.approx((214_000 - 5 * 3_000 * 0.5) * 138.8)
    assert may.energy_krw["peak"] == pytest.approx(108_000 * 156.6)
    assert may.peak_demand_kw == pytest.approx(1000.0)
    assert may.billing_demand_kw == pytest.approx(1500.0)
    assert may.demand_krw == pytest.approx(1500 * 9560)
    before = 1500 * 9560 + 410_000 * 119.4 + 206_500 * 138.8 + 108_000 * 156.6 + 744_000 * 14.0
    assert may.total_krw == pytest.approx(before * 1.132)
