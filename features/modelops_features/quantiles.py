"""Exact order statistics and `le` bucket counts, fast on million-row columns.

Reference profiles need, per feature, a few quantiles (the bucket edges) and the
count of values in each bucket. The obvious numpy calls are exact but slow on
large columns: `np.quantile` copies the column and partitions it once per
requested quantile, and `np.searchsorted` does a binary search per value. The
code here returns the very same numbers with fewer passes over the data:

* `ValueRanges` counts the values into many narrow value ranges (one pass); then
  `order_statistics` partitions only the few ranges that hold a wanted rank, and
  `count_at_most` compares an edge only with the values of its own range;
* `le_counts` (a sample of live values against stored edges, no ranges at hand)
  counts `v <= edge` once per edge: a vectorised comparison is much cheaper than
  a binary search when there are only a handful of edges.
"""

from __future__ import annotations

import numpy as np

# Number of value ranges for the counting pass. Enough that each wanted range holds
# a small share of a million values, few enough that the counts stay in cache.
_RANGES = 4096
# Below this size a plain partition is as fast as the counting pass.
_SMALL = 20_000
# With more edges than this, a binary search per value beats one comparison pass per edge.
_MAX_COMPARE_EDGES = 32


def inverted_cdf_positions(n: int, quantiles: np.ndarray) -> np.ndarray:
    """Sorted positions that `np.quantile(a, quantiles, method="inverted_cdf")` reads.

    This is numpy's own rule (numpy/lib/_function_base_impl.py, `_inverted_cdf`),
    written out so that the selection below picks the same order statistics:
    position n*q - 1 when it is whole, else the next one up, never below 0. The
    unit tests compare it with np.quantile on many sizes.
    """
    index = n * np.asarray(quantiles, dtype=np.float64) - 1
    previous = np.floor(index)
    positions = np.where(index - previous == 0, previous, previous + 1).astype(np.intp)
    positions[positions < 0] = 0
    return positions


def order_statistics(values: np.ndarray, positions: np.ndarray) -> np.ndarray:
    """The values that would stand at `positions` if `values` were sorted.

    `values` must be finite float64 (NaN and inf are the caller's to remove).
    The result equals `np.sort(values)[positions]` exactly: the counting pass
    only decides which values need partitioning; the values returned are
    elements of `values`, not interpolations. (Of several equal values, which one
    stands at a position is unspecified, as for np.partition: only the sign of a
    zero can tell them apart.)
    """
    return ValueRanges(values).order_statistics(positions)


class ValueRanges:
    """Finite values counted into narrow value ranges, to answer rank questions fast.

    (v - lo) * scale is monotone in v (IEEE rounding is monotone), so every value
    in range r is <= every value in range r + 1: a rank or a "how many are <= e"
    question only ever needs the values of one range looked at one by one.
    """

    def __init__(self, values: np.ndarray) -> None:
        self.values = values
        n = values.size
        self.lo, self.hi = (float(values.min()), float(values.max())) if n else (0.0, 0.0)
        span = self.hi - self.lo
        # A tiny column, a constant one, or a span that overflows float64 gains nothing
        # from (or cannot use) the counting pass.
        self.counted = n > _SMALL and span != 0 and bool(np.isfinite(span))
        if not self.counted:
            return
        self.scale = _RANGES / span
        ranges = np.subtract(values, self.lo)
        ranges *= self.scale
        self.index = ranges.astype(np.intp)
        np.minimum(self.index, _RANGES - 1, out=self.index)  # hi itself lands on _RANGES
        self.counts = np.bincount(self.index, minlength=_RANGES)
        self.ends = np.cumsum(self.counts)  # ends[r]: how many values lie in ranges 0..r

    def order_statistics(self, positions: np.ndarray) -> np.ndarray:
        """See the module function `order_statistics`."""
        positions = np.asarray(positions, dtype=np.intp)
        if not self.counted:
            return _partition_select(self.values, positions)
        wanted_range = np.searchsorted(self.ends, positions, side="right")
        wanted = np.zeros(_RANGES, dtype=bool)
        wanted[wanted_range] = True
        # The wanted ranges' values, in range order; a wanted position's rank inside
        # them is its global rank minus the values of the unwanted ranges before it.
        selected = self.values[wanted[self.index]]
        unwanted = np.where(wanted, 0, self.counts)
        skipped_before = np.cumsum(unwanted) - unwanted
        return _partition_select(selected, positions - skipped_before[wanted_range])

    def count_at_most(self, edges: np.ndarray) -> np.ndarray:
        """For each edge, how many values are <= it (int64; edges finite)."""
        edges = np.asarray(edges, dtype=np.float64)
        if not self.counted or edges.size == 0:
            return np.array(
                [np.count_nonzero(self.values <= e) for e in edges.tolist()], dtype=np.int64
            )
        # The edge's own range, by the very same float operations as the values'.
        position = np.subtract(edges, self.lo)
        position *= self.scale
        below = edges < self.lo  # then no value is <= the edge
        above = edges >= self.hi  # then every value is
        own = np.minimum(np.where(below | above, 0, position).astype(np.intp), _RANGES - 1)
        # Ranges before the edge's own hold only smaller values, ranges after it only
        # larger ones; the values of its own range are compared one by one.
        wanted = np.zeros(_RANGES, dtype=bool)
        wanted[own[~(below | above)]] = True
        mask = wanted[self.index]
        near_values, near_ranges = self.values[mask], self.index[mask]
        before = np.where(own > 0, self.ends[own - 1], 0)
        out = np.empty(edges.size, dtype=np.int64)
        for i, (edge, r) in enumerate(zip(edges.tolist(), own.tolist(), strict=True)):
            if below[i]:
                out[i] = 0
            elif above[i]:
                out[i] = self.values.size
            else:
                near = near_values[near_ranges == r]
                out[i] = before[i] + np.count_nonzero(near <= edge)
        return out


def _partition_select(values: np.ndarray, positions: np.ndarray) -> np.ndarray:
    if positions.size == 0:
        return np.empty(0, dtype=values.dtype)
    return np.partition(values, positions)[positions]


def le_counts(values: np.ndarray, edges: np.ndarray) -> np.ndarray:
    """Counts of non-NaN `values` in Prometheus `le` buckets over ascending `edges`.

    Bucket 0 holds v <= edges[0] (-inf too), bucket i edges[i-1] < v <= edges[i],
    the last (+Inf) bucket v > edges[-1] (+inf too); NaN is in none. Equals
    `np.bincount(np.searchsorted(edges, v[~isnan(v)], side="left"), minlength=k+1)`.
    """
    if edges.size > _MAX_COMPARE_EDGES:
        present = values[~np.isnan(values)]
        index = np.searchsorted(edges, present, side="left")
        return np.bincount(index, minlength=edges.size + 1)
    # NaN compares False with every edge, so it falls in no cumulative count and
    # is taken out of the +Inf bucket through the present total.
    present = values.size - int(np.count_nonzero(np.isnan(values)))
    cumulative = [int(np.count_nonzero(values <= edge)) for edge in edges.tolist()]
    return np.diff(np.array([0, *cumulative, present], dtype=np.int64))
