"""spec.rollout as the operator reads it: the strategy, a Canary's steps and pacing,
the traffic router and the analysis each step is judged by.

Each `parse_*` function takes the rollout section (a mapping, possibly empty)
and applies the defaults of spec_defaults; `Spec` caches what they return.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from modelops_operator.api.spec_defaults import Duration, SpecError, default, field, mapping

IMMEDIATE = "Immediate"
CANARY = "Canary"


@dataclass(frozen=True)
class RolloutSpec:
    """The rollout settings a Canary walks (spec.rollout)."""

    steps: tuple[int, ...]
    interval: Duration
    progress_deadline: Duration


@dataclass(frozen=True)
class GatewayRoute:
    """spec.rollout.trafficRouter.gatewayAPI."""

    http_route_name: str | None
    parent_refs: tuple[Mapping[str, Any], ...]
    hostnames: tuple[str, ...]


@dataclass(frozen=True)
class RouterSpec:
    type: str
    gateway: GatewayRoute


@dataclass(frozen=True)
class PrometheusRef:
    address: str
    timeout: str  # parsed by the provider that uses it, which reports a bad one as inconclusive


@dataclass(frozen=True)
class AnalysisSpec:
    """spec.rollout.analysis: where the numbers come from and what a step must show."""

    prometheus: PrometheusRef | None
    min_requests: int
    failure_limit: int
    metrics: tuple[Mapping[str, Any], ...]


def parse_strategy(rollout: Mapping[str, Any]) -> str:
    # An empty string counts as unset (an object stored before the enum).
    return str(rollout.get("strategy") or default("spec.rollout.strategy"))


def parse_steps(rollout: Mapping[str, Any]) -> tuple[int, ...]:
    steps = tuple(int(s) for s in (rollout.get("steps") or default("spec.rollout.steps")))
    if any(not 1 <= s <= 99 for s in steps) or list(steps) != sorted(set(steps)):
        raise SpecError(
            "spec.rollout.steps",
            f"spec.rollout.steps must be strictly ascending within 1..99, got {list(steps)}",
        )
    return steps


def parse_interval(rollout: Mapping[str, Any]) -> Duration:
    text = rollout.get("interval") or default("spec.rollout.interval")
    return Duration.parse(text, "spec.rollout.interval")


def parse_progress_deadline(rollout: Mapping[str, Any]) -> Duration:
    text = rollout.get("progressDeadline") or default("spec.rollout.progressDeadline")
    return Duration.parse(text, "spec.rollout.progressDeadline")


def parse_router(rollout: Mapping[str, Any]) -> RouterSpec:
    router = mapping(field(rollout, "trafficRouter", "spec.rollout.trafficRouter"))
    gateway = mapping(router.get("gatewayAPI"))
    parents = tuple(
        {
            **ref,
            "group": field(
                ref, "group", "spec.rollout.trafficRouter.gatewayAPI.parentRefs[].group"
            ),
            "kind": field(ref, "kind", "spec.rollout.trafficRouter.gatewayAPI.parentRefs[].kind"),
        }
        for ref in gateway.get("parentRefs") or ()
    )
    return RouterSpec(
        type=str(router.get("type") or default("spec.rollout.trafficRouter.type")),
        gateway=GatewayRoute(
            http_route_name=gateway.get("httpRouteName") or None,
            parent_refs=parents,
            hostnames=tuple(gateway.get("hostnames") or ()),
        ),
    )


def parse_analysis(rollout: Mapping[str, Any]) -> AnalysisSpec:
    analysis = mapping(rollout.get("analysis"))
    prometheus = mapping(analysis.get("prometheus"))
    metrics = analysis.get("metrics")
    return AnalysisSpec(
        prometheus=PrometheusRef(
            address=str(prometheus["address"]),
            timeout=str(field(prometheus, "timeout", "spec.rollout.analysis.prometheus.timeout")),
        )
        if prometheus.get("address")
        else None,
        # Zero counts as unset: the CRD's minimum is 1.
        min_requests=int(
            analysis.get("minRequests") or default("spec.rollout.analysis.minRequests")
        ),
        failure_limit=int(
            analysis.get("failureLimit") or default("spec.rollout.analysis.failureLimit")
        ),
        # An explicit empty list stays empty: an analysis that measures nothing
        # is inconclusive, never replaced by the defaults.
        metrics=tuple(metrics if metrics is not None else default("spec.rollout.analysis.metrics")),
    )
