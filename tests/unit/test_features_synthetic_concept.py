"""Concept shift in the synthetic churn generator: same customers, other answers."""

from __future__ import annotations

import pandas as pd
import pytest

from modelops_features import churn as churn_features
from modelops_features.drift import compare
from modelops_features.profile import bucket_counts, build_profile
from modelops_features.synthetic import churn, parse_source
from modelops_training import metrics, models


def test_inputs_are_the_very_same_and_only_the_label_moves() -> None:
    base, shifted = churn(5000, seed=2), churn(5000, seed=2, concept=1.0)
    inputs = [c for c in base.columns if c != churn_features.TARGET]
    pd.testing.assert_frame_equal(base[inputs], shifted[inputs])
    changed = (base[churn_features.TARGET] != shifted[churn_features.TARGET]).mean()
    assert changed > 0.25
    # About the same churn rate: the label's base rate alone does not give it away.
    assert abs(shifted[churn_features.TARGET].mean() - base[churn_features.TARGET].mean()) < 0.05
    # concept=0 is the generator as it was.
    pd.testing.assert_frame_equal(churn(500, seed=2, concept=0.0), churn(500, seed=2))


def test_input_drift_stays_quiet_while_an_old_model_fails() -> None:
    train = churn(6000, seed=1)
    features = churn_features.compute(train)
    x = churn_features.model_matrix(features)
    booster = models.fit_xgboost(
        x, train[churn_features.TARGET].to_numpy(), churn_features.MODEL_COLUMNS,
        models.XGBParams(n_estimators=60), seed=0,
    )  # fmt: skip
    live = churn(6000, seed=7, concept=1.0)
    live_features = churn_features.compute(live)
    profile = build_profile(features, churn_features.FEATURE_SCHEMA, None)
    observed = {
        name: bucket_counts(live_features[name], spec) for name, spec in profile["features"].items()
    }
    drift = compare(profile, observed, method="psi")
    assert drift.score < 0.05  # inputs as before: drift detection stays quiet
    p = models.predict(booster, churn_features.model_matrix(live_features))
    old = metrics.auc(live[churn_features.TARGET].to_numpy(), p)
    usual = metrics.auc(churn(6000, seed=7)[churn_features.TARGET].to_numpy(), p)
    assert usual > 0.75 and old < 0.45


@pytest.mark.parametrize(
    ("source", "concept", "name"),
    [
        ("synthetic:100:1:0:0.5", 0.5, "synthetic:100:1:0:0.5"),
        ("synthetic:100:1:0.5", 0.0, "synthetic:100:1:0.5"),
        ("synthetic:100", 0.0, "synthetic:100:0:0"),
    ],
)
def test_source_spelling(source: str, concept: float, name: str) -> None:
    spec = parse_source(source)
    assert spec.concept == concept and spec.name == name
    pd.testing.assert_frame_equal(
        spec.generate(), churn(spec.n, spec.seed, spec.shift, spec.concept)
    )


@pytest.mark.parametrize(
    "source", ["synthetic:100:1:0:1.5", "synthetic:100:1:0:-0.1", "synthetic:100:1:0:x"]
)
def test_bad_concept_is_named(source: str) -> None:
    with pytest.raises(ValueError, match="concept"):
        parse_source(source)
