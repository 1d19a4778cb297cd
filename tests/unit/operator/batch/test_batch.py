"""Batch scoring decisions, the Indexed Job and CronJob, and the shard sums (pure, table-tested)."""

from __future__ import annotations

import datetime as dt
import json

import pytest

from modelops_operator.api.objects import Owner
from modelops_operator.api.spec import Spec
from modelops_operator.batch import job, run, state
from modelops_operator.batch.summary import ShardReport, totals
from modelops_operator.reconcile.pipeline import reconcile
from modelops_operator.reconcile.plan import Observed
from modelops_operator.retraining.state import (
    JOB_ABSENT,
    JOB_ACTIVE,
    JOB_COMPLETE,
    JOB_FAILED,
    JOB_FOREIGN,
    JOB_LOST,
    JOB_REJECTED,
)

NOW = dt.datetime(2026, 12, 6, 8, 0, tzinfo=dt.UTC)
OWNER = Owner(name="churn", namespace="ml", uid="1f2e3d4c-0000-4000-8000-000000000001")
POD = {"containers": [{"name": "score", "image": "ghcr.io/acme/modelops-training:0.1.0"}]}


def spec(**batch) -> Spec:
    return Spec(
        {
            "model": {"name": "churn", "version": "3"},
            "image": "ghcr.io/acme/churn-bento:1.2.0",
            "registry": {"uri": "s3://models"},
            "batch": {
                "data": "s3://extracts/churn/",
                "out": "s3://scores/churn",
                "shards": 2,
                "jobTemplate": {"spec": {"template": {"spec": POD}}},
                **batch,
            },
        }
    )


def summary(rows: int, rejected: int) -> str:
    return json.dumps({"rows": rows, "scored": rows - rejected, "rejected": rejected,
                       "output": f"s3://scores/churn/r/part-0000{rows % 7}-of-00002.parquet"})  # fmt: skip


def decide(prev=None, token="t1", handled=None, stable="3", observed=JOB_ABSENT, **kw):
    return run.decide(
        md_name="churn",
        owner_uid=OWNER.uid,
        batch=spec().batch,
        previous=prev,
        handled_token=handled,
        annotation_token=token,
        stable_version=stable,
        job_state=observed,
        now=NOW,
        **kw,
    )


RUNNING = {
    "runs": 1,
    "lastRun": {"job": "churn-batch-x", "trigger": "Manual", "version": "3",
                "state": "Running", "startedAt": "2026-12-06T07:59:00Z", "shards": 2,
                "output": "s3://scores/churn/churn-batch-x/"},
}  # fmt: skip


# --- when a run starts ------------------------------------------------------------------


@pytest.mark.parametrize(
    ("token", "handled", "stable", "starts", "handles", "event"),
    [
        ("t1", None, "3", True, "t1", state.REASON_STARTED),
        ("t1", "t1", "3", False, None, None),  # a value is handled once
        (None, None, "3", False, None, None),  # nothing asked
        ("t2", "t1", None, False, "t2", state.REASON_NOT_STARTED),  # nothing serves yet
    ],
)
def test_a_run_starts_once_per_annotation_value(token, handled, stable, starts, handles, event):
    d = decide(token=token, handled=handled, stable=stable)
    assert (d.job is not None) == starts
    assert d.handled_token == handles
    assert [e.reason for e in d.events] == ([event] if event else [])
    if starts:
        last = d.status["lastRun"]
        assert last["version"] == "3" and last["state"] == state.RUNNING
        assert last["job"] == d.job == job.job_name("churn", OWNER.uid, 1, "3")
        assert last["output"] == f"s3://scores/churn/{d.job}/"
        assert "jobUID" not in last and d.status["runs"] == 1


def test_the_next_run_gets_the_next_name_and_the_version_stable_serves_then():
    first = decide(prev={**RUNNING, "lastRun": {**RUNNING["lastRun"], "state": "Succeeded"}},
                   stable="4")  # fmt: skip
    assert first.status["runs"] == 2 and first.status["lastRun"]["version"] == "4"
    assert first.job == job.job_name("churn", OWNER.uid, 2, "4") != RUNNING["lastRun"]["job"]


def test_a_request_during_a_run_waits_for_it_to_end():
    d = decide(prev=RUNNING, token="t2", handled="t1", observed=JOB_ACTIVE, job_uid="u1")
    assert d.handled_token is None and d.job is None
    assert d.status["lastRun"]["jobUID"] == "u1"


def test_a_refused_template_starts_nothing_and_says_why():
    bad = spec(jobTemplate={"spec": {"template": {"spec": {"hostPID": True, **POD}}}})
    d = run.decide(md_name="churn", owner_uid=OWNER.uid, batch=bad.batch, previous={},
                   handled_token=None, annotation_token="t1", stable_version="3",
                   job_state=JOB_ABSENT, now=NOW)  # fmt: skip
    assert d.job is None and d.handled_token == "t1"
    assert d.status["lastRun"]["state"] == state.REFUSED
    assert "spec.batch.jobTemplate.spec.template.spec.hostPID" in d.events[0].message


# --- following a run ----------------------------------------------------------------------


REPORTS = (
    ShardReport(0, 0, summary(600, 1), "2026-12-06T08:00:00Z"),
    ShardReport(1, 0, summary(400, 2), "2026-12-06T08:00:01Z"),
)


@pytest.mark.parametrize(
    ("observed", "end", "job", "event"),
    [
        (JOB_ABSENT, state.RUNNING, "churn-batch-x", None),  # decided, not created: create
        (JOB_ACTIVE, state.RUNNING, None, None),
        (JOB_COMPLETE, state.SUCCEEDED, None, state.REASON_SUCCEEDED),
        (JOB_FAILED, state.FAILED, None, state.REASON_FAILED),
        (JOB_LOST, state.LOST, None, state.REASON_FAILED),
        (JOB_FOREIGN, state.NOT_OWNED, None, state.REASON_FAILED),
        (JOB_REJECTED, state.REJECTED, None, state.REASON_FAILED),
    ],
)
def test_a_run_is_followed_to_its_outcome(observed, end, job, event):
    d = decide(prev=RUNNING, token="t1", handled="t1", observed=observed, reports=REPORTS,
               job_note="is controlled by CronJob x")  # fmt: skip
    last = d.status["lastRun"]
    assert last["state"] == end and d.job == job
    assert [e.reason for e in d.events] == ([event] if event else [])
    if end in (state.SUCCEEDED, state.FAILED, state.LOST):
        assert (last["rows"], last["scored"], last["rejects"]) == (1000, 997, 3)
        assert last["shardsReported"] == 2 and last["durationSeconds"] == 60.0
    if end == state.NOT_OWNED:
        assert "not adopted" in last["message"] and "rows" not in last


def test_a_retried_shard_counts_once_and_crash_messages_are_not_numbers():
    reports = (
        ShardReport(0, 1, "Traceback: killed", "2026-12-06T08:00:00Z"),
        ShardReport(0, 0, summary(600, 1), "2026-12-06T08:00:05Z"),
        ShardReport(0, 0, summary(500, 0), "2026-12-06T08:00:01Z"),  # an older try
        ShardReport(1, 137, "", "2026-12-06T08:00:01Z"),
    )
    found = totals(reports)
    assert (found.shards_reported, found.rows, found.rejects) == (1, 600, 1)


# --- the Job and the CronJob ----------------------------------------------------------------


def test_the_indexed_job_pins_the_version_and_shards_the_input():
    name = job.job_name("churn", OWNER.uid, 1, "3")
    body = job.build_job(OWNER, spec(parallelism=1, maxRejectRate=0.01), name=name, version="3")
    js = body["spec"]
    assert (js["completionMode"], js["completions"], js["parallelism"]) == ("Indexed", 2, 1)
    rules = js["podFailurePolicy"]["rules"]
    assert rules[0] == {"action": "FailJob", "onExitCodes": {
        "containerName": "score", "operator": "In", "values": [2, 3]}}  # fmt: skip
    pod = js["template"]["spec"]
    assert pod["restartPolicy"] == "Never" and pod["securityContext"]["runAsNonRoot"] is True
    args = pod["containers"][0]["args"]
    assert args[args.index("--version") + 1] == "3" and "--allow-rejected" in args
    assert args[args.index("--shard") + 1] == "$(JOB_COMPLETION_INDEX)/2"
    assert args[args.index("--out") + 1] == "s3://scores/churn/$(MODELOPS_BATCH_RUN)/"
    assert args[args.index("--summary-file") + 1] == "/dev/termination-log"
    assert args[args.index("--max-reject-rate") + 1] == "0.01"
    env = {e["name"]: e for e in pod["containers"][0]["env"]}
    assert "batch.kubernetes.io/job-name" in json.dumps(env["MODELOPS_BATCH_RUN"])
    ref = body["metadata"]["ownerReferences"][0]
    assert ref["uid"] == OWNER.uid and ref["controller"] is True
    assert len(name) <= 63


def test_names_are_deterministic_per_owner_and_run():
    a = job.job_name("churn", OWNER.uid, 1, "3")
    assert a == job.job_name("churn", OWNER.uid, 1, "3")
    assert (
        a != job.job_name("churn", "other-uid", 1, "3") != job.job_name("churn", OWNER.uid, 2, "3")
    )
    assert len(job.job_name("x" * 80, OWNER.uid, 12345, "v" * 60)) <= 63
    assert len(job.cronjob_name("x" * 80, OWNER.uid)) <= 52


# --- the pipeline part ------------------------------------------------------------------------


def observed(status, annotations=None, **kw) -> Observed:
    return Observed(owner=OWNER, status=status, annotations=annotations or {}, **kw)


SERVING = {"stable": {"version": "3", "image": "ghcr.io/acme/churn-bento:1.2.0"}}


def test_the_decision_is_in_status_with_the_job_to_create():
    md = {**spec().raw}
    plan = reconcile(md, observed(SERVING, {"modelops.io/batch-run": "t1"}), NOW)
    assert plan.status["actions"]["batch"] == "t1"
    assert plan.status["batch"]["lastRun"]["job"] == plan.create[0]["metadata"]["name"]
    assert plan.requeue_after == 0.0
    # The next pass with that status: the Job is created again only while absent.
    again = reconcile(md, observed(plan.status, {"modelops.io/batch-run": "t1"},
                                   batch_job_state=JOB_ACTIVE, batch_job_uid="u1"), NOW)  # fmt: skip
    assert again.create == () and again.status["batch"]["lastRun"]["jobUID"] == "u1"


def test_the_cronjob_follows_the_stable_version_and_goes_with_the_schedule():
    md = spec(schedule="0 2 * * *").raw
    plan = reconcile(md, observed(SERVING), NOW)
    cron = [o for o in plan.apply if o["kind"] == "CronJob"]
    assert len(cron) == 1 and cron[0]["spec"]["schedule"] == "0 2 * * *"
    args = cron[0]["spec"]["jobTemplate"]["spec"]["template"]["spec"]["containers"][0]["args"]
    assert args[args.index("--version") + 1] == "3"
    assert plan.status["batch"]["schedule"]["version"] == "3"
    assert [e.reason for e in plan.events if e.reason == state.REASON_SCHEDULED]
    # Git names version 4; the Immediate strategy makes it stable in this pass.
    after = reconcile(
        {**md, "model": {"name": "churn", "version": "4"}}, observed(plan.status), NOW
    )
    assert after.status["stable"]["version"] == "4"
    cron = next(o for o in after.apply if o["kind"] == "CronJob")
    args = cron["spec"]["jobTemplate"]["spec"]["template"]["spec"]["containers"][0]["args"]
    assert args[args.index("--version") + 1] == "4"
    gone = reconcile(spec().raw, observed(after.status), NOW)
    assert [r.kind for r in gone.delete] == ["CronJob"] and "batch" not in gone.status
