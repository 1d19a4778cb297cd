"""The retraining kill window, reproduced deterministically on the real API server (issue 19).

The operator writes its retraining decision to status (the Job's name)
before it creates the Job, and records the Job's uid (status.retraining.jobUID)
once it has seen it. An operator killed between the create and that record,
with the Job then deleted by a user before the next operator starts, used to
leave a state that looked exactly like "decided, never created": the next
operator created the same Job again, a second run of one decision. The Job is
now created with a finalizer that holds it until status records it
(retraining/record.py), so a deleted Job stays visible, Terminating, with its
uid: the next operator records it, lets it go, and reports RetrainingLost.

Each test lets a real operator decide, create and record a Job, kills it with
-9, and puts the Job and status back the way they were at the instant the
test is about (status without jobUID; the Job with its finalizer, or gone),
then starts another operator.
"""

from __future__ import annotations

import time

import pytest

from modelops_operator.api import conditions as cond
from modelops_operator.retraining.record import FINALIZER
from modelops_registry import Registry
from tests.cluster.test_retraining_identity import (
    annotate,
    condition,
    events_of,
    job_seen,
    jobs,
    retrainable,
    retraining,
)
from tests.plugins.operator import apply_md, eventually

QUIET = 5.0  # seconds of resyncs (every 1 s) in which nothing may be created again
MERGE = "application/merge-patch+json"


@pytest.fixture
def registry(tmp_path) -> Registry:
    reg = Registry.from_uri(f"file://{tmp_path / 'registry'}")
    reg.publish("churn", {"model.ubj": b"base"}, {"status": "approved"})
    return reg


def start(start_operator, namespace: str, identity: str):
    # No leader election: a killed leader's Lease would make the next one wait it out.
    return start_operator(
        namespace,
        identity=identity,
        resync=1.0,
        extra=("--no-leader-election",),
        wait_leading=False,
    )


def job_path(namespace: str, name: str) -> str:
    return f"/apis/batch/v1/namespaces/{namespace}/jobs/{name}"


def decided_created_recorded(kube, namespace, start_operator, registry) -> tuple[dict, dict]:
    """A real operator decides, creates and records a Job; then it is killed (-9).

    Returns the ModelDeployment and status.retraining as it recorded them.
    """
    operator = start(start_operator, namespace, "before-the-kill")
    md = apply_md(kube, namespace, retrainable(registry, cooldown="1h", max_attempts=2))
    annotate(kube, namespace, "ticket-1")
    status = job_seen(kube, namespace)
    # Once recorded, the Job no longer holds the finalizer.
    eventually(
        lambda: (
            FINALIZER
            not in (jobs(kube, namespace)[status["job"]]["metadata"].get("finalizers") or [])
        ),
        what="the record finalizer removed after the record",
    )
    operator.kill()
    return md, status


def unrecord(kube, namespace) -> None:
    """status.retraining as the decision left it: the Job named, its uid not recorded."""
    kube.patch_status(namespace, "churn", {"retraining": {"jobUID": None}}, resource_version=None)
    assert "jobUID" not in retraining(kube, namespace)


def set_finalizers(kube, namespace, name: str, finalizers: list[str]) -> None:
    kube.request(
        "PATCH",
        job_path(namespace, name),
        body={"metadata": {"finalizers": finalizers}},
        content_type=MERGE,
    )


def test_a_job_deleted_before_its_uid_was_recorded_is_lost_and_never_created_again(
    kube, namespace, start_operator, registry
):
    md, status = decided_created_recorded(kube, namespace, start_operator, registry)
    uid, name = md["metadata"]["uid"], status["job"]
    # The instant between the create and the record: the Job as the operator
    # created it (finalizer on), status without its uid...
    set_finalizers(kube, namespace, name, [FINALIZER])
    unrecord(kube, namespace)
    # ...and, while no operator runs, a user deletes the Job (kubectl delete job).
    kube.delete("batch/v1", "Job", namespace, name)
    held = kube.get("batch/v1", "Job", namespace, name)
    assert held is not None and held["metadata"].get("deletionTimestamp"), "the finalizer holds it"

    operator = start(start_operator, namespace, "after-the-delete")
    eventually(
        lambda: condition(kube, namespace).get("reason") == cond.REASON_RETRAINING_LOST,
        what="RetrainingLost",
    )
    time.sleep(QUIET)
    assert name not in jobs(kube, namespace), "the deleted Job is gone and never created again"
    after = retraining(kube, namespace)
    assert (after["state"], after["attempts"], after["job"]) == ("Failed", 1, name), after
    assert after["jobUID"] == status["jobUID"], "recorded from the held Job before it went"
    lost = events_of(kube, namespace, uid, cond.REASON_RETRAINING_LOST)
    assert len(lost) == 1 and name in lost[0]["message"], lost
    assert "created retraining Job" not in operator.log
    assert len(events_of(kube, namespace, uid, cond.REASON_RETRAINING_STARTED)) == 1


def test_a_decision_whose_job_was_never_created_creates_it_once(
    kube, namespace, start_operator, registry
):
    _, status = decided_created_recorded(kube, namespace, start_operator, registry)
    name = status["job"]
    # The instant between the status write and the create: status names the
    # Job, no Job exists (a created one would be held until recorded).
    kube.delete("batch/v1", "Job", namespace, name)
    eventually(lambda: name not in jobs(kube, namespace), what="the Job gone")
    unrecord(kube, namespace)

    operator = start(start_operator, namespace, "after-the-decision")
    after = job_seen(kube, namespace)
    assert (after["job"], after["attempts"], after["state"]) == (name, 1, "Running"), after
    assert after["jobUID"] != status["jobUID"], "a new Job, created by this operator"
    time.sleep(QUIET)
    assert list(jobs(kube, namespace)) == [name]
    assert operator.log.count("created retraining Job") == 1
    assert condition(kube, namespace).get("reason") == cond.REASON_JOB_RUNNING


def test_a_held_job_of_a_deleted_modeldeployment_is_released_when_the_operator_is_back(
    kube, namespace, start_operator, registry
):
    md, status = decided_created_recorded(kube, namespace, start_operator, registry)
    name = status["job"]
    set_finalizers(kube, namespace, name, [FINALIZER])
    unrecord(kube, namespace)
    # The ModelDeployment goes while no operator runs; GC deletes its Job, which
    # the finalizer holds (Terminating) until an operator looks.
    kube.request(
        "DELETE",
        f"/apis/modelops.io/v1alpha1/namespaces/{namespace}/modeldeployments/churn",
        body={"propagationPolicy": "Background"},
    )
    eventually(
        lambda: (
            (kube.get("batch/v1", "Job", namespace, name) or {})
            .get("metadata", {})
            .get("deletionTimestamp")
        ),
        timeout=90,  # the garbage collector's discovery of the CRD can take ~30 s
        what="the garbage collector deleting the Job",
    )

    start(start_operator, namespace, "after-the-owner-went")
    eventually(lambda: name not in jobs(kube, namespace), what="the Job released and gone")
    assert md["metadata"]["uid"] and not jobs(kube, namespace)
