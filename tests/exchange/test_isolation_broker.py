"""An integration isolates racks through a real twin plant on a real Mosquitto broker: the
plant's isolation status and the rack's flow and power readings show it."""

from __future__ import annotations

import json
import queue
import time

import pytest

from tests.exchange.conftest import THREE_CDU, wait_for_line
from twin.exchange import contract
from twin.exchange.broker import MqttLink, broker_settings
from twin.exchange.points import DEFAULT_INTEGRATION, default_points
from twin.scenario import load


@pytest.mark.slow
def test_an_integration_isolates_racks_and_the_plant_reports_it(broker, processes, tmp_path):
    points = {(p.component, p.quantity): p for p in default_points(load(THREE_CDU))}

    def topic(rack: str, quantity: str, publisher: str = contract.BMS_PUBLISHER) -> str:
        p = points[rack, quantity]
        return contract.value_topic(p.object_type, p.point_type, p.tag_path, publisher)

    log = tmp_path / "plant.log"
    plant = processes.twin(
        "plant",
        "--scenario",
        str(THREE_CDU),
        "--broker",
        broker.url,
        "--speed",
        "5x",
        "--duration",
        "2h",
        log=log,
    )
    wait_for_line(log, "connected to", plant)
    link = MqttLink(
        broker_settings(
            broker.url, client_id="test-cluster-manager", environ={}, credentials_file=None
        ),
        subscriptions=("BMS/v1/PUB/Value/Rack/#",),
        name="test",
    )
    link.start()
    assert link.wait_connected(30)
    requests = [
        (topic("R02-01", "rack.liquid_isolation_request", DEFAULT_INTEGRATION)),
        (topic("R03-01", "rack.electrical_isolation_request", DEFAULT_INTEGRATION)),
    ]
    # what must be seen, each the latest value of its topic
    wanted = {
        topic("R02-01", "rack.liquid_isolation_status"): lambda v: v == 1,
        topic("R02-01", "rack.flow_lpm"): lambda v: v == 0.0,
        topic("R02-01", "rack.power_kw"): lambda v: v < 1.0,  # no coolant: heated, tripped
        topic("R03-01", "rack.electrical_isolation_status"): lambda v: v == 1,
        topic("R03-01", "rack.power_kw"): lambda v: v == 0.0,
    }
    latest: dict[str, dict] = {}
    next_request = 0.0
    deadline = time.monotonic() + 300  # guards against a hang; the test waits for values
    while not all(t in latest and ok(latest[t]["value"]) for t, ok in wanted.items()):
        assert time.monotonic() < deadline and plant.poll() is None, (
            {t: latest.get(t) for t in wanted},
            log.read_text(),
        )
        if time.monotonic() >= next_request:  # republished, as an integration does
            for request in requests:
                assert link.publish(
                    request,
                    contract.encode_value(1, int(time.time() * 1000), contract.QUALITY_GOOD),
                )
            next_request = time.monotonic() + 10.0
        try:
            received, payload, _ = link.inbox.get(timeout=0.5)
        except queue.Empty:
            continue
        latest[received] = json.loads(payload)
    assert all(latest[t]["quality"] == contract.QUALITY_GOOD for t in wanted)
    flow = latest.get(topic("R01-01", "rack.flow_lpm"))
    assert flow is None or flow["value"] > 100.0  # the rack left alone keeps its coolant
    link.stop()
    plant.terminate()
    plant.wait(30)
    text = log.read_text()
    assert "Traceback" not in text and "refused 0," in text
