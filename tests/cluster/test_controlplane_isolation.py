"""Each test gets its own namespace: objects of one test are invisible to another.

The same test runs twice with the same object names; if namespaces leaked,
the second run would hit AlreadyExists or list the first run's objects.
"""

from __future__ import annotations

import pytest
from kubernetes.dynamic import DynamicClient

LABEL = "modelops.io/isolation-probe"


@pytest.mark.parametrize("owner", ["first", "second"])
def test_namespaces_do_not_see_each_other(kube_client, namespace, owner):
    configmaps = DynamicClient(kube_client).resources.get(api_version="v1", kind="ConfigMap")
    for name in ("probe", "shared-name"):
        configmaps.create(
            body={
                "apiVersion": "v1",
                "kind": "ConfigMap",
                "metadata": {"name": name, "labels": {LABEL: owner}},
                "data": {"owner": owner},
            },
            namespace=namespace,
        )

    mine = configmaps.get(namespace=namespace, label_selector=LABEL).to_dict()["items"]
    assert sorted(o["metadata"]["name"] for o in mine) == ["probe", "shared-name"]
    assert {o["data"]["owner"] for o in mine} == {owner}

    # Across the cluster, this test's labelled objects live only in its namespace.
    everywhere = configmaps.get(label_selector=f"{LABEL}={owner}").to_dict()["items"]
    assert [o["metadata"]["namespace"] for o in everywhere] == [namespace, namespace]


def test_two_namespaces_at_once_hold_same_names_independently(kube_client, namespace):
    """Two namespaces alive at the same time, same object name, separate data."""
    client = DynamicClient(kube_client)
    namespaces = client.resources.get(api_version="v1", kind="Namespace")
    configmaps = client.resources.get(api_version="v1", kind="ConfigMap")
    other = f"{namespace}-b"
    namespaces.create(body={"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": other}})
    try:
        for ns in (namespace, other):
            configmaps.create(
                body={
                    "apiVersion": "v1",
                    "kind": "ConfigMap",
                    "metadata": {"name": "same"},
                    "data": {"ns": ns},
                },
                namespace=ns,
            )
        assert configmaps.get(name="same", namespace=namespace).data.ns == namespace
        assert configmaps.get(name="same", namespace=other).data.ns == other
        configmaps.delete(name="same", namespace=other)
        assert configmaps.get(name="same", namespace=namespace).data.ns == namespace
    finally:
        namespaces.delete(name=other, propagation_policy="Background")
