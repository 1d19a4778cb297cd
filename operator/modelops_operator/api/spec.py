"""The ModelDeployment spec as the operator reads it: `Spec`, typed, every default in one place.

Every other part reads the spec through `Spec` and never looks at the raw
dict, so a default is applied once. The defaults themselves and the field
readers live in spec_defaults; each section is parsed by its own module
(spec_rollout, spec_monitoring, spec_retraining, spec_batch). This module
holds what is served (model, image, registry, pods) and re-exports the
sections' public names, so `from modelops_operator.api.spec import ...`
reaches all of them.

Sections parse on first use and raise `SpecError` naming the field. The
CRD refuses every malformed value, so this only meets objects stored under
an older CRD; parsing per section lets such an object keep its stable
version served while the one broken section is reported (the rollout, for
example, reports a bad `steps` as Degraded and keeps stable untouched).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from functools import cached_property
from typing import Any

from modelops_operator.api import names
from modelops_operator.api.spec_batch import BatchSpec, parse_batch
from modelops_operator.api.spec_defaults import (
    DEFAULTS,
    OPERATOR_DEFAULTS,
    Duration,
    SpecError,
    default,
    field,
    mapping,
)
from modelops_operator.api.spec_monitoring import (
    LOWER_IS_BETTER,
    PERFORMANCE_METRICS,
    DriftSpec,
    PerformanceSpec,
    parse_drift,
    parse_performance,
)
from modelops_operator.api.spec_retraining import RetrainingSpec, parse_retraining
from modelops_operator.api.spec_rollout import (
    CANARY,
    IMMEDIATE,
    AnalysisSpec,
    GatewayRoute,
    PrometheusRef,
    RolloutSpec,
    RouterSpec,
    parse_analysis,
    parse_interval,
    parse_progress_deadline,
    parse_router,
    parse_steps,
    parse_strategy,
)

__all__ = [
    "CANARY",
    "DEFAULTS",
    "IMMEDIATE",
    "LOWER_IS_BETTER",
    "OPERATOR_DEFAULTS",
    "PERFORMANCE_METRICS",
    "AnalysisSpec",
    "BatchSpec",
    "DriftSpec",
    "Duration",
    "GatewayRoute",
    "ModelRef",
    "PerformanceSpec",
    "PrometheusRef",
    "RegistryRef",
    "RetrainingSpec",
    "RolloutSpec",
    "RouterSpec",
    "Spec",
    "SpecError",
]


@dataclass(frozen=True)
class ModelRef:
    name: str
    version: str  # a pinned version, or names.CHANNEL_LATEST_APPROVED

    @property
    def follows_channel(self) -> bool:
        return self.version == names.CHANNEL_LATEST_APPROVED


@dataclass(frozen=True)
class RegistryRef:
    uri: str
    credentials_secret: str | None  # a Secret whose keys become the serving pods' env


class Spec:
    """A ModelDeployment's spec, read through typed properties.

    Cheap to build (nothing is parsed up front) and immutable: the raw spec
    is never modified and every parsed section is cached.
    """

    def __init__(self, raw: Mapping[str, Any]) -> None:
        self.raw = raw

    @classmethod
    def of(cls, spec: Spec | Mapping[str, Any]) -> Spec:
        return spec if isinstance(spec, Spec) else cls(spec)

    # --- what is served ---------------------------------------------------------------

    @cached_property
    def model(self) -> ModelRef:
        model = mapping(self.raw.get("model"))
        return ModelRef(name=str(model.get("name", "")), version=str(model.get("version", "")))

    @property
    def image(self) -> str:
        return str(self.raw.get("image", ""))

    @cached_property
    def registry(self) -> RegistryRef:
        registry = mapping(self.raw.get("registry"))
        secret = mapping(registry.get("credentialsSecretRef")).get("name")
        return RegistryRef(uri=str(registry.get("uri", "")), credentials_secret=secret or None)

    @property
    def replicas(self) -> int:
        return int(field(self.raw, "replicas", "spec.replicas"))

    @property
    def image_pull_policy(self) -> str:
        return str(field(self.raw, "imagePullPolicy", "spec.imagePullPolicy"))

    @property
    def resources(self) -> Mapping[str, Any]:
        # An empty object counts as unset, as it always has for the serving pods.
        return self.raw.get("resources") or default("spec.resources")

    @property
    def env(self) -> tuple[Mapping[str, Any], ...]:
        return tuple(self.raw.get("env") or ())

    @property
    def log_store(self) -> str:
        """Where the serving pods write the inference log and feedback: MODELOPS_LOG_URI
        from spec.env, else the registry (the bentos' own default)."""
        for entry in self.env:
            if entry.get("name") == "MODELOPS_LOG_URI" and entry.get("value"):
                return str(entry["value"])
        return self.registry.uri

    # --- rollout (spec_rollout) ---------------------------------------------------------

    @cached_property
    def _rollout(self) -> Mapping[str, Any]:
        return mapping(field(self.raw, "rollout", "spec.rollout"))

    @property
    def strategy(self) -> str:
        return parse_strategy(self._rollout)

    @cached_property
    def steps(self) -> tuple[int, ...]:
        return parse_steps(self._rollout)

    @cached_property
    def interval(self) -> Duration:
        return parse_interval(self._rollout)

    @cached_property
    def progress_deadline(self) -> Duration:
        return parse_progress_deadline(self._rollout)

    @property
    def rollout(self) -> RolloutSpec:
        """The canary's settings; raises SpecError for the first field it cannot use."""
        return RolloutSpec(self.steps, self.interval, self.progress_deadline)

    @cached_property
    def router(self) -> RouterSpec:
        return parse_router(self._rollout)

    @cached_property
    def analysis(self) -> AnalysisSpec:
        return parse_analysis(self._rollout)

    # --- monitoring (spec_monitoring), retraining and batch ------------------------------

    @cached_property
    def _monitoring(self) -> Mapping[str, Any]:
        return mapping(self.raw.get("monitoring"))

    @property
    def drift_prometheus(self) -> str | None:
        """spec.monitoring.prometheus.address, else the canary analysis' Prometheus."""
        monitoring = mapping(self._monitoring.get("prometheus"))
        if monitoring.get("address"):
            return str(monitoring["address"])
        analysis = self.analysis.prometheus
        return analysis.address if analysis is not None else None

    @cached_property
    def drift(self) -> DriftSpec | None:
        """Drift settings, or None when drift is not monitored."""
        return parse_drift(self._monitoring)

    @cached_property
    def performance(self) -> PerformanceSpec | None:
        """Live-quality settings, or None when performance is not monitored."""
        return parse_performance(self._monitoring)

    @cached_property
    def retraining(self) -> RetrainingSpec | None:
        """Retraining settings, or None when the spec asks for no retraining."""
        return parse_retraining(self.raw.get("retraining"))

    @cached_property
    def batch(self) -> BatchSpec | None:
        """Batch scoring settings, or None when the spec asks for none."""
        return parse_batch(self.raw.get("batch"))

    @property
    def watches_drift(self) -> bool:
        """Whether the object asks for drift monitoring or retraining at all."""
        # An empty drift object still asks for drift (with the defaults).
        return (
            self._monitoring.get("drift") is not None
            or self._monitoring.get("performance") is not None
            or bool(self.raw.get("retraining"))
        )
