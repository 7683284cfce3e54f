"""Cross-references of a validated scenario: names that must exist (halls, row groups,
CDUs, workcells, racks), units that must fit what is installed, electrical ratings that
must carry the load, and the events a run or the window schedules."""

from __future__ import annotations

from twin.scenario.names import cdu_unit_names, rack_names
from twin.scenario.problems import Problem, unknown_name
from twin.scenario.schema import (
    CDU_EVENT_KINDS,
    CONVEYOR_END_GAP_M,
    ROBOT_MODELS,
    WORKCELL_SIZE_M,
    ChillerTrip,
    DemandResponse,
    DryCoolerFailure,
    Event,
    GeneratorFailure,
    HallElectricalFailure,
    Scenario,
    UtilityOutage,
    Workcell,
)

# --------------------------------------------------------------------------- references


def check_references(s: Scenario) -> list[Problem]:
    """Names that must exist, counts that must agree and capacities that must hold."""
    problems: list[Problem] = []
    hall_names = [h.name for h in s.halls]
    cdu_names: set[str] = set()
    row_group_names: set[str] = set()
    _unique(problems, [(f"halls[{i}].name", h.name) for i, h in enumerate(s.halls)])
    # Row groups and CDUs are named site-wide (workloads, workcells and events use the names).
    _unique(
        problems,
        [
            (f"halls[{i}].rows[{j}].name", r.name)
            for i, h in enumerate(s.halls)
            for j, r in enumerate(h.rows)
        ],
    )
    _unique(
        problems,
        [
            (f"halls[{i}].cdus[{j}].name", unit)
            for i, h in enumerate(s.halls)
            for j, c in enumerate(h.cdus)
            for unit in dict.fromkeys([c.name, *cdu_unit_names(c.name, c.count)])
        ],
        what="CDU name",
    )
    for i, hall in enumerate(s.halls):
        where = f"halls[{i}]"
        groups = {c.name: c for c in hall.cdus}
        for j, group in enumerate(hall.cdus):
            if group.type not in s.cdu_types:
                problems.append(
                    Problem(
                        f"{where}.cdus[{j}].type", unknown_name("CDU type", group.type, s.cdu_types)
                    )
                )
            cdu_names.update(cdu_unit_names(group.name, group.count))
        rows_on_group: dict[str, int] = {}
        hall_load_kw = 0.0
        for j, rows in enumerate(hall.rows):
            row_where = f"{where}.rows[{j}]"
            row_group_names.add(rows.name)
            rack = s.rack_types.get(rows.rack_type)
            if rack is None:
                problems.append(
                    Problem(
                        f"{row_where}.rack_type",
                        unknown_name("rack type", rows.rack_type, s.rack_types),
                    )
                )
            else:
                hall_load_kw += rack.nameplate_kw * rows.count * rows.racks_per_row
            if rows.cdu not in groups:
                problems.append(
                    Problem(
                        f"{row_where}.cdu",
                        unknown_name(f"CDU group in hall {hall.name!r}", rows.cdu, groups),
                    )
                )
                continue
            rows_on_group[rows.cdu] = rows_on_group.get(rows.cdu, 0) + rows.count
            if rack is not None and rows.rows_per_cdu * rows.racks_per_row * rack.nameplate_kw > (
                s.cdu_types[groups[rows.cdu].type].capacity_kw * 1.0001
                if groups[rows.cdu].type in s.cdu_types
                else float("inf")
            ):
                problems.append(
                    Problem(
                        row_where,
                        (
                            f"{rows.rows_per_cdu} row(s) of {rows.racks_per_row} racks "
                            f"({rows.rows_per_cdu * rows.racks_per_row * rack.nameplate_kw:,.0f}"
                            " kW) "
                            f"exceed one {groups[rows.cdu].type} CDU "
                            f"({s.cdu_types[groups[rows.cdu].type].capacity_kw:,.0f} kW)"
                        ),
                    )
                )
        index = {c.name: j for j, c in enumerate(hall.cdus)}
        for name, row_count in rows_on_group.items():
            group = groups[name]
            served = sum(-(-r.count // r.rows_per_cdu) for r in hall.rows if r.cdu == name)
            if served != group.count:
                problems.append(
                    Problem(
                        f"{where}.cdus[{index[name]}].count",
                        (
                            f"CDU group {name!r} has count = {group.count} but its "
                            f"{row_count} row(s) need {served} CDU(s) (count of rows / "
                            f"rows_per_cdu); set count = {served}"
                        ),
                    )
                )
        for name in sorted(groups.keys() - rows_on_group.keys(), key=index.__getitem__):
            problems.append(
                Problem(
                    f"{where}.cdus[{index[name]}]",
                    (
                        f"CDU group {name!r} serves no rows; name it in a row group's cdu key "
                        "or remove it"
                    ),
                )
            )
        el = hall.electrical
        spec = s.power.distribution_transformer
        usable = el.transformers - el.transformer_redundancy
        if usable < 1:
            problems.append(
                Problem(
                    f"{where}.electrical.transformer_redundancy", "leaves no working transformer"
                )
            )
        elif usable * spec.rating_kva * _POWER_FACTOR < hall_load_kw:
            problems.append(
                Problem(
                    f"{where}.electrical.transformers",
                    (
                        f"{usable} working x {spec.rating_kva:,.0f} kVA "
                        f"(N+{el.transformer_redundancy}) cannot carry the hall's "
                        f"{hall_load_kw:,.0f} kW IT nameplate at power factor {_POWER_FACTOR}"
                    ),
                )
            )
        ups_usable = el.ups_modules - el.ups_redundancy
        if ups_usable < 1:
            problems.append(
                Problem(f"{where}.electrical.ups_redundancy", "leaves no working UPS module")
            )
        elif ups_usable * s.power.ups.module_rating_kw < hall_load_kw:
            problems.append(
                Problem(
                    f"{where}.electrical.ups_modules",
                    (
                        f"{ups_usable} working x {s.power.ups.module_rating_kw:,.0f} kW "
                        f"(N+{el.ups_redundancy}) cannot carry the hall's {hall_load_kw:,.0f} kW"
                    ),
                )
            )

    site_it_kw = it_nameplate_kw(s)
    mt = s.power.main_transformers
    usable = mt.units - mt.redundancy
    if usable < 1:
        problems.append(
            Problem("power.main_transformers.redundancy", "leaves no working transformer")
        )
    elif usable * mt.rating_kva * _POWER_FACTOR < site_it_kw:
        problems.append(
            Problem(
                "power.main_transformers.units",
                (
                    f"{usable} working x {mt.rating_kva:,.0f} kVA (N+{mt.redundancy}) cannot carry "
                    f"the site's {site_it_kw:,.0f} kW IT nameplate"
                ),
            )
        )
    p = s.power
    for where, got, want, bus in (
        (
            "power.main_transformers.hv_kv",
            mt.hv_kv,
            p.utility.voltage_kv,
            "the utility feed (power.utility.voltage_kv)",
        ),
        (
            "power.distribution_transformer.hv_kv",
            p.distribution_transformer.hv_kv,
            mt.lv_kv,
            "the main transformers' LV side (power.main_transformers.lv_kv)",
        ),
        (
            "power.plant_transformers.hv_kv",
            p.plant_transformers.hv_kv,
            mt.lv_kv,
            "the main transformers' LV side (power.main_transformers.lv_kv)",
        ),
    ):
        if abs(got - want) > 1e-6 * want:
            problems.append(
                Problem(
                    where,
                    (f"{got:g} kV does not match {bus}, {want:g} kV; the voltages must agree"),
                )
            )
    if p.plant_transformers.units - p.plant_transformers.redundancy < 1:
        problems.append(
            Problem("power.plant_transformers.redundancy", "leaves no working transformer")
        )

    for i, w in enumerate(s.workloads):
        for j, hall_name in enumerate(w.halls):
            if hall_name not in hall_names:
                problems.append(
                    Problem(
                        f"workloads[{i}].halls[{j}]", unknown_name("hall", hall_name, hall_names)
                    )
                )
        for j, group_name in enumerate(w.row_groups):
            if group_name not in row_group_names:
                problems.append(
                    Problem(
                        f"workloads[{i}].row_groups[{j}]",
                        unknown_name("row group", group_name, row_group_names),
                    )
                )
    _unique(problems, [(f"workloads[{i}].name", w.name) for i, w in enumerate(s.workloads)])
    _unique(problems, [(f"workcells[{i}].name", c.name) for i, c in enumerate(s.workcells)])
    for i, cell in enumerate(s.workcells):
        _unique(
            problems,
            [(f"workcells[{i}].robots[{j}].name", r.name) for j, r in enumerate(cell.robots)],
        )
    for i, cell in enumerate(s.workcells):
        if cell.hall is not None and cell.hall not in hall_names:
            problems.append(
                Problem(f"workcells[{i}].hall", unknown_name("hall", cell.hall, hall_names))
            )
        for j, group_name in enumerate(cell.served_by):
            if group_name not in row_group_names:
                problems.append(
                    Problem(
                        f"workcells[{i}].served_by[{j}]",
                        unknown_name("row group", group_name, row_group_names),
                    )
                )
        for j, robot in enumerate(cell.robots):
            if robot.idle_power_w > robot.peak_power_w:
                problems.append(
                    Problem(
                        f"workcells[{i}].robots[{j}].idle_power_w", "must not exceed peak_power_w"
                    )
                )
            allowed = ROBOT_MODELS[cell.kind]
            if robot.model not in allowed:
                home = next(kind for kind, models in ROBOT_MODELS.items() if robot.model in models)
                problems.append(
                    Problem(
                        f"workcells[{i}].robots[{j}].model",
                        (
                            f"{cell.kind} cells hold {' or '.join(map(repr, allowed))} robots; "
                            f"{robot.model!r} robots work in {home} cells"
                        ),
                    )
                )
        problems += _workcell_kind_problems(i, cell, hall_names)
    service_halls: dict[str, int] = {}
    for i, cell in enumerate(s.workcells):
        if cell.kind != "service" or cell.hall is None:
            continue
        if cell.hall in service_halls:
            problems.append(
                Problem(
                    f"workcells[{i}].hall",
                    (
                        f"hall {cell.hall!r} already has its service cell at "
                        f"workcells[{service_halls[cell.hall]}]; one fleet serves a hall"
                    ),
                )
            )
        else:
            service_halls[cell.hall] = i
    # rack names are spelled out from the site, which must be sound for that
    problems += event_problems(s, s.events, racks_known=not problems)
    problems += [
        Problem(
            f"events[{i}].at_s",
            (
                "a demand-response curtails from the site's import baseline, which the first step "
                "measures: schedule it after the start (e.g. '1s')"
            ),
        )
        for i, event in enumerate(s.events)
        if isinstance(event, DemandResponse) and event.at_s <= 0
    ]
    return problems


def event_target_names(
    s: Scenario, kind: str, racks_known: bool = True
) -> dict[str, tuple[str, list[str]]]:
    """What the name-valued fields of an event of ``kind`` may name on this site: per
    field, what a name stands for and the names there are (``{"target": ("CDU",
    [...])}`` for a pump trip); empty for kinds that name nothing. ``racks_known``: the
    site is sound enough to name its racks."""
    halls = [h.name for h in s.halls]
    if kind in CDU_EVENT_KINDS:
        return {
            "target": (
                "CDU",
                [unit for h in s.halls for c in h.cdus for unit in cdu_unit_names(c.name, c.count)],
            )
        }
    if kind in ("power-cap", "transformer-fail", "transformer-restore", "ups-fail", "ups-restore"):
        return {"target": ("hall", halls)}
    if kind == "workload-surge":
        return {
            "halls": ("hall", halls),
            "row_groups": ("row group", [r.name for h in s.halls for r in h.rows]),
        }
    if kind in ("workcell-e-stop", "workcell-reset"):
        return {"target": ("workcell", [c.name for c in s.workcells])}
    if kind == "service-dispatch" and racks_known:
        return {"target": ("rack", rack_names(s))}
    return {}


def event_problems(
    s: Scenario,
    events: list[Event],
    duration_s: float | None = None,
    where: str = "events",
    racks_known: bool = True,
) -> list[Problem]:
    """Events whose targets the site lacks, whose unit counts exceed what is installed, or
    (given the run's ``duration_s``) that fall after the run ends; the GUI and ``twin run``
    check their events here too. ``racks_known``: the site is sound enough to name its
    racks (``load`` checked it)."""
    hall_names = [h.name for h in s.halls]
    hr = s.heat_rejection
    problems: list[Problem] = []
    for i, event in enumerate(events):
        at = f"{where}[{i}]"
        kind = event.kind
        if duration_s is not None and event.at_s > duration_s:
            problems.append(
                Problem(
                    f"{at}.at_s", (f"{event.at_s:g} s is after the run ends ({duration_s:g} s)")
                )
            )
        unknown = False
        for field, (what, names) in event_target_names(s, kind, racks_known).items():
            value = getattr(event, field)
            for path, name in (
                [(f"{at}.{field}[{j}]", v) for j, v in enumerate(value)]
                if isinstance(value, list)
                else [(f"{at}.{field}", value)]
            ):
                if name is not None and name not in names:
                    problems.append(Problem(path, unknown_name(what, name, names)))
                    unknown = True
        if isinstance(event, DryCoolerFailure | ChillerTrip):
            installed = (
                hr.dry_coolers.count if isinstance(event, DryCoolerFailure) else hr.chillers.count
            )
            if kind.endswith(("-fail", "-trip")) and event.units > installed:
                problems.append(
                    Problem(f"{at}.units", (f"{event.units} exceeds the {installed} installed"))
                )
        elif isinstance(event, GeneratorFailure):
            if event.units > s.power.generators.units:
                problems.append(
                    Problem(
                        f"{at}.units",
                        (
                            f"{event.units} exceeds the {s.power.generators.units} generator sets "
                            "installed"
                        ),
                    )
                )
        elif isinstance(event, UtilityOutage):
            if event.generators_failing_to_start > s.power.generators.units:
                problems.append(
                    Problem(
                        f"{at}.generators_failing_to_start",
                        (
                            f"{event.generators_failing_to_start} exceeds the "
                            f"{s.power.generators.units} generator sets installed"
                        ),
                    )
                )
        elif isinstance(event, HallElectricalFailure) and kind.endswith("-fail") and not unknown:
            el = s.halls[hall_names.index(event.target)].electrical
            what, installed = (
                ("transformers", el.transformers)
                if kind.startswith("t")
                else ("UPS modules", el.ups_modules)
            )
            if event.units >= installed:
                problems.append(
                    Problem(
                        f"{at}.units",
                        (
                            f"{event.units} of the hall's {installed} {what} would leave none "
                            "in service (a hall blackout is a utility-outage or cdu-loss "
                            "matter, not modelled here)"
                        ),
                    )
                )
    return problems


def _workcell_kind_problems(i: int, cell: Workcell, hall_names: list[str]) -> list[Problem]:
    """What each kind of cell must and must not have."""
    where = f"workcells[{i}]"
    problems = []
    if cell.kind == "service":
        if len(cell.robots) > 1:
            problems.append(
                Problem(
                    f"{where}.robots",
                    (
                        f"a service cell is one fleet of alike robots: give them as one entry with "
                        f"a count, not {len(cell.robots)} entries"
                    ),
                )
            )
        if cell.hall is None:
            problems.append(
                Problem(
                    f"{where}.hall",
                    (
                        "a service cell's robots work in a hall: name it "
                        f"(known: {', '.join(hall_names)})"
                    ),
                )
            )
        if cell.served_by:
            problems.append(
                Problem(
                    f"{where}.served_by",
                    (
                        "service robots are sent by the racks that trip, not paced by an AI; "
                        "served_by belongs to assembly and humanoid cells"
                    ),
                )
            )
    elif "repair_time_s" in cell.model_fields_set:
        problems.append(
            Problem(
                f"{where}.repair_time_s",
                f"only service cells repair racks; this is a {cell.kind} cell",
            )
        )
    if cell.conveyor is not None:
        if cell.kind != "assembly":
            problems.append(
                Problem(
                    f"{where}.conveyor",
                    f"only assembly cells have a conveyor; this is a {cell.kind} cell",
                )
            )
        else:
            longest = WORKCELL_SIZE_M["assembly"][0] - 2 * CONVEYOR_END_GAP_M
            if cell.conveyor.length_m > longest:
                problems.append(
                    Problem(
                        f"{where}.conveyor.length_m",
                        (
                            f"{cell.conveyor.length_m:g} m does not fit the assembly cell's "
                            f"{WORKCELL_SIZE_M['assembly'][0]:g} m floor; at most {longest:g} m"
                        ),
                    )
                )
    return problems


# Apparent to real power of modern IT loads with active PFC power supplies.


_POWER_FACTOR = 0.95


def it_nameplate_kw(s: Scenario) -> float:
    total = 0.0
    for hall in s.halls:
        for rows in hall.rows:
            rack = s.rack_types.get(rows.rack_type)
            if rack is not None:
                total += rack.nameplate_kw * rows.count * rows.racks_per_row
    return total


def _unique(problems: list[Problem], named: list[tuple[str, str]], what: str = "name") -> None:
    """Report every (path, name) whose name was already used at an earlier path."""
    first: dict[str, str] = {}
    reported: set[str] = set()
    for where, name in named:
        if name in first:
            if first[name] != where and where not in reported:
                reported.add(where)
                problems.append(
                    Problem(
                        where,
                        (
                            f"the {what} {name!r} is already used at {first[name]}; "
                            "names must be unique"
                        ),
                    )
                )
        else:
            first[name] = where
