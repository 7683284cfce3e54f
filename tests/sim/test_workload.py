"""Workload demand: exact step means of the training swings, diurnal inference, noise."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from twin.scenario import load
from twin.sim.topology import build_topology
from twin.sim.workload import WorkloadModel, fraction_high


def brute_fraction(t0, dt, period, high, start=0.0, samples=200_001):
    t = np.linspace(t0, t0 + dt, samples)
    inside = (t >= start) & (((t - start) % period) < high)
    return np.trapezoid(inside.astype(float), t) / dt


@settings(max_examples=60, deadline=None, derandomize=True)
@given(
    t0=st.floats(0, 1e5), dt=st.floats(0.1, 300), period=st.floats(0.3, 50), share=st.floats(0, 1)
)
def test_fraction_high_is_the_exact_mean_of_the_square_wave(t0, dt, period, share):
    got = fraction_high(t0, dt, period, share * period)
    assert got == pytest.approx(brute_fraction(t0, dt, period, share * period), abs=2e-3)
    assert 0.0 <= got <= 1.0


def test_fraction_high_respects_the_start_time():
    assert fraction_high(0.0, 10.0, 2.0, 1.0, start=20.0) == 0.0
    assert fraction_high(15.0, 10.0, 2.0, 1.0, start=20.0) == pytest.approx(0.3)


@pytest.fixture(scope="module")
def seoul():
    s = load("seoul-ai-factory")
    return s, build_topology(s)


def test_training_mean_power_is_the_same_at_any_dt(seoul):
    s, topo = seoul
    model = WorkloadModel.build(s, topo, seed=3)
    racks = np.flatnonzero(topo.rack_hall == 0)
    means = []
    for dt in (0.1, 1.0, 8.0, 60.0, 300.0):  # whole iterations per step
        out = np.zeros(topo.rack_count)
        total = sum(model.utilization(k * dt, dt, out)[racks[0]] for k in range(round(3600 / dt)))
        means.append(total / round(3600 / dt))
    w = s.workloads[0]
    wave = (1 - w.comm_fraction) * w.compute_utilization + w.comm_fraction * w.comm_utilization
    share = w.checkpoint_duration_s / w.checkpoint_interval_s
    expected = (1 - share) * wave + share * w.checkpoint_utilization
    np.testing.assert_allclose(means, expected, rtol=1e-9)


def test_training_racks_swing_in_lock_step_at_fine_dt(seoul):
    s, topo = seoul
    model = WorkloadModel.build(s, topo, seed=3)
    racks = np.flatnonzero(topo.rack_hall == 0)
    out = np.zeros(topo.rack_count)
    compute = model.utilization(0.0, 0.1, out)[racks].copy()
    comm = model.utilization(1.9, 0.1, out)[racks].copy()
    assert np.all(compute == compute[0]) and np.all(comm == comm[0])
    assert compute[0] == pytest.approx(0.95) and comm[0] == pytest.approx(0.15)


def test_level_changes_are_the_job_start_and_its_checkpoints_edges(seoul):
    """Inside (t0, t1) only: the job's start and each checkpoint's first and last
    second (the last minute of every interval from the start); the swings are not."""
    s, topo = seoul
    job = s.workloads[0].model_copy(update={"start_s": 100.0})
    late = s.model_copy(update={"workloads": [job, *s.workloads[1:]]})
    model = WorkloadModel.build(late, topo, seed=3)
    interval, length = job.checkpoint_interval_s, job.checkpoint_duration_s
    assert (interval, length) == (1800.0, 60.0)
    first = 100.0 + interval - length  # 1840 s
    assert sorted(model.level_changes(0.0, 4000.0)) == [
        100.0,
        first,
        first + length,
        first + interval,
        first + interval + length,
    ]
    assert model.level_changes(first, first + length) == []  # the edges are not inside
    assert model.level_changes(0.0, 100.0) == []  # before the job: nothing changes
    later = first + 555 * interval  # a checkpoint some 11.6 days on
    assert sorted(model.level_changes(later - 40.0, later + 260.0)) == [later, later + length]


def test_inference_follows_the_day_and_is_seeded(seoul):
    s, topo = seoul
    racks = np.flatnonzero(topo.rack_hall == 1)
    out = np.zeros(topo.rack_count)
    model = WorkloadModel.build(s, topo, seed=3)
    night = model.utilization(3 * 3600.0, 60.0, out)[racks].mean()  # 03:00 local
    day = model.utilization(14 * 3600.0, 60.0, out)[racks].mean()  # 14:00 local, the peak
    assert day > night + 0.3
    again = WorkloadModel.build(s, topo, seed=3).utilization(14 * 3600.0, 60.0, out)[racks]
    other = WorkloadModel.build(s, topo, seed=4).utilization(14 * 3600.0, 60.0, out)[racks]
    np.testing.assert_array_equal(model.utilization(14 * 3600.0, 60.0, out)[racks], again)
    assert not np.array_equal(again, other)
