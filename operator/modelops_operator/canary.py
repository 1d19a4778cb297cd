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
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from modelops_operator import analysis, names
from modelops_operator import conditions as cond
from modelops_operator.durations import parse_duration
from modelops_operator.plan import DeploymentState, EventSpec
from modelops_operator.routers import TrafficRouter

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


@dataclass
class Decision:
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
    progressing: tuple[str, str, str] | None = None  # (status, reason, message)
    analysis_condition: tuple[str, str, str] | None = None
    events: list[EventSpec] = field(default_factory=list)
    history: list[dict[str, Any]] = field(default_factory=list)
    outcomes: list[str] = field(default_factory=list)
    requeue_after: float | None = None


# --- small helpers ----------------------------------------------------------------


def rfc3339(now: dt.datetime) -> str:
    return now.astimezone(dt.UTC).replace(microsecond=0).strftime("%Y-%m-%dT%H:%M:%SZ")


def parse_time(text: str | None) -> dt.datetime | None:
    if not text:
        return None
    return dt.datetime.strptime(text, "%Y-%m-%dT%H:%M:%SZ").replace(tzinfo=dt.UTC)


def release_of(obj: Mapping[str, Any] | None) -> tuple[str, str] | None:
    return (obj["version"], obj["image"]) if obj else None


def same(a: Mapping[str, Any] | None, b: Mapping[str, Any] | None) -> bool:
    return a is not None and b is not None and release_of(a) == release_of(b)


def new_token(annotations: Mapping[str, str], key: str, actions: dict[str, str]) -> str | None:
    """The annotation's value if it was not handled yet; records it as handled."""
    short = key.split("/", 1)[1]
    value = annotations.get(key)
    if not value or actions.get(short) == value:
        return None
    actions[short] = value
    return value


def canary_ready(dep: DeploymentState | None, release: Release) -> bool:
    return (
        dep is not None
        and dep.runs(release["version"], release["image"])
        and dep.replicas > 0
        and dep.rolled_out()
    )


def is_promoting(status: Mapping[str, Any]) -> bool:
    return bool(status.get("canary")) and same(status.get("canary"), status.get("stable"))


def analysis_due(
    spec: Mapping[str, Any],
    status: Mapping[str, Any],
    deployments: Mapping[str, DeploymentState],
    now: dt.datetime,
) -> bool:
    """True when the current step's interval is over and its canary pods are available.

    The engine asks this before reconciling, to query the metrics provider
    only when a verdict is needed.
    """
    canary = status.get("canary")
    if not canary or is_promoting(status) or not canary.get("weight"):
        return False
    if not canary_ready(deployments.get(names.TRACK_CANARY), canary):
        return False
    started = parse_time(canary.get("stepStartedAt"))
    interval = Rollout.of(spec).interval
    return started is None or (now - started).total_seconds() >= interval


def _describe(canary: Mapping[str, Any], rollout: Rollout) -> str:
    return (
        f"canary version {canary['version']} at step {canary['step'] + 1}/{len(rollout.steps)} "
        f"(weight {canary['weight']}%)"
    )


# --- transitions ------------------------------------------------------------------


class _Machine:
    def __init__(
        self,
        spec: Mapping[str, Any],
        status: Mapping[str, Any],
        stable: Release,
        wanted: Release,
        deployments: Mapping[str, DeploymentState],
        annotations: Mapping[str, str],
        results: list[analysis.CheckResult] | None,
        now: dt.datetime,
        router: TrafficRouter,
    ) -> None:
        self.spec, self.status, self.wanted = spec, status, wanted
        self.deployments, self.results, self.now, self.router = deployments, results, now, router
        self.ts = rfc3339(now)
        self.rollout = Rollout.of(spec)
        self.actions = dict(status.get("actions") or {})
        self.promote = new_token(annotations, names.ANNOTATION_PROMOTE, self.actions)
        self.abort = new_token(annotations, names.ANNOTATION_ABORT, self.actions)
        self.d = Decision(
            stable=dict(stable),
            previous=status.get("previous"),
            canary=None,
            rejected=None,
            actions=self.actions,
            stable_replicas=self.rollout.replicas,
        )

    # The entry point: dispatch on the persisted state.
    def decide(self) -> Decision:
        canary = self.status.get("canary")
        rejected = self.status.get("rejected")
        if canary and same(canary, self.d.stable):
            return self.promoting(canary)
        if canary:
            return self.in_progress(dict(canary))
        if rejected and same(rejected, self.wanted) and not self.promote:
            return self.stay_rejected(rejected)
        if same(self.wanted, self.d.stable):
            return self.d  # nothing to roll out; a stale rejection is forgotten
        return self.start(self.wanted, retry=bool(rejected and same(rejected, self.wanted)))

    def start(self, release: Release, *, retry: bool = False) -> Decision:
        canary = {
            "version": release["version"],
            "image": release["image"],
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
                f"{list(self.rollout.steps)}% every {self.spec.get('rollout', {}).get('interval', DEFAULT_INTERVAL)}",
            )
        )
        return self.waiting(canary)

    def waiting(self, canary: dict[str, Any]) -> Decision:
        """Canary pods are starting: capacity for the first step, no traffic yet."""
        self.d.canary = canary
        self.d.phase = "Progressing"
        self._capacity(canary, self.rollout.steps[canary["step"]], routed=0)
        message = f"waiting for canary version {canary['version']} pods to become available"
        self.d.message = message
        self.d.progressing = (cond.TRUE, cond.REASON_CANARY_WAITING, message)
        self.d.requeue_after = POLL_SECONDS
        return self.d

    def in_progress(self, canary: dict[str, Any]) -> Decision:
        if same(self.wanted, self.d.stable):
            return self.rollback(
                canary,
                cond.REASON_SPEC_REVERTED,
                f"spec returned to stable version {self.d.stable['version']} during the rollout",
                reject=False,
            )
        if not same(self.wanted, canary):
            self._record(
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
            started = parse_time(canary.get("startedAt")) or self.now
            waited = (self.now - started).total_seconds()
            if canary["weight"] == 0 and waited > self.rollout.progress_deadline:
                return self.rollback(
                    canary,
                    cond.REASON_PROGRESS_DEADLINE,
                    f"canary pods not available {waited:.0f}s after the rollout started "
                    f"(progress deadline {self.rollout.progress_deadline:g}s)",
                )
            if canary["weight"] == 0:
                return self.waiting(canary)
            # A later step is scaling the canary up: hold the weight, no analysis yet.
            return self.at_step(canary, note="waiting for canary pods")
        if canary["weight"] == 0:
            canary.update(weight=self.rollout.steps[0], step=0, stepStartedAt=self.ts)
            self.d.events.append(
                EventSpec("Normal", cond.REASON_CANARY_STEP, f"{_describe(canary, self.rollout)}")
            )
            return self.at_step(canary)
        if self.results is not None:
            return self.judge(canary, self.results)
        return self.at_step(canary)

    def at_step(self, canary: dict[str, Any], note: str | None = None) -> Decision:
        self.d.canary = canary
        self.d.phase = "Progressing"
        self._capacity(canary, canary["weight"], routed=canary["weight"])
        started = parse_time(canary.get("stepStartedAt")) or self.now
        left = self.rollout.interval - (self.now - started).total_seconds()
        message = f"{_describe(canary, self.rollout)}"
        message += f"; {note}" if note else f"; analysis in {max(0.0, left):.0f}s"
        self.d.message = message
        self.d.progressing = (cond.TRUE, cond.REASON_ANALYSIS_RUNNING, message)
        self.d.requeue_after = POLL_SECONDS if note else max(MIN_REQUEUE_SECONDS, left)
        return self.d

    def judge(self, canary: dict[str, Any], results: list[analysis.CheckResult]) -> Decision:
        _, _, limit = analysis.settings_of(self.spec)
        step = canary["step"]
        canary["checks"] = [r.to_status(step=step, measured_at=self.ts) for r in results]
        if analysis.passed(results):
            self.d.analysis_condition = (
                cond.TRUE,
                cond.REASON_ANALYSIS_PASSED,
                f"step {step + 1}/{len(self.rollout.steps)} passed: "
                + ("; ".join(r.message for r in results) or "no checks configured"),
            )
            if step + 1 >= len(self.rollout.steps):
                return self.begin_promotion(canary, "every step passed its analysis")
            canary.update(step=step + 1, weight=self.rollout.steps[step + 1], stepStartedAt=self.ts)
            self.d.events.append(
                EventSpec("Normal", cond.REASON_CANARY_STEP, _describe(canary, self.rollout))
            )
            return self.at_step(canary)
        worst = analysis.worst(results)
        reason_text = worst.message if worst else "analysis failed"
        failures = int(canary.get("failures") or 0) + 1
        canary["failures"] = failures
        summary = f"{reason_text} (failed or inconclusive analyses: {failures}/{limit})"
        self.d.analysis_condition = (cond.FALSE, cond.REASON_ANALYSIS_FAILED, summary)
        if failures >= limit:
            return self.rollback(canary, cond.REASON_ANALYSIS_FAILED, summary)
        # Tolerated: stay at this step and measure again after another interval.
        canary["stepStartedAt"] = self.ts
        self.d.events.append(
            EventSpec(
                "Warning",
                cond.REASON_ANALYSIS_FAILED,
                f"{_describe(canary, self.rollout)}: {summary}",
            )
        )
        return self.at_step(canary)

    def begin_promotion(self, canary: dict[str, Any], why: str) -> Decision:
        """Stable takes the canary's release; the canary keeps serving until stable is available."""
        old = self.d.stable
        self.d.previous = {k: old[k] for k in ("version", "image", "since") if k in old}
        self.d.stable = {"version": canary["version"], "image": canary["image"], "since": self.ts}
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

    def promoting(self, canary: Mapping[str, Any], why: str | None = None) -> Decision:
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
            self._record(canary, OUTCOME_PROMOTED, why or message)
            self.d.events.append(EventSpec("Normal", cond.REASON_PROMOTED, message))
            self.d.analysis_condition = (cond.TRUE, cond.REASON_PROMOTED, message)
            return self.d  # canary gone from status: its Deployment is deleted
        self.d.canary = canary
        self.d.phase = "Promoting"
        self.d.stable_replicas = self.rollout.replicas
        self.d.canary_release = {"version": canary["version"], "image": canary["image"]}
        self.d.canary_replicas = self.router.replicas(self.rollout.replicas, canary["weight"] or 1)[
            1
        ]
        self.d.weight = canary["weight"]
        message = f"promoting version {canary['version']}: waiting for stable to be available on it"
        self.d.message = message
        self.d.progressing = (cond.TRUE, cond.REASON_PROMOTING, message)
        self.d.requeue_after = POLL_SECONDS
        return self.d

    def rollback(
        self, canary: Mapping[str, Any], reason: str, why: str, *, reject: bool = True
    ) -> Decision:
        """Weight 0, canary scaled to 0 (or removed when nothing is rejected), stable untouched."""
        message = (
            f"canary version {canary['version']} rolled back at step "
            f"{min(canary.get('step', 0), len(self.rollout.steps) - 1) + 1}/{len(self.rollout.steps)} "
            f"(weight {canary.get('weight', 0)}%): {why}"
        )
        self._record(canary, OUTCOME_ROLLED_BACK, why)
        self.d.events.append(EventSpec("Warning", cond.REASON_ROLLED_BACK, message))
        if self.d.analysis_condition is None or reason != cond.REASON_ANALYSIS_FAILED:
            self.d.analysis_condition = (cond.FALSE, reason, message)
        self.d.canary = None
        if reject:
            self.d.rejected = {
                "version": canary["version"],
                "image": canary["image"],
                "reason": message,
                "at": self.ts,
            }
            return self.stay_rejected(self.d.rejected)
        return self.d

    def stay_rejected(self, rejected: Mapping[str, Any]) -> Decision:
        self.d.rejected = dict(rejected)
        self.d.phase = "RolledBack"
        self.d.canary_release = {"version": rejected["version"], "image": rejected["image"]}
        self.d.canary_replicas = 0
        self.d.message = (
            f"serving stable version {self.d.stable['version']}; version {rejected['version']} "
            f"was rejected ({rejected.get('reason', '')}). It is retried when the spec changes "
            f"or on a new {names.ANNOTATION_PROMOTE} annotation value"
        )
        return self.d

    # --- bookkeeping -----------------------------------------------------------

    def _capacity(self, canary: Mapping[str, Any], capacity_weight: int, *, routed: int) -> None:
        stable_n, canary_n = self.router.replicas(self.rollout.replicas, capacity_weight)
        self.d.stable_replicas = stable_n
        self.d.canary_release = {"version": canary["version"], "image": canary["image"]}
        self.d.canary_replicas = canary_n
        self.d.weight = routed

    def _record(self, canary: Mapping[str, Any], outcome: str, reason: str) -> None:
        self.d.history.append(
            {
                "version": canary["version"],
                "image": canary["image"],
                "outcome": outcome,
                "reason": reason,
                "time": self.ts,
            }
        )
        self.d.outcomes.append(outcome)


def decide(
    spec: Mapping[str, Any],
    status: Mapping[str, Any],
    *,
    stable: Release,
    wanted: Release,
    deployments: Mapping[str, DeploymentState],
    annotations: Mapping[str, str],
    results: list[analysis.CheckResult] | None,
    now: dt.datetime,
    router: TrafficRouter,
) -> Decision:
    """One step of the state machine. Pure; see the module docstring for the states."""
    machine = _Machine(spec, status, stable, wanted, deployments, annotations, results, now, router)
    return machine.decide()
