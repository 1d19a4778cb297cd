"""The canary state machine through reconcile(): automatic rollback and the rejected version.

Failed or inconclusive analyses up to failureLimit, canary pods that never
become available, the spec going back to stable, and the rule that a
rejected version is not retried while the spec still names it (the operator
does not fight Git). The in-memory world is in operator_canary_world.py.
"""

from __future__ import annotations

from tests.unit.operator.rollout.world import (
    World,
    failing,
    history,
    inconclusive,
    reasons,
    replicas,
    run_to_step_one,
    spec,
)


def test_failure_limit_then_rollback_with_the_reason():
    world = World(spec())
    run_to_step_one(world)
    plan = world.reconcile(failing(), advance=30)
    assert world.status["canary"]["failures"] == 1
    assert world.status["canary"]["weight"] == 10, "a tolerated failure holds the step"
    assert reasons(plan) == ["AnalysisFailed"]
    plan = world.reconcile(failing(0.4), advance=30)
    assert world.status["phase"] == "RolledBack"
    assert "canary" not in world.status
    assert replicas(plan) == {"stable": 4, "canary": 0}
    assert world.status["stable"]["version"] == "3"
    rejected = world.status["rejected"]
    assert rejected["version"] == "4"
    assert "error-rate 0.4 > max 0.01" in rejected["reason"]
    event = next(e for e in plan.events if e.reason == "RolledBack")
    assert event.type == "Warning"
    assert "error-rate 0.4 > max 0.01" in event.message
    assert "(failed or inconclusive analyses: 2/2)" in event.message
    assert plan.outcomes == ("RolledBack",)
    assert history(world)[-1] == ("4", "RolledBack")
    analysis_passed = next(c for c in world.status["conditions"] if c["type"] == "AnalysisPassed")
    assert (analysis_passed["status"], analysis_passed["reason"]) == ("False", "AnalysisFailed")


def test_inconclusive_analyses_count_toward_the_failure_limit():
    world = World(spec())
    run_to_step_one(world)
    world.reconcile(inconclusive(), advance=30)
    world.reconcile(inconclusive(), advance=30)
    assert world.status["phase"] == "RolledBack"
    assert "3 canary requests < 10" in world.status["rejected"]["reason"]


def test_failure_limit_one_rolls_back_at_the_first_failed_analysis():
    world = World(spec(failureLimit=1))
    run_to_step_one(world)
    world.reconcile(failing(), advance=30)
    assert world.status["phase"] == "RolledBack"


def test_rejected_version_is_not_retried_while_the_spec_names_it():
    world = World(spec())
    run_to_step_one(world)
    world.reconcile(failing(), advance=30)
    world.reconcile(failing(), advance=30)
    for _ in range(3):
        plan = world.reconcile(advance=60)
        assert world.status["phase"] == "RolledBack"
        assert "canary" not in world.status
        assert replicas(plan) == {"stable": 4, "canary": 0}
        assert plan.events == ()
    assert "modelops.io/promote" in world.status["message"]


def test_spec_change_after_rejection_starts_a_new_canary():
    world = World(spec())
    run_to_step_one(world)
    world.reconcile(failing(), advance=30)
    world.reconcile(failing(), advance=30)
    world.spec = spec(version="5")
    plan = world.reconcile(pods_ready=False)
    assert world.status["canary"]["version"] == "5"
    assert "rejected" not in world.status
    assert reasons(plan) == ["CanaryStarted"]


def test_spec_back_to_stable_is_an_instant_rollback():
    world = World(spec())
    run_to_step_one(world)
    world.spec = spec(version="3")
    plan = world.reconcile()
    assert "canary" not in world.status
    assert "rejected" not in world.status, "nothing to reject: the spec no longer names it"
    assert [d.name for d in plan.delete] == ["churn-canary"]
    assert replicas(plan) == {"stable": 4}
    assert world.status["phase"] == "Stable"
    assert history(world)[-1] == ("4", "RolledBack")
    assert "spec returned to stable version 3" in world.status["history"][-1]["reason"]


def test_canary_pods_never_ready_roll_back_after_the_progress_deadline():
    world = World(spec())
    world.reconcile(pods_ready=False)
    world.reconcile(pods_ready=False, advance=200)
    assert world.status["phase"] == "Progressing"
    world.reconcile(pods_ready=False, advance=200)
    assert world.status["phase"] == "RolledBack"
    assert "not available" in world.status["rejected"]["reason"]


def test_deployment_progress_deadline_exceeded_rolls_back():
    world = World(spec())
    run_to_step_one(world)
    dep = world.deployments["canary"]
    world.deployments["canary"] = World.unavailable("4", dep.replicas, deadline_exceeded=True)
    world.reconcile(pods_ready=False, advance=1)
    assert world.status["phase"] == "RolledBack"
    assert "progress deadline" in world.status["rejected"]["reason"]
