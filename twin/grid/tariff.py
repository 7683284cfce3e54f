"""Electricity tariffs as data: a TOML file per tariff, checked like a scenario.

A tariff file holds the rules a utility bills a site by: seasons, the time-of-use periods
of weekdays, Saturdays, Sundays and public holidays, one or more schedules of unit prices
(each valid from a date, so a month that crosses a reform is billed under both), the
demand charge's billing-demand rule and the per-kWh surcharges. The shipped files are
KEPCO's industrial (을) tariffs at high voltage B (154 kV) and C (345 kV); the README says
which of their numbers are verified and which are estimates.
"""

from __future__ import annotations

import datetime as dt
from functools import cached_property
from pathlib import Path
from typing import Annotated, Literal

from pydantic import Field, ValidationError, model_validator

from twin.resources import resource_dir
from twin.scenario.files import parse_toml, read_text, resolve_named_file
from twin.scenario.problems import Problem, ScenarioError, validation_problems
from twin.scenario.schema import Positive, Strict, TariffChoice, _inconsistent

TARIFF_SUFFIX = ".toml"
PERIODS = ("light", "mid", "peak")
OPTIONS = ("I", "II", "III")
DAY_KINDS = ("weekday", "saturday", "sunday", "holiday")

Season = Literal["summer", "spring_autumn", "winter"]
SEASONS: tuple[Season, ...] = ("summer", "spring_autumn", "winter")
Period = Literal["light", "mid", "peak"]
Option = Literal["I", "II", "III"]
Hour = Annotated[int, Field(ge=0, le=23)]
Month = Annotated[int, Field(ge=1, le=12)]
KrwPerKwh = Annotated[float, Field(ge=0, le=10_000)]


class TariffInfo(Strict):
    name: str = Field(min_length=1, max_length=80)
    title: str = Field(min_length=1, max_length=160)
    utility: str = Field(min_length=1, max_length=80)
    voltage_kv: Positive
    currency: Literal["KRW"] = "KRW"
    holidays_country: str = Field(
        "KR",
        min_length=2,
        max_length=3,
        pattern=r"^[A-Z]{2,3}$",
        description="ISO country code whose public holidays (the holidays library) bill as "
        "holidays",
    )
    source: str = Field("", description="where the numbers come from; what is verified")

    @model_validator(mode="after")
    def _known_country(self) -> TariffInfo:
        import holidays

        countries = holidays.list_supported_countries()
        if self.holidays_country not in countries:
            raise _inconsistent(
                "holidays_country",
                (
                    f"{self.holidays_country!r} is not a country the holidays library knows; "
                    "give an ISO 3166 code such as 'KR'"
                ),
            )
        return self


class Seasons(Strict):
    summer: list[Month] = Field(min_length=1)
    spring_autumn: list[Month] = Field(min_length=1)
    winter: list[Month] = Field(min_length=1)

    @model_validator(mode="after")
    def _every_month_once(self) -> Seasons:
        seen: dict[int, str] = {}
        for season in SEASONS:
            for month in getattr(self, season):
                if month in seen:
                    raise _inconsistent(
                        season,
                        (
                            f"month {month} is already in {seen[month]}; each month belongs to "
                            "one season"
                        ),
                    )
                seen[month] = season
        missing = sorted(set(range(1, 13)) - seen.keys())
        if missing:
            raise _inconsistent(
                "winter",
                (f"months {missing} belong to no season; the three seasons must cover 1-12"),
            )
        return self


class WeekdayHours(Strict):
    """Hours of a weekday (0 = 00:00-01:00) in the peak and mid periods; the rest is light."""

    peak: list[Hour] = Field(default_factory=list)
    mid: list[Hour] = Field(default_factory=list)

    @model_validator(mode="after")
    def _disjoint(self) -> WeekdayHours:
        for name in ("peak", "mid"):
            hours = getattr(self, name)
            if len(set(hours)) != len(hours):
                raise _inconsistent(name, f"hour {_first_repeat(hours)} is listed twice")
        both = sorted(set(self.peak) & set(self.mid))
        if both:
            raise _inconsistent("mid", f"hours {both} are also peak; an hour has one period")
        return self

    def period_of_hour(self) -> tuple[str, ...]:
        return tuple(
            "peak" if h in self.peak else "mid" if h in self.mid else "light" for h in range(24)
        )


def _first_repeat(values: list[int]) -> int:
    seen: set[int] = set()
    for v in values:
        if v in seen:
            return v
        seen.add(v)
    raise ValueError("no repeat")


class SeasonRates(Strict):
    light: KrwPerKwh
    mid: KrwPerKwh
    peak: KrwPerKwh


class EnergyRates(Strict):
    summer: SeasonRates
    spring_autumn: SeasonRates
    winter: SeasonRates


class OptionRates(Strict):
    demand_krw_per_kw: Annotated[float, Field(ge=0, le=1_000_000)] = Field(
        description="demand charge per kW of billing demand, per month"
    )
    energy_krw_per_kwh: EnergyRates


class Discount(Strict):
    """A share off the energy charge in some hours of some days and seasons, for a while
    (the 2026 reform's spring and autumn weekend midday discount)."""

    seasons: list[Season] = Field(min_length=1)
    days: list[Literal["weekday", "saturday", "sunday", "holiday"]] = Field(min_length=1)
    hours: list[Hour] = Field(min_length=1)
    fraction: Annotated[float, Field(gt=0, le=1)] = Field(description="share taken off")
    until: dt.date = Field(description="last day it applies")


class Schedule(Strict):
    """Unit prices and periods in force from ``valid_from`` until the next schedule."""

    valid_from: dt.date
    note: str = ""
    weekday_hours: dict[Season, WeekdayHours] = Field(min_length=3, max_length=3)
    saturday_peak_billed_as: Period = Field(
        "mid", description="Saturdays: the weekday periods, with peak hours billed as this"
    )
    sunday_and_holiday_period: Period = Field(
        "light", description="Sundays and public holidays: every hour in this period"
    )
    options: dict[Option, OptionRates] = Field(min_length=1)
    discounts: list[Discount] = Field(default_factory=list)


class BillingDemand(Strict):
    """The demand the monthly demand charge is billed on."""

    interval_min: Literal[15] = Field(
        15, description="the meter's demand interval: mean power over each quarter hour"
    )
    ratchet_months: list[Month] = Field(
        default_factory=list,
        description="months whose peak demand carries into the "
        "billing demand of the following 12 months",
    )
    contract_fraction_min: Annotated[float, Field(ge=0, le=1)] = Field(
        0.0, description="billing demand is at least this share of the contract demand"
    )


class Surcharges(Strict):
    climate_environment_krw_per_kwh: KrwPerKwh = Field(
        description="climate-environment charge on every kWh"
    )
    fuel_cost_adjustment_krw_per_kwh: Annotated[float, Field(ge=-100, le=100)] = Field(
        description="fuel-cost pass-through on every kWh, set quarterly (may be negative)"
    )
    power_fund_fraction: Annotated[float, Field(ge=0, le=0.5)] = Field(
        0.0, description="electric power industry fund, share of the bill before VAT"
    )
    vat_fraction: Annotated[float, Field(ge=0, le=0.5)] = Field(
        0.0, description="value added tax, share of the bill"
    )


class TariffFile(Strict):
    tariff: TariffInfo
    seasons: Seasons
    billing_demand: BillingDemand
    surcharges: Surcharges
    schedules: list[Schedule] = Field(min_length=1, max_length=50)
    reform_deferrable_until: dt.date | None = Field(
        None, description="a site may keep the schedule before the last one until this date"
    )

    @model_validator(mode="after")
    def _schedules(self) -> TariffFile:
        dates = [s.valid_from for s in self.schedules]
        for i in range(1, len(dates)):
            if dates[i] <= dates[i - 1]:
                raise _inconsistent(
                    "schedules",
                    (
                        f"schedules[{i}].valid_from {dates[i]} must come after "
                        f"schedules[{i - 1}].valid_from {dates[i - 1]}; list them in date order"
                    ),
                )
        options = set(self.schedules[0].options)
        for i, schedule in enumerate(self.schedules[1:], start=1):
            if set(schedule.options) != options:
                raise _inconsistent(
                    "schedules",
                    (
                        f"schedules[{i}] prices options {sorted(schedule.options)} but "
                        f"schedules[0] prices {sorted(options)}; every schedule needs the same"
                    ),
                )
        deferral = self.reform_deferrable_until
        if deferral is not None and (len(dates) < 2 or deferral < dates[-1]):
            raise _inconsistent(
                "reform_deferrable_until",
                (
                    "needs two schedules or more and a date on or after the last schedule's "
                    f"valid_from ({dates[-1]})"
                ),
            )
        return self


# --------------------------------------------------------------------------- the rules


class Tariff:
    """A checked tariff file and one site's choices in it: which option, when the last
    schedule starts for the site, the contract demand and earlier peaks."""

    def __init__(
        self,
        data: TariffFile,
        option: Option,
        contract_demand_kw: float,
        ratchet_peak_kw: float = 0.0,
        reform_date: dt.date | None = None,
        fuel_cost_adjustment_krw_per_kwh: float | None = None,
        source: str = "<tariff>",
    ):
        self.data = data
        self.option = option
        self.contract_demand_kw = contract_demand_kw
        self.ratchet_peak_kw = ratchet_peak_kw
        self.source = source
        self.schedule_starts = [s.valid_from for s in data.schedules]
        if reform_date is not None:
            self.schedule_starts[-1] = reform_date
        surcharges = data.surcharges
        self.fuel_krw_per_kwh = (
            surcharges.fuel_cost_adjustment_krw_per_kwh
            if fuel_cost_adjustment_krw_per_kwh is None
            else fuel_cost_adjustment_krw_per_kwh
        )
        self.climate_krw_per_kwh = surcharges.climate_environment_krw_per_kwh
        self._season_of_month = {m: s for s in SEASONS for m in getattr(data.seasons, s)}

    @property
    def name(self) -> str:
        return self.data.tariff.name

    @cached_property
    def holidays(self):
        import holidays  # imported only when a bill is made

        return holidays.country_holidays(self.data.tariff.holidays_country)

    def schedule_index(self, day: dt.date) -> int:
        """The schedule in force on ``day`` (the first one before its own start date)."""
        index = 0
        for i, start in enumerate(self.schedule_starts):
            if day >= start:
                index = i
        return index

    def season(self, month: int) -> Season:
        return self._season_of_month[month]

    def day_kind(self, day: dt.date) -> str:
        if day in self.holidays:
            return "holiday"
        return {5: "saturday", 6: "sunday"}.get(day.weekday(), "weekday")

    def period(self, when: dt.datetime) -> str:
        """The time-of-use period of the hour that ``when`` falls in (local time)."""
        schedule = self.data.schedules[self.schedule_index(when.date())]
        kind = self.day_kind(when.date())
        if kind in ("sunday", "holiday"):
            return schedule.sunday_and_holiday_period
        period = schedule.weekday_hours[self.season(when.month)].period_of_hour()[when.hour]
        if kind == "saturday" and period == "peak":
            return schedule.saturday_peak_billed_as
        return period

    def energy_rate(self, when: dt.datetime, period: str) -> float:
        """KRW/kWh of energy charge at ``when`` in ``period``, discounts applied (the
        per-kWh surcharges are separate)."""
        schedule = self.data.schedules[self.schedule_index(when.date())]
        season = self.season(when.month)
        rates = getattr(schedule.options[self.option].energy_krw_per_kwh, season)
        rate = getattr(rates, period)
        kind = self.day_kind(when.date())
        for d in schedule.discounts:
            if (
                season in d.seasons
                and kind in d.days
                and when.hour in d.hours
                and when.date() <= d.until
            ):
                rate *= 1.0 - d.fraction
        return rate

    def demand_rate(self, day: dt.date) -> float:
        schedule = self.data.schedules[self.schedule_index(day)]
        return schedule.options[self.option].demand_krw_per_kw


# --------------------------------------------------------------------------- files


def builtin_tariff_dir() -> Path:
    return resource_dir() / "tariffs"


def builtin_tariffs() -> dict[str, Path]:
    """Names of the tariffs shipped with twin, mapped to their files, sorted by name."""
    return {p.stem: p for p in sorted(builtin_tariff_dir().glob(f"*{TARIFF_SUFFIX}"))}


def resolve_tariff(name_or_path: str | Path) -> Path:
    return resolve_named_file(name_or_path, builtin_tariffs(), "tariff")


def load_tariff_file(name_or_path: str | Path) -> tuple[TariffFile, str]:
    """A checked tariff file and the path it was read from; a ScenarioError otherwise."""
    path = resolve_tariff(name_or_path)
    return loads_tariff_file(read_text(path), source=str(path)), str(path)


def loads_tariff_file(text: str, source: str = "<tariff>") -> TariffFile:
    data = parse_toml(text, source)
    try:
        return TariffFile.model_validate(data)
    except ValidationError as exc:
        raise ScenarioError(source, validation_problems(exc, TariffFile)) from None
    except RecursionError:
        raise ScenarioError(source, [Problem("", "the file nests too deeply")]) from None


def tariff_for(choice: TariffChoice, folder: Path | None = None) -> Tariff:
    """The tariff a scenario's ``[tariff]`` section chooses (``choice``), its file read and
    checked; a relative file path is taken against ``folder`` (the scenario's)."""
    name = choice.file
    looks_like_path = Path(name).suffix or "/" in name or "\\" in name
    if folder is not None and looks_like_path and not Path(name).expanduser().is_absolute():
        name = str(folder / name)
    data, source = load_tariff_file(name)
    problems = choice_problems(choice, data)
    if problems:
        raise ScenarioError(source, problems)
    return Tariff(
        data,
        choice.option,
        choice.contract_demand_kw,
        ratchet_peak_kw=choice.ratchet_peak_kw,
        reform_date=choice.reform_date,
        fuel_cost_adjustment_krw_per_kwh=choice.fuel_cost_adjustment_krw_per_kwh,
        source=source,
    )


def choice_problems(choice: TariffChoice, data: TariffFile) -> list[Problem]:
    """What a scenario's ``[tariff]`` asks that its tariff file does not offer."""
    problems = []
    offered = sorted(data.schedules[0].options)
    if choice.option not in offered:
        problems.append(
            Problem(
                "tariff.option",
                (
                    f"{choice.option!r} is not priced in {data.tariff.name}; it prices "
                    f"{', '.join(map(repr, offered))}"
                ),
            )
        )
    if choice.reform_date is not None:
        last = data.schedules[-1].valid_from
        until = data.reform_deferrable_until
        if until is None:
            problems.append(
                Problem(
                    "tariff.reform_date",
                    (f"{data.tariff.name} allows no deferral of its last schedule ({last})"),
                )
            )
        elif not last <= choice.reform_date <= until:
            problems.append(
                Problem(
                    "tariff.reform_date",
                    (
                        f"{choice.reform_date} must lie from {last} (the last schedule's start) to "
                        f"{until} (the latest deferral {data.tariff.name} allows)"
                    ),
                )
            )
    return problems
