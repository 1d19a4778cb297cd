"""The runs spec.batch.schedule's CronJob starts, followed into status.batch.lastScheduledRun (pure).

The CronJob controller, not the operator, creates these Jobs, so there is
no decision to persist first: the operator only reads them. Each pass while
the schedule exists, the adapter (runtime/batch_job.py) hands over the Jobs
the operator's CronJob owns (ownerReference uid: a Job with the same labels
that the CronJob does not own is never read) and, for the ones
`to_read` names, their shards' summaries. `follow` then:

* follows the Job status records (`jobUID`) until it ends, even when a newer
  one started beside it (concurrencyPolicy Allow), then moves to the latest;
* ends a run once, with its numbers summed exactly as a once-run's
  (run.finish over summary.totals) and one Event (BatchRunSucceeded /
  BatchRunFailed); status is the memory, so a later pass or an operator
  restart sees the uid recorded as ended and posts nothing again;
* a recorded Job that vanished before it was seen ending (history limit,
  `kubectl delete`) ends the run as Lost, with a Warning.

Only the latest Job is taken up: a run that started and ended entirely
between two passes while a newer one also started is not reported (the
CronJob keeps three of each in its history, and passes are frequent).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field, replace
from typing import Any

from modelops_operator.api.objects import EventSpec
from modelops_operator.api.times import parse_time, rfc3339
from modelops_operator.batch import state
from modelops_operator.batch.job import CONTAINER, RUN_ENV
from modelops_operator.batch.run import failed_message, finish
from modelops_operator.batch.summary import ShardReport
from modelops_operator.retraining.outcome import job_state
from modelops_operator.retraining.state import JOB_COMPLETE, JOB_FAILED, JOB_FINISHED


@dataclass(frozen=True)
class ScheduledJob:
    """One Job the CronJob created, as much of it as the decision needs."""

    name: str
    uid: str
    state: str  # outcome.job_state: Active, Complete or Failed
    created: str  # metadata.creationTimestamp: "latest" is the newest
    version: str | None  # the --version its pods score (pinned in the CronJob when it ran)
    shards: int | None
    output: str | None  # the folder its shards write
    started_at: str
    finished_at: str | None
    reports: tuple[ShardReport, ...] = field(default_factory=tuple)

    @property
    def finished(self) -> bool:
        return self.state in JOB_FINISHED


def _arg(args: list[Any], flag: str) -> str | None:
    try:
        return str(args[args.index(flag) + 1])
    except (ValueError, IndexError):
        return None


def _finished_at(status: Mapping[str, Any]) -> str | None:
    if status.get("completionTime"):
        return str(status["completionTime"])
    for condition in status.get("conditions") or []:
        if condition.get("type") == "Failed" and condition.get("status") == "True":
            return condition.get("lastTransitionTime")
    return None


def owned_by(job: Mapping[str, Any], uid: str) -> bool:
    """Whether the Job has an ownerReference to `uid` (the CronJob): labels alone prove nothing.

    Not only the controller reference: `kubectl create job --from=cronjob/NAME` (a
    run of the schedule's template, now) owns its Job by the CronJob's uid without
    `controller: true`, and is reported like a scheduled run.
    """
    refs = (job.get("metadata") or {}).get("ownerReferences") or []
    return any(r.get("uid") == uid for r in refs)


def scheduled_job(job: Mapping[str, Any]) -> ScheduledJob:
    """What `follow` needs of a Job object (its version and output from the pods' command line)."""
    metadata = job.get("metadata") or {}
    spec = job.get("spec") or {}
    status = job.get("status") or {}
    containers = ((spec.get("template") or {}).get("spec") or {}).get("containers") or [{}]
    container = next((c for c in containers if c.get("name") == CONTAINER), containers[0])
    args = list(container.get("args") or [])
    name = str(metadata.get("name", ""))
    out = _arg(args, "--out")
    created = str(metadata.get("creationTimestamp") or "")
    return ScheduledJob(
        name=name,
        uid=str(metadata.get("uid", "")),
        state=job_state(job),
        created=created,
        version=_arg(args, "--version"),
        shards=spec.get("completions"),
        output=None if out is None else out.replace(f"$({RUN_ENV})", name),
        started_at=str(status.get("startTime") or created),
        finished_at=_finished_at(status),
    )


def owned(jobs: Iterable[Mapping[str, Any]], cronjob_uid: str) -> tuple[ScheduledJob, ...]:
    """The Jobs the CronJob `cronjob_uid` owns, oldest first."""
    mine = [scheduled_job(j) for j in jobs if owned_by(j, cronjob_uid)]
    return tuple(sorted(mine, key=lambda j: (j.created, j.name)))


def to_read(previous: Mapping[str, Any] | None, jobs: Iterable[ScheduledJob]) -> set[str]:
    """Names of the finished Jobs `follow` will end a run with (their pods are listed only then)."""
    jobs = tuple(jobs)
    last = previous or {}
    recorded = last.get("jobUID")
    wanted: set[str] = set()
    if last.get("state") == state.RUNNING:
        followed = next((j for j in jobs if j.uid == recorded), None)
        if followed is not None and not followed.finished:
            return wanted  # `follow` waits for it before it looks at a newer one
        if followed is not None:
            wanted.add(followed.name)
    latest = jobs[-1] if jobs else None
    if latest is not None and latest.uid != recorded and latest.finished:
        wanted.add(latest.name)
    return wanted


def with_reports(
    jobs: Iterable[ScheduledJob], reports: Mapping[str, tuple[ShardReport, ...]]
) -> tuple[ScheduledJob, ...]:
    return tuple(replace(j, reports=reports.get(j.name, ())) for j in jobs)


def follow(
    previous: Mapping[str, Any] | None,
    jobs: tuple[ScheduledJob, ...] | None,
    now: dt.datetime,
) -> tuple[dict[str, Any] | None, tuple[EventSpec, ...]]:
    """(the new lastScheduledRun, its Events) from the CronJob's Jobs, oldest first.

    `jobs` None: they could not be read this pass, so nothing changes.
    """
    last = dict(previous) if previous else None
    if jobs is None:
        return last, ()
    events: list[EventSpec] = []
    if last is not None and last.get("state") == state.RUNNING:
        followed = next((j for j in jobs if j.uid == last.get("jobUID")), None)
        if followed is None:
            last, event = _lost(last, now)
            events.append(event)
        elif not followed.finished:
            return last, ()  # followed until it ends, even while a newer one runs
        else:
            last, event = _ended(last, followed, now)
            events.append(event)
    latest = jobs[-1] if jobs else None
    if latest is not None and (last is None or latest.uid != last.get("jobUID")):
        last = _record(latest)
        if latest.finished:
            last, event = _ended(last, latest, now)
            events.append(event)
    return last, tuple(events)


def _record(job: ScheduledJob) -> dict[str, Any]:
    record: dict[str, Any] = {
        "job": job.name,
        "jobUID": job.uid,
        "trigger": state.TRIGGER_SCHEDULE,
        "state": state.RUNNING,
        "startedAt": job.started_at,
    }
    if job.version is not None:
        record["version"] = job.version
    if job.shards is not None:
        record["shards"] = job.shards
    if job.output is not None:
        record["output"] = job.output
    return record


def _ended(
    last: Mapping[str, Any], job: ScheduledJob, now: dt.datetime
) -> tuple[dict[str, Any], EventSpec]:
    # The Job's own end time, so a run read late (an operator restart) keeps its real duration.
    finished_at = parse_time(job.finished_at) or now
    if job.state == JOB_COMPLETE:
        return finish(last, finished_at, state.SUCCEEDED, "", job.reports)
    assert job.state == JOB_FAILED
    return finish(last, finished_at, state.FAILED, failed_message(job.name), job.reports)


def _lost(last: Mapping[str, Any], now: dt.datetime) -> tuple[dict[str, Any], EventSpec]:
    message = (
        f"scheduled batch Job {last.get('job')} (uid {last.get('jobUID') or '?'}) disappeared "
        "before it was seen finishing (deleted, the CronJob's history limit, or "
        "ttlSecondsAfterFinished); its numbers are unknown"
    )
    return finish(last, now, state.LOST, message)


def unfollowed(last: Mapping[str, Any] | None, now: dt.datetime) -> dict[str, Any] | None:
    """The schedule was removed: a run still recorded Running is no longer followed (its
    Job goes with the CronJob), said in status without an Event (the user removed it)."""
    if last is None or last.get("state") != state.RUNNING:
        return None if last is None else dict(last)
    message = (
        f"the schedule was removed while scheduled batch Job {last.get('job')} ran; its "
        "Job is deleted with the CronJob and its outcome is not followed"
    )
    return {**last, "state": state.LOST, "finishedAt": rfc3339(now), "message": message}
