"""A pre-assessment for Korea's grid-impact assessment (전력계통영향평가): what the site
can evidence for an application, from its scenario and, when given, a run of it.

New loads of 10 MW or more (cumulative additions included) need the assessment under the
Distributed Energy Act (in force June 2024, Enforcement Decree art. 25); it scores
technical criteria (60 points: supply margin 25, difficulty of securing margin 20, ...),
non-technical (20) and policy (20). This document is NOT the official score: it gathers
the figures an engineer would attach (contracted and peak demand, ramps, load factor, the
demand response the site can offer, its swings, BESS and generator support).
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

import numpy as np

from twin.scenario import Scenario, it_nameplate_kw

ASSESSMENT_THRESHOLD_KW = 10_000.0  # Enforcement Decree art. 25: loads of 10 MW or more
# The capital region (Seoul, Incheon, Gyeonggi) as a box around it: approximate, for a flag
# only (82 % of planned data centres are there; Incheon refused all 24 applications >= 10 MW)
CAPITAL_REGION_LAT = (36.9, 38.3)
CAPITAL_REGION_LON = (126.3, 127.9)


@dataclass(frozen=True)
class Lever:
    name: str
    kw: float
    note: str


def demand_response_levers(s: Scenario) -> list[Lever]:
    """What each demand-response lever can take off the grid import for an hour, in the
    order the site pulls them (IT power at the racks; the cooling's share comes on top)."""
    from twin.sim.engine import DR_CAP_FLOOR
    from twin.sim.topology import build_topology
    from twin.sim.workload import racks_of

    bess = s.power.bess
    usable_mwh = max(bess.initial_soc - bess.soc_min, 0.0) * bess.energy_mwh
    levers = [
        Lever(
            "BESS",
            min(bess.power_mw, usable_mwh) * 1000.0,
            f"{bess.power_mw:g} MW, {usable_mwh:g} MWh above its floor at the start",
        )
    ]
    topo = build_topology(s)
    racks_in: dict[str, int] = {}
    cap_kw = {"training": [0.0, 0.0], "inference": [0.0, 0.0]}
    for w in s.workloads:
        racks = racks_of(topo, w.halls, w.row_groups)
        util = w.compute_utilization if w.kind == "training" else w.peak_utilization
        for k in racks:
            rack = s.rack_types[topo.rack_type_names[topo.rack_type[k]]]
            full = rack.gpu_idle_w + util * (rack.gpu_tdp_w - rack.gpu_idle_w)
            capped = max(DR_CAP_FLOOR * rack.gpu_tdp_w, rack.gpu_idle_w)
            cap_kw[w.kind][0] += rack.gpus * max(full - capped, 0.0) / 1000.0
            cap_kw[w.kind][1] += rack.gpus * max(min(full, capped) - rack.gpu_idle_w, 0.0) / 1000.0
        racks_in[w.kind] = racks_in.get(w.kind, 0) + len(racks)
    if racks_in.get("training"):
        levers.append(
            Lever(
                "training GPU caps",
                cap_kw["training"][0],
                f"{racks_in['training']} racks capped at "
                f"{DR_CAP_FLOOR:.0%} of TDP from full compute",
            )
        )
        levers.append(
            Lever(
                "training held at a checkpoint",
                cap_kw["training"][1],
                "the same racks from the cap down to idle",
            )
        )
    if racks_in.get("inference"):
        levers.append(
            Lever(
                "inference GPU caps",
                cap_kw["inference"][0],
                f"{racks_in['inference']} racks capped at "
                f"{DR_CAP_FLOOR:.0%} of TDP from their peak",
            )
        )
    gens = s.power.generators
    if s.demand_response is not None and s.demand_response.generators_allowed and gens.units:
        levers.append(
            Lever(
                "generator sets",
                gens.units * gens.rating_mw * 1000.0,
                f"{gens.units} x {gens.rating_mw:g} MW in parallel with the "
                f"grid, all on in {gens.start_delay_s:g} s + "
                f"{gens.rating_mw / gens.ramp_mw_per_s:g} s of ramp; the "
                "programme allows them",
            )
        )
    return levers


@dataclass(frozen=True)
class RunFigures:
    peak_15min_kw: float
    mean_kw: float
    ramp_up_kw_per_min: float
    ramp_down_kw_per_min: float
    hours: float


def run_figures(time_s: np.ndarray, grid_import_kw: np.ndarray, start: dt.datetime) -> RunFigures:
    """Peak 15-minute demand, mean, and the steepest change between consecutive rows."""
    from twin.grid.bill import QUARTER_HOUR_S

    time_s = np.asarray(time_s, dtype=float)
    power = np.asarray(grid_import_kw, dtype=float)
    begins = np.concatenate(([0.0], time_s[:-1]))
    seconds = time_s - begins
    offset = (start - start.replace(hour=0, minute=0, second=0, microsecond=0)).total_seconds()
    block = np.floor((begins + offset + 1e-6) / QUARTER_HOUR_S).astype(np.int64)
    block -= block[0]
    kwh = np.bincount(block, weights=power * seconds / 3600.0)
    peak = float(kwh.max() * 3600.0 / QUARTER_HOUR_S)
    mean = float((power * seconds).sum() / seconds.sum())
    if power.size > 1:
        slope = np.diff(power) / (np.diff(time_s) / 60.0)
        up, down = float(max(slope.max(), 0.0)), float(max(-slope.min(), 0.0))
    else:
        up = down = 0.0
    return RunFigures(peak, mean, up, down, float(time_s[-1] / 3600.0))


def in_capital_region(s: Scenario) -> bool:
    return (
        CAPITAL_REGION_LAT[0] <= s.site.latitude_deg <= CAPITAL_REGION_LAT[1]
        and CAPITAL_REGION_LON[0] <= s.site.longitude_deg <= CAPITAL_REGION_LON[1]
    )


def pre_assessment(
    s: Scenario, run: RunFigures | None = None, power_quality: str | None = None
) -> str:
    """The pre-assessment as Markdown."""
    it_kw = it_nameplate_kw(s)
    contract_kw = (
        s.tariff.contract_demand_kw
        if s.tariff is not None
        else s.power.utility.import_cap_mw * 1000.0
    )
    contract_from = (
        "the [tariff] contract demand"
        if s.tariff is not None
        else "the utility import cap (no [tariff] given)"
    )
    levers = demand_response_levers(s)
    dr_total = sum(lever.kw for lever in levers)
    gen = s.power.generators
    bess = s.power.bess
    out = [
        f"# Grid-impact pre-assessment: {s.scenario.title}",
        "",
        "**A pre-assessment, not the official score.** It gathers figures for an application "
        "under the Distributed Energy Act's grid-impact assessment (전력계통영향평가); the "
        "assessment itself (technical 60 points, non-technical 20, policy 20; above 70 to "
        "KEPCO's committee) is made by the ministry and KEPCO. Figures come from the twin's "
        "scenario" + (" and a run of it" if run else "") + "; they are only as good as the "
        "scenario's inputs.",
        "",
        "## Site",
        "",
        "| item | value |",
        "|---|---|",
        f"| site | {s.site.name} ({s.site.latitude_deg:.4f}, {s.site.longitude_deg:.4f}) |",
        f"| capital region (approximate box) | {'yes' if in_capital_region(s) else 'no'} |",
        f"| utility feed | {s.power.utility.voltage_kv:g} kV |",
        f"| IT nameplate | {it_kw / 1000:,.1f} MW |",
        f"| contracted demand | {contract_kw / 1000:,.1f} MW ({contract_from}) |",
        f"| assessment needed (load of 10 MW or more) | "
        f"{'yes' if contract_kw >= ASSESSMENT_THRESHOLD_KW else 'no'} |",
        "",
        "## Demand",
        "",
    ]
    if run is None:
        out += [
            "No run given: peak demand, ramps and load factor need `--run RUN_OUTPUT` "
            "(a `twin run` table at `--every` of 15 min or finer).",
            "",
        ]
    else:
        out += [
            "| item | value |",
            "|---|---|",
            f"| run length | {run.hours:,.1f} h |",
            f"| peak 15-minute demand | {run.peak_15min_kw / 1000:,.2f} MW "
            f"({run.peak_15min_kw / contract_kw:.0%} of contracted) |",
            f"| mean demand | {run.mean_kw / 1000:,.2f} MW |",
            f"| load factor (mean / peak) | {run.mean_kw / run.peak_15min_kw:.2f} |",
            f"| steepest ramp up / down between rows | {run.ramp_up_kw_per_min / 1000:,.2f} / "
            f"{run.ramp_down_kw_per_min / 1000:,.2f} MW/min |",
            "",
        ]
    out += [
        "## Demand response the site can offer (one hour, IT power)",
        "",
        "| lever (in the order pulled) | MW | basis |",
        "|---|---|---|",
        *[f"| {lever.name} | {lever.kw / 1000:,.2f} | {lever.note} |" for lever in levers],
        f"| **total** | **{dr_total / 1000:,.2f}** | cooling power falls with the IT load, "
        "on top |",
        "",
        "## Support on site",
        "",
        f"- BESS: {bess.power_mw:g} MW / {bess.energy_mwh:g} MWh; peak shaving "
        f"{'on' if bess.peak_shaving else 'off'}, smoothing "
        f"{'on' if bess.smoothing else 'off'} (time constant "
        f"{bess.smoothing_time_constant_s:g} s)",
        f"- generators: {gen.units} x {gen.rating_mw:g} MW, on the bus "
        f"{gen.start_delay_s:g} s after a loss of the utility, ramp "
        f"{gen.ramp_mw_per_s:g} MW/s ("
        + (
            "also the last demand-response lever: the programme allows them)"
            if any(lever.name == "generator sets" for lever in levers)
            else "backup; not offered as demand response)"
        ),
        f"- GPU power smoothing: {'on' if s.gpu_management.smoothing_enabled else 'off'} "
        f"(floor {s.gpu_management.smoothing_floor_fraction:.0%} of TDP)",
        "",
        "## Swings (power quality)",
        "",
        power_quality
        or "Not computed: `twin grid-impact --power-quality` runs the site at 0.1 s and checks "
        "its swing spectrum against the 20 % limit (arXiv 2508.14318).",
        "",
        "## What the site can evidence for the technical criteria",
        "",
        "| criterion | evidence here |",
        "|---|---|",
        f"| supply margin (25 points) | contracted {contract_kw / 1000:,.1f} MW at "
        f"{s.power.utility.voltage_kv:g} kV"
        + (
            f"; measured peak {run.peak_15min_kw / 1000:,.2f} MW, load factor "
            f"{run.mean_kw / run.peak_15min_kw:.2f}"
            if run
            else ""
        )
        + " |",
        f"| difficulty of securing margin (20 points) | demand response offered "
        f"{dr_total / 1000:,.2f} MW ({dr_total / contract_kw:.0%} of contracted); "
        f"location {'in' if in_capital_region(s) else 'outside'} the capital region |",
        "| other technical items | ramps and swings above; BESS and generator support |",
        "",
        "Non-technical and policy criteria are not assessed here.",
        "",
    ]
    return "\n".join(out)
