"""The operator's own Prometheus metrics (prefix modelops_operator_).

Served on the metrics port by prometheus-client's HTTP server in the operator
process; the names are an interface (the chart's Grafana dashboard and alerts
read them). The phase gauge is computed from a small in-memory map of the last
phase seen per ModelDeployment, so it is exact for the objects this replica
reconciles (the leader) and empty on followers. The engine updates the
rollout, drift and retraining metrics after it has carried out a plan, so
they count what happened, not what was decided and then lost to a conflict.
(The API request counter lives with the kube adapter, where every request
passes.)
"""

from __future__ import annotations

import contextlib
import threading
from collections.abc import Iterable, Mapping
from typing import Any

from prometheus_client import Counter, Gauge, Histogram

PHASES = ("Stable", "Progressing", "Promoting", "RolledBack", "Failed")

RECONCILES = Counter(
    "modelops_operator_reconciles_total",
    "Reconciles of ModelDeployments by result (success, conflict, error).",
    ["result"],
)
RECONCILE_DURATION = Histogram(
    "modelops_operator_reconcile_duration_seconds",
    "Wall time of one reconcile: observe, decide, write status, apply children, post events.",
    buckets=(0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0),
)
DEPLOYMENTS = Gauge(
    "modelops_operator_deployments",
    "ModelDeployments reconciled by this operator, by phase.",
    ["phase"],
)
LEADER = Gauge(
    "modelops_operator_leader",
    "1 while this operator process holds the leader Lease, else 0.",
)
APPLIES_SKIPPED = Counter(
    "modelops_operator_applies_skipped_total",
    "Server-side applies of children skipped because this process had applied the same "
    "object and nothing had changed it since.",
)
QUEUED = Counter(
    "modelops_operator_work_queued_total",
    "Objects named to the work queue, by trigger (ModelDeployment, Deployment, Job, resync, "
    "timer) and whether they joined an entry already waiting (coalesced) or not.",
    ["trigger", "coalesced"],
)
RELIST_CORRECTIONS = Counter(
    "modelops_operator_relist_corrections_total",
    "Child Deployments and Jobs whose state the periodic relist corrected because the "
    "watch had not reported it (yet), by kind.",
    ["kind"],
)
EVENTS = Counter(
    "modelops_operator_events_total",
    "Kubernetes Events posted, by type and whether the post succeeded.",
    ["type", "posted"],
)


# --- rollouts (prefix modelops_operator_canary_ / _rollouts_ / _analysis_) -------------

CANARY_WEIGHT = Gauge(
    "modelops_operator_canary_weight",
    "Percent of traffic the operator currently routes to the canary of a ModelDeployment.",
    # `deployment`, like every per-ModelDeployment series here and the bento's
    # target labels: the dashboard and alerts join on (namespace, deployment).
    ["namespace", "deployment"],
)
ROLLOUTS = Counter(
    "modelops_operator_rollouts_total",
    "Canary rollouts that ended, by outcome (Promoted, RolledBack, Superseded).",
    ["outcome"],
)
ANALYSIS_CHECKS = Counter(
    "modelops_operator_analysis_checks_total",
    "Canary analysis checks run, by check name and verdict (Pass, Fail, Inconclusive).",
    ["check", "verdict"],
)


def record_canary(
    namespace: str,
    name: str,
    status: Mapping[str, Any],
    outcomes: Iterable[str],
    results: Iterable[Any] | None,
) -> None:
    canary = status.get("canary") or {}
    CANARY_WEIGHT.labels(namespace=namespace, deployment=name).set(int(canary.get("weight") or 0))
    for outcome in outcomes:
        ROLLOUTS.labels(outcome=outcome).inc()
    for result in results or ():
        ANALYSIS_CHECKS.labels(check=result.name, verdict=result.verdict).inc()


def forget_canary(namespace: str, name: str) -> None:
    with contextlib.suppress(KeyError):  # never recorded: nothing to forget
        CANARY_WEIGHT.remove(namespace, name)


# --- drift and retraining --------------------------------------------------------------

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
    "Retraining Jobs by outcome (started, approved, rejected, failed, lost, not_owned, invalid).",
    ["namespace", "deployment", "outcome"],
)


def export_drift(namespace: str, deployment: str, drift: dict, threshold: float) -> None:
    for feature, score in (drift.get("features") or {}).items():
        DRIFT_SCORE.labels(namespace, deployment, feature).set(score)
    if drift.get("prediction") is not None:
        DRIFT_SCORE.labels(namespace, deployment, "__prediction__").set(drift["prediction"])
    DRIFT_THRESHOLD.labels(namespace, deployment).set(threshold)
    DRIFT_SAMPLES.labels(namespace, deployment).set(drift.get("samples") or 0)


class PhaseTracker:
    """Last known phase of each ModelDeployment, exported as the DEPLOYMENTS gauge."""

    def __init__(self) -> None:
        self._phases: dict[tuple[str, str], str] = {}
        self._lock = threading.Lock()
        for phase in PHASES:
            DEPLOYMENTS.labels(phase=phase).set(0)

    def record(self, namespace: str, name: str, phase: str | None) -> None:
        with self._lock:
            if phase is None:
                self._phases.pop((namespace, name), None)
            else:
                self._phases[(namespace, name)] = phase
            self._export()

    def _export(self) -> None:
        counts = dict.fromkeys(PHASES, 0)
        for phase in self._phases.values():
            counts[phase] = counts.get(phase, 0) + 1
        for phase, count in counts.items():
            DEPLOYMENTS.labels(phase=phase).set(count)
