"""The import contracts: the layers, and no GUI toolkit below the GUI.

The contracts are the ones declared in pyproject.toml ([tool.importlinter]); CI checks
them on this tree (``lint-imports`` in ``.ci/run``). Here they are shown to fail on a copy
of the tree with a violating module, and the core is confirmed free of GUI toolkits at run
time in a fresh interpreter.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import tomllib
from pathlib import Path
from typing import Any

import pytest

REPO = Path(__file__).resolve().parent.parent
PYPROJECT = REPO / "pyproject.toml"
GUI_TOOLKITS = ("PySide6", "vispy", "pyqtgraph", "OpenGL")
CORE = ("twin.sim", "twin.scenario", "twin.alarms")
LINT_IMPORTS = Path(sys.executable).parent / "lint-imports"


def _contracts() -> list[dict[str, Any]]:
    return tomllib.loads(PYPROJECT.read_text(encoding="utf-8"))["tool"]["importlinter"]["contracts"]


def test_pyproject_declares_the_layers_and_the_gui_free_core() -> None:
    [core] = [
        c for c in _contracts() if c["type"] == "forbidden" and "twin.sim" in c["source_modules"]
    ]
    assert set(CORE) | {"twin.runs"} <= set(core["source_modules"])
    assert set(GUI_TOOLKITS) | {"twin.gui"} <= set(core["forbidden_modules"])
    assert core["allow_indirect_imports"] is False
    [layers] = [c for c in _contracts() if c["type"] == "layers"]
    order = layers["layers"]
    core_order = [layer for layer in order if not layer.startswith("(")]  # optional layers
    assert core_order[:7] == ["cli", "gui", "arguments", "runs", "alarms", "sim", "scenario"]
    assert layers["exhaustive"] is True
    assert any(c["type"] == "private_modules" for c in _contracts())


def _lint_copy(tmp_path: Path, module: str, source: str) -> subprocess.CompletedProcess[str]:
    """Run lint-imports with this pyproject on a copy of twin/ with one module added."""
    root = tmp_path / "tree"
    shutil.copytree(REPO / "twin", root / "twin", ignore=shutil.ignore_patterns("__pycache__"))
    shutil.copy(PYPROJECT, root / "pyproject.toml")
    target = root / Path(*module.split(".")).with_suffix(".py")
    target.write_text(source, encoding="utf-8")
    env = {**os.environ, "PYTHONPATH": str(root)}
    return subprocess.run(
        [str(LINT_IMPORTS), "--no-cache"],
        cwd=root,
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )


@pytest.mark.slow
@pytest.mark.parametrize(
    ("module", "source", "imported"),
    [
        ("twin.sim._violation", "import PySide6.QtCore\n", "PySide6"),
        ("twin.scenario._violation", "from pyqtgraph import mkPen\n", "pyqtgraph"),
        ("twin.alarms._violation", "from twin.runs import output\n", "twin.runs.output"),
        ("twin.runs._violation", "from twin.gui._qt import theme\n", "twin.gui._qt"),
        ("twin.gui.viewpoints", "import vispy.scene\n", "vispy"),
    ],
)
def test_a_contract_fails_on_a_violation(
    tmp_path: Path, module: str, source: str, imported: str
) -> None:
    done = _lint_copy(tmp_path, module, source)
    assert done.returncode == 1, done.stdout + done.stderr
    assert "BROKEN" in done.stdout
    assert module in done.stdout
    assert imported in done.stdout


def test_core_imports_no_gui_toolkit_at_run_time() -> None:
    code = (
        "import importlib, pkgutil, sys\n"
        f"for name in {(*CORE, 'twin.runs')!r}:\n"
        "    package = importlib.import_module(name)\n"
        "    for info in pkgutil.walk_packages(package.__path__, name + '.'):\n"
        "        importlib.import_module(info.name)\n"
        f"loaded = sorted(m for m in sys.modules if m.split('.')[0] in {GUI_TOOLKITS!r})\n"
        "print('twin modules:', sum(m.startswith('twin.') for m in sys.modules))\n"
        "print('gui modules:', loaded)\n"
    )
    done = subprocess.run(
        [sys.executable, "-c", code],
        cwd=REPO,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert done.returncode == 0, done.stderr
    assert "gui modules: []" in done.stdout
    twin_modules = int(done.stdout.split("twin modules:")[1].split()[0])
    assert twin_modules >= 5
