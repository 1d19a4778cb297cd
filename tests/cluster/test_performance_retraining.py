"""Live performance -> PerformanceDegraded -> a retraining Job with reason Performance, with the
real operator on the real control plane.

Live quality comes through the `MODELOPS_METRICS_PROVIDER_FILE` seam (the
quality source's protocol boundary, as the canary tests inject canary
health); the registry is a real file:// one; Jobs are "run" by the test
(tests/plugins/jobs.finish_job). The node test (tests/node/test_performance.py)
runs the same loop on real logged predictions and outcomes.
"""

from __future__ import annotations

import json

import pytest

from modelops_operator.api import conditions as cond
from modelops_operator.retraining.job import job_name
from modelops_registry import Registry
from tests.plugins.jobs import JOB_MANAGER, finish_job
from tests.plugins.operator import apply_md, events_for, eventually, get_md, md_manifest

GATES = {"minMetric": {"auc": 0.7}, "maxRegression": 0.05}


class QualityFile:
    """The JSON file the operator's file seam reads on every measurement."""

    def __init__(self, path) -> None:
        self.path = path
        self.path.write_text("{}")

    def set(self, namespace: str, version: str, labelled: int, auc: float | None) -> None:
        quality = {
            "versions": {
                version: {
                    "predictions": 1000,
                    "labelled": labelled,
                    "metrics": {"auc": auc, "logloss": 0.6},
                    "estimated": {"auc": 0.82},  # the label-free estimate still looks fine
                }
            }
        }
        self.path.write_text(json.dumps({f"{namespace}/churn": {"quality": quality}}))


@pytest.fixture
def quality_file(tmp_path, monkeypatch) -> QualityFile:
    path = tmp_path / "quality.json"
    # The operator subprocess inherits the environment through control_plane.env().
    monkeypatch.setenv("MODELOPS_METRICS_PROVIDER_FILE", str(path))
    return QualityFile(path)


@pytest.fixture
def registry(tmp_path) -> Registry:
    reg = Registry.from_uri(f"file://{tmp_path / 'registry'}")
    reg.publish("churn", {"model.ubj": b"base"}, {"status": "approved"})
    return reg


def manifest(registry: Registry, **performance):
    return md_manifest(
        version="1",
        registry={"uri": registry.uri},
        monitoring={
            "performance": {
                "metric": "auc",
                "threshold": 0.7,
                "window": "6h",
                "minLabelledSamples": 100,
                "interval": "1s",
                **performance,
            }
        },
        retraining={
            "jobTemplate": {
                "spec": {
                    "managedBy": JOB_MANAGER,
                    "template": {
                        "spec": {
                            "containers": [
                                {
                                    "name": "train",
                                    "image": "ghcr.io/acme/modelops-training:0.1.0",
                                    # No --data: the operator offers the logged data.
                                    "args": ["train"],
                                }
                            ]
                        }
                    },
                }
            },
            "cooldown": "1h",
            "maxAttempts": 2,
            "gates": GATES,
        },
    )


def status(kube, namespace) -> dict:
    return get_md(kube, namespace).get("status") or {}


def condition(kube, namespace, ctype) -> dict:
    return cond.get_condition(status(kube, namespace).get("conditions") or [], ctype) or {}


def jobs(kube, namespace) -> list[dict]:
    return kube.children(namespace, "churn", kind="Job")


def reasons(kube, namespace) -> list[str]:
    return [e["reason"] for e in events_for(kube, namespace, "churn")]


def test_degraded_labels_start_a_performance_job_and_its_candidate_is_recorded(
    kube, namespace, start_operator, quality_file, registry
):
    quality_file.set(namespace, "1", labelled=400, auc=0.55)
    op = start_operator(namespace, resync=1.0)
    apply_md(kube, namespace, manifest(registry))
    eventually(lambda: len(jobs(kube, namespace)) == 1, timeout=60, what="a retraining Job")

    degraded = condition(kube, namespace, cond.PERFORMANCE_DEGRADED)
    assert (degraded["status"], degraded["reason"]) == ("True", "PerformanceDegraded")
    assert "auc 0.550 < threshold 0.7 over 400 labelled" in degraded["message"]
    assert "estimate 0.820" in degraded["message"]
    perf = status(kube, namespace)["performance"]
    assert perf["value"] == 0.55 and perf["version"] == "1" and perf["estimated"] == {"auc": 0.82}
    assert perf["labelled"] == 400 and perf["insufficient"] is False and perf["window"] == "6h"

    uid = get_md(kube, namespace)["metadata"]["uid"]
    name = job_name("churn", uid, "1", 1)
    (job,) = jobs(kube, namespace)
    assert job["metadata"]["name"] == name
    assert job["metadata"]["labels"]["modelops.io/retrain-reason"] == "Performance"
    assert job["metadata"]["annotations"]["modelops.io/train-data"] == "inference-log:churn:6h"
    env = {
        e["name"]: e.get("value") for e in job["spec"]["template"]["spec"]["containers"][0]["env"]
    }
    assert env["MODELOPS_RETRAIN_REASON"] == "Performance"
    assert env["MODELOPS_TRAIN_DATA"] == "inference-log:churn:6h"
    assert env["MODELOPS_LOG_URI"] == registry.uri
    assert json.loads(env["MODELOPS_PERFORMANCE_REPORT"])["value"] == 0.55
    retraining = status(kube, namespace)["retraining"]
    assert retraining["reason"] == "Performance" and retraining["job"] == name
    eventually(
        lambda: {"PerformanceDegraded", "RetrainingStarted"} <= set(reasons(kube, namespace)),
        what="the PerformanceDegraded and RetrainingStarted Events",
    )
    started = [
        e for e in events_for(kube, namespace, "churn") if e["reason"] == "RetrainingStarted"
    ]
    assert "(Performance, attempt 1 of 2" in started[0]["message"]

    # The operator exports the verdict and the live numbers for the alerts and dashboards.
    labels = f'deployment="churn",metric="auc",namespace="{namespace}"'
    eventually(lambda: op.metric("modelops_model_quality_degraded", labels) == 1.0,
               what="modelops_model_quality_degraded 1")  # fmt: skip
    version = f'deployment="churn",namespace="{namespace}",version="1"'
    assert op.metric("modelops_model_quality_auc_ratio", version) == 0.55
    assert op.metric("modelops_model_quality_estimated_auc_ratio", version) == 0.82

    # The Job publishes an approved candidate trained on the log; the operator reads it
    # from the registry. The degradation lasts (same numbers): the cooldown holds.
    registry.publish(
        "churn",
        {"model.ubj": b"retrained"},
        {
            "status": "approved",
            "metrics": {"auc": 0.8},
            "gates": {"minMetric.auc": {"passed": True, "value": 0.8, "threshold": 0.7}},
            "retraining": {"job": name, "owner_uid": uid, "base_version": "1",
                           "reason": "Performance"},
        },
    )  # fmt: skip
    finish_job(kube, namespace, name, succeeded=True)
    eventually(
        lambda: condition(kube, namespace, "Retraining").get("reason") == "CandidateApproved",
        what="CandidateApproved",
    )
    assert status(kube, namespace)["retraining"]["candidate"]["version"] == "2"
    measured = status(kube, namespace)["performance"]["measuredAt"]
    eventually(
        lambda: status(kube, namespace)["performance"]["measuredAt"] > measured,
        timeout=30,
        what="a later measurement",
    )
    assert len(jobs(kube, namespace)) == 1, "the cooldown (1h) holds the next Job back"


def test_too_few_labels_is_unknown_and_a_healthy_model_is_false_neither_retrains(
    kube, namespace, start_operator, quality_file, registry
):
    quality_file.set(namespace, "1", labelled=20, auc=0.1)
    op = start_operator(namespace, resync=1.0)
    apply_md(kube, namespace, manifest(registry))
    eventually(
        lambda: (
            condition(kube, namespace, cond.PERFORMANCE_DEGRADED).get("reason")
            == "InsufficientLabels"
        ),
        timeout=60,
        what="InsufficientLabels",
    )
    insufficient = condition(kube, namespace, cond.PERFORMANCE_DEGRADED)
    assert insufficient["status"] == "Unknown"
    assert "20 labelled of 1000" in insufficient["message"]

    quality_file.set(namespace, "1", labelled=600, auc=0.83)
    eventually(
        lambda: (
            condition(kube, namespace, cond.PERFORMANCE_DEGRADED).get("reason") == "PerformanceOK"
        ),
        timeout=30,
        what="PerformanceOK",
    )
    assert condition(kube, namespace, cond.PERFORMANCE_DEGRADED)["status"] == "False"

    # The store unreadable: Unknown with the seam's reason, still no Job.
    quality_file.path.write_text(json.dumps({f"{namespace}/churn": {"unavailable": "bucket gone"}}))
    eventually(
        lambda: (
            condition(kube, namespace, cond.PERFORMANCE_DEGRADED).get("reason")
            == "PerformanceUnknown"
        ),
        timeout=30,
        what="PerformanceUnknown",
    )
    assert "bucket gone" in condition(kube, namespace, cond.PERFORMANCE_DEGRADED)["message"]
    assert jobs(kube, namespace) == []
    labels = f'deployment="churn",metric="auc",namespace="{namespace}"'
    assert op.metric("modelops_model_quality_degraded", labels) == 0.0
