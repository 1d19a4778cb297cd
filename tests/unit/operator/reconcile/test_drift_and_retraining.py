"""Drift and retraining as parts of the one pure reconcile: measurement in, status, Job and Events out."""

from __future__ import annotations

import pytest

from modelops_operator.api import conditions as cond
from modelops_operator.api.spec import Spec
from modelops_operator.drift.counts import BucketSamples, measure
from modelops_operator.reconcile.pipeline import reconcile
from modelops_operator.reconcile.plan import DriftMeasurement, Observed, Policy
from modelops_operator.retraining.job import job_name
from modelops_operator.retraining.state import JOB_ABSENT, JOB_ACTIVE, JOB_COMPLETE
from tests.unit.operator.reconcile.scene import (
    IMAGE,
    NOW,
    OWNER,
    PROFILE,
    TEMPLATE,
    TS,
    available,
    settled,
)


def spec(**extra):
    body = {
        "model": {"name": "churn", "version": "3"},
        "image": IMAGE,
        "registry": {"uri": "file:///models"},
        "replicas": 1,
        "monitoring": {
            "prometheus": {"address": "http://prom"},
            "drift": {"threshold": 0.2, "minSamples": 100, "interval": "5m"},
        },
        "retraining": {"jobTemplate": TEMPLATE, "cooldown": "1h", "maxAttempts": 2},
    }
    body.update(extra)
    return Spec(body)


def serving_status(**extra):
    """A settled status: stable 3 available, Ready reported."""
    return {**settled(spec()), **extra}


def measured(counts):
    total, numeric = 0.0, []
    for le, c in zip(["1", "5", "10", "+Inf"], counts, strict=True):
        total += c
        numeric.append(({"feature": "tenure", "le": le}, total))
    report = measure(PROFILE, BucketSamples(numeric=tuple(numeric)), spec().drift)
    return DriftMeasurement(version="3", report=report)


SHIFTED = [0, 0, 10, 190]
SAME = [50, 50, 50, 50]


def run(status, *, drift=None, annotations=None, job_state=JOB_ABSENT, candidate=None, **kw):
    observed = Observed(
        owner=OWNER,
        status=status,
        annotations=annotations or {},
        deployments={"stable": available()},
        drift=drift,
        job_state=job_state,
        candidate=candidate,
    )
    return reconcile(kw.pop("spec_", spec()), observed, NOW, kw.pop("policy", None))


def condition(plan, ctype):
    return cond.get_condition(plan.status["conditions"], ctype)


def reasons(plan):
    return [e.reason for e in plan.events]


def test_drift_detected_starts_one_job_in_the_same_status_write():
    plan = run(serving_status(), drift=measured(SHIFTED))
    name = job_name("churn", "uid-1", "3", 1)
    assert plan.status["drift"]["measuredAt"] == TS and plan.status["drift"]["version"] == "3"
    assert condition(plan, "Drifted")["reason"] == "DriftDetected"
    assert plan.status["retraining"] == {
        "job": name,
        "baseVersion": "3",
        "reason": "Drift",
        "state": "Running",
        "triggeredAt": TS,
        "attempts": 1,
        "attemptsByBase": [{"baseVersion": "3", "attempts": 1}],
    }
    assert condition(plan, "Retraining")["reason"] == cond.REASON_RETRAINING_STARTED
    assert reasons(plan) == ["DriftDetected", "RetrainingStarted"]
    (job,) = plan.create
    assert job["kind"] == "Job" and job["metadata"]["name"] == name
    env = {e["name"]: e["value"] for e in job["spec"]["template"]["spec"]["containers"][0]["env"]}
    assert '"tenure"' in env["MODELOPS_DRIFT_REPORT"]  # the measurement just written
    assert plan.requeue_after == 0.0  # at once: the next pass records the Job's uid


def test_between_measurements_the_verdict_reads_back_and_nothing_changes():
    drifted = run(serving_status(), drift=measured(SHIFTED))
    running = run(drifted.status, job_state=JOB_ACTIVE)  # Retraining: started -> running
    again = run(running.status, job_state=JOB_ACTIVE)
    assert again.status == running.status and again.events == () and again.create == ()
    assert running.status["drift"] == drifted.status["drift"]
    assert again.requeue_after == 300.0


def test_a_measurement_that_failed_is_unknown_and_never_retrains():
    failed = DriftMeasurement(version="3", report=None, error="http://prom: unreachable")
    plan = run(serving_status(), drift=failed)
    drifted = condition(plan, "Drifted")
    assert (drifted["status"], drifted["reason"]) == ("Unknown", "DriftUnknown")
    assert "unreachable" in drifted["message"]
    assert "drift" not in plan.status and plan.create == ()


def test_no_drift_is_reported_without_an_event_and_without_a_job():
    plan = run(serving_status(), drift=measured(SAME))
    assert condition(plan, "Drifted")["reason"] == "NoDrift"
    assert plan.events == () and plan.create == ()


def test_the_retrain_annotation_starts_a_job_once_without_drift():
    annotations = {"modelops.io/retrain": "ticket-42"}
    plan = run(serving_status(), annotations=annotations)
    assert plan.status["actions"] == {"retrain": "ticket-42"}
    assert plan.status["retraining"]["reason"] == "Manual" and len(plan.create) == 1
    handled = run(plan.status, annotations=annotations, job_state=JOB_ACTIVE)
    assert handled.create == () and handled.events == ()


def test_a_decided_job_is_created_only_while_none_is_seen():
    started = run(serving_status(), drift=measured(SHIFTED))
    assert len(run(started.status).create) == 1, "persisted but not created: create it"
    running = run(started.status, job_state=JOB_ACTIVE)
    assert running.create == ()
    assert condition(running, "Retraining")["reason"] == cond.REASON_JOB_RUNNING


def test_a_finished_job_is_acted_on_with_the_registrys_candidate():
    started = run(serving_status(), drift=measured(SHIFTED))
    candidate = ("4", {"status": "approved", "metrics": {"auc": 0.8}, "gates": {}})
    plan = run(started.status, job_state=JOB_COMPLETE, candidate=candidate)
    assert plan.status["retraining"]["state"] == "Succeeded"
    assert plan.status["retraining"]["candidate"]["version"] == "4"
    assert reasons(plan) == ["CandidateApproved", "CandidateReadyForGitOps"]
    assert plan.retraining_outcome == "approved"


def test_the_site_policy_refuses_a_template_outside_the_account_list():
    policy = Policy(retraining_service_accounts=("trainer",))
    plan = run(serving_status(), drift=measured(SHIFTED), policy=policy)
    assert plan.create == ()
    refused = condition(plan, "Retraining")
    assert refused["reason"] == cond.REASON_JOB_TEMPLATE_REFUSED
    assert 'ServiceAccount "default"' in refused["message"]


def test_nothing_serves_yet_nothing_is_measured_or_retrained():
    plan = run({}, drift=measured(SHIFTED), annotations={"modelops.io/retrain": "t"})
    assert "drift" not in plan.status and "retraining" not in plan.status and plan.create == ()


@pytest.mark.parametrize(
    ("extra", "ctype", "field"),
    [
        ({"monitoring": {"drift": {"window": "soon"}}}, "Drifted", "spec.monitoring.drift.window"),
        ({"retraining": {"cooldown": "1h"}}, "Retraining", "spec.retraining.jobTemplate"),
    ],
)
def test_a_bad_monitoring_field_is_named_and_serving_goes_on(extra, ctype, field):
    plan = run(serving_status(), spec_=spec(**extra))
    assert field in condition(plan, ctype)["message"]
    assert condition(plan, "Ready")["status"] == "True"
    assert [c["kind"] for c in plan.apply] == ["Deployment", "Service"]


def test_serving_drift_and_retraining_conditions_share_one_list_in_a_stable_order():
    plan = run(serving_status(), drift=measured(SHIFTED))
    assert [c["type"] for c in plan.status["conditions"]] == [
        "Ready",
        "Progressing",
        "Degraded",
        "Drifted",
        "Retraining",
    ]
