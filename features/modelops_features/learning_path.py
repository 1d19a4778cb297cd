"""The learning-path model's raw contract and feature definitions, defined once.

The learning-path model suggests the best next module for a student from a
summary of their recent activity. As for churn, every feature is a numpy
function over arrays (`derive`), called by three paths that therefore agree
bit for bit:

* `compute(df)` — training and batch scoring, vectorised over a DataFrame;
* `compute_one(record)` — the serving path, one student, without pandas;
* `model_matrix_from_records(records)` — a batch request without pandas.

Student identifiers (`student_id`) and the fairness group (`group`) are never
features: the raw schema does not list them, the readers never look at them,
and `tests/unit/test_learning_path_features.py` checks that changing them
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

from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np
import pandas as pd

from modelops_features import arrays
from modelops_features.arrays import OTHER, FeatureArrays, per_period, safe_ratio
from modelops_features.encoding import ModelLayout
from modelops_features.schema import Field, Schema

SUBJECTS: tuple[str, ...] = ("math", "science", "programming", "language")
LEVELS: tuple[str, ...] = ("foundations", "advanced")
# The catalogue of candidate next modules: one foundations and one advanced
# module per subject. The model ranks all of them; a request may restrict the
# ranking to a subset (the candidates the course actually offers the student).
MODULES: tuple[str, ...] = tuple(f"{s}-{level}" for s in SUBJECTS for level in LEVELS)
MODULE_SUBJECT: dict[str, str] = {f"{s}-{level}": s for s in SUBJECTS for level in LEVELS}
LAPSED_DAYS = 30.0

TARGET = "next_module"
ID_COLUMN = "student_id"
GROUP_COLUMN = "group"
# Student groups for fairness reports (e.g. an access or language-background
# group). Never a feature: the model must rank well for every group without it.
GROUPS: tuple[str, ...] = ("group_a", "group_b", "group_c")

QUIZ_COLUMNS: tuple[str, ...] = tuple(f"quiz_avg_{s}" for s in SUBJECTS)
RAW_NUMERIC: tuple[str, ...] = (
    *QUIZ_COLUMNS,
    "video_minutes",
    "active_days",
    "items_started",
    "items_skipped",
    "prerequisites_completed",
    "confidence",
    "days_since_last_activity",
)
RAW_CATEGORICAL: dict[str, tuple[str, ...]] = {"last_subject": SUBJECTS}

RAW_SCHEMA = Schema(
    name="learning_path_raw",
    fields=(
        *(
            Field(
                col,
                "float",
                min=0,
                max=100,
                nullable=True,
                description=f"Average quiz score (0-100) in {s}; missing when no quiz was taken.",
            )
            for col, s in zip(QUIZ_COLUMNS, SUBJECTS, strict=True)
        ),
        Field(
            "video_minutes",
            "float",
            min=0,
            max=43_200,
            description="Minutes of lecture video watched in the last 30 days.",
        ),
        Field("active_days", "int", min=0, max=30, description="Days active in the last 30."),
        Field(
            "items_started", "int", min=0, max=100_000, description="Content items opened (30 d)."
        ),
        Field(
            "items_skipped",
            "int",
            min=0,
            max=100_000,
            description="Content items skipped before the end (30 d).",
        ),
        Field(
            "prerequisites_completed",
            "int",
            min=0,
            max=100,
            description="Prerequisite modules completed so far.",
        ),
        Field(
            "confidence",
            "int",
            min=1,
            max=5,
            nullable=True,
            description="Self-reported confidence, 1 (low) to 5 (high); missing when unanswered.",
        ),
        Field(
            "days_since_last_activity",
            "float",
            min=0,
            max=3650,
            description="Days since the student's last learning activity (recency).",
        ),
        Field("last_subject", "category", categories=SUBJECTS, description="Subject studied last."),
    ),
)

DERIVED_NUMERIC: tuple[str, ...] = (
    "quiz_mean",
    "subjects_quizzed",
    "video_minutes_per_active_day",
    "skip_share",
    "lapsed",
)
NUMERIC_FEATURES: tuple[str, ...] = RAW_NUMERIC + DERIVED_NUMERIC
CATEGORICAL_FEATURES: dict[str, tuple[str, ...]] = {"last_subject": SUBJECTS}


def _passthrough(name: str, lo: float, hi: float | None) -> Field:
    return Field(name, "float", min=lo, max=hi, nullable=True, description="Raw, passed through.")


FEATURE_SCHEMA = Schema(
    name="learning_path_features",
    fields=(
        *(_passthrough(c, 0, 100) for c in QUIZ_COLUMNS),
        _passthrough("video_minutes", 0, None),
        _passthrough("active_days", 0, None),
        _passthrough("items_started", 0, None),
        _passthrough("items_skipped", 0, None),
        _passthrough("prerequisites_completed", 0, None),
        _passthrough("confidence", 1, 5),
        _passthrough("days_since_last_activity", 0, None),
        Field(
            "quiz_mean",
            "float",
            min=0,
            max=100,
            nullable=True,
            description="Mean quiz score over the subjects with a quiz; missing when none.",
        ),
        Field(
            "subjects_quizzed",
            "float",
            min=0,
            max=len(SUBJECTS),
            description="Number of subjects with a quiz score.",
        ),
        Field(
            "video_minutes_per_active_day",
            "float",
            min=0,
            nullable=True,
            description="video_minutes / max(active_days, 1).",
        ),
        Field(
            "skip_share",
            "float",
            min=0,
            max=1,
            nullable=True,
            description="min(items_skipped / items_started, 1); 0 when nothing was started.",
        ),
        Field(
            "lapsed",
            "int",
            min=0,
            max=1,
            nullable=True,
            description=f"1 when days_since_last_activity > {LAPSED_DAYS:g}, else 0.",
        ),
        Field(
            "last_subject",
            "category",
            categories=(*SUBJECTS, OTHER),
            description="Raw last_subject; __other__ when missing or unknown.",
        ),
    ),
)
FEATURE_NAMES: list[str] = FEATURE_SCHEMA.names

# float64, not float32 as for churn: the linear scorer is numpy, and keeping full
# precision makes training-time and serving-time scores the same numbers.
LAYOUT = ModelLayout(NUMERIC_FEATURES, CATEGORICAL_FEATURES, np.float64)
MODEL_COLUMNS: list[str] = LAYOUT.columns
_ROW = {name: i for i, name in enumerate(NUMERIC_FEATURES)}
_QUIZ_ROWS = [_ROW[c] for c in QUIZ_COLUMNS]
_SUBJECT_SET = frozenset(SUBJECTS)


# --- the definitions ---------------------------------------------------------------


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


# --- raw input readers -----------------------------------------------------------------


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


# --- public API ------------------------------------------------------------------------


def compute(raw: pd.DataFrame) -> pd.DataFrame:
    """Features for every row of `raw`; columns == FEATURE_NAMES, same index.

    Columns beyond the raw schema (student_id, group, the label) are ignored.
    """
    columns = arrays.feature_columns(
        feature_arrays_from_frame(raw), NUMERIC_FEATURES, FEATURE_NAMES
    )
    return pd.DataFrame(columns, index=raw.index)


def compute_one(record: Mapping[str, Any]) -> dict[str, float | str]:
    """Features of one raw record, identical to the matching row of `compute`."""
    features = feature_arrays_from_records((record,))
    return arrays.first_record(features, NUMERIC_FEATURES, FEATURE_NAMES)


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
