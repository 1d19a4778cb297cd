"""The churn model's raw contract and feature definitions, defined once.

Every feature is a function over numpy arrays (`_derive`). Three paths call it:

* `compute(df)` — training and batch scoring, vectorised over a whole DataFrame;
* `compute_one(record)` — the serving path, one request record at a time, without
  pandas (a one-row DataFrame costs ~1 ms; this path costs microseconds);
* `model_matrix_from_records(records)` — a batch request without pandas.

Because all three run the very same array code, the values are bit-identical; the
hypothesis property tests in tests/unit/test_features_churn_parity.py check it.

Missing values (documented in features/README.md):

* raw numeric values that are missing or do not read as numbers become NaN;
* pass-through numeric features keep NaN (XGBoost routes missing values natively);
* ratios are NaN when an input is NaN, except that a zero denominator gives 0
  whatever the numerator ("no orders" means an average order value of 0);
* per-month rates divide by max(tenure_months, 1): the current month counts;
* a categorical value that is missing or not a declared category becomes
  "__other__", which one-hot encodes as all zeros in the model matrix.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from typing import Any, NamedTuple

import numpy as np
import pandas as pd

from modelops_features.schema import Field, Schema

OTHER = "__other__"
PLANS: tuple[str, ...] = ("basic", "standard", "premium")
REGIONS: tuple[str, ...] = ("north", "south", "east", "west")
TENURE_BUCKETS: tuple[str, ...] = ("0-6", "6-12", "12-24", "24+")
# Upper-exclusive month edges of TENURE_BUCKETS: [0, 6), [6, 12), [12, 24), [24, inf).
TENURE_BUCKET_EDGES = np.array([6.0, 12.0, 24.0])
NEW_CUSTOMER_MONTHS = 3.0

TARGET = "churned"
ID_COLUMN = "customer_id"
SEGMENT_COLUMNS = ("plan", "region")

RAW_NUMERIC: tuple[str, ...] = (
    "tenure_months",
    "monthly_spend",
    "total_spend",
    "orders",
    "support_tickets",
)
RAW_CATEGORICAL: dict[str, tuple[str, ...]] = {"plan": PLANS, "region": REGIONS}

RAW_SCHEMA = Schema(
    name="churn_raw",
    fields=(
        Field("tenure_months", "int", min=0, max=600, description="Whole months as a customer."),
        Field("monthly_spend", "float", min=0, max=100_000, description="Spend in the last month."),
        Field(
            "total_spend",
            "float",
            min=0,
            max=10_000_000,
            nullable=True,
            description="Lifetime spend; missing for accounts migrated without history.",
        ),
        Field("orders", "int", min=0, max=100_000, description="Lifetime number of orders."),
        Field(
            "support_tickets",
            "int",
            min=0,
            max=10_000,
            nullable=True,
            description="Lifetime support tickets; missing when the help desk has no record.",
        ),
        Field("plan", "category", categories=PLANS, description="Subscription plan."),
        Field("region", "category", categories=REGIONS, description="Sales region."),
    ),
)

# The derived numeric features, in model column order after the raw pass-throughs.
DERIVED_NUMERIC: tuple[str, ...] = (
    "avg_order_value",
    "spend_per_tenure_month",
    "spend_ratio",
    "tickets_per_month",
    "tickets_per_order",
    "is_new_customer",
)
NUMERIC_FEATURES: tuple[str, ...] = RAW_NUMERIC + DERIVED_NUMERIC
CATEGORICAL_FEATURES: dict[str, tuple[str, ...]] = {
    "tenure_bucket": TENURE_BUCKETS,
    "plan": PLANS,
    "region": REGIONS,
}

FEATURE_SCHEMA = Schema(
    name="churn_features",
    fields=(
        Field("tenure_months", "float", min=0, nullable=True, description="Raw, passed through."),
        Field("monthly_spend", "float", min=0, nullable=True, description="Raw, passed through."),
        Field("total_spend", "float", min=0, nullable=True, description="Raw, passed through."),
        Field("orders", "float", min=0, nullable=True, description="Raw, passed through."),
        Field("support_tickets", "float", min=0, nullable=True, description="Raw, passed through."),
        Field(
            "avg_order_value",
            "float",
            min=0,
            nullable=True,
            description="total_spend / orders; 0 when orders == 0.",
        ),
        Field(
            "spend_per_tenure_month",
            "float",
            min=0,
            nullable=True,
            description="total_spend / max(tenure_months, 1).",
        ),
        Field(
            "spend_ratio",
            "float",
            min=0,
            nullable=True,
            description="monthly_spend / spend_per_tenure_month; 0 when the average is 0. "
            "Below 1: the customer spends less now than on average (a churn signal).",
        ),
        Field(
            "tickets_per_month",
            "float",
            min=0,
            nullable=True,
            description="support_tickets / max(tenure_months, 1).",
        ),
        Field(
            "tickets_per_order",
            "float",
            min=0,
            nullable=True,
            description="support_tickets / orders; 0 when orders == 0.",
        ),
        Field(
            "is_new_customer",
            "int",
            min=0,
            max=1,
            nullable=True,
            description=f"1 when 0 <= tenure_months < {NEW_CUSTOMER_MONTHS:g}, 0 when above; "
            "missing when tenure is missing, negative or infinite.",
        ),
        Field(
            "tenure_bucket",
            "category",
            categories=(*TENURE_BUCKETS, OTHER),
            description="Tenure band [0,6) [6,12) [12,24) [24,inf); __other__ when tenure "
            "is missing, negative or infinite.",
        ),
        Field(
            "plan",
            "category",
            categories=(*PLANS, OTHER),
            description="Raw plan; __other__ when missing or unknown.",
        ),
        Field(
            "region",
            "category",
            categories=(*REGIONS, OTHER),
            description="Raw region; __other__ when missing or unknown.",
        ),
    ),
)
FEATURE_NAMES: list[str] = FEATURE_SCHEMA.names

# One-hot columns list only the declared categories: "__other__" is the all-zero
# row, so an unseen value never lands on a column the model learned for something else.
MODEL_COLUMNS: list[str] = list(NUMERIC_FEATURES) + [
    f"{name}={value}" for name, values in CATEGORICAL_FEATURES.items() for value in values
]
_N_NUMERIC = len(NUMERIC_FEATURES)
_ONEHOT_INDEX: dict[tuple[str, str], int] = {
    (name, value): _N_NUMERIC + i
    for i, (name, value) in enumerate(
        (name, value) for name, values in CATEGORICAL_FEATURES.items() for value in values
    )
}
_CATEGORY_SETS = {name: frozenset(values) for name, values in RAW_CATEGORICAL.items()}
_CATEGORY_CODE = {
    name: {value: i for i, value in enumerate(values)}
    for name, values in CATEGORICAL_FEATURES.items()
}
_SMALL_BATCH = 256


# --- the definitions ---------------------------------------------------------------
# Each function maps arrays to arrays with a fixed, small number of numpy calls:
# on a one-record array a numpy call costs about a microsecond, so the serving path
# stays fast because the definitions do little, not because it has its own copy.


def safe_ratio(num: np.ndarray, den: np.ndarray) -> np.ndarray:
    """num / den, with 0 where den == 0 and NaN where an input is NaN (den != 0)."""
    out = np.zeros(np.shape(num))
    # Dividing only where den != 0 both sets the zero rule and avoids 0/0 warnings.
    return np.divide(num, den, out=out, where=den != 0)


def per_month(values: np.ndarray, tenure: np.ndarray) -> np.ndarray:
    """values / max(tenure, 1): a customer in month 0 has lived one (partial) month."""
    return values / np.maximum(tenure, 1.0)


# Lookups over sorted thresholds: np.searchsorted(side="right") returns, per value,
# how many thresholds are <= it, and sorts NaN after +inf, so one vectorised call
# maps every value (negative, NaN, inf included) to a table row.
_TENURE_THRESHOLDS = np.array([0.0, *TENURE_BUCKET_EDGES, np.inf])
_TENURE_LABELS = np.array([OTHER, *TENURE_BUCKETS, OTHER], dtype=object)
_NEW_THRESHOLDS = np.array([0.0, NEW_CUSTOMER_MONTHS, np.inf])
_NEW_VALUES = np.array([np.nan, 1.0, 0.0, np.nan])


def tenure_bucket(tenure: np.ndarray) -> np.ndarray:
    """Band label; tenure that is negative, infinite or NaN (all invalid) -> "__other__"."""
    return _TENURE_LABELS[np.searchsorted(_TENURE_THRESHOLDS, tenure, side="right")]


def is_new_customer(tenure: np.ndarray) -> np.ndarray:
    """1.0 when 0 <= tenure < NEW_CUSTOMER_MONTHS, 0.0 when finite and above; else NaN."""
    return _NEW_VALUES[np.searchsorted(_NEW_THRESHOLDS, tenure, side="right")]


# The derived numeric features as tables: each row of a table is one feature's
# whole definition. Rows of one table are computed together, in one numpy call
# per operation, which keeps the single-record path to a handful of calls.
PER_MONTH_FEATURES: tuple[tuple[str, str], ...] = (
    # (feature, numerator): numerator / max(tenure_months, 1)
    ("spend_per_tenure_month", "total_spend"),
    ("tickets_per_month", "support_tickets"),
)
RATIO_FEATURES: tuple[tuple[str, str, str], ...] = (
    # (feature, numerator, denominator): safe_ratio(numerator, denominator)
    ("avg_order_value", "total_spend", "orders"),
    ("spend_ratio", "monthly_spend", "spend_per_tenure_month"),
    ("tickets_per_order", "support_tickets", "orders"),
)
# is_new_customer comes from is_new_customer(tenure_months).

_ROW = {name: i for i, name in enumerate(NUMERIC_FEATURES)}
_TENURE = _ROW["tenure_months"]
_PM_OUT = np.array([_ROW[out] for out, _ in PER_MONTH_FEATURES])
_PM_NUM = np.array([_ROW[num] for _, num in PER_MONTH_FEATURES])
_RATIO_OUT = np.array([_ROW[out] for out, _, _ in RATIO_FEATURES])
_RATIO_NUM = np.array([_ROW[num] for _, num, _ in RATIO_FEATURES])
_RATIO_DEN = np.array([_ROW[den] for _, _, den in RATIO_FEATURES])
# Each table is computed in one step, per-month first: a per-month feature must not
# read a ratio, and a ratio must not read another ratio (it would not exist yet).
_reads_too_late = (set(_PM_NUM) & set(_RATIO_OUT)) | (set(_RATIO_NUM) | set(_RATIO_DEN)) & set(
    _RATIO_OUT
)
if _reads_too_late:
    raise RuntimeError("churn feature tables read features computed after them")


def _derive(raw_numeric: np.ndarray, categories: Mapping[str, np.ndarray]) -> FeatureArrays:
    """All features from raw arrays.

    `raw_numeric` is float64 of shape (len(RAW_NUMERIC), n), rows in RAW_NUMERIC order;
    `categories` holds the raw categorical arrays, already normalised to declared
    values or OTHER. Returns the numeric block (rows in NUMERIC_FEATURES order) and
    the categorical arrays.
    """
    block = np.empty((len(NUMERIC_FEATURES), raw_numeric.shape[1]))
    block[: len(RAW_NUMERIC)] = raw_numeric  # pass-throughs, NaN kept
    tenure = block[_TENURE]
    # Overflow to inf and inf/inf are possible on extreme inputs; the results stay
    # deterministic, and warnings would only flood a serving log.
    with np.errstate(divide="ignore", invalid="ignore", over="ignore"):
        block[_PM_OUT] = per_month(block[_PM_NUM], tenure)
        block[_RATIO_OUT] = safe_ratio(block[_RATIO_NUM], block[_RATIO_DEN])
    block[_ROW["is_new_customer"]] = is_new_customer(tenure)
    labels = {"tenure_bucket": tenure_bucket(tenure), **categories}
    return FeatureArrays(block, labels)


class FeatureArrays(NamedTuple):
    """Computed features as arrays, one column per record (the shape every path shares)."""

    numeric: np.ndarray  # (len(NUMERIC_FEATURES), n) float64
    categorical: dict[str, np.ndarray]  # name -> object array of str


# --- raw input readers (one per path, same semantics) ---------------------------------


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


def to_category(name: str, value: Any) -> str:
    """One raw categorical value; missing or undeclared values become OTHER."""
    return value if isinstance(value, str) and value in _CATEGORY_SETS[name] else OTHER


def _numeric_column(df: pd.DataFrame, name: str) -> np.ndarray:
    if name not in df.columns:
        return np.full(len(df), np.nan)
    column = df[name]
    if pd.api.types.is_numeric_dtype(column.dtype) and not pd.api.types.is_bool_dtype(column):
        return column.to_numpy(dtype=np.float64, na_value=np.nan)
    # Mixed, boolean or text columns go value by value through the reader of the
    # single-record path, so both paths agree on every odd input.
    return np.fromiter((to_float(v) for v in column), dtype=np.float64, count=len(column))


def _category_column(df: pd.DataFrame, name: str) -> np.ndarray:
    if name not in df.columns:
        return np.full(len(df), OTHER, dtype=object)
    # A hash lookup over the whole column (no Python loop: iterating an Arrow-backed
    # string column costs microseconds per value). It matches to_category: only a
    # string equal to a declared category is found.
    return _category_codes(RAW_CATEGORICAL[name], df[name], with_other=True)


def _category_codes(categories: tuple[str, ...], values: Any, with_other: bool) -> np.ndarray:
    """Index of each value in `categories` (-1 when absent) or, with_other, the labels."""
    codes = pd.Index(categories, dtype=object).get_indexer(pd.Index(values, dtype=object))
    if not with_other:
        return codes
    labels = np.array([*categories, OTHER], dtype=object)
    return labels[np.where(codes < 0, len(categories), codes)]


def _derive_frame(df: pd.DataFrame) -> FeatureArrays:
    numeric = np.empty((len(RAW_NUMERIC), len(df)))
    for i, name in enumerate(RAW_NUMERIC):
        numeric[i] = _numeric_column(df, name)
    return _derive(numeric, {name: _category_column(df, name) for name in RAW_CATEGORICAL})


def feature_arrays_from_records(records: Sequence[Mapping[str, Any]]) -> FeatureArrays:
    """Every feature of the raw `records`, as arrays (one column per record), without pandas.

    This is the batch serving path's first half: callers that need both the feature
    values (for metrics) and the model input pass the result to
    `model_matrix_from_arrays`, computing the features once. Reading follows
    `to_float` / `to_category`, so the values equal `compute`'s bit for bit.
    """
    # One float64 array per call: rows are records here, transposed to raw rows.
    numeric = np.array(
        [[to_float(r.get(name)) for name in RAW_NUMERIC] for r in records], dtype=np.float64
    ).reshape(len(records), len(RAW_NUMERIC))
    categories = {
        name: _object_array([to_category(name, r.get(name)) for r in records])
        for name in RAW_CATEGORICAL
    }
    return _derive(numeric.T, categories)


def _object_array(values: list[str]) -> np.ndarray:
    out = np.empty(len(values), dtype=object)
    out[:] = values
    return out


# --- public API ------------------------------------------------------------------------


def compute(raw: pd.DataFrame) -> pd.DataFrame:
    """Features for every row of `raw`; columns == FEATURE_NAMES, same index.

    Columns beyond the raw schema (customer_id, the label) are ignored; a missing
    raw column reads as all-missing (validate the data first to reject it).
    """
    return pd.DataFrame(feature_columns(_derive_frame(raw)), index=raw.index)


def feature_columns(arrays: FeatureArrays) -> dict[str, np.ndarray]:
    """Feature name -> its array over the records, in FEATURE_NAMES order."""
    columns: dict[str, np.ndarray] = dict(zip(NUMERIC_FEATURES, arrays.numeric, strict=True))
    columns.update(arrays.categorical)
    return {name: columns[name] for name in FEATURE_NAMES}


def compute_one(record: Mapping[str, Any]) -> dict[str, float | str]:
    """Features of one raw record, identical to the matching row of `compute`."""
    arrays = feature_arrays_from_records((record,))
    values: dict[str, float | str] = dict(
        zip(NUMERIC_FEATURES, arrays.numeric[:, 0].tolist(), strict=True)
    )
    for name, labels in arrays.categorical.items():
        values[name] = labels[0]
    return {name: values[name] for name in FEATURE_NAMES}


def model_matrix(features: pd.DataFrame) -> np.ndarray:
    """The float32 model input for computed features; columns == MODEL_COLUMNS."""
    missing = [name for name in FEATURE_NAMES if name not in features.columns]
    if missing:
        raise KeyError(f"model_matrix: feature column(s) missing: {missing}")
    numeric = np.empty((len(NUMERIC_FEATURES), len(features)))
    for i, name in enumerate(NUMERIC_FEATURES):
        numeric[i] = _numeric_column(features, name)
    labels = {name: features[name].to_numpy(dtype=object) for name in CATEGORICAL_FEATURES}
    return model_matrix_from_arrays(FeatureArrays(numeric, labels))


def model_row(features_one: Mapping[str, Any]) -> np.ndarray:
    """The 1 x len(MODEL_COLUMNS) float32 row for one `compute_one` result.

    Equal to the matching row of `model_matrix`: float64 -> float32 rounds the
    same way element by element, and the one-hot lookup is the same table.
    """
    row = np.zeros((1, len(MODEL_COLUMNS)), dtype=np.float32)
    with np.errstate(over="ignore"):
        row[0, :_N_NUMERIC] = [to_float(features_one[name]) for name in NUMERIC_FEATURES]
    for name in CATEGORICAL_FEATURES:
        column = _ONEHOT_INDEX.get((name, features_one[name]))
        if column is not None:
            row[0, column] = 1.0
    return row


def model_matrix_from_records(records: Sequence[Mapping[str, Any]]) -> np.ndarray:
    """Raw records straight to the model matrix, for batch requests without pandas.

    Equal to `model_matrix(compute(pd.DataFrame(records)))`.
    """
    return model_matrix_from_arrays(feature_arrays_from_records(records))


def model_matrix_from_arrays(arrays: FeatureArrays) -> np.ndarray:
    """The float32 model input (columns == MODEL_COLUMNS) for already computed features.

    Numeric features are copied as they are; each categorical feature one-hot
    encodes its declared categories, "__other__" (or anything undeclared) being
    the all-zero row. Rows equal `model_row` of the same record.
    """
    n = arrays.numeric.shape[1]
    out = np.zeros((n, len(MODEL_COLUMNS)), dtype=np.float32)
    with np.errstate(over="ignore"):
        # Values beyond float32 range become +/-inf, which trees treat as very large.
        out[:, :_N_NUMERIC] = arrays.numeric.T
    rows = np.arange(n)
    for name, categories in CATEGORICAL_FEATURES.items():
        values = arrays.categorical[name]
        if n <= _SMALL_BATCH:
            # For a request-sized batch a dict lookup per value is cheaper than
            # building pandas indexes; the parity tests cover both branches.
            codes = np.fromiter(
                (_CATEGORY_CODE[name].get(v, -1) if isinstance(v, str) else -1 for v in values),
                dtype=np.intp,
                count=n,
            )
        else:
            codes = _category_codes(categories, values, with_other=False)
        hit = codes >= 0
        # Same columns as model_row's _ONEHOT_INDEX: offset of this feature + code.
        out[rows[hit], _ONEHOT_INDEX[(name, categories[0])] + codes[hit]] = 1.0
    return out


# Old private names, kept only until bentos/modelops_bentos/churn/scoring.py imports
# the public ones; remove them then.
_derive_records = feature_arrays_from_records
_matrix = model_matrix_from_arrays
