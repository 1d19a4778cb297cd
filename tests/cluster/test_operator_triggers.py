"""User actions and finished Jobs are acted on through the watches, not at the next resync.

The operator runs with a resync period of five minutes, so anything that
happens within the bound below can only have been started by a watch event:
the ModelDeployment's (a new `modelops.io/retrain` value) or the retraining
Job's (it finished). The bound is generous (the machine is shared); how fast
the reaction really is goes into benchmarks/operator_latency.py.
"""

from __future__ import annotations

import pytest

from modelops_operator.api import conditions as cond
from modelops_operator.retraining.job import job_name
from modelops_registry import Registry
from tests.plugins.jobs import JOB_MANAGER
from tests.plugins.operator import md_manifest

RESYNC = 300.0  # nothing in these tests may wait for it
BOUND = 20.0  # seconds from the change to the reaction: far below RESYNC
TEMPLATE = {
    "spec": {
        # The test plays the Job controller (tests/plugins/jobs.py).
        "managedBy": JOB_MANAGER,
        "template": {
            "spec": {"containers": [{"name": "train", "image": "ghcr.io/acme/training:0.1.0"}]}
        },
    }
}


@pytest.fixture
def registry(tmp_path) -> Registry:
    reg = Registry.from_uri(f"file://{tmp_path / 'registry'}")
    reg.publish("churn", {"model.ubj": b"base"}, {"status": "approved"})
    return reg


def retrainable(registry: Registry) -> dict:
    """Retraining on request only: no drift is monitored, so only the annotation starts a Job."""
    return md_manifest(
        registry={"uri": registry.uri},
        retraining={"jobTemplate": TEMPLATE, "cooldown": "1h", "maxAttempts": 2},
    )


def test_a_retrain_annotation_starts_its_job_without_waiting_for_a_resync(scenario, registry):
    scenario.given.operator(resync=RESYNC).model_deployment(retrainable(registry)).condition(
        "Retraining", reason=cond.REASON_NOT_RETRAINING
    )

    scenario.when.annotated("modelops.io/retrain", "ticket-1")

    name = job_name("churn", scenario.story.body()["metadata"]["uid"], "1", 1)
    job = scenario.then.job(name, within=BOUND)
    assert job["metadata"]["labels"]["modelops.io/retrain-attempt"] == "1"
    status = scenario.then.status(lambda s: s.get("retraining"), "status.retraining", within=BOUND)
    assert (status["job"], status["reason"], status["state"]) == (name, "Manual", "Running")
    assert scenario.story.status()["actions"]["retrain"] == "ticket-1"
    # The decision was persisted before it was acted on: no Job without its status.
    assert scenario.then.events(cond.REASON_RETRAINING_STARTED)
    assert scenario.then.jobs() == [name]


@pytest.mark.parametrize(
    ("succeeded", "publish", "state", "reason"),
    [
        (False, None, "Failed", cond.REASON_RETRAINING_FAILED),
        (True, "approved", "Succeeded", cond.REASON_CANDIDATE_APPROVED),
    ],
    ids=["failed", "approved-candidate"],
)
def test_a_finished_job_is_acted_on_without_waiting_for_a_resync(
    scenario, registry, succeeded, publish, state, reason
):
    scenario.given.operator(resync=RESYNC).model_deployment(retrainable(registry)).condition(
        "Retraining", reason=cond.REASON_NOT_RETRAINING
    )
    scenario.when.annotated("modelops.io/retrain", "ticket-2")
    name = job_name("churn", scenario.story.body()["metadata"]["uid"], "1", 1)
    scenario.then.job(name, within=BOUND)
    scenario.then.condition("Retraining", reason=cond.REASON_JOB_RUNNING, within=BOUND)
    if publish:
        registry.publish(
            "churn",
            {"model.ubj": b"retrained"},
            {"status": publish, "metrics": {"auc": 0.8}, "retraining": {"job": name}},
        )

    scenario.when.job_finished(name, succeeded=succeeded)

    retraining = scenario.then.status(
        lambda s: (r := s.get("retraining") or {}).get("state") == state and r,
        f"status.retraining.state {state}",
        within=BOUND,
    )
    assert retraining["job"] == name and "finishedAt" in retraining
    assert scenario.then.condition("Retraining", reason=reason, within=BOUND)
    assert scenario.then.events(reason), f"an Event {reason}"
