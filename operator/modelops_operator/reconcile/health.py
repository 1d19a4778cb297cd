"""Health of the stable release, read from its child Deployment (two pipeline parts).

`report` sets the phase and the Ready / Progressing / Degraded conditions
from the Deployment's real availability (its status, as the Deployment
controller writes it): Ready only when every replica of the latest spec is
available, Degraded for a missed progress deadline, a lost availability, or
a problem an earlier part found (the stable version then keeps serving).
Then the canary rollout's state is laid over them (`outcome`): Ready means
"the release the spec asks for is serving", so it is False while a canary
is in progress and after a rollback; a rollback (the spec still names the
rejected version) is Degraded and no longer Progressing, reason RolledBack,
so `kubectl wait`, the chart's Argo CD health check and `modelops rollout
status` all read the same thing. The table is in docs/operator.md
("Conditions").
`tell` posts the Events their transitions deserve, only on transitions, so a
level-based re-reconcile or an operator restart posts nothing new.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from modelops_operator.api import conditions as cond
from modelops_operator.api import names
from modelops_operator.api.conditions import Cond, Condition
from modelops_operator.api.objects import DeploymentState, EventSpec
from modelops_operator.reconcile.draft import Draft, Inputs
from modelops_operator.rollout.decision import RolloutDecision

NORMAL = "Normal"
WARNING = "Warning"

Release = dict[str, Any]  # {"version", "image", "since"}
HEALTH = (cond.READY, cond.PROGRESSING, cond.DEGRADED)
# Ready reasons that `outcome` lays over an available stable track: an old
# Ready with one of them means the stable track was fully available then.
STABLE_AVAILABLE = (cond.REASON_AVAILABLE, cond.REASON_ROLLOUT_IN_PROGRESS, cond.REASON_REJECTED)


def report(inputs: Inputs, draft: Draft) -> Draft:
    """The part: phase, summary and the three health conditions."""
    stable = draft.stable
    draft = draft.with_status(observedGeneration=inputs.generation)
    if inputs.spec.model.follows_channel and draft.version is not None:
        draft = draft.with_status(resolvedVersion=draft.version)
    if stable is None:
        # Nothing can be served yet: no children, and say why.
        problem = draft.problem or cond.true(cond.REASON_RESOLVE_FAILED, "no version to serve")
        values = {
            cond.READY: cond.false(problem.reason, problem.message),
            cond.PROGRESSING: cond.false(problem.reason, problem.message),
            cond.DEGRADED: problem,
        }
        phase, summary = "Failed", problem.message
    else:
        dep = inputs.observed.deployments.get(names.TRACK_STABLE)
        ready = cond.get_condition(inputs.old_conditions, cond.READY) or {}
        was_ready = ready.get("reason") in STABLE_AVAILABLE
        phase, values, summary = availability(dep, stable, draft.replicas, was_ready)
        values = outcome(draft.rollout, values)
        if draft.problem is not None:
            values[cond.DEGRADED] = draft.problem
            summary = f"{summary}; {draft.problem.message}"
    for ctype in HEALTH:
        draft = draft.with_condition(inputs, ctype, values[ctype])
    return draft.but(phase=phase, summary=summary)


def tell(inputs: Inputs, draft: Draft) -> Draft:
    """The part: Events for the health transitions, and the serving fields of status."""
    draft = draft.tell(*transition_events(inputs.old_conditions, draft.conditions))
    draft = draft.with_status(phase=draft.phase, message=draft.summary)
    # A release is only ever replaced, never cleared: status keeps the last one
    # (previous stays the rollback target even when a decision has none to offer).
    if draft.stable is not None:
        draft = draft.with_status(stable=draft.stable)
    if draft.previous is not None:
        draft = draft.with_status(previous=draft.previous)
    return draft


def availability(
    dep: DeploymentState | None, release: Release, replicas: int, was_ready: bool
) -> tuple[str, dict[str, Cond], str]:
    """Phase, {condition type: value} and a summary, from the child Deployment."""
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


def outcome(decision: RolloutDecision | None, values: dict[str, Cond]) -> dict[str, Cond]:
    """The health conditions with the canary rollout's state laid over the stable track's.

    The stable track's own trouble (not available, progress deadline, lost
    pods) is more urgent than the rollout's state and is kept as it is; the
    rollout speaks only where the stable track is fine.
    """
    if decision is None:
        return values
    values = dict(values)
    message = decision.message or ""
    settled = values[cond.PROGRESSING].reason == cond.REASON_STABLE
    if decision.rejected is not None:
        # Rolled back: the spec names a version the operator will not serve.
        if values[cond.READY].status == cond.TRUE:
            values[cond.READY] = cond.false(cond.REASON_REJECTED, message)
        if settled:
            values[cond.PROGRESSING] = cond.false(cond.REASON_ROLLED_BACK, message)
        if values[cond.DEGRADED].status != cond.TRUE:
            values[cond.DEGRADED] = cond.true(cond.REASON_ROLLED_BACK, message)
    elif decision.canary is not None and values[cond.READY].status == cond.TRUE:
        # Stable serves, but not yet the release the spec asks for.
        serving = values[cond.READY].message
        values[cond.READY] = cond.false(cond.REASON_ROLLOUT_IN_PROGRESS, f"{serving}; {message}")
    return values


def transition_events(old: Sequence[Condition], new: Sequence[Condition]) -> list[EventSpec]:
    """Events for condition flips that users want to hear about."""
    events: list[EventSpec] = []
    ready_new = cond.get_condition(new, cond.READY)
    if ready_new and ready_new["status"] == cond.TRUE and not cond.is_true(old, cond.READY):
        events.append(EventSpec(NORMAL, cond.REASON_AVAILABLE, ready_new["message"]))
    degraded_old = cond.get_condition(old, cond.DEGRADED)
    degraded_new = cond.get_condition(new, cond.DEGRADED)
    if degraded_new and degraded_new["status"] == cond.TRUE:
        if degraded_new["reason"] == cond.REASON_ROLLED_BACK:
            pass  # the state machine posted its own RolledBack Warning, naming the check
        elif (
            not degraded_old
            or degraded_old.get("status") != cond.TRUE
            or (degraded_old.get("reason") != degraded_new["reason"])
        ):
            events.append(EventSpec(WARNING, degraded_new["reason"], degraded_new["message"]))
    elif (
        degraded_old
        and degraded_old.get("status") == cond.TRUE
        # Leaving a rollback is told by the rollout's own Events (CanaryStarted, Promoted).
        and degraded_old.get("reason") != cond.REASON_ROLLED_BACK
    ):
        message = degraded_new["message"] if degraded_new else "recovered"
        events.append(EventSpec(NORMAL, cond.REASON_RECOVERED, message))
    return events


def health(
    phase: str, *, ready: tuple, progressing: tuple, degraded: tuple, msg: str
) -> tuple[str, dict[str, Cond], str]:
    """(phase, {condition: value}, msg): the three health conditions always share one
    message, so each verdict names only statuses and reasons."""
    conds = {cond.READY: ready, cond.PROGRESSING: progressing, cond.DEGRADED: degraded}
    return phase, {kind: Cond(status, reason, msg) for kind, (status, reason) in conds.items()}, msg
