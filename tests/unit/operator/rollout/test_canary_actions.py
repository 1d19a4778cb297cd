"""The canary state machine through reconcile(): the promote and abort annotations.

Each annotation value is acted on once (recorded in status.actions with the
decision it caused), wins over analysis results that arrive with it, and is
harmless when no rollout is running. The in-memory world is in
operator_canary_world.py.
"""

from __future__ import annotations

from tests.unit.operator.rollout.world import (
    World,
    failing,
    history,
    passing,
    reasons,
    run_to_step_one,
    spec,
)


def test_promote_annotation_retries_a_rejected_version_once():
    world = World(spec())
    run_to_step_one(world)
    world.reconcile(failing(), advance=30)
    world.reconcile(failing(), advance=30)
    world.annotations["modelops.io/promote"] = "retry-1"
    plan = world.reconcile(pods_ready=False)
    assert world.status["canary"]["version"] == "4"
    assert world.status["actions"] == {"promote": "retry-1"}
    assert "retry of a rejected version" in plan.events[0].message
    # The same token is not acted on again (it would otherwise skip every step).
    world.reconcile()
    assert world.status["phase"] == "Progressing"
    assert world.status["canary"]["weight"] == 10


def test_abort_annotation_mid_step_rolls_back_once():
    world = World(spec())
    run_to_step_one(world)
    world.annotations["modelops.io/abort"] = "a1"
    plan = world.reconcile(advance=5)
    assert world.status["phase"] == "RolledBack"
    assert "aborted by annotation modelops.io/abort=a1" in world.status["rejected"]["reason"]
    assert world.status["actions"]["abort"] == "a1"
    assert reasons(plan) == ["RolledBack"]
    world.spec = spec(version="5")
    world.reconcile(pods_ready=False)
    world.reconcile()
    assert world.status["canary"]["version"] == "5", "a handled abort token is not re-applied"


def test_abort_arriving_with_analysis_results_wins_over_them():
    world = World(spec())
    run_to_step_one(world)
    world.annotations["modelops.io/abort"] = "a1"
    world.reconcile(passing(), advance=30)
    assert world.status["phase"] == "RolledBack"


def test_promote_annotation_mid_step_skips_remaining_steps():
    world = World(spec(steps=(10, 20, 30)))
    run_to_step_one(world)
    world.annotations["modelops.io/promote"] = "p1"
    plan = world.reconcile(advance=3)
    assert world.status["phase"] == "Promoting"
    assert world.status["stable"]["version"] == "4"
    assert reasons(plan) == ["Promoting"]
    assert "promoted by annotation modelops.io/promote=p1" in plan.events[0].message
    world.reconcile()
    assert world.status["phase"] == "Stable"
    assert history(world)[-1] == ("4", "Promoted")


def test_annotation_without_a_rollout_is_recorded_and_harmless():
    world = World(spec(version="3"))
    world.annotations["modelops.io/abort"] = "x"
    plan = world.reconcile()
    assert world.status["actions"] == {"abort": "x"}
    assert "canary" not in world.status and plan.events == ()
