"""The loops behind ``twin plant`` and ``twin shadow``. ``twin plant`` steps an
``ObservedRun`` whose observers are the alarm engine and the virtual BMS (``BmsObserver``),
paced against the wall clock at ``speed``; ``twin shadow`` hands the broker's messages to
its model, which steps as far as the plant's clock allows."""

from __future__ import annotations

import queue
import signal
import sys
import threading
import time
from dataclasses import dataclass
from pathlib import Path
from typing import TextIO

from twin.exchange import contract
from twin.exchange.broker import BrokerSettings, MqttLink
from twin.exchange.plant import BmsObserver
from twin.exchange.points import Point
from twin.exchange.shadow import EVALUATE_EVERY_S, HOLD_S, QUIET_S, HeartbeatWriter, Shadow
from twin.scenario import Scenario

PROGRESS_EVERY_S = 10.0  # wall time between progress lines
CONNECT_WAIT_S = 5.0  # the broker gets this long before the first "waiting" note
INGEST_BATCH = 5000  # messages taken from the inbox before the model steps


@dataclass(frozen=True, slots=True)
class PlantOptions:
    speed: float | None  # simulated seconds per wall second; None: as fast as it steps
    duration_s: float | None  # simulated; None: until interrupted
    dt_s: float = 1.0
    seed: int | None = None
    noise_scale: float = 0.0
    dropout: float = 0.0
    journal: Path | None = None


def run_plant(
    scenario: Scenario,
    points: list[Point],
    settings: BrokerSettings,
    options: PlantOptions,
    *,
    stop: threading.Event | None = None,
    log: TextIO = sys.stderr,
) -> int:
    from twin.alarms import AlarmEngine, AlarmJournal
    from twin.runs.observe import ObservedRun
    from twin.sim.engine import Simulation

    stop = _stop_on_sigterm(stop)
    sim = Simulation.from_scenario(scenario, seed=options.seed, dt_s=options.dt_s)
    link = MqttLink(settings, log=log, name="twin plant")
    bms = BmsObserver(
        link, points, noise_scale=options.noise_scale, dropout=options.dropout, log=log
    )
    link.subscriptions = bms.subscriptions
    journal = None
    if options.journal is not None:
        journal = AlarmJournal(
            options.journal, {"scenario": scenario.scenario.name, "source": "twin plant"}
        )
    alarms = AlarmEngine.from_scenario(scenario, sim.topology, journal=journal)
    run = ObservedRun(sim, [alarms, bms])
    link.start()
    if not link.wait_connected(CONNECT_WAIT_S):
        print(f"twin plant: waiting for the broker {settings.address}", file=log, flush=True)
    while not link.wait_connected(1.0):
        if stop.is_set():
            link.stop()
            return 0
    start_wall = time.monotonic()
    next_progress = start_wall + PROGRESS_EVERY_S
    raised: set[tuple[str, int]] = set()
    generation = alarms.summary().generation
    try:
        while not stop.is_set():
            if options.duration_s is not None and sim.time_s >= options.duration_s - 1e-9:
                break
            run.step()
            summary = alarms.summary()
            if summary.generation != generation:
                generation = summary.generation
                _report_alarms(summary, raised, sim.time_s, log)
            now = time.monotonic()
            if options.speed is not None:
                ahead = start_wall + sim.time_s / options.speed - now
                if ahead > 0:
                    stop.wait(ahead)
            if now >= next_progress:
                next_progress = now + PROGRESS_EVERY_S
                print(
                    f"twin plant: t={sim.time_s:.0f}s published {link.counters.published}, "
                    f"unsent while disconnected {link.counters.unsent_disconnected}",
                    file=log,
                    flush=True,
                )
        run.finish()
    finally:
        link.stop()
        if journal is not None:
            journal.close()
    counters = bms.counters
    print(
        f"twin plant: done at t={sim.time_s:.0f}s; published {link.counters.published}; "
        f"write-backs accepted {counters.accepted}, refused {counters.refused}, "
        f"malformed {counters.malformed}, not ours {counters.not_owner}",
        file=log,
        flush=True,
    )
    return 0


def _stop_on_sigterm(stop: threading.Event | None) -> threading.Event:
    """SIGTERM (a service manager stopping twin) ends the loop as Ctrl+C does: the
    recording and journal are closed whole."""
    stop = stop or threading.Event()
    if threading.current_thread() is threading.main_thread():
        signal.signal(signal.SIGTERM, lambda signum, frame: stop.set())
    return stop


def _report_alarms(summary, raised: set, t: float, log: TextIO) -> None:
    active = set()
    for alarm in summary.alarms:
        if alarm.active:
            key = (alarm.key.tag, alarm.key.component, alarm.key.condition)
            active.add(key)
            if key not in raised:
                print(
                    f"twin plant: t={t:.0f}s alarm {alarm.key.tag} {alarm.condition} "
                    f"{alarm.component}",
                    file=log,
                    flush=True,
                )
    raised.intersection_update(active)
    raised.update(active)


@dataclass(frozen=True, slots=True)
class ShadowOptions:
    duration_s: float | None  # of the plant's time; None: until interrupted
    dt_s: float = 1.0
    seed: int | None = None
    record: Path | None = None
    integration: str = ""
    allow_write: tuple[str, ...] = ()  # tagPaths of heartbeat points the shadow may write
    follow_drift: bool = True  # the model takes the tracked UA and series resistance


def run_shadow(
    scenario: Scenario,
    points: list[Point],
    settings: BrokerSettings,
    options: ShadowOptions,
    *,
    stop: threading.Event | None = None,
    log: TextIO = sys.stderr,
) -> int:
    from twin.alarms import AlarmJournal
    from twin.exchange.record import ShadowRecorder
    from twin.sim.engine import Simulation

    stop = _stop_on_sigterm(stop)
    sim = Simulation.from_scenario(scenario, seed=options.seed, dt_s=options.dt_s)
    recorder = journal = None
    if options.record is not None:
        recorder = ShadowRecorder(
            options.record,
            points,
            scenario_name=scenario.scenario.name,
            evaluate_every_s=EVALUATE_EVERY_S,
        )
        journal = AlarmJournal(
            options.record / "alarms.sqlite",
            {"scenario": scenario.scenario.name, "source": "twin shadow"},
        )
    shadow = Shadow(
        sim,
        points,
        journal=journal,
        log=log,
        recorder=recorder.add if recorder else None,
        follow_drift=options.follow_drift,
    )
    if options.record is not None:
        shadow.estimation.record(options.record / "estimates.csv")
    # metadata first (retained, so it arrives on subscribing), then values: one wildcard
    # over the BMS's own namespace; the shadow publishes nothing on it
    link = MqttLink(
        settings,
        subscriptions=(f"{contract.ROOT}/{contract.BMS_PUBLISHER}/#",),
        log=log,
        name="twin shadow",
    )
    writer = (
        HeartbeatWriter(points, options.integration, options.allow_write)
        if options.allow_write
        else None
    )

    def handle(topic: str, payload: bytes) -> None:
        shadow.ingest(topic, payload)
        if writer is not None:
            for out_topic, out_payload in writer.echo(topic, payload, time.time()):
                link.publish(out_topic, out_payload)

    link.start()
    next_progress = time.monotonic() + PROGRESS_EVERY_S
    try:
        while not stop.is_set():
            # the model stays HOLD_S behind the plant's newest value
            if (
                options.duration_s is not None
                and sim.time_s >= options.duration_s - HOLD_S - sim.dt_s - 1e-9
            ):
                break
            if writer is not None:
                for out_topic, out_payload in writer.due(time.time()):
                    link.publish(out_topic, out_payload)
            try:
                topic, payload, _ = link.inbox.get(timeout=QUIET_S)
            except queue.Empty:  # the bus is quiet: the plant's newest instant is complete
                shadow.set_connected(link.connected.is_set())
                shadow.caught_up = True
                shadow.advance()
                continue
            handle(topic, payload)
            for _ in range(INGEST_BATCH):
                try:
                    topic, payload, _ = link.inbox.get_nowait()
                except queue.Empty:
                    break
                handle(topic, payload)
            shadow.set_connected(link.connected.is_set())
            shadow.advance()
            now = time.monotonic()
            if now >= next_progress:
                next_progress = now + PROGRESS_EVERY_S
                print(
                    f"twin shadow: model t={sim.time_s:.0f}s; {shadow.status.text()}",
                    file=log,
                    flush=True,
                )
    finally:
        link.stop()
        if journal is not None:
            journal.close()
        if recorder is not None:
            recorder.close()
        shadow.estimation.close()
    counters = link.counters
    print(
        f"twin shadow: done at model t={sim.time_s:.0f}s; {shadow.status.text()}; "
        f"{counters.dropped_inbox_full} dropped with the inbox full, "
        f"{counters.dropped_too_large} over 64 kB; divergence alarms raised "
        f"{len(shadow.divergences)}, drift alarms raised "
        f"{shadow.estimation.alarms_raised()}",
        file=log,
        flush=True,
    )
    return 0
