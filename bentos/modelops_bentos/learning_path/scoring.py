"""Activity -> features -> module scores -> the top-k modules, through the shared code.

Features come only from `modelops_features.learning_path` (the code training
uses) and scores from the exported parameters training evaluated. The student
id never reaches this module: `service.py` passes only the activity fields.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

from modelops_features import arrays
from modelops_features import learning_path as lp
from modelops_features.softmax import SoftmaxLinear

_MODULE_INDEX = {m: i for i, m in enumerate(lp.MODULES)}


@dataclass(frozen=True)
class Ranked:
    features: dict[str, Any]  # compute_one output, for the feature histograms
    row: np.ndarray  # (1, len(MODEL_COLUMNS)) float64
    probabilities: np.ndarray  # (len(MODULES),) over the whole catalogue
    top: list[tuple[str, float]]  # (module, score renormalised over candidates), best first


def raw_activity(activity: Mapping[str, Any]) -> dict[str, Any]:
    """Only the schema's raw fields: nothing else can become a feature."""
    return {name: activity.get(name) for name in lp.RAW_SCHEMA.names}


def top_k(
    probabilities: np.ndarray, k: int, candidates: Sequence[str] | None
) -> list[tuple[str, float]]:
    """The k best candidates (all modules when None), scores renormalised over them.

    Ties keep catalogue order, as in training's evaluation.
    """
    index = (
        np.arange(len(lp.MODULES))
        if candidates is None
        else np.array([_MODULE_INDEX[c] for c in candidates])
    )
    index = np.sort(index)
    chosen = probabilities[index]
    total = chosen.sum()
    scores = chosen / total if total > 0 else np.full(len(chosen), 1.0 / len(chosen))
    order = np.argsort(-scores, kind="stable")[:k]
    return [(lp.MODULES[index[i]], float(scores[i])) for i in order]


def rank(
    scorer: SoftmaxLinear,
    activity: Mapping[str, Any],
    k: int,
    candidates: Sequence[str] | None = None,
) -> Ranked:
    features = lp.compute_one(raw_activity(activity))
    row = lp.model_row(features)
    probabilities = scorer.proba(row)[0]
    return Ranked(features, row, probabilities, top_k(probabilities, k, candidates))


@dataclass(frozen=True)
class RankedBatch:
    features: dict[str, np.ndarray]  # feature name -> array over the students (histograms, log)
    probabilities: np.ndarray  # (n, len(MODULES))
    tops: list[list[tuple[str, float]]]


def rank_many(
    scorer: SoftmaxLinear,
    activities: Sequence[Mapping[str, Any]],
    ks: Sequence[int],
    candidates: Sequence[Sequence[str] | None],
) -> RankedBatch:
    """Many students at once through the package's vectorised record path.

    The same derivations training's `compute` + `model_matrix` run on a
    DataFrame, minus the DataFrame: the serving process never imports pandas.
    """
    if not activities:
        empty = {name: np.zeros(0) for name in lp.FEATURE_NAMES}
        return RankedBatch(empty, np.zeros((0, len(lp.MODULES))), [])
    computed = lp.feature_arrays_from_records([raw_activity(a) for a in activities])
    features = arrays.feature_columns(computed, lp.NUMERIC_FEATURES, lp.FEATURE_NAMES)
    probabilities = scorer.proba(lp.model_matrix_from_arrays(computed))
    tops = [top_k(p, k, c) for p, k, c in zip(probabilities, ks, candidates, strict=True)]
    return RankedBatch(features, probabilities, tops)
