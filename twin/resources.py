"""Where twin finds the files it ships (scenarios, stories, fonts, translations, icons)."""

from __future__ import annotations

import os
import sys
from pathlib import Path

RESOURCES_ENV = "TWIN_RESOURCES"


def resource_dir() -> Path:
    """The resources folder: $TWIN_RESOURCES, a frozen bundle's, the source tree's, or installed."""
    override = os.environ.get(RESOURCES_ENV)
    if override:
        return Path(override)
    bundle = getattr(sys, "_MEIPASS", None)
    if bundle:
        return Path(bundle) / "resources"
    source_tree = Path(__file__).resolve().parent.parent / "resources"
    if source_tree.is_dir():
        return source_tree
    return Path(sys.prefix) / "share" / "twin" / "resources"
