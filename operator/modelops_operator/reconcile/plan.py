"""What goes into the pure reconcile and what comes out of it.

`Observed` is everything the reconcile needs from the outside world, gathered
by the engine (runtime/observe.py) through the adapters and providers: the
object's status and annotations, its child Deployments, what a channel
resolved to, and the measurements that were due (a canary step's analysis,
a drift measurement, the retraining Job and its candidate). `Plan` is
everything it decided: the complete new status (written in one patch before
anything else), children to apply and delete, Jobs to create, the Events
that explain the decisions, and when to look again.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from modelops_operator.api.objects import DeploymentState, EventSpec, Owner
from modelops_operator.batch.scheduled import ScheduledJob
from modelops_operator.batch.summary import ShardReport
from modelops_operator.quality.source import QualityMeasurement
from modelops_operator.retraining.state import JOB_ABSENT
from modelops_operator.rollout.analysis import CheckResult

if TYPE_CHECKING:
    from modelops_features.drift import DriftReport  # numpy: see drift/counts.py


@dataclass(frozen=True)
class DriftMeasurement:
    """A drift measurement of the stable track, or why it could not be taken."""

    version: str  # the stable version measured
    report: DriftReport | None  # None: not measured (error says why)
    error: str | None = None


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
    # Canary analysis results when a step's interval was over; None when no
    # analysis was due.
    analysis: tuple[CheckResult, ...] | None = None
    # A drift measurement finished since the last reconcile; None when none was due
    # (or it is still being taken).
    drift: DriftMeasurement | None = None
    # A live-quality measurement finished since the last reconcile; None likewise.
    performance: QualityMeasurement | None = None
    # The retraining Job status.retraining names, while it runs: its state
    # (retraining.outcome.job_state, or Lost / Foreign / Rejected) and, once it finished, the version the
    # registry holds for it with its metadata.
    job_state: str = JOB_ABSENT
    # That Job's uid when it is ours; what is known of a foreign or refused one.
    job_uid: str | None = None
    job_note: str = ""
    candidate: tuple[str, Mapping[str, Any]] | None = None
    # The batch Job status.batch.lastRun names while it runs, read like the retraining
    # Job (state, uid, note) and, once it ended, its pods' shard summaries.
    batch_job_state: str = JOB_ABSENT
    batch_job_uid: str | None = None
    batch_job_note: str = ""
    batch_reports: tuple[ShardReport, ...] | None = None
    # The Jobs the schedule's CronJob owns (oldest first, finished ones not yet
    # reported with their shard summaries); None when they were not read this pass.
    scheduled_jobs: tuple[ScheduledJob, ...] | None = None


@dataclass(frozen=True)
class Policy:
    """Site policy given to the operator (its flags), which no spec may override."""

    # ServiceAccounts retraining pods may run as; None: not restricted.
    retraining_service_accounts: tuple[str, ...] | None = None


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
    # Created when absent, never updated (retraining Jobs: an existing one is adopted).
    create: tuple[dict[str, Any], ...] = ()
    status: dict[str, Any] = field(default_factory=dict)
    events: tuple[EventSpec, ...] = ()
    # Seconds until the engine should look again even if nothing changes (None: rely on watches).
    requeue_after: float | None = None
    # Rollouts that ended in this reconcile (Promoted, RolledBack, Superseded), for metrics.
    outcomes: tuple[str, ...] = ()
    # A retraining Job's outcome recorded in this reconcile (approved, rejected, failed).
    retraining_outcome: str | None = None
