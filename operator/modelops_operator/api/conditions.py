"""Condition types, reason constants and the helpers that set them.

All reasons live here (as Argo Rollouts does) so that events, conditions and
tests spell them the same way. The helpers are pure: they take the current
list and return a new one, and a condition's lastTransitionTime moves only
when its status really changes, so a level-based re-reconcile writes nothing.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

# Condition types (DESIGN.md, status.conditions).
READY = "Ready"
PROGRESSING = "Progressing"
DEGRADED = "Degraded"
ANALYSIS_PASSED = "AnalysisPassed"
DRIFTED = "Drifted"
RETRAINING = "Retraining"

CONDITION_TYPES = (READY, PROGRESSING, DEGRADED, ANALYSIS_PASSED, DRIFTED, RETRAINING)

TRUE = "True"
FALSE = "False"
UNKNOWN = "Unknown"

# Reasons, used both on conditions and as Kubernetes Event reasons.
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
REASON_CANARY_PENDING = "CanaryNotStarted"

# Canary rollout reasons (canary.py).
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

Condition = dict[str, Any]


def get_condition(conditions: Sequence[Condition], ctype: str) -> Condition | None:
    """The condition of that type, or None."""
    for condition in conditions:
        if condition.get("type") == ctype:
            return condition
    return None


def is_true(conditions: Sequence[Condition], ctype: str) -> bool:
    condition = get_condition(conditions, ctype)
    return condition is not None and condition.get("status") == TRUE


def set_condition(
    conditions: Sequence[Condition],
    ctype: str,
    status: str,
    reason: str,
    message: str,
    *,
    now: str,
    generation: int | None,
) -> list[Condition]:
    """Return conditions with `ctype` set, keeping lastTransitionTime if the status is unchanged.

    `now` is an RFC 3339 string (the caller's clock) so the function stays pure.
    The list keeps a stable order: existing entries in place, new ones appended.
    """
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
    index = next((i for i, c in enumerate(conditions) if c.get("type") == ctype), len(result))
    result.insert(index, updated)
    return result
