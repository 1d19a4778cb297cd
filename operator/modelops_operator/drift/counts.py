"""Drift of the stable track, from histogram samples to a drift report (pure).

The serving side counts every feature into histogram buckets whose edges come
from the model version's reference profile (bentos/README.md). A drift source
(providers/: Prometheus) answers with the *increase* of those counters over
the drift window, grouped by (feature, le) -- one family for all numeric
features, one for the categories, one for the prediction histogram -- so the
cost of a measurement depends on the number of buckets, never on the number
of requests served.

This module turns those samples into per-feature counts in the profile's
bucket order and runs `modelops_features.drift.compare`. What the report
means (verdict, status.drift, the Drifted condition) is in verdict.py.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Protocol

from modelops_operator.api.spec import DriftSpec

if TYPE_CHECKING:
    # The drift maths needs numpy (0.4-0.7 s to import): loaded when drift is first
    # measured, not at every operator start (the chaos tests start a hundred).
    from modelops_features.drift import DriftReport

# Relative tolerance when matching a Prometheus `le` label to a profile edge:
# the service prints edges with Go's float formatting, which round-trips, but
# a profile written by another tool may carry a last-digit difference.
EDGE_RTOL = 1e-9

Sample = tuple[Mapping[str, str], float]  # (labels, value), as an instant vector holds them


@dataclass(frozen=True)
class DriftScope:
    """Whose histograms to read: the stable track of one ModelDeployment, over one window."""

    model: str
    version: str  # the version's counts: another version buckets by other edges
    namespace: str
    deployment: str
    window: str  # as written in the spec, e.g. "1h"


@dataclass(frozen=True)
class BucketSamples:
    """What a drift source answers: the three histogram families over the window."""

    numeric: tuple[Sample, ...] = ()  # labels feature, le (cumulative)
    categorical: tuple[Sample, ...] = ()  # labels feature, value
    prediction: tuple[Sample, ...] = ()  # label le (cumulative)


class DriftSource(Protocol):
    """Reads a track's feature histograms; raises any exception when it cannot."""

    def histograms(self, scope: DriftScope) -> BucketSamples: ...


# --- samples -> counts in profile order ----------------------------------------------


def _le(text: str) -> float:
    return math.inf if text in ("+Inf", "Inf", "inf") else float(text)


def numeric_counts(
    edges: list[float], cumulative_by_le: Mapping[float, float]
) -> list[float] | None:
    """Per-bucket counts in profile order, or None when the `le` set does not match the edges.

    Prometheus returns cumulative `le` buckets; bucket i of the profile holds
    edges[i-1] < v <= edges[i] and the last is +Inf, so the counts are the
    differences of the cumulative values at [edges..., +Inf]. A mismatch (a
    series of a build with other edges) yields None: it cannot be compared,
    and guessing would invent drift.
    """
    wanted = [float(e) for e in edges] + [math.inf]
    available = sorted(cumulative_by_le.items())
    if len(available) != len(wanted):
        return None
    values: list[float] = []
    for edge, (le, value) in zip(wanted, available, strict=True):
        same = le == edge or (
            math.isfinite(le) and math.isfinite(edge) and math.isclose(le, edge, rel_tol=EDGE_RTOL)
        )
        if not same:
            return None
        values.append(max(float(value), 0.0) if math.isfinite(value) else 0.0)
    counts, previous = [], 0.0
    for value in values:
        # increase() of each bucket is extrapolated separately, so neighbours can
        # dip slightly below each other; a negative count is clipped to zero.
        counts.append(max(value - previous, 0.0))
        previous = max(previous, value)
    return counts


def categorical_counts(categories: list[str], by_value: Mapping[str, float]) -> list[float]:
    """Counts in the profile's category order; values it does not know go to the last (__other__)."""
    index = {c: i for i, c in enumerate(categories)}
    counts = [0.0] * len(categories)
    for value, count in by_value.items():
        if not math.isfinite(count) or count <= 0:
            continue
        counts[index.get(value, len(categories) - 1)] += float(count)
    return counts


@dataclass(frozen=True)
class BucketCounts:
    """Bucket counts per feature (profile order), prediction counts, features left out and why."""

    features: dict[str, list[float]]
    prediction: list[float] | None
    skipped: dict[str, str]


def align(profile: Mapping[str, Any], samples: BucketSamples) -> BucketCounts:
    """Group the samples (labels, value) by feature and align them with the profile's buckets."""
    numeric, categorical, prediction = samples.numeric, samples.categorical, samples.prediction
    references = profile.get("features") or {}
    by_feature_le: dict[str, dict[float, float]] = {}
    for labels, value in numeric:
        feature, le = labels.get("feature"), labels.get("le")
        if feature is None or le is None:
            continue
        by_feature_le.setdefault(feature, {})[_le(le)] = value
    by_feature_value: dict[str, dict[str, float]] = {}
    for labels, value in categorical:
        feature, category = labels.get("feature"), labels.get("value")
        if feature is None or category is None:
            continue
        by_feature_value.setdefault(feature, {})[category] = value

    features: dict[str, list[float]] = {}
    skipped: dict[str, str] = {}
    for name, ref in references.items():
        kind = ref.get("kind")
        if kind == "numeric" and name in by_feature_le:
            counts = numeric_counts(list(ref.get("edges") or []), by_feature_le[name])
            if counts is None:
                skipped[name] = "bucket edges differ from the reference profile"
            else:
                features[name] = counts
        elif kind == "categorical" and name in by_feature_value:
            features[name] = categorical_counts(
                list(ref.get("categories") or []), by_feature_value[name]
            )
        else:
            skipped[name] = "no series"

    prediction_counts = None
    pred_ref = profile.get("prediction")
    pred_le = {_le(labels["le"]): value for labels, value in prediction if "le" in labels}
    if pred_ref and pred_le:
        prediction_counts = numeric_counts(list(pred_ref.get("edges") or []), pred_le)
    return BucketCounts(features=features, prediction=prediction_counts, skipped=skipped)


def measure(profile: Mapping[str, Any], samples: BucketSamples, settings: DriftSpec) -> DriftReport:
    """The drift report of one window of bucket counts against the reference profile."""
    from modelops_features.drift import compare

    obs = align(profile, samples)
    return compare(
        profile,
        obs.features,
        method=settings.method,
        min_samples=settings.min_samples,
        prediction_counts=obs.prediction,
    )
