"""spec.monitoring.performance as the operator reads it: defaults, direction, bad fields named."""

from __future__ import annotations

import pytest

from modelops_features import quality
from modelops_operator.api.spec import PERFORMANCE_METRICS, Spec, SpecError


def performance(**section):
    return Spec({"monitoring": {"performance": section}}).performance


def test_absent_means_not_monitored_and_the_defaults_fill_the_rest():
    assert Spec({}).performance is None
    p = performance(metric="auc", threshold=0.7)
    assert (p.window.text, p.window.seconds) == ("24h", 86400.0)
    assert p.min_labelled_samples == 200
    assert p.interval.seconds == 600.0


def test_the_metrics_are_the_quality_modules_and_so_is_their_direction():
    assert set(PERFORMANCE_METRICS) == {*quality.BINARY_METRICS, *quality.MULTICLASS_METRICS}
    for metric in PERFORMANCE_METRICS:
        p = performance(metric=metric, threshold=0.5)
        assert p.lower_is_better == (metric in quality.LOWER_IS_BETTER)
        assert p.breached(0.6) == p.lower_is_better
        assert p.breached(0.4) == (not p.lower_is_better)
        assert not p.breached(0.5)  # on the threshold is not past it


@pytest.mark.parametrize(
    ("section", "field"),
    [
        ({"metric": "f1", "threshold": 0.5}, "spec.monitoring.performance.metric"),
        ({"threshold": 0.5}, "spec.monitoring.performance.metric"),
        ({"metric": "auc"}, "spec.monitoring.performance.threshold"),
        ({"metric": "auc", "threshold": "high"}, "spec.monitoring.performance.threshold"),
        ({"metric": "auc", "threshold": True}, "spec.monitoring.performance.threshold"),
        ({"metric": "auc", "threshold": 0.5, "window": "1 day"}, "spec.monitoring.performance.window"),
        ({"metric": "auc", "threshold": 0.5, "interval": "0s"}, "spec.monitoring.performance.interval"),
    ],
)  # fmt: skip
def test_a_bad_field_is_named(section, field):
    with pytest.raises(SpecError) as caught:
        performance(**section)
    assert caught.value.field == field and field in str(caught.value)


def test_performance_alone_watches_retraining_jobs():
    assert Spec({"monitoring": {"performance": {}}}).watches_drift
