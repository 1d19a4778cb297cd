"""kill -9 the operator at random instants of canary rollouts; the end state must not care.

Every decision is written to status before it is acted on (engine.py), so a
restarted operator resumes the same rollout from the same step. Leader
election is on, as in production; every incarnation has the same identity
(as a pod restarted under its own name), so it renews its own lease at once
instead of waiting out a dead holder's.

Per scenario this kills the operator at least MODELOPS_CANARY_KILLS times
(default 25, so 50 in the suite; tools/canary_kill_stress.sh runs many
more). Each kill falls at an instant drawn uniformly over an undisturbed
rollout's duration, measured from the operator's start (so start-up, every
step, promotion and rollback are all hit). After each kill the stable
Deployment must run what status names as stable (or, for a promotion decided
but not yet applied, status's previous release: status is written first); after
each rollout the end state is checked, and a quiet operator must change
nothing (no new resourceVersion, generation or Event) over a quiet period.
"""

from __future__ import annotations

import os
import random
import time

import pytest

from modelops_operator.api import names
from tests.cluster.canary_support import (
    FAILING,
    HEALTHY,
    MetricsFile,
    canary_manifest,
    patch_spec,
    replicas,
)
from tests.plugins.operator import apply_md, events_for, eventually, get_md

KILLS = int(os.environ.get("MODELOPS_CANARY_KILLS", "25"))
QUIET_SECONDS = 4.0  # four resyncs of the operator left running
IDENTITY = "canary-chaos"


def image(version: str) -> str:
    return f"ghcr.io/acme/churn-bento:1.{version}.0"


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


def start(start_operator, namespace, *, wait: bool):
    return start_operator(
        namespace, identity=IDENTITY, resync=1.0, wait_leading=wait, lease_seconds=6.0
    )


def release(version: str) -> dict:
    return {"model": {"name": "churn", "version": version}, "image": image(version)}


def stable_deployment(kube, namespace) -> tuple[str, str] | None:
    dep = kube.get("apps/v1", "Deployment", namespace, "churn")
    if dep is None:
        return None
    template = dep["spec"]["template"]
    return (
        template["metadata"]["labels"][names.LABEL_MODEL_VERSION],
        template["spec"]["containers"][0]["image"],
    )


def check_after_kill(kube, namespace, where: str) -> None:
    """The stable Deployment runs status's stable release, or status's previous one
    (a promotion persisted but not yet applied: status is written first); never
    anything status does not know as stable."""
    status = get_md(kube, namespace).get("status") or {}
    recorded = [
        (release.get("version"), release.get("image"))
        for release in (status.get("stable") or {}, status.get("previous") or {})
        if release
    ]
    running = stable_deployment(kube, namespace)
    assert running in recorded, f"stable Deployment runs {running}, status: {recorded} {where}"


@pytest.mark.parametrize("health", ["healthy", "failing"])
def test_kill_minus_nine_during_rollouts(kube, namespace, metrics_file, start_operator, health):
    seed = int(os.environ.get("MODELOPS_CHAOS_SEED", random.randrange(1 << 30)))
    rng = random.Random(seed)
    began = time.monotonic()
    metrics_file.set(namespace, "churn", HEALTHY)
    manifest = canary_manifest("1", steps=(20, 40, 60, 80), interval="1s")
    manifest["spec"]["image"] = image("1")
    apply_md(kube, namespace, manifest)
    operator = start(start_operator, namespace, wait=True)
    eventually(lambda: finished(get_md(kube, namespace).get("status") or {}, "1"), timeout=60)
    metrics_file.set(namespace, "churn", HEALTHY if health == "healthy" else FAILING)

    # One undisturbed rollout, from a fresh operator's start to its end: the
    # span the kill instants are drawn from.
    operator.kill()
    patch_spec(kube, namespace, "churn", release("2"))
    operator = start(start_operator, namespace, wait=False)
    started_at = time.monotonic()  # as in the loop below: once its liveness answers
    eventually(lambda: finished(get_md(kube, namespace).get("status") or {}, "2"), timeout=60)
    span = time.monotonic() - started_at
    operator.kill()

    kills, version, rollouts = 0, 2, 0
    while kills < KILLS:
        version += 1
        patch_spec(kube, namespace, "churn", release(str(version)))
        status: dict = {}
        while not finished(status, str(version)):
            operator = start(start_operator, namespace, wait=False)
            time.sleep(rng.uniform(0.0, span))
            operator.kill()
            kills += 1
            where = f"(seed {seed}, kill {kills}, version {version})"
            check_after_kill(kube, namespace, where)
            status = get_md(kube, namespace).get("status") or {}
        rollouts += 1
        check_recorded(kube, namespace, str(version), health, f"(seed {seed}, version {version})")
    # One more operator, left running, must confirm the end state and change nothing.
    operator = start(start_operator, namespace, wait=True)
    where = f"(seed {seed}, after {kills} kills, version {version})"
    check_end_state(kube, namespace, str(version), health, where)
    assert_quiet(kube, namespace, where)
    print(
        f"\ncanary chaos ({health}): {kills} kills over {rollouts} rollouts, "
        f"span {span:.1f} s, 0 divergent end states, {time.monotonic() - began:.0f} s, "
        f"seed {seed}"
    )
    assert kills >= KILLS


def check_recorded(kube, namespace, version, health, where):
    """What the killed operators persisted for a finished rollout: one outcome,
    recorded once, told at most once."""
    status = get_md(kube, namespace).get("status") or {}
    entries = [h for h in status["history"] if h["version"] == version]
    outcome = "Promoted" if health == "healthy" else "RolledBack"
    assert [h["outcome"] for h in entries] == [outcome], f"{entries} {where}"
    assert status["stable"]["version"] == (version if health == "healthy" else "1"), where
    events = [
        e
        for e in events_for(kube, namespace, "churn")
        if e["reason"] == outcome and f"version {version} " in e["message"] + " "
    ]
    # An event can be lost to a kill between the status write and the post; never doubled.
    assert len(events) <= 1 and all(e.get("count", 1) == 1 for e in events), f"{events} {where}"


def check_end_state(kube, namespace, version, health, where):
    status = eventually(
        lambda: (s := get_md(kube, namespace).get("status") or {}) and "canary" not in s and s,
        what=f"canary cleared from status {where}",
    )
    check_recorded(kube, namespace, version, health, where)
    if health == "healthy":
        assert status["phase"] == "Stable", where
        eventually(
            lambda: kube.get("apps/v1", "Deployment", namespace, "churn-canary") is None,
            what=f"canary Deployment deleted {where}",
        )
    else:
        assert status["phase"] == "RolledBack", where
        assert status["rejected"]["version"] == version, where
        assert replicas(kube, namespace, "churn-canary") == 0, where
    stable = status["stable"]
    eventually(
        lambda: stable_deployment(kube, namespace) == (stable["version"], stable["image"]),
        what=f"stable Deployment runs {stable} {where}",
    )
    deployments = kube.request(
        "GET",
        f"/apis/apps/v1/namespaces/{namespace}/deployments",
        query={"labelSelector": "modelops.io/deployment=churn"},
    )["items"]
    assert {d["metadata"]["name"] for d in deployments} <= {"churn", "churn-canary"}, where
    assert replicas(kube, namespace, "churn") == 4, where


def footprint(kube, namespace) -> dict[str, str]:
    """What only the operator changes: the ModelDeployment (its status), the
    children's specs (generation; their status is the controllers'), Services,
    and the Events about the ModelDeployment."""
    marks = {"md": get_md(kube, namespace)["metadata"]["resourceVersion"]}
    for kind, api in (("Deployment", "apps/v1"), ("Service", "v1")):
        for obj in kube.list(api, kind, namespace, labels={names.LABEL_DEPLOYMENT: "churn"}):
            meta = obj["metadata"]
            marks[f"{kind}/{meta['name']}"] = str(meta.get("generation", meta["resourceVersion"]))
    marks["events"] = str(len(events_for(kube, namespace, "churn")))
    return marks


def assert_quiet(kube, namespace, where):
    """Once nothing changed for a second (the restarted operator's first passes
    and their Events are done), nothing may change for QUIET_SECONDS."""

    def settled():
        first = footprint(kube, namespace)
        time.sleep(1.0)
        return first if footprint(kube, namespace) == first else None

    before = eventually(settled, timeout=30, interval=0, what=f"a settled world {where}")
    time.sleep(QUIET_SECONDS)
    assert footprint(kube, namespace) == before, f"a settled operator wrote {where}"
