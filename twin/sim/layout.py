"""Where everything stands on the site, in metres: racks, halls, CDUs, yard, substation.

The scenario gives each hall an origin and its rack and row pitches; the rest of the
site (cooling yard, substation, backup power) is placed around the halls by fixed
rules, so the same scenario always gives the same layout. Axes: x east, y north, z up;
every piece of equipment is an axis-aligned box standing on the ground (z = 0).

Inside a hall, racks stand side by side along x at ``rack_pitch_m``; rows follow each
other along y at ``row_pitch_m`` and alternate the way they face, so that two rows
share a cold aisle (fronts) and the next pair shares a hot aisle (backs). A CDU stands
at the east end of the rows it serves.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

from twin.scenario import Scenario
from twin.scenario.schema import WORKCELL_SIZE_M
from twin.sim.topology import Topology

HALL_MARGIN_M = 3.0  # free floor between the equipment and the walls
HALL_HEIGHT_M = 6.0
CDU_SIZE_M = (1.2, 1.2, 2.3)
CDU_GAP_M = 1.2  # service clearance between a row's last rack and its CDU
ELECTRICAL_ROOM_DEPTH_M = 6.0
ELECTRICAL_ROOM_HEIGHT_M = 4.5
BUILDING_GAP_M = 2.0
YARD_SETBACK_M = 20.0  # between the halls and the cooling yard / substation
YARD_MARGIN_M = 4.0

DRY_COOLER_SIZE_M = (12.0, 2.4, 2.6)  # V-shaped adiabatic dry cooler, 1-2 MW class
DRY_COOLER_PITCH_M = (13.5, 4.0)
CHILLER_SIZE_M = (9.0, 2.5, 2.6)  # air-cooled screw chiller, 5 MW class
CHILLER_PITCH_M = (10.5, 4.0)
FACILITY_PUMP_SIZE_M = (2.0, 1.0, 1.4)  # horizontal split-case pump and motor
FACILITY_PUMP_PITCH_M = (3.0, 2.5)
FACILITY_PUMP_RATED_LPS = 300.0  # one large split-case pump; one more stands by
MAIN_TRANSFORMER_SIZE_M = (8.0, 5.5, 6.0)  # 154 kV class, with radiators
MAIN_TRANSFORMER_PITCH_M = (12.0, 12.0)
BESS_CONTAINER_SIZE_M = (12.2, 2.5, 2.9)  # 40 ft container
BESS_CONTAINER_MWH = 5.0  # LFP 40 ft containers hold 3.5-5 MWh
BESS_PITCH_M = (13.5, 4.5)
GENERATOR_SIZE_M = (12.2, 3.0, 3.5)  # 2.5 MW diesel genset in its enclosure
GENERATOR_PITCH_M = (13.5, 5.0)


@dataclass(frozen=True, slots=True)
class Boxes:
    """Axis-aligned boxes standing on the ground: centres and full sizes, (n, 3) metres."""

    center_m: np.ndarray
    size_m: np.ndarray

    @property
    def count(self) -> int:
        return int(self.center_m.shape[0])

    @property
    def lower_m(self) -> np.ndarray:
        return self.center_m - self.size_m / 2

    @property
    def upper_m(self) -> np.ndarray:
        return self.center_m + self.size_m / 2

    def footprint_m(self) -> np.ndarray:
        """(xmin, ymin, xmax, ymax) around all boxes; zeros when there are none."""
        if self.count == 0:
            return np.zeros(4)
        lower, upper = self.lower_m.min(axis=0), self.upper_m.max(axis=0)
        return np.array([lower[0], lower[1], upper[0], upper[1]])


@dataclass(frozen=True, slots=True)
class Layout:
    racks: Boxes  # indexed like Topology's rack arrays
    rack_front: np.ndarray  # per rack: +1 when its front (cold aisle) faces north, -1 south
    halls: Boxes  # floor footprint with the wall height
    cdus: Boxes  # indexed like Topology.cdu_names
    electrical_rooms: Boxes  # one per hall: transformers, UPS, switchgear
    dry_coolers: Boxes
    chillers: Boxes
    facility_pumps: Boxes
    main_transformers: Boxes
    bess: Boxes  # battery containers
    generators: Boxes
    workcells: Boxes  # indexed like Scenario.workcells
    yard_rect_m: np.ndarray  # (xmin, ymin, xmax, ymax) of the cooling yard
    substation_rect_m: np.ndarray  # main transformers, BESS and generators
    site_rect_m: np.ndarray

    def hall_rect_m(self, hall: int) -> np.ndarray:
        lower, upper = self.halls.lower_m[hall], self.halls.upper_m[hall]
        return np.array([lower[0], lower[1], upper[0], upper[1]])


def _boxes(
    centers: list[tuple[float, float, float]] | np.ndarray,
    size: tuple[float, float, float] | np.ndarray,
) -> Boxes:
    center = np.asarray(centers, dtype=float).reshape(-1, 3)
    sizes = np.broadcast_to(np.asarray(size, dtype=float), center.shape).copy()
    return Boxes(center_m=center, size_m=sizes)


def _grid(
    count: int,
    size: tuple[float, float, float],
    pitch: tuple[float, float],
    corner_xy: tuple[float, float],
    columns: int | None = None,
) -> Boxes:
    """``count`` equal boxes in rows along x from the south-west ``corner_xy``."""
    if columns is None:
        # roughly square blocks: as many metres east-west as north-south
        columns = max(1, math.ceil(math.sqrt(count * pitch[1] / pitch[0])))
    k = np.arange(count)
    x = corner_xy[0] + (k % columns) * pitch[0] + size[0] / 2
    y = corner_xy[1] + (k // columns) * pitch[1] + size[1] / 2
    return _boxes(np.column_stack([x, y, np.full(count, size[2] / 2)]), size)


def _union(*rects: np.ndarray) -> np.ndarray:
    stacked = np.array(rects)
    return np.array(
        [stacked[:, 0].min(), stacked[:, 1].min(), stacked[:, 2].max(), stacked[:, 3].max()]
    )


def _grow(rect: np.ndarray, margin: float) -> np.ndarray:
    return rect + np.array([-margin, -margin, margin, margin])


def _place_halls(s: Scenario, topo: Topology):
    n_racks = topo.rack_count
    rack_center = np.zeros((n_racks, 3))
    rack_size = np.zeros((n_racks, 3))
    rack_front = np.zeros(n_racks, dtype=np.int8)
    cdu_center = np.zeros((topo.cdu_count, 3))
    hall_center, hall_size = [], []
    row_y = np.zeros(len(topo.row_names))
    for h, hall in enumerate(s.halls):
        ox, oy = hall.origin_m
        rows = np.flatnonzero(topo.row_hall == h)
        row_y[rows] = oy + HALL_MARGIN_M + (topo.row_position[rows] + 0.5) * hall.row_pitch_m
        racks = np.flatnonzero(topo.rack_hall == h)
        for t, name in enumerate(topo.rack_type_names):
            of_type = racks[topo.rack_type[racks] == t]
            width, depth = s.rack_types[name].footprint_m
            rack_size[of_type] = (
                min(width, hall.rack_pitch_m),
                min(depth, hall.row_pitch_m),
                s.rack_types[name].height_m,
            )
        slot = topo.rack_slot[racks]
        rack_center[racks, 0] = ox + HALL_MARGIN_M + (slot + 0.5) * hall.rack_pitch_m
        rack_center[racks, 1] = row_y[topo.rack_row[racks]]
        rack_center[racks, 2] = rack_size[racks, 2] / 2
        # even rows face south, odd rows north: pairs share a hot aisle between their backs
        rack_front[racks] = np.where(topo.row_position[topo.rack_row[racks]] % 2 == 0, -1, 1)

        row_end = ox + HALL_MARGIN_M + topo.row_rack_count * hall.rack_pitch_m
        cdus = np.flatnonzero(topo.cdu_hall == h)
        for c in cdus:  # the loader makes every CDU serve at least one row
            served_rows = np.unique(topo.rack_row[topo.rack_cdu == c])
            x = row_end[served_rows].max() + CDU_GAP_M + CDU_SIZE_M[0] / 2
            cdu_center[c] = (x, row_y[served_rows].mean(), CDU_SIZE_M[2] / 2)
        hall_cdus = cdu_center[cdus]
        x_max = (
            max(
                (rack_center[racks, 0] + rack_size[racks, 0] / 2).max(initial=ox),
                (hall_cdus[:, 0] + CDU_SIZE_M[0] / 2).max(initial=ox),
            )
            + HALL_MARGIN_M
        )
        y_max = (
            max(
                (rack_center[racks, 1] + rack_size[racks, 1] / 2).max(initial=oy),
                (hall_cdus[:, 1] + CDU_SIZE_M[1] / 2).max(initial=oy),
            )
            + HALL_MARGIN_M
        )
        hall_center.append(((ox + x_max) / 2, (oy + y_max) / 2, HALL_HEIGHT_M / 2))
        hall_size.append((x_max - ox, y_max - oy, HALL_HEIGHT_M))
    rack_boxes = Boxes(center_m=rack_center, size_m=rack_size)
    halls = Boxes(center_m=np.array(hall_center), size_m=np.array(hall_size))
    return rack_boxes, rack_front, halls, _boxes(cdu_center, CDU_SIZE_M)


def _electrical_rooms(halls: Boxes) -> Boxes:
    """A long room against each hall's east wall."""
    upper, lower = halls.upper_m, halls.lower_m
    center = np.column_stack(
        [
            upper[:, 0] + BUILDING_GAP_M + ELECTRICAL_ROOM_DEPTH_M / 2,
            (lower[:, 1] + upper[:, 1]) / 2,
            np.full(halls.count, ELECTRICAL_ROOM_HEIGHT_M / 2),
        ]
    )
    size = np.column_stack(
        [
            np.full(halls.count, ELECTRICAL_ROOM_DEPTH_M),
            upper[:, 1] - lower[:, 1],
            np.full(halls.count, ELECTRICAL_ROOM_HEIGHT_M),
        ]
    )
    return Boxes(center_m=center, size_m=size)


def _workcells(s: Scenario) -> Boxes:
    centers, sizes = [], []
    for cell in s.workcells:
        size = WORKCELL_SIZE_M[cell.kind]
        centers.append(
            (cell.origin_m[0] + size[0] / 2, cell.origin_m[1] + size[1] / 2, size[2] / 2)
        )
        sizes.append(size)
    if not centers:
        return _boxes(np.zeros((0, 3)), (0.0, 0.0, 0.0))
    return Boxes(center_m=np.array(centers), size_m=np.array(sizes))


def build_layout(s: Scenario, topo: Topology) -> Layout:
    racks, rack_front, halls, cdus = _place_halls(s, topo)
    electrical_rooms = _electrical_rooms(halls)
    workcells = _workcells(s)
    buildings = [halls.footprint_m(), electrical_rooms.footprint_m()]
    if workcells.count:
        buildings.append(workcells.footprint_m())
    campus = _union(*buildings)

    # cooling yard north of everything: dry coolers, then chillers, then the pump house
    yard_x, yard_y = campus[0] + YARD_MARGIN_M, campus[3] + YARD_SETBACK_M + YARD_MARGIN_M
    rejection = s.heat_rejection
    dry_coolers = _grid(
        rejection.dry_coolers.count, DRY_COOLER_SIZE_M, DRY_COOLER_PITCH_M, (yard_x, yard_y)
    )
    east = dry_coolers.footprint_m()[2] + BUILDING_GAP_M if dry_coolers.count else yard_x
    chiller_columns = max(
        1, math.ceil(rejection.chillers.count / max(1, math.ceil(dry_coolers.count**0.5)))
    )
    chillers = _grid(
        rejection.chillers.count,
        CHILLER_SIZE_M,
        CHILLER_PITCH_M,
        (east + YARD_MARGIN_M, yard_y),
        columns=chiller_columns,
    )
    east = chillers.footprint_m()[2] + BUILDING_GAP_M if chillers.count else east
    pump_count = math.ceil(s.facility_water.pump_design_flow_lps / FACILITY_PUMP_RATED_LPS) + 1
    facility_pumps = _grid(
        pump_count, FACILITY_PUMP_SIZE_M, FACILITY_PUMP_PITCH_M, (east + YARD_MARGIN_M, yard_y)
    )
    yard_rect = _grow(
        _union(*(b.footprint_m() for b in (dry_coolers, chillers, facility_pumps) if b.count)),
        YARD_MARGIN_M,
    )

    # substation and backup power west of the halls: transformers, BESS, generators
    power = s.power
    west = campus[0] - YARD_SETBACK_M - YARD_MARGIN_M
    south = campus[1] + YARD_MARGIN_M
    transformer_count = power.main_transformers.units
    main_transformers = _grid(
        transformer_count,
        MAIN_TRANSFORMER_SIZE_M,
        MAIN_TRANSFORMER_PITCH_M,
        (west - MAIN_TRANSFORMER_SIZE_M[0], south),
        columns=1,
    )
    west -= MAIN_TRANSFORMER_PITCH_M[0] + BUILDING_GAP_M
    bess_count = math.ceil(power.bess.energy_mwh / BESS_CONTAINER_MWH)
    bess = _grid(bess_count, BESS_CONTAINER_SIZE_M, BESS_PITCH_M, (0.0, south))
    bess = _shift_west_of(bess, west)
    if bess.count:
        west = bess.footprint_m()[0] - BUILDING_GAP_M - YARD_MARGIN_M
    generators = _shift_west_of(
        _grid(power.generators.units, GENERATOR_SIZE_M, GENERATOR_PITCH_M, (0.0, south)), west
    )
    substation_rect = _grow(
        _union(*(b.footprint_m() for b in (main_transformers, bess, generators) if b.count)),
        YARD_MARGIN_M,
    )
    return Layout(
        racks=racks,
        rack_front=rack_front,
        halls=halls,
        cdus=cdus,
        electrical_rooms=electrical_rooms,
        dry_coolers=dry_coolers,
        chillers=chillers,
        facility_pumps=facility_pumps,
        main_transformers=main_transformers,
        bess=bess,
        generators=generators,
        workcells=workcells,
        yard_rect_m=yard_rect,
        substation_rect_m=substation_rect,
        site_rect_m=_union(campus, yard_rect, substation_rect),
    )


def _shift_west_of(boxes: Boxes, x_east: float) -> Boxes:
    """The same block moved so that its east edge lies on ``x_east``."""
    if boxes.count == 0:
        return boxes
    dx = x_east - boxes.footprint_m()[2]
    return Boxes(center_m=boxes.center_m + np.array([dx, 0.0, 0.0]), size_m=boxes.size_m)
