"""The main window draws the site, follows snapshots, picks racks and switches colours."""

from __future__ import annotations

import dataclasses
import time

import numpy as np
import pytest

from tests.fakes import FakeSimulation, scenario_named

pytestmark = pytest.mark.gui


def _rack_pixel(window, rack: int) -> tuple[np.ndarray, tuple[int, int]]:
    """The rendered colour at the centre of a rack's top face, and where that is."""
    canvas = window.canvas
    top = canvas.racks._boxes.center_m[rack].copy()
    top[2] = canvas.racks._boxes.upper_m[rack, 2]
    x, y = canvas.screen_position(top)
    image = canvas.render()
    scale = image.shape[1] / canvas.canvas.size[0]  # physical over logical pixels
    return image[int(y * scale), int(x * scale), :3].astype(int), (int(x), int(y))


def _show_hall(window) -> None:
    window.canvas.go_to(window.topology.hall_names[0], animate=False)


def test_window_draws_the_site_and_rack_colours_follow_gpu_temperatures(make_window, qtbot):
    simulation = FakeSimulation(scenario_named("seoul-ai-factory"))
    window = make_window(simulation=simulation, running=False)
    qtbot.waitUntil(lambda: window.snapshot is not None, timeout=30_000)
    _show_hall(window)
    image = window.canvas.render()
    assert image.reshape(-1, image.shape[2]).std(axis=0).max() > 10  # not one flat colour
    rack = 20
    before, _ = _rack_pixel(window, rack)

    def heat(sim):
        sim.gpu_temp_c = np.full(sim.topology.rack_count, 95.0)

    generation = window.shown_generation
    window.runner.call(heat)
    qtbot.waitUntil(lambda: window.shown_generation > generation, timeout=30_000)
    after, _ = _rack_pixel(window, rack)
    assert window.snapshot.racks.gpu_temp_c[rack] == 95.0
    assert after[0] > before[0] + 30 and after[2] < before[2]  # bluer to redder
    qtbot.waitUntil(lambda: "95.0 °C" in window.kpis.values["gpu"].text(), timeout=30_000)


def test_panels_show_the_last_snapshot_of_a_burst(make_window, qtbot):
    """Panels follow at a few hertz, but the newest snapshot always reaches them."""
    simulation = FakeSimulation(scenario_named("seoul-ai-factory"))
    window = make_window(simulation=simulation, running=False)
    qtbot.waitUntil(lambda: window.snapshot is not None, timeout=30_000)
    burst = []
    for temp_c in (70.0, 80.0, 91.5):
        simulation.gpu_temp_c = np.full(simulation.topology.rack_count, temp_c)
        simulation.step()
        burst.append(simulation.snapshot())
    for snapshot in burst:
        window.show_frame(dataclasses.replace(window.frame, snapshot=snapshot))
    assert window.snapshot is burst[-1]
    # a first paint of new label glyphs can hold the event loop for seconds on a loaded machine
    qtbot.waitUntil(lambda: "91.5 °C" in window.kpis.values["gpu"].text(), timeout=30_000)
    qtbot.wait(300)  # a held-back older snapshot must not overwrite it
    assert "91.5 °C" in window.kpis.values["gpu"].text()


def test_clicking_a_rack_selects_it_and_fills_the_inspector(make_window, qtbot):
    from PySide6.QtCore import QPoint, Qt

    from twin.gui.objects import Selection

    window = make_window(running=False)
    qtbot.waitUntil(lambda: window.snapshot is not None, timeout=30_000)
    _show_hall(window)
    rack = 37
    _, (x, y) = _rack_pixel(window, rack)
    assert window.canvas.pick((x, y)) == Selection("rack", rack)
    qtbot.mouseClick(window.canvas.canvas.native, Qt.MouseButton.LeftButton, pos=QPoint(x, y))
    qtbot.waitUntil(lambda: window.inspector.selection == Selection("rack", rack), timeout=30_000)
    assert window.canvas.selected == Selection("rack", rack)
    assert window.canvas.selection.tag.text == window.topology.rack_name(rack)
    assert window.inspector.title.text() == window.topology.rack_name(rack)
    qtbot.waitUntil(
        lambda: window.inspector.values["GPU temperature"].text().endswith("°C"), timeout=30_000
    )
    # a click on empty ground clears the selection
    window.canvas.select(window.canvas.pick((2, 2)))
    assert window.inspector.selection is None
    assert not window.canvas.selection.root.visible


def test_colour_field_selector_recolours_the_racks_and_its_legend(make_window, qtbot):
    window = make_window(running=False)
    qtbot.waitUntil(lambda: window.snapshot is not None, timeout=30_000)
    _show_hall(window)
    by_temperature = window.canvas.racks.colors.copy()
    image_before = window.canvas.render()
    combo = window.color_panel.combo
    combo.setCurrentIndex(combo.findData("utilization"))
    assert window.canvas.racks.field.key == "utilization"
    assert window.color_panel.bar.field.unit == "%"
    by_utilization = window.canvas.racks.colors
    assert not np.allclose(by_temperature, by_utilization)
    # every rack is at the same utilization in the test double: one colour for all
    assert np.allclose(by_utilization, by_utilization[0])
    assert not np.array_equal(window.canvas.render(), image_before)


def test_the_legend_shows_one_tripped_swatch_whatever_the_field(make_window, qtbot):
    from PySide6.QtGui import QColor

    from twin.gui.colors import TRIPPED_RGBA

    window = make_window(running=False)
    bar, combo = window.color_panel.bar, window.color_panel.combo
    tripped = QColor.fromRgbF(*(float(c) for c in TRIPPED_RGBA))

    def tripped_pixels() -> int:
        image = bar.grab().toImage()
        target = np.array([tripped.red(), tripped.green(), tripped.blue()])
        colors = np.array(
            [
                image.pixelColor(x, y).getRgb()[:3]
                for x in range(image.width())
                for y in range(image.height())
            ]
        )
        return int(np.sum(np.abs(colors - target).max(axis=1) <= 3))

    combo.setCurrentIndex(combo.findData("utilization"))
    assert [label for _, label in bar.extra_swatches()] == ["tripped"]
    alone = tripped_pixels()
    combo.setCurrentIndex(combo.findData("state"))  # "tripped" is one of its categories
    assert bar.extra_swatches() == []
    assert alone > 50 and 0.5 * alone < tripped_pixels() < 1.5 * alone  # one swatch, not two


def test_tripped_racks_stand_out_in_every_field(make_window, qtbot):
    from twin.gui.colors import TRIPPED_RGBA

    simulation = FakeSimulation(scenario_named("seoul-ai-factory"))
    simulation.tripped[5] = True
    window = make_window(simulation=simulation, running=False)
    qtbot.waitUntil(lambda: window.snapshot is not None, timeout=30_000)
    for key in ("gpu_temp", "power", "state"):
        window.canvas.set_color_field(key)
        np.testing.assert_allclose(window.canvas.racks.colors[5], TRIPPED_RGBA)
        assert not np.allclose(window.canvas.racks.colors[6], TRIPPED_RGBA)


def test_viewpoints_fly_the_camera_smoothly(make_window, qtbot):
    window = make_window(running=False)
    qtbot.waitUntil(lambda: window.snapshot is not None, timeout=30_000)
    canvas = window.canvas
    canvas.render()
    start = canvas.current_viewpoint()
    target = canvas.viewpoints["yard"]
    path = []
    canvas._timer.events.timeout.connect(lambda _e: path.append(canvas.current_viewpoint()))
    canvas.go_to("yard")
    qtbot.waitUntil(lambda: canvas._transition is None, timeout=30_000)
    np.testing.assert_allclose(canvas.current_viewpoint().center, target.center)
    assert canvas.current_viewpoint().distance == pytest.approx(target.distance)
    between = [
        v.distance
        for v in path
        if min(start.distance, target.distance) < v.distance < max(start.distance, target.distance)
    ]
    assert between, "the camera jumped instead of flying"
    assert between == sorted(between, reverse=start.distance > target.distance)


def test_time_controls_pause_step_and_show_the_status(make_window, qtbot):
    simulation = FakeSimulation(scenario_named("single-rack"))
    window = make_window("single-rack", simulation=simulation, speed=None, running=True)
    qtbot.waitUntil(lambda: simulation.steps > 5, timeout=30_000)
    window.time_controls.play_button.click()  # pause
    assert window.runner.paused
    qtbot.waitUntil(lambda: window.runner.stats().paused, timeout=30_000)
    steps = simulation.steps
    window.time_controls.step_button.click()
    qtbot.waitUntil(lambda: simulation.steps == steps + 1, timeout=30_000)
    qtbot.wait(100)
    assert simulation.steps == steps + 1
    window._update_status()
    assert window.sim_label.text() == "simulation paused"
    assert window.fps_label.text().startswith("render ")


def test_theme_switch_recolours_the_scene(make_window):
    window = make_window(running=False)
    window.set_theme("light")
    light = window.canvas.render()[2, 2]
    window.set_theme("dark")
    dark = window.canvas.render()[2, 2]
    assert light[:3].sum() > dark[:3].sum() + 200


@pytest.mark.parametrize("name", ["single-rack", "seoul-ai-factory", "gigawatt"])
def test_window_runs_the_real_simulation_of_each_built_in_scenario(make_window, qtbot, name):
    from twin.sim.engine import Simulation

    simulation = Simulation.from_scenario(scenario_named(name))
    window = make_window(name, simulation=simulation, speed=60.0, running=True)
    qtbot.waitUntil(
        lambda: window.snapshot is not None and window.snapshot.time_s >= 5, timeout=30_000
    )
    assert window.snapshot.site["it_power_kw"] > 0
    assert window.kpis.values["it"].text() not in ("", "—")
    window.set_running(False)
    qtbot.waitUntil(lambda: window.runner.stats().paused, timeout=30_000)
    window.runner.reset()
    # a reset starts from the scenario's start again: the first step after it is shown
    qtbot.waitUntil(lambda: window.snapshot.time_s == simulation.dt_s, timeout=30_000)


def test_a_few_seconds_at_full_speed_raise_nothing_and_keep_the_window_responsive(
    make_window, qtbot
):
    from twin.sim.engine import Simulation

    simulation = Simulation.from_scenario(scenario_named("seoul-ai-factory"))
    window = make_window(simulation=simulation, speed=None, running=True)
    failures = []
    window.runner.failed.connect(failures.append)
    qtbot.waitUntil(lambda: window.snapshot is not None, timeout=30_000)
    frames = window.canvas.frames_drawn
    started = window.snapshot.time_s
    # conditions, not rates: the simulated clock pulls ahead of the wall clock while
    # the GUI thread keeps drawing new frames (how fast either goes is the machine's)
    began = time.monotonic()
    qtbot.waitUntil(lambda: window.canvas.frames_drawn > frames + 5, timeout=60000)
    qtbot.waitUntil(
        lambda: window.snapshot.time_s - started > 10 * (time.monotonic() - began), timeout=60000
    )
    assert failures == []
    window._update_status()
    assert "real time" in window.sim_label.text()


def test_real_time_speed_steps_in_real_time(make_window, qtbot):
    simulation = FakeSimulation(scenario_named("single-rack"), dt_s=1.0)
    window = make_window("single-rack", simulation=simulation, speed=1.0, running=True)
    qtbot.waitUntil(lambda: simulation.steps >= 1, timeout=30_000)

    def steps_per_wall_second(wait_ms: int) -> float:
        start, began = simulation.steps, time.monotonic()
        qtbot.wait(wait_ms)
        return (simulation.steps - start) / (time.monotonic() - began)

    # whole steps only: a window of a few seconds holds a step more or less
    assert 0.5 <= steps_per_wall_second(4000) <= 1.5
    window.runner.set_speed(10.0)
    qtbot.wait(200)
    assert 7.0 <= steps_per_wall_second(3000) <= 13.0


def test_labels_follow_the_first_frame_and_respect_the_labels_layer(make_window, qtbot):
    window = make_window(running=False)
    labels = window.canvas.halls.name_labels
    qtbot.waitUntil(lambda: window.canvas.frames_drawn > 0, timeout=60_000)
    qtbot.waitUntil(lambda: labels.visible, timeout=30_000)
    window.canvas.set_layer_visible("labels", False)
    assert not labels.visible
    window.canvas.set_layer_visible("labels", True)
    assert labels.visible


def test_at_full_speed_the_worker_steps_slower_while_the_user_clicks_or_types(make_window, qtbot):
    from PySide6.QtCore import Qt

    simulation = FakeSimulation(scenario_named("single-rack"), step_delay_s=0.001)
    window = make_window("single-rack", simulation=simulation, speed=None, running=True)
    qtbot.waitUntil(lambda: simulation.steps > 0, timeout=30_000)
    runner = window.runner

    def steps_in(seconds: float, typing: bool) -> int:
        start = simulation.steps
        for _ in range(round(seconds / 0.05)):
            if typing:
                qtbot.keyClick(window.canvas.canvas.native, Qt.Key.Key_Shift)
            qtbot.wait(50)
        return simulation.steps - start

    before = runner._input_until
    qtbot.keyClick(window.canvas.canvas.native, Qt.Key.Key_Shift)
    assert runner._input_until > before  # the window told the runner of the key
    alone, typing = steps_in(1.0, typing=False), steps_in(1.0, typing=True)
    # flat out the worker steps about 1 / 1.3 of the time; it gives way while input comes
    assert typing < 0.3 * alone, (alone, typing)
