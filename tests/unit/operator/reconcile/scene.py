"""What the drift and performance pipeline tests share: one ModelDeployment
serving version 3, settled, and a one-feature reference profile."""

from __future__ import annotations

import datetime as dt
from typing import Any

from modelops_operator.api.objects import DeploymentState, Owner
from modelops_operator.api.spec import Spec
from modelops_operator.reconcile.pipeline import reconcile
from modelops_operator.reconcile.plan import Observed

NOW = dt.datetime(2026, 1, 1, 12, 0, tzinfo=dt.UTC)
TS = "2026-01-01T12:00:00Z"
OWNER = Owner(name="churn", namespace="ml", uid="uid-1", generation=1)
IMAGE = "ghcr.io/acme/churn-bento:1.2.0"
TEMPLATE = {"spec": {"template": {"spec": {"containers": [{"name": "t", "image": "train:1"}]}}}}
PROFILE = {
    "version": 1,
    "samples": 1000,
    "features": {
        "tenure": {
            "kind": "numeric",
            "edges": [1.0, 5.0, 10.0],
            "proportions": [0.25, 0.25, 0.25, 0.25],
            "missing_rate": 0.0,
        }
    },
}


def available() -> DeploymentState:
    return DeploymentState(
        generation=1,
        observed_generation=1,
        replicas=1,
        updated_replicas=1,
        ready_replicas=1,
        available_replicas=1,
        version="3",
        image=IMAGE,
    )


def settled(spec: Spec) -> dict[str, Any]:
    """The status of `spec` once stable 3 is available and Ready is reported (two passes)."""
    status: dict[str, Any] = {}
    for _ in range(2):
        status = reconcile(
            spec,
            Observed(owner=OWNER, status=status, deployments={"stable": available()}),
            NOW - dt.timedelta(hours=2),
        ).status
    return status
