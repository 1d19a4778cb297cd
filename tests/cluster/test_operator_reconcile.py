"""The operator end to end against the real API server and controllers.

Each test starts the real `modelops operator run` process for its namespace.
Pods never run (no nodes); `play_kubelet` writes their status as a kubelet
would, so the real Deployment controller computes availability.
"""

from __future__ import annotations

import contextlib

import pytest

from modelops_cli.controlplane.kwok import NODE_NAME
from modelops_operator.adapters.kube import KubeAdapter
from tests.plugins.operator import (
    IMAGE,
    apply_md,
    events_for,
    eventually,
    get_md,
    kubectl,
    md_manifest,
    play_kubelet,
    wait_condition,
)


def deployment(kube: KubeAdapter, namespace: str, name: str = "churn"):
    return kube.get("apps/v1", "Deployment", namespace, name)


def wait_deployment(kube, namespace, name="churn", version=None):
    def check():
        dep = deployment(kube, namespace, name)
        if dep is None:
            return None
        if version and dep["metadata"]["labels"].get("modelops.io/model-version") != version:
            return None
        return dep

    return eventually(check, timeout=60, what=f"Deployment {name} (version {version})")


def make_ready(kube, namespace, name="churn"):
    """Play the kubelet until the ModelDeployment reports Ready."""

    def check():
        play_kubelet(kube, namespace, name)
        body = get_md(kube, namespace, name)
        conditions = {c["type"]: c["status"] for c in body.get("status", {}).get("conditions", [])}
        return body if conditions.get("Ready") == "True" else None

    return eventually(check, timeout=90, interval=1.0, what=f"{name} Ready")


@contextlib.contextmanager
def pods_held_pending(control_plane):
    """Keep new pods Pending by cordoning kwok's simulated node.

    kwok makes scheduled pods Running and Ready within a second or two, so
    without this the not-ready state this test asserts is a race it can lose.
    On an existing cluster (no kwok) nothing is cordoned.
    """
    if not control_plane.with_kwok:
        yield
        return
    kubectl(control_plane, "cordon", NODE_NAME)
    try:
        yield
    finally:
        kubectl(control_plane, "uncordon", NODE_NAME)


def test_apply_creates_hardened_children_with_owner_references(kube, namespace, operator):
    created = apply_md(kube, namespace, md_manifest(version="1"))
    uid = created["metadata"]["uid"]
    dep = wait_deployment(kube, namespace)
    svc = eventually(lambda: kube.get("v1", "Service", namespace, "churn"), what="Service")

    owner = {
        "apiVersion": "modelops.io/v1alpha1",
        "kind": "ModelDeployment",
        "name": "churn",
        "uid": uid,
        "controller": True,
        "blockOwnerDeletion": True,
    }
    labels = {
        "app.kubernetes.io/managed-by": "modelops",
        "modelops.io/deployment": "churn",
        "modelops.io/track": "stable",
        "modelops.io/model-version": "1",
    }
    for child in (dep, svc):
        assert child["metadata"]["ownerReferences"] == [owner]
        assert labels.items() <= child["metadata"]["labels"].items()

    pod = dep["spec"]["template"]
    assert labels.items() <= pod["metadata"]["labels"].items()
    assert pod["metadata"]["annotations"]["prometheus.io/scrape"] == "true"
    container = pod["spec"]["containers"][0]
    env = {e["name"]: e.get("value") for e in container["env"]}
    assert env["MODELOPS_REGISTRY"] == "s3://models"
    assert env["MODELOPS_MODEL"] == "churn"
    assert env["MODELOPS_MODEL_VERSION"] == "1"
    assert env["BENTOML_DO_NOT_TRACK"] == "true"
    assert container["image"] == IMAGE
    assert container["readinessProbe"]["httpGet"]["path"] == "/readyz"
    assert container["livenessProbe"]["httpGet"]["path"] == "/livez"
    security = container["securityContext"]
    assert security["runAsNonRoot"] and security["readOnlyRootFilesystem"]
    assert security["allowPrivilegeEscalation"] is False
    assert security["capabilities"] == {"drop": ["ALL"]}
    assert security["seccompProfile"] == {"type": "RuntimeDefault"}
    mounts = {m["mountPath"] for m in container["volumeMounts"]}
    assert {"/tmp", env["BENTOML_HOME"]} <= mounts
    assert svc["spec"]["selector"] == {
        "app.kubernetes.io/managed-by": "modelops",
        "modelops.io/deployment": "churn",
    }
    # The real ReplicaSet controller made pods from the template (they stay
    # Pending without nodes).
    pods = eventually(
        lambda: kube.request(
            "GET",
            f"/api/v1/namespaces/{namespace}/pods",
            query={"labelSelector": "modelops.io/deployment=churn"},
        )["items"],
        what="pods",
    )
    assert pods[0]["spec"]["securityContext"]["runAsNonRoot"] is True

    body = eventually(
        lambda: (b := get_md(kube, namespace)).get("status", {}).get("stable") and b,
        what="status.stable",
    )
    assert body["status"]["stable"]["version"] == "1"
    assert body["status"]["observedGeneration"] == body["metadata"]["generation"]
    # kwok makes the pods ready within seconds, so the operator may already
    # report Stable here (test_ready_follows_the_child_deployment... holds the
    # pods Pending to check the not-ready side).
    assert body["status"]["phase"] in ("Progressing", "Stable")


def test_kubectl_get_md_shows_the_columns(kube, namespace, operator, control_plane):
    apply_md(kube, namespace, md_manifest(version="1"))
    make_ready(kube, namespace)
    table = kubectl(control_plane, "get", "md", "-n", namespace).stdout.splitlines()
    assert table[0].split() == [
        "NAME",
        "MODEL",
        "STABLE",
        "CANARY",
        "WEIGHT",
        "PHASE",
        "DRIFT",
        "AGE",
    ]
    row = table[1].split()
    assert row[:4] == ["churn", "churn", "1", "Stable"]
    # The other names of the resource work too.
    for name in ("mdep", "modeldeployments", "modelops"):
        assert "churn" in kubectl(control_plane, "get", name, "-n", namespace).stdout


def test_ready_follows_the_child_deployment_and_kubectl_wait_works(
    kube, namespace, operator, control_plane
):
    with pods_held_pending(control_plane):
        apply_md(kube, namespace, md_manifest(version="1"))
        wait_deployment(kube, namespace)
        wait_condition(kube, namespace, "churn", "Ready", "False")
        # Ready stays False while the pods are not ready.
        assert get_md(kube, namespace)["status"]["phase"] == "Progressing"
    make_ready(kube, namespace)
    kubectl(
        control_plane,
        "wait",
        "--for=condition=Ready",
        "md/churn",
        "-n",
        namespace,
        "--timeout=60s",
    )
    status = get_md(kube, namespace)["status"]
    assert status["phase"] == "Stable"
    assert "2/2 replicas available" in status["message"]


def test_version_change_rolls_stable_in_place_and_records_previous(
    kube, namespace, operator, control_plane
):
    apply_md(kube, namespace, md_manifest(version="1"))
    make_ready(kube, namespace)
    kube.request(
        "PATCH",
        f"/apis/modelops.io/v1alpha1/namespaces/{namespace}/modeldeployments/churn",
        body={"spec": {"model": {"version": "2"}}},
        content_type="application/merge-patch+json",
    )
    dep = wait_deployment(kube, namespace, version="2")
    env = {
        e["name"]: e.get("value") for e in dep["spec"]["template"]["spec"]["containers"][0]["env"]
    }
    assert env["MODELOPS_MODEL_VERSION"] == "2"
    status = eventually(
        lambda: (s := get_md(kube, namespace)["status"]).get("previous") and s,
        what="status.previous",
    )
    assert status["previous"]["version"] == "1"
    assert status["stable"]["version"] == "2"
    assert [h["version"] for h in status["history"]] == ["1", "2"]
    # The rolled Deployment becomes available once its new pods are ready.
    make_ready(kube, namespace)
    assert get_md(kube, namespace)["status"]["stable"]["version"] == "2"

    reasons = [e["reason"] for e in events_for(kube, namespace, "churn")]
    assert {"Created", "Available", "VersionChanged"} <= set(reasons)
    # The same events are what `kubectl get events` shows.
    shown = kubectl(
        control_plane,
        "get",
        "events",
        "-n",
        namespace,
        "--field-selector",
        "involvedObject.kind=ModelDeployment",
    ).stdout
    assert "VersionChanged" in shown and "stable version 1 -> 2" in shown


def test_delete_garbage_collects_the_children(kube, namespace, operator):
    apply_md(kube, namespace, md_manifest(version="1"))
    wait_deployment(kube, namespace)
    eventually(lambda: kube.get("v1", "Service", namespace, "churn"), what="Service")
    kube.delete("modelops.io/v1alpha1", "ModelDeployment", namespace, "churn")
    eventually(
        lambda: (
            deployment(kube, namespace) is None
            and kube.get("v1", "Service", namespace, "churn") is None
        ),
        timeout=90,
        what="children garbage-collected",
    )


def test_a_deleted_child_is_recreated(kube, namespace, operator):
    apply_md(kube, namespace, md_manifest(version="1"))
    first = wait_deployment(kube, namespace)
    kube.delete("apps/v1", "Deployment", namespace, "churn")
    again = eventually(
        lambda: (
            (d := deployment(kube, namespace))
            and d["metadata"]["uid"] != first["metadata"]["uid"]
            and d
        ),
        what="Deployment re-created",
    )
    assert again["metadata"]["labels"]["modelops.io/model-version"] == "1"


def _versions(kube, namespace):
    return {
        "md": get_md(kube, namespace)["metadata"]["resourceVersion"],
        "deployment": deployment(kube, namespace)["metadata"]["resourceVersion"],
        "service": kube.get("v1", "Service", namespace, "churn")["metadata"]["resourceVersion"],
    }


def test_restarting_the_operator_changes_nothing(kube, namespace, start_operator):
    first = start_operator(namespace, identity="first")
    apply_md(kube, namespace, md_manifest(version="1"))
    make_ready(kube, namespace)
    # Let the operator settle (the child watch and a resync pass) before measuring.
    eventually(
        lambda: first.metric("modelops_operator_reconciles_total", 'result="success"'),
        what="reconciles",
    )
    before = _versions(kube, namespace)
    events_before = len(events_for(kube, namespace, "churn"))
    assert first.stop() == 0

    second = start_operator(namespace, identity="second", resync=1.0)
    # The resume handler and at least two resync passes have run.
    eventually(
        lambda: (second.metric("modelops_operator_reconciles_total", 'result="success"') or 0) >= 3,
        what="second operator reconciled",
    )
    assert _versions(kube, namespace) == before
    assert len(events_for(kube, namespace, "churn")) == events_before


def test_metrics_and_liveness(kube, namespace, operator):
    apply_md(kube, namespace, md_manifest(version="1"))
    make_ready(kube, namespace)
    assert operator.live()
    eventually(
        lambda: operator.metric("modelops_operator_deployments", 'phase="Stable"') == 1.0,
        what="phase gauge",
    )
    text = operator.metrics()
    assert 'modelops_operator_reconciles_total{result="success"}' in text
    assert "modelops_operator_reconcile_duration_seconds_bucket" in text
    assert "modelops_operator_leader 1.0" in text


@pytest.mark.parametrize("replicas", [0])
def test_scaled_to_zero_is_reported(kube, namespace, operator, replicas):
    apply_md(kube, namespace, md_manifest(version="1", replicas=replicas))
    body = wait_condition(kube, namespace, "churn", "Ready", "False")
    eventually(
        lambda: (
            {c["type"]: c["reason"] for c in get_md(kube, namespace)["status"]["conditions"]}[
                "Ready"
            ]
            == "ScaledToZero"
        ),
        what="ScaledToZero",
    )
    assert body["status"]["stable"]["version"] == "1"
