"""The modelops_ Prometheus metrics every modelops service exposes.

Shared by the churn and learning-path services, so the operator's drift check
and canary analysis read every service the same way. A service subclasses
`Telemetry` for what is its own: what `modelops_prediction` measures
(`prediction_help`) and any extra families (`_families`).

Why not one prometheus_client Histogram per feature: a Histogram has one bucket
layout per metric, while drift needs each feature bucketed at *its own* reference
edges (from the model's profile) and the operator wants a single metric name to
query. A custom collector can expose one histogram family `modelops_feature_value`
whose `le` set differs per `feature` label. The counts (distributions.py) live in
numpy arrays and are counted in folds of many requests, far cheaper than an
`observe()` per value or a numpy pass per request.

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
  modelops_model_calls_total{model,version}                         counter (model calls on traffic)
  modelops_feedback_requests_total{model,version,status}            counter (POST /feedback)

Requests that share one model call (coalesced /predict, adaptive batching)
count once in modelops_model_calls_total: requests / calls is the sharing.
/feedback is counted apart from the prediction endpoints: the canary analysis
and the alerts read modelops_requests_total as prediction traffic. Extra
families (the inference log's, ground_truth.py) join through `add_source`.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterable, Mapping
from typing import TYPE_CHECKING, Any

import numpy as np
from prometheus_client import CollectorRegistry, generate_latest
from prometheus_client.core import (
    CounterMetricFamily,
    GaugeMetricFamily,
    HistogramMetricFamily,
    Metric,
)

# CategoryCounts and ModelMetrics are imported from here too (tests, the drift report).
from .distributions import BucketCounts, CategoryCounts, ModelMetrics  # noqa: F401

if TYPE_CHECKING:
    import pandas as pd  # annotations only (distributions._is_frame)

LATENCY_BUCKETS = (
    0.001, 0.0025, 0.005, 0.0075, 0.01, 0.025, 0.05, 0.075, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0,
)  # fmt: skip
NO_VERSION = "none"
# Not prediction traffic: counted in modelops_feedback_requests_total instead.
FEEDBACK_ENDPOINT = "feedback"


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
        self._model_calls = 0
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
        """Count one model call's features and predictions (one or several requests' records)."""
        with self._lock:
            self._model_calls += 1
            if self.model_metrics is not None:
                self.model_metrics.observe(features, probabilities)

    # -- exposition -------------------------------------------------------------
    def collect(self) -> Iterable[Metric]:
        with self._lock:
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

        calls = CounterMetricFamily(
            "modelops_model_calls",
            "Model calls on prediction traffic; requests that shared one call count once.",
            labels=["model", "version"],
        )
        calls.add_metric(base, float(self._model_calls))
        yield calls

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
