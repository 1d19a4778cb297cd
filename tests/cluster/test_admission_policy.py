"""The chart's retraining ServiceAccount policy on the real API server.

The chart's ValidatingAdmissionPolicy and binding are rendered with helm
(scoped to this test's namespace through watch.namespaces, so the
cluster-scoped policy cannot touch other tests) and applied; then
ModelDeployments are created and patched against it.
"""

from __future__ import annotations

import copy
import uuid
from pathlib import Path

import pytest
import yaml

from modelops_operator.adapters.kube import KubeError, path_for
from tests.chart_tools import render_text
from tests.cluster.chart_support import kubectl
from tests.plugins.operator import apply_md, eventually, md_manifest

ALLOWED = ["default", "trainer"]
FIELD = "spec.retraining.jobTemplate.spec.template.spec"


def with_account(name: str = "churn", **pod) -> dict:
    container = {"name": "train", "image": "ghcr.io/acme/modelops-training:0.1.0"}
    template = {"spec": {"template": {"spec": {"containers": [container], **pod}}}}
    body = md_manifest(retraining={"jobTemplate": template})
    body["metadata"]["name"] = name
    return body


def dry_run(kube, namespace: str, body: dict) -> None:
    body = copy.deepcopy(body)
    body["metadata"]["namespace"] = namespace
    kube.request(
        "POST",
        path_for("modelops.io/v1alpha1", "ModelDeployment", namespace),
        query={"dryRun": "All"},
        body=body,
    )


def refused(kube, namespace: str, body: dict) -> str | None:
    """The API server's message when the create is refused, None when it is admitted."""
    try:
        dry_run(kube, namespace, body)
    except KubeError as exc:
        return exc.message
    return None


@pytest.fixture
def policy(control_plane, kube, namespace: str, tmp_path: Path):
    release = f"ap-{uuid.uuid4().hex[:6]}"
    values = {
        "admission": {"retrainingServiceAccounts": ALLOWED},
        "watch": {"namespaces": [namespace]},
    }
    manifest = render_text(tmp_path, values, release=release, namespace=namespace)
    objects = [
        doc
        for doc in yaml.safe_load_all(manifest)
        if doc and doc["kind"].startswith("ValidatingAdmissionPolicy")
    ]
    assert len(objects) == 2, [o["kind"] for o in objects]
    text = yaml.safe_dump_all(objects)
    kubectl(control_plane, "apply", "-f", "-", input=text)
    try:
        # A new policy takes effect asynchronously: wait until it refuses.
        eventually(
            lambda: refused(kube, namespace, with_account(serviceAccountName="admin")),
            timeout=60,
            what="the admission policy in effect",
        )
        yield objects
    finally:
        kubectl(control_plane, "delete", "-f", "-", "--wait=false", input=text, check=False)


def test_an_account_outside_the_list_is_refused_naming_the_field(kube, namespace, policy):
    message = refused(kube, namespace, with_account(serviceAccountName="admin"))
    assert f'{FIELD}.serviceAccountName: retraining Jobs may not run as ServiceAccount "admin"' in (
        message
    )
    assert "allowed: default, trainer" in message
    assert "admission.retrainingServiceAccounts" in message


@pytest.mark.parametrize(
    "pod",
    [{}, {"serviceAccountName": "trainer"}, {"serviceAccountName": "default"}],
    ids=["no-account", "listed", "default"],
)
def test_listed_accounts_are_admitted(kube, namespace, policy, pod):
    assert refused(kube, namespace, with_account(**pod)) is None


def test_the_deprecated_alias_is_checked_too(kube, namespace, policy):
    message = refused(kube, namespace, with_account(serviceAccount="admin"))
    assert f'{FIELD}.serviceAccount: retraining Jobs may not run as ServiceAccount "admin"' in (
        message
    )
    both = refused(kube, namespace, with_account(serviceAccountName="trainer", serviceAccount="x"))
    assert f"{FIELD}.serviceAccount:" in both


def test_an_update_to_an_account_outside_the_list_is_refused(kube, namespace, policy):
    created = apply_md(kube, namespace, with_account(serviceAccountName="trainer"))
    patch = {"spec": {"retraining": with_account(serviceAccountName="admin")["spec"]["retraining"]}}
    with pytest.raises(KubeError) as update:
        kube.request(
            "PATCH",
            path_for("modelops.io/v1alpha1", "ModelDeployment", namespace, "churn"),
            body=patch,
            content_type="application/merge-patch+json",
        )
    assert f'{FIELD}.serviceAccountName: retraining Jobs may not run as ServiceAccount "admin"' in (
        update.value.message
    )
    stored = kube.get_model_deployment(namespace, "churn")
    assert stored["metadata"]["resourceVersion"] == created["metadata"]["resourceVersion"]


def test_other_namespaces_are_not_bound(kube, namespace, policy, control_plane):
    other = f"unbound-{uuid.uuid4().hex[:6]}"
    kubectl(control_plane, "create", "namespace", other)
    try:
        assert refused(kube, other, with_account(serviceAccountName="admin")) is None
    finally:
        kubectl(control_plane, "delete", "namespace", other, "--wait=false", check=False)
