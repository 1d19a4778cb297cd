"""Raw learning-path input to features: one reader per path, all through `derive`.

* `compute(df)` — training and batch scoring, vectorised over a DataFrame;
* `compute_one(record)` — the serving path, one student, without pandas;
* `feature_arrays_from_records(records)` — a batch request without pandas.

All three read raw values with the same rules and then run the same array
code, so their values are bit-identical.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING, Any

from modelops_features import arrays
from modelops_features.arrays import FeatureArrays
from modelops_features.learning_path.contract import (
    FEATURE_NAMES,
    NUMERIC_FEATURES,
    RAW_NUMERIC,
    SUBJECTS,
)
from modelops_features.learning_path.definitions import derive

if TYPE_CHECKING:
    import pandas as pd  # the frame functions import it; the record paths never do

_SUBJECT_SET = frozenset(SUBJECTS)


def to_subject(value: Any) -> str:
    """One raw `last_subject`; missing or undeclared values become OTHER."""
    return arrays.category_or_other(value, _SUBJECT_SET)


def feature_arrays_from_frame(raw: pd.DataFrame) -> FeatureArrays:
    """Every feature of the rows of `raw`, as arrays; absent raw columns read as missing."""
    numeric = arrays.numeric_block_from_frame(raw, RAW_NUMERIC)
    subjects = arrays.category_labels(raw, "last_subject", SUBJECTS)
    return derive(numeric, {"last_subject": subjects})


def feature_arrays_from_records(records: Sequence[Mapping[str, Any]]) -> FeatureArrays:
    """Every feature of the raw `records`, as arrays (one column per student), without pandas."""
    numeric = arrays.numeric_block_from_records(records, RAW_NUMERIC)
    subjects = arrays.category_labels_from_records(records, "last_subject", _SUBJECT_SET)
    return derive(numeric, {"last_subject": subjects})


def compute(raw: pd.DataFrame) -> pd.DataFrame:
    """Features for every row of `raw`; columns == FEATURE_NAMES, same index.

    Columns beyond the raw schema (student_id, group, the label) are ignored.
    """
    columns = arrays.feature_columns(
        feature_arrays_from_frame(raw), NUMERIC_FEATURES, FEATURE_NAMES
    )
    import pandas as pd

    return pd.DataFrame(columns, index=raw.index)


def compute_one(record: Mapping[str, Any]) -> dict[str, float | str]:
    """Features of one raw record, identical to the matching row of `compute`."""
    features = feature_arrays_from_records((record,))
    return arrays.first_record(features, NUMERIC_FEATURES, FEATURE_NAMES)
