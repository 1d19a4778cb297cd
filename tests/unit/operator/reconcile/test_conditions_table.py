"""The conditions x situations table of docs/operator.md ("Conditions"), and the three readers agreeing.

Each situation is played through the real pure pipeline (the canary's
in-memory world replays every written status as the next observation); the
status it ends with is then read by the three clients that must agree on it:
`kubectl wait --for=condition=...` (the conditions themselves, with the
observedGeneration rule kubectl applies), the chart's Argo CD health check
(the Lua script, run in Lua), and `modelops rollout status --wait` (its
verdict and exit code).
"""

from __future__ import annotations

import dataclasses
import datetime as dt
from typing import Any

import pytest

from modelops_cli import rollout_wait
from modelops_operator.api import conditions as cond
from modelops_operator.api.objects import DeploymentState
from modelops_operator.reconcile.pipeline import reconcile
from modelops_operator.reconcile.plan import Observed
from tests.unit.operator.reconcile import test_drift_and_retraining as drift_world
from tests.unit.operator.rollout.world import (
    OWNER,
    T0,
    World,
    failing,
    passing,
    run_to_step_one,
    spec,
)
from tests.unit.test_chart_argocd import health

Row = tuple[str, str, str, str, str | None]  # phase, Ready, Progressing, Degraded, AnalysisPassed


def immediate(version: str = "1") -> dict[str, Any]:
    return {**spec(version), "rollout": {"strategy": "Immediate"}}


def deployment(version: str, *, up: int, deadline_exceeded: bool = False) -> DeploymentState:
    return World.deployment(version, 4, up=up, deadline_exceeded=deadline_exceeded)


def first_deploy(up: int, deadline_exceeded: bool = False) -> tuple[dict, int]:
    status: dict[str, Any] = {}
    for _ in range(2):  # create, then observe the Deployment
        observed = Observed(
            owner=OWNER,
            status=status,
            deployments={"stable": deployment("1", up=up, deadline_exceeded=deadline_exceeded)},
        )
        status = reconcile(immediate(), observed, T0).status
    return status, OWNER.generation


def canary_in_progress() -> tuple[dict, int]:
    world = World(spec())
    run_to_step_one(world)
    return world.status, OWNER.generation


def promoting() -> tuple[dict, int]:
    world = World(spec())
    run_to_step_one(world)
    world.reconcile(passing(), advance=30)
    world.reconcile(passing(), advance=30)
    return world.status, OWNER.generation


def scaled_to_zero() -> tuple[dict, int]:
    status: dict[str, Any] = {}
    for _ in range(2):
        observed = Observed(
            owner=OWNER, status=status, deployments={"stable": World.deployment("1", 0, up=0)}
        )
        status = reconcile({**immediate(), "replicas": 0}, observed, T0).status
    return status, OWNER.generation


def promoted() -> tuple[dict, int]:
    world = World(spec())
    run_to_step_one(world)
    world.reconcile(passing(), advance=30)
    world.reconcile(passing(), advance=30)  # promoting
    world.reconcile()  # stable available on version 4
    return world.status, OWNER.generation


def rolled_back() -> World:
    world = World(spec())
    run_to_step_one(world)
    world.reconcile(failing(), advance=30)
    world.reconcile(failing(), advance=30)
    return world


def pinned_to_rejected() -> tuple[dict, int]:
    """Long after the rollback, through an operator restart and a new generation
    (spec.replicas changed) that still names the rejected version."""
    world = rolled_back()
    world.reconcile(advance=600)
    owner = dataclasses.replace(OWNER, generation=OWNER.generation + 1)
    observed = Observed(owner=owner, status=world.status, deployments=dict(world.deployments))
    return reconcile(world.spec, observed, world.now + dt.timedelta(hours=1)).status, 3


def canary_deadline() -> tuple[dict, int]:
    world = World(spec())
    world.reconcile(pods_ready=False)
    world.reconcile(pods_ready=False, advance=301)  # progressDeadline 5m
    return world.status, OWNER.generation


def drifted() -> tuple[dict, int]:
    plan = drift_world.run(
        drift_world.serving_status(), drift=drift_world.measured(drift_world.SHIFTED)
    )
    return plan.status, drift_world.OWNER.generation


def spec_reverted_after_rollback() -> tuple[dict, int]:
    world = rolled_back()
    world.spec = spec(version="3")
    world.reconcile(advance=5)
    return world.status, OWNER.generation


F, T = cond.FALSE, cond.TRUE
SITUATIONS: list[tuple[str, Any, Row, str, int | None]] = [
    # situation, how, (phase, Ready, Progressing, Degraded, AnalysisPassed), Argo CD, exit code
    (
        "first deploy, pods starting",
        lambda: first_deploy(up=0),
        ("Progressing", "False/RollingOut", "True/RollingOut", "False/Healthy", None),
        "Progressing",
        None,
    ),
    (
        "first deploy, available",
        lambda: first_deploy(up=4),
        ("Stable", "True/Available", "False/Stable", "False/Healthy", None),
        "Healthy",
        rollout_wait.ROLLED_OUT,
    ),
    (
        "canary in progress",
        canary_in_progress,
        (
            "Progressing",
            "False/RolloutInProgress",
            "True/AnalysisRunning",
            "False/Healthy",
            None,
        ),
        "Progressing",
        None,
    ),
    (
        "promoting",
        promoting,
        ("Promoting", "False/RollingOut", "True/Promoting", "False/Healthy", "True/AnalysisPassed"),
        "Progressing",
        None,
    ),
    (
        "scaled to zero",
        scaled_to_zero,
        ("Stable", "False/ScaledToZero", "False/Stable", "False/Healthy", None),
        "Healthy",
        rollout_wait.ROLLED_OUT,
    ),
    (
        "promoted",
        promoted,
        ("Stable", "True/Available", "False/Stable", "False/Healthy", "True/Promoted"),
        "Healthy",
        rollout_wait.ROLLED_OUT,
    ),
    (
        "rolled back (analysis failed)",
        lambda: (rolled_back().status, OWNER.generation),
        (
            "RolledBack",
            "False/VersionRejected",
            "False/RolledBack",
            "True/RolledBack",
            "False/AnalysisFailed",
        ),
        "Degraded",
        rollout_wait.ROLLED_BACK,
    ),
    (
        "pinned to a rejected version",
        pinned_to_rejected,
        (
            "RolledBack",
            "False/VersionRejected",
            "False/RolledBack",
            "True/RolledBack",
            "False/AnalysisFailed",
        ),
        "Degraded",
        rollout_wait.ROLLED_BACK,
    ),
    (
        "progress deadline exceeded (stable)",
        lambda: first_deploy(up=0, deadline_exceeded=True),
        (
            "Failed",
            "False/ProgressDeadlineExceeded",
            "False/ProgressDeadlineExceeded",
            "True/ProgressDeadlineExceeded",
            None,
        ),
        "Degraded",
        rollout_wait.DEGRADED,
    ),
    (
        "progress deadline exceeded (canary)",
        canary_deadline,
        (
            "RolledBack",
            "False/VersionRejected",
            "False/RolledBack",
            "True/RolledBack",
            "False/ProgressDeadlineExceeded",
        ),
        "Degraded",
        rollout_wait.ROLLED_BACK,
    ),
    (
        "drift detected",
        drifted,
        ("Stable", "True/Available", "False/Stable", "False/Healthy", None),
        "Healthy",
        rollout_wait.ROLLED_OUT,
    ),
    (
        "spec reverted to stable after a rollback",
        spec_reverted_after_rollback,
        ("Stable", "True/Available", "False/Stable", "False/Healthy", "False/AnalysisFailed"),
        "Healthy",
        rollout_wait.ROLLED_OUT,
    ),
]


def shown(conditions: list[dict], ctype: str) -> str | None:
    c = cond.get_condition(conditions, ctype)
    return None if c is None else f"{c['status']}/{c['reason']}"


def body(status: dict, generation: int) -> dict:
    return {
        "apiVersion": "modelops.io/v1alpha1",
        "kind": "ModelDeployment",
        "metadata": {"name": "churn", "namespace": "ml", "generation": generation},
        "status": status,
    }


@pytest.mark.parametrize(
    ("how", "row", "argo", "code"), [s[1:] for s in SITUATIONS], ids=[s[0] for s in SITUATIONS]
)
def test_conditions_and_their_readers(how, row: Row, argo: str, code: int | None) -> None:
    status, generation = how()
    conditions = status["conditions"]
    got = (
        status["phase"],
        shown(conditions, cond.READY),
        shown(conditions, cond.PROGRESSING),
        shown(conditions, cond.DEGRADED),
        shown(conditions, cond.ANALYSIS_PASSED),
    )
    assert got == row
    # Every health condition describes this generation, as kubectl wait requires.
    assert status["observedGeneration"] == generation
    for ctype in (cond.READY, cond.PROGRESSING, cond.DEGRADED):
        assert cond.get_condition(conditions, ctype)["observedGeneration"] == generation
    assert health(body(status, generation))["status"] == argo
    verdict = rollout_wait.verdict(body(status, generation))
    assert (verdict.code if verdict.done else None) == code, verdict


def test_the_drift_situation_is_drifted():
    status, _ = drifted()
    assert shown(status["conditions"], cond.DRIFTED) == "True/DriftDetected"


def test_pinned_to_rejected_keeps_each_transition_time():
    """A rollback reported again (resync, restart, new generation) moves no lastTransitionTime."""
    world = rolled_back()
    before = {c["type"]: c["lastTransitionTime"] for c in world.status["conditions"]}
    world.reconcile(advance=600)
    owner = dataclasses.replace(OWNER, generation=OWNER.generation + 1)
    observed = Observed(owner=owner, status=world.status, deployments=dict(world.deployments))
    later = reconcile(world.spec, observed, world.now + dt.timedelta(hours=1))
    after = {c["type"]: c["lastTransitionTime"] for c in later.status["conditions"]}
    assert after == before
    assert later.events == ()  # nothing new to tell: the RolledBack Warning was posted once


def test_a_rollback_posts_one_warning_and_leaving_it_no_recovered_event():
    world = World(spec())
    run_to_step_one(world)
    world.reconcile(failing(), advance=30)
    plan = world.reconcile(failing(), advance=30)
    assert [e.reason for e in plan.events if e.type == "Warning"] == ["RolledBack"]
    world.spec = spec(version="3")
    plan = world.reconcile(advance=5)
    assert "Recovered" not in [e.reason for e in plan.events]


def test_stable_losing_pods_after_a_rollback_is_reported_as_lost_availability():
    """The stable track's own trouble is more urgent than the rollback and keeps its reason."""
    world = rolled_back()
    world.deployments["stable"] = dataclasses.replace(
        deployment("3", up=4), ready_replicas=2, available_replicas=2
    )
    world.reconcile(advance=5)
    got = {c["type"]: (c["status"], c["reason"]) for c in world.status["conditions"]}
    assert got[cond.READY] == (F, cond.REASON_UNAVAILABLE)
    assert got[cond.DEGRADED] == (T, cond.REASON_UNAVAILABLE)
    assert rollout_wait.verdict(body(world.status, OWNER.generation)).code == rollout_wait.DEGRADED
