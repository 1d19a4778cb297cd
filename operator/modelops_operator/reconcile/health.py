"""Health of a release, read from its child Deployment: the phase, the Ready /
Progressing / Degraded conditions, and the events their transitions deserve.

Pure, like reconcile.py, which calls it once per reconcile.
"""

from __future__ import annotations

from typing import Any

from modelops_operator.api import conditions as cond
from modelops_operator.api.objects import DeploymentState, EventSpec

NORMAL = "Normal"
WARNING = "Warning"

Release = dict[str, Any]  # {"version", "image", "since"}


def availability(
    dep: DeploymentState | None, release: Release, replicas: int, was_ready: bool
) -> tuple[str, dict[str, tuple[str, str, str]], str]:
    """Phase, {condition: (status, reason, message)} and a summary, from the child Deployment."""
    version, image = release["version"], release["image"]
    if replicas == 0 and dep is not None and dep.runs(version, image):
        msg = f"version {version} is scaled to zero replicas"
        return health(
            "Stable",
            ready=(cond.FALSE, cond.REASON_SCALED_TO_ZERO),
            progressing=(cond.FALSE, cond.REASON_STABLE),
            degraded=(cond.FALSE, cond.REASON_HEALTHY),
            msg=msg,
        )
    if dep is None or not dep.runs(version, image) or dep.observed_generation < dep.generation:
        msg = f"rolling out version {version}"
        return health(
            "Progressing",
            ready=(cond.FALSE, cond.REASON_ROLLING_OUT),
            progressing=(cond.TRUE, cond.REASON_ROLLING_OUT),
            degraded=(cond.FALSE, cond.REASON_HEALTHY),
            msg=msg,
        )
    counts = f"{dep.available_replicas}/{replicas} replicas available"
    if dep.progress_deadline_exceeded:
        msg = f"version {version} did not become available within the progress deadline ({counts})"
        return health(
            "Failed",
            ready=(cond.FALSE, cond.REASON_PROGRESS_DEADLINE),
            progressing=(cond.FALSE, cond.REASON_PROGRESS_DEADLINE),
            degraded=(cond.TRUE, cond.REASON_PROGRESS_DEADLINE),
            msg=msg,
        )
    if dep.rolled_out():
        msg = f"serving version {version} ({counts})"
        return health(
            "Stable",
            ready=(cond.TRUE, cond.REASON_AVAILABLE),
            progressing=(cond.FALSE, cond.REASON_STABLE),
            degraded=(cond.FALSE, cond.REASON_HEALTHY),
            msg=msg,
        )
    if was_ready and dep.updated_replicas >= replicas:
        # It had been fully available on this version and lost pods since.
        msg = f"version {version} lost availability ({counts})"
        return health(
            "Stable",
            ready=(cond.FALSE, cond.REASON_UNAVAILABLE),
            progressing=(cond.FALSE, cond.REASON_STABLE),
            degraded=(cond.TRUE, cond.REASON_UNAVAILABLE),
            msg=msg,
        )
    msg = f"rolling out version {version} ({counts})"
    return health(
        "Progressing",
        ready=(cond.FALSE, cond.REASON_ROLLING_OUT),
        progressing=(cond.TRUE, cond.REASON_ROLLING_OUT),
        degraded=(cond.FALSE, cond.REASON_HEALTHY),
        msg=msg,
    )


def transition_events(old: list[dict], new: list[dict]) -> list[EventSpec]:
    """Events for condition flips that users want to hear about."""
    events: list[EventSpec] = []
    ready_new = cond.get_condition(new, cond.READY)
    if ready_new and ready_new["status"] == cond.TRUE and not cond.is_true(old, cond.READY):
        events.append(EventSpec(NORMAL, cond.REASON_AVAILABLE, ready_new["message"]))
    degraded_old = cond.get_condition(old, cond.DEGRADED)
    degraded_new = cond.get_condition(new, cond.DEGRADED)
    if degraded_new and degraded_new["status"] == cond.TRUE:
        if (
            not degraded_old
            or degraded_old.get("status") != cond.TRUE
            or (degraded_old.get("reason") != degraded_new["reason"])
        ):
            events.append(EventSpec(WARNING, degraded_new["reason"], degraded_new["message"]))
    elif degraded_old and degraded_old.get("status") == cond.TRUE:
        message = degraded_new["message"] if degraded_new else "recovered"
        events.append(EventSpec(NORMAL, cond.REASON_RECOVERED, message))
    return events


def health(phase: str, *, ready: tuple, progressing: tuple, degraded: tuple, msg: str):
    """(phase, {condition: (status, reason, msg)}, msg): the three health
    conditions always share one message, so each verdict names only statuses and reasons."""
    conds = {cond.READY: ready, cond.PROGRESSING: progressing, cond.DEGRADED: degraded}
    return phase, {kind: (status, reason, msg) for kind, (status, reason) in conds.items()}, msg
