"""The window on the DSX Exchange bus, in process on a real Mosquitto broker: the run's
observer publishes what the window runs, and a fault injected from the window shows in the
published values."""

from __future__ import annotations

import json
import queue

import pytest

from tests.exchange.conftest import THREE_CDU
from twin.exchange.broker import MqttLink, broker_settings
from twin.scenario import load

pytestmark = pytest.mark.gui


def _new_messages(link: MqttLink) -> list[tuple[str, dict]]:
    """What the subscriber received since the last call (never waits)."""
    taken = []
    while True:
        try:
            topic, payload, _ = link.inbox.get_nowait()
        except queue.Empty:
            return taken
        taken.append((topic, json.loads(payload)))


def test_plant_window_publishes_its_run_through_the_observer(broker, qtbot, qapp):
    import vispy

    from twin.alarms import AlarmEngine
    from twin.exchange.window import PlantConnection
    from twin.gui._qt.main_window import MainWindow
    from twin.scenario.schema import CoolantLeak
    from twin.sim.engine import Simulation

    vispy.use(app="pyside6", gl="gl+")
    subscriber = MqttLink(
        broker_settings(
            broker.url, client_id="test-window-subscriber", environ={}, credentials_file=None
        ),
        subscriptions=("BMS/v1/PUB/Value/#",),
        name="test",
    )
    subscriber.start()
    assert subscriber.wait_connected(30)
    connection = PlantConnection(
        broker_settings(
            broker.url, client_id="test-plant-window", environ={}, credentials_file=None
        )
    )
    scenario = load(THREE_CDU)
    simulation = Simulation.from_scenario(scenario)
    window = MainWindow(
        scenario,
        simulation,
        alarms=AlarmEngine.from_scenario(scenario),
        observers=connection.observers(scenario, simulation),
        connection=connection.status,
        speed=None,
    )
    try:
        window.show()
        qtbot.waitExposed(window)
        qtbot.waitUntil(
            lambda: any(
                "/Rack/RackPower/" in topic and reading["quality"] == 1
                for topic, reading in _new_messages(subscriber)
            ),
            timeout=120_000,
        )
        qtbot.waitUntil(
            lambda: window.connection_label.text().endswith(": connected"), timeout=30_000
        )
        window.inject(
            lambda time_s: CoolantLeak(
                at_s=time_s, kind="coolant-leak", target="L-CDU-01", rate_lpm=1.0
            )
        )
        qtbot.waitUntil(
            lambda: any(
                "/CDU/LeakDetect/" in topic and "L-CDU-01" in topic and reading["value"] == 1
                for topic, reading in _new_messages(subscriber)
            ),
            timeout=120_000,
        )
    finally:
        window.close()
        qtbot.waitUntil(lambda: not window.runner.running, timeout=30_000)
        window.deleteLater()
        connection.link.stop()
        subscriber.stop()


def test_shadow_window_lists_the_shadows_alarms_and_the_lost_broker(
    broker, processes, tmp_path, qtbot, qapp
):
    import vispy

    from twin.exchange.window import ShadowConnection
    from twin.gui._qt.main_window import MainWindow

    vispy.use(app="pyside6", gl="gl+")
    log = tmp_path / "plant.log"
    connection = ShadowConnection(
        broker_settings(
            broker.url, client_id="test-shadow-window", environ={}, credentials_file=None
        ),
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

    def active_tags() -> set[str]:
        summary = window.runner.latest().alarms
        return {a.key.tag for a in summary.alarms if a.active} if summary else set()

    try:
        window.show()
        qtbot.waitExposed(window)
        assert {p.tag for p in window.alarm_engine.points} >= {
            "shadow.disconnected",
            "shadow.stale_points",
            "shadow.cdu_divergence",
        }
        # the plant's values are not retained: it starts once the shadow has subscribed
        assert connection.link.wait_connected(60)
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

        def model_time_s() -> float:
            snapshot = window.runner.latest().snapshot
            return -1.0 if snapshot is None else snapshot.time_s

        try:
            qtbot.waitUntil(lambda: model_time_s() >= 120, timeout=300_000)
        except qtbot.TimeoutError:
            shadow = simulation.shadow
            pytest.fail(
                f"the shadow's model reached {model_time_s()} s of the plant's "
                f"{shadow.plant_s} s; {shadow.status.text()}; plant exit "
                f"{plant.poll()}: {log.read_text()[-2000:]}"
            )
        qtbot.waitUntil(
            lambda: window.connection_label.text().endswith(": connected"), timeout=30_000
        )
        assert "shadow.disconnected" not in active_tags()
        assert plant.wait(300) == 0, log.read_text()
        broker.stop()
        qtbot.waitUntil(lambda: "shadow.disconnected" in active_tags(), timeout=120_000)
        qtbot.waitUntil(lambda: "not connected" in window.connection_label.text(), timeout=30_000)
    finally:
        window.close()
        qtbot.waitUntil(lambda: not window.runner.running, timeout=30_000)
        window.deleteLater()
        connection.link.stop()
