"""The DSX Exchange BMS contract: topics, payloads and the vocabulary of object and point types.

From NVIDIA's ``dsx-exchange`` repository, ``schemas/asyncapi/bms/bms.yaml`` (AsyncAPI 3.1,
BMS Event Bus 1.0.0, Apache-2.0): MQTT 3.1.1, JSON payloads. The BMS publishes values on
``BMS/v1/PUB/Value/{objectType}/{pointType}/{tagPath}`` and retained metadata on
``BMS/v1/PUB/Metadata/...``; an integration publishes its write-backs on
``BMS/v1/{integration}/Value/...`` (``PUB`` replaced by its identifier).
"""

from __future__ import annotations

import json
import math
import re
from dataclasses import dataclass

ROOT = "BMS/v1"
BMS_PUBLISHER = "PUB"
VALUE = "Value"
METADATA = "Metadata"
REPUBLISH_S = 100.0  # values unchanged and metadata are republished this often (the spec)
HEARTBEAT_S = 10.0  # System heartbeat timestamps, BMS and integrations alike (the spec)
QUALITY_GOOD = 1  # any other integer: the value is not trustworthy
QUALITY_BAD = 0
MAX_PAYLOAD_BYTES = 64 * 1024  # far above any metadata message; a larger one is refused

_MECHANICAL = (
    "LiquidTemperature",
    "LiquidDifferentialPressure",
    "LiquidFlow",
    "LiquidPressure",
    "Status",
    "Available",
    "ValvePosition",
    "PumpSpeed",
    "FanSpeed",
    "DamperPosition",
    "AirTemperature",
    "AirDifferentialPressure",
    "AirRelativeHumidity",
    "AirFlow",
    "AirPressure",
    "LeakDetect",
    "GenericPoint",
)
_ELECTRICAL = ("Status", "Available", "GenericPoint")

# pointTypes of each objectType's metadata channel (BMS- and integration-published together)
POINT_TYPES: dict[str, tuple[str, ...]] = {
    "Rack": (
        "RackLiquidSupplyTemperature",
        "RackLiquidReturnTemperature",
        "RackLiquidFlow",
        "RackLiquidDifferentialPressure",
        "RackLiquidDifferentialPressureSp",
        "RackControlValvePosition",
        "RackPower",
        "RackLeakDetect",
        "RackLeakSensorFault",
        "RackLeakDetectTray",
        "RackLiquidIsolationStatus",
        "RackElectricalIsolationStatus",
        "RackLiquidIsolationRequest",
        "RackElectricalIsolationRequest",
    ),
    "PowerMeter": (
        "Voltage",
        "PowerFactor",
        "Frequency",
        "ApparentPower",
        "ActivePower",
        "Current",
        "CurrentLimit",
        "PhaseCurrent",
        "GenericPoint",
    ),
    **dict.fromkeys(("BESS", "UPS", "ATS", "Generator", "Shunt", "Breaker"), _ELECTRICAL),
    "CDU": (*_MECHANICAL, "LiquidTemperatureSpRequest"),
    **dict.fromkeys(("CoolingTower", "HX", "CRAH", "CRAC", "AHU", "Chiller", "Tank"), _MECHANICAL),
    "Valve": ("ValvePosition", "Available", "GenericPoint"),
    "Pump": ("PumpSpeed", "Available", "GenericPoint"),
    "Fan": ("FanSpeed", "Available", "GenericPoint"),
    "Damper": ("DamperPosition", "Available", "GenericPoint"),
    "Sensor": (
        "LiquidTemperature",
        "LiquidDifferentialPressure",
        "LiquidFlow",
        "LiquidPressure",
        "AirTemperature",
        "AirDifferentialPressure",
        "AirRelativeHumidity",
        "AirFlow",
        "AirPressure",
        "LeakDetect",
        "Sound",
        "Available",
        "GenericPoint",
    ),
    "GenericObject": (*_MECHANICAL, "LiquidTemperatureSpRequest", "Sound"),
    "System": (
        "HeartbeatTimestampBms",
        "HeartbeatEchoBms",
        "HeartbeatTimestampIntegration",
        "HeartbeatEchoIntegration",
        "Status",
        "Available",
        "GenericPoint",
    ),
}

# pointTypes an integration publishes (the BMS publishes their metadata with `integration`)
INTEGRATION_POINT_TYPES = frozenset(
    {
        "RackLeakDetectTray",
        "RackLiquidIsolationRequest",
        "RackElectricalIsolationRequest",
        "LiquidTemperatureSpRequest",
        "HeartbeatTimestampIntegration",
        "HeartbeatEchoIntegration",
    }
)

# engUnit the spec fixes for a pointType (others only name a typical unit)
FIXED_UNITS = {
    "RackLiquidSupplyTemperature": "C",
    "RackLiquidReturnTemperature": "C",
    "RackLiquidFlow": "LPM",
    "RackLiquidDifferentialPressure": "kPa",
    "RackControlValvePosition": "%",
    "RackPower": "kW",
    "LiquidTemperature": "C",
    "LiquidTemperatureSpRequest": "C",
}


def value_topic(
    object_type: str, point_type: str, tag_path: str, publisher: str = BMS_PUBLISHER
) -> str:
    return f"{ROOT}/{publisher}/{VALUE}/{object_type}/{point_type}/{tag_path}"


def metadata_topic(object_type: str, point_type: str, tag_path: str) -> str:
    return f"{ROOT}/{BMS_PUBLISHER}/{METADATA}/{object_type}/{point_type}/{tag_path}"


@dataclass(frozen=True, slots=True)
class Topic:
    publisher: str  # PUB for the BMS, else an integration's identifier
    kind: str  # Value or Metadata
    object_type: str
    point_type: str
    tag_path: str


class MessageError(ValueError):
    """A message that breaks the contract; counted by reason and dropped."""

    def __init__(self, reason: str):
        super().__init__(reason)
        self.reason = reason


def parse_topic(topic: str) -> Topic:
    parts = topic.split("/", 6)
    if len(parts) < 7 or f"{parts[0]}/{parts[1]}" != ROOT or not parts[6]:
        raise MessageError("topic outside BMS/v1/{publisher}/{Value|Metadata}/...")
    publisher, kind, object_type, point_type, tag_path = parts[2:]
    if kind not in (VALUE, METADATA):
        raise MessageError(f"topic type {kind!r} is neither Value nor Metadata")
    if kind == METADATA and publisher != BMS_PUBLISHER:
        raise MessageError("metadata from an integration (only the BMS publishes metadata)")
    if point_type not in POINT_TYPES.get(object_type, ()):
        raise MessageError("unknown objectType/pointType")
    return Topic(publisher, kind, object_type, point_type, tag_path)


def encode_value(value: float | None, timestamp_ms: int, quality: int) -> bytes:
    if value is not None and not math.isfinite(value):
        value, quality = None, QUALITY_BAD  # no valid reading: null, never NaN in JSON
    return json.dumps(
        {"value": value, "timestamp": int(timestamp_ms), "quality": int(quality)},
        separators=(",", ":"),
    ).encode()


@dataclass(frozen=True, slots=True)
class Reading:
    value: float | None
    timestamp_ms: int
    quality: int

    @property
    def good(self) -> bool:
        return self.quality == QUALITY_GOOD and self.value is not None


# a value payload as a BMS (twin's plant included) writes it, without spaces: read without
# the JSON parser; anything else takes the parser and the schema checks
_COMPACT_VALUE = re.compile(
    rb'\{"value":(null|-?(?:0|[1-9][0-9]*)(?:\.[0-9]+)?(?:[eE][-+]?[0-9]+)?),'
    rb'"timestamp":(0|[1-9][0-9]*),"quality":(-?(?:0|[1-9][0-9]*))\}'
)


def decode_value(payload: bytes) -> Reading:
    """A value payload, checked as the spec's ValueMessage schema (additionalProperties false)."""
    return Reading(*value_fields(payload))


def value_fields(payload: bytes) -> tuple[float | None, int, int]:
    """(value, timestamp ms, quality) of a value payload, as ``decode_value`` reads it."""
    match = _COMPACT_VALUE.fullmatch(payload)
    if match is None:
        return _parsed_value_fields(payload)
    text, timestamp, quality = match.groups()
    if text == b"null":
        return None, int(timestamp), int(quality)
    value = float(text)
    if not math.isfinite(value):
        raise MessageError("value is not finite")
    return value, int(timestamp), int(quality)


def _parsed_value_fields(payload: bytes) -> tuple[float | None, int, int]:
    data = _json_object(payload)
    if set(data) != {"value", "timestamp", "quality"}:
        raise MessageError("value payload needs exactly value, timestamp, quality")
    value, timestamp, quality = data["value"], data["timestamp"], data["quality"]
    if value is not None and (isinstance(value, bool) or not isinstance(value, int | float)):
        raise MessageError("value is not a number or null")
    if value is not None:
        try:
            value = float(value)
        except OverflowError:  # an integer beyond any float
            raise MessageError("value is not finite") from None
        if not math.isfinite(value):
            raise MessageError("value is not finite")
    if isinstance(timestamp, bool) or not isinstance(timestamp, int) or timestamp < 0:
        raise MessageError("timestamp is not epoch milliseconds")
    if isinstance(quality, bool) or not isinstance(quality, int):
        raise MessageError("quality is not an integer")
    return value, timestamp, quality


def decode_metadata(payload: bytes, topic: Topic) -> dict:
    """A metadata payload: an object whose objectType and pointType match its topic, with
    engUnit or stateText (never both)."""
    data = _json_object(payload)
    if data.get("objectType") != topic.object_type or data.get("pointType") != topic.point_type:
        raise MessageError("metadata objectType/pointType differ from the topic")
    has_unit, has_states = "engUnit" in data, "stateText" in data
    if has_unit and has_states:
        raise MessageError("metadata has both engUnit and stateText")
    if has_unit and not isinstance(data["engUnit"], str):
        raise MessageError("engUnit is not a string")
    for key in ("processArea", "servesId"):
        if key in data and not (
            isinstance(data[key], list) and all(isinstance(v, str) for v in data[key])
        ):
            raise MessageError(f"{key} is not a list of strings")
    return data


def _json_object(payload: bytes) -> dict:
    if len(payload) > MAX_PAYLOAD_BYTES:
        raise MessageError("payload too large")
    try:
        data = json.loads(payload)
    except (UnicodeDecodeError, ValueError, RecursionError):
        raise MessageError("payload is not JSON") from None
    if not isinstance(data, dict):
        raise MessageError("payload is not a JSON object")
    return data
