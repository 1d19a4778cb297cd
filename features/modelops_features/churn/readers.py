"""Raw churn input to features: one reader per path, all through `derive`.

* `compute(df)` — training and batch scoring, vectorised over a whole DataFrame;
* `compute_one(record)` — the serving path, one request record at a time, without
  pandas (a one-row DataFrame costs ~1 ms; this path costs microseconds);
* `feature_arrays_from_records(records)` — a batch request without pandas.

All three read raw values with the same rules (`to_float`, `to_category`) and then
run the same array code, so their values are bit-identical.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING, Any

import numpy as np

from modelops_features import arrays
from modelops_features.arrays import FeatureArrays
from modelops_features.churn.contract import (
    FEATURE_NAMES,
    NUMERIC_FEATURES,
    RAW_CATEGORICAL,
    RAW_NUMERIC,
)
from modelops_features.churn.definitions import derive

if TYPE_CHECKING:
    import pandas as pd  # the frame functions import it; the record paths never do

_CATEGORY_SETS = {name: frozenset(values) for name, values in RAW_CATEGORICAL.items()}


def to_category(name: str, value: Any) -> str:
    """One raw value of categorical field `name`; missing or undeclared values become OTHER."""
    return arrays.category_or_other(value, _CATEGORY_SETS[name])


def feature_arrays_from_frame(raw: pd.DataFrame) -> FeatureArrays:
    """Every feature of the rows of `raw`, as arrays; absent raw columns read as missing."""
    numeric = arrays.numeric_block_from_frame(raw, RAW_NUMERIC)
    categories = {
        name: arrays.category_labels(raw, name, values) for name, values in RAW_CATEGORICAL.items()
    }
    return derive(numeric, categories)


def feature_arrays_from_records(records: Sequence[Mapping[str, Any]]) -> FeatureArrays:
    """Every feature of the raw `records`, as arrays (one column per record), without pandas.

    This is the batch serving path's first half: callers that need both the feature
    values (for metrics) and the model input pass the result to
    `model_matrix_from_arrays`, computing the features once. Reading follows
    `to_float` / `to_category`, so the values equal `compute`'s bit for bit.
    """
    numeric = arrays.numeric_block_from_records(records, RAW_NUMERIC)
    categories = {
        name: arrays.category_labels_from_records(records, name, _CATEGORY_SETS[name])
        for name in RAW_CATEGORICAL
    }
    return derive(numeric, categories)


def feature_columns(features: FeatureArrays) -> dict[str, np.ndarray]:
    """Feature name -> its array over the records, in FEATURE_NAMES order."""
    return arrays.feature_columns(features, NUMERIC_FEATURES, FEATURE_NAMES)


def compute(raw: pd.DataFrame) -> pd.DataFrame:
    """Features for every row of `raw`; columns == FEATURE_NAMES, same index.

    Columns beyond the raw schema (customer_id, the label) are ignored; a missing
    raw column reads as all-missing (validate the data first to reject it).
    """
    import pandas as pd

    return pd.DataFrame(feature_columns(feature_arrays_from_frame(raw)), index=raw.index)


def compute_one(record: Mapping[str, Any]) -> dict[str, float | str]:
    """Features of one raw record, identical to the matching row of `compute`."""
    features = feature_arrays_from_records((record,))
    return arrays.first_record(features, NUMERIC_FEATURES, FEATURE_NAMES)
