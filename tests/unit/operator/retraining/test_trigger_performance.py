"""The retraining trigger with degraded live performance: reason Performance under the same
cooldown and maxAttempts as drift, and what the Job is told (pure table tests)."""

from __future__ import annotations

import datetime as dt

import pytest

from modelops_operator.api.objects import Owner
from modelops_operator.api.spec import Spec
from modelops_operator.retraining import outcome, trigger
from modelops_operator.retraining.job import build_job, train_data, window_text

NOW = dt.datetime(2026, 1, 1, 12, 0, tzinfo=dt.UTC)
UID = "3f1c2a9e-7b6d-4c1b-9d0e-5a6b7c8d9e0f"
TEMPLATE = {"spec": {"template": {"spec": {"containers": [{"name": "t", "image": "train:1"}]}}}}


def spec(*, on_drift=True, on_performance=True, performance=True, **retraining):
    raw = {
        "model": {"name": "churn", "version": "3"},
        "registry": {"uri": "s3://models"},
        "retraining": {
            "jobTemplate": TEMPLATE,
            "cooldown": "1h",
            "maxAttempts": 2,
            "triggerOnDrift": on_drift,
            "triggerOnPerformance": on_performance,
            **retraining,
        },
    }
    if performance:
        raw["monitoring"] = {"performance": {"metric": "auc", "threshold": 0.7, "window": "24h"}}
    return Spec(raw)


def at(minutes: float) -> str:
    return (NOW + dt.timedelta(minutes=minutes)).strftime("%Y-%m-%dT%H:%M:%SZ")


def decide(*, drifted=False, degraded=False, previous=None, s=None):
    return trigger.decide(
        md_name="churn",
        owner_uid=UID,
        spec=s or spec(),
        previous=previous,
        handled_token=None,
        annotation_token=None,
        base_version="3",
        drifted=drifted,
        job_state=outcome.job_state(None),
        candidate=None,
        now=NOW,
        degraded=degraded,
    )


@pytest.mark.parametrize(
    ("drifted", "degraded", "on_drift", "on_performance", "reason"),
    [
        (False, False, True, True, None),
        (False, True, True, True, "Performance"),
        (True, False, True, True, "Drift"),
        # Both: labels that show harm are the stronger evidence.
        (True, True, True, True, "Performance"),
        (False, True, True, False, None),
        (True, True, True, False, "Drift"),
        (True, True, False, True, "Performance"),
        (True, False, False, True, None),
    ],
)
def test_which_verdict_starts_a_job_and_why(drifted, degraded, on_drift, on_performance, reason):
    s = spec(on_drift=on_drift, on_performance=on_performance)
    d = decide(drifted=drifted, degraded=degraded, s=s)
    assert d.reason == reason
    assert (d.job is not None) == (reason is not None)
    if reason:
        assert d.status["reason"] == reason and d.status["attempts"] == 1


SUCCEEDED = {"job": "j1", "baseVersion": "3", "reason": "Drift", "state": "Succeeded",
             "attempts": 1, "attemptsByBase": [{"baseVersion": "3", "attempts": 1}]}  # fmt: skip


@pytest.mark.parametrize(
    ("triggered", "started"),
    [(-30, False), (-59, False), (-60, True), (-120, True)],
)
def test_one_cooldown_for_drift_and_performance(triggered, started):
    # A drift Job 30 minutes ago holds a performance Job back as it would a drift one.
    previous = {**SUCCEEDED, "triggeredAt": at(triggered)}
    d = decide(degraded=True, previous=previous)
    assert (d.job is not None) is started
    if started:
        assert d.reason == "Performance" and d.status["attempts"] == 2


def test_max_attempts_bounds_performance_jobs_too():
    previous = {**SUCCEEDED, "attempts": 2, "attemptsByBase": [{"baseVersion": "3", "attempts": 2}],
                "triggeredAt": at(-120)}  # fmt: skip
    d = decide(degraded=True, previous=previous)
    assert d.job is None and d.condition.reason == "RetrainingAttemptsExhausted"
    assert d.condition.message.startswith("performance retraining not started: 2 of maxAttempts 2")


@pytest.mark.parametrize(
    ("seconds", "text"),
    [(86400, "1d"), (7 * 86400, "7d"), (7200, "2h"), (5400, "90m"), (90, "90s"), (0.2, "1s")],
)
def test_the_window_in_the_unit_the_inference_log_source_reads(seconds, text):
    assert window_text(seconds) == text


def test_the_job_is_offered_the_logged_data_only_when_performance_is_monitored():
    owner = Owner(name="churn", namespace="ml", uid=UID, generation=1)
    assert train_data(spec()) == "inference-log:churn:1d"
    assert train_data(spec(performance=False)) is None
    job = build_job(owner, spec(performance=False), name="j", base_version="3", attempt=1,
                    reason="Drift", drift_report=None)  # fmt: skip
    env = {e["name"] for e in job["spec"]["template"]["spec"]["containers"][0]["env"]}
    assert (
        "MODELOPS_TRAIN_DATA" not in env
        and "modelops.io/train-data" not in job["metadata"]["annotations"]
    )
    assert job["metadata"]["labels"]["modelops.io/retrain-reason"] == "Drift"
    assert job["spec"]["template"]["metadata"]["labels"]["modelops.io/retrain-reason"] == "Drift"
