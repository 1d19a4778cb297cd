"""Retraining into status.retraining, the Retraining condition, its Events and the Job (a pipeline part).

The decision (retraining/trigger.py) is written to status in the same patch
as everything else, before the Job is created: an operator killed in
between creates the same Job (deterministic name) on its next reconcile, and
an existing Job is adopted only when this ModelDeployment controls it
(runtime/jobs.py). The Job is asked for only while the engine saw none and
status records none created (jobUID), so a running Job costs no request per
reconcile and a vanished one is an outcome, never created again. A planned
create asks for an early next pass, which records the Job's uid (or what
went wrong creating it).
"""

from __future__ import annotations

from modelops_operator.api import conditions as cond
from modelops_operator.api import names
from modelops_operator.api.conditions import Cond
from modelops_operator.api.spec import SpecError
from modelops_operator.drift.verdict import DRIFTED
from modelops_operator.quality.verdict import DEGRADED
from modelops_operator.reconcile.draft import Draft, Inputs
from modelops_operator.retraining import policy, trigger
from modelops_operator.retraining.job import build_job
from modelops_operator.retraining.state import JOB_ABSENT, TRIGGER_DRIFT


def report(inputs: Inputs, draft: Draft) -> Draft:
    """The part: the retraining step for this reconcile."""
    spec, observed = inputs.spec, inputs.observed
    try:
        settings = spec.retraining
    except SpecError as exc:
        return draft.with_condition(
            inputs, cond.RETRAINING, cond.false(cond.REASON_JOB_TEMPLATE_REFUSED, str(exc))
        )
    base = (inputs.old_status.get("stable") or {}).get("version")
    if settings is None or base is None:
        return draft  # not asked for, or nothing serves yet: no base to retrain from
    accounts = inputs.policy.retraining_service_accounts
    previous = inputs.old_status.get("retraining") or {}
    decision = trigger.decide(
        md_name=observed.owner.name,
        owner_uid=observed.owner.uid,
        spec=spec,
        previous=previous,
        handled_token=(inputs.old_status.get("actions") or {}).get("retrain"),
        annotation_token=observed.annotations.get(names.ANNOTATION_RETRAIN),
        base_version=base,
        drifted=draft.drift_verdict == DRIFTED,
        job_state=observed.job_state,
        candidate=observed.candidate,
        now=inputs.now,
        reported=_condition(inputs, cond.RETRAINING),
        allowed_accounts=accounts,
        job_uid=observed.job_uid,
        job_note=observed.job_note,
        rejected_spec=_rejected_spec(inputs),
        degraded=draft.performance_verdict == DEGRADED,
    )
    if decision.status != previous:
        draft = draft.with_status(retraining=decision.status)
    if decision.handled_token is not None:
        actions = dict(draft.status.get("actions") or {})
        draft = draft.with_status(actions={**actions, "retrain": decision.handled_token})
    value = decision.condition
    if decision.job is not None and observed.job_state == JOB_ABSENT:
        try:
            job = build_job(
                observed.owner,
                spec,
                name=decision.job,
                base_version=decision.status["baseVersion"],
                attempt=int(decision.status["attempts"]),
                reason=decision.status.get("reason") or TRIGGER_DRIFT,
                drift_report=draft.status.get("drift"),
                allowed_accounts=accounts,
                performance_report=draft.status.get("performance"),
            )
        except policy.JobTemplateRefused as exc:
            # The template changed to a refused one while its Job was due.
            value = cond.false(cond.REASON_JOB_TEMPLATE_REFUSED, str(exc))
        else:
            # Look again at once: the next pass records the Job's uid, or the refusal.
            draft = draft.but(create=(*draft.create, job)).wake_in(0.0)
    draft = draft.with_condition(inputs, cond.RETRAINING, value).tell(*decision.events)
    if decision.outcome:
        draft = draft.but(retraining_outcome=decision.outcome)
    return draft.wake_in(trigger.retry_due_in(decision.status, settings, inputs.now) or None)


def _rejected_spec(inputs: Inputs) -> bool:
    """Whether the API server refused the Job of this very generation of the spec."""
    stored = cond.get_condition(inputs.old_conditions, cond.RETRAINING)
    return (
        stored is not None
        and stored.get("reason") == cond.REASON_JOB_REJECTED
        and stored.get("observedGeneration") == inputs.generation
    )


def _condition(inputs: Inputs, ctype: str) -> Cond | None:
    stored = cond.get_condition(inputs.old_conditions, ctype)
    if stored is None:
        return None
    return Cond(stored.get("status", ""), stored.get("reason", ""), stored.get("message", ""))
