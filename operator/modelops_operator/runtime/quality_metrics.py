"""Live model quality on the operator's metrics port: the `modelops_model_quality_*` families.

The families (names, help, labels) are defined once, as plain data, in
`modelops_features.quality_metrics`; this module makes them gauges and sets
them after each live-quality measurement: every version in the window gets
its labelled metrics, its label-free estimates (`estimated_*`, named as
estimates) and its counts. `modelops_model_quality_degraded{metric}` and
`_threshold{metric}` carry the PerformanceDegraded verdict on every pass, so
the chart's ModelopsModelPerformanceDegraded alert reads the operator's own
decision. A version that left the window loses its series at the next
measurement; a deleted ModelDeployment loses all of them.
"""

from __future__ import annotations

import contextlib
import threading
import time
from collections.abc import Mapping
from typing import Any

from prometheus_client import Counter, Gauge, Histogram

from modelops_features import quality_metrics as families
from modelops_operator.api import conditions as cond
from modelops_operator.api.spec import Spec, SpecError
from modelops_operator.quality.source import QualityMeasurement

QUALITY_CHECKS = Counter(
    "modelops_operator_quality_checks_total",
    "Live-quality measurements by verdict (Degraded, NotDegraded, InsufficientLabels, Unknown).",
    ["verdict"],
)
QUALITY_CHECK_DURATION = Histogram(
    "modelops_operator_quality_check_duration_seconds",
    "Wall time of one live-quality measurement (read the window's log and feedback, join, metrics).",
    buckets=(0.01, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0, 60.0),
)

GAUGES: dict[str, Gauge] = {
    f.name: Gauge(f.name, f.help, list(f.labels)) for f in families.FAMILIES
}

_lock = threading.Lock()
# (namespace, deployment) -> the (family, label values) set at the last measurement.
_series: dict[tuple[str, str], set[tuple[str, tuple[str, ...]]]] = {}
_verdict_metric: dict[tuple[str, str], str] = {}


def export(
    namespace: str,
    deployment: str,
    spec: Spec,
    measurement: QualityMeasurement | None,
    status: Mapping[str, Any],
) -> None:
    """Set the families from a finished measurement, and the verdict from the plan's status."""
    try:
        settings = spec.performance
    except SpecError:
        settings = None
    key = (namespace, deployment)
    if settings is None:
        forget(namespace, deployment)
        return
    with _lock:
        if measurement is not None and measurement.report is not None:
            _replace_series(key, families.samples(measurement.report, *key, time.time()))
        old_metric = _verdict_metric.get(key)
        if old_metric is not None and old_metric != settings.metric:
            _remove_verdict(key, old_metric)
        degraded = cond.is_true(status.get("conditions") or (), cond.PERFORMANCE_DEGRADED)
        GAUGES[families.DEGRADED.name].labels(namespace, deployment, settings.metric).set(
            1.0 if degraded else 0.0
        )
        GAUGES[families.THRESHOLD.name].labels(namespace, deployment, settings.metric).set(
            settings.threshold
        )
        _verdict_metric[key] = settings.metric


def forget(namespace: str, deployment: str) -> None:
    """The ModelDeployment is gone (or no longer monitored): drop its series."""
    key = (namespace, deployment)
    with _lock:
        _replace_series(key, [])
        metric = _verdict_metric.pop(key, None)
        if metric is not None:
            _remove_verdict(key, metric)


def _replace_series(
    key: tuple[str, str], samples: list[tuple[families.Family, dict[str, str], float]]
) -> None:
    fresh: set[tuple[str, tuple[str, ...]]] = set()
    for family, labels, value in samples:
        values = tuple(labels[name] for name in family.labels)
        GAUGES[family.name].labels(*values).set(value)
        fresh.add((family.name, values))
    for name, values in _series.get(key, set()) - fresh:
        with contextlib.suppress(KeyError):
            GAUGES[name].remove(*values)
    if fresh:
        _series[key] = fresh
    else:
        _series.pop(key, None)


def _remove_verdict(key: tuple[str, str], metric: str) -> None:
    for family in (families.DEGRADED, families.THRESHOLD):
        with contextlib.suppress(KeyError):
            GAUGES[family.name].remove(*key, metric)
