"""The ``twin`` command line: gui, run, check, scenarios, kiosk, replay, report, points,
plant, shadow, flex, calibrate, study, bill, power-quality, grid-impact.

Every error a user can cause (a bad scenario, a bad argument, an unwritable output)
ends in one clear message on stderr and exit code 2, never a traceback.
"""

from __future__ import annotations

import argparse
import os
import sys
import tempfile
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any, NoReturn

from twin import __version__, arguments
from twin.exchange.commands import COMMANDS as EXCHANGE_COMMANDS
from twin.exchange.commands import CommandError, add_commands
from twin.exchange.flex_command import add_parser as add_flex_parser
from twin.grid import commands as grid
from twin.grid.bill import GridError
from twin.paths import cache_dir
from twin.runs import FLUSH_RANGE_S, FLUSH_WALL_S
from twin.scenario import Scenario, ScenarioError, builtin_scenarios, it_nameplate_kw, load
from twin.scenario.files import read_text, resolve
from twin.scenario.units import DURATION_FORMS, format_duration
from twin.scratch import remove_scratch
from twin.sim import DT_RANGE_S, coolant, dt_in_range
from twin.sim.weather import check_hourly_csv

EXIT_USAGE = 2
DEFAULT_SCENARIO = "seoul-ai-factory"
OUTPUT_SUFFIXES = (".csv", ".parquet")
JOURNAL_SUFFIXES = (".sqlite", ".db")
MAX_WALL_S = 7 * 86400.0  # --exit-after: a week, within what a Qt timer can count
EXIT_BROKEN_PIPE = 128 + 13  # as a process killed by SIGPIPE


class UsageError(Exception):
    """A problem with what the user asked for, reported as one line and exit code 2."""


class _Parser(argparse.ArgumentParser):
    def error(self, message: str) -> NoReturn:  # argparse would print usage and exit 2 itself
        self.print_usage(sys.stderr)
        raise UsageError(f"{self.prog}: {message}")


def _wall_seconds(text: str) -> float:
    """Wall-clock time for smoke tests: bare seconds (20) or a duration (2min)."""
    try:
        seconds = float(text)
    except ValueError:
        seconds = arguments.positive_duration(text)
    if not 0 < seconds < float("inf"):
        raise argparse.ArgumentTypeError(f"{text!r} must be a number of seconds above zero")
    if seconds > MAX_WALL_S:
        raise argparse.ArgumentTypeError(
            f"{text!r} is more than the {MAX_WALL_S / 86400:g} "
            "days a window can be asked to stay open"
        )
    return seconds


def build_parser() -> argparse.ArgumentParser:
    parser = _Parser(
        prog="twin",
        description="Desktop digital twin of an AI factory. Without a subcommand, opens the "
        f"window on the default scenario ({DEFAULT_SCENARIO}).",
    )
    parser.add_argument("--version", action="version", version=f"twin {__version__}")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND", parser_class=_Parser)

    gui = sub.add_parser(
        "gui",
        help="open the 3D twin window",
        description="Open the live 3D twin window on a scenario.",
    )
    gui.add_argument(
        "--scenario",
        metavar="NAME|PATH",
        help="built-in scenario name or TOML file (default: the last one opened, "
        f"else {DEFAULT_SCENARIO})",
    )
    gui.add_argument(
        "--exit-after",
        type=_wall_seconds,
        metavar="SECONDS",
        help="close the window after this wall-clock time, in seconds (20) or "
        f"as a duration; {DURATION_FORMS}. Prints one line of JSON: frames "
        "drawn, frames per second, simulated seconds",
    )
    gui.add_argument(
        "--screenshot",
        type=Path,
        metavar="FILE.png",
        help="save a PNG of the window just before closing (with --exit-after)",
    )
    gui.add_argument(
        "--lang",
        choices=("en", "ko"),
        help="language of the menus, figures and 3D labels (default: the one chosen in "
        "View > Language, else en)",
    )
    gui.add_argument(
        "--plant",
        metavar="mqtt://HOST:PORT",
        help="also publish the run as a DSX Exchange virtual BMS on this broker "
        "(as 'twin plant'; credentials and TLS as there)",
    )
    gui.add_argument(
        "--study",
        type=Path,
        metavar="RESULTS",
        help="open the study view on a 'twin study' results folder: its runs in "
        "a sortable table and a chart of a KPI against a parameter; a run "
        "picked there is run again as a recording and opened as a replay",
    )
    gui.add_argument(
        "--shadow",
        metavar="mqtt://HOST:PORT",
        help="show a shadow of the plant publishing on this broker: the model "
        "follows the plant's clock; divergence alarms show in the window's "
        "alarm list and are printed as 'twin shadow' prints them",
    )

    run = sub.add_parser(
        "run",
        help="run a scenario headless and write a time series",
        description="Run a scenario without a window and write one row per output interval. "
        "Columns carry their units in their names (see the README's data dictionary).",
    )
    run.add_argument(
        "--scenario", required=True, metavar="NAME|PATH", help="built-in scenario name or TOML file"
    )
    run.add_argument(
        "--duration",
        required=True,
        type=arguments.positive_duration,
        metavar="DURATION",
        help=f"simulated time to run; {DURATION_FORMS}",
    )
    run.add_argument(
        "--dt",
        type=arguments.positive_duration,
        default=1.0,
        metavar="DURATION",
        help="simulation step, a duration from 0.1 s to 300 s such as 500ms, 1s or 5s (default 1s)",
    )
    run.add_argument(
        "--out",
        required=True,
        type=Path,
        metavar="FILE.csv|FILE.parquet",
        help="site time series; the format follows the suffix",
    )
    run.add_argument(
        "--every",
        type=arguments.positive_duration,
        default=60.0,
        metavar="DURATION",
        help="output interval, a duration that is a whole multiple of --dt such "
        "as 60s or 15min; each row holds the interval's means (default 60s)",
    )
    run.add_argument(
        "--seed",
        type=arguments.seed,
        metavar="N",
        help="random seed, a whole number from 0 to 2^63-1 (default: the scenario's own)",
    )
    run.add_argument(
        "--components",
        type=Path,
        metavar="FILE.parquet",
        help="also write per-component series (racks, CDUs, plant, power) here",
    )
    run.add_argument(
        "--journal",
        type=Path,
        metavar="FILE.sqlite",
        help="alarm journal (SQLite): every alarm raised, cleared, "
        "acknowledged, shelved or suppressed, in simulated and wall time; alarms "
        "are scanned once per simulated second (default: next to --out, "
        "site.csv -> site.alarms.sqlite)",
    )
    run.add_argument(
        "--record",
        type=Path,
        metavar="FOLDER",
        help="also record the run for 'twin replay' and 'twin report --compare': "
        "a new folder of Parquet parts, flushed every 5 simulated minutes, that "
        "stays readable if the run is killed",
    )
    run.add_argument(
        "--record-every",
        type=arguments.positive_duration,
        metavar="DURATION",
        help="simulated time between recorded snapshots, a whole multiple of "
        "--dt (default: --every)",
    )
    run.add_argument(
        "--flush-every",
        type=arguments.positive_duration,
        default=FLUSH_WALL_S,
        metavar="DURATION",
        help="wall time between flushes of the tables to disk (fsync), "
        f"{format_duration(FLUSH_RANGE_S[0])} to {format_duration(FLUSH_RANGE_S[1])}: what "
        "a run killed or cut off by a power loss can lose at most; shorter costs more "
        f"writes (default {format_duration(FLUSH_WALL_S)})",
    )
    run.add_argument("--quiet", action="store_true", help="print no progress")

    check = sub.add_parser(
        "check",
        help="validate a scenario and print a summary",
        description="Validate a scenario file and print what it describes: halls, racks, IT "
        "nameplate in MW, CDUs, heat rejection, utility feed in kV and MW, BESS in MWh and MW, "
        "generators and robots. Every key in a scenario carries its unit in its name (_kw = "
        "kW, _c = °C, _lpm = L/min, _kpa = kPa, _s = seconds, ...); durations may also be "
        "written with a unit of ms, s, min, h or d, for example 90s, 15min, 6h, 2d. Every "
        "problem is listed with its key and the allowed values; the exit "
        "status is 2 if there is any.",
    )
    check.add_argument(
        "scenario",
        metavar="NAME|PATH",
        help="built-in scenario name (see 'twin scenarios') or a .toml file",
    )
    check.add_argument(
        "--points",
        type=Path,
        metavar="FILE.csv|FILE.toml",
        help="also validate a DSX Exchange point list against the scenario",
    )

    grid.add_parsers(sub)

    sub.add_parser(
        "scenarios",
        help="list the built-in scenarios",
        description="List the built-in scenarios, one line each: name, number of "
        "racks, IT nameplate in MW and title.",
    )

    replay = sub.add_parser(
        "replay",
        help="open the window on a recording",
        description="Play a recording made with 'twin run --record' in the 3D window, "
        "without running the physics. A damaged or cut-off recording plays what is readable "
        "and says what is missing.",
    )
    replay.add_argument("recording", type=Path, metavar="FOLDER", help="the recording folder")
    replay.add_argument(
        "--compare",
        type=Path,
        metavar="OTHER",
        help="a second run of the same scenario and start to set beside it "
        "in the trends, with the KPI differences: a recording folder or a "
        "'twin run' site table (.csv or .parquet)",
    )
    replay.add_argument(
        "--exit-after",
        type=_wall_seconds,
        metavar="SECONDS",
        help="close the window after this wall-clock time, in seconds (20) or "
        f"as a duration; {DURATION_FORMS}",
    )
    replay.add_argument(
        "--screenshot",
        type=Path,
        metavar="FILE.png",
        help="save a PNG of the window just before closing (with --exit-after)",
    )

    report = sub.add_parser(
        "report",
        help="write an HTML or PDF report of a run",
        description="Write a self-contained HTML or PDF report of a run: scenario summary, KPIs, "
        "energy ledger, charts of the site series, the scenario's event timeline and the "
        "alarm statistics from the run's journal. With --compare, a second run is set "
        "beside it with the KPI differences.",
    )
    report.add_argument(
        "run_output",
        type=Path,
        metavar="RUN_OUTPUT",
        help="a 'twin run' site table (.csv or .parquet), a recording folder, "
        "a 'twin study' results folder, a 'twin shadow --record' folder, or a "
        "calibration: 'twin calibrate' --out scenario or its NAME.calibration.parquet",
    )
    report.add_argument(
        "--compare",
        type=Path,
        metavar="OTHER",
        help="a second run output or recording to compare with",
    )
    report.add_argument(
        "--journal",
        type=Path,
        metavar="FILE.sqlite",
        help="alarm journal (default: next to RUN_OUTPUT, site.csv -> site.alarms.sqlite)",
    )
    report.add_argument(
        "--out",
        required=True,
        type=Path,
        metavar="FILE.html|FILE.pdf",
        help="where to write the report; the suffix picks the format",
    )
    report.add_argument("--page-size", metavar="A4|Letter", help="the PDF's page size (default A4)")
    report.add_argument(
        "--grid-impact",
        action="store_true",
        help="instead, the grid-impact pre-assessment (Markdown, --out FILE.md) of a "
        "'twin run' site table and the scenario it was run from, as 'twin grid-impact --run'",
    )

    study = sub.add_parser(
        "study",
        help="run a sweep or a Monte Carlo of a scenario on Dask",
        description="Run a study file's runs (a sweep over scenario fields, or a Monte Carlo "
        "of component failures) on a local Dask cluster, an existing scheduler or a cluster "
        "file, storing each run's KPIs as one Parquet part in RESULTS as it finishes. Every "
        "problem with the study file is listed at once, exit status 2; exit status 1 when "
        "some runs failed (each named with its seed and error).",
    )
    study.add_argument("study_file", type=Path, metavar="STUDY.toml", help="the study file")
    study.add_argument(
        "--out",
        required=True,
        type=Path,
        metavar="RESULTS",
        help="the results folder (made if missing; readable while the study runs)",
    )
    where = study.add_mutually_exclusive_group()
    where.add_argument(
        "--workers",
        type=arguments.whole_number(1, 4096),
        metavar="N",
        help="local worker processes, one thread each (default: one per core)",
    )
    where.add_argument(
        "--scheduler", metavar="tcp://HOST:PORT", help="the address of a running Dask scheduler"
    )
    where.add_argument(
        "--cluster",
        type=Path,
        metavar="FILE",
        help="a TOML file describing a Slurm, PBS, SGE, LSF or Kubernetes "
        "cluster (see the README's recipes)",
    )
    study.add_argument(
        "--resume",
        action="store_true",
        help="finish a study stopped before its end: runs already in RESULTS are skipped",
    )
    study.add_argument("--quiet", action="store_true", help="print no progress or summary")

    kiosk = sub.add_parser(
        "kiosk",
        help="run the unattended, full-screen trade-show tour",
        description="Play a story (a TOML script of camera moves, captions and simulation "
        "events) full screen and in a loop, with large KPIs. Any touch, click or key hands "
        "the visitor an interactive view; the tour takes over again after a while without "
        "input. Ctrl+Shift+Q leaves kiosk mode; nothing else does. A bad story or scenario "
        "is reported with every problem, exit status 2.",
    )
    kiosk.add_argument(
        "--scenario",
        metavar="NAME|PATH",
        help="built-in scenario name or TOML file (default: the one the story names)",
    )
    kiosk.add_argument(
        "--story",
        metavar="NAME|PATH",
        help="built-in story name or TOML file (default: ai-factory-tour)",
    )
    kiosk.add_argument(
        "--lang",
        choices=("en", "ko"),
        default="en",
        help="language of the captions and labels (default en)",
    )
    kiosk.add_argument(
        "--screen",
        metavar="NUMBER|NAME",
        help="the display to fill: its number (0, 1, ...) or its name such as "
        "HDMI-1 (default: the primary display)",
    )
    kiosk.add_argument(
        "--exit-after",
        type=_wall_seconds,
        metavar="SECONDS",
        help="leave after this wall-clock time, in seconds (20) or as a "
        f"duration; {DURATION_FORMS}. Prints one line of JSON: frames drawn, "
        "frames per second, simulated seconds, the step and its caption",
    )
    kiosk.add_argument(
        "--screenshot",
        type=Path,
        metavar="FILE.png",
        help="save a PNG of the screen just before leaving (with --exit-after)",
    )
    add_commands(sub)
    add_flex_parser(sub)
    _add_calibrate(sub)
    return parser


def _add_calibrate(sub) -> None:
    calibrate = sub.add_parser(
        "calibrate",
        help="fit a scenario's parameters to a plant's measurements",
        description="Fit the scenario's uncertain parameters (CDU exchanger UA, pump curve "
        "and efficiency, series and rack resistances, thermal capacitances, dry-cooler "
        "approach, chiller COP, PSU, UPS and transformer losses, the liquid share of rack "
        "heat) to measurements, driving the model with the measured IT power and weather. "
        "Parameters the data cannot determine are named and left at their prior. Writes "
        "the scenario with the fitted values and a [calibration] table, and optionally an "
        "HTML report with ASHRAE Guideline 14 CV(RMSE) and NMBE before and after.",
    )
    calibrate.add_argument(
        "data",
        nargs="+",
        type=Path,
        metavar="DATA",
        help="measurements: 'twin shadow --record' folders, 'twin run' site tables "
        "(.csv/.parquet), component tables (--components .parquet) or point tables "
        "(time_s and one column per kind/component/quantity point)",
    )
    calibrate.add_argument(
        "--scenario",
        required=True,
        metavar="NAME|PATH",
        help="the plant's scenario: built-in name or TOML file",
    )
    calibrate.add_argument(
        "--fit",
        nargs="+",
        action="extend",
        metavar="NAME",
        help="parameters to fit, names or patterns such as 'cdu.*' "
        "(default: all; an unknown name lists those there are)",
    )
    calibrate.add_argument(
        "--window",
        metavar="START..END",
        help="fit window in time after the scenario's start, e.g. 1h..1d "
        "(default: all the data after the warm-up)",
    )
    calibrate.add_argument(
        "--holdout", metavar="START..END", help="a second window to validate on, not fitted"
    )
    calibrate.add_argument(
        "--offset",
        nargs="+",
        action="extend",
        metavar="POINT",
        help="points whose sensors may read with a constant offset "
        "(names or patterns such as 'rack/*/outlet_temp_c'): the offset "
        "is estimated alongside and reported",
    )
    calibrate.add_argument(
        "--warmup",
        type=arguments.duration,
        default=1800.0,
        metavar="DURATION",
        help="model time before a window to settle (default 30min)",
    )
    calibrate.add_argument(
        "--by-cdu",
        action="store_true",
        help="fit the CDU and rack parameters on each CDU alone, driven by its racks' "
        "power and the measured facility water supply, then the site's parameters on "
        "the whole site with those fixed (large sites; needs plant/plant/fws_supply_c "
        "or site/fws_supply_c and every rack's power)",
    )
    calibrate.add_argument(
        "--cdu",
        nargs="+",
        action="extend",
        metavar="NAME",
        help="with --by-cdu: the CDUs fitted (names or patterns such as 'H1-CDU-0*'; "
        "default: all); each gives an estimate of its type's values",
    )
    calibrate.add_argument(
        "--out", required=True, type=Path, metavar="FILE.toml", help="the calibrated scenario"
    )
    calibrate.add_argument(
        "--report", type=Path, metavar="FILE.html", help="also write the calibration report here"
    )
    calibrate.add_argument("--quiet", action="store_true", help="print no progress")


def main(argv: Sequence[str] | None = None) -> int:
    try:
        with coolant.tables_cached_in(cache_dir() / "coolant"):  # start without CoolProp
            code = _main(argv)
        sys.stdout.flush()  # here, where a closed pipe can still be handled
        return code
    except BrokenPipeError:  # the reader went away (twin check NAME | head -2): stop quietly
        _silence_stdout()
        return EXIT_BROKEN_PIPE
    finally:
        remove_scratch()


def _main(argv: Sequence[str] | None) -> int:
    parser = build_parser()
    try:
        args = parser.parse_args(argv)
        command = args.command or "gui"
        if command == "gui" and getattr(args, "study", None) is not None:
            return _study_gui(args)
        if command == "gui":
            return _gui(
                getattr(args, "scenario", None),
                getattr(args, "exit_after", None),
                getattr(args, "screenshot", None),
                getattr(args, "plant", None),
                getattr(args, "shadow", None),
                getattr(args, "lang", None),
            )
        if command == "run":
            return _run(args)
        if command == "check":
            return _check(args.scenario, args.points)
        if command == "flex":
            from twin.exchange.flex_command import run_command as run_flex_command

            return run_flex_command(args)
        if command in EXCHANGE_COMMANDS:
            from twin.exchange.commands import run_command

            return run_command(args)
        if command == "kiosk":
            return _kiosk(args)
        if command == "replay":
            return _replay(args)
        if command == "report":
            return _report(args)
        if command in grid.COMMANDS:
            return _grid(command, args)
        if command == "study":
            return _study(args)
        if command == "calibrate":
            return _calibrate(args)
        return _scenarios()
    except ScenarioError as exc:
        print(exc.report(), file=sys.stderr)
        return EXIT_USAGE
    except (UsageError, CommandError) as exc:
        print(exc, file=sys.stderr)
        return EXIT_USAGE
    except KeyboardInterrupt:
        print("twin: interrupted", file=sys.stderr)
        return 130


def _silence_stdout() -> None:
    """Point standard output at the null device, so that the interpreter's last flush of
    what could not be written raises nothing more."""
    try:
        descriptor = sys.stdout.fileno()
    except (AttributeError, OSError, ValueError):  # not a real file (a test's capture)
        return
    null = os.open(os.devnull, os.O_WRONLY)
    os.dup2(null, descriptor)
    os.close(null)


def _screenshot_target(command: str, screenshot: Path | None, exit_after_s: float | None) -> None:
    if screenshot is None:
        return
    if exit_after_s is None:
        raise UsageError(f"twin {command}: --screenshot needs --exit-after")
    if screenshot.suffix.lower() != ".png":
        raise UsageError(f"twin {command}: --screenshot {screenshot} must end in .png")
    _writable_file(command, "--screenshot", screenshot)


def _writable_file(command: str, option: str, path: Path) -> None:
    """A file twin may create or replace at ``path``: not a folder, in a folder that
    exists and can be written to. (Space is known only as it is written.)"""
    where = f"twin {command}: {option} {path}"
    try:
        is_folder, parent_is_folder = path.is_dir(), path.parent.is_dir()
    except OSError as exc:  # a name too long for the file system, a looping link...
        raise UsageError(f"{where}: {exc.strerror or exc}") from None
    if is_folder:
        raise UsageError(f"{where} is a folder; give a file name")
    if not parent_is_folder:
        raise UsageError(f"twin {command}: the folder of {path} does not exist")
    problem = _folder_problem(path.parent)
    if problem:
        raise UsageError(f"{where}: {problem}")
    if path.exists() and not os.access(path, os.W_OK):
        raise UsageError(f"{where}: the file exists and cannot be written to")


def _folder_problem(folder: Path) -> str | None:
    """Why no file can be made in ``folder``, or None. Tried with a nameless temporary
    file (nothing is left behind), as permissions alone do not tell (a read-only mount,
    a superuser)."""
    if not folder.is_dir():
        return f"the folder {folder} does not exist"
    try:
        with tempfile.TemporaryFile(dir=folder):
            pass
    except OSError as exc:
        return f"the folder {folder} cannot be written to ({exc.strerror or exc})"
    return None


def _gui(
    scenario: str | None,
    exit_after_s: float | None,
    screenshot: Path | None,
    plant: str | None = None,
    shadow: str | None = None,
    language: str | None = None,
) -> int:
    _screenshot_target("gui", screenshot, exit_after_s)
    if scenario is not None:
        check_hourly_csv(load(scenario))  # report a bad scenario before any window appears
    if plant is not None and shadow is not None:
        raise UsageError(
            "twin gui: --plant and --shadow exclude each other: a window is the plant or its shadow"
        )
    from twin.sim.engine import Simulation

    # the window's simulation: the engine, or a shadow following a plant (duck-typed)
    factory: Callable[[Scenario], Any] = Simulation.from_scenario
    observers, alarms, connection = None, None, None
    broker_url = plant if plant is not None else shadow
    if broker_url is not None:
        from twin.exchange.broker import BrokerError, broker_settings
        from twin.exchange.window import PlantConnection, ShadowConnection

        option = "--plant" if plant is not None else "--shadow"
        try:
            settings = broker_settings(broker_url, client_id=f"twin-gui-{os.getpid()}")
        except BrokerError as exc:
            raise UsageError(f"twin gui: {option}: {exc}") from None
        if plant is not None:
            plant_link = PlantConnection(settings)
            observers, connection = plant_link.observers, plant_link.status
        else:
            shadow_link = ShadowConnection(settings)
            factory, alarms = shadow_link.simulation, shadow_link.alarms
            connection = shadow_link.status
    from twin.gui.app import run_gui  # Qt is imported only when a window is wanted

    return run_gui(
        scenario,
        factory,
        exit_after_s=exit_after_s,
        screenshot=screenshot,
        observers=observers,
        alarms=alarms,
        connection=connection,
        language=language,
    )


def _study_gui(args: argparse.Namespace) -> int:
    _screenshot_target("gui", args.screenshot, args.exit_after)
    others = [
        option
        for option, value in (
            ("--scenario", args.scenario),
            ("--plant", args.plant),
            ("--shadow", args.shadow),
        )
        if value is not None
    ]
    if others:
        raise UsageError(
            f"twin gui: --study opens a study's results, not a run: leave out {', '.join(others)}"
        )
    from twin.study.report import is_study_results

    if not is_study_results(args.study):
        raise UsageError(
            f"twin gui: --study {args.study} is not a 'twin study' results "
            "folder (it has no study.json); give the folder 'twin study --out' "
            "wrote"
        )
    from twin.gui.study_app import run_study_gui
    from twin.study.results import ResultsError

    try:
        return run_study_gui(args.study, exit_after_s=args.exit_after, screenshot=args.screenshot)
    except ResultsError as exc:
        raise UsageError(f"twin gui: --study {exc}") from None


def _kiosk(args: argparse.Namespace) -> int:
    _screenshot_target("kiosk", args.screenshot, args.exit_after)
    from twin.gui.kiosk.app import run_kiosk  # checks the story before any window appears

    return run_kiosk(
        args.story,
        args.scenario,
        language=args.lang,
        screen=args.screen,
        exit_after_s=args.exit_after,
        screenshot=args.screenshot,
    )


def _run(args: argparse.Namespace) -> int:
    if not dt_in_range(args.dt):
        raise UsageError(
            f"twin run: --dt {format_duration(args.dt)} is outside "
            f"{DT_RANGE_S[0]:g} s to {DT_RANGE_S[1]:g} s"
        )
    ratio = args.every / args.dt
    if abs(ratio - round(ratio)) > 1e-6 or round(ratio) < 1:
        raise UsageError(
            f"twin run: --every {format_duration(args.every)} must be a whole multiple of "
            f"--dt {format_duration(args.dt)}"
        )
    if args.every > args.duration:
        raise UsageError(
            f"twin run: --every {format_duration(args.every)} is longer than "
            f"--duration {format_duration(args.duration)}: no row would be written"
        )
    if not FLUSH_RANGE_S[0] <= args.flush_every <= FLUSH_RANGE_S[1]:
        raise UsageError(
            f"twin run: --flush-every {format_duration(args.flush_every)} is outside "
            f"{format_duration(FLUSH_RANGE_S[0])} to {format_duration(FLUSH_RANGE_S[1])}"
        )
    if args.out.suffix.lower() not in OUTPUT_SUFFIXES:
        raise UsageError(f"twin run: --out {args.out} must end in .csv or .parquet")
    if args.components is not None and args.components.suffix.lower() != ".parquet":
        raise UsageError(f"twin run: --components {args.components} must end in .parquet")
    journal = args.journal or args.out.with_name(f"{args.out.stem}.alarms.sqlite")
    if journal.suffix.lower() not in JOURNAL_SUFFIXES:
        raise UsageError(f"twin run: --journal {journal} must end in .sqlite or .db")
    outputs = {"--out": args.out, "--components": args.components, "--journal": journal}
    for option, path in outputs.items():
        if path is not None:
            _writable_file("run", option, path)
    named = [
        (option, path.absolute())
        for option, path in (*outputs.items(), ("--record", args.record))
        if path is not None
    ]
    for k, (option, path) in enumerate(named):
        for other, other_path in named[k + 1 :]:
            if path == other_path:
                raise UsageError(
                    f"twin run: {option} and {other} name the same file {path}; "
                    "each output needs its own"
                )
    if args.record is not None:
        try:
            record_exists, parent_is_folder = args.record.exists(), args.record.parent.is_dir()
        except OSError as exc:  # a name too long for the file system, a looping link...
            raise UsageError(f"twin run: --record {args.record}: {exc.strerror or exc}") from None
        if not parent_is_folder:
            raise UsageError(f"twin run: the folder of {args.record} does not exist")
        problem = _folder_problem(args.record.parent)
        if problem:
            raise UsageError(f"twin run: --record {args.record}: {problem}")
    record_every = args.record_every or args.every
    if args.record is not None:
        if record_exists:
            raise UsageError(
                f"twin run: --record {args.record} already exists; recordings "
                "are never overwritten, choose a new folder"
            )
        ratio_record = record_every / args.dt
        if abs(ratio_record - round(ratio_record)) > 1e-6 or round(ratio_record) < 1:
            raise UsageError(
                f"twin run: --record-every {format_duration(record_every)} must be a whole "
                f"multiple of --dt {format_duration(args.dt)}"
            )
    elif args.record_every is not None:
        raise UsageError("twin run: --record-every needs --record")
    scenario = load(args.scenario)
    check_hourly_csv(scenario)  # before any output is made
    try:
        tariff = grid.prepare_run(
            scenario,
            args.scenario,
            args.every,
            args.out,
            lambda option, path: _writable_file("run", option, path),
        )
    except GridError as exc:
        raise UsageError(f"twin run: {exc}") from None
    scenario_toml = read_text(resolve(args.scenario))  # kept in every output
    # the engine loads only once the arguments are good
    from twin.runs.output import OutputError, run_headless

    try:
        code = run_headless(
            scenario,
            duration_s=args.duration,
            dt_s=args.dt,
            every_steps=round(ratio),
            out=args.out,
            components=args.components,
            seed=args.seed,
            progress=None if args.quiet else sys.stderr,
            journal=journal,
            record=args.record,
            record_every_s=record_every,
            scenario_toml=scenario_toml,
            flush_wall_s=args.flush_every,
        )
    except OutputError as exc:
        raise UsageError(f"twin run: {exc}") from None
    try:
        grid.after_run(scenario, tariff, args.out, None if args.quiet else sys.stderr)
    except GridError as exc:
        raise UsageError(f"twin run: {exc}") from None
    return code


def _grid(command: str, args: argparse.Namespace) -> int:
    """``twin bill``, ``twin power-quality``, ``twin grid-impact`` (``twin.grid``)."""
    try:
        text = grid.run_command(
            command, args, lambda option, path: _writable_file(command, option, path)
        )
    except GridError as exc:
        raise UsageError(f"twin {command}: {exc}") from None
    if text:
        print(text)
    return 0


def _replay(args: argparse.Namespace) -> int:
    _screenshot_target("replay", args.screenshot, args.exit_after)
    from twin.runs.recording import Recording, RecordingError
    from twin.runs.replay import COMPARABLE, ReplaySimulation, SiteSeries, read_reference

    try:
        recording = Recording.open(args.recording)
    except RecordingError as exc:
        raise UsageError(f"twin replay: {exc}") from None
    if recording.problems:
        print(f"twin replay: {recording.summary()}", file=sys.stderr)
    reference = None
    if args.compare is not None:
        try:
            reference = read_reference(args.compare, SiteSeries.of(recording))
        except RecordingError as exc:
            raise UsageError(f"twin replay: --compare {exc}; it takes {COMPARABLE}") from None
        for problem in reference.problems:
            print(f"twin replay: --compare {args.compare}: {problem}", file=sys.stderr)
    scenario_file = recording.scenario_file()
    scenario = load(scenario_file)  # report a bad scenario before any window appears
    from twin.sim.site import Site

    site = Site.build(scenario)
    topology = site.topology
    misfit = recording.misfit(topology.rack_count, topology.cdu_count)
    if misfit is not None:
        raise UsageError(f"twin replay: {args.recording}: {misfit}")
    from twin.gui.app import run_gui  # Qt is imported only when a window is wanted
    from twin.sim.engine import Simulation

    replays = [ReplaySimulation(recording, site)]

    def simulation_for(scenario):  # the recording first; a scenario opened later runs live
        return replays.pop() if replays else Simulation.from_scenario(scenario)

    return run_gui(
        scenario_file,
        simulation_for,
        exit_after_s=args.exit_after,
        screenshot=args.screenshot,
        reference=reference,
    )


def _report(args: argparse.Namespace) -> int:
    if args.grid_impact:
        return _grid_impact_report(args)
    from twin.study.report import is_study_results

    if is_study_results(args.run_output):
        return _study_report(args)
    from twin.exchange.report import is_shadow_recording

    if is_shadow_recording(args.run_output):
        return _shadow_report(args)
    from twin.calibration.record import is_calibration_record

    if is_calibration_record(args.run_output):
        return _calibration_report(args)
    pdf = args.out.suffix.lower() == ".pdf"
    if not pdf and args.out.suffix.lower() not in (".html", ".htm"):
        raise UsageError(f"twin report: --out {args.out} must end in .html or .pdf")
    if args.page_size is not None and not pdf:
        raise UsageError("twin report: --page-size is for a PDF (--out FILE.pdf)")
    _writable_file("report", "--out", args.out)
    if args.journal is not None and not args.journal.exists():
        raise UsageError(f"twin report: --journal {args.journal} does not exist")
    if args.journal is not None:
        from twin.alarms import JournalError, read_metadata

        try:
            read_metadata(args.journal)
        except JournalError as exc:
            raise UsageError(f"twin report: --journal {exc}") from None
    from twin.runs.recording import RecordingError

    try:
        if pdf:
            _write_pdf_report(args)
        else:
            from twin.runs.report import write_report

            write_report(args.run_output, args.out, compare_with=args.compare, journal=args.journal)
    except RecordingError as exc:
        raise UsageError(f"twin report: {exc}") from None
    except OSError as exc:
        raise UsageError(f"twin report: cannot write {args.out}: {exc.strerror}") from None
    print(f"twin report: wrote {args.out}", file=sys.stderr)
    return 0


def _grid_impact_report(args: argparse.Namespace) -> int:
    """``twin report RUN_OUTPUT --grid-impact``: the grid-impact pre-assessment."""
    _refuse_run_options(args, "a grid-impact pre-assessment")
    try:
        grid.report_grid_impact(
            args.run_output, args.out, lambda option, path: _writable_file("report", option, path)
        )
    except GridError as exc:
        raise UsageError(f"twin report: {exc}") from None
    print(
        f"twin report: wrote {args.out} (a pre-assessment, not the official score)",
        file=sys.stderr,
    )
    return 0


def _study_report(args: argparse.Namespace) -> int:
    """A study's results folder: its HTML report."""
    from twin.study.report import write_study_report
    from twin.study.results import ResultsError

    if args.out.suffix.lower() not in (".html", ".htm"):
        raise UsageError(f"twin report: --out {args.out}: a study's report is HTML (.html)")
    _refuse_run_options(args, "a study's results")
    _writable_file("report", "--out", args.out)
    try:
        write_study_report(args.run_output, args.out)
    except ResultsError as exc:
        raise UsageError(f"twin report: {exc}") from None
    except OSError as exc:
        raise UsageError(f"twin report: cannot write {args.out}: {exc.strerror}") from None
    print(f"twin report: wrote {args.out}", file=sys.stderr)
    return 0


def _refuse_run_options(args: argparse.Namespace, what: str) -> None:
    """``twin report``'s options that only a run's report takes, refused for ``what``."""
    for option, given in (
        ("--compare", args.compare),
        ("--journal", args.journal),
        ("--page-size", args.page_size),
    ):
        if given is not None:
            raise UsageError(f"twin report: {option} is for a run, not {what}")


def _shadow_report(args: argparse.Namespace) -> int:
    """A ``twin shadow --record`` folder: the model's fit to the plant, as HTML."""
    from twin.exchange.report import ShadowReportError, write_shadow_report

    if args.out.suffix.lower() not in (".html", ".htm"):
        raise UsageError(
            f"twin report: --out {args.out}: a shadow recording's report is HTML (.html)"
        )
    _refuse_run_options(args, "a shadow recording")
    _writable_file("report", "--out", args.out)
    try:
        write_shadow_report(args.run_output, args.out)
    except ShadowReportError as exc:
        raise UsageError(f"twin report: {exc}") from None
    except OSError as exc:
        raise UsageError(f"twin report: cannot write {args.out}: {exc.strerror}") from None
    print(f"twin report: wrote {args.out}", file=sys.stderr)
    return 0


def _calibration_report(args: argparse.Namespace) -> int:
    """A calibration (its record, or the calibrated scenario beside it): the calibration
    report, as HTML or PDF."""
    from twin.calibration.record import RecordError

    pdf = args.out.suffix.lower() == ".pdf"
    if not pdf and args.out.suffix.lower() not in (".html", ".htm"):
        raise UsageError(f"twin report: --out {args.out} must end in .html or .pdf")
    if args.compare is not None:
        raise UsageError(
            "twin report: --compare is for runs; a calibration's report sets the model "
            "before calibration beside the model after already: report each calibration "
            "on its own"
        )
    if args.journal is not None:
        raise UsageError("twin report: --journal is for a run, not a calibration")
    if args.page_size is not None and not pdf:
        raise UsageError("twin report: --page-size is for a PDF (--out FILE.pdf)")
    _writable_file("report", "--out", args.out)
    try:
        if pdf:
            from twin.calibration.report import record_report_content
            from twin.runs.report_pdf import write_pdf

            write_pdf(
                lambda embed_chart: record_report_content(args.run_output, embed_chart),
                args.out,
                page_size=_page_size(args.page_size),
            )
        else:
            from twin.calibration.report import write_record_report

            write_record_report(args.run_output, args.out)
    except RecordError as exc:
        raise UsageError(f"twin report: {exc}") from None
    except OSError as exc:
        raise UsageError(f"twin report: cannot write {args.out}: {exc.strerror}") from None
    print(f"twin report: wrote {args.out}", file=sys.stderr)
    return 0


def _page_size(given: str | None) -> str:
    from twin.runs.report_pdf import PAGE_SIZES

    sizes = {size.lower(): size for size in PAGE_SIZES}
    page_size = sizes.get((given or PAGE_SIZES[0]).lower())
    if page_size is None:
        raise UsageError(f"twin report: --page-size {given} is not one of {', '.join(PAGE_SIZES)}")
    return page_size


def _write_pdf_report(args: argparse.Namespace) -> None:
    from twin.runs.report_pdf import write_pdf_report  # Qt only for a PDF

    write_pdf_report(
        args.run_output,
        args.out,
        compare_with=args.compare,
        journal=args.journal,
        page_size=_page_size(args.page_size),
    )


def _study(args: argparse.Namespace) -> int:
    from twin.study.command import StudyUsageError, study_command

    try:
        return study_command(
            args.study_file,
            args.out,
            workers=args.workers,
            scheduler=args.scheduler,
            cluster_file=args.cluster,
            resume=args.resume,
            quiet=args.quiet,
        )
    except StudyUsageError as exc:
        raise UsageError(str(exc)) from None


def _calibrate(args: argparse.Namespace) -> int:
    if args.out.suffix.lower() != ".toml":
        raise UsageError(f"twin calibrate: --out {args.out} must end in .toml")
    _writable_file("calibrate", "--out", args.out)
    from twin.calibration.record import record_path

    if record_path(args.out).is_dir():
        raise UsageError(
            f"twin calibrate: {record_path(args.out)}, where the calibration's record goes "
            "beside --out, is a folder; move it away"
        )
    if args.report is not None:
        if args.report.suffix.lower() not in (".html", ".htm"):
            raise UsageError(f"twin calibrate: --report {args.report} must end in .html")
        _writable_file("calibrate", "--report", args.report)
    scenario = load(args.scenario)
    original = read_text(resolve(args.scenario))
    from twin.calibration.data import DataError, merge, parse_window, read_measurements
    from twin.calibration.fit import calibrate
    from twin.calibration.parameters import registry, select
    from twin.calibration.record import write_record
    from twin.calibration.report import write_report
    from twin.calibration.writer import write_calibrated
    from twin.exchange.report import ShadowReportError, ShadowSeries, is_shadow_recording

    def say(text: str) -> None:
        if not args.quiet:
            print(f"twin calibrate: {text}", file=sys.stderr)

    try:
        params = select(registry(scenario), args.fit)
        window = parse_window(args.window) if args.window else None
        holdout = parse_window(args.holdout) if args.holdout else None
        measurements = merge(
            [
                ShadowSeries.read(path).measurements()
                if is_shadow_recording(path)
                else read_measurements([path])
                for path in args.data
            ]
        )
        if args.cdu and not args.by_cdu:
            raise UsageError("twin calibrate: --cdu chooses the CDUs of --by-cdu; add --by-cdu")
        fit = (measurements, scenario, params, window, holdout)
        options = {"warmup_s": args.warmup, "offset_patterns": args.offset, "progress": say}
        if args.by_cdu:
            from twin.calibration.subloop import calibrate_by_cdu

            result = calibrate_by_cdu(*fit, **options, cdus=args.cdu).calibration
        else:
            result = calibrate(*fit, **options)
    except (DataError, ShadowReportError, ValueError) as exc:
        raise UsageError(f"twin calibrate: {exc}") from None
    data = [str(p) for p in args.data]
    record = record_path(args.out)
    try:
        # an earlier calibration's record goes first: a record beside the scenario is its own
        record.unlink(missing_ok=True)
        text = write_calibrated(args.out, original, result, data)
        write_record(
            record,
            result,
            scenario=scenario,
            data=data,
            calibrated_text=text,
            interval_s=measurements.interval_s,
        )
        if args.report is not None:
            write_report(args.report, result, scenario.scenario.name, data)
    except OSError as exc:
        raise UsageError(f"twin calibrate: cannot write: {exc.strerror or exc}") from None
    for r in result.params:
        shown = (
            f"{r.value:.5g} +/- {r.std:.2g} {r.param.unit} (prior {r.param.prior:.5g})"
            if r.fitted
            else f"left at {r.value:.5g}: {r.note}"
        )
        print(f"{r.param.name:<44} {shown}")
    for point, offset in result.offsets.items():
        print(f"{point:<44} sensor offset {offset:+.4g}")
    after = result.fit_window.validation_after
    groups = after.per_group if after is not None else {}
    failing = [g for g, v in groups.items() if v["hourly"].passes is False]
    passing = sum(v["hourly"].passes is True for v in groups.values())
    # too few whole hours for n - p > 0: neither a pass nor a fail
    undefined = len(groups) - passing - len(failing)
    print(
        f"Guideline 14 (hourly, fit window): {passing} of {len(groups)} point groups pass"
        + (f"; failing: {', '.join(failing)}" if failing else "")
        + (f"; {undefined} undefined (too few whole hours, or a mean of ~0)" if undefined else "")
    )
    say(f"wrote {args.out}, {record}" + (f" and {args.report}" if args.report else ""))
    return 0


def _check(name_or_path: str, points: Path | None = None) -> int:
    s = load(name_or_path)
    weather_rows = check_hourly_csv(s)
    grid_lines = grid.summary_lines(s, name_or_path)  # a bad tariff file is reported first
    racks = sum(r.count * r.racks_per_row for h in s.halls for r in h.rows)
    cdus = sum(c.count for h in s.halls for c in h.cdus)
    robots = sum(r.count for c in s.workcells for r in c.robots)
    print(f"{s.scenario.name}: {s.scenario.title} - valid")
    print(f"  halls            {len(s.halls)}")
    print(f"  racks            {racks:,}")
    print(f"  IT nameplate     {it_nameplate_kw(s) / 1000:,.1f} MW")
    print(f"  CDUs             {cdus:,}")
    print(f"  dry coolers      {s.heat_rejection.dry_coolers.count:,}")
    print(f"  chillers         {s.heat_rejection.chillers.count:,}")
    print(
        f"  utility          {s.power.utility.voltage_kv:g} kV, import cap "
        f"{s.power.utility.import_cap_mw:,.1f} MW"
    )
    print(
        f"  BESS             {s.power.bess.energy_mwh:,.1f} MWh / {s.power.bess.power_mw:,.1f} MW"
    )
    print(f"  generators       {s.power.generators.units} x {s.power.generators.rating_mw:g} MW")
    print(f"  robots           {robots} in {len(s.workcells)} workcell(s)")
    print(f"  workloads        {len(s.workloads)}; scheduled events {len(s.events)}")
    if weather_rows is not None:
        print(f"  weather          {weather_rows:,} rows from {s.climate.hourly_csv}")
    for line in grid_lines:
        print(line)
    if points is not None:
        from twin.exchange.commands import check_point_file

        return check_point_file(points, s)
    return 0


def _scenarios() -> int:
    builtins = builtin_scenarios()
    width = max(len(name) for name in builtins)
    for name, path in builtins.items():
        s = load(path)
        racks = sum(r.count * r.racks_per_row for h in s.halls for r in h.rows)
        default = " (default)" if name == DEFAULT_SCENARIO else ""
        print(
            f"{name:<{width}}  {racks:>6,} racks  {it_nameplate_kw(s) / 1000:>7,.1f} MW IT  "
            f"{s.scenario.title}{default}"
        )
    return 0
