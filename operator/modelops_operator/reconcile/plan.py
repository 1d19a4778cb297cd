"""The data passed between the layers: what was observed, what to do.

`Observed` is everything the pure reconcile needs from the outside world,
gathered by the engine through the adapters. `Plan` is everything it decided:
children to apply, children to delete, the complete new status (written in
one patch) and the events that explain the decisions.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from modelops_operator.api.objects import DeploymentState, EventSpec, Owner


@dataclass(frozen=True)
class Observed:
    """The world as the engine saw it just before reconciling."""

    owner: Owner
    status: Mapping[str, Any] = field(default_factory=dict)
    annotations: Mapping[str, str] = field(default_factory=dict)
    deployments: Mapping[str, DeploymentState] = field(default_factory=dict)
    # For the "@latest-approved" channel: the version the registry resolved it to,
    # or the error that prevented it. Unused for pinned versions.
    resolved_version: str | None = None
    resolve_error: str | None = None
    # Canary analysis results (analysis.CheckResult) when the engine ran the
    # analysis for this reconcile because a step's interval was over; None
    # when no analysis was due.
    analysis: tuple[Any, ...] | None = None


@dataclass(frozen=True)
class ChildRef:
    """A child object to delete."""

    api_version: str
    kind: str
    name: str


@dataclass(frozen=True)
class Plan:
    """What one reconcile decided."""

    apply: tuple[dict[str, Any], ...] = ()
    delete: tuple[ChildRef, ...] = ()
    status: dict[str, Any] = field(default_factory=dict)
    events: tuple[EventSpec, ...] = ()
    # Seconds until the engine should look again even if nothing changes (None: rely on watches).
    requeue_after: float | None = None
    # Rollouts that ended in this reconcile (Promoted, RolledBack, Superseded), for metrics.
    outcomes: tuple[str, ...] = ()
