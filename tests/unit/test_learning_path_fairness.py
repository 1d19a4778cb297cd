"""Ranking metrics and group fairness against a hand-computed case; the softmax scorer.

The hand case (modules m0..m3, one relevant module per student):

  group x (50 rows): x1 x30  scores [.4 .3 .2 .1] target m0 -> rank 0, top-3 {m0 m1 m2}
                     x2 x20  scores [.1 .2 .3 .4] target m0 -> rank 3, top-3 {m3 m2 m1}
    top-1 = top-3 = NDCG@3 = 30/50 = 0.6; rates m0 .6, m1 1, m2 1, m3 .4
  group y (50 rows): y1 x30  scores [.1 .4 .3 .2]   target m2 -> rank 1, top-3 {m1 m2 m3}
                     y2 x20  scores [.25 .1 .4 .25] target m3 -> rank 1 (the tie with m0
                             does not count), top-3 {m2 m0 m3} (ties keep catalogue order)
    top-1 0, top-3 1, NDCG@3 = 1/log2(3); rates m0 .4, m1 .6, m2 1, m3 1
  group z (10 rows, under MIN_GROUP_ROWS): like x2 -> reported, not used for the gaps

  top-3 accuracy gap = 1 - 0.6 = 0.4 (x worst, y best)
  rate gaps: m0 .2, m1 .4, m2 0, m3 .6 -> 0.6 for m3, shown most to y, least to x
  fairness_gap = max(0.4, 0.6) = 0.6, metric recommendation_rate
"""

from __future__ import annotations

import math

import numpy as np
import pytest
from sklearn.linear_model import LogisticRegression

from modelops_features.softmax import ModelFormatError, SoftmaxLinear
from modelops_training import gates, ranking

MODULES = ("m0", "m1", "m2", "m3")
X1, X2 = [0.4, 0.3, 0.2, 0.1], [0.1, 0.2, 0.3, 0.4]
Y1, Y2 = [0.1, 0.4, 0.3, 0.2], [0.25, 0.1, 0.4, 0.25]


def _case():
    rows = [(X1, 0, "x")] * 30 + [(X2, 0, "x")] * 20 + [(Y1, 2, "y")] * 30 + [(Y2, 3, "y")] * 20
    rows += [(X2, 0, "z")] * 10
    scores = np.array([r[0] for r in rows])
    target = np.array([r[1] for r in rows])
    groups = np.array([r[2] for r in rows])
    return scores, target, groups


def test_ranks_top_k_lists_and_quality() -> None:
    assert ranking.ranks(np.array([Y2]), np.array([3])).tolist() == [1]
    assert ranking.top_k_lists(np.array([Y2])).tolist() == [[2, 0, 3]]
    q = ranking.quality(np.array([X1, X2, Y1]), np.array([0, 0, 2]))
    assert q["top1_accuracy"] == pytest.approx(1 / 3)
    assert q["top3_accuracy"] == pytest.approx(2 / 3)
    assert q["ndcg_at_3"] == pytest.approx((1 + 0 + 1 / math.log2(3)) / 3)
    assert q["logloss"] == pytest.approx(-(math.log(0.4) + math.log(0.1) + math.log(0.3)) / 3)


def test_fairness_against_the_hand_computed_case() -> None:
    scores, target, groups = _case()
    result = ranking.fairness(scores, target, groups, MODULES)
    x, y, z = (result["groups"][g] for g in ("x", "y", "z"))
    assert (x["rows"], y["rows"], z["rows"]) == (50, 50, 10)
    assert x["top1_accuracy"] == pytest.approx(0.6) and x["top3_accuracy"] == pytest.approx(0.6)
    assert x["ndcg_at_3"] == pytest.approx(0.6)
    assert y["top1_accuracy"] == 0.0 and y["top3_accuracy"] == 1.0
    assert y["ndcg_at_3"] == pytest.approx(1 / math.log2(3))
    assert x["recommendation_rates"] == pytest.approx({"m0": 0.6, "m1": 1.0, "m2": 1.0, "m3": 0.4})
    assert y["recommendation_rates"] == pytest.approx({"m0": 0.4, "m1": 0.6, "m2": 1.0, "m3": 1.0})
    assert result["top3_accuracy_gap"] == pytest.approx(0.4)
    assert result["recommendation_rate_gap"] == pytest.approx(0.6)
    assert result["fairness_gap"] == pytest.approx(0.6)
    assert result["fairness_detail"] == {
        "metric": "recommendation_rate",
        "groups": ["y", "x"],
        "module": "m3",
    }


def test_accuracy_gap_names_worst_then_best_group() -> None:
    # Identical lists for everyone (no rate gap), different hit rates.
    scores = np.tile(X1, (100, 1))
    target = np.array([0] * 50 + [0] * 25 + [3] * 25)
    groups = np.array(["a"] * 50 + ["b"] * 50)
    result = ranking.fairness(scores, target, groups, MODULES)
    assert result["recommendation_rate_gap"] == 0.0
    assert result["fairness_gap"] == pytest.approx(0.5)
    assert result["fairness_detail"] == {"metric": "top3_accuracy", "groups": ["b", "a"]}


def test_fairness_gate_reports_the_groups() -> None:
    scores, target, groups = _case()
    metrics = ranking.fairness(scores, target, groups, MODULES)
    spec = gates.parse({"maxFairnessGap": 0.1}, ("fairness_gap",))
    result = gates.evaluate(spec, metrics, None)["maxFairnessGap"]
    assert result["passed"] is False and result["value"] == pytest.approx(0.6)
    assert result["detail"]["groups"] == ["y", "x"] and result["column"] == "group"


def test_regression_gate_uses_the_named_primary_metric() -> None:
    comparison = {
        "metric": "top3_accuracy",
        "base_version": "2",
        "base_top3_accuracy": 0.80,
        "candidate_top3_accuracy": 0.77,
        "method": "same_holdout",
    }
    result = gates.evaluate({"maxRegression": 0.02}, {}, comparison)["maxRegression"]
    assert result["passed"] is False and result["value"] == pytest.approx(0.03)
    assert result["base_top3_accuracy"] == 0.80


def _scorer(rng: np.random.Generator) -> tuple[SoftmaxLinear, np.ndarray]:
    x = rng.normal(size=(400, 5)) * [1, 10, 100, 0.1, 1] + [0, 5, -50, 1, 0]
    x[::7, 2] = np.nan
    y = (x[:, 0] > 0).astype(int) + 2 * (x[:, 1] > 5)
    center, scale = SoftmaxLinear.fit_standardization(x)
    shell = SoftmaxLinear(
        ("a", "b", "c", "d"), tuple("vwxyz"), center, scale, np.zeros((4, 5)), np.zeros(4)
    )
    clf = LogisticRegression(max_iter=1000).fit(shell.standardize(x), y)
    scorer = SoftmaxLinear(shell.classes, shell.columns, center, scale, clf.coef_, clf.intercept_)
    np.testing.assert_allclose(scorer.proba(x), clf.predict_proba(shell.standardize(x)), atol=1e-12)
    return scorer, x


def test_softmax_scores_equal_sklearn_and_survive_json() -> None:
    scorer, x = _scorer(np.random.default_rng(0))
    loaded = SoftmaxLinear.from_json(scorer.to_json())
    assert np.array_equal(loaded.proba(x), scorer.proba(x))  # JSON floats round-trip exactly
    p = scorer.proba(np.array([[np.inf, -np.inf, np.nan, 1e308, 0.0]]))
    assert np.isfinite(p).all() and p.sum() == pytest.approx(1.0)


@pytest.mark.parametrize(
    ("mutate", "message"),
    [
        (lambda d: d.update(format="pickle"), "format"),
        (lambda d: d.update(coef=d["coef"][:2]), "coef has shape"),
        (lambda d: d["scale"].__setitem__(0, 0.0), "scale must be > 0"),
        (lambda d: d.pop("intercept"), "missing key 'intercept'"),
        (lambda d: d.update(center="abc"), "center"),
    ],
)
def test_bad_parameter_files_are_refused(mutate, message) -> None:
    import json

    scorer, _ = _scorer(np.random.default_rng(1))
    d = scorer.to_dict()
    mutate(d)
    with pytest.raises(ModelFormatError, match=message):
        SoftmaxLinear.from_json(json.dumps(d))
    with pytest.raises(ModelFormatError, match="not JSON"):
        SoftmaxLinear.from_json(b"\x80\x04pickle")
