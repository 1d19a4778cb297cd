"""numeric_block_from_records: numpy's one conversion reads exactly what `to_float` reads."""

from __future__ import annotations

import math

import numpy as np
from hypothesis import given
from hypothesis import strategies as st

from modelops_features.arrays import numeric_block_from_records, to_float

NAMES = ("a", "b", "c")
values = st.one_of(
    st.none(),
    st.floats(allow_nan=True, allow_infinity=True),
    st.integers(min_value=-(2**70), max_value=2**70),
    st.booleans(),
    st.sampled_from(["12", " 3.5 ", "abc", "", "nan", "-inf", b"7"]),
    st.lists(st.integers(), min_size=2, max_size=2),
    st.just({"x": 1}),
)


def per_value(records: list[dict], names: tuple[str, ...]) -> np.ndarray:
    return np.array(
        [[to_float(r.get(name)) for r in records] for name in names], dtype=np.float64
    ).reshape(len(names), len(records))


@given(st.lists(st.fixed_dictionaries({}, optional=dict.fromkeys(NAMES, values)), max_size=8))
def test_the_block_equals_reading_each_value(records: list[dict]) -> None:
    block = numeric_block_from_records(records, NAMES)
    assert block.shape == (len(NAMES), len(records))
    assert block.dtype == np.float64
    np.testing.assert_array_equal(block, per_value(records, NAMES))


def test_values_that_are_all_sequences_of_one_length_are_missing_not_a_third_axis() -> None:
    records = [{"a": [1, 2], "b": [3, 4], "c": [5, 6]}] * 3
    block = numeric_block_from_records(records, NAMES)
    assert block.shape == (3, 3)
    assert all(math.isnan(v) for v in block.ravel())


def test_no_records_is_an_empty_block_per_name() -> None:
    assert numeric_block_from_records([], NAMES).shape == (3, 0)
