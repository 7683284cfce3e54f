"""The site's point list: one row per BMS point, as a BMS contractor receives it.

Each point names its contract identity (objectType, pointType, tagPath, processArea,
engUnit or stateText, rack / object ids, servesId for the topology) and the twin quantity
it maps to (``quantity`` + ``component``). ``default_points`` derives the list from a
scenario; a user edits tagPaths and ids to match a real BMS, and ``check_points`` validates
such a file against the scenario with the loader's error style.

Topology as the contract expresses it: the utility meter serves the halls' meters, each hall
meter serves its racks (rackLocationIds); each CDU serves its racks (fluid path), the dry
coolers serve the CDUs.
"""

from __future__ import annotations

import contextlib
import csv
import io
import json
import tomllib
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field, replace
from pathlib import Path

import numpy as np

from twin import inputs
from twin.exchange.contract import FIXED_UNITS, INTEGRATION_POINT_TYPES, POINT_TYPES
from twin.scenario import Scenario
from twin.scenario.problems import Problem, ScenarioError
from twin.sim.snapshot import Snapshot
from twin.sim.topology import Topology, build_topology

DEFAULT_INTEGRATION = "MEPAI1"  # the integration id the spec's examples use
BMS_OBJECT_ID = "BMS"
MAX_POINT_LIST_BYTES = 128 * inputs.MIB  # gigawatt's TOML list is ~13 MB
MAX_LISTED = 20  # unmapped objects named one by one before "and N more"

# roles: what the shadow does with a point's measurement
MEASURED = "measured"  # compared with the model
BOUNDARY = "boundary"  # drives the model (rack power, outdoor air)
SETPOINT = "setpoint"  # drives the model's controllers
STATE = "state"  # equipment status, reported
WRITE_BACK = "write-back"  # published by an integration, applied by the BMS
HEARTBEAT = "heartbeat"

OPERATING = (("0", "NotOperating"), ("1", "Operating"))
LEAK = (("0", "NoLeak"), ("1", "Leak"))
ISOLATION = (("0", "NotIsolated"), ("1", "Isolated"))
ISOLATION_REQUEST = (("0", "Release"), ("1", "Isolate"))

Reader = Callable[[Snapshot, Topology], np.ndarray]


@dataclass(frozen=True, slots=True)
class Quantity:
    key: str
    kind: str  # component kind: rack, cdu, hall, site, plant, system
    object_type: str
    point_type: str
    unit: str  # the contract's engUnit; "" for a state or heartbeat point
    role: str
    description: str
    read: Reader | None = None  # None: the BMS has no reading (integration-written)
    process_area: tuple[str, ...] = ()
    is_setpoint: bool | None = None
    state_text: tuple[tuple[str, str], ...] = ()
    deadband: float = 0.0  # default publishing deadband in the unit; 0: on any change
    relative_deadband: float = 0.0  # or a fraction of the value, whichever is larger


def _hall_power_kw(s: Snapshot, topo: Topology) -> np.ndarray:
    return np.bincount(topo.rack_hall, weights=s.racks.power_kw, minlength=len(topo.hall_names))


def _site(key: str) -> Reader:
    return lambda s, topo: np.array([s.site[key]])


# Deadbands: a tenth of a kelvin (about a class-A RTD's tolerance at 30 °C, IEC 60751:
# 0.15 + 0.002|t| K), 0.5 kPa, 1 L/min, half a percent of travel or speed, 0.5 % of power.
# Engineering choices below the sensors' accuracy, so that no real change is held back.
QUANTITIES: tuple[Quantity, ...] = (
    Quantity(
        "rack.supply_temp_c",
        "rack",
        "Rack",
        "RackLiquidSupplyTemperature",
        "C",
        MEASURED,
        "coolant reaching the rack",
        lambda s, t: s.racks.inlet_temp_c,
        deadband=0.1,
    ),
    Quantity(
        "rack.return_temp_c",
        "rack",
        "Rack",
        "RackLiquidReturnTemperature",
        "C",
        MEASURED,
        "coolant leaving the rack",
        lambda s, t: s.racks.outlet_temp_c,
        deadband=0.1,
    ),
    Quantity(
        "rack.flow_lpm",
        "rack",
        "Rack",
        "RackLiquidFlow",
        "LPM",
        MEASURED,
        "rack coolant flow",
        lambda s, t: s.racks.flow_lpm,
        deadband=1.0,
    ),
    Quantity(
        "rack.dp_kpa",
        "rack",
        "Rack",
        "RackLiquidDifferentialPressure",
        "kPa",
        MEASURED,
        "across the rack's manifold (its CDU's branch pressure: racks are in parallel)",
        lambda s, t: s.cdus.dp_kpa[t.rack_cdu],
        deadband=0.5,
    ),
    Quantity(
        "rack.power_kw",
        "rack",
        "Rack",
        "RackPower",
        "kW",
        BOUNDARY,
        "rack electrical input",
        lambda s, t: s.racks.power_kw,
        relative_deadband=0.005,
    ),
    Quantity(
        "rack.liquid_isolation_status",
        "rack",
        "Rack",
        "RackLiquidIsolationStatus",
        "",
        STATE,
        "branch isolation valves shut (the BMS's decision)",
        lambda s, t: s.racks.liquid_isolated.astype(float),
        state_text=ISOLATION,
    ),
    Quantity(
        "rack.electrical_isolation_status",
        "rack",
        "Rack",
        "RackElectricalIsolationStatus",
        "",
        STATE,
        "feed breakers open (the BMS's decision)",
        lambda s, t: s.racks.electrical_isolated.astype(float),
        state_text=ISOLATION,
    ),
    Quantity(
        "rack.liquid_isolation_request",
        "rack",
        "Rack",
        "RackLiquidIsolationRequest",
        "",
        WRITE_BACK,
        "liquid isolation requested by an integration",
        state_text=ISOLATION_REQUEST,
    ),
    Quantity(
        "rack.electrical_isolation_request",
        "rack",
        "Rack",
        "RackElectricalIsolationRequest",
        "",
        WRITE_BACK,
        "electrical isolation requested by an integration",
        state_text=ISOLATION_REQUEST,
    ),
    Quantity(
        "cdu.supply_temp_c",
        "cdu",
        "CDU",
        "LiquidTemperature",
        "C",
        MEASURED,
        "secondary (rack side) supply",
        lambda s, t: s.cdus.supply_c,
        process_area=("Secondary", "Supply"),
        deadband=0.1,
    ),
    Quantity(
        "cdu.return_temp_c",
        "cdu",
        "CDU",
        "LiquidTemperature",
        "C",
        MEASURED,
        "secondary (rack side) return",
        lambda s, t: s.cdus.return_c,
        process_area=("Secondary", "Return"),
        deadband=0.1,
    ),
    Quantity(
        "cdu.supply_setpoint_c",
        "cdu",
        "CDU",
        "LiquidTemperature",
        "C",
        SETPOINT,
        "secondary supply setpoint in force",
        lambda s, t: s.cdus.supply_setpoint_c,
        process_area=("Secondary", "Supply"),
        is_setpoint=True,
    ),
    Quantity(
        "cdu.flow_lpm",
        "cdu",
        "CDU",
        "LiquidFlow",
        "LPM",
        MEASURED,
        "secondary flow",
        lambda s, t: s.cdus.flow_lpm,
        process_area=("Secondary",),
        deadband=1.0,
    ),
    Quantity(
        "cdu.dp_kpa",
        "cdu",
        "CDU",
        "LiquidDifferentialPressure",
        "kPa",
        MEASURED,
        "secondary branch differential pressure",
        lambda s, t: s.cdus.dp_kpa,
        process_area=("Secondary",),
        deadband=0.5,
    ),
    Quantity(
        "cdu.pump_speed_pct",
        "cdu",
        "CDU",
        "PumpSpeed",
        "%",
        MEASURED,
        "secondary pumps' speed",
        lambda s, t: 100.0 * s.cdus.pump_speed,
        process_area=("Secondary",),
        deadband=0.5,
    ),
    Quantity(
        "cdu.valve_pct",
        "cdu",
        "CDU",
        "ValvePosition",
        "%",
        MEASURED,
        "facility water valve opening",
        lambda s, t: 100.0 * s.cdus.facility_valve,
        process_area=("Primary",),
        deadband=0.5,
    ),
    Quantity(
        "cdu.status",
        "cdu",
        "CDU",
        "Status",
        "",
        STATE,
        "a pump running",
        lambda s, t: (s.cdus.pumps_running > 0).astype(float),
        state_text=OPERATING,
    ),
    Quantity(
        "cdu.leak",
        "cdu",
        "CDU",
        "LeakDetect",
        "",
        STATE,
        "coolant leak detected",
        lambda s, t: s.cdus.leak_detected.astype(float),
        state_text=LEAK,
    ),
    Quantity(
        "cdu.supply_setpoint_request_c",
        "cdu",
        "CDU",
        "LiquidTemperatureSpRequest",
        "C",
        WRITE_BACK,
        "secondary supply setpoint requested by an integration",
    ),
    Quantity(
        "hall.power_kw",
        "hall",
        "PowerMeter",
        "ActivePower",
        "kW",
        MEASURED,
        "the hall's racks (meter on its switchboard)",
        _hall_power_kw,
        relative_deadband=0.005,
    ),
    Quantity(
        "site.grid_import_kw",
        "site",
        "PowerMeter",
        "ActivePower",
        "kW",
        MEASURED,
        "utility import",
        _site("grid_import_kw"),
        relative_deadband=0.005,
    ),
    Quantity(
        "site.ambient_c",
        "site",
        "Sensor",
        "AirTemperature",
        "C",
        BOUNDARY,
        "outdoor dry-bulb",
        _site("ambient_c"),
        process_area=("Outdoor",),
        deadband=0.1,
    ),
    Quantity(
        "plant.fws_supply_c",
        "plant",
        "HX",
        "LiquidTemperature",
        "C",
        MEASURED,
        "facility water leaving the dry coolers",
        lambda s, t: np.array([s.plant.fws_supply_c]),
        process_area=("Outlet",),
        deadband=0.1,
    ),
    Quantity(
        "plant.fws_return_c",
        "plant",
        "HX",
        "LiquidTemperature",
        "C",
        MEASURED,
        "facility water returning to the dry coolers",
        lambda s, t: np.array([s.plant.fws_return_c]),
        process_area=("Inlet",),
        deadband=0.1,
    ),
    Quantity(
        "plant.fan_speed_pct",
        "plant",
        "HX",
        "FanSpeed",
        "%",
        MEASURED,
        "dry coolers' fan speed",
        lambda s, t: np.array([100.0 * s.plant.dry_cooler_fan_speed]),
        deadband=0.5,
    ),
    Quantity(
        "system.bms_heartbeat",
        "system",
        "System",
        "HeartbeatTimestampBms",
        "",
        HEARTBEAT,
        "the BMS's clock, epoch ms",
    ),
    Quantity(
        "system.bms_echo",
        "system",
        "System",
        "HeartbeatEchoBms",
        "",
        HEARTBEAT,
        "an integration's heartbeat sent back",
    ),
    Quantity(
        "system.integration_heartbeat",
        "system",
        "System",
        "HeartbeatTimestampIntegration",
        "",
        WRITE_BACK,
        "an integration's clock",
    ),
    Quantity(
        "system.integration_echo",
        "system",
        "System",
        "HeartbeatEchoIntegration",
        "",
        WRITE_BACK,
        "the BMS heartbeat an integration sent back",
    ),
)
BY_KEY = {q.key: q for q in QUANTITIES}
SITE_COMPONENT = "site"
PLANT_COMPONENT = "dry coolers"


@dataclass(frozen=True, slots=True)
class Point:
    """One BMS point (a row of the point list)."""

    tag_path: str
    quantity: str  # a key of QUANTITIES
    component: str  # rack, CDU or hall name; "site", "dry coolers" or an integration id
    object_type: str
    point_type: str
    eng_unit: str = ""
    state_text: tuple[tuple[str, str], ...] = ()
    process_area: tuple[str, ...] = ()
    is_setpoint: bool | None = None
    rack_location_name: str = ""
    rack_location_id: str = ""
    object_name: str = ""
    object_id: str = ""
    serves_id: tuple[str, ...] = ()
    associate_id: str = ""
    integration: str = ""
    deadband: float = 0.0
    relative_deadband: float = 0.0

    def metadata(self) -> dict:
        """The metadata payload the contract prescribes for this point."""
        meta: dict = {"objectType": self.object_type, "pointType": self.point_type}
        if self.object_type == "Rack":
            meta["rackLocationName"] = self.rack_location_name
            meta["rackLocationId"] = self.rack_location_id
        elif self.associate_id:
            meta["associateId"] = self.associate_id
        else:
            meta["objectName"] = self.object_name
            meta["objectId"] = self.object_id
            if self.serves_id or self.object_type == "PowerMeter":
                meta["servesId"] = list(self.serves_id)
        if self.eng_unit:
            meta["engUnit"] = self.eng_unit
        if self.state_text:
            meta["stateText"] = [{"value": int(v), "text": t} for v, t in self.state_text]
        if self.process_area and self.object_type != "Rack":
            meta["processArea"] = list(self.process_area)
        if self.is_setpoint is not None and self.object_type != "Rack":
            meta["isSetpoint"] = self.is_setpoint
        if self.integration:
            meta["integration"] = self.integration
        return meta


def identity(meta: dict) -> tuple:
    """What tells a point apart whatever its tagPath: its object (rack location, object or
    associate id), pointType, processArea and isSetpoint."""
    owner = meta.get("rackLocationId") or meta.get("objectId") or meta.get("associateId") or ""
    return (
        meta.get("objectType"),
        meta.get("pointType"),
        str(owner),
        tuple(meta.get("processArea") or ()),
        bool(meta.get("isSetpoint", False)),
    )


def components_of(kind: str, topo: Topology, integrations: Iterable[str] = ()) -> tuple[str, ...]:
    if kind == "rack":
        return tuple(topo.rack_name(i) for i in range(topo.rack_count))
    if kind == "cdu":
        return topo.cdu_names
    if kind == "hall":
        return topo.hall_names
    if kind == "site":
        return (SITE_COMPONENT,)
    if kind == "plant":
        return (PLANT_COMPONENT,)
    return (BMS_OBJECT_ID, *integrations)


def default_points(
    scenario: Scenario, topology: Topology | None = None, integration: str = DEFAULT_INTEGRATION
) -> list[Point]:
    """The point list a BMS of this site would publish, tagPaths under the scenario's name."""
    topo = topology or build_topology(scenario)
    site = scenario.scenario.name
    racks = components_of("rack", topo)
    hall_meters = [f"{hall}-MTR" for hall in topo.hall_names]
    points: list[Point] = []

    def add(q: Quantity, component: str, tag: str, **ids) -> None:
        points.append(
            Point(
                tag,
                q.key,
                component,
                q.object_type,
                q.point_type,
                q.unit,
                q.state_text,
                q.process_area,
                q.is_setpoint,
                deadband=q.deadband,
                relative_deadband=q.relative_deadband,
                integration=integration if q.role == WRITE_BACK else "",
                **ids,
            )
        )

    suffix = {q.key: q.key.split(".", 1)[1] for q in QUANTITIES}
    for q in QUANTITIES:
        name = suffix[q.key]
        if q.kind == "rack":
            for i, rack in enumerate(racks):
                hall = topo.hall_names[topo.rack_hall[i]]
                add(
                    q,
                    rack,
                    f"{site}/{hall}/{rack}/{name}",
                    rack_location_name=rack,
                    rack_location_id=rack,
                )
        elif q.kind == "cdu":
            for k, cdu in enumerate(topo.cdu_names):
                hall = topo.hall_names[topo.cdu_hall[k]]
                served = tuple(racks[i] for i in topo.cdu_racks(k))
                add(
                    q,
                    cdu,
                    f"{site}/{hall}/{cdu}/{name}",
                    object_name=cdu,
                    object_id=cdu,
                    serves_id=served,
                )
        elif q.kind == "hall":
            for h, hall in enumerate(topo.hall_names):
                served = tuple(racks[i] for i in np.flatnonzero(topo.rack_hall == h))
                add(
                    q,
                    hall,
                    f"{site}/{hall}/{hall_meters[h]}/{name}",
                    object_name=f"{hall} switchboard meter",
                    object_id=hall_meters[h],
                    serves_id=served,
                )
        elif q.key == "site.grid_import_kw":
            add(
                q,
                SITE_COMPONENT,
                f"{site}/utility/UTILITY-MTR/{name}",
                object_name="utility meter",
                object_id="UTILITY-MTR",
                serves_id=tuple(hall_meters),
            )
        elif q.key == "site.ambient_c":
            add(
                q,
                SITE_COMPONENT,
                f"{site}/outdoor/OAT/{name}",
                object_name="outdoor air sensor",
                object_id="OAT",
            )
        elif q.kind == "plant":
            add(
                q,
                PLANT_COMPONENT,
                f"{site}/plant/DRY-COOLERS/{name}",
                object_name="dry coolers",
                object_id="DRY-COOLERS",
                serves_id=tuple(topo.cdu_names),
            )
        elif q.key == "system.bms_heartbeat":
            add(
                q,
                BMS_OBJECT_ID,
                f"{site}/system/BMS/{name}",
                object_name="twin virtual BMS",
                object_id=BMS_OBJECT_ID,
            )
        elif q.key in ("system.bms_echo", "system.integration_heartbeat"):
            # the BMS's echo is named after the integration whose heartbeat it echoes
            add(
                q,
                integration,
                f"{site}/system/{integration}/{name}",
                object_name=integration,
                object_id=integration,
            )
        elif q.key == "system.integration_echo":  # names the BMS it echoes
            add(
                q,
                integration,
                f"{site}/system/{integration}/{name}",
                object_name="twin virtual BMS",
                object_id=BMS_OBJECT_ID,
            )
    return points


# --------------------------------------------------------------------------- files

COLUMNS = (
    "tagPath",
    "objectType",
    "pointType",
    "processArea",
    "engUnit",
    "stateText",
    "isSetpoint",
    "rackLocationName",
    "rackLocationId",
    "objectName",
    "objectId",
    "servesId",
    "associateId",
    "integration",
    "quantity",
    "component",
    "deadband",
    "relativeDeadband",
)


def _row(p: Point) -> dict:
    return {
        "tagPath": p.tag_path,
        "objectType": p.object_type,
        "pointType": p.point_type,
        "processArea": list(p.process_area),
        "engUnit": p.eng_unit,
        "stateText": [{"value": int(v), "text": t} for v, t in p.state_text],
        "isSetpoint": p.is_setpoint,
        "rackLocationName": p.rack_location_name,
        "rackLocationId": p.rack_location_id,
        "objectName": p.object_name,
        "objectId": p.object_id,
        "servesId": list(p.serves_id),
        "associateId": p.associate_id,
        "integration": p.integration,
        "quantity": p.quantity,
        "component": p.component,
        "deadband": p.deadband,
        "relativeDeadband": p.relative_deadband,
    }


def write_points(points: list[Point], path: Path) -> None:
    """CSV (lists as ``a|b``, stateText as ``0=Off|1=On``) or TOML (``[[point]]`` tables)."""
    rows = [_row(p) for p in points]
    if path.suffix.lower() == ".toml":
        import tomli_w

        tables = [{k: v for k, v in row.items() if v not in ("", [], None)} for row in rows]
        text = (
            "# twin point list: one [[point]] per BMS point (DSX Exchange BMS contract)\n"
            + tomli_w.dumps({"point": tables})
        )
    else:
        out = io.StringIO()
        writer = csv.DictWriter(out, COLUMNS, lineterminator="\n")
        writer.writeheader()
        for row in rows:
            row["processArea"] = "|".join(row["processArea"])
            row["servesId"] = "|".join(row["servesId"])
            row["stateText"] = "|".join(f"{s['value']}={s['text']}" for s in row["stateText"])
            row["isSetpoint"] = "" if row["isSetpoint"] is None else str(row["isSetpoint"]).lower()
            writer.writerow(row)
        text = out.getvalue()
    path.write_text(text, encoding="utf-8")


def read_points(path: Path) -> list[Point]:
    """A point list file; every problem with its row and field in one ScenarioError."""
    source = str(path)
    try:
        text = inputs.read_text(path, MAX_POINT_LIST_BYTES)
    except inputs.InputFileError as exc:
        raise ScenarioError(source, [Problem("", str(exc))]) from None
    problems: list[Problem] = []
    if path.suffix.lower() == ".toml":
        try:
            tables = tomllib.loads(text).get("point", [])
        except tomllib.TOMLDecodeError as exc:
            raise ScenarioError(source, [Problem("", f"not valid TOML: {exc}")]) from None
        if not isinstance(tables, list):
            raise ScenarioError(
                source, [Problem("point", "must be an array of tables ([[point]])")]
            )
        rows, where = tables, "point[{}]"
    elif path.suffix.lower() == ".csv":
        reader = csv.DictReader(io.StringIO(text))
        missing = [
            c
            for c in ("tagPath", "objectType", "pointType", "quantity", "component")
            if c not in (reader.fieldnames or [])
        ]
        if missing:
            raise ScenarioError(
                source,
                [
                    Problem(
                        "",
                        f"missing column(s) {', '.join(missing)}; columns are {', '.join(COLUMNS)}",
                    )
                ],
            )
        rows, where = [_from_csv(r) for r in reader], "row {}"
    else:
        raise ScenarioError(source, [Problem("", "a point list ends in .csv or .toml")])
    points = []
    for n, row in enumerate(rows):
        at = where.format(n + 2 if where.startswith("row") else n)
        point = _point(row, at, problems)
        if point is not None:
            points.append(point)
    if problems:
        raise ScenarioError(source, problems)
    return points


def _from_csv(row: dict) -> dict:
    out = {k: v for k, v in row.items() if k is not None and v not in ("", None)}
    for key in ("processArea", "servesId"):
        if key in out:
            out[key] = out[key].split("|")
    if "stateText" in out:
        states = []
        for item in out["stateText"].split("|"):
            value, _, text = item.partition("=")
            states.append({"value": value, "text": text})
        out["stateText"] = states
    if "isSetpoint" in out:
        out["isSetpoint"] = {"true": True, "false": False}.get(
            out["isSetpoint"].lower(), out["isSetpoint"]
        )
    for key in ("deadband", "relativeDeadband"):
        if key in out:
            with contextlib.suppress(ValueError):  # left as text: reported by _point
                out[key] = float(out[key])
    return out


def _point(row: object, at: str, problems: list[Problem]) -> Point | None:
    if not isinstance(row, dict):
        problems.append(Problem(at, "must be a table of point fields"))
        return None
    unknown = sorted(set(row) - set(COLUMNS))
    for key in unknown:
        problems.append(Problem(f"{at}.{key}", f"unknown field; fields are {', '.join(COLUMNS)}"))
    before = len(problems)

    def text(key: str, required: bool = False) -> str:
        value = row.get(key, "")
        if not isinstance(value, str):
            problems.append(Problem(f"{at}.{key}", "must be text"))
            return ""
        if required and not value:
            problems.append(Problem(f"{at}.{key}", "is required"))
        return value

    def strings(key: str) -> tuple[str, ...]:
        value = row.get(key, [])
        if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
            problems.append(Problem(f"{at}.{key}", "must be a list of text"))
            return ()
        return tuple(value)

    def number(key: str) -> float:
        value = row.get(key, 0.0)
        if (
            isinstance(value, bool)
            or not isinstance(value, int | float)
            or not (0 <= value < float("inf"))
        ):
            problems.append(Problem(f"{at}.{key}", "must be a number >= 0"))
            return 0.0
        return float(value)

    state_text = row.get("stateText", [])
    states = []
    try:
        if not isinstance(state_text, list):
            raise TypeError("stateText is not a list")
        for s in state_text:
            states.append((str(int(s["value"])), str(s["text"])))
    except (TypeError, KeyError, ValueError):
        problems.append(
            Problem(
                f"{at}.stateText",
                "must list value (a whole number) and text pairs, e.g. 0=Off|1=On",
            )
        )
    setpoint = row.get("isSetpoint")
    if setpoint is not None and not isinstance(setpoint, bool):
        problems.append(Problem(f"{at}.isSetpoint", "must be true or false"))
    point = Point(
        tag_path=text("tagPath", True),
        quantity=text("quantity", True),
        component=text("component", True),
        object_type=text("objectType", True),
        point_type=text("pointType", True),
        eng_unit=text("engUnit"),
        state_text=tuple(states),
        process_area=strings("processArea"),
        is_setpoint=setpoint if isinstance(setpoint, bool) else None,
        rack_location_name=text("rackLocationName"),
        rack_location_id=text("rackLocationId"),
        object_name=text("objectName"),
        object_id=text("objectId"),
        serves_id=strings("servesId"),
        associate_id=text("associateId"),
        integration=text("integration"),
        deadband=number("deadband"),
        relative_deadband=number("relativeDeadband"),
    )
    return point if len(problems) == before else None


# --------------------------------------------------------------------------- checking


def check_points(
    points: list[Point], scenario: Scenario, topology: Topology | None = None
) -> list[Problem]:
    """Problems of a point list against a scenario: unknown quantities and objects, types the
    contract does not have, unit mismatches, duplicate tagPaths, missing identifiers, and
    the scenario's objects no point maps."""
    topo = topology or build_topology(scenario)
    problems: list[Problem] = []
    seen: dict[str, int] = {}
    seen_identity: dict[tuple, int] = {}
    integrations = {p.integration for p in points if p.integration}
    mapped: dict[str, set[str]] = {"rack": set(), "cdu": set(), "hall": set()}
    keys = ", ".join(BY_KEY)
    for n, p in enumerate(points):
        at = f"point {n} ({p.tag_path})"
        if p.tag_path in seen:
            problems.append(
                Problem(
                    f"{at}.tagPath",
                    f"duplicate: also point {seen[p.tag_path]}; every point needs its own tagPath",
                )
            )
        seen.setdefault(p.tag_path, n)
        if any(c in p.tag_path for c in "+#\0") or p.tag_path.startswith("/"):
            problems.append(
                Problem(f"{at}.tagPath", "must not contain +, # or NUL nor start with /")
            )
        allowed = POINT_TYPES.get(p.object_type)
        if allowed is None:
            problems.append(
                Problem(
                    f"{at}.objectType", f"{p.object_type!r} is not one of {', '.join(POINT_TYPES)}"
                )
            )
        elif p.point_type not in allowed:
            problems.append(
                Problem(
                    f"{at}.pointType",
                    f"{p.point_type!r} is not a pointType "
                    f"of {p.object_type}; allowed: "
                    f"{', '.join(allowed)}",
                )
            )
        q = BY_KEY.get(p.quantity)
        if q is None:
            problems.append(Problem(f"{at}.quantity", f"{p.quantity!r} is not one of {keys}"))
            continue
        if (p.object_type, p.point_type) != (q.object_type, q.point_type):
            problems.append(
                Problem(
                    f"{at}.pointType", f"{q.key} is published as {q.object_type}/{q.point_type}"
                )
            )
        if q.state_text and (p.eng_unit or not p.state_text):
            problems.append(
                Problem(f"{at}.engUnit", f"{q.key} is a state point: stateText, no engUnit")
            )
        elif p.eng_unit != q.unit and (q.unit or p.eng_unit):
            problems.append(
                Problem(
                    f"{at}.engUnit",
                    f"{p.eng_unit!r} does not match {q.key} in {q.unit!r}; twin converts no units",
                )
            )
        fixed = FIXED_UNITS.get(p.point_type)
        if fixed and p.eng_unit and p.eng_unit != fixed:
            problems.append(
                Problem(f"{at}.engUnit", f"{p.point_type} is in {fixed!r} by the contract")
            )
        components = components_of(q.kind, topo, integrations)
        if p.component not in components:
            shown = ", ".join(components[:5]) + (", ..." if len(components) > 5 else "")
            problems.append(
                Problem(
                    f"{at}.component",
                    f"{p.component!r} is not a {q.kind} of the scenario ({shown})",
                )
            )
        elif q.kind in mapped:
            mapped[q.kind].add(p.component)
        if p.object_type == "Rack" and not (p.rack_location_id and p.rack_location_name):
            problems.append(
                Problem(
                    f"{at}.rackLocationId", "a Rack point needs rackLocationName and rackLocationId"
                )
            )
        elif (
            p.object_type not in ("Rack",)
            and not p.associate_id
            and not (p.object_id and p.object_name)
        ):
            problems.append(
                Problem(
                    f"{at}.objectId",
                    "needs objectName and objectId (named object) or associateId (associate mode)",
                )
            )
        if p.associate_id and (p.object_id or p.object_name or p.serves_id):
            problems.append(
                Problem(
                    f"{at}.associateId", "associate mode has no objectName, objectId or servesId"
                )
            )
        if (p.point_type in INTEGRATION_POINT_TYPES) != bool(p.integration):
            problems.append(
                Problem(
                    f"{at}.integration",
                    "required for an integration-published pointType"
                    if p.integration == ""
                    else f"only for integration-published pointTypes "
                    f"({', '.join(sorted(INTEGRATION_POINT_TYPES))})",
                )
            )
        ident = identity(p.metadata())
        if ident in seen_identity and q.role != HEARTBEAT:
            problems.append(
                Problem(
                    at,
                    f"same object, pointType and processArea as point "
                    f"{seen_identity[ident]}; add a processArea to tell "
                    "them apart",
                )
            )
        seen_identity.setdefault(ident, n)
    for kind, names in mapped.items():
        missing = [c for c in components_of(kind, topo) if c not in names]
        if missing and points:
            listed = ", ".join(missing[:MAX_LISTED])
            more = f" and {len(missing) - MAX_LISTED} more" if len(missing) > MAX_LISTED else ""
            problems.append(
                Problem(
                    f"{kind}s",
                    f"no point maps {listed}{more}; every {kind} "
                    "of the scenario needs at least one",
                )
            )
    return problems


def load_points(path: Path, scenario: Scenario, topology: Topology | None = None) -> list[Point]:
    """``read_points`` then ``check_points``: a point list fit for this scenario."""
    points = read_points(path)
    problems = check_points(points, scenario, topology)
    if problems:
        raise ScenarioError(str(path), problems)
    return points


def metadata_json(point: Point) -> bytes:
    return json.dumps(point.metadata(), separators=(",", ":")).encode()


def with_integration(points: list[Point], integration: str) -> list[Point]:
    return [replace(p, integration=integration) if p.integration else p for p in points]


@dataclass
class PointTable:
    """Points grouped by quantity, for reading all of them from a snapshot at once."""

    points: list[Point]
    topology: Topology
    groups: dict[str, np.ndarray] = field(default_factory=dict)  # quantity -> point indices
    components: dict[str, np.ndarray] = field(default_factory=dict)  # -> component indices
    readers: dict[str, Reader] = field(default_factory=dict)  # quantity -> its reader

    def __post_init__(self) -> None:
        names: dict[str, dict[str, int]] = {}
        by_quantity: dict[str, list[int]] = {}
        for n, p in enumerate(self.points):
            reader = BY_KEY[p.quantity].read
            if reader is not None:
                by_quantity.setdefault(p.quantity, []).append(n)
                self.readers[p.quantity] = reader
        for key, idx in by_quantity.items():
            kind = BY_KEY[key].kind
            if kind not in names:
                names[kind] = {c: i for i, c in enumerate(components_of(kind, self.topology))}
            self.groups[key] = np.asarray(idx, dtype=np.int64)
            self.components[key] = np.asarray(
                [names[kind][self.points[i].component] for i in idx], dtype=np.int64
            )

    def read(self, snapshot: Snapshot, out: np.ndarray) -> np.ndarray:
        """Every readable point's value into ``out`` (NaN where the BMS has no reading)."""
        for key, idx in self.groups.items():
            values = self.readers[key](snapshot, self.topology)
            out[idx] = values[self.components[key]]
        return out
