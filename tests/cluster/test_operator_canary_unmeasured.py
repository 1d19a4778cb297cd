"""A canary that nothing could measure never advances: the real operator, the real API server.

Two ways to measure nothing, each on a real rollout of version 2 over a stable
version 1 (kwok pods, the real `modelops operator run` process):

* Prometheus unreachable: no metrics-file seam, the operator's real
  Prometheus provider queries an address where nothing listens;
* no traffic: the metrics file reports healthy check values but 0 canary
  requests, so the values mean nothing.

In both, the weight must stay at the first step (25 %), every analysis must
be Inconclusive, and failureLimit (2) inconclusive analyses roll the canary
back; stable keeps serving version 1. The unit layer covers the same verdicts
(tests/unit/operator/rollout/test_canary_nothing_measured.py); this proves the
operator wires them the same way end to end.
"""

from __future__ import annotations

import pytest

from tests.cluster.canary_support import (
    HEALTHY,
    MetricsFile,
    canary_manifest,
    patch_spec,
    replicas,
    wait_phase,
    watch_rollout,
)
from tests.plugins.operator import apply_md, eventually

UNREACHABLE = "http://127.0.0.1:9"  # the discard port: nothing answers there
NO_TRAFFIC = {**HEALTHY, "requests": 0}


def roll_out_version_2(kube, namespace, manifest) -> tuple[list[tuple], dict]:
    apply_md(kube, namespace, manifest)
    wait_phase(kube, namespace, "Stable", stable="1")
    patch_spec(kube, namespace, "churn", {"model": {"name": "churn", "version": "2"}})
    return watch_rollout(kube, namespace, lambda s: s.get("phase") in ("RolledBack", "Stable")
                         and (s.get("stable") or {}).get("version") == "1"
                         and "rejected" in s)  # fmt: skip


def assert_never_advanced(kube, namespace, seen, status, reason):
    weights = {state[0] for state in seen if state[0] is not None}
    assert weights <= {0, 25}, f"the canary advanced past its first step: {seen}"
    assert status["phase"] == "RolledBack", status
    assert status["stable"]["version"] == "1"
    assert status["rejected"]["version"] == "2"
    assert reason in status["rejected"]["reason"], status["rejected"]["reason"]
    assert "(failed or inconclusive analyses: 2/2)" in status["rejected"]["reason"]
    assert status["history"][-1]["outcome"] == "RolledBack"
    eventually(lambda: replicas(kube, namespace, "churn-canary") == 0, what="canary scaled to 0")
    assert replicas(kube, namespace, "churn") == 4


def test_prometheus_unreachable_never_promotes(kube, namespace, start_operator, monkeypatch):
    # The real Prometheus provider, not the file seam.
    monkeypatch.delenv("MODELOPS_METRICS_PROVIDER_FILE", raising=False)
    start_operator(namespace, resync=2.0)
    manifest = canary_manifest("1")
    manifest["spec"]["rollout"]["analysis"]["prometheus"] = {
        "address": UNREACHABLE,
        "timeout": "1s",
    }
    seen, status = roll_out_version_2(kube, namespace, manifest)
    assert_never_advanced(kube, namespace, seen, status, "metrics provider unavailable")


@pytest.fixture
def metrics_file(tmp_path, monkeypatch) -> MetricsFile:
    path = tmp_path / "canary-metrics.json"
    monkeypatch.setenv("MODELOPS_METRICS_PROVIDER_FILE", str(path))
    return MetricsFile(path)


def test_no_canary_traffic_never_promotes(kube, namespace, start_operator, metrics_file):
    metrics_file.set(namespace, "churn", NO_TRAFFIC)
    start_operator(namespace, resync=2.0)
    seen, status = roll_out_version_2(kube, namespace, canary_manifest("1"))
    assert_never_advanced(kube, namespace, seen, status, "0 canary requests")
