"""Retraining decisions and the retraining Job (pure).

`decide` is a function of (spec, previous status.retraining, the handled
annotation token, the drift verdict, the observed Job, the candidate found in
the registry, now) and returns the new status.retraining, whether a Job must
exist, the Retraining condition and the Events. The drift pass (drift_pass.py)
persists that status *before* it creates the Job, so an operator killed in
between creates the same Job (same deterministic name) on its next pass, and
a Job that already exists is simply found again: never a second Job.

Rules (DESIGN.md, "Behaviour that users count on"):
* Drift triggers only on the verdict DRIFTED (insufficient or unknown data never
  does), only with `triggerOnDrift`, at most once per `cooldown` (measured from
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
"""

from __future__ import annotations

import copy
import datetime as dt
import hashlib
import json
import math
import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from modelops_operator import names
from modelops_operator.drift_check import DRIFTED, parse_time, rfc3339
from modelops_operator.durations import parse_duration

RETRY_BASE_SECONDS = 30.0
JOB_NAME_MAX = 63  # the Job controller copies the name into a pod label (63 characters max)
LABEL_RETRAIN_ATTEMPT = "modelops.io/retrain-attempt"

# status.retraining.state
RUNNING = "Running"
SUCCEEDED = "Succeeded"
FAILED = "Failed"

# Reasons (conditions and Events).
REASON_STARTED = "RetrainingStarted"
REASON_RUNNING = "JobRunning"
REASON_APPROVED = "CandidateApproved"
REASON_REJECTED = "CandidateRejected"
REASON_FAILED = "RetrainingFailed"
REASON_NO_CANDIDATE = "CandidateNotFound"
REASON_EXHAUSTED = "RetrainingAttemptsExhausted"
REASON_IDLE = "NotRetraining"
REASON_CANDIDATE_READY = "CandidateReadyForGitOps"

# Job observation (what the Job's status conditions say).
JOB_ABSENT = "Absent"
JOB_ACTIVE = "Active"
JOB_COMPLETE = "Complete"
JOB_FAILED = "Failed"


@dataclass(frozen=True)
class RetrainSettings:
    job_template: Mapping[str, Any]
    cooldown_seconds: float
    max_attempts: int
    gates: Mapping[str, Any]
    trigger_on_drift: bool

    @classmethod
    def from_spec(cls, spec: Mapping[str, Any]) -> RetrainSettings | None:
        retraining = spec.get("retraining") if spec else None
        if not retraining:
            return None
        if not isinstance(retraining.get("jobTemplate"), Mapping):
            raise ValueError("spec.retraining.jobTemplate: a batch/v1 Job template is required")
        return cls(
            job_template=retraining["jobTemplate"],
            cooldown_seconds=parse_duration(
                str(retraining.get("cooldown", "6h")), field="spec.retraining.cooldown"
            ),
            max_attempts=int(retraining.get("maxAttempts", 3)),
            gates=dict(retraining.get("gates") or {}),
            trigger_on_drift=bool(retraining.get("triggerOnDrift", True)),
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


# --- naming -------------------------------------------------------------------------


def _dns_part(text: str) -> str:
    return re.sub(r"[^a-z0-9-]+", "-", text.lower()).strip("-")


def job_name(md_name: str, base_version: str, attempt: int) -> str:
    """`<md>-retrain-v<base>-<attempt>-<hash>`: deterministic, DNS-1123, at most 63 characters.

    The trigger is identified by the attempt number within the base version, so
    the same decision always yields the same name (retries of the create are
    idempotent) while a later attempt yields a new one. The hash keeps names of
    long ModelDeployment names or odd versions distinct after truncation.
    """
    digest = hashlib.sha256(f"{md_name}\0{base_version}\0{attempt}".encode()).hexdigest()[:8]
    readable = _dns_part(f"{md_name}-retrain-v{base_version}-{attempt}")
    readable = readable[: JOB_NAME_MAX - len(digest) - 1].rstrip("-")
    return f"{readable}-{digest}" if readable else f"retrain-{digest}"


# --- the Job ----------------------------------------------------------------------


def request_env(
    spec: Mapping[str, Any],
    base_version: str,
    reason: str,
    job: str,
    drift_report: Mapping[str, Any] | None,
    gates: Mapping[str, Any],
) -> list[dict[str, str]]:
    """The MODELOPS_* environment describing the request; `modelops train` reads it."""
    env = {
        "MODELOPS_MODEL": spec["model"]["name"],
        "MODELOPS_BASE_VERSION": base_version,
        "MODELOPS_REGISTRY": spec["registry"]["uri"],
        "MODELOPS_RETRAIN_REASON": reason,
        "MODELOPS_RETRAIN_JOB": job,
        "MODELOPS_DRIFT_REPORT": json.dumps(drift_report or {}, sort_keys=True),
        "MODELOPS_GATES": json.dumps(dict(gates), sort_keys=True),
    }
    return [{"name": k, "value": v} for k, v in env.items()]


def build_job(
    owner: Mapping[str, str],
    spec: Mapping[str, Any],
    settings: RetrainSettings,
    *,
    name: str,
    base_version: str,
    attempt: int,
    reason: str,
    drift_report: Mapping[str, Any] | None,
) -> dict[str, Any]:
    """The batch/v1 Job for one attempt: the user's template plus our name, labels, env, owner.

    `owner` holds the ModelDeployment's name, namespace and uid. The request
    environment replaces variables of the same name in the template, so a
    template cannot point a Job at another model by accident. The Job gets
    backoffLimit 0 and restartPolicy Never unless the template says otherwise:
    retries are the operator's (maxAttempts, recorded in status), not hidden
    pod restarts.
    """
    template = copy.deepcopy(dict(settings.job_template))
    meta = template.get("metadata") or {}
    job_spec = copy.deepcopy(template.get("spec") or {})
    job_spec.setdefault("backoffLimit", 0)
    pod = job_spec.setdefault("template", {})
    pod_meta = pod.setdefault("metadata", {})
    pod_spec = pod.setdefault("spec", {})
    pod_spec.setdefault("restartPolicy", "Never")
    labels = {
        **(meta.get("labels") or {}),
        names.LABEL_MANAGED_BY: names.MANAGED_BY,
        names.LABEL_DEPLOYMENT: owner["name"],
        names.LABEL_MODEL_VERSION: _label_value(base_version),
        LABEL_RETRAIN_ATTEMPT: str(attempt),
    }
    pod_meta["labels"] = {**(pod_meta.get("labels") or {}), **labels}
    env = request_env(spec, base_version, reason, name, drift_report, settings.gates)
    ours = {e["name"] for e in env}
    for container in pod_spec.get("containers") or []:
        kept = [e for e in container.get("env") or [] if e.get("name") not in ours]
        container["env"] = kept + env
    return {
        "apiVersion": "batch/v1",
        "kind": "Job",
        "metadata": {
            "name": name,
            "namespace": owner["namespace"],
            "labels": labels,
            "annotations": dict(meta.get("annotations") or {}),
            "ownerReferences": [
                {
                    "apiVersion": names.API_VERSION,
                    "kind": names.KIND,
                    "name": owner["name"],
                    "uid": owner["uid"],
                    "controller": True,
                    "blockOwnerDeletion": True,
                }
            ],
        },
        "spec": job_spec,
    }


def _label_value(text: str) -> str:
    value = re.sub(r"[^A-Za-z0-9_.-]+", "-", text)[:63].strip("-_.")
    return value or "none"


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


# --- decisions ------------------------------------------------------------------------


@dataclass
class Decision:
    """What one retraining pass decided."""

    status: dict[str, Any]  # the new status.retraining
    handled_token: str | None  # new status.actions.retrain, when the annotation was consumed
    job: str | None  # the Job that must exist (create if absent), or None
    reason: str | None = None  # why that Job exists (Drift, Manual, Retry)
    condition: tuple[str, str, str] = ("False", REASON_IDLE, "no retraining requested")
    events: list[tuple[str, str, str]] = field(default_factory=list)  # (type, reason, message)
    outcome: str | None = None  # Job outcome counted in metrics this pass


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
    drift_verdict: str,
    job: Mapping[str, Any] | None,
    candidate: tuple[str, Mapping[str, Any]] | None,
    now: dt.datetime,
    exhausted_reported: bool = False,
) -> Decision:
    """One step of the retraining state machine (see the module docstring)."""
    prev = dict(previous or {})
    if base_version is None:
        return Decision(status=prev, handled_token=None, job=None)
    # Attempts count per base version: a new stable version starts afresh.
    same_base = prev.get("baseVersion") == base_version
    attempts = int(prev.get("attempts") or 0) if same_base else 0
    state = prev.get("state")

    # 1. A Job we started is still ours to watch (whatever base it was for).
    if state == RUNNING and prev.get("job"):
        return _follow(spec, prev, job, candidate, now)

    # 2. Should a new Job start?
    manual = bool(annotation_token) and annotation_token != handled_token
    new_token = annotation_token if manual else None
    reason = None
    if manual:
        reason = "Manual"
    elif state == FAILED and same_base and attempts > 0:
        failed_at = parse_time(prev.get("finishedAt")) or parse_time(prev.get("triggeredAt"))
        waited = (now - failed_at).total_seconds() if failed_at else math.inf
        if waited >= _backoff(attempts, settings):
            reason = "Retry"
    elif drift_verdict == DRIFTED and settings.trigger_on_drift:
        triggered = parse_time(prev.get("triggeredAt"))
        if triggered is None or (now - triggered).total_seconds() >= settings.cooldown_seconds:
            reason = "Drift"

    idle = _idle_condition(prev, attempts, settings)
    if reason is None:
        return Decision(status=prev, handled_token=None, job=None, condition=idle)
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

    attempt = attempts + 1
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


def _follow(
    spec: Mapping[str, Any],
    prev: dict[str, Any],
    job: Mapping[str, Any] | None,
    candidate: tuple[str, Mapping[str, Any]] | None,
    now: dt.datetime,
) -> Decision:
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
    # `modelops train` exits non-zero (3) when its candidate is rejected, which
    # fails the Job; the published, rejected candidate is still the answer, so
    # the registry decides, not the exit code. No candidate = a failed attempt.
    if candidate is None:
        why = (
            "failed"
            if observed == JOB_FAILED
            else "completed but published no version with metadata.retraining.job = its name"
        )
        message = f"retraining Job {name} {why} (attempt {prev.get('attempts')})"
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
    version, metadata = candidate
    cand = candidate_status(version, metadata)
    status = {**finished, "state": SUCCEEDED, "candidate": cand}
    metrics = ", ".join(f"{k}={v:g}" for k, v in cand["metrics"].items())
    events: list[tuple[str, str, str]] = []
    if cand["approved"]:
        message = f"retraining Job {name} produced candidate {version}, approved ({metrics})"
        events.append(("Normal", REASON_APPROVED, message))
        if spec["model"]["version"] == names.CHANNEL_LATEST_APPROVED:
            events.append(
                (
                    "Normal",
                    REASON_APPROVED,
                    f"candidate {version} is now the newest approved version; the "
                    f"{names.CHANNEL_LATEST_APPROVED} channel rolls it out",
                )
            )
        else:
            events.append(
                (
                    "Normal",
                    REASON_CANDIDATE_READY,
                    f"spec.model.version is pinned: traffic is unchanged; commit version {version} "
                    "to Git to deploy it (.status.retraining.candidate.version)",
                )
            )
        condition = ("False", REASON_APPROVED, message)
        outcome = "approved"
    else:
        message = (
            f"retraining Job {name} produced candidate {version}, REJECTED by gate(s) "
            f"{', '.join(failed_gates(cand))}; it will not be deployed"
        )
        events.append(("Warning", REASON_REJECTED, message))
        condition = ("False", REASON_REJECTED, message)
        outcome = "rejected"
    return Decision(
        status=status,
        handled_token=None,
        job=None,
        condition=condition,
        events=events,
        outcome=outcome,
    )
