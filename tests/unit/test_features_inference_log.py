"""The log and feedback layouts, identifier policies, rows -> columns, and the quality families."""

from __future__ import annotations

import hashlib
import hmac
import re
from datetime import UTC, datetime, timedelta

import numpy as np
import pandas as pd
import pytest

from modelops_features import churn, groundtruth, quality_metrics
from modelops_features import inference_log as il
from modelops_features import learning_path as lp
from modelops_features.parquet import decode, encode

RECORD = {"tenure_months": 3, "monthly_spend": 50.0, "total_spend": None, "orders": 4,
          "support_tickets": 1, "plan": "basic", "region": "north", "customer_id": "c-1"}  # fmt: skip


def test_churn_columns_come_from_its_schemas() -> None:
    names = [c.name for c in il.layout("churn").log_columns()]
    assert names[:7] == ["request_id", "record", "ts", "model", "version", "endpoint", "entity_id"]
    assert [n for n in names if n.startswith("raw_")] == [
        f"raw_{f}" for f in churn.RAW_SCHEMA.names
    ]
    assert [n for n in names if n.startswith("feature_")] == [
        f"feature_{f}" for f in churn.FEATURE_NAMES
    ]
    assert names[-1] == "prediction"
    kinds = {c.name: c.kind for c in il.layout("churn").log_columns()}
    assert (kinds["raw_tenure_months"], kinds["raw_monthly_spend"], kinds["raw_plan"]) == (
        "int64",
        "double",
        "string",
    )


def test_learning_path_has_scores_and_no_entity_column_to_fill() -> None:
    layout = il.layout("learning-path")
    names = [c.name for c in layout.log_columns()]
    assert [f"score_{m}" for m in lp.MODULES] == [n for n in names if n.startswith("score_")]
    assert layout.entity_column is None and layout.task == il.MULTICLASS
    with pytest.raises(ValueError, match="no inference-log layout"):
        il.layout("fraud")


@pytest.mark.parametrize(
    ("kind", "value", "stored"),
    [
        ("churn", 1, 1),
        ("churn", 0, 0),
        ("churn", True, 1),
        ("churn", "1", 1),
        ("churn", 0.0, 0),
        ("learning-path", "math-advanced", "math-advanced"),
    ],
)
def test_outcomes_accepted(kind: str, value, stored) -> None:
    assert il.layout(kind).check_outcome(value) == stored


@pytest.mark.parametrize(
    ("kind", "value", "message"),
    [
        ("churn", 2, "0 or 1"),
        ("churn", "yes", "0 or 1"),
        ("churn", None, "0 or 1"),
        ("churn", 0.5, "0 or 1"),
        ("learning-path", "cooking-101", "one of"),
        ("learning-path", 1, "one of"),
    ],
)
def test_outcomes_refused(kind: str, value, message: str) -> None:
    with pytest.raises(ValueError, match=message):
        il.layout(kind).check_outcome(value)


def test_identifier_policies() -> None:
    keyed = il.IdentifierPolicy("hash", b"secret").apply("c-1")
    expected = hmac.new(b"secret", b"c-1", hashlib.sha256).hexdigest()[:32]
    assert keyed == f"hmac-sha256:{expected}"
    plain = il.IdentifierPolicy("hash").apply("c-1")
    assert plain == "sha256:" + hashlib.sha256(b"c-1").hexdigest()[:32]
    assert il.IdentifierPolicy("omit").apply("c-1") is None
    assert il.IdentifierPolicy("hash", b"k").apply(None) is None
    assert il.IdentifierPolicy.from_env({}) == il.IdentifierPolicy("hash", None)
    assert il.IdentifierPolicy.from_env(
        {"MODELOPS_LOG_IDENTIFIERS": "OMIT", "MODELOPS_LOG_HASH_KEY": "k"}
    ) == il.IdentifierPolicy("omit", b"k")
    with pytest.raises(ValueError, match="MODELOPS_LOG_IDENTIFIERS='keep'"):
        il.IdentifierPolicy.from_env({"MODELOPS_LOG_IDENTIFIERS": "keep"})


def test_churn_rows_one_record_and_a_batch_with_hashed_ids() -> None:
    layout = il.layout("churn")
    one = churn.compute_one(RECORD)
    records = [RECORD, {**RECORD, "customer_id": None, "plan": "premium", "total_spend": 9.0}]
    batch = churn.feature_columns(churn.feature_arrays_from_records(records))
    requests = [
        il.LoggedRequest("r1", "predict", 10, "churn", "3", [RECORD], one, np.array([0.25])),
        il.LoggedRequest(
            None, "predict_batch", 20, "churn", "3", records, batch, np.array([0.5, 0.75])
        ),
    ]
    policy = il.IdentifierPolicy("hash", b"k")
    columns = il.log_columns(layout, requests, policy)
    assert columns["request_id"] == ["r1", None, None]
    assert columns["record"] == [0, 0, 1]
    assert columns["entity_id"] == [policy.apply("c-1"), policy.apply("c-1"), None]
    assert "c-1" not in str(columns)  # never the raw id
    assert columns["raw_total_spend"] == [None, None, 9.0]
    assert columns["raw_plan"] == ["basic", "basic", "premium"]
    # NaN features (no total spend) are stored as null; values as computed.
    assert columns["feature_avg_order_value"] == [None, None, pytest.approx(9.0 / 4)]
    assert columns["feature_tickets_per_order"][0] == pytest.approx(one["tickets_per_order"])
    assert columns["feature_plan"] == ["basic", "basic", "premium"]
    assert columns["prediction"] == [0.25, 0.5, 0.75]
    table = decode(encode(layout.log_columns(), columns))
    assert table.data["raw_tenure_months"].tolist() == [3, 3, 3]


def test_learning_path_rows_never_carry_the_student_id() -> None:
    layout = il.layout("learning-path")
    activity = {"quiz_avg_math": 80.0, "quiz_avg_science": None, "quiz_avg_programming": 50.0,
                "quiz_avg_language": 60.0, "video_minutes": 30.0, "active_days": 3,
                "items_started": 10, "items_skipped": 2, "prerequisites_completed": 1,
                "confidence": 3, "days_since_last_activity": 1.0, "last_subject": "math",
                "student_id": "stu-secret"}  # fmt: skip
    features = lp.compute(pd.DataFrame([activity, activity]))
    scores = np.tile(np.linspace(0.01, 0.2, len(lp.MODULES)), (2, 1))
    request = il.LoggedRequest(
        "r9", "recommend_batch", 5, "learning-path", "2", [activity, activity], features, scores,
        entity_ids=["stu-secret", "stu-secret"], answers=[lp.MODULES[0], "not-a-module"],
    )  # fmt: skip
    columns = il.log_columns(layout, [request], il.IdentifierPolicy("hash", b"k"))
    assert columns["entity_id"] == [None, None]
    assert "stu-secret" not in str(columns)
    # The answered module is logged; an unknown answer falls back to the best score.
    assert columns["predicted"] == [lp.MODULES[0], lp.MODULES[-1]]
    assert columns["prediction"] == [pytest.approx(0.01), pytest.approx(0.2)]
    assert columns[f"score_{lp.MODULES[-1]}"] == [pytest.approx(0.2)] * 2


def test_quality_samples_use_unit_names_and_skip_undefined_values() -> None:
    from modelops_features.quality import Quality

    start = datetime(2026, 12, 1, tzinfo=UTC)
    report = groundtruth.WindowQuality("churn", "churn", start, start + timedelta(hours=1))
    report.versions["3"] = Quality(
        predictions=10,
        labelled=4,
        metrics={"auc": None, "logloss": 0.5, "accuracy": 0.75, "ece": 0.1, "fairness_gap": 0.0},
        estimated={"auc": 0.8, "accuracy": 0.7},
    )
    got = {
        (f.name, tuple(sorted(labels.items()))): v
        for f, labels, v in quality_metrics.samples(report, "ml", "churn", 1.5e9)
    }
    labels = (("deployment", "churn"), ("namespace", "ml"), ("version", "3"))
    assert got[("modelops_model_quality_logloss_nats", labels)] == 0.5
    assert got[("modelops_model_quality_estimated_auc_ratio", labels)] == 0.8
    assert got[("modelops_model_quality_label_coverage_ratio", labels)] == 0.4
    assert got[("modelops_model_quality_window_seconds", labels)] == 3600.0
    assert ("modelops_model_quality_auc_ratio", labels) not in got  # undefined: absent, not NaN
    for family in quality_metrics.FAMILIES:
        assert re.fullmatch(r"modelops_model_quality_[a-z0-9_]+", family.name)
        assert not family.name.endswith("_total")  # gauges
