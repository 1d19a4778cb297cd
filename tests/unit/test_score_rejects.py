"""Per-row validation for batch scoring: the schema's rules, row by row, with reasons."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pyarrow as pa
import pytest

from modelops_cli.score.rejects import (
    SEPARATOR,
    as_text,
    check_rows,
    message,
    rejects_schema,
    rejects_table,
    show,
)
from modelops_features import churn, learning_path, synthetic
from modelops_features.schema import Field, row_violations, validate

GOOD = {
    "tenure_months": 12,
    "monthly_spend": 40.0,
    "total_spend": 480.0,
    "orders": 6,
    "support_tickets": 1,
    "plan": "basic",
    "region": "north",
}

# (change to a good row, the one violation it must give)
BAD_ROWS = [
    ({"tenure_months": -3}, "tenure_months min: -3 is below 0"),
    ({"tenure_months": 601}, "tenure_months max: 601 is above 600"),
    ({"tenure_months": 2.5}, "tenure_months dtype: 2.5 is not an integer"),
    ({"orders": "many"}, "orders dtype: 'many' is not an integer"),
    ({"monthly_spend": float("inf")}, "monthly_spend not_finite: inf is not a finite number"),
    ({"monthly_spend": None}, "monthly_spend null: missing, and the field is required"),
    ({"plan": "gold"}, "plan category: 'gold' is not one of basic, standard, premium"),
    ({"region": None}, "region null: missing, and the field is required"),
    ({"orders": True}, "orders dtype: True is not an integer"),
]  # fmt: skip


def frame(rows: list[dict]) -> pd.DataFrame:
    return pd.DataFrame.from_records(rows, columns=churn.RAW_SCHEMA.names)


def ids(n: int, missing: tuple[int, ...] = ()) -> pa.Array:
    return pa.array([None if i in missing else f"c{i}" for i in range(n)], pa.string())


@pytest.mark.parametrize(("change", "expected"), BAD_ROWS, ids=[e for _, e in BAD_ROWS])
def test_each_bad_value_is_one_named_violation_of_its_row(change, expected) -> None:
    raw = frame([GOOD, {**GOOD, **change}, GOOD])
    checked = check_rows(raw, churn.RAW_SCHEMA, ids(3), "customer_id")
    assert checked.valid.tolist() == [True, False, True]
    assert checked.reasons == {1: [expected]}
    column, rule = expected.split(" ")[0], expected.split(" ")[1].rstrip(":")
    assert checked.rules == {f"{column}:{rule}": 1}


def test_nullable_fields_may_be_missing() -> None:
    raw = frame([{**GOOD, "total_spend": None, "support_tickets": None}])
    assert check_rows(raw, churn.RAW_SCHEMA, ids(1), "customer_id").valid.all()


def test_a_row_breaking_several_rules_lists_them_all_in_schema_order() -> None:
    raw = frame([{**GOOD, "plan": "gold", "tenure_months": -1, "orders": None}])
    checked = check_rows(raw, churn.RAW_SCHEMA, ids(1), "customer_id")
    assert checked.reasons[0] == [
        "tenure_months min: -1 is below 0",
        "orders null: missing, and the field is required",
        "plan category: 'gold' is not one of basic, standard, premium",
    ]


def test_a_row_without_an_id_is_rejected() -> None:
    raw = frame([GOOD, GOOD])
    checked = check_rows(raw, churn.RAW_SCHEMA, ids(2, missing=(0,)), "customer_id")
    assert checked.valid.tolist() == [False, True]
    assert checked.reasons[0] == ["customer_id null: missing, and every row needs an id"]
    assert checked.rules == {"customer_id:null": 1}


@pytest.mark.parametrize("seed", [0, 1, 2])
def test_row_masks_count_what_validate_reports(seed: int) -> None:
    """row_violations is validate, row by row: the same rules, columns, order and counts."""
    rng = np.random.default_rng(seed)
    raw = synthetic.churn(400, seed=seed).astype(object)
    for name in churn.RAW_SCHEMA.names:
        spoil = rng.random(len(raw)) < 0.05
        raw.loc[spoil, name] = rng.choice(
            np.array([-5, None, "x", 1e12, 2.5, "gold"], dtype=object)
        )
    report = validate(raw, churn.RAW_SCHEMA)
    rows = [(c, r, int(m.sum())) for c, r, m in row_violations(raw, churn.RAW_SCHEMA)]
    assert rows == [(v.column, v.rule, v.count) for v in report.violations]
    assert rows, "the spoiled data must break some rule"


def test_row_violations_refuses_a_missing_column() -> None:
    with pytest.raises(KeyError, match="plan"):
        list(row_violations(frame([GOOD]).drop(columns="plan"), churn.RAW_SCHEMA))


def test_learning_path_rows_are_checked_against_its_own_schema() -> None:
    from modelops_features.synthetic_students import students

    raw = students(20, seed=1)
    raw.loc[4, "confidence"] = 9
    checked = check_rows(raw, learning_path.RAW_SCHEMA, ids(20), "student_id")
    assert np.flatnonzero(~checked.valid).tolist() == [4]
    assert checked.reasons[4] == ["confidence max: 9 is above 5"]


@pytest.mark.parametrize(
    ("value", "shown"),
    [(np.int64(-3), "-3"), (2.5, "2.5"), ("gold", "'gold'"), (None, "missing"),
     (float("nan"), "missing"), (np.float64("inf"), "inf"), (True, "True")],
)  # fmt: skip
def test_show(value, shown) -> None:
    assert show(value) == shown


@pytest.mark.parametrize(
    ("value", "integral", "text"),
    [(1.0, True, "1"), (1.0, False, "1.0"), (1.5, True, "1.5"), (np.nan, True, None),
     (None, False, None), ("x", False, "x"), (np.int64(7), True, "7")],
)  # fmt: skip
def test_as_text(value, integral, text) -> None:
    assert as_text(value, integral) == text


def test_a_rule_the_messages_do_not_know_still_names_itself() -> None:
    assert message(Field("x", "float"), "new_rule", 3.0) == "x new_rule: 3.0"


def test_rejects_table_keeps_source_row_id_reasons_and_raw_text() -> None:
    rows = [GOOD, {**GOOD, "plan": "gold", "support_tickets": 3.0}, GOOD, {**GOOD, "orders": -1}]
    raw = frame(rows)
    raw["support_tickets"] = raw["support_tickets"].astype(float)
    checked = check_rows(raw, churn.RAW_SCHEMA, ids(4), "customer_id")
    schema = rejects_schema("customer_id", churn.RAW_SCHEMA.names)
    table = rejects_table(
        checked, raw, ids(4), "in.parquet", 100, schema, frozenset({"support_tickets", "orders"})
    )
    out = table.to_pylist()
    assert [r["row"] for r in out] == [101, 103]
    assert [r["customer_id"] for r in out] == ["c1", "c3"]
    assert out[0]["source"] == "in.parquet"
    assert out[0]["plan"] == "gold" and out[0]["support_tickets"] == "3"
    assert out[1]["violations"] == "orders min: -1 is below 0"
    assert SEPARATOR not in out[0]["violations"]
    assert table.schema.names[:4] == ["source", "row", "customer_id", "violations"]
