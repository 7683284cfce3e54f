"""The shadow window's inspector shows an object's measured points beside the model, from a
real twin plant on a real Mosquitto broker."""

from __future__ import annotations

import pytest

from tests.exchange.conftest import THREE_CDU
from twin.exchange.broker import broker_settings
from twin.scenario import load

pytestmark = pytest.mark.gui


def _number(text: str) -> float:
    return float(text.split()[0].replace(",", ""))


def test_inspector_shows_measured_beside_modelled(broker, processes, tmp_path, qtbot, qapp):
    import vispy

    from twin.exchange.window import ShadowConnection
    from twin.gui._qt.main_window import MainWindow
    from twin.gui.objects import Selection

    vispy.use(app="pyside6", gl="gl+")
    log = tmp_path / "plant.log"
    connection = ShadowConnection(
        broker_settings(broker.url, client_id="test-inspector", environ={}, credentials_file=None),
        log=(tmp_path / "shadow.log").open("w"),
    )
    scenario = load(THREE_CDU)
    simulation = connection.simulation(scenario)
    window = MainWindow(
        scenario,
        simulation,
        alarms=connection.alarms(scenario, simulation),
        connection=connection.status,
        speed=None,
    )
    failures: list[str] = []
    window.runner.failed.connect(failures.append)
    try:
        window.show()
        qtbot.waitExposed(window)
        inspector = window.inspector
        # values are not retained: the plant starts once the shadow listens
        qtbot.waitUntil(connection.link.connected.is_set, timeout=60_000)
        plant = processes.twin(
            "plant",
            "--scenario",
            str(THREE_CDU),
            "--broker",
            broker.url,
            "--speed",
            "max",
            "--duration",
            "10min",
            log=log,
        )
        window.canvas.select(Selection("cdu", 1))
        assert inspector.title.text() == "L-CDU-02"
        flow = "LiquidFlow Secondary"
        qtbot.waitUntil(
            lambda: (
                flow in inspector.measured_rows
                and inspector.measured_rows[flow][0].text().endswith("LPM")
                and inspector.measured_rows[flow][1].text().endswith("LPM")
            ),
            timeout=300_000,
        )
        assert not inspector._measured_box.isHidden()
        assert inspector._measured_box.title().startswith("Plant beside model at ")
        assert set(inspector.measured_rows) == {
            "LiquidTemperature Secondary Supply",
            "LiquidTemperature Secondary Return",
            "LiquidFlow Secondary",
            "LiquidDifferentialPressure Secondary",
            "PumpSpeed Secondary",
            "ValvePosition Primary",
        }
        measured, model, difference, _ = (label.text() for label in inspector.measured_rows[flow])
        assert _number(difference) == pytest.approx(_number(measured) - _number(model), abs=0.11)
        assert 100 < _number(measured) < 300  # the CDU's secondary flow, L/min
        # the trends show the plant's values beside the model's, in the model's units
        trends = window.trends
        plant_series = {
            label: unit
            for label, unit, _ in trends._selection_series
            if label.startswith("plant: ")
        }
        assert plant_series["plant: LiquidFlow Secondary"] == "L/min"
        assert plant_series["plant: LiquidTemperature Secondary Supply"] == "°C"
        flow_row = [label for label, _, _ in trends._selection_series].index(
            "plant: LiquidFlow Secondary"
        )

        def trended_flow() -> float:
            ring = trends.selection_history.rings[0]
            last = (
                trends.selection_history.at(ring, ring.x[ring.ordered(), 0][-1])
                if ring.count
                else None
            )
            return float("nan") if last is None else float(last[2][flow_row])

        qtbot.waitUntil(lambda: 100 < trended_flow() < 300, timeout=60_000)
        # after the estimation's warm-up, the CDU's tracked drift quantities with bands
        qtbot.waitUntil(
            lambda: (
                "exchanger_ua" in inspector.tracked_rows
                and inspector.tracked_rows["exchanger_ua"][0].text() != ""
            ),
            timeout=300_000,
        )
        assert not inspector._tracked_box.isHidden()
        assert {"series_resistance", "exchanger_ua"} <= set(inspector.tracked_rows)
        tracked, design, alarm = (label.text() for label in inspector.tracked_rows["exchanger_ua"])
        assert tracked.split()[1] == "kW/K" and design.endswith("kW/K")
        # a healthy plant: the tracked UA near its design value, inside its band, no alarm
        value, low, high = (
            float(t)
            for t in tracked.replace("(", "")
            .replace(")", "")
            .replace("..", " ")
            .replace("kW/K", " ")
            .split()
        )
        assert low <= value <= high and abs(value / _number(design) - 1) < 0.1
        assert alarm == ""
        # a rack shows its own points; an object the plant measures nothing of shows none
        window.canvas.select(Selection("rack", 1))
        qtbot.waitUntil(lambda: "RackLiquidFlow" in inspector.measured_rows, timeout=30_000)
        assert "RackPower" not in inspector.measured_rows  # it drives the model
        window.canvas.select(Selection("chillers", 0))
        qtbot.waitUntil(lambda: inspector.title.text() != "R02-01", timeout=30_000)
        assert inspector.measured_rows == {} and inspector._measured_box.isHidden()
        assert plant.wait(300) == 0, log.read_text()
        assert failures == []
    finally:
        window.close()
        qtbot.waitUntil(lambda: not window.runner.running, timeout=30_000)
        window.deleteLater()
        connection.link.stop()


def test_the_shadow_window_colours_racks_by_plant_less_model(
    broker, processes, tmp_path, qtbot, qapp
):
    import numpy as np
    import vispy

    from twin.exchange.window import ShadowConnection
    from twin.gui._qt.main_window import MainWindow
    from twin.gui.colors import NO_DATA_RGBA

    vispy.use(app="pyside6", gl="gl+")
    log = tmp_path / "plant.log"
    connection = ShadowConnection(
        broker_settings(broker.url, client_id="test-residual", environ={}, credentials_file=None),
        log=(tmp_path / "shadow.log").open("w"),
    )
    scenario = load(THREE_CDU)
    simulation = connection.simulation(scenario)
    window = MainWindow(
        scenario,
        simulation,
        alarms=connection.alarms(scenario, simulation),
        connection=connection.status,
        speed=None,
    )
    try:
        window.show()
        qtbot.waitExposed(window)
        combo = window.color_panel.combo
        key = "residual:rack.return_temp_c"
        assert combo.findData(key) >= 0 and combo.findData("residual:rack.flow_lpm") >= 0
        combo.setCurrentIndex(combo.findData(key))
        assert window.canvas.racks.field.key == key
        field = window.canvas.racks.field
        # before the plant's first evaluation every rack is "not compared", drawn grey
        assert np.isnan(simulation.rack_residuals("rack.return_temp_c")).all()
        assert (field.colorize(None) == NO_DATA_RGBA).all()
        assert [label for _, label in window.color_panel.bar.extra_swatches()] == [
            "tripped",
            "not compared",
        ]
        qtbot.waitUntil(connection.link.connected.is_set, timeout=60_000)
        plant = processes.twin(
            "plant",
            "--scenario",
            str(THREE_CDU),
            "--broker",
            broker.url,
            "--speed",
            "max",
            "--duration",
            "10min",
            log=log,
        )
        qtbot.waitUntil(
            lambda: np.isfinite(simulation.rack_residuals("rack.return_temp_c")).all(),
            timeout=300_000,
        )
        # the plant runs the shadow's own scenario: they agree within the sensors' noise
        assert np.abs(simulation.rack_residuals("rack.return_temp_c")).max() < 1.0
        name = window.topology.rack_name(0)
        rack_point = next(
            i
            for i, p in enumerate(simulation.shadow.points)
            if p.quantity == "rack.return_temp_c" and p.component == name
        )

        def first_rack_is_its_point() -> bool:  # read within one evaluation
            comparison = simulation.shadow.comparison
            residual = simulation.rack_residuals("rack.return_temp_c")
            return simulation.shadow.comparison is comparison and residual[0] == (
                comparison.measured[rack_point] - comparison.modelled[rack_point]
            )

        qtbot.waitUntil(first_rack_is_its_point, timeout=30_000)
        colours = field.colorize(None)
        assert not (colours == NO_DATA_RGBA).all(axis=1).any()
        assert plant.wait(300) == 0, log.read_text()
    finally:
        window.close()
        qtbot.waitUntil(lambda: not window.runner.running, timeout=30_000)
        window.deleteLater()
        connection.link.stop()
