"""The learning-path model's input matrix: float64, numeric features then one-hot subjects.

float64, not float32 as for churn: the linear scorer is numpy, and keeping full
precision makes training-time and serving-time scores the same numbers.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING, Any

import numpy as np

from modelops_features.arrays import FeatureArrays
from modelops_features.encoding import ModelLayout
from modelops_features.learning_path.contract import (
    CATEGORICAL_FEATURES,
    FEATURE_NAMES,
    NUMERIC_FEATURES,
)
from modelops_features.learning_path.readers import feature_arrays_from_records

if TYPE_CHECKING:
    import pandas as pd  # the frame functions import it; the record paths never do

LAYOUT = ModelLayout(NUMERIC_FEATURES, CATEGORICAL_FEATURES, np.float64)
MODEL_COLUMNS: list[str] = LAYOUT.columns


def model_matrix_from_arrays(features: FeatureArrays) -> np.ndarray:
    """The float64 model input (columns == MODEL_COLUMNS) for already computed features."""
    return LAYOUT.matrix(features)


def model_matrix(features: pd.DataFrame) -> np.ndarray:
    """The float64 model input for computed features; columns == MODEL_COLUMNS."""
    return LAYOUT.matrix_from_frame(features, FEATURE_NAMES)


def model_row(features_one: Mapping[str, Any]) -> np.ndarray:
    """The 1 x len(MODEL_COLUMNS) row for one `compute_one` result."""
    return LAYOUT.row(features_one)


def model_matrix_from_records(records: Sequence[Mapping[str, Any]]) -> np.ndarray:
    """Raw records straight to the model matrix; equal to model_matrix(compute(frame))."""
    return LAYOUT.matrix(feature_arrays_from_records(records))
