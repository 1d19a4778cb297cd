"""Schema declaration, content hash and validation (modelops_features.schema)."""

from __future__ import annotations

import dataclasses
import hashlib
import json
import os
import subprocess
import sys

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from modelops_features.churn import FEATURE_SCHEMA, RAW_SCHEMA
from modelops_features.schema import (
    DataValidationError,
    Field,
    Schema,
    ValidationReport,
    Violation,
    ensure_valid,
    validate,
)

# --- content hash ----------------------------------------------------------------------

# The raw contract written out by hand, independently of the code that builds the
# canonical JSON. If this test fails, the API contract changed: that is a new
# schema version for every model trained on the old one.
RAW_CONTRACT_BY_HAND = [
    {"name": "tenure_months", "dtype": "int", "min": 0.0, "max": 600.0, "nullable": False},
    {"name": "monthly_spend", "dtype": "float", "min": 0.0, "max": 100000.0, "nullable": False},
    {"name": "total_spend", "dtype": "float", "min": 0.0, "max": 10000000.0, "nullable": True},
    {"name": "orders", "dtype": "int", "min": 0.0, "max": 100000.0, "nullable": False},
    {"name": "support_tickets", "dtype": "int", "min": 0.0, "max": 10000.0, "nullable": True},
    {"name": "plan", "dtype": "category", "categories": ["basic", "standard", "premium"]},
    {"name": "region", "dtype": "category", "categories": ["north", "south", "east", "west"]},
]
RAW_SCHEMA_HASH = "fef8db1f427f016ef49db88457809cfbf1ebc065cf402823e34319ac28381165"
FEATURE_SCHEMA_HASH = "210b4c13e849f39b8437ac1c1d8124fd145c7dc46751dec85cc60c51105c652b"


def _hand_canonical(fields: list[dict]) -> str:
    full = [
        {
            "name": f["name"],
            "dtype": f["dtype"],
            "min": f.get("min"),
            "max": f.get("max"),
            "categories": f.get("categories"),
            "nullable": f.get("nullable", False),
        }
        for f in fields
    ]
    return json.dumps(full, sort_keys=True, separators=(",", ":"), ensure_ascii=True)


def test_raw_schema_hash_matches_hand_written_contract():
    expected = hashlib.sha256(_hand_canonical(RAW_CONTRACT_BY_HAND).encode()).hexdigest()
    assert RAW_SCHEMA.content_hash() == expected == RAW_SCHEMA_HASH


def test_feature_schema_hash_is_pinned():
    assert FEATURE_SCHEMA.content_hash() == FEATURE_SCHEMA_HASH


def test_hash_is_stable_across_processes_and_hash_seeds():
    code = (
        "from modelops_features.churn import RAW_SCHEMA, FEATURE_SCHEMA;"
        "print(RAW_SCHEMA.content_hash(), FEATURE_SCHEMA.content_hash())"
    )
    outputs = set()
    for seed in ("12345",):
        env = {**os.environ, "PYTHONHASHSEED": seed}
        out = subprocess.run(
            [sys.executable, "-c", code], env=env, capture_output=True, text=True, check=True
        )
        outputs.add(out.stdout.strip())
    assert outputs == {f"{RAW_SCHEMA_HASH} {FEATURE_SCHEMA_HASH}"}


@pytest.mark.parametrize(
    "change",
    [
        {"min": 1},
        {"max": 601},
        {"nullable": True},
        {"dtype": "float"},
        {"name": "tenure"},
    ],
)
def test_hash_changes_when_a_contract_part_changes(change):
    first = RAW_SCHEMA.fields[0]
    changed = Schema(
        RAW_SCHEMA.name, (dataclasses.replace(first, **change), *RAW_SCHEMA.fields[1:])
    )
    assert changed.content_hash() != RAW_SCHEMA.content_hash()


def test_hash_changes_with_field_order_and_categories():
    reordered = Schema("x", tuple(reversed(RAW_SCHEMA.fields)))
    assert reordered.content_hash() != RAW_SCHEMA.content_hash()
    plan = RAW_SCHEMA.field("plan")
    more = dataclasses.replace(plan, categories=(*plan.categories, "enterprise"))
    fields = tuple(more if f.name == "plan" else f for f in RAW_SCHEMA.fields)
    assert Schema(RAW_SCHEMA.name, fields).content_hash() != RAW_SCHEMA.content_hash()


def test_hash_ignores_description_and_number_spelling():
    a = Schema("s", (Field("x", "float", min=0, max=10, description="one"),))
    b = Schema("s", (Field("x", "float", min=0.0, max=10.0, description="two"),))
    assert a.content_hash() == b.content_hash()


def test_round_trip_through_json():
    for schema in (RAW_SCHEMA, FEATURE_SCHEMA):
        again = Schema.from_dict(json.loads(json.dumps(schema.to_dict())))
        assert again == schema
        assert again.content_hash() == schema.content_hash()


def test_names_and_field_lookup():
    assert RAW_SCHEMA.names[0] == "tenure_months"
    assert RAW_SCHEMA.field("plan").dtype == "category"
    with pytest.raises(KeyError, match="nope"):
        RAW_SCHEMA.field("nope")


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"name": "x", "dtype": "decimal"}, "dtype"),
        ({"name": "x", "dtype": "category"}, "needs categories"),
        ({"name": "x", "dtype": "category", "categories": ("a", "a")}, "duplicate"),
        ({"name": "x", "dtype": "float", "categories": ("a",)}, "only apply"),
        ({"name": "x", "dtype": "string", "min": 0}, "numeric"),
        ({"name": "", "dtype": "float"}, "non-empty"),
    ],
)
def test_bad_field_declarations_are_refused(kwargs, message):
    with pytest.raises(ValueError, match=message):
        Field(**kwargs)


def test_duplicate_field_names_are_refused():
    with pytest.raises(ValueError, match="duplicate field names"):
        Schema("s", (Field("a", "float"), Field("a", "int")))


# --- validation ------------------------------------------------------------------------

SCHEMA = Schema(
    "test",
    (
        Field("n", "int", min=0, max=10),
        Field("x", "float", min=-1.0, max=1.0, nullable=True),
        Field("c", "category", categories=("a", "b")),
        Field("s", "string", nullable=True),
    ),
)


def _frame(**overrides) -> pd.DataFrame:
    base = {"n": [1, 2, 3], "x": [0.5, np.nan, -1.0], "c": ["a", "b", "a"], "s": ["u", None, "w"]}
    base.update(overrides)
    return pd.DataFrame(base)


def _rules(report: ValidationReport) -> list[tuple[str, str, int]]:
    return [(v.column, v.rule, v.count) for v in report.violations]


def test_valid_frame_has_no_violations_and_extra_columns_are_allowed():
    report = validate(_frame(customer_id=["a", "b", "c"]), SCHEMA)
    assert report.ok
    assert report.rows == 3
    assert "no violations" in report.summary()


@pytest.mark.parametrize(
    ("overrides", "expected"),
    [
        ({"n": [1, None, 3]}, [("n", "null", 1)]),
        ({"n": [1, 2.5, 3]}, [("n", "dtype", 1)]),
        ({"n": [1, "two", "3"]}, [("n", "dtype", 1)]),
        ({"n": [True, False, True]}, [("n", "dtype", 3)]),
        ({"n": [-1, 11, 12]}, [("n", "min", 1), ("n", "max", 2)]),
        ({"x": [np.inf, -np.inf, 0.0]}, [("x", "not_finite", 2)]),
        ({"x": [1.5, -1.0, 1.0]}, [("x", "max", 1)]),
        ({"x": ["0.5", "abc", None]}, [("x", "dtype", 1)]),
        ({"c": ["a", "z", None]}, [("c", "null", 1), ("c", "category", 1)]),
        ({"c": ["a", "A", 1]}, [("c", "category", 2)]),
        ({"s": ["u", 3, None]}, [("s", "dtype", 1)]),
    ],
)
def test_each_rule(overrides, expected):
    assert _rules(validate(_frame(**overrides), SCHEMA)) == expected


def test_missing_column_is_reported_and_other_columns_still_checked():
    df = _frame(c=["a", "zz", "b"]).drop(columns=["n"])
    assert _rules(validate(df, SCHEMA)) == [("n", "missing_column", 3), ("c", "category", 1)]


def test_every_violation_is_reported_together():
    df = pd.DataFrame(
        {
            "n": [1, None, "x", 99],
            "x": [np.inf, 2.0, 0.0, 0.0],
            "c": ["a", "q", "r", None],
        }
    )
    report = validate(df, SCHEMA)
    assert _rules(report) == [
        ("n", "dtype", 1),
        ("n", "null", 1),
        ("n", "max", 1),
        ("x", "not_finite", 1),
        ("x", "max", 1),
        ("c", "null", 1),
        ("c", "category", 2),
        ("s", "missing_column", 4),
    ]
    text = report.summary()
    assert text.startswith("data invalid: 4 rows, 8 violation(s):")
    for column in ("'n'", "'x'", "'c'", "'s'"):
        assert column in text


def test_examples_are_distinct_capped_and_json_friendly():
    values = ["p", "q", "q", "r", "s", "t", "u", "v"]
    report = validate(pd.DataFrame({"n": [1] * 8, "c": values, "s": ["a"] * 8}), SCHEMA)
    (violation,) = [v for v in report.violations if v.rule == "category"]
    assert violation.count == 8
    assert violation.examples == ["p", "q", "r", "s", "t"]
    inf_report = validate(_frame(x=[np.inf, -np.inf, 0.0]), SCHEMA)
    assert inf_report.violations[0].examples == ["inf", "-inf"]
    null_report = validate(_frame(c=["a", np.nan, None]), SCHEMA)
    assert null_report.violations[0].examples == [None]
    json.dumps(report.to_dict())
    json.dumps(inf_report.to_dict())


def test_nullable_int_column_and_string_dtype_are_read():
    df = pd.DataFrame(
        {
            "n": pd.array([1, None, 3], dtype="Int64"),
            "x": [0.1, 0.2, 0.3],
            "c": pd.array(["a", "b", "c"], dtype="string"),
            "s": ["a", "b", "c"],
        }
    )
    assert _rules(validate(df, SCHEMA)) == [("n", "null", 1), ("c", "category", 1)]


def test_empty_frame_is_valid():
    assert validate(_frame().iloc[:0], SCHEMA).ok


def test_error_carries_the_report():
    bad = _frame(n=[-5, 2, 3], c=["a", "a", "nope"])
    with pytest.raises(DataValidationError) as info:
        ensure_valid(bad, SCHEMA)
    err = info.value
    assert isinstance(err, ValueError)
    assert _rules(err.report) == [("n", "min", 1), ("c", "category", 1)]
    assert str(err) == err.report.summary()
    assert ensure_valid(_frame(), SCHEMA).ok


def test_report_to_dict_shape():
    report = ValidationReport([Violation("a", "null", 2, [None])], rows=5)
    assert report.to_dict() == {
        "ok": False,
        "rows": 5,
        "violations": [{"column": "a", "rule": "null", "count": 2, "examples": [None]}],
    }


# --- property: counts agree with a value-by-value reference ------------------------------


cell = st.one_of(
    st.none(),
    st.floats(allow_nan=True, allow_infinity=True),
    st.integers(-20, 20),
    st.sampled_from(["a", "b", "z", "1.5", "x"]),
)


def _reference_counts(values: list, f: Field) -> dict[str, int]:
    """Per-value rules for a numeric field, written plainly."""
    counts = dict.fromkeys(("dtype", "null", "not_finite", "min", "max"), 0)
    for v in values:
        if v is None or (isinstance(v, float) and np.isnan(v)):
            counts["null"] += not f.nullable
            continue
        try:
            number = float(v)
        except ValueError:
            counts["dtype"] += 1
            continue
        if np.isnan(number):  # the string "nan" reads as a missing number
            counts["dtype"] += 1
            continue
        if np.isinf(number):
            counts["not_finite"] += 1
            continue
        if f.dtype == "int" and number != int(number):
            counts["dtype"] += 1
            continue
        counts["min"] += f.min is not None and number < f.min
        counts["max"] += f.max is not None and number > f.max
    return {rule: n for rule, n in counts.items() if n}


@settings(max_examples=200, deadline=None)
@given(st.lists(cell, min_size=1, max_size=30), st.booleans(), st.sampled_from(["int", "float"]))
def test_numeric_violation_counts_match_a_plain_reference(values, nullable, dtype):
    f = Field("v", dtype, min=-5, max=5, nullable=nullable)
    frame = pd.DataFrame({"v": pd.Series(values, dtype=object)})
    report = validate(frame, Schema("s", (f,)))
    assert {v.rule: v.count for v in report.violations} == _reference_counts(values, f)
    for violation in report.violations:
        assert 1 <= len(violation.examples) <= 5
        json.dumps(violation.to_dict())
