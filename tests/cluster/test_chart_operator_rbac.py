"""The real operator, started with the container arguments of the installed
chart's Deployment and logged in as the chart's ServiceAccount (a token from
the TokenRequest API, nothing else), does its whole job in namespaced mode: wins
the leader Lease, creates the children, writes status and posts Events,
without a single Forbidden answer. This is the proof that the chart's RBAC is
not only small but sufficient."""

from __future__ import annotations

import json
import uuid
from pathlib import Path

import yaml

from tests.chart_tools import CHART_DIR, helm, tool_env
from tests.cluster.chart_support import chart_crds, helm_env, kubectl
from tests.plugins.controlplane import eventually
from tests.plugins.operator import (
    MODELOPS,
    OperatorProcess,
    apply_md,
    events_for,
    md_manifest,
    play_kubelet,
    wait_condition,
)

__all__ = ["chart_crds"]  # a fixture, used by name


def service_account_kubeconfig(plane, namespace: str, account: str, path: Path) -> Path:
    """The admin kubeconfig with its credentials replaced by the account's token."""
    token = kubectl(
        plane, "create", "token", account, "--namespace", namespace, "--duration", "1h"
    ).stdout.strip()
    config = yaml.safe_load(Path(plane.kubeconfig).read_text())
    for user in config["users"]:
        user["user"] = {"token": token}
    path.write_text(yaml.safe_dump(config))
    return path


def chart_operator_args(plane, namespace: str, name: str, pod: str) -> list[str]:
    """The installed Deployment's container args, as the kubelet would expand them.

    The pod's 0.0.0.0 binds become loopback ones: the test runs the process
    on this machine, and OperatorProcess then appends free ports.
    """
    deployment = json.loads(
        kubectl(plane, "get", "deployment", name, "-n", namespace, "-o", "json").stdout
    )
    (container,) = deployment["spec"]["template"]["spec"]["containers"]
    return [
        arg.replace("$(POD_NAMESPACE)", namespace)
        .replace("$(POD_NAME)", pod)
        .replace("0.0.0.0", "127.0.0.1")
        for arg in container["args"]
    ]


def test_operator_runs_with_only_the_chart_rbac(
    control_plane, chart_crds, kube, namespace: str, tmp_path: Path
) -> None:
    release_ns = f"chart-op-{uuid.uuid4().hex[:8]}"
    release = f"mo-{uuid.uuid4().hex[:6]}"
    fullname = f"{release}-modelops-operator"
    kubectl(control_plane, "create", "namespace", release_ns)
    helm_environment = helm_env(control_plane)
    operator = None
    try:
        helm(
            "install",
            release,
            str(CHART_DIR),
            "--namespace",
            release_ns,
            "--set",
            f"watch.namespaces={{{namespace}}}",
            env=helm_environment,
        )
        config = service_account_kubeconfig(
            control_plane, release_ns, fullname, tmp_path / "operator.kubeconfig"
        )
        pod = f"{fullname}-0"
        args = chart_operator_args(control_plane, release_ns, fullname, pod)
        assert f"--namespace={namespace}" in args and "--leader-election" in args
        env = {**tool_env(), "KUBECONFIG": str(config)}
        operator = OperatorProcess([str(MODELOPS), *args], env, tmp_path / "operator.log", pod)
        eventually(
            lambda: operator.leading() or not operator.running(),
            timeout=90,
            what="the chart-configured operator leading",
        )
        assert operator.running(), operator.log[-4000:]
        lease = kubectl(
            control_plane,
            "get",
            "lease",
            fullname,
            "-n",
            release_ns,
            "-o",
            "jsonpath={.spec.holderIdentity}",
        )
        assert lease.stdout == operator.identity

        apply_md(kube, namespace, md_manifest(version="1"))
        eventually(
            lambda: kube.get("apps/v1", "Deployment", namespace, "churn"),
            timeout=60,
            what="child Deployment created by the operator as its ServiceAccount",
        )
        assert kube.get("v1", "Service", namespace, "churn") is not None
        eventually(
            lambda: play_kubelet(kube, namespace, "churn"), timeout=60, what="pods to mark ready"
        )
        body = wait_condition(kube, namespace, "churn", "Ready", timeout=90)
        assert body["status"]["stable"]["version"] == "1"
        events = eventually(
            lambda: events_for(kube, namespace, "churn"), timeout=30, what="operator events"
        )
        assert all(e["source"]["component"] == "modelops-operator" for e in events)
        log = operator.log
        assert "Forbidden" not in log and "HTTP 403" not in log, log[-4000:]
        # kopf's discovery (CRDs, namespaces) works too: it falls back with
        # this warning when the chart's read-only discovery role is missing.
        assert "Not enough permissions" not in log, log[-4000:]
    finally:
        if operator is not None:
            operator.stop()
        helm(
            "uninstall",
            release,
            "--namespace",
            release_ns,
            "--wait",
            env=helm_environment,
            check=False,
        )
        kubectl(control_plane, "delete", "namespace", release_ns, "--wait=false", check=False)
