"""The window as users start it: `twin gui` with its smoke-test options, and switching
scenarios from the window."""

from __future__ import annotations

import json
import os
import subprocess
import sys

import numpy as np
import pytest

pytestmark = pytest.mark.gui


def test_twin_gui_exits_after_a_while_with_a_screenshot_and_a_json_line(tmp_path):
    shot = tmp_path / "shot.png"
    done = subprocess.run(
        [
            sys.executable,
            "-m",
            "twin",
            "gui",
            "--scenario",
            "single-rack",
            "--exit-after",
            "4",
            "--screenshot",
            str(shot),
        ],
        capture_output=True,
        text=True,
        timeout=120,
        env=os.environ.copy(),
    )
    assert done.returncode == 0, done.stderr
    report = json.loads(done.stdout.strip().splitlines()[-1])
    assert report["scenario"] == "single-rack"
    assert report["frames_drawn"] > 0 and report["fps"] > 0
    assert report["simulated_s"] > 0  # the real simulation ran
    from PySide6.QtGui import QImage

    image = QImage(str(shot))
    assert image.width() > 600 and image.height() > 400
    pixels = np.array(
        [
            image.pixelColor(x, y).lightness()
            for x in range(0, image.width(), 37)
            for y in range(0, image.height(), 23)
        ]
    )
    assert pixels.std() > 5  # drawn, not one flat colour


def test_opening_a_bad_scenario_reports_it_and_keeps_the_window(make_window, qtbot, tmp_path):
    window = make_window("single-rack", running=False)
    chosen = []
    window.scenario_chosen.connect(lambda scenario, source: chosen.append((scenario, source)))
    broken = tmp_path / "broken.toml"
    broken.write_text("[scenario]\nname = 'x'\n[site\n")
    assert not window.open_scenario(broken)
    assert chosen == []
    assert "Scenario not opened" in window.statusBar().currentMessage()
    assert window.open_scenario("single-rack")
    assert chosen[0][0].scenario.name == "single-rack" and chosen[0][1] == "single-rack"
    from PySide6.QtWidgets import QMessageBox

    for box in window.findChildren(QMessageBox):
        box.close()


def test_the_window_saves_and_restores_theme_scenario_speed_and_layout(
    make_window, qtbot, tmp_path, monkeypatch
):
    from twin.settings import Settings, load_settings

    monkeypatch.setenv("XDG_CONFIG_HOME", str(tmp_path))
    settings = Settings()
    window = make_window(
        "single-rack", running=False, settings=settings, source="single-rack", speed=600.0
    )
    window.set_theme("light")
    window.resize(1111, 777)
    window.close()
    saved, problem = load_settings()
    assert problem is None
    assert (saved.theme, saved.last_scenario, saved.speed) == ("light", "single-rack", 600.0)
    assert saved.window_geometry and saved.window_state

    again = make_window(
        "single-rack",
        running=False,
        settings=saved,
        source="single-rack",
        theme=saved.theme,
        speed=saved.speed,
    )
    assert again.width() == 1111 and again.height() == 777
    assert again.time_controls.speed.currentData() == 600.0
    again.set_theme("dark")


def test_about_names_the_version_and_the_licences(make_window):
    from twin import __version__

    window = make_window("single-rack", running=False)
    box = window.show_about()
    assert f"twin {__version__}" in box.text()
    assert "pyqtgraph" in box.text() and "MIT" in box.text() and "vispy" in box.text()
    box.close()


def test_a_recording_plays_back_in_the_window_and_the_bar_scrubs_it(make_window, qtbot, tmp_path):
    from twin.runs.output import run_headless
    from twin.runs.recording import Recording
    from twin.runs.replay import ReplaySimulation
    from twin.scenario import builtin_scenarios, load

    scenario = load("single-rack")
    run = tmp_path / "site.csv"
    recording_path = tmp_path / "run.twinrec"
    assert (
        run_headless(
            scenario,
            duration_s=1800,
            dt_s=1.0,
            every_steps=60,
            out=run,
            record=recording_path,
            record_every_s=10.0,
            progress=None,
            scenario_toml=builtin_scenarios()["single-rack"].read_text(),
        )
        == 0
    )
    recording = Recording.open(recording_path)
    window = make_window(
        "single-rack", simulation=ReplaySimulation(recording), speed=60.0, running=False
    )
    qtbot.waitUntil(lambda: window.snapshot is not None, timeout=30_000)
    bar = window.replay_bar
    assert bar is not None and bar.isVisible()
    target = 1200.0
    bar.seek_requested.emit(target)
    qtbot.waitUntil(lambda: window.snapshot.time_s == target, timeout=30_000)
    expected = recording.snapshot(recording.index_at(target))
    assert window.snapshot.site["it_power_kw"] == expected.site["it_power_kw"]
    # the read-outs follow the snapshots a few times a second
    qtbot.waitUntil(
        lambda: "20min" in bar._label.text() or "1200" in bar._label.text(), timeout=30_000
    )
