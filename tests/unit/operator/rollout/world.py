"""The in-memory world the canary unit tests play the cluster with.

The Deployments a plan applies become `DeploymentState`s, available or not as
each test says, and every status the machine writes is fed back as the next
observed status, exactly as the engine does through the API server. Shared by
the test_canary_*.py files beside it.
"""

from __future__ import annotations

import datetime as dt

from modelops_operator.api.objects import DeploymentState, Owner
from modelops_operator.api.spec import Spec
from modelops_operator.reconcile.pipeline import reconcile
from modelops_operator.reconcile.plan import Observed
from modelops_operator.rollout.analysis import FAIL, INCONCLUSIVE, PASS, CheckResult
from modelops_operator.rollout.verdict import analysis_due

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
        return World.deployment(version, replicas, up=replicas, image=image)

    @staticmethod
    def unavailable(version, replicas, *, deadline_exceeded=False):
        """A Deployment whose pods are not available (yet, or ever when the deadline passed)."""
        return World.deployment(version, replicas, up=0, deadline_exceeded=deadline_exceeded)

    @staticmethod
    def deployment(version, replicas, *, up, image=IMAGE, deadline_exceeded=False):
        """A rolled-out generation with `up` of its `replicas` updated, ready and available."""
        return DeploymentState(
            generation=1,
            observed_generation=1,
            replicas=replicas,
            updated_replicas=up,
            ready_replicas=up,
            available_replicas=up,
            version=version,
            image=image,
            progress_deadline_exceeded=deadline_exceeded,
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
        return self.unavailable(
            dep.version, dep.replicas, deadline_exceeded=dep.progress_deadline_exceeded
        )

    def due(self):
        return analysis_due(Spec(self.spec), self.status, self.deployments, self.now)


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


def run_to_step_one(world):
    world.reconcile(pods_ready=False)
    world.reconcile()
    assert world.status["canary"]["weight"] == 10
