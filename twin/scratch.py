"""One temporary folder per twin process, for files twin makes only to read back itself.

Created on first use under the system's temporary folder (``twin-XXXXXXXX``) and removed
when the process ends, by the command line as it returns and by ``atexit`` otherwise. Names
inside it are twin's own, never taken from a file's content.
"""

from __future__ import annotations

import atexit
import shutil
import tempfile
from pathlib import Path

_folder: Path | None = None
_registered = False


def scratch_dir() -> Path:
    """This process's temporary folder, made on first use (readable by its owner only)."""
    global _folder, _registered
    if _folder is None or not _folder.is_dir():
        _folder = Path(tempfile.mkdtemp(prefix="twin-"))
        if not _registered:
            atexit.register(remove_scratch)
            _registered = True
    return _folder


def remove_scratch() -> None:
    """Remove the temporary folder and everything in it; the next use makes a new one."""
    global _folder
    if _folder is not None:
        shutil.rmtree(_folder, ignore_errors=True)
        _folder = None
