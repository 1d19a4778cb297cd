"""The resync's relist corrects the engine's memory of its children, against the real API server.

Reconciles read child Deployments from memory that kopf's watch keeps
current; an event the watch does not deliver (a silent stream is noticed by
kopf only after 70 s) would leave a canary that became available unseen.
Here the engine runs in-process with no watch at all, so
every change after its first list is one a watch "missed"; `Engine.prime`,
which the resync calls before each pass, must find it.
"""

from __future__ import annotations

from modelops_operator.runtime import metrics
from modelops_operator.runtime.engine import Engine
from tests.plugins.operator import apply_md, eventually, md_manifest


def corrections(kind: str) -> float:
    return metrics.RELIST_CORRECTIONS.labels(kind=kind)._value.get()


def available(kube, namespace: str, name: str) -> bool:
    dep = kube.get("apps/v1", "Deployment", namespace, name) or {}
    return (dep.get("status") or {}).get("availableReplicas", 0) >= 1


def test_a_relist_sees_the_availability_and_the_deletion_no_watch_reported(
    control_plane, kube, namespace
):
    apply_md(kube, namespace, md_manifest(version="1"))
    engine = Engine(kube=kube, instance="relist-test")
    engine.prime((namespace,))
    engine.reconcile(namespace, "churn")  # creates the child; memory holds the apply's answer
    known = engine.children.deployment(namespace, "churn")
    assert known is not None and known.state.available_replicas == 0

    if control_plane.with_kwok:  # a real cluster may have no image to run
        eventually(lambda: available(kube, namespace, "churn"), what="churn available")
        before = corrections("Deployment")
        engine.prime((namespace,))
        assert engine.children.deployment(namespace, "churn").state.available_replicas >= 1
        assert corrections("Deployment") - before >= 1

    kube.delete("apps/v1", "Deployment", namespace, "churn")
    eventually(
        lambda: kube.get("apps/v1", "Deployment", namespace, "churn") is None,
        what="churn deleted",
    )
    assert engine.children.deployment(namespace, "churn") is not None  # nothing told it
    engine.prime((namespace,))
    assert engine.children.deployment(namespace, "churn") is None
