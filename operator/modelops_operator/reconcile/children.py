"""The children the serving release needs, in the order traffic and capacity must move (a pipeline part).

Without a rollout in progress: the stable Deployment and the Service in
front of it (and, under Immediate, no leftover canary). During a canary
rollout the state machine's decision (rollout/machine.py) becomes the
rollout's status fields, its conditions, the stable and canary Deployments
with the decided replicas, and the router's objects: on the way up,
capacity comes first and traffic follows; on the way out (rollback,
promotion done) traffic leaves the canary before its pods do.
"""

from __future__ import annotations

from typing import Any

from modelops_operator import builders
from modelops_operator.api import conditions as cond
from modelops_operator.api import names
from modelops_operator.api.spec import CANARY, IMMEDIATE
from modelops_operator.reconcile.draft import Draft, Inputs
from modelops_operator.reconcile.plan import ChildRef
from modelops_operator.rollout.decision import RolloutDecision
from modelops_operator.rollout.routers import router_for


def children(inputs: Inputs, draft: Draft) -> Draft:
    """The part: children to apply and delete (nothing while no version can be served)."""
    if draft.stable is None:
        return draft
    if draft.rollout is not None:
        return _rollout(inputs, draft, draft.rollout)
    spec, owner, stable = inputs.spec, inputs.observed.owner, draft.stable
    draft = draft.but(
        apply=(
            *draft.apply,
            builders.deployment(
                owner,
                spec,
                track=names.TRACK_STABLE,
                version=stable["version"],
                image=stable["image"],
                replicas=draft.replicas,
            ),
            builders.service(owner, version=stable["version"]),
        )
    )
    if spec.strategy != CANARY:
        # Rollout state has no meaning under Immediate (e.g. after a strategy switch).
        draft = draft.with_status(canary=None, rejected=None)
    if spec.strategy == IMMEDIATE and names.TRACK_CANARY in inputs.observed.deployments:
        # A canary left over from a strategy switch has no place under Immediate.
        draft = draft.but(delete=(*draft.delete, _canary_ref(owner.name)))
    return draft


def _rollout(inputs: Inputs, draft: Draft, decision: RolloutDecision) -> Draft:
    draft = draft.with_status(
        canary=decision.canary, rejected=decision.rejected, actions=decision.actions or None
    )
    if decision.phase is not None and draft.phase != "Failed":
        # A rollout in progress speaks for the phase, unless stable itself is failing.
        draft = draft.but(phase=decision.phase, summary=decision.message or draft.summary)
    if decision.progressing is not None:
        draft = draft.with_condition(inputs, cond.PROGRESSING, decision.progressing)
    if decision.analysis_condition is not None:
        draft = draft.with_condition(inputs, cond.ANALYSIS_PASSED, decision.analysis_condition)
    objects, delete = _rollout_children(inputs, decision)
    return draft.but(apply=(*draft.apply, *objects), delete=(*draft.delete, *delete))


def _rollout_children(
    inputs: Inputs, decision: RolloutDecision
) -> tuple[list[dict[str, Any]], list[ChildRef]]:
    """Stable and canary Deployments with the decided replicas, plus the router's objects."""
    spec, owner, observed = inputs.spec, inputs.observed.owner, inputs.observed
    stable = decision.stable
    deployments = [
        builders.deployment(
            owner,
            spec,
            track=names.TRACK_STABLE,
            version=stable["version"],
            image=stable["image"],
            replicas=held_stable_replicas(inputs, decision),
        )
    ]
    delete: list[ChildRef] = []
    if decision.canary_release is not None:
        deployments.append(
            builders.deployment(
                owner,
                spec,
                track=names.TRACK_CANARY,
                version=decision.canary_release["version"],
                image=decision.canary_release["image"],
                replicas=decision.canary_replicas,
            )
        )
    elif names.TRACK_CANARY in observed.deployments:
        delete.append(_canary_ref(owner.name))
    routes = router_for(spec).objects(
        owner, spec, stable_version=stable["version"], weight=decision.weight
    )
    old_weight = int((inputs.old_status.get("canary") or {}).get("weight") or 0)
    leaving = (
        decision.canary_release is None
        or decision.canary_replicas == 0
        or decision.weight < old_weight
    )
    if leaving:
        # Traffic leaves the canary before its pods do (rollback, promotion done);
        # on the way up, capacity comes first and traffic follows.
        return [*routes, *deployments], delete
    return [*deployments, *routes], delete


def held_stable_replicas(inputs: Inputs, decision: RolloutDecision) -> int:
    """The stable replicas to ask for: the decision's, but no capacity dip on the way up.

    A step that moves pods from stable to the canary would otherwise scale
    stable down at once while the canary's new pods are still pulling,
    starting and loading their model: for that minute the Service has fewer
    ready pods than spec.replicas. So stable keeps enough pods that stable
    plus the canary's *available* pods still make spec.replicas, and gives
    them up as the canary's become available (each change of the canary
    Deployment's status wakes a reconcile). Never more than stable runs now:
    this only delays a scale-down, it never scales stable up.
    """
    wanted = decision.stable_replicas
    release = decision.canary_release
    if release is None:
        return wanted
    canary = inputs.observed.deployments.get(names.TRACK_CANARY)
    available = (
        canary.available_replicas
        if canary is not None and canary.runs(release["version"], release["image"])
        else 0
    )
    current = inputs.observed.deployments.get(names.TRACK_STABLE)
    running = current.replicas if current is not None else wanted
    floor = max(0, inputs.spec.replicas - available)
    return max(wanted, min(running, floor))


def _canary_ref(md_name: str) -> ChildRef:
    return ChildRef("apps/v1", "Deployment", names.child_name(md_name, names.TRACK_CANARY))
