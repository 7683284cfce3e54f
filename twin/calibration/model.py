"""The simulation driven by measured boundary conditions, sampled at the data's rows.

Boundary conditions taken from the data: the outdoor dry-bulb and wet-bulb
(``site/ambient_c``, ``site/wet_bulb_c``) and the IT load, each rack's AC input power
(``rack/NAME/power_kw``, or ``site/it_power_kw`` shared over the racks in proportion to
their nameplate). A rack's power is turned into the utilization that draws it through
the scenario's own PSU curve, so a PSU loss parameter moves the heat the rack puts into
its coolant as it would in the plant. Setpoints and equipment status (pump trips,
dry coolers or chillers out of service) come from the scenario's event timeline.

The model starts from the scenario's initial state a warm-up before the window and is
sampled only inside it, so its thermal states and controllers have settled onto the
plant's by then. Steps are at most ``MAX_DT_S``. As ``twin run`` writes them, a site
point's row is the mean over its interval and a component point's (``rack/...``,
``cdu/...``) the value at the interval's end; the model is sampled the same way. Inputs
are taken as interval means (a power reading from an energy meter, the site table's
weather). The weather is interpolated between interval centres. The load is
reconstructed piecewise linear within each interval, through the interval's mean with
a slope limited by both neighbours (minmod): each interval keeps its measured energy,
a ramp is followed within it, and a step (a load event) stays a step. Interpolating
between centres would carry the load after a step back into the sub-steps before it
when the model refines its steps after an event, and the PSU loss curve would fit that
artefact.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass

import numpy as np

from twin.calibration.data import DataError, Measurements, split_point
from twin.scenario import Scenario
from twin.sim.engine import Simulation
from twin.sim.live import CDU_FIELDS, PLANT_FIELDS, RACK_FIELDS
from twin.sim.snapshot import SITE_COLUMNS
from twin.sim.weather import stull_wet_bulb_c

MAX_DT_S = 30.0  # stable at any step, but the step's error (tenths of a kelvin at 30 s)
# is of the size of the parameters' effects
DEFAULT_WARMUP_S = 1800.0  # facility water's time constant is ~10 min in the built-ins
INPUT_QUANTITIES = {
    ("site", "ambient_c"),
    ("site", "wet_bulb_c"),
    ("site", "it_power_kw"),
    ("rack", "power_kw"),
}
_SITE_INDEX = {name: i for i, (name, _) in enumerate(SITE_COLUMNS)}

Getter = Callable[[Simulation], np.ndarray | float]


def _site_column(index: int) -> Getter:
    """The getter of one column of the site's values."""

    def value(sim: Simulation) -> np.ndarray | float:
        return sim.site_values()[index]

    return value


MODEL_QUANTITIES: dict[tuple[str, str], Getter] = {
    **{("rack", q): RACK_FIELDS[q] for q in ("gpu_temp_c", "outlet_temp_c", "flow_lpm")},
    **{
        ("cdu", q): CDU_FIELDS[q]
        for q in (
            "supply_c",
            "return_c",
            "flow_lpm",
            "pump_speed",
            "dp_kpa",
            "duty_kw",
            "facility_valve",
            "pump_power_kw",
        )
    },
    ("hall", "air_c"): PLANT_FIELDS["hall_air_c"],
    **{
        ("plant", q): PLANT_FIELDS[q]
        for q in (
            "fws_supply_c",
            "dry_cooler_duty_kw",
            "dry_cooler_fan_speed",
            "chiller_duty_kw",
            "tower_duty_kw",
        )
    },
    **{
        ("site", q): _site_column(_SITE_INDEX[q])
        for q in (
            "facility_power_kw",
            "cooling_power_kw",
            "electrical_loss_kw",
            "heat_rejected_kw",
            "tcs_supply_c",
            "tcs_return_c",
            "fws_supply_c",
            "gpu_temp_max_c",
        )
    },
}
"""Measured quantities the model predicts, by (kind, quantity) of the point name."""


def is_input(point: str) -> bool:
    kind, _, quantity = split_point(point)
    return (kind, quantity) in INPUT_QUANTITIES


def is_modelled(point: str) -> bool:
    kind, _, quantity = split_point(point)
    return (kind, quantity) in MODEL_QUANTITIES


def component_names(sim: Simulation, kind: str) -> list[str]:
    topo = sim.topology
    return {
        "rack": sim.rack_names,
        "cdu": list(topo.cdu_names),
        "hall": list(topo.hall_names),
        "plant": ["plant"],
        "site": ["site"],
    }.get(kind, [])


class _MeasuredWeather:
    """Outdoor conditions interpolated from the data (row means at interval centres)."""

    def __init__(
        self,
        centre_s: np.ndarray,
        dry_bulb_c: np.ndarray,
        wet_bulb_c: np.ndarray,
        local_hour: Callable[[float], int],
    ):
        self.centre_s, self.dry_bulb_c, self.wet_bulb_c = centre_s, dry_bulb_c, wet_bulb_c
        self.local_hour = local_hour

    def at(self, time_s: float) -> tuple[float, float]:
        db = float(np.interp(time_s, self.centre_s, self.dry_bulb_c))
        wb = float(np.interp(time_s, self.centre_s, self.wet_bulb_c))
        return db, min(wb, db)


class _MeasuredWorkload:
    """Each rack's utilization from its measured power: one level per step, the
    reconstruction's value at the step's middle (its mean over a step inside one
    interval)."""

    split = False

    def __init__(self, centre_s: np.ndarray, interval_s: float, utilization: np.ndarray):
        self.centre_s, self.interval_s, self.table = (
            centre_s,
            interval_s,
            utilization,
        )  # rows x racks
        self.slope = _limited_slopes(utilization, interval_s)
        n = utilization.shape[1]
        self.high, self.low, self.high_share = np.zeros(n), np.zeros(n), np.ones(n)
        self.surge = np.zeros(n)  # the measured power holds any surge already

    def utilization(self, t0: float, dt: float, out: np.ndarray) -> np.ndarray:
        t = t0 + 0.5 * dt
        # the interval holding t: its end is the first at or after t
        k = int(np.searchsorted(self.centre_s + 0.5 * self.interval_s, t))
        k = min(max(k, 0), len(self.centre_s) - 1)
        np.multiply(self.slope[k], t - self.centre_s[k], out=out)
        out += self.table[k]
        self.high[:] = out
        self.low[:] = out
        return out

    def level_changes(self, t0: float, t1: float) -> list[float]:
        """None inside a step: the reconstruction is linear within an interval and the
        steps never cross one."""
        return []


def _limited_slopes(means: np.ndarray, interval_s: float) -> np.ndarray:
    """Rows x columns: per interval, the slope (per second) of a piecewise-linear
    reconstruction of interval means: the smaller of the differences to either
    neighbour where both have one sign, else 0 (minmod; 0 at the first and last rows).
    Within an interval the reconstruction stays between its neighbours' means."""
    slopes = np.zeros_like(means)
    if means.shape[0] < 3:
        return slopes
    back = (means[1:-1] - means[:-2]) / interval_s
    ahead = (means[2:] - means[1:-1]) / interval_s
    same_sign = back * ahead > 0.0
    slopes[1:-1] = np.where(same_sign, np.sign(back) * np.minimum(np.abs(back), np.abs(ahead)), 0.0)
    return slopes


class _MeasuredSupply:
    """The facility water supply temperature interpolated from the data."""

    def __init__(self, time_s: np.ndarray, supply_c: np.ndarray):
        self.time_s, self.supply_c = time_s, supply_c

    def at(self, time_s: float) -> float:
        return float(np.interp(time_s, self.time_s, self.supply_c))


def _filled(series: np.ndarray) -> np.ndarray:
    """Gaps bridged linearly (screening has refused inputs whose gaps are too long)."""
    good = np.isfinite(series)
    if good.all():
        return series
    index = np.arange(series.size)
    return np.interp(index, index[good], series[good])


@dataclass
class ModelRun:
    rows: np.ndarray  # indices of the data rows inside the window
    values: dict[str, np.ndarray]  # point -> model value at those rows


class DrivenModel:
    """Runs a scenario over a window of the data, driven by its measured inputs."""

    def __init__(
        self,
        m: Measurements,
        start_s: float,
        end_s: float,
        points: list[str],
        warmup_s: float = DEFAULT_WARMUP_S,
        facility_supply: str = "",
        refine_step_s: float = 0.0,
    ):
        """``facility_supply``: a point of the data (``plant/plant/fws_supply_c``, the
        value at each interval's end, or ``site/fws_supply_c``, the interval's mean)
        taken as the facility water's temperature at every step instead of the
        plant's balance: the CDUs are then driven by it and do not couple through it."""
        self.m = m
        self.facility_supply = facility_supply
        self.refine_step_s = refine_step_s  # 0: the scenario's own
        if facility_supply and facility_supply not in m.values:
            raise DataError(f"the data has no {facility_supply} to drive the facility water")
        rows = np.flatnonzero(m.window(start_s, end_s))
        if rows.size < 2:
            raise DataError(
                f"the window {start_s:g}..{end_s:g} s holds {rows.size} row(s) "
                f"of the data ({m.time_s[0]:g}..{m.time_s[-1]:g} s)"
            )
        self.rows = rows
        self.first = max(int(rows[0]) - math.ceil(warmup_s / m.interval_s), 0)
        self.points = [p for p in points if is_modelled(p)]
        self.steps_per_row = max(1, math.ceil(m.interval_s / MAX_DT_S - 1e-9))
        self.dt_s = m.interval_s / self.steps_per_row
        if self.dt_s < 0.1:
            raise DataError(
                f"the data's interval {m.interval_s:g} s is shorter than the "
                "simulation's shortest step (0.1 s)"
            )
        if "site/ambient_c" not in m.values:
            raise DataError(
                "the data has no site/ambient_c (outdoor dry-bulb): the model "
                "cannot be driven without it"
            )
        rack_power = [p for p in m.points("rack") if split_point(p)[2] == "power_kw"]
        if not rack_power and "site/it_power_kw" not in m.values:
            raise DataError(
                "the data has no IT power (rack/NAME/power_kw or "
                "site/it_power_kw): the model cannot be driven without it"
            )

    def run(self, scenario: Scenario) -> ModelRun:
        m = self.m
        sim = Simulation(scenario, dt_s=self.dt_s)
        if self.refine_step_s > 0:
            sim.refine_step_s = self.refine_step_s
        span = slice(self.first, int(self.rows[-1]) + 1)
        end_s = m.time_s[span]
        centre_s = end_s - 0.5 * m.interval_s
        dry = _filled(m.values["site/ambient_c"][span])
        if "site/wet_bulb_c" in m.values:
            wet = _filled(m.values["site/wet_bulb_c"][span])
        else:  # the climate's humidity normal for the month, through Stull's wet-bulb
            month = scenario.scenario.start.month - 1
            wet = stull_wet_bulb_c(dry, scenario.climate.monthly_relative_humidity_pct[month])
        sim.drive_with(
            weather=_MeasuredWeather(centre_s, dry, wet, sim.weather.local_hour),
            workload=_MeasuredWorkload(centre_s, m.interval_s, self._utilization(sim, span)),
        )
        sim.state.time_s = float(end_s[0] - m.interval_s)
        if self.facility_supply:
            kind = split_point(self.facility_supply)[0]
            supply = _MeasuredSupply(
                end_s if kind != "site" else centre_s,
                _filled(m.values[self.facility_supply][span]),
            )
            sim.drive_with(facility_supply=supply)
            sim.state.facility_c[0] = supply.at(sim.state.time_s)
        getters: dict[tuple[str, str], list[tuple[str, int]]] = {}
        for point in self.points:
            kind, component, quantity = split_point(point)
            names = component_names(sim, kind)
            if component not in names:
                raise DataError(f"{point}: the scenario has no {kind} named {component}")
            getters.setdefault((kind, quantity), []).append((point, names.index(component)))
        out = {p: np.zeros(self.rows.size) for p in self.points}
        first_row = int(self.rows[0])
        k = self.steps_per_row
        for row in range(self.first, int(self.rows[-1]) + 1):
            sampled = row >= first_row
            for step in range(k):
                sim.step()
                if not sampled:
                    continue
                at = row - first_row
                for (kind, quantity), wanted in getters.items():
                    if kind != "site" and step < k - 1:
                        continue  # a component's row is its value at the interval's end
                    value = np.atleast_1d(MODEL_QUANTITIES[kind, quantity](sim))
                    share = 1.0 / k if kind == "site" else 1.0
                    for point, index in wanted:
                        out[point][at] += value[index] * share
        return ModelRun(self.rows, out)

    def _utilization(self, sim: Simulation, span: slice) -> np.ndarray:
        """Rows x racks: the utilization that draws each rack's measured AC power."""
        m, r = self.m, sim.racks
        names = sim.rack_names
        measured = np.empty((span.stop - span.start, len(names)))
        rack_points = [f"rack/{name}/power_kw" for name in names]
        missing = [p for p in rack_points if p not in m.values]
        if not missing:
            for j, p in enumerate(rack_points):
                measured[:, j] = _filled(m.values[p][span])
        elif "site/it_power_kw" not in m.values:
            more = f" and {len(missing) - 1} more" if len(missing) > 1 else ""
            raise DataError(
                f"the data has no {missing[0]}{more} and no site/it_power_kw: the model "
                "needs every rack's power, or the site's IT power to share among them"
            )
        else:
            site = _filled(m.values["site/it_power_kw"][span])
            share = r.nameplate_w / r.nameplate_w.sum()
            measured[:] = site[:, None] * share[None, :]
        grid = np.linspace(0.0, 1.0, 201)
        gpu_idle_w, gpu_dyn_w = r.gpus * r.gpu_idle_w, r.gpus * (r.gpu_tdp_w - r.gpu_idle_w)
        other_dyn_w = r.other_w - r.other_idle_w
        drawn_kw = np.array(
            [
                sim.power_chain.rack_input_w(
                    gpu_idle_w + u * gpu_dyn_w + r.other_idle_w + u * other_dyn_w
                )
                / 1e3
                for u in grid
            ]
        )  # grid x racks, rising with u
        util = np.empty_like(measured)
        for j in range(len(names)):
            util[:, j] = np.interp(measured[:, j], drawn_kw[:, j], grid)
        return util
