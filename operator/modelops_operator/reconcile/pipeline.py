"""The pure heart of the operator: reconcile(spec, observed, now) -> Plan.

No I/O happens here. The engine gathers an `Observed` through the adapters,
calls `reconcile`, and carries out the returned `Plan`. Everything the
operator decides (which version is stable, the conditions, the events, the
history) is decided here, so it can be table-tested exactly.

The rules implemented here (the canary and drift issues add theirs beside):
* The first reconcile deploys the spec's version as stable, whatever the
  strategy: there is nothing to compare a canary with yet.
* Strategy Immediate: a new version or image replaces stable in place; the
  old one becomes `status.previous` (the instant rollback target).
* Ready reflects the child Deployment's real availability, read from its
  status; Degraded reports a lost availability or a missed progress deadline.
* Status keeps the fields other parts own (canary, drift, retraining,
  actions, rejected) untouched.
* Events are emitted only on transitions, so a level-based re-reconcile or an
  operator restart posts nothing new.

Beside it: health.py reads a release's phase, conditions and transition events
from its child Deployment; reconcile_canary.py turns a canary Decision into
status, conditions and ordered children.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Mapping
from typing import Any

from modelops_operator import builders
from modelops_operator.api import conditions as cond
from modelops_operator.api import names
from modelops_operator.api.objects import EventSpec
from modelops_operator.api.times import rfc3339
from modelops_operator.reconcile import canary as reconcile_canary
from modelops_operator.reconcile import health
from modelops_operator.reconcile.health import NORMAL, Release
from modelops_operator.reconcile.plan import ChildRef, Observed, Plan
from modelops_operator.rollout import machine as canary
from modelops_operator.rollout.routers import UnknownRouter, router_for

HISTORY_LIMIT = 10
RESOLVE_RETRY_SECONDS = 30.0


def strategy_of(spec: Mapping[str, Any]) -> str:
    return (spec.get("rollout") or {}).get("strategy") or "Immediate"


def wanted_version(spec: Mapping[str, Any], observed: Observed) -> tuple[str | None, str | None]:
    """The concrete version the spec asks for, or (None, error) when a channel did not resolve."""
    version = spec["model"]["version"]
    if version != names.CHANNEL_LATEST_APPROVED:
        return version, None
    if observed.resolved_version:
        return observed.resolved_version, None
    error = observed.resolve_error or "the registry returned no approved version"
    return None, f"cannot resolve {version} of model {spec['model']['name']}: {error}"


# --- strategies ---------------------------------------------------------------
# A strategy decides what happens when the wanted release differs from stable.
# It returns (new stable, new previous, history entry, events). Strategies are
# looked up in STRATEGIES; an unknown one is refused, never silently replaced.

StrategyResult = tuple[Release, Release | None, dict[str, Any] | None, list[EventSpec]]
Strategy = Callable[[Release, Release, str], StrategyResult]


def immediate(stable: Release, wanted: Release, ts: str) -> StrategyResult:
    """Replace stable in place; the old stable becomes the rollback target."""
    new_stable = {"version": wanted["version"], "image": wanted["image"], "since": ts}
    previous = {k: stable[k] for k in ("version", "image", "since") if k in stable}
    entry = {
        "version": wanted["version"],
        "image": wanted["image"],
        "outcome": "Deployed",
        "reason": f"Immediate rollout replacing version {stable['version']}",
        "time": ts,
    }
    message = (
        f"stable version {stable['version']} -> {wanted['version']} (image {wanted['image']}), "
        "rolled out in place (strategy Immediate)"
    )
    return new_stable, previous, entry, [EventSpec(NORMAL, cond.REASON_VERSION_CHANGED, message)]


STRATEGIES: dict[str, Strategy] = {"Immediate": immediate}
# Canary is not a one-shot Strategy: it is the state machine in canary.py,
# consulted on every reconcile while a rollout is in progress.
CANARY = "Canary"


# --- the reconcile --------------------------------------------------------------


def reconcile(spec: Mapping[str, Any], observed: Observed, now: dt.datetime) -> Plan:
    """Decide the children, the status and the events for one ModelDeployment."""
    ts = rfc3339(now)
    old_status = dict(observed.status or {})
    old_conditions = list(old_status.get("conditions") or [])
    generation = observed.owner.generation
    replicas = int(spec.get("replicas", 1))
    events: list[EventSpec] = []
    history = list(old_status.get("history") or [])
    stable: Release | None = old_status.get("stable")
    previous: Release | None = old_status.get("previous")
    problem: tuple[str, str] | None = None  # (reason, message) that makes the object Degraded
    requeue: float | None = None
    decision: canary.Decision | None = None

    version, resolve_error = wanted_version(spec, observed)
    if version is None:
        problem = (cond.REASON_RESOLVE_FAILED, str(resolve_error))
        requeue = RESOLVE_RETRY_SECONDS
    else:
        wanted: Release = {"version": version, "image": spec["image"]}
        if stable is None:
            stable = {**wanted, "since": ts}
            history.append({**wanted, "outcome": "Deployed", "reason": "Created", "time": ts})
            events.append(
                EventSpec(
                    NORMAL,
                    cond.REASON_CREATED,
                    f"deploying model {spec['model']['name']} version {version} "
                    f"(image {spec['image']}) as stable",
                )
            )
        elif strategy_of(spec) == CANARY:
            try:
                decision = canary.decide(
                    spec,
                    old_status,
                    stable=stable,
                    wanted=wanted,
                    deployments=observed.deployments,
                    annotations=observed.annotations,
                    results=list(observed.analysis) if observed.analysis is not None else None,
                    now=now,
                    router=router_for(spec),
                )
            except (UnknownRouter, ValueError) as exc:
                # A spec the operator cannot act on keeps the stable version serving.
                problem = (
                    cond.REASON_ROUTER_NOT_SUPPORTED,
                    f"{exc}; keeping stable version {stable['version']}",
                )
            else:
                stable, previous = decision.stable, decision.previous
                events.extend(decision.events)
                history.extend(decision.history)
                requeue = decision.requeue_after
                # Stable's availability is judged against the replicas it is given now.
                replicas = decision.stable_replicas
        elif (stable["version"], stable["image"]) != (version, spec["image"]):
            strategy = STRATEGIES.get(strategy_of(spec))
            if strategy is None:
                problem = (
                    "StrategyNotSupported",
                    f"spec.rollout.strategy {strategy_of(spec)!r} is not supported by this "
                    f"operator version; keeping stable version {stable['version']}",
                )
            else:
                stable, previous, entry, strategy_events = strategy(stable, wanted, ts)
                events.extend(strategy_events)
                if entry is not None:
                    history.append(entry)

    status: dict[str, Any] = dict(old_status)
    status["observedGeneration"] = generation
    if spec["model"]["version"] == names.CHANNEL_LATEST_APPROVED and version is not None:
        status["resolvedVersion"] = version
    apply: list[dict[str, Any]] = []
    delete: list[ChildRef] = []

    if stable is None:
        # Nothing can be served yet: no children, and say why.
        phase = "Failed"
        reason, message = problem or (cond.REASON_RESOLVE_FAILED, "no version to serve")
        new_conditions = old_conditions
        for ctype, cstatus in (
            (cond.READY, cond.FALSE),
            (cond.PROGRESSING, cond.FALSE),
            (cond.DEGRADED, cond.TRUE),
        ):
            new_conditions = cond.set_condition(
                new_conditions, ctype, cstatus, reason, message, now=ts, generation=generation
            )
        summary = message
    else:
        dep = observed.deployments.get(names.TRACK_STABLE)
        phase, computed, summary = health.availability(
            dep, stable, replicas, cond.is_true(old_conditions, cond.READY)
        )
        if problem is not None:
            computed[cond.DEGRADED] = (cond.TRUE, problem[0], problem[1])
            summary = f"{summary}; {problem[1]}"
        new_conditions = old_conditions
        for ctype in (cond.READY, cond.PROGRESSING, cond.DEGRADED):
            cstatus, reason, message = computed[ctype]
            new_conditions = cond.set_condition(
                new_conditions, ctype, cstatus, reason, message, now=ts, generation=generation
            )
        owner = observed.owner
        if decision is not None:
            phase, summary = reconcile_canary.apply_canary(
                decision, phase, summary, new_conditions, status
            )
            new_conditions = reconcile_canary.canary_conditions(
                decision, new_conditions, ts, generation
            )
            apply.extend(reconcile_canary.canary_children(owner, spec, decision, observed, delete))
        else:
            apply.append(
                builders.deployment(
                    owner,
                    spec,
                    track=names.TRACK_STABLE,
                    version=stable["version"],
                    image=stable["image"],
                    replicas=replicas,
                )
            )
            apply.append(builders.service(owner, version=stable["version"]))
            if strategy_of(spec) != CANARY:
                # Rollout state has no meaning under Immediate (e.g. after a strategy switch).
                status.pop("canary", None)
                status.pop("rejected", None)
            if strategy_of(spec) == "Immediate" and names.TRACK_CANARY in observed.deployments:
                # A canary left over from a strategy switch has no place under Immediate.
                delete.append(
                    ChildRef(
                        "apps/v1", "Deployment", names.child_name(owner.name, names.TRACK_CANARY)
                    )
                )

    events.extend(health.transition_events(old_conditions, new_conditions))
    status.update(
        {
            "phase": phase,
            "message": summary,
            "conditions": new_conditions,
            "history": history[-HISTORY_LIMIT:],
        }
    )
    if stable is not None:
        status["stable"] = stable
    if previous is not None:
        status["previous"] = previous
    return Plan(
        apply=tuple(apply),
        delete=tuple(delete),
        status=status,
        events=tuple(events),
        requeue_after=requeue,
        outcomes=tuple(decision.outcomes) if decision is not None else (),
    )
