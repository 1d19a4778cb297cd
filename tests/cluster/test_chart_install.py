"""The Helm chart against a real kube-apiserver: every rendered manifest is
accepted server-side (with the ModelDeployment, Gateway API and
prometheus-operator CRDs installed), and a real `helm install` / `uninstall`
works with every optional part on."""

from __future__ import annotations

import uuid
from pathlib import Path

import pytest
import yaml

from tests.chart_tools import (
    ALL_ENABLED,
    CHART_DIR,
    helm,
    render_text,
)
from tests.cluster.chart_support import chart_crds, helm_env, kubectl

__all__ = ["chart_crds"]  # a fixture, used by name


def release_name() -> str:
    # ClusterRoles are cluster-scoped: each test's release gets its own names.
    return f"mo-{uuid.uuid4().hex[:6]}"


def test_third_party_crds_are_served(control_plane, chart_crds: list[str]) -> None:
    assert {
        "httproutes.gateway.networking.k8s.io",
        "gateways.gateway.networking.k8s.io",
        "servicemonitors.monitoring.coreos.com",
        "podmonitors.monitoring.coreos.com",
    } <= set(chart_crds)
    resources = kubectl(control_plane, "api-resources", "-o", "name").stdout.split()
    assert "servicemonitors.monitoring.coreos.com" in resources
    assert "httproutes.gateway.networking.k8s.io" in resources
    assert "modeldeployments.modelops.io" in resources


def test_chart_crd_applies_server_side(control_plane) -> None:
    proc = kubectl(
        control_plane,
        "apply",
        "--server-side",
        "--dry-run=server",
        "--field-manager=modelops-chart-test",
        "--force-conflicts",
        "-f",
        str(CHART_DIR / "crds"),
    )
    assert (
        "customresourcedefinition.apiextensions.k8s.io/modeldeployments.modelops.io" in proc.stdout
    )


@pytest.mark.parametrize(
    "values",
    [None, ALL_ENABLED, "namespaced"],
    ids=["default", "all-enabled", "namespaced-all-enabled"],
)
def test_rendered_chart_passes_server_side_dry_run(
    control_plane, chart_crds, namespace: str, tmp_path: Path, values
) -> None:
    if values == "namespaced":
        values = {**ALL_ENABLED, "watch": {"namespaces": [namespace]}}
    manifest = render_text(tmp_path, values, release=release_name(), namespace=namespace)
    kinds = {doc["kind"] for doc in yaml.safe_load_all(manifest) if doc}
    proc = kubectl(control_plane, "apply", "--dry-run=server", "-f", "-", input=manifest)
    # One "(server dry run)" line per object: nothing was refused or skipped.
    lines = [line for line in proc.stdout.splitlines() if line.strip()]
    assert len(lines) == len([d for d in yaml.safe_load_all(manifest) if d]), proc.stdout
    assert all(line.endswith("(server dry run)") for line in lines), proc.stdout
    if values:
        assert {"ServiceMonitor", "PodMonitor", "ConfigMap"} <= kinds


def test_helm_install_upgrade_uninstall(
    control_plane, chart_crds, namespace: str, tmp_path: Path
) -> None:
    release = release_name()
    values = tmp_path / "values.yaml"
    values.write_text(yaml.safe_dump(ALL_ENABLED))
    env = helm_env(control_plane)
    install = helm(
        "install",
        release,
        str(CHART_DIR),
        "--namespace",
        namespace,
        "--values",
        str(values),
        env=env,
    )
    try:
        assert "STATUS: deployed" in install.stdout
        # NOTES.txt tells users how to upgrade the CRD Helm will not touch.
        assert "kubectl apply --server-side -f" in install.stdout
        fullname = f"{release}-modelops-operator"
        for kind, name in [
            ("deployment", fullname),
            ("serviceaccount", fullname),
            ("service", f"{fullname}-metrics"),
            ("servicemonitor", fullname),
            ("podmonitor", f"{fullname}-models"),
            ("configmap", f"{fullname}-dashboard"),
            ("networkpolicy", fullname),
            ("poddisruptionbudget", fullname),
            ("role", f"{fullname}-leader-election"),
        ]:
            kubectl(control_plane, "get", kind, name, "-n", namespace)
        kubectl(control_plane, "get", "clusterrole", fullname, f"{fullname}-discovery")
        upgrade = helm(
            "upgrade",
            release,
            str(CHART_DIR),
            "--namespace",
            namespace,
            "--reuse-values",
            "--set",
            "replicaCount=3",
            env=env,
        )
        assert "STATUS: deployed" in upgrade.stdout
        replicas = kubectl(
            control_plane,
            "get",
            "deployment",
            fullname,
            "-n",
            namespace,
            "-o",
            "jsonpath={.spec.replicas}",
        ).stdout
        assert replicas == "3"
    finally:
        helm("uninstall", release, "--namespace", namespace, "--wait", env=env, check=False)
    gone = kubectl(control_plane, "get", "clusterrole", fullname, check=False)
    assert gone.returncode != 0 and "NotFound" in gone.stderr
    # Helm keeps the CRD: ModelDeployments survive an uninstall of the operator.
    kubectl(control_plane, "get", "crd", "modeldeployments.modelops.io")
