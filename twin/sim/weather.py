"""Outdoor weather over the simulated calendar: dry-bulb and wet-bulb temperature.

Synthetic, from the scenario's monthly normals: monthly means interpolated between
mid-month days (no steps at month ends), a diurnal swing with its minimum near sunrise
(06:00 local) and its maximum mid-afternoon (15:00), and seeded day-to-day anomalies
(AR(1), lag-one correlation 0.7) interpolated between day centres. Humidity keeps the
day's vapour pressure (the dew point) constant through the day, so relative humidity
falls as the afternoon warms, as it does outdoors. Wet-bulb from Stull (2011).
Or an hourly CSV (columns time, dry_bulb_c, wet_bulb_c) interpolated linearly.

Every value is a function of simulated time only, so it does not depend on dt or on how
steps are batched.
"""

from __future__ import annotations

import csv
import io
import itertools
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path

import numpy as np

from twin import inputs
from twin.scenario import Problem, Scenario, ScenarioError

SECONDS_PER_DAY = 86400.0
DAYS_PER_YEAR = 365.0
MID_MONTH_DAY = np.array(
    [15.5, 45.0, 74.5, 105.0, 135.5, 166.0, 196.5, 227.5, 258.0, 288.5, 319.0, 349.5]
)  # day of year (0-based) of each month's middle
DIURNAL_MIN_HOUR = 6.0
DIURNAL_MAX_HOUR = 15.0
ANOMALY_CORRELATION = 0.7  # day-to-day persistence of temperature anomalies
_DAYS_PER_BLOCK = 366
KNOT_S = 60.0  # weather is evaluated every simulated minute and interpolated between
# a century of hourly rows is about 40 MB: a larger file is not a weather series
MAX_HOURLY_CSV_BYTES = 64 * 1024 * 1024


def stull_wet_bulb_c(dry_bulb_c: np.ndarray | float, rh_pct: np.ndarray | float) -> np.ndarray:
    """Wet-bulb temperature, C: Stull, J. Appl. Meteor. Climatol. 50 (2011) 2267-2269.

    Fitted for 5-99 % relative humidity and -20..50 C at sea-level pressure; within
    about 1 K there. Never above the dry-bulb.
    """
    t = np.asarray(dry_bulb_c, dtype=float)
    rh = np.clip(rh_pct, 5.0, 99.0)
    tw = (
        t * np.arctan(0.151977 * np.sqrt(rh + 8.313659))
        + np.arctan(t + rh)
        - np.arctan(rh - 1.676331)
        + 0.00391838 * rh**1.5 * np.arctan(0.023101 * rh)
        - 4.686035
    )
    return np.minimum(tw, t)


def saturation_vapour_pressure_kpa(t_c: np.ndarray | float) -> np.ndarray:
    """Magnus formula over water (Alduchov and Eskridge 1996), kPa."""
    t = np.asarray(t_c, dtype=float)
    return 0.61094 * np.exp(17.625 * t / (t + 243.04))


def diurnal_shape(local_hour: np.ndarray | float) -> np.ndarray:
    """-0.5 at 06:00, +0.5 at 15:00, half-cosines rising over 9 h and falling over 15 h."""
    h = np.mod(np.asarray(local_hour, dtype=float) - DIURNAL_MIN_HOUR, 24.0)
    rise = DIURNAL_MAX_HOUR - DIURNAL_MIN_HOUR
    rising = -0.5 * np.cos(np.pi * h / rise)
    falling = 0.5 * np.cos(np.pi * (h - rise) / (24.0 - rise))
    return np.where(h < rise, rising, falling)


@dataclass(slots=True)
class Weather:
    start: datetime
    monthly_dry_bulb_c: np.ndarray
    monthly_range_k: np.ndarray
    monthly_rh_pct: np.ndarray
    noise_k: float
    seed: int
    hourly: tuple[np.ndarray, np.ndarray, np.ndarray] | None = None  # time_s, db, wb
    _anomalies: list[float] = field(default_factory=list)
    _knot: int = -1
    _knot_values: tuple[tuple[float, float], tuple[float, float]] = ((0.0, 0.0), (0.0, 0.0))

    @classmethod
    def from_scenario(cls, s: Scenario, seed: int) -> Weather:
        c = s.climate
        hourly = read_hourly_csv(hourly_csv_path(s), s.scenario.start) if c.hourly_csv else None
        return cls(
            s.scenario.start,
            np.asarray(c.monthly_dry_bulb_c, float),
            np.asarray(c.monthly_diurnal_range_k, float),
            np.asarray(c.monthly_relative_humidity_pct, float),
            c.weather_noise_k,
            seed,
            hourly,
        )

    def local_hour(self, time_s: float) -> int:
        start = self.start
        seconds = start.hour * 3600 + start.minute * 60 + start.second + time_s
        return int(seconds // 3600) % 24

    def _day_of_year(self, time_s: np.ndarray | float) -> np.ndarray:
        first = self.start.timetuple().tm_yday - 1
        start_s = self.start.hour * 3600 + self.start.minute * 60 + self.start.second
        return first + (start_s + np.asarray(time_s, dtype=float)) / SECONDS_PER_DAY

    def _monthly(self, values: np.ndarray, day: np.ndarray) -> np.ndarray:
        return np.interp(np.mod(day, DAYS_PER_YEAR), MID_MONTH_DAY, values, period=DAYS_PER_YEAR)

    def _anomaly(self, day_index: int) -> tuple[float, float]:
        """Seeded AR(1) daily anomalies, K, of a day and the next, generated in order as
        far as needed."""
        needed = day_index + 3
        while len(self._anomalies) < needed:
            block = len(self._anomalies) // _DAYS_PER_BLOCK
            shocks = np.random.default_rng([self.seed, 271828, block]).standard_normal(
                _DAYS_PER_BLOCK
            )
            scale = self.noise_k * np.sqrt(1.0 - ANOMALY_CORRELATION**2)
            value = self._anomalies[-1] if self._anomalies else self.noise_k * shocks[0]
            for shock in shocks:
                self._anomalies.append(value)
                value = ANOMALY_CORRELATION * value + scale * shock
        return self._anomalies[day_index], self._anomalies[day_index + 1]

    def at(self, time_s: float) -> tuple[float, float]:
        """(dry-bulb C, wet-bulb C) at ``time_s`` seconds after the scenario start.

        Evaluated on a one-minute grid and interpolated linearly between grid points
        (weather changes far more slowly), still a function of time alone.
        """
        knot = int(time_s // KNOT_S)
        if knot != self._knot:
            # a step to the next knot keeps the value there (a minute's steps)
            start = (
                self._knot_values[1]
                if knot == self._knot + 1 and self._knot >= 0
                else self.exact_at(knot * KNOT_S)
            )
            self._knot = knot
            self._knot_values = (start, self.exact_at((knot + 1) * KNOT_S))
        w = time_s / KNOT_S - knot
        (db0, wb0), (db1, wb1) = self._knot_values
        return db0 + (db1 - db0) * w, wb0 + (wb1 - wb0) * w

    def exact_at(self, time_s: float) -> tuple[float, float]:
        """(dry-bulb C, wet-bulb C) evaluated directly at ``time_s``."""
        if self.hourly is not None:
            t, db, wb = self.hourly
            return float(np.interp(time_s, t, db)), float(np.interp(time_s, t, wb))
        day = self._day_of_year(time_s)
        mean = self._monthly(self.monthly_dry_bulb_c, day)
        swing = self._monthly(self.monthly_range_k, day)
        rh_mean = self._monthly(self.monthly_rh_pct, day)
        elapsed_days = max(time_s, 0.0) / SECONDS_PER_DAY
        index = int(elapsed_days)
        w = elapsed_days - index
        pair = self._anomaly(index)
        anomaly = pair[0] * (1.0 - w) + pair[1] * w
        hour = (day - np.floor(day)) * 24.0
        daily_mean = mean + anomaly
        dry = daily_mean + swing * diurnal_shape(hour)
        vapour_kpa = rh_mean / 100.0 * saturation_vapour_pressure_kpa(daily_mean)
        rh = np.clip(100.0 * vapour_kpa / saturation_vapour_pressure_kpa(dry), 5.0, 100.0)
        return float(dry), float(stull_wet_bulb_c(dry, rh))


def hourly_csv_path(s: Scenario) -> Path:
    """The scenario's weather CSV: ``twin.scenario.load`` makes a relative path absolute
    against the scenario file's folder; a scenario read from text alone has no folder."""
    path = Path(s.climate.hourly_csv or "")
    if not path.is_absolute():
        raise ScenarioError(
            s.scenario.name,
            [
                Problem(
                    "climate.hourly_csv",
                    (
                        f"the relative path {str(path)!r} needs the scenario's file to "
                        "resolve against; load the scenario from its file"
                    ),
                )
            ],
        )
    return path


def check_hourly_csv(s: Scenario) -> int | None:
    """Read the scenario's weather CSV, if it names one, as a run would, and return its
    number of rows: a ScenarioError lists every problem (``twin check``, ``twin run`` and
    the window check it before anything starts)."""
    if not s.climate.hourly_csv:
        return None
    return len(read_hourly_csv(hourly_csv_path(s), s.scenario.start)[0])


def read_hourly_csv(path: Path, start: datetime) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Read ``time, dry_bulb_c, wet_bulb_c``; time is ISO 8601 local time at the site.

    The file must be a regular UTF-8 file of at most ``MAX_HOURLY_CSV_BYTES``; problems
    name lines and columns, never the file's text."""
    source = f"{path} (climate.hourly_csv)"
    try:
        text = inputs.read_text(path, MAX_HOURLY_CSV_BYTES)
    except inputs.InputFileError as exc:
        raise ScenarioError(source, [Problem("", str(exc))]) from None
    problems: list[Problem] = []
    times, dry, wet = [], [], []
    expected = ["time", "dry_bulb_c", "wet_bulb_c"]
    reader = csv.reader(io.StringIO(text, newline=""))
    try:
        header = next(reader, None)
        if header is None or [h.strip() for h in header] != expected:
            raise ScenarioError(
                source,
                [
                    Problem(
                        "line 1",
                        (
                            f"the header must be {','.join(expected)}"
                            + (
                                f" (this file's has {len(header)} column{'s' * (len(header) != 1)} "
                                "named otherwise)"
                                if header
                                else " (the file is empty)"
                            )
                        ),
                    )
                ],
            )
        for row in reader:
            line = reader.line_num
            if len(row) != 3:
                problems.append(Problem(f"line {line}", f"needs 3 values, got {len(row)}"))
                continue
            try:
                when = datetime.fromisoformat(row[0].strip())
            except ValueError:
                problems.append(
                    Problem(
                        f"line {line}",
                        ("time is not an ISO 8601 date and time such as 2026-08-01T13:00"),
                    )
                )
                continue
            try:
                db, wb = float(row[1]), float(row[2])
            except ValueError:
                problems.append(Problem(f"line {line}", "temperatures must be numbers"))
                continue
            if not (np.isfinite(db) and np.isfinite(wb) and -60 <= db <= 60 and wb <= db + 0.5):
                problems.append(
                    Problem(
                        f"line {line}",
                        (
                            f"need -60 <= dry_bulb_c <= 60 C and wet_bulb_c <= dry_bulb_c "
                            f"(got {db:g}, {wb:g})"
                        ),
                    )
                )
                continue
            times.append((when.replace(tzinfo=None) - start.replace(tzinfo=None)).total_seconds())
            dry.append(db)
            wet.append(min(wb, db))
    except csv.Error as exc:  # e.g. a field larger than the csv module's limit
        problems.append(
            Problem(
                f"line {reader.line_num}",
                (f"is not CSV this file's columns can be read from ({type(exc).__name__})"),
            )
        )
    if len(problems) > 20:
        problems = [*problems[:20], Problem("", f"... and {len(problems) - 20} more")]
    if not problems and len(times) < 2:
        problems.append(Problem("", "needs at least two rows"))
    if not problems and any(b <= a for a, b in itertools.pairwise(times)):
        problems.append(Problem("time", "times must increase from row to row"))
    if problems:
        raise ScenarioError(source, problems)
    return np.asarray(times), np.asarray(dry), np.asarray(wet)
