"""The common modelops_ metrics: profile buckets, both observe paths, exposition."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from prometheus_client.parser import text_string_to_metric_families

from modelops_bentos.common.telemetry import BucketCounts, CategoryCounts, Telemetry

EDGES = [0.5, 1.0, 2.0, 10.0]
PROFILE = {
    "features": {
        "spend": {"kind": "numeric", "edges": EDGES, "proportions": [0.2] * 5},
        "plan": {"kind": "categorical", "categories": ["basic", "premium", "__other__"]},
    },
    "prediction": {"kind": "numeric", "edges": [0.25, 0.5, 0.75]},
}


def test_buckets_use_prometheus_le_semantics() -> None:
    hist = BucketCounts(EDGES)
    # On an edge counts in that edge's bucket (v <= le); above the last edge is +Inf.
    hist.observe_many(np.array([0.5, 0.50001, 1.0, 11.0, -3.0, np.nan]))
    assert hist.counts.tolist() == [2, 2, 0, 0, 1]
    assert hist.missing == 1
    assert [le for le, _ in hist.buckets()] == ["0.5", "1.0", "2.0", "10.0", "+Inf"]
    assert [c for _, c in hist.buckets()] == [2.0, 4.0, 4.0, 4.0, 5.0]


def test_buckets_match_the_feature_profile_bucket_counts() -> None:
    try:
        from modelops_features.profile import bucket_counts
    except ImportError as exc:
        pytest.fail(f"modelops_features.profile.bucket_counts is needed ({exc})")
    rng = np.random.default_rng(3)
    values = np.concatenate([rng.normal(1, 3, 500), EDGES, [np.nan, np.inf, -np.inf]])
    hist = BucketCounts(EDGES)
    hist.observe_many(values)
    expected = bucket_counts(values, PROFILE["features"]["spend"])
    assert hist.counts.tolist() == np.asarray(expected).tolist()


def test_single_and_vector_observation_agree() -> None:
    rng = np.random.default_rng(5)
    values = np.concatenate([rng.normal(1, 3, 200), EDGES, [np.nan]])
    one, many = BucketCounts(EDGES), BucketCounts(EDGES)
    for v in values:
        one.observe(float(v))
    many.observe_many(values)
    assert one.counts.tolist() == many.counts.tolist()
    assert one.missing == many.missing == 1
    assert one.sum == pytest.approx(many.sum)


@pytest.mark.parametrize(
    "extra",
    [[], [np.inf], [-np.inf], [np.inf, -np.inf], [np.nan, np.inf, np.nan]],
    ids=["finite", "inf", "-inf", "both", "nan-inf"],
)
def test_sum_counts_finite_values_only_and_infinities_land_in_the_end_buckets(extra) -> None:
    values = np.array([0.25, 3.0, 0.75, *extra])
    hist = BucketCounts(EDGES)
    hist.observe_many(values)
    finite = values[np.isfinite(values)]
    assert hist.sum == float(finite.sum())
    assert hist.missing == int(np.isnan(values).sum())
    assert hist.counts[0] == 1 + int(np.isneginf(values).sum())
    assert hist.counts[-1] == int(np.isposinf(values).sum()) + int((finite > EDGES[-1]).sum())
    assert hist.counts.sum() == values.size - hist.missing


def test_categories_outside_the_profile_count_as_other() -> None:
    counts = CategoryCounts(["basic", "premium", "__other__"])
    counts.observe("basic")
    counts.observe("gold")
    counts.observe_many(pd.Series(["premium", "basic", "weird"]))
    assert counts.counts == {"basic": 2, "premium": 1, "__other__": 2}


def test_edges_must_ascend() -> None:
    with pytest.raises(ValueError, match="ascending"):
        BucketCounts([1.0, 1.0, 2.0])


def families(text: str) -> dict:
    return {f.name: f for f in text_string_to_metric_families(text)}


def test_exposition_names_labels_and_profile_edges() -> None:
    telemetry = Telemetry("churn")
    before = families(telemetry.render())
    assert before["modelops_model_ready"].samples[0].value == 0.0
    assert before["modelops_model_ready"].samples[0].labels == {"model": "churn", "version": "none"}
    assert "modelops_feature_value" not in before  # no profile before a model is loaded

    telemetry.model_loaded("7", PROFILE)
    telemetry.observe_request("predict", 200, 0.003)
    telemetry.observe_request("predict", 422, 0.001)
    frame = pd.DataFrame({"spend": [0.1, 5.0, np.nan], "plan": ["basic", "premium", "basic"]})
    telemetry.observe_predictions(frame, np.array([0.1, 0.6, 0.9], dtype=np.float32))
    telemetry.observe_predictions({"spend": 3.0, "plan": "zzz"}, np.array([0.3]))
    out = families(telemetry.render())

    requests = {
        (s.labels["endpoint"], s.labels["status"]): s.value
        for s in out["modelops_requests"].samples
        if s.name == "modelops_requests_total"
    }
    assert requests == {("predict", "200"): 1.0, ("predict", "422"): 1.0}
    buckets = {
        s.labels["le"]: s.value
        for s in out["modelops_feature_value"].samples
        if s.name.endswith("_bucket") and s.labels["feature"] == "spend"
    }
    assert buckets == {"0.5": 1.0, "1.0": 1.0, "2.0": 1.0, "10.0": 3.0, "+Inf": 3.0}
    missing = out["modelops_feature_missing"].samples[0]
    assert (missing.labels["feature"], missing.value) == ("spend", 1.0)
    categories = {
        s.labels["value"]: s.value
        for s in out["modelops_feature_category"].samples
        if s.name.endswith("_total")
    }
    assert categories == {"basic": 2.0, "premium": 1.0, "__other__": 1.0}
    prediction = {
        s.labels["le"]: s.value
        for s in out["modelops_prediction"].samples
        if s.name.endswith("_bucket")
    }
    assert prediction == {"0.25": 1.0, "0.5": 2.0, "0.75": 3.0, "+Inf": 4.0}
    ready = out["modelops_model_ready"].samples[0]
    assert (ready.labels["version"], ready.value) == ("7", 1.0)


def _request_stream(seed: int) -> list[tuple[dict, np.ndarray]]:
    """One-record requests (scalars, None, NaN, an unknown plan) mixed with batches."""
    rng = np.random.default_rng(seed)
    stream: list[tuple[dict, np.ndarray]] = []
    for i in range(300):
        if i % 7 == 0:
            n = int(rng.integers(2, 60))
            spend = rng.normal(1, 3, n)
            spend[rng.random(n) < 0.1] = np.nan
            plans = rng.choice(["basic", "premium", "gold"], n).astype(object)
            stream.append(({"spend": spend, "plan": plans}, rng.random(n).astype(np.float32)))
        else:
            spend = [None, float("nan"), 0.5, 1.0, 3.3, 11.0][i % 6]
            plan = ["basic", "premium", "zzz", None][i % 4]
            stream.append(({"spend": spend, "plan": plan}, np.array([rng.random()])))
    return stream


@pytest.mark.parametrize("seed", [1, 2, 3])
def test_folded_counts_equal_counting_each_value_on_its_own(seed) -> None:
    """Counting in folds (one pass over all features, ModelMetrics.fold) changes when,
    never what, is counted: the reference counts each request with BucketCounts and
    CategoryCounts directly, value by value or array by array."""
    from modelops_bentos.common.telemetry import ModelMetrics

    stream = _request_stream(seed)
    folded = ModelMetrics(PROFILE)
    spend, plan = BucketCounts(EDGES), CategoryCounts(["basic", "premium"])
    prediction = BucketCounts([0.25, 0.5, 0.75])
    for features, probabilities in stream:
        folded.observe(features, probabilities)
        if isinstance(features["spend"], np.ndarray):
            spend.observe_many(features["spend"])
            plan.observe_many(features["plan"])
        else:
            spend.observe(features["spend"])
            plan.observe(features["plan"])
        prediction.observe_many(probabilities)
    assert folded._pending  # part of the stream is still pending: reading must fold it
    got = folded.numeric["spend"]
    assert got.counts.tolist() == spend.counts.tolist()
    assert got.missing == spend.missing
    assert got.sum == pytest.approx(spend.sum)
    assert folded.categorical["plan"].counts == plan.counts
    assert folded.prediction.counts.tolist() == prediction.counts.tolist()


def test_a_feature_a_request_did_not_carry_is_neither_counted_nor_missing() -> None:
    from modelops_bentos.common.telemetry import ModelMetrics

    profile = {
        "features": {
            "spend": {"kind": "numeric", "edges": EDGES},
            "age": {"kind": "numeric", "edges": [1.0, 2.0, 3.0, 4.0, 5.0, 6.0]},
        }
    }
    metrics = ModelMetrics(profile)
    metrics.observe({"spend": 0.7}, np.array([0.5]))  # no "age"
    metrics.observe({"spend": np.array([0.1, np.nan])}, np.array([0.5, 0.5]))  # no "age"
    metrics.observe({"spend": None, "age": np.inf}, np.array([0.5]))
    assert metrics.numeric["age"].counts.tolist() == [0, 0, 0, 0, 0, 0, 1]
    assert metrics.numeric["age"].missing == 0
    assert metrics.numeric["spend"].counts.tolist() == [1, 1, 0, 0, 0]
    assert metrics.numeric["spend"].missing == 2
    assert metrics.numeric["spend"].sum == pytest.approx(0.8)


def test_a_scrape_sees_requests_still_pending_a_fold() -> None:
    telemetry = Telemetry("churn")
    telemetry.model_loaded("3", PROFILE)
    telemetry.observe_predictions({"spend": 0.7, "plan": "basic"}, np.array([0.6]))
    out = {f.name: f for f in text_string_to_metric_families(telemetry.render())}
    spend = {
        s.labels["le"]: s.value
        for s in out["modelops_feature_value"].samples
        if s.name.endswith("_bucket") and s.labels["feature"] == "spend"
    }
    assert spend["0.5"] == 0.0 and spend["1.0"] == 1.0
    plans = {s.labels["value"]: s.value for s in out["modelops_feature_category"].samples}
    assert plans["basic"] == 1.0
