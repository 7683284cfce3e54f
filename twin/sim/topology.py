"""The site's topology: racks, rows, CDUs and halls expanded from the compact scenario.

The scenario describes rows by groups (``12 rows x 14 racks``) and CDUs by groups
(``H1-CDU x 12``); this module expands them once into flat index arrays in one
canonical order that every other part of twin (physics, power chain, drawing, output)
shares: halls in file order, row groups in file order, rows in a group, racks in a row.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from twin.scenario import Scenario
from twin.scenario.names import cdu_unit_names, rack_name, row_unit_names


@dataclass(frozen=True, slots=True)
class Topology:
    hall_names: tuple[str, ...]
    rack_type_names: tuple[str, ...]
    row_names: tuple[str, ...]  # e.g. "H1-R03"
    row_group_names: tuple[str, ...]
    cdu_names: tuple[str, ...]  # e.g. "H1-CDU-03"
    cdu_type_names: tuple[str, ...]
    row_hall: np.ndarray  # per row: hall index
    row_group: np.ndarray  # per row: row-group index
    row_position: np.ndarray  # per row: 0-based position in its hall (for drawing)
    row_rack_count: np.ndarray
    cdu_hall: np.ndarray
    cdu_type: np.ndarray  # index into cdu_type_names
    rack_hall: np.ndarray
    rack_row: np.ndarray
    rack_cdu: np.ndarray
    rack_type: np.ndarray  # index into rack_type_names
    rack_slot: np.ndarray  # position in its row

    @property
    def rack_count(self) -> int:
        return int(self.rack_row.size)

    @property
    def cdu_count(self) -> int:
        return len(self.cdu_names)

    def rack_name(self, index: int) -> str:
        return rack_name(self.row_names[self.rack_row[index]], int(self.rack_slot[index]))

    def cdu_racks(self, cdu: int) -> np.ndarray:
        return np.flatnonzero(self.rack_cdu == cdu)


def build_topology(s: Scenario) -> Topology:
    """Expand a validated scenario (``twin.scenario.load`` checked every reference)."""
    rack_type_names = tuple(s.rack_types)
    cdu_type_names = tuple(s.cdu_types)
    row_names: list[str] = []
    row_group_names: list[str] = []
    row_hall: list[int] = []
    row_group: list[int] = []
    row_position: list[int] = []
    row_racks: list[int] = []
    cdu_names: list[str] = []
    cdu_hall: list[int] = []
    cdu_type: list[int] = []
    rack_row: list[np.ndarray] = []
    rack_cdu: list[np.ndarray] = []
    rack_type: list[np.ndarray] = []
    rack_slot: list[np.ndarray] = []
    for h, hall in enumerate(s.halls):
        first_cdu = {}
        for group in hall.cdus:
            first_cdu[group.name] = len(cdu_names)
            names = cdu_unit_names(group.name, group.count)
            cdu_names.extend(names)
            cdu_hall.extend([h] * len(names))
            cdu_type.extend([cdu_type_names.index(group.type)] * len(names))
        next_row_on_cdu = dict.fromkeys(first_cdu, 0)
        position = 0
        for rows in hall.rows:
            g = len(row_group_names)
            row_group_names.append(rows.name)
            for row_name in row_unit_names(rows.name, rows.count):
                r = len(row_names)
                row_names.append(row_name)
                row_hall.append(h)
                row_group.append(g)
                row_position.append(position)
                row_racks.append(rows.racks_per_row)
                position += 1
                cdu = first_cdu[rows.cdu] + next_row_on_cdu[rows.cdu] // rows.rows_per_cdu
                next_row_on_cdu[rows.cdu] += 1
                n = rows.racks_per_row
                rack_row.append(np.full(n, r))
                rack_cdu.append(np.full(n, cdu))
                rack_type.append(np.full(n, rack_type_names.index(rows.rack_type)))
                rack_slot.append(np.arange(n))
            # the next group on the same CDU group starts on a fresh CDU
            step = rows.rows_per_cdu
            next_row_on_cdu[rows.cdu] = -(-next_row_on_cdu[rows.cdu] // step) * step
    rack_row_array = np.concatenate(rack_row).astype(np.int32)
    row_hall_array = np.asarray(row_hall, dtype=np.int32)
    return Topology(
        hall_names=tuple(h.name for h in s.halls),
        rack_type_names=rack_type_names,
        row_names=tuple(row_names),
        row_group_names=tuple(row_group_names),
        cdu_names=tuple(cdu_names),
        cdu_type_names=cdu_type_names,
        row_hall=row_hall_array,
        row_group=np.asarray(row_group, dtype=np.int32),
        row_position=np.asarray(row_position, dtype=np.int32),
        row_rack_count=np.asarray(row_racks, dtype=np.int32),
        cdu_hall=np.asarray(cdu_hall, dtype=np.int32),
        cdu_type=np.asarray(cdu_type, dtype=np.int32),
        rack_hall=row_hall_array[rack_row_array],
        rack_row=rack_row_array,
        rack_cdu=np.concatenate(rack_cdu).astype(np.int32),
        rack_type=np.concatenate(rack_type).astype(np.int32),
        rack_slot=np.concatenate(rack_slot).astype(np.int32),
    )
