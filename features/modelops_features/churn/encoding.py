"""The churn model's input matrix: float32, numeric features then one-hot categories.

MODEL_COLUMNS lists the 11 numeric features, then `tenure_bucket=...`, `plan=...`,
`region=...` for the declared categories only ("__other__" is the all-zero row).
float32 because that is what XGBoost reads; values beyond its range become +/-inf.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING, Any

import numpy as np

from modelops_features.arrays import FeatureArrays
from modelops_features.churn.contract import CATEGORICAL_FEATURES, FEATURE_NAMES, NUMERIC_FEATURES
from modelops_features.churn.readers import feature_arrays_from_records
from modelops_features.encoding import ModelLayout

if TYPE_CHECKING:
    import pandas as pd  # annotations only: serving imports this without pandas

LAYOUT = ModelLayout(NUMERIC_FEATURES, CATEGORICAL_FEATURES, np.float32)
MODEL_COLUMNS: list[str] = LAYOUT.columns


def model_matrix_from_arrays(features: FeatureArrays) -> np.ndarray:
    """The float32 model input (columns == MODEL_COLUMNS) for already computed features.

    Numeric features are copied as they are; each categorical feature one-hot
    encodes its declared categories, "__other__" (or anything undeclared) being
    the all-zero row. Rows equal `model_row` of the same record.
    """
    return LAYOUT.matrix(features)


def model_matrix(features: pd.DataFrame) -> np.ndarray:
    """The float32 model input for computed features; columns == MODEL_COLUMNS."""
    return LAYOUT.matrix_from_frame(features, FEATURE_NAMES)


def model_row(features_one: Mapping[str, Any]) -> np.ndarray:
    """The 1 x len(MODEL_COLUMNS) float32 row for one `compute_one` result.

    Equal to the matching row of `model_matrix`: float64 -> float32 rounds the
    same way element by element, and the one-hot lookup is the same table.
    """
    return LAYOUT.row(features_one)


def model_matrix_from_records(records: Sequence[Mapping[str, Any]]) -> np.ndarray:
    """Raw records straight to the model matrix, for batch requests without pandas.

    Equal to `model_matrix(compute(pd.DataFrame(records)))`.
    """
    return LAYOUT.matrix(feature_arrays_from_records(records))
