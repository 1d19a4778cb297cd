"""Helpers for the canary cluster tests: a fake metrics file, rollout watchers.

The operator subprocess reads canary health from a JSON file (the
`MODELOPS_METRICS_PROVIDER_FILE` seam of modelops_operator.providers), so
these tests drive the analysis verdicts at the provider protocol boundary
while everything else -- API server, controllers, kwok pods, the real
operator process -- is real.
"""

from __future__ import annotations

import json
import time
from pathlib import Path
from typing import Any

from modelops_operator.adapters.kube import KubeAdapter
from tests.plugins.operator import eventually, get_md, md_manifest

HEALTHY = {"requests": 500, "values": {"error-rate": 0.0, "latency-p99": 0.05}}
FAILING = {"requests": 500, "values": {"error-rate": 0.3, "latency-p99": 0.05}}


class MetricsFile:
    def __init__(self, path: Path) -> None:
        self.path = path
        self.path.write_text("{}")

    def set(self, namespace: str, name: str, entry: dict[str, Any]) -> None:
        data = json.loads(self.path.read_text())
        data[f"{namespace}/{name}"] = entry
        # Write aside and rename: the operator must never read half a file.
        tmp = self.path.with_suffix(".tmp")
        tmp.write_text(json.dumps(data))
        tmp.replace(self.path)


def canary_manifest(version: str = "1", *, steps=(25, 50), interval="2s", **rollout: Any):
    return md_manifest(
        version=version,
        replicas=4,
        rollout={
            "strategy": "Canary",
            "steps": list(steps),
            "interval": interval,
            "analysis": {
                "prometheus": {"address": "http://127.0.0.1:9"},
                "minRequests": 10,
                "failureLimit": 2,
                "metrics": [
                    {"name": "error-rate", "max": 0.01},
                    {"name": "latency-p99", "max": 0.5},
                ],
            },
            **rollout,
        },
    )


def patch_spec(kube: KubeAdapter, namespace: str, name: str, spec: dict[str, Any]) -> None:
    kube.request(
        "PATCH",
        f"/apis/modelops.io/v1alpha1/namespaces/{namespace}/modeldeployments/{name}",
        body={"spec": spec},
        content_type="application/merge-patch+json",
    )


def annotate(kube: KubeAdapter, namespace: str, name: str, key: str, value: str) -> None:
    kube.request(
        "PATCH",
        f"/apis/modelops.io/v1alpha1/namespaces/{namespace}/modeldeployments/{name}",
        body={"metadata": {"annotations": {key: value}}},
        content_type="application/merge-patch+json",
    )


def replicas(kube: KubeAdapter, namespace: str, name: str) -> int | None:
    dep = kube.get("apps/v1", "Deployment", namespace, name)
    return None if dep is None else dep["spec"]["replicas"]


def wait_phase(kube, namespace, phase, name="churn", timeout=90, stable=None):
    def check():
        status = get_md(kube, namespace, name).get("status") or {}
        if status.get("phase") != phase:
            return None
        if stable and (status.get("stable") or {}).get("version") != stable:
            return None
        return status

    return eventually(check, timeout=timeout, interval=0.3, what=f"{name} phase {phase}")


def watch_rollout(kube, namespace, until, name="churn", timeout=120, route=None):
    """Poll status and children until `until(status)`; returns the distinct states seen.

    Each state is (weight, stable replicas, canary replicas[, route weights]).
    """
    seen: list[tuple] = []
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        status = get_md(kube, namespace, name).get("status") or {}
        state: tuple = (
            (status.get("canary") or {}).get("weight"),
            replicas(kube, namespace, name),
            replicas(kube, namespace, f"{name}-canary"),
        )
        if route:
            obj = kube.get("gateway.networking.k8s.io/v1", "HTTPRoute", namespace, route)
            if obj:
                state += (tuple(b["weight"] for b in obj["spec"]["rules"][0]["backendRefs"]),)
        if not seen or seen[-1] != state:
            seen.append(state)
        if until(status):
            return seen, status
        time.sleep(0.2)
    raise AssertionError(f"rollout of {name} did not finish within {timeout}s; saw {seen}")
