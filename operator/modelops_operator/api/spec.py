"""The ModelDeployment spec as the operator reads it: typed, every default in one place.

`DEFAULTS` holds each default the CRD declares (`default:` in
crds/modeldeployments.yaml), by field path; tests/unit/operator/api/test_spec.py
walks the CRD and fails on any difference, so the operator and the API
server cannot disagree on a default. `OPERATOR_DEFAULTS` holds the defaults
the CRD leaves to the operator. Every other part reads the spec through
`Spec` and never looks at the raw dict, so a default is applied once, here.

Why defaults are applied at all when the API server already fills them in:
an object stored under an older CRD (or created while the CRD had no
default) does not carry them, and the operator must still act on it.

Sections parse on first use and raise `SpecError` naming the field. The
CRD refuses every malformed value, so this only meets objects stored under
an older CRD; parsing per section lets such an object keep its stable
version served while the one broken section is reported (the rollout, for
example, reports a bad `steps` as Degraded and keeps stable untouched).
"""

from __future__ import annotations

import copy
from collections.abc import Mapping
from dataclasses import dataclass
from functools import cached_property
from typing import Any

from modelops_operator.api import names
from modelops_operator.api.durations import parse_duration

DEFAULTS: dict[str, Any] = {
    "spec.imagePullPolicy": "IfNotPresent",
    "spec.replicas": 1,
    "spec.resources": {"requests": {"cpu": "100m", "memory": "256Mi"}, "limits": {"memory": "1Gi"}},
    "spec.rollout": {},
    "spec.rollout.strategy": "Immediate",
    "spec.rollout.interval": "60s",
    "spec.rollout.progressDeadline": "10m",
    "spec.rollout.trafficRouter": {},
    "spec.rollout.trafficRouter.type": "ReplicaRatio",
    "spec.rollout.trafficRouter.gatewayAPI.parentRefs[].group": "gateway.networking.k8s.io",
    "spec.rollout.trafficRouter.gatewayAPI.parentRefs[].kind": "Gateway",
    "spec.rollout.analysis.prometheus.timeout": "10s",
    "spec.rollout.analysis.minRequests": 100,
    "spec.rollout.analysis.failureLimit": 2,
    "spec.rollout.analysis.metrics": [
        {"name": "error-rate", "max": 0.01},
        {"name": "latency-p99", "max": 0.5},
    ],
    "spec.monitoring.drift.method": "psi",
    "spec.monitoring.drift.threshold": 0.2,
    "spec.monitoring.drift.window": "1h",
    "spec.monitoring.drift.minSamples": 1000,
    "spec.monitoring.drift.interval": "5m",
    "spec.monitoring.performance.window": "24h",
    "spec.monitoring.performance.minLabelledSamples": 200,
    "spec.monitoring.performance.interval": "10m",
    "spec.retraining.triggerOnDrift": True,
    "spec.retraining.triggerOnPerformance": True,
    "spec.retraining.cooldown": "6h",
    "spec.retraining.maxAttempts": 3,
    # The gates are handed to the retraining Job as written (MODELOPS_GATES):
    # the API server fills these two in when `gates` is given, and
    # `modelops train` applies its own defaults when it is not.
    "spec.retraining.gates.maxRegression": 0.01,
    "spec.retraining.gates.maxFairnessGap": 0.05,
    "spec.batch.scorer": "churn",
    "spec.batch.shards": 1,
    "spec.batch.maxRejectRate": 0,
    "spec.batch.concurrencyPolicy": "Forbid",
}

# Defaults the CRD does not declare. The steps belong to Canary only, so the
# CRD leaves them out (a step list is then always the user's, and refused
# where it would be ignored); the operator walks these when a Canary omits them.
OPERATOR_DEFAULTS: dict[str, Any] = {
    "spec.rollout.steps": (10, 25, 50),
}

IMMEDIATE = "Immediate"
CANARY = "Canary"


class SpecError(ValueError):
    """A spec field the operator cannot act on; the message names the field."""

    def __init__(self, field: str, message: str) -> None:
        super().__init__(message)
        self.field = field


def _default(path: str) -> Any:
    # A copy, so no caller can change the table.
    return copy.deepcopy(DEFAULTS[path] if path in DEFAULTS else OPERATOR_DEFAULTS[path])


def _get(section: Mapping[str, Any] | None, key: str, path: str) -> Any:
    """section[key], or the default of `path` when the key is absent or null."""
    value = (section or {}).get(key)
    return _default(path) if value is None else value


def _section(value: Any) -> Mapping[str, Any]:
    return value if isinstance(value, Mapping) else {}


@dataclass(frozen=True)
class Duration:
    """A duration as written (for messages) and in seconds."""

    text: str
    seconds: float

    @classmethod
    def parse(cls, text: Any, field: str) -> Duration:
        try:
            return cls(str(text), parse_duration(text, field=field))
        except ValueError as exc:
            raise SpecError(field, str(exc)) from exc


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


@dataclass(frozen=True)
class DriftSpec:
    """spec.monitoring.drift; present (even empty) means drift is measured."""

    method: str
    threshold: float
    window: Duration
    min_samples: int
    interval: Duration


# Live quality metrics spec.monitoring.performance may judge, as modelops_features.quality
# names them; the direction of each threshold is implied by the metric.
PERFORMANCE_METRICS = (
    "auc",
    "accuracy",
    "logloss",
    "ece",
    "fairness_gap",
    "top1_accuracy",
    "top3_accuracy",
)
LOWER_IS_BETTER = frozenset({"logloss", "ece", "fairness_gap"})


@dataclass(frozen=True)
class PerformanceSpec:
    """spec.monitoring.performance; present means live quality is judged from labelled outcomes."""

    metric: str
    threshold: float
    window: Duration
    min_labelled_samples: int
    interval: Duration

    @property
    def lower_is_better(self) -> bool:
        """logloss, ece and fairness_gap degrade upwards; the others downwards."""
        return self.metric in LOWER_IS_BETTER

    def breached(self, value: float) -> bool:
        """Whether a live value is past the threshold, in the metric's direction."""
        return value > self.threshold if self.lower_is_better else value < self.threshold


@dataclass(frozen=True)
class RetrainingSpec:
    """spec.retraining; present means retraining Jobs may be started."""

    job_template: Mapping[str, Any]
    cooldown: Duration
    max_attempts: int
    gates: Mapping[str, Any]
    trigger_on_drift: bool
    trigger_on_performance: bool = True


@dataclass(frozen=True)
class BatchSpec:
    """spec.batch; present means batch scoring runs (on request, and on `schedule` if given)."""

    data: str  # input file, folder, glob or URL (`modelops score --data`)
    out: str  # output prefix; each run writes its own folder under it
    scorer: str  # the scoring code (`modelops score --model`): churn or learning-path
    shards: int  # the Indexed Job's completions
    parallelism: int  # pods at a time (default: every shard at once)
    max_reject_rate: float
    schedule: str | None  # cron: a CronJob; None: runs only when asked
    concurrency_policy: str  # the CronJob's (Forbid by default: a run never overlaps the last)
    job_template: Mapping[str, Any]  # like spec.retraining.jobTemplate, under the same rules


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
        model = _section(self.raw.get("model"))
        return ModelRef(name=str(model.get("name", "")), version=str(model.get("version", "")))

    @property
    def image(self) -> str:
        return str(self.raw.get("image", ""))

    @cached_property
    def registry(self) -> RegistryRef:
        registry = _section(self.raw.get("registry"))
        secret = _section(registry.get("credentialsSecretRef")).get("name")
        return RegistryRef(uri=str(registry.get("uri", "")), credentials_secret=secret or None)

    @property
    def replicas(self) -> int:
        return int(_get(self.raw, "replicas", "spec.replicas"))

    @property
    def image_pull_policy(self) -> str:
        return str(_get(self.raw, "imagePullPolicy", "spec.imagePullPolicy"))

    @property
    def resources(self) -> Mapping[str, Any]:
        # An empty object counts as unset, as it always has for the serving pods.
        return self.raw.get("resources") or _default("spec.resources")

    @property
    def env(self) -> tuple[Mapping[str, Any], ...]:
        return tuple(self.raw.get("env") or ())

    # --- rollout ----------------------------------------------------------------------

    @cached_property
    def _rollout(self) -> Mapping[str, Any]:
        return _section(_get(self.raw, "rollout", "spec.rollout"))

    @property
    def strategy(self) -> str:
        # An empty string counts as unset (an object stored before the enum).
        return str(self._rollout.get("strategy") or _default("spec.rollout.strategy"))

    @cached_property
    def steps(self) -> tuple[int, ...]:
        steps = tuple(
            int(s) for s in (self._rollout.get("steps") or _default("spec.rollout.steps"))
        )
        if any(not 1 <= s <= 99 for s in steps) or list(steps) != sorted(set(steps)):
            raise SpecError(
                "spec.rollout.steps",
                f"spec.rollout.steps must be strictly ascending within 1..99, got {list(steps)}",
            )
        return steps

    @cached_property
    def interval(self) -> Duration:
        text = self._rollout.get("interval") or _default("spec.rollout.interval")
        return Duration.parse(text, "spec.rollout.interval")

    @cached_property
    def progress_deadline(self) -> Duration:
        text = self._rollout.get("progressDeadline") or _default("spec.rollout.progressDeadline")
        return Duration.parse(text, "spec.rollout.progressDeadline")

    @property
    def rollout(self) -> RolloutSpec:
        """The canary's settings; raises SpecError for the first field it cannot use."""
        return RolloutSpec(self.steps, self.interval, self.progress_deadline)

    @cached_property
    def router(self) -> RouterSpec:
        router = _section(_get(self._rollout, "trafficRouter", "spec.rollout.trafficRouter"))
        gateway = _section(router.get("gatewayAPI"))
        parents = tuple(
            {
                **ref,
                "group": _get(
                    ref, "group", "spec.rollout.trafficRouter.gatewayAPI.parentRefs[].group"
                ),
                "kind": _get(
                    ref, "kind", "spec.rollout.trafficRouter.gatewayAPI.parentRefs[].kind"
                ),
            }
            for ref in gateway.get("parentRefs") or ()
        )
        return RouterSpec(
            type=str(router.get("type") or _default("spec.rollout.trafficRouter.type")),
            gateway=GatewayRoute(
                http_route_name=gateway.get("httpRouteName") or None,
                parent_refs=parents,
                hostnames=tuple(gateway.get("hostnames") or ()),
            ),
        )

    @cached_property
    def analysis(self) -> AnalysisSpec:
        analysis = _section(self._rollout.get("analysis"))
        prometheus = _section(analysis.get("prometheus"))
        metrics = analysis.get("metrics")
        return AnalysisSpec(
            prometheus=PrometheusRef(
                address=str(prometheus["address"]),
                timeout=str(
                    _get(prometheus, "timeout", "spec.rollout.analysis.prometheus.timeout")
                ),
            )
            if prometheus.get("address")
            else None,
            # Zero counts as unset: the CRD's minimum is 1.
            min_requests=int(
                analysis.get("minRequests") or _default("spec.rollout.analysis.minRequests")
            ),
            failure_limit=int(
                analysis.get("failureLimit") or _default("spec.rollout.analysis.failureLimit")
            ),
            # An explicit empty list stays empty: an analysis that measures nothing
            # is inconclusive, never replaced by the defaults.
            metrics=tuple(
                metrics if metrics is not None else _default("spec.rollout.analysis.metrics")
            ),
        )

    # --- monitoring and retraining ------------------------------------------------------

    @property
    def drift_prometheus(self) -> str | None:
        """spec.monitoring.prometheus.address, else the canary analysis' Prometheus."""
        monitoring = _section(_section(self.raw.get("monitoring")).get("prometheus"))
        if monitoring.get("address"):
            return str(monitoring["address"])
        analysis = self.analysis.prometheus
        return analysis.address if analysis is not None else None

    @cached_property
    def drift(self) -> DriftSpec | None:
        """Drift settings, or None when drift is not monitored."""
        drift = _section(self.raw.get("monitoring")).get("drift")
        if drift is None:
            return None
        drift = _section(drift)
        return DriftSpec(
            method=str(_get(drift, "method", "spec.monitoring.drift.method")),
            threshold=float(_get(drift, "threshold", "spec.monitoring.drift.threshold")),
            window=Duration.parse(
                _get(drift, "window", "spec.monitoring.drift.window"),
                "spec.monitoring.drift.window",
            ),
            min_samples=int(_get(drift, "minSamples", "spec.monitoring.drift.minSamples")),
            interval=Duration.parse(
                _get(drift, "interval", "spec.monitoring.drift.interval"),
                "spec.monitoring.drift.interval",
            ),
        )

    @cached_property
    def retraining(self) -> RetrainingSpec | None:
        """Retraining settings, or None when the spec asks for no retraining."""
        retraining = self.raw.get("retraining")
        if not retraining:
            return None
        template = retraining.get("jobTemplate")
        if not isinstance(template, Mapping):
            raise SpecError(
                "spec.retraining.jobTemplate",
                "spec.retraining.jobTemplate: a batch/v1 Job template is required",
            )
        return RetrainingSpec(
            job_template=template,
            cooldown=Duration.parse(
                _get(retraining, "cooldown", "spec.retraining.cooldown"), "spec.retraining.cooldown"
            ),
            max_attempts=int(_get(retraining, "maxAttempts", "spec.retraining.maxAttempts")),
            gates=dict(retraining.get("gates") or {}),
            trigger_on_drift=bool(
                _get(retraining, "triggerOnDrift", "spec.retraining.triggerOnDrift")
            ),
            trigger_on_performance=bool(
                _get(retraining, "triggerOnPerformance", "spec.retraining.triggerOnPerformance")
            ),
        )

    @cached_property
    def performance(self) -> PerformanceSpec | None:
        """Live-quality settings, or None when performance is not monitored."""
        section = _section(self.raw.get("monitoring")).get("performance")
        if section is None:
            return None
        section = _section(section)
        metric = str(section.get("metric", ""))
        if metric not in PERFORMANCE_METRICS:
            raise SpecError(
                "spec.monitoring.performance.metric",
                f"spec.monitoring.performance.metric must be one of "
                f"{', '.join(PERFORMANCE_METRICS)}, got {metric!r}",
            )
        threshold = section.get("threshold")
        if isinstance(threshold, bool) or not isinstance(threshold, int | float):
            raise SpecError(
                "spec.monitoring.performance.threshold",
                f"spec.monitoring.performance.threshold must be a number, got {threshold!r}",
            )
        prefix = "spec.monitoring.performance"
        return PerformanceSpec(
            metric=metric,
            threshold=float(threshold),
            window=Duration.parse(_get(section, "window", f"{prefix}.window"), f"{prefix}.window"),
            min_labelled_samples=int(
                _get(section, "minLabelledSamples", f"{prefix}.minLabelledSamples")
            ),
            interval=Duration.parse(
                _get(section, "interval", f"{prefix}.interval"), f"{prefix}.interval"
            ),
        )

    @property
    def log_store(self) -> str:
        """Where the serving pods write the inference log and feedback: MODELOPS_LOG_URI
        from spec.env, else the registry (the bentos' own default)."""
        for entry in self.env:
            if entry.get("name") == "MODELOPS_LOG_URI" and entry.get("value"):
                return str(entry["value"])
        return self.registry.uri

    @cached_property
    def batch(self) -> BatchSpec | None:
        """Batch scoring settings, or None when the spec asks for none."""
        batch = self.raw.get("batch")
        if not batch:
            return None
        template = batch.get("jobTemplate")
        if not isinstance(template, Mapping):
            raise SpecError(
                "spec.batch.jobTemplate",
                "spec.batch.jobTemplate: a batch/v1 Job template (its pod: image, env, "
                "resources) is required",
            )
        for key in ("data", "out"):
            if not batch.get(key):
                raise SpecError(f"spec.batch.{key}", f"spec.batch.{key} is required")
        shards = int(_get(batch, "shards", "spec.batch.shards"))
        return BatchSpec(
            data=str(batch["data"]),
            out=str(batch["out"]),
            scorer=str(_get(batch, "scorer", "spec.batch.scorer")),
            shards=shards,
            parallelism=int(batch.get("parallelism") or shards),
            max_reject_rate=float(_get(batch, "maxRejectRate", "spec.batch.maxRejectRate")),
            schedule=str(batch["schedule"]) if batch.get("schedule") else None,
            concurrency_policy=str(
                _get(batch, "concurrencyPolicy", "spec.batch.concurrencyPolicy")
            ),
            job_template=template,
        )

    @property
    def watches_drift(self) -> bool:
        """Whether the object asks for drift monitoring or retraining at all."""
        monitoring = _section(self.raw.get("monitoring"))
        # An empty drift object still asks for drift (with the defaults).
        return (
            monitoring.get("drift") is not None
            or monitoring.get("performance") is not None
            or bool(self.raw.get("retraining"))
        )
