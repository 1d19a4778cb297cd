"""Observing a batch run's Job, the schedule's Jobs, and reading their shards' summaries from their pods.

The Job is read from the Job watch's memory (jobs.py), as this
ModelDeployment must read it: its own, someone else's (Foreign), refused, or
lost (status records its uid and it is gone). Only once it ended are its pods
listed (one LIST by the Job controller's job-name label) and the scoring
containers' termination messages handed to the pure summing
(batch/summary.py): while a run goes, it costs no request per reconcile.

The schedule's runs are Jobs the CronJob controller creates: while
status.batch.schedule names a CronJob, each pass GETs it (is it still this
ModelDeployment's, and what is its uid?) and LISTs the Jobs labelled as its
runs, keeping only those it owns (batch/scheduled.py). Their pods are
listed only for a finished Job status has not recorded as ended yet.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping
from typing import Any

from modelops_operator.adapters.kube import KubeAdapter, KubeError
from modelops_operator.api import names
from modelops_operator.api.objects import Owner
from modelops_operator.batch import scheduled
from modelops_operator.batch.job import (
    BATCH_SCHEDULED,
    CONTAINER,
    LABEL_BATCH,
    LABEL_OWNER_UID,
    POD_JOB_NAME_LABEL,
    label_value,
)
from modelops_operator.batch.run import running_job
from modelops_operator.batch.scheduled import ScheduledJob
from modelops_operator.batch.summary import ShardReport
from modelops_operator.retraining.state import JOB_ABSENT, JOB_FINISHED, JOB_LOST
from modelops_operator.runtime.children import controller_uid
from modelops_operator.runtime.jobs import JobMemory, JobRecord, record_of

log = logging.getLogger("modelops.operator")
INDEX_LABEL = "batch.kubernetes.io/job-completion-index"


def observe(
    kube: KubeAdapter, jobs: JobMemory, owner: Owner, status: Mapping[str, Any]
) -> tuple[str, str | None, str, tuple[ShardReport, ...] | None]:
    """(state, uid, note, shard reports) of the run status.batch follows; Absent when none."""
    batch = status.get("batch") or {}
    name = running_job(batch)
    if name is None:
        return JOB_ABSENT, None, "", None
    record = jobs.record(owner.namespace, name)
    if record is None:  # the Job watch has not listed yet
        found = kube.get("batch/v1", "Job", owner.namespace, name)
        record = JobRecord(JOB_ABSENT) if found is None else record_of(found)
    state, uid, note = record.seen_by(owner.uid)
    recorded = (batch.get("lastRun") or {}).get("jobUID")
    if recorded and (state == JOB_ABSENT or (uid is not None and uid != recorded)):
        state, uid = JOB_LOST, recorded
    if state not in (*JOB_FINISHED, JOB_LOST):
        return state, uid, note, None
    return state, uid, note, shard_reports(kube, owner.namespace, name)


def observe_scheduled(
    kube: KubeAdapter, owner: Owner, status: Mapping[str, Any]
) -> tuple[ScheduledJob, ...] | None:
    """The Jobs the schedule's CronJob owns, oldest first, with the shard summaries
    the decision needs; None when there is no CronJob of ours to read (nothing changes)."""
    batch = status.get("batch") or {}
    name = (batch.get("schedule") or {}).get("cronJob")
    if not name:
        return None
    try:
        cronjob = kube.get("batch/v1", "CronJob", owner.namespace, name)
        if cronjob is None or controller_uid(cronjob) != owner.uid:
            return None  # not applied yet, or someone else's: its Jobs are not ours to read
        selector = {LABEL_OWNER_UID: label_value(owner.uid), LABEL_BATCH: BATCH_SCHEDULED}
        listed = kube.list("batch/v1", "Job", owner.namespace, labels=selector)
    except KubeError as exc:
        # Unread is not "gone": a Running record must not become Lost on an API hiccup.
        log.warning("cannot read the scheduled batch Jobs of %s/%s: %s", owner.namespace,
                    owner.name, exc)  # fmt: skip
        return None
    jobs = scheduled.owned(listed, cronjob["metadata"]["uid"])
    wanted = scheduled.to_read(batch.get("lastScheduledRun"), jobs)
    reports = {job: shard_reports(kube, owner.namespace, job) for job in sorted(wanted)}
    return scheduled.with_reports(jobs, reports)


def scheduled_owner(job: Mapping[str, Any]) -> str | None:
    """The ModelDeployment a scheduled run's Job reports to (its CronJob, not the
    ModelDeployment, controls it): only a wake-up hint for the Job watch; whose run
    it is, is decided by the CronJob's uid (observe_scheduled)."""
    labels = (job.get("metadata") or {}).get("labels") or {}
    if labels.get(LABEL_BATCH) != BATCH_SCHEDULED:
        return None
    return labels.get(names.LABEL_DEPLOYMENT)


def shard_reports(kube: KubeAdapter, namespace: str, job: str) -> tuple[ShardReport, ...]:
    """The terminated scoring containers of the Job's pods (none when they cannot be listed)."""
    try:
        pods = kube.list("v1", "Pod", namespace, labels={POD_JOB_NAME_LABEL: job})
    except KubeError as exc:
        # The run's outcome is still the Job's; only its numbers are missing.
        log.warning("cannot list the pods of batch Job %s/%s: %s", namespace, job, exc)
        return ()
    return tuple(r for pod in pods if (r := report_of(pod)) is not None)


def report_of(pod: Mapping[str, Any]) -> ShardReport | None:
    """The scoring container's exit as a ShardReport, or None while it has not terminated."""
    labels = (pod.get("metadata") or {}).get("labels") or {}
    statuses = (pod.get("status") or {}).get("containerStatuses") or []
    chosen = next((c for c in statuses if c.get("name") == CONTAINER), None)
    chosen = chosen or (statuses[0] if statuses else None)
    terminated = ((chosen or {}).get("state") or {}).get("terminated")
    if not terminated:
        return None
    try:
        index = int(labels.get(INDEX_LABEL, ""))
    except ValueError:
        return None
    return ShardReport(
        index=index,
        exit_code=int(terminated.get("exitCode") or 0),
        message=str(terminated.get("message") or ""),
        finished_at=str(terminated.get("finishedAt") or ""),
    )
