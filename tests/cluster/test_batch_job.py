"""Batch scoring Jobs on the real API server: the Indexed Job, status, Events, never twice, owned only;
and the runs the schedule's CronJob starts, reported once each.

The real operator process against the real control plane; the test plays the
node (tests/plugins/jobs.py: `managedBy` keeps the Job controller away): it
creates the shards' pods with the summaries `modelops score --summary-file
/dev/termination-log` leaves in their termination messages, and writes the
Job's terminal status. The pods stay unscheduled (a scheduler that does not
exist), so no simulated node touches their status.
"""

from __future__ import annotations

import datetime as dt
import json
import subprocess
import time

import pytest

from modelops_operator.batch.job import job_name
from tests.plugins.jobs import JOB_MANAGER
from tests.plugins.operator import MODELOPS, apply_md, eventually, get_md, kubectl, md_manifest

QUIET = 4.0  # seconds of resyncs (every 1 s) in which nothing may be created again
POD = {"containers": [{"name": "score", "image": "ghcr.io/acme/modelops-training:0.1.0"}]}


def batch_spec(**extra) -> dict:
    return {
        "data": "s3://extracts/churn/",
        "out": "s3://scores/churn/",
        "shards": 2,
        "maxRejectRate": 0.01,
        "jobTemplate": {"spec": {"managedBy": JOB_MANAGER, "template": {"spec": POD}}},
        **extra,
    }


def a_schedule_not_due_soon() -> str:
    """A daily schedule twelve hours from now.

    This control plane runs the real CronJob controller, which creates a Job of
    its own when the schedule comes due while the CronJob exists; that Job is
    newer than the test's, so the operator rightly follows it instead. With a
    fixed "0 2 * * *" the schedule test failed in CI when it ran across 02:00
    UTC (reproduced by scheduling the next minute).
    """
    hour = (dt.datetime.now(dt.UTC).hour + 12) % 24
    return f"0 {hour} * * *"


def patch_md(kube, namespace, body: dict) -> None:
    kube.request(
        "PATCH",
        f"/apis/modelops.io/v1alpha1/namespaces/{namespace}/modeldeployments/churn",
        body=body,
        content_type="application/merge-patch+json",
    )


def ask_for_run(kube, namespace, token: str) -> None:
    patch_md(kube, namespace, {"metadata": {"annotations": {"modelops.io/batch-run": token}}})


def batch_status(kube, namespace) -> dict:
    return (get_md(kube, namespace).get("status") or {}).get("batch") or {}


def last_run(kube, namespace) -> dict:
    return batch_status(kube, namespace).get("lastRun") or {}


def jobs(kube, namespace) -> dict[str, dict]:
    items = kube.request("GET", f"/apis/batch/v1/namespaces/{namespace}/jobs")["items"]
    return {j["metadata"]["name"]: j for j in items}


def events(kube, namespace, reason: str) -> list[dict]:
    items = kube.request("GET", f"/api/v1/namespaces/{namespace}/events")["items"]
    return [e for e in items if e["reason"] == reason]


def run_seen(kube, namespace, state="Running") -> dict:
    return eventually(
        lambda: (r := last_run(kube, namespace)).get("jobUID") and r.get("state") == state and r,
        what=f"status.batch.lastRun {state} with its jobUID",
    )


def play_shard(kube, namespace, job: str, index: int, exit_code: int, summary: dict | None):
    """A finished shard pod as the kubelet leaves it: its termination message is the summary."""
    name = f"{job}-{index}-x"
    kube.create(
        {
            "apiVersion": "v1",
            "kind": "Pod",
            "metadata": {
                "name": name,
                "namespace": namespace,
                "labels": {
                    "batch.kubernetes.io/job-name": job,
                    "batch.kubernetes.io/job-completion-index": str(index),
                },
            },
            "spec": {"schedulerName": "played-by-the-test", "restartPolicy": "Never", **POD},
        }
    )
    now = time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime())
    terminated = {"exitCode": exit_code, "startedAt": now, "finishedAt": now,
                  "reason": "Completed" if exit_code == 0 else "Error",
                  "message": json.dumps(summary) if summary else ""}  # fmt: skip
    kube.request(
        "PATCH",
        f"/api/v1/namespaces/{namespace}/pods/{name}/status",
        body={"status": {"phase": "Succeeded" if exit_code == 0 else "Failed",
                         "containerStatuses": [{"name": "score", "ready": False,
                                                "restartCount": 0, "image": POD["containers"][0]["image"],
                                                "imageID": "", "state": {"terminated": terminated}}]}},
        content_type="application/merge-patch+json",
    )  # fmt: skip


def finish_indexed(kube, namespace, job: dict, *, succeeded: bool) -> None:
    """The Job controller's terminal status of an Indexed Job of two completions."""
    name = job["metadata"]["name"]
    path = f"/apis/batch/v1/namespaces/{namespace}/jobs/{name}/status"
    start = time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime())
    kube.request("PATCH", path, body={"status": {"startTime": start, "active": 2}},
                 content_type="application/merge-patch+json")  # fmt: skip
    end = time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime())

    def cond(ctype, reason):
        return {"type": ctype, "status": "True", "reason": reason, "message": "played",
                "lastProbeTime": end, "lastTransitionTime": end}  # fmt: skip

    if succeeded:
        status = {"active": 0, "succeeded": 2, "completedIndexes": "0,1", "completionTime": end,
                  "conditions": [cond("SuccessCriteriaMet", "CompletionsReached"),
                                 cond("Complete", "CompletionsReached")]}  # fmt: skip
    else:
        status = {"active": 0, "succeeded": 1, "failed": 1, "completedIndexes": "0",
                  "conditions": [cond("FailureTarget", "PodFailurePolicy"),
                                 cond("Failed", "PodFailurePolicy")]}  # fmt: skip
    kube.request("PATCH", path, body={"status": status},
                 content_type="application/merge-patch+json")  # fmt: skip


def summary(rows: int, rejected: int, index: int, run: str) -> dict:
    return {"rows": rows, "scored": rows - rejected, "rejected": rejected, "status": "ok",
            "output": f"s3://scores/churn/{run}/part-0000{index}-of-00002.parquet"}  # fmt: skip


@pytest.fixture
def md(kube, namespace, start_operator):
    start_operator(namespace, resync=1.0)
    body = apply_md(kube, namespace, md_manifest(version="3", batch=batch_spec()))
    eventually(lambda: (get_md(kube, namespace).get("status") or {}).get("stable"),
               what="a stable version")  # fmt: skip
    return body


def test_a_run_is_one_indexed_job_whose_shards_are_summed_into_status(
    kube, namespace, md, control_plane
):
    # `modelops batch run --wait`, as a user types it, while the test plays the node.
    cli = subprocess.Popen(
        [str(MODELOPS), "batch", "run", "churn", "-n", namespace, "--wait", "--timeout", "120s",
         "-o", "json"],
        env=control_plane.env(),
        stdout=subprocess.PIPE, stderr=subprocess.PIPE, stdin=subprocess.DEVNULL, text=True,
    )  # fmt: skip
    run = run_seen(kube, namespace)
    uid = md["metadata"]["uid"]
    assert run["job"] == job_name("churn", uid, 1, "3") and run["version"] == "3"
    job = jobs(kube, namespace)[run["job"]]
    assert job["spec"]["completionMode"] == "Indexed" and job["spec"]["completions"] == 2
    owner = job["metadata"]["ownerReferences"][0]
    assert owner["uid"] == uid and owner["controller"] is True
    args = job["spec"]["template"]["spec"]["containers"][0]["args"]
    assert args[args.index("--version") + 1] == "3"
    assert events(kube, namespace, "BatchRunStarted")

    play_shard(kube, namespace, run["job"], 0, 0, summary(600, 2, 0, run["job"]))
    play_shard(kube, namespace, run["job"], 1, 0, summary(400, 1, 1, run["job"]))
    finish_indexed(kube, namespace, job, succeeded=True)
    done = eventually(
        lambda: (r := last_run(kube, namespace)).get("state") == "Succeeded" and r,
        what="the run recorded as Succeeded",
    )
    assert (done["rows"], done["scored"], done["rejects"], done["shardsReported"]) == (
        1000, 997, 3, 2)  # fmt: skip
    assert done["output"] == f"s3://scores/churn/{run['job']}/"
    message = eventually(lambda: events(kube, namespace, "BatchRunSucceeded"), what="the Event")
    assert "1,000 row(s)" in message[0]["message"]
    out, err = cli.communicate(timeout=60)
    assert cli.returncode == 0, err
    assert json.loads(out)["rows"] == 1000 and "modelops.io/batch-run=" in err

    # The same annotation value never runs again; a deleted finished Job is not re-created.
    kube.delete("batch/v1", "Job", namespace, run["job"])
    time.sleep(QUIET)
    assert run["job"] not in jobs(kube, namespace)
    assert batch_status(kube, namespace)["runs"] == 1


def test_a_failed_shard_fails_the_run_with_its_numbers(kube, namespace, md):
    ask_for_run(kube, namespace, "run-1")
    run = run_seen(kube, namespace)
    job = jobs(kube, namespace)[run["job"]]
    play_shard(kube, namespace, run["job"], 0, 0, summary(600, 0, 0, run["job"]))
    play_shard(kube, namespace, run["job"], 1, 3, summary(400, 300, 1, run["job"]))
    finish_indexed(kube, namespace, job, succeeded=False)
    done = eventually(lambda: (r := last_run(kube, namespace)).get("state") == "Failed" and r,
                      what="the run recorded as Failed")  # fmt: skip
    assert done["rejects"] == 300 and "exited 2" in done["message"]
    assert eventually(lambda: events(kube, namespace, "BatchRunFailed"), what="the Warning")


def test_a_vanished_job_is_an_outcome_and_a_stranger_is_never_adopted(kube, namespace, md):
    ask_for_run(kube, namespace, "run-1")
    run = run_seen(kube, namespace)
    kube.delete("batch/v1", "Job", namespace, run["job"])
    lost = eventually(lambda: (r := last_run(kube, namespace)).get("state") == "Lost" and r,
                      what="the vanished Job recorded as Lost")  # fmt: skip
    assert "disappeared" in lost["message"]
    time.sleep(QUIET)
    assert run["job"] not in jobs(kube, namespace)

    # Someone else's Job already has the next run's name: it is neither adopted nor read.
    stranger = job_name("churn", md["metadata"]["uid"], 2, "3")
    kube.create({"apiVersion": "batch/v1", "kind": "Job",
                 "metadata": {"name": stranger, "namespace": namespace},
                 "spec": {"managedBy": JOB_MANAGER, "template": {"spec": {
                     "restartPolicy": "Never", **POD}}}})  # fmt: skip
    ask_for_run(kube, namespace, "run-2")
    refused = eventually(
        lambda: (r := last_run(kube, namespace)).get("state") == "NotOwned" and r,
        what="the stranger's Job reported, not adopted",
    )
    assert refused["job"] == stranger and "not adopted" in refused["message"]
    assert not jobs(kube, namespace)[stranger]["metadata"].get("ownerReferences")


def test_the_schedule_is_a_cronjob_pinned_to_the_stable_version(kube, namespace, md):
    patch_md(kube, namespace, {"spec": {"batch": {"schedule": a_schedule_not_due_soon()}}})

    def cron_version():
        items = kube.request("GET", f"/apis/batch/v1/namespaces/{namespace}/cronjobs")["items"]
        if len(items) != 1:
            return None
        args = items[0]["spec"]["jobTemplate"]["spec"]["template"]["spec"]["containers"][0]["args"]
        return args[args.index("--version") + 1]

    assert eventually(lambda: cron_version() == "3", what="the CronJob pinned to version 3")
    patch_md(kube, namespace, {"spec": {"model": {"version": "4"}}})
    eventually(lambda: cron_version() == "4", what="the CronJob re-pinned to version 4")
    assert batch_status(kube, namespace)["schedule"]["version"] == "4"
    assert events(kube, namespace, "BatchScheduleUpdated")
    patch_md(kube, namespace, {"spec": {"batch": {"schedule": None}}})
    eventually(
        lambda: not kube.request("GET", f"/apis/batch/v1/namespaces/{namespace}/cronjobs")["items"],
        what="the CronJob deleted with the schedule",
    )


# --- the schedule's runs --------------------------------------------------------------------


def the_cronjob(kube, namespace) -> dict:
    items = eventually(
        lambda: kube.request("GET", f"/apis/batch/v1/namespaces/{namespace}/cronjobs")["items"],
        what="the schedule's CronJob",
    )
    assert len(items) == 1, [c["metadata"]["name"] for c in items]
    return items[0]


def cronjobs_job(kube, namespace, cron: dict, suffix: str, *, owned: bool = True) -> dict:
    """A Job as the CronJob controller makes one at a scheduled time: `<cronjob>-<minutes>`,
    the jobTemplate's labels and spec, controlled by the CronJob (its uid). `owned=False`
    makes a stranger: the same labels and spec, no controller."""
    name = cron["metadata"]["name"]
    template = cron["spec"]["jobTemplate"]
    metadata = {"name": f"{name}-{suffix}", "namespace": namespace,
                "labels": dict(template["metadata"]["labels"])}  # fmt: skip
    if owned:
        metadata["ownerReferences"] = [{"apiVersion": "batch/v1", "kind": "CronJob", "name": name,
                                        "uid": cron["metadata"]["uid"], "controller": True,
                                        "blockOwnerDeletion": True}]  # fmt: skip
    return kube.create({"apiVersion": "batch/v1", "kind": "Job", "metadata": metadata,
                        "spec": template["spec"]})  # fmt: skip


def scheduled_run(kube, namespace) -> dict:
    return batch_status(kube, namespace).get("lastScheduledRun") or {}


def events_about(kube, namespace, reason: str, job: str) -> list[dict]:
    return [e for e in events(kube, namespace, reason) if f"batch Job {job} " in e["message"]]


def test_the_schedules_runs_are_reported_once_each_and_a_stranger_is_never_read(
    kube, namespace, start_operator, control_plane
):
    operator = start_operator(namespace, resync=1.0)
    schedule = a_schedule_not_due_soon()
    apply_md(kube, namespace, md_manifest(version="3", batch=batch_spec(schedule=schedule)))
    cron = the_cronjob(kube, namespace)
    assert cron["metadata"]["ownerReferences"][0]["kind"] == "ModelDeployment"

    # The run of 02:00 (the test plays the CronJob controller, and then the node).
    first = cronjobs_job(kube, namespace, cron, "29437560")
    name = first["metadata"]["name"]
    running = eventually(
        lambda: (
            (r := scheduled_run(kube, namespace)).get("jobUID") == first["metadata"]["uid"] and r
        ),
        what="status.batch.lastScheduledRun following the CronJob's Job",
    )
    assert running["state"] == "Running" and running["trigger"] == "Schedule"
    assert running["version"] == "3" and running["output"] == f"s3://scores/churn/{name}/"
    # A stranger: the same labels and a newer creationTimestamp, but the CronJob does not
    # control it. It finishes with numbers; were it read, it would be "the latest".
    time.sleep(1.1)
    stranger = cronjobs_job(kube, namespace, cron, "29437561", owned=False)["metadata"]["name"]
    play_shard(kube, namespace, stranger, 0, 0, summary(5, 0, 0, stranger))
    finish_indexed(kube, namespace, jobs(kube, namespace)[stranger], succeeded=True)

    play_shard(kube, namespace, name, 0, 0, summary(600, 2, 0, name))
    play_shard(kube, namespace, name, 1, 0, summary(400, 1, 1, name))
    finish_indexed(kube, namespace, first, succeeded=True)
    done = eventually(
        lambda: (r := scheduled_run(kube, namespace)).get("state") == "Succeeded" and r,
        what="the scheduled run recorded as Succeeded",
    )
    assert done["job"] == name and done["finishedAt"] >= done["startedAt"]
    assert (done["rows"], done["scored"], done["rejects"], done["shardsReported"]) == (
        1000, 997, 3, 2)  # fmt: skip
    posted = eventually(lambda: events_about(kube, namespace, "BatchRunSucceeded", name),
                        what="the scheduled run's Event")  # fmt: skip
    assert "1,000 row(s)" in posted[0]["message"]
    assert "lastRun" not in batch_status(kube, namespace)  # once-runs are another record
    # What a user reads: the wide printer columns and `modelops batch status`.
    wide = kubectl(control_plane, "get", "md", "churn", "-n", namespace, "-o", "wide").stdout
    header, row = wide.splitlines()[:2]
    at = header.index("SCHEDULED")  # kubectl pads columns: read the row under the header
    assert header.split()[-3:] == ["BATCH", "SCHEDULED", "AGE"]
    assert row[at:].split()[0] == "Succeeded" and not row[header.index("BATCH") : at].strip()
    shown = subprocess.run(
        [str(MODELOPS), "batch", "status", "churn", "-n", namespace],
        env=control_plane.env(), capture_output=True, text=True, timeout=60, check=True,
    ).stdout  # fmt: skip
    assert f"last scheduled run:\n  job       {name}" in shown and "rows      1,000" in shown

    # An operator restart reads the same finished Job again (it is still the latest, for
    # several resyncs): status says it was reported, so it is not posted again.
    operator.stop()
    start_operator(namespace, resync=1.0, identity="op-restarted")
    time.sleep(QUIET)
    assert len(events_about(kube, namespace, "BatchRunSucceeded", name)) == 1
    second = cronjobs_job(kube, namespace, cron, "29438000")
    second_name = second["metadata"]["name"]
    eventually(lambda: scheduled_run(kube, namespace).get("job") == second_name,
               what="the restarted operator following the next scheduled run")  # fmt: skip
    play_shard(kube, namespace, second_name, 0, 0, summary(600, 0, 0, second_name))
    play_shard(kube, namespace, second_name, 1, 3, summary(400, 300, 1, second_name))
    finish_indexed(kube, namespace, second, succeeded=False)
    failed = eventually(
        lambda: (r := scheduled_run(kube, namespace)).get("state") == "Failed" and r,
        what="the second scheduled run recorded as Failed",
    )
    assert failed["rejects"] == 300 and "exited 2" in failed["message"]
    assert eventually(lambda: events_about(kube, namespace, "BatchRunFailed", second_name),
                      what="the Warning")  # fmt: skip
    time.sleep(QUIET)
    assert len(events_about(kube, namespace, "BatchRunSucceeded", name)) == 1
    assert len(events_about(kube, namespace, "BatchRunFailed", second_name)) == 1
    assert not events_about(kube, namespace, "BatchRunSucceeded", stranger)
    assert scheduled_run(kube, namespace)["job"] == second_name
