"""The modelops_model_quality_* families on the operator's metrics port: set from a measurement,
a version that left the window dropped, the verdict gauge following the condition."""

from __future__ import annotations

import datetime as dt

from prometheus_client import REGISTRY

from modelops_features.groundtruth import WindowQuality
from modelops_features.quality import Quality
from modelops_operator.api.spec import Spec
from modelops_operator.quality.source import QualityMeasurement
from modelops_operator.runtime import quality_metrics

NOW = dt.datetime(2026, 1, 1, 12, 0, tzinfo=dt.UTC)
SPEC = Spec({"monitoring": {"performance": {"metric": "auc", "threshold": 0.7, "window": "1h"}}})
NS, MD = "ns-quality-test", "churn"


def value(name, **labels):
    return REGISTRY.get_sample_value(name, {"namespace": NS, "deployment": MD, **labels})


def measurement(**versions):
    report = WindowQuality("churn", "churn", NOW - dt.timedelta(hours=1), NOW)
    for version, auc in versions.items():
        report.versions[version] = Quality(100, 80, {"auc": auc, "ece": None}, {"auc": 0.8})
    return QualityMeasurement(next(iter(versions)), report)


def status(degraded: bool):
    return {
        "conditions": [{"type": "PerformanceDegraded", "status": "True" if degraded else "False"}]
    }


def test_families_follow_measurements_and_the_condition():
    quality_metrics.export(NS, MD, SPEC, measurement(v3=0.6, v2=0.9), status(True))
    assert value("modelops_model_quality_auc_ratio", version="v3") == 0.6
    assert value("modelops_model_quality_estimated_auc_ratio", version="v3") == 0.8
    assert value("modelops_model_quality_labelled_predictions", version="v2") == 80
    assert value("modelops_model_quality_window_seconds", version="v3") == 3600
    # An undefined metric has no sample at all, never NaN.
    assert value("modelops_model_quality_calibration_error_ratio", version="v3") is None
    assert value("modelops_model_quality_degraded", metric="auc") == 1
    assert value("modelops_model_quality_threshold", metric="auc") == 0.7

    # No measurement this pass: the series stay, the verdict follows the condition.
    quality_metrics.export(NS, MD, SPEC, None, status(False))
    assert value("modelops_model_quality_auc_ratio", version="v3") == 0.6
    assert value("modelops_model_quality_degraded", metric="auc") == 0

    # Version v2 left the window: its series go.
    quality_metrics.export(NS, MD, SPEC, measurement(v3=0.65), status(False))
    assert value("modelops_model_quality_auc_ratio", version="v2") is None
    assert value("modelops_model_quality_auc_ratio", version="v3") == 0.65

    # Another metric judged: the old verdict series go.
    ece = Spec({"monitoring": {"performance": {"metric": "ece", "threshold": 0.1}}})
    quality_metrics.export(NS, MD, ece, None, status(False))
    assert value("modelops_model_quality_degraded", metric="auc") is None
    assert value("modelops_model_quality_threshold", metric="ece") == 0.1

    # Deleted (or no longer monitored): everything goes.
    quality_metrics.forget(NS, MD)
    assert value("modelops_model_quality_auc_ratio", version="v3") is None
    assert value("modelops_model_quality_degraded", metric="ece") is None
