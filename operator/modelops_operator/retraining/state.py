"""The retraining vocabulary shared by the trigger, the Job builder and the outcome reading (pure).

status.retraining states, the reasons used on the Retraining condition and on
Events, the spec's retraining settings with their defaults, and the Decision
one retraining pass returns. They live below retraining.py,
retraining_job.py and retraining_outcome.py so those three import the same
spelling of every state and reason without importing each other.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from modelops_operator.api.durations import parse_duration

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
REASON_TEMPLATE_REFUSED = "JobTemplateRefused"


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
