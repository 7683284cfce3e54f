"""Tariff files and the scenario's [tariff] section: mistakes are reported as a scenario's
are (every problem, its key, what is allowed; exit 2), and ``twin bill`` / ``twin run``
bill a run table on disk."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from twin.cli import main
from twin.grid.tariff import builtin_tariffs, load_tariff_file
from twin.scenario import ScenarioError
from twin.scenario.files import builtin_scenarios

SHIPPED = builtin_tariffs()["kepco-industrial-b"].read_text(encoding="utf-8")


def _run_main(capsys: pytest.CaptureFixture[str], *argv: str) -> tuple[int, str, str]:
    code = main(list(argv))
    out, err = capsys.readouterr()
    return code, out, err


def _edited(tmp_path: Path, old: str, new: str, count: int = 1) -> Path:
    assert old in SHIPPED, old
    path = tmp_path / "tariff.toml"
    path.write_text(SHIPPED.replace(old, new, count), encoding="utf-8")
    return path


def _problems(path: Path) -> list[str]:
    with pytest.raises(ScenarioError) as caught:
        load_tariff_file(path)
    return [str(p) for p in caught.value.problems]


@pytest.mark.parametrize(
    ("old", "new", "expected"),
    [
        (
            "mid = [9, 12, 17, 18, 19, 20, 21, 22]",
            "mid = [9, 12, 16, 17, 18, 19, 20, 21, 22]",
            "schedules[0].weekday_hours.summer.mid: hours [16] are also peak",
        ),
        (
            "peak = [10, 11, 13, 14, 15, 16]",
            "peak = [10, 11, 13, 14, 15, 24]",
            "schedules[0].weekday_hours.summer.peak[5]: must be from 0 to 23 (got 24)",
        ),
        (
            "winter = [11, 12, 1, 2]",
            "winter = [11, 12, 1, 2, 3]",
            "seasons.winter: month 3 is already in spring_autumn",
        ),
        (
            "winter = [11, 12, 1, 2]",
            "winter = [11, 12, 1]",
            "seasons.winter: months [2] belong to no season",
        ),
        (
            "climate_environment_krw_per_kwh = 9.0",
            "climate_enviroment_krw_per_kwh = 9.0",
            "surcharges.climate_enviroment_krw_per_kwh: unknown key (did you mean "
            "'climate_environment_krw_per_kwh'?)",
        ),
        (
            "summer = { light = 120.6,",
            "summer = { light = -120.6,",
            "schedules[0].options.I.energy_krw_per_kwh.summer.light: must be from 0 to 10000 "
            "(got -120.6)",
        ),
        (
            "demand_krw_per_kw = 7750",
            'demand_krw_per_kw = "7750"',
            "schedules[0].options.I.demand_krw_per_kw: must be a number from 0 to 1000000 KRW/kW "
            "(got '7750')",
        ),
        (
            "valid_from = 2026-04-16",
            "valid_from = 2024-01-01",
            "schedules: schedules[1].valid_from 2024-01-01 must come after schedules[0]",
        ),
        (
            "reform_deferrable_until = 2026-09-30",
            "reform_deferrable_until = 2026-01-01",
            "reform_deferrable_until: needs two schedules or more and a date on or after",
        ),
        (
            'holidays_country = "KR"',
            'holidays_country = "XX"',
            "tariff.holidays_country: 'XX' is not a country the holidays library knows",
        ),
        (
            "fraction = 0.5",
            "fraction = 1.5",
            "schedules[1].discounts[0].fraction: must be above 0 and at most 1 (got 1.5)",
        ),
    ],
)
def test_a_tariff_file_mistake_names_its_key(
    tmp_path: Path, old: str, new: str, expected: str
) -> None:
    problems = _problems(_edited(tmp_path, old, new))
    assert any(p.startswith(expected) for p in problems), problems


def test_an_option_missing_from_a_later_schedule_is_named(tmp_path: Path) -> None:
    text = SHIPPED
    start = text.rindex("[schedules.options.III]")
    end = text.index("[[schedules.discounts]]")
    path = tmp_path / "tariff.toml"
    path.write_text(text[:start] + text[end:], encoding="utf-8")
    assert any("schedules[1] prices options ['I', 'II']" in p for p in _problems(path))


def test_a_toml_syntax_error_gives_line_and_column(tmp_path: Path) -> None:
    problems = _problems(_edited(tmp_path, "vat_fraction = 0.1", "vat_fraction = "))
    assert re.match(r"TOML syntax error at line \d+, column \d+", problems[0]), problems


def _scenario_with(tmp_path: Path, section: str) -> Path:
    text = builtin_scenarios()["single-rack"].read_text(encoding="utf-8")
    path = tmp_path / "site.toml"
    path.write_text(text + "\n[tariff]\n" + section, encoding="utf-8")
    return path


def test_check_reports_a_bad_tariff_file_beside_the_scenario(
    capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    _edited(tmp_path, "vat_fraction = 0.1", "vat_fraction = 2")
    scenario = _scenario_with(
        tmp_path, 'file = "tariff.toml"\noption = "II"\ncontract_demand_kw = 400\n'
    )
    code, out, err = _run_main(capsys, "check", str(scenario))
    assert code == 2
    assert "valid" not in out  # the scenario is not called valid before its tariff is read
    assert "tariff.toml: 1 problem" in err
    assert "surcharges.vat_fraction: must be from 0 to 0.5 (got 2)" in err
    assert "Traceback" not in err


def test_check_reports_the_tariff_section_in_the_loaders_words(
    capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    scenario = _scenario_with(tmp_path, 'file = "kepco-industrial-b"\noption = "IV"\n')
    code, _, err = _run_main(capsys, "check", str(scenario))
    assert code == 2
    assert "tariff.option: must be 'I', 'II' or 'III' (got 'IV')" in err
    assert "tariff.contract_demand_kw: required key is missing" in err


def test_check_refuses_a_reform_date_past_the_deferral(
    capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    scenario = _scenario_with(
        tmp_path,
        'file = "kepco-industrial-c"\noption = "I"\n'
        "contract_demand_kw = 400\nreform_date = 2026-12-01\n",
    )
    code, _, err = _run_main(capsys, "check", str(scenario))
    assert code == 2
    assert "tariff.reform_date: 2026-12-01 must lie from 2026-04-16" in err


def test_check_names_the_tariff(capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    scenario = _scenario_with(
        tmp_path, 'file = "kepco-industrial-b"\noption = "III"\ncontract_demand_kw = 400\n'
    )
    code, out, err = _run_main(capsys, "check", str(scenario))
    assert code == 0, err
    assert "tariff           kepco-industrial-b, option III, contract 0.4 MW" in out


def _run_table(path: Path, rows: list[tuple[float, float]], start: str) -> Path:
    lines = [f"# start: {start}", "# every_s: 900", "time_s,facility_power_kw,grid_import_kw"]
    lines += [f"{t:g},{kw:g},{kw:g}" for t, kw in rows]
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return path


def test_twin_bill_bills_a_run_table_on_disk(
    capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    # Wed 2026-05-06, 2 MW for a day in quarter hours, option III (reform schedule, spring:
    # light 119.4, mid 138.8, peak 156.6; demand 9,560 KRW/kW)
    table = _run_table(
        tmp_path / "site.csv", [(900.0 * k, 2000.0) for k in range(1, 97)], "2026-05-06T00:00:00"
    )
    out_csv = tmp_path / "bill.csv"
    code, out, err = _run_main(
        capsys,
        "bill",
        str(table),
        "--tariff",
        "kepco-industrial-b",
        "--option",
        "III",
        "--contract-kw",
        "3000",
        "--out",
        str(out_csv),
    )
    assert code == 0, err
    energy = 20_000 * 119.4 + 16_000 * 138.8 + 12_000 * 156.6
    demand = 2000 * 9560 / 31
    total = round((energy + demand + 48_000 * 14.0) * 1.132)
    header, row = out_csv.read_text(encoding="utf-8").splitlines()
    values = dict(zip(header.split(","), row.split(","), strict=True))
    assert values["month"] == "2026-05"
    assert float(values["energy_krw"]) == round(energy)
    assert float(values["demand_krw"]) == round(demand)
    assert float(values["total_krw"]) == total
    assert f"{total:,}" in out.replace(" ", "")


def test_twin_bill_without_a_tariff_says_what_to_give(
    capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    table = _run_table(tmp_path / "site.csv", [(900.0, 10.0)], "2026-05-06T00:00:00")
    code, _, err = _run_main(capsys, "bill", str(table), "--option", "I")
    assert code == 2
    assert "give --tariff, --contract-kw" in err


def test_twin_bill_refuses_hourly_rows(capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    table = _run_table(
        tmp_path / "site.csv", [(3600.0, 10.0), (7200.0, 10.0)], "2026-05-06T00:00:00"
    )
    code, _, err = _run_main(
        capsys,
        "bill",
        str(table),
        "--tariff",
        "kepco-industrial-b",
        "--option",
        "I",
        "--contract-kw",
        "300",
    )
    assert code == 2
    assert "crosses a quarter hour" in err and "Traceback" not in err


@pytest.mark.slow
def test_twin_run_bills_and_settles_a_dispatch(
    capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    # single-rack from Mon 8 June 2026, a 50 kW dispatch on Wed 10 June 14-16 h: the
    # baseline comes from the two weekdays before, the rack's training gives the power
    text = builtin_scenarios()["single-rack"].read_text(encoding="utf-8")
    text = re.sub(r"(?m)^start = .*$", "start = 2026-06-08T00:00:00", text, count=1)
    scenario = tmp_path / "dr.toml"
    scenario.write_text(
        text
        + """
[[events]]
at_s = "62h"
kind = "demand-response"
curtail_mw = 0.05
duration_s = "2h"

[tariff]
file = "kepco-industrial-b"
option = "III"
contract_demand_kw = 300

[demand_response]
programme = "reliability"
registered_kw = 50
capacity_krw_per_kw_month = 4000
energy_krw_per_kwh = 150
""",
        encoding="utf-8",
    )
    out = tmp_path / "site.csv"
    code, _, err = _run_main(
        capsys,
        "run",
        "--scenario",
        str(scenario),
        "--duration",
        "3d",
        "--dt",
        "60s",
        "--every",
        "15min",
        "--out",
        str(out),
    )
    assert code == 0, err
    header, row = (tmp_path / "site.bill.csv").read_text(encoding="utf-8").splitlines()
    values = dict(zip(header.split(","), row.split(","), strict=True))
    assert values["month"] == "2026-06" and float(values["days_covered"]) == 3.0
    assert "bill: kepco-industrial-b, option III" in err
    delivered = re.search(r"delivered ([\d,]+) of 100 kWh", err)
    assert delivered is not None, err
    assert int(delivered.group(1).replace(",", "")) > 50
    forgone = re.search(r"tokens forgone ([\d,]+)", err)
    assert forgone is not None and int(forgone.group(1).replace(",", "")) > 0
    assert "baseline from 06-09, 06-08" in err


def test_twin_run_refuses_rows_a_bill_cannot_use_before_running(
    capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    scenario = _scenario_with(
        tmp_path, 'file = "kepco-industrial-b"\noption = "III"\ncontract_demand_kw = 400\n'
    )
    out = tmp_path / "site.csv"
    code, _, err = _run_main(
        capsys,
        "run",
        "--scenario",
        str(scenario),
        "--duration",
        "2h",
        "--every",
        "1h",
        "--out",
        str(out),
    )
    assert code == 2
    assert "--every 1h: the bill's 15-minute demand needs rows inside quarter hours" in err
    assert not out.exists()
