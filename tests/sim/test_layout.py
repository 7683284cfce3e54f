"""The site layout: racks in their halls without overlaps, CDUs beside their rows, a tidy site."""

from __future__ import annotations

import itertools
import tomllib
from functools import cache

import numpy as np
import pytest

from twin.scenario import Scenario, builtin_scenarios, load
from twin.scenario.loader import from_dict
from twin.sim.layout import Boxes, Layout, build_layout
from twin.sim.topology import Topology, build_topology

BUILTINS = ("single-rack", "seoul-ai-factory", "gigawatt")


@cache
def _built(name: str) -> tuple[Scenario, Topology, Layout]:
    scenario = load(name)
    topology = build_topology(scenario)
    return scenario, topology, build_layout(scenario, topology)


def _two_groups_sharing_cdus() -> tuple[Scenario, Topology, Layout]:
    """Two row groups of different lengths on one CDU group, two rows per CDU."""
    data = tomllib.loads(builtin_scenarios()["seoul-ai-factory"].read_text(encoding="utf-8"))
    hall = data["halls"][0]
    hall["cdus"] = [{"name": "H1-CDU", "type": "cdu-2300", "count": 5}]
    hall["rows"] = [
        {
            "name": "H1-A",
            "count": 5,
            "racks_per_row": 7,
            "rack_type": "gb300-nvl72",
            "cdu": "H1-CDU",
            "rows_per_cdu": 2,
        },
        {
            "name": "H1-B",
            "count": 4,
            "racks_per_row": 4,
            "rack_type": "gb300-nvl72",
            "cdu": "H1-CDU",
            "rows_per_cdu": 2,
        },
    ]
    scenario = from_dict(data, "two-groups")
    topology = build_topology(scenario)
    return scenario, topology, build_layout(scenario, topology)


def _overlapping_pairs(boxes: Boxes) -> list[tuple[int, int]]:
    """Pairs of boxes whose interiors intersect (touching faces is fine)."""
    lower, upper = boxes.lower_m, boxes.upper_m
    tol = 1e-9
    apart = (
        (upper[:, None, :] <= lower[None, :, :] + tol)
        | (upper[None, :, :] <= lower[:, None, :] + tol)
    ).any(axis=2)
    i, j = np.nonzero(np.triu(~apart, k=1))
    return list(zip(i.tolist(), j.tolist(), strict=True))


def _layouts():
    yield from (_built(name) for name in BUILTINS)
    yield _two_groups_sharing_cdus()


@pytest.mark.parametrize("built", list(_layouts()), ids=[*BUILTINS, "two-groups"])
def test_racks_stand_inside_their_hall_without_overlapping(built):
    _, topology, layout = built
    assert layout.racks.count == topology.rack_count
    assert np.all(layout.racks.size_m > 0)
    for hall in range(layout.halls.count):
        racks = np.flatnonzero(topology.rack_hall == hall)
        in_hall = Boxes(layout.racks.center_m[racks], layout.racks.size_m[racks])
        assert _overlapping_pairs(in_hall) == []
        assert np.all(in_hall.lower_m >= layout.halls.lower_m[hall] - 1e-9)
        assert np.all(in_hall.upper_m <= layout.halls.upper_m[hall] + 1e-9)
    assert np.all(layout.racks.lower_m[:, 2] == 0.0)


def test_rows_run_east_west_at_the_pitches_of_the_scenario():
    scenario, topology, layout = _built("seoul-ai-factory")
    hall = scenario.halls[0]
    row = np.flatnonzero(topology.rack_row == 0)
    x = layout.racks.center_m[row, 0]
    np.testing.assert_allclose(np.diff(x), hall.rack_pitch_m)
    assert np.ptp(layout.racks.center_m[row, 1]) == 0.0
    first_racks = [np.flatnonzero(topology.rack_row == r)[0] for r in (0, 1, 2)]
    np.testing.assert_allclose(np.diff(layout.racks.center_m[first_racks, 1]), hall.row_pitch_m)


def test_neighbouring_rows_face_each_other_across_alternating_aisles():
    _, topology, layout = _built("seoul-ai-factory")
    front_of_row = np.array(
        [layout.rack_front[topology.rack_row == r][0] for r in range(len(topology.row_names))]
    )
    hall_1 = topology.row_hall == 0
    assert set(np.unique(front_of_row)) == {-1, 1}
    # row 0 faces south, row 1 north: their backs share the hot aisle between them
    assert list(front_of_row[hall_1][:4]) == [-1, 1, -1, 1]


@pytest.mark.parametrize("built", list(_layouts()), ids=[*BUILTINS, "two-groups"])
def test_each_cdu_stands_at_the_end_of_the_adjacent_rows_it_serves(built):
    _, topology, layout = built
    for cdu in range(topology.cdu_count):
        racks = topology.cdu_racks(cdu)
        hall = topology.cdu_hall[cdu]
        assert np.all(layout.cdus.lower_m[cdu] >= layout.halls.lower_m[hall])
        assert np.all(layout.cdus.upper_m[cdu] <= layout.halls.upper_m[hall])
        positions = np.unique(topology.row_position[topology.rack_row[racks]])
        assert np.all(np.diff(positions) == 1), f"{topology.cdu_names[cdu]} rows not adjacent"
        assert layout.cdus.lower_m[cdu, 0] > layout.racks.upper_m[racks, 0].max()
        y = layout.cdus.center_m[cdu, 1]
        assert layout.racks.center_m[racks, 1].min() <= y <= layout.racks.center_m[racks, 1].max()


def test_cdus_of_a_shared_group_do_not_overlap():
    _, topology, layout = _two_groups_sharing_cdus()
    # 5 + 4 rows at two per CDU, each group starting on a fresh CDU: 3 + 2 CDUs
    assert np.sum(topology.cdu_hall == 0) == 5
    assert _overlapping_pairs(layout.cdus) == []
    assert layout.cdus.center_m[3, 0] < layout.cdus.center_m[2, 0]  # shorter rows, nearer


@pytest.mark.parametrize("name", BUILTINS)
def test_buildings_and_outdoor_equipment_do_not_overlap(name):
    scenario, _, layout = _built(name)
    groups = {
        "halls": layout.halls,
        "electrical rooms": layout.electrical_rooms,
        "dry coolers": layout.dry_coolers,
        "chillers": layout.chillers,
        "facility pumps": layout.facility_pumps,
        "main transformers": layout.main_transformers,
        "bess": layout.bess,
        "generators": layout.generators,
    }
    assert layout.dry_coolers.count == scenario.heat_rejection.dry_coolers.count
    assert layout.chillers.count == scenario.heat_rejection.chillers.count
    assert layout.main_transformers.count == scenario.power.main_transformers.units
    assert layout.generators.count == scenario.power.generators.units
    assert layout.electrical_rooms.count == layout.halls.count == len(scenario.halls)
    for group, boxes in groups.items():
        assert _overlapping_pairs(boxes) == [], group
    for (a, first), (b, second) in itertools.combinations(groups.items(), 2):
        if first.count and second.count:
            both = Boxes(
                np.vstack([first.center_m, second.center_m]),
                np.vstack([first.size_m, second.size_m]),
            )
            across = [(i, j) for i, j in _overlapping_pairs(both) if i < first.count <= j]
            assert across == [], f"{a} overlap {b}"


def test_yard_and_substation_lie_outside_the_halls_and_inside_the_site():
    _, _, layout = _built("seoul-ai-factory")
    yard, substation, site = layout.yard_rect_m, layout.substation_rect_m, layout.site_rect_m
    halls = layout.halls.footprint_m()
    assert yard[1] > halls[3]  # north of the halls
    assert substation[2] < halls[0]  # west of the halls
    for rect in (yard, substation, halls):
        assert site[0] <= rect[0] and site[1] <= rect[1]
        assert rect[2] <= site[2] and rect[3] <= site[3]
    footprint = layout.dry_coolers.footprint_m()
    assert yard[0] <= footprint[0] and footprint[2] <= yard[2]


def test_workcells_stand_at_their_scenario_origins():
    scenario, _, layout = _built("seoul-ai-factory")
    assert layout.workcells.count == len(scenario.workcells)
    for k, cell in enumerate(scenario.workcells):
        np.testing.assert_allclose(layout.workcells.lower_m[k, :2], cell.origin_m)


def test_layout_is_deterministic():
    scenario, topology, first = _built("seoul-ai-factory")
    second = build_layout(scenario, topology)
    for name in Layout.__slots__:
        a, b = getattr(first, name), getattr(second, name)
        if isinstance(a, Boxes):
            np.testing.assert_array_equal(a.center_m, b.center_m)
            np.testing.assert_array_equal(a.size_m, b.size_m)
        else:
            np.testing.assert_array_equal(a, b)
