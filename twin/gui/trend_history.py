"""Trend history: the site figures and the selected object's values against simulated
time, for the trend panel to draw. Qt-free.

History lives in fixed memory. Every series is kept at three time scales, one for each
window offered (15 min, 1 h, 1 day): a ring of bins 0.5 s, 2 s and 48 s wide with room
for one whole window (1,800 bins and two partial ones at the edges). A bin holds the
minimum, the maximum and the mean of each series and the time of its latest sample (the
mean of the snapshots that fell in it: they come at an even pace, so it stands for the
bin's time average). A snapshot
that falls in the newest bin widens it; any other opens a new bin. A ring therefore
always spans at least its window, whatever the simulation speed: at 1× real time many
snapshots share a bin, at 3,000× each has its own and the fine rings reach back further
than their windows. Drawing a bin as its minimum and maximum at one time is what
pyqtgraph's peak downsampling does, so a one-snapshot spike survives at every scale.
The plots draw from the finest ring that still reaches back to the left edge of the
view. Each ring is mirrored (every bin is written twice, at ``i`` and ``i + capacity``)
so that its bins in time order are one contiguous slice and curves get views, not copies.

Appending costs the same whatever the history holds; redrawing is rate-limited, limited
to the bins in view, and skipped while the panel is hidden.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass

import numpy as np

from twin.sim.snapshot import Snapshot

TIME_WINDOWS: tuple[tuple[str, float], ...] = (
    ("15 min", 15 * 60.0),
    ("1 h", 3600.0),
    ("1 day", 86400.0),
)
TIME_SCALES: tuple[tuple[float, float], ...] = ((15 * 60.0, 0.5), (3600.0, 2.0), (86400.0, 48.0))
"""(window, bin width) in simulated seconds of each ring."""


@dataclass(frozen=True, slots=True)
class TrendSeries:
    label: str
    read: Callable[[Snapshot], float]
    limit: bool = False  # a cap rather than a measurement: drawn dashed in the alarm colour
    column: str = ""  # the site column it shows (``SITE_COLUMNS``), drawn for a reference run
    scale: float = 1.0  # display units per unit of ``column``


@dataclass(frozen=True, slots=True)
class TrendPlot:
    key: str
    title: str
    unit: str
    series: tuple[TrendSeries, ...]
    decimals: int | None = 1  # None: chosen from the magnitude of the value
    si_prefix: bool = False  # scale the unit (k, M, G) on the axis and in the read-out
    shown: bool = True  # shown until the user chooses otherwise


def _site(label: str, column: str, scale: float = 1.0) -> TrendSeries:
    return TrendSeries(
        label, lambda snapshot: snapshot.site[column] * scale, column=column, scale=scale
    )


SITE_PLOTS: tuple[TrendPlot, ...] = (
    TrendPlot(
        "power",
        "Power",
        "MW",
        (
            _site("IT power", "it_power_kw", 1e-3),
            _site("Facility power", "facility_power_kw", 1e-3),
            _site("Grid import", "grid_import_kw", 1e-3),
            TrendSeries("Import cap", lambda s: s.power.grid_import_cap_kw * 1e-3, limit=True),
        ),
        decimals=2,
    ),
    TrendPlot(
        "temperatures",
        "Temperature",
        "°C",
        (
            _site("Hottest GPU", "gpu_temp_max_c"),
            _site("TCS supply", "tcs_supply_c"),
            _site("TCS return", "tcs_return_c"),
            _site("Facility water", "fws_supply_c"),
        ),
    ),
    TrendPlot("pue", "PUE", "", (_site("PUE", "pue"),), decimals=3, shown=False),
    TrendPlot(
        "tokens",
        "Throughput",
        "tok/s",
        (_site("Tokens/s", "tokens_per_s"),),
        decimals=None,
        si_prefix=True,
    ),
    TrendPlot("bess", "BESS SoC", "%", (_site("State of charge", "bess_soc", 100.0),), shown=False),
    TrendPlot(
        "throttling",
        "Throttled",
        "GPUs",
        (_site("Throttled GPUs", "throttled_gpus"),),
        decimals=0,
        shown=False,
    ),
    TrendPlot(
        "cost",
        "Cost",
        "₩M/h",
        (_site("Electricity cost", "cost_krw_per_h", 1e-6),),
        decimals=2,
        shown=False,
    ),
    TrendPlot(
        "co2",
        "CO₂",
        "t/h",
        (_site("CO₂ emissions", "co2_kg_per_h", 1e-3),),
        decimals=2,
        shown=False,
    ),
)

SelectionSeries = tuple[str, str, Callable[[Snapshot], float]]
"""(label, unit, read) of one value of the selected object."""


class Ring:
    """The newest ``capacity`` bins of ``bin_s`` seconds of ``series_count`` series."""

    def __init__(self, series_count: int, bin_s: float, capacity: int) -> None:
        self.bin_s = bin_s
        self.capacity = capacity
        # Both columns of x hold the bin's time, so that x and y flatten to matching
        # (time, minimum), (time, maximum) pairs.
        self.x = np.zeros((2 * capacity, 2))
        self.y = np.zeros((series_count, 2 * capacity, 2))
        # each bin's sum of samples and count of samples (NaN left out), for its mean
        self.sums = np.zeros((series_count, 2 * capacity))
        self.counts = np.zeros((series_count, 2 * capacity))
        self.clear()

    def clear(self) -> None:
        self.head = -1
        self.count = 0
        self.bin = -1
        self.dropped = False  # True once a bin has been overwritten

    @property
    def nbytes(self) -> int:
        return self.x.nbytes + self.y.nbytes + self.sums.nbytes + self.counts.nbytes

    def add(self, time_s: float, values: np.ndarray) -> None:
        bin_ = math.floor(time_s / self.bin_s)
        known = np.isfinite(values)
        if self.count and bin_ == self.bin:
            head = self.head
            low = np.fmin(self.y[:, head, 0], values)  # fmin/fmax: a NaN sample leaves no gap
            high = np.fmax(self.y[:, head, 1], values)
            sums = self.sums[:, head] + np.where(known, values, 0.0)
            counts = self.counts[:, head] + known
        else:
            head = self.head = (self.head + 1) % self.capacity
            self.dropped |= self.count == self.capacity
            self.count = min(self.count + 1, self.capacity)
            self.bin = bin_
            low = high = values
            sums, counts = np.where(known, values, 0.0), known.astype(float)
        for i in (head, head + self.capacity):
            self.x[i] = time_s
            self.y[:, i, 0] = low
            self.y[:, i, 1] = high
            self.sums[:, i] = sums
            self.counts[:, i] = counts

    def ordered(self) -> slice:
        """Where the bins lie in time order, oldest first."""
        stop = self.head + self.capacity + 1
        return slice(stop - self.count, stop)

    def reaches(self, time_s: float) -> bool:
        """Whether the ring holds all there is at and after ``time_s``."""
        return self.count > 0 and (not self.dropped or self.x[self.ordered().start, 0] <= time_s)


class TrendHistory:
    """Fixed-memory history of ``series_count`` series at the time scales of
    ``TIME_SCALES``; see the module docstring."""

    def __init__(self, series_count: int) -> None:
        self.series_count = series_count
        self.rings = tuple(
            Ring(series_count, bin_s, math.ceil(window_s / bin_s) + 2)
            for window_s, bin_s in TIME_SCALES
        )

    @property
    def nbytes(self) -> int:
        return sum(ring.nbytes for ring in self.rings)

    @property
    def empty(self) -> bool:
        return self.rings[0].count == 0

    def append(self, time_s: float, values: np.ndarray) -> None:
        for ring in self.rings:
            ring.add(time_s, values)

    def clear(self) -> None:
        for ring in self.rings:
            ring.clear()

    def ring_for(self, left_s: float) -> Ring:
        """The finest ring that reaches back to ``left_s`` (the coarsest if none does)."""
        return next((ring for ring in self.rings if ring.reaches(left_s)), self.rings[-1])

    def window(self, ring: Ring, left_s: float, right_s: float) -> tuple[np.ndarray, np.ndarray]:
        """Views of the bins between two times, with one bin more on each side so that
        curves run to the edges: times, and per series minima and maxima interleaved
        (shape ``(series_count, 2 * bins)``)."""
        bins = self._bins(ring, left_s, right_s)
        return ring.x[bins].reshape(-1), ring.y[:, bins].reshape(self.series_count, -1)

    def means(self, ring: Ring, left_s: float, right_s: float) -> np.ndarray:
        """The bins' means of the same bins as ``window`` (shape ``(series_count, bins)``),
        NaN where a bin had no value."""
        bins = self._bins(ring, left_s, right_s)
        counts = ring.counts[:, bins]
        with np.errstate(invalid="ignore", divide="ignore"):
            return np.where(counts > 0, ring.sums[:, bins] / counts, np.nan)

    def _bins(self, ring: Ring, left_s: float, right_s: float) -> slice:
        span = ring.ordered()
        times = ring.x[span, 0]
        first = max(int(np.searchsorted(times, left_s)) - 1, 0)
        last = min(int(np.searchsorted(times, right_s, side="right")) + 1, ring.count)
        return slice(span.start + first, span.start + last)

    def at(self, ring: Ring, time_s: float) -> tuple[float, np.ndarray, np.ndarray] | None:
        """The time, minima and maxima of the bin nearest ``time_s``; None off the
        recorded span."""
        if ring.count == 0:
            return None
        span = ring.ordered()
        times = ring.x[span, 0]
        if not times[0] - ring.bin_s <= time_s <= times[-1] + ring.bin_s:
            return None
        i = int(np.searchsorted(times, time_s))
        if i == len(times) or (i > 0 and time_s - times[i - 1] < times[i] - time_s):
            i -= 1
        return float(times[i]), ring.y[:, span.start + i, 0], ring.y[:, span.start + i, 1]
