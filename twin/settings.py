"""Per-user settings of the window: theme, display units, last scenario, speed, window layout.

Kept as JSON in the platform's per-user configuration folder (platformdirs: on Linux
``$XDG_CONFIG_HOME/twin``, else ``~/.config/twin``). A file that cannot be read or does
not match the schema is never fatal: it is moved aside (``settings.json.broken``), the
defaults are used, and the caller gets a message to show.
"""

from __future__ import annotations

import json
import os
from pathlib import Path

import platformdirs
from pydantic import BaseModel, ConfigDict, Field, ValidationError

SETTINGS_FILE = "settings.json"


class Settings(BaseModel):
    model_config = ConfigDict(extra="forbid")

    theme: str = Field("dark", pattern="^(dark|light)$")
    units: str = Field("SI", pattern="^(SI|US customary)$")  # twin.gui.units.UnitSystem
    last_scenario: str | None = None  # a built-in name or a file path
    speed: float | None = Field(60.0, gt=0)  # real-time factor; None: as fast as possible
    window_geometry: str | None = None  # Qt's saveGeometry, base64
    window_state: str | None = None  # Qt's saveState (docks, toolbars), base64


def settings_path() -> Path:
    return Path(platformdirs.user_config_dir("twin", appauthor=False)) / SETTINGS_FILE


def cache_dir() -> Path:
    """Where twin keeps what it can build again (coolant property tables): the platform's
    per-user cache folder (on Linux ``$XDG_CACHE_HOME/twin``, else ``~/.cache/twin``)."""
    return Path(platformdirs.user_cache_dir("twin", appauthor=False))


def load_settings(path: Path | None = None) -> tuple[Settings, str | None]:
    """The saved settings, or the defaults and a message saying why they were not used."""
    path = path or settings_path()
    if not path.exists():
        return Settings(), None
    try:
        return Settings.model_validate(json.loads(path.read_text(encoding="utf-8"))), None
    except (OSError, UnicodeDecodeError, json.JSONDecodeError, ValidationError) as exc:
        broken = path.with_name(path.name + ".broken")
        try:
            os.replace(path, broken)
            kept = f"; it was kept as {broken}"
        except OSError:
            kept = ""
        reason = _first_line(exc)
        return Settings(), f"the settings file {path} could not be used ({reason}){kept}; " \
            "the defaults are in use"


def save_settings(settings: Settings, path: Path | None = None) -> str | None:
    """Write the settings atomically; returns a message if they could not be written."""
    path = path or settings_path()
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        partial = path.with_name(path.name + ".partial")
        partial.write_text(settings.model_dump_json(indent=2), encoding="utf-8")
        os.replace(partial, path)  # a crash mid-write leaves the previous file whole
    except OSError as exc:
        return f"the settings could not be saved to {path}: {exc.strerror or exc}"
    return None


def _first_line(exc: Exception) -> str:
    if isinstance(exc, ValidationError):
        error = exc.errors()[0]
        where = ".".join(str(part) for part in error["loc"]) or "file"
        return f"{where}: {error['msg']}"
    return str(exc).splitlines()[0] if str(exc) else type(exc).__name__
