"""Messages against the contract: malformed ones are counted and never reach the model; the
virtual BMS's write-back guardrails and heartbeat revert."""

from __future__ import annotations

import json

import numpy as np
import pytest

from tests.exchange.conftest import THREE_CDU
from twin.exchange import contract
from twin.exchange.plant import HEARTBEAT_TIMEOUT_S, VirtualBms, start_epoch_ms
from twin.exchange.points import default_points
from twin.exchange.shadow import Shadow
from twin.scenario import load
from twin.sim.engine import Simulation

RACK_POWER = "BMS/v1/PUB/{kind}/Rack/RackPower/three-cdu/lab/R01-01/power_kw"


@pytest.mark.parametrize(
    "payload, reason",
    [
        (b"not json", "payload is not JSON"),
        (b"[1, 2]", "payload is not a JSON object"),
        (b'{"value": 1, "timestamp": 5}', "value payload needs exactly value, timestamp, quality"),
        (b'{"value": "1", "timestamp": 5, "quality": 1}', "value is not a number or null"),
        (b'{"value": true, "timestamp": 5, "quality": 1}', "value is not a number or null"),
        (b'{"value": NaN, "timestamp": 5, "quality": 1}', "value is not finite"),
        (b'{"value": 1, "timestamp": 5.5, "quality": 1}', "timestamp is not epoch milliseconds"),
        (b'{"value": 1, "timestamp": 5, "quality": "good"}', "quality is not an integer"),
        (
            b'{"value": 1, "timestamp": 5, "quality": 1, "x": 2}',
            "value payload needs exactly value, timestamp, quality",
        ),
        (b"{" * 100_000, "payload too large"),
    ],
)
def test_malformed_values_are_refused_with_a_reason(payload, reason):
    with pytest.raises(contract.MessageError) as caught:
        contract.decode_value(payload)
    assert caught.value.reason == reason


def test_value_payload_round_trips():
    payload = contract.encode_value(32.5, 1743620423000, 1)
    assert json.loads(payload) == {"value": 32.5, "timestamp": 1743620423000, "quality": 1}
    assert contract.decode_value(contract.encode_value(float("nan"), 1, 1)).value is None


@pytest.fixture
def shadow():
    scenario = load(THREE_CDU)
    sim = Simulation(scenario)
    return Shadow(sim, default_points(scenario, sim.topology))


def test_shadow_counts_bad_messages_and_keeps_them_from_the_model(shadow):
    point = next(i for i, p in enumerate(shadow.points) if p.quantity == "rack.power_kw")
    meta = json.dumps(shadow.points[point].metadata()).encode()
    good = contract.encode_value(100.0, 1_000_000, 1)
    shadow.ingest(RACK_POWER.format(kind="Value"), good)  # before its metadata
    shadow.ingest("BMS/v1/PUB/Value/Rack/NoSuchType/x", good)
    shadow.ingest(
        "BMS/v1/PUB/Metadata/Rack/RackPower/elsewhere/R77",
        json.dumps(
            {
                "objectType": "Rack",
                "pointType": "RackPower",
                "engUnit": "kW",
                "rackLocationId": "R77",
                "rackLocationName": "R77",
            }
        ).encode(),
    )
    shadow.ingest("BMS/v1/PUB/Value/Rack/RackPower/elsewhere/R77", good)
    shadow.ingest(RACK_POWER.format(kind="Metadata"), meta)
    shadow.ingest(RACK_POWER.format(kind="Value"), b'{"value": NaN}')
    shadow.ingest(RACK_POWER.format(kind="Value"), b"\xff\xfe")
    shadow.ingest("BMS/v1/MEPAI1/Metadata/Rack/RackPower/x", meta)
    assert shadow.pending_values == 0
    assert not shadow.seen.any()
    shadow.ingest(RACK_POWER.format(kind="Value"), good)
    shadow.ingest(RACK_POWER.format(kind="Value"), contract.encode_value(90.0, 999_000, 1))
    dropped = shadow.status.dropped
    assert dropped == {
        "value before its metadata": 1,
        "unknown objectType/pointType": 1,
        "point the model cannot place": 1,
        "value of an unplaced point": 1,
        "value payload needs exactly value, timestamp, quality": 1,
        "payload is not JSON": 1,
        "metadata from an integration (only the BMS publishes metadata)": 1,
        "out of order": 1,
    }
    assert shadow.pending_values == 1


def test_shadow_places_a_point_by_its_metadata_under_another_tag_path(shadow):
    point = next(p for p in shadow.points if p.quantity == "cdu.return_temp_c")
    shadow.ingest(
        f"BMS/v1/PUB/Metadata/CDU/LiquidTemperature/site/{point.component}/TT-2",
        json.dumps(point.metadata()).encode(),
    )
    assert shadow.placed[
        ("CDU", "LiquidTemperature", f"site/{point.component}/TT-2")
    ] == shadow.points.index(point)


class Clock:
    def __init__(self) -> None:
        self.now = 0.0

    def __call__(self) -> float:
        return self.now


def test_setpoint_requests_within_guardrails_ramp_and_revert_without_heartbeat():
    scenario = load(THREE_CDU)
    sim = Simulation(scenario)
    sent: list[tuple[str, bytes]] = []
    clock = Clock()
    bms = VirtualBms(
        scenario,
        sim.topology,
        default_points(scenario, sim.topology),
        lambda topic, payload, retain: sent.append((topic, payload)),
        sim.set_cdu_supply_setpoint,
        apply_isolation=sim.set_rack_isolation,
        clock=clock,
    )
    request = (
        "BMS/v1/MEPAI1/Value/CDU/LiquidTemperatureSpRequest/three-cdu/lab/L-CDU-02/"
        "supply_setpoint_request_c"
    )
    heartbeat = (
        "BMS/v1/MEPAI1/Value/System/HeartbeatTimestampIntegration/three-cdu/system/"
        "MEPAI1/integration_heartbeat"
    )
    assert bms.subscriptions == ("BMS/v1/MEPAI1/Value/#",)
    bms.handle(heartbeat, contract.encode_value(123, 123, 1), clock())
    assert any(b'"value":123' in payload for topic, payload in sent if "HeartbeatEchoBms" in topic)
    bms.handle(request, contract.encode_value(37.0, 1, 1), clock())
    for _ in range(120):  # two minutes: 0.5 K/min lets the setpoint move 1 K
        sim.step()
        bms.observe(sim.snapshot(robots=False))
    setpoint = sim.snapshot(robots=False).cdus.supply_setpoint_c
    assert setpoint[1] == pytest.approx(36.0, abs=0.02)
    assert setpoint[0] == 35.0
    published = [
        json.loads(p)["value"]
        for t, p in sent
        if "/Value/" in t and t.endswith("L-CDU-02/supply_setpoint_c")
    ]
    assert published[-1] == pytest.approx(36.0, abs=0.1)  # the decision, published back
    bms.handle(request, contract.encode_value(80.0, 2, 1), clock())  # out of range
    assert bms.counters.refused == 1 and bms.target_c[1] == 35.0
    bms.handle(request, contract.encode_value(36.0, 3, 1), clock())
    clock.now = HEARTBEAT_TIMEOUT_S + 1
    bms.check_heartbeats()
    assert bms.target_c[1] == 35.0 and bms.counters.reverts_heartbeat == 1
    bms.handle(request.replace("MEPAI1", "OTHER"), contract.encode_value(36.0, 4, 1), clock())
    assert bms.counters.not_owner == 1


def test_isolation_requests_act_at_once_release_after_a_hold_and_are_held_without_heartbeat():
    from twin.exchange.plant import ISOLATION_MIN_HOLD_S

    scenario = load(THREE_CDU)
    sim = Simulation(scenario)
    sent: list[tuple[str, bytes]] = []
    clock = Clock()
    bms = VirtualBms(
        scenario,
        sim.topology,
        default_points(scenario, sim.topology),
        lambda topic, payload, retain: sent.append((topic, payload)),
        sim.set_cdu_supply_setpoint,
        apply_isolation=sim.set_rack_isolation,
        clock=clock,
    )
    liquid = (
        "BMS/v1/MEPAI1/Value/Rack/RackLiquidIsolationRequest/three-cdu/lab/R02-01/"
        "liquid_isolation_request"
    )
    electrical = liquid.replace(
        "RackLiquidIsolationRequest", "RackElectricalIsolationRequest"
    ).replace("liquid_isolation_request", "electrical_isolation_request")
    status = (
        "BMS/v1/PUB/Value/Rack/RackLiquidIsolationStatus/three-cdu/lab/R02-01/"
        "liquid_isolation_status"
    )

    def run(seconds: int):
        for _ in range(seconds):
            sim.step()
            bms.observe(sim.snapshot(robots=False))
        return sim.snapshot(robots=False)

    run(30)
    bms.handle(liquid, contract.encode_value(1, 1, 1), clock())
    snap = run(1)  # a safety action: in force at the next step
    assert snap.racks.liquid_isolated.tolist() == [False, True, False]
    assert snap.racks.flow_lpm[1] == 0.0
    assert [json.loads(p)["value"] for t, p in sent if t == status][-1] == 1
    bms.handle(liquid, contract.encode_value(0, 2, 1), clock())  # release: held a minute
    assert run(int(ISOLATION_MIN_HOLD_S) - 5).racks.liquid_isolated[1]
    assert not run(10).racks.liquid_isolated[1]
    assert [json.loads(p)["value"] for t, p in sent if t == status][-1] == 0
    for refused in (0.5, 2, None):  # not a state of the point, or no reading
        bms.handle(electrical, contract.encode_value(refused, 3, 1), clock())
    bms.handle(electrical, contract.encode_value(1, 3, 0), clock())  # bad quality
    assert bms.counters.refused == 4 and not run(1).racks.electrical_isolated.any()
    bms.handle(electrical.replace("MEPAI1", "OTHER"), contract.encode_value(1, 4, 1), clock())
    assert bms.counters.not_owner == 1 and not run(1).racks.electrical_isolated.any()
    bms.handle(electrical, contract.encode_value(1, 5, 1), clock())
    assert run(1).racks.power_kw[1] == 0.0
    bms.handle(electrical, contract.encode_value(0, 6, 1), clock())
    clock.now = HEARTBEAT_TIMEOUT_S + 1  # the integration went silent: the isolation holds
    bms.check_heartbeats()
    assert bms.counters.holds_heartbeat == 1
    snap = run(int(2 * ISOLATION_MIN_HOLD_S))
    assert snap.racks.electrical_isolated[1] and snap.racks.power_kw[1] == 0.0
    # a BMS given nothing to isolate with refuses every request
    bare = VirtualBms(
        scenario,
        sim.topology,
        default_points(scenario, sim.topology),
        lambda topic, payload, retain: None,
        sim.set_cdu_supply_setpoint,
    )
    bare.handle(liquid, contract.encode_value(1, 7, 1), clock())
    assert bare.counters.refused == 1 and not bare.isolated["liquid"].any()


def test_plant_marks_points_of_an_unpowered_hall_bad_and_stamps_the_simulated_clock():
    scenario = load(THREE_CDU)
    sim = Simulation(scenario)
    sent: list[tuple[str, bytes]] = []
    bms = VirtualBms(
        scenario,
        sim.topology,
        default_points(scenario, sim.topology),
        lambda topic, payload, retain: sent.append((topic, payload)),
        sim.set_cdu_supply_setpoint,
        apply_isolation=sim.set_rack_isolation,
    )
    sim.step(5)
    snapshot = sim.snapshot(robots=False)
    bms.observe(snapshot)
    values = {t: json.loads(p) for t, p in sent if "/Value/" in t}
    assert all(v["timestamp"] == start_epoch_ms(scenario) + 5000 for v in values.values())
    assert all(v["quality"] == 1 for v in values.values())
    retained = [t for t, p in sent if "/Metadata/" in t]
    assert len(retained) == len(bms.points)
    dark = snapshot.power.__class__(
        **{
            **{f: getattr(snapshot.power, f) for f in snapshot.power.__slots__},
            "hall_powered": np.zeros(1, dtype=bool),
        }
    )
    sent.clear()
    bms.republish_all()
    bms.observe(
        snapshot.__class__(
            **{**{f: getattr(snapshot, f) for f in snapshot.__slots__}, "power": dark}
        )
    )
    rack = [json.loads(p) for t, p in sent if "/Value/Rack/" in t]
    assert rack and all(v["quality"] == 0 for v in rack)


def test_shadow_isolates_the_racks_the_plant_reports_isolated(shadow):
    points = [
        p for p in shadow.points if p.component == "R02-01" and "isolation_status" in p.quantity
    ]
    for p in points:
        shadow.ingest(
            contract.metadata_topic(p.object_type, p.point_type, p.tag_path),
            json.dumps(p.metadata()).encode(),
        )
    for stamp in (1_000_000, 1_030_000):
        for p in points:
            value = 1 if p.quantity == "rack.liquid_isolation_status" else 0
            shadow.ingest(
                contract.value_topic(p.object_type, p.point_type, p.tag_path),
                contract.encode_value(value, stamp, 1),
            )
    shadow.advance()
    snap = shadow.sim.snapshot(robots=False)
    assert snap.racks.liquid_isolated.tolist() == [False, True, False]
    assert not snap.racks.electrical_isolated.any() and snap.racks.flow_lpm[1] == 0.0


def test_shadow_marks_everything_stale_and_alarms_while_the_broker_is_away(shadow):
    for p in shadow.points:  # metadata, then one good value of every point
        shadow.ingest(
            contract.metadata_topic(p.object_type, p.point_type, p.tag_path),
            json.dumps(p.metadata()).encode(),
        )
    for stamp in (1_000_000, 1_030_000):
        for p in shadow.points:
            shadow.ingest(
                contract.value_topic(p.object_type, p.point_type, p.tag_path),
                contract.encode_value(1.0, stamp, 1),
            )
    shadow.advance()
    assert shadow.status.steps > 0 and not shadow.stale.any()
    shadow.set_connected(False)
    assert shadow.stale.sum() == len(shadow.points)
    active = {a.key.tag for a in shadow.alarms.summary().alarms if a.active}
    assert "shadow.disconnected" in active


def test_shadow_writes_only_its_integrations_heartbeats():
    from twin.exchange.shadow import HeartbeatWriter

    scenario = load(THREE_CDU)
    points = default_points(scenario)
    tags = {p.quantity: p.tag_path for p in points}
    writer = HeartbeatWriter(
        points, "MEPAI1", (tags["system.integration_heartbeat"], tags["system.integration_echo"])
    )
    ((topic, payload),) = writer.due(1_700_000_000.0)
    assert topic.startswith("BMS/v1/MEPAI1/Value/System/HeartbeatTimestampIntegration/")
    assert json.loads(payload)["value"] == 1_700_000_000_000
    assert writer.due(1_700_000_005.0) == []  # every 10 s
    bms = contract.value_topic("System", "HeartbeatTimestampBms", tags["system.bms_heartbeat"])
    ((topic, payload),) = writer.echo(bms, contract.encode_value(42, 42, 1), 1_700_000_001.0)
    assert "/MEPAI1/Value/System/HeartbeatEchoIntegration/" in topic
    assert json.loads(payload)["value"] == 42
    for refused in (tags["cdu.supply_setpoint_request_c"], tags["rack.power_kw"], "nowhere"):
        with pytest.raises(ValueError, match="writes only the heartbeat points"):
            HeartbeatWriter(points, "MEPAI1", (refused,))
    with pytest.raises(ValueError):
        HeartbeatWriter(points, "OTHER", (tags["system.integration_heartbeat"],))


def test_values_go_out_on_change_past_the_deadband_and_at_least_every_100_s():
    from dataclasses import replace

    scenario = load(THREE_CDU)
    sim = Simulation(scenario)
    sent: list[tuple[str, bytes]] = []
    bms = VirtualBms(
        scenario,
        sim.topology,
        default_points(scenario, sim.topology),
        lambda topic, payload, retain: sent.append((topic, payload)),
        sim.set_cdu_supply_setpoint,
        apply_isolation=sim.set_rack_isolation,
    )
    sim.step(10)
    still = sim.snapshot(robots=False)
    topic = next(t for t in bms.value_topics if t.endswith("R01-01/supply_temp_c"))

    def published_at(time_s: float, snapshot=None) -> bool:
        sent.clear()
        bms.observe(replace(snapshot or still, time_s=time_s))
        return any(t == topic for t, _ in sent)

    assert published_at(10.0)  # the first sample
    assert not published_at(12.0)  # unchanged: held back
    assert not published_at(108.0)
    assert published_at(110.0)  # 100 s after the last: republished unchanged
    warmer = replace(
        still, racks=replace(still.racks, inlet_temp_c=still.racks.inlet_temp_c + 0.05)
    )
    assert not published_at(112.0, warmer)  # within the 0.1 K deadband
    warmer = replace(still, racks=replace(still.racks, inlet_temp_c=still.racks.inlet_temp_c + 0.3))
    assert published_at(114.0, warmer)
