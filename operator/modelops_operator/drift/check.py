"""Drift of the stable track, from Prometheus bucket counts to status and a verdict (pure).

The serving side counts every feature into histogram buckets whose edges come
from the model version's reference profile (bentos/README.md). The operator
asks Prometheus for the *increase* of those counters over the drift window,
grouped by (feature, le) -- one query for all numeric features, one for the
categories, one for the prediction histogram -- so the cost of a check depends
on the number of buckets, never on the number of requests served.

This module turns those samples into per-feature counts in the profile's bucket
order, runs `modelops_features.drift.compare`, and builds status.drift, the
Drifted condition and the verdict the retraining logic acts on. It does no I/O.
"""

from __future__ import annotations

import datetime as dt
import math
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any

from modelops_features.drift import DriftReport, compare
from modelops_operator.api.durations import parse_duration
from modelops_operator.api.times import parse_time, rfc3339

# Verdicts. Only DRIFTED may trigger retraining; INSUFFICIENT and UNKNOWN never do.
DRIFTED = "Drifted"
NOT_DRIFTED = "NotDrifted"
INSUFFICIENT = "InsufficientData"
UNKNOWN = "Unknown"

# How many features the Drifted condition names.
TOP_FEATURES = 3
SCORE_DIGITS = 6
# Relative tolerance when matching a Prometheus `le` label to a profile edge:
# the service prints edges with Go's float formatting, which round-trips, but
# a profile written by another tool may carry a last-digit difference.
EDGE_RTOL = 1e-9


@dataclass(frozen=True)
class DriftSettings:
    method: str
    threshold: float
    window: str
    window_seconds: float
    min_samples: int
    interval_seconds: float

    @classmethod
    def from_spec(cls, spec: Mapping[str, Any]) -> DriftSettings | None:
        """spec.monitoring.drift with the CRD's defaults, or None when drift is not monitored."""
        drift = ((spec.get("monitoring") or {}).get("drift")) if spec else None
        if drift is None:
            return None
        window = str(drift.get("window", "1h"))
        return cls(
            method=str(drift.get("method", "psi")),
            threshold=float(drift.get("threshold", 0.2)),
            window=window,
            window_seconds=parse_duration(window, field="spec.monitoring.drift.window"),
            min_samples=int(drift.get("minSamples", 1000)),
            interval_seconds=parse_duration(
                str(drift.get("interval", "5m")), field="spec.monitoring.drift.interval"
            ),
        )


def prometheus_address(spec: Mapping[str, Any]) -> str | None:
    """spec.monitoring.prometheus.address, else the canary analysis' Prometheus."""
    monitoring = (spec.get("monitoring") or {}).get("prometheus") or {}
    if monitoring.get("address"):
        return str(monitoring["address"])
    analysis = ((spec.get("rollout") or {}).get("analysis") or {}).get("prometheus") or {}
    return str(analysis["address"]) if analysis.get("address") else None


def due(old_drift: Mapping[str, Any] | None, version: str, settings: DriftSettings, now) -> bool:
    """Whether a new measurement is due: never measured, another version, or interval passed."""
    if not old_drift or old_drift.get("version") != version:
        return True
    measured = parse_time(old_drift.get("measuredAt"))
    return measured is None or (now - measured).total_seconds() >= settings.interval_seconds


# --- PromQL ------------------------------------------------------------------------


def _selector(model: str, version: str, namespace: str, deployment: str) -> str:
    # The model and version labels come from the service, the others from the
    # scrape relabelling of the pod labels (charts/.../podmonitor.yaml). The
    # version label pins the profile: counts of another version use other edges.
    labels = {
        "model": model,
        "version": version,
        "namespace": namespace,
        "deployment": deployment,
        "track": "stable",
    }
    return ",".join(f'{k}="{_escape(v)}"' for k, v in labels.items())


def _escape(value: str) -> str:
    return value.replace("\\", "\\\\").replace('"', '\\"')


def queries(
    model: str, version: str, namespace: str, deployment: str, window: str
) -> dict[str, str]:
    """The three PromQL queries of one drift check (each answers with bucket counts only)."""
    sel = _selector(model, version, namespace, deployment)
    return {
        "numeric": f"sum by (feature, le) (increase(modelops_feature_value_bucket{{{sel}}}[{window}]))",
        "categorical": (
            f"sum by (feature, value) (increase(modelops_feature_category_total{{{sel}}}[{window}]))"
        ),
        "prediction": f"sum by (le) (increase(modelops_prediction_bucket{{{sel}}}[{window}]))",
    }


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
class Observation:
    """Bucket counts per feature (profile order), prediction counts, features left out and why."""

    features: dict[str, list[float]]
    prediction: list[float] | None
    skipped: dict[str, str]


def observation(
    profile: Mapping[str, Any],
    numeric: Iterable[tuple[Mapping[str, str], float]],
    categorical: Iterable[tuple[Mapping[str, str], float]],
    prediction: Iterable[tuple[Mapping[str, str], float]],
) -> Observation:
    """Group the query answers (labels, value) by feature and align them with the profile."""
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
    return Observation(features=features, prediction=prediction_counts, skipped=skipped)


def measure(profile: Mapping[str, Any], obs: Observation, settings: DriftSettings) -> DriftReport:
    """The drift report of one observation against the reference profile."""
    return compare(
        profile,
        obs.features,
        method=settings.method,
        min_samples=settings.min_samples,
        prediction_counts=obs.prediction,
    )


# --- verdict, status, condition -------------------------------------------------------


def verdict(report: DriftReport | None, settings: DriftSettings) -> str:
    """DRIFTED only with enough samples and a score above the threshold."""
    if report is None:
        return UNKNOWN
    if report.insufficient:
        return INSUFFICIENT
    return DRIFTED if report.score > settings.threshold else NOT_DRIFTED


def _round(x: float) -> float:
    return round(float(x), SCORE_DIGITS) if math.isfinite(x) else 0.0


def drift_status(report: DriftReport, version: str, now: dt.datetime) -> dict[str, Any]:
    """status.drift, in the CRD's field names."""
    status: dict[str, Any] = {
        "method": report.method,
        "score": _round(report.score),
        "features": {k: _round(v) for k, v in sorted(report.features.items())},
        "samples": int(report.samples),
        "insufficient": bool(report.insufficient),
        "version": version,
        "measuredAt": rfc3339(now),
    }
    if report.prediction is not None:
        status["prediction"] = _round(report.prediction)
    return status


def top_features(report: DriftReport, n: int = TOP_FEATURES) -> str:
    return ", ".join(f"{name}={score:.3f}" for name, score in report.top(n))


def drifted_condition(
    verdict_: str, report: DriftReport | None, settings: DriftSettings, detail: str = ""
) -> tuple[str, str, str]:
    """(status, reason, message) of the Drifted condition for a verdict."""
    if verdict_ == DRIFTED and report is not None:
        pred = "" if report.prediction is None else f"; prediction {report.prediction:.3f}"
        return (
            "True",
            "DriftDetected",
            f"{settings.method} {report.score:.3f} > threshold {settings.threshold:g} over "
            f"{report.samples} requests in {settings.window}; top features: "
            f"{top_features(report)}{pred}",
        )
    if verdict_ == NOT_DRIFTED and report is not None:
        return (
            "False",
            "NoDrift",
            f"{settings.method} {report.score:.3f} <= threshold {settings.threshold:g} over "
            f"{report.samples} requests in {settings.window}; highest: {top_features(report)}",
        )
    if verdict_ == INSUFFICIENT and report is not None:
        return (
            "Unknown",
            "InsufficientData",
            f"{report.samples} requests in {settings.window}, fewer than minSamples "
            f"{settings.min_samples}; drift is not judged on so little data",
        )
    return ("Unknown", "DriftUnknown", detail or "drift could not be measured")
