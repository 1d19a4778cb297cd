"""When a batch scoring run starts, and how it ended (pure).

`decide` is a function of (spec.batch, the previous status.batch, the handled
annotation token, the stable version, the observed Job and its pods' shard
summaries, now). The engine persists the new status *before* it creates the
Job, so an operator killed in between creates the same Job (the name is a
function of the run number recorded in status) and adopts it only when this
ModelDeployment controls it: one decision, one Job, never two.

Rules:
* A run starts on a new value of the `modelops.io/batch-run` annotation
  (`modelops batch run`), once per value (recorded in status.actions.batch),
  with the version status.stable.version names at that moment, pinned in the
  Job. A value set while a run is going waits for it to end, then starts one
  run (a queue of one, as kubectl users expect of a "run now" button).
* Nothing serves yet, or the jobTemplate breaks the pod rules: the request is
  consumed and answered with a Warning, not kept waiting.
* The run is followed through status.batch.lastRun: `job` is recorded before
  the Job exists, `jobUID` once it was seen. A finished Job's numbers are the
  sum of its pods' summaries (summary.py); a Job that vanished (jobUID
  recorded, Job gone), one someone else controls and one the API server
  refused each end the run with a state and a message saying why.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Mapping
from typing import Any

from modelops_operator.api.objects import EventSpec
from modelops_operator.api.spec import BatchSpec
from modelops_operator.api.times import parse_time, rfc3339
from modelops_operator.batch import state
from modelops_operator.batch.job import job_name, run_output
from modelops_operator.batch.state import BatchDecision
from modelops_operator.batch.summary import ShardReport, totals
from modelops_operator.retraining import policy
from modelops_operator.retraining.state import (
    JOB_ABSENT,
    JOB_COMPLETE,
    JOB_FAILED,
    JOB_FOREIGN,
    JOB_LOST,
    JOB_REJECTED,
)


def running_job(previous: Mapping[str, Any] | None) -> str | None:
    """The Job of a run still being followed, or None."""
    last = (previous or {}).get("lastRun") or {}
    return last.get("job") if last.get("state") == state.RUNNING else None


def decide(
    *,
    md_name: str,
    owner_uid: str,
    batch: BatchSpec,
    previous: Mapping[str, Any] | None,
    handled_token: str | None,
    annotation_token: str | None,
    stable_version: str | None,
    job_state: str,
    now: dt.datetime,
    job_uid: str | None = None,
    job_note: str = "",
    reports: Iterable[ShardReport] | None = None,
    allowed_accounts: tuple[str, ...] | None = None,
) -> BatchDecision:
    """One step of batch scoring (see the module docstring)."""
    prev = dict(previous or {})
    if running_job(prev):
        return _follow(prev, job_state, job_uid, job_note, reports, now)
    if not annotation_token or annotation_token == handled_token:
        return BatchDecision(status=prev)
    refused = policy.violations(
        batch.job_template,
        allowed_accounts,
        pod_field=policy.BATCH_POD_FIELD,
        who=policy.BATCH_WHO,
    )
    if stable_version is None:
        return _refuse(prev, annotation_token, "no version serves yet (status.stable is empty)")
    if refused:
        return _refuse(
            prev, annotation_token, "jobTemplate refused: " + "; ".join(map(str, refused))
        )
    return _start(prev, md_name, owner_uid, batch, stable_version, annotation_token, now)


def _refuse(prev: dict[str, Any], token: str, why: str) -> BatchDecision:
    """The request is answered (consumed, recorded, a Warning), not kept waiting."""
    message = f"batch run not started: {why}"
    last = {"trigger": state.TRIGGER_MANUAL, "request": token, "state": state.REFUSED,
            "message": message}  # fmt: skip
    return BatchDecision(
        status={**prev, "lastRun": last},
        handled_token=token,
        events=(EventSpec("Warning", state.REASON_NOT_STARTED, message),),
    )


def _start(
    prev: dict[str, Any],
    md_name: str,
    owner_uid: str,
    batch: BatchSpec,
    version: str,
    token: str,
    now: dt.datetime,
) -> BatchDecision:
    """Status for a new run, persisted before its Job is created (no jobUID yet)."""
    run = int(prev.get("runs") or 0) + 1
    name = job_name(md_name, owner_uid, run, version)
    last = {
        "job": name,
        "trigger": state.TRIGGER_MANUAL,
        "request": token,  # the annotation value: `modelops batch run --wait` follows it
        "version": version,
        "state": state.RUNNING,
        "startedAt": rfc3339(now),
        "shards": batch.shards,
        "output": run_output(batch, name),
    }
    message = (
        f"batch run {run} started: Job {name} scores version {version} in "
        f"{batch.shards} shard(s) into {last['output']}"
    )
    return BatchDecision(
        status={**prev, "runs": run, "lastRun": last},
        handled_token=token,
        job=name,
        events=(EventSpec("Normal", state.REASON_STARTED, message),),
    )


def _follow(
    prev: dict[str, Any],
    observed: str,
    uid: str | None,
    note: str,
    reports: Iterable[ShardReport] | None,
    now: dt.datetime,
) -> BatchDecision:
    last = dict(prev["lastRun"])
    name = last["job"]
    if observed == JOB_ABSENT:  # decided and persisted, not created yet: create it
        return BatchDecision(status=prev, job=name)
    if observed == JOB_FOREIGN:
        return _ended(
            prev, last, now, state.NOT_OWNED,
            f"batch Job {name} was not created: a Job of that name already exists and "
            f"{note}; it is not adopted and its results are not read",
        )  # fmt: skip
    if observed == JOB_REJECTED:
        return _ended(
            prev, last, now, state.REJECTED, f"the API server refused batch Job {name}: {note}"
        )
    if uid is not None and last.get("jobUID") != uid:
        last["jobUID"] = uid
    if observed == JOB_LOST:
        return _ended(
            prev, last, now, state.LOST,
            f"batch Job {name} (uid {last.get('jobUID') or '?'}) disappeared before it was "
            "seen finishing (deleted, or removed by ttlSecondsAfterFinished); it is not "
            "created again",
            reports,
        )  # fmt: skip
    if observed not in (JOB_COMPLETE, JOB_FAILED):
        return BatchDecision(status={**prev, "lastRun": last})
    if observed == JOB_COMPLETE:
        return _ended(prev, last, now, state.SUCCEEDED, "", reports)
    return _ended(prev, last, now, state.FAILED, failed_message(name), reports)


def _ended(
    prev: dict[str, Any],
    last: dict[str, Any],
    now: dt.datetime,
    outcome: str,
    message: str,
    reports: Iterable[ShardReport] | None = None,
) -> BatchDecision:
    last, event = finish(last, now, outcome, message, reports)
    return BatchDecision(status={**prev, "lastRun": last}, events=(event,))


def failed_message(name: str) -> str:
    """Why a batch Job failed, with where to look (a once-run or a scheduled run)."""
    return (
        f"batch Job {name} failed (a shard exited 2: bad input, or 3: rejects over "
        "maxRejectRate, or pods failed more than backoffLimit allows); see "
        f"`kubectl logs -l job-name={name}`"
    )


def finish(
    last: Mapping[str, Any],
    finished_at: dt.datetime,
    outcome: str,
    message: str,
    reports: Iterable[ShardReport] | None = None,
) -> tuple[dict[str, Any], EventSpec]:
    """A run record ended with `outcome`: its duration, its shards' sums and its one Event.

    Shared by once-runs (lastRun) and scheduled runs (lastScheduledRun), so both
    read the same and post the same reasons.
    """
    ended = {**last, "state": outcome, "finishedAt": rfc3339(finished_at)}
    started = parse_time(ended.get("startedAt"))
    if started is not None:
        ended["durationSeconds"] = round(max(0.0, (finished_at - started).total_seconds()), 3)
    found = totals(reports or ())
    if found.shards_reported:
        ended.update(
            shardsReported=found.shards_reported,
            rows=found.rows,
            scored=found.scored,
            rejects=found.rejects,
        )
    numbers = (
        f"{found.rows:,} row(s), {found.scored:,} scored, {found.rejects:,} rejected "
        f"({found.shards_reported} of {ended.get('shards', '?')} shard(s) reported)"
    )
    if outcome == state.SUCCEEDED:
        message = (
            f"batch Job {ended['job']} scored version {ended.get('version')}: {numbers}; "
            f"output {ended.get('output')}"
        )
        event = EventSpec("Normal", state.REASON_SUCCEEDED, message)
    else:
        if found.shards_reported:
            message = f"{message}; {numbers}"
        event = EventSpec("Warning", state.REASON_FAILED, message)
    ended["message"] = message
    return ended, event
