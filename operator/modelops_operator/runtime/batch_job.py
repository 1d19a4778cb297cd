"""Observing a batch run's Job and reading its shards' summaries from its pods.

The Job is read from the Job watch's memory (jobs.py), as this
ModelDeployment must read it: its own, someone else's (Foreign), refused, or
lost (status records its uid and it is gone). Only once it ended are its pods
listed (one LIST by the Job controller's job-name label) and the scoring
containers' termination messages handed to the pure summing
(batch/summary.py): while a run goes, it costs no request per reconcile.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping
from typing import Any

from modelops_operator.adapters.kube import KubeAdapter, KubeError
from modelops_operator.api.objects import Owner
from modelops_operator.batch.job import CONTAINER, POD_JOB_NAME_LABEL
from modelops_operator.batch.run import running_job
from modelops_operator.batch.summary import ShardReport
from modelops_operator.retraining.state import JOB_ABSENT, JOB_FINISHED, JOB_LOST
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
