"""Drift -> retraining Job -> candidate, with the real operator on the real control plane.

Prometheus is scripted (drift_support.FakePrometheus, a real HTTP server the
operator queries with its real client); the registry is a real file:// one;
Jobs are "run" by the test (drift_support.finish_job).
"""

from __future__ import annotations

import pytest

from modelops_operator.api import conditions as cond
from modelops_operator.retraining.job import job_name
from modelops_registry import Registry
from tests.cluster.drift_support import FakePrometheus
from tests.plugins.jobs import JOB_MANAGER, finish_job
from tests.plugins.operator import apply_md, events_for, eventually, get_md, md_manifest

PROFILE = {
    "version": 1,
    "samples": 1000,
    "features": {
        "tenure_months": {
            "kind": "numeric",
            "edges": [1.0, 5.0, 10.0],
            "proportions": [0.25, 0.25, 0.25, 0.25],
            "missing_rate": 0.0,
        },
        "plan": {
            "kind": "categorical",
            "categories": ["basic", "premium", "__other__"],
            "proportions": [0.5, 0.5, 0.0],
            "missing_rate": 0.0,
        },
    },
}
SAME = {"tenure_months": [250, 250, 250, 250], "plan": [500, 500, 0]}
SHIFTED = {"tenure_months": [10, 10, 80, 900], "plan": [500, 500, 0]}
FEW = {"tenure_months": [0, 0, 0, 50], "plan": [25, 25, 0]}
GATES = {"minMetric": {"auc": 0.7}, "maxRegression": 0.05}


@pytest.fixture
def prometheus():
    fake = FakePrometheus()
    yield fake
    fake.close()


@pytest.fixture
def registry(tmp_path) -> Registry:
    reg = Registry.from_uri(f"file://{tmp_path / 'registry'}")
    reg.publish("churn", {"model.ubj": b"base"}, {"status": "approved", "profile": PROFILE})
    return reg


def manifest(prometheus, registry, *, version="1", cooldown="1h", max_attempts=2, **extra):
    return md_manifest(
        version=version,
        registry={"uri": registry.uri},
        monitoring={
            "prometheus": {"address": prometheus.address},
            "drift": {
                "method": "psi",
                "threshold": 0.2,
                "window": "1h",
                "minSamples": 500,
                "interval": "1s",
            },
        },
        retraining={
            "jobTemplate": {
                "metadata": {"labels": {"team": "ml"}},
                "spec": {
                    "managedBy": JOB_MANAGER,
                    "template": {
                        "spec": {
                            "containers": [
                                {
                                    "name": "train",
                                    "image": "ghcr.io/acme/modelops-training:0.1.0",
                                    "command": ["modelops", "train", "--data", "synthetic:20000"],
                                }
                            ]
                        }
                    },
                },
            },
            "cooldown": cooldown,
            "maxAttempts": max_attempts,
            "gates": GATES,
        },
        **extra,
    )


def jobs(kube, namespace) -> list[dict]:
    return kube.children(namespace, "churn", kind="Job")


def job_for(kube, namespace, base: str, attempt: int, name: str = "churn") -> str:
    """The name of this ModelDeployment instance's Job for (base, attempt): its uid is in it."""
    return job_name(name, get_md(kube, namespace, name)["metadata"]["uid"], base, attempt)


def retraining(kube, namespace) -> dict:
    return (get_md(kube, namespace).get("status") or {}).get("retraining") or {}


def condition(kube, namespace, ctype):
    for c in (get_md(kube, namespace).get("status") or {}).get("conditions") or []:
        if c["type"] == ctype:
            return c
    return None


def reasons(kube, namespace) -> list[str]:
    return [e["reason"] for e in events_for(kube, namespace, "churn")]


def publish_candidate(
    registry: Registry, job: str, status: str, auc: float, owner_uid: str | None = None
) -> str:
    gates = {"minMetric.auc": {"passed": auc >= 0.7, "value": auc, "threshold": 0.7}}
    return registry.publish(
        "churn",
        {"model.ubj": b"retrained"},
        {
            "status": status,
            "profile": PROFILE,
            "metrics": {"auc": auc},
            "gates": gates,
            "retraining": {
                "job": job,
                "base_version": "1",
                "reason": "Drift",
                **({"owner_uid": owner_uid} if owner_uid else {}),
            },
        },
    )


def test_drift_starts_exactly_one_job_and_cooldown_survives_restarts(
    kube, namespace, start_operator, prometheus, registry
):
    prometheus.set_counts(PROFILE, SHIFTED)
    op = start_operator(namespace, resync=1.0)
    apply_md(kube, namespace, manifest(prometheus, registry))
    eventually(lambda: len(jobs(kube, namespace)) == 1, timeout=60, what="a retraining Job")

    drifted = condition(kube, namespace, "Drifted")
    assert drifted["status"] == "True" and drifted["reason"] == "DriftDetected"
    assert "tenure_months=" in drifted["message"]
    status = get_md(kube, namespace)["status"]
    assert status["drift"]["version"] == "1" and status["drift"]["samples"] == 1000
    assert status["drift"]["features"]["tenure_months"] > 0.2
    assert status["drift"]["features"]["plan"] == 0.0

    job = jobs(kube, namespace)[0]
    name = job_for(kube, namespace, "1", 1)
    assert job["metadata"]["name"] == name
    assert status["retraining"]["job"] == name
    assert status["retraining"]["state"] == "Running" and status["retraining"]["attempts"] == 1
    labels = job["metadata"]["labels"]
    assert labels["team"] == "ml" and labels["modelops.io/deployment"] == "churn"
    assert labels["modelops.io/model-version"] == "1"
    owner = job["metadata"]["ownerReferences"][0]
    assert owner["kind"] == "ModelDeployment" and owner["controller"] is True
    assert job["spec"]["backoffLimit"] == 0
    env = {
        e["name"]: e.get("value") for e in job["spec"]["template"]["spec"]["containers"][0]["env"]
    }
    assert env["MODELOPS_MODEL"] == "churn" and env["MODELOPS_BASE_VERSION"] == "1"
    assert env["MODELOPS_REGISTRY"] == registry.uri and env["MODELOPS_RETRAIN_REASON"] == "Drift"
    assert env["MODELOPS_RETRAIN_JOB"] == name
    assert '"maxRegression": 0.05' in env["MODELOPS_GATES"]
    assert '"tenure_months"' in env["MODELOPS_DRIFT_REPORT"]
    # One grouped query per family, selecting the stable track of this deployment.
    assert any(
        q.startswith("sum by (feature, le) (increase(modelops_feature_value_bucket{")
        and f'namespace="{namespace}"' in q
        and 'track="stable"' in q
        for q in prometheus.queries
    )

    # The Job finishes (failed) and drift persists; the cooldown (1h) holds the
    # next Job back -- including across an operator restart, since it is in status.
    finish_job(kube, namespace, name, succeeded=False)
    eventually(lambda: retraining(kube, namespace).get("state") == "Failed", what="Failed state")
    op.stop()
    start_operator(namespace, resync=1.0, identity="op-restarted")
    measured = get_md(kube, namespace)["status"]["drift"]["measuredAt"]
    eventually(
        lambda: get_md(kube, namespace)["status"]["drift"]["measuredAt"] > measured,
        timeout=30,
        what="a new measurement by the restarted operator",
    )
    # The failed attempt's retry waits for its backoff (30 s, capped by the 1h cooldown).
    assert [j["metadata"]["name"] for j in jobs(kube, namespace)] == [name]
    found = reasons(kube, namespace)
    assert found.count("DriftDetected") == 1
    assert found.count("RetrainingStarted") == 1
    assert found.count("RetrainingFailed") == 1


def test_insufficient_data_never_triggers(kube, namespace, start_operator, prometheus, registry):
    prometheus.set_counts(PROFILE, FEW)
    start_operator(namespace, resync=1.0)
    apply_md(kube, namespace, manifest(prometheus, registry))
    eventually(
        lambda: (get_md(kube, namespace).get("status") or {}).get("drift"), what="a measurement"
    )
    status = get_md(kube, namespace)["status"]
    assert status["drift"]["insufficient"] is True and status["drift"]["samples"] == 50
    assert condition(kube, namespace, "Drifted")["reason"] == "InsufficientData"
    assert jobs(kube, namespace) == []


def test_prometheus_down_is_unknown_not_drift(
    kube, namespace, start_operator, prometheus, registry
):
    prometheus.set_counts(PROFILE, SHIFTED)
    prometheus.down = True
    start_operator(namespace, resync=1.0)
    apply_md(kube, namespace, manifest(prometheus, registry))
    eventually(lambda: condition(kube, namespace, "Drifted"), what="Drifted condition")
    drifted = condition(kube, namespace, "Drifted")
    assert drifted["status"] == "Unknown" and drifted["reason"] == "DriftUnknown"
    assert "scripted outage" in drifted["message"] or "503" in drifted["message"]
    assert jobs(kube, namespace) == []


def test_failed_jobs_are_retried_until_max_attempts(
    kube, namespace, start_operator, prometheus, registry
):
    prometheus.set_counts(PROFILE, SHIFTED)
    start_operator(namespace, resync=1.0)
    # A 2 s cooldown caps the retry backoff at 2 s.
    apply_md(kube, namespace, manifest(prometheus, registry, cooldown="2s", max_attempts=2))
    first = job_for(kube, namespace, "1", 1)
    second = job_for(kube, namespace, "1", 2)
    eventually(lambda: kube.get("batch/v1", "Job", namespace, first), what="first Job")
    finish_job(kube, namespace, first, succeeded=False)
    eventually(lambda: kube.get("batch/v1", "Job", namespace, second), what="retry Job")
    assert retraining(kube, namespace)["reason"] == "Retry"
    finish_job(kube, namespace, second, succeeded=False)
    eventually(
        lambda: (
            (c := condition(kube, namespace, "Retraining"))
            and c["reason"] == cond.REASON_RETRAINING_EXHAUSTED
        ),
        timeout=30,
        what="attempts exhausted",
    )
    status = retraining(kube, namespace)
    assert status["attempts"] == 2 and status["state"] == "Failed"
    assert sorted(j["metadata"]["name"] for j in jobs(kube, namespace)) == sorted([first, second])
    assert reasons(kube, namespace).count(cond.REASON_RETRAINING_EXHAUSTED) == 1


def test_pinned_version_reports_the_candidate_and_keeps_traffic(
    kube, namespace, start_operator, prometheus, registry
):
    prometheus.set_counts(PROFILE, SHIFTED)
    start_operator(namespace, resync=1.0)
    apply_md(kube, namespace, manifest(prometheus, registry))
    name = job_for(kube, namespace, "1", 1)
    eventually(lambda: kube.get("batch/v1", "Job", namespace, name), what="retraining Job")
    version = publish_candidate(registry, name, "approved", 0.81)
    finish_job(kube, namespace, name, succeeded=True)
    eventually(lambda: retraining(kube, namespace).get("state") == "Succeeded", what="Succeeded")
    candidate = retraining(kube, namespace)["candidate"]
    assert candidate == {
        "version": version,
        "approved": True,
        "metrics": {"auc": 0.81},
        "gates": {"minMetric.auc": {"passed": True, "value": 0.81, "threshold": 0.7}},
    }
    assert cond.REASON_CANDIDATE_READY in reasons(kube, namespace)
    # Pinned: the spec still names 1 and the Deployment keeps serving it.
    dep = kube.get("apps/v1", "Deployment", namespace, "churn")
    assert dep["metadata"]["labels"]["modelops.io/model-version"] == "1"
    assert get_md(kube, namespace)["status"]["stable"]["version"] == "1"


def test_manual_annotation_is_handled_once(kube, namespace, start_operator, prometheus, registry):
    prometheus.set_counts(PROFILE, SAME)
    start_operator(namespace, resync=1.0)
    md = manifest(prometheus, registry)
    md["metadata"]["annotations"] = {"modelops.io/retrain": "ticket-42"}
    apply_md(kube, namespace, md)
    name = job_for(kube, namespace, "1", 1)
    eventually(lambda: kube.get("batch/v1", "Job", namespace, name), what="manual Job")
    # Drift is measured in the background (observe.py): the Job may come first.
    eventually(
        lambda: (condition(kube, namespace, "Drifted") or {}).get("status") == "False",
        what="Drifted False",
    )
    status = get_md(kube, namespace)["status"]
    assert status["actions"]["retrain"] == "ticket-42"
    assert status["retraining"]["reason"] == "Manual"
    finish_job(kube, namespace, name, succeeded=False)
    eventually(lambda: retraining(kube, namespace).get("state") == "Failed", what="Failed")
    # The same token is not acted on again (and there is no drift to retry for
    # after the backoff... the retry is the failed request's, within maxAttempts).
    assert reasons(kube, namespace).count("RetrainingStarted") == 1


def test_channel_rolls_out_an_approved_candidate_but_not_a_rejected_one(
    kube, namespace, start_operator, prometheus, registry
):
    prometheus.set_counts(PROFILE, SHIFTED)
    start_operator(namespace, resync=1.0)
    apply_md(
        kube,
        namespace,
        manifest(prometheus, registry, version="@latest-approved", cooldown="2s", max_attempts=3),
    )
    first = job_for(kube, namespace, "1", 1)
    eventually(lambda: kube.get("batch/v1", "Job", namespace, first), what="first Job")
    rejected = publish_candidate(registry, first, "rejected", 0.6)
    finish_job(kube, namespace, first, succeeded=True)
    eventually(
        lambda: (retraining(kube, namespace).get("candidate") or {}).get("version") == rejected,
        what="rejected candidate recorded",
    )
    assert retraining(kube, namespace)["candidate"]["approved"] is False
    assert cond.REASON_CANDIDATE_REJECTED in reasons(kube, namespace)
    assert get_md(kube, namespace)["status"]["stable"]["version"] == "1"

    # Drift persists: after the cooldown, attempt 2; this one is approved and
    # the channel takes it to the stable track (Immediate strategy here).
    second = job_for(kube, namespace, "1", 2)
    eventually(lambda: kube.get("batch/v1", "Job", namespace, second), what="second Job")
    approved = publish_candidate(registry, second, "approved", 0.8)
    finish_job(kube, namespace, second, succeeded=True)
    eventually(
        lambda: get_md(kube, namespace)["status"]["stable"]["version"] == approved,
        timeout=60,
        what="approved candidate served through the channel",
    )
    # Status is written before the children (by design), so the Deployment
    # follows the status a moment later.
    eventually(
        lambda: (
            kube.get("apps/v1", "Deployment", namespace, "churn")["metadata"]["labels"].get(
                "modelops.io/model-version"
            )
            == approved
        ),
        what="stable Deployment labelled with the approved version",
    )
