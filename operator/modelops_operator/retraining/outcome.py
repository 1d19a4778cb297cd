"""Reading a retraining Job's outcome (pure): the Job's state, then the registry's answer.

A finished Job's result is read from the registry (the version whose
metadata.retraining.job is the Job's name), never from its logs or exit code:
`modelops train` exits non-zero when the gates reject its candidate, yet that
published, rejected candidate is the answer the user needs to see.
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
) -> RetrainingDecision:
    """The step for a Job status.retraining says is running: wait, or record its outcome.

    `observed` is the Job's state (`job_state`); `candidate` what the registry
    holds for it, looked up once the Job finished.
    """
    name = prev["job"]
    if observed not in JOB_FINISHED:
        # Absent: the decision was persisted but the Job not (yet) created -- create it.
        return RetrainingDecision(
            status=prev,
            handled_token=None,
            job=name,
            reason=prev.get("reason"),
            condition=cond.true(cond.REASON_JOB_RUNNING, f"retraining Job {name} is running"),
        )
    finished = {**prev, "finishedAt": rfc3339(now)}
    # The registry decides, not the exit code. No candidate = a failed attempt.
    if candidate is None:
        return _no_candidate(finished, observed)
    return _candidate_found(spec, finished, *candidate)


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
