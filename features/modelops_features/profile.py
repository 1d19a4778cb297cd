"""Reference profiles: the training data's distributions, in Prometheus-ready buckets.

A profile is stored in the model's metadata. The serving side turns each numeric
feature's `edges` into histogram buckets and counts live values into them; drift is
then measured between the profile's `proportions` and those live bucket counts,
without ever shipping raw data. Format:

    {"version": 1, "samples": N,
     "features": {
        name: {"kind": "numeric", "edges": [e1, ..., ek],
               "proportions": [p0, ..., pk], "missing_rate": r},
        name: {"kind": "categorical", "categories": [c1, ..., "__other__"],
               "proportions": [...], "missing_rate": r}},
     "prediction": {"kind": "numeric", "edges": [...], "proportions": [...],
                    "missing_rate": r}}        # only when predictions were given

Numeric buckets follow Prometheus `le` semantics: bucket i holds
edges[i-1] < v <= edges[i], the first bucket everything <= edges[0] (-inf too), and
the last, implicit +Inf bucket everything > edges[-1] (+inf too). Proportions are
over non-missing values, so they sum to 1; NaN is counted only in missing_rate.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd

from modelops_features.arrays import OTHER
from modelops_features.quantiles import ValueRanges, inverted_cdf_positions, le_counts
from modelops_features.schema import NUMERIC_DTYPES, Schema

PROFILE_VERSION = 1
# Edges are rounded to this many significant digits: readable `le` labels, and
# the same edges whatever tiny float noise the quantile interpolation produced.
EDGE_DIGITS = 6


def quantile_edges(values: np.ndarray, n_buckets: int) -> list[float]:
    """Ascending, distinct upper bucket edges at the 1/n .. (n-1)/n quantiles.

    Each edge is an observed value, so with `le` buckets the quantile's own value
    falls into the bucket it closes.

    Ties collapse (a column with few distinct values gets fewer buckets), and a
    constant column gets the single edge [c]: bucket 0 holds c, +Inf holds nothing.
    Infinite values are left out of the quantiles so that edges stay finite.
    """
    if n_buckets < 1:
        raise ValueError(f"n_buckets must be >= 1, got {n_buckets}")
    finite, _, _ = _split_finite(values)
    return _edges(ValueRanges(finite), n_buckets)


def _split_finite(values: np.ndarray) -> tuple[np.ndarray, int, int]:
    """(the finite values, how many are -inf, how many are not NaN)."""
    finite_mask = np.isfinite(values)
    if finite_mask.all():
        # Most columns are all finite: skip the copy that filtering would make.
        return values, 0, values.size
    rest = values[~finite_mask]
    present = values.size - int(np.count_nonzero(np.isnan(rest)))
    return values[finite_mask], int(np.count_nonzero(rest == -np.inf)), present


def _edges(ranges: ValueRanges, n_buckets: int) -> list[float]:
    if ranges.values.size == 0 or n_buckets == 1:
        return []
    # The "inverted_cdf" quantiles pick observed values, never a point between two of
    # them: integer features get integer edges and a 0/1 feature gets the edge 0, not
    # 0.1. order_statistics returns exactly np.quantile(..., method="inverted_cdf")
    # without partitioning the whole column once per quantile.
    positions = inverted_cdf_positions(ranges.values.size, np.arange(1, n_buckets) / n_buckets)
    qs = ranges.order_statistics(positions)
    # "+ 0.0" turns -0.0 into 0.0. Where a column holds both zeros, which of the equal
    # values a partition leaves at a position is unspecified (np.quantile's own answer
    # depends on its partition order), so the sign would be noise in the stored edges.
    rounded = {float(f"{q:.{EDGE_DIGITS}g}") + 0.0 for q in qs}
    return sorted(rounded)


def _edges_and_counts(values: np.ndarray, n_buckets: int) -> tuple[list[float], np.ndarray]:
    """quantile_edges and the `le` bucket counts over them, from one counting pass."""
    finite, negative_inf, present = _split_finite(values)
    ranges = ValueRanges(finite)
    edges = _edges(ranges, n_buckets)
    # -inf is <= every (finite) edge; +inf is in no cumulative count, so it ends up
    # in the +Inf bucket through the present total; NaN is in neither.
    cumulative = ranges.count_at_most(np.asarray(edges, dtype=np.float64)) + negative_inf
    return edges, np.diff(np.array([0, *cumulative.tolist(), present], dtype=np.int64))


def _numeric_counts(values: np.ndarray, edges: list[float]) -> np.ndarray:
    return le_counts(values, np.asarray(edges, dtype=np.float64))


def _categorical_counts(values: pd.Series, categories: list[str]) -> np.ndarray:
    present = values[values.notna()]
    codes = pd.Categorical(present, categories=categories).codes
    # Code -1 is a value outside the list: it counts as "__other__" (the last bucket).
    codes = np.where(codes < 0, len(categories) - 1, codes)
    return np.bincount(codes, minlength=len(categories))


def _proportions(counts: np.ndarray) -> list[float]:
    total = counts.sum()
    if total == 0:
        # No observed value carries no information: a uniform reference lets drift
        # statistics stay defined instead of dividing by zero.
        return [1.0 / len(counts)] * len(counts)
    return (counts / total).tolist()


def _as_float_array(values: Any) -> np.ndarray:
    """float64 values, with NaN for anything missing or not a number."""
    # Plain numeric numpy data (and Series backed by it) is already numbers: pd.to_numeric
    # would give the same values after copying a million-row column twice. The result
    # is made contiguous once (a column of a 2-D array is strided) because the counting
    # passes read it several times.
    raw = values.to_numpy() if isinstance(values, pd.Series) else values
    if isinstance(raw, np.ndarray) and raw.dtype.kind in "fiu":
        return np.ascontiguousarray(raw, dtype=np.float64)
    series = pd.Series(values) if not isinstance(values, pd.Series) else values
    return pd.to_numeric(series, errors="coerce").to_numpy(dtype=np.float64, na_value=np.nan)


def numeric_profile(values: Any, n_buckets: int = 10) -> dict[str, Any]:
    if n_buckets < 1:
        raise ValueError(f"n_buckets must be >= 1, got {n_buckets}")
    numbers = _as_float_array(values)
    edges, counts = _edges_and_counts(numbers, n_buckets)
    return {
        "kind": "numeric",
        "edges": edges,
        "proportions": _proportions(counts),
        "missing_rate": float(np.isnan(numbers).mean()) if numbers.size else 0.0,
    }


def categorical_profile(values: Any, categories: list[str] | tuple[str, ...]) -> dict[str, Any]:
    series = values if isinstance(values, pd.Series) else pd.Series(values, dtype=object)
    cats = [c for c in categories if c != OTHER] + [OTHER]
    counts = _categorical_counts(series, cats)
    return {
        "kind": "categorical",
        "categories": cats,
        "proportions": _proportions(counts),
        "missing_rate": float(series.isna().mean()) if len(series) else 0.0,
    }


def build_profile(
    features: pd.DataFrame,
    schema: Schema,
    predictions: np.ndarray | None,
    n_buckets: int = 10,
) -> dict[str, Any]:
    """The JSON-serialisable reference profile of `features` (see module docstring).

    Numeric and category fields of `schema` are profiled; "string" fields are not
    (free text has no useful buckets). `predictions`, when given, are profiled like
    a numeric feature under the "prediction" key.
    """
    missing = [f.name for f in schema.fields if f.name not in features.columns]
    if missing:
        raise ValueError(f"build_profile: feature column(s) missing: {missing}")
    profiled: dict[str, Any] = {}
    for f in schema.fields:
        if f.dtype in NUMERIC_DTYPES:
            profiled[f.name] = numeric_profile(features[f.name], n_buckets)
        elif f.dtype == "category":
            profiled[f.name] = categorical_profile(features[f.name], f.categories or ())
    profile: dict[str, Any] = {
        "version": PROFILE_VERSION,
        "samples": len(features),
        "features": profiled,
    }
    if predictions is not None:
        preds = np.asarray(predictions, dtype=np.float64)
        if preds.ndim != 1 or len(preds) != len(features):
            raise ValueError(
                f"build_profile: predictions must be 1-D with one value per row "
                f"({len(features)}), got shape {preds.shape}"
            )
        profile["prediction"] = numeric_profile(preds, n_buckets)
    return profile


def bucket_counts(values: np.ndarray | pd.Series, feature_profile: dict) -> np.ndarray:
    """Counts of `values` in the profile's buckets; same length as its proportions.

    Numeric: `le` buckets over the profile's edges; NaN is ignored, +/-inf land in
    the last / first bucket. Categorical: one count per category, values outside
    the list count as "__other__", missing values are ignored.
    """
    kind = feature_profile.get("kind")
    if kind == "numeric":
        return _numeric_counts(_as_float_array(values), list(feature_profile["edges"]))
    if kind == "categorical":
        series = values if isinstance(values, pd.Series) else pd.Series(values, dtype=object)
        return _categorical_counts(series, list(feature_profile["categories"]))
    raise ValueError(f"bucket_counts: unknown profile kind {kind!r}")


def counts_from_cumulative(cumulative: np.ndarray | list[float]) -> np.ndarray:
    """Per-bucket counts from Prometheus' cumulative `le` bucket values (+Inf last).

    A counter reset or a rate() window can make neighbours dip slightly; negative
    differences are clipped to 0 rather than reported as negative counts.
    """
    cum = np.asarray(cumulative, dtype=np.float64)
    if cum.size == 0:
        return cum
    return np.clip(np.diff(cum, prepend=0.0), 0.0, None)
