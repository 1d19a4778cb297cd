"""GatewayAPI: exact weights on an HTTPRoute with one backend per track.

The operator owns one HTTPRoute (spec.rollout.trafficRouter.gatewayAPI
.httpRouteName, default the ModelDeployment's name) attached to the user's
Gateways, with two backendRefs: the `<name>-stable` and `<name>-canary`
Services, each selecting only its track's pods. The weights are the canary
weight and its complement. The shared `<name>` Service (both tracks) is kept
for in-cluster callers that bypass the Gateway.

Replicas: stable keeps all `n` pods (it must absorb the traffic if the canary
is rolled back at any instant); the canary gets enough pods for its share,
round-up(n * w / 100), at least one while the weight is above zero.
"""

from __future__ import annotations

from typing import Any

from modelops_operator import builders
from modelops_operator.api import names
from modelops_operator.api.objects import Owner
from modelops_operator.api.spec import Spec

GATEWAY_GROUP = "gateway.networking.k8s.io"
HTTPROUTE_API_VERSION = f"{GATEWAY_GROUP}/v1"


def route_name(owner: Owner, spec: Spec) -> str:
    return spec.router.gateway.http_route_name or owner.name


def track_service_name(md_name: str, track: str) -> str:
    return f"{md_name}-{track}"


def track_service(owner: Owner, track: str, version: str) -> dict[str, Any]:
    """A Service selecting only one track's pods: one HTTPRoute backend."""
    body = builders.service(owner, version=version)
    body["metadata"]["name"] = track_service_name(owner.name, track)
    body["metadata"]["labels"] = builders.labels(owner.name, track, version)
    body["spec"]["selector"] = builders.selector(owner.name, track)
    return body


def http_route(owner: Owner, spec: Spec, weight: int, version: str) -> dict[str, Any]:
    settings = spec.router.gateway
    parents = []
    for ref in settings.parent_refs:
        parent = {"group": ref["group"], "kind": ref["kind"], "name": ref["name"]}
        for key in ("namespace", "sectionName"):
            if ref.get(key):
                parent[key] = ref[key]
        parents.append(parent)
    backends = [
        {
            "group": "",
            "kind": "Service",
            "name": track_service_name(owner.name, track),
            "port": builders.SERVICE_PORT,
            "weight": share,
        }
        for track, share in ((names.TRACK_STABLE, 100 - weight), (names.TRACK_CANARY, weight))
    ]
    route: dict[str, Any] = {
        "apiVersion": HTTPROUTE_API_VERSION,
        "kind": "HTTPRoute",
        "metadata": {
            "name": route_name(owner, spec),
            "namespace": owner.namespace,
            "labels": builders.labels(owner.name, names.TRACK_STABLE, version),
            "ownerReferences": [builders.owner_reference(owner)],
        },
        "spec": {
            "parentRefs": parents,
            "rules": [{"backendRefs": backends}],
        },
    }
    if settings.hostnames:
        route["spec"]["hostnames"] = list(settings.hostnames)
    return route


class GatewayAPIRouter:
    type = "GatewayAPI"

    def replicas(self, replicas: int, weight: int) -> tuple[int, int]:
        if not 0 <= weight <= 100:
            raise ValueError(f"canary weight must be within 0..100, got {weight}")
        if weight == 0:
            return replicas, 0
        return replicas, max(1, -(-replicas * weight // 100))

    def objects(
        self, owner: Owner, spec: Spec, *, stable_version: str, weight: int
    ) -> list[dict[str, Any]]:
        return [
            builders.service(owner, version=stable_version),
            track_service(owner, names.TRACK_STABLE, stable_version),
            track_service(owner, names.TRACK_CANARY, stable_version),
            http_route(owner, spec, weight, stable_version),
        ]
