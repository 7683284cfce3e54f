"""The scenario schema: what a scenario TOML file may say, with units in every key.

Each model forbids unknown keys, checks ranges and cross-references, and carries the
physical meaning of each field in its description. Default values name their source
(see the built-in scenarios and the README's references); where no public figure was
found the default is a documented engineering choice and stays a parameter.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date, datetime
from functools import cache
from itertools import pairwise
from typing import Annotated, Any, Literal

from pydantic import (
    AfterValidator,
    BaseModel,
    BeforeValidator,
    ConfigDict,
    Field,
    model_validator,
)
from pydantic_core import PydanticCustomError

from twin.scenario.units import parse_duration


def _duration_seconds(value: object) -> object:
    if isinstance(value, str):
        return parse_duration(value)
    if isinstance(value, bool):
        raise ValueError("a duration is a number of seconds or a string like '15min'")
    return value


Duration = Annotated[float, BeforeValidator(_duration_seconds), Field(ge=0)]
"""Seconds; TOML may give a number of seconds or a string such as ``"6h"``."""

Name = Annotated[str, Field(min_length=1, max_length=64, pattern=r"^[A-Za-z0-9][A-Za-z0-9_.-]*$")]
Fraction = Annotated[float, Field(ge=0.0, le=1.0)]
Celsius = Annotated[float, Field(ge=-60.0, le=150.0)]
Positive = Annotated[float, Field(gt=0.0)]
NonNegative = Annotated[float, Field(ge=0.0)]


def _increasing(values: list[float]) -> list[float]:
    if any(b <= a for a, b in pairwise(values)):
        raise ValueError(f"values must be strictly increasing (got {values})")
    return values


CONSISTENCY_ERROR = "consistency"
"""Error type of the cross-field checks below; ``ctx`` names the offending ``field`` (and
``index`` for one entry of a list) so that reports point at the key, not at its table."""


def _inconsistent(field: str, message: str, index: int | None = None) -> PydanticCustomError:
    ctx: dict[str, Any] = {"field": field}
    if index is not None:
        ctx["index"] = index
    # The message is literal text: escape braces so they are not taken as placeholders.
    return PydanticCustomError(
        CONSISTENCY_ERROR, message.replace("{", "{{").replace("}", "}}"), ctx
    )


class _WrongType:
    """Stands in for ``true`` or ``"12"`` given where a number is meant, or ``"yes"`` or
    ``1`` where true/false is meant, so that pydantic (which would coerce them) reports a
    type error at the key, alongside all other errors."""

    __slots__ = ("value",)

    def __init__(self, value: object):
        self.value = value

    def __repr__(self) -> str:
        if isinstance(self.value, bool):
            return "true" if self.value else "false"  # as TOML writes it
        return repr(self.value)


@cache
def _typed_fields(model: type[BaseModel]) -> dict[str, Any]:
    """Fields typed int, float or bool, except durations (which accept strings like "6h")."""
    return {
        name: field.annotation
        for name, field in model.model_fields.items()
        if field.annotation in (int, float, bool)
        and not any(isinstance(m, BeforeValidator) for m in field.metadata)
    }


def _wrong_type(expected: type, value: object) -> bool:
    if expected is bool:
        return not isinstance(value, bool)
    return isinstance(value, bool | str)


class Strict(BaseModel):
    # Numbers must be finite: a NaN or an infinity in a scenario is always a mistake.
    model_config = ConfigDict(
        extra="forbid", frozen=True, populate_by_name=True, allow_inf_nan=False
    )

    @model_validator(mode="before")
    @classmethod
    def _no_coercion(cls, data: Any) -> Any:
        if not isinstance(data, dict):
            return data
        typed = _typed_fields(cls)
        bad = {k: _WrongType(v) for k, v in data.items() if k in typed and _wrong_type(typed[k], v)}
        return {**data, **bad} if bad else data


# --------------------------------------------------------------------------- site


class ScenarioInfo(Strict):
    name: Name
    title: str = Field(min_length=1, max_length=120)
    description: str = ""
    seed: int = Field(0, ge=0, le=2**63 - 1, description="seed of every random stream")
    start: datetime = Field(description="local civil time at the site when the run starts")


class Site(Strict):
    name: str = Field(min_length=1)
    latitude_deg: float = Field(ge=-90, le=90)
    longitude_deg: float = Field(ge=-180, le=180)
    utc_offset_h: float = Field(ge=-12, le=14)
    elevation_m: float = Field(0.0, ge=-500, le=6000)
    # An assumption, not a published figure: an operator on site around the clock (the
    # Uptime Institute's Operational Sustainability standard asks 24x7 qualified staff
    # on site for Tier III/IV) sees the trip alarm, checks the cooling and powers the
    # rack on from its BMC within half an hour.
    operator_reset_s: Duration = Field(
        1800.0,
        description=(
            "after a rack trips and no service robot of its hall takes it, the time until "
            "the site's operators power it on again"
        ),
    )


Monthly = Annotated[list[float], Field(min_length=12, max_length=12)]
"""Twelve values, January first; the aliases below also bound each month."""
MonthlyDryBulb = Annotated[
    list[Annotated[float, Field(ge=-60, le=60)]], Field(min_length=12, max_length=12)
]
MonthlyRange = Annotated[
    list[Annotated[float, Field(ge=0, le=40)]], Field(min_length=12, max_length=12)
]
MonthlyHumidity = Annotated[
    list[Annotated[float, Field(ge=1, le=100)]], Field(min_length=12, max_length=12)
]


class Climate(Strict):
    """Synthetic weather from monthly normals with a diurnal swing, or an hourly CSV."""

    monthly_dry_bulb_c: MonthlyDryBulb = Field(description="monthly mean dry-bulb, January first")
    monthly_diurnal_range_k: MonthlyRange = Field(description="mean daily max minus daily min")
    monthly_relative_humidity_pct: MonthlyHumidity
    weather_noise_k: NonNegative = Field(1.0, le=10, description="std of day-to-day anomaly")
    hourly_csv: str | None = Field(
        None, description="CSV with columns time, dry_bulb_c, wet_bulb_c; replaces the normals"
    )


class Coolant(Strict):
    tcs_fluid: Literal["water", "PG25"] = Field(
        "PG25", description="technology cooling system fluid (rack side of the CDUs)"
    )
    facility_fluid: Literal["water", "PG25"] = "water"
    pressure_kpa: float = Field(200.0, ge=100, le=1000, description="absolute, for properties")


# --------------------------------------------------------------------------- IT


class RackType(Strict):
    description: str = ""
    gpus: int = Field(ge=1, le=1024)
    gpu_tdp_w: Positive = Field(le=5000)
    gpu_idle_w: NonNegative
    other_power_kw: NonNegative = Field(description="CPUs, switches, NICs, fans at full load")
    other_idle_power_kw: NonNegative
    liquid_fraction: Fraction = Field(description="share of rack heat into the cold plates")
    gpu_thermal_resistance_k_per_w: Positive = Field(le=1.0, description="junction to coolant")
    gpu_time_constant_s: Positive = Field(le=600)
    gpu_throttle_c: Celsius
    gpu_throttle_release_c: Celsius
    gpu_critical_c: Celsius
    coolant_volume_l: Positive = Field(description="coolant held in the rack's cold plates")
    design_flow_lpm: Positive
    design_pressure_drop_kpa: Positive = Field(description="branch drop at the design flow")
    tokens_per_s_per_gpu: NonNegative = Field(description="useful work at full clocks")
    footprint_m: tuple[Positive, Positive] = (0.6, 1.2)
    height_m: Positive = 2.3

    @property
    def nameplate_kw(self) -> float:
        return self.gpus * self.gpu_tdp_w / 1000.0 + self.other_power_kw

    @model_validator(mode="after")
    def _consistent(self) -> RackType:
        if self.gpu_idle_w >= self.gpu_tdp_w:
            raise _inconsistent(
                "gpu_idle_w",
                (f"{self.gpu_idle_w:g} W must be below gpu_tdp_w ({self.gpu_tdp_w:g} W)"),
            )
        if self.other_idle_power_kw > self.other_power_kw:
            raise _inconsistent(
                "other_idle_power_kw",
                (
                    f"{self.other_idle_power_kw:g} kW must not exceed other_power_kw "
                    f"({self.other_power_kw:g} kW)"
                ),
            )
        if not self.gpu_throttle_release_c < self.gpu_throttle_c < self.gpu_critical_c:
            field = (
                "gpu_throttle_release_c"
                if self.gpu_throttle_release_c >= self.gpu_throttle_c
                else "gpu_critical_c"
            )
            raise _inconsistent(
                field,
                (
                    "need gpu_throttle_release_c < gpu_throttle_c < gpu_critical_c (hysteresis); "
                    f"got {self.gpu_throttle_release_c:g} °C, {self.gpu_throttle_c:g} °C, "
                    f"{self.gpu_critical_c:g} °C"
                ),
            )
        return self


class GpuManagement(Strict):
    power_cap_fraction: Fraction = Field(1.0, description="cap as a fraction of TDP")
    smoothing_enabled: bool = False
    smoothing_floor_fraction: Fraction = Field(0.6, description="floor as a fraction of TDP")
    smoothing_ramp_up_w_per_s: Positive = 2000.0
    smoothing_ramp_down_w_per_s: Positive = 500.0
    throttle_power_fraction: Fraction = Field(
        0.7, description="power a throttling GPU is held to, fraction of its demand"
    )


class TrainingWorkload(Strict):
    name: Name
    kind: Literal["training"]
    halls: list[Name] = Field(min_length=1)
    row_groups: list[Name] = Field(default_factory=list)
    compute_utilization: Fraction = 0.95
    comm_utilization: Fraction = 0.15
    iteration_period_s: Positive = Field(2.0, le=3600)
    comm_fraction: Fraction = Field(0.3, description="share of each iteration in communication")
    checkpoint_interval_s: Duration = 1800.0
    checkpoint_duration_s: Duration = 60.0
    checkpoint_utilization: Fraction = 0.1
    start_s: Duration = 0.0

    @model_validator(mode="after")
    def _checkpoint_fits(self) -> TrainingWorkload:
        # a checkpoint closes each interval: it must leave the interval time to train
        duration, interval = self.checkpoint_duration_s, self.checkpoint_interval_s
        if duration > 0 and not duration < interval:
            raise _inconsistent(
                "checkpoint_duration_s",
                (
                    f"{duration:g} s must be shorter than checkpoint_interval_s "
                    f"({interval:g} s): a checkpoint closes each interval (0 for none)"
                ),
            )
        return self


class InferenceWorkload(Strict):
    name: Name
    kind: Literal["inference"]
    halls: list[Name] = Field(min_length=1)
    row_groups: list[Name] = Field(default_factory=list)
    peak_utilization: Fraction = 0.85
    trough_utilization: Fraction = 0.35
    peak_hour: float = Field(14.0, ge=0, lt=24, description="local hour of peak demand")
    noise: Fraction = Field(0.05, description="std of seeded demand noise, fraction of peak")
    noise_time_constant_s: Positive = 300.0

    @model_validator(mode="after")
    def _order(self) -> InferenceWorkload:
        if self.trough_utilization > self.peak_utilization:
            raise _inconsistent(
                "trough_utilization",
                (
                    f"{self.trough_utilization:g} must not exceed peak_utilization "
                    f"({self.peak_utilization:g})"
                ),
            )
        return self


Workload = Annotated[TrainingWorkload | InferenceWorkload, Field(discriminator="kind")]


# --------------------------------------------------------------------------- cooling


class CduType(Strict):
    description: str = ""
    capacity_kw: Positive
    pumps: int = Field(2, ge=1, le=8, description="installed pumps")
    pumps_required: int = Field(1, ge=1, le=8, description="N of N+1: pumps run together")
    pump_shutoff_head_kpa: Positive = Field(description="head at zero flow, full speed")
    pump_design_flow_lpm: Positive = Field(description="per pump at the design point")
    pump_design_head_kpa: Positive
    pump_efficiency: Fraction = 0.65
    pump_min_speed: Fraction = Field(0.15, description="Vertiv CoolChip: 15 % minimum")
    hx_ua_kw_per_k: Positive = Field(description="UA of the counterflow plate exchanger")
    hx_pressure_drop_kpa: Positive = Field(60.0, description="secondary side at design flow")
    secondary_volume_l: Positive = Field(description="coolant in the CDU, manifolds and pipes")
    supply_setpoint_c: Celsius = 35.0
    dp_setpoint_kpa: Positive = Field(description="branch differential pressure setpoint")
    facility_design_flow_lpm: Positive
    facility_valve_equal_percentage: Fraction = Field(
        0.0,
        description="the facility valve's inherent characteristic: 0 linear, 1 equal "
        "percentage, between a blend (twin.sim.control.valve_flow_fraction)",
    )
    facility_valve_rangeability: float = Field(
        50.0,
        ge=10.0,
        le=200.0,
        description="of the equal-percentage part: its flow at full over that at zero "
        "opening (globe valves 30-50; IEC 60534-2-4, Fisher Control Valve Handbook)",
    )

    @model_validator(mode="after")
    def _pumps(self) -> CduType:
        if self.pumps_required > self.pumps:
            raise _inconsistent(
                "pumps_required", (f"{self.pumps_required} must not exceed pumps ({self.pumps})")
            )
        if self.pump_design_head_kpa >= self.pump_shutoff_head_kpa:
            raise _inconsistent(
                "pump_design_head_kpa",
                (
                    f"{self.pump_design_head_kpa:g} kPa must be below pump_shutoff_head_kpa "
                    f"({self.pump_shutoff_head_kpa:g} kPa)"
                ),
            )
        return self


class CduGroup(Strict):
    name: Name
    type: Name
    count: int = Field(1, ge=1, le=10_000)


class RowGroup(Strict):
    name: Name
    count: int = Field(ge=1, le=10_000, description="rows in the group")
    racks_per_row: int = Field(ge=1, le=200)
    rack_type: Name
    cdu: Name = Field(description="CDU group that serves these rows")
    rows_per_cdu: int = Field(1, ge=1, le=100)


class HallElectrical(Strict):
    transformers: int = Field(ge=1, le=10_000, description="22.9 kV / LV unit substations")
    transformer_redundancy: int = Field(1, ge=0, description="spare units (1 = N+1)")
    ups_modules: int = Field(ge=1, le=100_000)
    ups_redundancy: int = Field(1, ge=0)


class Hall(Strict):
    name: Name
    origin_m: tuple[float, float] = (0.0, 0.0)
    rack_pitch_m: Positive = 0.6
    row_pitch_m: Positive = Field(3.0, description="cold aisle + rack + hot aisle")
    air_volume_m3: Positive
    crah_capacity_kw: Positive = Field(description="air-side cooling, fan walls and CRAHs")
    crah_fan_power_kw: NonNegative = Field(description="at full airflow")
    room_setpoint_c: Celsius = 27.0
    cdus: list[CduGroup] = Field(min_length=1)
    rows: list[RowGroup] = Field(min_length=1)
    electrical: HallElectrical


class FacilityWater(Strict):
    supply_setpoint_c: Celsius = Field(description="ASHRAE W-class: max facility supply")
    volume_m3: Positive
    pump_design_flow_lps: Positive
    pump_design_head_kpa: Positive
    pump_efficiency: Fraction = 0.75
    pump_static_head_fraction: Annotated[float, Field(ge=0.0, lt=1.0)] = Field(
        0.3,
        description="share of the design head held whatever the flow: the remote CDU's "
        "differential-pressure setpoint (engineering choice; with 0.3 half flow takes 24 % of "
        "design power, within the 30 % ASHRAE 90.1-2019 6.5.4.2 allows)",
    )
    pump_min_flow_fraction: Fraction = Field(
        0.3,
        description="least flow the drives run at, over design: a 20 Hz minimum on a "
        "60 Hz drive is a third of rated speed (engineering choice)",
    )


class DryCoolers(Strict):
    count: int = Field(ge=0, le=100_000)
    capacity_kw: Positive = Field(description="per unit at the design approach")
    design_approach_k: Positive = Field(10.0, description="Energies 2023 16 3661: median 10 K")
    fan_power_kw: NonNegative = Field(description="per unit at full speed")
    min_speed: Fraction = 0.2


class CoolingTowers(Strict):
    count: int = Field(0, ge=0, le=100_000)
    capacity_kw: Positive = 5000.0
    design_approach_k: Positive = Field(5.0, description="open tower to wet-bulb")
    fan_power_kw_per_kw: NonNegative = Field(0.015, description="0.012-0.021 kW/kW survey")
    water_l_per_kwh: NonNegative = Field(1.6, description="evaporation + blowdown")


def quadratic(c: Sequence[float], x: float) -> float:
    """A performance curve c1 + c2 x + c3 x^2 (EnergyPlus Curve:Quadratic)."""
    return c[0] + c[1] * x + c[2] * x * x


def biquadratic(c: Sequence[float], x: float, y: float) -> float:
    """A performance curve c1 + c2 x + c3 x^2 + c4 y + c5 y^2 + c6 x y (Curve:Biquadratic)."""
    return c[0] + c[1] * x + c[2] * x * x + c[3] * y + c[4] * y * y + c[5] * x * y


Biquadratic = Annotated[list[float], Field(min_length=6, max_length=6)]
Range = Annotated[list[float], Field(min_length=2, max_length=2)]


class ChillerCurves(Strict):
    """DOE-2 electric-chiller curves (EnergyPlus Chiller:Electric:EIR), t = leaving chilled
    water C, a = outdoor air entering the condenser C, p = part-load ratio:
    CAPFT and EIRFT = c1 + c2 t + c3 t^2 + c4 a + c5 a^2 + c6 t a, EIRFPLR = c1 + c2 p + c3 p^2.
    Defaults: ASHRAE 90.1 Appendix G air-cooled chiller curves (AirCooled_Chiller_2010_PathA
    CAPFT and EIRFT, AirCooled_Chiller_AllCapacities_2004_2010_EIRFPLR; D. Lord 2010), as
    NREL openstudio-standards ships them (data/ashrae_90_1.curves.json)."""

    capft: Biquadratic = Field(
        [1.0433825, 0.0407073, 0.0004506, -0.0041514, -8.86e-05, -0.0003467],
        description="available capacity over rated, of leaving water and outdoor air",
    )
    eirft: Biquadratic = Field(
        [0.5961915, -0.0099496, 0.0007888, 0.0004506, 0.0004875, -0.0007623],
        description="full-load electric input ratio over rated, of leaving water and air",
    )
    eirfplr: Annotated[list[float], Field(min_length=3, max_length=3)] = Field(
        [0.141, 0.655, 0.203], description="electric input at part load over full load"
    )
    leaving_water_range_c: Range = Field(
        [5.0, 10.0], description="validity of the curves in leaving water; clamped to it"
    )
    ambient_range_c: Range = Field(
        [12.7, 51.67], description="validity of the curves in outdoor air; clamped to it"
    )

    @model_validator(mode="after")
    def _ranges(self) -> ChillerCurves:
        for name in ("leaving_water_range_c", "ambient_range_c"):
            low, high = getattr(self, name)
            if not low < high:
                raise _inconsistent(name, f"[{low:g}, {high:g}] must run from low to high")
        (t_low, t_high), (a_low, a_high) = self.leaving_water_range_c, self.ambient_range_c
        grid = [
            (t_low + (t_high - t_low) * i / 10, a_low + (a_high - a_low) * j / 10)
            for i in range(11)
            for j in range(11)
        ]
        for name in ("capft", "eirft"):
            if any(biquadratic(getattr(self, name), t, a) <= 0 for t, a in grid):
                raise _inconsistent(name, "must stay positive over the validity ranges")
        if any(quadratic(self.eirfplr, p / 10) <= 0 for p in range(11)):
            raise _inconsistent("eirfplr", "must stay positive for part loads 0 to 1")
        # EnergyPlus's convention: the curves are 1 at the rating point. AHRI 550/590 rates
        # air-cooled chillers at 6.7 C (44 F) leaving water and 35 C (95 F) outdoor air.
        for name in ("capft", "eirft"):
            value = biquadratic(getattr(self, name), 6.67, 35.0)
            if abs(value - 1.0) > 0.05:
                raise _inconsistent(
                    name,
                    (
                        f"gives {value:.3f} at the AHRI 550/590 rating point (6.7 C leaving "
                        "water, 35 C air); normalize it to 1 there (within 5 %)"
                    ),
                )
        if abs(quadratic(self.eirfplr, 1.0) - 1.0) > 0.05:
            raise _inconsistent(
                "eirfplr",
                (
                    f"gives {quadratic(self.eirfplr, 1.0):.3f} at full load; normalize it to 1 "
                    "there (within 5 %)"
                ),
            )
        return self


class Chillers(Strict):
    """Air-cooled chillers on the DOE-2 model (``twin.sim.chillers``): the CRAHs' chilled
    water, and trim of the facility water when the dry coolers cannot hold it."""

    count: int = Field(ge=0, le=10_000)
    capacity_kw: Positive = Field(
        description="cooling capacity per unit at AHRI 550/590 rating: 6.7 C leaving "
        "chilled water, 35 C outdoor air"
    )
    reference_cop: Positive = Field(
        2.96,
        description="full-load COP at AHRI 550/590 rating; ASHRAE 90.1-2019 Table "
        "6.8.1-3, air-cooled, path A: EER 10.1 = COP 2.96",
    )
    max_cop: Positive = Field(
        8.0,
        description="cap on any COP the curves give: air-cooled chillers rarely exceed "
        "~8-10 even at low lift (AHRI/ASHRAE tables, vendor data)",
    )
    curves: ChillerCurves = Field(
        ChillerCurves(), description="performance curves, normalized at the AHRI rating"
    )
    min_load_fraction: Fraction = Field(
        0.2, description="minimum part-load ratio: below it the compressor cycles"
    )
    chilled_water_supply_c: Celsius = Field(
        18.0, description="chilled water for the halls' CRAH coils (air side)"
    )
    chilled_water_delta_t_k: Positive = Field(
        6.7, description="design return over supply; ASHRAE 90.1 Appendix G: 44 F / 56 F"
    )
    chilled_water_volume_m3: Positive = 50.0
    economizer: bool = Field(
        True,
        description="waterside economizer: its dry coolers pre-cool the chilled-water "
        "return when the outdoor air is cold enough (ASHRAE 90.1 6.5.1.2)",
    )
    economizer_approach_k: Positive = Field(
        12.0,
        description="economizer water over outdoor dry-bulb: a dry cooler's 10 K "
        "(Energies 2023, 16, 3661: median) plus ~2 K across the plate exchanger",
    )


class HeatRejection(Strict):
    dry_coolers: DryCoolers
    chillers: Chillers
    cooling_towers: CoolingTowers = CoolingTowers()


# --------------------------------------------------------------------------- power


class Curve(Strict):
    load_pct: Annotated[
        list[Annotated[float, Field(gt=0, le=200)]], AfterValidator(_increasing)
    ] = Field(min_length=2)
    efficiency_pct: list[Annotated[float, Field(ge=50, le=100)]] = Field(min_length=2)

    @model_validator(mode="after")
    def _shape(self) -> Curve:
        if len(self.load_pct) != len(self.efficiency_pct):
            raise _inconsistent(
                "efficiency_pct",
                (
                    f"has {len(self.efficiency_pct)} values but load_pct has "
                    f"{len(self.load_pct)}; they need the same length"
                ),
            )
        return self


class Utility(Strict):
    voltage_kv: Positive = 154.0
    import_cap_mw: Positive
    carbon_kg_per_kwh: NonNegative = Field(description="grid emission factor")
    tariff_krw_per_kwh: Annotated[list[float], Field(min_length=24, max_length=24)] = Field(
        description="time-of-use energy price for each local hour, 0-23"
    )


class TransformerSpec(Strict):
    rating_kva: Positive
    hv_kv: Positive
    lv_kv: Positive
    no_load_loss_kw: NonNegative
    load_loss_kw: NonNegative = Field(description="copper loss at rated load")
    impedance_pct: Positive = Field(8.0, le=30)
    xr_ratio: Positive = 10.0


class MainTransformers(TransformerSpec):
    units: int = Field(ge=1, le=1000)
    redundancy: int = Field(1, ge=0)


class Ups(Strict):
    module_rating_kw: Positive
    mode: Literal["double-conversion", "eco"] = "double-conversion"
    efficiency: Curve
    eco_efficiency_pct: float = Field(99.0, ge=90, le=100)
    battery_ride_through_s: NonNegative = 300.0


class Busway(Strict):
    rating_a: Positive = Field(description="per row busway")
    voltage_v: Positive = 415.0
    loss_kw_at_rating: NonNegative = Field(description="I^2 R loss at rated current")


class Bess(Strict):
    energy_mwh: NonNegative
    power_mw: NonNegative
    round_trip_efficiency: Fraction = 0.88
    soc_min: Fraction = 0.1
    soc_max: Fraction = 0.95
    initial_soc: Fraction = 0.8
    peak_shaving: bool = True
    peak_shaving_margin_mw: NonNegative = Field(1.0, description="discharge above cap - margin")
    smoothing: bool = True
    smoothing_time_constant_s: Positive = 30.0

    @model_validator(mode="after")
    def _soc(self) -> Bess:
        if not self.soc_min < self.soc_max:
            raise _inconsistent(
                "soc_min", (f"{self.soc_min:g} must be below soc_max ({self.soc_max:g})")
            )
        if not self.soc_min <= self.initial_soc <= self.soc_max:
            raise _inconsistent(
                "initial_soc",
                (
                    f"{self.initial_soc:g} must lie between soc_min ({self.soc_min:g}) and "
                    f"soc_max ({self.soc_max:g})"
                ),
            )
        return self


class ShelfStorage(Strict):
    """Energy storage in the racks' power shelves, serving the fast part of each rack's
    draw (GB300 NVL72's PSUs with storage, NVIDIA developer blog: "up to 30 %" less peak
    grid demand). Off unless a scenario sets it; no per-rack size is published, so the
    size and the rest are the site's figures (``twin.sim.shelf_storage``)."""

    j_per_gpu: Positive = Field(description="usable energy per GPU of the rack, J")
    time_constant_s: Positive = Field(
        description=("the rack's feed follows a low-pass of its draw with this time constant")
    )
    efficiency: float = Field(
        gt=0.0, le=1.0, description=("one-way efficiency of moving energy into or out of the store")
    )


class Generators(Strict):
    units: int = Field(ge=0, le=10_000)
    rating_mw: Positive
    start_delay_s: NonNegative = Field(
        10.0,
        description=(
            "utility loss to a set on the bus: crank, run-up, transfer (NFPA 110 Type 10)"
        ),
    )
    ramp_mw_per_s: Positive = 0.5
    crank_lockout_s: Positive = Field(
        75.0,
        description=(
            "a set that does not start is locked out (failed) after this long: NFPA 110 "
            "cycle cranking, three 15 s cranks with 15 s rests"
        ),
    )
    fail_to_start_probability: Fraction = Field(
        0.0,
        description=(
            "chance per demand that a set fails to start, drawn from the scenario's seed; "
            "0 (off) unless the scenario says (NRC NUREG-0933 B-56: nuclear EDGs started "
            "0.94 per demand, goal 0.99)"
        ),
    )
    fuel_l_per_kwh: NonNegative = 0.27
    carbon_kg_per_kwh: NonNegative = 0.7


class Power(Strict):
    utility: Utility
    main_transformers: MainTransformers
    distribution_transformer: TransformerSpec
    plant_transformers: MainTransformers
    ups: Ups
    busway: Busway
    rack_psu: Curve
    bess: Bess
    generators: Generators
    shelf_storage: ShelfStorage | None = None  # off: the racks draw straight through


class TariffChoice(Strict):
    """The site's electricity tariff (``twin.grid``): a tariff file and the site's choices
    in it. Bills are made from the run's grid import; ``cost_krw_per_h`` stays the hourly
    marginal price of ``power.utility.tariff_krw_per_kwh``."""

    file: str = Field(
        min_length=1,
        description=(
            "a shipped tariff's name (kepco-industrial-b, kepco-industrial-c) or the path of a "
            "tariff TOML file, relative to the scenario's folder"
        ),
    )
    option: Literal["I", "II", "III"] = Field(
        description=("KEPCO's options: I under 200 h use a month, II 200-500 h, III over 500 h")
    )
    contract_demand_kw: Positive = Field(description="contracted demand")
    ratchet_peak_kw: NonNegative = Field(
        0.0,
        description=(
            "highest 15-minute demand of the tariff's ratchet months in the 12 months before "
            "the run (from past bills); 0 when none"
        ),
    )
    reform_date: date | None = Field(
        None,
        description=(
            "the day the tariff's last schedule starts for this site, when it defers it "
            "(KEPCO's 2026 time-of-use reform: to 2026-09-30 at the latest)"
        ),
    )
    fuel_cost_adjustment_krw_per_kwh: float | None = Field(
        None,
        ge=-100,
        le=100,
        description=("this quarter's fuel-cost adjustment, replacing the tariff file's"),
    )


class DemandResponseProgramme(Strict):
    """The site's KPX demand-response programme (``twin.grid.dr``): how its dispatches (the
    scenario's ``demand-response`` events) are baselined and settled. Prices and the
    penalty's shape are the site's contract, not published KPX figures."""

    programme: Literal["reliability", "economic", "plus"] = Field(
        description=(
            "reliability: mandatory reduction when dispatched, paid for capacity; economic: a "
            "bid reduction; plus: consumption raised in surplus hours"
        )
    )
    registered_kw: Positive = Field(description="the reduction (plus: increase) registered")
    baseline_days: int = Field(
        5,
        ge=1,
        le=30,
        description=("similar days before the dispatch the baseline looks at (KPX Max(4/5): 5)"),
    )
    baseline_kept_days: int = Field(
        4, ge=1, le=30, description=("of those, the days averaged (Max(4/5): 4)")
    )
    baseline_pick: Literal["highest", "middle"] = Field(
        "highest",
        description=(
            "which days are kept, ranked by their load in the dispatched hours: the highest "
            "(Max(4/5)) or the middle ones (Mid(6/10))"
        ),
    )
    capacity_krw_per_kw_month: NonNegative = Field(
        0.0, description=("reliability DR: monthly payment per registered kW")
    )
    energy_krw_per_kwh: NonNegative = Field(
        description=("paid per kWh delivered (the SMP, or the accepted bid)")
    )
    penalty_below_fraction: Fraction = Field(
        0.7,
        description=("a dispatch delivering less than this share of its commitment pays a penalty"),
    )
    penalty_krw_per_kwh: NonNegative = Field(
        0.0, description=("penalty per kWh short of that share")
    )
    generators_allowed: bool = Field(
        False,
        description=(
            "whether the programme lets the site run its generator sets in parallel with the "
            "grid to deliver a reduction; they are then the last lever, after the GPUs"
        ),
    )

    @model_validator(mode="after")
    def _kept(self) -> DemandResponseProgramme:
        if self.baseline_kept_days > self.baseline_days:
            raise _inconsistent(
                "baseline_kept_days",
                (f"{self.baseline_kept_days} must not exceed baseline_days ({self.baseline_days})"),
            )
        return self


# --------------------------------------------------------------------------- robots


WORKCELL_SIZE_M = {
    "assembly": (8.0, 6.0, 0.3),
    "humanoid": (6.0, 6.0, 0.3),
    "service": (4.0, 4.0, 0.3),
}
"""Floor of each kind of workcell (east-west, north-south, height of its raised floor)."""
CONVEYOR_END_GAP_M = 0.2  # a conveyor stops short of the cell's walls at both ends
ROBOT_MODELS = {
    "assembly": ("ur10e", "industrial-arm"),
    "humanoid": ("cloid",),
    "service": ("amr",),
}
"""The robot models each kind of workcell holds."""


class Robot(Strict):
    name: Name
    model: Literal["ur10e", "industrial-arm", "cloid", "amr"]
    count: int = Field(1, ge=1, le=1000)
    idle_power_w: NonNegative = Field(description="controller, sensors and computer, standing")
    peak_power_w: Positive = Field(
        description=(
            "rated electrical power; an arm's draw comes from its motion, a service robot draws "
            "this while it works at a rack"
        )
    )
    battery_wh: NonNegative = Field(0.0, description="0: fed by cable, no battery")


class Conveyor(Strict):
    """The belt an assembly cell's arms stand along, running east through the cell."""

    length_m: Positive
    part_spacing_m: float = Field(
        0.6,
        gt=0.1,
        le=5.0,
        description=(
            "between parts on the belt; the belt moves one spacing per pick and place "
            "(engineering choice: a 0.3 m part with as much free belt again)"
        ),
    )


class Workcell(Strict):
    name: Name
    kind: Literal["assembly", "humanoid", "service"]
    origin_m: tuple[float, float]
    hall: Name | None = Field(
        None,
        description=(
            "the hall a service cell's robots work in; any cell in a hall gives its heat to "
            "the hall's air"
        ),
    )
    served_by: list[Name] = Field(default_factory=list, description="row groups running its AI")
    robots: list[Robot] = Field(min_length=1)
    conveyor: Conveyor | None = Field(
        None, description=("assembly cells only; by default a belt the whole length of the cell")
    )
    first_pass_yield: Fraction = Field(
        1.0,
        description=("share of good parts, the quality factor of OEE; 1 unless the scenario says"),
    )
    repair_time_s: Duration = Field(
        1200.0,
        description=(
            "service cells: a robot's work at a tripped rack (engineering choice: swap a "
            "compute tray or a power shelf, ~20 min)"
        ),
    )


# --------------------------------------------------------------------------- events


class _Event(Strict):
    at_s: Duration = Field(description="time after the start, e.g. '6h'")


class PumpTrip(_Event):
    kind: Literal["pump-trip", "pump-restore"]
    target: Name = Field(description="a CDU name such as H1-CDU-03")
    pumps: int = Field(1, ge=1, le=8)


class CduLoss(_Event):
    kind: Literal["cdu-loss", "cdu-restore"]
    target: Name


class Heatwave(_Event):
    kind: Literal["heatwave"]
    offset_k: float = Field(ge=-30, le=30)
    duration_s: Duration


class PowerCap(_Event):
    kind: Literal["power-cap"]
    fraction: Fraction
    target: Name | None = Field(None, description="a hall; all racks when omitted")


class Smoothing(_Event):
    kind: Literal["power-smoothing"]
    enabled: bool


class DemandResponse(_Event):
    kind: Literal["demand-response"]
    curtail_mw: Positive
    duration_s: Duration


class GridCap(_Event):
    kind: Literal["grid-cap"]
    import_cap_mw: Positive


class UtilityOutage(_Event):
    kind: Literal["utility-outage"]
    duration_s: Duration
    generators_failing_to_start: int = Field(
        0,
        ge=0,
        le=10_000,
        description=(
            "sets that fail to start on this demand (the last ones of those available), on "
            "top of any the scenario's fail_to_start_probability draws"
        ),
    )


class GeneratorFailure(_Event):
    """Generator sets out of service (a set that trips while running, one locked out for
    maintenance), or back: a set restored during an outage starts and joins the others."""

    kind: Literal["generator-fail", "generator-restore"]
    units: int = Field(1, ge=1, le=10_000)


class ValveStuck(_Event):
    """A CDU's facility-water valve seizes: it stays where it is (or at ``position``) whatever
    its controller asks, until released."""

    kind: Literal["valve-stuck", "valve-release"]
    target: Name = Field(description="a CDU name such as H1-CDU-03")
    position: Fraction | None = Field(
        None, description="opening it sticks at, 0-1; its present opening when omitted"
    )


class CoolantLeak(_Event):
    """Coolant escapes a CDU's secondary loop (rack manifolds, hoses, the CDU itself); leak
    detection sees it at once. A repair stops the leak and tops the loop up."""

    kind: Literal["coolant-leak", "leak-repair"]
    target: Name = Field(description="a CDU name such as H1-CDU-03")
    rate_lpm: NonNegative = Field(
        0.0, le=1000, description="coolant lost; a pinhole drips < 0.1, a burst hose ~100"
    )

    @model_validator(mode="after")
    def _rate(self) -> CoolantLeak:
        if self.kind == "coolant-leak" and self.rate_lpm <= 0:
            raise _inconsistent("rate_lpm", "a coolant-leak needs a rate above zero")
        return self


class FilterClog(_Event):
    """A CDU's strainer fouls: the resistance in series with its racks (exchanger, manifolds,
    strainer) rises linearly to ``factor`` times design over ``ramp_s``; cleaning resets it."""

    kind: Literal["filter-clog", "filter-clean"]
    target: Name = Field(description="a CDU name such as H1-CDU-03")
    factor: float = Field(4.0, ge=1.0, le=100.0, description="resistance over design")
    ramp_s: Duration = Field(3600.0, description="time to reach the factor, 0 at once")


class DryCoolerFailure(_Event):
    kind: Literal["dry-cooler-fail", "dry-cooler-restore"]
    units: int = Field(1, ge=1, le=100_000, description="dry coolers whose fans stop")


class ChillerTrip(_Event):
    kind: Literal["chiller-trip", "chiller-restore"]
    units: int = Field(1, ge=1, le=10_000)


class WorkloadSurge(_Event):
    """Extra utilization on some racks for a while (a new training job, a traffic spike)."""

    kind: Literal["workload-surge"]
    halls: list[Name] = Field(min_length=1)
    row_groups: list[Name] = Field(default_factory=list, description="all rows when empty")
    utilization_step: float = Field(
        ge=-1.0, le=1.0, description="added to the racks' utilization, then clipped to 0-1"
    )
    duration_s: Duration = Field(gt=0)


class HallElectricalFailure(_Event):
    """Unit-substation transformers or UPS modules of a hall out of service: the units left
    share the load (higher loading and copper loss)."""

    kind: Literal["transformer-fail", "transformer-restore", "ups-fail", "ups-restore"]
    target: Name = Field(description="a hall name")
    units: int = Field(1, ge=1, le=100_000)


class WorkcellStop(_Event):
    kind: Literal["workcell-e-stop", "workcell-reset"]
    target: Name = Field(description="a workcell name")


class ServiceDispatch(_Event):
    """Send the hall's service fleet to a rack (an inspection or a swap) as for a trip."""

    kind: Literal["service-dispatch"]
    target: Name = Field(description="a rack name such as H1-R01-03")


Event = Annotated[
    PumpTrip
    | CduLoss
    | Heatwave
    | PowerCap
    | Smoothing
    | DemandResponse
    | GridCap
    | UtilityOutage
    | ValveStuck
    | CoolantLeak
    | FilterClog
    | DryCoolerFailure
    | ChillerTrip
    | WorkloadSurge
    | HallElectricalFailure
    | GeneratorFailure
    | WorkcellStop
    | ServiceDispatch,
    Field(discriminator="kind"),
]

CDU_EVENT_KINDS = frozenset(
    {
        "pump-trip",
        "pump-restore",
        "cdu-loss",
        "cdu-restore",
        "valve-stuck",
        "valve-release",
        "coolant-leak",
        "leak-repair",
        "filter-clog",
        "filter-clean",
    }
)
"""Kinds whose ``target`` names one CDU."""


# --------------------------------------------------------------------------- calibration


class CalibratedParameter(Strict):
    """One parameter of a ``twin calibrate`` run: the value written into ``field`` and
    how well the data determined it."""

    field: str = Field(min_length=1, description="the scenario key it sets, dotted")
    value: float
    prior: float = Field(description="the value before calibration")
    std: NonNegative | None = Field(
        None, description="one standard deviation; none when the parameter was left at its prior"
    )
    fitted: bool
    unit: str = ""
    note: str = Field("", description="why it was left at its prior, or at a bound")


class Calibration(Strict):
    """What ``twin calibrate`` fitted this scenario to (written by it, read as data)."""

    data: list[str] = Field(min_length=1, description="the measurement files")
    window_s: tuple[NonNegative, NonNegative] = Field(
        description="fit window, seconds after the scenario's start"
    )
    method: str = ""
    parameters: dict[str, CalibratedParameter] = Field(default_factory=dict)

    @model_validator(mode="after")
    def _window(self) -> Calibration:
        if self.window_s[1] <= self.window_s[0]:
            raise _inconsistent(
                "window_s", f"{list(self.window_s)}: the end must come after the start"
            )
        return self


# --------------------------------------------------------------------------- root


class Scenario(Strict):
    scenario: ScenarioInfo
    site: Site
    climate: Climate
    coolant: Coolant = Coolant()
    rack_types: dict[Name, RackType] = Field(min_length=1)
    cdu_types: dict[Name, CduType] = Field(min_length=1)
    gpu_management: GpuManagement = GpuManagement()
    halls: list[Hall] = Field(min_length=1)
    facility_water: FacilityWater
    heat_rejection: HeatRejection
    power: Power
    workloads: list[Workload] = Field(default_factory=list)
    workcells: list[Workcell] = Field(default_factory=list)
    events: list[Event] = Field(default_factory=list)
    tariff: TariffChoice | None = None
    demand_response: DemandResponseProgramme | None = None
    calibration: Calibration | None = None
