"""Batch scoring into status.batch, its Events, the run's Job and the schedule's CronJob (a pipeline part).

Like retraining (reconcile/retraining.py), the run decision (batch/run.py) is
written to status in the same patch as everything else, before its Job is
created; the Job is asked for only while the engine saw none and status
records none created (jobUID), so a vanished Job is an outcome, never created
again. With spec.batch.schedule the CronJob is applied like any child, pinned
to status.stable.version: a change of the stable version re-applies it, so the
next scheduled run scores the new version. The runs the CronJob starts are
followed into status.batch.lastScheduledRun (batch/scheduled.py), apart from
lastRun, so a scheduled run never hides the once-run `modelops batch run
--wait` is following.
"""

from __future__ import annotations

from modelops_operator.api import names
from modelops_operator.api.objects import EventSpec
from modelops_operator.api.spec import SpecError
from modelops_operator.batch import run, scheduled, state
from modelops_operator.batch.job import build_cronjob, build_job
from modelops_operator.reconcile.draft import Draft, Inputs
from modelops_operator.reconcile.plan import ChildRef
from modelops_operator.retraining.policy import JobTemplateRefused
from modelops_operator.retraining.state import JOB_ABSENT


def report(inputs: Inputs, draft: Draft) -> Draft:
    """The part: the batch step for this reconcile."""
    spec, observed = inputs.spec, inputs.observed
    previous = inputs.old_status.get("batch") or {}
    try:
        batch = spec.batch
    except SpecError as exc:  # only an object stored under an older CRD gets here
        if previous.get("message") == str(exc):
            return draft  # said once, not on every pass
        event = EventSpec("Warning", state.REASON_NOT_STARTED, str(exc))
        return draft.with_status(batch={**previous, "message": str(exc)}).tell(event)
    if batch is None:
        draft, status = _unscheduled(inputs, draft, dict(previous))
        return draft.with_status(batch=status or None)
    stable = (draft.stable or {}).get("version")
    accounts = inputs.policy.retraining_service_accounts
    decision = run.decide(
        md_name=observed.owner.name,
        owner_uid=observed.owner.uid,
        batch=batch,
        previous=previous,
        handled_token=(inputs.old_status.get("actions") or {}).get("batch"),
        annotation_token=observed.annotations.get(names.ANNOTATION_BATCH_RUN),
        stable_version=stable,
        job_state=observed.batch_job_state,
        now=inputs.now,
        job_uid=observed.batch_job_uid,
        job_note=observed.batch_job_note,
        reports=observed.batch_reports,
        allowed_accounts=accounts,
    )
    status = {k: v for k, v in decision.status.items() if k != "message"}
    if decision.handled_token is not None:
        actions = dict(draft.status.get("actions") or {})
        draft = draft.with_status(actions={**actions, "batch": decision.handled_token})
    draft = draft.tell(*decision.events)
    if decision.job is not None and observed.batch_job_state == JOB_ABSENT:
        last = status["lastRun"]
        try:
            job = build_job(
                observed.owner,
                spec,
                name=decision.job,
                version=last["version"],
                allowed_accounts=accounts,
            )
        except JobTemplateRefused as exc:  # the template changed while its Job was due
            message = f"batch run not started, jobTemplate refused: {exc}"
            status = {**status, "lastRun": {**last, "state": state.REFUSED, "message": message}}
            draft = draft.tell(EventSpec("Warning", state.REASON_NOT_STARTED, message))
        else:
            # Look again at once: the next pass records the Job's uid, or what went wrong.
            draft = draft.but(create=(*draft.create, job)).wake_in(0.0)
    draft, status = _schedule(inputs, draft, status, stable)
    return draft.with_status(batch=status or None)


def _schedule(inputs: Inputs, draft: Draft, status: dict, stable: str | None) -> tuple[Draft, dict]:
    """Apply the CronJob pinned to the stable version; delete it when the schedule is gone."""
    batch = inputs.spec.batch
    owner = inputs.observed.owner
    recorded = status.get("schedule") or {}
    if batch is None or batch.schedule is None:
        return _unscheduled(inputs, draft, status)
    draft, status = _scheduled_runs(inputs, draft, status)
    if stable is None:
        return draft, status  # nothing to score yet: the CronJob waits for a stable version
    try:
        accounts = inputs.policy.retraining_service_accounts
        cronjob = build_cronjob(owner, inputs.spec, version=stable, allowed_accounts=accounts)
    except JobTemplateRefused as exc:
        message = f"batch schedule not applied, jobTemplate refused: {exc}"
        if recorded.get("message") != message:
            draft = draft.tell(EventSpec("Warning", state.REASON_NOT_STARTED, message))
        return draft, {**status, "schedule": {**recorded, "message": message}}
    now_scheduled = {"cronJob": cronjob["metadata"]["name"], "version": stable}
    if recorded != now_scheduled:
        message = (
            f"batch schedule {batch.schedule!r}: CronJob {now_scheduled['cronJob']} now scores "
            f"version {stable}"
        )
        draft = draft.tell(EventSpec("Normal", state.REASON_SCHEDULED, message))
    return draft.but(apply=(*draft.apply, cronjob)), {**status, "schedule": now_scheduled}


def _scheduled_runs(inputs: Inputs, draft: Draft, status: dict) -> tuple[Draft, dict]:
    """status.batch.lastScheduledRun from the CronJob's Jobs, with one Event per run ended."""
    previous = status.get("lastScheduledRun")
    last, events = scheduled.follow(previous, inputs.observed.scheduled_jobs, inputs.now)
    if last is not None:
        status = {**status, "lastScheduledRun": last}
    return draft.tell(*events), status


def _unscheduled(inputs: Inputs, draft: Draft, status: dict) -> tuple[Draft, dict]:
    """No schedule (or no spec.batch): the CronJob status records is deleted."""
    recorded = status.get("schedule") or {}
    last = scheduled.unfollowed(status.get("lastScheduledRun"), inputs.now)
    if last is not None:
        status = {**status, "lastScheduledRun": last}
    if recorded.get("cronJob"):
        ref = ChildRef("batch/v1", "CronJob", recorded["cronJob"])
        draft = draft.but(delete=(*draft.delete, ref))
        status = {k: v for k, v in status.items() if k != "schedule"}
    return draft, status
