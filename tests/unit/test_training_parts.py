"""The pure parts of training: split, metrics, gates."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from sklearn.metrics import roc_auc_score

from modelops_training import gates, metrics
from modelops_training.errors import TrainingInputError
from modelops_training.split import holdout_mask_by_id, holdout_mask_by_seed


def test_id_split_depends_only_on_the_id() -> None:
    ids = pd.Series([f"c-{i}" for i in range(5000)])
    mask = holdout_mask_by_id(ids)
    assert 0.18 < mask.mean() < 0.22
    shuffled = ids.sample(frac=1.0, random_state=3)
    again = holdout_mask_by_id(shuffled)
    # Same customer, same side, whatever the order of the rows.
    assert dict(zip(shuffled, again, strict=True)) == dict(zip(ids, mask, strict=True))


def test_seeded_split() -> None:
    a, b, c = (holdout_mask_by_seed(1000, s) for s in (1, 1, 2))
    assert a.sum() == 200
    assert np.array_equal(a, b)
    assert not np.array_equal(a, c)


def test_ece_by_hand() -> None:
    # Bin [0.2, 0.3): p mean 0.25, y mean 0.5 -> |gap| 0.25 over 2 of 4 rows.
    # Bin [0.9, 1.0]: p mean 0.95, y mean 1.0 -> |gap| 0.05 over 2 of 4 rows.
    y = np.array([0, 1, 1, 1])
    p = np.array([0.2, 0.3 - 1e-9, 0.9, 1.0])
    expected = 0.5 * abs(0.5 - (0.2 + 0.3 - 1e-9) / 2) + 0.5 * abs(1.0 - 0.95)
    assert metrics.expected_calibration_error(y, p) == pytest.approx(expected)
    assert metrics.expected_calibration_error(np.array([0, 1]), np.array([0.0, 1.0])) == 0.0


def test_quality_matches_sklearn() -> None:
    rng = np.random.default_rng(0)
    y = rng.integers(0, 2, 500)
    p = np.clip(0.3 * y + rng.random(500) * 0.7, 0.01, 0.99)
    q = metrics.quality(y, p)
    assert q["auc"] == pytest.approx(roc_auc_score(y, p))
    assert q["accuracy"] == pytest.approx(np.mean((p >= 0.5) == y))
    assert metrics.auc(np.ones(5), np.linspace(0, 1, 5)) is None


def test_fairness_gap_is_worst_column_spread_of_auc() -> None:
    rng = np.random.default_rng(1)
    n = 2000
    y = rng.integers(0, 2, n)
    good = np.where(y == 1, 0.9, 0.1)  # perfect ranking
    noisy = rng.random(n)  # no ranking
    seg_a = pd.Series(np.where(np.arange(n) < n // 2, "x", "y"))
    p = np.where(seg_a == "x", good, noisy)
    seg_b = pd.Series(np.where(np.arange(n) % 2 == 0, "u", "v"))
    result = metrics.fairness(y, p, {"a": seg_a, "b": seg_b}, ["a", "b"])
    seg = result["by_column"]["a"]["segments"]
    assert seg["x"]["auc"] == 1.0
    assert result["fairness_column"] == "a"
    assert result["fairness_gap"] == pytest.approx(1.0 - seg["y"]["auc"])
    assert result["by_column"]["b"]["gap"] < result["fairness_gap"]


def test_small_segments_do_not_decide_the_gap() -> None:
    y = np.array([0, 1] * 100 + [0, 1])
    p = np.array([0.1, 0.9] * 100 + [0.9, 0.1])  # tiny segment "z" ranks backwards
    seg = pd.Series(["x"] * 100 + ["y"] * 100 + ["z"] * 2)
    result = metrics.fairness(y, p, {"s": seg}, ["s"])
    assert result["by_column"]["s"]["segments"]["z"]["auc"] == 0.0
    assert result["fairness_gap"] == 0.0


def test_gate_evaluation() -> None:
    spec = gates.parse(
        {"minMetric": {"auc": 0.75}, "maxMetric": {"ece": 0.05}, "maxFairnessGap": 0.05}
    )
    results = gates.evaluate(spec, {"auc": 0.8, "ece": 0.07, "fairness_gap": 0.02}, None)
    assert results["minMetric.auc"] == {"passed": True, "value": 0.8, "threshold": 0.75}
    assert results["maxMetric.ece"]["passed"] is False
    assert results["maxFairnessGap"]["passed"] is True
    assert not gates.all_passed(results)
    undefined = gates.evaluate(gates.parse({"minMetric": {"auc": 0.5}}), {"auc": None}, None)
    assert undefined["minMetric.auc"]["passed"] is False


def test_regression_gate_uses_comparison() -> None:
    comparison = {
        "base_version": "3",
        "base_auc": 0.80,
        "candidate_auc": 0.78,
        "method": "same_holdout",
    }
    result = gates.evaluate({"maxRegression": 0.01}, {}, comparison)["maxRegression"]
    assert result["passed"] is False
    assert result["value"] == pytest.approx(0.02)
    assert result["base_version"] == "3"


@pytest.mark.parametrize(
    "spec",
    [[1], {"minMetric": 0.7}, {"maxFairnessGap": float("nan")}, {"maxRegression": True}],
)
def test_bad_gate_specs(spec) -> None:
    with pytest.raises(TrainingInputError):
        gates.parse(spec)
