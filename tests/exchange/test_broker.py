"""twin plant and twin shadow as real processes on a real Mosquitto broker."""

from __future__ import annotations

import json
import queue
import time

import pytest

from tests.exchange.conftest import THREE_CDU, wait_for_line
from twin.exchange.broker import MqttLink, broker_settings
from twin.exchange.plant import start_epoch_ms
from twin.scenario import load


def _subscriber(url: str, topic: str) -> MqttLink:
    link = MqttLink(
        broker_settings(url, client_id="test-subscriber", environ={}, credentials_file=None),
        subscriptions=(topic,),
        name="test",
    )
    link.start()
    assert link.wait_connected(30)
    return link


def _take(link: MqttLink, predicate, timeout_s: float = 120.0):
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        try:
            topic, payload, _ = link.inbox.get(timeout=0.5)
        except queue.Empty:
            continue
        if predicate(topic, payload):
            return topic, payload
    raise AssertionError("no matching message")


def test_plant_publishes_retained_metadata_and_values_and_survives_a_broker_restart(
    broker, processes, tmp_path
):
    log = tmp_path / "plant.log"
    plant = processes.twin(
        "plant",
        "--scenario",
        str(THREE_CDU),
        "--broker",
        broker.url,
        "--speed",
        "20x",
        "--duration",
        "20min",
        log=log,
    )
    wait_for_line(log, "connected to", plant)
    late = _subscriber(broker.url, "BMS/v1/PUB/Metadata/#")  # retained: arrives on subscribing
    _topic, payload = _take(late, lambda t, p: "/CDU/LiquidTemperature/" in t)
    meta = json.loads(payload)
    assert meta["objectType"] == "CDU" and meta["engUnit"] == "C"
    assert meta["processArea"][0] == "Secondary" and meta["servesId"]
    late.stop()
    values = _subscriber(broker.url, "BMS/v1/PUB/Value/#")
    _topic, payload = _take(values, lambda t, p: "/Rack/RackPower/" in t)
    reading = json.loads(payload)
    assert set(reading) == {"value", "timestamp", "quality"} and reading["quality"] == 1
    start = start_epoch_ms(load(THREE_CDU))
    assert start < reading["timestamp"] <= start + 20 * 60 * 1000
    values.stop()
    broker.stop()
    wait_for_line(log, "lost the broker", plant)
    broker.start()
    deadline = time.monotonic() + 120
    while log.read_text().count("connected to") < 2 and plant.poll() is None:
        assert time.monotonic() < deadline, log.read_text()
        time.sleep(0.2)
    plant.terminate()
    plant.wait(30)
    assert "Traceback" not in log.read_text()
    assert log.read_text().count("connected to") >= 2


def test_shadow_waits_for_a_broker_that_is_down(broker, processes, tmp_path):
    broker.stop()
    log = tmp_path / "shadow.log"
    record = tmp_path / "record"
    shadow = processes.twin(
        "shadow",
        "--scenario",
        str(THREE_CDU),
        "--broker",
        broker.url,
        "--record",
        str(record),
        log=log,
    )
    line = wait_for_line(log, "cannot reach the broker", shadow)
    assert "retrying" in line
    broker.start()
    wait_for_line(log, "connected to", shadow)
    shadow.terminate()  # SIGTERM ends it as Ctrl+C does: the recording is closed whole
    assert shadow.wait(30) == 0
    assert "Traceback" not in log.read_text()
    assert (record / "fit.csv").exists() and (record / "alarms.sqlite").exists()


def test_shadow_with_allow_write_keeps_a_heartbeat_the_plant_echoes(broker, processes, tmp_path):
    from twin.exchange.points import default_points

    tags = {p.quantity: p.tag_path for p in default_points(load(THREE_CDU))}
    plant_log, shadow_log = tmp_path / "plant.log", tmp_path / "shadow.log"
    plant = processes.twin(
        "plant",
        "--scenario",
        str(THREE_CDU),
        "--broker",
        broker.url,
        "--speed",
        "1x",
        log=plant_log,
    )
    wait_for_line(plant_log, "connected to", plant)
    echoes = _subscriber(broker.url, "BMS/v1/PUB/Value/System/HeartbeatEchoBms/#")
    shadow = processes.twin(
        "shadow",
        "--scenario",
        str(THREE_CDU),
        "--broker",
        broker.url,
        "--allow-write",
        tags["system.integration_heartbeat"],
        log=shadow_log,
    )
    _topic, payload = _take(echoes, lambda t, p: True)
    assert json.loads(payload)["value"] > 1.7e12  # the shadow's wall clock, echoed
    echoes.stop()
    for process in (shadow, plant):
        process.terminate()
        process.wait(30)
    assert "Traceback" not in shadow_log.read_text() + plant_log.read_text()


@pytest.mark.slow
@pytest.mark.parametrize("fault", [False, True], ids=["healthy-hour", "clogging-strainer"])
def test_shadow_finds_the_clogging_strainer_before_the_plant_alarms(
    broker, processes, tmp_path, fault
):
    """A plant with sensor noise and dropouts (and, in one run, a strainer clogging on
    L-CDU-02 from 30 min) and a shadow of the unfaulted scenario, on one broker."""
    scenario = THREE_CDU
    if fault:
        text = THREE_CDU.read_text() + (
            '\n[[events]]\nat_s = "30min"\nkind = "filter-clog"\ntarget = "L-CDU-02"\n'
            'factor = 30.0\nramp_s = "3h"\n'
        )
        scenario = tmp_path / "clogging.toml"
        scenario.write_text(text)
    shadow_log, plant_log = tmp_path / "shadow.log", tmp_path / "plant.log"
    record = tmp_path / "record"
    shadow = processes.twin(
        "shadow",
        "--scenario",
        str(THREE_CDU),
        "--broker",
        broker.url,
        "--duration",
        "60min",
        "--record",
        str(record),
        log=shadow_log,
    )
    wait_for_line(shadow_log, "connected to", shadow)
    plant = processes.twin(
        "plant",
        "--scenario",
        str(scenario),
        "--broker",
        broker.url,
        "--speed",
        "max",
        "--duration",
        "61min",
        "--sensor-noise",
        "1",
        "--dropout",
        "0.05",
        log=plant_log,
    )
    assert plant.wait(600) == 0, plant_log.read_text()
    assert shadow.wait(600) == 0, shadow_log.read_text()
    text = shadow_log.read_text()
    divergences = [line for line in text.splitlines() if "model-plant divergence" in line]
    plant_alarms = [line for line in plant_log.read_text().splitlines() if " alarm " in line]
    if not fault:
        assert divergences == [], text
        assert plant_alarms == []
        drift = [
            line
            for line in text.splitlines()
            if line.endswith(("fouling", "strainer or exchanger clogging", "a sensor offset"))
        ]
        assert drift == [], text  # the trackers raise no drift alarm on a healthy plant
    else:
        assert divergences, text
        first = divergences[0]
        assert "L-CDU-02" in first or "R02-01" in first, first  # the CDU or its rack
        detected_s = float(first.split("t=")[1].split("s")[0])
        temperature = [
            line
            for line in plant_alarms
            if any(tag in line for tag in ("temp", "supply_deviation"))
        ]
        if temperature:
            assert detected_s < float(temperature[0].split("t=")[1].split("s")[0])
        assert 1800 < detected_s < 3600
    assert "Traceback" not in text
    fit = (record / "fit.csv").read_text().splitlines()
    assert fit[0].startswith("tagPath,quantity,component,unit,samples")
    assert len(fit) > 20
    assert list((record / "series").glob("part-*.parquet"))
    assert (record / "alarms.sqlite").exists()


def test_bms_observer_publishes_each_step_and_keeps_fault_injection(broker):
    from twin.exchange.window import PlantConnection
    from twin.runs.observe import ObservedRun
    from twin.scenario.schema import CoolantLeak
    from twin.sim.engine import Simulation

    values = _subscriber(broker.url, "BMS/v1/PUB/Value/CDU/LeakDetect/#")
    connection = PlantConnection(broker_settings(broker.url, client_id="test-window", environ={}))
    scenario = load(THREE_CDU)
    simulation = Simulation.from_scenario(scenario)
    (bms,) = connection.observers(scenario, simulation)  # as the window's runner gets them
    run = ObservedRun(simulation, [bms])
    assert bms.link.wait_connected(60)
    assert connection.status().endswith(": connected")
    run.step(3)
    run.apply(
        CoolantLeak(at_s=0, kind="coolant-leak", target="L-CDU-01", rate_lpm=1.0)
    )  # as the window's fault menu does
    run.step(2)
    _take(values, lambda t, p: "L-CDU-01" in t and json.loads(p)["value"] == 1)
    assert simulation.time_s == 5.0
    run.reset()  # a new BMS: every value again from t = 0
    run.step(1)
    _take(values, lambda t, p: "L-CDU-01" in t and json.loads(p)["value"] == 0)
    values.stop()
    bms.link.stop()


@pytest.mark.gui
def test_gui_plant_publishes_the_windows_run(broker, processes, tmp_path):
    log = tmp_path / "gui.log"
    values = _subscriber(broker.url, "BMS/v1/PUB/Value/Rack/RackPower/#")
    window = processes.twin(
        "gui", "--scenario", str(THREE_CDU), "--plant", broker.url, "--exit-after", "60", log=log
    )
    _take(values, lambda t, p: json.loads(p)["quality"] == 1, timeout_s=120)
    values.stop()
    window.terminate()
    window.wait(30)
    assert "Traceback" not in log.read_text()


def test_credentials_come_from_the_environment_or_a_private_file(tmp_path):
    from twin.exchange.broker import BrokerError, read_credentials

    path = tmp_path / "mqtt.toml"
    path.write_text('username = "ops"\npassword = "s3cret"\n')
    path.chmod(0o644)
    with pytest.raises(BrokerError, match="can be read by others"):
        read_credentials({}, path)
    path.chmod(0o600)
    assert read_credentials({}, path) == ("ops", "s3cret")
    assert read_credentials({"TWIN_MQTT_USERNAME": "env", "TWIN_MQTT_PASSWORD": "pw"}, path) == (
        "env",
        "pw",
    )
    path.write_text('username = "ops"\nhost = "x"\n')
    with pytest.raises(BrokerError, match="username and password as text"):
        read_credentials({}, path)


def test_plant_logs_in_with_a_password_and_is_told_when_refused(broker, processes, tmp_path):
    import shutil
    import subprocess

    passwd = shutil.which("mosquitto_passwd") or "/usr/bin/mosquitto_passwd"
    users = tmp_path / "passwords"
    subprocess.run(
        [passwd, "-c", "-b", str(users), "ops", "s3cret"], check=True, capture_output=True
    )
    users.chmod(0o600)
    broker.stop()
    broker.config.write_text(
        broker.config.read_text().replace(
            "allow_anonymous true", f"allow_anonymous false\npassword_file {users}"
        )
    )
    broker.start()
    import os

    env = {**os.environ, "TWIN_MQTT_USERNAME": "ops", "TWIN_MQTT_PASSWORD": "wrong"}
    log = tmp_path / "refused.log"
    refused = processes.twin(
        "plant", "--scenario", str(THREE_CDU), "--broker", broker.url, log=log, env=env
    )
    line = wait_for_line(log, "refused the connection", refused)
    assert "retrying" in line
    refused.terminate()
    refused.wait(30)
    env["TWIN_MQTT_PASSWORD"] = "s3cret"
    log = tmp_path / "accepted.log"
    accepted = processes.twin(
        "plant", "--scenario", str(THREE_CDU), "--broker", broker.url, log=log, env=env
    )
    wait_for_line(log, "connected to", accepted)
    accepted.terminate()
    accepted.wait(30)
    assert "Traceback" not in log.read_text()


def test_embedded_broker_serves_the_plant_and_other_clients(processes, tmp_path):
    from tests.exchange.conftest import free_port

    port = free_port()
    log = tmp_path / "plant.log"
    plant = processes.twin(
        "plant",
        "--scenario",
        str(THREE_CDU),
        "--broker",
        f"embedded:{port}",
        "--speed",
        "10x",
        log=log,
    )
    wait_for_line(log, "connected to", plant)
    url = f"mqtt://127.0.0.1:{port}"
    late = _subscriber(url, "BMS/v1/PUB/Metadata/Rack/#")  # retained by the embedded broker
    _take(late, lambda t, p: json.loads(p)["objectType"] == "Rack")
    late.stop()
    values = _subscriber(url, "BMS/v1/PUB/Value/#")
    _take(values, lambda t, p: json.loads(p)["quality"] == 1)
    values.stop()
    plant.terminate()
    plant.wait(30)
    assert "Traceback" not in log.read_text()


def test_window_shadow_follows_the_plants_clock(broker, processes, tmp_path):
    from twin.exchange.window import ShadowConnection

    log = tmp_path / "plant.log"
    connection = ShadowConnection(
        broker_settings(broker.url, client_id="test-window-shadow", environ={}),
        log=(tmp_path / "shadow.log").open("w"),
    )
    simulation = connection.simulation(load(THREE_CDU))
    plant = processes.twin(
        "plant",
        "--scenario",
        str(THREE_CDU),
        "--broker",
        broker.url,
        "--speed",
        "max",
        "--duration",
        "10min",
        log=log,
    )
    deadline = time.monotonic() + 300
    while simulation.time_s < 300:  # the window's runner calls step(1) like this
        assert time.monotonic() < deadline, log.read_text()
        simulation.step(1)
    assert simulation.time_s <= simulation.shadow.plant_s
    assert simulation.shadow.status.values > 0 and not simulation.shadow.divergences
    # the window's alarm engine holds the model's alarms and the shadow's
    tags = {point.tag for point in connection.alarms(load(THREE_CDU), simulation).points}
    assert "shadow.disconnected" in tags and "shadow.cdu_divergence" in tags
    assert len(tags) > 10
    assert plant.wait(300) == 0
    connection.link.stop()


@pytest.mark.slow
@pytest.mark.gui
def test_gui_shadow_opens_on_a_plant(broker, processes, tmp_path):
    plant_log, gui_log = tmp_path / "plant.log", tmp_path / "gui.log"
    plant = processes.twin(
        "plant",
        "--scenario",
        str(THREE_CDU),
        "--broker",
        broker.url,
        "--speed",
        "10x",
        log=plant_log,
    )
    wait_for_line(plant_log, "connected to", plant)
    window = processes.twin(
        "gui",
        "--scenario",
        str(THREE_CDU),
        "--shadow",
        broker.url,
        "--exit-after",
        "30",
        log=gui_log,
    )
    assert window.wait(300) == 0, gui_log.read_text()
    plant.terminate()
    plant.wait(30)
    text = gui_log.read_text()
    assert "connected to" in text and "Traceback" not in text
    # the window ran and reported; how far its model got in a fixed wall-clock wait is
    # the machine's speed (test_window_shadow_follows_the_plants_clock waits for it)
    summary = json.loads(next(line for line in text.splitlines() if line.startswith("{")))
    assert summary["frames_drawn"] > 0, summary
