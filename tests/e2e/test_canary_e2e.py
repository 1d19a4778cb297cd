"""Canary end to end with real parts: the bad version is rolled back, the good promoted.

Real: the control plane (API server, controllers, kwok pods), the operator
process, Debian's Prometheus scraping two `bentoml serve` churn servers every
second, and the HTTP traffic. The two servers stand in for the stable and
canary pods (kwok pods run no containers); Prometheus labels them as
relabelled pod labels would be. The load generator splits requests by the
weight the operator currently sets, so the canary only sees the traffic the
operator gives it.

The rollback bound is asserted in analysis intervals, not seconds: the canary
starts failing at its first step, and it must be rolled back by the analysis
that counts its failureLimit-th (2nd) failure, i.e. within two intervals.
Seconds are measured by benchmarks/canary_rollback.py.
"""

from __future__ import annotations

import pytest

from tests.e2e.canary_support import LoadGenerator, WeightWatcher, prometheus
from tests.plugins.bentos import bentoml_server
from tests.plugins.operator import apply_md, eventually, get_md, md_manifest

INTERVAL_SECONDS = 4


def manifest(address: str, version: str) -> dict:
    return md_manifest(
        version=version,
        replicas=2,
        rollout={
            "strategy": "Canary",
            "steps": [20, 50],
            "interval": f"{INTERVAL_SECONDS}s",
            "analysis": {
                "prometheus": {"address": address, "timeout": "3s"},
                "minRequests": 10,
                "failureLimit": 2,
                "metrics": [
                    {"name": "error-rate", "max": 0.05},
                    {"name": "latency-p99", "max": 1.0},
                    # A custom PromQL check with the placeholders the operator fills in.
                    {
                        "name": "served",
                        "query": 'sum(increase(modelops_requests_total{namespace="{{namespace}}",'
                        'deployment="{{deployment}}",track="{{track}}",status="200"}[{{interval}}]))',
                        "min": 1,
                    },
                ],
            },
        },
    )


@pytest.fixture(scope="module")
def stable_server(churn_model, tmp_path_factory):
    """The stable track's server, shared: only the canary differs between tests."""
    with bentoml_server(churn_model, tmp_path_factory.mktemp("stable-logs")) as server:
        yield server


@pytest.fixture
def tracks(churn_model, stable_server, tmp_path):
    """Factory: (stable server, canary server started with `fault_env`)."""
    stack = []

    def start(fault_env: dict[str, str]):
        canary = bentoml_server(churn_model, tmp_path, env_extra=fault_env)
        stack.append(canary)
        return stable_server, canary.__enter__()

    yield start
    for cm in reversed(stack):
        cm.__exit__(None, None, None)


def run_rollout(kube, namespace, start_operator, monkeypatch, tmp_path, tracks, fault_env):
    stable, canary = tracks(fault_env)
    targets = {
        track: (
            server.url.removeprefix("http://"),
            {"namespace": namespace, "deployment": "churn", "track": track},
        )
        for track, server in (("stable", stable), ("canary", canary))
    }
    # The operator's own metrics must not switch to multiprocess mode
    # (the serving fixtures set this variable for the in-process bento).
    monkeypatch.delenv("PROMETHEUS_MULTIPROC_DIR", raising=False)
    monkeypatch.delenv("MODELOPS_METRICS_PROVIDER_FILE", raising=False)
    with prometheus(tmp_path, targets) as prom:
        operator = start_operator(namespace, resync=2.0)
        apply_md(kube, namespace, manifest(prom.address, "1"))
        eventually(
            lambda: (get_md(kube, namespace).get("status") or {}).get("phase") == "Stable",
            timeout=90,
            what="stable version 1",
        )
        watcher = WeightWatcher(lambda: get_md(kube, namespace))
        load = LoadGenerator(stable.url, canary.url, lambda: watcher.current)
        watcher.start()
        load.start()
        try:
            kube.request(
                "PATCH",
                f"/apis/modelops.io/v1alpha1/namespaces/{namespace}/modeldeployments/churn",
                body={"spec": {"model": {"name": "churn", "version": "2"}}},
                content_type="application/merge-patch+json",
            )

            def done():
                status = get_md(kube, namespace).get("status") or {}
                if status.get("phase") == "RolledBack":
                    return status
                if status.get("phase") == "Stable" and status["stable"]["version"] == "2":
                    return status
                return None

            status = eventually(done, timeout=120, interval=0.3, what="rollout finished")
        finally:
            load.stop()
            watcher.stop()
        return status, load, watcher, operator


def test_bad_canary_is_rolled_back_within_two_intervals(
    kube, namespace, start_operator, monkeypatch, tmp_path, tracks
):
    status, load, watcher, operator = run_rollout(
        kube,
        namespace,
        start_operator,
        monkeypatch,
        tmp_path,
        tracks,
        {"MODELOPS_FAULT_ERROR_RATE": "0.5"},
    )
    assert status["phase"] == "RolledBack", status
    assert status["stable"]["version"] == "1"
    assert load.first_canary_error is not None, "the canary never failed a request"
    reason = status["rejected"]["reason"]
    assert "error-rate" in reason and "> max 0.05" in reason, reason
    # Errors started at step 1 (the canary fails from its first request) and the
    # rollback came from the analysis counting the 2nd failure at that same step:
    # two analyses, i.e. within two intervals of the first errors.
    assert "at step 1/2" in reason, reason
    assert "failed or inconclusive analyses: 2/2" in reason, reason
    weights = [w for _, w, _ in watcher.changes]
    assert 20 in weights and 50 not in weights, watcher.changes
    assert load.errors["stable"] == 0
    # Metrics are recorded after the status write, children and events: wait for them.
    eventually(
        lambda: 'modelops_operator_rollouts_total{outcome="RolledBack"} 1.0' in operator.metrics(),
        what="rollouts_total RolledBack 1 in the operator metrics",
    )
    elapsed = next(t for t, w, p in watcher.changes if p == "RolledBack") - load.first_canary_error
    print(
        f"first canary error -> weight 0: {elapsed:.1f}s = {elapsed / INTERVAL_SECONDS:.2f} intervals"
    )


def test_good_canary_is_promoted_through_every_step(
    kube, namespace, start_operator, monkeypatch, tmp_path, tracks
):
    status, load, watcher, operator = run_rollout(
        kube, namespace, start_operator, monkeypatch, tmp_path, tracks, {}
    )
    assert status["phase"] == "Stable" and status["stable"]["version"] == "2", status
    assert status["history"][-1]["outcome"] == "Promoted"
    weights = [w for _, w, _ in watcher.changes]
    assert weights.index(20) < weights.index(50), watcher.changes
    assert load.sent["canary"] > 0 and load.errors["canary"] == 0
    eventually(
        lambda: 'modelops_operator_rollouts_total{outcome="Promoted"} 1.0' in operator.metrics(),
        what="rollouts_total Promoted 1 in the operator metrics",
    )
    custom = operator.metric(
        "modelops_operator_analysis_checks_total", 'check="served",verdict="Pass"'
    )
    assert custom is not None and custom >= 2.0, custom
    passes = operator.metric(
        "modelops_operator_analysis_checks_total", 'check="error-rate",verdict="Pass"'
    )
    assert passes is not None and passes >= 2.0, passes
