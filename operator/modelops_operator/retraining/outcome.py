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

from modelops_operator.api import names
from modelops_operator.api.times import rfc3339
from modelops_operator.retraining.state import (
    FAILED,
    REASON_APPROVED,
    REASON_CANDIDATE_READY,
    REASON_FAILED,
    REASON_NO_CANDIDATE,
    REASON_REJECTED,
    REASON_RUNNING,
    SUCCEEDED,
    Decision,
)

# Job observation (what the Job's status conditions say).
JOB_ABSENT = "Absent"
JOB_ACTIVE = "Active"
JOB_COMPLETE = "Complete"
JOB_FAILED = "Failed"

Event = tuple[str, str, str]  # (type, reason, message)


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
    spec: Mapping[str, Any],
    prev: dict[str, Any],
    job: Mapping[str, Any] | None,
    candidate: tuple[str, Mapping[str, Any]] | None,
    now: dt.datetime,
) -> Decision:
    """The pass for a Job status.retraining says is running: wait, or record its outcome."""
    name = prev["job"]
    observed = job_state(job)
    if observed in (JOB_ABSENT, JOB_ACTIVE):
        # Absent: the decision was persisted but the Job not (yet) created -- create it.
        return Decision(
            status=prev,
            handled_token=None,
            job=name,
            reason=prev.get("reason"),
            condition=("True", REASON_RUNNING, f"retraining Job {name} is running"),
        )
    finished = {**prev, "finishedAt": rfc3339(now)}
    # The registry decides, not the exit code. No candidate = a failed attempt.
    if candidate is None:
        return _no_candidate(finished, observed)
    return _candidate_found(spec, finished, *candidate)


def _no_candidate(finished: dict[str, Any], observed: str) -> Decision:
    why = (
        "failed"
        if observed == JOB_FAILED
        else "completed but published no version with metadata.retraining.job = its name"
    )
    message = f"retraining Job {finished['job']} {why} (attempt {finished.get('attempts')})"
    return Decision(
        status={**finished, "state": FAILED},
        handled_token=None,
        job=None,
        condition=(
            "False",
            REASON_FAILED if observed == JOB_FAILED else REASON_NO_CANDIDATE,
            message,
        ),
        events=[("Warning", REASON_FAILED, message)],
        outcome="failed",
    )


def _candidate_found(
    spec: Mapping[str, Any], finished: dict[str, Any], version: str, metadata: Mapping[str, Any]
) -> Decision:
    name = finished["job"]
    cand = candidate_status(version, metadata)
    status = {**finished, "state": SUCCEEDED, "candidate": cand}
    if cand["approved"]:
        metrics = ", ".join(f"{k}={v:g}" for k, v in cand["metrics"].items())
        message = f"retraining Job {name} produced candidate {version}, approved ({metrics})"
        events = [("Normal", REASON_APPROVED, message), _next_step(spec, version)]
        reason, outcome = REASON_APPROVED, "approved"
    else:
        message = (
            f"retraining Job {name} produced candidate {version}, REJECTED by gate(s) "
            f"{', '.join(failed_gates(cand))}; it will not be deployed"
        )
        events = [("Warning", REASON_REJECTED, message)]
        reason, outcome = REASON_REJECTED, "rejected"
    return Decision(
        status=status,
        handled_token=None,
        job=None,
        condition=("False", reason, message),
        events=events,
        outcome=outcome,
    )


def _next_step(spec: Mapping[str, Any], version: str) -> Event:
    """What happens to an approved candidate: the channel rolls it out, or Git must name it."""
    if spec["model"]["version"] == names.CHANNEL_LATEST_APPROVED:
        return (
            "Normal",
            REASON_APPROVED,
            f"candidate {version} is now the newest approved version; the "
            f"{names.CHANNEL_LATEST_APPROVED} channel rolls it out",
        )
    return (
        "Normal",
        REASON_CANDIDATE_READY,
        f"spec.model.version is pinned: traffic is unchanged; commit version {version} "
        "to Git to deploy it (.status.retraining.candidate.version)",
    )
