"""Reading files that may come from anyone: bounded, regular files only, never echoed.

Scenarios, stories, settings, recording manifests and weather CSVs are read through here.
A path that is not a regular file (a folder, a device such as /dev/zero, a named pipe) is
refused before it is opened, a file larger than its kind can be is refused before it is
read, and text must be UTF-8. Messages name the file and the problem, never the file's
content, so that an error cannot show a stranger what a file holds.
"""

from __future__ import annotations

import json
import os
import re
import stat
from pathlib import Path
from typing import Any

MIB = 1024 * 1024


class InputFileError(Exception):
    """A file that cannot be read as the kind of file asked for; the message says why
    (without the file's name, which the caller puts in front)."""


def regular_file_size(path: Path) -> int:
    """The size of the regular file at ``path``; InputFileError if there is none."""
    try:
        info = os.stat(path)
    except FileNotFoundError:
        raise InputFileError("no such file") from None
    except OSError as exc:
        raise InputFileError(
            f"cannot read the file: {exc.strerror or type(exc).__name__}"
        ) from None
    if stat.S_ISDIR(info.st_mode):
        raise InputFileError("is a folder, not a file")
    if not stat.S_ISREG(info.st_mode):
        raise InputFileError("is not a regular file (a device, pipe or socket)")
    return info.st_size


def read_bytes(path: Path, max_bytes: int) -> bytes:
    """The whole content of a regular file of at most ``max_bytes``."""
    size = regular_file_size(path)
    if size > max_bytes:
        raise InputFileError(f"is {_size(size)}; at most {_size(max_bytes)} is read")
    try:
        with open(path, "rb") as handle:
            raw = handle.read(max_bytes + 1)
    except OSError as exc:
        raise InputFileError(
            f"cannot read the file: {exc.strerror or type(exc).__name__}"
        ) from None
    if len(raw) > max_bytes:  # it grew after the size was checked
        raise InputFileError(f"is more than {_size(max_bytes)}; at most that is read")
    return raw


def decode_text(raw: bytes) -> str:
    """UTF-8 text (a leading byte-order mark is dropped); the error says where it fails."""
    try:
        text = raw.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        line = raw.count(b"\n", 0, exc.start) + 1
        raise InputFileError(
            f"is not UTF-8 text: byte 0x{raw[exc.start]:02x} on line {line} "
            "cannot be decoded; save the file as UTF-8"
        ) from None
    if "\x00" in text:
        line = text.count("\n", 0, text.index("\x00")) + 1
        raise InputFileError(f"is not a text file: it holds a NUL byte on line {line}")
    return text


def read_text(path: Path, max_bytes: int) -> str:
    return decode_text(read_bytes(path, max_bytes))


def parse_json(text: str) -> Any:
    """JSON text as Python values; InputFileError names the line and column of a syntax
    error, or says the values nest too deeply."""
    try:
        return json.loads(text)
    except json.JSONDecodeError as exc:
        raise InputFileError(
            f"is not valid JSON ({exc.msg} at line {exc.lineno}, column {exc.colno})"
        ) from None
    except RecursionError:
        raise InputFileError("is not usable JSON: its values nest too deeply") from None
    except ValueError as exc:  # e.g. an integer with more digits than Python converts
        raise InputFileError(f"is not usable JSON ({str(exc).splitlines()[0]})") from None


def reader_reason(exc: Exception) -> str:
    """A reader's (pyarrow's) first line of error without the file's text it quotes: a
    row after "got N:", a value in quotes."""
    reason = (str(exc).splitlines() or [type(exc).__name__])[0]
    reason = re.sub(r"(got \d+):.*", r"\1", reason)
    return re.sub(r"'[^']*'?", "(not shown)", reason)


def _size(count: int) -> str:
    return f"{count / MIB:,.1f} MiB" if count >= MIB else f"{count:,} bytes"
