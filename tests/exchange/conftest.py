"""A real Eclipse Mosquitto broker per test, on a free port of the loopback interface, with a
temporary configuration (no persistence); stopped afterwards, and a test that leaves a twin
process running fails."""

from __future__ import annotations

import os
import shutil
import socket
import subprocess
import sys
import time
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
THREE_CDU = Path(__file__).with_name("three-cdu.toml")
MOSQUITTO = shutil.which("mosquitto") or (
    "/usr/sbin/mosquitto" if Path("/usr/sbin/mosquitto").exists() else None
)


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def wait_listening(port: int, timeout_s: float = 20.0) -> None:
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        with socket.socket() as s:
            if s.connect_ex(("127.0.0.1", port)) == 0:
                return
        time.sleep(0.05)
    raise AssertionError(f"mosquitto did not listen on port {port}")


class Broker:
    def __init__(self, folder: Path) -> None:
        self.port = free_port()
        self.config = folder / "mosquitto.conf"
        # as root, mosquitto drops to its own user, which cannot read the test's files
        stay = "user root\n" if os.geteuid() == 0 else ""
        self.config.write_text(
            f"persistence false\nlistener {self.port} 127.0.0.1\nallow_anonymous true\n{stay}"
        )
        self.process: subprocess.Popen | None = None

    @property
    def url(self) -> str:
        return f"mqtt://127.0.0.1:{self.port}"

    def start(self) -> None:
        self.process = subprocess.Popen(
            [MOSQUITTO, "-c", str(self.config)],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        wait_listening(self.port)

    def stop(self) -> None:
        if self.process is not None and self.process.poll() is None:
            self.process.terminate()
            self.process.wait(10)
        self.process = None


@pytest.fixture
def broker(tmp_path):
    if MOSQUITTO is None:
        pytest.fail("mosquitto is not installed: packaging/bootstrap.sh --dev installs it")
    b = Broker(tmp_path)
    b.start()
    yield b
    b.stop()


class Processes:
    """twin processes started by a test; each must have ended by the test's end."""

    def __init__(self) -> None:
        self.started: list[subprocess.Popen] = []

    def twin(self, *args: str, log: Path, env: dict | None = None) -> subprocess.Popen:
        handle = log.open("w")
        process = subprocess.Popen(
            [sys.executable, "-m", "twin", *args],
            cwd=ROOT,
            stdout=handle,
            stderr=subprocess.STDOUT,
            env=env,
        )
        self.started.append(process)
        return process


@pytest.fixture
def processes():
    tracker = Processes()
    yield tracker
    leaked = [p for p in tracker.started if p.poll() is None]
    for p in leaked:
        p.kill()
        p.wait(10)
    assert not leaked, f"{len(leaked)} twin process(es) still running at the test's end"


def wait_for_line(
    path: Path, text: str, process: subprocess.Popen, timeout_s: float = 300.0
) -> str:
    """The first line of a process's log holding ``text``; fails if the process ends first.
    The generous timeout only guards against a hang: the test waits for the line, not for
    a duration."""
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        for line in path.read_text().splitlines():
            if text in line:
                return line
        if process.poll() is not None:
            for line in path.read_text().splitlines():
                if text in line:
                    return line
            raise AssertionError(f"the process ended without {text!r}:\n{path.read_text()}")
        time.sleep(0.1)
    raise AssertionError(f"no {text!r} within {timeout_s} s:\n{path.read_text()}")


def noisy_bms_into(shadow, plant, scenario, points, log):
    """A virtual BMS that reads ``plant`` as sensors do (noise, 5 % dropouts; seed 5) and
    hands every message straight to ``shadow`` (no broker), its values published once."""
    from twin.exchange.plant import VirtualBms

    bms = VirtualBms(
        scenario,
        plant.topology,
        points,
        lambda topic, payload, retain: shadow.ingest(topic, payload),
        plant.set_cdu_supply_setpoint,
        seed=5,
        noise_scale=1.0,
        dropout=0.05,
        log=log,
    )
    bms.republish_all()
    return bms
