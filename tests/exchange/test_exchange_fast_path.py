"""The bulk paths of the DSX Exchange link: QoS 0 PUBLISH packets framed by twin are the
bytes paho writes, the virtual BMS's bulk path sends exactly the messages of its
per-message path, incoming QoS 0 packets are cut from the stream while paho keeps every
other packet, and the shadow's compact value reader agrees with the JSON one."""

from __future__ import annotations

import json
import math
import queue
import socket
import threading
import time

import numpy as np
import paho.mqtt.client as mqtt
import pytest
from hypothesis import given
from hypothesis import strategies as st

from tests.exchange.conftest import THREE_CDU
from twin.exchange import contract
from twin.exchange.broker import (
    MAX_PAYLOAD_BYTES,
    Inbox,
    MqttLink,
    _PublishSplitter,
    broker_settings,
    publish_frame,
    topic_field,
)
from twin.exchange.plant import VALUE_PAYLOAD, VirtualBms, value_payloads
from twin.exchange.points import default_points
from twin.exchange.shadow import HOLD_S, Shadow
from twin.scenario import load
from twin.sim.engine import Simulation

DEADLINE_S = 60.0


def parse_frames(stream: bytes) -> list[tuple[str, bytes, bool]]:
    """(topic, payload, retain) of consecutive QoS 0 PUBLISH packets (MQTT 3.1.1 3.3)."""
    out, pos = [], 0
    while pos < len(stream):
        first = stream[pos]
        assert first & 0xF6 == 0x30, f"not a QoS 0 PUBLISH: {first:#x}"
        length, shift, pos = 0, 0, pos + 1
        while True:
            byte = stream[pos]
            pos += 1
            length |= (byte & 0x7F) << shift
            shift += 7
            if byte < 0x80:
                break
        body = stream[pos : pos + length]
        assert len(body) == length
        size = int.from_bytes(body[:2], "big")
        out.append((body[2 : 2 + size].decode(), body[2 + size :], bool(first & 1)))
        pos += length
    return out


def test_a_framed_publish_is_the_packet_paho_writes():
    messages = [
        ("BMS/v1/PUB/Value/Rack/RackPower/a", b'{"value":1,"timestamp":5,"quality":1}', False),
        ("BMS/v1/PUB/Metadata/CDU/LiquidTemperature/h/c", b"x" * 200, True),  # 2-byte length
        ("BMS/v1/PUB/Value/System/GenericPoint/long", b"y" * 20_000, False),  # 3-byte length
        ("t", b"", False),
    ]
    with socket.create_server(("127.0.0.1", 0)) as server:
        port = server.getsockname()[1]
        client = mqtt.Client(mqtt.CallbackAPIVersion.VERSION2, client_id="frames")
        client.connect_async("127.0.0.1", port)
        client.loop_start()
        try:
            server.settimeout(DEADLINE_S)
            peer, _ = server.accept()
            with peer:
                peer.settimeout(DEADLINE_S)
                connect = peer.recv(2)
                assert connect[0] == 0x10
                _recv_exactly(peer, connect[1])  # the rest of CONNECT (short: 1-byte length)
                peer.sendall(b"\x20\x02\x00\x00")  # CONNACK, accepted
                deadline = time.monotonic() + DEADLINE_S
                while not client.is_connected():
                    assert time.monotonic() < deadline, "paho never took the CONNACK"
                    time.sleep(0.01)
                for topic, payload, retain in messages:
                    client.publish(topic, payload, retain=retain)
                expected = b"".join(
                    publish_frame(topic_field(t), p, retain=r) for t, p, r in messages
                )
                assert _recv_exactly(peer, len(expected)) == expected
        finally:
            client.loop_stop()


def _recv_exactly(sock: socket.socket, size: int) -> bytes:
    data = b""
    while len(data) < size:
        chunk = sock.recv(size - len(data))
        assert chunk, "the connection closed early"
        data += chunk
    return data


def test_topic_names_that_cannot_be_published_are_refused():
    for topic in ("", "a/+/b", "a/#", "x" * 70_000):
        with pytest.raises(ValueError):
            topic_field(topic)


def _bms(publish, publish_frames=None, **options) -> tuple[VirtualBms, Simulation]:
    scenario = load(THREE_CDU)
    sim = Simulation(scenario, seed=3)
    bms = VirtualBms(
        scenario,
        sim.topology,
        default_points(scenario, sim.topology),
        publish,
        sim.set_cdu_supply_setpoint,
        apply_isolation=sim.set_rack_isolation,
        publish_frames=publish_frames,
        **options,
    )
    return bms, sim


def test_the_bulk_path_sends_the_messages_of_the_per_message_path():
    one_by_one: list[tuple[str, bytes, bool]] = []
    framed: list[bytes] = []
    options = {"noise_scale": 1.0, "dropout": 0.1}
    single, sim_a = _bms(lambda t, p, r: one_by_one.append((t, p, r)), **options)
    bulk, sim_b = _bms(
        lambda t, p, r: framed.append(publish_frame(topic_field(t), p, retain=r)),
        framed.extend,
        **options,
    )
    for step in range(240):  # changes, deadbands, the 100 s republish, a reconnect's
        if step == 150:
            single.republish_all()
            bulk.republish_all()
        sim_a.step()
        sim_b.step()
        assert single.observe(sim_a.snapshot(robots=False)) == bulk.observe(
            sim_b.snapshot(robots=False)
        )
    received = parse_frames(b"".join(framed))
    assert received == one_by_one
    # metadata at the start, at 100 s and at the republish
    assert sum(r for _, _, r in received) == 3 * len(single.points)
    for topic, payload, retain in received:
        if not retain:
            contract.decode_value(payload)
        else:
            contract.decode_metadata(payload, contract.parse_topic(topic))


def test_value_payloads_write_null_and_bad_quality_for_a_value_that_is_not_finite():
    payloads = value_payloads(
        np.array([32.5, np.nan, -np.inf, 1e-9, 123456789.0]), np.array([1, 1, 1, 0, 1]), 17
    )
    readings = [contract.decode_value(p) for p in payloads]
    assert [r.value for r in readings] == [32.5, None, None, 1e-9, 123456800.0]
    assert [r.quality for r in readings] == [1, 0, 0, 0, 1]
    assert {r.timestamp_ms for r in readings} == {17}


@given(
    st.one_of(st.floats(allow_nan=False, allow_infinity=False), st.integers(-(10**20), 10**20)),
    st.integers(0, 2**53),
    st.integers(-5, 5),
)
def test_the_compact_value_reader_agrees_with_the_json_reader(value, stamp, quality):
    for payload in (
        VALUE_PAYLOAD % (value, stamp, quality),
        json.dumps({"value": value, "timestamp": stamp, "quality": quality}).encode(),
        b'{"value":%d,"timestamp":%d,"quality":%d}' % (int(value), stamp, quality),
    ):
        assert contract.value_fields(payload) == contract._parsed_value_fields(payload)


@pytest.mark.parametrize(
    "payload, reason",
    [
        (b'{"value":1e999,"timestamp":5,"quality":1}', "value is not finite"),
        (b'{"value":' + b"9" * 400 + b',"timestamp":5,"quality":1}', "value is not finite"),
        (b'{"value":1,"timestamp":-5,"quality":1}', "timestamp is not epoch milliseconds"),
        (b'{"value":1,"timestamp":5,"quality":1.0}', "quality is not an integer"),
        (b'{"value":01,"timestamp":5,"quality":1}', "payload is not JSON"),
    ],
)
def test_the_compact_value_reader_refuses_what_the_schema_refuses(payload, reason):
    with pytest.raises(contract.MessageError) as caught:
        contract.value_fields(payload)
    assert caught.value.reason == reason


class Delivered:
    def __init__(self) -> None:
        self.messages: list[tuple[str, bytes]] = []
        self.too_large = self.bad_topic = 0

    def __call__(self, messages, too_large, bad_topic) -> None:
        self.messages += [(t, p) for t, p, _ in messages]
        self.too_large += too_large
        self.bad_topic += bad_topic


@pytest.mark.parametrize("piece", [5, 1000, 1 << 20])
def test_the_splitter_cuts_qos0_publishes_and_passes_every_other_packet_whole(piece):
    publishes = [(f"BMS/v1/PUB/Value/Rack/RackPower/r{i}", b"%d" % i) for i in range(50)]
    qos1 = b"\x32\x0c\x00\x03a/b\x00\x07hello"  # QoS 1 PUBLISH, packet id 7: paho's
    pingresp = b"\xd0\x00"
    oversized = publish_frame(topic_field("big"), b"z" * (MAX_PAYLOAD_BYTES + 1))
    huge = bytes((0x30, *b"\xc0\x9a\x0c"))  # 200,000 bytes: skipped as they stream
    bad_topic = b"\x30\x05\x00\x02\xff\xfeX"
    stream = b"".join(
        [
            *(publish_frame(topic_field(t), p) for t, p in publishes[:20]),
            qos1,
            oversized,
            *(publish_frame(topic_field(t), p) for t, p in publishes[20:40]),
            huge + b"h" * 200_000,
            bad_topic,
            pingresp,
            *(publish_frame(topic_field(t), p) for t, p in publishes[40:]),
        ]
    )
    near, far = socket.socketpair()
    near.setblocking(False)
    delivered = Delivered()
    splitter = _PublishSplitter(near, delivered)
    to_paho = b""

    def feed() -> None:
        for start in range(0, len(stream), piece):
            far.sendall(stream[start : start + piece])
        far.close()

    writer = threading.Thread(target=feed, daemon=True)
    writer.start()
    deadline = time.monotonic() + DEADLINE_S
    try:
        while True:
            assert time.monotonic() < deadline, "the stream never ended"
            try:
                data = splitter.recv(3)
            except BlockingIOError:
                time.sleep(0.001)
                continue
            if not data:
                break
            to_paho += data
    finally:
        near.close()  # a feeder still writing fails and ends
    writer.join(DEADLINE_S)
    assert delivered.messages == publishes
    assert (delivered.too_large, delivered.bad_topic) == (2, 1)
    assert to_paho == qos1 + pingresp


def test_the_inbox_refuses_the_newest_when_full_and_waits_no_longer_than_asked():
    inbox = Inbox(3)
    assert inbox.put_many([("a", b"1", 0.0), ("b", b"2", 0.0)]) == 0
    assert inbox.put_many([("c", b"3", 0.0), ("d", b"4", 0.0)]) == 1
    with pytest.raises(queue.Full):
        inbox.put_nowait(("e", b"5", 0.0))
    assert [inbox.get_nowait()[0] for _ in range(3)] == ["a", "b", "c"]
    with pytest.raises(queue.Empty):
        inbox.get_nowait()
    start = time.monotonic()
    with pytest.raises(queue.Empty):
        inbox.get(timeout=0.1)
    assert time.monotonic() - start < DEADLINE_S
    threading.Timer(0.05, inbox.put_nowait, args=(("f", b"6", 0.0),)).start()
    assert inbox.get(timeout=DEADLINE_S)[0] == "f"


def _link(url: str, client_id: str, subscriptions=()) -> MqttLink:
    link = MqttLink(
        broker_settings(url, client_id=client_id, environ={}),
        subscriptions=subscriptions,
        name="test",
    )
    link.start()
    assert link.wait_connected(DEADLINE_S)
    return link


def test_bulk_publishes_arrive_whole_and_in_order_through_mosquitto_beside_qos1(broker):
    reader = _link(broker.url, "bulk-reader", ("BMS/v1/PUB/#", "qos1/#"))
    writer = _link(broker.url, "bulk-writer")
    try:
        # a subscription is in force once a message on it comes back
        deadline = time.monotonic() + DEADLINE_S
        while True:
            assert time.monotonic() < deadline, "the subscription never took"
            writer.publish("qos1/probe", b"p", qos=1)
            try:
                if reader.inbox.get(timeout=0.5)[0] == "qos1/probe":
                    break
            except queue.Empty:
                continue
        time.sleep(0.5)  # probes still on their way: drained below
        while True:
            try:
                reader.inbox.get_nowait()
            except queue.Empty:
                break
        sent = [
            (f"BMS/v1/PUB/Value/Rack/RackPower/site/R{i:05d}", VALUE_PAYLOAD % (i / 7, 5, 1))
            for i in range(20_000)
        ]
        frames = [publish_frame(topic_field(t), p) for t, p in sent]
        assert writer.publish_frames(frames[:10_000])
        assert writer.publish("qos1/after", b"q", qos=1)  # paho's own path, in between
        assert writer.publish_frames(frames[10_000:])
        received, extra = [], []
        deadline = time.monotonic() + DEADLINE_S
        while len(received) < len(sent) or not extra:
            assert time.monotonic() < deadline, f"{len(received)} of {len(sent)} arrived"
            try:
                topic, payload, _ = reader.inbox.get(timeout=0.5)
            except queue.Empty:
                continue
            (extra if topic.startswith("qos1/") else received).append((topic, payload))
        assert received == sent
        assert extra == [("qos1/after", b"q")]
        assert reader.counters.dropped_inbox_full == 0
    finally:
        reader.stop()
        writer.stop()


@pytest.fixture
def shadow():
    scenario = load(THREE_CDU)
    sim = Simulation(scenario)
    return Shadow(sim, default_points(scenario, sim.topology))


def test_a_caught_up_shadow_steps_to_the_newest_instant_and_still_takes_a_late_value(shadow):
    points = [p for p in shadow.points if p.quantity == "rack.power_kw"]
    for p in points:
        shadow.ingest(
            contract.metadata_topic(p.object_type, p.point_type, p.tag_path),
            json.dumps(p.metadata()).encode(),
        )
    origin = 1_000_000
    for stamp in (origin, origin + 10_000):
        for p in points[1:]:
            shadow.ingest(
                contract.value_topic(p.object_type, p.point_type, p.tag_path),
                contract.encode_value(40.0, stamp, 1),
            )
    shadow.advance()
    assert shadow.sim.time_s == pytest.approx(10.0 - HOLD_S)  # held behind the newest
    shadow.caught_up = True
    shadow.advance()
    assert shadow.sim.time_s == pytest.approx(10.0)  # the quiet bus: up to the newest
    late = points[0]
    shadow.ingest(  # the model already passed its timestamp
        contract.value_topic(late.object_type, late.point_type, late.tag_path),
        contract.encode_value(55.0, origin + 9_000, 1),
    )
    assert not shadow.caught_up  # a message: the bus is not quiet
    index = shadow.points.index(late)
    assert not shadow.seen[index]
    shadow.ingest(
        contract.value_topic(points[1].object_type, points[1].point_type, points[1].tag_path),
        contract.encode_value(41.0, origin + 12_000, 1),
    )
    shadow.caught_up = True
    shadow.advance()
    assert shadow.seen[index] and shadow.measured[index] == 55.0
    assert shadow.measured_ms[index] == origin + 9_000
    assert math.isclose(shadow.sim.time_s, 12.0)
