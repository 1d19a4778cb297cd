"""What a canary rollout is made of: its settings and how its persisted status reads (pure).

The state machine (canary.py), the status shaping (canary_status.py) and the
analysis verdicts (canary_verdict.py) all read the spec's rollout settings and
the releases recorded in status the same way; this module is that one shared
reading, so the three cannot drift apart on what "the same release" or "the
canary is ready" means.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from modelops_operator.api.durations import parse_duration
from modelops_operator.api.objects import DeploymentState

Release = dict[str, Any]

DEFAULT_STEPS = (10, 25, 50)
DEFAULT_INTERVAL = "60s"
DEFAULT_PROGRESS_DEADLINE = "10m"
# How often to look again while waiting for pods or for stable to finish promotion
# (Deployment watch events usually arrive sooner).
POLL_SECONDS = 2.0
MIN_REQUEUE_SECONDS = 0.5

OUTCOME_PROMOTED = "Promoted"
OUTCOME_ROLLED_BACK = "RolledBack"
OUTCOME_SUPERSEDED = "Superseded"


@dataclass(frozen=True)
class Rollout:
    """The rollout settings of a spec with the CRD defaults filled in."""

    steps: tuple[int, ...]
    interval: float
    progress_deadline: float
    replicas: int

    @classmethod
    def of(cls, spec: Mapping[str, Any]) -> Rollout:
        rollout = spec.get("rollout") or {}
        steps = tuple(int(s) for s in (rollout.get("steps") or DEFAULT_STEPS))
        if any(not 1 <= s <= 99 for s in steps) or list(steps) != sorted(set(steps)):
            raise ValueError(
                f"spec.rollout.steps must be strictly ascending within 1..99, got {list(steps)}"
            )
        return cls(
            steps=steps,
            interval=parse_duration(
                rollout.get("interval") or DEFAULT_INTERVAL, field="spec.rollout.interval"
            ),
            progress_deadline=parse_duration(
                rollout.get("progressDeadline") or DEFAULT_PROGRESS_DEADLINE,
                field="spec.rollout.progressDeadline",
            ),
            replicas=int(spec.get("replicas", 1)),
        )


# --- releases, as status stores them ------------------------------------------------


def release_of(obj: Mapping[str, Any] | None) -> tuple[str, str] | None:
    return (obj["version"], obj["image"]) if obj else None


def version_image(obj: Mapping[str, Any]) -> Release:
    """Only the version and image of a status entry (canary, rejected, stable...)."""
    return {"version": obj["version"], "image": obj["image"]}


def same(a: Mapping[str, Any] | None, b: Mapping[str, Any] | None) -> bool:
    return a is not None and b is not None and release_of(a) == release_of(b)


def canary_ready(dep: DeploymentState | None, release: Release) -> bool:
    return (
        dep is not None
        and dep.runs(release["version"], release["image"])
        and dep.replicas > 0
        and dep.rolled_out()
    )


def is_promoting(status: Mapping[str, Any]) -> bool:
    return bool(status.get("canary")) and same(status.get("canary"), status.get("stable"))


def new_token(annotations: Mapping[str, str], key: str, actions: dict[str, str]) -> str | None:
    """The annotation's value if it was not handled yet; records it as handled."""
    short = key.split("/", 1)[1]
    value = annotations.get(key)
    if not value or actions.get(short) == value:
        return None
    actions[short] = value
    return value
