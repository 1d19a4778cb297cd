"""The live-quality verdict (pure): direction per metric, labels too few, undefined metrics,
status.performance, the PerformanceDegraded condition, its Events and when to measure."""

from __future__ import annotations

import datetime as dt

import pytest

from modelops_features.groundtruth import WindowQuality
from modelops_features.quality import Quality
from modelops_operator.api import conditions as cond
from modelops_operator.api.spec import Spec
from modelops_operator.quality import verdict as q
from modelops_operator.quality.source import QualityMeasurement

NOW = dt.datetime(2026, 1, 1, 12, 0, tzinfo=dt.UTC)


def settings(metric="auc", threshold=0.75, **extra):
    performance = {"metric": metric, "threshold": threshold, "minLabelledSamples": 100, **extra}
    return Spec(
        {"model": {"name": "churn"}, "monitoring": {"performance": performance}}
    ).performance


def quality(labelled=500, predictions=1000, **metrics):
    return Quality(predictions, labelled, metrics, {"auc": 0.82, "accuracy": 0.79})


def measured(qual, version="3"):
    report = WindowQuality("churn", "churn", NOW - dt.timedelta(days=1), NOW, {version: qual})
    return QualityMeasurement(version, report)


@pytest.mark.parametrize(
    ("metric", "threshold", "value", "expected"),
    [
        # Higher is better: degraded strictly below the threshold.
        ("auc", 0.75, 0.60, q.DEGRADED),
        ("auc", 0.75, 0.75, q.NOT_DEGRADED),
        ("auc", 0.75, 0.90, q.NOT_DEGRADED),
        ("accuracy", 0.7, 0.69, q.DEGRADED),
        ("top1_accuracy", 0.4, 0.5, q.NOT_DEGRADED),
        ("top3_accuracy", 0.8, 0.5, q.DEGRADED),
        # Lower is better: degraded strictly above it.
        ("logloss", 0.5, 0.9, q.DEGRADED),
        ("logloss", 0.5, 0.5, q.NOT_DEGRADED),
        ("ece", 0.05, 0.2, q.DEGRADED),
        ("ece", 0.05, 0.01, q.NOT_DEGRADED),
        ("fairness_gap", 0.1, 0.3, q.DEGRADED),
        ("fairness_gap", 0.1, 0.05, q.NOT_DEGRADED),
    ],
)
def test_the_metric_sets_the_direction_of_its_threshold(metric, threshold, value, expected):
    assert q.judge(quality(**{metric: value}), settings(metric, threshold)) == expected


@pytest.mark.parametrize(
    ("qual", "expected"),
    [
        (None, q.INSUFFICIENT),  # the version has no logged predictions in the window
        (quality(labelled=99, auc=0.1), q.INSUFFICIENT),  # a terrible AUC on 99 labels: not judged
        (quality(labelled=100, auc=0.1), q.DEGRADED),
        (quality(labelled=500, auc=None), q.UNKNOWN),  # one class only among the labels
        (quality(labelled=500, logloss=0.3), q.UNKNOWN),  # the kind reports no auc
        (quality(labelled=500, auc=float("nan")), q.UNKNOWN),
    ],
)
def test_too_few_labels_or_an_undefined_metric_is_never_degraded(qual, expected):
    assert q.judge(qual, settings()) == expected


def test_the_estimate_never_decides_even_when_it_disagrees():
    # Concept shift: the estimate still reports the old level, the labels do not.
    qual = Quality(1000, 500, {"auc": 0.55}, {"auc": 0.83})
    assert q.judge(qual, settings()) == q.DEGRADED
    qual = Quality(1000, 500, {"auc": 0.85}, {"auc": 0.40})
    assert q.judge(qual, settings()) == q.NOT_DEGRADED


def test_status_holds_value_estimates_counts_and_the_window():
    status = q.performance_status(quality(auc=0.6123456789), "3", settings(window="6h"), NOW)
    assert status == {
        "metric": "auc",
        "threshold": 0.75,
        "value": 0.612346,
        "estimated": {"accuracy": 0.79, "auc": 0.82},
        "labelled": 500,
        "predictions": 1000,
        "insufficient": False,
        "version": "3",
        "window": "6h",
        "measuredAt": "2026-01-01T12:00:00Z",
    }


def test_status_leaves_an_undefined_value_out_rather_than_writing_nan():
    status = q.performance_status(quality(labelled=10, auc=None), "3", settings(), NOW)
    assert "value" not in status and status["insufficient"] is True
    empty = q.performance_status(None, "3", settings(), NOW)
    assert empty["labelled"] == 0 and empty["predictions"] == 0 and "estimated" not in empty


@pytest.mark.parametrize(
    ("qual", "status", "reason", "words"),
    [
        (
            quality(auc=0.61),
            cond.TRUE,
            cond.REASON_PERFORMANCE_DEGRADED,
            ["auc 0.610 < threshold 0.75", "500 labelled of 1000", "version 3", "estimate 0.820"],
        ),
        (
            quality(auc=0.8),
            cond.FALSE,
            cond.REASON_PERFORMANCE_OK,
            ["auc 0.800 >= threshold 0.75"],
        ),
        (
            quality(labelled=20, auc=0.1),
            cond.UNKNOWN,
            cond.REASON_INSUFFICIENT_LABELS,
            ["20 labelled of 1000", "minLabelledSamples 100"],
        ),
        (
            quality(auc=None, logloss=0.4),
            cond.UNKNOWN,
            cond.REASON_METRIC_UNDEFINED,
            ["auc is undefined", "defined: logloss"],
        ),
    ],
)
def test_the_condition_says_what_was_judged(qual, status, reason, words):
    s = settings()
    value = q.degraded_condition(q.judge(qual, s), measured(qual), s)
    assert (value.status, value.reason) == (status, reason)
    for word in words:
        assert word in value.message, value.message


def test_a_lower_is_better_metric_reads_the_other_way_round():
    s = settings("logloss", 0.5)
    qual = quality(logloss=0.9)
    value = q.degraded_condition(q.judge(qual, s), measured(qual), s)
    assert value.status == cond.TRUE and "logloss 0.900 > threshold 0.5" in value.message


def test_no_logged_predictions_hints_at_the_log_sample():
    report = WindowQuality("churn", None, NOW, NOW)
    value = q.degraded_condition(q.INSUFFICIENT, QualityMeasurement("3", report), settings())
    assert value.reason == cond.REASON_INSUFFICIENT_LABELS
    assert "MODELOPS_LOG_SAMPLE" in value.message


def test_an_unreadable_store_is_unknown_with_its_error():
    value = q.degraded_condition(q.UNKNOWN, None, settings(), "OSError: no such bucket")
    assert (value.status, value.reason) == (cond.UNKNOWN, cond.REASON_PERFORMANCE_UNKNOWN)
    assert value.message == "OSError: no such bucket"


@pytest.mark.parametrize(
    ("old", "version", "minutes", "expected"),
    [
        (None, "3", 0, True),
        ({"version": "3", "metric": "auc", "window": "24h", "measuredAt": "2026-01-01T11:55:00Z"}, "3", 0, False),
        ({"version": "3", "metric": "auc", "window": "24h", "measuredAt": "2026-01-01T11:50:00Z"}, "3", 0, True),
        ({"version": "2", "metric": "auc", "window": "24h", "measuredAt": "2026-01-01T11:59:00Z"}, "3", 0, True),
        ({"version": "3", "metric": "ece", "window": "24h", "measuredAt": "2026-01-01T11:59:00Z"}, "3", 0, True),
        ({"version": "3", "metric": "auc", "window": "1h", "measuredAt": "2026-01-01T11:59:00Z"}, "3", 0, True),
    ],
)  # fmt: skip
def test_a_measurement_is_due_after_the_interval_or_when_what_is_judged_changes(
    old, version, minutes, expected
):
    assert q.due(old, version, settings(interval="10m"), NOW) is expected


def test_next_due_in_counts_down_the_interval():
    old = {"measuredAt": "2026-01-01T11:55:00Z"}
    assert q.next_due_in(old, settings(interval="10m"), NOW) == 300.0
    assert q.next_due_in(None, settings(), NOW) is None


@pytest.mark.parametrize(
    ("old", "threshold", "expected"),
    [
        (None, 0.75, q.UNKNOWN),
        ({"metric": "auc", "value": 0.6, "insufficient": False}, 0.75, q.DEGRADED),
        # A threshold lowered in the spec applies at once to the value in status.
        ({"metric": "auc", "value": 0.6, "insufficient": False}, 0.5, q.NOT_DEGRADED),
        ({"metric": "auc", "value": 0.1, "insufficient": True}, 0.75, q.INSUFFICIENT),
        ({"metric": "auc", "insufficient": False}, 0.75, q.UNKNOWN),
        ({"metric": "ece", "value": 0.6, "insufficient": False}, 0.75, q.UNKNOWN),
    ],
)
def test_between_measurements_the_verdict_is_read_back_from_status(old, threshold, expected):
    assert q.last_verdict(old, settings(threshold=threshold)) == expected


def conditions(status):
    return [{"type": cond.PERFORMANCE_DEGRADED, "status": status, "reason": "r", "message": "m"}]


@pytest.mark.parametrize(
    ("before", "after", "reasons"),
    [
        ([], conditions(cond.TRUE), ["r"]),
        (conditions(cond.FALSE), conditions(cond.TRUE), ["r"]),
        (conditions(cond.TRUE), conditions(cond.TRUE), []),
        (conditions(cond.TRUE), conditions(cond.FALSE), [cond.REASON_PERFORMANCE_RECOVERED]),
        (conditions(cond.UNKNOWN), conditions(cond.FALSE), []),
        ([], conditions(cond.UNKNOWN), []),
    ],
)
def test_an_event_only_when_the_condition_flips(before, after, reasons):
    assert [e.reason for e in q.flip_events(before, after)] == reasons
