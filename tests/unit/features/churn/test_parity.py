"""Batch vs single-record parity of the churn features, as hypothesis properties.

Training computes features with `compute` over a DataFrame; the bento computes them
record by record with `compute_one` + `model_row` (or `model_matrix_from_records` for
batches). A model is only as good as the agreement of these paths, so they must be
bit-identical on any input, including zeros, NaN, infinities and extreme magnitudes.
"""

from __future__ import annotations

import math
import struct

import numpy as np
import pandas as pd
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from modelops_features import synthetic
from modelops_features.churn import (
    FEATURE_NAMES,
    PLANS,
    RAW_NUMERIC,
    REGIONS,
    compute,
    compute_one,
    feature_arrays_from_records,
    feature_columns,
    model_matrix,
    model_matrix_from_arrays,
    model_matrix_from_records,
    model_row,
)

EXTREMES = [0, 0.0, -0.0, 1, -1, 5e-324, 1e-300, 1e300, 1.7976931348623157e308, 2**53 + 1]
numeric_values = st.one_of(
    st.none(),
    st.sampled_from([*EXTREMES, math.nan, math.inf, -math.inf]),
    st.floats(allow_nan=True, allow_infinity=True),
    st.floats(min_value=0, max_value=1e6),
    st.integers(min_value=-(10**12), max_value=10**12),
    st.booleans(),
    st.sampled_from(["12", " 3.5", "abc", "", "nan", "inf"]),
)
category_values = st.one_of(
    st.none(),
    st.sampled_from([*PLANS, *REGIONS, "", "Basic", "__other__", "unknown"]),
    st.integers(),
    st.floats(allow_nan=True),
)


@st.composite
def raw_records(draw):
    record = {name: draw(numeric_values) for name in RAW_NUMERIC}
    record["plan"] = draw(category_values)
    record["region"] = draw(category_values)
    record["customer_id"] = draw(st.text(max_size=5))
    # Absent keys are how a client omits optional fields.
    for name in draw(st.sets(st.sampled_from([*RAW_NUMERIC, "plan", "region"]), max_size=2)):
        del record[name]
    return record


def _bits(value) -> object:
    """Bit pattern of a float (every NaN counts as one), or the value itself."""
    if isinstance(value, float):
        return "nan" if math.isnan(value) else struct.pack("<d", value)
    return value


def _assert_identical_matrices(a: np.ndarray, b: np.ndarray) -> None:
    assert a.shape == b.shape and a.dtype == b.dtype == np.float32
    nan_a, nan_b = np.isnan(a), np.isnan(b)
    assert np.array_equal(nan_a, nan_b)
    # Compare bit patterns so that 0.0 and -0.0 would count as different.
    assert np.array_equal(a.view(np.uint32)[~nan_a], b.view(np.uint32)[~nan_b])


def _assert_parity(records: list[dict]) -> None:
    frame = compute(pd.DataFrame(records))
    matrix = model_matrix(frame)
    for i, record in enumerate(records):
        one = compute_one(record)
        assert list(one) == FEATURE_NAMES
        batch_row = frame.iloc[i].to_dict()
        for name in FEATURE_NAMES:
            assert type(one[name]) in (float, str), name
            assert _bits(one[name]) == _bits(batch_row[name]), (name, record)
        _assert_identical_matrices(model_row(one), matrix[i : i + 1])
    _assert_identical_matrices(model_matrix_from_records(records), matrix)
    _assert_arrays_path_matches(records, frame, matrix)


def _assert_arrays_path_matches(records: list[dict], frame: pd.DataFrame, matrix) -> None:
    # The batch serving path computes the arrays once and uses them for both the
    # feature metrics (feature_columns) and the model input (model_matrix_from_arrays).
    arrays = feature_arrays_from_records(records)
    columns = feature_columns(arrays)
    assert list(columns) == FEATURE_NAMES
    for name in FEATURE_NAMES:
        got = [_bits(v) for v in columns[name].tolist()]
        assert got == [_bits(v) for v in frame[name].tolist()], name
    _assert_identical_matrices(model_matrix_from_arrays(arrays), matrix)


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.lists(raw_records(), min_size=1, max_size=12))
def test_batch_and_single_record_paths_are_identical(records):
    _assert_parity(records)


@settings(max_examples=100, deadline=None)
@given(st.lists(raw_records(), min_size=1, max_size=1))
def test_single_row_frames_match_too(records):
    _assert_parity(records)


def test_parity_on_synthetic_data_with_pandas_dtypes():
    # The training path reads typed columns (int64, float64 with NaN, nullable Int64,
    # str); the serving path gets JSON-like Python values. Cover that pairing too.
    raw = synthetic.churn(400, seed=7, shift=0.5)
    frame = compute(raw)
    matrix = model_matrix(frame)
    records = raw.astype(object).where(raw.notna(), None).to_dict("records")
    for i, record in enumerate(records):
        one = compute_one(record)
        assert {k: _bits(v) for k, v in one.items()} == {
            k: _bits(v) for k, v in frame.iloc[i].to_dict().items()
        }
        _assert_identical_matrices(model_row(one), matrix[i : i + 1])
    _assert_identical_matrices(model_matrix_from_records(records), matrix)


@settings(max_examples=30, deadline=None)
@given(st.lists(raw_records(), min_size=1, max_size=6))
def test_large_batches_take_the_vectorised_branch_and_still_match(records):
    # Over 256 rows the model matrix looks categories up with pandas indexes
    # instead of a dict per value; the rows must not change.
    tiled = (records * (300 // len(records) + 1))[:300]
    matrix = model_matrix(compute(pd.DataFrame(tiled)))
    _assert_identical_matrices(model_matrix_from_records(tiled), matrix)
    for i, record in enumerate(records):
        _assert_identical_matrices(model_row(compute_one(record)), matrix[i : i + 1])


def test_large_batches_without_pandas_never_import_it_and_still_match(monkeypatch):
    # A serving process has no pandas: its big batches take the dict lookup
    # instead of importing pandas (a ~0.8 s stall of the worker, and its memory).
    import sys

    records = synthetic.churn(600, seed=11).astype(object)
    records = records.where(records.notna(), None).to_dict("records")
    records[5]["plan"] = "gold"  # undeclared: the all-zero one-hot row
    records[6]["region"] = None
    with_pandas = model_matrix_from_records(records)  # > 256 rows: pandas indexes
    monkeypatch.delitem(sys.modules, "pandas")
    without = model_matrix_from_records(records)
    assert "pandas" not in sys.modules, "the serving path imported pandas"
    _assert_identical_matrices(without, with_pandas)
