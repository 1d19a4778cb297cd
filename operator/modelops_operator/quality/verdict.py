"""What a live-quality measurement means (pure): the verdict, status.performance,
the PerformanceDegraded condition and its Events.

Only DEGRADED may start retraining. Fewer labelled predictions of the stable
version than minLabelledSamples is INSUFFICIENT (labels lag: a quiet window
is not a healthy one, nor a sick one), and a metric that cannot be computed
(the store unreadable, one class only among the labels, a metric the model
kind does not report) is UNKNOWN; neither ever triggers. The label-free
estimate (CBPE) is recorded beside the measured value and named as an
estimate, never judged: it cannot see concept shift, which is the very thing
labels are for. An Event is posted when the condition changes status.
"""

from __future__ import annotations

import datetime as dt
import math
from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING, Any

from modelops_operator.api import conditions as cond
from modelops_operator.api.conditions import Cond
from modelops_operator.api.objects import EventSpec
from modelops_operator.api.spec import PerformanceSpec
from modelops_operator.api.times import parse_time, rfc3339
from modelops_operator.quality.source import QualityMeasurement

if TYPE_CHECKING:
    from modelops_features.quality import Quality  # numpy: see drift/counts.py

DEGRADED = "Degraded"
NOT_DEGRADED = "NotDegraded"
INSUFFICIENT = "InsufficientLabels"
UNKNOWN = "Unknown"

DIGITS = 6


def due(
    old: Mapping[str, Any] | None, version: str, settings: PerformanceSpec, now: dt.datetime
) -> bool:
    """Whether a measurement is due: never measured, another version, metric or window,
    or the interval has passed."""
    if not old or old.get("version") != version:
        return True
    if old.get("metric") != settings.metric or old.get("window") != settings.window.text:
        return True
    measured = parse_time(old.get("measuredAt"))
    return measured is None or (now - measured).total_seconds() >= settings.interval.seconds


def next_due_in(
    old: Mapping[str, Any] | None, settings: PerformanceSpec, now: dt.datetime
) -> float | None:
    """Seconds until the next measurement is due (0 when due now; None when never measured)."""
    measured = parse_time((old or {}).get("measuredAt"))
    if measured is None:
        return None
    return max(0.0, settings.interval.seconds - (now - measured).total_seconds())


def judge(quality: Quality | None, settings: PerformanceSpec) -> str:
    """DEGRADED only with enough labels and a defined value past the threshold."""
    if quality is None or quality.labelled < settings.min_labelled_samples:
        return INSUFFICIENT
    value = quality.metrics.get(settings.metric)
    if value is None or not math.isfinite(value):
        return UNKNOWN
    return DEGRADED if settings.breached(value) else NOT_DEGRADED


def last_verdict(old: Mapping[str, Any] | None, settings: PerformanceSpec) -> str:
    """The verdict of the measurement in status, between two measurements (the
    threshold of the current spec: a changed threshold applies at once)."""
    if not old or old.get("metric") != settings.metric:
        return UNKNOWN
    if old.get("insufficient"):
        return INSUFFICIENT
    value = old.get("value")
    if not isinstance(value, int | float):
        return UNKNOWN
    return DEGRADED if settings.breached(float(value)) else NOT_DEGRADED


def _round(x: float) -> float:
    return round(float(x), DIGITS)


def performance_status(
    quality: Quality | None,
    version: str,
    settings: PerformanceSpec,
    now: dt.datetime,
) -> dict[str, Any]:
    """status.performance, in the CRD's field names (an undefined value is left out, never NaN)."""
    labelled = quality.labelled if quality is not None else 0
    status: dict[str, Any] = {
        "metric": settings.metric,
        "threshold": float(settings.threshold),
        "labelled": int(labelled),
        "predictions": int(quality.predictions if quality is not None else 0),
        "insufficient": labelled < settings.min_labelled_samples,
        "version": version,
        "window": settings.window.text,
        "measuredAt": rfc3339(now),
    }
    value = quality.metrics.get(settings.metric) if quality is not None else None
    if value is not None and math.isfinite(value):
        status["value"] = _round(value)
    estimated = {
        k: _round(v)
        for k, v in sorted((quality.estimated if quality is not None else {}).items())
        if v is not None and math.isfinite(v)
    }
    if estimated:
        status["estimated"] = estimated
    return status


def _comparison(settings: PerformanceSpec, value: float, breached: bool) -> str:
    if settings.lower_is_better:
        sign = ">" if breached else "<="
        return f"{settings.metric} {value:.3f} {sign} threshold {settings.threshold:g}"
    sign = "<" if breached else ">="
    return f"{settings.metric} {value:.3f} {sign} threshold {settings.threshold:g}"


def _estimate_note(quality: Quality, settings: PerformanceSpec) -> str:
    estimate = quality.estimated.get(settings.metric)
    if estimate is None:
        return ""
    return f"; label-free estimate {estimate:.3f} (an estimate: it cannot see concept shift)"


def degraded_condition(
    verdict_: str,
    measurement: QualityMeasurement | None,
    settings: PerformanceSpec,
    detail: str = "",
) -> Cond:
    """The PerformanceDegraded condition for a verdict."""
    window = settings.window.text
    report = measurement.report if measurement is not None else None
    quality = report.versions.get(measurement.version) if report and measurement else None
    if verdict_ in (DEGRADED, NOT_DEGRADED) and quality is not None and measurement is not None:
        value = float(quality.metrics[settings.metric] or 0.0)
        breached = verdict_ == DEGRADED
        message = (
            f"{_comparison(settings, value, breached)} over {quality.labelled} labelled of "
            f"{quality.predictions} logged predictions of version {measurement.version} in "
            f"{window}{_estimate_note(quality, settings)}"
        )
        if breached:
            return cond.true(cond.REASON_PERFORMANCE_DEGRADED, message)
        return cond.false(cond.REASON_PERFORMANCE_OK, message)
    if verdict_ == INSUFFICIENT and measurement is not None and report is not None:
        labelled = quality.labelled if quality is not None else 0
        logged = quality.predictions if quality is not None else 0
        hint = "" if logged else " (no logged predictions: is MODELOPS_LOG_SAMPLE set in spec.env?)"
        return cond.unknown(
            cond.REASON_INSUFFICIENT_LABELS,
            f"{labelled} labelled of {logged} logged predictions of version "
            f"{measurement.version} in {window}, fewer than minLabelledSamples "
            f"{settings.min_labelled_samples}; performance is not judged on so few labels{hint}",
        )
    if verdict_ == UNKNOWN and quality is not None and measurement is not None:
        reported = ", ".join(sorted(k for k, v in quality.metrics.items() if v is not None))
        return cond.unknown(
            cond.REASON_METRIC_UNDEFINED,
            f"{settings.metric} is undefined over the {quality.labelled} labelled predictions of "
            f"version {measurement.version} in {window} (defined: {reported or 'none'}); "
            "e.g. AUC needs both outcomes among the labels",
        )
    return cond.unknown(
        cond.REASON_PERFORMANCE_UNKNOWN, detail or "live performance could not be measured"
    )


def flip_events(
    old: Sequence[Mapping[str, Any]], new: Sequence[Mapping[str, Any]]
) -> list[EventSpec]:
    """An Event when PerformanceDegraded changes status (not on every measurement)."""
    before = cond.get_condition(old, cond.PERFORMANCE_DEGRADED)
    after = cond.get_condition(new, cond.PERFORMANCE_DEGRADED)
    if after is None or (before is not None and before.get("status") == after.get("status")):
        return []
    if after["status"] == cond.TRUE:
        return [EventSpec("Warning", after["reason"], after["message"])]
    if before is not None and before.get("status") == cond.TRUE:
        return [EventSpec("Normal", cond.REASON_PERFORMANCE_RECOVERED, after["message"])]
    return []
