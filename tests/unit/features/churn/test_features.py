"""Churn feature definitions: hand-computed values per feature (modelops_features.churn)."""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
import pytest

from modelops_features import churn, synthetic
from modelops_features.churn import (
    FEATURE_NAMES,
    FEATURE_SCHEMA,
    MODEL_COLUMNS,
    OTHER,
    PLANS,
    RAW_SCHEMA,
    REGIONS,
    SEGMENT_COLUMNS,
    TARGET,
    compute,
    compute_one,
    model_matrix,
    model_row,
)
from modelops_features.schema import validate

NAN = math.nan
BASE = {
    "customer_id": "c-1",
    "tenure_months": 10,
    "monthly_spend": 30.0,
    "total_spend": 250.0,
    "orders": 5,
    "support_tickets": 4,
    "plan": "standard",
    "region": "east",
}


def _same(a, b) -> bool:
    if isinstance(a, float) and isinstance(b, float):
        return (math.isnan(a) and math.isnan(b)) or a == b
    return a == b


def test_contract_names():
    assert RAW_SCHEMA.names == [
        "tenure_months",
        "monthly_spend",
        "total_spend",
        "orders",
        "support_tickets",
        "plan",
        "region",
    ]
    assert "customer_id" not in RAW_SCHEMA.names
    assert "customer_id" not in FEATURE_NAMES
    assert FEATURE_SCHEMA.names == FEATURE_NAMES
    assert TARGET == "churned"
    assert SEGMENT_COLUMNS == ("plan", "region")
    assert RAW_SCHEMA.field("plan").categories == PLANS
    assert RAW_SCHEMA.field("region").categories == REGIONS
    assert len(MODEL_COLUMNS) == len(set(MODEL_COLUMNS))


def test_base_record_by_hand():
    assert compute_one(BASE) == {
        "tenure_months": 10.0,
        "monthly_spend": 30.0,
        "total_spend": 250.0,
        "orders": 5.0,
        "support_tickets": 4.0,
        "avg_order_value": 50.0,  # 250 / 5
        "spend_per_tenure_month": 25.0,  # 250 / 10
        "spend_ratio": 1.2,  # 30 / 25
        "tickets_per_month": 0.4,  # 4 / 10
        "tickets_per_order": 0.8,  # 4 / 5
        "is_new_customer": 0.0,
        "tenure_bucket": "6-12",
        "plan": "standard",
        "region": "east",
    }


# (changes to BASE, expected feature values) — the edge cases of every definition.
CASES = [
    ({"orders": 0}, {"avg_order_value": 0.0, "tickets_per_order": 0.0}),
    ({"orders": 0, "total_spend": None}, {"avg_order_value": 0.0, "total_spend": NAN}),
    ({"total_spend": None}, {"avg_order_value": NAN, "spend_per_tenure_month": NAN}),
    ({"total_spend": None}, {"spend_ratio": NAN}),
    ({"total_spend": 0.0}, {"spend_per_tenure_month": 0.0, "spend_ratio": 0.0}),
    ({"tenure_months": 0}, {"spend_per_tenure_month": 250.0, "tickets_per_month": 4.0}),
    ({"tenure_months": 0}, {"is_new_customer": 1.0, "tenure_bucket": "0-6"}),
    ({"tenure_months": 2}, {"is_new_customer": 1.0, "tenure_bucket": "0-6"}),
    ({"tenure_months": 3}, {"is_new_customer": 0.0, "tenure_bucket": "0-6"}),
    ({"tenure_months": 6}, {"tenure_bucket": "6-12"}),
    ({"tenure_months": 12}, {"tenure_bucket": "12-24"}),
    ({"tenure_months": 23}, {"tenure_bucket": "12-24"}),
    ({"tenure_months": 24}, {"tenure_bucket": "24+"}),
    ({"tenure_months": 500}, {"tenure_bucket": "24+", "is_new_customer": 0.0}),
    ({"tenure_months": None}, {"tenure_bucket": OTHER, "is_new_customer": NAN}),
    ({"tenure_months": None}, {"tickets_per_month": NAN, "spend_per_tenure_month": NAN}),
    ({"tenure_months": -1}, {"tenure_bucket": OTHER, "is_new_customer": NAN}),
    ({"tenure_months": math.inf}, {"tenure_bucket": OTHER, "is_new_customer": NAN}),
    ({"support_tickets": None}, {"tickets_per_month": NAN, "tickets_per_order": NAN}),
    ({"support_tickets": 0}, {"tickets_per_month": 0.0, "tickets_per_order": 0.0}),
    ({"orders": None}, {"avg_order_value": NAN, "tickets_per_order": NAN}),
    ({"monthly_spend": "abc"}, {"monthly_spend": NAN, "spend_ratio": NAN}),
    ({"monthly_spend": " 30.5 "}, {"monthly_spend": 30.5}),
    ({"plan": "enterprise"}, {"plan": OTHER}),
    ({"plan": "Basic"}, {"plan": OTHER}),
    ({"plan": None}, {"plan": OTHER}),
    ({"region": 3}, {"region": OTHER}),
]


@pytest.mark.parametrize(("changes", "expected"), CASES)
def test_definitions(changes, expected):
    record = {**BASE, **changes}
    one = compute_one(record)
    row = compute(pd.DataFrame([record])).iloc[0].to_dict()
    for name, value in expected.items():
        assert _same(one[name], value), (name, one[name], value)
        assert _same(row[name], value), (name, row[name], value)


def test_missing_keys_read_as_missing_values():
    one = compute_one({"tenure_months": 4})
    assert one["tenure_bucket"] == "0-6"
    assert math.isnan(one["monthly_spend"])
    assert one["plan"] == OTHER and one["region"] == OTHER
    frame = compute(pd.DataFrame({"tenure_months": [4]}))
    assert list(frame.columns) == FEATURE_NAMES
    assert math.isnan(frame["monthly_spend"].iloc[0])


def test_compute_keeps_index_and_drops_id_and_label():
    raw = pd.DataFrame([BASE, {**BASE, "orders": 0}], index=[17, 3])
    raw[TARGET] = [0, 1]
    features = compute(raw)
    assert list(features.index) == [17, 3]
    assert list(features.columns) == FEATURE_NAMES
    assert all(isinstance(v, str) for v in features["plan"])
    assert features["avg_order_value"].tolist() == [50.0, 0.0]


def test_valid_raw_data_gives_valid_features():
    edge_rows = [
        {**BASE, "tenure_months": 0, "orders": 0, "support_tickets": 0, "total_spend": 0.0},
        {**BASE, "total_spend": None, "support_tickets": None},
        {**BASE, "tenure_months": 600, "monthly_spend": 0.0},
    ]
    raw = pd.concat([synthetic.churn(300, seed=2), pd.DataFrame(edge_rows)], ignore_index=True)
    assert validate(raw, RAW_SCHEMA).ok
    assert validate(compute(raw), FEATURE_SCHEMA).ok


def test_model_matrix_layout():
    features = compute(pd.DataFrame([BASE, {**BASE, "plan": "nope", "tenure_months": 30}]))
    matrix = model_matrix(features)
    assert matrix.dtype == np.float32
    assert matrix.shape == (2, len(MODEL_COLUMNS))
    first = dict(zip(MODEL_COLUMNS, matrix[0].tolist(), strict=True))
    assert first["avg_order_value"] == 50.0
    assert first["plan=standard"] == 1.0 and first["plan=basic"] == 0.0
    assert first["region=east"] == 1.0
    assert first["tenure_bucket=6-12"] == 1.0
    second = dict(zip(MODEL_COLUMNS, matrix[1].tolist(), strict=True))
    # An unknown plan is "__other__": all plan columns zero, no column of its own.
    assert [second[f"plan={p}"] for p in PLANS] == [0.0, 0.0, 0.0]
    assert second["tenure_bucket=24+"] == 1.0
    # Each categorical feature sets at most one column per row.
    assert matrix[:, len(churn.NUMERIC_FEATURES) :].sum(axis=1).tolist() == [3.0, 2.0]


def test_model_row_equals_model_matrix_row():
    record = {**BASE, "total_spend": None}
    one = compute_one(record)
    assert np.array_equal(
        model_row(one), model_matrix(compute(pd.DataFrame([record]))), equal_nan=True
    )
    assert model_row(one).shape == (1, len(MODEL_COLUMNS))


def test_model_matrix_names_a_missing_feature():
    features = compute(pd.DataFrame([BASE])).drop(columns=["spend_ratio"])
    with pytest.raises(KeyError, match="spend_ratio"):
        model_matrix(features)


def test_extreme_values_do_not_warn_or_crash():
    record = {**BASE, "total_spend": 1e308, "orders": 5e-324, "monthly_spend": math.inf}
    with np.errstate(all="raise"):
        one = compute_one(record)
        row = model_row(one)
    assert one["avg_order_value"] == math.inf
    assert np.isinf(row[0, MODEL_COLUMNS.index("total_spend")])  # beyond float32


# Every name modelops_features.churn offered as a single module, before it became a
# package: training, the bentos, benchmarks and tests import them from the facade.
FACADE_NAMES = [
    "CATEGORICAL_FEATURES",
    "DERIVED_NUMERIC",
    "FEATURE_NAMES",
    "FEATURE_SCHEMA",
    "FeatureArrays",
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
    "compute",
    "compute_one",
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


def test_the_churn_facade_still_offers_every_name():
    missing = [name for name in FACADE_NAMES if not hasattr(churn, name)]
    assert missing == []
    assert set(FACADE_NAMES) <= set(churn.__all__)
