"""Print a digest of everything a twin bundle is built from.

The files of ``twin/``, ``resources/`` and ``packaging/``, ``pyproject.toml``, and the
name and version of every package installed in the Python running this script. The
build stores it in the bundle (``share/source-digest``) so that a bundle can be told
apart from one built from another tree or another set of libraries.
"""

from __future__ import annotations

import hashlib
import sys
from importlib.metadata import distributions
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
SOURCES = ("twin", "resources", "packaging", "pyproject.toml")


def source_digest(root: Path = ROOT) -> str:
    digest = hashlib.sha256()
    for name in SOURCES:
        top = root / name
        files = [top] if top.is_file() else sorted(top.rglob("*"))
        for path in files:
            if not path.is_file() or "__pycache__" in path.parts:
                continue
            digest.update(path.relative_to(root).as_posix().encode() + b"\0")
            digest.update(hashlib.sha256(path.read_bytes()).digest())
    for package in sorted(f"{d.metadata['Name']}=={d.version}" for d in distributions()):
        digest.update(package.encode() + b"\0")
    return digest.hexdigest()


if __name__ == "__main__":
    sys.stdout.write(source_digest() + "\n")
