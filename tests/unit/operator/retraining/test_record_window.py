"""The retraining kill window: what a pass decides on each side of it, and when the
record finalizer may go (pure; retraining/record.py, outcome.follow).

The operator persists the decision (status.retraining.job) before the create
and the Job's uid (jobUID) after it has seen the Job. With the record
finalizer, a created Job stays visible until jobUID is written, so what an
operator starting after a kill observes tells the instants apart:

| killed                          | a user deleted the Job | observed          | decided              |
| ------------------------------- | ---------------------- | ----------------- | -------------------- |
| after the decision, pre-create  | (nothing to delete)    | Absent, no jobUID | create it (once)     |
| after the create, pre-record    | no                     | Active, its uid   | record jobUID        |
| after the create, pre-record    | yes: held, Terminating | Active, its uid   | record jobUID        |
| (next pass) recorded, released  | yes: now gone          | Lost              | RetrainingLost       |
"""

from __future__ import annotations

import pytest

from modelops_operator.api import conditions as cond
from modelops_operator.api.objects import Owner
from modelops_operator.api.spec import Spec
from modelops_operator.retraining import record
from modelops_operator.retraining.job import build_job, job_name
from modelops_operator.retraining.outcome import follow
from modelops_operator.retraining.state import FAILED, JOB_ABSENT, JOB_ACTIVE, JOB_LOST, RUNNING
from tests.unit.operator.retraining.test_identity import NOW, SPEC, UID

JOB = job_name("churn", UID, "3", 1)
JOB_UID = "9999aaaa-0000-4000-8000-000000000001"
DECIDED = {
    "state": RUNNING,
    "job": JOB,
    "attempts": 1,
    "baseVersion": "3",
    "reason": "Manual",
    "startedAt": "2026-01-01T11:59:00Z",
}
RECORDED = {**DECIDED, "jobUID": JOB_UID}


@pytest.mark.parametrize(
    ("prev", "observed", "uid", "create", "status", "reason"),
    [
        # Killed between the status write and the create: the Job was never made.
        (DECIDED, JOB_ABSENT, None, JOB, DECIDED, cond.REASON_JOB_RUNNING),
        # Killed between the create and the record; deleted or not, the finalizer
        # keeps it visible with its uid: it is recorded, never created again.
        (DECIDED, JOB_ACTIVE, JOB_UID, None, RECORDED, cond.REASON_JOB_RUNNING),
        # Recorded, released, then gone: an outcome with a reason.
        (RECORDED, JOB_LOST, JOB_UID, None, None, cond.REASON_RETRAINING_LOST),
    ],
    ids=["never-created", "created-unrecorded", "recorded-then-gone"],
)
def test_each_side_of_the_window(prev, observed, uid, create, status, reason) -> None:
    decision = follow(Spec(SPEC), dict(prev), observed, None, NOW, uid=uid)
    assert decision.job == create
    assert decision.condition.reason == reason
    if status is not None:
        assert decision.status == status
    else:
        assert decision.status["state"] == FAILED
        assert decision.status["jobUID"] == JOB_UID
        assert [e.reason for e in decision.events] == [cond.REASON_RETRAINING_LOST]
        assert decision.outcome == "lost"


OTHER_UID = "0000bbbb-0000-4000-8000-000000000002"


@pytest.mark.parametrize(
    ("md_uid", "controller", "retraining", "hold"),
    [
        (UID, UID, DECIDED, True),  # decided, not recorded yet: the window itself
        (UID, UID, RECORDED, False),  # recorded: a delete is now a visible loss
        (UID, UID, {**DECIDED, "state": FAILED}, False),  # the attempt ended otherwise
        (UID, UID, {**DECIDED, "job": "another-job"}, False),  # status moved on
        (UID, UID, {}, False),  # retraining removed from the spec
        (None, UID, DECIDED, False),  # its ModelDeployment is gone
        (UID, OTHER_UID, DECIDED, False),  # a same-named predecessor's Job
        (UID, None, DECIDED, False),  # orphaned (--cascade=orphan)
    ],
)
def test_when_the_record_finalizer_must_stay(md_uid, controller, retraining, hold) -> None:
    assert (
        record.must_hold(
            job_name=JOB,
            job_uid=JOB_UID,
            controller_uid=controller,
            md_uid=md_uid,
            retraining=retraining,
        )
        is hold
    )


def test_every_job_is_created_held() -> None:
    owner = Owner(name="churn", namespace="ml", uid=UID)
    job = build_job(
        owner, Spec(SPEC), name=JOB, base_version="3", attempt=1, reason="Manual", drift_report=None
    )
    assert job["metadata"]["finalizers"] == [record.FINALIZER]
    assert record.held(job)
    assert not record.held({"metadata": {"finalizers": ["someone.else/keep"]}})
