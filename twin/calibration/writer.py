"""The calibrated scenario file: the original text with the fitted values in place.

Each fitted value replaces its key's value where the file gives it (added where the file
left the default), with a comment beside it giving its uncertainty and prior; the file's
other comments and layout stay (tomlkit). A ``[calibration]`` table records every
parameter, fitted or left at its prior with the reason, the data and the window. The
text is validated by the loader before it is written.
"""

from __future__ import annotations

import math
from pathlib import Path

import tomlkit
from tomlkit.items import InlineTable, Table

from twin.calibration.fit import Calibration, ParameterResult
from twin.scenario import loads

METHOD = (
    "batch least squares (scipy.optimize.least_squares, trust region reflective, "
    "soft-L1 loss, then Brent's search along the least-determined direction) over the "
    "fit window, driven by the measured IT power and weather"
)


def _significant(value: float, digits: int = 5) -> float:
    if value == 0 or not math.isfinite(value):
        return value
    return round(value, digits - 1 - math.floor(math.log10(abs(value))))


def _node(doc, path: tuple[str, ...]):
    node = doc
    for key in path:
        if key not in node:
            node[key] = tomlkit.table()
        node = node[key]
    return node


def _set(table, key: str, value, comment: str | None) -> None:
    table[key] = value
    if comment and isinstance(table, Table) and not isinstance(table, InlineTable):
        table[key].comment(comment)


def _apply(doc, result: ParameterResult) -> None:
    p = result.param
    unit = "" if p.unit == "1" else f" {p.unit}"
    comment = (
        f"calibrated: +/- {_significant(result.std, 2):g}{unit}, prior {_significant(p.prior):g}"
    )
    if p.kind == "value":
        _set(_node(doc, p.path[:-1]), p.path[-1], _significant(result.value), comment)
    elif p.kind == "head-scale":
        table = _node(doc, p.path)
        comment = f"calibrated: pump curve x {result.value:.4f} +/- {result.std:.2g}"
        for key in ("pump_shutoff_head_kpa", "pump_design_head_kpa"):
            _set(table, key, _significant(float(table[key]) * result.value), comment)
    else:  # loss-scale of an efficiency curve
        table = _node(doc, p.path)
        efficiency = [
            _significant(100.0 - result.value * (100.0 - float(e))) for e in table["efficiency_pct"]
        ]
        _set(
            table,
            "efficiency_pct",
            efficiency,
            f"calibrated: losses x {result.value:.4f} +/- {result.std:.2g}",
        )


def calibrated_text(original: str, cal: Calibration, data: list[str]) -> str:
    """The scenario text with the fitted values and a ``[calibration]`` table; raises
    ScenarioError if the result does not load (it always should)."""
    doc = tomlkit.parse(original)
    for result in cal.fitted:
        _apply(doc, result)
    if "calibration" in doc:
        del doc["calibration"]
    table = tomlkit.table()
    table.add(tomlkit.comment("written by twin calibrate; every parameter it considered"))
    table["data"] = data
    table["window_s"] = [cal.fit_window.start_s, cal.fit_window.end_s]
    table["method"] = METHOD
    parameters = tomlkit.table(is_super_table=True)
    for r in cal.params:
        entry = tomlkit.table()
        entry["field"] = r.param.field
        entry["value"] = _significant(r.value)
        entry["prior"] = _significant(r.param.prior)
        if r.fitted and math.isfinite(r.std):
            entry["std"] = _significant(r.std, 3)
        entry["fitted"] = r.fitted
        entry["unit"] = r.param.unit
        if r.note:
            entry["note"] = r.note
        parameters[r.param.name] = entry
    table["parameters"] = parameters
    doc["calibration"] = table
    text = tomlkit.dumps(doc)
    loads(text, source="the calibrated scenario")
    return text


def write_calibrated(path: Path, original: str, cal: Calibration, data: list[str]) -> str:
    """Write the calibrated scenario at ``path``; returns its text."""
    text = calibrated_text(original, cal, data)
    partial = path.with_name(path.name + ".partial")
    partial.write_text(text, encoding="utf-8")
    partial.replace(path)
    return text
