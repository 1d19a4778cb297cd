"""How a rollout's persisted state reads (pure).

The state machine (machine.py), the status shaping (decision.py) and the
analysis verdicts (verdict.py) all read the releases recorded in status the
same way; this module is that one shared reading, so the three cannot drift
apart on what "the same release" or "the canary is ready" means. The rollout
settings themselves come from the typed spec (api/spec.py).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from modelops_operator.api.objects import DeploymentState

Release = dict[str, Any]

# How often to look again while waiting for pods or for stable to finish promotion
# (Deployment watch events usually arrive sooner).
POLL_SECONDS = 2.0
MIN_REQUEUE_SECONDS = 0.5

OUTCOME_PROMOTED = "Promoted"
OUTCOME_ROLLED_BACK = "RolledBack"
OUTCOME_SUPERSEDED = "Superseded"


def release_of(obj: Mapping[str, Any] | None) -> tuple[str, str] | None:
    return (obj["version"], obj["image"]) if obj else None


def version_image(obj: Mapping[str, Any]) -> Release:
    """Only the version and image of a status entry (canary, rejected, stable...)."""
    return {"version": obj["version"], "image": obj["image"]}


def same(a: Mapping[str, Any] | None, b: Mapping[str, Any] | None) -> bool:
    return a is not None and b is not None and release_of(a) == release_of(b)


def canary_ready(dep: DeploymentState | None, release: Mapping[str, Any]) -> bool:
    return (
        dep is not None
        and dep.runs(release["version"], release["image"])
        and dep.replicas > 0
        and dep.rolled_out()
    )


def is_promoting(status: Mapping[str, Any]) -> bool:
    return bool(status.get("canary")) and same(status.get("canary"), status.get("stable"))


def unhandled_action(
    annotations: Mapping[str, str], key: str, handled: Mapping[str, str]
) -> str | None:
    """The value of a user-action annotation not acted on yet, or None.

    `handled` is status.actions: each value is acted on once, and the caller
    records it there in the same status write as the decision it caused.
    """
    value = annotations.get(key)
    if not value or handled.get(action_name(key)) == value:
        return None
    return value


def action_name(key: str) -> str:
    """The status.actions field of an annotation: modelops.io/promote -> promote."""
    return key.split("/", 1)[1]
