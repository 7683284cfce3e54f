"""DSX Flex: load-target events checked against the contract, and ``twin flex`` on a real
Mosquitto taking a target 20 % below the site's draw and meeting it within what its
levers allow, lever by lever."""

from __future__ import annotations

import json
import queue
import re
import time
import uuid
from pathlib import Path

import paho.mqtt.client as mqtt
import pytest

from tests.exchange.conftest import wait_for_line
from twin.exchange.flex import (
    FlexMessageError,
    breach_topic,
    enforcement_topic,
    load_target_topic,
    parse_load_target,
    status_topic,
)

SITE = Path(__file__).with_name("flex-site.toml")
TOPIC = load_target_topic("acme")
UUID = re.compile(r"^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$")
TRACEPARENT = re.compile(r"^00-[0-9a-f]{32}-[0-9a-f]{16}-01$")


def load_target(constraint: dict | None, *, source: str = "//grid/v1/isv/acme", **changes) -> dict:
    event = {
        "specversion": "1.0.2",
        "id": str(uuid.uuid4()),
        "source": source,
        "type": "grid.loadtarget.set.v1",
        "time": "2026-08-01T00:00:00Z",
        "datacontenttype": "application/json",
        "subject": "loadtarget",
        "traceparent": f"00-{uuid.uuid4().hex}-{uuid.uuid4().hex[:16]}-01",
        "correlationid": str(uuid.uuid4()),
        "data": {
            "targets": [{"interval": {}, "feed_tags": ["main"], "load_constraint": constraint}]
        },
    }
    event.update(changes)
    return event


def encoded(event: dict) -> bytes:
    return json.dumps(event).encode()


def test_a_valid_load_target_parses_with_its_constraint_in_watts():
    _, data = parse_load_target(
        TOPIC, encoded(load_target({"value": 1.5, "unit": "megawatt"})), "acme"
    )
    assert data.targets[0].load_constraint.watts == 1.5e6
    _, lifted = parse_load_target(TOPIC, encoded(load_target(None)), "acme")
    assert lifted.targets[0].load_constraint is None


@pytest.mark.parametrize(
    ("payload", "reason"),
    [
        (b"not json", "not JSON"),
        (b"[1, 2]", "not a CloudEvents JSON object"),
        (encoded(load_target({"value": 1, "unit": "kW"})), "data"),
        (encoded(load_target({"value": 0, "unit": "watt"})), "must be above 0"),
        (encoded(load_target({"value": 1, "unit": "watt"}, specversion="1.0")), "specversion"),
        (
            encoded(load_target({"value": 1, "unit": "watt"}, type="grid.powerstate.status.v1")),
            "type",
        ),
        (encoded(load_target({"value": 1, "unit": "watt"}, traceparent="00-xyz")), "traceparent"),
        (
            encoded(load_target({"value": 1, "unit": "watt"}, source="//grid/v1/isv/mallory")),
            "not //grid/v1/isv/acme",
        ),
        (
            encoded(load_target(None, data="eyJhbGciOiJFUzI1NiJ9.eyJ0YXJnZXRzIjpbXX0.c2ln")),
            "JWS-signed and no --jws-verify-key",
        ),
        (
            encoded(
                load_target(
                    None,
                    data={
                        "targets": [
                            {
                                "interval": {
                                    "start_time": "2026-08-01T01:00:00Z",
                                    "end_time": "2026-08-01T00:00:00Z",
                                },
                                "load_constraint": None,
                            }
                        ]
                    },
                )
            ),
            "end_time must lie after",
        ),
        (encoded(load_target(None, data={"targets": []})), "targets"),
        (
            encoded(
                load_target(
                    None, data={"targets": [{"interval": {}, "load_constraint": None, "shed": 1}]}
                )
            ),
            "shed",
        ),
    ],
)
def test_bad_load_targets_are_refused_with_the_reason(payload, reason):
    with pytest.raises(FlexMessageError, match=re.escape(reason)):
        parse_load_target(TOPIC, payload, "acme")


def _keys(tmp_path: Path):
    """An ISV's EC P-256 key pair written as PEM files."""
    from cryptography.hazmat.primitives import serialization
    from cryptography.hazmat.primitives.asymmetric import ec

    tmp_path.mkdir(exist_ok=True)
    private = ec.generate_private_key(ec.SECP256R1())
    private_pem = tmp_path / "isv.pem"
    private_pem.write_bytes(
        private.private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        )
    )
    public_pem = tmp_path / "isv.pub.pem"
    public_pem.write_bytes(
        private.public_key().public_bytes(
            serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo
        )
    )
    return private_pem, public_pem


def test_signed_data_is_verified_with_the_isvs_key_and_nothing_else_is_taken(tmp_path):
    from twin.exchange.flex import load_key, sign

    private_pem, public_pem = _keys(tmp_path)
    private, public = load_key(private_pem, private=True), load_key(public_pem, private=False)
    data = {"targets": [{"interval": {}, "load_constraint": {"value": 2, "unit": "megawatt"}}]}
    token = sign(data, private, "isv-key-1")
    assert token.count(".") == 2  # JWS compact serialization
    _, verified = parse_load_target(TOPIC, encoded(load_target(None, data=token)), "acme", public)
    assert verified.targets[0].load_constraint.watts == 2e6
    # a changed payload, another key, unsigned data: each refused with its reason
    header, payload, signature = token.split(".")
    forged = ".".join((header, payload[:-2] + ("AA" if payload[-2:] != "AA" else "BB"), signature))
    with pytest.raises(FlexMessageError, match="does not verify"):
        parse_load_target(TOPIC, encoded(load_target(None, data=forged)), "acme", public)
    other, _ = _keys(tmp_path / "other")
    with pytest.raises(FlexMessageError, match="does not verify"):
        parse_load_target(
            TOPIC,
            encoded(load_target(None, data=sign(data, load_key(other, private=True), "x"))),
            "acme",
            public,
        )
    with pytest.raises(FlexMessageError, match="not signed"):
        parse_load_target(TOPIC, encoded(load_target(None)), "acme", public)
    with pytest.raises(ValueError, match="not a readable unencrypted PEM public key"):
        load_key(private_pem.with_name("missing.pem"), private=False)


def test_another_isvs_topic_is_refused():
    with pytest.raises(FlexMessageError, match="not the load-target topic"):
        parse_load_target(
            load_target_topic("mallory"), encoded(load_target({"value": 1, "unit": "watt"})), "acme"
        )


class Listener:
    """An ISV's MQTT client: publishes load targets, collects the agent's events."""

    def __init__(self, port: int) -> None:
        self.events: queue.Queue[tuple[str, dict]] = queue.Queue()
        self.received: list[tuple[str, dict]] = []
        client = mqtt.Client(
            mqtt.CallbackAPIVersion.VERSION2, client_id="isv-acme", protocol=mqtt.MQTTv311
        )
        client.on_message = lambda c, u, m: self.events.put((m.topic, json.loads(m.payload)))
        client.connect("127.0.0.1", port)
        for topic in (status_topic("twin"), breach_topic("twin"), enforcement_topic("twin-infra")):
            client.subscribe(topic, qos=2)
        client.loop_start()
        self.client = client

    def publish(self, payload: bytes) -> None:
        self.client.publish(TOPIC, payload, qos=1).wait_for_publish(10)

    def next(self, predicate, timeout_s: float = 300.0) -> dict:
        """The first event so far, or to come, meeting ``predicate`` and not taken yet
        (the timeout guards against a hang; the test waits for events, not durations)."""
        deadline = time.monotonic() + timeout_s
        while True:
            while True:
                try:
                    topic, event = self.events.get_nowait()
                except queue.Empty:
                    break
                check_envelope(topic, event)
                self.received.append((topic, event))
            for k, (topic, event) in enumerate(self.received):
                if predicate(topic, event):
                    del self.received[k]
                    return event
            if time.monotonic() > deadline:
                raise AssertionError("no such event from the agent")
            time.sleep(0.1)

    def stop(self) -> None:
        self.client.loop_stop()
        self.client.disconnect()


def check_envelope(topic: str, event: dict) -> None:
    """The contract's CloudEvents attributes, per channel."""
    kind = {
        status_topic("twin"): (
            "grid.powerstate.status.v1",
            "powerstate",
            "//grid/v1/dsx-flex-agent/twin",
        ),
        breach_topic("twin"): (
            "grid.powerbreach.alert.v1",
            "powerbreach",
            "//grid/v1/dsx-flex-agent/twin",
        ),
        enforcement_topic("twin-infra"): (
            "grid.powerbreach.enforcement.v1",
            "powerbreach",
            "//grid/v1/infra/twin-infra",
        ),
    }
    event_type, subject, source = kind[topic]
    assert event["specversion"] == "1.0.2"
    assert UUID.match(event["id"])
    assert (event["type"], event["subject"], event["source"]) == (event_type, subject, source)
    assert event["datacontenttype"] == "application/json"
    assert TRACEPARENT.match(event["traceparent"])
    assert event["time"].endswith("Z")


def feed(event: dict) -> dict:
    return event["data"]["feeds"]["main"]


def is_status(name: str):
    return lambda topic, event: topic == status_topic("twin") and feed(event)["event"] == name


@pytest.mark.slow
def test_twin_flex_meets_a_target_20_percent_below_its_draw_within_its_levers_allowance(
    broker, processes, tmp_path
):
    log = tmp_path / "flex.log"
    listener = Listener(broker.port)
    process = processes.twin(
        "flex",
        "--scenario",
        str(SITE),
        "--broker",
        broker.url,
        "--isv",
        "acme",
        "--speed",
        "20x",
        "--status-every",
        "10s",
        log=log,
    )
    try:
        wait_for_line(log, "taking load targets of ISV acme", process)
        # the draw once the site has settled (its cooling warmed up: a few minutes)
        status = listener.next(
            lambda topic, event: (
                is_status("periodic")(topic, event)
                and event["data"]["snapshot_time"] >= "2026-07-31T15:06"
            )
        )
        state = feed(status)
        assert state["compliant"] and state["targets"] == [] and not state["in_flight"]
        draw_kw = state["calculated_load"]["value"]
        assert state["calculated_load"]["unit"] == "kilowatt"
        # bad input first: counted and reported, the agent carries on
        listener.publish(b"{not json")
        listener.publish(
            encoded(load_target({"value": 1, "unit": "watt"}, source="//grid/v1/isv/mallory"))
        )
        target_kw = round(0.8 * draw_kw, 3)
        target = load_target({"value": target_kw, "unit": "kilowatt"})
        listener.publish(encoded(target))
        listener.publish(encoded(target))  # a replay: ignored
        set_status = listener.next(is_status("target_set"))
        assert set_status["correlationid"] == target["correlationid"]
        assert feed(set_status)["targets"][0]["correlation_id"] == target["correlationid"]
        ramp = listener.next(is_status("start_ramp_down"))
        assert feed(ramp)["in_flight"] and feed(ramp)["targets"][0]["active"]
        alert = listener.next(lambda topic, event: topic == breach_topic("twin"))
        data = alert["data"]
        assert data["status"] == "active" and data["feed_tag"] == "main"
        assert data["target"] == {
            "correlation_id": target["correlationid"],
            "load_constraint": {"value": target_kw, "unit": "kilowatt"},
        }
        assert data["measured_load"]["value"] > target_kw
        hints = data["shed_hints"]
        # training rows capped first, then suspended, inference rows capped last
        assert [(h["resource_id"], h["action"], h["priority"]) for h in hints] == [
            ("T01", "power_cap", 1),
            ("T02", "power_cap", 1),
            ("T01", "suspend", 2),
            ("T02", "suspend", 2),
            ("I", "power_cap", 3),
        ]
        # 30 % of a rack's 72 x 1.4 kW GPUs
        assert hints[0]["target_power"] == {"value": 30.24, "unit": "kilowatt"}
        enforcement = listener.next(lambda topic, event: topic == enforcement_topic("twin-infra"))[
            "data"
        ]
        assert enforcement["breach_id"] == data["breach"]["breach_id"]
        assert (enforcement["action"], enforcement["code"]) == ("applied", "success")
        diag = enforcement["diag_msg"]
        met = re.search(
            r"met ([\d.]+) s after it took effect \(the levers allow ([\d.]+) s "
            r"in all\)",
            diag,
        )
        met_s = float(met[1])
        # per lever what it gave, how long it took and how long it is allowed
        bess = re.search(r"BESS ([\d.]+) kW within ([\d.]+) s \(allows ([\d.]+) s\)", diag)
        assert float(bess[1]) == pytest.approx(30.0, abs=0.5)  # its 30 kW rating
        assert float(bess[2]) <= float(bess[3])
        results = {(r["resource_id"], r["requested_action"]): r for r in enforcement["results"]}
        allowances = []
        for row in ("T01", "T02"):
            capped = results[(row, "power_cap")]
            assert capped["code"] == "applied"
            took = re.search(r"within ([\d.]+) s \(allows ([\d.]+) s\)", capped["message"])
            assert float(took[1]) <= float(took[2])
            allowances.append(float(took[2]))
            assert capped["applied_power"]["value"] < 72 * 1.4
        # 20 % is within the BESS and the training caps: nothing suspended, inference kept
        assert results[("T01", "suspend")]["code"] == "skipped"
        assert results[("I", "power_cap")]["code"] == "skipped"
        assert float(met[2]) == float(bess[3]) + max(allowances)  # BESS, then GPU levers
        assert met_s <= float(met[2])
        resolved = listener.next(lambda topic, event: topic == breach_topic("twin"))["data"]
        assert resolved["status"] == "resolved" and "shed_hints" not in resolved
        assert resolved["measured_load"]["value"] <= target_kw * 1.01
        met = listener.next(is_status("end_ramp_down"))
        assert feed(met)["compliant"] and not feed(met)["in_flight"]
        assert feed(met)["calculated_load"]["value"] <= target_kw * 1.01
        # the target is lifted: the hints are reverted and the load comes back
        listener.publish(encoded(load_target(None)))
        reverted = listener.next(lambda topic, event: topic == enforcement_topic("twin-infra"))[
            "data"
        ]
        assert reverted["breach_id"] == data["breach"]["breach_id"]
        assert (reverted["action"], reverted["code"]) == ("reverted", "success")
        assert {(r["resource_id"], r["code"]) for r in reverted["results"]} >= {
            ("T01", "applied"),
            ("T02", "applied"),
        }
        listener.next(is_status("start_ramp_up"))
        back = listener.next(is_status("end_ramp_up"))
        assert feed(back)["compliant"] and feed(back)["targets"][0]["load_constraint"] is None
        # the draw comes back (the cooling's share follows the racks)
        later = listener.next(
            lambda topic, event: (
                is_status("periodic")(topic, event)
                and (event["data"]["snapshot_time"] > back["data"]["snapshot_time"])
            )
        )
        assert feed(later)["calculated_load"]["value"] > 1.1 * target_kw
    finally:
        listener.stop()
        process.terminate()
        process.wait(60)
    text = log.read_text()
    assert "ignored a message on grid/v1/isv/acme/loadtarget/set: the payload is not JSON" in text
    assert "is not //grid/v1/isv/acme" in text
    assert "seen already (a replay)" in text
    assert re.search(r"load targets accepted 2, malformed 2, replayed 1", text)
    assert "Traceback" not in text


@pytest.mark.parametrize(
    ("argv", "fragment"),
    [
        (("--isv", "a/b"), "--isv 'a/b' must be 1-100 letters"),
        (("--isv", "acme", "--agent-id", "+"), "--agent-id '+' must be"),
        (("--isv", "acme", "--broker", "http://x"), "must look like mqtt://HOST:PORT"),
        (
            ("--isv", "acme", "--broker", "mqtt://x:1", "--tls-ca", "ca.pem"),
            "need an mqtts:// broker",
        ),
        (("--isv", "acme", "--speed", "fast"), "'fast' is not a speed"),
        (("--isv", "acme", "--jws-verify-key", "none.pem"), "none.pem is not a readable"),
        (("--isv", "acme", "--jws-kid", "k1"), "--jws-kid names the key of --jws-sign-key"),
    ],
)
def test_bad_flex_arguments_exit_2_with_one_line(capsys, argv, fragment):
    from twin.cli import main

    args = ["flex", "--scenario", str(SITE), "--broker", "mqtt://127.0.0.1:1", *argv]
    if "--tls-ca" in argv:
        args[args.index("ca.pem")] = str(SITE)  # a file that exists
    assert main(args) == 2
    err = capsys.readouterr().err
    assert fragment in err and "Traceback" not in err


def _agent_on(broker, generators: bool, **options):
    """The agent in this process on the real broker, stepping its own run."""
    from twin.exchange.broker import MqttLink, broker_settings
    from twin.exchange.flex import FlexAgent, FlexOptions
    from twin.runs.observe import ObservedRun
    from twin.scenario import load
    from twin.sim.engine import Simulation

    settings = broker_settings(
        broker.url,
        client_id=f"flex-{uuid.uuid4().hex[:8]}",
        environ={},
        credentials_file=Path("/nonexistent"),
    )
    link = MqttLink(settings, inbox_size=100, name="twin flex")
    agent = FlexAgent(link, FlexOptions(isv="acme", generators=generators, **options))
    link.subscriptions = agent.subscriptions
    link.start()
    assert link.wait_connected(30)
    run = ObservedRun(Simulation(load(SITE), dt_s=1.0), [agent])
    run.step(400)
    return link, agent, run


def _until(run, agent, condition, limit_steps: int = 600) -> None:
    for _ in range(limit_steps):
        run.step()
        if condition():
            return
    raise AssertionError("the agent did not get there within the simulated time")


def test_a_deep_target_takes_every_lever_and_the_generator_sets_within_their_allowance(broker):
    link, agent, run = _agent_on(broker, generators=True)
    listener = Listener(broker.port)
    try:
        target_kw = round(0.3 * agent.import_w / 1e3, 3)  # deeper than all GPU levers
        listener.publish(encoded(load_target({"value": target_kw, "unit": "kilowatt"})))
        _until(run, agent, lambda: agent.counters.enforcements == 1)
        data = listener.next(lambda t, e: t == enforcement_topic("twin-infra"))["data"]
        assert data["code"] == "success", data["diag_msg"]
        codes = {(r["resource_id"], r["requested_action"]): r["code"] for r in data["results"]}
        assert set(codes.values()) == {"applied"}  # caps, suspend, inference caps
        # each lever reports its own cap: the training rows' caps at 30 % of 72 x 1.4 kW,
        # though the suspend after them took the rows to idle
        capped = next(
            r
            for r in data["results"]
            if (r["resource_id"], r["requested_action"]) == ("T01", "power_cap")
        )
        assert capped["message"].startswith("cap 30% of TDP")
        assert capped["applied_power"] == {"value": 30.24, "unit": "kilowatt"}
        gens = re.search(
            r"generators ([\d.]+) kW within ([\d.]+) s of their start \(allow "
            r"([\d.]+) s\)",
            data["diag_msg"],
        )
        assert float(gens[1]) > 0 and float(gens[2]) <= float(gens[3])
        # by hand: two sets, 10 s to close onto the bus, 100 kW at 10 kW/s
        assert float(gens[3]) == 10 + 10
        met = re.search(
            r"met ([\d.]+) s after it took effect \(the levers allow ([\d.]+) s "
            r"in all\)",
            data["diag_msg"],
        )
        assert float(met[2]) == 1 + 30 + 20  # BESS, GPU levers, generator sets in turn
        assert float(met[1]) <= float(met[2])
        assert agent.import_w <= target_kw * 1e3 * 1.01
    finally:
        listener.stop()
        link.stop()


def _opened(event: dict, public_key) -> dict:
    """An event's JWS-signed data, verified with the agent's public key."""
    import jwt

    return json.loads(jwt.PyJWS().decode(event["data"], public_key, algorithms=["ES256"]))


def test_best_effort_sheds_with_power_caps_only_and_signed_data_both_ways(broker, tmp_path):
    from twin.exchange.flex import load_key, sign

    isv_private, isv_public = _keys(tmp_path / "isv")
    agent_private, agent_public = _keys(tmp_path / "agent")
    link, agent, run = _agent_on(
        broker,
        generators=False,
        verify_key=load_key(isv_public, private=False),
        sign_key=load_key(agent_private, private=True),
    )
    agent_key = load_key(agent_public, private=False)
    listener = Listener(broker.port)
    try:
        event = load_target({"value": round(0.45 * agent.import_w / 1e3, 3), "unit": "kilowatt"})
        event["data"]["targets"][0]["strategy"] = {"best_effort": True}
        listener.publish(encoded(event))  # unsigned: refused
        event["id"] = str(uuid.uuid4())
        event["data"] = sign(event["data"], load_key(isv_private, private=True), "acme-1")
        listener.publish(encoded(event))
        _until(run, agent, lambda: agent.counters.enforcements == 1)
        run.step()  # the escalation follows the outcome
        assert (agent.counters.malformed, agent.counters.accepted) == (1, 1)
        alert = _opened(listener.next(lambda t, e: t == breach_topic("twin")), agent_key)
        assert {h["action"] for h in alert["shed_hints"]} == {"power_cap"}
        enforcement = _opened(
            listener.next(lambda t, e: t == enforcement_topic("twin-infra")), agent_key
        )
        # caps alone cannot reach 45 %: a partial outcome, and the breach escalates
        assert enforcement["code"] == "partial"
        assert "not met within 31 s (the levers allow 31 s in all)" in enforcement["diag_msg"]
        escalated = _opened(listener.next(lambda t, e: t == breach_topic("twin")), agent_key)
        assert escalated["status"] == "escalated"
        assert escalated["breach"]["breach_id"] == alert["breach"]["breach_id"]
    finally:
        listener.stop()
        link.stop()


def test_a_scheduled_target_takes_effect_and_ends_on_the_simulated_clock():
    from twin.exchange.broker import MqttLink, broker_settings
    from twin.exchange.flex import FlexAgent, FlexOptions
    from twin.runs.observe import ObservedRun
    from twin.scenario import load
    from twin.sim.engine import Simulation

    # a link never started: what the agent publishes is counted as unsent
    link = MqttLink(
        broker_settings(
            "mqtt://127.0.0.1:1",
            client_id="offline",
            environ={},
            credentials_file=Path("/nonexistent"),
        )
    )
    agent = FlexAgent(link, FlexOptions(isv="acme"))
    sim = Simulation(load(SITE), dt_s=1.0)
    run = ObservedRun(sim, [agent])
    run.step(300)
    # the scenario starts 2026-08-01 00:00 at UTC+9: 2026-07-31 15:00 UTC
    event = load_target({"value": 400, "unit": "kilowatt"})
    event["data"]["targets"][0]["interval"] = {
        "start_time": "2026-07-31T15:10:00Z",
        "end_time": "2026-07-31T15:15:00+00:00",
    }
    agent.handle(TOPIC, encoded(event))
    assert [(t.start_s, t.end_s) for t in agent.targets] == [(600.0, 900.0)]
    run.step(299)
    assert sim.import_target_w is None and agent.active is None
    run.step(1)
    assert sim.import_target_w == 400e3 and agent.active is agent.targets[0]
    run.step(300)
    assert sim.import_target_w is None and agent.active is None and agent.targets == []
    # each status, the breach's active and resolved alerts, enforcement applied and reverted
    counters = agent.counters
    assert (counters.breaches, counters.enforcements) == (1, 2)
    assert link.counters.unsent_disconnected == counters.statuses + 2 + 2
