"""Reading a retraining Job's outcome (pure): the Job's state, then the registry's answer.

A finished Job's result is read from the registry (the version whose
metadata.retraining names this Job and this ModelDeployment's uid), never
from its logs or exit code:
`modelops train` exits non-zero when the gates reject its candidate, yet that
published, rejected candidate is the answer the user needs to see.

A Job is followed through status.retraining: `job` is decided (and written)
before the Job is created, `jobUID` once the Job was seen. So a Job that is
absent while `jobUID` is recorded was created and has vanished (a
`kubectl delete`, `ttlSecondsAfterFinished`): it is an outcome (Lost), never
created again. A Job of that name that another owner controls is never
adopted, and one the API server refused is reported with the server's
message; each ends the attempt, so `maxAttempts` bounds them all.
"""

from __future__ import annotations

import datetime as dt
import math
from collections.abc import Mapping
from typing import Any

from modelops_operator.api import conditions as cond
from modelops_operator.api import names
from modelops_operator.api.objects import EventSpec
from modelops_operator.api.spec import Spec
from modelops_operator.api.times import rfc3339
from modelops_operator.retraining.state import (
    FAILED,
    JOB_ABSENT,
    JOB_ACTIVE,
    JOB_COMPLETE,
    JOB_FAILED,
    JOB_FINISHED,
    JOB_FOREIGN,
    JOB_LOST,
    JOB_REJECTED,
    SUCCEEDED,
    RetrainingDecision,
)


def job_state(job: Mapping[str, Any] | None) -> str:
    """Absent, Active, Complete or Failed, from the Job's status conditions."""
    if job is None:
        return JOB_ABSENT
    for condition in (job.get("status") or {}).get("conditions") or []:
        if condition.get("status") != "True":
            continue
        if condition.get("type") == "Complete":
            return JOB_COMPLETE
        if condition.get("type") == "Failed":
            return JOB_FAILED
    return JOB_ACTIVE


# --- candidate ------------------------------------------------------------------------


def candidate_status(version: str, metadata: Mapping[str, Any]) -> dict[str, Any]:
    """status.retraining.candidate from the candidate's registry metadata.

    Only finite numbers are copied: the status schema is strict, and a gate
    whose value could not be computed (None) keeps its verdict and threshold.
    """
    metrics = {
        k: round(float(v), 6)
        for k, v in sorted((metadata.get("metrics") or {}).items())
        if _finite(v)
    }
    gates: dict[str, Any] = {}
    for gate, result in sorted((metadata.get("gates") or {}).items()):
        if not isinstance(result, Mapping):
            continue
        entry: dict[str, Any] = {"passed": bool(result.get("passed"))}
        for key in ("value", "threshold"):
            if _finite(result.get(key)):
                entry[key] = round(float(result[key]), 6)
        gates[gate] = entry
    return {
        "version": str(version),
        "approved": metadata.get("status") == "approved",
        "metrics": metrics,
        "gates": gates,
    }


def _finite(value: Any) -> bool:
    return isinstance(value, int | float) and not isinstance(value, bool) and math.isfinite(value)


def failed_gates(candidate: Mapping[str, Any]) -> list[str]:
    return sorted(g for g, r in (candidate.get("gates") or {}).items() if not r.get("passed"))


# --- following a running Job ----------------------------------------------------------


def follow(
    spec: Spec,
    prev: dict[str, Any],
    observed: str,
    candidate: tuple[str, Mapping[str, Any]] | None,
    now: dt.datetime,
    *,
    uid: str | None = None,
    note: str = "",
) -> RetrainingDecision:
    """The step for a Job status.retraining says is running: create, wait, or record its outcome.

    `observed` is what the observer found under the Job's name (`job_state`,
    or Lost / Foreign / Rejected); `uid` the uid of our Job when it exists,
    `note` who controls a foreign one or what the API server answered;
    `candidate` what the registry holds for it, looked up once it finished
    or vanished.
    """
    name = prev["job"]
    if observed == JOB_ABSENT:
        # Decided and persisted, not created yet (no jobUID recorded): create it.
        return RetrainingDecision(
            status=prev,
            handled_token=None,
            job=name,
            reason=prev.get("reason"),
            condition=_running(name),
        )
    if observed == JOB_FOREIGN:
        return _ended(prev, now, cond.REASON_JOB_NOT_OWNED, "not_owned", _not_owned(prev, note))
    if observed == JOB_REJECTED:
        message = (
            f"the API server refused retraining Job {name}: {note}; no retraining Job is "
            "created again until the ModelDeployment's spec changes"
        )
        return _ended(prev, now, cond.REASON_JOB_REJECTED, "invalid", message)
    seen = _seen(prev, uid)
    if observed not in (*JOB_FINISHED, JOB_LOST):
        return RetrainingDecision(
            status=seen, handled_token=None, job=None, condition=_running(name)
        )
    finished = {**seen, "finishedAt": rfc3339(now)}
    # The registry decides, not the exit code. No candidate = a failed attempt.
    if candidate is not None:
        return _candidate_found(spec, finished, *candidate)
    if observed == JOB_LOST:
        message = (
            f"retraining Job {name} (uid {finished.get('jobUID') or '?'}) disappeared before "
            "it was seen finishing (deleted, or removed by ttlSecondsAfterFinished) and "
            f"published no candidate; it is not created again (attempt {prev.get('attempts')})"
        )
        return _ended(seen, now, cond.REASON_RETRAINING_LOST, "lost", message)
    return _no_candidate(finished, observed)


def _running(name: str) -> cond.Cond:
    return cond.true(cond.REASON_JOB_RUNNING, f"retraining Job {name} is running")


def _seen(prev: dict[str, Any], uid: str | None) -> dict[str, Any]:
    """status.retraining recording that its Job was created (jobUID): from now on it is
    never created again, and its absence is an outcome."""
    if uid is None or prev.get("jobUID") == uid:
        return prev
    return {**prev, "jobUID": uid}


def _not_owned(prev: Mapping[str, Any], note: str) -> str:
    return (
        f"retraining Job {prev['job']} was not created: a Job of that name already exists "
        f"and {note}; it is not adopted and its results are not read "
        f"(attempt {prev.get('attempts')})"
    )


def _ended(
    prev: dict[str, Any], now: dt.datetime, reason: str, outcome: str, message: str
) -> RetrainingDecision:
    """A failed attempt that produced no Job result of ours: reported once, retried like a failure."""
    return RetrainingDecision(
        status={**prev, "state": FAILED, "finishedAt": rfc3339(now)},
        handled_token=None,
        job=None,
        condition=cond.false(reason, message),
        events=(EventSpec("Warning", reason, message),),
        outcome=outcome,
    )


def _no_candidate(finished: dict[str, Any], observed: str) -> RetrainingDecision:
    why = (
        "failed"
        if observed == JOB_FAILED
        else "completed but published no version with metadata.retraining.job = its name"
    )
    message = f"retraining Job {finished['job']} {why} (attempt {finished.get('attempts')})"
    return RetrainingDecision(
        status={**finished, "state": FAILED},
        handled_token=None,
        job=None,
        condition=cond.false(
            cond.REASON_RETRAINING_FAILED
            if observed == JOB_FAILED
            else cond.REASON_CANDIDATE_NOT_FOUND,
            message,
        ),
        events=(EventSpec("Warning", cond.REASON_RETRAINING_FAILED, message),),
        outcome="failed",
    )


def _candidate_found(
    spec: Spec, finished: dict[str, Any], version: str, metadata: Mapping[str, Any]
) -> RetrainingDecision:
    name = finished["job"]
    cand = candidate_status(version, metadata)
    status = {**finished, "state": SUCCEEDED, "candidate": cand}
    if cand["approved"]:
        metrics = ", ".join(f"{k}={v:g}" for k, v in cand["metrics"].items())
        message = f"retraining Job {name} produced candidate {version}, approved ({metrics})"
        events = (
            EventSpec("Normal", cond.REASON_CANDIDATE_APPROVED, message),
            _next_step(spec, version),
        )
        reason, outcome = cond.REASON_CANDIDATE_APPROVED, "approved"
    else:
        message = (
            f"retraining Job {name} produced candidate {version}, REJECTED by gate(s) "
            f"{', '.join(failed_gates(cand))}; it will not be deployed"
        )
        events = (EventSpec("Warning", cond.REASON_CANDIDATE_REJECTED, message),)
        reason, outcome = cond.REASON_CANDIDATE_REJECTED, "rejected"
    return RetrainingDecision(
        status=status,
        handled_token=None,
        job=None,
        condition=cond.false(reason, message),
        events=events,
        outcome=outcome,
    )


def _next_step(spec: Spec, version: str) -> EventSpec:
    """What happens to an approved candidate: the channel rolls it out, or Git must name it."""
    if spec.model.follows_channel:
        return EventSpec(
            "Normal",
            cond.REASON_CANDIDATE_APPROVED,
            f"candidate {version} is now the newest approved version; the "
            f"{names.CHANNEL_LATEST_APPROVED} channel rolls it out",
        )
    return EventSpec(
        "Normal",
        cond.REASON_CANDIDATE_READY,
        f"spec.model.version is pinned: traffic is unchanged; commit version {version} "
        "to Git to deploy it (.status.retraining.candidate.version)",
    )
