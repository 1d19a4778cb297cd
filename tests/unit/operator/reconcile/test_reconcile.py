"""reconcile(spec, observed, now) -> Plan, table-tested with exact expectations."""

from __future__ import annotations

import datetime as dt

import pytest

from modelops_operator import builders
from modelops_operator.api.objects import DeploymentState, EventSpec, Owner
from modelops_operator.api.spec import Spec
from modelops_operator.reconcile.pipeline import HISTORY_LIMIT, reconcile
from modelops_operator.reconcile.plan import Observed, Plan

NOW = dt.datetime(2026, 11, 23, 12, 0, 0, tzinfo=dt.UTC)
T0 = "2026-11-23T12:00:00Z"
EARLIER = "2026-11-23T11:00:00Z"
OWNER = Owner(name="churn", namespace="ml", uid="uid-1", generation=1)
IMAGE = "ghcr.io/acme/churn-bento:1.2.0"


def spec(version: str = "3", image: str = IMAGE, replicas: int = 2, strategy: str = "Immediate"):
    return {
        "model": {"name": "churn", "version": version},
        "image": image,
        "registry": {"uri": "s3://models"},
        "replicas": replicas,
        "rollout": {"strategy": strategy},
    }


def dep(version="3", image=IMAGE, replicas=2, available=2, updated=2, gen=1, seen=1, **kw):
    return DeploymentState(
        generation=gen,
        observed_generation=seen,
        replicas=replicas,
        updated_replicas=updated,
        ready_replicas=available,
        available_replicas=available,
        unavailable_replicas=max(0, replicas - available),
        version=version,
        image=image,
        **kw,
    )


def condition(ctype, status, reason, message, ts=T0, gen=1):
    return {
        "type": ctype,
        "status": status,
        "reason": reason,
        "message": message,
        "lastTransitionTime": ts,
        "observedGeneration": gen,
    }


def ready_status(version="3", image=IMAGE, since=EARLIER, **extra):
    """The status of a ModelDeployment that has been serving `version` since EARLIER."""
    msg = f"serving version {version} (2/2 replicas available)"
    return {
        "phase": "Stable",
        "message": msg,
        "observedGeneration": 1,
        "stable": {"version": version, "image": image, "since": since},
        "conditions": [
            condition("Ready", "True", "Available", msg, EARLIER),
            condition("Progressing", "False", "Stable", msg, EARLIER),
            condition("Degraded", "False", "Healthy", msg, EARLIER),
        ],
        "history": [
            {
                "version": version,
                "image": image,
                "outcome": "Deployed",
                "reason": "Created",
                "time": since,
            }
        ],
        **extra,
    }


def test_first_reconcile_creates_children_and_reports_progressing():
    plan = reconcile(spec(), Observed(owner=OWNER), NOW)
    msg = "rolling out version 3"
    assert plan == Plan(
        apply=(
            builders.deployment(
                OWNER, Spec(spec()), track="stable", version="3", image=IMAGE, replicas=2
            ),
            builders.service(OWNER, version="3"),
        ),
        delete=(),
        status={
            "observedGeneration": 1,
            "phase": "Progressing",
            "message": msg,
            "stable": {"version": "3", "image": IMAGE, "since": T0},
            "conditions": [
                condition("Ready", "False", "RollingOut", msg),
                condition("Progressing", "True", "RollingOut", msg),
                condition("Degraded", "False", "Healthy", msg),
            ],
            "history": [
                {
                    "version": "3",
                    "image": IMAGE,
                    "outcome": "Deployed",
                    "reason": "Created",
                    "time": T0,
                }
            ],
        },
        events=(
            EventSpec(
                "Normal",
                "Created",
                f"deploying model churn version 3 (image {IMAGE}) as stable",
            ),
        ),
        requeue_after=None,
    )


def test_child_available_makes_it_ready_with_one_event():
    first = reconcile(spec(), Observed(owner=OWNER), NOW)
    observed = Observed(owner=OWNER, status=first.status, deployments={"stable": dep()})
    plan = reconcile(spec(), observed, NOW + dt.timedelta(seconds=5))
    later = "2026-11-23T12:00:05Z"
    msg = "serving version 3 (2/2 replicas available)"
    assert plan.status["phase"] == "Stable"
    assert plan.status["conditions"] == [
        condition("Ready", "True", "Available", msg, later),
        condition("Progressing", "False", "Stable", msg, later),
        condition("Degraded", "False", "Healthy", msg, T0),
    ]
    assert plan.events == (EventSpec("Normal", "Available", msg),)


def test_steady_state_is_a_fixed_point():
    """Re-reconciling a healthy object changes nothing and says nothing (restart-safe)."""
    status = ready_status()
    observed = Observed(owner=OWNER, status=status, deployments={"stable": dep()})
    plan = reconcile(spec(), observed, NOW)
    assert plan.status == status
    assert plan.events == ()


@pytest.mark.parametrize(
    ("new_spec", "change"),
    [
        (spec(version="4"), ("4", IMAGE)),
        (spec(image="ghcr.io/acme/churn-bento:1.3.0"), ("3", "ghcr.io/acme/churn-bento:1.3.0")),
    ],
    ids=["model-version", "image"],
)
def test_immediate_version_change_rolls_stable_and_records_previous(new_spec, change):
    observed = Observed(owner=OWNER, status=ready_status(), deployments={"stable": dep()})
    plan = reconcile(new_spec, observed, NOW)
    version, image = change
    assert plan.status["stable"] == {"version": version, "image": image, "since": T0}
    assert plan.status["previous"] == {"version": "3", "image": IMAGE, "since": EARLIER}
    assert plan.status["phase"] == "Progressing"
    assert plan.status["history"][-1] == {
        "version": version,
        "image": image,
        "outcome": "Deployed",
        "reason": "Immediate rollout replacing version 3",
        "time": T0,
    }
    deployment = plan.apply[0]
    assert deployment["metadata"]["labels"]["modelops.io/model-version"] == version
    assert deployment["spec"]["template"]["spec"]["containers"][0]["image"] == image
    assert [e.reason for e in plan.events] == ["VersionChanged"]
    assert plan.events[0].message == (
        f"stable version 3 -> {version} (image {image}), rolled out in place (strategy Immediate)"
    )


@pytest.mark.parametrize(
    ("child", "phase", "ready", "degraded", "events"),
    [
        (None, "Progressing", ("False", "RollingOut"), ("False", "Healthy"), []),
        (dep(version="2"), "Progressing", ("False", "RollingOut"), ("False", "Healthy"), []),
        (dep(gen=2, seen=1), "Progressing", ("False", "RollingOut"), ("False", "Healthy"), []),
        (
            dep(available=1, updated=1),
            "Progressing",
            ("False", "RollingOut"),
            ("False", "Healthy"),
            [],
        ),
        (dep(), "Stable", ("True", "Available"), ("False", "Healthy"), [("Normal", "Available")]),
        (
            dep(available=0, progress_deadline_exceeded=True),
            "Failed",
            ("False", "ProgressDeadlineExceeded"),
            ("True", "ProgressDeadlineExceeded"),
            [("Warning", "ProgressDeadlineExceeded")],
        ),
    ],
    ids=["no-child", "old-template", "not-observed", "half-rolled", "available", "deadline"],
)
def test_phase_and_conditions_follow_the_child_deployment(child, phase, ready, degraded, events):
    first = reconcile(spec(), Observed(owner=OWNER), NOW)
    deployments = {} if child is None else {"stable": child}
    plan = reconcile(
        spec(), Observed(owner=OWNER, status=first.status, deployments=deployments), NOW
    )
    conditions = {c["type"]: (c["status"], c["reason"]) for c in plan.status["conditions"]}
    assert plan.status["phase"] == phase
    assert conditions["Ready"] == ready
    assert conditions["Degraded"] == degraded
    assert [(e.type, e.reason) for e in plan.events] == events


def test_lost_availability_is_degraded_then_recovered():
    observed = Observed(
        owner=OWNER, status=ready_status(), deployments={"stable": dep(available=1)}
    )
    degraded = reconcile(spec(), observed, NOW)
    conditions = {c["type"]: (c["status"], c["reason"]) for c in degraded.status["conditions"]}
    assert conditions["Degraded"] == ("True", "Unavailable")
    assert conditions["Ready"] == ("False", "Unavailable")
    assert degraded.events == (
        EventSpec("Warning", "Unavailable", "version 3 lost availability (1/2 replicas available)"),
    )
    healed = reconcile(
        spec(), Observed(owner=OWNER, status=degraded.status, deployments={"stable": dep()}), NOW
    )
    assert [(e.type, e.reason) for e in healed.events] == [
        ("Normal", "Available"),
        ("Normal", "Recovered"),
    ]


def test_scaled_to_zero_is_stable_but_not_ready():
    observed = Observed(
        owner=OWNER,
        status=ready_status(),
        deployments={"stable": dep(replicas=0, available=0, updated=0)},
    )
    plan = reconcile(spec(replicas=0), observed, NOW)
    conditions = {c["type"]: (c["status"], c["reason"]) for c in plan.status["conditions"]}
    assert plan.status["phase"] == "Stable"
    assert conditions["Ready"] == ("False", "ScaledToZero")
    assert plan.apply[0]["spec"]["replicas"] == 0


def test_channel_deploys_the_resolved_version():
    observed = Observed(owner=OWNER, resolved_version="7")
    plan = reconcile(spec(version="@latest-approved"), observed, NOW)
    assert plan.status["resolvedVersion"] == "7"
    assert plan.status["stable"]["version"] == "7"
    env = plan.apply[0]["spec"]["template"]["spec"]["containers"][0]["env"]
    assert {"name": "MODELOPS_MODEL_VERSION", "value": "7"} in env


def test_channel_that_does_not_resolve_fails_without_children_and_retries():
    observed = Observed(owner=OWNER, resolve_error="no approved version of churn")
    plan = reconcile(spec(version="@latest-approved"), observed, NOW)
    assert plan.apply == ()
    assert plan.status["phase"] == "Failed"
    assert plan.requeue_after == 30.0
    message = "cannot resolve @latest-approved of model churn: no approved version of churn"
    assert plan.status["conditions"][2] == condition(
        "Degraded", "True", "VersionResolveFailed", message
    )
    assert plan.events == (EventSpec("Warning", "VersionResolveFailed", message),)


def test_channel_failure_keeps_serving_the_current_stable():
    observed = Observed(
        owner=OWNER, status=ready_status(), deployments={"stable": dep()}, resolve_error="timeout"
    )
    plan = reconcile(spec(version="@latest-approved"), observed, NOW)
    assert plan.status["stable"]["version"] == "3"
    assert plan.apply[0]["metadata"]["labels"]["modelops.io/model-version"] == "3"
    conditions = {c["type"]: (c["status"], c["reason"]) for c in plan.status["conditions"]}
    assert conditions["Ready"] == ("True", "Available")
    assert conditions["Degraded"] == ("True", "VersionResolveFailed")


def test_unsupported_strategy_keeps_stable_and_says_so():
    observed = Observed(owner=OWNER, status=ready_status(), deployments={"stable": dep()})
    plan = reconcile(spec(version="4", strategy="BlueGreen"), observed, NOW)
    assert plan.status["stable"]["version"] == "3"
    assert "previous" not in plan.status
    assert [(e.type, e.reason) for e in plan.events] == [("Warning", "StrategyNotSupported")]


def test_fields_owned_by_other_parts_are_preserved():
    extra = {
        "drift": {"method": "psi", "score": 0.1},
        "actions": {"promote": "tok"},
        "retraining": {"attempts": 1},
    }
    observed = Observed(owner=OWNER, status=ready_status(**extra), deployments={"stable": dep()})
    plan = reconcile(spec(), observed, NOW)
    for key, value in extra.items():
        assert plan.status[key] == value


def test_history_is_bounded():
    status = ready_status()
    status["history"] = [
        {"version": str(i), "image": IMAGE, "outcome": "Deployed", "reason": "x", "time": EARLIER}
        for i in range(HISTORY_LIMIT)
    ]
    plan = reconcile(
        spec(version="99"), Observed(owner=OWNER, status=status, deployments={"stable": dep()}), NOW
    )
    assert len(plan.status["history"]) == HISTORY_LIMIT
    assert plan.status["history"][-1]["version"] == "99"
    assert plan.status["history"][0]["version"] == "1"


def test_leftover_canary_is_deleted_under_immediate():
    observed = Observed(
        owner=OWNER,
        status=ready_status(),
        deployments={"stable": dep(), "canary": dep(version="4")},
    )
    plan = reconcile(spec(), observed, NOW)
    assert [(d.kind, d.name) for d in plan.delete] == [("Deployment", "churn-canary")]


def test_observed_generation_follows_the_owner():
    owner = Owner(name="churn", namespace="ml", uid="uid-1", generation=7)
    plan = reconcile(spec(), Observed(owner=owner), NOW)
    assert plan.status["observedGeneration"] == 7
    assert all(c["observedGeneration"] == 7 for c in plan.status["conditions"])


def test_deployment_state_from_api_object():
    obj = {
        "metadata": {"generation": 4, "labels": {"modelops.io/model-version": "3"}},
        "spec": {"replicas": 2, "template": {"spec": {"containers": [{"image": "img:1"}]}}},
        "status": {
            "observedGeneration": 4,
            "updatedReplicas": 2,
            "readyReplicas": 2,
            "availableReplicas": 2,
            "conditions": [{"type": "Progressing", "reason": "ProgressDeadlineExceeded"}],
        },
    }
    state = DeploymentState.from_object(obj)
    assert state == DeploymentState(4, 4, 2, 2, 2, 2, 0, "3", "img:1", True)
    assert state.runs("3", "img:1") and state.rolled_out()
