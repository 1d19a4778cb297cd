"""kill -9 the operator at random points of canary rollouts; the end state must not care.

Every decision is written to status before it is acted on (engine.py), so a
restarted operator resumes the same rollout from the same step. Per scenario
this kills the operator at least MODELOPS_CANARY_KILLS times (default 10, so
20+ in the suite; tools/canary_kill_stress.sh runs many more), rollout after
rollout, and checks after each rollout: the expected end state, no
duplicate or stray children, exactly one history entry for the version, and
never two outcome Events for it.
"""

from __future__ import annotations

import os
import random
import time

import pytest

from tests.cluster.canary_support import (
    FAILING,
    HEALTHY,
    MetricsFile,
    canary_manifest,
    patch_spec,
    replicas,
)
from tests.plugins.operator import apply_md, events_for, eventually, get_md

KILLS = int(os.environ.get("MODELOPS_CANARY_KILLS", "10"))


@pytest.fixture
def metrics_file(tmp_path, monkeypatch) -> MetricsFile:
    path = tmp_path / "canary-metrics.json"
    monkeypatch.setenv("MODELOPS_METRICS_PROVIDER_FILE", str(path))
    return MetricsFile(path)


def finished(status: dict, version: str) -> bool:
    if status.get("phase") == "Stable" and (status.get("stable") or {}).get("version") == version:
        return True
    return (
        status.get("phase") == "RolledBack"
        and (status.get("rejected") or {}).get("version") == version
    )


def start(start_operator, namespace, n):
    # No leader election: a killed leader's Lease would make the next one wait
    # out its duration; this test is about resuming, not about handover.
    return start_operator(
        namespace,
        identity=f"kill-{n}",
        resync=1.0,
        extra=("--no-leader-election",),
        wait_leading=False,
    )


@pytest.mark.parametrize("health", ["healthy", "failing"])
def test_kill_minus_nine_during_rollouts(kube, namespace, metrics_file, start_operator, health):
    seed = random.randrange(1 << 30)
    rng = random.Random(seed)
    metrics_file.set(namespace, "churn", HEALTHY)
    manifest = canary_manifest("1", steps=(20, 40, 60, 80), interval="1s")
    apply_md(kube, namespace, manifest)
    operator = start(start_operator, namespace, 0)
    eventually(lambda: finished(get_md(kube, namespace).get("status") or {}, "1"), timeout=60)
    operator.kill()
    metrics_file.set(namespace, "churn", HEALTHY if health == "healthy" else FAILING)

    kills, version, started = 0, 1, 1
    while kills < KILLS:
        version += 1
        patch_spec(kube, namespace, "churn", {"model": {"name": "churn", "version": str(version)}})
        status: dict = {}
        while not finished(status, str(version)):
            operator = start(start_operator, namespace, started)
            started += 1
            time.sleep(rng.uniform(0.0, 1.5))
            operator.kill()
            kills += 1
            status = get_md(kube, namespace).get("status") or {}
        # One more operator, left running, must confirm the end state and change nothing.
        operator = start(start_operator, namespace, started)
        started += 1
        time.sleep(2.5)
        check_end_state(kube, namespace, str(version), health, seed, kills)
        operator.kill()
    assert kills >= KILLS


def check_end_state(kube, namespace, version, health, seed, kills):
    where = f"(seed {seed}, after {kills} kills, version {version})"
    status = get_md(kube, namespace).get("status") or {}
    assert "canary" not in status, where
    if health == "healthy":
        assert status["phase"] == "Stable", where
        assert status["stable"]["version"] == version, where
        eventually(
            lambda: kube.get("apps/v1", "Deployment", namespace, "churn-canary") is None,
            what=f"canary Deployment deleted {where}",
        )
    else:
        assert status["phase"] == "RolledBack", where
        assert status["rejected"]["version"] == version, where
        assert status["stable"]["version"] == "1", where
        assert replicas(kube, namespace, "churn-canary") == 0, where
    deployments = kube.request(
        "GET",
        f"/apis/apps/v1/namespaces/{namespace}/deployments",
        query={"labelSelector": "modelops.io/deployment=churn"},
    )["items"]
    assert {d["metadata"]["name"] for d in deployments} <= {"churn", "churn-canary"}, where
    assert replicas(kube, namespace, "churn") == 4, where
    entries = [h for h in status["history"] if h["version"] == version]
    outcome = "Promoted" if health == "healthy" else "RolledBack"
    assert [h["outcome"] for h in entries] == [outcome], f"{entries} {where}"
    events = [
        e
        for e in events_for(kube, namespace, "churn")
        if e["reason"] == outcome and f"version {version} " in e["message"] + " "
    ]
    # An event can be lost to a kill between the status write and the post; never doubled.
    assert len(events) <= 1 and all(e.get("count", 1) == 1 for e in events), f"{events} {where}"
