"""The trend history on its own (no Qt): fixed memory at every speed, each ring spanning its
window, bins that keep their extremes and skip missing values."""

from __future__ import annotations

import numpy as np
import pytest

from twin.gui.trend_history import TIME_SCALES, TrendHistory

DAY_S = 86400.0


@pytest.mark.parametrize("step_s", [1.0, 7.0, 50.0])
def test_history_memory_is_fixed_and_every_ring_spans_its_window(step_s):
    """Simulated seconds per snapshot from 1× real time at 1 Hz to 3,000× at 60 Hz."""
    history = TrendHistory(2)
    buffers = [(ring.x, ring.y) for ring in history.rings]
    nbytes = history.nbytes
    times = np.arange(0.0, 1.5 * DAY_S, step_s)
    for t in times:
        history.append(t, np.array([t, -t]))
    now = times[-1]
    assert history.nbytes == nbytes
    assert [(ring.x, ring.y) for ring in history.rings] == buffers  # never reallocated
    assert all(ring.dropped for ring in history.rings)  # far more bins than room
    for window_s, _ in TIME_SCALES:
        ring = history.ring_for(now - window_s)
        x, y = history.window(ring, now - window_s, now)
        assert x[0] <= now - window_s + ring.bin_s and x[-1] == now
        assert np.all(np.diff(x) >= 0)
        # the negated series has the negated maxima as its minima
        np.testing.assert_allclose(y[1][::2], -y[0][1::2])
        np.testing.assert_allclose(y[0][1::2], x[1::2])  # a bin's maximum is its latest time


def test_a_missing_value_leaves_no_gap_in_its_bin():
    history = TrendHistory(1)
    for t, value in ((0.0, 5.0), (0.1, np.nan), (0.2, 7.0), (10.0, np.nan)):
        history.append(t, np.array([value]))
    ring = history.rings[0]
    _, y = history.window(ring, 0.0, 10.0)
    np.testing.assert_allclose(y[0][:2], [5.0, 7.0])
    assert np.isnan(y[0][2:]).all()  # a bin with nothing but missing values stays missing


def test_a_bin_keeps_the_mean_of_its_samples_beside_its_extremes():
    """A square wave much faster than the 48 s bins of the day's ring: 1,000 at a quarter
    of the samples and 0 at the rest reads 0 to 1,000 with a mean of 250, missing samples
    left out of the mean."""
    history = TrendHistory(1)
    for k in range(4 * 48 * 3):  # three 48-s bins, four samples a second
        value = np.nan if k % 7 == 0 else (1000.0 if k % 4 == 0 else 0.0)
        history.append(k / 4, np.array([value]))
    day = history.rings[-1]
    _, y = history.window(day, 0.0, 143.0)
    means = history.means(day, 0.0, 143.0)
    assert means.shape == (1, y.shape[1] // 2)
    np.testing.assert_allclose(y[0][0::2], 0.0)
    np.testing.assert_allclose(y[0][1::2], 1000.0)
    expected = []
    for b in range(3):
        samples = [1000.0 if k % 4 == 0 else 0.0 for k in range(b * 192, (b + 1) * 192) if k % 7]
        expected.append(np.mean(samples))
    np.testing.assert_allclose(means[0], expected)
    assert all(200 < mean < 300 for mean in means[0])
    history.append(200.0, np.array([np.nan]))  # a bin of missing values has no mean
    assert np.isnan(history.means(day, 0.0, 200.0)[0][-1])
