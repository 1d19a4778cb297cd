"""Traffic routers: how a canary weight becomes traffic.

A router is a small protocol (two methods, as Flagger keeps its routers small):
`replicas` splits the requested capacity between the tracks, `objects` builds
the routing objects (Services, HTTPRoute) to apply for a weight. One file per
router; `router_for` refuses an unknown type instead of falling back silently,
because a rollout that silently sends no traffic to the canary would pass its
analysis on zero evidence.
"""

from __future__ import annotations

from typing import Any, Protocol

from modelops_operator.api.objects import Owner
from modelops_operator.api.spec import Spec


class TrafficRouter(Protocol):
    type: str

    def replicas(self, replicas: int, weight: int) -> tuple[int, int]:
        """(stable, canary) replica counts for `replicas` requested and `weight` percent."""
        ...

    def objects(
        self, owner: Owner, spec: Spec, *, stable_version: str, weight: int
    ) -> list[dict[str, Any]]:
        """Routing objects to apply (server-side apply) for the canary `weight` percent."""
        ...


class UnknownRouter(ValueError):
    """spec.rollout.trafficRouter.type names a router this operator does not have."""


def router_for(spec: Spec) -> TrafficRouter:
    """The router the spec asks for; raises UnknownRouter naming the field otherwise."""
    from modelops_operator.rollout.routers.gateway_api import GatewayAPIRouter
    from modelops_operator.rollout.routers.replica_ratio import ReplicaRatioRouter

    kind = spec.router.type
    routers: dict[str, type] = {"ReplicaRatio": ReplicaRatioRouter, "GatewayAPI": GatewayAPIRouter}
    if kind not in routers:
        raise UnknownRouter(
            f"spec.rollout.trafficRouter.type {kind!r} is not supported "
            f"(supported: {', '.join(sorted(routers))})"
        )
    return routers[kind]()
