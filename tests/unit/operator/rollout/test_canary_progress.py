"""The canary state machine through reconcile(): steps, promotion, traffic routing, restarts.

The happy path from a new version to a promoted stable, the weights each
traffic router gives every step, a spec change superseding a running canary,
and the replay table that proves a restart at any persisted status decides
nothing new. The in-memory world is in operator_canary_world.py.
"""

from __future__ import annotations

import datetime as dt

import pytest

from tests.unit.operator.rollout.world import (
    IMAGE,
    OWNER,
    T0,
    World,
    failing,
    history,
    passing,
    reasons,
    replicas,
    run_to_step_one,
    spec,
)


def test_new_version_starts_a_canary_beside_untouched_stable():
    world = World(spec())
    plan = world.reconcile(pods_ready=False)
    assert world.status["phase"] == "Progressing"
    assert world.status["stable"]["version"] == "3"
    assert world.status["canary"] == {
        "version": "4",
        "image": IMAGE,
        "weight": 0,
        "step": 0,
        "startedAt": "2026-11-23T12:00:00Z",
        "stepStartedAt": "2026-11-23T12:00:00Z",
        "failures": 0,
        "checks": [],
    }
    # Capacity for step 1 (10% of 4); stable keeps its 4 pods until the canary's is available.
    assert replicas(plan) == {"stable": 4, "canary": 1}
    assert reasons(plan) == ["CanaryStarted"]
    assert not world.due(), "no analysis before the canary pods are available"
    assert replicas(world.reconcile()) == {"stable": 3, "canary": 1}


def test_full_promotion_through_every_step():
    world = World(spec())
    world.reconcile(pods_ready=False)
    plan = world.reconcile()  # canary pods available: step 1 starts now
    assert world.status["canary"]["weight"] == 10
    assert reasons(plan) == ["CanaryStepAdvanced"]
    assert plan.requeue_after == 30
    world.reconcile(advance=10)
    assert not world.due()
    world.now += dt.timedelta(seconds=20)
    assert world.due()
    plan = world.reconcile(passing())
    assert (world.status["canary"]["step"], world.status["canary"]["weight"]) == (1, 50)
    assert world.status["canary"]["checks"][0]["verdict"] == "Pass"
    # Stable gives up a pod only as the canary's new one becomes available: no capacity dip.
    assert replicas(plan) == {"stable": 3, "canary": 2}
    assert replicas(world.reconcile()) == {"stable": 2, "canary": 2}
    plan = world.reconcile(passing(), advance=30)
    assert world.status["phase"] == "Promoting"
    assert world.status["stable"]["version"] == "4"
    assert world.status["previous"]["version"] == "3"
    assert "canary" in replicas(plan), "the canary keeps serving until stable is available"
    plan = world.reconcile()  # stable Deployment now available on version 4
    assert world.status["phase"] == "Stable"
    assert "canary" not in world.status
    assert [d.name for d in plan.delete] == ["churn-canary"]
    assert "Promoted" in reasons(plan)
    assert plan.outcomes == ("Promoted",)
    assert history(world)[-1] == ("4", "Promoted")
    conditions = {c["type"]: c["status"] for c in world.status["conditions"]}
    assert conditions["AnalysisPassed"] == "True"


def test_new_version_mid_rollout_supersedes_the_canary():
    world = World(spec())
    run_to_step_one(world)
    world.spec = spec(version="5")
    plan = world.reconcile()
    assert world.status["canary"]["version"] == "5"
    assert world.status["canary"]["weight"] == 0
    assert history(world)[-1] == ("4", "Superseded")
    assert reasons(plan) == ["CanaryStarted"]


@pytest.mark.parametrize("cut", range(0, 9))
def test_replaying_any_persisted_status_is_a_fixpoint(cut):
    """An operator killed after writing status re-reads it and decides nothing new.

    Replaying the reconcile that wrote a status (same inputs minus the analysis,
    which is only run when due) must produce the same status, the same
    children and no events: no repeated step, no duplicate Event, no new child.
    """
    world = World(spec())
    script = [
        {"pods_ready": False},
        {},
        {"results": passing(), "advance": 30},
        {"advance": 10},
        {"results": failing(), "advance": 20},
        {"results": passing(), "advance": 30},
        {},
        {"advance": 5},
        {"advance": 5},
    ]
    for kwargs in script[: cut + 1]:
        world.reconcile(**kwargs)
    again = world.replay()
    assert again.events == ()
    assert again.status == world.status

    def key(child):
        return (child["kind"], child["metadata"]["name"], repr(child))

    # Same objects; the order may differ (traffic leaves before pods, by observed weight).
    assert sorted(again.apply, key=key) == sorted(world.plans[-1].apply, key=key)
    assert again.delete == world.plans[-1].delete


def test_gateway_router_weights_follow_the_steps():
    router = {"type": "GatewayAPI", "gatewayAPI": {"parentRefs": [{"name": "web"}]}}
    world = World(spec(router=router))
    plan = world.reconcile(pods_ready=False)

    def weights(plan):
        route = next(c for c in plan.apply if c["kind"] == "HTTPRoute")
        return [b["weight"] for b in route["spec"]["rules"][0]["backendRefs"]]

    assert weights(plan) == [100, 0], "no traffic before the canary pods are available"
    assert replicas(plan) == {"stable": 4, "canary": 1}
    assert weights(world.reconcile()) == [90, 10]
    plan = world.reconcile(passing(), advance=30)
    assert weights(plan) == [50, 50]
    assert replicas(plan) == {"stable": 4, "canary": 2}
    world.reconcile(failing(), advance=30)
    plan = world.reconcile(failing(), advance=30)
    assert weights(plan) == [100, 0]
    assert replicas(plan) == {"stable": 4, "canary": 0}
    kinds = [(c["kind"], c["metadata"]["name"]) for c in plan.apply]
    assert kinds.index(("HTTPRoute", "churn")) < kinds.index(("Deployment", "churn-canary")), (
        "traffic must leave the canary before its pods do"
    )


def test_unknown_router_keeps_stable_and_reports_degraded():
    world = World(spec(router={"type": "Istio"}))
    plan = world.reconcile()
    assert "canary" not in world.status
    degraded = next(c for c in world.status["conditions"] if c["type"] == "Degraded")
    assert degraded["status"] == "True"
    assert "'Istio' is not supported" in degraded["message"]
    assert [c["metadata"]["name"] for c in plan.apply if c["kind"] == "Deployment"] == ["churn"]


def test_a_step_is_analysed_a_full_interval_after_its_pods_are_ready():
    world = World(spec())
    world.reconcile(pods_ready=False)
    world.reconcile()  # step 1 (10%) starts
    world.now += dt.timedelta(seconds=30)
    world.reconcile(passing())  # step 2: 50%, the canary scales up from 1 to 2 pods
    assert world.status["canary"]["weight"] == 50
    # The new canary pod takes 25 of the 30 s interval to become ready.
    world.now += dt.timedelta(seconds=25)
    world.reconcile(pods_ready=False)
    assert world.status["canary"]["stepStartedAt"] == "2026-11-23T12:00:55Z"
    world.now += dt.timedelta(seconds=5)
    world.reconcile()
    assert not world.due(), "5 s of the new split is not an interval's worth of it"
    world.now += dt.timedelta(seconds=25)
    assert world.due()


@pytest.mark.parametrize(
    ("canary_available", "stable_now", "stable"),
    [
        (0, 4, 4),  # nothing new is available yet: stable keeps every pod
        (1, 4, 3),  # one canary pod available: stable may give one up
        (2, 4, 2),  # the decision's own split is reached
        (0, 2, 2),  # never scales stable back up once it gave pods away
        (3, 4, 2),  # more available than the split needs: the decision's split
    ],
)
def test_stable_is_held_while_the_canary_pods_are_not_available(
    canary_available, stable_now, stable
):
    """held_stable_replicas: stable + available canary pods never fall below spec.replicas."""
    from modelops_operator.api.spec import Spec
    from modelops_operator.reconcile.children import held_stable_replicas
    from modelops_operator.reconcile.draft import Inputs
    from modelops_operator.reconcile.plan import Observed
    from modelops_operator.rollout.decision import RolloutDecision

    release = {"version": "4", "image": IMAGE}
    canary = World.deployment("4", 2, up=canary_available)
    observed = Observed(
        owner=OWNER, deployments={"stable": World.available("3", stable_now), "canary": canary}
    )
    inputs = Inputs(spec=Spec.of(spec()), observed=observed, now=T0)
    decision = RolloutDecision(
        stable={"version": "3", "image": IMAGE},
        previous=None,
        canary=None,
        rejected=None,
        actions={},
        stable_replicas=2,
        canary_release=release,
        canary_replicas=2,
    )
    assert held_stable_replicas(inputs, decision) == stable
