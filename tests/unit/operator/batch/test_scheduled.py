"""The schedule's runs followed into status.batch.lastScheduledRun (pure, table-tested)."""

from __future__ import annotations

import datetime as dt
import json

import pytest

from modelops_operator.batch import scheduled, state
from modelops_operator.batch.scheduled import ScheduledJob
from modelops_operator.batch.summary import ShardReport
from modelops_operator.reconcile.pipeline import reconcile
from modelops_operator.reconcile.plan import Observed
from modelops_operator.retraining.state import JOB_ACTIVE, JOB_COMPLETE, JOB_FAILED
from tests.unit.operator.batch.test_batch import OWNER, SERVING, spec

NOW = dt.datetime(2026, 12, 6, 9, 0, tzinfo=dt.UTC)
CRON_UID = "c0c0c0c0-0000-4000-8000-000000000009"


def shard(index: int, rows: int, rejected: int) -> ShardReport:
    summary = {"rows": rows, "scored": rows - rejected, "rejected": rejected,
               "output": f"s3://scores/churn/j/part-0000{index}-of-00002.parquet"}  # fmt: skip
    return ShardReport(index, 0, json.dumps(summary), "2026-12-06T02:01:00Z")


REPORTS = (shard(0, 600, 1), shard(1, 400, 2))


def job(name: str, uid: str, job_state: str = JOB_ACTIVE, reports=REPORTS, minute: int = 0):
    finished = job_state in (JOB_COMPLETE, JOB_FAILED)
    return ScheduledJob(
        name=name, uid=uid, state=job_state, created=f"2026-12-06T02:{minute:02d}:00Z",
        version="3", shards=2, output=f"s3://scores/churn/{name}/",
        started_at=f"2026-12-06T02:{minute:02d}:00Z",
        finished_at=f"2026-12-06T02:{minute + 2:02d}:30Z" if finished else None,
        reports=reports if finished else (),
    )  # fmt: skip


A, A_DONE, A_FAILED = job("a", "ua"), job("a", "ua", JOB_COMPLETE), job("a", "ua", JOB_FAILED)
B, B_DONE = job("b", "ub", minute=10), job("b", "ub", JOB_COMPLETE, minute=10)
RUNNING_A = scheduled._record(A)
ENDED_A = scheduled._ended(RUNNING_A, A_DONE, NOW)[0]


@pytest.mark.parametrize(
    ("previous", "jobs", "job_name", "end", "events"),
    [
        (None, None, None, None, []),  # not read this pass: nothing changes
        (RUNNING_A, None, "a", state.RUNNING, []),  # ... not even a Running record
        (None, (), None, None, []),  # the CronJob has not run yet
        (None, (A,), "a", state.RUNNING, []),  # a new run is taken up
        (RUNNING_A, (A,), "a", state.RUNNING, []),
        (RUNNING_A, (A_DONE,), "a", state.SUCCEEDED, [state.REASON_SUCCEEDED]),
        (RUNNING_A, (A_FAILED,), "a", state.FAILED, [state.REASON_FAILED]),
        (None, (A_DONE,), "a", state.SUCCEEDED, [state.REASON_SUCCEEDED]),  # ended unseen
        (ENDED_A, (A_DONE,), "a", state.SUCCEEDED, []),  # reported once: never again
        (ENDED_A, (A_DONE, B), "b", state.RUNNING, []),  # the next run
        (RUNNING_A, (A, B), "a", state.RUNNING, []),  # followed to its end, though newer
        (RUNNING_A, (A_DONE, B_DONE), "b", state.SUCCEEDED,
         [state.REASON_SUCCEEDED, state.REASON_SUCCEEDED]),  # each reported, once
        (RUNNING_A, (), "a", state.LOST, [state.REASON_FAILED]),  # vanished unseen
        (RUNNING_A, (B,), "b", state.RUNNING, [state.REASON_FAILED]),
    ],
)  # fmt: skip
def test_scheduled_runs_are_followed_and_reported_once(previous, jobs, job_name, end, events):
    last, posted = scheduled.follow(previous, jobs, NOW)
    assert [e.reason for e in posted] == events
    if job_name is None:
        assert last is None
        return
    assert last["job"] == job_name and last["state"] == end
    assert last["trigger"] == state.TRIGGER_SCHEDULE


def test_an_ended_run_has_the_jobs_times_and_the_shards_sums():
    last, (event,) = scheduled.follow(RUNNING_A, (A_DONE,), NOW)
    assert (last["rows"], last["scored"], last["rejects"], last["shardsReported"]) == (
        1000, 997, 3, 2)  # fmt: skip
    # The Job's own end, not the pass that read it (a late read keeps the real duration).
    assert last["finishedAt"] == "2026-12-06T02:02:30Z" and last["durationSeconds"] == 150.0
    assert last["version"] == "3" and last["output"] == "s3://scores/churn/a/"
    assert "1,000 row(s)" in event.message and "version 3" in event.message
    failed, (warning,) = scheduled.follow(RUNNING_A, (A_FAILED,), NOW)
    assert "kubectl logs -l job-name=a" in failed["message"] and warning.type == "Warning"


def job_object(name, uid, owner_uid, *, created, conditions=(), completion=None, controller=True):
    args = ["score", "--version", "7", "--out", "s3://scores/churn/$(MODELOPS_BATCH_RUN)/"]
    return {
        "metadata": {"name": name, "uid": uid, "creationTimestamp": created,
                     "ownerReferences": [{"kind": "CronJob", "name": "cron", "uid": owner_uid,
                                          "controller": controller}]},
        "spec": {"completions": 2, "template": {"spec": {"containers": [
            {"name": "sidecar"}, {"name": "score", "args": args}]}}},
        "status": {"startTime": created, "conditions": list(conditions),
                   **({"completionTime": completion} if completion else {})},
    }  # fmt: skip


def test_only_the_jobs_the_cronjob_owns_are_read_latest_last():
    done = {"type": "Complete", "status": "True"}
    failed = {"type": "Failed", "status": "True", "lastTransitionTime": "2026-12-06T03:05:00Z"}
    jobs = [
        job_object("late", "u2", CRON_UID, created="2026-12-06T03:00:00Z", conditions=[failed]),
        job_object("early", "u1", CRON_UID, created="2026-12-06T02:00:00Z", conditions=[done],
                   completion="2026-12-06T02:04:00Z"),
        # The same labels, but another owner: a stranger, never read.
        job_object("stranger", "u3", "someone-else", created="2026-12-06T04:00:00Z"),
        # `kubectl create job --from=cronjob/...`: owned by the CronJob, not controlled.
        job_object("by-hand", "u4", CRON_UID, created="2026-12-06T03:30:00Z", controller=False),
    ]  # fmt: skip
    owned = scheduled.owned(jobs, CRON_UID)
    assert [j.name for j in owned] == ["early", "late", "by-hand"]
    early, late, _ = owned
    assert (early.state, early.finished_at) == (JOB_COMPLETE, "2026-12-06T02:04:00Z")
    assert (late.state, late.finished_at) == (JOB_FAILED, "2026-12-06T03:05:00Z")
    assert early.version == "7" and early.output == "s3://scores/churn/early/"
    assert early.shards == 2 and early.started_at == "2026-12-06T02:00:00Z"


@pytest.mark.parametrize(
    ("previous", "jobs", "wanted"),
    [
        (None, (A,), set()),  # running: no pods listed
        (None, (A_DONE,), {"a"}),
        (RUNNING_A, (A_DONE,), {"a"}),
        (ENDED_A, (A_DONE,), set()),  # reported: its pods are never listed again
        (RUNNING_A, (A_DONE, B_DONE), {"a", "b"}),
        (RUNNING_A, (A, B_DONE), set()),  # b waits until a, the followed run, ends
    ],
)
def test_pods_are_listed_only_for_runs_about_to_be_reported(previous, jobs, wanted):
    assert scheduled.to_read(previous, jobs) == wanted


# --- the pipeline part ----------------------------------------------------------------------


def observed(status, **kw) -> Observed:
    return Observed(owner=OWNER, status=status, **kw)


def test_the_pipeline_records_the_scheduled_run_beside_the_once_run():
    md = spec(schedule="0 2 * * *").raw
    once = {"job": "churn-batch-x", "trigger": "Manual", "state": "Running", "version": "3"}
    status = {**SERVING, "batch": {"runs": 1, "lastRun": once}}
    plan = reconcile(md, observed(status, batch_job_state=JOB_ACTIVE, batch_job_uid="u0",
                                  scheduled_jobs=(A_DONE,)), NOW)  # fmt: skip
    batch = plan.status["batch"]
    assert batch["lastRun"]["job"] == "churn-batch-x" and batch["lastRun"]["state"] == "Running"
    assert batch["lastScheduledRun"]["state"] == state.SUCCEEDED
    assert [e.reason for e in plan.events if e.reason == state.REASON_SUCCEEDED] == [
        state.REASON_SUCCEEDED
    ]
    again = reconcile(md, observed(plan.status, batch_job_state=JOB_ACTIVE, batch_job_uid="u0",
                                   scheduled_jobs=(A_DONE,)), NOW)  # fmt: skip
    assert not [e for e in again.events if e.reason == state.REASON_SUCCEEDED]
    assert again.status["batch"]["lastScheduledRun"] == batch["lastScheduledRun"]


def test_removing_the_schedule_stops_following_a_running_run_without_an_event():
    md = spec(schedule="0 2 * * *").raw
    plan = reconcile(md, observed(SERVING, scheduled_jobs=(A,)), NOW)
    assert plan.status["batch"]["lastScheduledRun"]["state"] == state.RUNNING
    gone = reconcile(spec().raw, observed(plan.status), NOW)
    last = gone.status["batch"]["lastScheduledRun"]
    assert last["state"] == state.LOST and "schedule was removed" in last["message"]
    assert not [e for e in gone.events if e.reason.startswith("BatchRun")]
