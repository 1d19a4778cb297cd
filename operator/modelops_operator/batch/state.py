"""The batch vocabulary shared by the run decision, the Job builder and the outcome reading (pure).

status.batch.lastRun states and the decision one batch step returns. The
Job states (Absent, Active, Complete, Failed, Lost, Foreign, Rejected) are
the retraining Job's (retraining/state.py): both are Jobs followed the same
way, through the same Job memory.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from modelops_operator.api.objects import EventSpec

# status.batch.lastRun.state
RUNNING = "Running"
SUCCEEDED = "Succeeded"
FAILED = "Failed"  # the Job failed (a pod exited 2 or 3, or backoffLimit was reached)
LOST = "Lost"  # created, then vanished before it was seen finishing
NOT_OWNED = "NotOwned"  # a Job of that name belongs to someone else: never adopted
REJECTED = "Rejected"  # the API server refused the Job (422)
REFUSED = "Refused"  # not started: the jobTemplate breaks the pod rules, or nothing serves yet
ENDED = (SUCCEEDED, FAILED, LOST, NOT_OWNED, REJECTED, REFUSED)

# status.batch.lastRun.trigger
TRIGGER_MANUAL = "Manual"  # the modelops.io/batch-run annotation (`modelops batch run`)
TRIGGER_SCHEDULE = "Schedule"  # a Job the CronJob created

# Event reasons (posted on the ModelDeployment).
REASON_STARTED = "BatchRunStarted"
REASON_SUCCEEDED = "BatchRunSucceeded"
REASON_FAILED = "BatchRunFailed"
REASON_NOT_STARTED = "BatchRunNotStarted"
REASON_SCHEDULED = "BatchScheduleUpdated"


@dataclass(frozen=True)
class BatchDecision:
    """What one batch step decided."""

    status: dict[str, Any]  # the new status.batch
    handled_token: str | None = None  # new status.actions.batch, when the annotation was consumed
    job: str | None = None  # the Job that must exist (create if absent), or None
    events: tuple[EventSpec, ...] = field(default_factory=tuple)
