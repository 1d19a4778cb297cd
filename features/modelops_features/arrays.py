"""Array helpers shared by every model's feature definitions (churn, learning path).

Each model defines its features once, as numpy functions over arrays with one
column per record; these helpers read raw DataFrames and raw records into such
arrays and turn the results back into columns or a single record. Because every
model reads its input through the same helpers, "missing", "not a number" and
"not a declared category" mean the same thing everywhere (features/README.md).
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Mapping, Sequence
from typing import TYPE_CHECKING, Any, NamedTuple

import numpy as np

if TYPE_CHECKING:
    # The record paths (serving) need numpy only; pandas (~60 MB with pyarrow)
    # is imported by the frame paths, which are given frames.
    import pandas as pd

# The label of a missing or undeclared categorical value; profiles count it in a
# bucket of its own and the model matrices encode it as the all-zero one-hot row.
OTHER = "__other__"


class FeatureArrays(NamedTuple):
    """Computed features as arrays, one column per record (the shape every path shares)."""

    numeric: np.ndarray  # (number of numeric features, n) float64
    categorical: dict[str, np.ndarray]  # name -> object array of str


# --- numeric definitions -------------------------------------------------------------


def safe_ratio(num: np.ndarray, den: np.ndarray) -> np.ndarray:
    """num / den, with 0 where den == 0 and NaN where an input is NaN (den != 0)."""
    out = np.zeros(np.shape(num))
    # Dividing only where den != 0 both sets the zero rule and avoids 0/0 warnings.
    return np.divide(num, den, out=out, where=den != 0)


def per_period(values: np.ndarray, periods: np.ndarray) -> np.ndarray:
    """values / max(periods, 1): a period that has begun (month 0, day 0) counts as one."""
    return values / np.maximum(periods, 1.0)


# --- readers of raw values ----------------------------------------------------------


def to_float(value: Any) -> float:
    """One raw numeric value as float; missing or non-numeric values become NaN."""
    if type(value) is float:
        return value
    if isinstance(value, str):
        value = value.strip()
    try:
        return float(value)
    except (TypeError, ValueError, OverflowError):
        return math.nan


def category_or_other(value: Any, declared: frozenset[str] | Mapping[str, Any]) -> str:
    """One raw categorical value; anything but a declared category (exact match) is OTHER."""
    return value if isinstance(value, str) and value in declared else OTHER


def object_array(values: Iterable[str]) -> np.ndarray:
    """A 1-D object array of the values (np.array would make a fixed-width str array)."""
    values = list(values)
    out = np.empty(len(values), dtype=object)
    out[:] = values
    return out


def numeric_column(df: pd.DataFrame, name: str) -> np.ndarray:
    """Column `name` as float64, NaN where missing; an absent column is all NaN."""
    import pandas as pd

    if name not in df.columns:
        return np.full(len(df), np.nan)
    column = df[name]
    if pd.api.types.is_numeric_dtype(column.dtype) and not pd.api.types.is_bool_dtype(column):
        return column.to_numpy(dtype=np.float64, na_value=np.nan)
    # Mixed, boolean or text columns go value by value through the reader of the
    # single-record path, so both paths agree on every odd input.
    return np.fromiter((to_float(v) for v in column), dtype=np.float64, count=len(column))


def numeric_block_from_frame(df: pd.DataFrame, names: Sequence[str]) -> np.ndarray:
    """float64 of shape (len(names), len(df)): one row per named column."""
    block = np.empty((len(names), len(df)))
    for i, name in enumerate(names):
        block[i] = numeric_column(df, name)
    return block


def numeric_block_from_records(
    records: Sequence[Mapping[str, Any]], names: Sequence[str]
) -> np.ndarray:
    """float64 of shape (len(names), len(records)), read as `to_float` reads each value.

    numpy's own conversion reads every value `to_float` accepts the same way
    (float(), so None -> NaN, "3.5" -> 3.5, True -> 1.0) and raises on any value
    `to_float` maps to NaN ("abc", a list, 1e400 as an int, a complex); then the
    whole block is read again value by value. Validated API records (numbers and
    nulls) never take that path, and skipping a Python call per value is ~3x
    faster for a 100-record request. The parity tests hold the two readings equal.
    """
    # One list per column: numpy converts 5 lists of 100 values ~2x faster than
    # 100 lists of 5, and the result is already (names, records).
    columns = [[r.get(name) for r in records] for name in names]
    try:
        block = np.array(columns, dtype=np.float64)
    except (TypeError, ValueError, OverflowError):
        return _read_each(columns, len(records))
    if block.shape != (len(names), len(records)):
        # Every value a sequence of one length: numpy read them as a third axis.
        return _read_each(columns, len(records))
    return block


def _read_each(columns: list[list[Any]], n: int) -> np.ndarray:
    """`to_float` of every value: the exact reading, one Python call per value."""
    values = [[to_float(v) for v in column] for column in columns]
    return np.array(values, dtype=np.float64).reshape(len(columns), n)


def category_codes(categories: Sequence[str], values: Any) -> np.ndarray:
    """Index of each value in `categories`, -1 for anything else (missing, undeclared)."""
    # A hash lookup over the whole column: no Python loop (iterating an Arrow-backed
    # string column costs microseconds per value). Only a string equal to a declared
    # category is found, as in category_or_other.
    import pandas as pd

    return pd.Index(list(categories), dtype=object).get_indexer(pd.Index(values, dtype=object))


def category_labels(df: pd.DataFrame, name: str, categories: Sequence[str]) -> np.ndarray:
    """Column `name` as declared labels or OTHER (object array); absent column -> all OTHER."""
    if name not in df.columns:
        return np.full(len(df), OTHER, dtype=object)
    codes = category_codes(categories, df[name])
    labels = np.array([*categories, OTHER], dtype=object)
    return labels[np.where(codes < 0, len(categories), codes)]


def category_labels_from_records(
    records: Sequence[Mapping[str, Any]], name: str, declared: frozenset[str]
) -> np.ndarray:
    """Field `name` of every record as a declared label or OTHER (object array)."""
    return object_array(category_or_other(r.get(name), declared) for r in records)


# --- results back to columns and records ---------------------------------------------


def feature_columns(
    arrays: FeatureArrays, numeric_names: Sequence[str], feature_names: Sequence[str]
) -> dict[str, np.ndarray]:
    """Feature name -> its array over the records, in `feature_names` order."""
    columns: dict[str, np.ndarray] = dict(zip(numeric_names, arrays.numeric, strict=True))
    columns.update(arrays.categorical)
    return {name: columns[name] for name in feature_names}


def first_record(
    arrays: FeatureArrays, numeric_names: Sequence[str], feature_names: Sequence[str]
) -> dict[str, float | str]:
    """The first record's features as Python floats and strings, in `feature_names` order."""
    values: dict[str, float | str] = dict(
        zip(numeric_names, arrays.numeric[:, 0].tolist(), strict=True)
    )
    for name, labels in arrays.categorical.items():
        values[name] = labels[0]
    return {name: values[name] for name in feature_names}
