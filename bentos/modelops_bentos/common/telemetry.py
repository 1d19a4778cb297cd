"""The modelops_ Prometheus metrics every modelops service exposes.

Shared by the churn and learning-path services, so the operator's drift check
and canary analysis read every service the same way. A service subclasses
`Telemetry` for what is its own: what `modelops_prediction` measures
(`prediction_help`) and any extra families (`_families`).

Why not one prometheus_client Histogram per feature: a Histogram has one bucket
layout per metric, while drift needs each feature bucketed at *its own* reference
edges (from the model's profile) and the operator wants a single metric name to
query. A custom collector can expose one histogram family `modelops_feature_value`
whose `le` set differs per `feature` label. The counts live in numpy arrays and are
updated with one `searchsorted` + `bincount` per feature for a batch of requests
(`ModelMetrics.fold`), far cheaper than an `observe()` per value or even a numpy
pass per request.

The text is appended to BentoML's own /metrics output through the service's
`__metrics__` hook, so BentoML's metrics stay. The counters are per process: the
service runs one worker per pod (scale with replicas), which keeps the exposition
complete. Exposed names (see bentos/README.md):

  modelops_requests_total{model,version,endpoint,status}            counter
  modelops_request_duration_seconds{model,version,endpoint}         histogram
  modelops_feature_value{model,version,feature}                     histogram, profile edges
  modelops_feature_missing_total{model,version,feature}             counter (NaN / null values)
  modelops_feature_category_total{model,version,feature,value}      counter
  modelops_prediction{model,version}                                histogram, profile edges
  modelops_model_ready{model,version}                               gauge 1/0
  modelops_feedback_requests_total{model,version,status}            counter (POST /feedback)

/feedback is counted apart from the prediction endpoints: the canary analysis
and the alerts read modelops_requests_total as prediction traffic. Extra
families (the inference log's, ground_truth.py) join through `add_source`.
"""

from __future__ import annotations

import bisect
import math
import sys
import threading
from collections import Counter
from collections.abc import Callable, Iterable, Mapping, Sequence
from typing import TYPE_CHECKING, Any

import numpy as np
from prometheus_client import CollectorRegistry, generate_latest
from prometheus_client.core import (
    CounterMetricFamily,
    GaugeMetricFamily,
    HistogramMetricFamily,
    Metric,
)
from prometheus_client.utils import floatToGoString

if TYPE_CHECKING:
    import pandas as pd  # a serving process never needs pandas (memory): see _is_frame

LATENCY_BUCKETS = (
    0.001, 0.0025, 0.005, 0.0075, 0.01, 0.025, 0.05, 0.075, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0,
)  # fmt: skip
# Used when a model's profile has no prediction edges (older or hand-made models).
DEFAULT_PREDICTION_EDGES = tuple(round(0.1 * i, 1) for i in range(1, 10))
OTHER_CATEGORY = "__other__"
NO_VERSION = "none"
# Not prediction traffic: counted in modelops_feedback_requests_total instead.
FEEDBACK_ENDPOINT = "feedback"


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

    Requests are counted in batches: `observe` keeps a reference to the
    request's features and predictions, and every `FOLD_RECORDS` records (and
    before anything reads the counts: `numeric`, `categorical`, `prediction`,
    the exposition) the pending requests are folded with one
    `searchsorted` + `bincount` per feature for all of them. Counting each
    request on arrival cost ~17 us of a one-record request and ~190 us of a
    100-record one (a handful of numpy calls per feature, per request); folded,
    it is ~1-2 us per record. What a scrape reads is the same.
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
        self._numeric_names = list(self._numeric)
        self._numeric_table = NumericTable(list(self._numeric.values()))
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
            values, absent = _numeric_values(pending, self._numeric_names)
            self._numeric_table.count(values, absent)
        for name, counts in self._categorical.items():
            gathered = _gathered(pending, name, object)
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

    def __init__(self, hists: Sequence[BucketCounts]) -> None:
        self.hists = list(hists)
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


def _gathered(
    pending: list[tuple[Mapping[str, Any], np.ndarray]], name: str, dtype: Any
) -> np.ndarray | None:
    """One feature's values over the pending requests (arrays and one-record scalars), or None.

    None (or NaN) in a one-record request stays a missing value: numpy reads
    None as NaN for float64.
    """
    arrays: list[np.ndarray] = []
    scalars: list[Any] = []
    for features, _ in pending:
        if name not in features:
            continue
        value = features[name]
        if isinstance(value, np.ndarray):
            arrays.append(value.astype(dtype, copy=False).reshape(-1))
        else:
            scalars.append(value if dtype is object or value is None else float(value))
    if scalars:
        arrays.append(np.array(scalars, dtype=dtype))
    if not arrays:
        return None
    return arrays[0] if len(arrays) == 1 else np.concatenate(arrays)


class Telemetry:
    """All modelops_ metrics of one service process, exposed as Prometheus text."""

    # What the service's `modelops_prediction` histogram holds (its HELP text).
    prediction_help = "Model prediction, bucketed at the model's reference-profile edges."

    def __init__(self, model: str) -> None:
        self.model = model
        self.version = NO_VERSION
        self.ready = False
        self.model_metrics: ModelMetrics | None = None
        self._requests: dict[tuple[str, str], int] = {}
        self._latency: dict[str, BucketCounts] = {}
        self._feedback_requests: dict[str, int] = {}
        self._sources: list[Callable[[], Iterable[Metric]]] = []
        # Requests are handled on the event loop and /metrics may render in a
        # worker thread: the lock keeps one exposition internally consistent.
        self._lock = threading.Lock()

    def model_loaded(self, version: str, profile: dict[str, Any]) -> None:
        with self._lock:
            self.version = version
            self.model_metrics = ModelMetrics(profile)
            self.ready = True

    def add_source(self, families: Callable[[], Iterable[Metric]]) -> None:
        """Render `families()` with the rest (e.g. the inference log's counters)."""
        self._sources.append(families)

    def observe_request(self, endpoint: str, status: int, seconds: float) -> None:
        with self._lock:
            if endpoint == FEEDBACK_ENDPOINT:
                code = str(status)
                self._feedback_requests[code] = self._feedback_requests.get(code, 0) + 1
                return
            key = (endpoint, str(status))
            self._requests[key] = self._requests.get(key, 0) + 1
            hist = self._latency.get(endpoint)
            if hist is None:
                hist = self._latency[endpoint] = BucketCounts(LATENCY_BUCKETS)
            hist.observe(seconds)

    def observe_predictions(
        self, features: pd.DataFrame | Mapping[str, Any], probabilities: np.ndarray
    ) -> None:
        if self.model_metrics is None:
            return
        with self._lock:
            self.model_metrics.observe(features, probabilities)

    # -- exposition -------------------------------------------------------------
    def collect(self) -> Iterable[Metric]:
        with self._lock:
            if self.model_metrics is not None:
                self.model_metrics.fold()  # count what the last requests left pending
            return list(self._families())

    def _families(self) -> Iterable[Metric]:
        base = [self.model, self.version]
        ready = GaugeMetricFamily(
            "modelops_model_ready",
            "1 when the model version is loaded and verified, else 0.",
            labels=["model", "version"],
        )
        ready.add_metric(base, 1.0 if self.ready else 0.0)
        yield ready

        requests = CounterMetricFamily(
            "modelops_requests",
            "Prediction API requests by endpoint and HTTP status.",
            labels=["model", "version", "endpoint", "status"],
        )
        for (endpoint, status), count in sorted(self._requests.items()):
            requests.add_metric([*base, endpoint, status], float(count))
        yield requests

        latency = HistogramMetricFamily(
            "modelops_request_duration_seconds",
            "Prediction API request duration in seconds (inside the service).",
            labels=["model", "version", "endpoint"],
        )
        for endpoint, hist in sorted(self._latency.items()):
            latency.add_metric([*base, endpoint], hist.buckets(), hist.sum)
        yield latency

        feedback = CounterMetricFamily(
            "modelops_feedback_requests",
            "POST /feedback requests by HTTP status (outcomes of earlier predictions).",
            labels=["model", "version", "status"],
        )
        for status, count in sorted(self._feedback_requests.items()):
            feedback.add_metric([*base, status], float(count))
        yield feedback
        for source in self._sources:
            yield from source()

        metrics = self.model_metrics
        if metrics is None:
            return
        values = HistogramMetricFamily(
            "modelops_feature_value",
            "Numeric feature values, bucketed at the model's reference-profile edges.",
            labels=["model", "version", "feature"],
        )
        missing = CounterMetricFamily(
            "modelops_feature_missing",
            "Numeric feature values that were missing (null / NaN).",
            labels=["model", "version", "feature"],
        )
        for name, hist in metrics.numeric.items():
            values.add_metric([*base, name], hist.buckets(), hist.sum)
            missing.add_metric([*base, name], float(hist.missing))
        yield values
        yield missing

        categories = CounterMetricFamily(
            "modelops_feature_category",
            "Categorical feature values; values outside the profile count as __other__.",
            labels=["model", "version", "feature", "value"],
        )
        for name, counts in metrics.categorical.items():
            for value, count in counts.counts.items():
                categories.add_metric([*base, name, value], float(count))
        yield categories

        prediction = HistogramMetricFamily(
            "modelops_prediction",
            self.prediction_help,
            labels=["model", "version"],
        )
        prediction.add_metric(base, metrics.prediction.buckets(), metrics.prediction.sum)
        yield prediction

    def render(self) -> str:
        registry = CollectorRegistry(auto_describe=False)
        registry.register(self)
        return generate_latest(registry).decode("utf-8")


def _is_frame(value: object) -> bool:
    """Whether `value` is a pandas DataFrame, without importing pandas.

    A DataFrame can only exist once pandas is imported; the serving path passes
    mappings of arrays and leaves pandas (and pyarrow, ~60 MB) out of the process.
    """
    pandas = sys.modules.get("pandas")
    return pandas is not None and isinstance(value, pandas.DataFrame)
