"""The retraining vocabulary shared by the trigger, the Job builder and the outcome reading (pure).

status.retraining states, the Job states read from a Job's status, and the
decision one retraining step returns. They live below trigger.py, job.py
and outcome.py so those three share the same spelling of every state
without importing each other. The reasons are with all the others in
api/conditions.py; the settings in api/spec.py (`RetrainingSpec`).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from modelops_operator.api import conditions as cond
from modelops_operator.api.conditions import Cond
from modelops_operator.api.objects import EventSpec

# status.retraining.state
RUNNING = "Running"
SUCCEEDED = "Succeeded"
FAILED = "Failed"

# A Job's state, from its status conditions (outcome.job_state).
JOB_ABSENT = "Absent"
JOB_ACTIVE = "Active"
JOB_COMPLETE = "Complete"
JOB_FAILED = "Failed"
JOB_FINISHED = (JOB_COMPLETE, JOB_FAILED)
# What the observer may say instead of a state, about the Job status.retraining names:
# it was created (status.retraining.jobUID) and is gone or replaced;
JOB_LOST = "Lost"
# a Job of that name exists but is controlled by something else (never adopted);
JOB_FOREIGN = "Foreign"
# the API server refused to create it (422: the template is invalid).
JOB_REJECTED = "Rejected"

# Why a Job started (status.retraining.reason, MODELOPS_RETRAIN_REASON).
TRIGGER_DRIFT = "Drift"
TRIGGER_PERFORMANCE = (
    "Performance"  # PerformanceDegraded (labelled outcomes), spec.monitoring.performance
)
TRIGGER_MANUAL = "Manual"
TRIGGER_RETRY = "Retry"


# The Retraining condition when nothing was asked for.
IDLE = cond.false(cond.REASON_NOT_RETRAINING, "no retraining requested")


@dataclass(frozen=True)
class RetrainingDecision:
    """What one retraining step decided."""

    status: dict[str, Any]  # the new status.retraining
    handled_token: str | None  # new status.actions.retrain, when the annotation was consumed
    job: str | None  # the Job that must exist (create if absent), or None
    reason: str | None = None  # why that Job exists (Drift, Manual, Retry)
    condition: Cond = IDLE
    events: tuple[EventSpec, ...] = ()
    outcome: str | None = None  # Job outcome counted in metrics this step
