"""The distributions behind the modelops_ feature and prediction metrics.

`BucketCounts` (a histogram at fixed `le` edges) and `CategoryCounts` hold the
counts; `ModelMetrics` holds them for one model version, bucketed at its
reference profile's edges, and counts requests in folds: a request leaves a
reference to its features, and every `FOLD_RECORDS` records (and before
anything reads the counts) `NumericTable` bins every numeric feature at once
over a (features x records) matrix. Counting each request on arrival cost ~10
numpy calls per feature per request (~107 us of a 100-record request in
process); folded it is ~53 us, and ~5 us for a one-record request
(docs/serving-performance.md). telemetry.py exposes the counts.
"""

from __future__ import annotations

import bisect
import math
import sys
from collections import Counter
from collections.abc import Iterable, Mapping, Sequence
from typing import TYPE_CHECKING, Any

import numpy as np
from prometheus_client.utils import floatToGoString

if TYPE_CHECKING:
    import pandas as pd  # a serving process never needs pandas (memory): see _is_frame

# Used when a model's profile has no prediction edges (older or hand-made models).
DEFAULT_PREDICTION_EDGES = tuple(round(0.1 * i, 1) for i in range(1, 10))
OTHER_CATEGORY = "__other__"


class BucketCounts:
    """A histogram with fixed upper-bound edges (Prometheus `le` semantics).

    Bucket i holds edges[i-1] < v <= edges[i]; the last bucket is +Inf. NaN is
    counted as missing, not observed. That is
    `searchsorted(edges, v, side="left")`, the same rule as the profile's
    proportions, so increase(..._bucket) de-cumulated compares 1:1 with them.
    """

    def __init__(self, edges: Sequence[float]) -> None:
        self.edges = np.asarray([float(e) for e in edges], dtype=np.float64)
        if self.edges.size and np.any(np.diff(self.edges) <= 0):
            raise ValueError(f"histogram edges must be strictly ascending: {list(edges)}")
        self._edges_list = self.edges.tolist()
        self.counts = np.zeros(self.edges.size + 1, dtype=np.int64)
        self.sum = 0.0
        self.missing = 0

    def observe(self, value: float | None) -> None:
        if value is None or math.isnan(value):
            self.missing += 1
            return
        self.counts[bisect.bisect_left(self._edges_list, value)] += 1
        if math.isfinite(value):
            self.sum += value

    def observe_many(self, values: np.ndarray) -> None:
        values = np.asarray(values, dtype=np.float64)
        finite = values[~np.isnan(values)]
        self.missing += int(values.size - finite.size)
        if finite.size:
            index = np.searchsorted(self.edges, finite, side="left")
            self.counts += np.bincount(index, minlength=self.counts.size)
            # _sum adds finite values only: one +inf and one -inf would make it
            # NaN forever (the buckets still count infinities).
            self.sum += float(finite[np.isfinite(finite)].sum())

    def buckets(self) -> list[tuple[str, float]]:
        cumulative = np.cumsum(self.counts)
        bounds = [floatToGoString(e) for e in self._edges_list] + ["+Inf"]
        return [(le, float(c)) for le, c in zip(bounds, cumulative, strict=True)]


class CategoryCounts:
    """Counts per profile category; values outside it count as __other__."""

    def __init__(self, categories: Iterable[str]) -> None:
        known = [str(c) for c in categories if str(c) != OTHER_CATEGORY]
        self.counts: dict[str, int] = {c: 0 for c in [*known, OTHER_CATEGORY]}

    def observe(self, value: Any) -> None:
        key = str(value)
        if key not in self.counts:
            key = OTHER_CATEGORY
        self.counts[key] += 1

    def observe_many(self, values: np.ndarray | pd.Series) -> None:
        # A Counter over the Python values is ~50x cheaper than value_counts()
        # for request-sized batches.
        for value, count in Counter(values.tolist()).items():
            key = str(value)
            self.counts[key if key in self.counts else OTHER_CATEGORY] += count


class ModelMetrics:
    """Feature and prediction distributions of one model version, bucketed by its profile.

    Requests are counted in folds (module docstring): `observe` keeps a
    reference to the request's features and predictions; `fold` counts them,
    every `FOLD_RECORDS` records and whenever `numeric`, `categorical` or
    `prediction` is read, so what a reader sees is what counting each request
    on arrival gave.
    """

    # Records held before a fold: bounds the held memory (a 100-record request's
    # features are ~20 KB) and the pause of one fold (~0.5 ms) at once.
    FOLD_RECORDS = 512

    def __init__(self, profile: dict[str, Any]) -> None:
        self._numeric: dict[str, BucketCounts] = {}
        self._categorical: dict[str, CategoryCounts] = {}
        for name, spec in (profile.get("features") or {}).items():
            if spec.get("kind") == "numeric":
                self._numeric[name] = BucketCounts(spec.get("edges") or [])
            elif spec.get("kind") == "categorical":
                self._categorical[name] = CategoryCounts(spec.get("categories") or [])
        prediction = profile.get("prediction") or {}
        self._prediction = BucketCounts(prediction.get("edges") or DEFAULT_PREDICTION_EDGES)
        self._numeric_table = NumericTable(self._numeric)
        self._pending: list[tuple[Mapping[str, Any], np.ndarray]] = []
        self._pending_records = 0

    @property
    def numeric(self) -> dict[str, BucketCounts]:
        self.fold()
        return self._numeric

    @property
    def categorical(self) -> dict[str, CategoryCounts]:
        self.fold()
        return self._categorical

    @property
    def prediction(self) -> BucketCounts:
        self.fold()
        return self._prediction

    def observe(
        self, features: pd.DataFrame | Mapping[str, Any], probabilities: np.ndarray
    ) -> None:
        """Count one request's features and predictions (at the next fold).

        `features` maps each feature to one value (a one-record request) or to
        an array over the request's records (a batch); a DataFrame also works.
        The caller must not change `features` afterwards (the services build a
        fresh mapping per request).
        """
        if _is_frame(features):
            frame = features
            features = {
                name: frame[name].to_numpy(dtype=np.float64, na_value=np.nan)
                for name in self._numeric
                if name in frame
            }
            features.update(
                {
                    name: frame[name].to_numpy(dtype=object)
                    for name in self._categorical
                    if name in frame
                }
            )
        probabilities = np.asarray(probabilities).reshape(-1)
        self._pending.append((features, probabilities))
        self._pending_records += probabilities.size
        if self._pending_records >= self.FOLD_RECORDS:
            self.fold()

    def fold(self) -> None:
        """Count every pending request now: one numpy pass for all numeric features."""
        if not self._pending:
            return
        pending, self._pending, self._pending_records = self._pending, [], 0
        if self._numeric:
            values, absent = _numeric_values(pending, self._numeric_table.names)
            self._numeric_table.count(values, absent)
        for name, counts in self._categorical.items():
            gathered = _category_values(pending, name)
            if gathered is not None:
                counts.observe_many(gathered)
        self._prediction.observe_many(np.concatenate([p for _, p in pending]))


class NumericTable:
    """Every numeric feature's histogram binned in one pass over a (features, records) matrix.

    A numpy call costs microseconds whatever its size, so binning feature by
    feature (searchsorted, bincount, sums: ~10 calls each) cost ~16x the calls of
    one pass. The edges are padded to one width with +inf, which no value is
    below, so "number of edges below v" is `searchsorted(edges, v, side="left")`
    for every feature at once: BucketCounts' rule, NaN excluded.
    """

    def __init__(self, hists: Mapping[str, BucketCounts]) -> None:
        self.names = list(hists)
        self.hists = list(hists.values())
        width = max((h.edges.size for h in self.hists), default=0)
        self.edges = np.full((len(self.hists), width), np.inf)
        for i, hist in enumerate(self.hists):
            self.edges[i, : hist.edges.size] = hist.edges
        self.buckets = width + 1
        self._columns = [self.edges[:, j : j + 1] for j in range(width)]
        self._offsets = (np.arange(len(self.hists)) * self.buckets)[:, None]

    def count(self, values: np.ndarray, absent: np.ndarray) -> None:
        """Add `values` (features x records, NaN = missing); `absent[i]` NaNs of row i are
        features a request did not carry at all, which are not counted as missing."""
        nan = np.isnan(values)
        # One comparison per edge column over the whole matrix: ~3x cheaper than a
        # (features, records, edges) cube summed on its short last axis.
        below = np.zeros(values.shape, dtype=np.intp)
        for column in self._columns:
            below += column < values
        counts = np.bincount(
            (below + self._offsets)[~nan], minlength=len(self.hists) * self.buckets
        ).reshape(len(self.hists), self.buckets)
        # _sum adds finite values only (see BucketCounts.observe_many).
        sums = np.where(np.isfinite(values), values, 0.0).sum(axis=1)
        missing = nan.sum(axis=1) - absent
        for i, hist in enumerate(self.hists):
            hist.counts += counts[i, : hist.counts.size]
            hist.sum += float(sums[i])
            hist.missing += int(missing[i])


def _numeric_values(
    pending: list[tuple[Mapping[str, Any], np.ndarray]], names: Sequence[str]
) -> tuple[np.ndarray, np.ndarray]:
    """(features x records float64, NaN where missing or absent; absent count per feature)."""
    absent = np.zeros(len(names), dtype=np.int64)
    blocks: list[np.ndarray] = []
    one_record: list[list[Any]] = []
    for features, _ in pending:
        width = next(
            (len(v) for v in (features.get(n) for n in names) if isinstance(v, np.ndarray)), None
        )
        if width is None:  # a one-record request: scalars, None for missing
            one_record.append([features.get(name) for name in names])
            for i, name in enumerate(names):
                if name not in features:
                    absent[i] += 1
            continue
        block = np.full((len(names), width), np.nan)
        for i, name in enumerate(names):
            if name in features:
                block[i] = features[name]
            else:
                absent[i] += width
        blocks.append(block)
    if one_record:
        # numpy reads None as NaN for float64.
        blocks.append(np.array(one_record, dtype=np.float64).reshape(-1, len(names)).T)
    return (blocks[0] if len(blocks) == 1 else np.concatenate(blocks, axis=1)), absent


def _category_values(
    pending: list[tuple[Mapping[str, Any], np.ndarray]], name: str
) -> np.ndarray | None:
    """One categorical feature's values over the pending requests (object array), or None."""
    arrays: list[np.ndarray] = []
    scalars: list[Any] = []
    for features, _ in pending:
        if name not in features:
            continue
        value = features[name]
        if isinstance(value, np.ndarray):
            arrays.append(value.astype(object, copy=False).reshape(-1))
        else:
            scalars.append(value)
    if scalars:
        arrays.append(np.array(scalars, dtype=object))
    if not arrays:
        return None
    return arrays[0] if len(arrays) == 1 else np.concatenate(arrays)


def _is_frame(value: object) -> bool:
    """Whether `value` is a pandas DataFrame, without importing pandas.

    A DataFrame can only exist once pandas is imported; the serving path passes
    mappings of arrays and leaves pandas (and pyarrow, ~60 MB) out of the process.
    """
    pandas = sys.modules.get("pandas")
    return pandas is not None and isinstance(value, pandas.DataFrame)
