"""Retraining never runs twice or adopts a stranger: the pure decisions (issue 19).

A Job is this ModelDeployment's only when its name carries the object's uid
and its controller is that uid (runtime/jobs.py reads the second); status
records a Job once seen (jobUID), so a vanished one is an outcome, never
created again; a refused or foreign one ends its attempt; attempts per base
version survive a revert.
"""

from __future__ import annotations

import datetime as dt

import pytest

from modelops_operator.adapters.registry import is_candidate_of
from modelops_operator.api import conditions as cond
from modelops_operator.api.spec import Spec
from modelops_operator.retraining import state, trigger
from modelops_operator.retraining.job import job_name
from modelops_operator.retraining.state import (
    JOB_ABSENT,
    JOB_ACTIVE,
    JOB_COMPLETE,
    JOB_FOREIGN,
    JOB_LOST,
    JOB_REJECTED,
)

NOW = dt.datetime(2026, 1, 1, 12, 0, tzinfo=dt.UTC)
UID = "3f1c2a9e-77aa-4c1b-9d0e-5a6b7c8d9e0f"
JOB_UID = "9999aaaa-0000-4000-8000-000000000001"
SPEC = {
    "model": {"name": "churn", "version": "3"},
    "registry": {"uri": "file:///models"},
    "retraining": {
        "jobTemplate": {
            "spec": {"template": {"spec": {"containers": [{"name": "t", "image": "i"}]}}}
        },
        "cooldown": "2s",
        "maxAttempts": 2,
    },
}
CANDIDATE = ("7", {"status": "approved", "metrics": {"auc": 0.8}, "gates": {}})


def decide(previous=None, *, drifted=False, observed=JOB_ABSENT, base="3", now=NOW, **kw):
    return trigger.decide(
        md_name="churn",
        owner_uid=UID,
        spec=Spec(SPEC),
        previous=previous,
        handled_token=kw.pop("handled", None),
        annotation_token=kw.pop("token", None),
        base_version=base,
        drifted=drifted,
        job_state=observed,
        candidate=kw.pop("candidate", None),
        now=now,
        **kw,
    )


def later(seconds: float) -> dt.datetime:
    return NOW + dt.timedelta(seconds=seconds)


def started(**kw):
    """status.retraining of attempt 1, decided and persisted (its Job not seen yet)."""
    return decide(drifted=True, **kw).status


def seen():
    """... and its Job seen created: the uid recorded."""
    return decide(started(), observed=JOB_ACTIVE, job_uid=JOB_UID).status


# --- the Job once seen is never created again ---------------------------------------


def test_a_seen_job_is_recorded_by_its_uid_once():
    status = seen()
    assert status["jobUID"] == JOB_UID
    again = decide(status, observed=JOB_ACTIVE, job_uid=JOB_UID)
    assert again.status == status and again.job is None and again.events == ()


def test_a_decided_job_not_yet_seen_is_created():
    d = decide(started(), observed=JOB_ABSENT)
    assert d.job == started()["job"] and "jobUID" not in d.status


def test_a_vanished_job_is_lost_counted_and_not_created_again():
    d = decide(seen(), observed=JOB_LOST, now=later(5))
    assert d.job is None
    assert d.status["state"] == state.FAILED and d.status["attempts"] == 1
    assert d.condition[:2] == (cond.FALSE, cond.REASON_RETRAINING_LOST)
    assert JOB_UID in d.condition.message and "not created again" in d.condition.message
    assert [(e.type, e.reason) for e in d.events] == [("Warning", cond.REASON_RETRAINING_LOST)]
    assert d.outcome == "lost"
    # The reason stays while nothing else happens; no second Event.
    quiet = decide(d.status, observed=JOB_ABSENT, now=later(6), reported=d.condition)
    assert quiet.condition == d.condition and quiet.events == () and quiet.job is None


def test_lost_jobs_are_bounded_by_max_attempts():
    lost = decide(seen(), observed=JOB_LOST, now=later(1)).status
    retry = decide(lost, now=later(60))  # the backoff (capped by the 2 s cooldown) is over
    assert retry.status["reason"] == state.TRIGGER_RETRY and retry.status["attempts"] == 2
    assert retry.job == job_name("churn", UID, "3", 2) != lost["job"]
    seen2 = decide(retry.status, observed=JOB_ACTIVE, job_uid="u2", now=later(61)).status
    lost2 = decide(seen2, observed=JOB_LOST, now=later(62))
    assert lost2.status["attempts"] == 2
    # Drift persists and the retry time passes: maxAttempts is spent.
    after = decide(lost2.status, drifted=True, now=later(3600), reported=lost2.condition)
    assert after.job is None
    assert after.condition.reason == cond.REASON_RETRAINING_EXHAUSTED


def test_a_job_removed_after_it_published_its_candidate_reports_the_candidate():
    # ttlSecondsAfterFinished: 0 may remove a Job before the operator saw it finish.
    d = decide(seen(), observed=JOB_LOST, candidate=CANDIDATE, now=later(5))
    assert d.status["state"] == state.SUCCEEDED and d.status["candidate"]["version"] == "7"
    assert d.condition.reason == cond.REASON_CANDIDATE_APPROVED


def test_a_finished_job_keeps_its_uid_in_status():
    d = decide(seen(), observed=JOB_COMPLETE, job_uid=JOB_UID, candidate=CANDIDATE)
    assert d.status["jobUID"] == JOB_UID and d.status["state"] == state.SUCCEEDED


# --- someone else's Job is never adopted -----------------------------------------------


def test_a_job_of_that_name_controlled_by_another_object_ends_the_attempt():
    note = "is controlled by ModelDeployment churn (uid old-1), not by this ModelDeployment"
    d = decide(started(), observed=JOB_FOREIGN, job_note=note, candidate=CANDIDATE)
    assert d.job is None and "candidate" not in d.status
    assert d.status["state"] == state.FAILED and "jobUID" not in d.status
    assert d.condition[:2] == (cond.FALSE, cond.REASON_JOB_NOT_OWNED)
    assert "uid old-1" in d.condition.message and "not adopted" in d.condition.message
    assert [e.reason for e in d.events] == [cond.REASON_JOB_NOT_OWNED]
    # Retried like a failure, under a new name.
    retry = decide(d.status, now=later(60))
    assert retry.status["attempts"] == 2 and retry.job != started()["job"]


# --- a Job the API server refuses ---------------------------------------------------


def test_a_refused_job_is_reported_with_the_servers_message():
    message = 'Job.batch "x" is invalid: spec.template.spec.containers: Required value'
    d = decide(started(), observed=JOB_REJECTED, job_note=message)
    assert d.job is None and d.status["state"] == state.FAILED
    assert d.condition[:2] == (cond.FALSE, cond.REASON_JOB_REJECTED)
    assert message in d.condition.message
    assert [e.message for e in d.events] == [d.condition.message]
    assert d.outcome == "invalid"


@pytest.mark.parametrize("why", ["retry", "drift", "annotation"])
def test_no_job_is_created_again_for_the_spec_the_server_refused(why):
    refused = decide(started(), observed=JOB_REJECTED, job_note="invalid")
    kw = {"drifted": why == "drift", "token": "t-2" if why == "annotation" else None}
    held = decide(
        refused.status, now=later(3600), reported=refused.condition, rejected_spec=True, **kw
    )
    assert held.job is None and held.events == () and held.condition == refused.condition
    # A new generation of the spec: the retry is due again.
    fixed = decide(refused.status, now=later(3600), reported=refused.condition, **kw)
    assert fixed.job is not None and fixed.status["attempts"] == 2


# --- attempts per base version survive a revert ---------------------------------------


def exhausted_on(base: str, *, prev=None) -> dict:
    status = prev
    for n in (1, 2):
        status = decide(status, token=f"{base}-{n}", base=base, now=later(n)).status
        status = decide(status, observed=JOB_LOST, base=base, now=later(n)).status
    return status


def test_a_revert_to_an_earlier_base_continues_its_count():
    on_3 = exhausted_on("3")
    assert on_3["attempts"] == 2
    on_4 = decide(on_3, token="4-1", base="4", now=later(10))
    assert on_4.status["attempts"] == 1 and on_4.job == job_name("churn", UID, "4", 1)
    done_4 = decide(on_4.status, observed=JOB_LOST, base="4", now=later(11)).status
    back = decide(done_4, token="back", base="3", now=later(20))
    assert back.job is None and back.condition.reason == cond.REASON_RETRAINING_EXHAUSTED
    assert trigger.attempts_for(done_4, "3") == 2
    assert on_4.status["attemptsByBase"] == [
        {"baseVersion": "3", "attempts": 2},
        {"baseVersion": "4", "attempts": 1},
    ]


def test_a_revert_never_computes_an_earlier_jobs_name_again():
    on_3 = decide(token="a", base="3").status
    on_3 = decide(on_3, observed=JOB_LOST, base="3").status
    on_4 = decide(on_3, token="b", base="4", now=later(10)).status
    on_4 = decide(on_4, observed=JOB_LOST, base="4", now=later(10)).status
    back = decide(on_4, token="c", base="3", now=later(20))
    assert back.status["attempts"] == 2 and back.job == job_name("churn", UID, "3", 2)
    assert back.job != on_3["job"]


def test_status_written_before_attempts_by_base_is_read():
    old = {"job": "churn-retrain-v3-2-abcdef12", "baseVersion": "3", "attempts": 2}
    old |= {"state": state.FAILED, "triggeredAt": "2026-01-01T11:00:00Z"}
    assert trigger.attempts_for(old, "3") == 2 and trigger.attempts_for(old, "4") == 0
    on_4 = decide(old, token="x", base="4").status
    assert on_4["attemptsByBase"] == [
        {"baseVersion": "3", "attempts": 2},
        {"baseVersion": "4", "attempts": 1},
    ]


def test_the_remembered_bases_are_bounded():
    status = None
    for n in range(trigger.BASES_REMEMBERED + 5):
        status = decide(status, token=str(n), base=str(n), now=later(n)).status
        status = decide(status, observed=JOB_LOST, base=str(n), now=later(n)).status
    assert len(status["attemptsByBase"]) == trigger.BASES_REMEMBERED
    assert status["attemptsByBase"][-1]["baseVersion"] == str(trigger.BASES_REMEMBERED + 4)


# --- candidates by owner uid and Job --------------------------------------------------


@pytest.mark.parametrize(
    ("recorded", "matches"),
    [
        ({"job": "j", "owner_uid": UID}, True),
        ({"job": "j", "owner_uid": "another-uid"}, False),
        ({"job": "other", "owner_uid": UID}, False),
        ({"job": "j"}, True),  # metadata written before the uid was recorded
        ({}, False),
    ],
)
def test_a_candidate_is_found_by_owner_uid_and_job(recorded, matches):
    assert is_candidate_of({"retraining": recorded}, "j", UID) is matches


def test_a_job_deleted_before_status_recorded_it_is_still_lost():
    # The Job memory keeps a deleted Job of ours as Lost, with its uid (runtime/jobs.py).
    d = decide(started(), observed=JOB_LOST, job_uid=JOB_UID, now=later(1))
    assert d.job is None and d.status["jobUID"] == JOB_UID
    assert d.condition.reason == cond.REASON_RETRAINING_LOST and JOB_UID in d.condition.message
