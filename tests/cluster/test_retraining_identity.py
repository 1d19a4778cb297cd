"""Retraining never runs twice or adopts a stranger, on the real API server (issue 19).

The real operator process against the real control plane (its garbage
collector and TTL controller included); the test plays the node for Jobs
(tests/plugins/jobs.py: `managedBy` keeps the Job controller away, so the
test decides when a Job ends). Each test reproduces a case the issue found:

* `kubectl delete md --cascade=orphan`, the same name re-created (a new uid),
  retraining triggered: the old Job was adopted and its old candidate
  reported as new;
* a Job deleted while it runs, or removed by `ttlSecondsAfterFinished`, was
  created again under the same name, forever (maxAttempts never counted it);
* a Job of the operator's name that someone else owns was adopted;
* a Job the API server refuses left status "Running" forever.
"""

from __future__ import annotations

import time

import pytest

from modelops_operator.api import conditions as cond
from modelops_operator.retraining.job import LABEL_OWNER_UID, job_name
from modelops_registry import Registry
from tests.plugins.jobs import JOB_MANAGER, finish_job
from tests.plugins.operator import apply_md, eventually, get_md, md_manifest

CONTAINERS = [{"name": "train", "image": "ghcr.io/acme/training:0.1.0"}]
QUIET = 5.0  # seconds of resyncs (every 1 s) in which nothing may be created again


def template(containers=None, **job_spec) -> dict:
    return {
        "spec": {
            "managedBy": JOB_MANAGER,
            "template": {"spec": {"containers": CONTAINERS if containers is None else containers}},
            **job_spec,
        }
    }


def retrainable(registry: Registry, *, cooldown="1h", max_attempts=2, **job) -> dict:
    """Retraining on request only (no drift monitored): only the annotation starts a Job."""
    return md_manifest(
        registry={"uri": registry.uri},
        retraining={
            "jobTemplate": template(**job),
            "cooldown": cooldown,
            "maxAttempts": max_attempts,
        },
    )


@pytest.fixture
def registry(tmp_path) -> Registry:
    reg = Registry.from_uri(f"file://{tmp_path / 'registry'}")
    reg.publish("churn", {"model.ubj": b"base"}, {"status": "approved"})
    return reg


def annotate(kube, namespace, token: str) -> None:
    kube.request(
        "PATCH",
        f"/apis/modelops.io/v1alpha1/namespaces/{namespace}/modeldeployments/churn",
        body={"metadata": {"annotations": {"modelops.io/retrain": token}}},
        content_type="application/merge-patch+json",
    )


def retraining(kube, namespace) -> dict:
    return (get_md(kube, namespace).get("status") or {}).get("retraining") or {}


def condition(kube, namespace, ctype="Retraining") -> dict:
    found = (get_md(kube, namespace).get("status") or {}).get("conditions") or []
    return next((c for c in found if c["type"] == ctype), {})


def events_of(kube, namespace, uid: str, reason: str | None = None) -> list[dict]:
    """Events about this very ModelDeployment (its uid: not a same-named predecessor's)."""
    items = kube.request("GET", f"/api/v1/namespaces/{namespace}/events")["items"]
    return [
        e
        for e in items
        if e["involvedObject"].get("uid") == uid and (reason is None or e["reason"] == reason)
    ]


def jobs(kube, namespace) -> dict[str, dict]:
    items = kube.request("GET", f"/apis/batch/v1/namespaces/{namespace}/jobs")["items"]
    return {j["metadata"]["name"]: j for j in items}


def controller_uid(job: dict) -> str | None:
    refs = job["metadata"].get("ownerReferences") or []
    return next((r["uid"] for r in refs if r.get("controller")), None)


def job_seen(kube, namespace) -> dict:
    """status.retraining once the operator recorded its Job as created (jobUID)."""
    return eventually(
        lambda: (r := retraining(kube, namespace)).get("jobUID") and r,
        what="status.retraining.jobUID recorded",
    )


def test_an_orphaned_job_of_a_same_named_predecessor_is_never_adopted(
    kube, namespace, start_operator, registry
):
    op = start_operator(namespace, resync=1.0)
    first = apply_md(kube, namespace, retrainable(registry))
    annotate(kube, namespace, "ticket-1")
    old = job_seen(kube, namespace)["job"]
    old_uid = first["metadata"]["uid"]
    registry.publish(
        "churn",
        {"model.ubj": b"old"},
        {"status": "approved", "retraining": {"job": old, "owner_uid": old_uid}},
    )
    finish_job(kube, namespace, old, succeeded=True)
    eventually(lambda: retraining(kube, namespace).get("state") == "Succeeded", what="Succeeded")

    # kubectl delete md churn --cascade=orphan: the Job stays, the owner goes.
    kube.request(
        "DELETE",
        f"/apis/modelops.io/v1alpha1/namespaces/{namespace}/modeldeployments/churn",
        body={"propagationPolicy": "Orphan"},
    )
    eventually(
        lambda: kube.get_model_deployment(namespace, "churn") is None, what="the old object gone"
    )
    second = apply_md(kube, namespace, retrainable(registry))
    new_uid = second["metadata"]["uid"]
    assert new_uid != old_uid
    annotate(kube, namespace, "ticket-1")  # the same token: the new object never handled it

    status = job_seen(kube, namespace)
    new = status["job"]
    assert new == job_name("churn", new_uid, "1", 1) and new != old
    found = jobs(kube, namespace)
    assert set(found) == {old, new}
    assert controller_uid(found[new]) == new_uid
    assert found[new]["metadata"]["labels"][LABEL_OWNER_UID] == new_uid
    assert controller_uid(found[old]) in (None, old_uid), "the orphan is not adopted"
    # The old Job's candidate is not this object's: nothing reported, the new Job runs.
    time.sleep(QUIET)
    status = retraining(kube, namespace)
    assert (status["state"], status["attempts"], status["job"]) == ("Running", 1, new)
    assert "candidate" not in status
    assert not events_of(kube, namespace, new_uid, cond.REASON_CANDIDATE_APPROVED)
    # Its own Job finishes without publishing: a failure, never the old candidate.
    finish_job(kube, namespace, new, succeeded=False)
    eventually(lambda: retraining(kube, namespace).get("state") == "Failed", what="Failed")
    assert "candidate" not in retraining(kube, namespace)
    assert condition(kube, namespace).get("reason") == cond.REASON_RETRAINING_FAILED
    assert "not adopted" not in op.log  # no 409 at all: the names differ


def test_a_job_deleted_while_it_runs_is_lost_and_not_created_again(
    kube, namespace, start_operator, registry
):
    op = start_operator(namespace, resync=1.0)
    md = apply_md(kube, namespace, retrainable(registry))  # cooldown 1h: retry in 30 s
    annotate(kube, namespace, "ticket-1")
    status = job_seen(kube, namespace)
    name = status["job"]
    # While it runs, resyncs (every 1 s) send no create (a create that answered 409 logs).
    time.sleep(QUIET)
    assert "already exists" not in op.log
    assert retraining(kube, namespace) == status

    kube.delete("batch/v1", "Job", namespace, name)  # kubectl delete job

    eventually(
        lambda: condition(kube, namespace).get("reason") == cond.REASON_RETRAINING_LOST,
        what="RetrainingLost",
    )
    time.sleep(QUIET)
    assert name not in jobs(kube, namespace), "a vanished Job is never created again"
    status = retraining(kube, namespace)
    assert (status["state"], status["attempts"]) == ("Failed", 1)
    lost = events_of(kube, namespace, md["metadata"]["uid"], cond.REASON_RETRAINING_LOST)
    assert len(lost) == 1 and name in lost[0]["message"]
    assert len(events_of(kube, namespace, md["metadata"]["uid"], "RetrainingStarted")) == 1


def test_jobs_removed_by_their_ttl_are_bounded_by_max_attempts(
    kube, namespace, start_operator, registry
):
    # The loop: ttlSecondsAfterFinished 0, the TTL controller deletes each
    # finished Job at once; the operator used to create it again, 12 times in 24 s.
    start_operator(namespace, resync=1.0)
    md = apply_md(
        kube,
        namespace,
        retrainable(registry, cooldown="2s", max_attempts=2, ttlSecondsAfterFinished=0),
    )
    uid = md["metadata"]["uid"]
    annotate(kube, namespace, "ticket-1")
    names = []
    for attempt in (1, 2):
        status = eventually(
            lambda attempt=attempt: (
                (r := retraining(kube, namespace)).get("attempts") == attempt
                and r.get("jobUID")
                and r
            ),
            timeout=90,
            what=f"attempt {attempt} created and seen",
        )
        names.append(status["job"])
        finish_job(kube, namespace, status["job"], succeeded=False)
        eventually(
            lambda n=status["job"]: n not in jobs(kube, namespace),
            what="the TTL controller deleted the finished Job",
        )
    eventually(
        lambda: (
            condition(kube, namespace).get("reason") == cond.REASON_RETRAINING_EXHAUSTED
            or (
                retraining(kube, namespace).get("state") == "Failed"
                and retraining(kube, namespace)["attempts"] == 2
            )
        ),
        what="the second attempt ended",
    )
    time.sleep(QUIET)
    status = retraining(kube, namespace)
    assert (status["state"], status["attempts"], status["job"]) == ("Failed", 2, names[1])
    assert names[0] != names[1] and not set(names) & set(jobs(kube, namespace))
    assert len(events_of(kube, namespace, uid, "RetrainingStarted")) == 2


def test_a_same_named_job_someone_else_owns_is_not_adopted(
    kube, namespace, start_operator, registry
):
    op = start_operator(namespace, resync=1.0)
    md = apply_md(kube, namespace, retrainable(registry, cooldown="2s", max_attempts=2))
    uid = md["metadata"]["uid"]
    name = job_name("churn", uid, "1", 1)
    # A stranger takes the name first, labelled like ours but owned by nothing.
    kube.create(
        {
            "apiVersion": "batch/v1",
            "kind": "Job",
            "metadata": {
                "name": name,
                "namespace": namespace,
                "labels": {"app.kubernetes.io/managed-by": "modelops"},
            },
            "spec": {
                "managedBy": JOB_MANAGER,
                "template": {"spec": {"containers": CONTAINERS, "restartPolicy": "Never"}},
            },
        }
    )
    registry.publish(
        "churn", {"model.ubj": b"stranger"}, {"status": "approved", "retraining": {"job": name}}
    )
    annotate(kube, namespace, "ticket-1")

    eventually(
        lambda: condition(kube, namespace).get("reason") == cond.REASON_JOB_NOT_OWNED,
        what="RetrainingJobNotOwned",
    )
    # The Event is posted after the status write that sets the condition: wait for it.
    refused = eventually(
        lambda: events_of(kube, namespace, uid, cond.REASON_JOB_NOT_OWNED),
        what="the RetrainingJobNotOwned Event",
    )
    assert len(refused) == 1 and name in refused[0]["message"]
    assert "no controller" in refused[0]["message"]
    assert "not adopted" in op.log
    stranger = jobs(kube, namespace)[name]
    assert controller_uid(stranger) is None, "the stranger is left as it was"
    # Never a candidate: the attempt ends, and the retry (after the 2 s backoff) has a name of its own.
    second = job_name("churn", uid, "1", 2)
    eventually(lambda: second in jobs(kube, namespace), what="the retry's own Job")
    status = job_seen(kube, namespace)
    assert (status["job"], status["attempts"], status["reason"]) == (second, 2, "Retry")
    assert "candidate" not in status
    assert not events_of(kube, namespace, uid, cond.REASON_CANDIDATE_APPROVED)


def test_a_job_the_api_server_refuses_is_reported_once_and_not_retried_until_the_spec_changes(
    kube, namespace, start_operator, registry
):
    op = start_operator(namespace, resync=1.0)
    md = apply_md(kube, namespace, retrainable(registry, cooldown="2s", containers=[]))
    uid = md["metadata"]["uid"]
    annotate(kube, namespace, "ticket-1")

    eventually(
        lambda: condition(kube, namespace).get("reason") == cond.REASON_JOB_REJECTED,
        what="JobRejected",
    )
    message = condition(kube, namespace)["message"]
    assert "containers" in message and "Required value" in message, message
    assert condition(kube, namespace)["status"] == "False"
    assert retraining(kube, namespace)["state"] == "Failed"
    time.sleep(QUIET)  # the 2 s backoff passes, resyncs run: nothing is sent again
    rejected = events_of(kube, namespace, uid, cond.REASON_JOB_REJECTED)
    assert len(rejected) == 1 and "Required value" in rejected[0]["message"]
    assert op.log.count("the API server refused retraining Job") == 1
    assert jobs(kube, namespace) == {}
    assert retraining(kube, namespace)["attempts"] == 1

    # The template is fixed (a new generation): the retry runs.
    kube.request(
        "PATCH",
        f"/apis/modelops.io/v1alpha1/namespaces/{namespace}/modeldeployments/churn",
        body={"spec": {"retraining": {"jobTemplate": template()}}},
        content_type="application/merge-patch+json",
    )
    status = job_seen(kube, namespace)
    assert (status["attempts"], status["reason"]) == (2, "Retry")
    assert set(jobs(kube, namespace)) == {status["job"]}
