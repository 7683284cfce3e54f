"""The alarm journal: every alarm transition in an SQLite file, for reports and audits.

Rows are written as the run goes, in transactions committed every ``commit_rows`` rows
or ``commit_interval_s`` of wall time, whichever comes first. While the run goes the file
is ``NAME.partial`` (with SQLite's ``-wal`` beside it), in WAL mode with
``synchronous=FULL``: a committed transaction survives the process being killed and a power
cut, and a reader can open the file while a run still writes it. ``close()`` folds the WAL
into the file and renames it to its final name, so a journal under its final name is a
finished run's, one self-contained file; ``abandon()`` (a failed run) leaves it partial.
Times are simulated seconds since the scenario start and wall-clock Unix seconds.
"""

from __future__ import annotations

import contextlib
import os
import sqlite3
import time
from collections.abc import Iterable, Mapping
from contextlib import closing
from pathlib import Path
from typing import NamedTuple

from twin import inputs

SCHEMA = """
CREATE TABLE meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);
CREATE TABLE events (
    id INTEGER PRIMARY KEY,
    sim_time_s REAL NOT NULL,
    wall_time_s REAL NOT NULL,
    event TEXT NOT NULL,
    tag TEXT NOT NULL,
    condition TEXT NOT NULL,
    component TEXT NOT NULL,
    priority TEXT NOT NULL,
    state TEXT NOT NULL,
    value REAL,
    limit_value REAL,
    unit TEXT NOT NULL,
    description TEXT NOT NULL,
    note TEXT NOT NULL,
    duration_s REAL
);
CREATE INDEX events_by_time ON events (sim_time_s);
"""
COLUMNS = (
    "sim_time_s",
    "wall_time_s",
    "event",
    "tag",
    "condition",
    "component",
    "priority",
    "state",
    "value",
    "limit_value",
    "unit",
    "description",
    "note",
    "duration_s",
)
EVENTS = (
    "raise",
    "clear",
    "acknowledge",
    "shelve",
    "unshelve",
    "suppress",
    "unsuppress",
    "flood-start",
    "flood-end",
    "reset",
)
COMMIT_ROWS = 500
COMMIT_INTERVAL_S = 1.0  # wall time: what a killed run can lose at most
PARTIAL_SUFFIX = ".partial"  # the journal of a run not (yet) finished


class JournalRow(NamedTuple):
    """One transition. ``state`` is the alarm's state after it; ``note`` carries the
    acknowledgement note, the shelving reason or the suppression cause."""

    sim_time_s: float
    wall_time_s: float
    event: str  # one of EVENTS
    tag: str  # the alarm point, e.g. "rack.gpu_temp"
    condition: str  # HH, H, L, LL or ON
    component: str  # e.g. "H1-R03-07"
    priority: str
    state: str
    value: float | None
    limit_value: float | None
    unit: str
    description: str
    note: str = ""
    duration_s: float | None = None  # shelving duration


class JournalError(ValueError):
    """A file that is not an alarm journal, or cannot be opened as one."""


class AlarmJournal:
    """Appends rows to a new journal for ``path``: written as ``partial`` until ``close()``
    (an existing file at either name is replaced).

    Not thread-safe: one thread at a time (the alarm engine's) writes to it.
    """

    def __init__(
        self,
        path: Path,
        metadata: Mapping[str, str] | None = None,
        *,
        commit_rows: int = COMMIT_ROWS,
        commit_interval_s: float = COMMIT_INTERVAL_S,
    ) -> None:
        self.path = Path(path)
        self.partial = self.path.with_name(self.path.name + PARTIAL_SUFFIX)
        staged = self.path.with_name(self.path.name + ".new")
        for leftover in (
            self.path,
            *_sidecars(self.path),
            self.partial,
            *_sidecars(self.partial),
            staged,
        ):
            leftover.unlink(missing_ok=True)
        # Made whole under another name, then renamed: a reader that finds the journal
        # during a run never finds it without its tables.
        with closing(sqlite3.connect(staged)) as db:
            db.executescript(SCHEMA)
            db.executemany("INSERT INTO meta VALUES (?, ?)", sorted((metadata or {}).items()))
            db.commit()
        os.replace(staged, self.partial)
        # the engine may be built on one thread and run on another, never both at once
        self._db: sqlite3.Connection | None = sqlite3.connect(self.partial, check_same_thread=False)
        self._db.execute("PRAGMA journal_mode=WAL")
        self._db.execute("PRAGMA synchronous=FULL")  # each commit reaches the disk
        self._pending: list[JournalRow] = []
        self._commit_rows = commit_rows
        self._commit_interval_s = commit_interval_s
        self._last_commit = time.monotonic()
        self.rows_written = 0

    def record(self, row: JournalRow) -> None:
        self._pending.append(row)
        if len(self._pending) >= self._commit_rows:
            self.commit()

    def commit_if_due(self) -> None:
        if self._pending and time.monotonic() - self._last_commit >= self._commit_interval_s:
            self.commit()

    def commit(self) -> None:
        if self._pending and self._db is not None:
            with self._db:  # one transaction; rolled back if the disk refuses it
                self._db.executemany(
                    f"INSERT INTO events ({', '.join(COLUMNS)}) VALUES "
                    f"({', '.join('?' * len(COLUMNS))})",
                    self._pending,
                )
            self.rows_written += len(self._pending)
            self._pending.clear()
        self._last_commit = time.monotonic()

    def close(self) -> None:
        """The run finished: commit, fold the WAL into the file, rename it into place."""
        if self._db is None:
            return
        self.commit()
        (mode,) = self._db.execute("PRAGMA journal_mode=DELETE").fetchone()
        if mode != "delete":  # another connection holds the WAL open
            raise sqlite3.OperationalError(
                f"{self.partial}: the WAL could not be folded in (is another program reading it?)"
            )
        self._db.close()
        self._db = None
        os.replace(self.partial, self.path)

    def abandon(self) -> None:
        """The run failed: commit what the disk takes and leave the journal partial."""
        if self._db is None:
            return
        with contextlib.suppress(sqlite3.Error):
            self.commit()
        with contextlib.suppress(sqlite3.Error):
            self._db.close()
        self._db = None


def _sidecars(path: Path) -> tuple[Path, Path]:
    return path.with_name(path.name + "-wal"), path.with_name(path.name + "-shm")


SQLITE_HEADER = b"SQLite format 3\x00"


def _open(path: Path) -> sqlite3.Connection:
    """The journal at ``path`` opened read-only, its tables and columns checked. Opening
    writes nothing beside it: a journal whose run ended has no ``-wal`` file and is read
    as it is; one a run still writes, or left by a killed run, is read in place when its
    ``-shm`` index is there, else (as in a read-only folder, where SQLite cannot make
    one) it is copied with its ``-wal`` into twin's temporary folder (``twin.scratch``)
    and read there."""
    path = Path(path)
    try:
        inputs.regular_file_size(path)
        with open(path, "rb") as handle:
            header = handle.read(len(SQLITE_HEADER))
    except inputs.InputFileError as exc:
        if str(exc) == "no such file":
            raise JournalError(f"{path}: no such alarm journal") from None
        raise JournalError(f"{path}: not an alarm journal ({exc})") from None
    except OSError as exc:
        raise JournalError(f"{path}: cannot read the alarm journal: {exc.strerror}") from None
    if header != SQLITE_HEADER:
        what = "the file is empty" if not header else "not an SQLite file"
        raise JournalError(f"{path}: not an alarm journal ({what})")
    wal, shm = _sidecars(path)
    if not wal.exists() or shm.exists():
        try:  # in place, adding no file beside it
            return _checked(path, _connect_read_only(path, immutable=not wal.exists()))
        except sqlite3.OperationalError:
            pass  # cannot be read in place; a copy can
    try:
        return _checked(path, _connect_read_only(_scratch_copy(path)))
    except (sqlite3.Error, OSError) as exc:
        raise JournalError(f"{path}: the alarm journal cannot be read ({_reason(exc)})") from None


def _connect_read_only(path: Path, *, immutable: bool = False) -> sqlite3.Connection:
    """Read-only; ``immutable`` (for a journal with no ``-wal`` file, whose rows are all in
    the file itself) also keeps SQLite from making a ``-shm`` file beside it."""
    flags = "mode=ro&immutable=1" if immutable else "mode=ro"
    return sqlite3.connect(f"{path.absolute().as_uri()}?{flags}", uri=True)


def _checked(path: Path, db: sqlite3.Connection) -> sqlite3.Connection:
    try:
        tables = {name for (name,) in db.execute("SELECT name FROM sqlite_master")}
        if not {"meta", "events"} <= tables:
            raise JournalError(f"{path}: not an alarm journal (no events table)")
        columns = {row[1] for row in db.execute("PRAGMA table_info(events)")}
        missing = [c for c in COLUMNS if c not in columns]
        if missing:
            raise JournalError(
                f"{path}: not an alarm journal (its events table has no "
                f"{', '.join(missing)} column)"
            )
    except sqlite3.OperationalError:
        db.close()
        raise
    except sqlite3.DatabaseError as exc:
        db.close()
        raise JournalError(f"{path}: not an alarm journal ({_reason(exc)})") from None
    except JournalError:
        db.close()
        raise
    return db


def _scratch_copy(path: Path) -> Path:
    import shutil
    import tempfile

    from twin.scratch import scratch_dir

    copy = Path(tempfile.mkdtemp(prefix="journal-", dir=scratch_dir())) / "journal.sqlite"
    shutil.copyfile(path, copy)
    wal = _sidecars(path)[0]
    if wal.is_file():
        shutil.copyfile(wal, _sidecars(copy)[0])
    return copy


def _reason(exc: Exception) -> str:
    return str(exc).splitlines()[0] if str(exc) else type(exc).__name__


def _query(path: Path, sql: str, args: Iterable[object] = ()) -> list[tuple]:
    """Every row of a query on the journal; a damaged journal is a JournalError."""
    db = _open(path)
    try:
        return db.execute(sql, tuple(args)).fetchall()
    except sqlite3.Error as exc:
        raise JournalError(f"{path}: the alarm journal is damaged ({_reason(exc)})") from None
    finally:
        db.close()


def read_journal(
    path: Path,
    start_s: float | None = None,
    end_s: float | None = None,
    events: Iterable[str] | None = None,
) -> list[JournalRow]:
    """Rows in the order written, with simulated time in [start_s, end_s] and, if given,
    of the listed event kinds. Works on a journal still being written or left by a
    killed run (everything committed is there)."""
    where: list[str] = []
    args: list[object] = []
    if start_s is not None:
        where.append("sim_time_s >= ?")
        args.append(start_s)
    if end_s is not None:
        where.append("sim_time_s <= ?")
        args.append(end_s)
    if events is not None:
        kinds = list(events)
        unknown = sorted(set(kinds) - set(EVENTS))
        if unknown:
            raise ValueError(f"unknown journal events {unknown}; events: {', '.join(EVENTS)}")
        where.append(f"event IN ({', '.join('?' * len(kinds))})")
        args.extend(kinds)
    query = f"SELECT {', '.join(COLUMNS)} FROM events"
    if where:
        query += " WHERE " + " AND ".join(where)
    return [JournalRow(*row) for row in _query(path, query + " ORDER BY id", args)]


def read_metadata(path: Path) -> dict[str, str]:
    """What the run wrote about itself: scenario, seed, dt, twin version..."""
    return {str(key): str(value) for key, value in _query(path, "SELECT key, value FROM meta")}
