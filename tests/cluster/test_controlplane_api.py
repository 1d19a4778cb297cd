"""API-server behaviour the operator depends on and no mock reproduces:
CRD establishment, structural-schema validation and the status subresource.

A small CRD of this file's own is used so these tests do not depend on the
ModelDeployment schema, which evolves separately.
"""

from __future__ import annotations

import uuid

import pytest
from kubernetes.client.rest import ApiException
from kubernetes.dynamic import DynamicClient

from tests.plugins.controlplane import install_crd, wait_established

GROUP = "controlplane-test.modelops.io"
PLURAL = "gadgets"
KIND = "Gadget"
CRD_NAME = f"{PLURAL}.{GROUP}"

GADGET_CRD = {
    "apiVersion": "apiextensions.k8s.io/v1",
    "kind": "CustomResourceDefinition",
    "metadata": {"name": CRD_NAME},
    "spec": {
        "group": GROUP,
        "scope": "Namespaced",
        "names": {"plural": PLURAL, "singular": "gadget", "kind": KIND},
        "versions": [
            {
                "name": "v1",
                "served": True,
                "storage": True,
                "subresources": {"status": {}},
                "schema": {
                    "openAPIV3Schema": {
                        "type": "object",
                        "properties": {
                            "spec": {
                                "type": "object",
                                "required": ["size"],
                                "properties": {
                                    "size": {"type": "integer", "minimum": 1, "maximum": 10},
                                    "colour": {"type": "string", "enum": ["red", "blue"]},
                                },
                            },
                            "status": {
                                "type": "object",
                                "properties": {"phase": {"type": "string"}},
                            },
                        },
                    }
                },
            }
        ],
    },
}


@pytest.fixture(scope="module")
def gadgets(control_plane, kube_client):
    """The Gadget resource of the dynamic client, with the CRD installed."""
    install_crd(kube_client, GADGET_CRD)
    resource = DynamicClient(kube_client).resources.get(api_version=f"{GROUP}/v1", kind=KIND)
    yield resource
    DynamicClient(kube_client).resources.get(
        api_version="apiextensions.k8s.io/v1", kind="CustomResourceDefinition"
    ).delete(name=CRD_NAME)


def gadget(name: str, **spec) -> dict:
    return {"apiVersion": f"{GROUP}/v1", "kind": KIND, "metadata": {"name": name}, "spec": spec}


def test_crd_becomes_established(gadgets, kube_client):
    crd = wait_established(kube_client, CRD_NAME)
    conditions = {c["type"]: c["status"] for c in crd["status"]["conditions"]}
    assert conditions["Established"] == "True"
    assert conditions["NamesAccepted"] == "True"
    assert crd["status"]["acceptedNames"]["kind"] == KIND


@pytest.mark.parametrize(
    ("spec", "field"),
    [
        ({"size": 11}, "spec.size"),
        ({"size": "big"}, "spec.size"),
        ({"colour": "red"}, "spec.size"),
        ({"size": 2, "colour": "green"}, "spec.colour"),
    ],
    ids=["above-maximum", "wrong-type", "missing-required", "not-in-enum"],
)
def test_object_violating_schema_is_refused(gadgets, namespace, spec, field):
    name = f"bad-{uuid.uuid4().hex[:6]}"
    with pytest.raises(ApiException) as refused:
        gadgets.create(body=gadget(name, **spec), namespace=namespace)
    assert refused.value.status == 422
    assert field in refused.value.body
    assert gadgets.get(namespace=namespace).items == []


def test_valid_object_is_accepted_and_status_on_create_is_dropped(gadgets, namespace):
    body = gadget("ok", size=3, colour="blue")
    body["status"] = {"phase": "Invented"}
    created = gadgets.create(body=body, namespace=namespace).to_dict()
    assert created["spec"] == {"size": 3, "colour": "blue"}
    assert "status" not in created
    assert created["metadata"]["generation"] == 1


def test_status_subresource_patch_works_and_main_resource_ignores_status(gadgets, namespace):
    gadgets.create(body=gadget("g", size=1), namespace=namespace)

    patched = gadgets.status.patch(
        name="g",
        namespace=namespace,
        body={"status": {"phase": "Ready"}},
        content_type="application/merge-patch+json",
    ).to_dict()
    assert patched["status"] == {"phase": "Ready"}
    # A status write is not a spec change: generation stays, so
    # observedGeneration logic in the operator keeps working.
    assert patched["metadata"]["generation"] == 1

    after_main = gadgets.patch(
        name="g",
        namespace=namespace,
        body={"spec": {"size": 2}, "status": {"phase": "Hijacked"}},
        content_type="application/merge-patch+json",
    ).to_dict()
    assert after_main["spec"]["size"] == 2
    assert after_main["metadata"]["generation"] == 2
    assert after_main["status"] == {"phase": "Ready"}
    assert gadgets.get(name="g", namespace=namespace).to_dict()["status"] == {"phase": "Ready"}


def test_stale_resource_version_is_a_conflict(gadgets, namespace):
    first = gadgets.create(body=gadget("c", size=1), namespace=namespace).to_dict()
    stale_version = first["metadata"]["resourceVersion"]
    gadgets.patch(
        name="c",
        namespace=namespace,
        body={"spec": {"size": 4}},
        content_type="application/merge-patch+json",
    )
    stale = gadget("c", size=5)
    stale["metadata"]["resourceVersion"] = stale_version
    with pytest.raises(ApiException) as conflict:
        gadgets.replace(body=stale, namespace=namespace)
    assert conflict.value.status == 409
    assert gadgets.get(name="c", namespace=namespace).to_dict()["spec"]["size"] == 4
