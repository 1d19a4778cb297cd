"""Unit tests of the operator's drift check: PromQL, samples -> counts, verdicts, status."""

from __future__ import annotations

import datetime as dt
import math

import numpy as np
import pytest

from modelops_features.profile import bucket_counts
from modelops_operator.drift import check as dc

NOW = dt.datetime(2026, 1, 1, 12, 0, tzinfo=dt.UTC)

PROFILE = {
    "version": 1,
    "samples": 1000,
    "features": {
        "tenure": {
            "kind": "numeric",
            "edges": [1.0, 5.0, 10.0],
            "proportions": [0.25, 0.25, 0.25, 0.25],
            "missing_rate": 0.0,
        },
        "plan": {
            "kind": "categorical",
            "categories": ["basic", "premium", "__other__"],
            "proportions": [0.5, 0.5, 0.0],
            "missing_rate": 0.0,
        },
    },
    "prediction": {
        "kind": "numeric",
        "edges": [0.5],
        "proportions": [0.5, 0.5],
        "missing_rate": 0.0,
    },
}

SPEC = {
    "monitoring": {
        "drift": {
            "method": "psi",
            "threshold": 0.2,
            "window": "1h",
            "minSamples": 100,
            "interval": "5m",
        }
    }
}


def settings() -> dc.DriftSettings:
    s = dc.DriftSettings.from_spec(SPEC)
    assert s is not None
    return s


def cumulative(feature: str, edges: list[str], counts: list[float]):
    total = 0.0
    for le, c in zip([*edges, "+Inf"], counts, strict=True):
        total += c
        yield ({"feature": feature, "le": le}, total)


def test_settings_defaults_and_absence() -> None:
    assert dc.DriftSettings.from_spec({}) is None
    s = dc.DriftSettings.from_spec({"monitoring": {"drift": {}}})
    assert (s.method, s.threshold, s.window_seconds, s.min_samples, s.interval_seconds) == (
        "psi",
        0.2,
        3600.0,
        1000,
        300.0,
    )


def test_queries_group_all_features_in_one_query_per_family() -> None:
    q = dc.queries("churn", "3", "ml", "churn", "1h")
    sel = 'model="churn",version="3",namespace="ml",deployment="churn",track="stable"'
    assert q["numeric"] == (
        f"sum by (feature, le) (increase(modelops_feature_value_bucket{{{sel}}}[1h]))"
    )
    assert q["categorical"] == (
        f"sum by (feature, value) (increase(modelops_feature_category_total{{{sel}}}[1h]))"
    )
    assert q["prediction"] == f"sum by (le) (increase(modelops_prediction_bucket{{{sel}}}[1h]))"


def test_queries_escape_label_values() -> None:
    q = dc.queries('we"ird', "1", "ml", "x", "5m")
    assert 'model="we\\"ird"' in q["numeric"]


def test_numeric_counts_decumulate_in_profile_order_and_clip_dips() -> None:
    counts = dc.numeric_counts([1.0, 5.0], {math.inf: 10.0, 5.0: 7.0, 1.0: 7.5})
    # 7.5 then 7.0 is an extrapolation dip: clipped to 0, never negative.
    assert counts == [7.5, 0.0, 2.5]


def test_numeric_counts_refuse_other_edges() -> None:
    assert dc.numeric_counts([1.0, 5.0], {1.0: 1.0, 6.0: 2.0, math.inf: 3.0}) is None
    assert dc.numeric_counts([1.0, 5.0], {1.0: 1.0, math.inf: 3.0}) is None


def test_categorical_counts_put_unknown_values_into_other() -> None:
    counts = dc.categorical_counts(
        ["basic", "premium", "__other__"],
        {"basic": 3.0, "gold": 2.0, "premium": 1.0, "x": float("nan")},
    )
    assert counts == [3.0, 1.0, 2.0]


def test_observation_matches_bucket_counts_of_the_raw_values() -> None:
    rng = np.random.default_rng(0)
    values = rng.uniform(0, 12, size=500)
    expected = bucket_counts(values, PROFILE["features"]["tenure"]).astype(float).tolist()
    numeric = list(cumulative("tenure", ["1", "5", "10"], expected))
    obs = dc.observation(
        PROFILE,
        numeric,
        [({"feature": "plan", "value": "basic"}, 4.0)],
        [({"le": "0.5"}, 3.0), ({"le": "+Inf"}, 5.0)],
    )
    assert obs.features["tenure"] == expected
    assert obs.features["plan"] == [4.0, 0.0, 0.0]
    assert obs.prediction == [3.0, 2.0]
    assert obs.skipped == {}


def test_observation_reports_skipped_features() -> None:
    obs = dc.observation(
        PROFILE, list(cumulative("tenure", ["1", "6", "10"], [1, 1, 1, 1])), [], []
    )
    assert obs.skipped == {
        "tenure": "bucket edges differ from the reference profile",
        "plan": "no series",
    }
    assert obs.features == {} and obs.prediction is None


def test_verdicts() -> None:
    s = settings()
    same = dc.observation(
        PROFILE, list(cumulative("tenure", ["1", "5", "10"], [50, 50, 50, 50])), [], []
    )
    shifted = dc.observation(
        PROFILE, list(cumulative("tenure", ["1", "5", "10"], [0, 0, 10, 190])), [], []
    )
    few = dc.observation(
        PROFILE, list(cumulative("tenure", ["1", "5", "10"], [0, 0, 0, 20])), [], []
    )
    assert dc.verdict(dc.measure(PROFILE, same, s), s) == dc.NOT_DRIFTED
    assert dc.verdict(dc.measure(PROFILE, shifted, s), s) == dc.DRIFTED
    # Strong drift on 20 requests is still only insufficient data.
    assert dc.verdict(dc.measure(PROFILE, few, s), s) == dc.INSUFFICIENT
    assert dc.verdict(None, s) == dc.UNKNOWN


def test_status_and_condition_name_the_top_features() -> None:
    s = settings()
    obs = dc.observation(
        PROFILE,
        list(cumulative("tenure", ["1", "5", "10"], [0, 0, 10, 190])),
        [
            ({"feature": "plan", "value": "basic"}, 100.0),
            ({"feature": "plan", "value": "premium"}, 100.0),
        ],
        [({"le": "0.5"}, 20.0), ({"le": "+Inf"}, 200.0)],
    )
    report = dc.measure(PROFILE, obs, s)
    status = dc.drift_status(report, "3", NOW)
    assert status["version"] == "3" and status["measuredAt"] == "2026-01-01T12:00:00Z"
    assert status["samples"] == 200 and status["insufficient"] is False
    assert set(status["features"]) == {"tenure", "plan"}
    assert status["features"]["plan"] == 0.0
    assert status["score"] == status["features"]["tenure"] > 0.2
    assert status["prediction"] > 0.2
    cstatus, reason, message = dc.drifted_condition(dc.DRIFTED, report, s)
    assert (cstatus, reason) == ("True", "DriftDetected")
    assert message.index("tenure=") < message.index("plan=")
    assert "prediction" in message


def test_insufficient_and_unknown_conditions() -> None:
    s = settings()
    obs = dc.observation(
        PROFILE, list(cumulative("tenure", ["1", "5", "10"], [0, 0, 0, 5])), [], []
    )
    report = dc.measure(PROFILE, obs, s)
    assert dc.drifted_condition(dc.INSUFFICIENT, report, s)[:2] == ("Unknown", "InsufficientData")
    assert dc.drifted_condition(dc.UNKNOWN, None, s, "Prometheus down")[1:] == (
        "DriftUnknown",
        "Prometheus down",
    )


@pytest.mark.parametrize(
    ("old", "version", "expected"),
    [
        (None, "3", True),
        ({"version": "3", "measuredAt": "2026-01-01T11:56:00Z"}, "3", False),
        ({"version": "3", "measuredAt": "2026-01-01T11:55:00Z"}, "3", True),
        ({"version": "2", "measuredAt": "2026-01-01T11:59:00Z"}, "3", True),
        ({"version": "3", "measuredAt": "garbage"}, "3", True),
    ],
)
def test_due(old, version, expected) -> None:
    assert dc.due(old, version, settings(), NOW) is expected


def test_prometheus_address_falls_back_to_analysis() -> None:
    assert (
        dc.prometheus_address({"monitoring": {"prometheus": {"address": "http://a"}}}) == "http://a"
    )
    assert (
        dc.prometheus_address({"rollout": {"analysis": {"prometheus": {"address": "http://b"}}}})
        == "http://b"
    )
    assert dc.prometheus_address({}) is None
