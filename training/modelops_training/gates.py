"""Quality gates: the conditions a candidate must meet to be approved.

Gates use the shape of a ModelDeployment's `spec.retraining.gates`:

    {"minMetric": {"auc": 0.75},        # held-out metric >= threshold
     "maxMetric": {"ece": 0.05},        # held-out metric <= threshold
     "maxRegression": 0.01,             # base - candidate primary metric <= threshold
                                        # (AUC for churn, top-3 accuracy for learning-path)
     "maxBaselineRegression": 0.01,     # the model's own simple baseline - candidate
                                        # primary metric <= threshold (same held-out rows)
     "maxFairnessGap": 0.05}            # fairness_gap <= threshold

Each gate becomes one entry of the result, keyed "minMetric.auc",
"maxMetric.ece", "maxRegression", "maxBaselineRegression", "maxFairnessGap":
{"passed": bool, "value": float | None, "threshold": float, ...}.

Every model has default gates (its trainer's `default_gates`: a floor on the
primary metric and not losing to its own baseline beyond a tolerance), so a
model that learned nothing is never approved by accident. `with_defaults`
lays the given gates over them, gate by gate; a result whose threshold came
from the defaults says `"default": true`.
"""

from __future__ import annotations

import math
from typing import Any

from modelops_training.errors import TrainingInputError

GATE_KEYS = ("minMetric", "maxMetric", "maxRegression", "maxBaselineRegression", "maxFairnessGap")
SCALAR_GATES = ("maxRegression", "maxBaselineRegression", "maxFairnessGap")
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
    for key in SCALAR_GATES:
        if key in gates:
            out[key] = _threshold(key, gates[key])
    return out


def with_defaults(
    given: dict[str, Any], defaults: dict[str, Any]
) -> tuple[dict[str, Any], set[str]]:
    """(gates to apply, result keys whose threshold is a default), both parsed.

    A given gate replaces the default of the same name ("minMetric.auc",
    "maxBaselineRegression"...); other defaults stay. Defaults that name a
    metric the given `minMetric` / `maxMetric` also names are overridden.
    """
    effective: dict[str, Any] = {}
    from_defaults: set[str] = set()
    for key in ("minMetric", "maxMetric"):
        merged = {**defaults.get(key, {}), **given.get(key, {})}
        if merged:
            effective[key] = merged
        from_defaults.update(
            f"{key}.{metric}"
            for metric in defaults.get(key, {})
            if metric not in given.get(key, {})
        )
    for key in SCALAR_GATES:
        if key in given:
            effective[key] = given[key]
        elif key in defaults:
            effective[key] = defaults[key]
            from_defaults.add(key)
    return effective, from_defaults


def _bound(value: float | None, threshold: float, upper: bool) -> dict[str, Any]:
    # An undefined metric (e.g. AUC on one class) never passes a gate.
    passed = value is not None and (value <= threshold if upper else value >= threshold)
    return {"passed": passed, "value": value, "threshold": threshold}


def evaluate(
    gates: dict[str, Any],
    metrics: dict[str, Any],
    comparison: dict[str, Any] | None,
    baseline: tuple[str, str] = ("auc", "baseline_auc"),
) -> dict[str, dict[str, Any]]:
    """Apply parsed gates to held-out metrics and the base comparison.

    `baseline` names the model's primary metric and its baseline's, e.g.
    ("auc", "baseline_auc"), for maxBaselineRegression.
    """
    results: dict[str, dict[str, Any]] = {}
    for metric, threshold in gates.get("minMetric", {}).items():
        results[f"minMetric.{metric}"] = _bound(metrics.get(metric), threshold, upper=False)
    for metric, threshold in gates.get("maxMetric", {}).items():
        results[f"maxMetric.{metric}"] = _bound(metrics.get(metric), threshold, upper=True)
    if "maxRegression" in gates:
        results["maxRegression"] = _regression(gates["maxRegression"], comparison)
    if "maxBaselineRegression" in gates:
        results["maxBaselineRegression"] = _baseline_regression(
            gates["maxBaselineRegression"], metrics, *baseline
        )
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


def _baseline_regression(
    threshold: float, metrics: dict[str, Any], primary: str, baseline: str
) -> dict[str, Any]:
    """How far the candidate falls below its own simple baseline on the same rows.

    A model that a logistic regression (churn) or "recommend the popular
    modules" (learning-path) beats has learned nothing worth serving.
    """
    candidate, base = metrics.get(primary), metrics.get(baseline)
    value = None if candidate is None or base is None else round(base - candidate, 6)
    result = _bound(value, threshold, upper=True)
    result.update({"metric": primary, primary: candidate, baseline: base})
    return result


def all_passed(results: dict[str, dict[str, Any]]) -> bool:
    return all(result["passed"] for result in results.values())
