"""Live performance and retraining inside the one pure reconcile: a quality measurement in;
status.performance, PerformanceDegraded, a Job with reason Performance and Events out."""

from __future__ import annotations

import datetime as dt

import pytest

from modelops_features.groundtruth import WindowQuality
from modelops_features.quality import Quality
from modelops_operator.api import conditions as cond
from modelops_operator.api.spec import Spec
from modelops_operator.drift.counts import BucketSamples, measure
from modelops_operator.quality.source import QualityMeasurement
from modelops_operator.reconcile.pipeline import reconcile
from modelops_operator.reconcile.plan import DriftMeasurement, Observed
from modelops_operator.retraining.job import job_name
from modelops_operator.retraining.state import JOB_ABSENT, JOB_ACTIVE, JOB_COMPLETE, JOB_FAILED
from tests.unit.operator.reconcile.scene import (
    IMAGE,
    NOW,
    OWNER,
    PROFILE,
    TEMPLATE,
    available,
    settled,
)


def body(performance=None, retraining=None, drift=True):
    monitoring = {
        "performance": performance
        or {"metric": "auc", "threshold": 0.7, "window": "2h", "minLabelledSamples": 100}
    }
    if drift:
        monitoring["prometheus"] = {"address": "http://prom"}
        monitoring["drift"] = {"threshold": 0.2, "minSamples": 100, "interval": "5m"}
    return {
        "model": {"name": "churn", "version": "3"},
        "image": IMAGE,
        "registry": {"uri": "s3://models"},
        "replicas": 1,
        "monitoring": monitoring,
        "retraining": retraining or {"jobTemplate": TEMPLATE, "cooldown": "1h", "maxAttempts": 2},
    }


def quality(auc, labelled=500):
    q = Quality(1000, labelled, {"auc": auc, "logloss": 0.5}, {"auc": 0.83})
    report = WindowQuality("churn", "churn", NOW - dt.timedelta(hours=2), NOW, {"3": q})
    return QualityMeasurement("3", report)


def same_inputs():
    # The inputs look like the reference: concept shift leaves input drift quiet.
    numeric, total = [], 0.0
    for le, c in zip(["1", "5", "10", "+Inf"], [50, 50, 50, 50], strict=True):
        total += c
        numeric.append(({"feature": "tenure", "le": le}, total))
    report = measure(PROFILE, BucketSamples(numeric=tuple(numeric)), Spec(body()).drift)
    return DriftMeasurement(version="3", report=report)


def run(spec, status, *, performance=None, drift=None, job_state=JOB_ABSENT, now=NOW):
    observed = Observed(
        owner=OWNER,
        status=status,
        deployments={"stable": available()},
        drift=drift,
        performance=performance,
        job_state=job_state,
    )
    return reconcile(spec, observed, now)


def condition(plan, ctype):
    return cond.get_condition(plan.status["conditions"], ctype)


def env_of(job):
    return {e["name"]: e["value"] for e in job["spec"]["template"]["spec"]["containers"][0]["env"]}


def test_degraded_labels_start_a_performance_job_while_drift_stays_quiet():
    spec = Spec(body())
    plan = run(spec, settled(spec), performance=quality(0.55), drift=same_inputs())
    assert condition(plan, "Drifted")["status"] == "False"
    degraded = condition(plan, cond.PERFORMANCE_DEGRADED)
    assert (degraded["status"], degraded["reason"]) == ("True", "PerformanceDegraded")
    assert plan.status["performance"]["value"] == 0.55
    assert plan.status["performance"]["estimated"] == {"auc": 0.83}
    name = job_name("churn", "uid-1", "3", 1)
    assert plan.status["retraining"]["reason"] == "Performance"
    assert plan.status["retraining"]["job"] == name
    assert [e.reason for e in plan.events] == ["PerformanceDegraded", "RetrainingStarted"]
    assert "performance retraining" not in plan.events[1].message  # a start, not a refusal
    assert "(Performance, attempt 1 of 2" in plan.events[1].message
    (job,) = plan.create
    assert job["metadata"]["labels"]["modelops.io/retrain-reason"] == "Performance"
    assert job["metadata"]["annotations"]["modelops.io/train-data"] == "inference-log:churn:2h"
    env = env_of(job)
    assert env["MODELOPS_RETRAIN_REASON"] == "Performance"
    assert env["MODELOPS_TRAIN_DATA"] == "inference-log:churn:2h"
    assert env["MODELOPS_LOG_URI"] == "s3://models"
    assert '"value": 0.55' in env["MODELOPS_PERFORMANCE_REPORT"]


def test_the_log_store_named_in_spec_env_is_where_the_job_reads():
    raw = body()
    raw["env"] = [{"name": "MODELOPS_LOG_URI", "value": "s3://logs"}]
    spec = Spec(raw)
    plan = run(spec, settled(spec), performance=quality(0.55))
    assert env_of(plan.create[0])["MODELOPS_LOG_URI"] == "s3://logs"


@pytest.mark.parametrize(
    ("measurement", "reason"),
    [
        (quality(0.9), "PerformanceOK"),
        (quality(0.1, labelled=99), "InsufficientLabels"),
        (quality(None), "MetricUndefined"),
        (QualityMeasurement("3", None, "OSError: bucket gone"), "PerformanceUnknown"),
    ],
)
def test_anything_but_degraded_never_retrains(measurement, reason):
    spec = Spec(body())
    plan = run(spec, settled(spec), performance=measurement)
    assert condition(plan, cond.PERFORMANCE_DEGRADED)["reason"] == reason
    assert plan.create == () and "retraining" not in plan.status


def test_trigger_on_performance_false_only_reports():
    spec = Spec(body(retraining={"jobTemplate": TEMPLATE, "triggerOnPerformance": False}))
    plan = run(spec, settled(spec), performance=quality(0.5))
    assert condition(plan, cond.PERFORMANCE_DEGRADED)["status"] == "True"
    assert plan.create == ()


def test_a_lasting_degradation_starts_one_job_per_cooldown_and_at_most_max_attempts():
    spec = Spec(body())
    first = run(spec, settled(spec), performance=quality(0.5))
    assert len(first.create) == 1
    # The Job fails; its retry comes from the backoff, not from the lasting verdict.
    failed = run(spec, first.status, job_state=JOB_FAILED, now=NOW + dt.timedelta(minutes=1))
    assert failed.status["retraining"]["state"] == "Failed"
    # Within the cooldown (1h) a new measurement, still degraded, starts nothing new
    # beyond the retry of the failed attempt (attempt 2 of 2).
    later = NOW + dt.timedelta(minutes=20)
    retried = run(spec, failed.status, performance=quality(0.5), now=later)
    assert retried.status["retraining"]["attempts"] == 2
    assert retried.status["retraining"]["reason"] == "Retry"
    done = run(spec, retried.status, job_state=JOB_FAILED, now=later + dt.timedelta(minutes=1))
    # After the cooldown the verdict asks again, but maxAttempts (2) is spent.
    after = NOW + dt.timedelta(hours=2)
    exhausted = run(spec, done.status, performance=quality(0.5), now=after)
    assert exhausted.create == ()
    assert condition(exhausted, "Retraining")["reason"] == cond.REASON_RETRAINING_EXHAUSTED


def test_after_a_rejected_candidate_the_cooldown_holds_the_next_performance_job():
    spec = Spec(body(retraining={"jobTemplate": TEMPLATE, "cooldown": "1h", "maxAttempts": 3}))
    first = run(spec, settled(spec), performance=quality(0.5))
    rejected = ("4", {"status": "rejected", "metrics": {"auc": 0.6}, "gates": {}})
    observed = Observed(
        owner=OWNER,
        status=first.status,
        deployments={"stable": available()},
        job_state=JOB_COMPLETE,
        candidate=rejected,
    )
    ended = reconcile(spec, observed, NOW + dt.timedelta(minutes=5))
    assert ended.status["retraining"]["state"] == "Succeeded"
    within = run(spec, ended.status, performance=quality(0.5), now=NOW + dt.timedelta(minutes=30))
    assert within.create == () and within.status["retraining"]["attempts"] == 1
    after = run(spec, within.status, performance=quality(0.5), now=NOW + dt.timedelta(minutes=61))
    assert after.status["retraining"]["reason"] == "Performance"
    assert after.status["retraining"]["attempts"] == 2 and len(after.create) == 1


def test_between_measurements_the_verdict_reads_back_and_the_running_job_is_followed():
    spec = Spec(body())
    started = run(spec, settled(spec), performance=quality(0.5))
    running = run(spec, started.status, job_state=JOB_ACTIVE)
    again = run(spec, running.status, job_state=JOB_ACTIVE)
    assert again.status == running.status and again.create == () and again.events == ()
    assert running.status["performance"] == started.status["performance"]


def test_without_retraining_performance_is_reported_only():
    raw = body()
    del raw["retraining"]
    spec = Spec(raw)
    plan = run(spec, settled(spec), performance=quality(0.5))
    assert condition(plan, cond.PERFORMANCE_DEGRADED)["status"] == "True"
    assert plan.create == () and "retraining" not in plan.status


def test_a_recovery_posts_one_event():
    spec = Spec(body(retraining={"jobTemplate": TEMPLATE, "triggerOnPerformance": False}))
    degraded = run(spec, settled(spec), performance=quality(0.5))
    later = NOW + dt.timedelta(hours=1)
    recovered = run(spec, degraded.status, performance=quality(0.9), now=later)
    assert [e.reason for e in recovered.events] == ["PerformanceRecovered"]
