"""Sums over groups: contiguous slices where the items are listed group by group, the
scattered sum otherwise, the same totals to rounding either way."""

from __future__ import annotations

import math

import numpy as np

from twin.sim.sums import GroupSums


def test_items_listed_group_by_group_sum_over_their_slices() -> None:
    group = np.repeat(np.arange(8), 882)
    values = np.random.default_rng(1).uniform(0.0, 1e5, group.size)
    sums = GroupSums(group, 8)
    assert sums.starts is not None
    got = sums(values)
    np.testing.assert_allclose(got, np.bincount(group, weights=values, minlength=8), rtol=1e-13)
    exact = [math.fsum(values[g * 882 : (g + 1) * 882]) for g in range(8)]
    np.testing.assert_allclose(got, exact, rtol=1e-14)


def test_unsorted_items_or_an_empty_group_use_the_scattered_sum() -> None:
    values = np.array([1.0, 2.0, 4.0, 8.0])
    unsorted = GroupSums(np.array([1, 0, 1, 0]), 2)
    assert unsorted.starts is None
    np.testing.assert_array_equal(unsorted(values), [10.0, 5.0])
    empty = GroupSums(np.array([0, 0, 2, 2]), 3)  # group 1 has no item
    assert empty.starts is None
    np.testing.assert_array_equal(empty(values), [3.0, 0.0, 12.0])
    none = GroupSums(np.array([], dtype=int), 2)
    np.testing.assert_array_equal(none(np.array([])), [0.0, 0.0])
