"""The live plant in 3D: pipes, flow dots, fans, busways and the power chain follow snapshots."""

from __future__ import annotations

from dataclasses import replace

import numpy as np
import pytest

from tests.fakes import FakeSimulation, scenario_named
from tests.gui.helpers import open_paused, pixel_at
from twin.sim.snapshot import CduState, PlantState, PowerState, Snapshot, frozen_fields

pytestmark = pytest.mark.gui


class PlantSimulation(FakeSimulation):
    """A FakeSimulation whose CDU, plant, power and site figures a test may override."""

    def __init__(self, scenario):
        super().__init__(scenario)
        self.cdus: dict[str, object] = {}
        self.plant: dict[str, object] = {}
        self.power: dict[str, object] = {}
        self.site_figures: dict[str, float] = {}

    def snapshot(self, *, robots: bool = True) -> Snapshot:
        snapshot = super().snapshot(robots=robots)

        def merged(cls, state, overrides):
            values = {name: getattr(state, name) for name in cls.__dataclass_fields__}
            return frozen_fields(cls, **(values | overrides))

        return replace(
            snapshot,
            cdus=merged(CduState, snapshot.cdus, self.cdus),
            plant=merged(PlantState, snapshot.plant, self.plant),
            power=merged(PowerState, snapshot.power, self.power),
            site=snapshot.site | self.site_figures,
        )


@pytest.fixture
def plant_window(make_window, qtbot):
    """A paused window on a PlantSimulation, and a function that changes the simulation
    and waits until the window shows the result."""
    simulation = PlantSimulation(scenario_named("seoul-ai-factory"))
    window, change = open_paused(make_window, qtbot, simulation)
    return window, simulation, change


def _between_dots(piping, run: int) -> np.ndarray:
    """The top of a horizontal pipe run near its middle, half-way between two of its dots."""
    dots = piping.dot_positions[piping.dot_run == run]
    start, end = piping.start_m[run], piping.end_m[run]
    if len(dots) < 2:
        point = (start + end) / 2
    else:
        dots = dots[np.argsort(np.linalg.norm(dots - start, axis=1))]
        point = dots[len(dots) // 2 - 1 : len(dots) // 2 + 1].mean(axis=0)
    point[2] = start[2] + piping.diameter_m[run] / 2
    return point


def _assert_all(colors: np.ndarray, rgba: np.ndarray) -> None:
    np.testing.assert_allclose(colors, np.broadcast_to(rgba, colors.shape))


def _look_at(canvas, point: np.ndarray, distance: float = 25.0) -> None:
    camera = canvas.view.camera
    camera.center, camera.distance = tuple(point), distance
    camera.elevation, camera.azimuth = 60.0, -35.0


def test_pipe_colours_follow_supply_and_return_temperatures(plant_window):
    window, simulation, change = plant_window
    piping = window.canvas.piping
    cdu = 3
    cdus = simulation.topology.cdu_count

    def chill_and_heat(sim):
        sim.cdus = {
            "supply_c": np.where(np.arange(cdus) == cdu, 22.0, 35.0),
            "return_c": np.where(np.arange(cdus) == cdu, 58.0, 45.0),
        }
        sim.plant = {"fws_supply_c": 27.0, "fws_return_c": 41.0}

    change(chill_and_heat)
    mine = piping.cdu == cdu
    supply, back = mine & ~piping.is_return, mine & piping.is_return
    assert supply.any() and back.any()

    def colour_at(temperature_c: float) -> np.ndarray:
        return piping.color_of(np.array([temperature_c]))[0]

    _assert_all(piping.colors[supply], colour_at(22.0))
    _assert_all(piping.colors[back], colour_at(58.0))
    cold, hot = colour_at(22.0), colour_at(58.0)
    assert cold[2] > cold[0] + 0.3 and hot[0] > hot[2] + 0.3  # blue supply, red return
    others = (piping.cdu >= 0) & ~mine & ~piping.is_return
    _assert_all(piping.colors[others], colour_at(35.0))
    mains = piping.cdu < 0
    np.testing.assert_allclose(piping.temperature_c[mains & ~piping.is_return], 27.0)
    np.testing.assert_allclose(piping.temperature_c[mains & piping.is_return], 41.0)
    for circuit, node in piping.nodes.items():
        mine = piping.circuit == circuit
        assert np.array_equal(node.instance_colors.rgba, piping.colors[mine])

    # and the drawn pipe has that colour: the sunlit top of a facility main in the open
    length = np.linalg.norm(piping.end_m - piping.start_m, axis=1)
    main = int(np.argmax(np.where(mains & ~piping.is_return, length, 0.0)))
    point = _between_dots(piping, main)
    _look_at(window.canvas, point)
    drawn = pixel_at(window.canvas, window.canvas.render(), point)
    assert np.abs(drawn - 255 * piping.colors[main, :3]).max() < 25


def _close_enough_for_dots(window, qtbot) -> None:
    window.canvas.go_to(window.topology.hall_names[0], animate=False)
    qtbot.waitUntil(lambda: window.canvas.piping.dots.visible, timeout=30_000)


def test_flow_dots_show_only_where_they_can_be_told_apart(plant_window, qtbot):
    window, _, _ = plant_window
    canvas, piping = window.canvas, window.canvas.piping
    _close_enough_for_dots(window, qtbot)
    assert canvas.px_per_m() * 1.8 >= 4.0  # TCS dots 1.8 m apart, at least 4 px on screen
    canvas.view.camera.distance *= 4  # far out: the dots would blur into lines
    qtbot.waitUntil(lambda: not piping.dots.visible, timeout=30_000)
    before = piping.dot_positions.copy()
    piping.speed_m_s[:] = 2.0
    piping.advance(0.1)
    np.testing.assert_array_equal(piping.dot_positions, before)  # hidden dots wait
    canvas.view.camera.distance /= 4
    qtbot.waitUntil(lambda: piping.dots.visible, timeout=30_000)


def test_pipes_and_fans_below_a_pixel_are_left_out_far_away(plant_window, qtbot):
    from twin.gui._vispy.piping import FWS, TCS

    window, _, _ = plant_window
    canvas, piping, yard = window.canvas, window.canvas.piping, window.canvas.yard
    _close_enough_for_dots(window, qtbot)
    tcs = [node for circuit, node in piping.nodes.items() if circuit == TCS]
    fws = [node for circuit, node in piping.nodes.items() if circuit == FWS]
    assert tcs and fws and all(node.visible for node in tcs + fws) and yard.fans.visible
    canvas.view.camera.distance *= 10  # 0.25 m pipes and 1.8 m fans under a pixel or two
    qtbot.waitUntil(lambda: not yard.fans.visible, timeout=30_000)
    assert canvas.px_per_m() * 0.25 < 0.5 and canvas.px_per_m() * 1.8 < 2.0
    assert not any(node.visible for node in tcs) and all(node.visible for node in fws)
    angles = yard.fan_angle.copy()
    yard.fan_rev_per_s[:] = 1.0
    yard.advance(0.1)
    np.testing.assert_array_equal(yard.fan_angle, angles)  # hidden fans stand still
    canvas.view.camera.distance /= 10
    qtbot.waitUntil(lambda: yard.fans.visible and all(node.visible for node in tcs), timeout=30_000)


def test_flow_dots_move_with_the_flow_and_stand_still_without_pumps(plant_window, qtbot):
    window, _, change = plant_window
    piping = window.canvas.piping
    _close_enough_for_dots(window, qtbot)
    stopped = 5

    def trip(sim):
        running = np.ones(sim.topology.cdu_count, int)
        running[stopped] = 0
        sim.cdus = {"pumps_running": running}

    change(trip)
    tcs_run_dot = piping.cdu[piping.dot_run]
    still = tcs_run_dot == stopped
    flowing = (tcs_run_dot >= 0) & ~still
    mains = tcs_run_dot < 0
    assert still.any() and flowing.any() and mains.any()
    assert np.all(piping.speed_m_s[piping.cdu == stopped] == 0.0)
    # TCS water moves at the design velocity times the CDU's flow over its design flow
    np.testing.assert_allclose(
        piping.speed_m_s[(piping.cdu >= 0) & (piping.cdu != stopped)], 2.0 * 2500.0 / 2800.0
    )

    before = piping.dot_positions.copy()
    piping.advance(0.1)
    moved = np.linalg.norm(piping.dot_positions - before, axis=1)
    assert np.all(moved[still] == 0.0)
    # a dot that passed a run's end starts again at its beginning: most moved 0.179 m
    assert np.median(moved[flowing]) == pytest.approx(0.1 * 2.0 * 2500.0 / 2800.0, rel=1e-3)
    assert np.median(moved[mains]) > 0.05  # facility water still flows through the valves
    np.testing.assert_allclose(piping.dots._data["a_position"], piping.dot_positions)
    assert (
        piping.dots._data["a_bg_color"][still, 3].max()
        < piping.dots._data["a_bg_color"][flowing, 3].min()
    )  # still water's dots are dimmed

    # with the window's own snapshots, the dots advance with wall-clock time
    before = piping.dot_positions.copy()
    qtbot.wait(60)
    change()
    moved = np.linalg.norm(piping.dot_positions - before, axis=1)
    assert np.all(moved[still] == 0.0)
    assert np.median(moved[flowing]) > 0.02


def test_dry_cooler_fans_turn_at_the_fan_speed_and_stop_at_zero(plant_window):
    window, _, change = plant_window
    yard = window.canvas.yard
    change(
        lambda sim: setattr(sim, "plant", {"dry_cooler_fan_speed": 0.5, "dry_coolers_running": 10})
    )
    running = yard.fan_unit < 10
    assert running.any() and (~running).any()
    before = yard.fan_angle.copy()
    yard.advance(0.1)
    turned = (yard.fan_angle - before) % (2 * np.pi)
    np.testing.assert_allclose(turned[running], 2 * np.pi * 1.0 * 0.5 * 0.1)
    assert np.all(turned[~running] == 0.0)
    transforms = yard.fans.instance_transforms
    np.testing.assert_allclose(transforms[:, 0, 0], 1.8 * np.cos(yard.fan_angle), atol=1e-5)
    np.testing.assert_allclose(transforms[:, 1, 0], 1.8 * np.sin(yard.fan_angle), atol=1e-5)

    change(
        lambda sim: setattr(sim, "plant", {"dry_cooler_fan_speed": 0.0, "dry_coolers_running": 10})
    )
    before = yard.fan_angle.copy()
    yard.advance(0.1)
    assert np.array_equal(yard.fan_angle, before)


def test_busways_and_the_power_chain_follow_loading(plant_window):
    from twin.gui._vispy.substation import LINE_DEAD, LINE_LIVE, OVERLOADED

    window, simulation, change = plant_window
    canvas = window.canvas
    rows = len(simulation.topology.row_names)
    loading = np.full(rows, 0.5)
    loading[1], loading[2] = 0.95, 1.2

    def load(sim):
        sim.power = {
            "row_busway_loading": loading,
            "hall_transformer_loading": np.array([0.55, 1.1]),
            "hall_ups_loading": np.array([0.92, 0.3]),
            "utility_available": False,
            "generators_online": 3,
            "generator_state": np.repeat([2, 0, 3], [3, 17, 2]).astype(np.int8),
        }
        sim.site_figures = {"bess_soc": 0.25, "bess_power_kw": 8000.0}

    change(load)
    busways = canvas.busways.colors
    assert busways[0, 1] > busways[0, 0] + 0.1  # green well within the rating
    assert busways[1, 0] > busways[1, 1] > busways[1, 2]  # amber near it
    np.testing.assert_allclose(busways[2], OVERLOADED)  # red above it
    _assert_all(busways[3:], busways[0])
    assert np.array_equal(canvas.busways.node.instance_colors.rgba, busways)

    boxes = canvas.substation.boxes
    assert np.array_equal(boxes.node.instance_colors.rgba, boxes.colors)  # as sent
    rooms = boxes.group_colors("hall_transformers")
    ups = boxes.group_colors("hall_ups")
    np.testing.assert_allclose(rooms[1], OVERLOADED)
    assert rooms[0, 1] > rooms[0, 0] and ups[0, 0] > ups[0, 1] > ups[0, 2]
    assert np.allclose(boxes.group_colors("feed"), LINE_DEAD)
    generators = boxes.group_colors("generators")
    assert not np.allclose(generators[2], generators[3])  # running, off
    assert not np.allclose(generators[21], generators[3])  # failed, off
    assert not np.allclose(generators[21], generators[2])
    # the state-of-charge bars: a quarter charged, the rest of the bar empty
    charged = boxes.group_transforms("charge")[:, 0, 0]
    empty = boxes.group_transforms("charge_track")[:, 0, 0]
    np.testing.assert_allclose(charged / (charged + empty), 0.25, atol=1e-4)
    assert np.array_equal(boxes.node.instance_transforms, boxes.transforms)

    change(lambda sim: setattr(sim, "power", {"utility_available": True}))
    assert np.allclose(boxes.group_colors("feed"), LINE_LIVE)
    assert np.array_equal(boxes.node.instance_colors.rgba, boxes.colors)


def test_layers_hide_the_hydraulic_and_electrical_visuals(plant_window):
    window, _, change = plant_window
    canvas = window.canvas
    piping = canvas.piping
    main = int(np.argmax(np.linalg.norm(piping.end_m - piping.start_m, axis=1)))
    point = _between_dots(piping, main)
    _look_at(canvas, point)
    shown = pixel_at(canvas, canvas.render(), point)
    np.testing.assert_allclose(shown, 255 * piping.colors[main, :3], atol=25)

    canvas.set_layer_visible("hydraulic", False)
    for adapter in (canvas.piping, canvas.yard, canvas.cdus):
        assert not adapter.root.visible
    assert all(node.parent is piping.root for node in (piping.dots, *piping.nodes.values()))
    hidden = pixel_at(canvas, canvas.render(), point)
    assert np.abs(hidden - shown).max() > 40
    positions = piping.dot_positions.copy()
    change()  # a hidden layer sends nothing to the GPU
    assert np.array_equal(piping.dot_positions, positions)

    canvas.set_layer_visible("hydraulic", True)
    assert np.abs(pixel_at(canvas, canvas.render(), _between_dots(piping, main)) - shown).max() < 25
    canvas.set_layer_visible("electrical", False)
    assert not canvas.busways.root.visible and not canvas.substation.root.visible
    assert canvas.piping.root.visible


def test_the_hall_view_shows_pipes_and_busways_over_the_racks(plant_window):
    window, _, _ = plant_window
    canvas, piping = window.canvas, window.canvas.piping
    canvas.go_to(window.topology.hall_names[0], animate=False)
    image = canvas.render()
    assert image.reshape(-1, image.shape[2]).std(axis=0).max() > 10  # not one flat colour
    busway = canvas.busways._boxes
    top = busway.center_m[4].copy()
    top[2] = busway.upper_m[4, 2]
    np.testing.assert_allclose(
        pixel_at(canvas, image, top), 255 * canvas.busways.colors[4, :3], atol=25
    )
    # the return line over the racks of CDU 4 (the higher of its two lines)
    length = np.linalg.norm(piping.end_m - piping.start_m, axis=1)
    header = int(np.argmax(np.where((piping.cdu == 4) & piping.is_return, length, 0.0)))
    np.testing.assert_allclose(
        pixel_at(canvas, image, _between_dots(piping, header)),
        255 * piping.colors[header, :3],
        atol=25,
    )


def test_theme_recolours_the_empty_charge_bars(plant_window):
    window, _, _ = plant_window
    boxes = window.canvas.substation.boxes
    window.set_theme("light")
    light = boxes.group_colors("charge_track")[0].copy()
    window.set_theme("dark")
    assert boxes.group_colors("charge_track")[0, :3].sum() < light[:3].sum() - 0.3


def test_the_canvas_picks_every_kind_of_equipment(plant_window):
    from twin.gui.objects import Selection

    window, _, _ = plant_window
    canvas = window.canvas
    layout = window.layout_
    down = np.array([0.0, 0.0, -1.0])

    def above(boxes, index):
        return np.array([*boxes.center_m[index, :2], 50.0])

    assert canvas.pick_ray(above(layout.cdus, 7), down) == Selection("cdu", 7)
    assert canvas.pick_ray(above(layout.dry_coolers, 4), down) == Selection("dry-coolers", 0)
    assert canvas.pick_ray(above(layout.chillers, 1), down) == Selection("chillers", 0)
    assert canvas.pick_ray(above(layout.bess, 2), down) == Selection("bess", 0)
    assert canvas.pick_ray(above(layout.electrical_rooms, 1), down) == Selection("hall", 1)
    assert canvas.pick_ray(above(layout.generators, 9), down) == Selection("generator", 0)
    assert canvas.pick_ray(above(layout.racks, 11), down) == Selection("rack", 11)
    assert canvas.pick_ray(np.array([0.0, 0.0, 50.0]), np.array([0.0, 0.0, 1.0])) is None


def test_box_faces_are_wound_anticlockwise_seen_from_outside():
    """Opaque boxes cull back faces: a face wound the other way would vanish."""
    from twin.gui._vispy.geometry import UNIT_CUBE

    vertices, faces, _ = UNIT_CUBE
    triangles = vertices[faces]
    normals = np.cross(triangles[:, 1] - triangles[:, 0], triangles[:, 2] - triangles[:, 0])
    assert np.all(np.einsum("ij,ij->i", normals, triangles.mean(axis=1)) > 0)
