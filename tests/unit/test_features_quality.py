"""Live quality maths: labelled metrics (training's definitions) and the CBPE estimate."""

from __future__ import annotations

import numpy as np
import pytest
from sklearn.metrics import log_loss, roc_auc_score

from modelops_features import quality as q
from modelops_training import metrics as training_metrics
from modelops_training import ranking


@pytest.mark.parametrize(
    ("y", "p", "expected"),
    [
        ([0, 1], [0.1, 0.9], 1.0),
        ([0, 1], [0.9, 0.1], 0.0),
        ([0, 1], [0.5, 0.5], 0.5),  # a tie counts half
        ([0, 0, 1, 1], [0.1, 0.4, 0.35, 0.8], 0.75),
        ([0, 1, 0, 1], [0.2, 0.2, 0.6, 0.6], 0.5),
        ([1, 1], [0.2, 0.3], None),  # one class: undefined
        ([], [], None),
    ],
)
def test_auc_table(y, p, expected) -> None:
    assert q.auc(y, p) == expected


def test_labelled_metrics_equal_training_and_scikit_learn() -> None:
    rng = np.random.default_rng(1)
    p = np.round(rng.beta(2, 5, 20_000), 3)  # rounded: many ties
    y = (rng.random(p.size) < p).astype(float)
    assert q.auc(y, p) == pytest.approx(roc_auc_score(y, p), abs=1e-12)
    assert q.logloss(y, p) == pytest.approx(log_loss(y, p), abs=1e-12)
    assert q.expected_calibration_error(y, p) == pytest.approx(
        training_metrics.expected_calibration_error(y, p), abs=1e-12
    )
    mine = q.binary_metrics(y, p)
    theirs = training_metrics.quality(y, p)
    assert {k: mine[k] for k in theirs} == pytest.approx(theirs, abs=1e-12)


def test_fairness_gap_is_trainings_definition() -> None:
    rng = np.random.default_rng(2)
    n = 6000
    plan = rng.choice(["basic", "standard", "premium", "tiny"], n, p=[0.5, 0.3, 0.195, 0.005])
    p = rng.random(n)
    noise = np.where(plan == "premium", 0.4, 0.1)  # premium is ranked worse
    y = (rng.random(n) < np.clip(p + rng.normal(0, noise), 0, 1)).astype(float)
    import pandas as pd

    expected = training_metrics.fairness(y, p, {"plan": pd.Series(plan)}, ["plan"])
    got = q.fairness(y, p, {"plan": plan})
    assert got.gap == pytest.approx(expected["fairness_gap"], abs=1e-12)
    assert got.column == "plan"
    # A segment under 50 rows is reported but does not decide the gap.
    assert got.segments["plan"]["tiny"]["rows"] < q.MIN_SEGMENT_ROWS


@pytest.mark.parametrize(
    ("p", "auc", "accuracy"),
    [
        ([0.5, 0.5], 0.5, 0.5),
        ([0.9, 0.9, 0.9], 0.5, 0.9),  # one score: the curve is the diagonal
        ([1.0, 0.0], 1.0, 1.0),  # certain predictions are right
        # Expected positives 1.0, negatives 1.0; the curve passes (0.2, 0.8): area 0.8.
        ([0.8, 0.2], 0.8, 0.8),
    ],
)
def test_cbpe_small_cases(p, auc, accuracy) -> None:
    got = q.estimate_binary(p)
    assert got["auc"] == pytest.approx(auc)
    assert got["accuracy"] == pytest.approx(accuracy)


def test_cbpe_without_expected_negatives_or_predictions() -> None:
    assert q.estimate_binary([1.0, 1.0]) == {"auc": None, "accuracy": 1.0}
    assert q.estimate_binary([]) == {"auc": None, "accuracy": None}


def test_cbpe_matches_the_true_metrics_when_probabilities_are_calibrated() -> None:
    rng = np.random.default_rng(3)
    p = rng.beta(2, 4, 300_000)
    y = (rng.random(p.size) < p).astype(float)  # calibrated by construction
    est = q.estimate_binary(p)
    assert est["auc"] == pytest.approx(q.auc(y, p), abs=0.005)
    assert est["accuracy"] == pytest.approx(q.accuracy(y, p), abs=0.005)


def test_cbpe_cannot_see_concept_shift_but_labels_do() -> None:
    rng = np.random.default_rng(4)
    p = rng.beta(2, 4, 100_000)
    flipped = (rng.random(p.size) < 1 - p).astype(float)  # the world answers the other way
    result = q.binary_quality(p, flipped)
    assert result.metrics["auc"] < 0.3
    assert result.estimated["auc"] > 0.7  # unchanged: same predictions


def test_binary_quality_counts_and_partial_labels() -> None:
    p = np.array([0.9, 0.2, 0.7, 0.4, 0.6])
    y = np.array([1.0, 0.0, np.nan, np.nan, 0.0])
    result = q.binary_quality(p, y, {"plan": ["a", "a", "b", "b", "a"]})
    assert (result.predictions, result.labelled, result.label_coverage) == (5, 3, 0.6)
    assert result.metrics["accuracy"] == pytest.approx(2 / 3)
    assert result.metrics["auc"] == 1.0
    assert result.estimated == q.estimate_binary(p)  # every prediction, labelled or not
    empty = q.binary_quality(p, np.full(5, np.nan))
    assert empty.labelled == 0 and empty.metrics["auc"] is None and empty.metrics["logloss"] is None
    assert empty.to_dict()["estimated"]["accuracy"] is not None


def test_multiclass_metrics_equal_training_ranking_quality() -> None:
    rng = np.random.default_rng(5)
    scores = rng.dirichlet(np.ones(8), 4000)
    y = np.array([rng.choice(8, p=s) for s in scores])
    answered = scores.argmax(axis=1)
    mine = q.multiclass_metrics(y, answered, scores)
    theirs = ranking.quality(scores, y)
    for name in ("top1_accuracy", "top3_accuracy", "logloss"):
        assert mine[name] == pytest.approx(theirs[name], abs=1e-12), name
    # Calibrated by construction: the estimate is close to the measured value.
    est = q.estimate_multiclass(answered, scores)
    assert est["top1_accuracy"] == pytest.approx(mine["top1_accuracy"], abs=0.02)
    assert est["top3_accuracy"] == pytest.approx(mine["top3_accuracy"], abs=0.02)


def test_multiclass_quality_unlabelled_rows_are_minus_one() -> None:
    scores = np.array([[0.7, 0.2, 0.1], [0.1, 0.3, 0.6], [0.4, 0.4, 0.2]])
    result = q.multiclass_quality([0, -1, 2], [0, 2, 1], scores)
    assert (result.predictions, result.labelled) == (3, 2)
    assert result.metrics["top1_accuracy"] == 0.5  # row 0 right, row 2 answered 1, was 2
    assert result.metrics["top3_accuracy"] == 1.0
    assert result.estimated["top1_accuracy"] == pytest.approx((0.7 + 0.6 + 0.4) / 3)
