"""Condition types, every reason the operator writes, and the one helper that sets them.

All reasons live here (as Argo Rollouts keeps them in one file) so that
events, conditions, the demo's report and the tests spell them the same way.
A condition travels as a `Cond` (status, reason, message) until
`set_condition` writes it into the status list. The helpers are pure: they
take the current list and return a new one, and a condition's
lastTransitionTime moves only when its status really changes, so a
level-based re-reconcile writes nothing.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any, NamedTuple

# Condition types (status.conditions).
READY = "Ready"
PROGRESSING = "Progressing"
DEGRADED = "Degraded"
ANALYSIS_PASSED = "AnalysisPassed"
DRIFTED = "Drifted"
PERFORMANCE_DEGRADED = "PerformanceDegraded"
RETRAINING = "Retraining"

CONDITION_TYPES = (
    READY,
    PROGRESSING,
    DEGRADED,
    ANALYSIS_PASSED,
    DRIFTED,
    PERFORMANCE_DEGRADED,
    RETRAINING,
)

TRUE = "True"
FALSE = "False"
UNKNOWN = "Unknown"

# Reasons, used both on conditions and as Kubernetes Event reasons.
# Serving (Ready, Progressing, Degraded).
REASON_CREATED = "Created"
REASON_VERSION_CHANGED = "VersionChanged"
REASON_ROLLING_OUT = "RollingOut"
REASON_AVAILABLE = "Available"
REASON_UNAVAILABLE = "Unavailable"
REASON_DEGRADED = "Degraded"
REASON_RECOVERED = "Recovered"
REASON_HEALTHY = "Healthy"
REASON_PROGRESS_DEADLINE = "ProgressDeadlineExceeded"
REASON_SCALED_TO_ZERO = "ScaledToZero"
REASON_RESOLVE_FAILED = "VersionResolveFailed"
REASON_RESOLVED = "VersionResolved"
REASON_STABLE = "Stable"
REASON_STRATEGY_NOT_SUPPORTED = "StrategyNotSupported"
REASON_CANARY_PENDING = "CanaryNotStarted"
# The rollout's outcome on the health conditions (reconcile/health.py, `outcome`):
# Ready is True only while the release the spec asks for serves, so a canary
# in progress and a rejected (rolled back) version leave it False, and a
# rollback is Degraded / not Progressing with reason RolledBack, as Argo
# Rollouts marks an aborted rollout (Progressing=False RolloutAborted) and a
# Deployment a stuck one (Progressing=False ProgressDeadlineExceeded).
REASON_ROLLOUT_IN_PROGRESS = "RolloutInProgress"

# Canary rollout (rollout/).
REASON_CANARY_STARTED = "CanaryStarted"
REASON_CANARY_WAITING = "CanaryWaitingForPods"
REASON_CANARY_STEP = "CanaryStepAdvanced"
REASON_ANALYSIS_RUNNING = "AnalysisRunning"
REASON_ANALYSIS_PASSED = "AnalysisPassed"
REASON_ANALYSIS_FAILED = "AnalysisFailed"
REASON_PROMOTING = "Promoting"
REASON_PROMOTED = "Promoted"
REASON_ROLLED_BACK = "RolledBack"
REASON_ABORTED = "Aborted"
REASON_SPEC_REVERTED = "SpecReverted"
REASON_SUPERSEDED = "Superseded"
REASON_REJECTED = "VersionRejected"
REASON_MANUAL_PROMOTE = "ManualPromote"
REASON_ROUTER_NOT_SUPPORTED = "TrafficRouterNotSupported"

# Drift (drift/).
REASON_DRIFT_DETECTED = "DriftDetected"
REASON_NO_DRIFT = "NoDrift"
REASON_INSUFFICIENT_DATA = "InsufficientData"
REASON_DRIFT_UNKNOWN = "DriftUnknown"
REASON_DRIFT_CLEARED = "DriftCleared"  # an Event only

# Live performance from labelled outcomes (quality/). The condition's reason when True
# is the condition type itself, as Kubernetes conditions often do.
REASON_PERFORMANCE_DEGRADED = "PerformanceDegraded"
REASON_PERFORMANCE_OK = "PerformanceOK"
REASON_INSUFFICIENT_LABELS = "InsufficientLabels"
REASON_METRIC_UNDEFINED = "MetricUndefined"  # enough labels, but e.g. AUC over one class
REASON_PERFORMANCE_UNKNOWN = "PerformanceUnknown"
REASON_PERFORMANCE_RECOVERED = "PerformanceRecovered"  # an Event only

# Retraining (retraining/).
REASON_RETRAINING_STARTED = "RetrainingStarted"
REASON_JOB_RUNNING = "JobRunning"
REASON_CANDIDATE_APPROVED = "CandidateApproved"
REASON_CANDIDATE_REJECTED = "CandidateRejected"
REASON_RETRAINING_FAILED = "RetrainingFailed"
REASON_CANDIDATE_NOT_FOUND = "CandidateNotFound"
REASON_RETRAINING_EXHAUSTED = "RetrainingAttemptsExhausted"
REASON_NOT_RETRAINING = "NotRetraining"
REASON_CANDIDATE_READY = "CandidateReadyForGitOps"
REASON_JOB_TEMPLATE_REFUSED = "JobTemplateRefused"

Condition = dict[str, Any]  # one entry of status.conditions, as stored


class Cond(NamedTuple):
    """A condition's value before it is written: status, reason and message."""

    status: str
    reason: str
    message: str


def true(reason: str, message: str) -> Cond:
    return Cond(TRUE, reason, message)


def false(reason: str, message: str) -> Cond:
    return Cond(FALSE, reason, message)


def unknown(reason: str, message: str) -> Cond:
    return Cond(UNKNOWN, reason, message)


def get_condition(conditions: Sequence[Mapping[str, Any]], ctype: str) -> Condition | None:
    """The condition of that type, or None."""
    for condition in conditions:
        if condition.get("type") == ctype:
            return dict(condition)
    return None


def is_true(conditions: Sequence[Mapping[str, Any]], ctype: str) -> bool:
    condition = get_condition(conditions, ctype)
    return condition is not None and condition.get("status") == TRUE


def has_reason(conditions: Sequence[Mapping[str, Any]], ctype: str, reason: str) -> bool:
    condition = get_condition(conditions, ctype)
    return condition is not None and condition.get("reason") == reason


def set_condition(
    conditions: Sequence[Mapping[str, Any]],
    ctype: str,
    value: Cond,
    *,
    now: str,
    generation: int | None,
) -> list[Condition]:
    """Return conditions with `ctype` set to `value`, keeping lastTransitionTime if the status is unchanged.

    `now` is an RFC 3339 string (the caller's clock) so the function stays pure.
    The list keeps a stable order: existing entries in place, a new one before
    the first entry that CONDITION_TYPES lists after it (so every object shows
    them in the same order, whichever part set one first).
    """
    status, reason, message = value
    if status not in (TRUE, FALSE, UNKNOWN):
        raise ValueError(f"condition status must be True, False or Unknown, not {status!r}")
    previous = get_condition(conditions, ctype)
    transition = now
    if previous is not None and previous.get("status") == status:
        transition = previous.get("lastTransitionTime") or now
    updated: Condition = {
        "type": ctype,
        "status": status,
        "reason": reason,
        "message": message,
        "lastTransitionTime": transition,
    }
    if generation is not None:
        updated["observedGeneration"] = generation
    result = [dict(c) for c in conditions if c.get("type") != ctype]
    index = next((i for i, c in enumerate(conditions) if c.get("type") == ctype), None)
    if index is None:
        index = next(
            (i for i, c in enumerate(result) if _rank(c.get("type")) > _rank(ctype)), len(result)
        )
    result.insert(index, updated)
    return result


def _rank(ctype: Any) -> int:
    return CONDITION_TYPES.index(ctype) if ctype in CONDITION_TYPES else len(CONDITION_TYPES)


# Retraining: the Job status.retraining names is gone, not ours, or refused (retraining/outcome.py).
REASON_RETRAINING_LOST = "RetrainingLost"  # created, then vanished before it was seen finishing
REASON_JOB_NOT_OWNED = "RetrainingJobNotOwned"  # a Job of that name belongs to someone else
REASON_JOB_REJECTED = "JobRejected"  # the API server refused the Job (422)
