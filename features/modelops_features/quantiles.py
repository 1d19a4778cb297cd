"""Exact order statistics and `le` bucket counts, fast on million-row columns.

Reference profiles need, per feature, a few quantiles (the bucket edges) and the
count of values in each bucket. The obvious numpy calls are exact but slow on
large columns: `np.quantile` copies the column and partitions it once per
requested quantile, and `np.searchsorted` does a binary search per value. Both
functions here return the very same numbers with fewer passes over the data:

* `order_statistics` finds the k-th smallest values by first counting the
  values into many narrow value ranges (one pass), then partitioning only the
  few ranges that hold a wanted rank;
* `le_counts` counts `v <= edge` once per edge (a vectorised comparison is much
  cheaper than a binary search when there are only a handful of edges).
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
    positions = np.asarray(positions, dtype=np.intp)
    n = values.size
    lo, hi = (float(values.min()), float(values.max())) if n else (0.0, 0.0)
    span = hi - lo
    # A tiny column, a constant one, or a span that overflows float64 gains nothing
    # from (or cannot use) the counting pass.
    if n <= _SMALL or span == 0 or not np.isfinite(span):
        return _partition_select(values, positions)
    # (v - lo) * scale is monotone in v (IEEE rounding is monotone), so every value
    # in range r is <= every value in range r + 1: ranks never cross a range boundary.
    ranges = np.subtract(values, lo)
    ranges *= _RANGES / span
    index = ranges.astype(np.intp)
    np.minimum(index, _RANGES - 1, out=index)  # hi itself lands on _RANGES
    counts = np.bincount(index, minlength=_RANGES)
    ends = np.cumsum(counts)  # ends[r]: how many values lie in ranges 0..r
    wanted_range = np.searchsorted(ends, positions, side="right")
    wanted = np.zeros(_RANGES, dtype=bool)
    wanted[wanted_range] = True
    # The wanted ranges' values, in range order; a wanted position's rank inside
    # them is its global rank minus the values of the unwanted ranges before it.
    selected = values[wanted[index]]
    skipped_before = np.cumsum(np.where(wanted, 0, counts)) - np.where(wanted, 0, counts)
    local = positions - skipped_before[wanted_range]
    return _partition_select(selected, local)


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
