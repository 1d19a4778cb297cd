"""Concurrency: 409 conflicts are retried, and two operator replicas never both act."""

from __future__ import annotations

import pytest

from modelops_operator.adapters.kube import Conflict, KubeAdapter, path_for
from modelops_operator.runtime import metrics
from modelops_operator.runtime.engine import ConflictRetriesExhausted, Engine
from tests.plugins.operator import apply_md, eventually, get_md, md_manifest

MD_API = "modelops.io/v1alpha1"


class InterferingKube(KubeAdapter):
    """The real adapter, plus a concurrent writer that changes the object just
    before each of the first `times` status writes, so the API server answers
    409 for real."""

    def __init__(self, api_client, times: int) -> None:
        super().__init__(api_client)
        self.remaining = times

    def patch_status(self, namespace, name, status, *, resource_version):
        if self.remaining > 0:
            self.remaining -= 1
            self.request(
                "PATCH",
                path_for(MD_API, "ModelDeployment", namespace, name),
                body={"metadata": {"labels": {"touched-by-test": str(self.remaining)}}},
                content_type="application/merge-patch+json",
            )
        return super().patch_status(namespace, name, status, resource_version=resource_version)


def conflicts_so_far() -> float:
    return metrics.RECONCILES.labels(result="conflict")._value.get()


def test_a_stale_status_write_is_refused_with_409(kube, namespace):
    created = apply_md(kube, namespace, md_manifest())
    kube.request(
        "PATCH",
        path_for(MD_API, "ModelDeployment", namespace, "churn"),
        body={"metadata": {"labels": {"bump": "1"}}},
        content_type="application/merge-patch+json",
    )
    with pytest.raises(Conflict):
        kube.patch_status(
            namespace,
            "churn",
            {"phase": "Stable"},
            resource_version=created["metadata"]["resourceVersion"],
        )


def test_conflicting_writes_are_retried_on_fresh_data(kube_client, kube, namespace):
    apply_md(kube, namespace, md_manifest(version="1"))
    engine = Engine(kube=InterferingKube(kube_client, times=2), instance="test")
    before = conflicts_so_far()
    plan = engine.reconcile(namespace, "churn")
    assert conflicts_so_far() - before == 2
    body = get_md(kube, namespace)
    assert body["metadata"]["labels"]["touched-by-test"] == "0"
    assert body["status"] == plan.status
    assert body["status"]["stable"]["version"] == "1"
    assert kube.get("apps/v1", "Deployment", namespace, "churn") is not None


def test_an_object_that_never_settles_gives_up_without_writing(kube_client, kube, namespace):
    apply_md(kube, namespace, md_manifest(version="1"))
    engine = Engine(kube=InterferingKube(kube_client, times=100), instance="test")
    with pytest.raises(ConflictRetriesExhausted):
        engine.reconcile(namespace, "churn")
    assert "status" not in get_md(kube, namespace)
    # Decisions are persisted before they are acted on: no status, no children.
    assert kube.get("apps/v1", "Deployment", namespace, "churn") is None


def lease_holder(kube, namespace):
    lease = kube.get("coordination.k8s.io/v1", "Lease", namespace, "modelops-operator")
    return (lease or {}).get("spec", {}).get("holderIdentity")


def test_two_replicas_only_the_lease_holder_acts(kube, namespace, start_operator):
    first = start_operator(namespace, identity="replica-a")
    second = start_operator(namespace, identity="replica-b", wait_leading=False)
    assert lease_holder(kube, namespace) == "replica-a"
    assert second.live()  # a follower is alive (its liveness answers) but idle

    apply_md(kube, namespace, md_manifest(version="1"))
    eventually(lambda: kube.get("apps/v1", "Deployment", namespace, "churn"), what="Deployment")
    eventually(
        lambda: first.metric("modelops_operator_reconciles_total", 'result="success"'),
        what="leader reconciled",
    )
    assert second.metric("modelops_operator_leader") == 0.0
    assert second.metric("modelops_operator_reconciles_total", 'result="success"') is None
    managers = {
        entry["manager"]
        for entry in kube.get("apps/v1", "Deployment", namespace, "churn")["metadata"][
            "managedFields"
        ]
        if entry["operation"] == "Apply"
    }
    assert managers == {"modelops-operator"}

    # The leader goes away without releasing its lease (kill -9): the follower
    # takes over once the lease expires, and acts.
    first.kill()
    eventually(second.leading, timeout=60, what="follower took over")
    assert lease_holder(kube, namespace) == "replica-b"
    apply_md(kube, namespace, md_manifest(name="second", version="5"))
    eventually(
        lambda: kube.get("apps/v1", "Deployment", namespace, "second"),
        what="the new leader reconciles",
    )


def test_a_graceful_stop_hands_over_at_once(kube, namespace, start_operator):
    first = start_operator(namespace, identity="replica-a", lease_seconds=30, renew_seconds=5)
    second = start_operator(
        namespace, identity="replica-b", lease_seconds=30, renew_seconds=1, wait_leading=False
    )
    assert first.stop() == 0
    # Released, so the follower needs one retry period, far less than the 30 s lease.
    eventually(second.leading, timeout=20, what="follower took over after release")
    assert lease_holder(kube, namespace) == "replica-b"
