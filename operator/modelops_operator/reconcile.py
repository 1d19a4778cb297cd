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
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Mapping
from typing import Any

from modelops_operator import builders, canary, names
from modelops_operator import conditions as cond
from modelops_operator.plan import ChildRef, DeploymentState, EventSpec, Observed, Plan
from modelops_operator.routers import UnknownRouter, router_for

HISTORY_LIMIT = 10
RESOLVE_RETRY_SECONDS = 30.0

NORMAL = "Normal"
WARNING = "Warning"

Release = dict[str, Any]  # {"version", "image", "since"}


def rfc3339(now: dt.datetime) -> str:
    """Kubernetes' timestamp format (UTC, whole seconds)."""
    return now.astimezone(dt.UTC).replace(microsecond=0).strftime("%Y-%m-%dT%H:%M:%SZ")


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


# --- availability -------------------------------------------------------------


def _availability(
    dep: DeploymentState | None, release: Release, replicas: int, was_ready: bool
) -> tuple[str, dict[str, tuple[str, str, str]], str]:
    """Phase, {condition: (status, reason, message)} and a summary, from the child Deployment."""
    version, image = release["version"], release["image"]
    if replicas == 0 and dep is not None and dep.runs(version, image):
        msg = f"version {version} is scaled to zero replicas"
        return _health(
            "Stable",
            ready=(cond.FALSE, cond.REASON_SCALED_TO_ZERO),
            progressing=(cond.FALSE, cond.REASON_STABLE),
            degraded=(cond.FALSE, cond.REASON_HEALTHY),
            msg=msg,
        )
    if dep is None or not dep.runs(version, image) or dep.observed_generation < dep.generation:
        msg = f"rolling out version {version}"
        return _health(
            "Progressing",
            ready=(cond.FALSE, cond.REASON_ROLLING_OUT),
            progressing=(cond.TRUE, cond.REASON_ROLLING_OUT),
            degraded=(cond.FALSE, cond.REASON_HEALTHY),
            msg=msg,
        )
    counts = f"{dep.available_replicas}/{replicas} replicas available"
    if dep.progress_deadline_exceeded:
        msg = f"version {version} did not become available within the progress deadline ({counts})"
        return _health(
            "Failed",
            ready=(cond.FALSE, cond.REASON_PROGRESS_DEADLINE),
            progressing=(cond.FALSE, cond.REASON_PROGRESS_DEADLINE),
            degraded=(cond.TRUE, cond.REASON_PROGRESS_DEADLINE),
            msg=msg,
        )
    if dep.rolled_out():
        msg = f"serving version {version} ({counts})"
        return _health(
            "Stable",
            ready=(cond.TRUE, cond.REASON_AVAILABLE),
            progressing=(cond.FALSE, cond.REASON_STABLE),
            degraded=(cond.FALSE, cond.REASON_HEALTHY),
            msg=msg,
        )
    if was_ready and dep.updated_replicas >= replicas:
        # It had been fully available on this version and lost pods since.
        msg = f"version {version} lost availability ({counts})"
        return _health(
            "Stable",
            ready=(cond.FALSE, cond.REASON_UNAVAILABLE),
            progressing=(cond.FALSE, cond.REASON_STABLE),
            degraded=(cond.TRUE, cond.REASON_UNAVAILABLE),
            msg=msg,
        )
    msg = f"rolling out version {version} ({counts})"
    return _health(
        "Progressing",
        ready=(cond.FALSE, cond.REASON_ROLLING_OUT),
        progressing=(cond.TRUE, cond.REASON_ROLLING_OUT),
        degraded=(cond.FALSE, cond.REASON_HEALTHY),
        msg=msg,
    )


def _transition_events(old: list[dict], new: list[dict]) -> list[EventSpec]:
    """Events for condition flips that users want to hear about."""
    events: list[EventSpec] = []
    ready_new = cond.get_condition(new, cond.READY)
    if ready_new and ready_new["status"] == cond.TRUE and not cond.is_true(old, cond.READY):
        events.append(EventSpec(NORMAL, cond.REASON_AVAILABLE, ready_new["message"]))
    degraded_old = cond.get_condition(old, cond.DEGRADED)
    degraded_new = cond.get_condition(new, cond.DEGRADED)
    if degraded_new and degraded_new["status"] == cond.TRUE:
        if (
            not degraded_old
            or degraded_old.get("status") != cond.TRUE
            or (degraded_old.get("reason") != degraded_new["reason"])
        ):
            events.append(EventSpec(WARNING, degraded_new["reason"], degraded_new["message"]))
    elif degraded_old and degraded_old.get("status") == cond.TRUE:
        message = degraded_new["message"] if degraded_new else "recovered"
        events.append(EventSpec(NORMAL, cond.REASON_RECOVERED, message))
    return events


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
        phase, computed, summary = _availability(
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
            phase, summary = _apply_canary(decision, phase, summary, new_conditions, status)
            new_conditions = _canary_conditions(decision, new_conditions, ts, generation)
            apply.extend(_canary_children(owner, spec, decision, observed, delete))
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

    events.extend(_transition_events(old_conditions, new_conditions))
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


# --- canary glue ------------------------------------------------------------------


def _apply_canary(
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


def _canary_conditions(
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


def _canary_children(
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


def _health(phase: str, *, ready: tuple, progressing: tuple, degraded: tuple, msg: str):
    """(phase, {condition: (status, reason, msg)}, msg): the three health
    conditions always share one message, so each verdict names only statuses and reasons."""
    conds = {cond.READY: ready, cond.PROGRESSING: progressing, cond.DEGRADED: degraded}
    return phase, {kind: (status, reason, msg) for kind, (status, reason) in conds.items()}, msg
