"""Which release is stable, and what happens when the spec asks for another (a pipeline part).

* The first reconcile deploys the spec's version as stable, whatever the
  strategy: there is nothing to compare a canary with yet.
* Strategy Immediate: a new version or image replaces stable in place; the
  old one becomes `status.previous` (the instant rollback target).
* Strategy Canary: the state machine (rollout/machine.py) decides, on every
  reconcile while a rollout is in progress.
* A channel that does not resolve, a strategy or rollout the operator cannot
  carry out: the current stable keeps serving and the object is Degraded,
  saying why.
"""

from __future__ import annotations

from collections.abc import Callable

from modelops_operator.api import conditions as cond
from modelops_operator.api.objects import EventSpec
from modelops_operator.api.spec import CANARY, IMMEDIATE
from modelops_operator.reconcile.draft import Draft, Inputs, Release
from modelops_operator.rollout import machine
from modelops_operator.rollout.routers import UnknownRouter, router_for

RESOLVE_RETRY_SECONDS = 30.0

# A strategy decides what happens when the wanted release differs from stable:
# (old stable, wanted, now) -> (new stable, new previous, history entry, events).
# Strategies are looked up here; an unknown one is refused, never silently
# replaced. Canary is not a one-shot strategy but the state machine, consulted
# on every reconcile while a rollout is in progress.
StrategyResult = tuple[Release, Release | None, dict, list[EventSpec]]
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
    return new_stable, previous, entry, [EventSpec("Normal", cond.REASON_VERSION_CHANGED, message)]


STRATEGIES: dict[str, Strategy] = {IMMEDIATE: immediate}


def wanted_version(inputs: Inputs) -> tuple[str | None, str | None]:
    """The concrete version the spec asks for, or (None, error) when a channel did not resolve."""
    model, observed = inputs.spec.model, inputs.observed
    if not model.follows_channel:
        return model.version, None
    if observed.resolved_version:
        return observed.resolved_version, None
    error = observed.resolve_error or "the registry returned no approved version"
    return None, f"cannot resolve {model.version} of model {model.name}: {error}"


def decide(inputs: Inputs, draft: Draft) -> Draft:
    """The part: stable, previous, rollout decision, history and events for the wanted release."""
    spec = inputs.spec
    version, error = wanted_version(inputs)
    if version is None:
        problem = cond.true(cond.REASON_RESOLVE_FAILED, str(error))
        return draft.but(problem=problem).wake_in(RESOLVE_RETRY_SECONDS)
    draft = draft.but(version=version)
    wanted: Release = {"version": version, "image": spec.image}
    stable = draft.stable
    if stable is None:
        return draft.but(
            stable={**wanted, "since": inputs.ts},
            history=(
                *draft.history,
                {**wanted, "outcome": "Deployed", "reason": "Created", "time": inputs.ts},
            ),
        ).tell(
            EventSpec(
                "Normal",
                cond.REASON_CREATED,
                f"deploying model {spec.model.name} version {version} "
                f"(image {spec.image}) as stable",
            )
        )
    if spec.strategy == CANARY:
        return _canary(inputs, draft, stable, wanted)
    if (stable["version"], stable["image"]) == (version, spec.image):
        return draft
    strategy = STRATEGIES.get(spec.strategy)
    if strategy is None:
        return draft.but(
            problem=cond.true(
                cond.REASON_STRATEGY_NOT_SUPPORTED,
                f"spec.rollout.strategy {spec.strategy!r} is not supported by this "
                f"operator version; keeping stable version {stable['version']}",
            )
        )
    stable, previous, entry, events = strategy(stable, wanted, inputs.ts)
    return draft.but(stable=stable, previous=previous, history=(*draft.history, entry)).tell(
        *events
    )


def _canary(inputs: Inputs, draft: Draft, stable: Release, wanted: Release) -> Draft:
    observed = inputs.observed
    try:
        decision = machine.decide(
            inputs.spec,
            inputs.old_status,
            machine.RolloutInputs(
                stable=stable,
                wanted=wanted,
                deployments=observed.deployments,
                annotations=observed.annotations,
                results=observed.analysis,
                now=inputs.now,
                router=router_for(inputs.spec),
            ),
        )
    except (UnknownRouter, ValueError) as exc:  # SpecError is a ValueError
        # A spec the operator cannot act on keeps the stable version serving.
        return draft.but(
            problem=cond.true(
                cond.REASON_ROUTER_NOT_SUPPORTED,
                f"{exc}; keeping stable version {stable['version']}",
            )
        )
    return (
        draft.but(
            stable=decision.stable,
            previous=decision.previous,
            rollout=decision,
            history=(*draft.history, *decision.history),
            outcomes=(*draft.outcomes, *decision.outcomes),
            # Stable's availability is judged against the replicas it is given now.
            replicas=decision.stable_replicas,
        )
        .tell(*decision.events)
        .wake_in(decision.requeue_after)
    )
