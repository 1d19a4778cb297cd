"""The churn model's raw contract and feature definitions, defined once.

This package is the public face: everything is importable from
`modelops_features.churn`. Inside, by responsibility:

* `contract` — the raw schema a client sends, the feature schema, names and constants;
* `definitions` — every feature as a numpy function over arrays (`derive`);
* `readers` — raw input to features, one reader per path, all through `derive`:
  `compute(df)` for training and batch scoring, `compute_one(record)` for a single
  request without pandas, `feature_arrays_from_records(records)` for a batch request
  without pandas;
* `encoding` — the float32 model matrix (`model_matrix`, `model_row`,
  `model_matrix_from_arrays`, `model_matrix_from_records`).

Because all paths run the very same array code, the values are bit-identical; the
hypothesis property tests in tests/unit/features/churn/test_parity.py check it.

Missing values (documented in features/README.md):

* raw numeric values that are missing or do not read as numbers become NaN;
* pass-through numeric features keep NaN (XGBoost routes missing values natively);
* ratios are NaN when an input is NaN, except that a zero denominator gives 0
  whatever the numerator ("no orders" means an average order value of 0);
* per-month rates divide by max(tenure_months, 1): the current month counts;
* a categorical value that is missing or not a declared category becomes
  "__other__", which one-hot encodes as all zeros in the model matrix.
"""

from __future__ import annotations

from modelops_features.arrays import OTHER, FeatureArrays, safe_ratio, to_float
from modelops_features.churn.contract import (
    CATEGORICAL_FEATURES,
    DERIVED_NUMERIC,
    FEATURE_NAMES,
    FEATURE_SCHEMA,
    ID_COLUMN,
    NEW_CUSTOMER_MONTHS,
    NUMERIC_FEATURES,
    PLANS,
    RAW_CATEGORICAL,
    RAW_NUMERIC,
    RAW_SCHEMA,
    REGIONS,
    SEGMENT_COLUMNS,
    TARGET,
    TENURE_BUCKET_EDGES,
    TENURE_BUCKETS,
)
from modelops_features.churn.definitions import (
    PER_MONTH_FEATURES,
    RATIO_FEATURES,
    derive,
    is_new_customer,
    per_month,
    tenure_bucket,
)
from modelops_features.churn.encoding import (
    MODEL_COLUMNS,
    model_matrix,
    model_matrix_from_arrays,
    model_matrix_from_records,
    model_row,
)
from modelops_features.churn.readers import (
    compute,
    compute_one,
    feature_arrays_from_frame,
    feature_arrays_from_records,
    feature_columns,
    to_category,
)

__all__ = [
    "CATEGORICAL_FEATURES",
    "DERIVED_NUMERIC",
    "FEATURE_NAMES",
    "FEATURE_SCHEMA",
    "ID_COLUMN",
    "MODEL_COLUMNS",
    "NEW_CUSTOMER_MONTHS",
    "NUMERIC_FEATURES",
    "OTHER",
    "PER_MONTH_FEATURES",
    "PLANS",
    "RATIO_FEATURES",
    "RAW_CATEGORICAL",
    "RAW_NUMERIC",
    "RAW_SCHEMA",
    "REGIONS",
    "SEGMENT_COLUMNS",
    "TARGET",
    "TENURE_BUCKETS",
    "TENURE_BUCKET_EDGES",
    "FeatureArrays",
    "compute",
    "compute_one",
    "derive",
    "feature_arrays_from_frame",
    "feature_arrays_from_records",
    "feature_columns",
    "is_new_customer",
    "model_matrix",
    "model_matrix_from_arrays",
    "model_matrix_from_records",
    "model_row",
    "per_month",
    "safe_ratio",
    "tenure_bucket",
    "to_category",
    "to_float",
]
