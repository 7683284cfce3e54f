"""The grid package runs without a GUI toolkit: importing all of it, in a fresh
interpreter, loads none."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent.parent


def test_the_grid_package_imports_no_gui_toolkit() -> None:
    code = (
        "import sys\n"
        "import twin.grid.bill, twin.grid.commands, twin.grid.dr, twin.grid.impact\n"
        "import twin.grid.power_quality, twin.grid.tariff\n"
        "loaded = [m for m in ('PySide6', 'vispy', 'pyqtgraph', 'OpenGL') if m in sys.modules]\n"
        "print(','.join(loaded))\n"
    )
    done = subprocess.run(
        [sys.executable, "-c", code], cwd=REPO, capture_output=True, text=True, check=True
    )
    assert done.stdout.strip() == ""
