"""Unit tests of the retraining state machine, Job naming and the Job builder."""

from __future__ import annotations

import datetime as dt
import json
import re

import pytest

from modelops_operator.api import conditions as cond
from modelops_operator.api.objects import Owner
from modelops_operator.api.spec import Spec
from modelops_operator.drift.verdict import DRIFTED, INSUFFICIENT, NOT_DRIFTED, UNKNOWN
from modelops_operator.retraining import outcome, state, trigger
from modelops_operator.retraining.job import build_job, job_name

NOW = dt.datetime(2026, 1, 1, 12, 0, tzinfo=dt.UTC)
UID = "3f1c2a9e-77aa-4c1b-9d0e-5a6b7c8d9e0f"
OTHER_UID = "0b9e8d7c-1111-4c1b-9d0e-5a6b7c8d9e0f"
TEMPLATE = {
    "metadata": {"labels": {"team": "ml"}},
    "spec": {
        "template": {
            "spec": {
                "containers": [
                    {
                        "name": "train",
                        "image": "ghcr.io/acme/modelops-training:0.1.0",
                        "command": ["modelops", "train", "--data", "synthetic:20000"],
                        "env": [
                            {"name": "MODELOPS_MODEL", "value": "other"},
                            {"name": "X", "value": "1"},
                        ],
                    }
                ]
            }
        }
    },
}
SPEC = {
    "model": {"name": "churn", "version": "3"},
    "registry": {"uri": "file:///models"},
    "retraining": {
        "jobTemplate": TEMPLATE,
        "cooldown": "1h",
        "maxAttempts": 2,
        "gates": {"minMetric": {"auc": 0.75}},
    },
}


def at(minutes: float) -> str:
    return (NOW + dt.timedelta(minutes=minutes)).strftime("%Y-%m-%dT%H:%M:%SZ")


def decide(
    previous=None,
    verdict=NOT_DRIFTED,
    *,
    token=None,
    handled=None,
    job=None,
    candidate=None,
    base="3",
    spec=SPEC,
    exhausted_reported=False,
    now=NOW,
):
    return trigger.decide(
        md_name="churn",
        owner_uid=UID,
        spec=Spec(spec),
        previous=previous,
        handled_token=handled,
        annotation_token=token,
        base_version=base,
        drifted=verdict == DRIFTED,
        job_state=outcome.job_state(job),
        candidate=candidate,
        now=now,
        reported=cond.false(cond.REASON_RETRAINING_EXHAUSTED, "m") if exhausted_reported else None,
    )


def job_with(condition: str | None) -> dict:
    conds = [] if condition is None else [{"type": condition, "status": "True"}]
    return {"status": {"conditions": conds}}


# --- naming ----------------------------------------------------------------------


def test_job_name_is_deterministic_and_distinct_per_attempt() -> None:
    a = job_name("churn", UID, "3", 1)
    assert a == job_name("churn", UID, "3", 1)
    assert a.startswith("churn-retrain-3f1c2a9e-v3-1-")
    assert len({a, job_name("churn", UID, "3", 2), job_name("churn", UID, "4", 1)}) == 3


def test_job_name_belongs_to_one_instance_of_a_name() -> None:
    # Deleted (--cascade=orphan) and re-created under the same name: another uid,
    # so never the name of a Job the earlier object left behind.
    assert job_name("churn", UID, "3", 1) != job_name("churn", OTHER_UID, "3", 1)


@pytest.mark.parametrize("md", ["x" * 253, "a-b.c" * 40, "churn"])
@pytest.mark.parametrize("version", ["3", "1.2.0+build_7", "V" * 100])
def test_job_name_is_a_dns_label(md: str, version: str) -> None:
    name = job_name(md, UID, version, 12)
    assert len(name) <= 63
    assert re.fullmatch(r"[a-z0-9]([-a-z0-9]*[a-z0-9])?", name), name


def test_long_names_stay_distinct_after_truncation() -> None:
    assert job_name("x" * 100, UID, "1", 1) != job_name("x" * 101, UID, "1", 1)
    assert job_name("x" * 100, UID, "1", 1) != job_name("x" * 100, OTHER_UID, "1", 1)


# --- triggers ----------------------------------------------------------------------


@pytest.mark.parametrize("verdict", [NOT_DRIFTED, INSUFFICIENT, UNKNOWN])
def test_no_trigger_without_drift(verdict: str) -> None:
    d = decide(verdict=verdict)
    assert d.job is None and d.events == () and d.condition[0] == "False"


def test_drift_triggers_attempt_one() -> None:
    d = decide(verdict=DRIFTED)
    assert d.job == job_name("churn", UID, "3", 1) and d.reason == "Drift"
    assert d.status == {
        "job": d.job,
        "baseVersion": "3",
        "reason": "Drift",
        "state": "Running",
        "triggeredAt": at(0),
        "attempts": 1,
        "attemptsByBase": [{"baseVersion": "3", "attempts": 1}],
    }
    assert d.condition[:2] == ("True", cond.REASON_RETRAINING_STARTED)
    assert [e[1] for e in d.events] == [cond.REASON_RETRAINING_STARTED]


def test_trigger_on_drift_can_be_switched_off_but_not_the_annotation() -> None:
    spec = {**SPEC, "retraining": {**SPEC["retraining"], "triggerOnDrift": False}}
    kw = dict(
        md_name="churn",
        owner_uid=UID,
        spec=Spec(spec),
        previous=None,
        handled_token=None,
        base_version="3",
        drifted=True,
        job_state=state.JOB_ABSENT,
        candidate=None,
        now=NOW,
    )
    assert trigger.decide(annotation_token=None, **kw).job is None
    assert trigger.decide(annotation_token="t1", **kw).reason == "Manual"


def succeeded(minutes_ago: float, attempts: int = 1, base: str = "3") -> dict:
    return {
        "job": job_name("churn", UID, base, attempts),
        "baseVersion": base,
        "reason": "Drift",
        "state": "Succeeded",
        "triggeredAt": at(-minutes_ago),
        "attempts": attempts,
        "candidate": {"version": "4", "approved": False, "metrics": {}, "gates": {}},
    }


def test_cooldown_blocks_drift_until_it_has_passed() -> None:
    assert decide(succeeded(59), DRIFTED).job is None
    d = decide(succeeded(60), DRIFTED)
    assert d.job == job_name("churn", UID, "3", 2) and d.status["attempts"] == 2


def test_annotation_skips_cooldown_and_is_handled_once() -> None:
    d = decide(succeeded(1), NOT_DRIFTED, token="please")
    assert d.reason == "Manual" and d.handled_token == "please"
    assert decide(succeeded(1), NOT_DRIFTED, token="please", handled="please").job is None


def test_max_attempts_per_base_version() -> None:
    d = decide(succeeded(120, attempts=2), DRIFTED)
    assert d.job is None
    assert d.condition[1] == cond.REASON_RETRAINING_EXHAUSTED
    assert [e[1] for e in d.events] == [cond.REASON_RETRAINING_EXHAUSTED]
    # Reported once: the next pass of the same lasting drift is quiet.
    assert decide(succeeded(120, attempts=2), DRIFTED, exhausted_reported=True).events == ()
    # The annotation does not bypass maxAttempts either, but consumes its token.
    m = decide(succeeded(120, attempts=2), token="t")
    assert m.job is None and m.handled_token == "t" and m.events


def test_a_new_base_version_starts_a_new_count() -> None:
    d = decide(succeeded(120, attempts=2, base="3"), DRIFTED, base="4")
    assert d.job == job_name("churn", UID, "4", 1) and d.status["attempts"] == 1


def test_persisted_decision_without_job_recreates_the_same_job() -> None:
    first = decide(verdict=DRIFTED)
    again = decide(first.status, DRIFTED, job=None)
    assert again.job == first.job and again.events == () and again.status == first.status
    active = decide(first.status, DRIFTED, job=job_with(None))
    # Seen: nothing to create any more, and nothing to write without its uid.
    assert active.job is None and active.condition[1] == cond.REASON_JOB_RUNNING


def test_failed_job_is_reported_then_retried_after_backoff() -> None:
    running = decide(verdict=DRIFTED).status
    failed = decide(running, job=job_with("Failed"))
    assert failed.status["state"] == "Failed" and failed.status["finishedAt"] == at(0)
    assert failed.outcome == "failed" and failed.events[0][:2] == (
        "Warning",
        cond.REASON_RETRAINING_FAILED,
    )
    # Backoff after attempt 1: 30 s.
    assert decide(failed.status, now=NOW + dt.timedelta(seconds=29)).job is None
    retry = decide(failed.status, now=NOW + dt.timedelta(seconds=30))
    assert retry.reason == "Retry" and retry.status["attempts"] == 2
    assert retry.job == job_name("churn", UID, "3", 2)
    # The last allowed attempt fails too: no more Jobs for this base version.
    failed2 = decide(retry.status, job=job_with("Failed"), now=NOW + dt.timedelta(minutes=5))
    last = decide(failed2.status, DRIFTED, now=NOW + dt.timedelta(hours=5))
    assert last.job is None and last.condition[1] == cond.REASON_RETRAINING_EXHAUSTED


def metadata(status: str, auc: float) -> dict:
    return {
        "status": status,
        "metrics": {"auc": auc, "logloss": 0.4, "note": "x"},
        "gates": {
            "minMetric.auc": {"passed": auc >= 0.75, "value": auc, "threshold": 0.75},
            "maxRegression": {"passed": True, "value": None, "threshold": 0.01},
        },
    }


def test_completed_job_records_an_approved_candidate() -> None:
    running = decide(verdict=DRIFTED).status
    d = decide(running, job=job_with("Complete"), candidate=("4", metadata("approved", 0.81)))
    assert d.status["state"] == "Succeeded" and d.outcome == "approved"
    assert d.status["candidate"] == {
        "version": "4",
        "approved": True,
        "metrics": {"auc": 0.81, "logloss": 0.4},
        "gates": {
            "minMetric.auc": {"passed": True, "value": 0.81, "threshold": 0.75},
            "maxRegression": {"passed": True, "threshold": 0.01},
        },
    }
    reasons = [e[1] for e in d.events]
    assert reasons == [
        cond.REASON_CANDIDATE_APPROVED,
        cond.REASON_CANDIDATE_READY,
    ]  # pinned: GitOps event
    # Afterwards, the idle condition keeps saying what happened.
    assert decide(d.status).condition[1] == cond.REASON_CANDIDATE_APPROVED


def test_channel_approved_candidate_is_left_to_the_channel() -> None:
    spec = {**SPEC, "model": {"name": "churn", "version": "@latest-approved"}}
    running = decide(verdict=DRIFTED, spec=spec).status
    d = decide(
        running, job=job_with("Complete"), candidate=("4", metadata("approved", 0.8)), spec=spec
    )
    assert [e[1] for e in d.events] == [
        cond.REASON_CANDIDATE_APPROVED,
        cond.REASON_CANDIDATE_APPROVED,
    ]
    assert "channel" in d.events[1][2]


def test_rejected_candidate_is_reported_with_failed_gates() -> None:
    running = decide(verdict=DRIFTED).status
    d = decide(running, job=job_with("Complete"), candidate=("4", metadata("rejected", 0.6)))
    assert d.outcome == "rejected" and d.status["candidate"]["approved"] is False
    assert d.events[0][0] == "Warning" and "minMetric.auc" in d.events[0][2]
    assert decide(d.status).condition[1] == cond.REASON_CANDIDATE_REJECTED


def test_completed_job_without_candidate_counts_as_failed() -> None:
    running = decide(verdict=DRIFTED).status
    d = decide(running, job=job_with("Complete"), candidate=None)
    assert d.status["state"] == "Failed" and d.condition[1] == cond.REASON_CANDIDATE_NOT_FOUND


def test_no_base_version_no_decision() -> None:
    assert decide(verdict=DRIFTED, base=None).job is None


# --- the Job ----------------------------------------------------------------------


def test_build_job() -> None:
    owner = Owner(name="churn", namespace="ml", uid="u-1")
    drift = {"method": "psi", "score": 0.4}
    job = build_job(
        owner,
        Spec(SPEC),
        name="churn-retrain-v3-1-abc",
        base_version="3",
        attempt=1,
        reason="Drift",
        drift_report=drift,
    )
    assert job["metadata"]["name"] == "churn-retrain-v3-1-abc"
    assert job["metadata"]["namespace"] == "ml"
    assert job["metadata"]["labels"] == {
        "team": "ml",
        "app.kubernetes.io/managed-by": "modelops",
        "modelops.io/deployment": "churn",
        "modelops.io/model-version": "3",
        "modelops.io/retrain-attempt": "1",
        "modelops.io/retrain-reason": "Drift",
        "modelops.io/owner-uid": "u-1",
    }
    ref = job["metadata"]["ownerReferences"][0]
    assert (ref["kind"], ref["uid"], ref["controller"]) == ("ModelDeployment", "u-1", True)
    assert job["spec"]["backoffLimit"] == 0
    pod = job["spec"]["template"]
    assert pod["spec"]["restartPolicy"] == "Never"
    env = {e["name"]: e["value"] for e in pod["spec"]["containers"][0]["env"]}
    assert env["MODELOPS_MODEL"] == "churn"  # the template's value is replaced
    assert env["X"] == "1"
    assert env["MODELOPS_BASE_VERSION"] == "3"
    assert env["MODELOPS_REGISTRY"] == "file:///models"
    assert env["MODELOPS_RETRAIN_REASON"] == "Drift"
    assert env["MODELOPS_RETRAIN_JOB"] == "churn-retrain-v3-1-abc"
    assert env["MODELOPS_RETRAIN_OWNER_UID"] == "u-1"
    assert json.loads(env["MODELOPS_DRIFT_REPORT"]) == drift
    assert json.loads(env["MODELOPS_GATES"]) == {"minMetric": {"auc": 0.75}}
    # The spec's template is not modified.
    assert len(TEMPLATE["spec"]["template"]["spec"]["containers"][0]["env"]) == 2


def test_job_state() -> None:
    assert outcome.job_state(None) == state.JOB_ABSENT
    assert outcome.job_state({}) == state.JOB_ACTIVE
    assert outcome.job_state(job_with("Complete")) == state.JOB_COMPLETE
    assert outcome.job_state(job_with("Failed")) == state.JOB_FAILED
    assert outcome.job_state(
        {"status": {"conditions": [{"type": "Failed", "status": "False"}]}}
    ) == (state.JOB_ACTIVE)


def test_missing_job_template_is_a_clear_error() -> None:
    with pytest.raises(ValueError, match=r"spec\.retraining\.jobTemplate"):
        _ = Spec({"retraining": {"cooldown": "1h"}}).retraining


def test_a_failed_job_that_published_a_rejected_candidate_is_a_rejection_not_a_failure() -> None:
    # `modelops train` exits 3 on rejection, so the Job fails; the registry has the answer.
    running = decide(verdict=DRIFTED).status
    d = decide(running, job=job_with("Failed"), candidate=("4", metadata("rejected", 0.6)))
    assert d.status["state"] == "Succeeded" and d.outcome == "rejected"
    assert decide(d.status, DRIFTED).job is None  # no retry of a rejection within the cooldown
