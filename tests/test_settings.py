"""Per-user settings: defaults, a round trip, and a broken file that is never fatal."""

from __future__ import annotations

import json

import pytest

from twin.settings import Settings, load_settings, save_settings, settings_path


@pytest.fixture(autouse=True)
def config_home(tmp_path, monkeypatch):
    monkeypatch.setenv("XDG_CONFIG_HOME", str(tmp_path / "config"))
    return tmp_path / "config"


def test_settings_live_in_the_per_user_config_folder(config_home):
    assert settings_path() == config_home / "twin" / "settings.json"


def test_no_file_gives_the_defaults_and_no_message():
    settings, problem = load_settings()
    assert settings == Settings() and problem is None


def test_settings_round_trip():
    saved = Settings(
        theme="light",
        units="US customary",
        antialiasing="off",
        last_scenario="single-rack",
        speed=600.0,
        window_geometry="AdnQywAD",
    )
    assert save_settings(saved) is None
    loaded, problem = load_settings()
    assert problem is None and loaded == saved


def test_a_file_from_before_a_setting_existed_loads_with_its_default():
    path = settings_path()
    path.parent.mkdir(parents=True)
    path.write_text(json.dumps({"theme": "light", "speed": 600.0}), encoding="utf-8")
    settings, problem = load_settings()
    assert problem is None
    assert (settings.theme, settings.speed, settings.units) == ("light", 600.0, "SI")
    assert settings.antialiasing == "auto"


@pytest.mark.parametrize(
    ("content", "reason"),
    [
        ("{not json", "Expecting property name"),
        (json.dumps({"theme": "purple"}), "theme: String should match pattern"),
        (json.dumps({"units": "imperial"}), "units: String should match pattern"),
        (json.dumps({"speed": -1}), "speed: Input should be greater than 0"),
        (json.dumps({"antialiasing": "msaa"}), "antialiasing: String should match pattern"),
        (json.dumps({"colour": "red"}), "colour: Extra inputs are not permitted"),
    ],
)
def test_a_broken_file_is_reported_kept_aside_and_replaced_by_defaults(content, reason):
    path = settings_path()
    path.parent.mkdir(parents=True)
    path.write_text(content, encoding="utf-8")
    settings, problem = load_settings()
    assert settings == Settings()
    assert reason in problem and str(path) in problem and "defaults are in use" in problem
    broken = path.with_name("settings.json.broken")
    assert broken.read_text(encoding="utf-8") == content  # the user's file is not lost
    assert not path.exists()
    assert save_settings(settings) is None and load_settings() == (settings, None)


def test_an_unwritable_folder_is_reported(tmp_path):
    blocker = tmp_path / "file"
    blocker.write_text("x")
    problem = save_settings(Settings(), blocker / "twin" / "settings.json")
    assert problem is not None and "could not be saved" in problem
