"""Traffic routers: the replica rounding table and the objects each router applies."""

from __future__ import annotations

import pytest

from modelops_operator.api.objects import Owner
from modelops_operator.api.spec import Spec
from modelops_operator.rollout.routers import UnknownRouter, router_for
from modelops_operator.rollout.routers.gateway_api import GatewayAPIRouter
from modelops_operator.rollout.routers.replica_ratio import ReplicaRatioRouter, split

OWNER = Owner(name="churn", namespace="ml", uid="uid-1")


@pytest.mark.parametrize(
    ("replicas", "weight", "expected"),
    [
        (2, 0, (2, 0)),
        (2, 100, (0, 2)),
        (1, 10, (1, 1)),  # n = 1: one pod of surge is the only way to give the canary traffic
        (1, 50, (1, 1)),
        (1, 99, (1, 1)),
        (2, 10, (1, 1)),  # 0.2 rounds to 0, raised to the minimum of one canary pod
        (2, 25, (1, 1)),  # 0.5 rounds half up to 1
        (2, 50, (1, 1)),
        (2, 90, (1, 2)),  # 1.8 -> 2 canary pods; stable keeps one: n + 1 total
        (4, 10, (3, 1)),
        (4, 25, (3, 1)),
        (4, 50, (2, 2)),
        (10, 25, (7, 3)),  # 2.5 rounds half up to 3, not banker's 2
        (10, 15, (8, 2)),  # 1.5 -> 2
        (10, 5, (9, 1)),
        (10, 99, (1, 10)),
        (0, 10, (0, 1)),  # scaled to zero: one canary pod so the rollout can be analysed
    ],
)
def test_replica_ratio_rounding_table(replicas, weight, expected):
    assert split(replicas, weight) == expected


@pytest.mark.parametrize("replicas", range(0, 13))
def test_replica_ratio_invariants(replicas):
    for weight in range(1, 100):
        stable, canary = split(replicas, weight)
        where = f"replicas={replicas} weight={weight}: ({stable}, {canary})"
        assert canary >= 1, f"a positive weight left the canary without pods, {where}"
        assert stable + canary <= replicas + 1, f"more than one pod of surge, {where}"
        if replicas >= 1:
            assert stable >= 1, f"stable lost its pods before promotion, {where}"


@pytest.mark.parametrize(("replicas", "weight"), [(-1, 10), (2, -1), (2, 101)])
def test_replica_ratio_refuses_out_of_range(replicas, weight):
    with pytest.raises(ValueError, match=r"replicas|weight"):
        split(replicas, weight)


def test_replica_ratio_routes_through_the_shared_service_only():
    objects = ReplicaRatioRouter().objects(OWNER, Spec({}), stable_version="3", weight=25)
    assert [(o["kind"], o["metadata"]["name"]) for o in objects] == [("Service", "churn")]
    assert "modelops.io/track" not in objects[0]["spec"]["selector"]


def gateway_spec(**extra):
    settings = {"parentRefs": [{"name": "web", "namespace": "gw"}], **extra}
    return {"rollout": {"trafficRouter": {"type": "GatewayAPI", "gatewayAPI": settings}}}


def test_gateway_router_builds_weighted_httproute_and_track_services():
    objects = GatewayAPIRouter().objects(
        OWNER, Spec(gateway_spec(hostnames=["churn.example.com"])), stable_version="3", weight=25
    )
    kinds = [(o["kind"], o["metadata"]["name"]) for o in objects]
    assert kinds == [
        ("Service", "churn"),
        ("Service", "churn-stable"),
        ("Service", "churn-canary"),
        ("HTTPRoute", "churn"),
    ]
    assert objects[1]["spec"]["selector"] == {
        "modelops.io/deployment": "churn",
        "modelops.io/track": "stable",
    }
    assert objects[2]["spec"]["selector"]["modelops.io/track"] == "canary"
    route = objects[3]
    assert route["apiVersion"] == "gateway.networking.k8s.io/v1"
    assert route["spec"]["hostnames"] == ["churn.example.com"]
    assert route["spec"]["parentRefs"] == [
        {"group": "gateway.networking.k8s.io", "kind": "Gateway", "name": "web", "namespace": "gw"}
    ]
    backends = route["spec"]["rules"][0]["backendRefs"]
    assert [(b["name"], b["weight"], b["port"]) for b in backends] == [
        ("churn-stable", 75, 80),
        ("churn-canary", 25, 80),
    ]
    assert route["metadata"]["ownerReferences"][0]["uid"] == "uid-1"


def test_gateway_router_uses_the_named_route():
    objects = GatewayAPIRouter().objects(
        OWNER, Spec(gateway_spec(httpRouteName="churn-public")), stable_version="3", weight=0
    )
    assert objects[-1]["metadata"]["name"] == "churn-public"
    weights = [b["weight"] for b in objects[-1]["spec"]["rules"][0]["backendRefs"]]
    assert weights == [100, 0]


@pytest.mark.parametrize(
    ("replicas", "weight", "expected"),
    [(2, 0, (2, 0)), (2, 10, (2, 1)), (2, 50, (2, 1)), (4, 60, (4, 3)), (0, 10, (0, 1))],
)
def test_gateway_router_keeps_stable_at_full_capacity(replicas, weight, expected):
    assert GatewayAPIRouter().replicas(replicas, weight) == expected


def test_factory_picks_by_type_and_refuses_unknown():
    assert router_for(Spec({})).type == "ReplicaRatio"
    assert router_for(Spec(gateway_spec())).type == "GatewayAPI"
    with pytest.raises(UnknownRouter, match=r"spec\.rollout\.trafficRouter\.type 'Istio'"):
        router_for(Spec({"rollout": {"trafficRouter": {"type": "Istio"}}}))
