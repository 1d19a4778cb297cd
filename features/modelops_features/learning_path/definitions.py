"""The learning-path features, defined once as numpy functions over arrays.

`derive` is the one place where raw arrays become features; every path
(DataFrame, single record, batch of records) goes through it, see `readers`.
"""

from __future__ import annotations

from collections.abc import Mapping

import numpy as np

from modelops_features.arrays import FeatureArrays, per_period, safe_ratio
from modelops_features.learning_path.contract import (
    LAPSED_DAYS,
    NUMERIC_FEATURES,
    QUIZ_COLUMNS,
    RAW_NUMERIC,
)

_ROW = {name: i for i, name in enumerate(NUMERIC_FEATURES)}
_QUIZ_ROWS = [_ROW[c] for c in QUIZ_COLUMNS]


def quiz_summary(quizzes: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """(mean over present subjects, number of present subjects) per column.

    The rows are added one by one rather than with `sum(axis=0)`: the order of
    additions is then the same for one student and for a million, so the batch
    and single-record paths cannot differ in the last bit.
    """
    present = ~np.isnan(quizzes)
    total = np.zeros(quizzes.shape[1])
    count = np.zeros(quizzes.shape[1])
    for row in range(quizzes.shape[0]):
        total = total + np.where(present[row], quizzes[row], 0.0)
        count = count + present[row]
    mean = np.divide(total, count, out=np.full(quizzes.shape[1], np.nan), where=count > 0)
    return mean, count


def lapsed(days: np.ndarray) -> np.ndarray:
    """1.0 above LAPSED_DAYS, 0.0 at or below, NaN when unknown."""
    return np.where(np.isnan(days), np.nan, (days > LAPSED_DAYS).astype(np.float64))


def derive(raw_numeric: np.ndarray, categories: Mapping[str, np.ndarray]) -> FeatureArrays:
    """All features from raw arrays (rows in RAW_NUMERIC order, one column per student)."""
    block = np.empty((len(NUMERIC_FEATURES), raw_numeric.shape[1]))
    block[: len(RAW_NUMERIC)] = raw_numeric
    # Extreme (unvalidated) inputs may overflow; results stay deterministic and
    # warnings would only flood a serving log.
    with np.errstate(divide="ignore", invalid="ignore", over="ignore"):
        mean, count = quiz_summary(block[_QUIZ_ROWS])
        block[_ROW["quiz_mean"]] = mean
        block[_ROW["subjects_quizzed"]] = count
        block[_ROW["video_minutes_per_active_day"]] = per_period(
            block[_ROW["video_minutes"]], block[_ROW["active_days"]]
        )
        share = safe_ratio(block[_ROW["items_skipped"]], block[_ROW["items_started"]])
        block[_ROW["skip_share"]] = np.minimum(share, 1.0)
    block[_ROW["lapsed"]] = lapsed(block[_ROW["days_since_last_activity"]])
    return FeatureArrays(block, dict(categories))
