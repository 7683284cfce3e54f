"""Power quality of a training site's grid draw: the spectrum of its swings and a check
against a utility's limit, and the least GPU power smoothing that passes.

Synchronous training swings a site between near-TDP (compute) and near-idle
(communication) several times a second; one limit a utility has set is at most 20 %
spectral magnitude in 0.1-20 Hz (arXiv 2508.14318). twin reads it as: no component of the
grid import's spectrum in the band may exceed ``limit`` x the mean import (the amplitude
of a sinusoid, single-sided, from a flat-top window so that a swing between bins keeps
its amplitude to ~0.1 %). Only frequencies below the run's Nyquist frequency (1 / (2 dt):
5 Hz at dt 0.1 s) can be seen; the check says how much of the band it covered.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass

import numpy as np

from twin.scenario import Scenario

DEFAULT_LIMIT = 0.2  # arXiv 2508.14318: at most 20 % spectral magnitude in 0.1-20 Hz
DEFAULT_BAND_HZ = (0.1, 20.0)
# SciPy's flat-top window (a 5-term cosine sum): scalloping loss under 0.01 dB
_FLAT_TOP = (0.21557895, 0.41663158, 0.277263158, 0.083578947, 0.006947368)


@dataclass(frozen=True)
class Spectrum:
    frequency_hz: np.ndarray
    amplitude_kw: np.ndarray  # single-sided amplitude of each component
    mean_kw: float

    @property
    def relative(self) -> np.ndarray:
        return self.amplitude_kw / self.mean_kw if self.mean_kw > 0 else self.amplitude_kw * 0


@dataclass(frozen=True)
class Compliance:
    limit: float
    band_hz: tuple[float, float]  # what was asked
    seen_hz: tuple[float, float]  # what the run's step and length let be seen
    worst_relative: float
    worst_hz: float

    @property
    def passes(self) -> bool:
        return self.worst_relative <= self.limit

    def text(self) -> str:
        verdict = "passes" if self.passes else "fails"
        seen = (
            ""
            if self.seen_hz == self.band_hz
            else f" (seen: {self.seen_hz[0]:.3g}-{self.seen_hz[1]:.3g} Hz)"
        )
        return (
            f"largest swing in {self.band_hz[0]:g}-{self.band_hz[1]:g} Hz{seen}: "
            f"{self.worst_relative:.1%} of the mean draw at {self.worst_hz:.3g} Hz; "
            f"limit {self.limit:.0%}: {verdict}"
        )


def flat_top(n: int) -> np.ndarray:
    k = 2.0 * np.pi * np.arange(n) / (n - 1)
    return sum((-1) ** i * a * np.cos(i * k) for i, a in enumerate(_FLAT_TOP))


def spectrum(power_kw: np.ndarray, dt_s: float) -> Spectrum:
    """The amplitude spectrum of a draw sampled every ``dt_s`` (its mean removed)."""
    power_kw = np.asarray(power_kw, dtype=float)
    if power_kw.size < 16:
        raise ValueError("a spectrum needs at least 16 samples")
    mean_kw = float(power_kw.mean())
    window = flat_top(power_kw.size)
    transform = np.fft.rfft((power_kw - mean_kw) * window)
    amplitude = 2.0 * np.abs(transform) / window.sum()
    return Spectrum(np.fft.rfftfreq(power_kw.size, dt_s), amplitude, mean_kw)


def check(
    s: Spectrum, limit: float = DEFAULT_LIMIT, band_hz: tuple[float, float] = DEFAULT_BAND_HZ
) -> Compliance:
    f = s.frequency_hz
    resolution = f[1] - f[0]
    # a flat-top window spreads a line over ~5 bins: the lowest frequencies are not resolved
    low = max(band_hz[0], 5 * resolution)
    high = min(band_hz[1], f[-1])
    inside = (f >= low) & (f <= high)
    if not inside.any():
        raise ValueError(
            f"the run shows nothing of {band_hz[0]:g}-{band_hz[1]:g} Hz: make it "
            "longer, or its step shorter"
        )
    relative = np.where(inside, s.relative, -np.inf)
    k = int(np.argmax(relative))
    return Compliance(limit, band_hz, (float(low), float(high)), float(relative[k]), float(f[k]))


# --------------------------------------------------------------------------- the site


@dataclass(frozen=True)
class DrawRun:
    power_kw: np.ndarray  # grid import at each step after the settling time
    dt_s: float
    energy_kwh: float  # grid energy over the sampled time


class Cancelled(Exception):
    """Raised out of a run whose ``cancelled`` callback said so."""


def site_draw(
    scenario: Scenario,
    duration_s: float,
    dt_s: float = 0.1,
    settle_s: float = 60.0,
    seed: int | None = None,
    cancelled: Callable[[], bool] | None = None,
) -> DrawRun:
    """Run the site and sample its grid import every step for ``duration_s`` after
    ``settle_s`` (the controllers' start-up left out). ``cancelled`` is asked every
    simulated second; when it says so, ``Cancelled`` is raised."""
    from twin.sim.engine import Simulation
    from twin.sim.snapshot import SITE_COLUMNS

    column = [name for name, _ in SITE_COLUMNS].index("grid_import_kw")
    sim = Simulation(scenario, seed=seed, dt_s=dt_s)
    settle_steps = round(settle_s / dt_s)
    per_check = max(1, round(1.0 / dt_s))
    for done in range(0, settle_steps, per_check):
        if cancelled is not None and cancelled():
            raise Cancelled
        sim.step(min(per_check, settle_steps - done))
    samples = np.empty(round(duration_s / dt_s))
    for k in range(samples.size):
        if cancelled is not None and k % per_check == 0 and cancelled():
            raise Cancelled
        sim.step()
        samples[k] = sim.site_values()[column]
    return DrawRun(samples, dt_s, float(samples.sum() * dt_s / 3600.0))


def with_smoothing(
    scenario: Scenario,
    floor_fraction: float | None,
    bess_smoothing: bool | None = None,
    ramp_down_w_per_s: float | None = None,
    shelf_storage: bool = False,
) -> Scenario:
    """The scenario with GPU power smoothing at ``floor_fraction`` of TDP (None: off) and,
    if given, its ramp-down rate per GPU; the BESS's smoothing on or off (None: as the
    scenario has it); the power shelves' storage as the scenario sizes it, or none."""
    update_gm: dict[str, object] = {"smoothing_enabled": floor_fraction is not None}
    if floor_fraction is not None:
        update_gm["smoothing_floor_fraction"] = floor_fraction
    if ramp_down_w_per_s is not None:
        update_gm["smoothing_ramp_down_w_per_s"] = ramp_down_w_per_s
    update: dict[str, object] = {
        "gpu_management": scenario.gpu_management.model_copy(update=update_gm)
    }
    power: dict[str, object] = {}
    if bess_smoothing is not None:
        power["bess"] = scenario.power.bess.model_copy(update={"smoothing": bess_smoothing})
    if not shelf_storage:
        power["shelf_storage"] = None
    update["power"] = scenario.power.model_copy(update=power)
    return scenario.model_copy(update=update)


# From least to most smoothing: ramp-down limits first (they cost only the energy of the
# slower descents), then floors at the slowest of them (they hold power up through every
# communication phase). NVML's smoothing takes a ramp-down rate in W/s per GPU and a floor.
RAMP_DOWN_STEPS_W_PER_S = (8000.0, 4000.0, 2000.0, 1000.0, 500.0, 250.0, 125.0)
FLOOR_STEPS = (0.1, 0.2, 0.3, 0.4, 0.5, 0.6, 0.7, 0.8, 0.9)
SMOOTHING_STEPS = (
    *((0.0, r) for r in RAMP_DOWN_STEPS_W_PER_S),
    *((f, RAMP_DOWN_STEPS_W_PER_S[-1]) for f in FLOOR_STEPS),
)


@dataclass(frozen=True)
class SmoothingResult:
    setting: tuple[float, float] | None  # (floor, ramp-down W/s) that passes; None: none
    compliance: Compliance | None
    extra_kwh: float  # grid energy it costs over the sampled time, against no smoothing
    tried: tuple[tuple[tuple[float, float], Compliance], ...]


def least_smoothing(
    scenario: Scenario,
    duration_s: float,
    dt_s: float = 0.1,
    steps: Sequence[tuple[float, float]] = SMOOTHING_STEPS,
    limit: float = DEFAULT_LIMIT,
    band_hz=DEFAULT_BAND_HZ,
    settle_s: float = 60.0,
    cancelled: Callable[[], bool] | None = None,
) -> SmoothingResult:
    """The first GPU smoothing setting (floor as a fraction of TDP, ramp-down in W/s per
    GPU) of ``steps``, ordered from least to most smoothing, whose site draw passes the
    limit, with the BESS's smoothing off (the GPUs' own smoothing is what is sized), and
    the grid energy it costs against none. The ramp-up rate is the scenario's."""
    plain = with_smoothing(scenario, None, bess_smoothing=False)
    baseline = site_draw(plain, duration_s, dt_s, settle_s, cancelled=cancelled)
    tried = []
    for floor, ramp_down in steps:
        run = site_draw(
            with_smoothing(scenario, floor, False, ramp_down),
            duration_s,
            dt_s,
            settle_s,
            cancelled=cancelled,
        )
        result = check(spectrum(run.power_kw, dt_s), limit, band_hz)
        tried.append(((floor, ramp_down), result))
        if result.passes:
            return SmoothingResult(
                (floor, ramp_down), result, run.energy_kwh - baseline.energy_kwh, tuple(tried)
            )
    return SmoothingResult(None, None, 0.0, tuple(tried))


# --------------------------------------------------------------------------- the check


@dataclass(frozen=True)
class CaseResult:
    label: str
    spectrum: Spectrum
    compliance: Compliance
    energy_kwh: float  # grid energy over the sampled time


@dataclass(frozen=True)
class PowerQualityCheck:
    """What ``twin power-quality`` finds for a scenario: each smoothing case and, when
    searched, the least GPU smoothing that passes."""

    scenario_name: str
    duration_s: float
    dt_s: float
    limit: float
    band_hz: tuple[float, float]
    cases: tuple[CaseResult, ...]
    search: SmoothingResult | None
    settle_s: float = 60.0  # run before sampling: the controllers' start-up left out


def smoothing_cases(scenario: Scenario) -> dict[str, Scenario]:
    """The scenario without smoothing, with the GPUs' (at its floor), the BESS's, both, and
    when the scenario has them, the power shelves' stores alone."""
    floor = scenario.gpu_management.smoothing_floor_fraction
    cases = {
        "no smoothing": with_smoothing(scenario, None, bess_smoothing=False),
        f"GPU smoothing (floor {floor:g})": with_smoothing(scenario, floor, False),
        "BESS smoothing": with_smoothing(scenario, None, bess_smoothing=True),
        "GPU and BESS smoothing": with_smoothing(scenario, floor, bess_smoothing=True),
    }
    shelf = scenario.power.shelf_storage
    if shelf is not None:
        cases[f"power-shelf storage ({shelf.j_per_gpu:g} J per GPU)"] = with_smoothing(
            scenario, None, bess_smoothing=False, shelf_storage=True
        )
    return cases


def run_check(
    scenario: Scenario,
    duration_s: float,
    dt_s: float = 0.1,
    limit: float = DEFAULT_LIMIT,
    search: bool = False,
    *,
    settle_s: float = 60.0,
    progress: Callable[[str], None] | None = None,
    cancelled: Callable[[], bool] | None = None,
) -> PowerQualityCheck:
    """Each of ``smoothing_cases`` run and checked, and with ``search`` the least GPU
    smoothing that passes. ``progress`` is told which case runs next; ``cancelled`` is
    asked as the runs go (``Cancelled`` raised when it says so)."""
    cases = []
    for label, case in smoothing_cases(scenario).items():
        if progress is not None:
            progress(label)
        run = site_draw(case, duration_s, dt_s, settle_s, cancelled=cancelled)
        s = spectrum(run.power_kw, dt_s)
        cases.append(CaseResult(label, s, check(s, limit), run.energy_kwh))
    found = None
    if search:
        if progress is not None:
            progress("searching the least GPU smoothing that passes")
        found = least_smoothing(
            scenario, duration_s, dt_s, limit=limit, settle_s=settle_s, cancelled=cancelled
        )
    return PowerQualityCheck(
        scenario.scenario.name,
        duration_s,
        dt_s,
        limit,
        DEFAULT_BAND_HZ,
        tuple(cases),
        found,
        settle_s,
    )


def search_text(found: SmoothingResult, duration_s: float) -> str:
    """The search's answer in a sentence."""
    if found.setting is None:
        return (
            "no GPU smoothing setting tried passes (ramp-down down to "
            f"{RAMP_DOWN_STEPS_W_PER_S[-1]:g} W/s per GPU, floors up to "
            f"{FLOOR_STEPS[-1]:g} of TDP)"
        )
    floor, ramp_down = found.setting
    return (
        f"the least GPU smoothing that passes: floor {floor:g} of TDP, ramp-down "
        f"{ramp_down:g} W/s per GPU; it costs {found.extra_kwh:,.2f} kWh more over the "
        f"{duration_s:g} s"
    )
