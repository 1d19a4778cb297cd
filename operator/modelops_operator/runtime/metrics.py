"""The operator's own Prometheus metrics (prefix modelops_operator_).

Served on the metrics port by prometheus-client's HTTP server in the operator
process. The phase gauge is computed from a small in-memory map of the last
phase seen per ModelDeployment, so it is exact for the objects this replica
reconciles (the leader) and empty on followers.
"""

from __future__ import annotations

import threading

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
EVENTS = Counter(
    "modelops_operator_events_total",
    "Kubernetes Events posted, by type and whether the post succeeded.",
    ["type", "posted"],
)


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
