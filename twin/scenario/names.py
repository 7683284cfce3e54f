"""How a scenario's groups expand to named units: CDUs, rows, racks. The loader checks
references against these names; the simulation's topology numbers its units by them."""

from __future__ import annotations

from twin.scenario.schema import Scenario


def cdu_unit_names(group: str, count: int) -> list[str]:
    """Names of the CDUs a group expands to: ``H1-CDU`` x 3 gives ``H1-CDU-01`` .. ``-03``."""
    if count == 1:
        return [group]
    width = max(2, len(str(count)))
    return [f"{group}-{k:0{width}d}" for k in range(1, count + 1)]


def row_unit_names(group: str, count: int) -> list[str]:
    """Names of the rows a group expands to: ``H1-R`` x 12 gives ``H1-R01`` .. ``H1-R12``."""
    if count == 1:
        return [group]
    width = max(2, len(str(count)))
    return [f"{group}{k:0{width}d}" for k in range(1, count + 1)]


def rack_name(row: str, slot: int) -> str:
    """A rack's name from its row's and its 0-based position in the row: ``H1-R03-07``."""
    return f"{row}-{slot + 1:02d}"


def rack_names(s: Scenario) -> list[str]:
    """Every rack's name, hall by hall and row by row."""
    return [
        rack_name(row, slot)
        for hall in s.halls
        for rows in hall.rows
        for row in row_unit_names(rows.name, rows.count)
        for slot in range(rows.racks_per_row)
    ]
