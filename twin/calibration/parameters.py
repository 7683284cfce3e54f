"""The parameters calibration may fit: name, scenario field, unit, bounds, prior, source.

A parameter's prior is the scenario's own value (its design figure, sourced in the
scenario file and ../shared/REFERENCES.md); its bounds are the range a real plant
departs from design by (an engineering choice stated beside each). Parameters are
set on the scenario's validated dictionary, so a fitted value passes the same schema
checks as a hand-written one.

Three kinds: ``value`` sets one field; ``head-scale`` scales a CDU type's pump curve
(shutoff and design head together: impeller wear, a curve that differs from the data
sheet); ``loss-scale`` scales the losses ``100 - efficiency`` of an efficiency curve at
every load point (a PSU or UPS that is worse or better than its data sheet).
"""

from __future__ import annotations

import copy
import fnmatch
from dataclasses import dataclass
from typing import Any, Literal

from pydantic import ValidationError

from twin.scenario import Scenario
from twin.scenario.schema import Scenario as ScenarioModel

Kind = Literal["value", "head-scale", "loss-scale"]

NOT_MODELLED = {
    "exchanger fouling (apart from UA)": "fouling is a loss of UA: the fitted hx_ua over "
    "design is the fouling factor",
    "per-unit CDU and rack values": "CDUs and racks take their values from their type; a "
    "calibrated value holds for every unit of that type",
    "facility valve characteristic": "a CDU type's facility_valve_equal_percentage, tracked "
    "online by twin shadow; not fitted here: its design value, a linear valve's, is 0 and "
    "the fit scales each parameter by its prior",
    "pump part-load efficiency curve": "a pump's wire-to-water efficiency is one constant",
    "dry-cooler and CRAH fan curves": "fan power follows the cube law of speed",
    "sensor offsets": "not model parameters; the online estimator tracks them",
}
"""Quantities an engineer would calibrate that the simulation has no parameter for."""


@dataclass(frozen=True)
class Parameter:
    name: str
    path: tuple[str, ...]  # into the scenario's dictionary
    unit: str
    prior: float
    lower: float
    upper: float
    source: str  # where the prior and the bounds come from
    kind: Kind = "value"

    @property
    def field(self) -> str:
        return ".".join(self.path)

    def apply(self, data: dict[str, Any], value: float) -> None:
        """Set this parameter to ``value`` in a scenario dictionary (in place)."""
        node = data
        for key in self.path[:-1]:
            node = node[key]
        key = self.path[-1]
        if self.kind == "value":
            node[key] = float(value)
        elif self.kind == "head-scale":
            cdu = node[key]
            cdu["pump_shutoff_head_kpa"] *= value
            cdu["pump_design_head_kpa"] *= value
        else:  # loss-scale of an efficiency curve
            curve = node[key]
            curve["efficiency_pct"] = [100.0 - value * (100.0 - e) for e in curve["efficiency_pct"]]


def _relative(low: float, high: float, prior: float) -> tuple[float, float]:
    return low * prior, high * prior


def registry(scenario: Scenario) -> list[Parameter]:
    """Every parameter of this scenario that calibration knows how to fit."""
    out: list[Parameter] = []

    def add(name, path, unit, prior, bounds, source, kind: Kind = "value"):
        lower, upper = bounds
        out.append(
            Parameter(
                name, tuple(path), unit, float(prior), float(lower), float(upper), source, kind
            )
        )

    design = "the scenario's design value"
    for t, cdu in scenario.cdu_types.items():
        add(
            f"cdu.{t}.hx_ua",
            ("cdu_types", t, "hx_ua_kw_per_k"),
            "kW/K",
            cdu.hx_ua_kw_per_k,
            _relative(0.3, 1.5, cdu.hx_ua_kw_per_k),
            f"{design} (a 3-5 K approach at design duty, CDU buyer checklists); fouling "
            "takes up to 70 % off, a clean unit may beat its sheet by half",
        )
        add(
            f"cdu.{t}.series_dp",
            ("cdu_types", t, "hx_pressure_drop_kpa"),
            "kPa",
            cdu.hx_pressure_drop_kpa,
            _relative(0.3, 5.0, cdu.hx_pressure_drop_kpa),
            f"{design}: exchanger, manifolds and strainer in series; a fouled strainer "
            "raises it several-fold (Vertiv CoolChip filter alarm at 0.6 bar)",
        )
        add(
            f"cdu.{t}.pump_head",
            ("cdu_types", t),
            "x data sheet",
            1.0,
            (0.6, 1.2),
            "the pump curve of the scenario (shutoff and design head) scaled together: "
            "impeller wear lowers it",
            kind="head-scale",
        )
        add(
            f"cdu.{t}.pump_efficiency",
            ("cdu_types", t, "pump_efficiency"),
            "1",
            cdu.pump_efficiency,
            (0.2, 0.9),
            f"{design} (wire-to-water; ~50-70 % for CDU pump sets, derived figure)",
        )
        add(
            f"cdu.{t}.loop_volume",
            ("cdu_types", t, "secondary_volume_l"),
            "L",
            cdu.secondary_volume_l,
            _relative(0.3, 3.0, cdu.secondary_volume_l),
            f"{design}: the loop's thermal capacitance; pipe runs are seldom known well",
        )
    for t, rack in scenario.rack_types.items():
        gpu_share = rack.gpus * rack.gpu_tdp_w / 1000.0 / rack.nameplate_kw
        add(
            f"rack.{t}.branch_dp",
            ("rack_types", t, "design_pressure_drop_kpa"),
            "kPa",
            rack.design_pressure_drop_kpa,
            _relative(0.3, 3.0, rack.design_pressure_drop_kpa),
            f"{design}: cold plates, hoses and quick disconnects at design flow",
        )
        add(
            f"rack.{t}.liquid_fraction",
            ("rack_types", t, "liquid_fraction"),
            "1",
            rack.liquid_fraction,
            (min(gpu_share + 0.01, rack.liquid_fraction), 1.0),
            f"{design} (split not published, MLCommons: GPUs, CPUs, NICs, switches on "
            "liquid); the GPUs' share of nameplate is its floor",
        )
        add(
            f"rack.{t}.coolant_volume",
            ("rack_types", t, "coolant_volume_l"),
            "L",
            rack.coolant_volume_l,
            _relative(0.3, 3.0, rack.coolant_volume_l),
            f"{design}: the rack's thermal capacitance",
        )
        add(
            f"rack.{t}.junction_resistance",
            ("rack_types", t, "gpu_thermal_resistance_k_per_w"),
            "K/W",
            rack.gpu_thermal_resistance_k_per_w,
            _relative(0.3, 3.0, rack.gpu_thermal_resistance_k_per_w),
            f"{design}: junction to coolant (Blackwell figures not published)",
        )
    fw = scenario.facility_water
    add(
        "facility_water.volume",
        ("facility_water", "volume_m3"),
        "m3",
        fw.volume_m3,
        _relative(0.3, 3.0, fw.volume_m3),
        f"{design}: the facility loop's capacitance",
    )
    add(
        "facility_water.pump_efficiency",
        ("facility_water", "pump_efficiency"),
        "1",
        fw.pump_efficiency,
        (0.3, 0.9),
        f"{design} (wire-to-water)",
    )
    hr = scenario.heat_rejection
    if hr.dry_coolers.count:
        add(
            "dry_coolers.approach",
            ("heat_rejection", "dry_coolers", "design_approach_k"),
            "K",
            hr.dry_coolers.design_approach_k,
            _relative(0.3, 3.0, hr.dry_coolers.design_approach_k),
            "Energies 2023, 16, 3661: median 10 K over 6,730 units; the conductance is "
            "capacity over approach",
        )
    if hr.chillers.count:
        add(
            "chillers.reference_cop",
            ("heat_rejection", "chillers", "reference_cop"),
            "1",
            hr.chillers.reference_cop,
            _relative(0.6, 1.6, hr.chillers.reference_cop),
            "ASHRAE 90.1-2019 Table 6.8.1-3 air-cooled minimum COP 2.96; real units "
            "2.8-3.5 at full load (AHRI/ASHRAE tables)",
        )
    p = scenario.power
    add(
        "power.rack_psu.loss",
        ("power", "rack_psu"),
        "x data sheet",
        1.0,
        (0.3, 3.0),
        "80 PLUS Titanium curve of the scenario (90/94/96/91 % at 10/20/50/100 %)",
        kind="loss-scale",
    )
    add(
        "power.ups.loss",
        ("power", "ups", "efficiency"),
        "x data sheet",
        1.0,
        (0.3, 3.0),
        "the scenario's UPS curve (vendor pages: up to 97 % double conversion)",
        kind="loss-scale",
    )
    for part in ("main_transformers", "distribution_transformer", "plant_transformers"):
        spec = getattr(p, part)
        for loss in ("no_load_loss_kw", "load_loss_kw"):
            prior = getattr(spec, loss)
            if prior > 0:
                add(
                    f"power.{part}.{loss.removesuffix('_kw')}",
                    ("power", part, loss),
                    "kW",
                    prior,
                    _relative(0.3, 3.0, prior),
                    f"{design} (EU 548/2014 Tier 2 sets maxima; typical values not collected)",
                )
    if p.busway.loss_kw_at_rating > 0:
        add(
            "power.busway.loss",
            ("power", "busway", "loss_kw_at_rating"),
            "kW",
            p.busway.loss_kw_at_rating,
            _relative(0.3, 3.0, p.busway.loss_kw_at_rating),
            f"{design}: I^2 R at rated current",
        )
    return out


def select(params: list[Parameter], patterns: list[str] | None) -> list[Parameter]:
    """The parameters named by ``patterns`` (exact names or globs such as ``cdu.*``);
    all of them without patterns. A pattern that names none is an error."""
    if not patterns:
        return list(params)
    chosen: dict[str, Parameter] = {}
    for pattern in patterns:
        hits = [p for p in params if fnmatch.fnmatchcase(p.name, pattern)]
        if not hits:
            names = ", ".join(p.name for p in params)
            raise ValueError(f"--fit {pattern} names no parameter; this scenario has: {names}")
        chosen.update((p.name, p) for p in hits)
    return list(chosen.values())


class ScenarioFactory:
    """Scenarios with some parameters set, validated by the schema each time."""

    def __init__(self, scenario: Scenario, params: list[Parameter]):
        self.base = scenario.model_dump()
        self.params = params

    def build(self, values: list[float] | tuple[float, ...]) -> Scenario:
        data = copy.deepcopy(self.base)
        for p, v in zip(self.params, values, strict=True):
            p.apply(data, v)
        try:
            return ScenarioModel.model_validate(data)
        except ValidationError as exc:
            first = exc.errors()[0]
            where = ".".join(str(x) for x in first["loc"])
            named = dict(zip([p.name for p in self.params], values, strict=True))
            raise ValueError(
                f"the parameters {named} make an invalid scenario at {where}: {first['msg']}"
            ) from None
