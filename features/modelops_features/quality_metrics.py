"""The Prometheus metric families of live model quality (names, help, labels), as plain data.

The operator exports them (one gauge family each, prometheus_client's
`Gauge(name, help, labels)`), the chart's alerts and dashboards read them, and
this module stays free of prometheus_client: `samples` turns a
groundtruth.WindowQuality into (family, labels, value) triples to set.

Labels: `namespace`, `deployment` (the ModelDeployment), `version` (the model
version the predictions came from). A metric that is undefined for a window
(no labels yet, one class only) has no sample rather than NaN, so an alert
never compares against NaN. Units are in the names: `_ratio` for 0..1 shares
and areas, `_nats` for log loss, `_seconds`.

Labelled metrics carry the names training publishes (auc, logloss, ...);
`estimated_*` are the label-free CBPE estimates (quality.py), never to be
read as measured. `degraded` and `threshold` are the operator's verdict on
spec.monitoring.performance (set by it, not by `samples`).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

PREFIX = "modelops_model_quality_"
LABELS = ("namespace", "deployment", "version")


@dataclass(frozen=True)
class Family:
    name: str
    help: str
    labels: tuple[str, ...] = LABELS


# metric name in quality.py -> family of its labelled value
LABELLED = {
    "auc": Family(f"{PREFIX}auc_ratio", "ROC AUC of the labelled predictions in the window."),
    "accuracy": Family(
        f"{PREFIX}accuracy_ratio", "Share of labelled predictions right at the 0.5 threshold."
    ),
    "top1_accuracy": Family(
        f"{PREFIX}top1_accuracy_ratio", "Share of labelled answers whose first item was right."
    ),
    "top3_accuracy": Family(
        f"{PREFIX}top3_accuracy_ratio",
        "Share of labelled answers whose right item the model ranked in its top 3.",
    ),
    "logloss": Family(
        f"{PREFIX}logloss_nats",
        "Log loss (mean negative log-likelihood) of the labelled predictions.",
    ),
    "ece": Family(
        f"{PREFIX}calibration_error_ratio",
        "Expected calibration error (10 equal-width bins) of the labelled predictions.",
    ),
    "fairness_gap": Family(
        f"{PREFIX}fairness_gap_ratio",
        "Largest spread of per-segment AUC over the segment columns (segments of 50+ labels).",
    ),
}
ESTIMATED = {
    "auc": Family(
        f"{PREFIX}estimated_auc_ratio",
        "Label-free estimate (CBPE) of ROC AUC over every logged prediction in the window.",
    ),
    "accuracy": Family(
        f"{PREFIX}estimated_accuracy_ratio",
        "Label-free estimate (CBPE) of accuracy over every logged prediction in the window.",
    ),
    "top1_accuracy": Family(
        f"{PREFIX}estimated_top1_accuracy_ratio",
        "Label-free estimate (CBPE) of top-1 accuracy over every logged answer in the window.",
    ),
    "top3_accuracy": Family(
        f"{PREFIX}estimated_top3_accuracy_ratio",
        "Label-free estimate (CBPE) of top-3 accuracy over every logged answer in the window.",
    ),
}
PREDICTIONS = Family(f"{PREFIX}predictions", "Logged predictions in the window.")
LABELLED_PREDICTIONS = Family(
    f"{PREFIX}labelled_predictions", "Logged predictions in the window whose outcome arrived."
)
LABEL_COVERAGE = Family(
    f"{PREFIX}label_coverage_ratio", "Share of the window's logged predictions that are labelled."
)
WINDOW = Family(f"{PREFIX}window_seconds", "Length of the window the quality is measured over.")
MEASURED = Family(
    f"{PREFIX}last_measured_timestamp_seconds", "When the quality was last measured (Unix time)."
)
DEGRADED = Family(
    f"{PREFIX}degraded",
    "1 while the operator's PerformanceDegraded condition is True for the metric, else 0.",
    ("namespace", "deployment", "metric"),
)
THRESHOLD = Family(
    f"{PREFIX}threshold",
    "spec.monitoring.performance threshold of the metric (same unit as the metric).",
    ("namespace", "deployment", "metric"),
)

FAMILIES: tuple[Family, ...] = (
    *LABELLED.values(),
    *ESTIMATED.values(),
    PREDICTIONS,
    LABELLED_PREDICTIONS,
    LABEL_COVERAGE,
    WINDOW,
    MEASURED,
    DEGRADED,
    THRESHOLD,
)


def samples(
    report: Any, namespace: str, deployment: str, measured_at: float | None = None
) -> list[tuple[Family, dict[str, str], float]]:
    """(family, labels, value) for every defined value of a groundtruth.WindowQuality."""
    out: list[tuple[Family, dict[str, str], float]] = []
    window = (report.end - report.start).total_seconds()
    for version, q in report.versions.items():
        labels = {"namespace": namespace, "deployment": deployment, "version": version}
        for name, value in q.metrics.items():
            if value is not None and name in LABELLED:
                out.append((LABELLED[name], labels, float(value)))
        for name, value in q.estimated.items():
            if value is not None and name in ESTIMATED:
                out.append((ESTIMATED[name], labels, float(value)))
        out.append((PREDICTIONS, labels, float(q.predictions)))
        out.append((LABELLED_PREDICTIONS, labels, float(q.labelled)))
        if q.label_coverage is not None:
            out.append((LABEL_COVERAGE, labels, float(q.label_coverage)))
        out.append((WINDOW, labels, window))
        if measured_at is not None:
            out.append((MEASURED, labels, float(measured_at)))
    return out
