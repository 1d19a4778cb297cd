"""The canary state machine through reconcile(), table- and sequence-tested.

A tiny in-memory world plays the cluster: the Deployments the plan applies
become `DeploymentState`s, available or not as each test says. Every status
the machine writes is fed back as the next observed status, exactly as the
engine does through the API server.
"""

from __future__ import annotations

import datetime as dt

import pytest

from modelops_operator import canary
from modelops_operator.analysis import FAIL, INCONCLUSIVE, PASS, CheckResult
from modelops_operator.plan import DeploymentState, Observed, Owner
from modelops_operator.reconcile import reconcile

T0 = dt.datetime(2026, 11, 23, 12, 0, 0, tzinfo=dt.UTC)
OWNER = Owner(name="churn", namespace="ml", uid="uid-1", generation=2)
IMAGE = "ghcr.io/acme/churn-bento:1.2.0"


def spec(version="4", steps=(10, 50), interval="30s", replicas=4, router=None, **analysis):
    rollout = {
        "strategy": "Canary",
        "steps": list(steps),
        "interval": interval,
        "progressDeadline": "5m",
        "analysis": {"failureLimit": 2, "minRequests": 10, **analysis},
    }
    if router:
        rollout["trafficRouter"] = router
    return {
        "model": {"name": "churn", "version": version},
        "image": IMAGE,
        "registry": {"uri": "s3://models"},
        "replicas": replicas,
        "rollout": rollout,
    }


def stable_status(version="3"):
    return {"stable": {"version": version, "image": IMAGE, "since": "2026-11-23T11:00:00Z"}}


def passing():
    return (CheckResult("error-rate", "q1", 0.0, PASS, "error-rate 0 <= max 0.01"),)


def failing(value=0.3):
    return (
        CheckResult("error-rate", "q1", value, FAIL, f"error-rate {value} > max 0.01"),
        CheckResult("latency-p99", "q2", 0.1, PASS, "latency-p99 0.1 <= max 0.5"),
    )


def inconclusive():
    return (CheckResult("error-rate", "q1", None, INCONCLUSIVE, "3 canary requests < 10"),)


class World:
    """Status and Deployments as the API server would hold them between reconciles."""

    def __init__(self, spec_, status=None):
        self.spec = spec_
        self.status = status if status is not None else stable_status()
        self.deployments: dict[str, DeploymentState] = {
            "stable": self.available("3", 4),
        }
        self.annotations: dict[str, str] = {}
        self.now = T0
        self.plans = []
        self.inputs: dict[str, DeploymentState] = {}
        if status is None:
            # Start from a settled stable: Ready already reported, so no Available event.
            settled = reconcile(
                {**spec_, "model": {"name": "churn", "version": "3"}},
                Observed(owner=OWNER, status=self.status, deployments=dict(self.deployments)),
                T0,
            )
            self.status = settled.status

    @staticmethod
    def available(version, replicas, image=IMAGE):
        return DeploymentState(
            generation=1,
            observed_generation=1,
            replicas=replicas,
            updated_replicas=replicas,
            ready_replicas=replicas,
            available_replicas=replicas,
            version=version,
            image=image,
        )

    def reconcile(self, results=None, *, pods_ready=True, advance=0.0):
        self.now += dt.timedelta(seconds=advance)
        if "canary" in self.deployments:
            self.deployments["canary"] = self.state(self.deployments["canary"], pods_ready)
        self.inputs = dict(self.deployments)
        plan = self.decide(self.status, self.inputs, results)
        self.status = plan.status
        for child in plan.apply:
            if child["kind"] != "Deployment":
                continue
            labels = child["metadata"]["labels"]
            track = labels["modelops.io/track"]
            replicas = child["spec"]["replicas"]
            state = self.available(labels["modelops.io/model-version"], replicas)
            self.deployments[track] = self.state(state, pods_ready or track == "stable")
        for ref in plan.delete:
            self.deployments.pop("canary" if ref.name.endswith("-canary") else "stable", None)
        self.plans.append(plan)
        return plan

    def decide(self, status, deployments, results=None):
        observed = Observed(
            owner=OWNER,
            status=status,
            annotations=dict(self.annotations),
            deployments=deployments,
            analysis=results,
        )
        return reconcile(self.spec, observed, self.now)

    def replay(self):
        """The last reconcile again, on its own inputs but the status it wrote: a restart
        after the status write and before any child was applied."""
        return self.decide(self.status, self.inputs)

    def state(self, dep: DeploymentState, ready: bool) -> DeploymentState:
        if ready:
            return self.available(dep.version, dep.replicas)
        return DeploymentState(
            generation=1,
            observed_generation=1,
            replicas=dep.replicas,
            version=dep.version,
            image=IMAGE,
            progress_deadline_exceeded=dep.progress_deadline_exceeded,
        )

    def due(self):
        return canary.analysis_due(self.spec, self.status, self.deployments, self.now)


def replicas(plan):
    return {
        c["metadata"]["labels"]["modelops.io/track"]: c["spec"]["replicas"]
        for c in plan.apply
        if c["kind"] == "Deployment"
    }


def reasons(plan):
    return [e.reason for e in plan.events]


def history(world):
    return [(h["version"], h["outcome"]) for h in world.status.get("history", [])]


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
    assert replicas(plan) == {"stable": 3, "canary": 1}  # capacity for step 1 (10% of 4)
    assert reasons(plan) == ["CanaryStarted"]
    assert not world.due(), "no analysis before the canary pods are available"


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
    assert replicas(plan) == {"stable": 2, "canary": 2}
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


def run_to_step_one(world):
    world.reconcile(pods_ready=False)
    world.reconcile()
    assert world.status["canary"]["weight"] == 10


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
    world.deployments["canary"] = DeploymentState(
        generation=1,
        observed_generation=1,
        replicas=dep.replicas,
        version="4",
        image=IMAGE,
        progress_deadline_exceeded=True,
    )
    world.reconcile(pods_ready=False, advance=1)
    assert world.status["phase"] == "RolledBack"
    assert "progress deadline" in world.status["rejected"]["reason"]


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
