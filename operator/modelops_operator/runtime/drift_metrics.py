"""The operator's drift and retraining metrics (names the chart's Grafana dashboard reads)."""

from __future__ import annotations

from prometheus_client import Counter, Gauge, Histogram

DRIFT_SCORE = Gauge(
    "modelops_operator_drift_score",
    "Latest drift score of each feature of a ModelDeployment's stable track "
    "(feature=__prediction__ for the prediction distribution).",
    ["namespace", "deployment", "feature"],
)
DRIFT_THRESHOLD = Gauge(
    "modelops_operator_drift_threshold",
    "spec.monitoring.drift.threshold of each ModelDeployment.",
    ["namespace", "deployment"],
)
DRIFT_SAMPLES = Gauge(
    "modelops_operator_drift_samples",
    "Requests in the drift window at the latest measurement.",
    ["namespace", "deployment"],
)
DRIFT_CHECKS = Counter(
    "modelops_operator_drift_checks_total",
    "Drift measurements by verdict (Drifted, NotDrifted, InsufficientData, Unknown).",
    ["verdict"],
)
DRIFT_CHECK_DURATION = Histogram(
    "modelops_operator_drift_check_duration_seconds",
    "Wall time of one drift measurement (profile, three Prometheus queries, statistics).",
    buckets=(0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0),
)
RETRAINING_JOBS = Counter(
    "modelops_operator_retraining_jobs_total",
    "Retraining Jobs by outcome (started, approved, rejected, failed).",
    ["namespace", "deployment", "outcome"],
)


def export_drift(namespace: str, deployment: str, drift: dict, threshold: float) -> None:
    for feature, score in (drift.get("features") or {}).items():
        DRIFT_SCORE.labels(namespace, deployment, feature).set(score)
    if drift.get("prediction") is not None:
        DRIFT_SCORE.labels(namespace, deployment, "__prediction__").set(drift["prediction"])
    DRIFT_THRESHOLD.labels(namespace, deployment).set(threshold)
    DRIFT_SAMPLES.labels(namespace, deployment).set(drift.get("samples") or 0)
