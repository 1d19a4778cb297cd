"""Raw records -> features -> churn probabilities, through the shared feature code.

Features come only from `modelops_features.churn`, the code training uses, so
serving cannot compute a feature differently from training. One record takes
the single-record path (`compute_one` + `model_row`, no DataFrame: it is the
common API call and a DataFrame costs more than the whole prediction); several
records take the package's pandas-free batch path (the records straight to
numpy arrays, then the model matrix), which is the vectorised code `compute`
runs on a DataFrame minus the DataFrame: building and reading a DataFrame was
~4 ms of a 100-record request. The features package proves the paths identical
(hypothesis), and the parity test proves it again end to end through the live
endpoint.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

from modelops_features import churn as churn_features

from .model import LoadedModel

RAW_NAMES: tuple[str, ...] = tuple(churn_features.RAW_SCHEMA.names)


# name -> one value (one record) or name -> one array over the records (a batch).
Features = dict[str, Any]


@dataclass(frozen=True)
class Scored:
    """The result of scoring a batch: what metrics and responses need."""

    features: Features
    rows: np.ndarray  # float32, (n, len(MODEL_COLUMNS))
    probabilities: np.ndarray  # float32, (n,)


def raw_record(record: Mapping[str, Any]) -> dict[str, Any]:
    """Only the schema's raw fields (customer_id and anything else is never a feature)."""
    return {name: record.get(name) for name in RAW_NAMES}


def feature_columns(records: Sequence[Mapping[str, Any]]) -> tuple[Features, np.ndarray]:
    """(name -> array over the records, model matrix) without pandas.

    Uses the features package's record reader and matrix builder, the very
    functions behind `model_matrix_from_records` (which returns only the
    matrix; the metrics need the feature values too, and computing them twice
    would cost as much as the saving).
    """
    arrays = churn_features.feature_arrays_from_records(records)
    return churn_features.feature_columns(arrays), churn_features.model_matrix_from_arrays(arrays)


def compute_features(records: Sequence[Mapping[str, Any]]) -> tuple[Features, np.ndarray]:
    """(features, model rows) for the records; the single-record fast path for one."""
    if len(records) == 1:
        one = churn_features.compute_one(records[0])
        return one, np.asarray(churn_features.model_row(one), dtype=np.float32)
    columns, matrix = feature_columns(records)
    return columns, np.asarray(matrix, dtype=np.float32)


def score(model: LoadedModel, records: Sequence[Mapping[str, Any]]) -> Scored:
    if not records:
        empty = np.zeros((0, len(model.model_columns)), dtype=np.float32)
        return Scored(features={}, rows=empty, probabilities=np.zeros(0, dtype=np.float32))
    features, rows = compute_features(records)
    # The same C call as booster.inplace_predict (no DMatrix), minus the Python
    # wrapper's per-call work (predict.py); output is P(churn) for
    # binary:logistic models.
    probabilities = model.predict(rows)
    return Scored(features=features, rows=rows, probabilities=probabilities.reshape(-1))


def part(scored: Scored, start: int, stop: int) -> Scored:
    """Records [start, stop) of a scored batch: one coalesced request's own (coalesce.py)."""
    if start == 0 and stop == len(scored.probabilities):
        return scored
    if start == stop:
        empty = scored.rows[:0]
        return Scored(features={}, rows=empty, probabilities=scored.probabilities[:0])
    # Two or more records were scored: every feature is an array over them.
    features = {name: values[start:stop] for name, values in scored.features.items()}
    return Scored(features, scored.rows[start:stop], scored.probabilities[start:stop])


def features_as_records(features: Features) -> list[dict[str, Any]]:
    """Features as JSON-ready dicts (NaN -> None) in FEATURE_NAMES order."""
    names = churn_features.FEATURE_NAMES
    if features and isinstance(features[names[0]], np.ndarray):
        lists = [features[name].tolist() for name in names]
        rows = [dict(zip(names, values, strict=True)) for values in zip(*lists, strict=True)]
    else:
        rows = [features] if features else []
    return [{name: _json_value(row[name]) for name in names} for row in rows]


def _json_value(value: Any) -> float | str | None:
    if isinstance(value, str):
        return value
    if value is None:
        return None
    number = float(value)
    return None if np.isnan(number) else number
