"""Real Prometheus expositions of modelops' own metrics, produced in-process.

Used by the chart tests: `promtool check metrics` lints them, and the Grafana
dashboard may only query metric names, and group or select by labels, that
one of them defines (or that scraping adds).
"""

from __future__ import annotations

import re

import numpy as np
import pandas as pd

# Labels Prometheus adds when it scrapes. The operator's targets (PodMonitor or
# ServiceMonitor with honorLabels, so its own `namespace` wins) get the usual
# ones; model pods also get the chart's relabelings (templates/podmonitor.yaml).
SCRAPE_LABELS = frozenset(
    {"job", "instance", "namespace", "pod", "service", "container", "endpoint"}
)
MODEL_TARGET_LABELS = SCRAPE_LABELS | {"deployment", "track", "model_version"}


def operator_exposition() -> str:
    """The operator's /metrics text after one of each kind of observation.

    It is the default registry that `modelops operator run` serves with
    prometheus_client's HTTP server (operator/modelops_operator/main.py).
    """
    from prometheus_client import REGISTRY, generate_latest

    from modelops_operator.rollout.analysis import CheckResult
    from modelops_operator.runtime import metrics

    metrics.RECONCILES.labels(result="success").inc()
    metrics.RECONCILES.labels(result="conflict").inc()
    metrics.RECONCILE_DURATION.observe(0.02)
    metrics.LEADER.set(1)
    metrics.EVENTS.labels(type="Normal", posted="true").inc()
    tracker = metrics.PhaseTracker()
    tracker.record("ml", "churn", "Stable")
    # The per-ModelDeployment series, through the calls the engine makes (in a
    # namespace of their own: other tests read these process-wide families).
    check = CheckResult("error-rate", "q", 0.0, "Pass", "error-rate 0 <= max 0.01")
    metrics.record_canary("exposition", "churn", {"canary": {"weight": 25}}, ["Promoted"], [check])
    drift = {"features": {"tenure_months": 0.31}, "prediction": 0.12, "samples": 500}
    metrics.export_drift("exposition", "churn", drift, 0.2)
    metrics.RETRAINING_JOBS.labels("exposition", "churn", "started").inc()
    return generate_latest(REGISTRY).decode("utf-8")


def bento_exposition() -> str:
    """The churn bento's modelops_ metrics (what its /metrics appends to BentoML's own)."""
    from modelops_bentos.churn.telemetry import Telemetry

    telemetry = Telemetry("churn")
    profile = {
        "features": {
            "tenure_months": {"kind": "numeric", "edges": [1.0, 6.0, 24.0]},
            "plan": {"kind": "categorical", "categories": ["basic", "premium"]},
        },
        "prediction": {"edges": [0.25, 0.5, 0.75]},
    }
    telemetry.model_loaded("3", profile)
    telemetry.observe_request("/predict", 200, 0.012)
    telemetry.observe_request("/predict", 503, 0.3)
    features = pd.DataFrame({"tenure_months": [0.5, 12.0, np.nan], "plan": ["basic", "gold", None]})
    telemetry.observe_predictions(features, np.array([0.1, 0.6, 0.9]))
    return telemetry.render()


def metric_labels(exposition: str) -> dict[str, set[str]]:
    """Sample name -> the label names its samples carry."""
    from prometheus_client.parser import text_string_to_metric_families

    out: dict[str, set[str]] = {}
    for family in text_string_to_metric_families(exposition):
        for sample in family.samples:
            out.setdefault(sample.name, set()).update(sample.labels)
    return out


def metric_names(exposition: str) -> set[str]:
    """Sample names in an exposition (histogram series keep their _bucket/_sum/_count)."""
    return set(metric_labels(exposition))


def scraped_labels() -> dict[str, set[str]]:
    """Series name -> its labels in Prometheus: what the operator (including the
    live-quality families), the bento and its ground-truth log export, plus what
    scraping adds to each kind of target."""
    from modelops_bentos.common.ground_truth import GroundTruth, LogConfig
    from modelops_features import quality_metrics

    out = {n: ls | SCRAPE_LABELS for n, ls in metric_labels(operator_exposition()).items()}
    for family in quality_metrics.FAMILIES:
        out[family.name] = set(family.labels) | SCRAPE_LABELS
    for name, labels in metric_labels(bento_exposition()).items():
        out[name] = labels | MODEL_TARGET_LABELS
    for family in GroundTruth("churn", "churn", LogConfig("file:///unused")).families():
        for sample in family.samples:
            out.setdefault(sample.name, set(MODEL_TARGET_LABELS)).update(sample.labels)
    return out


def selected_and_grouped(expr: str) -> tuple[dict[str, set[str]], set[str]]:
    """({modelops_ metric: labels its selectors match on}, labels in by / on clauses)."""
    selected: dict[str, set[str]] = {}
    for name, matchers in re.findall(r"\b(modelops_[a-z0-9_]+)(?:\{([^}]*)\})?", expr):
        labels = set(re.findall(r"([a-z_]+)\s*[=!]~?", matchers))
        selected.setdefault(name, set()).update(labels)
    grouped = set()
    for clause in re.findall(r"\b(?:by|on)\s*\(([^)]*)\)", expr):
        grouped.update(label.strip() for label in clause.split(",") if label.strip())
    return selected, grouped


def label_problems(expr: str, carried: dict[str, set[str]]) -> list[str]:
    """What in a PromQL expression names a label its series do not carry: a
    selector on a missing label matches the empty string, a grouping by it merges
    every ModelDeployment into one series. `carried`: series name -> labels
    after the scrape."""
    selected, grouped = selected_and_grouped(expr)
    problems = [f"{name} is not exported" for name in selected if name not in carried]
    problems += [
        f"{name} has no label {sorted(labels - carried[name])}"
        for name, labels in selected.items()
        if name in carried and labels - carried[name]
    ]
    union = set().union(*(carried.get(name, set()) for name in selected))
    if grouped - union:
        problems.append(f"grouped or matched on {sorted(grouped - union)}, which no series carries")
    return problems
