"""Ranking quality and group fairness of a next-module recommender.

Inputs are a score matrix (one row per held-out student, one column per
module), the index of the module that was the right next step, and each
student's group. Every number comes back as a plain float (or None when
undefined) so results go straight into strict JSON.

Definitions (each student has exactly one relevant module):

* rank r: the number of modules scored strictly higher than the relevant one
  (0 = it was ranked first; ties count in the model's favour, which only
  matters for exactly equal scores);
* top-k accuracy: the share of students with r < k;
* NDCG@3: with one relevant item the ideal DCG is 1, so NDCG@3 is
  1 / log2(r + 2) when r < 3, else 0, averaged over students;
* recommendation rate of module m in group g: the share of g's students whose
  top-3 list contains m (the list the product shows).

Fairness across groups (groups under MIN_GROUP_ROWS held-out students are
reported but do not decide the gaps: their rates are noise):

* top3_accuracy_gap: max - min over groups of top-3 accuracy. The model must
  serve every group equally well;
* recommendation_rate_gap: over modules, the largest max - min across groups of
  the recommendation rate. Groups are drawn with the same needs (skills,
  prerequisites), so a module shown to one group far more often than to
  another means the model steers groups differently, e.g. towards easier
  content, even when its accuracy on (equally biased) labels looks fine;
* fairness_gap: the larger of the two, so one gate (maxFairnessGap) covers
  both; the report names the metric, the two groups and (for rates) the module.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np

MIN_GROUP_ROWS = 50
TOP_K = 3


def ranks(scores: np.ndarray, target: np.ndarray) -> np.ndarray:
    """Rank of the relevant module per row (0 = first)."""
    relevant = scores[np.arange(len(target)), target]
    return (scores > relevant[:, None]).sum(axis=1)


def top_k_lists(scores: np.ndarray, k: int = TOP_K) -> np.ndarray:
    """(n, k) module indices, best first; ties broken by catalogue order (stable)."""
    return np.argsort(-scores, axis=1, kind="stable")[:, :k]


def quality(scores: np.ndarray, target: np.ndarray) -> dict[str, float | None]:
    if len(target) == 0:
        return {"top1_accuracy": None, "top3_accuracy": None, "ndcg_at_3": None, "logloss": None}
    r = ranks(scores, target)
    gains = np.where(r < 3, 1.0 / np.log2(r + 2.0), 0.0)
    p = np.clip(scores[np.arange(len(target)), target], 1e-15, 1.0)
    return {
        "top1_accuracy": float(np.mean(r < 1)),
        "top3_accuracy": float(np.mean(r < 3)),
        "ndcg_at_3": float(np.mean(gains)),
        "logloss": float(-np.mean(np.log(p))),
    }


def recommendation_rates(scores: np.ndarray, k: int = TOP_K) -> np.ndarray:
    """Per module, the share of rows whose top-k list contains it."""
    shown = np.zeros(scores.shape, dtype=np.float64)
    np.put_along_axis(shown, top_k_lists(scores, k), 1.0, axis=1)
    return shown.mean(axis=0) if len(scores) else np.zeros(scores.shape[1])


def group_report(
    scores: np.ndarray, target: np.ndarray, groups: np.ndarray, modules: Sequence[str]
) -> dict[str, dict[str, Any]]:
    """Per group: rows, quality metrics and per-module recommendation rates."""
    out: dict[str, dict[str, Any]] = {}
    for group in sorted(set(groups.tolist())):
        mask = groups == group
        rates = recommendation_rates(scores[mask])
        out[str(group)] = {
            "rows": int(mask.sum()),
            **quality(scores[mask], target[mask]),
            "recommendation_rates": {m: float(v) for m, v in zip(modules, rates, strict=True)},
        }
    return out


def fairness(
    scores: np.ndarray, target: np.ndarray, groups: np.ndarray, modules: Sequence[str]
) -> dict[str, Any]:
    """The two group gaps and the worst of them; see the module docstring."""
    report = group_report(scores, target, np.asarray(groups).astype(str), modules)
    usable = {g: v for g, v in report.items() if v["rows"] >= MIN_GROUP_ROWS}
    accuracy = _accuracy_gap(usable)
    rate = _rate_gap(usable, modules)
    worst = max((accuracy, rate), key=lambda gap: gap["gap"])
    return {
        "fairness_gap": worst["gap"],
        "fairness_column": "group",
        "fairness_detail": {
            "metric": worst["metric"],
            "groups": worst["groups"],
            **({"module": worst["module"]} if "module" in worst else {}),
        },
        "top3_accuracy_gap": accuracy["gap"],
        "recommendation_rate_gap": rate["gap"],
        "groups": report,
        "min_group_rows": MIN_GROUP_ROWS,
    }


def _accuracy_gap(usable: dict[str, dict[str, Any]]) -> dict[str, Any]:
    if len(usable) < 2:
        return {"metric": "top3_accuracy", "gap": 0.0, "groups": sorted(usable)}
    best = max(usable, key=lambda g: usable[g]["top3_accuracy"])
    worst = min(usable, key=lambda g: usable[g]["top3_accuracy"])
    gap = usable[best]["top3_accuracy"] - usable[worst]["top3_accuracy"]
    # Named worst first: the group the model serves least well.
    return {"metric": "top3_accuracy", "gap": float(gap), "groups": [worst, best]}


def _rate_gap(usable: dict[str, dict[str, Any]], modules: Sequence[str]) -> dict[str, Any]:
    result: dict[str, Any] = {"metric": "recommendation_rate", "gap": 0.0, "groups": []}
    if len(usable) < 2:
        return result
    for module in modules:
        rates = {g: v["recommendation_rates"][module] for g, v in usable.items()}
        high, low = max(rates, key=rates.__getitem__), min(rates, key=rates.__getitem__)
        gap = float(rates[high] - rates[low])
        if gap > result["gap"]:
            # Named: the group shown the module most often, then least often.
            result = {
                "metric": "recommendation_rate",
                "gap": gap,
                "groups": [high, low],
                "module": module,
            }
    return result
