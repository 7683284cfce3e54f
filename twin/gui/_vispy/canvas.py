"""The 3D view: a SceneCanvas with the site's adapters, an orbit camera and rack picking.

``CanvasWrapper`` owns the canvas (composition, as in vispy's Qt embedding example); the
window only puts ``widget`` in a layout. Everything here runs on the GUI thread.
"""

from __future__ import annotations

import math
import time
import weakref
from collections.abc import Sequence
from dataclasses import dataclass, replace

import numpy as np
import shiboken6
from PySide6.QtCore import Qt
from PySide6.QtWidgets import QWidget
from vispy import app, scene
from vispy.util.event import EmitterGroup, Event

from twin.alarms import AlarmView
from twin.gui._vispy.alarm_marks import AlarmMarkAdapter
from twin.gui._vispy.base import LAYERS, Adapter, LabelBoard, ScenePalette
from twin.gui._vispy.busways import BuswayAdapter
from twin.gui._vispy.cdus import CduAdapter
from twin.gui._vispy.fog import Fog
from twin.gui._vispy.geometry import ray_hits
from twin.gui._vispy.halls import HallAdapter
from twin.gui._vispy.native_window import window_application
from twin.gui._vispy.piping import PipingAdapter
from twin.gui._vispy.post import PostProcessCanvas
from twin.gui._vispy.racks import RackAdapter
from twin.gui._vispy.robots import RobotAdapter
from twin.gui._vispy.selection import SelectionAdapter
from twin.gui._vispy.shadows import ContactShadowAdapter
from twin.gui._vispy.site import SiteAdapter
from twin.gui._vispy.sky import FOG_STRIPS, GroundView, SkyBackdrop, clip_convex
from twin.gui._vispy.substation import SubstationAdapter
from twin.gui._vispy.workcells import WorkcellAdapter
from twin.gui._vispy.yard import YardAdapter
from twin.gui.colors import ColorField
from twin.gui.objects import Selection, object_name
from twin.gui.units import UnitSystem, conversion
from twin.gui.viewpoints import FIELD_OF_VIEW_DEG, Viewpoint, framing, site_viewpoints
from twin.scenario import Scenario
from twin.sim.layout import Boxes, Layout
from twin.sim.snapshot import Snapshot
from twin.sim.topology import Topology

TRANSITION_S = 0.7
DEPTH_RANGE = 3000.0  # far over near plane: keeps floors and pads from z-fighting
CLICK_TOLERANCE_PX = 4  # a press and release closer than this is a click, not an orbit
HORIZON_DISTANCE_M = 1e6  # far enough that a point this far ahead lies on the horizon
FILL = 0.92  # a viewpoint's subject spans this much of the view, across or up
LABEL_INTERVAL_S = 0.5  # value labels: readable changes, and text layout kept off most frames

# Software OpenGL pays for every pixel a mesh covers, hidden or not, unless the depth test
# rejects it first: the ground and the backdrop (``sky``), which cover most of any view,
# are drawn after the opaque boxes standing on it (the pixels they cover cost them
# nothing) and before what blends over it (contact shadows, the pipes' flow dots, the
# robots' routes and safety zones).
# Nodes of equal order draw in the order they were made.
_DRAWN_BEFORE_THE_GROUND = ("halls", "racks", "cdus", "yard", "substation", "workcells", "busways")
_GROUND_ORDER = 1
_AFTER_THE_GROUND = 2

# four points that fix the scene's projection (site metres)
_VIEW_PROBES_M = np.array([[0, 0, 0], [100, 0, 0], [0, 100, 0], [0, 0, 100]], float)


@dataclass(frozen=True, slots=True)
class PickTarget:
    """Boxes that select an object of ``kind`` when clicked; ``selection_index`` maps each
    box to the object it belongs to (all dry coolers form one object, each rack its own)."""

    kind: str
    layer: str | None
    boxes: Boxes
    selection_index: np.ndarray


def _pick_targets(layout: Layout, robots: RobotAdapter) -> tuple[PickTarget, ...]:
    def each(kind: str, layer: str | None, boxes: Boxes) -> PickTarget:
        return PickTarget(kind, layer, boxes, np.arange(boxes.count))

    def group(kind: str, layer: str | None, boxes: Boxes) -> PickTarget:
        return PickTarget(kind, layer, boxes, np.zeros(boxes.count, int))

    return (
        each("rack", None, layout.racks),  # racks stay drawn with the thermal layer off
        each("cdu", "hydraulic", layout.cdus),
        each("hall", "electrical", layout.electrical_rooms),
        group("dry-coolers", "hydraulic", layout.dry_coolers),
        group("chillers", "hydraulic", layout.chillers),
        group("transformer", "electrical", layout.main_transformers),
        group("bess", "electrical", layout.bess),
        group("generator", "electrical", layout.generators),
        each("workcell", "robots", layout.workcells),
        PickTarget("robot", "robots", *robots.arm_pick_boxes()),
    )


def _framed_corners(
    layout: Layout, hall_names: tuple[str, ...], workcell_names: tuple[str, ...]
) -> dict[str, np.ndarray]:
    """The corners (n, 3) of what each viewpoint shows: for the site, what is built on it
    (halls, yard, substation, workcells), not the empty ground around it."""

    def corners(rects: np.ndarray, top_m: float) -> np.ndarray:
        rects = np.atleast_2d(rects)
        xs, ys = rects[:, [0, 2]], rects[:, [1, 3]]
        return np.array(
            [
                (x, y, z)
                for k in range(len(rects))
                for x in xs[k]
                for y in ys[k]
                for z in (0.0, top_m)
            ]
        )

    halls = np.column_stack([layout.halls.lower_m[:, :2], layout.halls.upper_m[:, :2]])
    cells = np.column_stack([layout.workcells.lower_m[:, :2], layout.workcells.upper_m[:, :2]])
    framed = {
        "site": corners(
            np.vstack([halls, layout.yard_rect_m, layout.substation_rect_m, cells]), 4.0
        ),
        "yard": corners(layout.yard_rect_m, 4.0),
        "substation": corners(layout.substation_rect_m, 4.0),
    }
    for h, name in enumerate(hall_names):
        framed[name] = corners(layout.hall_rect_m(h), 3.0)
    for name, rect in zip(workcell_names, cells, strict=True):
        framed[f"workcell:{name}"] = corners(rect, 2.0)
    return framed


def drop_picking_filters(node, done: weakref.WeakSet) -> None:
    """Take vispy's picking filter off every visual under ``node`` not in ``done`` (then
    added to it). The 3D view picks by casting rays (``pick_ray``), never by vispy's
    picking pass, yet the filter's ``discard``, unused as it is, makes every fragment
    shader one that may discard: software OpenGL then gives up its early depth test and
    the cheaper paths of opaque shaders (a third of a 4K frame's CPU in a hall view)."""
    if node not in done:
        done.add(node)
        picking = getattr(node, "_picking_filter", None)  # attached as vispy made it
        if picking is not None:
            node.detach(picking)
    for child in node.children:
        drop_picking_filters(child, done)


def _same_view(a: Viewpoint, b: Viewpoint) -> bool:
    return (
        np.allclose(a.center, b.center)
        and math.isclose(a.distance, b.distance)
        and math.isclose(a.elevation, b.elevation)
        and math.isclose(a.azimuth, b.azimuth)
    )


def _smoothstep(t: float) -> float:
    t = min(max(t, 0.0), 1.0)
    return t * t * (3.0 - 2.0 * t)


def _box_of(
    targets: tuple[PickTarget, ...], kind: str, index: int
) -> tuple[np.ndarray, np.ndarray] | None:
    """Lower and upper corners of the boxes that make up object ``index`` of ``kind``."""
    for target in targets:
        if target.kind == kind:
            mine = target.selection_index == index
            if not mine.any():
                return None
            return target.boxes.lower_m[mine].min(axis=0), target.boxes.upper_m[mine].max(axis=0)
    return None


class CanvasWrapper:
    def __init__(
        self,
        scenario: Scenario,
        topology: Topology,
        layout: Layout,
        fields: tuple[ColorField, ...],
        palette: ScenePalette,
        size: tuple[int, int] = (1280, 720),
        *,
        native_window: bool = False,
        antialiasing: str = "auto",
    ) -> None:
        """``native_window``: draw in a native OpenGL window (see ``native_window``), much
        faster under software OpenGL, but no widget can float over it. ``antialiasing``:
        FXAA "on", "off" or "auto" (on for a hardware renderer; see ``post``)."""
        self.events = EmitterGroup(source=self, selected=Event, context_menu=Event)
        self._scenario, self._topology = scenario, topology
        # Qt presents the frame itself: a swap of vispy's own on top only waits for the
        # software rasteriser to finish, on the GUI thread.
        self.canvas = PostProcessCanvas(
            antialiasing=antialiasing,
            keys=None,
            size=size,
            show=False,
            autoswap=False,
            bgcolor=palette.background,
            app=window_application() if native_window else None,
        )
        self._container = None
        if native_window:
            self._container = QWidget.createWindowContainer(self.canvas.native)
            self._container.setFocusPolicy(Qt.FocusPolicy.WheelFocus)
            self._container.setMinimumSize(64, 64)
        self.widget: QWidget = self._container or self.canvas.native
        self.view = self.canvas.central_widget.add_view()
        # The view fills the canvas, so vispy's clipping of its scene to the view's rect
        # (a transform and a discard in every fragment shader) cuts nothing; under
        # software OpenGL it more than doubled the cost of every pixel the scene draws.
        # Off before any visual is added: each inherits it when added.
        self.view.scene.clip_children = False
        self.viewpoints = site_viewpoints(
            layout, topology.hall_names, tuple(cell.name for cell in scenario.workcells)
        )
        self._framed = _framed_corners(
            layout, topology.hall_names, tuple(cell.name for cell in scenario.workcells)
        )
        self._at_home = True  # nobody has moved the camera since the start
        home = self.viewpoints["site"]
        self.view.camera = scene.TurntableCamera(
            fov=FIELD_OF_VIEW_DEG,
            center=home.center,
            distance=home.distance,
            elevation=home.elevation,
            azimuth=home.azimuth,
        )
        self.view.camera.depth_value = DEPTH_RANGE
        parent = self.view.scene
        self.labels = LabelBoard(self.view)  # in the view's pixels, over its scene
        # drawn with the ground, after the opaque boxes (see ``sky``)
        self.sky = SkyBackdrop(self.view.scene, palette)
        self.sky.node.order = _GROUND_ORDER
        self.canvas.bgcolor = self.sky.clear_color
        self.site = SiteAdapter(layout, parent, palette)
        self.halls = HallAdapter(layout, topology.hall_names, parent, palette, self.labels)
        self.racks = RackAdapter(layout, fields, parent)
        self.shadows = ContactShadowAdapter(layout, topology, parent)
        self.cdus = CduAdapter(layout, parent)
        self.yard = YardAdapter(layout, parent, palette, self.labels)
        self.substation = SubstationAdapter(scenario, layout, parent, palette, self.labels)
        self.workcells = WorkcellAdapter(scenario, layout, parent, palette, self.labels)
        self.piping = PipingAdapter(scenario, topology, layout, parent)
        self.busways = BuswayAdapter(layout, topology, parent)
        self.robots = RobotAdapter(scenario, layout, parent)
        self.adapters: tuple[Adapter, ...] = (
            self.site,
            self.halls,
            self.racks,
            self.shadows,
            self.cdus,
            self.yard,
            self.substation,
            self.workcells,
            self.piping,
            self.busways,
            self.robots,
        )
        before = tuple(getattr(self, name) for name in _DRAWN_BEFORE_THE_GROUND)
        for adapter in self.adapters:
            adapter.root.order = (
                _GROUND_ORDER
                if adapter is self.site
                else 0
                if adapter in before
                else _AFTER_THE_GROUND
            )
        self.fog = Fog(adapter.root for adapter in self.adapters)
        self._unpicked: weakref.WeakSet = weakref.WeakSet()  # see ``drop_picking_filters``
        self.fog.set_haze(self.sky.haze)
        self.selection = SelectionAdapter(parent)
        self.alarm_marks = AlarmMarkAdapter(parent, self.canvas.update)
        # over the scene without depth test: after the ground, which would cover them
        self.selection.root.order = self.alarm_marks.root.order = _AFTER_THE_GROUND
        self.selected: Selection | None = None
        self.targets = _pick_targets(layout, self.robots)
        self.layers = dict.fromkeys(LAYERS, True)
        self.frames_drawn = 0
        self._press_pos: np.ndarray | None = None
        self._press_button = 0
        self._transition: tuple[float | None, Viewpoint, Viewpoint] | None = None
        self._timer = app.Timer(interval=1 / 60, connect=self._on_transition_tick, start=False)
        self._latest: Snapshot | None = None
        self._labelled: Snapshot | None = None
        self._label_timer = app.Timer(
            interval=LABEL_INTERVAL_S, connect=self._refresh_labels, start=True
        )
        # The first layout of text loads every glyph of the labels' fonts (most of a second
        # under software GL): the first live frame comes without labels, the next with them.
        self.labels.set_color(palette.label)
        self.labels.flush()
        self.labels.visible = False
        self._labels_held = True
        self._label_release = app.Timer(
            interval=0.0, iterations=1, connect=self._release_labels, start=False
        )
        self.canvas.events.draw.connect(self._set_detail, position="first")
        self.canvas.events.draw.connect(self._on_draw)
        self.canvas.events.mouse_press.connect(self._on_mouse_press)
        self.canvas.events.mouse_wheel.connect(self._leave_home)
        self._framed_for: tuple[int, int] | None = None  # the view size framed for
        self.canvas.events.mouse_release.connect(self._on_mouse_release)

    # ----------------------------------------------------------------- snapshots

    def update(self, snapshot: Snapshot) -> None:
        for adapter in self.adapters:
            adapter.update(snapshot)
        if self.selected is not None and self.selected.kind == "service-robot":
            self.selection.move(*self.bounds(self.selected))  # it drives on
        first = self._latest is None
        self._latest = snapshot
        if first:
            self._refresh_labels()
        self.canvas.update()

    def animate(self) -> None:
        """Move what moves with wall time (flow dots, fans) between snapshots, and draw
        again if any of it is shown: at low speeds snapshots come seldom, at high speeds
        not in step with the display."""
        moving = [adapter.animate() for adapter in (self.piping, self.yard)]
        if any(moving):
            self.canvas.update()

    def _refresh_labels(self, _event=None) -> None:
        if self._latest is None or self._latest is self._labelled:
            return
        self._labelled = self._latest
        for adapter in self.adapters:
            adapter.update_labels(self._latest)
        self.labels.flush()  # the next frame lays the changed texts out
        self.canvas.update()

    def set_units(self, system: UnitSystem) -> None:
        """Show the temperatures of the labels in ``system``, from now on."""
        for adapter in (self.halls, self.yard):
            adapter.temperature = conversion("°C", system)
        self._labelled = None
        self._refresh_labels()

    def set_color_field(self, key: str) -> None:
        self.racks.set_field(key)
        self.canvas.update()

    def set_layer_visible(self, layer: str, visible: bool) -> None:
        """Show or hide one of ``LAYERS`` (thermal, hydraulic, electrical, robots, labels)."""
        if layer not in LAYERS:
            raise ValueError(f"unknown layer {layer!r}; the layers are {', '.join(LAYERS)}")
        self.layers[layer] = visible
        if layer == "labels":
            if not self._labels_held:
                self.labels.visible = visible
        else:
            for adapter in self.adapters:
                adapter.show_layer(layer, visible)
        self.canvas.update()

    def set_palette(self, palette: ScenePalette) -> None:
        self.sky.set_palette(palette)
        self.canvas.bgcolor = self.sky.clear_color
        self.fog.set_haze(self.sky.haze)
        self.labels.set_color(palette.label)
        for adapter in self.adapters:
            adapter.apply_palette(palette)
        self.canvas.update()

    # ----------------------------------------------------------------- camera

    def _leave_home(self, _event=None) -> None:
        self._at_home = False

    def _frame_viewpoints(self) -> None:
        """Fit every viewpoint's distance to the view's shape, so that what it frames
        fills the view; at the start (nobody moved the camera yet) show the site anew.
        Run before a frame is drawn, once per view size: only then is the view laid out
        in the canvas and the scene's projection its own."""
        width, height = (int(v) for v in self.view.size)
        size = (width, height)
        if self._framed_for == size or min(size) < 2:
            return
        if size != tuple(self.canvas.size):
            # the view is laid out anew as this frame draws (vispy's grid): fit in the next
            self.canvas.update()
            return
        self._framed_for = size
        current = self.current_viewpoint()
        # at home: nobody moved the camera, by hand or by code, since the site was shown
        at_home = self._at_home and _same_view(current, self.viewpoints["site"])
        for key, corners in self._framed.items():
            self.viewpoints[key] = self._fitted(self.viewpoints[key], corners)
        self._apply_viewpoint(self.viewpoints["site"] if at_home else current)

    def _fitted(self, view: Viewpoint, corners: np.ndarray) -> Viewpoint:
        """``view`` at the distance where ``corners`` (n, 3) fill ``FILL`` of the view
        across or up, whichever comes first (a few steps: perspective is not linear)."""
        width, height = self.view.size
        distance = view.distance
        for _ in range(4):
            self._apply_viewpoint(replace(view, distance=distance))
            pixels, in_front = self.project(corners)
            if not in_front.all():
                distance *= 1.5
                continue
            reach = max(
                np.abs(pixels[:, 0] - width / 2).max() / (width / 2),
                np.abs(pixels[:, 1] - height / 2).max() / (height / 2),
            )
            distance *= reach / FILL
        return replace(view, distance=float(distance))

    def go_to(self, key: str, *, animate: bool = True) -> None:
        self._at_home = False
        target = self.viewpoints[key]
        if not animate:
            self._transition = None
            self._timer.stop()
            self._apply_viewpoint(target)
            return
        self._transition = (None, self.current_viewpoint(), target)
        self._timer.start()

    def current_viewpoint(self) -> Viewpoint:
        camera = self.view.camera
        x, y, z = (float(c) for c in camera.center)
        return Viewpoint(
            "current",
            (x, y, z),
            float(camera.distance),
            float(camera.elevation),
            float(camera.azimuth),
        )

    def _apply_viewpoint(self, view: Viewpoint) -> None:
        camera = self.view.camera
        # one update of the scene's transforms for the four (vispy updates at each)
        with camera._block_updates():
            camera.center = view.center
            camera.distance = view.distance
            camera.elevation = view.elevation
            camera.azimuth = view.azimuth
        camera.view_changed()

    def _on_transition_tick(self, _event) -> None:
        if self._transition is None:
            self._timer.stop()
            return
        start, a, b = self._transition
        if start is None:  # the clock starts at the first tick: a slow frame cannot skip it
            start = time.monotonic()
            self._transition = (start, a, b)
        t = (time.monotonic() - start) / TRANSITION_S
        s = _smoothstep(t)
        turn = (b.azimuth - a.azimuth + 180.0) % 360.0 - 180.0  # the short way round
        x, y, z = (ca + s * (cb - ca) for ca, cb in zip(a.center, b.center, strict=True))
        center = (x, y, z)
        # zoom geometrically so the move feels even at every distance
        distance = a.distance * (b.distance / a.distance) ** s
        self._apply_viewpoint(
            Viewpoint(
                b.label,
                center,
                distance,
                a.elevation + s * (b.elevation - a.elevation),
                a.azimuth + s * turn,
            )
        )
        if t >= 1.0:
            self._transition = None
            self._timer.stop()

    # ----------------------------------------------------------------- picking

    def ray_at(self, pos: tuple[float, float]) -> tuple[np.ndarray, np.ndarray]:
        """Origin and unit direction, in site metres, of the ray under a canvas pixel."""
        transform = self.view.scene.transform
        near = transform.imap([pos[0], pos[1], -1.0, 1.0])
        far = transform.imap([pos[0], pos[1], 1.0, 1.0])
        near, far = near[:3] / near[3], far[:3] / far[3]
        direction = far - near
        return near, direction / np.linalg.norm(direction)

    def screen_position(self, point: np.ndarray) -> tuple[float, float]:
        """The canvas pixel where a point of the site appears."""
        mapped = self.view.scene.transform.map(np.append(point, 1.0))
        return float(mapped[0] / mapped[3]), float(mapped[1] / mapped[3])

    def pick(self, pos: tuple[float, float]) -> Selection | None:
        """The object under a canvas pixel: the nearest hit among the visible layers."""
        return self.pick_ray(*self.ray_at(pos))

    def pick_ray(self, origin: np.ndarray, direction: np.ndarray) -> Selection | None:
        """The nearest object of a visible layer along a ray (site metres)."""
        best, best_distance = None, np.inf
        for target in self._all_targets():
            if target.layer is not None and not self.layers[target.layer]:
                continue
            if target.boxes.count == 0:
                continue
            distance = ray_hits(target.boxes, origin, direction)
            k = int(np.argmin(distance))
            if distance[k] < best_distance:
                best_distance = float(distance[k])
                best = Selection(target.kind, int(target.selection_index[k]))
        return best

    def select(self, selection: Selection | None) -> None:
        """Highlight ``selection`` (None: clear) and tell the window."""
        self.selected = selection
        if selection is None:
            self.selection.hide()
        else:
            lower, upper = self.bounds(selection)
            self.selection.show(
                lower, upper, object_name(selection, self._scenario, self._topology)
            )
        self.events.selected(selection=selection)
        self.canvas.update()

    def bounds(self, selection: Selection) -> tuple[np.ndarray, np.ndarray]:
        """Lower and upper corners (site metres) of everything that makes up an object."""
        box = _box_of(self._all_targets(), selection.kind, selection.index)
        if box is None:
            raise ValueError(f"nothing is drawn for {selection}")
        return box

    def _all_targets(self) -> tuple[PickTarget, ...]:
        """The fixed targets and the service robots where they are now."""
        vehicles = self.robots.service_pick_boxes()
        return (
            *self.targets,
            PickTarget("service-robot", "robots", vehicles, np.arange(vehicles.count)),
        )

    def show_alarms(self, alarms: Sequence[AlarmView]) -> None:
        """Mark the objects in alarm (see ``alarm_marks``); an alarm on something the view
        does not draw goes unmarked."""
        targets = self._all_targets()  # once: the service robots' boxes are built anew
        self.alarm_marks.show_alarms(alarms, lambda kind, index: _box_of(targets, kind, index))

    def fly_to(self, selection: Selection) -> None:
        """Fly the camera to frame a selected object."""
        lower, upper = self.bounds(selection)
        rect = np.array([lower[0], lower[1], upper[0], upper[1]])
        current = self.current_viewpoint()
        target = framing(
            "selection",
            rect,
            elevation=max(current.elevation, 30.0),
            azimuth=current.azimuth,
            height_m=float(lower[2]),
        )
        self._transition = (None, current, target)
        self._timer.start()

    def _on_mouse_press(self, event) -> None:
        self._at_home = False
        self._press_pos = np.asarray(event.pos, float)
        self._press_button = event.button

    def _on_mouse_release(self, event) -> None:
        """A click (press and release in one place) of the left button selects; of the
        right button asks for the context menu. Drags move the camera."""
        if self._press_pos is None or event.button != self._press_button:
            return
        moved = np.abs(np.asarray(event.pos, float) - self._press_pos).max()
        self._press_pos = None
        if moved > CLICK_TOLERANCE_PX:
            return
        if event.button == 1:
            self.select(self.pick(event.pos))
        elif event.button == 2:
            self.events.context_menu(pos=tuple(event.pos))

    # ----------------------------------------------------------------- drawing

    def px_per_m(self) -> float:
        """Screen pixels per metre at the centre of the view (the camera's distance)."""
        camera = self.view.camera
        half_height_m = camera.distance * math.tan(math.radians(camera.fov / 2))
        return self.canvas.size[1] / (2 * half_height_m)

    def eye_position(self) -> np.ndarray:
        """The camera's position in site metres: where the rays through the centre and a
        corner of the view meet."""
        width, height = self.canvas.size
        (o1, d1), (o2, d2) = self.ray_at((width / 2, height / 2)), self.ray_at((0.0, 0.0))
        # the points of the two lines closest to each other (they meet: the same point)
        offset = o1 - o2
        b, d, e = d1 @ d2, d1 @ offset, d2 @ offset
        s = (b * e - d) / (1.0 - b * b)
        t = (e - b * d) / (1.0 - b * b)
        return (o1 + s * d1 + o2 + t * d2) / 2

    def _set_detail(self, _event) -> None:
        self._frame_viewpoints()
        centre = np.append(np.asarray(self.view.camera.center, float), 1.0)
        self.fog.place(float(self.view.scene.transform.map(centre)[3]))
        # visuals are added as the camera first sees them (the racks' face sets)
        for root in (self.view.scene, self.labels.root):
            drop_picking_filters(root, self._unpicked)
        eye = self.eye_position()
        self.sky.place(self.canvas.size, self.horizon_px(), self.ground_view(eye))
        self.site.show_ground_mesh(self.sky.ground_mesh)
        if not np.array_equal(self.canvas.bgcolor.rgba, self.sky.clear_color):
            self.canvas.bgcolor = self.sky.clear_color
        scale = self.px_per_m()
        self.piping.set_scale(scale)
        self.yard.set_scale(scale)
        self.racks.set_scale(scale)
        self.shadows.set_scale(scale)
        self.racks.set_eye(eye)
        self.halls.set_eye(eye)
        # keyed on where the scene lands on screen, not on the camera's parameters: the
        # scene's transform can follow a resize or a camera change one draw later
        view = tuple(np.round(self.screen_positions(_VIEW_PROBES_M), 2).ravel())
        self.labels.layout(self.project, tuple(self.canvas.size), self.canvas.dpi / 72.0, view)

    def screen_positions(self, points: np.ndarray) -> np.ndarray:
        """The canvas pixels (n, 2) where points (n, 3) of the site appear."""
        points = np.asarray(points, float)
        mapped = self.view.scene.transform.map(np.column_stack([points, np.ones(len(points))]))
        return mapped[:, :2] / mapped[:, 3:4]

    def ground_view(self, eye: np.ndarray | None = None) -> GroundView:
        """The ground as the camera at ``eye`` (site metres; by default where it is) sees
        it, for the backdrop: its outline on screen and the rows its fog is known at."""
        eye = self.eye_position() if eye is None else eye
        none = np.zeros((0, 2))
        if eye[2] <= 0.0:
            return GroundView(none, np.zeros(0), np.zeros(0), below=True)
        transform = self.view.scene.transform
        x0, y0, x1, y1 = self.site.ground_rect_m
        corners = np.array([[x0, y0, 0, 1], [x1, y0, 0, 1], [x1, y1, 0, 1], [x0, y1, 0, 1]])
        mapped = transform.map(corners.astype(float))
        # cut where the ground passes behind the camera (clip-space w; its near plane
        # lies a little in front of it)
        centre = np.append(np.asarray(self.view.camera.center, float), 1.0)
        centre_w = float(transform.map(centre)[3])
        mapped = clip_convex(mapped, mapped[:, 3] - 1e-3 * centre_w)
        outline = mapped[:, :2] / mapped[:, 3:4] if len(mapped) >= 3 else none
        start_w, end_w, strength = self.fog.amount_range
        if strength <= 0.0 or len(outline) < 3:
            return GroundView(outline, np.zeros(0), np.zeros(0))
        # one depth along each screen row of the ground: sample it straight ahead of the
        # eye, where the depth grows linearly with the distance
        foot = np.array([eye[0], eye[1], 0.0])
        ahead = np.asarray(self.view.camera.center, float) - eye
        ahead[2] = 0.0
        length = float(np.linalg.norm(ahead))
        foot_w = float(transform.map(np.append(foot, 1.0))[3])
        depths = np.linspace(start_w, end_w, FOG_STRIPS + 1)
        share = (depths - start_w) / (end_w - start_w)
        amounts = strength * share * share * (3.0 - 2.0 * share)  # the shader's smoothstep
        if length > 1e-9:
            ahead /= length
            step_w = float(transform.map(np.append(foot + ahead, 1.0))[3]) - foot_w
        else:
            step_w = 0.0
        if abs(step_w) < 1e-9 * abs(foot_w):  # straight down: all of it at one depth
            share_foot = float(np.clip((foot_w - start_w) / (end_w - start_w), 0.0, 1.0))
            level = strength * share_foot * share_foot * (3.0 - 2.0 * share_foot)
            height = float(self.canvas.size[1])
            return GroundView(outline, np.array([height, 0.0]), np.array([level, level]))
        points = foot + ((depths - foot_w) / step_w)[:, None] * ahead
        rows = self.screen_positions(points)[:, 1]
        return GroundView(outline, rows, amounts)

    def horizon_px(self) -> float:
        """How far down the view the horizon runs (the camera never rolls, so it is level):
        where a point far away straight ahead, at the eye's height, appears; 0 where it is
        above the view."""
        camera = self.view.camera
        eye = self.eye_position()
        ahead = np.asarray(camera.center, float) - eye
        ahead[2] = 0.0
        length = np.linalg.norm(ahead)
        if length < 1e-9:  # looking straight down
            return 0.0
        far = eye + ahead / length * HORIZON_DISTANCE_M
        pixels, in_front = self.project(far[None])
        return float(pixels[0, 1]) if in_front[0] else 0.0

    def project(self, points: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """The canvas pixels (n, 2) where points (n, 3) of the site appear, and whether
        each is in front of the camera (a point behind it maps to a pixel too)."""
        points = np.asarray(points, float)
        mapped = self.view.scene.transform.map(np.column_stack([points, np.ones(len(points))]))
        in_front = mapped[:, 3] > 0
        w = np.where(in_front, mapped[:, 3], 1.0)
        return mapped[:, :2] / w[:, None], in_front

    def _on_draw(self, _event) -> None:
        self.frames_drawn += 1
        if self._labels_held and self._latest is not None:  # the first live frame is out
            self._labels_held = False
            self._label_release.start()  # after this frame has reached the screen

    def _release_labels(self, _event=None) -> None:
        self.labels.visible = self.layers["labels"]
        self.canvas.update()

    def render(self) -> np.ndarray:
        """The view as an (h, w, 3) uint8 RGB image, drawn now."""
        self._set_detail(None)  # an off-screen render has no draw event to set it
        return self.canvas.render(alpha=False)

    def close(self) -> None:
        self._timer.stop()
        self._label_timer.stop()
        self._label_release.stop()
        self.alarm_marks.close()
        self.canvas.close()
        if self._container is not None:
            # The container must go before its native window (Qt's container dereferences
            # it when its top level goes): out of the layout, then deleted, window and all.
            self._container.setParent(None)
            shiboken6.delete(self._container)
