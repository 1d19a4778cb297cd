"""Learning-path feature definitions, schema and reference profile."""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
import pytest

from modelops_features import learning_path as lp
from modelops_features.profile import bucket_counts, build_profile
from modelops_features.schema import validate
from modelops_features.synthetic_students import students

BASE = {
    "quiz_avg_math": 80.0,
    "quiz_avg_science": None,
    "quiz_avg_programming": 60.0,
    "quiz_avg_language": None,
    "video_minutes": 300.0,
    "active_days": 10,
    "items_started": 20,
    "items_skipped": 5,
    "prerequisites_completed": 3,
    "confidence": 4,
    "days_since_last_activity": 45.0,
    "last_subject": "science",
}


def test_definitions_on_a_hand_computed_record() -> None:
    f = lp.compute_one(BASE)
    assert f["quiz_mean"] == 70.0 and f["subjects_quizzed"] == 2.0
    assert math.isnan(f["quiz_avg_science"])
    assert f["video_minutes_per_active_day"] == 30.0
    assert f["skip_share"] == 0.25
    assert f["lapsed"] == 1.0
    assert f["last_subject"] == "science"
    assert list(f) == lp.FEATURE_NAMES


@pytest.mark.parametrize(
    ("change", "name", "expected"),
    [
        ({"items_started": 0, "items_skipped": 0}, "skip_share", 0.0),  # nothing started
        ({"items_started": 2, "items_skipped": 9}, "skip_share", 1.0),  # capped at 1
        ({"active_days": 0}, "video_minutes_per_active_day", 300.0),  # max(days, 1)
        ({"days_since_last_activity": 30.0}, "lapsed", 0.0),  # "more than" 30 days
        ({"last_subject": "Math"}, "last_subject", "__other__"),  # exact match only
        ({"last_subject": None}, "last_subject", "__other__"),
        ({"quiz_avg_math": None, "quiz_avg_programming": None}, "subjects_quizzed", 0.0),
    ],
)
def test_edge_rules(change: dict, name: str, expected: object) -> None:
    assert lp.compute_one({**BASE, **change})[name] == expected


def test_no_quiz_at_all_gives_a_missing_mean_and_unknown_recency_a_missing_lapsed() -> None:
    f = lp.compute_one(
        {
            **BASE,
            "quiz_avg_math": None,
            "quiz_avg_programming": None,
            "days_since_last_activity": None,
        }
    )
    assert math.isnan(f["quiz_mean"]) and math.isnan(f["lapsed"])


def test_student_id_and_group_never_become_features() -> None:
    frame = students(300, seed=4)
    features = lp.compute(frame)
    other = frame.assign(student_id="someone-else", group="group_c")
    pd.testing.assert_frame_equal(features, lp.compute(other))
    with_ids = lp.compute_one({**BASE, "student_id": "s-1", "group": "group_a"})
    assert _same_with_nan(with_ids, lp.compute_one(BASE))
    for name in ("student_id", "group"):
        assert name not in lp.RAW_SCHEMA.names and name not in lp.FEATURE_NAMES
        assert not any(name in column for column in lp.MODEL_COLUMNS)


def _same_with_nan(a: dict, b: dict) -> bool:
    return all(
        (isinstance(a[k], float) and math.isnan(a[k]) and math.isnan(b[k])) or a[k] == b[k]
        for k in a
    )


def test_model_columns_one_hot_with_other_as_all_zero() -> None:
    row = lp.model_row(lp.compute_one(BASE))
    one_hot = dict(
        zip(lp.MODEL_COLUMNS[-len(lp.SUBJECTS) :], row[0, -len(lp.SUBJECTS) :], strict=True)
    )
    assert one_hot == {
        "last_subject=math": 0.0,
        "last_subject=science": 1.0,
        "last_subject=programming": 0.0,
        "last_subject=language": 0.0,
    }
    unknown = lp.model_row(lp.compute_one({**BASE, "last_subject": "art"}))
    assert not unknown[0, -len(lp.SUBJECTS) :].any()
    assert row.dtype == np.float64 and row.shape == (1, len(lp.MODEL_COLUMNS))


def test_generated_data_meets_both_schemas_and_validation_lists_every_violation() -> None:
    frame = students(2000, seed=2)
    assert validate(frame, lp.RAW_SCHEMA).ok
    assert validate(lp.compute(frame), lp.FEATURE_SCHEMA).ok
    bad = frame.head(5).copy()
    bad.loc[0, "confidence"] = 9
    bad.loc[1, "last_subject"] = "history"
    bad = bad.drop(columns=["video_minutes"])
    report = validate(bad, lp.RAW_SCHEMA)
    assert {(v.column, v.rule) for v in report.violations} == {
        ("confidence", "max"),
        ("last_subject", "category"),
        ("video_minutes", "missing_column"),
    }


def test_schema_hashes_are_stable_and_distinct() -> None:
    assert (
        lp.RAW_SCHEMA.content_hash()
        == lp.RAW_SCHEMA.from_dict(lp.RAW_SCHEMA.to_dict()).content_hash()
    )
    assert lp.RAW_SCHEMA.content_hash() != lp.FEATURE_SCHEMA.content_hash()


def test_reference_profile_buckets_agree_with_bucket_counts() -> None:
    features = lp.compute(students(3000, seed=3))
    profile = build_profile(features, lp.FEATURE_SCHEMA, None)
    assert set(profile["features"]) == set(lp.FEATURE_NAMES)
    quiz = profile["features"]["quiz_mean"]
    assert quiz["kind"] == "numeric" and 0 < quiz["missing_rate"] < 0.05
    counts = bucket_counts(features["quiz_mean"], quiz)
    assert np.allclose(counts / counts.sum(), quiz["proportions"])
    subject = profile["features"]["last_subject"]
    assert subject["categories"] == [*lp.SUBJECTS, "__other__"]
    assert subject["proportions"][-1] == 0.0
