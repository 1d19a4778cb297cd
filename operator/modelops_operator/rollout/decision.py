"""Status shaping for the canary rollout (pure).

The state machine (machine.py) decides *which* state a rollout is in; this
module says what each state looks like in the `RolloutDecision`: phase, message,
Progressing condition, replica split, routed weight, requeue delay, history
entries. Keeping the shape of every state in one place means a state reached
by two different transitions (for example "at step" after an advance and
after a tolerated failure) is reported identically, which the replay test
relies on: a restart must re-derive the very same status.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from modelops_operator.api import conditions as cond
from modelops_operator.api import names
from modelops_operator.api.conditions import Cond
from modelops_operator.api.objects import EventSpec
from modelops_operator.api.spec import RolloutSpec
from modelops_operator.api.times import parse_time, rfc3339
from modelops_operator.rollout.routers import TrafficRouter
from modelops_operator.rollout.state import (
    MIN_REQUEUE_SECONDS,
    POLL_SECONDS,
    Release,
    version_image,
)


@dataclass
class RolloutDecision:
    """What the state machine decided; reconcile turns it into status and children."""

    stable: Release
    previous: Release | None
    canary: dict[str, Any] | None
    rejected: dict[str, Any] | None
    actions: dict[str, str]
    stable_replicas: int
    # The release on the canary Deployment and its replicas; None: no canary Deployment.
    canary_release: Release | None = None
    canary_replicas: int = 0
    weight: int = 0  # traffic percent routed to the canary
    phase: str | None = None  # overrides the availability phase when set
    message: str | None = None
    progressing: Cond | None = None
    analysis_condition: Cond | None = None
    events: list[EventSpec] = field(default_factory=list)
    history: list[dict[str, Any]] = field(default_factory=list)
    outcomes: list[str] = field(default_factory=list)
    requeue_after: float | None = None


def describe(canary: Mapping[str, Any], rollout: RolloutSpec) -> str:
    return (
        f"canary version {canary['version']} at step {canary['step'] + 1}/{len(rollout.steps)} "
        f"(weight {canary['weight']}%)"
    )


def rollback_message(canary: Mapping[str, Any], rollout: RolloutSpec, why: str) -> str:
    # A rollback during promotion has step == len(steps): report it as the last step.
    step = min(canary.get("step", 0), len(rollout.steps) - 1) + 1
    return (
        f"canary version {canary['version']} rolled back at step "
        f"{step}/{len(rollout.steps)} (weight {canary.get('weight', 0)}%): {why}"
    )


class StatusShaper:
    """Writes the shape of one rollout state into the decision it holds (and only there)."""

    def __init__(
        self,
        decision: RolloutDecision,
        rollout: RolloutSpec,
        replicas: int,
        router: TrafficRouter,
        now: dt.datetime,
    ) -> None:
        self.d, self.rollout, self.router, self.now = decision, rollout, router, now
        self.replicas = replicas
        self.ts = rfc3339(now)

    def waiting(self, canary: dict[str, Any]) -> RolloutDecision:
        """Canary pods are starting: capacity for the first step, no traffic yet."""
        self.d.canary = canary
        self.d.phase = "Progressing"
        self.capacity(canary, self.rollout.steps[canary["step"]], routed=0)
        message = f"waiting for canary version {canary['version']} pods to become available"
        self._progressing(cond.REASON_CANARY_WAITING, message, POLL_SECONDS)
        return self.d

    def at_step(self, canary: dict[str, Any], note: str | None = None) -> RolloutDecision:
        """Traffic at the step's weight; the analysis runs once the interval is over."""
        self.d.canary = canary
        self.d.phase = "Progressing"
        self.capacity(canary, canary["weight"], routed=canary["weight"])
        started = parse_time(canary.get("stepStartedAt")) or self.now
        left = self.rollout.interval.seconds - (self.now - started).total_seconds()
        message = describe(canary, self.rollout)
        message += f"; {note}" if note else f"; analysis in {max(0.0, left):.0f}s"
        # Waiting for pods is polled; a running step wakes up when its interval ends.
        requeue = POLL_SECONDS if note else max(MIN_REQUEUE_SECONDS, left)
        self._progressing(cond.REASON_ANALYSIS_RUNNING, message, requeue)
        return self.d

    def promotion_pending(self, canary: dict[str, Any]) -> RolloutDecision:
        """Stable rolls to the canary's release while the canary keeps its weight."""
        self.d.canary = canary
        self.d.phase = "Promoting"
        # The canary keeps at least one pod so its traffic has somewhere to go.
        self.capacity(canary, canary["weight"] or 1, routed=canary["weight"])
        self.d.stable_replicas = self.replicas
        message = f"promoting version {canary['version']}: waiting for stable to be available on it"
        self._progressing(cond.REASON_PROMOTING, message, POLL_SECONDS)
        return self.d

    def rejected(self, rejected: Mapping[str, Any]) -> RolloutDecision:
        """Stable serves alone; the rejected release's Deployment stays at zero replicas."""
        self.d.rejected = dict(rejected)
        self.d.phase = "RolledBack"
        self.d.canary_release = version_image(rejected)
        self.d.canary_replicas = 0
        self.d.message = (
            f"serving stable version {self.d.stable['version']}; version {rejected['version']} "
            f"was rejected ({rejected.get('reason', '')}). It is retried when the spec changes "
            f"or on a new {names.ANNOTATION_PROMOTE} annotation value"
        )
        return self.d

    def capacity(self, canary: Mapping[str, Any], capacity_weight: int, *, routed: int) -> None:
        """Replicas sized for `capacity_weight`, traffic routed at `routed` percent."""
        stable_n, canary_n = self.router.replicas(self.replicas, capacity_weight)
        self.d.stable_replicas = stable_n
        self.d.canary_release = version_image(canary)
        self.d.canary_replicas = canary_n
        self.d.weight = routed

    def record(self, canary: Mapping[str, Any], outcome: str, reason: str) -> None:
        """One history entry and one counted outcome for the rollout that just ended."""
        self.d.history.append(
            {**version_image(canary), "outcome": outcome, "reason": reason, "time": self.ts}
        )
        self.d.outcomes.append(outcome)

    def _progressing(self, reason: str, message: str, requeue_after: float) -> None:
        self.d.message = message
        self.d.progressing = cond.true(reason, message)
        self.d.requeue_after = requeue_after
