"""``twin points``, ``twin plant`` and ``twin shadow``: their arguments and checks.

Every problem a user can cause ends in one ``CommandError`` (one line, exit status 2) or a
``ScenarioError`` listing every problem of a scenario or point list.
"""

from __future__ import annotations

import argparse
import os
from pathlib import Path

from twin import arguments
from twin.scenario.units import DURATION_FORMS

COMMANDS = ("points", "plant", "shadow")
POINT_SUFFIXES = (".csv", ".toml")


class CommandError(Exception):
    """A bad argument or setting, reported as one line with exit status 2."""


def _broker_options(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--broker",
        required=True,
        metavar="mqtt://HOST:PORT",
        help="the MQTT 3.1.1 broker: mqtt://HOST:PORT, or mqtts://HOST:PORT "
        "for TLS, or embedded[:PORT] to start one in this process on "
        "127.0.0.1 (default port 1883; needs twin[broker]). User name and "
        "password come from TWIN_MQTT_USERNAME / "
        "TWIN_MQTT_PASSWORD or the per-user file mqtt.toml, never from here",
    )
    parser.add_argument(
        "--client-id", metavar="ID", help="MQTT client id (default: twin-<command>-<process id>)"
    )
    parser.add_argument(
        "--tls-ca",
        type=Path,
        metavar="FILE.pem",
        help="certificate authority to trust (default: the system's)",
    )
    parser.add_argument(
        "--tls-cert", type=Path, metavar="FILE.pem", help="client certificate (with --tls-key)"
    )
    parser.add_argument("--tls-key", type=Path, metavar="FILE.pem", help="its private key")
    parser.add_argument(
        "--points",
        type=Path,
        metavar="FILE.csv|FILE.toml",
        help="point list mapping the BMS's points to the scenario (default: "
        "the one 'twin points' derives)",
    )
    parser.add_argument(
        "--duration",
        type=arguments.positive_duration,
        metavar="DURATION",
        help=f"simulated time to run, then stop; {DURATION_FORMS} (default: until interrupted)",
    )
    parser.add_argument(
        "--seed", type=arguments.seed, metavar="N", help="random seed (default: the scenario's own)"
    )


def add_commands(sub) -> None:
    points = sub.add_parser(
        "points",
        help="write the site's BMS point list (DSX Exchange)",
        description="Write the point list a BMS of this site publishes on the DSX Exchange "
        "bus: one row per point with its objectType, pointType, processArea, engUnit or "
        "stateText, rack and object ids, servesId (power and fluid topology), tagPath and "
        "the twin quantity it maps to. Edit tagPaths and ids to match a real BMS; "
        "'twin check SCENARIO --points FILE' validates the result.",
    )
    points.add_argument("--scenario", required=True, metavar="NAME|PATH")
    points.add_argument(
        "--out",
        required=True,
        type=Path,
        metavar="FILE.csv|FILE.toml",
        help="the format follows the suffix",
    )
    points.add_argument(
        "--integration",
        default=None,
        metavar="ID",
        help="the integration that owns the write-back points (default MEPAI1)",
    )

    plant = sub.add_parser(
        "plant",
        help="run the simulation as a virtual BMS on an MQTT broker",
        description="Run a scenario in real or scaled time and publish it as a DSX Exchange "
        "BMS would: retained metadata at start and every 100 s, values on change (per-point "
        "deadband) and at least every 100 s, System heartbeats, timestamps from the "
        "simulated clock. Applies CDU supply setpoint requests from the owning integration "
        "within guardrails, reverting when its heartbeat stops. Scenario events run as "
        "scheduled.",
    )
    plant.add_argument("--scenario", required=True, metavar="NAME|PATH")
    _broker_options(plant)
    plant.add_argument(
        "--speed",
        type=arguments.speed,
        default=1.0,
        metavar="1x|60x|max",
        help="simulated seconds per wall-clock second (default 1x)",
    )
    plant.add_argument(
        "--integration",
        default=None,
        metavar="ID",
        help="the integration allowed to write back (default MEPAI1)",
    )
    plant.add_argument(
        "--sensor-noise",
        type=arguments.number(0, 100),
        default=0.0,
        metavar="SCALE",
        help="add sensor noise: SCALE times a typical instrument's standard deviation (default 0)",
    )
    plant.add_argument(
        "--dropout",
        type=arguments.number(0, 1, below=True),
        default=0.0,
        metavar="FRACTION",
        help="lose this fraction of due samples (default 0)",
    )
    plant.add_argument(
        "--journal", type=Path, metavar="FILE.sqlite", help="the plant's own alarm journal"
    )

    shadow = sub.add_parser(
        "shadow",
        help="follow a plant's BMS messages with the model beside it",
        description="Subscribe to a plant's DSX Exchange BMS topics (metadata first), step "
        "the model to the plant's timestamps, drive it with the measured rack power, outdoor "
        "air and setpoints, and compare every modelled quantity that has a measurement: "
        "residuals, a learned noise band, CUSUM divergence alarms, stale and bad-quality "
        "points. Publishes nothing unless --allow-write names its heartbeat points.",
    )
    shadow.add_argument("--scenario", required=True, metavar="NAME|PATH")
    _broker_options(shadow)
    shadow.add_argument(
        "--integration",
        default=None,
        metavar="ID",
        help="the integration the shadow is, for --allow-write (default MEPAI1)",
    )
    shadow.add_argument(
        "--allow-write",
        nargs="+",
        default=(),
        metavar="TAGPATH",
        help="heartbeat points of its integration the shadow may publish "
        "(HeartbeatTimestampIntegration, HeartbeatEchoIntegration); without "
        "it the shadow publishes nothing",
    )
    shadow.add_argument(
        "--record",
        type=Path,
        metavar="FOLDER",
        help="a new folder for the measured and modelled series (Parquet), "
        "the alarm journal and the fit report (CV(RMSE), NMBE per point)",
    )
    shadow.add_argument(
        "--no-follow-drift",
        dest="follow_drift",
        action="store_false",
        help="keep the scenario's exchanger UA and series resistance in the model rather "
        "than following the values tracked from the plant (the drift then shows as residuals)",
    )


def run_command(args: argparse.Namespace) -> int:
    from twin.exchange.points import DEFAULT_INTEGRATION
    from twin.scenario import load

    command = args.command
    scenario = load(args.scenario)
    integration = getattr(args, "integration", None) or DEFAULT_INTEGRATION
    if command == "points":
        return _points(args, scenario, integration)
    embedded = None
    url = args.broker
    if url == "embedded" or url.startswith("embedded:"):
        from twin.exchange.embedded import EMBEDDED_PORT, EmbeddedBroker, EmbeddedBrokerError

        port = url.partition(":")[2] or str(EMBEDDED_PORT)
        if not port.isdigit() or not 0 < int(port) < 65536:
            raise CommandError(
                f"twin {command}: --broker {url}: the port must be a number 1-65535 (embedded:PORT)"
            )
        try:
            embedded = EmbeddedBroker(int(port))
            embedded.start()
        except EmbeddedBrokerError as exc:
            raise CommandError(f"twin {command}: {exc}") from None
        url = embedded.url
        print(f"twin {command}: embedded broker (amqtt) listening on {url}", flush=True)
    try:
        return _run_on(args, scenario, integration, url)
    finally:
        if embedded is not None:
            embedded.stop()


def _run_on(args: argparse.Namespace, scenario, integration: str, url: str) -> int:
    from twin.exchange.broker import BrokerError, broker_settings

    command = args.command
    try:
        settings = broker_settings(
            url,
            client_id=args.client_id or f"twin-{command}-{os.getpid()}",
            ca_file=args.tls_ca,
            cert_file=args.tls_cert,
            key_file=args.tls_key,
        )
    except BrokerError as exc:
        raise CommandError(f"twin {command}: {exc}") from None
    points = _point_list(args, scenario, integration)
    if command == "plant":
        from twin.exchange.runner import PlantOptions, run_plant

        if args.journal is not None:
            _new_file(command, "--journal", args.journal, (".sqlite", ".db"))
        return run_plant(
            scenario,
            points,
            settings,
            PlantOptions(
                speed=args.speed,
                duration_s=args.duration,
                seed=args.seed,
                noise_scale=args.sensor_noise,
                dropout=args.dropout,
                journal=args.journal,
            ),
        )
    from twin.exchange.runner import ShadowOptions, run_shadow

    if args.record is not None:
        if args.record.exists():
            raise CommandError(
                f"twin shadow: --record {args.record} already exists; "
                "recordings are never overwritten, choose a new folder"
            )
        if not args.record.parent.is_dir():
            raise CommandError(f"twin shadow: the folder of {args.record} does not exist")
    from twin.exchange.shadow import HeartbeatWriter

    try:
        HeartbeatWriter(points, integration, tuple(args.allow_write))
    except ValueError as exc:
        raise CommandError(f"twin shadow: {exc}") from None
    return run_shadow(
        scenario,
        points,
        settings,
        ShadowOptions(
            duration_s=args.duration,
            seed=args.seed,
            record=args.record,
            integration=integration,
            allow_write=tuple(args.allow_write),
            follow_drift=args.follow_drift,
        ),
    )


def _points(args: argparse.Namespace, scenario, integration: str) -> int:
    from twin.exchange.points import default_points, write_points

    _new_file("points", "--out", args.out, POINT_SUFFIXES)
    points = default_points(scenario, integration=integration)
    try:
        write_points(points, args.out)
    except OSError as exc:
        raise CommandError(f"twin points: cannot write {args.out}: {exc.strerror}") from None
    print(f"twin points: wrote {len(points):,} points to {args.out}")
    return 0


def _point_list(args: argparse.Namespace, scenario, integration: str):
    from twin.exchange.points import default_points, load_points

    if args.points is None:
        return default_points(scenario, integration=integration)
    if args.points.suffix.lower() not in POINT_SUFFIXES:
        raise CommandError(f"twin {args.command}: --points {args.points} must end in .csv or .toml")
    if not args.points.is_file():
        raise CommandError(f"twin {args.command}: --points {args.points} does not exist")
    return load_points(args.points, scenario)


def check_point_file(path: Path, scenario) -> int:
    """``twin check SCENARIO --points FILE``: the point list's problems (ScenarioError)."""
    from twin.exchange.points import load_points

    if not path.is_file():
        raise CommandError(f"twin check: --points {path} does not exist")
    points = load_points(path, scenario)
    print(f"  points           {len(points):,} in {path} - valid")
    return 0


def _new_file(command: str, option: str, path: Path, suffixes: tuple[str, ...]) -> None:
    if path.suffix.lower() not in suffixes:
        raise CommandError(f"twin {command}: {option} {path} must end in {' or '.join(suffixes)}")
    if path.is_dir():
        raise CommandError(f"twin {command}: {option} {path} is a folder; give a file name")
    if not path.parent.is_dir():
        raise CommandError(f"twin {command}: the folder of {path} does not exist")
