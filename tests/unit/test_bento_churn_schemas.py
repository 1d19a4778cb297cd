"""The churn API's pydantic record model mirrors RAW_SCHEMA field by field."""

from __future__ import annotations

import math

import pytest
from pydantic import TypeAdapter, ValidationError

from modelops_bentos.churn import schemas
from modelops_bentos.churn.examples import SAMPLE_RECORD
from modelops_features.churn import RAW_SCHEMA

Record = schemas.ChurnRecord


def error_locs(record: dict) -> list[tuple]:
    with pytest.raises(ValidationError) as info:
        Record.model_validate(record)
    return [tuple(e["loc"]) for e in info.value.errors()]


def test_sample_record_is_valid() -> None:
    parsed = Record.model_validate(SAMPLE_RECORD)
    assert parsed.customer_id == SAMPLE_RECORD["customer_id"]


def test_every_schema_field_is_in_the_model_and_customer_id_is_optional() -> None:
    assert set(Record.model_fields) == {*RAW_SCHEMA.names, "customer_id"}
    without_id = {k: v for k, v in SAMPLE_RECORD.items() if k != "customer_id"}
    assert Record.model_validate(without_id).customer_id is None


@pytest.mark.parametrize("field", [f for f in RAW_SCHEMA.fields if f.dtype in ("int", "float")])
def test_numeric_bounds_are_enforced_and_named(field) -> None:
    if field.min is not None:
        Record.model_validate({**SAMPLE_RECORD, field.name: field.min})
        below = field.min - 1
        assert error_locs({**SAMPLE_RECORD, field.name: below}) == [(field.name,)]
    if field.max is not None:
        Record.model_validate({**SAMPLE_RECORD, field.name: field.max})
        assert error_locs({**SAMPLE_RECORD, field.name: field.max + 1}) == [(field.name,)]
    assert error_locs({**SAMPLE_RECORD, field.name: "many"}) == [(field.name,)]
    assert error_locs({**SAMPLE_RECORD, field.name: 10**40}) == [(field.name,)]


@pytest.mark.parametrize("field", [f for f in RAW_SCHEMA.fields if f.dtype == "float"])
@pytest.mark.parametrize("value", [math.nan, math.inf, -math.inf])
def test_non_finite_floats_are_refused(field, value) -> None:
    assert error_locs({**SAMPLE_RECORD, field.name: value}) == [(field.name,)]


@pytest.mark.parametrize("field", [f for f in RAW_SCHEMA.fields if f.dtype == "category"])
def test_categories_are_exactly_the_schema_ones(field) -> None:
    for category in field.categories:
        Record.model_validate({**SAMPLE_RECORD, field.name: category})
    assert error_locs({**SAMPLE_RECORD, field.name: "not-a-category"}) == [(field.name,)]
    assert error_locs({**SAMPLE_RECORD, field.name: field.categories[0].upper()}) == [(field.name,)]


@pytest.mark.parametrize("field", RAW_SCHEMA.fields, ids=lambda f: f.name)
def test_nullability_and_presence_follow_the_schema(field) -> None:
    with_null = {**SAMPLE_RECORD, field.name: None}
    without = {k: v for k, v in SAMPLE_RECORD.items() if k != field.name}
    if field.nullable:
        assert getattr(Record.model_validate(with_null), field.name) is None
        assert getattr(Record.model_validate(without), field.name) is None
    else:
        assert error_locs(with_null) == [(field.name,)]
        assert error_locs(without) == [(field.name,)]


def test_unknown_fields_are_refused_by_name() -> None:
    assert error_locs({**SAMPLE_RECORD, "tenure_month": 3}) == [("tenure_month",)]


def test_record_count_limit(monkeypatch: pytest.MonkeyPatch) -> None:
    adapter = TypeAdapter(schemas.Records)
    schemas.configure_max_records({"MODELOPS_MAX_RECORDS": "2"})
    try:
        assert len(adapter.validate_python([SAMPLE_RECORD] * 2)) == 2
        with pytest.raises(ValidationError) as info:
            adapter.validate_python([SAMPLE_RECORD] * 3)
        (error,) = info.value.errors()
        assert error["type"] == "too_many_records"
        assert "at most 2 records" in error["msg"]
    finally:
        schemas.configure_max_records({})
    assert schemas.max_records() == schemas.DEFAULT_MAX_RECORDS


@pytest.mark.parametrize(("raw", "expected"), [(None, 1000), ("", 1000), ("5", 5), (" 42 ", 42)])
def test_parse_max_records(raw, expected) -> None:
    assert schemas.parse_max_records(raw) == expected


@pytest.mark.parametrize("raw", ["0", "-3", "ten", "1.5"])
def test_parse_max_records_refuses_bad_values(raw) -> None:
    with pytest.raises(ValueError, match="MODELOPS_MAX_RECORDS"):
        schemas.parse_max_records(raw)
