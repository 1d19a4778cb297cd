"""Retraining decisions and the retraining Job (pure).

`decide` is a function of (spec, previous status.retraining, the handled
annotation token, the drift verdict, the observed Job, the candidate found in
the registry, now) and returns the new status.retraining, whether a Job must
exist, the Retraining condition and the Events. The drift pass (drift_pass.py)
persists that status *before* it creates the Job, so an operator killed in
between creates the same Job (same deterministic name) on its next pass, and
a Job that already exists is simply found again: never a second Job.

Rules (DESIGN.md, "Behaviour that users count on"):
* Drift triggers only when the drift verdict is Drifted (`drifted`; insufficient
  or unknown data never is), only with `triggerOnDrift`, at most once per `cooldown` (measured from
  the latest Job's triggeredAt, across operator restarts since it is in status),
  and at most `maxAttempts` Jobs per base version (the serving stable version;
  a new stable version starts a new count).
* The `modelops.io/retrain` annotation is handled once per value (recorded in
  status.actions.retrain); it skips the cooldown (a human asked) but not
  maxAttempts (a loop of failing Jobs must end).
* A failed Job is retried, as a new attempt with a new name, after an
  exponential backoff (RETRY_BASE_SECONDS * 2^(attempts-1), capped by the
  cooldown), while attempts remain.
* A completed Job's result is read from the registry (the version whose
  metadata.retraining.job is the Job's name), never from logs.

This module decides when a new Job starts. The Job's name and manifest are
built in retraining_job.py, a running Job's outcome is read in
retraining_outcome.py, and the states, reasons, settings and Decision they
share live in retraining_state.py.
"""

from __future__ import annotations

import datetime as dt
import math
from collections.abc import Mapping
from typing import Any

from modelops_operator.api.times import parse_time, rfc3339
from modelops_operator.retraining import policy as job_policy
from modelops_operator.retraining.job import (
    JOB_NAME_MAX,
    LABEL_RETRAIN_ATTEMPT,
    build_job,
    job_name,
    request_env,
)
from modelops_operator.retraining.outcome import (
    JOB_ABSENT,
    JOB_ACTIVE,
    JOB_COMPLETE,
    JOB_FAILED,
    candidate_status,
    failed_gates,
    follow,
    job_state,
)
from modelops_operator.retraining.state import (
    FAILED,
    REASON_APPROVED,
    REASON_CANDIDATE_READY,
    REASON_EXHAUSTED,
    REASON_FAILED,
    REASON_IDLE,
    REASON_NO_CANDIDATE,
    REASON_REJECTED,
    REASON_RUNNING,
    REASON_STARTED,
    REASON_TEMPLATE_REFUSED,
    RUNNING,
    SUCCEEDED,
    Decision,
    RetrainSettings,
)

# The public surface drift_pass and the tests import as `retraining.<name>`; the
# pieces live in retraining_state, retraining_job and retraining_outcome.
__all__ = [
    "FAILED",
    "JOB_ABSENT",
    "JOB_ACTIVE",
    "JOB_COMPLETE",
    "JOB_FAILED",
    "JOB_NAME_MAX",
    "LABEL_RETRAIN_ATTEMPT",
    "REASON_APPROVED",
    "REASON_CANDIDATE_READY",
    "REASON_EXHAUSTED",
    "REASON_FAILED",
    "REASON_IDLE",
    "REASON_NO_CANDIDATE",
    "REASON_REJECTED",
    "REASON_RUNNING",
    "REASON_STARTED",
    "REASON_TEMPLATE_REFUSED",
    "RETRY_BASE_SECONDS",
    "RUNNING",
    "SUCCEEDED",
    "Decision",
    "RetrainSettings",
    "build_job",
    "candidate_status",
    "decide",
    "failed_gates",
    "job_name",
    "job_state",
    "request_env",
]

RETRY_BASE_SECONDS = 30.0


def _backoff(attempts: int, settings: RetrainSettings) -> float:
    return min(RETRY_BASE_SECONDS * 2 ** max(attempts - 1, 0), settings.cooldown_seconds)


def decide(
    *,
    md_name: str,
    spec: Mapping[str, Any],
    settings: RetrainSettings,
    previous: Mapping[str, Any] | None,
    handled_token: str | None,
    annotation_token: str | None,
    base_version: str | None,
    drifted: bool,
    job: Mapping[str, Any] | None,
    candidate: tuple[str, Mapping[str, Any]] | None,
    now: dt.datetime,
    exhausted_reported: bool = False,
    refusal_reported: bool = False,
    allowed_accounts: tuple[str, ...] | None = None,
) -> Decision:
    """One step of the retraining state machine (see the module docstring).

    `allowed_accounts` is the site's ServiceAccount allow-list for Job pods
    (None: unrestricted); a template outside it, or one with a field no
    retraining pod may have (job_policy.py), starts no Job.
    """
    prev = dict(previous or {})
    if base_version is None:
        return Decision(status=prev, handled_token=None, job=None)
    # Attempts count per base version: a new stable version starts afresh.
    same_base = prev.get("baseVersion") == base_version
    attempts = int(prev.get("attempts") or 0) if same_base else 0

    # 1. A Job we started is still ours to watch (whatever base it was for).
    if prev.get("state") == RUNNING and prev.get("job"):
        return follow(spec, prev, job, candidate, now)

    # 2. Should a new Job start?
    manual = bool(annotation_token) and annotation_token != handled_token
    new_token = annotation_token if manual else None
    reason = _trigger(prev, manual, same_base, attempts, drifted, settings, now)
    idle = _idle_condition(prev, attempts, settings)
    if reason is None:
        return Decision(status=prev, handled_token=None, job=None, condition=idle)
    refused = job_policy.violations(settings.job_template, allowed_accounts)
    if refused:
        return _refuse(prev, reason, refused, new_token, report=manual or not refusal_reported)
    if attempts >= settings.max_attempts:
        events = []
        # Say it once per request that is refused, not on every pass of a lasting drift.
        if manual or not exhausted_reported:
            events.append(
                (
                    "Warning",
                    REASON_EXHAUSTED,
                    f"{reason.lower()} retraining not started: {attempts} of maxAttempts "
                    f"{settings.max_attempts} Jobs already ran for base version {base_version}",
                )
            )
        return Decision(
            status=prev,
            handled_token=new_token,
            job=None,
            condition=("False", REASON_EXHAUSTED, events[0][2] if events else idle[2]),
            events=events,
        )
    return _start(md_name, base_version, attempts + 1, reason, new_token, settings, now)


def _trigger(
    prev: Mapping[str, Any],
    manual: bool,
    same_base: bool,
    attempts: int,
    drifted: bool,
    settings: RetrainSettings,
    now: dt.datetime,
) -> str | None:
    """Why a new Job should start (Manual, Retry or Drift), or None; maxAttempts is not checked here."""
    if manual:
        return "Manual"
    if prev.get("state") == FAILED and same_base and attempts > 0:
        failed_at = parse_time(prev.get("finishedAt")) or parse_time(prev.get("triggeredAt"))
        waited = (now - failed_at).total_seconds() if failed_at else math.inf
        return "Retry" if waited >= _backoff(attempts, settings) else None
    if drifted and settings.trigger_on_drift:
        triggered = parse_time(prev.get("triggeredAt"))
        if triggered is None or (now - triggered).total_seconds() >= settings.cooldown_seconds:
            return "Drift"
    return None


def _refuse(
    prev: dict[str, Any],
    reason: str,
    refused: list[job_policy.Violation],
    new_token: str | None,
    *,
    report: bool,
) -> Decision:
    """No Job for a template a retraining pod may not have; status and attempts stay as they are.

    The CRD refuses such templates at admission; this is for clusters whose CRD
    lacks those rules. Nothing is recorded as started, so fixing the template
    lets the next trigger start a Job. Like an exhausted budget, the Event is
    posted once per refusal, not on every pass of a lasting drift.
    """
    message = f"{reason.lower()} retraining not started, jobTemplate refused: " + "; ".join(
        str(v) for v in refused
    )
    return Decision(
        status=prev,
        handled_token=new_token,
        job=None,
        condition=("False", REASON_TEMPLATE_REFUSED, message),
        events=[("Warning", REASON_TEMPLATE_REFUSED, message)] if report else [],
    )


def _start(
    md_name: str,
    base_version: str,
    attempt: int,
    reason: str,
    new_token: str | None,
    settings: RetrainSettings,
    now: dt.datetime,
) -> Decision:
    """Status for a new attempt, persisted before its Job is created (same name on a retry)."""
    name = job_name(md_name, base_version, attempt)
    status = {
        "job": name,
        "baseVersion": base_version,
        "reason": reason,
        "state": RUNNING,
        "triggeredAt": rfc3339(now),
        "attempts": attempt,
    }
    message = (
        f"retraining Job {name} started ({reason}, attempt {attempt} of "
        f"{settings.max_attempts} for base version {base_version})"
    )
    return Decision(
        status=status,
        handled_token=new_token,
        job=name,
        reason=reason,
        condition=("True", REASON_STARTED, message),
        events=[("Normal", REASON_STARTED, message)],
    )


def _idle_condition(
    prev: Mapping[str, Any], attempts: int, settings: RetrainSettings
) -> tuple[str, str, str]:
    state = prev.get("state")
    if state == SUCCEEDED and prev.get("candidate"):
        cand = prev["candidate"]
        if cand.get("approved"):
            return ("False", REASON_APPROVED, f"candidate {cand['version']} passed its gates")
        return (
            "False",
            REASON_REJECTED,
            f"candidate {cand['version']} failed gate(s) {', '.join(failed_gates(cand))}",
        )
    if state == FAILED:
        left = settings.max_attempts - attempts
        return ("False", REASON_FAILED, f"Job {prev.get('job')} failed; {left} attempt(s) left")
    return ("False", REASON_IDLE, "no retraining running")
