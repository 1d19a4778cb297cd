"""The churn features, defined once as numpy functions over arrays.

Each function maps arrays to arrays with a fixed, small number of numpy calls: on
a one-record array a numpy call costs about a microsecond, so the serving path
stays fast because the definitions do little, not because it has its own copy.
`derive` is the one place where raw arrays become features; every path (DataFrame,
single record, batch of records) goes through it, see `readers`.
"""

from __future__ import annotations

from collections.abc import Mapping

import numpy as np

from modelops_features.arrays import OTHER, FeatureArrays, per_period, safe_ratio
from modelops_features.churn.contract import (
    NEW_CUSTOMER_MONTHS,
    NUMERIC_FEATURES,
    RAW_NUMERIC,
    TENURE_BUCKET_EDGES,
    TENURE_BUCKETS,
)

# Per-month rates divide by max(tenure_months, 1): a customer in month 0 has lived
# one (partial) month, and dividing by 0 would hide the early tickets that signal churn.
per_month = per_period


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


def derive(raw_numeric: np.ndarray, categories: Mapping[str, np.ndarray]) -> FeatureArrays:
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
        block[_PM_OUT] = per_period(block[_PM_NUM], tenure)
        block[_RATIO_OUT] = safe_ratio(block[_RATIO_NUM], block[_RATIO_DEN])
    block[_ROW["is_new_customer"]] = is_new_customer(tenure)
    labels = {"tenure_bucket": tenure_bucket(tenure), **categories}
    return FeatureArrays(block, labels)
