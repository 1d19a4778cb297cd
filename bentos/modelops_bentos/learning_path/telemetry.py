"""The learning-path service's metrics: the common modelops_ families plus recommendations.

Feature histograms (modelops_feature_value, at the profile's edges), request
counts and latency are the common ones (common/telemetry.py), as for churn, so the operator's drift check and
canary analysis read both services the same way. `modelops_prediction` holds
the top-1 score. One family is added:

  modelops_recommendations_total{model,version,module}   counter of top-1 modules

No metric carries a student id (there is no such label), and the student id
never reaches this module.
"""

from __future__ import annotations

from collections.abc import Iterable

from prometheus_client.core import CounterMetricFamily, Metric

from modelops_bentos.common.telemetry import Telemetry
from modelops_features.learning_path import MODULES


class LearningPathTelemetry(Telemetry):
    prediction_help = "Top-1 module score, bucketed at the model's reference-profile edges."

    def __init__(self, model: str) -> None:
        super().__init__(model)
        self._recommended = dict.fromkeys(MODULES, 0)

    def observe_recommendation(self, module: str) -> None:
        with self._lock:
            if module in self._recommended:
                self._recommended[module] += 1

    def _families(self) -> Iterable[Metric]:
        yield from super()._families()
        family = CounterMetricFamily(
            "modelops_recommendations",
            "Modules recommended first (top-1), by module.",
            labels=["model", "version", "module"],
        )
        for module, count in self._recommended.items():
            family.add_metric([self.model, self.version, module], float(count))
        yield family
