"""Applying ModelDeployments and timing them to their children, for operator_latency.py.

`install_crd` puts the CRD on the server; `apply_and_time` creates objects
(one at a time or as a burst) and returns, per object, the time from its
create call to both its Deployment and its Service existing, as seen by a
`ChildWatcher`; `wait_reconciled` waits for the operator's status on all.
"""

from __future__ import annotations

import sys
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import yaml

from modelops_testkit.poll import wait

REPO = Path(__file__).resolve().parents[1]
NAMESPACE = "bench"


def install_crd(kube) -> None:
    body = yaml.safe_load((REPO / "crds" / "modeldeployments.yaml").read_text())
    kube.request(
        "PATCH",
        f"/apis/apiextensions.k8s.io/v1/customresourcedefinitions/{body['metadata']['name']}",
        query={"fieldManager": "modelops-bench", "force": "true"},
        body=body,
        content_type="application/apply-patch+yaml",
    )
    wait(
        lambda: any(
            c["type"] == "Established" and c["status"] == "True"
            for c in kube.request(
                "GET",
                f"/apis/apiextensions.k8s.io/v1/customresourcedefinitions/{body['metadata']['name']}",
            )
            .get("status", {})
            .get("conditions")
            or []
        ),
        60,
    )


def manifest(name: str, replicas: int) -> dict:
    return {
        "apiVersion": "modelops.io/v1alpha1",
        "kind": "ModelDeployment",
        "metadata": {"name": name, "namespace": NAMESPACE},
        "spec": {
            "model": {"name": "churn", "version": "1"},
            "image": "ghcr.io/acme/churn-bento:1.2.0",
            "registry": {"uri": "s3://models"},
            "replicas": replicas,
        },
    }


class ChildWatcher:
    """Records when each ModelDeployment's Deployment and Service first exist.

    Uses two watches (the kubernetes client's Watch) rather than polling lists,
    which would itself load the API server with thousands of objects a second.
    """

    def __init__(self, api_client) -> None:
        from kubernetes import client

        self.deployments: dict[str, float] = {}
        self.services: dict[str, float] = {}
        self._watches = []
        self._stopped = threading.Event()
        apps, core = client.AppsV1Api(api_client), client.CoreV1Api(api_client)
        for lister, seen in (
            (apps.list_namespaced_deployment, self.deployments),
            (core.list_namespaced_service, self.services),
        ):
            thread = threading.Thread(target=self._loop, args=(lister, seen), daemon=True)
            thread.start()

    def _loop(self, lister, seen: dict[str, float]) -> None:
        from kubernetes import watch

        while not self._stopped.is_set():
            stream = watch.Watch()
            self._watches.append(stream)
            try:
                for event in stream.stream(
                    lister, NAMESPACE, label_selector="app.kubernetes.io/managed-by=modelops",
                    timeout_seconds=300,
                ):  # fmt: skip
                    seen.setdefault(event["object"].metadata.name, time.monotonic())
            except Exception as exc:  # the server closes watches now and then: re-watch
                print(f"watch restarted: {exc}", file=sys.stderr)

    def ready_at(self, name: str) -> float | None:
        if name in self.deployments and name in self.services:
            return max(self.deployments[name], self.services[name])
        return None

    def stop(self) -> None:
        self._stopped.set()
        for stream in self._watches:
            stream.stop()


def apply_and_time(
    kube, watcher, names: list[str], replicas: int, workers: int
) -> tuple[list[float], float]:
    """Create the objects; returns apply -> children per object and how long the creates took.

    The second number is a floor set by the API server, not the operator: on a
    loaded machine the server alone can take seconds to accept a burst.
    """
    started: dict[str, float] = {}

    def create(name: str) -> None:
        started[name] = time.monotonic()
        kube.create(manifest(name, replicas))

    first = time.monotonic()
    with ThreadPoolExecutor(max_workers=workers) as pool:
        list(pool.map(create, names))
    creates = time.monotonic() - first
    wait(lambda: all(watcher.ready_at(n) for n in names), timeout=600, interval=0.1)
    return [watcher.ready_at(n) - started[n] for n in names], creates


def wait_reconciled(kube, count: int) -> None:
    """Every ModelDeployment has a status written by the operator."""

    def done() -> bool:
        items = kube.list_model_deployments(NAMESPACE)
        return sum(1 for i in items if (i.get("status") or {}).get("observedGeneration")) >= count

    wait(done, timeout=900, interval=1.0)
