"""Pods reach the API server the way the operator will: through the
`kubernetes` Service with their ServiceAccount's token, verifying its CA."""

from __future__ import annotations

import json

from tests.node.support import apply, eventually, kubectl, pod, terminated


def _rbac(namespace: str) -> list[dict]:
    return [
        {
            "apiVersion": "v1",
            "kind": "ServiceAccount",
            "metadata": {"name": "reader", "namespace": namespace},
        },
        {
            "apiVersion": "rbac.authorization.k8s.io/v1",
            "kind": "Role",
            "metadata": {"name": "pod-reader", "namespace": namespace},
            "rules": [{"apiGroups": [""], "resources": ["pods"], "verbs": ["list"]}],
        },
        {
            "apiVersion": "rbac.authorization.k8s.io/v1",
            "kind": "RoleBinding",
            "metadata": {"name": "reader", "namespace": namespace},
            "roleRef": {
                "apiGroup": "rbac.authorization.k8s.io",
                "kind": "Role",
                "name": "pod-reader",
            },
            "subjects": [{"kind": "ServiceAccount", "name": "reader", "namespace": namespace}],
        },
    ]


def _run(cluster, namespace: str, name: str, image: str, path: str) -> tuple[dict, str]:
    reader = pod(name, namespace, image, ["kubeapi", path], serviceAccountName="reader")
    apply(cluster, reader)
    state = eventually(
        lambda: terminated(cluster, namespace, name), timeout=120, what=f"pod {name} to end"
    )
    return state, kubectl(cluster, "-n", namespace, "logs", name)


def test_service_account_reads_the_api_through_kubernetes_default_svc(
    node_cluster, node_namespace, probe_image
):
    apply(node_cluster, *_rbac(node_namespace))
    state, log = _run(
        node_cluster, node_namespace, "list-pods", probe_image,
        f"/api/v1/namespaces/{node_namespace}/pods",
    )  # fmt: skip
    assert state["exitCode"] == 0, log
    listing = json.loads(log)
    assert listing["kind"] == "PodList"
    assert "list-pods" in [p["metadata"]["name"] for p in listing["items"]]


def test_the_token_grants_only_what_rbac_grants(node_cluster, node_namespace, probe_image):
    apply(node_cluster, *_rbac(node_namespace))
    state, log = _run(
        node_cluster, node_namespace, "list-secrets", probe_image,
        f"/api/v1/namespaces/{node_namespace}/secrets",
    )  # fmt: skip
    assert state["exitCode"] == 1
    assert "HTTP 403" in log
    assert f"system:serviceaccount:{node_namespace}:reader" in log
