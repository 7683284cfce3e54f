"""``twin flex``: the simulation as a DSX Flex agent on an MQTT broker (``twin.exchange.flex``):
its arguments, checks and loop. The broker's address, credentials and TLS are those of
``twin plant`` (``twin.exchange.broker``)."""

from __future__ import annotations

import argparse
import os
import sys
import threading
import time
from pathlib import Path
from typing import TextIO

from twin import arguments
from twin.exchange.commands import CommandError

PROGRESS_EVERY_S = 10.0  # wall time between progress lines
CONNECT_WAIT_S = 5.0
INBOX_MESSAGES = 1000  # load targets are rare: a flood is dropped and counted


def add_parser(sub) -> None:
    flex = sub.add_parser(
        "flex",
        help="run the simulation as a DSX Flex agent taking the grid's load targets",
        description="Run a scenario in real or scaled time as the site's DSX Flex agent "
        "and infrastructure agent (NVIDIA DSX Flex 1.7.0, CloudEvents over MQTT 3.1.1): "
        "take grid.loadtarget.set.v1 from one ISV, hold the site's grid import to the "
        "target with its BESS, then with the shed hints of a breach alert (GPU power caps "
        "on training rows, training suspended at a checkpoint, inference caps last; "
        "generator sets where allowed), and publish power-state status, breach alerts "
        "and enforcement results. Times are the simulated clock.",
    )
    flex.add_argument("--scenario", required=True, metavar="NAME|PATH")
    flex.add_argument(
        "--broker",
        required=True,
        metavar="mqtt://HOST:PORT",
        help="the MQTT 3.1.1 broker: mqtt://HOST:PORT or mqtts://HOST:PORT "
        "(TLS); user name and password from TWIN_MQTT_USERNAME / "
        "TWIN_MQTT_PASSWORD or the per-user file mqtt.toml, as for twin plant",
    )
    flex.add_argument(
        "--client-id", metavar="ID", help="MQTT client id (default: twin-flex-<process id>)"
    )
    flex.add_argument(
        "--tls-ca",
        type=Path,
        metavar="FILE.pem",
        help="certificate authority to trust (default: the system's)",
    )
    flex.add_argument(
        "--tls-cert", type=Path, metavar="FILE.pem", help="client certificate (with --tls-key)"
    )
    flex.add_argument("--tls-key", type=Path, metavar="FILE.pem", help="its private key")
    flex.add_argument(
        "--isv",
        required=True,
        metavar="ID",
        help="the ISV whose load targets are taken (grid/v1/isv/ID/...)",
    )
    flex.add_argument(
        "--agent-id",
        default="twin",
        metavar="ID",
        help="this DSX Flex agent's identifier (default twin)",
    )
    flex.add_argument(
        "--infra-id",
        default="twin-infra",
        metavar="ID",
        help="this site's infrastructure agent's identifier (default twin-infra)",
    )
    flex.add_argument(
        "--feed",
        default="main",
        metavar="TAG",
        help="the feed tag of the site's grid connection (default main)",
    )
    flex.add_argument(
        "--generators",
        choices=("allowed", "never"),
        help="whether generator sets may carry load in parallel with the "
        "grid (default: the scenario's [demand_response] generators_allowed, "
        "else never)",
    )
    flex.add_argument(
        "--jws-verify-key",
        type=Path,
        metavar="FILE.pem",
        help="the ISV's public key (EC P-256 or RSA, PEM): its load targets' "
        "data must then be JWS-signed with it (ES256 or RS256); without it, "
        "only plaintext data is taken (needs twin[flex])",
    )
    flex.add_argument(
        "--jws-sign-key",
        type=Path,
        metavar="FILE.pem",
        help="this agent's private key (EC P-256 or RSA, unencrypted PEM): "
        "its events' data is then JWS-signed (needs twin[flex])",
    )
    flex.add_argument(
        "--jws-kid",
        metavar="ID",
        help="the key id in the signed data's JWS header (default: the agent id)",
    )
    flex.add_argument(
        "--status-every",
        type=arguments.positive_duration,
        metavar="DURATION",
        help="periodic power-state status, simulated time (default 30s)",
    )
    flex.add_argument(
        "--speed",
        type=arguments.speed,
        default=1.0,
        metavar="1x|60x|max",
        help="simulated seconds per wall-clock second (default 1x)",
    )
    flex.add_argument(
        "--duration",
        type=arguments.positive_duration,
        metavar="DURATION",
        help="simulated time to run, then stop (default: until interrupted)",
    )
    flex.add_argument(
        "--seed", type=arguments.seed, metavar="N", help="random seed (default: the scenario's own)"
    )


def run_command(args: argparse.Namespace) -> int:
    from twin.exchange.broker import BrokerError, broker_settings
    from twin.exchange.flex import STATUS_EVERY_S, FlexOptions, load_key
    from twin.scenario import load

    scenario = load(args.scenario)
    programme = scenario.demand_response
    generators = (
        args.generators == "allowed"
        if args.generators is not None
        else programme is not None and programme.generators_allowed
    )
    try:
        if args.jws_kid is not None and args.jws_sign_key is None:
            raise ValueError("--jws-kid names the key of --jws-sign-key; give both")
        verify_key = load_key(args.jws_verify_key, private=False) if args.jws_verify_key else None
        sign_key = load_key(args.jws_sign_key, private=True) if args.jws_sign_key else None
        options = FlexOptions(
            isv=args.isv,
            agent=args.agent_id,
            infra=args.infra_id,
            feed=args.feed,
            generators=generators,
            status_every_s=args.status_every or STATUS_EVERY_S,
            verify_key=verify_key,
            sign_key=sign_key,
            sign_kid=args.jws_kid or args.agent_id,
        )
        options.check()
        settings = broker_settings(
            args.broker,
            client_id=args.client_id or f"twin-flex-{os.getpid()}",
            ca_file=args.tls_ca,
            cert_file=args.tls_cert,
            key_file=args.tls_key,
        )
    except (ValueError, BrokerError) as exc:
        raise CommandError(f"twin flex: {exc}") from None
    return run_flex(
        scenario, settings, options, speed=args.speed, duration_s=args.duration, seed=args.seed
    )


def run_flex(
    scenario,
    settings,
    options,
    *,
    speed: float | None,
    duration_s: float | None,
    seed: int | None = None,
    dt_s: float = 1.0,
    stop: threading.Event | None = None,
    log: TextIO = sys.stderr,
) -> int:
    from twin.exchange.broker import MqttLink
    from twin.exchange.flex import FlexAgent
    from twin.exchange.runner import _stop_on_sigterm
    from twin.runs.observe import ObservedRun
    from twin.sim.engine import Simulation

    stop = _stop_on_sigterm(stop)
    sim = Simulation.from_scenario(scenario, seed=seed, dt_s=dt_s)
    link = MqttLink(settings, log=log, name="twin flex", inbox_size=INBOX_MESSAGES)
    agent = FlexAgent(link, options, log=log)
    link.subscriptions = agent.subscriptions
    run = ObservedRun(sim, [agent])
    link.start()
    if not link.wait_connected(CONNECT_WAIT_S):
        print(f"twin flex: waiting for the broker {settings.address}", file=log, flush=True)
    while not link.wait_connected(1.0):
        if stop.is_set():
            link.stop()
            return 0
    print(
        f"twin flex: agent {options.agent} taking load targets of ISV {options.isv} on "
        f"feed {options.feed}; generators {'allowed' if options.generators else 'never'}; "
        f"data {'signed' if options.verify_key is not None else 'plaintext'} in, "
        f"{'signed' if options.sign_key is not None else 'plaintext'} out",
        file=log,
        flush=True,
    )
    start_wall = time.monotonic()
    next_progress = start_wall + PROGRESS_EVERY_S
    try:
        while not stop.is_set():
            if duration_s is not None and sim.time_s >= duration_s - 1e-9:
                break
            run.step()
            now = time.monotonic()
            if speed is not None:
                ahead = start_wall + sim.time_s / speed - now
                if ahead > 0:
                    stop.wait(ahead)
            if now >= next_progress:
                next_progress = now + PROGRESS_EVERY_S
                print(
                    f"twin flex: t={sim.time_s:.0f}s import "
                    f"{getattr(agent, 'import_w', 0.0) / 1e3:,.1f} kW",
                    file=log,
                    flush=True,
                )
        run.finish()
    finally:
        link.stop()
    c, lc = agent.counters, link.counters
    print(
        f"twin flex: done at t={sim.time_s:.0f}s; load targets accepted {c.accepted}, "
        f"malformed {c.malformed}, replayed {c.duplicate}, for other feeds "
        f"{c.other_feed}; {lc.dropped_inbox_full} dropped with the inbox full, "
        f"{lc.dropped_too_large} over 64 kB; breaches {c.breaches}, enforcements "
        f"{c.enforcements}, status {c.statuses}",
        file=log,
        flush=True,
    )
    return 0
