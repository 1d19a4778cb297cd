"""Held-out quality and fairness metrics.

All functions take labels y (0/1) and predicted probabilities p and return
plain floats (or None when a metric is undefined), so results go straight
into strict JSON.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np
import pandas as pd
from sklearn.metrics import accuracy_score, log_loss, roc_auc_score

ECE_BINS = 10
# Segments smaller than this are reported but left out of the fairness gap:
# an AUC from a handful of rows is noise, and one tiny segment would decide
# whether a model ships.
MIN_SEGMENT_ROWS = 50
DECISION_THRESHOLD = 0.5


def auc(y: np.ndarray, p: np.ndarray) -> float | None:
    """ROC AUC; None when only one class is present (it is undefined there)."""
    if len(np.unique(y)) < 2:
        return None
    return float(roc_auc_score(y, p))


def expected_calibration_error(y: np.ndarray, p: np.ndarray, bins: int = ECE_BINS) -> float:
    """ECE over equal-width probability bins.

    ECE = sum over bins b of (n_b / n) * |mean(y in b) - mean(p in b)|, bins
    [0, 0.1), [0.1, 0.2), ..., [0.9, 1.0] (the last one closed). 0 means the
    predicted probabilities match observed churn rates.
    """
    index = np.minimum((p * bins).astype(int), bins - 1)
    counts = np.bincount(index, minlength=bins)
    sum_y = np.bincount(index, weights=y, minlength=bins)
    sum_p = np.bincount(index, weights=p, minlength=bins)
    present = counts > 0
    gaps = np.abs(sum_y[present] - sum_p[present])  # = n_b * |mean y - mean p|
    return float(gaps.sum() / len(p))


def quality(y: np.ndarray, p: np.ndarray) -> dict[str, float | None]:
    y = np.asarray(y, dtype=np.float64)
    p = np.asarray(p, dtype=np.float64)
    return {
        "auc": auc(y, p),
        "logloss": float(log_loss(y, p, labels=[0, 1])),
        "accuracy": float(accuracy_score(y, p >= DECISION_THRESHOLD)),
        "ece": expected_calibration_error(y, p),
    }


def segment_report(y: np.ndarray, p: np.ndarray, segment: pd.Series) -> dict[str, dict[str, Any]]:
    """Per value of one segment column: rows, AUC, observed and predicted positive rates."""
    out: dict[str, dict[str, Any]] = {}
    values = segment.astype(str).to_numpy()
    for value in sorted(set(values.tolist())):
        mask = values == value
        out[value] = {
            "rows": int(mask.sum()),
            "auc": auc(y[mask], p[mask]),
            "positive_rate": float(y[mask].mean()),
            "predicted_positive_rate": float((p[mask] >= DECISION_THRESHOLD).mean()),
        }
    return out


def fairness(
    y: np.ndarray, p: np.ndarray, segments: Mapping[str, pd.Series], columns: Sequence[str]
) -> dict[str, Any]:
    """The fairness gap: the largest spread of per-segment AUC over the segment columns.

    For each segment column (plan, region), the gap is max - min of the AUC of
    its segments with at least MIN_SEGMENT_ROWS rows and both classes; the
    reported `fairness_gap` is the worst column's. AUC (ranking quality) is
    used rather than the positive-prediction rate because churn base rates
    legitimately differ between segments: a model that ranks every segment's
    customers equally well is fair in the sense that matters for retention
    offers, whereas equal positive rates would force it to ignore real
    differences. The per-segment positive rates are reported alongside.
    """
    per_column: dict[str, Any] = {}
    worst_gap, worst_column = 0.0, None
    for column in columns:
        report = segment_report(y, p, segments[column])
        usable = [
            v["auc"]
            for v in report.values()
            if v["auc"] is not None and v["rows"] >= MIN_SEGMENT_ROWS
        ]
        gap = float(max(usable) - min(usable)) if len(usable) >= 2 else 0.0
        per_column[column] = {"gap": gap, "segments": report}
        if worst_column is None or gap > worst_gap:
            worst_gap, worst_column = gap, column
    return {"fairness_gap": worst_gap, "fairness_column": worst_column, "by_column": per_column}


def rounded(value: Any, digits: int = 6) -> Any:
    """Round floats for readable JSON; NaN / inf become None (strict JSON has neither)."""
    if isinstance(value, float):
        return round(value, digits) if math.isfinite(value) else None
    if isinstance(value, dict):
        return {k: rounded(v, digits) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [rounded(v, digits) for v in value]
    return value
