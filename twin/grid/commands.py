"""The command line's side of the grid package: ``twin bill``, ``twin power-quality`` and
``twin grid-impact``, what ``twin run`` does with a scenario's ``[tariff]`` and
``[demand_response]`` (check the output interval first, bill and settle after) and what
``twin check`` says of them. Problems the user can fix are ``GridError``s, which the
command line reports with exit code 2."""

from __future__ import annotations

import argparse
import datetime as dt
import sys
from collections.abc import Callable
from pathlib import Path
from typing import IO

from twin import arguments
from twin.grid.bill import Bill, GridError, bill_csv, bill_text, make_bill
from twin.grid.dr import Settlement, dispatches_of, hourly_series, settle, settlement_text
from twin.grid.tariff import Tariff, builtin_tariffs, tariff_for
from twin.scenario import Scenario, load, loads
from twin.scenario.schema import DemandResponseProgramme, TariffChoice

BILL_SUFFIX = ".csv"
COMMANDS = ("bill", "power-quality", "grid-impact")
Writable = Callable[[str, Path], None]
"""Checks that an output (option, path) can be written; raises the command line's error."""


def add_parsers(sub) -> None:
    add_bill_parser(sub)
    add_power_quality_parser(sub)
    add_grid_impact_parser(sub)


def run_command(command: str, args: argparse.Namespace, writable: Writable) -> str:
    """One of ``COMMANDS``; returns what to print on standard output."""
    from twin.sim.weather import check_hourly_csv

    try:
        if command == "bill":
            return run_bill(args, writable)
        scenario = load(args.scenario)
        check_hourly_csv(scenario)
        tariff_of(scenario, args.scenario)  # a bad tariff file is reported before running
        if args.out is not None:
            writable("--out", args.out)
        if command == "power-quality":
            return run_power_quality(args, scenario, writable)
        run_grid_impact(args, scenario)
        print(
            f"twin grid-impact: wrote {args.out} (a pre-assessment, not the official score)",
            file=sys.stderr,
        )
        return ""
    except BrokenPipeError:
        raise
    except OSError as exc:
        raise GridError(f"cannot write {args.out}: {exc.strerror or exc}") from None


def tariff_of(scenario: Scenario, scenario_path: str | Path) -> Tariff | None:
    """The scenario's tariff, its file checked (a ScenarioError names its problems); a
    relative file is taken from the scenario file's folder."""
    if scenario.tariff is None:
        return None
    from twin.scenario.files import resolve

    return tariff_for(scenario.tariff, resolve(scenario_path).parent)


def prepare_run(
    scenario: Scenario, scenario_path: str | Path, every_s: float, out: Path, writable: Writable
) -> Tariff | None:
    """Before ``twin run`` starts: the tariff checked, the output interval one a bill and a
    settlement can use, the bill's file writable; returns the tariff."""
    from twin.scenario.units import format_duration

    tariff = tariff_of(scenario, scenario_path)
    if tariff is not None or scenario.demand_response is not None:
        problem = rows_problem(scenario, every_s)
        if problem:
            raise GridError(f"--every {format_duration(every_s)}: {problem}")
    if tariff is not None:
        writable("bill", bill_path_for(out))
    return tariff


def after_run(
    scenario: Scenario, tariff: Tariff | None, out: Path, progress: IO[str] | None
) -> None:
    """After ``twin run``: the bill written beside ``out`` and the dispatches settled,
    both printed to ``progress`` (None: quiet)."""
    if tariff is not None:
        path = bill_path_for(out)
        try:
            bill = bill_of_table(out, tariff)
            write_bill(bill, path)
        except GridError as exc:
            raise GridError(f"the run is written but not billed: {exc}") from None
        except OSError as exc:
            raise GridError(f"cannot write the bill {path}: {exc.strerror or exc}") from None
        if progress is not None:
            print(f"{bill_text(bill)}\n  -> {path}", file=progress)
    if scenario.demand_response is not None:
        try:
            settlement = settlement_of_table(out, scenario, scenario.demand_response, tariff)
        except GridError as exc:
            raise GridError(
                f"the run is written but its demand response is not settled: {exc}"
            ) from None
        if progress is not None:
            print(settlement_text(settlement), file=progress)


def summary_lines(scenario: Scenario, scenario_path: str | Path) -> list[str]:
    """``twin check``'s lines on the tariff and the demand-response programme."""
    lines = []
    tariff = tariff_of(scenario, scenario_path)
    if tariff is not None:
        lines.append(
            f"  tariff           {tariff.name}, option {tariff.option}, contract "
            f"{tariff.contract_demand_kw / 1000:,.1f} MW"
        )
    dr = scenario.demand_response
    if dr is not None:
        dispatches = sum(e.kind == "demand-response" for e in scenario.events)
        lines.append(
            f"  demand response  KPX {dr.programme} DR, {dr.registered_kw / 1000:,.1f} "
            f"MW registered; {dispatches} dispatch(es) scheduled"
            + ("; generator sets allowed" if dr.generators_allowed else "")
        )
    return lines


def bill_path_for(out: Path) -> Path:
    """Where ``twin run --out site.csv`` writes its bill: ``site.bill.csv``."""
    return out.with_name(f"{out.stem}.bill{BILL_SUFFIX}")


def read_table(table_path: Path):
    """A ``twin run`` site table with the columns bills and settlements read."""
    from twin.runs.runtable import RunTableError, read_run_table

    try:
        table = read_run_table(table_path)
    except RunTableError as exc:
        raise GridError(str(exc)) from None
    if "grid_import_kw" not in table.columns:
        raise GridError(f"{table_path}: the table has no grid_import_kw column to bill")
    return table


def bill_of_table(table_path: Path, tariff: Tariff) -> Bill:
    """The bill of a ``twin run`` site table's grid import under ``tariff``."""
    table = read_table(table_path)
    start = _table_start(table.metadata, table_path)
    return make_bill(tariff, start, table.columns["time_s"], table.columns["grid_import_kw"])


def settlement_of_table(
    table_path: Path, scenario: Scenario, programme: DemandResponseProgramme, tariff: Tariff | None
) -> Settlement:
    """The scenario's demand-response dispatches (its ``demand-response`` events) settled
    on the run table under ``programme`` (the scenario's ``[demand_response]``)."""
    import holidays

    table = read_table(table_path)
    start = _table_start(table.metadata, table_path)
    columns = {name: table.columns[name] for name in SETTLED_COLUMNS if name in table.columns}
    series = hourly_series(start, table.columns["time_s"], table.columns["grid_import_kw"], columns)
    country = tariff.data.tariff.holidays_country if tariff is not None else "KR"
    end = start + dt.timedelta(seconds=float(table.columns["time_s"][-1]))
    return settle(
        programme,
        series,
        dispatches_of(scenario.events, start),
        holidays.country_holidays(country),
        start,
        end,
    )


SETTLED_COLUMNS = ("tokens_per_s", "bess_power_kw", "generator_kw")


def _table_start(metadata: dict[str, str], path: Path) -> dt.datetime:
    text = metadata.get("start")
    if not text:
        raise GridError(
            f"{path}: the table does not say when its run started (no 'start' "
            "in its metadata); bills need the local date and time"
        )
    try:
        return dt.datetime.fromisoformat(text)
    except ValueError:
        raise GridError(f"{path}: its start {text!r} is not a date and time") from None


def rows_problem(scenario: Scenario, every_s: float) -> str | None:
    """Why rows of ``every_s`` from the scenario's start cannot be billed (quarter hours
    of the clock, for a tariff) or settled (clock hours, for demand response), or None."""
    start = scenario.scenario.start
    since_midnight = (
        start - start.replace(hour=0, minute=0, second=0, microsecond=0)
    ).total_seconds()
    period = 900.0 if scenario.tariff is not None else 3600.0
    what = (
        "the bill's 15-minute demand needs rows inside quarter hours"
        if scenario.tariff is not None
        else "demand response is settled by the clock hour"
    )
    ratio = period / every_s
    if abs(ratio - round(ratio)) > 1e-9 or round(ratio) < 1:
        return f"{what}: use an interval that divides {period / 60:g} min (60s, 5min, 15min)"
    offset = since_midnight / every_s
    if abs(offset - round(offset)) > 1e-9:
        return (
            f"{what}: the scenario starts at {start:%H:%M:%S}, off the interval's "
            "boundaries; start it on a whole interval or use a shorter one"
        )
    return None


def write_bill(bill: Bill, path: Path) -> None:
    """Write the bill's CSV through a temporary name, so a failed write leaves no half file."""
    partial = path.with_name(path.name + ".partial")
    partial.write_text(bill_csv(bill), encoding="utf-8")
    partial.replace(path)


# --------------------------------------------------------------------------- twin bill


def add_bill_parser(sub) -> None:
    bill = sub.add_parser(
        "bill",
        help="the monthly electricity bill of a run",
        description="Bill a 'twin run' site table's grid import under a tariff (see 'Tariffs' "
        "in the README): energy by time-of-use period, the 15-minute peak and billing "
        "demand, the demand charge, climate-environment and fuel-cost charges, fund, VAT "
        "and the total, per calendar month. The tariff and the site's choices come from "
        "the run's scenario ([tariff]) unless given here.",
    )
    bill.add_argument(
        "run_output",
        type=Path,
        metavar="RUN_OUTPUT",
        help="a 'twin run' site table (.csv or .parquet)",
    )
    bill.add_argument(
        "--tariff",
        metavar="NAME|PATH",
        help=f"a shipped tariff ({', '.join(builtin_tariffs())}) or a tariff TOML file",
    )
    bill.add_argument(
        "--option",
        choices=("I", "II", "III"),
        help="the tariff option (I < 200 h, II 200-500 h, III > 500 h of use)",
    )
    bill.add_argument(
        "--contract-kw",
        type=arguments.number(0, unit="kW", above=True),
        metavar="KW",
        help="contracted demand in kW",
    )
    bill.add_argument(
        "--ratchet-kw",
        type=arguments.number(0, unit="kW"),
        metavar="KW",
        help="highest 15-minute demand of the ratchet months in the 12 months "
        "before the run (default: the scenario's, else 0)",
    )
    bill.add_argument(
        "--out", type=Path, metavar="FILE.csv", help="also write the bill as CSV, one row per month"
    )


def choice_for_bill(args: argparse.Namespace, scenario_toml: str | None) -> TariffChoice:
    """The scenario's ``[tariff]`` with the command line's options laid over it."""
    base: dict[str, object] = {}
    if scenario_toml:
        scenario = loads(scenario_toml, source=f"{args.run_output} (its scenario)")
        if scenario.tariff is not None:
            base = scenario.tariff.model_dump(exclude_none=True)
    given = {
        "file": args.tariff,
        "option": args.option,
        "contract_demand_kw": args.contract_kw,
        "ratchet_peak_kw": args.ratchet_kw,
    }
    base.update({k: v for k, v in given.items() if v is not None})
    missing = [
        flag
        for flag, key in (
            ("--tariff", "file"),
            ("--option", "option"),
            ("--contract-kw", "contract_demand_kw"),
        )
        if key not in base
    ]
    if missing:
        raise GridError(f"the run's scenario has no [tariff] section: give {', '.join(missing)}")
    return TariffChoice.model_validate(base)


def run_bill(args: argparse.Namespace, writable: Writable) -> str:
    """``twin bill``: the bill's text; raises GridError, or ScenarioError for a bad tariff
    or scenario."""
    if args.out is not None and args.out.suffix.lower() != BILL_SUFFIX:
        raise GridError(f"--out {args.out} must end in .csv")
    if args.out is not None:
        writable("--out", args.out)
    table = read_table(args.run_output)
    scenario_toml = table.metadata.get("scenario_toml")
    choice = choice_for_bill(args, scenario_toml)
    tariff = tariff_for(choice, Path.cwd())
    start = _table_start(table.metadata, args.run_output)
    bill = make_bill(tariff, start, table.columns["time_s"], table.columns["grid_import_kw"])
    if args.out is not None:
        write_bill(bill, args.out)
    texts = [bill_text(bill)]
    scenario = loads(scenario_toml, source=str(args.run_output)) if scenario_toml else None
    if scenario is not None and scenario.demand_response is not None:
        texts.append(
            settlement_text(
                settlement_of_table(args.run_output, scenario, scenario.demand_response, tariff)
            )
        )
    texts += [f"  note: {p}" for p in table.problems]
    return "\n".join(texts)


# --------------------------------------------------------------------------- power quality


def add_power_quality_parser(sub) -> None:
    pq = sub.add_parser(
        "power-quality",
        help="the spectrum of the site's grid draw against a utility limit",
        description="Run a scenario at a short step and take the spectrum of its grid import "
        "(0.1-20 Hz, as far as the step lets it be seen), with and without GPU power "
        "smoothing and the BESS's smoothing, against a utility limit (default: no "
        "component above 20 %% of the mean draw, arXiv 2508.14318). With --search, also "
        "the least GPU smoothing that passes and the energy it costs.",
    )
    pq.add_argument(
        "--scenario", required=True, metavar="NAME|PATH", help="built-in scenario name or TOML file"
    )
    pq.add_argument(
        "--duration",
        type=arguments.positive_duration,
        default=120.0,
        metavar="DURATION",
        help="simulated time sampled, after a minute of settling (default 2min)",
    )
    pq.add_argument(
        "--dt",
        type=arguments.positive_duration,
        default=0.1,
        metavar="DURATION",
        help="simulation step (default 100ms: frequencies up to 5 Hz are seen)",
    )
    pq.add_argument(
        "--limit",
        type=arguments.number(0, 1, above=True),
        default=0.2,
        metavar="FRACTION",
        help="largest allowed component over the mean draw (default 0.2)",
    )
    pq.add_argument(
        "--search",
        action="store_true",
        help="find the least GPU smoothing that passes: ramp-down rates from "
        "8000 to 125 W/s per GPU, then floors from 0.1 to 0.9 of TDP",
    )
    pq.add_argument(
        "--out",
        type=Path,
        metavar="FILE.csv",
        help="write the spectra: frequency_hz and each case's relative amplitude",
    )
    pq.add_argument(
        "--report",
        type=Path,
        metavar="FILE.html",
        help="write a self-contained HTML report: the cases' spectra against "
        "the limit, their verdicts and the search's answer",
    )


def run_power_quality(args: argparse.Namespace, scenario: Scenario, writable: Writable) -> str:
    """``twin power-quality``: the cases' compliance (and the search), as text."""
    from twin.grid import power_quality as pq

    if args.out is not None and args.out.suffix.lower() != ".csv":
        raise GridError(f"--out {args.out} must end in .csv")
    if not 0.01 <= args.dt <= 1.0:
        raise GridError("--dt must be from 10ms to 1s: slower steps show no swings")
    if args.duration < 16 * args.dt or args.duration > 3600:
        raise GridError("--duration must hold at least 16 steps and at most 1h")
    if args.report is not None:
        if args.report.suffix.lower() not in (".html", ".htm"):
            raise GridError(f"--report {args.report} must end in .html")
        writable("--report", args.report)
    result = pq.run_check(scenario, args.duration, args.dt, args.limit, args.search)
    lines = [f"power quality: {scenario.scenario.name}, {args.duration:g} s at dt {args.dt:g} s"]
    width = max(len(case.label) for case in result.cases)
    for case in result.cases:
        lines.append(
            f"  {case.label:<{width}} {case.compliance.text()}; grid energy "
            f"{case.energy_kwh:,.1f} kWh"
        )
    if result.search is not None:
        lines.append(f"  search: {pq.search_text(result.search, args.duration)}")
    spectra = {case.label: case.spectrum for case in result.cases}
    if args.out is not None:
        labels = list(spectra)
        frequencies = next(iter(spectra.values())).frequency_hz
        rows = ["frequency_hz," + ",".join(f'"{x}"' for x in labels)]
        rows += [
            f"{f:g}," + ",".join(f"{spectra[x].relative[i]:.6g}" for x in labels)
            for i, f in enumerate(frequencies)
        ]
        args.out.write_text("\n".join(rows) + "\n", encoding="utf-8")
    if args.report is not None:
        from twin.grid.power_quality_report import power_quality_report

        partial = args.report.with_name(args.report.name + ".partial")
        try:
            partial.write_text(power_quality_report(result), encoding="utf-8")
            partial.replace(args.report)
        except OSError as exc:
            partial.unlink(missing_ok=True)
            raise GridError(f"cannot write --report {args.report}: {exc.strerror or exc}") from None
        lines.append(f"  report: {args.report}")
    return "\n".join(lines)


# --------------------------------------------------------------------------- grid impact


def add_grid_impact_parser(sub) -> None:
    gi = sub.add_parser(
        "grid-impact",
        help="a grid-impact assessment pre-assessment of a site (Markdown)",
        description="Write a pre-assessment for Korea's grid-impact assessment: contracted "
        "and peak demand, ramps, load factor, the demand response the site can offer, its "
        "swings, BESS and generator support, and what it can evidence for the technical "
        "criteria. Clearly marked as a pre-assessment, not the official score.",
    )
    gi.add_argument(
        "--scenario", required=True, metavar="NAME|PATH", help="built-in scenario name or TOML file"
    )
    gi.add_argument(
        "--run",
        type=Path,
        metavar="RUN_OUTPUT",
        help="a 'twin run' site table of the scenario, for peak demand, ramps and load factor",
    )
    gi.add_argument(
        "--power-quality",
        action="store_true",
        help="also run the site 2 min at 0.1 s and check its swing spectrum",
    )
    gi.add_argument(
        "--out",
        required=True,
        type=Path,
        metavar="FILE.md",
        help="where to write the document (Markdown)",
    )


def run_grid_impact(args: argparse.Namespace, scenario: Scenario) -> None:
    from twin.grid import power_quality as pq
    from twin.grid.impact import pre_assessment, run_figures

    if args.out.suffix.lower() != ".md":
        raise GridError(f"--out {args.out} must end in .md")
    figures = None
    if args.run is not None:
        table = read_table(args.run)
        start = _table_start(table.metadata, args.run)
        figures = run_figures(table.columns["time_s"], table.columns["grid_import_kw"], start)
    swings = None
    if args.power_quality:
        draw = pq.site_draw(scenario, 120.0, 0.1)
        swings = pq.check(pq.spectrum(draw.power_kw, 0.1)).text().capitalize() + "."
    _write_document(args.out, pre_assessment(scenario, figures, swings))


def report_grid_impact(run_output: Path, out: Path, writable: Writable) -> None:
    """``twin report RUN_OUTPUT --grid-impact``: the pre-assessment of a run table and the
    scenario it was run from (the text the table holds), as ``twin grid-impact --run``."""
    from twin.grid.impact import pre_assessment, run_figures

    if out.suffix.lower() != ".md":
        raise GridError(f"--out {out}: a grid-impact pre-assessment is Markdown (.md)")
    table = read_table(run_output)
    scenario_toml = table.metadata.get("scenario_toml")
    if not scenario_toml:
        raise GridError(
            f"{run_output}: the table does not hold the scenario it was run from; name it: "
            f"twin grid-impact --scenario NAME|PATH --run {run_output} --out {out}"
        )
    scenario = loads(scenario_toml, source=f"{run_output} (its scenario)")
    start = _table_start(table.metadata, run_output)
    figures = run_figures(table.columns["time_s"], table.columns["grid_import_kw"], start)
    writable("--out", out)
    try:
        _write_document(out, pre_assessment(scenario, figures, None))
    except OSError as exc:
        raise GridError(f"cannot write {out}: {exc.strerror or exc}") from None


def _write_document(out: Path, text: str) -> None:
    """Write through a temporary name, so a failed write leaves no half document."""
    partial = out.with_name(out.name + ".partial")
    partial.write_text(text, encoding="utf-8")
    partial.replace(out)
