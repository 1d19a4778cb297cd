"""Quality gates: the conditions a candidate must meet to be approved.

Gates use the shape of a ModelDeployment's `spec.retraining.gates`:

    {"minMetric": {"auc": 0.75},        # held-out metric >= threshold
     "maxMetric": {"ece": 0.05},        # held-out metric <= threshold
     "maxRegression": 0.01,             # base - candidate primary metric <= threshold
                                        # (AUC for churn, top-3 accuracy for learning-path)
     "maxFairnessGap": 0.05}            # fairness_gap <= threshold

Each gate becomes one entry of the result, keyed "minMetric.auc",
"maxMetric.ece", "maxRegression", "maxFairnessGap":
{"passed": bool, "value": float | None, "threshold": float, ...}.
"""

from __future__ import annotations

import math
from typing import Any

from modelops_training.errors import TrainingInputError

GATE_KEYS = ("minMetric", "maxMetric", "maxRegression", "maxFairnessGap")
# Metrics a min/max gate may name: the scalar held-out metrics training reports.
# These are churn's; each model passes its own list to `parse`.
GATEABLE_METRICS = ("auc", "logloss", "accuracy", "ece", "fairness_gap", "baseline_auc")


def _threshold(where: str, value: Any) -> float:
    if isinstance(value, bool) or not isinstance(value, int | float) or not math.isfinite(value):
        raise TrainingInputError(f"gate {where}: threshold must be a finite number, got {value!r}")
    return float(value)


def parse(
    gates: dict[str, Any] | None, gateable: tuple[str, ...] = GATEABLE_METRICS
) -> dict[str, Any]:
    """Validate a gates document; returns a normalised copy. Unknown keys are errors.

    `gateable` lists the metrics the model being trained reports.
    """
    if gates is None:
        return {}
    if not isinstance(gates, dict):
        raise TrainingInputError(f"gates must be a JSON object, got {type(gates).__name__}")
    unknown = sorted(set(gates) - set(GATE_KEYS))
    if unknown:
        raise TrainingInputError(f"unknown gate(s) {unknown}; known: {list(GATE_KEYS)}")
    out: dict[str, Any] = {}
    for key in ("minMetric", "maxMetric"):
        if key not in gates:
            continue
        if not isinstance(gates[key], dict):
            raise TrainingInputError(f"gate {key} must map metric names to thresholds")
        for metric, threshold in gates[key].items():
            if metric not in gateable:
                raise TrainingInputError(
                    f"gate {key}.{metric}: unknown metric; use one of {list(gateable)}"
                )
            out.setdefault(key, {})[metric] = _threshold(f"{key}.{metric}", threshold)
    for key in ("maxRegression", "maxFairnessGap"):
        if key in gates:
            out[key] = _threshold(key, gates[key])
    return out


def _bound(value: float | None, threshold: float, upper: bool) -> dict[str, Any]:
    # An undefined metric (e.g. AUC on one class) never passes a gate.
    passed = value is not None and (value <= threshold if upper else value >= threshold)
    return {"passed": passed, "value": value, "threshold": threshold}


def evaluate(
    gates: dict[str, Any], metrics: dict[str, Any], comparison: dict[str, Any] | None
) -> dict[str, dict[str, Any]]:
    """Apply parsed gates to held-out metrics and the base comparison."""
    results: dict[str, dict[str, Any]] = {}
    for metric, threshold in gates.get("minMetric", {}).items():
        results[f"minMetric.{metric}"] = _bound(metrics.get(metric), threshold, upper=False)
    for metric, threshold in gates.get("maxMetric", {}).items():
        results[f"maxMetric.{metric}"] = _bound(metrics.get(metric), threshold, upper=True)
    if "maxRegression" in gates:
        results["maxRegression"] = _regression(gates["maxRegression"], comparison)
    if "maxFairnessGap" in gates:
        result = _bound(metrics.get("fairness_gap"), gates["maxFairnessGap"], upper=True)
        result["column"] = metrics.get("fairness_column")
        if metrics.get("fairness_detail"):
            # Which groups (and metric) the gap is between, so a refusal names them.
            result["detail"] = metrics["fairness_detail"]
        results["maxFairnessGap"] = result
    return results


def _regression(threshold: float, comparison: dict[str, Any] | None) -> dict[str, Any]:
    if comparison is None:
        # The first model of a line has nothing to regress from; the gate
        # passes and says so instead of blocking the very first version.
        return {
            "passed": True,
            "value": None,
            "threshold": threshold,
            "note": "no base version given: nothing to regress from",
        }
    # The comparison names the model's primary metric; churn's is AUC.
    metric = comparison.get("metric", "auc")
    base = comparison.get(f"base_{metric}")
    candidate = comparison.get(f"candidate_{metric}")
    value = None if base is None or candidate is None else base - candidate
    result = _bound(value, threshold, upper=True)
    result.update(
        {
            "base_version": comparison["base_version"],
            f"base_{metric}": base,
            f"candidate_{metric}": candidate,
            "method": comparison["method"],
        }
    )
    return result


def all_passed(results: dict[str, dict[str, Any]]) -> bool:
    return all(result["passed"] for result in results.values())
