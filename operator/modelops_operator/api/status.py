"""The ModelDeployment status as the operator writes it: its parts, typed, and the patch that writes it.

Status is persisted JSON, so it is handled as dicts; these TypedDicts name
every field the CRD's status schema has (crds/modeldeployments.yaml, which
is strict: a field not listed there is pruned by the API server) and say
which part of the operator decides it. The status is written whole, in one
merge patch guarded by the resourceVersion it was decided from
(`merge_patch` computes that patch).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, NotRequired, TypedDict

from modelops_operator.api.conditions import Condition


class Release(TypedDict):
    """status.stable / status.previous: what a track serves (the rollback target is one field away)."""

    version: str
    image: str
    since: NotRequired[str]


class Check(TypedDict):
    """One analysis check of the current canary step (status.canary.checks)."""

    name: str
    query: str
    verdict: str  # Pass, Fail, Inconclusive
    message: str
    step: int
    measuredAt: str
    value: NotRequired[float]  # left out when NaN or infinite (JSON has neither)


class CanaryStatus(TypedDict):
    """status.canary: the rollout in progress (rollout/)."""

    version: str
    image: str
    weight: int  # percent of traffic routed to the canary
    step: int  # index into spec.rollout.steps; len(steps) while promoting
    startedAt: str
    stepStartedAt: str
    failures: int  # failed or inconclusive analyses so far
    checks: list[Check]


class Rejected(TypedDict):
    """status.rejected: a release rolled back and not retried while the spec names it."""

    version: str
    image: str
    reason: str
    at: str


class HistoryEntry(TypedDict):
    version: str
    image: str
    outcome: str  # Deployed, Promoted, RolledBack, Superseded
    reason: str
    time: str


class DriftStatus(TypedDict):
    """status.drift: the latest drift measurement of the stable track (drift/)."""

    method: str
    score: float
    features: dict[str, float]
    samples: int
    insufficient: bool
    version: str  # the stable version measured; another version is measured afresh
    measuredAt: str
    prediction: NotRequired[float]


class PerformanceStatus(TypedDict, total=False):
    """status.performance: the latest live-quality measurement of the stable version (quality/)."""

    metric: str
    value: float  # absent when undefined (one class only) or no labels
    threshold: float
    estimated: dict[str, float]  # label-free CBPE estimates, never the verdict
    labelled: int
    predictions: int
    insufficient: bool
    version: str
    window: str
    measuredAt: str


class Candidate(TypedDict):
    """status.retraining.candidate: what the registry says a finished Job produced."""

    version: str
    approved: bool
    metrics: dict[str, float]
    gates: dict[str, dict[str, Any]]


class RetrainingStatus(TypedDict, total=False):
    """status.retraining: the latest retraining attempt (retraining/)."""

    job: str  # deterministic name: the same decision always names the same Job
    baseVersion: str
    reason: str  # Drift, Performance, Manual, Retry
    state: str  # Running, Succeeded, Failed
    triggeredAt: str
    attempts: int  # per base version
    attemptsByBase: list[
        dict[str, Any]
    ]  # {baseVersion, attempts}, latest last (a revert continues)
    jobUID: str  # the Job once seen created: never created again (vanished = RetrainingLost)
    finishedAt: str
    candidate: Candidate


class BatchRun(TypedDict, total=False):
    """status.batch.lastRun: one batch scoring run (batch/)."""

    job: str  # deterministic name (once) or the CronJob's Job (scheduled)
    jobUID: str  # the Job once seen created: never created again (vanished = Lost); for a
    # scheduled run, the Job it follows (an ended uid is never reported again)
    trigger: str  # Manual (annotation / `modelops batch run`) or Schedule
    request: str  # the modelops.io/batch-run value that asked for it
    version: str  # the stable version when the run was decided: every shard scores it
    state: str  # Running, Succeeded, Failed, Lost, NotOwned, Rejected
    startedAt: str
    finishedAt: str
    durationSeconds: float
    shards: int
    shardsReported: int  # shards whose pod left a summary (termination message)
    rows: int
    scored: int
    rejects: int
    output: str
    message: str


class BatchStatus(TypedDict, total=False):
    """status.batch: batch scoring (batch/)."""

    runs: int  # runs the operator started (numbers the Job names)
    schedule: dict[str, Any]  # {cronJob, version}: the CronJob and the version it pins
    lastRun: BatchRun  # the latest once-run (the annotation / `modelops batch run`)
    lastScheduledRun: BatchRun  # the latest run the schedule's CronJob started (trigger Schedule)
    message: str  # why spec.batch cannot be acted on (an object stored under an older CRD)


class Actions(TypedDict, total=False):
    """status.actions: the last value of each user-action annotation acted on (each acts once)."""

    promote: str
    abort: str
    retrain: str
    batch: str  # modelops.io/batch-run


class Status(TypedDict, total=False):
    phase: str  # Stable, Progressing, Promoting, RolledBack, Failed
    message: str
    observedGeneration: int
    resolvedVersion: str  # what @latest-approved resolved to
    stable: Release
    previous: Release
    canary: CanaryStatus
    rejected: Rejected
    actions: Actions
    conditions: list[Condition]
    drift: DriftStatus
    performance: PerformanceStatus
    retraining: RetrainingStatus
    batch: BatchStatus
    history: list[HistoryEntry]


def merge_patch(old: Mapping[str, Any], new: Mapping[str, Any]) -> dict[str, Any]:
    """The JSON merge patch (RFC 7386) that turns `old` into `new`, holding only what differs.

    A merge patch merges nested objects key by key, so a key that `new` no
    longer has must be sent as null, or a finished attempt's `finishedAt`
    would survive into the next attempt. Lists are replaced whole.
    """
    patch: dict[str, Any] = {}
    for key, value in new.items():
        before = old.get(key)
        if isinstance(value, Mapping) and isinstance(before, Mapping):
            inner = merge_patch(before, value)
            if inner:
                patch[key] = inner
        elif key not in old or before != value:
            patch[key] = _plain(value)
    for key in old:
        if key not in new:
            patch[key] = None
    return patch


def _plain(value: Any) -> Any:
    """A JSON value of `value` where a nested mapping sent whole drops its nulls (they mean "delete")."""
    if isinstance(value, Mapping):
        return {k: _plain(v) for k, v in value.items() if v is not None}
    return value
