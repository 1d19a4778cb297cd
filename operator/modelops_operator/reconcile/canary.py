"""How a canary Decision (canary.py) becomes part of the reconcile's Plan: the
rollout's status fields, its conditions, and the stable/canary Deployments and
router objects in the order traffic and capacity must move.

Pure, like reconcile.py, which calls it while a rollout is in progress.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from modelops_operator import builders
from modelops_operator.api import conditions as cond
from modelops_operator.api import names
from modelops_operator.reconcile.plan import ChildRef, Observed
from modelops_operator.rollout import machine as canary
from modelops_operator.rollout.routers import router_for


def apply_canary(
    decision: canary.Decision,
    phase: str,
    summary: str,
    conditions: list[dict],
    status: dict[str, Any],
) -> tuple[str, str]:
    """Write the rollout's status parts; returns the phase and summary to report."""
    for key, value in (
        ("canary", decision.canary),
        ("rejected", decision.rejected),
        ("actions", decision.actions or None),
    ):
        if value is None:
            status.pop(key, None)
        else:
            status[key] = value
    if decision.phase is None or phase == "Failed":
        # No rollout in progress (or stable itself is failing): availability speaks.
        return phase, summary
    return decision.phase, decision.message or summary


def canary_conditions(
    decision: canary.Decision, conditions: list[dict], ts: str, generation: int
) -> list[dict]:
    if decision.progressing is not None:
        cstatus, reason, message = decision.progressing
        conditions = cond.set_condition(
            conditions, cond.PROGRESSING, cstatus, reason, message, now=ts, generation=generation
        )
    if decision.analysis_condition is not None:
        cstatus, reason, message = decision.analysis_condition
        conditions = cond.set_condition(
            conditions,
            cond.ANALYSIS_PASSED,
            cstatus,
            reason,
            message,
            now=ts,
            generation=generation,
        )
    return conditions


def canary_children(
    owner, spec: Mapping[str, Any], decision: canary.Decision, observed: Observed, delete: list
) -> list[dict[str, Any]]:
    """Stable and canary Deployments with the decided replicas, plus the router's objects."""
    stable = decision.stable
    children = [
        builders.deployment(
            owner,
            spec,
            track=names.TRACK_STABLE,
            version=stable["version"],
            image=stable["image"],
            replicas=decision.stable_replicas,
        )
    ]
    if decision.canary_release is not None:
        children.append(
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
        delete.append(
            ChildRef("apps/v1", "Deployment", names.child_name(owner.name, names.TRACK_CANARY))
        )
    router = router_for(spec)
    routes = router.objects(owner, spec, stable_version=stable["version"], weight=decision.weight)
    old_weight = int(((observed.status or {}).get("canary") or {}).get("weight") or 0)
    leaving = (
        decision.canary_release is None
        or decision.canary_replicas == 0
        or decision.weight < old_weight
    )
    if leaving:
        # Traffic leaves the canary before its pods do (rollback, promotion done);
        # on the way up, capacity comes first and traffic follows.
        return [*routes, *children]
    return [*children, *routes]
