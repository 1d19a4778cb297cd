"""The learning-path model's raw contract and feature definitions, defined once.

This package is the public face: everything is importable from
`modelops_features.learning_path`. Inside, by responsibility, as for churn:

* `contract` — the raw schema, the feature schema, the module catalogue and constants;
* `definitions` — every feature as a numpy function over arrays (`derive`);
* `readers` — raw input to features, one reader per path, all through `derive`;
* `encoding` — the float64 model matrix (`model_matrix`, `model_row`, ...).

The learning-path model suggests the best next module for a student from a
summary of their recent activity. As for churn, every feature is a numpy
function over arrays (`derive`), called by three paths that therefore agree
bit for bit:

* `compute(df)` — training and batch scoring, vectorised over a DataFrame;
* `compute_one(record)` — the serving path, one student, without pandas;
* `model_matrix_from_records(records)` — a batch request without pandas.

Student identifiers (`student_id`) and the fairness group (`group`) are never
features: the raw schema does not list them, the readers never look at them,
and `tests/unit/features/learning_path/test_features.py` checks that changing them
changes nothing. The group is only used *after* prediction, to measure
fairness on held-out students.

Missing values:

* a raw numeric value that is missing or does not read as a number becomes NaN;
  pass-through features keep NaN (the scorer imputes the training mean);
* `quiz_mean` is the mean of the subjects with a quiz (NaN when none has one);
  `subjects_quizzed` counts them;
* `skip_share` is items_skipped / items_started, 0 when nothing was started, and
  at most 1 (a client counting a skip without its start must not create a
  share no training student had);
* `video_minutes_per_active_day` divides by max(active_days, 1);
* `lapsed` is 1 when the last activity is more than LAPSED_DAYS ago, 0 when
  not, NaN when unknown;
* a `last_subject` that is missing or undeclared becomes "__other__", the
  all-zero one-hot row.
"""

from __future__ import annotations

from modelops_features.arrays import OTHER, FeatureArrays
from modelops_features.learning_path.contract import (
    CATEGORICAL_FEATURES,
    DERIVED_NUMERIC,
    FEATURE_NAMES,
    FEATURE_SCHEMA,
    GROUP_COLUMN,
    GROUPS,
    ID_COLUMN,
    LAPSED_DAYS,
    LEVELS,
    MODULE_SUBJECT,
    MODULES,
    NUMERIC_FEATURES,
    QUIZ_COLUMNS,
    RAW_CATEGORICAL,
    RAW_NUMERIC,
    RAW_SCHEMA,
    SUBJECTS,
    TARGET,
)
from modelops_features.learning_path.definitions import (
    derive,
    lapsed,
    quiz_summary,
)
from modelops_features.learning_path.encoding import (
    LAYOUT,
    MODEL_COLUMNS,
    model_matrix,
    model_matrix_from_arrays,
    model_matrix_from_records,
    model_row,
)
from modelops_features.learning_path.readers import (
    compute,
    compute_one,
    feature_arrays_from_frame,
    feature_arrays_from_records,
    to_subject,
)

__all__ = [
    "CATEGORICAL_FEATURES",
    "DERIVED_NUMERIC",
    "FEATURE_NAMES",
    "FEATURE_SCHEMA",
    "GROUPS",
    "GROUP_COLUMN",
    "ID_COLUMN",
    "LAPSED_DAYS",
    "LAYOUT",
    "LEVELS",
    "MODEL_COLUMNS",
    "MODULES",
    "MODULE_SUBJECT",
    "NUMERIC_FEATURES",
    "OTHER",
    "QUIZ_COLUMNS",
    "RAW_CATEGORICAL",
    "RAW_NUMERIC",
    "RAW_SCHEMA",
    "SUBJECTS",
    "TARGET",
    "FeatureArrays",
    "compute",
    "compute_one",
    "derive",
    "feature_arrays_from_frame",
    "feature_arrays_from_records",
    "lapsed",
    "model_matrix",
    "model_matrix_from_arrays",
    "model_matrix_from_records",
    "model_row",
    "quiz_summary",
    "to_subject",
]
