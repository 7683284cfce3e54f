"""Reading ``twin run`` site tables back, whole or partial (see ``twin.runs.output``).

``read_run_table(path)`` reads a CSV file, a Parquet file, or a folder of Parquet parts (an
unfinished Parquet output), and says plainly what is missing: a run that did not finish
(its output still under the ``.partial`` name, or rows short of the run's duration), a last
CSV line cut off by a kill, rows missing in the middle, a damaged part. Given the final
name of an output whose run never finished, it reads ``NAME.partial`` instead.
"""

from __future__ import annotations

import io
import math
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from twin import inputs
from twin.scenario.units import format_duration
from twin.sim.snapshot import SITE_NAMES

PARTIAL_SUFFIX = ".partial"  # as twin.runs.output writes it
SCENARIO_TEXT_KEY = "scenario_toml"
CSV_SCENARIO_PREFIX = "#| "
GAP_FACTOR = 1.5  # a step in time_s this many output intervals long has rows missing
GAPS_NAMED = 3


class RunTableError(ValueError):
    """A file that is not a readable run table; the message names the problem."""


@dataclass
class RunTable:
    columns: dict[str, np.ndarray]
    metadata: dict[str, str] = field(default_factory=dict)
    problems: list[str] = field(default_factory=list)


def read_run_table(path: Path) -> RunTable:
    path = Path(path)
    problems: list[str] = []
    if not path.exists():
        partial = path.with_name(path.name + PARTIAL_SUFFIX)
        if not partial.exists():
            raise RunTableError(f"{path}: no such file")
        problems.append(
            f"{path.name} was never completed: read from {partial.name}, what "
            "its run wrote before it stopped"
        )
        path = partial
    unfinished = path.name.endswith(PARTIAL_SUFFIX)
    kind = Path(path.name.removesuffix(PARTIAL_SUFFIX)).suffix.lower()
    if path.is_dir():
        table = _read_parts(path)
    elif kind in (".csv", ".parquet"):
        try:  # devices, pipes and folders are refused before they are opened
            inputs.regular_file_size(path)
        except inputs.InputFileError as exc:
            raise RunTableError(f"{path}: {exc}") from None
        table = _read_csv(path) if kind == ".csv" else _read_parquet(path)
    else:
        raise RunTableError(
            f"{path}: not a run output (a .csv or .parquet site table from "
            "'twin run', or a recording folder)"
        )
    _check_columns(path, table.columns, unfinished)
    if unfinished and not problems:
        problems.append(f"{path.name} is the output of a run that did not finish")
    table.problems = problems + table.problems + _missing_rows(table)
    return table


def _read_csv(path: Path) -> RunTable:
    import pyarrow as pa
    import pyarrow.csv as pacsv

    try:
        raw = path.read_bytes()
    except OSError as exc:
        raise RunTableError(f"{path}: cannot be read ({exc.strerror or exc})") from None
    metadata: dict[str, str] = {}
    scenario_lines: list[str] = []
    start = 0
    while raw.startswith(b"#", start):  # metadata lines before the header
        end = raw.find(b"\n", start)
        end = len(raw) if end < 0 else end + 1
        line = raw[start:end].decode("utf-8", "replace").rstrip("\r\n")
        if line.startswith(CSV_SCENARIO_PREFIX.rstrip()):
            scenario_lines.append(line[len(CSV_SCENARIO_PREFIX) :])
        else:
            key, _, value = line[1:].partition(":")
            metadata[key.strip()] = value.strip()
        start = end
    if scenario_lines or SCENARIO_TEXT_KEY in metadata:
        metadata[SCENARIO_TEXT_KEY] = "\n".join(scenario_lines) + "\n"
    body = raw[start:]
    problems = []
    if body and not body.endswith(b"\n"):  # a kill in the middle of a line
        body = body[: body.rfind(b"\n") + 1]
        problems.append("the last row was cut off (its run stopped while writing it)")
    if not body.strip():
        raise RunTableError(
            f"{path}: nothing is readable: the run stopped before its first flush"
            if path.name.endswith(PARTIAL_SUFFIX)
            else f"{path}: the site table has no header"
        )
    try:  # a site table is UTF-8; pyarrow would decode a bad row only to name it
        body.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise RunTableError(
            f"{path}: cannot be read (not UTF-8 text, at byte {start + exc.start:,})"
        ) from None
    skipped: list[int] = []

    def skip(row: pacsv.InvalidRow) -> str:
        skipped.append(row.number or 0)
        return "skip"

    try:
        table = pacsv.read_csv(
            io.BytesIO(body),
            parse_options=pacsv.ParseOptions(invalid_row_handler=skip),
            convert_options=pacsv.ConvertOptions(column_types=_float_columns(body)),
        )
    except (pa.ArrowInvalid, UnicodeDecodeError) as exc:
        raise RunTableError(f"{path}: cannot be read ({inputs.reader_reason(exc)})") from None
    if skipped:
        problems.append(
            f"{len(skipped):,} row{'s' if len(skipped) != 1 else ''} could not "
            "be read and were left out"
        )
    return RunTable(_numeric(path, table), metadata, problems)


def _float_columns(body: bytes) -> dict[str, object]:
    import pyarrow as pa

    header = body[: body.find(b"\n")].decode("utf-8", "replace").strip().split(",")
    return {name: pa.float64() for name in header if name in SITE_NAMES}


def _decoded(metadata: dict[bytes, bytes] | None) -> dict[str, str]:
    return {
        k.decode("utf-8", "replace"): v.decode("utf-8", "replace")
        for k, v in (metadata or {}).items()
        if not k.startswith(b"ARROW:")
    }


def _read_parquet(path: Path) -> RunTable:
    import pyarrow.parquet as pq

    try:
        table = pq.read_table(path)
    except Exception as exc:  # pyarrow raises several kinds for a damaged file
        raise RunTableError(f"{path}: cannot be read ({inputs.reader_reason(exc)})") from None
    return RunTable(_numeric(path, table), _decoded(table.schema.metadata))


def _numeric(path: Path, table) -> dict[str, np.ndarray]:
    """The table's site columns (``SITE_COLUMNS``) as float64; each must hold numbers."""
    import pyarrow as pa

    columns = {}
    for name in table.column_names:
        if name not in SITE_NAMES:
            continue
        column = table.column(name)
        if not (
            pa.types.is_floating(column.type)
            or pa.types.is_integer(column.type)
            or pa.types.is_null(column.type)
        ):
            raise RunTableError(f"{path}: the {name} column does not hold numbers")
        columns[name] = column.to_numpy(zero_copy_only=False).astype(np.float64)
    return columns


def _read_parts(folder: Path) -> RunTable:
    """A folder of complete parts (``part-00000.parquet``...), in order, up to the first
    that is missing or damaged."""
    import pyarrow as pa
    import pyarrow.parquet as pq

    names = sorted(p.name for p in folder.glob("part-*.parquet"))
    if not names:
        raise RunTableError(
            f"{folder}: nothing is readable: the run stopped before its first flush"
            if folder.name.endswith(PARTIAL_SUFFIX)
            else f"{folder}: no Parquet parts (part-00000.parquet...)"
        )
    tables, problems = [], []
    for k, name in enumerate(names):
        where = f"part {k + 1} of {len(names)} ({name})"
        if name != f"part-{k:05d}.parquet":
            problems.append(
                f"{where} is out of sequence (a part before it is missing); "
                "it and the parts after it are not read"
            )
            break
        try:
            tables.append(pq.read_table(folder / name))
        except Exception as exc:  # pyarrow raises several kinds for a damaged file
            problems.append(
                f"{where} is damaged ({str(exc).splitlines()[0]}); it and the "
                "parts after it are not read"
            )
            break
    if not tables:
        raise RunTableError(f"{folder}: nothing is readable: {problems[0]}")
    metadata = _decoded(tables[0].schema.metadata)
    try:
        table = pa.concat_tables([t.replace_schema_metadata(None) for t in tables])
    except pa.ArrowInvalid as exc:
        raise RunTableError(f"{folder}: its parts do not match ({exc})") from None
    return RunTable(_numeric(folder, table), metadata, problems)


def _check_columns(path: Path, columns: dict[str, np.ndarray], unfinished: bool) -> None:
    missing = [n for n in ("time_s", "facility_power_kw") if n not in columns]
    if missing:
        raise RunTableError(f"{path}: not a twin site table (no {', '.join(missing)} column)")
    time_s = columns["time_s"]
    if time_s.size == 0:
        raise RunTableError(
            f"{path}: nothing is readable: the run stopped before its first flush"
            if unfinished
            else f"{path}: the site table has no rows"
        )
    if not np.all(np.isfinite(time_s)) or np.any(time_s < 0):
        raise RunTableError(
            f"{path}: time_s holds a value that is not a time (negative, infinite or not a number)"
        )
    if np.any(np.diff(time_s) <= 0):
        row = int(np.argmax(np.diff(time_s) <= 0)) + 2
        raise RunTableError(f"{path}: time_s does not increase at row {row}")


def _missing_rows(table: RunTable) -> list[str]:
    """Rows short of the run's duration and gaps in time, as the metadata describe them."""
    t = table.columns["time_s"]
    problems = []
    every_s = _number(table.metadata.get("every_s"))
    duration_s = _number(table.metadata.get("duration_s"))
    if every_s > 0 and t.size > 1:
        steps = np.diff(t)
        gaps = np.flatnonzero(steps > GAP_FACTOR * every_s)
        if gaps.size:
            lost = int(np.sum(np.round(steps[gaps] / every_s) - 1))
            named = ", ".join(
                f"{format_duration(t[g])} to {format_duration(t[g + 1])}" for g in gaps[:GAPS_NAMED]
            )
            more = f" and {gaps.size - GAPS_NAMED} more gaps" if gaps.size > GAPS_NAMED else ""
            problems.append(f"{lost:,} rows are missing between {named}{more}")
    if duration_s > 0 and t[-1] < duration_s - 1e-6:
        expected = math.ceil(duration_s / every_s - 1e-9) if every_s > 0 else 0
        count = f" ({expected - t.size:,} of {expected:,} rows)" if expected > t.size else ""
        problems.append(
            f"rows after {format_duration(t[-1])} are missing{count}: the run "
            f"was to simulate {format_duration(duration_s)}"
        )
    return problems


def _number(text: str | None) -> float:
    try:
        value = float(text) if text is not None else math.nan
    except ValueError:
        return math.nan
    return value if math.isfinite(value) else math.nan


def scenario_text(metadata: dict[str, str]) -> str | None:
    """The scenario file's text a run table carries, or None for a table without it."""
    text = metadata.get(SCENARIO_TEXT_KEY)
    return text if text else None
