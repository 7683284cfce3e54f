"""twin's per-user folders, in one place (platformdirs; the Linux paths in brackets):

- ``config_dir()``: settings (``$XDG_CONFIG_HOME/twin``, else ``~/.config/twin``);
- ``data_dir()``: the user's own scenarios (``$XDG_DATA_HOME/twin``, else
  ``~/.local/share/twin``);
- ``cache_dir()``: what twin can build again, such as the coolant property tables
  (``$XDG_CACHE_HOME/twin``, else ``~/.cache/twin``);
- ``log_dir()``: the kiosk's log (``$XDG_STATE_HOME/twin/log``, else
  ``~/.local/state/twin/log``).

Each is computed when asked for, so that the environment of the moment decides.
"""

from __future__ import annotations

from pathlib import Path

import platformdirs

APP_NAME = "twin"


def config_dir() -> Path:
    return Path(platformdirs.user_config_dir(APP_NAME, appauthor=False))


def data_dir() -> Path:
    return Path(platformdirs.user_data_dir(APP_NAME, appauthor=False))


def cache_dir() -> Path:
    return Path(platformdirs.user_cache_dir(APP_NAME, appauthor=False))


def log_dir() -> Path:
    return Path(platformdirs.user_log_dir(APP_NAME, appauthor=False))
