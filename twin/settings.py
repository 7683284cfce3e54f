"""Per-user settings of the window: theme, display units, language, anti-aliasing, last
scenario, speed, window layout.

Kept as JSON in the platform's per-user configuration folder (platformdirs: on Linux
``$XDG_CONFIG_HOME/twin``, else ``~/.config/twin``). A file that cannot be read or does
not match the schema is never fatal: it is moved aside (``settings.json.broken``), the
defaults are used, and the caller gets a message to show.
"""

from __future__ import annotations

import os
from pathlib import Path

from pydantic import BaseModel, ConfigDict, Field, ValidationError

from twin import inputs
from twin.paths import config_dir

SETTINGS_FILE = "settings.json"
MAX_SETTINGS_BYTES = 1024 * 1024  # the window's saved layout is a few kB


class Settings(BaseModel):
    model_config = ConfigDict(extra="forbid")

    theme: str = Field("dark", pattern="^(dark|light)$")
    units: str = Field("SI", pattern="^(SI|US customary)$")  # twin.gui.units.UnitSystem
    language: str = Field("en", pattern="^(en|ko)$")  # twin.gui._qt.language.LANGUAGES
    # the trend plots collapsed to their headers, by key (twin.gui.trend_history.SITE_PLOTS)
    trends_collapsed: list[str] = Field(default_factory=list, max_length=64)
    last_scenario: str | None = None  # a built-in name or a file path
    # real-time factor; None: as fast as possible
    speed: float | None = Field(60.0, gt=0, allow_inf_nan=False)
    # FXAA in the 3D view: auto (on for a hardware renderer), on or off (twin.gui._vispy.post)
    antialiasing: str = Field("auto", pattern="^(auto|on|off)$")
    window_geometry: str | None = None  # Qt's saveGeometry, base64
    window_state: str | None = None  # Qt's saveState (docks, toolbars), base64


def settings_path() -> Path:
    return config_dir() / SETTINGS_FILE


def load_settings(path: Path | None = None) -> tuple[Settings, str | None]:
    """The saved settings, or the defaults and a message saying why they were not used.

    A file that cannot be used is moved aside under a name not yet taken
    (``settings.json.broken``, then ``settings.json.broken-2``...), so that no earlier
    broken file is overwritten."""
    path = path or settings_path()
    if not path.exists() and not path.is_symlink():
        return Settings(), None
    try:
        data = inputs.parse_json(inputs.read_text(path, MAX_SETTINGS_BYTES))
        return Settings.model_validate(data), None
    except (inputs.InputFileError, ValidationError) as exc:
        reason = _first_line(exc)
    except RecursionError:  # pydantic on values nested deeper than the JSON parser stopped
        reason = "its values nest too deeply"
    kept = _move_aside(path)
    return (
        Settings(),
        f"the settings file {path} could not be used ({reason}){kept}; the defaults are in use",
    )


def _move_aside(path: Path) -> str:
    for n in range(1, 100):
        broken = path.with_name(path.name + (".broken" if n == 1 else f".broken-{n}"))
        if broken.exists() or broken.is_symlink():
            continue
        try:
            os.rename(path, broken)
        except OSError as exc:
            return f"; it could not be moved aside ({exc.strerror or exc})"
        return f"; it was kept as {broken}"
    return "; it was left in place (too many broken settings files beside it)"


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
