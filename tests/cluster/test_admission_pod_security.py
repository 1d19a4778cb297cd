"""Every pod the operator creates passes Pod Security "restricted".

The namespace enforces `pod-security.kubernetes.io/enforce=restricted`, so the
API server's PodSecurity admission refuses any pod that falls short; the pods
are created by the real ReplicaSet and Job controllers from what the operator
applied. kwok makes them Running. First the test proves the label bites (a
plain pod is refused), then it checks the serving pods of a ModelDeployment
and the pod of its retraining Job (from a jobTemplate that says nothing about
security: the operator's restricted defaults must be enough).
"""

from __future__ import annotations

from typing import Any

import pytest

from modelops_operator.adapters.kube import KubeAdapter, KubeError
from tests.cluster.canary_support import annotate
from tests.plugins.operator import apply_md, eventually, get_md, md_manifest

ENFORCE = "pod-security.kubernetes.io/enforce"


@pytest.fixture
def restricted(kube: KubeAdapter, namespace: str, control_plane) -> str:
    if not control_plane.with_controllers:
        pytest.fail("this test needs the ReplicaSet and Job controllers: run the control plane "
                    "with controllers (the default control_plane fixture does)")  # fmt: skip
    kube.request(
        "PATCH",
        f"/api/v1/namespaces/{namespace}",
        body={"metadata": {"labels": {ENFORCE: "restricted", f"{ENFORCE}-version": "latest"}}},
        content_type="application/merge-patch+json",
    )
    return namespace


def pods(kube: KubeAdapter, namespace: str, selector: str) -> list[dict[str, Any]]:
    path = f"/api/v1/namespaces/{namespace}/pods"
    return kube.request("GET", path, query={"labelSelector": selector})["items"]


def warnings_about_pods(kube: KubeAdapter, namespace: str) -> list[str]:
    """FailedCreate Events: what a controller records when admission refuses its pod."""
    items = kube.request(
        "GET",
        f"/api/v1/namespaces/{namespace}/events",
        query={"fieldSelector": "reason=FailedCreate"},
    )["items"]
    return [e.get("message", "") for e in items]


def test_the_namespace_really_enforces_restricted(kube, restricted):
    plain = {
        "apiVersion": "v1",
        "kind": "Pod",
        "metadata": {"name": "plain", "namespace": restricted},
        "spec": {"containers": [{"name": "c", "image": "busybox:1.36"}]},
    }
    with pytest.raises(KubeError) as refused:
        kube.request("POST", f"/api/v1/namespaces/{restricted}/pods", body=plain)
    assert refused.value.status == 403
    assert 'violates PodSecurity "restricted' in refused.value.message


def test_serving_and_retraining_pods_are_admitted_under_restricted(
    kube, restricted, start_operator
):
    job_template = {
        "spec": {
            "template": {
                "spec": {
                    "containers": [
                        {
                            "name": "train",
                            "image": "ghcr.io/acme/modelops-training:0.1.0",
                            "command": ["modelops", "train", "--data", "synthetic:2000"],
                        }
                    ]
                }
            }
        }
    }
    start_operator(restricted, resync=1.0)
    apply_md(kube, restricted, md_manifest(retraining={"jobTemplate": job_template}))

    serving = eventually(
        lambda: (
            len(pods(kube, restricted, "modelops.io/deployment=churn,modelops.io/track")) == 2
            or warnings_about_pods(kube, restricted)
        ),
        timeout=90,
        what="two serving pods (or a FailedCreate event)",
    )
    assert serving is True, f"serving pods refused: {serving}"
    eventually(
        lambda: (get_md(kube, restricted).get("status") or {}).get("stable"),
        timeout=90,
        what="a stable version (retraining needs a base)",
    )

    annotate(kube, restricted, "churn", "modelops.io/retrain", "psa-1")
    job = eventually(
        lambda: (kube.children(restricted, "churn", kind="Job") or [None])[0],
        timeout=60,
        what="the retraining Job",
    )
    name = job["metadata"]["name"]
    admitted = eventually(
        lambda: (
            pods(kube, restricted, f"batch.kubernetes.io/job-name={name}")
            or warnings_about_pods(kube, restricted)
        ),
        timeout=60,
        what=f"a pod of Job {name} (or a FailedCreate event)",
    )
    assert admitted and "metadata" in admitted[0], f"retraining pod refused: {admitted}"
    context = admitted[0]["spec"]["containers"][0]["securityContext"]
    assert context["allowPrivilegeEscalation"] is False
    assert context["capabilities"]["drop"] == ["ALL"]
