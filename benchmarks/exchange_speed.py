"""DSX Exchange speed on the gigawatt site, through a real Mosquitto broker on this machine.

1. Plant burst: ``VirtualBms`` publishing through ``MqttLink.publish_frames`` with every
   point due at once, timed until paho's network thread has written the last byte:
   messages per second.
2. Plant and shadow at 1x: a plant process (this script with ``--plant-process``: the
   simulation paced at 1x, every point due at every 2 s sample, i.e. one update per point
   every 2 s, the issue's load) and the shadow here, on one broker. The plant reports the
   messages per second it kept up and its CPU use (one core = 100 %); the shadow reports
   the messages per second it ingested, its CPU use, the publish-to-model latency of every
   value (from the wall time the plant began publishing the value's timestamp, read from
   the plant's log of its samples, to the wall time the model stepped past it): p50, p95
   and max, and its peak resident memory in the first and second half of the run (flat
   memory: equal).

Prints medians over ``--repeat`` rounds. Needs ``mosquitto`` on PATH (or /usr/sbin).
Run: nice python benchmarks/exchange_speed.py [--repeat 3] [--seconds 60]
"""

from __future__ import annotations

import argparse
import json
import os
import queue
import resource
import shutil
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from twin.exchange import contract  # noqa: E402
from twin.exchange.broker import MqttLink, broker_settings  # noqa: E402
from twin.exchange.plant import VirtualBms  # noqa: E402
from twin.exchange.points import default_points  # noqa: E402
from twin.exchange.shadow import QUIET_S, Shadow  # noqa: E402
from twin.scenario import load  # noqa: E402
from twin.sim.engine import Simulation  # noqa: E402

SCENARIO = "gigawatt"


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def start_broker(folder: Path) -> tuple[subprocess.Popen, str]:
    mosquitto = shutil.which("mosquitto") or "/usr/sbin/mosquitto"
    port = free_port()
    config = folder / "mosquitto.conf"
    # no cap on a subscriber's queue: a shadow that falls behind shows as latency
    config.write_text(
        f"persistence false\nlistener {port} 127.0.0.1\nallow_anonymous true\n"
        "max_queued_messages 0\n"
    )
    process = subprocess.Popen(
        [mosquitto, "-c", str(config)], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL
    )
    for _ in range(200):
        with socket.socket() as s:
            if s.connect_ex(("127.0.0.1", port)) == 0:
                break
        time.sleep(0.05)
    return process, f"mqtt://127.0.0.1:{port}"


def make_bms(scenario, sim, points, link) -> VirtualBms:
    return VirtualBms(
        scenario,
        sim.topology,
        points,
        lambda t, p, r: link.publish(t, p, retain=r),
        sim.set_cdu_supply_setpoint,
        apply_isolation=sim.set_rack_isolation,
        publish_frames=link.publish_frames,
    )


def connect(url: str, client_id: str, subscriptions: tuple[str, ...] = ()) -> MqttLink:
    link = MqttLink(
        broker_settings(url, client_id=client_id, environ={}),
        subscriptions=subscriptions,
        log=open(os.devnull, "w"),  # noqa: SIM115
        name="bench",
    )
    link.start()
    if not link.wait_connected(30):
        raise SystemExit(f"no broker at {url}")
    return link


def wait_written(link: MqttLink, timeout_s: float = 120.0) -> None:
    deadline = time.monotonic() + timeout_s
    while link.client.want_write() and time.monotonic() < deadline:
        time.sleep(0.001)


def plant_burst(url: str) -> float:
    """Messages/s with every point due at once, until the last byte is written."""
    scenario = load(SCENARIO)
    sim = Simulation(scenario)
    link = connect(url, "bench-plant")
    bms = make_bms(scenario, sim, default_points(scenario, sim.topology), link)
    sim.step()
    bms.observe(sim.snapshot(robots=False))  # metadata and the first values
    wait_written(link)
    bms.republish_all()
    bms._next_metadata_s = float("inf")  # values only
    sim.step()
    snapshot = sim.snapshot(robots=False)
    start = time.perf_counter()
    sent = bms.observe(snapshot)
    wait_written(link)
    rate = sent / (time.perf_counter() - start)
    link.stop()
    return rate


def plant_process(url: str, seconds: float, out: Path) -> None:
    """The plant at 1x with every point due at every sample; its samples' wall times and
    its CPU use go to ``out`` (JSON)."""
    scenario = load(SCENARIO)
    sim = Simulation(scenario)
    link = connect(url, "bench-plant-1x")
    bms = make_bms(scenario, sim, default_points(scenario, sim.topology), link)
    samples: list[tuple[int, float]] = []  # (timestamp ms, wall time its publishing began)
    sent = 0
    start_wall, start_cpu = time.monotonic(), time.process_time()
    lag_s = 0.0
    metadata_rounds = 0
    while sim.time_s < seconds:
        sim.step()
        metadata_rounds += sim.time_s >= bms._next_metadata_s - 1e-9
        snapshot = sim.snapshot(robots=False)
        bms.sent_s.fill(-np.inf)  # every point due at its next sample
        began = time.time()
        count = bms.observe(snapshot)
        if count > 1000:
            samples.append((bms.timestamp_ms(sim.time_s), began))
        sent += count
        ahead = start_wall + sim.time_s - time.monotonic()
        lag_s = max(lag_s, -ahead)
        if ahead > 0:
            time.sleep(ahead)
    wait_written(link)
    wall = time.monotonic() - start_wall
    cpu = time.process_time() - start_cpu
    link.stop()
    out.write_text(
        json.dumps(
            {
                "sent": sent,
                "values": sent - metadata_rounds * len(bms.points),
                "wall_s": wall,
                "cpu_s": cpu,
                "max_lag_s": lag_s,
                "samples": samples,
                "points": len(bms.points),
            }
        )
    )


def cpu_seconds(pid: int) -> float:
    """User + system CPU time of a process (Linux /proc)."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def shadow_round(url: str, seconds: float, folder: Path, broker_pid: int) -> dict[str, float]:
    scenario = load(SCENARIO)
    sim = Simulation(scenario)
    shadow = Shadow(sim, default_points(scenario, sim.topology), log=open(os.devnull, "w"))  # noqa: SIM115
    link = connect(url, "bench-shadow", ("BMS/v1/PUB/#",))
    report = folder / "plant.json"
    log = (folder / "plant.log").open("w")
    plant = subprocess.Popen(
        [sys.executable, __file__, "--plant-process", url, f"{seconds + 4:g}", str(report)],
        cwd=ROOT,
        stdout=log,
        stderr=subprocess.STDOUT,
    )
    # (value timestamp ms, wall time the model passed it, values of that timestamp)
    late: list[tuple[int, float, int]] = []
    waiting: dict[int, int] = {}  # timestamp ms -> values not yet passed
    last_arrival: dict[int, float] = {}  # timestamp ms -> wall time its last value came

    def record_passed() -> None:
        if shadow.origin_ms is None:
            return
        now = time.time()
        reached_ms = shadow.origin_ms + round(sim.time_s * 1000)
        for stamp in [s for s in waiting if s <= reached_ms]:
            late.append((stamp, now, waiting.pop(stamp)))

    values = messages = 0
    rss_halves = [0.0, 0.0]
    first = None
    broker_cpu = cpu_seconds(broker_pid)
    deadline = time.monotonic() + seconds + 180
    while sim.time_s < seconds and time.monotonic() < deadline:
        try:
            batch = [link.inbox.get(timeout=QUIET_S)]
        except queue.Empty:  # as twin shadow's loop: the bus is quiet, the instant complete
            shadow.caught_up = True
            shadow.advance()
            record_passed()
            continue
        for _ in range(5000):
            try:
                batch.append(link.inbox.get_nowait())
            except queue.Empty:
                break
        if first is None:
            first = (time.perf_counter(), time.process_time())
        reached_ms = (shadow.origin_ms or 0) + round(sim.time_s * 1000)
        overdue: dict[int, int] = {}
        for topic, payload, arrived in batch:
            shadow.ingest(topic, payload)
            if "/Value/" in topic:
                stamp = contract.value_fields(payload)[1]
                values += 1
                last_arrival[stamp] = max(last_arrival.get(stamp, 0.0), arrived)
                if shadow.origin_ms is not None and stamp <= reached_ms:
                    overdue[stamp] = overdue.get(stamp, 0) + 1
                else:
                    waiting[stamp] = waiting.get(stamp, 0) + 1
        messages += len(batch)
        shadow.advance()
        late.extend((stamp, time.time(), n) for stamp, n in overdue.items())
        record_passed()
        half = 0 if sim.time_s < seconds / 2 else 1
        rss_halves[half] = max(
            rss_halves[half], resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
        )
    wall = time.perf_counter() - first[0] if first else float("nan")
    cpu = time.process_time() - first[1] if first else float("nan")
    plant.wait(seconds + 240)
    while True:  # what was still on its way when the model reached the end
        try:
            topic, payload, _ = link.inbox.get(timeout=2.0)
        except queue.Empty:
            break
        values += "/Value/" in topic
    link.stop()
    plant_report = json.loads(report.read_text())
    began = {stamp: wall_s for stamp, wall_s in plant_report["samples"]}
    latency, weight = [], []
    for stamp, taken, n in late:
        if stamp in began:  # a sample's values (not a heartbeat between samples)
            latency.append(taken - began[stamp])
            weight.append(n)
    lat = np.repeat(np.array(latency), np.array(weight, dtype=np.int64))
    if lat.size == 0:
        lat = np.array([np.nan])
    # the delivery of a sample: from the plant's first write to the last value's arrival
    delivery = [last_arrival[stamp] - began[stamp] for stamp in began if stamp in last_arrival]
    return {
        "plant_rate": plant_report["sent"] / plant_report["wall_s"],
        "plant_cpu": plant_report["cpu_s"] / plant_report["wall_s"],
        "plant_lag": plant_report["max_lag_s"],
        "rate": messages / wall,
        "cpu": cpu / wall,
        "lost": 1.0 - values / max(plant_report["values"], 1),
        "inbox_full": link.counters.dropped_inbox_full,
        "broker_cpu": (cpu_seconds(broker_pid) - broker_cpu) / plant_report["wall_s"],
        "p50": float(np.percentile(lat, 50)),
        "p95": float(np.percentile(lat, 95)),
        "max": float(lat.max()),
        "delivery_p50": float(np.percentile(delivery, 50)) if delivery else np.nan,
        "delivery_p95": float(np.percentile(delivery, 95)) if delivery else np.nan,
        "rss1": rss_halves[0],
        "rss2": rss_halves[1],
        "points": plant_report["points"],
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument(
        "--seconds",
        type=float,
        default=60.0,
        help="simulated (= wall, at 1x) seconds the shadow follows per round",
    )
    parser.add_argument("--plant-process", nargs=3, metavar=("URL", "SECONDS", "OUT"))
    args = parser.parse_args()
    if args.plant_process:
        url, seconds, out = args.plant_process
        plant_process(url, float(seconds), Path(out))
        return
    with tempfile.TemporaryDirectory() as tmp:
        broker, url = start_broker(Path(tmp))
        try:
            burst = [plant_burst(url) for _ in range(args.repeat)]
            print(
                f"plant burst, {SCENARIO}: {statistics.median(burst):,.0f} messages/s with "
                f"every point due, until written (median of {args.repeat})",
                flush=True,
            )
            rounds = []
            for _ in range(args.repeat):
                rounds.append(shadow_round(url, args.seconds, Path(tmp), broker.pid))
                print("  round:", {k: round(v, 3) for k, v in rounds[-1].items()}, flush=True)
            med = {k: statistics.median(r[k] for r in rounds) for k in rounds[0]}
            print(
                f"plant at 1x, {SCENARIO} ({med['points']:,.0f} points, every point due every "
                f"2 s): {med['plant_rate']:,.0f} messages/s, CPU {med['plant_cpu']:.0%} of a "
                f"core, fell behind 1x by at most {med['plant_lag']:.2f} s\n"
                f"shadow: {med['rate']:,.0f} messages/s ingested, CPU {med['cpu']:.0%} of a "
                f"core, {med['lost']:.2%} of the values lost; publish-to-model latency p50 "
                f"{med['p50']:.2f} s, p95 {med['p95']:.2f} s, max {med['max']:.2f} s (a "
                f"sample's delivery, plant to the shadow's client: p50 "
                f"{med['delivery_p50']:.2f} s, p95 {med['delivery_p95']:.2f} s); peak "
                f"RSS {med['rss1']:,.0f} MB (first half) / {med['rss2']:,.0f} MB (second "
                f"half); Mosquitto CPU {med['broker_cpu']:.0%} of a core (medians of "
                f"{args.repeat})"
            )
        finally:
            broker.terminate()
            broker.wait(10)


if __name__ == "__main__":
    main()
