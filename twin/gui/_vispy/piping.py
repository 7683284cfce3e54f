"""The coolant piping, live: pipes coloured by water temperature, dots moving with the water.

Two circuits, each a supply and a return line:

- technology cooling (TCS): from the top of each CDU up over its racks, to the back of
  each row it serves (the hot-aisle side, where the rack manifolds are) and along the row;
- facility water (FWS): from the pump house in the yard south to a collector between the
  yard and the campus, along it to a pipe rack east of each hall's electrical room, down
  the rack to the hall's northernmost CDU, west over the electrical room into the hall,
  and along a header east of the CDU column with a drop into each CDU.

The layout places equipment, not pipes, so the routes are derived here from its boxes.
Supply and return run side by side; the return runs a little higher, so that where a
route turns towards the other side the two pass over each other instead of through.

Every straight run is an instance of one box: the pipes are one InstancedMesh per circuit
(each visual costs the software renderer's host as much as thousands of instances) and
the dots one Markers visual, so a frame only sends colours and dot positions, whatever
the size of the site.
"""

from __future__ import annotations

import time
from dataclasses import dataclass
from itertools import pairwise

import numpy as np
from vispy.gloo import VertexBuffer
from vispy.scene import visuals
from vispy.visuals.filters import Filter

from twin.gui._vispy.base import Adapter, set_visible
from twin.gui._vispy.geometry import UNIT_CUBE, scale_transforms
from twin.gui._vispy.instances import send_colors
from twin.gui.colors import THERMAL
from twin.scenario import Scenario
from twin.sim.layout import YARD_SETBACK_M, Boxes, Layout
from twin.sim.snapshot import Snapshot
from twin.sim.topology import Topology

TCS, FWS = 0, 1  # the two circuits
DESIGN_VELOCITY_M_S = 2.0  # pipes are sized for ~2 m/s at design flow (1-3 m/s is usual)
MIN_DIAMETER_M = 0.08
MAX_DIAMETER_M = (0.25, 0.7)  # TCS, FWS: one drawn main stands for a big plant's parallel mains
SIDE_M = (0.18, 0.45)  # supply and return lie this far either side of the route (x and y)
RETURN_RISE_M = (0.25, 0.45)
TCS_CLEARANCE_M = 0.35  # over the rack tops
RISER_INSET_M = 0.1  # from the edge of the CDU's top
MANIFOLD_OFFSET_M = 0.3  # from the row's centre line towards the racks' backs
FWS_HEIGHT_M = 5.0  # over the electrical rooms (4.5 m), under the hall walls (6 m)
FWS_HEADER_OFFSET_M = 1.2  # the facility header runs this far east of the CDU centres
CDU_PORT_M = 0.45  # facility pipes enter a CDU's top this far east of its centre, clear of its TCS
PIPE_RACK_GAP_M = 2.0  # from an electrical room to the pipe rack beside it
PIPE_RACK_PITCH_M = 2.5  # between the racks of halls that share a column
DOT_SPACING_M = (1.8, 3.0)
DOT_FRACTION = 0.6  # of the pipe diameter
DOT_SIZE_PX = (2.0, 9.0)  # never lost at the site view, never blobs up close
DOT_RGBA = np.array([1.0, 1.0, 1.0, 0.9], np.float32)
STILL_DOT_RGBA = np.array([0.55, 0.58, 0.62, 0.6], np.float32)  # water that does not move
MAX_FRAME_S = 0.1  # a longer gap (a pause, a single step) does not make the dots jump
MIN_DOT_SPACING_PX = 4.0
"""Level of detail: closer together on screen, dots blur into a dotted line in which no
flow reads, and at a gigawatt site's full view they cost a sixth of a frame."""
MIN_PIPE_WIDTH_PX = 0.5  # thinner, a pipe only flickers in and out of the pixels it crosses


def pipe_temperature_range(scenario: Scenario) -> tuple[float, float]:
    """One colour scale for both circuits, from below the facility supply to above the
    warmest TCS return, fixed per scenario so that a colour always means one temperature."""
    tcs_supply = [t.supply_setpoint_c for t in scenario.cdu_types.values()]
    low = min(scenario.facility_water.supply_setpoint_c, *tcs_supply) - 5.0
    return low, max(tcs_supply) + 20.0


@dataclass(frozen=True, slots=True)
class RowLines:
    """Where each row of racks runs: x from ``west`` to ``east`` at ``y``, racks up to
    ``top``; ``front`` +1 when the fronts face north; ``cdu`` serves its ``racks``."""

    west: np.ndarray
    east: np.ndarray
    y: np.ndarray
    top: np.ndarray
    front: np.ndarray
    cdu: np.ndarray
    racks: np.ndarray

    @classmethod
    def of(cls, layout: Layout, topology: Topology) -> RowLines:
        count = len(topology.row_names)
        row, boxes = topology.rack_row, layout.racks
        west, east = np.full(count, np.inf), np.full(count, -np.inf)
        top = np.zeros(count)
        np.minimum.at(west, row, boxes.lower_m[:, 0])
        np.maximum.at(east, row, boxes.upper_m[:, 0])
        np.maximum.at(top, row, boxes.upper_m[:, 2])
        y, front, cdu = np.zeros(count), np.zeros(count), np.zeros(count, np.intp)
        y[row], front[row], cdu[row] = boxes.center_m[:, 1], layout.rack_front, topology.rack_cdu
        return cls(west, east, y, top, front, cdu, np.bincount(row, minlength=count))


CduPath = tuple[list[tuple[float, float, float]], int, float]  # points, CDU, share of its flow


@dataclass(frozen=True, slots=True)
class Runs:
    """Straight pipe runs, each from where its water comes from to where it goes.

    ``carry_*`` list which CDUs' water passes through each run (run, CDU, share of that
    CDU's flow), so that a run's flow is a sum over the CDUs downstream of it.
    """

    start_m: np.ndarray
    end_m: np.ndarray
    carry_run: np.ndarray
    carry_cdu: np.ndarray
    carry_share: np.ndarray

    @property
    def count(self) -> int:
        return len(self.start_m)

    def reversed(self) -> Runs:
        return Runs(self.end_m, self.start_m, self.carry_run, self.carry_cdu, self.carry_share)


def cut_into_runs(paths: list[CduPath]) -> Runs:
    """Cut paths (one per CDU, from the source out, axis-aligned legs) into the runs they
    share: legs along one line are cut wherever any leg on that line starts or ends."""
    legs = []
    for path_points, cdu, share in paths:
        points = np.round(np.asarray(path_points, float), 3)
        for p, q in pairwise(points):
            axis = int(np.argmax(np.abs(q - p)))
            if p[axis] != q[axis]:
                line = (axis, *np.delete(p, axis).tolist())
                legs.append((line, float(p[axis]), float(q[axis]), cdu, share))
    stops: dict[tuple, set[float]] = {}
    for line, a, b, _, _ in legs:
        stops.setdefault(line, set()).update((a, b))
    sorted_stops = {line: np.array(sorted(s)) for line, s in stops.items()}
    index: dict[tuple, int] = {}
    ends: list[tuple[np.ndarray, np.ndarray]] = []
    carry: list[tuple[int, int, float]] = []
    for line, a, b, cdu, share in legs:
        cuts = sorted_stops[line]
        cuts = cuts[(cuts >= min(a, b)) & (cuts <= max(a, b))]
        if a > b:
            cuts = cuts[::-1]
        for u, v in pairwise(cuts):
            key = (line, min(u, v), max(u, v))
            if key not in index:
                index[key] = len(ends)
                ends.append((np.insert(line[1:], line[0], u), np.insert(line[1:], line[0], v)))
            carry.append((index[key], cdu, share))
    runs, cdus, shares = (np.array(column) for column in zip(*carry, strict=True))
    return Runs(
        np.array([s for s, _ in ends]),
        np.array([e for _, e in ends]),
        runs.astype(np.intp),
        cdus.astype(np.intp),
        shares.astype(float),
    )


def tcs_paths(layout: Layout, rows: RowLines, side: float, rise: float) -> list[CduPath]:
    """From each CDU's top, up over the racks, to the back of each row it serves, along it."""
    cdus, paths = layout.cdus, []
    served = np.bincount(rows.cdu, weights=rows.racks, minlength=cdus.count)
    for r, c in enumerate(rows.cdu):
        z = rows.top[r] + TCS_CLEARANCE_M + rise
        y = rows.y[r] - rows.front[r] * MANIFOLD_OFFSET_M - side
        # the riser stands in line with the row's pipe where the CDU's top reaches it
        x = cdus.center_m[c, 0] + side
        riser_y = np.clip(y, cdus.lower_m[c, 1] + RISER_INSET_M, cdus.upper_m[c, 1] - RISER_INSET_M)
        points = [
            (x, riser_y, cdus.upper_m[c, 2]),
            (x, riser_y, z),
            (x, y, z),
            (rows.west[r], y, z),
        ]
        paths.append((points, int(c), rows.racks[r] / served[c]))
    return paths


def fws_paths(layout: Layout, topology: Topology, side: float, rise: float) -> list[CduPath]:
    """From the pump house to every CDU: collector, pipe rack, hall header, drop."""
    cdus, halls = layout.cdus, len(topology.hall_names)
    pumps = layout.facility_pumps.footprint_m()
    pump_x, pump_y = (pumps[0] + pumps[2]) / 2 + side, pumps[1] - 1.0 - side
    pump_top = layout.facility_pumps.upper_m[:, 2].max(initial=0.0)
    collector_y = layout.yard_rect_m[1] - YARD_SETBACK_M / 2 - side
    z = FWS_HEIGHT_M + rise
    feed_y, header_x = np.zeros(halls), np.zeros(halls)
    for h in range(halls):
        mine = cdus.center_m[topology.cdu_hall == h]
        feed_y[h] = mine[:, 1].max() - side
        header_x[h] = mine[:, 0].max() + FWS_HEADER_OFFSET_M + side
    # halls whose electrical rooms line up share a column of pipe racks, the hall nearest
    # the collector innermost, so that no rack crosses another hall's link
    room_x = layout.electrical_rooms.upper_m[:, 0]
    rack_x = np.zeros(halls)
    for h in range(halls):
        column = np.flatnonzero(np.abs(room_x - room_x[h]) < 1.0)
        rank = int(np.sum(feed_y[column] > feed_y[h]))
        rack_x[h] = room_x[h] + PIPE_RACK_GAP_M + rank * PIPE_RACK_PITCH_M + side
    paths = []
    for c, h in enumerate(topology.cdu_hall):
        cdu_y = cdus.center_m[c, 1] - side
        port_x = cdus.center_m[c, 0] + CDU_PORT_M
        points = [
            (pump_x, pump_y, pump_top),
            (pump_x, pump_y, z),
            (pump_x, collector_y, z),
            (rack_x[h], collector_y, z),
            (rack_x[h], feed_y[h], z),
            (header_x[h], feed_y[h], z),
            (header_x[h], cdu_y, z),
            (port_x, cdu_y, z),
            (port_x, cdu_y, cdus.upper_m[c, 2]),
        ]
        paths.append((points, c, 1.0))
    return paths


_OPEN_ENDS = """
void open_ends() {
    // the faces across a run are its ends: out of the view, their triangles are dropped
    if (abs($face_axis - $run_axis) < 0.5) {
        gl_Position = vec4(2.0, 2.0, 2.0, 1.0);
    }
}
"""


class OpenEndsFilter(Filter):
    """Leaves out each instance's two faces across its run (``run_axis`` per instance):
    runs along x, y and z share one mesh, and each still shows only its sides."""

    def __init__(self, face_axis: np.ndarray, run_axis: np.ndarray) -> None:
        super().__init__(vcode=_OPEN_ENDS, vhook="post", vpos=1)
        self.vshader["face_axis"] = VertexBuffer(face_axis.astype(np.float32))
        self.vshader["run_axis"] = VertexBuffer(run_axis.astype(np.float32), divisor=1)


def _pipe_mesh(
    boxes: Boxes, mine: np.ndarray, run_axis: np.ndarray, colors: np.ndarray, parent
) -> visuals.InstancedMesh:
    """The runs ``mine`` as instanced boxes open at both ends (along ``run_axis``) and
    without a bottom: the ends hide in the elbows and the bottom faces the floor (a
    vertical run's bottom is one of its ends)."""
    vertices, faces, greys = UNIT_CUBE
    centers = vertices[faces].mean(axis=1)  # of the triangles, on the faces of the cube
    facing = np.argmax(np.abs(centers), axis=1)
    bottom = (facing == 2) & (centers[:, 2] < 0)
    node = visuals.InstancedMesh(
        vertices,
        faces[~bottom],
        vertex_colors=greys,
        instance_positions=boxes.center_m[mine].astype(np.float32),
        instance_transforms=scale_transforms(boxes.size_m[mine]),
        instance_colors=colors[mine],
        parent=parent,
    )
    # the mesh is drawn unindexed, three vertices a triangle: one axis per vertex
    node.attach(OpenEndsFilter(np.repeat(facing[~bottom], 3), run_axis[mine]))
    # both sides of every face: an open end shows the inside of the pipe, not a hole
    node.set_gl_state("opaque", depth_test=True, cull_face=False)
    return node


class PipingAdapter(Adapter):
    """Both circuits' pipes and their flow dots.

    Per run: ``circuit`` (TCS or FWS), ``is_return``, ``cdu`` (the CDU a TCS run belongs
    to, -1 for facility mains), ``speed_m_s`` (of the water in it, from the last snapshot).
    Per dot: ``dot_run``, and ``dot_positions`` as last drawn.
    """

    layer = "hydraulic"

    def __init__(self, scenario: Scenario, topology: Topology, layout: Layout, parent) -> None:
        super().__init__(parent)
        self.low_c, self.high_c = pipe_temperature_range(scenario)
        self.colormap = THERMAL
        self._cdu_count = topology.cdu_count
        cdu_types = [scenario.cdu_types[name] for name in topology.cdu_type_names]
        rows = RowLines.of(layout, topology)
        networks = []  # (circuit, is_return, runs)
        for circuit, paths in (
            (TCS, lambda s, r: tcs_paths(layout, rows, s, r)),
            (FWS, lambda s, r: fws_paths(layout, topology, s, r)),
        ):
            side, rise = SIDE_M[circuit], RETURN_RISE_M[circuit]
            networks.append((circuit, False, cut_into_runs(paths(side, 0.0))))
            # return water flows back to the source: the same paths, walked backwards
            networks.append((circuit, True, cut_into_runs(paths(-side, rise)).reversed()))
        self.start_m = np.concatenate([runs.start_m for _, _, runs in networks])
        self.end_m = np.concatenate([runs.end_m for _, _, runs in networks])
        sizes = [runs.count for _, _, runs in networks]
        self.circuit = np.repeat([circuit for circuit, _, _ in networks], sizes)
        self.is_return = np.repeat([back for _, back, _ in networks], sizes)
        offsets = np.cumsum([0, *sizes[:-1]])
        self._carry_run = np.concatenate(
            [
                runs.carry_run + offset
                for (_, _, runs), offset in zip(networks, offsets, strict=True)
            ]
        )
        # each carried share reads its CDU's flow from [TCS flows..., FWS flows...]
        self._carry_source = np.concatenate(
            [runs.carry_cdu + circuit * self._cdu_count for circuit, _, runs in networks]
        )
        self._carry_share = np.concatenate([runs.carry_share for _, _, runs in networks])
        per_cdu = topology.cdu_type
        tcs_design_lpm = np.array([t.pump_design_flow_lpm * t.pumps_required for t in cdu_types])[
            per_cdu
        ]
        self._fws_design_lpm = np.array([t.facility_design_flow_lpm for t in cdu_types])[per_cdu]
        self.design_lpm = self._run_sum(np.concatenate([tcs_design_lpm, self._fws_design_lpm]))
        self.flow_lpm = np.zeros(len(self.start_m))
        area_m2 = self.design_lpm / 60_000.0 / DESIGN_VELOCITY_M_S  # L/min to m3/s
        self.diameter_m = np.clip(
            np.sqrt(4 * area_m2 / np.pi), MIN_DIAMETER_M, np.take(MAX_DIAMETER_M, self.circuit)
        )
        self.cdu = np.full(len(self.start_m), -1)
        tcs = self.circuit[self._carry_run] == TCS
        self.cdu[self._carry_run[tcs]] = self._carry_source[tcs]
        # a TCS run takes its CDU's supply or return temperature from [supply..., return...]
        self._temperature_source = np.where(
            self.cdu >= 0, self.cdu + self.is_return * self._cdu_count, 0
        )
        self.speed_m_s = np.zeros(len(self.start_m))
        self.temperature_c = np.full(len(self.start_m), self.low_c)
        self.colors = self.color_of(self.temperature_c)
        # runs along x, y and z, each drawn without the faces a pipe never shows
        self.axis = np.argmax(np.abs(self.end_m - self.start_m), axis=1)
        # one mesh per circuit, so that a circuit's pipes can be left out
        self._mesh_runs = {
            circuit: np.flatnonzero(self.circuit == circuit)
            for circuit in (TCS, FWS)
            if np.any(self.circuit == circuit)  # (an empty mesh cannot be drawn)
        }
        boxes = self._pipe_boxes()
        self.nodes = {
            circuit: _pipe_mesh(boxes, runs, self.axis, self.colors, self.root)
            for circuit, runs in self._mesh_runs.items()
        }
        self._build_dots()
        self._clock: float | None = None

    def _run_sum(self, per_source: np.ndarray) -> np.ndarray:
        """Sum over each run of the carried shares of ``per_source`` (TCS then FWS per CDU)."""
        weights = self._carry_share * per_source[self._carry_source]
        return np.bincount(self._carry_run, weights, minlength=len(self.start_m))

    def _pipe_boxes(self) -> Boxes:
        # each box reaches half a diameter past its ends, filling the elbow at a turn
        length = np.abs(self.end_m - self.start_m)
        return Boxes(
            center_m=(self.start_m + self.end_m) / 2, size_m=length + self.diameter_m[:, None]
        )

    def _build_dots(self) -> None:
        vector = self.end_m - self.start_m
        length = np.linalg.norm(vector, axis=1)
        count = np.round(length / np.take(DOT_SPACING_M, self.circuit)).astype(int)
        self.dot_run = np.repeat(np.arange(len(count)), count)
        self._dot_slot = np.arange(len(self.dot_run)) - np.repeat(np.cumsum(count) - count, count)
        self._run_spacing = length / np.maximum(count, 1)
        self._phase = np.zeros(len(count))  # of the dots' spacing, per run
        # dots ride on the side that faces the usual camera: horizontal pipes' tops,
        # vertical pipes' south faces
        dot_size = DOT_FRACTION * self.diameter_m
        lift = np.zeros_like(self.start_m)
        vertical = np.abs(vector[:, 2]) > 0
        lift[~vertical, 2] = (self.diameter_m + dot_size)[~vertical] / 2
        lift[vertical, 1] = -(self.diameter_m + dot_size)[vertical] / 2
        run = self.dot_run
        self._dot_origin = (self.start_m + lift)[run].astype(np.float32)
        self._dot_step = (vector / np.maximum(count, 1)[:, None])[run].astype(np.float32)
        self._dot_size = dot_size[run].astype(np.float32)
        self._dot_colors = np.tile(STILL_DOT_RGBA, (len(run), 1))
        self.dots = visuals.Markers(scaling="scene", antialias=0.0, parent=self.root)
        self.dots.canvas_size_limits = DOT_SIZE_PX
        self.dots.order = 1  # after the pipes: the dots blend over them
        self.dot_positions = self._dot_origin.copy()
        self._draw_dots()

    def update(self, snapshot: Snapshot) -> None:
        cdus, plant = snapshot.cdus, snapshot.plant
        # TCS: the CDU's secondary flow, nothing without a pump. FWS: the simulation's own
        # facility-side model, valve opening times the CDU's design facility flow
        tcs_lpm = np.where(np.asarray(cdus.pumps_running) > 0, cdus.flow_lpm, 0.0)
        fws_lpm = np.asarray(cdus.facility_valve) * self._fws_design_lpm
        self.flow_lpm = self._run_sum(np.concatenate([tcs_lpm, fws_lpm]))
        self.speed_m_s = DESIGN_VELOCITY_M_S * self.flow_lpm / self.design_lpm
        cdu_c = np.concatenate([cdus.supply_c, cdus.return_c])
        fws_c = np.where(self.is_return, plant.fws_return_c, plant.fws_supply_c)
        self.temperature_c = np.where(self.cdu >= 0, cdu_c[self._temperature_source], fws_c)
        self.colors = self.color_of(self.temperature_c)
        for key, node in self.nodes.items():
            send_colors(node, self.colors[self._mesh_runs[key]])
        moving = self.speed_m_s[self.dot_run] > 1e-3
        self._dot_colors = np.where(moving[:, None], DOT_RGBA, STILL_DOT_RGBA)
        self.animate()

    def animate(self) -> bool:
        """Move the dots on by the wall time since they last moved; whether they are shown
        (and a frame would show them move)."""
        now = time.monotonic()
        self.advance(0.0 if self._clock is None else min(now - self._clock, MAX_FRAME_S))
        self._clock = now
        return self.root.visible and self.dots.visible

    def color_of(self, temperature_c: np.ndarray) -> np.ndarray:
        fraction = np.clip((temperature_c - self.low_c) / (self.high_c - self.low_c), 0.0, 1.0)
        return self.colormap.map(fraction).astype(np.float32)

    def set_scale(self, px_per_m: float) -> None:
        """Level of detail at ``px_per_m``, the view's scale at its centre (nearer or
        farther pipes are drawn larger or smaller: a simplification): the dots show while
        the technology-cooling dots (the closer spaced) lie ``MIN_DOT_SPACING_PX`` apart,
        the technology-cooling pipes while their widest is ``MIN_PIPE_WIDTH_PX`` wide."""
        set_visible(self.dots, px_per_m * DOT_SPACING_M[TCS] >= MIN_DOT_SPACING_PX)
        wide_enough = px_per_m * MAX_DIAMETER_M[TCS] >= MIN_PIPE_WIDTH_PX
        for circuit, node in self.nodes.items():
            if circuit == TCS:
                set_visible(node, wide_enough)

    def advance(self, dt_s: float) -> None:
        """Move the dots on by ``dt_s`` seconds of wall time at the water's speed; hidden
        dots wait where they are."""
        if not (self.root.visible and self.dots.visible):
            return
        self._phase = (self._phase + self.speed_m_s * dt_s / self._run_spacing) % 1.0
        self._draw_dots()

    def _draw_dots(self) -> None:
        along = (self._dot_slot + self._phase[self.dot_run]).astype(np.float32)
        self.dot_positions = self._dot_origin + along[:, None] * self._dot_step
        self.dots.set_data(
            self.dot_positions, size=self._dot_size, edge_width=0.0, face_color=self._dot_colors
        )
