"""The canary rollout state machine (pure).

Everything a rollout needs to resume lives in status (`canary`, `rejected`,
`actions`, `stable`, `previous`), so this module is a function of
(spec, old status, observed Deployments, annotations, analysis results, now)
to (new status parts, replica counts, routed weight, events). The engine
writes the new status first and only then applies children, so an operator
killed at any instant re-reads the same decision and repeats the same
idempotent applies: no duplicate children, no skipped or repeated step.

States, all read from status:

* no rollout: status.canary absent and stable == the spec's release;
* waiting for canary pods: status.canary with weight 0 at step 0 (the step
  timer starts only once the canary Deployment is available, so slow pods do
  not eat the first interval; the progress deadline runs from startedAt);
* at step i: status.canary.weight == steps[i]; the engine runs the analysis
  once `interval` has passed since stepStartedAt (see `analysis_due`);
* promoting: status.canary present and status.stable already names the
  canary's release; the stable Deployment rolls to it while the canary keeps
  serving, and the canary is removed only once stable is available on it;
* rolled back: status.rejected names the release the spec still asks for;
  it is not retried (the operator does not fight Git) until the spec changes
  or a new `modelops.io/promote` token arrives.

User actions (`modelops.io/promote`, `modelops.io/abort`) are acted on once
per new value: the value is recorded in status.actions in the same status
write as the decision it caused.

This module holds the transitions between those states. The rollout settings
come from the typed spec (api/spec.py), the reading of persisted releases
from state.py, the shape each state gives the status from decision.py, and
what a step's analysis results ask for (and when they are due) from
verdict.py.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from modelops_operator.api import conditions as cond
from modelops_operator.api import names
from modelops_operator.api.objects import DeploymentState, EventSpec
from modelops_operator.api.spec import Spec
from modelops_operator.api.times import parse_time
from modelops_operator.rollout import analysis
from modelops_operator.rollout import verdict as verdicts
from modelops_operator.rollout.decision import (
    RolloutDecision,
    StatusShaper,
    describe,
    rollback_message,
)
from modelops_operator.rollout.routers import TrafficRouter
from modelops_operator.rollout.state import (
    OUTCOME_PROMOTED,
    OUTCOME_ROLLED_BACK,
    OUTCOME_SUPERSEDED,
    Release,
    action_name,
    canary_ready,
    same,
    unhandled_action,
    version_image,
)


@dataclass(frozen=True)
class RolloutInputs:
    """What one reconcile observed besides spec and status: the state machine's other inputs."""

    stable: Release  # the release status.stable names (or the first one, just created)
    wanted: Release  # the release the spec asks for
    deployments: Mapping[str, DeploymentState]  # by track
    annotations: Mapping[str, str]
    results: Sequence[analysis.CheckResult] | None  # None: no analysis was due
    now: dt.datetime
    router: TrafficRouter


class _Machine:
    """The transitions; each returns the decision shaped by `StatusShaper`."""

    def __init__(self, spec: Spec, status: Mapping[str, Any], seen: RolloutInputs) -> None:
        self.spec, self.status = spec, status
        self.wanted, self.deployments = seen.wanted, seen.deployments
        self.results, self.now = seen.results, seen.now
        self.rollout = spec.rollout
        handled = status.get("actions") or {}
        self.promote = unhandled_action(seen.annotations, names.ANNOTATION_PROMOTE, handled)
        self.abort = unhandled_action(seen.annotations, names.ANNOTATION_ABORT, handled)
        # The actions acted on now are recorded in the same status write as their effect.
        actions = dict(handled)
        for key, value in (
            (names.ANNOTATION_PROMOTE, self.promote),
            (names.ANNOTATION_ABORT, self.abort),
        ):
            if value:
                actions[action_name(key)] = value
        self.d = RolloutDecision(
            stable=dict(seen.stable),
            previous=status.get("previous"),
            canary=None,
            rejected=None,
            actions=actions,
            stable_replicas=spec.replicas,
        )
        self.shape = StatusShaper(self.d, self.rollout, spec.replicas, seen.router, self.now)
        self.ts = self.shape.ts

    # The entry point: dispatch on the persisted state.
    def decide(self) -> RolloutDecision:
        canary = self.status.get("canary")
        rejected = self.status.get("rejected")
        if canary and same(canary, self.d.stable):
            return self.promoting(canary)
        if canary:
            return self.in_progress(dict(canary))
        if rejected and same(rejected, self.wanted) and not self.promote:
            return self.shape.rejected(rejected)
        if same(self.wanted, self.d.stable):
            return self.d  # nothing to roll out; a stale rejection is forgotten
        return self.start(self.wanted, retry=bool(rejected and same(rejected, self.wanted)))

    def start(self, release: Release, *, retry: bool = False) -> RolloutDecision:
        canary = {
            **version_image(release),
            "weight": 0,
            "step": 0,
            "startedAt": self.ts,
            "stepStartedAt": self.ts,
            "failures": 0,
            "checks": [],
        }
        why = f" (retry of a rejected version on {names.ANNOTATION_PROMOTE})" if retry else ""
        self.d.events.append(
            EventSpec(
                "Normal",
                cond.REASON_CANARY_STARTED,
                f"canary version {release['version']} (image {release['image']}) started beside "
                f"stable version {self.d.stable['version']}{why}; steps "
                f"{list(self.rollout.steps)}% every {self.rollout.interval.text}",
            )
        )
        return self.shape.waiting(canary)

    def in_progress(self, canary: dict[str, Any]) -> RolloutDecision:
        if same(self.wanted, self.d.stable):
            return self.rollback(
                canary,
                cond.REASON_SPEC_REVERTED,
                f"spec returned to stable version {self.d.stable['version']} during the rollout",
                reject=False,
            )
        if not same(self.wanted, canary):
            self.shape.record(
                canary, OUTCOME_SUPERSEDED, f"superseded by version {self.wanted['version']}"
            )
            return self.start(self.wanted)
        if self.abort:
            return self.rollback(
                canary,
                cond.REASON_ABORTED,
                f"aborted by annotation {names.ANNOTATION_ABORT}={self.abort}",
            )
        if self.promote:
            return self.begin_promotion(
                canary, f"promoted by annotation {names.ANNOTATION_PROMOTE}={self.promote}"
            )
        dep = self.deployments.get(names.TRACK_CANARY)
        if (
            dep is not None
            and dep.runs(canary["version"], canary["image"])
            and dep.progress_deadline_exceeded
        ):
            return self.rollback(
                canary,
                cond.REASON_PROGRESS_DEADLINE,
                f"canary pods did not become available within the progress deadline "
                f"({dep.available_replicas}/{dep.replicas} available)",
            )
        if not canary_ready(dep, canary):
            return self.pods_not_ready(canary)
        if canary["weight"] == 0:
            canary.update(weight=self.rollout.steps[0], step=0, stepStartedAt=self.ts)
            self.d.events.append(
                EventSpec("Normal", cond.REASON_CANARY_STEP, describe(canary, self.rollout))
            )
            return self.shape.at_step(canary)
        if self.results is not None:
            return self.judge(canary, self.results)
        return self.shape.at_step(canary)

    def pods_not_ready(self, canary: dict[str, Any]) -> RolloutDecision:
        started = parse_time(canary.get("startedAt")) or self.now
        waited = (self.now - started).total_seconds()
        if canary["weight"] == 0 and waited > self.rollout.progress_deadline.seconds:
            return self.rollback(
                canary,
                cond.REASON_PROGRESS_DEADLINE,
                f"canary pods not available {waited:.0f}s after the rollout started "
                f"(progress deadline {self.rollout.progress_deadline.seconds:g}s)",
            )
        if canary["weight"] == 0:
            return self.shape.waiting(canary)
        # A later step is scaling the canary up: hold the weight, no analysis
        # yet, and restart the step's clock: its interval measures the canary
        # at the new weight, which only exists once the new pods are ready (an
        # analysis of a step whose pods took most of the interval to start
        # judged mostly the previous split).
        canary["stepStartedAt"] = self.ts
        return self.shape.at_step(canary, note="waiting for canary pods")

    def judge(
        self, canary: dict[str, Any], results: Sequence[analysis.CheckResult]
    ) -> RolloutDecision:
        verdict = verdicts.judge(self.spec, canary, results, self.ts)
        canary = verdict.canary
        self.d.analysis_condition = verdict.condition
        if verdict.move == verdicts.PROMOTE:
            return self.begin_promotion(canary, verdict.why)
        if verdict.move == verdicts.ROLL_BACK:
            return self.rollback(canary, cond.REASON_ANALYSIS_FAILED, verdict.why)
        if verdict.move == verdicts.ADVANCE:
            event = EventSpec("Normal", cond.REASON_CANARY_STEP, describe(canary, self.rollout))
        else:
            event = EventSpec(
                "Warning",
                cond.REASON_ANALYSIS_FAILED,
                f"{describe(canary, self.rollout)}: {verdict.why}",
            )
        self.d.events.append(event)
        return self.shape.at_step(canary)

    def begin_promotion(self, canary: dict[str, Any], why: str) -> RolloutDecision:
        """Stable takes the canary's release; the canary keeps serving until stable is available."""
        old = self.d.stable
        self.d.previous = {k: old[k] for k in ("version", "image", "since") if k in old}
        self.d.stable = {**version_image(canary), "since": self.ts}
        canary["step"] = len(self.rollout.steps)
        canary["stepStartedAt"] = self.ts
        self.d.events.append(
            EventSpec(
                "Normal",
                cond.REASON_PROMOTING,
                f"promoting version {canary['version']} to stable (replacing {old['version']}): {why}",
            )
        )
        self.d.message = why
        return self.promoting(canary, why=why)

    def promoting(self, canary: Mapping[str, Any], why: str | None = None) -> RolloutDecision:
        canary = dict(canary)
        previous = self.d.previous
        if previous and same(self.wanted, previous) and not same(self.wanted, self.d.stable):
            # The spec went back during the promotion: the old stable is the instant target.
            self.d.stable = dict(previous)
            self.d.previous = None
            return self.rollback(
                canary,
                cond.REASON_SPEC_REVERTED,
                f"spec returned to version {previous['version']} during the promotion",
                reject=False,
            )
        dep = self.deployments.get(names.TRACK_STABLE)
        if dep is not None and dep.runs(canary["version"], canary["image"]) and dep.rolled_out():
            message = f"version {canary['version']} promoted to stable"
            self.shape.record(canary, OUTCOME_PROMOTED, why or message)
            self.d.events.append(EventSpec("Normal", cond.REASON_PROMOTED, message))
            self.d.analysis_condition = cond.true(cond.REASON_PROMOTED, message)
            return self.d  # canary gone from status: its Deployment is deleted
        return self.shape.promotion_pending(canary)

    def rollback(
        self, canary: Mapping[str, Any], reason: str, why: str, *, reject: bool = True
    ) -> RolloutDecision:
        """Weight 0, canary scaled to 0 (or removed when nothing is rejected), stable untouched."""
        message = rollback_message(canary, self.rollout, why)
        self.shape.record(canary, OUTCOME_ROLLED_BACK, why)
        self.d.events.append(EventSpec("Warning", cond.REASON_ROLLED_BACK, message))
        # An analysis failure already set its own, more precise AnalysisPassed condition.
        if self.d.analysis_condition is None or reason != cond.REASON_ANALYSIS_FAILED:
            self.d.analysis_condition = cond.false(reason, message)
        self.d.canary = None
        if not reject:
            return self.d
        rejected = {**version_image(canary), "reason": message, "at": self.ts}
        return self.shape.rejected(rejected)


def decide(spec: Spec, status: Mapping[str, Any], seen: RolloutInputs) -> RolloutDecision:
    """One step of the state machine. Pure; see the module docstring for the states.

    Raises SpecError for rollout settings it cannot use (reconcile reports them).
    """
    return _Machine(spec, status, seen).decide()
