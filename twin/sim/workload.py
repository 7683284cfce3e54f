"""Workload: what utilization each rack is asked for, as a step-average.

Training jobs run in lock-step across their racks: each iteration is a compute phase
near full utilization followed by a communication phase near idle (the synchronous
power swings of arXiv 2508.14318, 0.2-3 Hz in reality), interrupted by periodic
checkpoints. Inference follows a diurnal demand curve with seeded noise.

Every function returns the exact mean of the demand over the step [t, t + dt], so a
run at dt = 60 s sees the same energy as one at dt = 0.1 s (no aliasing of the swings).
Alongside the mean, ``utilization`` leaves each rack's demand within the step as two
levels: ``high`` for the share ``high_share`` of the step (a training job's compute
phases) and ``low`` for the rest (its communication phases, checkpoints, the time before
it starts), whose weighted mean is the mean. Whatever is nonlinear in the demand (PSU
and UPS efficiency curves, the BESS's smoothing and its losses) is evaluated at both
levels and weighted, so it too is an exact step mean whatever dt is.
Noise is a function of time (seeded knots, interpolated), so it does not change with
dt or with how steps are batched.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

from twin.scenario.schema import InferenceWorkload, Scenario, TrainingWorkload
from twin.sim.topology import Topology

SECONDS_PER_DAY = 86400.0
_NOISE_BLOCK = 4096  # knots generated per block of seeded noise


def _wave_integral(t: np.ndarray | float, period: float, high_time: float) -> np.ndarray:
    """Integral from 0 to t of a periodic indicator that is 1 for the first ``high_time``."""
    t = np.asarray(t, dtype=float)
    cycles = np.floor(t / period)
    phase = t - cycles * period
    return cycles * high_time + np.minimum(phase, high_time)


def fraction_high(t0: float, dt: float, period, high_time, start: float = 0.0):
    """Share of [t0, t0 + dt] inside a periodic 'high' window starting at ``start``.

    ``period`` and ``high_time`` may be arrays (many waves at once); the result then is.
    """
    a = max(t0 - start, 0.0)
    b = max(t0 + dt - start, 0.0)
    if (isinstance(period, float) and isinstance(high_time, float)) or (
        np.ndim(period) == 0 and np.ndim(high_time) == 0
    ):  # one wave: plain floats
        period = float(period)
        high = min(max(float(high_time), 0.0), period)

        def integral(t: float) -> float:
            cycles = math.floor(t / period)
            return cycles * high + min(t - cycles * period, high)

        return min(max((integral(b) - integral(a)) / dt, 0.0), 1.0)
    period = np.asarray(period, dtype=float)
    high_time = np.clip(high_time, 0.0, period)
    share = (_wave_integral(b, period, high_time) - _wave_integral(a, period, high_time)) / dt
    share = np.clip(share, 0.0, 1.0)  # the difference of two large integrals rounds
    return float(share) if share.ndim == 0 else share


def checkpoint_windows(
    start_s: float, interval_s: float, duration_s: float, left_s: float, right_s: float
) -> list[tuple[float, float]]:
    """(start, end) of a training job's checkpoints that overlap ``left_s`` .. ``right_s``:
    each interval after the job's start ends with one (none when ``duration_s`` is 0)."""
    if duration_s <= 0 or right_s <= start_s:
        return []
    first = max(math.floor((left_s - start_s) / interval_s), 0)
    last = math.floor((right_s - start_s) / interval_s)
    ends = start_s + interval_s * np.arange(first + 1, last + 2)
    spans = [(float(end - duration_s), float(end)) for end in ends]
    return [(a, b) for a, b in spans if b > left_s and a < right_s]


_PAIRWISE_MIN = 8  # numpy sums 8 or more values pairwise, fewer one after another


@dataclass(slots=True)
class _Noise:
    """Smooth seeded noise: standard-normal knots every ``spacing_s``, linearly interpolated."""

    seed: tuple[int, ...]
    spacing_s: float
    _block: int = -1
    _knots: np.ndarray | None = None

    def _knots_for(self, index: int) -> np.ndarray:
        block = index // _NOISE_BLOCK
        if block != self._block:
            rng = np.random.default_rng([*self.seed, block])
            nxt = np.random.default_rng([*self.seed, block + 1])
            self._knots = np.concatenate(
                [rng.standard_normal(_NOISE_BLOCK), nxt.standard_normal(1)]
            )
            self._block = block
        assert self._knots is not None
        return self._knots

    def mean(self, t0: float, dt: float) -> float:
        """Mean over [t0, t0 + dt] of the interpolated noise (trapezoid over the knots)."""
        samples = max(2, int(np.ceil(dt / self.spacing_s)) + 1)
        if samples >= _PAIRWISE_MIN:
            times = np.linspace(t0, t0 + dt, samples)
            return float(np.mean([self.value(t) for t in times]))
        # fewer samples than numpy sums pairwise: the same points and the same sum, in
        # plain floats (np.linspace's points are start + i step, then the stop exactly)
        stop = t0 + dt
        step = (stop - t0) / (samples - 1)
        total = 0.0
        for i in range(samples - 1):
            total += self.value(i * step + t0)
        total += self.value(stop)
        return total / samples

    def value(self, t: float) -> float:
        x = max(t, 0.0) / self.spacing_s
        i = int(x)
        knots = self._knots_for(i)
        j = i % _NOISE_BLOCK
        w = x - i
        return float(knots[j] * (1.0 - w) + knots[j + 1] * w)


@dataclass(slots=True)
class WorkloadModel:
    """Per-step demand utilization of every rack; racks in no workload stay idle."""

    training: list[tuple[TrainingWorkload, np.ndarray | slice]]
    inference: list[tuple[InferenceWorkload, np.ndarray | slice, _Noise]]
    rack_spread: np.ndarray  # static per-rack factor, jobs are not perfectly balanced
    start_hour: float
    surge: np.ndarray  # per-rack additive utilization from surge events
    high: np.ndarray  # per rack: the demand's upper level within the step
    low: np.ndarray  # per rack: its lower level
    high_share: np.ndarray  # per rack: share of the step at the upper level

    @classmethod
    def build(cls, s: Scenario, topo: Topology, seed: int) -> WorkloadModel:
        training: list[tuple[TrainingWorkload, np.ndarray | slice]] = []
        inference: list[tuple[InferenceWorkload, np.ndarray | slice, _Noise]] = []
        for k, w in enumerate(s.workloads):
            racks = _as_slice(racks_of(topo, w.halls, w.row_groups))
            if isinstance(w, TrainingWorkload):
                training.append((w, racks))
            else:
                noise = _Noise((seed, 7919, k), w.noise_time_constant_s)
                inference.append((w, racks, noise))
        rng = np.random.default_rng([seed, 104729])
        # Inference load balancers leave a few percent of imbalance between racks.
        spread = 1.0 + 0.03 * rng.standard_normal(topo.rack_count)
        start = s.scenario.start
        start_hour = start.hour + start.minute / 60 + start.second / 3600
        n = topo.rack_count
        covered = np.zeros(n, dtype=bool)
        for _, racks in training:
            covered[racks] = True
        for _, racks, _ in inference:
            covered[racks] = True
        model = cls(
            training,
            inference,
            spread,
            start_hour,
            np.zeros(n),
            np.zeros(n),
            np.zeros(n),
            np.zeros(n),
        )
        model.covered = bool(covered.all())
        return model

    split: bool = False  # whether the last step's demand had two levels on some rack
    surged: bool = False  # whether a surge event ever added to ``surge`` (else all 0)
    # whether every rack is in some workload: each step then writes every rack's levels
    # (no rack's level to clear first)
    covered: bool = False

    def utilization(self, t0: float, dt: float, out: np.ndarray) -> np.ndarray:
        """Each rack's mean demand over [t0, t0 + dt] into ``out`` (0-1); the two levels
        within the step into ``high``, ``low`` and ``high_share``."""
        high, low, share = self.high, self.low, self.high_share
        if not self.covered:
            high.fill(0.0)
            low.fill(0.0)
        # ``share`` is written for the training racks only, every step; the others keep
        # the 0 they were built with
        self.split = False
        for w, racks in self.training:
            high[racks], low[racks], level_share = self._training_levels(w, t0, dt)
            share[racks] = level_share
            self.split |= 0.0 < level_share < 1.0
        for inf, racks, noise in self.inference:
            base = self._diurnal_mean(inf, t0, dt)
            level = base + inf.noise * inf.peak_utilization * noise.mean(t0, dt)
            high[racks] = level * self.rack_spread[racks]
            low[racks] = high[racks]
        if not self.split:
            np.subtract(high, low, out=out)
            out *= share
            out += low
            if self.surged:
                out += self.surge
            out.clip(0.0, 1.0, out=out)
            np.copyto(high, out)
            np.copyto(low, out)
            return out
        if self.surged:
            high += self.surge
            low += self.surge
        high.clip(0.0, 1.0, out=high)
        low.clip(0.0, 1.0, out=low)
        np.subtract(high, low, out=out)
        out *= share
        out += low
        return out

    def level_changes(self, t0: float, t1: float) -> list[float]:
        """Times strictly inside (t0, t1) at which a training job's demand changes level
        for as long as the plant's loops take to follow: the job starts, a checkpoint
        begins or ends. (The iteration swings, seconds long, are the two levels within a
        step; a step that holds a minute-long checkpoint is split at these times, so that
        what is nonlinear in the plant's heat, the chillers' trim and staging, sees the
        checkpoint for its length and not as a dip of the step's mean.)"""
        times = []
        for w, _ in self.training:
            if t0 < w.start_s < t1:
                times.append(w.start_s)
            windows = checkpoint_windows(
                w.start_s, w.checkpoint_interval_s, w.checkpoint_duration_s, t0, t1
            )
            times += [at for window in windows for at in window if t0 < at < t1]
        return times

    @staticmethod
    def _training_levels(w: TrainingWorkload, t0: float, dt: float) -> tuple[float, float, float]:
        """``(high, low, share)`` of the step: the compute phases' utilization, the mean
        of the rest of the step (communication, checkpoints, before the job starts), and
        the compute phases' share of the step. ``low + share (high - low)`` is the
        step's exact mean."""
        if t0 + dt <= w.start_s:
            return 0.0, 0.0, 0.0
        active = min(1.0, (t0 + dt - w.start_s) / dt)  # share of the step after the job starts
        compute = fraction_high(
            t0, dt, w.iteration_period_s, (1.0 - w.comm_fraction) * w.iteration_period_s, w.start_s
        )
        in_checkpoint = 0.0
        if w.checkpoint_duration_s > 0:
            # a checkpoint closes each interval: the window is the interval's last part
            offset = w.start_s + w.checkpoint_interval_s - w.checkpoint_duration_s
            in_checkpoint = fraction_high(
                t0, dt, w.checkpoint_interval_s, w.checkpoint_duration_s, offset
            )
        # Within a step that holds part of a checkpoint the iteration wave is taken as
        # uncorrelated with it (exact when dt is a multiple of the iteration period).
        running = max(active - in_checkpoint, 0.0)
        share = min(compute / active * running, 1.0)
        mean = (
            in_checkpoint * w.checkpoint_utilization
            + running * w.comm_utilization
            + share * (w.compute_utilization - w.comm_utilization)
        )
        high = w.compute_utilization
        if share >= 1.0:
            return high, high, 1.0
        return high, max(mean - share * high, 0.0) / (1.0 - share), share

    def _diurnal_mean(self, w: InferenceWorkload, t0: float, dt: float) -> float:
        """Exact step-mean of trough + (peak - trough) * (1 + cos(2 pi (h - peak)/24)) / 2."""
        omega = 2.0 * np.pi / SECONDS_PER_DAY
        phase0 = omega * (t0 + (self.start_hour - w.peak_hour) * 3600.0)
        if dt * omega < 1e-9:
            mean_cos = np.cos(phase0)
        else:
            mean_cos = (np.sin(phase0 + omega * dt) - np.sin(phase0)) / (omega * dt)
        return float(
            w.trough_utilization
            + (w.peak_utilization - w.trough_utilization) * 0.5 * (1.0 + mean_cos)
        )


def racks_of(topo: Topology, halls: list[str], row_groups: list[str]) -> np.ndarray:
    hall_idx = [topo.hall_names.index(h) for h in halls]
    mask = np.isin(topo.rack_hall, hall_idx)
    if row_groups:
        group_idx = [topo.row_group_names.index(g) for g in row_groups]
        mask &= np.isin(topo.row_group[topo.rack_row], group_idx)
    return np.flatnonzero(mask)


def _as_slice(index: np.ndarray) -> np.ndarray | slice:
    """A run of consecutive racks as a slice (a view, where an index array copies)."""
    if index.size and np.array_equal(index, np.arange(index[0], index[0] + index.size)):
        return slice(int(index[0]), int(index[0]) + index.size)
    return index
