"""Reference profiles and bucket counting (modelops_features.profile)."""

from __future__ import annotations

import json

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from modelops_features import synthetic
from modelops_features.churn import FEATURE_SCHEMA, compute
from modelops_features.profile import (
    OTHER,
    bucket_counts,
    build_profile,
    categorical_profile,
    counts_from_cumulative,
    numeric_profile,
    quantile_edges,
)
from modelops_features.schema import Field, Schema

EDGES = [0.5, 1.0, 2.0, 10.0]
NUMERIC = {"kind": "numeric", "edges": EDGES, "proportions": [0.2] * 5}


@pytest.mark.parametrize(
    ("values", "expected"),
    [
        # Prometheus `le`: a value equal to an edge belongs to that edge's bucket.
        ([0.5, 1.0, 2.0, 10.0], [1, 1, 1, 1, 0]),
        ([0.5000001, 1.0000001, 10.0000001], [0, 1, 1, 0, 1]),
        ([-np.inf, -1e300, 0.0], [3, 0, 0, 0, 0]),
        ([np.inf, 1e300], [0, 0, 0, 0, 2]),
        ([np.nan, np.nan, 1.5], [0, 0, 1, 0, 0]),
        ([], [0, 0, 0, 0, 0]),
    ],
)
def test_numeric_bucket_counts_use_le_semantics(values, expected):
    assert bucket_counts(np.array(values, dtype=float), NUMERIC).tolist() == expected


def test_bucket_counts_accepts_series_with_missing_values():
    series = pd.Series([1, None, 3], dtype="Int64")
    assert bucket_counts(series, NUMERIC).tolist() == [0, 1, 0, 1, 0]


def test_categorical_bucket_counts_map_unknown_to_other_and_ignore_missing():
    profile = {"kind": "categorical", "categories": ["a", "b", OTHER], "proportions": [0.0] * 3}
    values = pd.Series(["a", "b", "b", "zzz", None, 7, OTHER])
    assert bucket_counts(values, profile).tolist() == [1, 2, 3]
    assert bucket_counts(np.array(["a", "a"], dtype=object), profile).tolist() == [2, 0, 0]


def test_unknown_profile_kind_is_refused():
    with pytest.raises(ValueError, match="unknown profile kind"):
        bucket_counts(np.array([1.0]), {"kind": "weird"})


@pytest.mark.parametrize(
    ("values", "n_buckets", "expected"),
    [
        (np.arange(1, 11, dtype=float), 2, [5.0]),
        (np.arange(1, 101, dtype=float), 4, [25.0, 50.0, 75.0]),
        (np.full(50, 7.0), 10, [7.0]),  # a constant column: one edge
        (np.array([0.0] * 90 + [1.0] * 10), 10, [0.0]),  # ties collapse
        (np.array([np.nan, np.inf, -np.inf]), 10, []),  # nothing finite
        (np.array([1.0, 2.0, np.inf]), 1, []),  # one bucket needs no edge
        (np.array([1 / 3, 2 / 3, 1.0]), 2, [0.666667]),  # rounded to 6 digits
    ],
)
def test_quantile_edges(values, n_buckets, expected):
    assert quantile_edges(values, n_buckets) == expected


def test_quantile_edges_refuse_zero_buckets():
    with pytest.raises(ValueError, match="n_buckets"):
        quantile_edges(np.array([1.0]), 0)


def test_numeric_profile_by_hand():
    values = pd.Series([1.0, 2.0, 3.0, 4.0, np.nan, 5.0, 6.0, 7.0, 8.0, np.nan])
    profile = numeric_profile(values, n_buckets=4)
    assert profile == {
        "kind": "numeric",
        "edges": [2.0, 4.0, 6.0],
        "proportions": [0.25, 0.25, 0.25, 0.25],
        "missing_rate": 0.2,
    }


def test_constant_and_empty_columns():
    constant = numeric_profile(np.full(20, 3.0))
    assert constant["edges"] == [3.0]
    assert constant["proportions"] == [1.0, 0.0]
    empty = numeric_profile(np.array([np.nan, np.nan]))
    assert empty == {"kind": "numeric", "edges": [], "proportions": [1.0], "missing_rate": 1.0}


def test_categorical_profile_by_hand():
    values = pd.Series(["a", "a", "b", "x", None])
    profile = categorical_profile(values, ("a", "b", "c"))
    assert profile == {
        "kind": "categorical",
        "categories": ["a", "b", "c", OTHER],
        "proportions": [0.5, 0.25, 0.0, 0.25],
        "missing_rate": 0.2,
    }
    # A schema that already lists "__other__" gets it once, last.
    assert categorical_profile(values, ("a", OTHER, "b"))["categories"] == ["a", "b", OTHER]


def test_build_profile_of_churn_features():
    raw = synthetic.churn(2000, seed=4)
    features = compute(raw)
    predictions = np.linspace(0.0, 1.0, len(features))
    profile = build_profile(features, FEATURE_SCHEMA, predictions, n_buckets=10)
    assert json.loads(json.dumps(profile)) == profile
    assert profile["version"] == 1
    assert profile["samples"] == 2000
    assert list(profile["features"]) == FEATURE_SCHEMA.names
    for name, entry in profile["features"].items():
        assert sum(entry["proportions"]) == pytest.approx(1.0), name
        if entry["kind"] == "numeric":
            edges = entry["edges"]
            assert edges == sorted(set(edges)) and all(np.isfinite(edges)), name
            assert len(entry["proportions"]) == len(edges) + 1
            assert len(edges) <= 9
            # Proportions are what bucket_counts gives on the same data.
            counts = bucket_counts(features[name], entry)
            assert (counts / counts.sum()).tolist() == pytest.approx(entry["proportions"])
        else:
            assert entry["categories"][-1] == OTHER
            assert len(entry["proportions"]) == len(entry["categories"])
    assert profile["features"]["total_spend"]["missing_rate"] > 0
    assert profile["features"]["tenure_months"]["missing_rate"] == 0
    # Uniform predictions give (nearly) equal-mass buckets.
    assert profile["prediction"]["edges"] == pytest.approx(np.linspace(0.1, 0.9, 9), abs=1e-3)
    assert profile["prediction"]["proportions"] == pytest.approx([0.1] * 10, abs=1e-3)


def test_build_profile_without_predictions_and_string_fields_skipped():
    schema = Schema("s", (Field("x", "float"), Field("note", "string")))
    df = pd.DataFrame({"x": [1.0, 2.0], "note": ["a", "b"]})
    profile = build_profile(df, schema, None)
    assert "prediction" not in profile
    assert list(profile["features"]) == ["x"]


def test_build_profile_errors_name_the_problem():
    df = pd.DataFrame({"x": [1.0, 2.0]})
    schema = Schema("s", (Field("x", "float"), Field("y", "float")))
    with pytest.raises(ValueError, match="'y'"):
        build_profile(df, schema, None)
    with pytest.raises(ValueError, match="one value per row"):
        build_profile(df, Schema("s", (Field("x", "float"),)), np.array([0.5]))


def test_counts_from_cumulative_prometheus_buckets():
    # le="0.5", "1", "2", "+Inf" cumulative counts -> per-bucket counts.
    assert counts_from_cumulative([2, 4, 4, 5]).tolist() == [2, 2, 0, 1]
    assert counts_from_cumulative([3, 2, 5]).tolist() == [3, 0, 3]
    assert counts_from_cumulative([]).tolist() == []


# --- properties -------------------------------------------------------------------------


finite_or_not = st.one_of(
    st.floats(allow_nan=True, allow_infinity=True),
    st.sampled_from([0.0, 1.0, 2.0, 2.5]),
)


def _naive_le_bucket(value: float, edges: list[float]) -> int:
    for i, edge in enumerate(edges):
        if value <= edge:
            return i
    return len(edges)


@settings(max_examples=200, deadline=None)
@given(st.lists(finite_or_not, max_size=60), st.integers(1, 12))
def test_profile_buckets_agree_with_a_naive_le_loop(values, n_buckets):
    array = np.array(values, dtype=float)
    entry = numeric_profile(array, n_buckets)
    edges = entry["edges"]
    assert edges == sorted(set(edges)) and all(np.isfinite(edges))
    assert len(edges) <= n_buckets - 1
    assert len(entry["proportions"]) == len(edges) + 1
    assert sum(entry["proportions"]) == pytest.approx(1.0)
    counts = bucket_counts(array, entry)
    naive = np.zeros(len(edges) + 1, dtype=int)
    for v in values:
        if not np.isnan(v):
            naive[_naive_le_bucket(v, edges)] += 1
    assert counts.tolist() == naive.tolist()
    present = int((~np.isnan(array)).sum())
    if present:
        assert (counts / present).tolist() == pytest.approx(entry["proportions"])
