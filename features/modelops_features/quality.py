"""Live model quality: labelled metrics, and a label-free estimate while labels lag.

Pure numpy (no pandas, scikit-learn or I/O), so the operator can import it.
The labelled metrics use the definitions training publishes in a version's
metadata (`modelops_training.metrics`, `ranking`), under the same names, so a
live value compares with the held-out value of the same version:

  binary (churn)          auc, logloss, accuracy (p >= 0.5), ece, fairness_gap
  multi-class (learning-path)  top1_accuracy, top3_accuracy, logloss, ece

The **estimate** is confidence-based performance estimation (CBPE, as NannyML
does it): if the model's probabilities are calibrated, the label of a
prediction p is 1 with probability p, so the expected confusion matrix, and
with it the expected accuracy and ROC curve, follow from the predictions
alone. It needs no labels, so it covers every logged prediction, including the
many whose outcome has not arrived yet. It is an *estimate*: it assumes the
relationship between inputs and outcomes is the one the model learned, so it
follows input (covariate) shift but cannot see concept shift -- when the world
answers differently to the same inputs only labels reveal it
(benchmarks/ground_truth.py measures both cases).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np

ECE_BINS = 10
DECISION_THRESHOLD = 0.5
# Segments smaller than this are reported but do not decide the fairness gap
# (training's rule: an AUC from a handful of rows is noise).
MIN_SEGMENT_ROWS = 50
TOP_K = 3
# Training's multi-class log loss clips the right class's score here (ranking.quality).
MULTICLASS_CLIP = 1e-15

BINARY_METRICS = ("auc", "logloss", "accuracy", "ece", "fairness_gap")
MULTICLASS_METRICS = ("top1_accuracy", "top3_accuracy", "logloss", "ece")
BINARY_ESTIMATES = ("auc", "accuracy")
MULTICLASS_ESTIMATES = ("top1_accuracy", "top3_accuracy")
# Larger is better for every metric except these.
LOWER_IS_BETTER = frozenset({"logloss", "ece", "fairness_gap"})


# -- binary ------------------------------------------------------------------------------


def _rank_sum_auc(y: np.ndarray, p: np.ndarray) -> float | None:
    """ROC AUC = P(score of a positive > score of a negative), ties counting half."""
    positives = int(y.sum())
    negatives = y.size - positives
    if positives == 0 or negatives == 0:
        return None
    _, inverse, counts = np.unique(p, return_inverse=True, return_counts=True)
    # Average rank (1-based) of each distinct score: the ranks it spans, averaged.
    average_rank = np.cumsum(counts) - (counts - 1) / 2.0
    rank_sum = float(average_rank[inverse][y == 1].sum())
    return (rank_sum - positives * (positives + 1) / 2.0) / (positives * negatives)


def auc(y: Any, p: Any) -> float | None:
    """ROC AUC; None when only one class is present (it is undefined there)."""
    y = np.asarray(y, dtype=np.float64)
    return _rank_sum_auc(y, np.asarray(p, dtype=np.float64))


def logloss(y: Any, p: Any) -> float | None:
    """Mean negative log-likelihood in nats, p clipped to [eps, 1 - eps] (scikit-learn's rule)."""
    y = np.asarray(y, dtype=np.float64)
    if y.size == 0:
        return None
    eps = np.finfo(np.float64).eps
    p = np.clip(np.asarray(p, dtype=np.float64), eps, 1 - eps)
    return float(-np.mean(y * np.log(p) + (1 - y) * np.log1p(-p)))


def accuracy(y: Any, p: Any, threshold: float = DECISION_THRESHOLD) -> float | None:
    y = np.asarray(y, dtype=np.float64)
    if y.size == 0:
        return None
    return float(np.mean((np.asarray(p) >= threshold) == (y == 1)))


def expected_calibration_error(correct: Any, confidence: Any, bins: int = ECE_BINS) -> float | None:
    """ECE over equal-width bins: sum_b (n_b / n) |mean(correct in b) - mean(confidence in b)|.

    For a binary model `correct` is the 0/1 label and `confidence` the predicted
    probability (training's definition); for a multi-class one, whether the
    answered class was right and the score it was answered with.
    """
    y = np.asarray(correct, dtype=np.float64)
    p = np.asarray(confidence, dtype=np.float64)
    if p.size == 0:
        return None
    index = np.minimum((p * bins).astype(int), bins - 1)
    counts = np.bincount(index, minlength=bins)
    gaps = np.abs(
        np.bincount(index, weights=y, minlength=bins)
        - np.bincount(index, weights=p, minlength=bins)
    )
    return float(gaps[counts > 0].sum() / p.size)


@dataclass(frozen=True)
class Fairness:
    gap: float
    column: str | None
    segments: dict[str, dict[str, dict[str, Any]]] = field(default_factory=dict)


def fairness(
    y: Any, p: Any, segments: Mapping[str, Sequence[Any]], min_rows: int = MIN_SEGMENT_ROWS
) -> Fairness:
    """The largest spread of per-segment AUC over the segment columns (training's definition).

    Per column, the gap is max - min of the AUC of its segments with at least
    `min_rows` labelled rows and both classes; the result is the worst column's.
    """
    y = np.asarray(y, dtype=np.float64)
    p = np.asarray(p, dtype=np.float64)
    worst, worst_column = 0.0, None
    report: dict[str, dict[str, dict[str, Any]]] = {}
    for column, values in segments.items():
        labels = np.asarray(values, dtype=object).astype(str)
        per: dict[str, dict[str, Any]] = {}
        usable = []
        for value in sorted(set(labels.tolist())):
            mask = labels == value
            value_auc = _rank_sum_auc(y[mask], p[mask])
            per[value] = {"rows": int(mask.sum()), "auc": value_auc}
            if value_auc is not None and mask.sum() >= min_rows:
                usable.append(value_auc)
        gap = float(max(usable) - min(usable)) if len(usable) >= 2 else 0.0
        report[column] = per
        if worst_column is None or gap > worst:
            worst, worst_column = gap, column
    return Fairness(worst, worst_column, report)


def binary_metrics(
    y: Any, p: Any, segments: Mapping[str, Sequence[Any]] | None = None
) -> dict[str, float | None]:
    """The labelled metrics of a binary model (BINARY_METRICS)."""
    y = np.asarray(y, dtype=np.float64)
    p = np.asarray(p, dtype=np.float64)
    gap = fairness(y, p, segments).gap if segments else None
    return {
        "auc": auc(y, p),
        "logloss": logloss(y, p),
        "accuracy": accuracy(y, p),
        "ece": expected_calibration_error(y, p),
        "fairness_gap": gap if y.size else None,
    }


def estimate_binary(p: Any) -> dict[str, float | None]:
    """CBPE estimates of AUC and accuracy from calibrated probabilities alone.

    Expected accuracy: a prediction p is right with probability max(p, 1 - p)
    at the 0.5 threshold. Expected ROC curve: at each threshold t, the expected
    true positives are the sum of p over predictions >= t and the expected
    false positives the sum of 1 - p; divided by the expected positives and
    negatives (sum p, sum 1 - p) they give the curve, whose area is the
    estimated AUC (tied scores form one step, as in the labelled AUC).
    """
    p = np.asarray(p, dtype=np.float64)
    if p.size == 0:
        return dict.fromkeys(BINARY_ESTIMATES)
    estimated_accuracy = float(np.mean(np.where(p >= DECISION_THRESHOLD, p, 1 - p)))
    expected_positives = float(p.sum())
    expected_negatives = float(p.size - expected_positives)
    if expected_positives <= 0 or expected_negatives <= 0:
        return {"auc": None, "accuracy": estimated_accuracy}
    scores, inverse = np.unique(-p, return_inverse=True)  # descending scores
    tp = np.cumsum(np.bincount(inverse, weights=p, minlength=scores.size))
    fp = np.cumsum(np.bincount(inverse, weights=1 - p, minlength=scores.size))
    tpr = np.concatenate([[0.0], tp / expected_positives])
    fpr = np.concatenate([[0.0], fp / expected_negatives])
    area = float(np.sum((fpr[1:] - fpr[:-1]) * (tpr[1:] + tpr[:-1]) / 2.0))
    return {"auc": area, "accuracy": estimated_accuracy}


# -- multi-class -------------------------------------------------------------------------


def multiclass_metrics(
    outcome_index: Any, answered_index: Any, scores: Any
) -> dict[str, float | None]:
    """Top-1 / top-3 accuracy, log loss and ECE of a ranking over a closed catalogue.

    `outcome_index[i]` is the index of the right class, `answered_index[i]` the
    class answered first, `scores` the (n, classes) probabilities.
    """
    y = np.asarray(outcome_index, dtype=np.int64)
    answered = np.asarray(answered_index, dtype=np.int64)
    scores = np.asarray(scores, dtype=np.float64)
    if y.size == 0:
        return dict.fromkeys(MULTICLASS_METRICS)
    rows = np.arange(y.size)
    correct = answered == y
    # Rank of the right class: how many classes scored strictly higher (ties
    # count in the model's favour, as in training's ranking.ranks).
    right = scores[rows, y]
    rank = (scores > right[:, None]).sum(axis=1)
    return {
        "top1_accuracy": float(correct.mean()),
        "top3_accuracy": float((rank < TOP_K).mean()),
        "logloss": float(-np.mean(np.log(np.clip(right, MULTICLASS_CLIP, 1.0)))),
        "ece": expected_calibration_error(correct, scores[rows, answered]),
    }


def estimate_multiclass(answered_index: Any, scores: Any) -> dict[str, float | None]:
    """CBPE for a ranking: expected top-1 accuracy = mean score of the answered class;
    expected top-3 accuracy = mean of the three largest scores' sum."""
    scores = np.asarray(scores, dtype=np.float64)
    answered = np.asarray(answered_index, dtype=np.int64)
    if scores.shape[0] == 0:
        return dict.fromkeys(MULTICLASS_ESTIMATES)
    rows = np.arange(scores.shape[0])
    k = min(TOP_K, scores.shape[1])
    top = np.sort(scores, axis=1)[:, -k:].sum(axis=1)
    return {
        "top1_accuracy": float(scores[rows, answered].mean()),
        "top3_accuracy": float(top.mean()),
    }


# -- one version's window ----------------------------------------------------------------


@dataclass
class Quality:
    """Quality of one model version over one window of logged predictions."""

    predictions: int  # logged predictions in the window
    labelled: int  # of which an outcome arrived
    metrics: dict[str, float | None]  # labelled (None when undefined or no labels)
    estimated: dict[str, float | None]  # label-free estimate over all predictions
    fairness_column: str | None = None

    @property
    def label_coverage(self) -> float | None:
        return self.labelled / self.predictions if self.predictions else None

    def to_dict(self) -> dict[str, Any]:
        return {
            "predictions": self.predictions,
            "labelled": self.labelled,
            "label_coverage": self.label_coverage,
            "metrics": self.metrics,
            "estimated": self.estimated,
            "fairness_column": self.fairness_column,
        }


def binary_quality(
    p: Any,
    y: Any,
    segments: Mapping[str, Sequence[Any]] | None = None,
    min_segment_rows: int = MIN_SEGMENT_ROWS,
) -> Quality:
    """`p` for every logged prediction, `y` the outcome or NaN where none arrived yet."""
    p = np.asarray(p, dtype=np.float64)
    y = np.asarray(y, dtype=np.float64)
    labelled = ~np.isnan(y)
    metrics = binary_metrics(y[labelled], p[labelled])
    column = None
    if segments and labelled.any():
        chosen = {c: np.asarray(v, dtype=object)[labelled] for c, v in segments.items()}
        result = fairness(y[labelled], p[labelled], chosen, min_segment_rows)
        metrics["fairness_gap"], column = result.gap, result.column
    return Quality(int(p.size), int(labelled.sum()), metrics, estimate_binary(p), column)


def multiclass_quality(outcome_index: Any, answered_index: Any, scores: Any) -> Quality:
    """`outcome_index` is -1 where no outcome arrived yet."""
    y = np.asarray(outcome_index, dtype=np.int64)
    answered = np.asarray(answered_index, dtype=np.int64)
    scores = np.asarray(scores, dtype=np.float64).reshape(y.size, -1)
    labelled = y >= 0
    metrics = multiclass_metrics(y[labelled], answered[labelled], scores[labelled])
    return Quality(int(y.size), int(labelled.sum()), metrics, estimate_multiclass(answered, scores))
