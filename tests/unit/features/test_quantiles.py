"""Fast order statistics and `le` counts equal numpy's slow exact answers (properties)."""

from __future__ import annotations

import math

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp

from modelops_features.profile import numeric_profile, quantile_edges
from modelops_features.quantiles import inverted_cdf_positions, le_counts, order_statistics


@pytest.mark.parametrize("n", [*range(1, 60), 99, 100, 101, 999, 1000, 12_345, 1_000_000])
@pytest.mark.parametrize("n_buckets", [2, 3, 7, 10, 50])
def test_positions_are_the_ones_np_quantile_reads(n, n_buckets):
    quantiles = np.arange(1, n_buckets) / n_buckets
    # On 0..n-1 every value is its own sorted position.
    expected = np.quantile(np.arange(n, dtype=np.float64), quantiles, method="inverted_cdf")
    assert inverted_cdf_positions(n, quantiles).tolist() == expected.astype(int).tolist()


def _np_quantiles(values: np.ndarray, n_buckets: int) -> np.ndarray:
    return np.quantile(values, np.arange(1, n_buckets) / n_buckets, method="inverted_cdf")


def _check_order_statistics(values: np.ndarray, n_buckets: int) -> None:
    positions = inverted_cdf_positions(values.size, np.arange(1, n_buckets) / n_buckets)
    got = order_statistics(values, positions)
    expected = _np_quantiles(values, n_buckets)
    # Equal values, and the same bits except for the sign of a zero: of equal values
    # (0.0 and -0.0), which one a partition leaves at a position is unspecified, and
    # np.quantile's choice depends on its own partition order. quantile_edges
    # stores every zero edge as 0.0 for that reason.
    assert got.tolist() == expected.tolist()
    assert (got + 0.0).view(np.uint64).tolist() == (expected + 0.0).view(np.uint64).tolist()


finite_floats = st.floats(allow_nan=False, allow_infinity=False)


@settings(max_examples=200, deadline=None)
@given(
    hnp.arrays(np.float64, st.integers(1, 300), elements=finite_floats),
    st.integers(2, 40),
)
def test_order_statistics_equal_np_quantile_on_small_columns(values, n_buckets):
    _check_order_statistics(values, n_buckets)


@settings(max_examples=25, deadline=None)
@given(
    st.integers(0, 2**32 - 1),
    st.sampled_from(["normal", "lognormal", "integers", "outliers", "extreme_span", "zeros"]),
    st.integers(20_001, 60_000),
    st.integers(2, 60),
)
def test_order_statistics_equal_np_quantile_on_large_columns(seed, shape, n, n_buckets):
    # Large columns take the counting pass; the shapes stress its ranges: heavy tails,
    # ties, a few outliers that squeeze everything into one range, a span that
    # overflows float64, and -0.0 mixed with 0.0.
    rng = np.random.default_rng(seed)
    values = {
        "normal": lambda: rng.normal(0, 1, n),
        "lognormal": lambda: rng.lognormal(0, 4, n),
        "integers": lambda: rng.integers(-3, 4, n).astype(np.float64),
        "outliers": lambda: np.concatenate([rng.normal(0, 1, n - 3), [1e300, -1e300, 5e299]]),
        "extreme_span": lambda: rng.choice([-1.7e308, 1.7e308, 0.0, 1.0], n),
        "zeros": lambda: rng.choice([0.0, -0.0, 1.0], n),
    }[shape]()
    _check_order_statistics(values, n_buckets)


def _searchsorted_counts(values: np.ndarray, edges: np.ndarray) -> np.ndarray:
    present = values[~np.isnan(values)]
    return np.bincount(np.searchsorted(edges, present, side="left"), minlength=edges.size + 1)


@settings(max_examples=200, deadline=None)
@given(
    hnp.arrays(np.float64, st.integers(0, 200), elements=st.floats(allow_nan=True)),
    st.lists(finite_floats, max_size=60, unique=True).map(sorted),
)
def test_le_counts_equal_searchsorted_bincount(values, edges):
    # Up to 60 edges: both the comparison path (<= 32 edges) and the search path.
    edges = np.asarray(edges, dtype=np.float64)
    got = le_counts(values, edges)
    assert got.dtype == np.int64
    assert got.tolist() == _searchsorted_counts(values, edges).tolist()


def test_order_statistics_of_nothing_is_empty():
    assert order_statistics(np.zeros(0), np.zeros(0, dtype=np.intp)).size == 0


def test_a_zero_edge_is_always_positive_zero():
    # A column of 0.0 and -0.0 in any order: the stored edge must not depend on which
    # of the equal zeros the selection happened to pick.
    rng = np.random.default_rng(4)
    for n in (10, 30_000):
        values = rng.choice([0.0, -0.0, 1.0], n)
        for edge in quantile_edges(values, 10):
            assert math.copysign(1.0, edge) == 1.0


def _reference_numeric_profile(values: np.ndarray, n_buckets: int) -> tuple[list, list]:
    # The profile code before the fast paths (np.quantile + np.searchsorted), with
    # zero edges folded to 0.0 as quantile_edges now stores them.
    finite = values[np.isfinite(values)]
    edges: list[float] = []
    if finite.size and n_buckets > 1:
        qs = _np_quantiles(finite, n_buckets)
        edges = sorted({float(f"{q:.6g}") + 0.0 for q in qs})
    counts = _searchsorted_counts(values, np.asarray(edges, dtype=np.float64))
    return edges, counts.tolist()


@settings(max_examples=25, deadline=None)
@given(
    st.integers(0, 2**32 - 1),
    st.sampled_from(["normal", "rounded", "integers", "with_inf_nan", "outliers"]),
    st.integers(20_001, 50_000),
    st.sampled_from([2, 10, 50]),
)
def test_numeric_profile_equals_the_reference_computation(seed, shape, n, n_buckets):
    # Edges and counts come from one counting pass now; the counts must equal a
    # binary search per value, whatever ranges the (rounded) edges fall in.
    rng = np.random.default_rng(seed)
    values = {
        "normal": lambda: rng.normal(0, 1, n),
        "rounded": lambda: np.round(rng.normal(0, 1, n), 2),
        "integers": lambda: rng.integers(0, 6, n).astype(np.float64),
        "with_inf_nan": lambda: np.where(
            rng.random(n) < 0.1, rng.choice([np.nan, np.inf, -np.inf], n), rng.normal(0, 1, n)
        ),
        "outliers": lambda: np.concatenate([rng.lognormal(0, 3, n - 2), [1e300, -1e300]]),
    }[shape]()
    got = numeric_profile(values, n_buckets)
    edges, counts = _reference_numeric_profile(values, n_buckets)
    assert got["edges"] == edges
    total = sum(counts)
    expected = [c / total for c in counts] if total else [1 / len(counts)] * len(counts)
    assert got["proportions"] == expected
