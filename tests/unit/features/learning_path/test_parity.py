"""Batch vs single-record parity of the learning-path features and scores (hypothesis).

Training computes features with `compute` + `model_matrix` over a DataFrame; the
service uses `compute_one` + `model_row` per student. Features and model rows
must be bit-identical on any input (NaN, infinities, huge values, strings,
booleans, absent keys). Scores go through a matrix product whose BLAS kernel
may sum in another order for one row than for many, so they are compared to
1e-12 (relative), far below any ranking difference.
"""

from __future__ import annotations

import math
import struct

import numpy as np
import pandas as pd
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from modelops_features import learning_path as lp
from modelops_features.softmax import SoftmaxLinear
from modelops_features.synthetic_students import students

numeric_values = st.one_of(
    st.none(),
    st.sampled_from([0, 0.0, -0.0, 1, -1, 5e-324, 1e300, math.nan, math.inf, -math.inf]),
    st.floats(allow_nan=True, allow_infinity=True),
    st.floats(min_value=0, max_value=1e5),
    st.integers(min_value=-(10**12), max_value=10**12),
    st.booleans(),
    st.sampled_from(["12", " 3.5", "abc", "", "nan"]),
)
subject_values = st.one_of(
    st.none(), st.sampled_from([*lp.SUBJECTS, "Math", "", "__other__"]), st.integers()
)


@st.composite
def raw_records(draw):
    record = {name: draw(numeric_values) for name in lp.RAW_NUMERIC}
    record["last_subject"] = draw(subject_values)
    record["student_id"] = draw(st.text(max_size=5))
    for name in draw(st.sets(st.sampled_from([*lp.RAW_NUMERIC, "last_subject"]), max_size=2)):
        del record[name]
    return record


def _bits(value: object) -> object:
    if isinstance(value, float):
        return "nan" if math.isnan(value) else struct.pack("<d", value)
    return value


def _identical(a: np.ndarray, b: np.ndarray) -> None:
    assert a.shape == b.shape and a.dtype == b.dtype == np.float64
    nan_a, nan_b = np.isnan(a), np.isnan(b)
    assert np.array_equal(nan_a, nan_b)
    assert np.array_equal(a.view(np.uint64)[~nan_a], b.view(np.uint64)[~nan_b])


def _assert_parity(records: list[dict]) -> None:
    frame = lp.compute(pd.DataFrame(records))
    matrix = lp.model_matrix(frame)
    _identical(matrix, lp.model_matrix_from_records(records))
    _identical(matrix, lp.model_matrix_from_arrays(lp.feature_arrays_from_records(records)))
    for i, record in enumerate(records):
        one = lp.compute_one(record)
        batch_row = frame.iloc[i].to_dict()
        assert {k: _bits(v) for k, v in one.items()} == {
            k: _bits(float(v) if not isinstance(v, str) else v) for k, v in batch_row.items()
        }
        _identical(lp.model_row(one), matrix[i : i + 1])


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.lists(raw_records(), min_size=1, max_size=8))
def test_batch_and_single_paths_are_bit_identical(records: list[dict]) -> None:
    _assert_parity(records)


def test_parity_on_generated_students_and_scores() -> None:
    frame = students(1000, seed=9)
    records = [
        {k: (None if isinstance(v, float) and math.isnan(v) else v) for k, v in r.items()}
        for r in frame.astype(object).where(frame.notna(), None).to_dict(orient="records")
    ]
    _assert_parity(records)
    matrix = lp.model_matrix(lp.compute(frame))
    rng = np.random.default_rng(0)
    center, scale = SoftmaxLinear.fit_standardization(matrix)
    scorer = SoftmaxLinear(
        classes=lp.MODULES,
        columns=tuple(lp.MODEL_COLUMNS),
        center=center,
        scale=scale,
        coef=rng.normal(size=(len(lp.MODULES), matrix.shape[1])),
        intercept=rng.normal(size=len(lp.MODULES)),
    )
    batch = scorer.proba(matrix)
    for i in range(0, 1000, 97):
        single = scorer.proba(lp.model_row(lp.compute_one(records[i])))
        np.testing.assert_allclose(single[0], batch[i], rtol=1e-12, atol=0)
        assert np.argmax(single[0]) == np.argmax(batch[i])
