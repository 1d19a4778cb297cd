"""Every default of the ModelDeployment spec, and the field readers that apply them.

`DEFAULTS` holds each default the CRD declares (`default:` in
crds/modeldeployments.yaml), by field path; tests/unit/operator/api/test_spec.py
walks the CRD and fails on any difference, so the operator and the API
server cannot disagree on a default. `OPERATOR_DEFAULTS` holds the defaults
the CRD leaves to the operator.

Why defaults are applied at all when the API server already fills them in:
an object stored under an older CRD (or created while the CRD had no
default) does not carry them, and the operator must still act on it.

The readers below (`default`, `field`, `mapping`, `duration`, `job_template`)
are what each section's parser (spec_rollout, spec_monitoring,
spec_retraining, spec_batch) uses, so a default is applied one way everywhere
and a bad value raises `SpecError` naming its field.
"""

from __future__ import annotations

import copy
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from modelops_operator.api.durations import parse_duration

DEFAULTS: dict[str, Any] = {
    "spec.imagePullPolicy": "IfNotPresent",
    "spec.replicas": 1,
    "spec.resources": {"requests": {"cpu": "100m", "memory": "256Mi"}, "limits": {"memory": "1Gi"}},
    "spec.rollout": {},
    "spec.rollout.strategy": "Immediate",
    "spec.rollout.interval": "60s",
    "spec.rollout.progressDeadline": "10m",
    "spec.rollout.trafficRouter": {},
    "spec.rollout.trafficRouter.type": "ReplicaRatio",
    "spec.rollout.trafficRouter.gatewayAPI.parentRefs[].group": "gateway.networking.k8s.io",
    "spec.rollout.trafficRouter.gatewayAPI.parentRefs[].kind": "Gateway",
    "spec.rollout.analysis.prometheus.timeout": "10s",
    "spec.rollout.analysis.minRequests": 100,
    "spec.rollout.analysis.failureLimit": 2,
    "spec.rollout.analysis.metrics": [
        {"name": "error-rate", "max": 0.01},
        {"name": "latency-p99", "max": 0.5},
    ],
    "spec.monitoring.drift.method": "psi",
    "spec.monitoring.drift.threshold": 0.2,
    "spec.monitoring.drift.window": "1h",
    "spec.monitoring.drift.minSamples": 1000,
    "spec.monitoring.drift.interval": "5m",
    "spec.monitoring.performance.window": "24h",
    "spec.monitoring.performance.minLabelledSamples": 200,
    "spec.monitoring.performance.interval": "10m",
    "spec.retraining.triggerOnDrift": True,
    "spec.retraining.triggerOnPerformance": True,
    "spec.retraining.cooldown": "6h",
    "spec.retraining.maxAttempts": 3,
    # The gates are handed to the retraining Job as written (MODELOPS_GATES):
    # the API server fills these two in when `gates` is given, and
    # `modelops train` applies its own defaults when it is not.
    "spec.retraining.gates.maxRegression": 0.01,
    "spec.retraining.gates.maxFairnessGap": 0.05,
    "spec.batch.scorer": "churn",
    "spec.batch.shards": 1,
    "spec.batch.maxRejectRate": 0,
    "spec.batch.concurrencyPolicy": "Forbid",
}

# Defaults the CRD does not declare. The steps belong to Canary only, so the
# CRD leaves them out (a step list is then always the user's, and refused
# where it would be ignored); the operator walks these when a Canary omits them.
OPERATOR_DEFAULTS: dict[str, Any] = {
    "spec.rollout.steps": (10, 25, 50),
}


class SpecError(ValueError):
    """A spec field the operator cannot act on; the message names the field."""

    def __init__(self, field: str, message: str) -> None:
        super().__init__(message)
        self.field = field


@dataclass(frozen=True)
class Duration:
    """A duration as written (for messages) and in seconds."""

    text: str
    seconds: float

    @classmethod
    def parse(cls, text: Any, field: str) -> Duration:
        try:
            return cls(str(text), parse_duration(text, field=field))
        except ValueError as exc:
            raise SpecError(field, str(exc)) from exc


def default(path: str) -> Any:
    """The default of the field at `path`."""
    # A copy, so no caller can change the table.
    return copy.deepcopy(DEFAULTS[path] if path in DEFAULTS else OPERATOR_DEFAULTS[path])


def field(section: Mapping[str, Any] | None, key: str, path: str) -> Any:
    """section[key], or the default of `path` when the key is absent or null."""
    value = (section or {}).get(key)
    return default(path) if value is None else value


def mapping(value: Any) -> Mapping[str, Any]:
    """`value` when it is a mapping, else an empty one (a section written as a scalar)."""
    return value if isinstance(value, Mapping) else {}


def duration(section: Mapping[str, Any], key: str, path: str) -> Duration:
    """section[key] (or its default) parsed as a duration; SpecError names `path`."""
    return Duration.parse(field(section, key, path), path)


def job_template(section: Mapping[str, Any], path: str, what: str) -> Mapping[str, Any]:
    """section["jobTemplate"]; SpecError naming `path` when it is not an object.

    `what` says what the template must be, for the message.
    """
    template = section.get("jobTemplate")
    if not isinstance(template, Mapping):
        raise SpecError(path, f"{path}: {what} is required")
    return template
