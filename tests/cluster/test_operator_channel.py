"""The @latest-approved channel, resolved through the real registry (file://)."""

from __future__ import annotations

from modelops_registry import Registry
from tests.plugins.operator import apply_md, events_for, eventually, get_md, md_manifest


def publish(registry: Registry, status: str) -> str:
    return registry.publish("churn", {"model.ubj": b"not a real model"}, {"status": status})


def served_version(kube, namespace):
    dep = kube.get("apps/v1", "Deployment", namespace, "churn")
    return dep and dep["metadata"]["labels"]["modelops.io/model-version"]


def test_channel_follows_the_newest_approved_version(kube, namespace, start_operator, tmp_path):
    uri = f"file://{tmp_path / 'registry'}"
    registry = Registry.from_uri(uri)
    approved = publish(registry, "approved")
    publish(registry, "rejected")  # newer, but it failed its gates
    start_operator(namespace, resync=1.0)
    apply_md(
        kube,
        namespace,
        md_manifest(version="@latest-approved", registry={"uri": uri}),
    )
    eventually(lambda: served_version(kube, namespace) == approved, what="approved version served")
    assert get_md(kube, namespace)["status"]["resolvedVersion"] == approved

    # A newly approved version reaches the stable track on a later resync
    # without any change to the spec (the Immediate strategy rolls it in place).
    newer = publish(registry, "approved")
    eventually(lambda: served_version(kube, namespace) == newer, timeout=60, what="newer served")
    status = get_md(kube, namespace)["status"]
    assert status["previous"]["version"] == approved
    assert status["resolvedVersion"] == newer


def test_a_channel_without_approved_versions_fails_visibly(kube, namespace, operator, tmp_path):
    uri = f"file://{tmp_path / 'registry'}"
    publish(Registry.from_uri(uri), "rejected")
    apply_md(kube, namespace, md_manifest(version="@latest-approved", registry={"uri": uri}))
    status = eventually(
        lambda: (s := get_md(kube, namespace).get("status")) and s.get("phase") == "Failed" and s,
        what="phase Failed",
    )
    assert "no approved version" in status["message"]
    assert kube.get("apps/v1", "Deployment", namespace, "churn") is None
    reasons = [e["reason"] for e in events_for(kube, namespace, "churn")]
    assert reasons == ["VersionResolveFailed"]
