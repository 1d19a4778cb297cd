"""The model matrix: numeric features as they are, then one-hot categories.

Every model here feeds its estimator the same layout: the numeric features in
their declared order, then one column per declared category of each categorical
feature. "__other__" (missing or undeclared) has no column: it is the all-zero
row, so an unseen value never lands on a column the model learned for something
else. `ModelLayout` builds that layout once per model and encodes a whole batch
(`matrix`) or one record (`row`) with the same table, so the two agree bit for bit.
"""

from __future__ import annotations

import sys
from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING, Any

import numpy as np

from modelops_features.arrays import (
    FeatureArrays,
    category_codes,
    numeric_block_from_frame,
    to_float,
)

if TYPE_CHECKING:
    import pandas as pd  # annotations only: serving imports this without pandas

# For a request-sized batch a dict lookup per value is cheaper than building pandas
# indexes; above it the indexes win -- when pandas is already imported (training,
# batch scoring). A serving process never imports pandas: importing it on the
# first request of more than _SMALL_BATCH records stalled the worker ~0.8 s and
# added pandas to its memory for good, so there every batch takes the dict
# lookup (~0.1 us a value). Both give the same codes (the parity tests cover
# both branches).
_SMALL_BATCH = 256


class ModelLayout:
    """Column layout and encoders of one model's input matrix."""

    def __init__(
        self,
        numeric: Sequence[str],
        categorical: Mapping[str, Sequence[str]],
        dtype: type[np.floating],
    ) -> None:
        self.numeric = tuple(numeric)
        self.categorical = {name: tuple(values) for name, values in categorical.items()}
        self.dtype = np.dtype(dtype)
        self.columns: list[str] = list(self.numeric) + [
            f"{name}={value}" for name, values in self.categorical.items() for value in values
        ]
        n_numeric = len(self.numeric)
        self._onehot_index: dict[tuple[str, str], int] = {
            (name, value): n_numeric + i
            for i, (name, value) in enumerate(
                (name, value) for name, values in self.categorical.items() for value in values
            )
        }
        self._code = {
            name: {value: i for i, value in enumerate(values)}
            for name, values in self.categorical.items()
        }

    def matrix(self, arrays: FeatureArrays) -> np.ndarray:
        """(n, len(columns)) of `dtype` for computed feature arrays."""
        n = arrays.numeric.shape[1]
        out = np.zeros((n, len(self.columns)), dtype=self.dtype)
        with np.errstate(over="ignore"):
            # Values beyond float32 range become +/-inf, which trees treat as very large.
            out[:, : len(self.numeric)] = arrays.numeric.T
        rows = np.arange(n)
        for name, categories in self.categorical.items():
            codes = self._codes(name, arrays.categorical[name])
            hit = codes >= 0
            # Same columns as row()'s _onehot_index: offset of this feature + code.
            out[rows[hit], self._onehot_index[(name, categories[0])] + codes[hit]] = 1.0
        return out

    def _codes(self, name: str, values: np.ndarray) -> np.ndarray:
        if len(values) > _SMALL_BATCH and "pandas" in sys.modules:
            return category_codes(self.categorical[name], values)
        code = self._code[name]
        return np.fromiter(
            (code.get(v, -1) if isinstance(v, str) else -1 for v in values),
            dtype=np.intp,
            count=len(values),
        )

    def row(self, features_one: Mapping[str, Any]) -> np.ndarray:
        """The 1 x len(columns) row for one record's features (name -> value).

        Equal to the matching row of `matrix`: float64 -> float32 rounds the same
        way element by element, and the one-hot lookup is the same table.
        """
        row = np.zeros((1, len(self.columns)), dtype=self.dtype)
        with np.errstate(over="ignore"):
            row[0, : len(self.numeric)] = [to_float(features_one[name]) for name in self.numeric]
        for name in self.categorical:
            column = self._onehot_index.get((name, features_one[name]))
            if column is not None:
                row[0, column] = 1.0
        return row

    def matrix_from_frame(self, features: pd.DataFrame, feature_names: Sequence[str]) -> np.ndarray:
        """`matrix` for a DataFrame of computed features; a missing column is named."""
        missing = [name for name in feature_names if name not in features.columns]
        if missing:
            raise KeyError(f"model_matrix: feature column(s) missing: {missing}")
        numeric = numeric_block_from_frame(features, self.numeric)
        labels = {name: features[name].to_numpy(dtype=object) for name in self.categorical}
        return self.matrix(FeatureArrays(numeric, labels))
