"""Canary rollouts against the real API server, controllers and kwok pods.

The real `modelops operator run` process reconciles; the analysis verdicts
come from a JSON file read through the file-backed metrics provider (the
protocol boundary), so each test chooses whether the canary is healthy.
"""

from __future__ import annotations

import subprocess
import time

import pytest

from tests.cluster.canary_support import (
    FAILING,
    HEALTHY,
    MetricsFile,
    annotate,
    canary_manifest,
    patch_spec,
    replicas,
    wait_phase,
    watch_rollout,
)
from tests.cluster.chart_support import chart_crds
from tests.plugins.operator import MODELOPS, apply_md, events_for, eventually, get_md

__all__ = ["chart_crds"]  # a fixture (Gateway API CRDs), used by name


@pytest.fixture
def metrics_file(tmp_path, monkeypatch) -> MetricsFile:
    path = tmp_path / "canary-metrics.json"
    # The operator subprocess inherits the environment through control_plane.env().
    monkeypatch.setenv("MODELOPS_METRICS_PROVIDER_FILE", str(path))
    return MetricsFile(path)


@pytest.fixture
def canary_operator(metrics_file, start_operator, namespace):
    return start_operator(namespace, resync=2.0)


def deploy_stable(kube, namespace, manifest):
    apply_md(kube, namespace, manifest)
    return wait_phase(kube, namespace, "Stable", stable=manifest["spec"]["model"]["version"])


def reasons(kube, namespace, name="churn"):
    return [e["reason"] for e in events_for(kube, namespace, name)]


def test_replica_ratio_promotes_through_every_step(kube, namespace, metrics_file, canary_operator):
    metrics_file.set(namespace, "churn", HEALTHY)
    deploy_stable(kube, namespace, canary_manifest("1"))
    assert replicas(kube, namespace, "churn") == 4

    patch_spec(kube, namespace, "churn", {"model": {"name": "churn", "version": "2"}})
    seen, status = watch_rollout(
        kube, namespace, lambda s: s.get("phase") == "Stable" and s["stable"]["version"] == "2"
    )
    # Weight 25 of 4 replicas is 3 + 1, weight 50 is 2 + 2 (routers/replica_ratio.py).
    assert (25, 3, 1) in seen, seen
    assert (50, 2, 2) in seen, seen
    assert seen.index((25, 3, 1)) < seen.index((50, 2, 2))
    assert status["previous"]["version"] == "1"
    assert status["history"][-1]["outcome"] == "Promoted"
    assert "canary" not in status
    eventually(
        lambda: kube.get("apps/v1", "Deployment", namespace, "churn-canary") is None,
        what="canary Deployment removed after promotion",
    )
    dep = kube.get("apps/v1", "Deployment", namespace, "churn")
    assert dep["metadata"]["labels"]["modelops.io/model-version"] == "2"
    assert dep["spec"]["replicas"] == 4
    found = reasons(kube, namespace)
    for reason in ("CanaryStarted", "CanaryStepAdvanced", "Promoting", "Promoted"):
        assert reason in found, found
    checks = {c["type"]: c["status"] for c in status["conditions"]}
    assert checks["AnalysisPassed"] == "True"
    weight = canary_operator.metric(
        "modelops_operator_canary_weight", 'deployment="churn",namespace="' + namespace + '"'
    )
    assert weight == 0.0
    assert canary_operator.metric("modelops_operator_rollouts_total", 'outcome="Promoted"') == 1.0


def test_gateway_api_rolls_back_and_does_not_fight_git(
    kube, namespace, metrics_file, canary_operator, chart_crds
):
    router = {"type": "GatewayAPI", "gatewayAPI": {"parentRefs": [{"name": "web"}]}}
    metrics_file.set(namespace, "churn", HEALTHY)
    deploy_stable(kube, namespace, canary_manifest("1", steps=(20, 40), trafficRouter=router))
    route = eventually(
        lambda: kube.get("gateway.networking.k8s.io/v1", "HTTPRoute", namespace, "churn"),
        what="HTTPRoute",
    )
    assert [b["name"] for b in route["spec"]["rules"][0]["backendRefs"]] == [
        "churn-stable",
        "churn-canary",
    ]
    for track in ("stable", "canary"):
        svc = kube.get("v1", "Service", namespace, f"churn-{track}")
        assert svc["spec"]["selector"]["modelops.io/track"] == track

    metrics_file.set(namespace, "churn", FAILING)
    patch_spec(kube, namespace, "churn", {"model": {"name": "churn", "version": "2"}})
    seen, status = watch_rollout(
        kube, namespace, lambda s: s.get("phase") == "RolledBack", route="churn"
    )
    assert (20, 4, 1, (80, 20)) in seen, seen

    def route_weights():
        obj = kube.get("gateway.networking.k8s.io/v1", "HTTPRoute", namespace, "churn")
        return [b["weight"] for b in obj["spec"]["rules"][0]["backendRefs"]]

    eventually(lambda: route_weights() == [100, 0], what="all traffic back on stable")
    eventually(lambda: replicas(kube, namespace, "churn-canary") == 0, what="canary scaled to 0")
    assert replicas(kube, namespace, "churn") == 4
    assert status["stable"]["version"] == "1"
    assert status["rejected"]["version"] == "2"
    assert "error-rate 0.3 > max 0.01" in status["rejected"]["reason"]
    assert status["history"][-1]["outcome"] == "RolledBack"
    # Events follow the status write: wait for it.
    rolled = eventually(
        lambda: [e for e in events_for(kube, namespace, "churn") if e["reason"] == "RolledBack"],
        what="RolledBack event",
    )
    assert len(rolled) == 1 and rolled[0]["type"] == "Warning"
    text = canary_operator.metrics()
    lines = [line for line in text.splitlines() if "rollouts" in line or "analysis" in line]
    assert 'modelops_operator_rollouts_total{outcome="RolledBack"} 1.0' in text, lines
    assert "error-rate 0.3 > max 0.01" in rolled[0]["message"]

    # Git still names version 2: the operator keeps stable 1 for several intervals.
    metrics_file.set(namespace, "churn", HEALTHY)
    started = reasons(kube, namespace).count("CanaryStarted")
    for _ in range(3):
        time.sleep(2)  # one interval; the resync reconciles every 2 s as well
        status = get_md(kube, namespace).get("status") or {}
        assert status["phase"] == "RolledBack"
        assert replicas(kube, namespace, "churn-canary") == 0
    assert reasons(kube, namespace).count("CanaryStarted") == started

    # The promote annotation retries the rejected version once; healthy now, it goes through.
    annotate(kube, namespace, "churn", "modelops.io/promote", "retry-1")
    status = wait_phase(kube, namespace, "Stable", stable="2", timeout=120)
    assert status["actions"]["promote"] == "retry-1"
    assert "rejected" not in status


def rollout_cli(control_plane, action: str, namespace: str) -> str:
    result = subprocess.run(
        [str(MODELOPS), "rollout", action, "churn", "-n", namespace],
        env=control_plane.env(),
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert result.returncode == 0, result.stderr
    return result.stdout


def test_abort_then_instant_rollback_on_spec_revert(
    kube, namespace, metrics_file, canary_operator, control_plane
):
    metrics_file.set(namespace, "churn", HEALTHY)
    deploy_stable(kube, namespace, canary_manifest("1", interval="1h"))

    patch_spec(kube, namespace, "churn", {"model": {"name": "churn", "version": "2"}})
    eventually(
        lambda: (get_md(kube, namespace).get("status", {}).get("canary") or {}).get("weight") == 25,
        what="canary at step 1",
    )
    # Through the CLI, as a person would: status shows the step, abort sets a fresh token.
    shown = rollout_cli(control_plane, "status", namespace)
    assert "phase Progressing" in shown and "[25%]" in shown, shown
    said = rollout_cli(control_plane, "abort", namespace)
    token = said.split("modelops.io/abort=")[1].split()[0]
    status = wait_phase(kube, namespace, "RolledBack")
    assert f"aborted by annotation modelops.io/abort={token}" in status["rejected"]["reason"]
    assert status["actions"]["abort"] == token
    assert "modelops rollout promote churn" in rollout_cli(control_plane, "status", namespace)
    eventually(lambda: replicas(kube, namespace, "churn-canary") == 0, what="canary scaled to 0")
    assert replicas(kube, namespace, "churn") == 4

    # A new version starts a new canary (the handled abort token is not re-applied) ...
    patch_spec(kube, namespace, "churn", {"model": {"name": "churn", "version": "3"}})
    eventually(
        lambda: (get_md(kube, namespace).get("status", {}).get("canary") or {}).get("weight") == 25,
        what="canary 3 at step 1",
    )
    # ... and going back to the stable version mid-rollout is an instant rollback.
    patch_spec(kube, namespace, "churn", {"model": {"name": "churn", "version": "1"}})
    status = wait_phase(kube, namespace, "Stable", stable="1")
    assert "canary" not in status and "rejected" not in status
    assert status["history"][-1]["outcome"] == "RolledBack"
    assert "spec returned to stable version 1" in status["history"][-1]["reason"]
    eventually(
        lambda: kube.get("apps/v1", "Deployment", namespace, "churn-canary") is None,
        what="canary Deployment deleted",
    )
