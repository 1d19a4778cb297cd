"""Retraining decisions and the retraining Job (pure).

`decide` is a function of (spec, previous status.retraining, the handled
annotation token, the drift verdict, the observed Job, the candidate found in
the registry, now) and returns the new status.retraining, whether a Job must
exist, the Retraining condition and the Events. The engine persists that
status *before* it creates the Job, so an operator killed in between creates
the same Job (same deterministic name) on its next reconcile, and a Job that
already exists is adopted only when this ModelDeployment controls it: never
a second Job, never a stranger's.

Rules (what users count on):
* Degraded live performance (the PerformanceDegraded condition, from labelled
  outcomes) triggers like drift, under the same cooldown and maxAttempts,
  with reason Performance and only with `triggerOnPerformance`; when both
  hold, Performance wins (labels showing harm are the stronger evidence).
* Drift triggers only when the drift verdict is Drifted (`drifted`; insufficient
  or unknown data never is), only with `triggerOnDrift`, at most once per `cooldown` (measured from
  the latest Job's triggeredAt, across operator restarts since it is in status),
  and at most `maxAttempts` Jobs per base version (the serving stable version).
  The count of a base version is kept when another version serves
  (status.retraining.attemptsByBase, the latest BASES_REMEMBERED versions):
  a new version starts its own count, but a Git revert to an earlier base
  continues that base's count instead of restarting it, so a revert neither
  resets the budget nor computes the name of an earlier Job again.
* The `modelops.io/retrain` annotation is handled once per value (recorded in
  status.actions.retrain); it skips the cooldown (a human asked) but not
  maxAttempts (a loop of failing Jobs must end).
* A failed Job is retried, as a new attempt with a new name, after an
  exponential backoff (RETRY_BASE_SECONDS * 2^(attempts-1), capped by the
  cooldown), while attempts remain.
* A completed Job's result is read from the registry (the version whose
  metadata.retraining names the Job and this object's uid), never from logs.
* A Job that vanished, a Job of that name someone else controls, and a Job
  the API server refused each end their attempt (outcome.py); the first two
  are retried like a failure, a refused one not until the spec changes
  (`rejected_spec`: the JobRejected condition was written for this generation).

This module decides when a new Job starts. The Job's name and manifest are
built in job.py, a running Job's outcome is read in outcome.py, and the
states and decision they share live in state.py.
"""

from __future__ import annotations

import datetime as dt
import math
from collections.abc import Mapping
from typing import Any

from modelops_operator.api import conditions as cond
from modelops_operator.api.conditions import Cond
from modelops_operator.api.objects import EventSpec
from modelops_operator.api.spec import RetrainingSpec, Spec
from modelops_operator.api.times import parse_time, rfc3339
from modelops_operator.retraining import policy
from modelops_operator.retraining.job import job_name
from modelops_operator.retraining.outcome import failed_gates, follow
from modelops_operator.retraining.state import (
    FAILED,
    RUNNING,
    SUCCEEDED,
    TRIGGER_DRIFT,
    TRIGGER_MANUAL,
    TRIGGER_PERFORMANCE,
    TRIGGER_RETRY,
    RetrainingDecision,
)

RETRY_BASE_SECONDS = 30.0
BASES_REMEMBERED = 16  # base versions whose attempt counts status.retraining keeps
# An attempt that ended in one of these keeps its reason until the next one starts.
FAILURE_REASONS = (
    cond.REASON_RETRAINING_FAILED,
    cond.REASON_CANDIDATE_NOT_FOUND,
    cond.REASON_RETRAINING_LOST,
    cond.REASON_JOB_NOT_OWNED,
    cond.REASON_JOB_REJECTED,
)


def backoff(attempts: int, settings: RetrainingSpec) -> float:
    """Seconds a failed attempt waits before its retry (doubling, capped by the cooldown)."""
    return min(RETRY_BASE_SECONDS * 2 ** max(attempts - 1, 0), settings.cooldown.seconds)


def attempts_for(prev: Mapping[str, Any], base_version: str) -> int:
    """Jobs already started for `base_version`, whichever version served in between."""
    for entry in prev.get("attemptsByBase") or []:
        if entry.get("baseVersion") == base_version:
            return int(entry.get("attempts") or 0)
    # Written by an operator that kept only the latest base's count.
    if prev.get("baseVersion") == base_version:
        return int(prev.get("attempts") or 0)
    return 0


def _remember(prev: Mapping[str, Any], base_version: str, attempts: int) -> list[dict[str, Any]]:
    """attemptsByBase with `base_version` at `attempts`, most recent last, bounded."""
    kept = [
        dict(e) for e in prev.get("attemptsByBase") or [] if e.get("baseVersion") != base_version
    ]
    last = prev.get("baseVersion")
    if last and last != base_version and not any(e.get("baseVersion") == last for e in kept):
        kept.append({"baseVersion": last, "attempts": int(prev.get("attempts") or 0)})
    kept.append({"baseVersion": base_version, "attempts": attempts})
    return kept[-BASES_REMEMBERED:]


def decide(
    *,
    md_name: str,
    owner_uid: str,
    spec: Spec,
    previous: Mapping[str, Any] | None,
    handled_token: str | None,
    annotation_token: str | None,
    base_version: str | None,
    drifted: bool,
    job_state: str,
    candidate: tuple[str, Mapping[str, Any]] | None,
    now: dt.datetime,
    reported: Cond | None = None,
    allowed_accounts: tuple[str, ...] | None = None,
    job_uid: str | None = None,
    job_note: str = "",
    rejected_spec: bool = False,
    degraded: bool = False,
) -> RetrainingDecision:
    """One step of the retraining state machine (see the module docstring).

    `job_state` is the state of the Job status.retraining names (outcome.job_state,
    or Lost / Foreign / Rejected; only read while that Job runs), `job_uid` its
    uid and `job_note` what the observer says about a foreign or refused one.
    `degraded` is whether the performance verdict is Degraded (quality/).
    `owner_uid` is the ModelDeployment's uid (part of every Job name).
    `rejected_spec`: the API server refused this generation's Job, so no
    new one starts until the spec changes. `reported` is the Retraining condition in
    status now: a refusal or an exhausted budget is announced by an Event
    once, not on every pass. `allowed_accounts` is the site's ServiceAccount
    allow-list for Job pods (None: unrestricted); a template outside it, or
    one with a field no retraining pod may have (policy.py), starts no Job,
    and the condition keeps saying so until the template is fixed. Raises
    SpecError when spec.retraining cannot be read.
    """
    settings = spec.retraining
    prev = dict(previous or {})
    if base_version is None or settings is None:
        return RetrainingDecision(status=prev, handled_token=None, job=None)
    # Attempts count per base version, remembered across versions (a revert continues).
    same_base = prev.get("baseVersion") == base_version
    attempts = attempts_for(prev, base_version)

    # 1. A Job we started is still ours to watch (whatever base it was for).
    if prev.get("state") == RUNNING and prev.get("job"):
        return follow(spec, prev, job_state, candidate, now, uid=job_uid, note=job_note)

    # 2. Should a new Job start?
    manual = bool(annotation_token) and annotation_token != handled_token
    new_token = annotation_token if manual else None
    reason = _trigger(prev, manual, same_base, attempts, drifted, settings, now, degraded)
    idle = _idle_condition(prev, attempts, settings, reported)
    refused = policy.violations(settings.job_template, allowed_accounts)
    refusal_reported = reported is not None and reported.reason == cond.REASON_JOB_TEMPLATE_REFUSED
    if rejected_spec and reported is not None:
        # The API server refused this spec's Job: creating it again would be refused
        # again. Say so until the spec changes (a new generation), whatever asks.
        return RetrainingDecision(
            status=prev, handled_token=new_token, job=None, condition=reported
        )
    if reason is None:
        if refused and refusal_reported:
            idle = reported  # still refused: say so until the template is fixed
        return RetrainingDecision(status=prev, handled_token=None, job=None, condition=idle)
    if refused:
        return _refuse(prev, reason, refused, new_token, report=manual or not refusal_reported)
    if attempts >= settings.max_attempts:
        message = (
            f"{reason.lower()} retraining not started: {attempts} of maxAttempts "
            f"{settings.max_attempts} Jobs already ran for base version {base_version}"
        )
        # Say it once per request that is refused, not on every pass of a lasting drift.
        exhausted_reported = (
            reported is not None and reported.reason == cond.REASON_RETRAINING_EXHAUSTED
        )
        report = manual or not exhausted_reported
        return RetrainingDecision(
            status=prev,
            handled_token=new_token,
            job=None,
            condition=cond.false(
                cond.REASON_RETRAINING_EXHAUSTED, message if report else idle.message
            ),
            events=(EventSpec("Warning", cond.REASON_RETRAINING_EXHAUSTED, message),)
            if report
            else (),
        )
    return _start(
        prev, md_name, owner_uid, base_version, attempts + 1, reason, new_token, settings, now
    )


def retry_due_in(
    previous: Mapping[str, Any] | None, settings: RetrainingSpec, now: dt.datetime
) -> float | None:
    """Seconds until a failed attempt's retry is due (None: no retry is waiting)."""
    prev = previous or {}
    attempts = int(prev.get("attempts") or 0)
    if prev.get("state") != FAILED or not 0 < attempts < settings.max_attempts:
        return None
    failed_at = parse_time(prev.get("finishedAt")) or parse_time(prev.get("triggeredAt"))
    if failed_at is None:
        return 0.0
    return max(0.0, backoff(attempts, settings) - (now - failed_at).total_seconds())


def _trigger(
    prev: Mapping[str, Any],
    manual: bool,
    same_base: bool,
    attempts: int,
    drifted: bool,
    settings: RetrainingSpec,
    now: dt.datetime,
    degraded: bool = False,
) -> str | None:
    """Why a new Job should start (Manual, Retry, Performance or Drift), or None; maxAttempts
    is not checked here."""
    if manual:
        return TRIGGER_MANUAL
    if prev.get("state") == FAILED and same_base and attempts > 0:
        failed_at = parse_time(prev.get("finishedAt")) or parse_time(prev.get("triggeredAt"))
        waited = (now - failed_at).total_seconds() if failed_at else math.inf
        return TRIGGER_RETRY if waited >= backoff(attempts, settings) else None
    performance = degraded and settings.trigger_on_performance
    if not performance and not (drifted and settings.trigger_on_drift):
        return None
    # One cooldown for both: a lasting problem starts at most one Job per cooldown.
    triggered = parse_time(prev.get("triggeredAt"))
    if triggered is not None and (now - triggered).total_seconds() < settings.cooldown.seconds:
        return None
    return TRIGGER_PERFORMANCE if performance else TRIGGER_DRIFT


def _refuse(
    prev: dict[str, Any],
    reason: str,
    refused: list[policy.Violation],
    new_token: str | None,
    *,
    report: bool,
) -> RetrainingDecision:
    """No Job for a template a retraining pod may not have; status and attempts stay as they are.

    The CRD refuses such templates at admission; this is for clusters whose CRD
    lacks those rules. Nothing is recorded as started, so fixing the template
    lets the next trigger start a Job. Like an exhausted budget, the Event is
    posted once per refusal, not on every pass of a lasting drift.
    """
    message = f"{reason.lower()} retraining not started, jobTemplate refused: " + "; ".join(
        str(v) for v in refused
    )
    return RetrainingDecision(
        status=prev,
        handled_token=new_token,
        job=None,
        condition=cond.false(cond.REASON_JOB_TEMPLATE_REFUSED, message),
        events=(EventSpec("Warning", cond.REASON_JOB_TEMPLATE_REFUSED, message),) if report else (),
    )


def _start(
    prev: Mapping[str, Any],
    md_name: str,
    owner_uid: str,
    base_version: str,
    attempt: int,
    reason: str,
    new_token: str | None,
    settings: RetrainingSpec,
    now: dt.datetime,
) -> RetrainingDecision:
    """Status for a new attempt, persisted before its Job is created (same name on a retry).

    No jobUID yet: until the Job is seen, an absent Job is one still to create.
    """
    name = job_name(md_name, owner_uid, base_version, attempt)
    status = {
        "job": name,
        "baseVersion": base_version,
        "reason": reason,
        "state": RUNNING,
        "triggeredAt": rfc3339(now),
        "attempts": attempt,
        "attemptsByBase": _remember(prev, base_version, attempt),
    }
    message = (
        f"retraining Job {name} started ({reason}, attempt {attempt} of "
        f"{settings.max_attempts} for base version {base_version})"
    )
    return RetrainingDecision(
        status=status,
        handled_token=new_token,
        job=name,
        reason=reason,
        condition=cond.true(cond.REASON_RETRAINING_STARTED, message),
        events=(EventSpec("Normal", cond.REASON_RETRAINING_STARTED, message),),
    )


def _idle_condition(
    prev: Mapping[str, Any], attempts: int, settings: RetrainingSpec, reported: Cond | None
) -> Cond:
    state = prev.get("state")
    if state == FAILED and reported is not None and reported.reason in FAILURE_REASONS:
        return reported  # why the attempt ended stays readable until the next one
    if state == SUCCEEDED and prev.get("candidate"):
        cand = prev["candidate"]
        if cand.get("approved"):
            return cond.false(
                cond.REASON_CANDIDATE_APPROVED, f"candidate {cand['version']} passed its gates"
            )
        return cond.false(
            cond.REASON_CANDIDATE_REJECTED,
            f"candidate {cand['version']} failed gate(s) {', '.join(failed_gates(cand))}",
        )
    if state == FAILED:
        left = settings.max_attempts - attempts
        return cond.false(
            cond.REASON_RETRAINING_FAILED, f"Job {prev.get('job')} failed; {left} attempt(s) left"
        )
    return cond.false(cond.REASON_NOT_RETRAINING, "no retraining running")
