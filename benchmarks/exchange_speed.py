"""DSX Exchange speed on the gigawatt site, through a real Mosquitto broker on this machine.

1. Plant: messages per second ``VirtualBms`` + paho-mqtt publish when every point is due
   (one update per point), and the wall time of one 2 s publishing period at 1x (two
   simulation steps, the snapshot, and the ~40,000 point messages): it keeps real time
   while that stays under 2 s.
2. Shadow: ``twin plant --speed 1x`` as a separate process and the shadow here, on one
   broker: messages per second ingested and the latency from a value's arrival at the
   shadow's MQTT client until the model has stepped past its timestamp (the shadow's 2 s
   hold is part of it; the broker's hop on the loopback interface is not), p50 and p95 over
   every value, and the peak resident memory (flat memory: the first half's peak against
   the second's). A plant that cannot keep 1x on the machine sends less per second.

Prints medians over ``--repeat`` rounds. Needs ``mosquitto`` on PATH (or /usr/sbin).
Run: nice python benchmarks/exchange_speed.py [--repeat 3] [--seconds 60]
"""

from __future__ import annotations

import argparse
import heapq
import json
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

from twin.exchange.broker import MqttLink, broker_settings  # noqa: E402
from twin.exchange.plant import VirtualBms  # noqa: E402
from twin.exchange.points import default_points  # noqa: E402
from twin.exchange.shadow import Shadow  # noqa: E402
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
    config.write_text(f"persistence false\nlistener {port} 127.0.0.1\nallow_anonymous true\n")
    process = subprocess.Popen(
        [mosquitto, "-c", str(config)], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL
    )
    for _ in range(200):
        with socket.socket() as s:
            if s.connect_ex(("127.0.0.1", port)) == 0:
                break
        time.sleep(0.05)
    return process, f"mqtt://127.0.0.1:{port}"


def plant_round(url: str) -> tuple[float, float]:
    """(messages/s with every point due, wall seconds of one 2 s period)."""
    scenario = load(SCENARIO)
    sim = Simulation(scenario)
    link = MqttLink(
        broker_settings(url, client_id="bench-plant", environ={}),
        log=open("/dev/null", "w"),  # noqa: SIM115
        name="bench",
    )
    link.start()
    link.wait_connected(30)
    points = default_points(scenario, sim.topology)
    bms = VirtualBms(
        scenario,
        sim.topology,
        points,
        lambda t, p, r: link.publish(t, p, retain=r),
        sim.set_cdu_supply_setpoint,
        apply_isolation=sim.set_rack_isolation,
    )
    sim.step()
    bms.observe(sim.snapshot(robots=False))  # metadata and the first values
    bms.republish_all()
    bms._next_metadata_s = float("inf")  # values only
    sim.step()
    start = time.perf_counter()
    sent = bms.observe(sim.snapshot(robots=False))
    rate = sent / (time.perf_counter() - start)
    start = time.perf_counter()
    for _ in range(2):
        sim.step()
    bms.republish_all()
    bms.observe(sim.snapshot(robots=False))
    period_s = time.perf_counter() - start
    link.stop()
    return rate, period_s


def shadow_round(
    url: str, seconds: float, folder: Path
) -> tuple[float, float, float, float, float]:
    """(messages/s ingested, latency p50 s, p95 s, peak RSS MB first half, second half)."""
    scenario = load(SCENARIO)
    sim = Simulation(scenario)
    shadow = Shadow(sim, default_points(scenario, sim.topology), log=open("/dev/null", "w"))  # noqa: SIM115
    link = MqttLink(
        broker_settings(url, client_id="bench-shadow", environ={}),
        subscriptions=("BMS/v1/PUB/#",),
        log=open("/dev/null", "w"),  # noqa: SIM115
        name="bench",
    )
    link.start()
    link.wait_connected(30)
    log = (folder / "plant.log").open("w")
    plant = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "twin",
            "plant",
            "--scenario",
            SCENARIO,
            "--broker",
            url,
            "--speed",
            "1x",
            "--duration",
            f"{seconds + 5:g}s",
        ],
        cwd=ROOT,
        stdout=log,
        stderr=subprocess.STDOUT,
    )
    latencies: list[float] = []
    arrivals: list[tuple[int, float]] = []  # (value timestamp ms, arrival wall time)
    first_wall = None
    messages = 0

    def take(topic: str, payload: bytes, arrived: float) -> None:
        shadow.ingest(topic, payload)
        if "/Value/" in topic:
            try:
                stamp = json.loads(payload)["timestamp"]
            except (ValueError, KeyError, TypeError):
                return
            heapq.heappush(arrivals, (stamp, arrived))

    rss_halves = [0.0, 0.0]
    deadline = time.monotonic() + seconds + 120
    start_ingest = None
    while sim.time_s < seconds and time.monotonic() < deadline:
        try:
            topic, payload, arrived = link.inbox.get(timeout=0.5)
        except queue.Empty:
            continue
        take(topic, payload, arrived)
        messages += 1
        for _ in range(5000):
            try:
                topic, payload, arrived = link.inbox.get_nowait()
            except queue.Empty:
                break
            take(topic, payload, arrived)
            messages += 1
        if shadow.origin_ms is not None and first_wall is None:
            first_wall = time.monotonic()
            start_ingest = time.perf_counter()
        shadow.advance()
        if shadow.origin_ms is not None:
            reached_ms = shadow.origin_ms + sim.time_s * 1000.0
            now = time.time()
            while arrivals and arrivals[0][0] <= reached_ms:
                latencies.append(now - heapq.heappop(arrivals)[1])
        half = 0 if sim.time_s < seconds / 2 else 1
        rss_halves[half] = max(
            rss_halves[half], resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
        )
    elapsed = time.perf_counter() - (start_ingest or time.perf_counter())
    plant.terminate()
    plant.wait(30)
    link.stop()
    lat = np.array(latencies) if latencies else np.array([np.nan])
    return (
        messages / max(elapsed, 1e-9),
        float(np.percentile(lat, 50)),
        float(np.percentile(lat, 95)),
        rss_halves[0],
        rss_halves[1],
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument(
        "--seconds",
        type=float,
        default=60.0,
        help="simulated (= wall, at 1x) seconds the shadow follows per round",
    )
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        broker, url = start_broker(Path(tmp))
        try:
            plant = [plant_round(url) for _ in range(args.repeat)]
            print(
                f"plant, {SCENARIO}: {statistics.median(r for r, _ in plant):,.0f} messages/s "
                "with every point due; one 2 s period (2 steps + ~40k messages) "
                f"{statistics.median(p for _, p in plant):.2f} s wall (median of "
                f"{args.repeat})"
            )
            shadow = [shadow_round(url, args.seconds, Path(tmp)) for _ in range(args.repeat)]
            med = [statistics.median(r[k] for r in shadow) for k in range(5)]
            print(
                f"shadow, {SCENARIO} at 1x: {med[0]:,.0f} messages/s ingested; "
                f"publish-to-model latency p50 {med[1]:.2f} s, p95 {med[2]:.2f} s; "
                f"peak RSS {med[3]:,.0f} MB (first half) / {med[4]:,.0f} MB (second half) "
                f"(medians of {args.repeat})"
            )
        finally:
            broker.terminate()
            broker.wait(10)


if __name__ == "__main__":
    main()
