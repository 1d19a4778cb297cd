"""spec.monitoring as the operator reads it: drift settings and live-quality
(performance) settings, each None when the spec does not ask for it.

Both parsers take the monitoring section (a mapping, possibly empty) and
apply the defaults of spec_defaults; `Spec` caches what they return.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from modelops_operator.api.spec_defaults import Duration, SpecError, duration, field, mapping


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


def parse_drift(monitoring: Mapping[str, Any]) -> DriftSpec | None:
    """Drift settings, or None when drift is not monitored."""
    drift = monitoring.get("drift")
    if drift is None:
        return None
    drift = mapping(drift)
    prefix = "spec.monitoring.drift"
    return DriftSpec(
        method=str(field(drift, "method", f"{prefix}.method")),
        threshold=float(field(drift, "threshold", f"{prefix}.threshold")),
        window=duration(drift, "window", f"{prefix}.window"),
        min_samples=int(field(drift, "minSamples", f"{prefix}.minSamples")),
        interval=duration(drift, "interval", f"{prefix}.interval"),
    )


def parse_performance(monitoring: Mapping[str, Any]) -> PerformanceSpec | None:
    """Live-quality settings, or None when performance is not monitored."""
    section = monitoring.get("performance")
    if section is None:
        return None
    section = mapping(section)
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
        window=duration(section, "window", f"{prefix}.window"),
        min_labelled_samples=int(
            field(section, "minLabelledSamples", f"{prefix}.minLabelledSamples")
        ),
        interval=duration(section, "interval", f"{prefix}.interval"),
    )
