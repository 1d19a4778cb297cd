"""What a drift report means (pure): the verdict, status.drift, the Drifted condition and its Events.

Only DRIFTED may start retraining; a window with fewer than minSamples
requests is INSUFFICIENT and a measurement that failed is UNKNOWN, and
neither ever does. An Event is posted when Drifted changes status, never on
every measurement.
"""

from __future__ import annotations

import datetime as dt
import math
from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING, Any

from modelops_operator.api import conditions as cond
from modelops_operator.api.conditions import Cond
from modelops_operator.api.objects import EventSpec
from modelops_operator.api.spec import DriftSpec

if TYPE_CHECKING:
    from modelops_features.drift import DriftReport  # numpy: see drift/counts.py
from modelops_operator.api.times import parse_time, rfc3339

# Verdicts. Only DRIFTED may trigger retraining; INSUFFICIENT and UNKNOWN never do.
DRIFTED = "Drifted"
NOT_DRIFTED = "NotDrifted"
INSUFFICIENT = "InsufficientData"
UNKNOWN = "Unknown"

# How many features the Drifted condition names.
TOP_FEATURES = 3
SCORE_DIGITS = 6


def due(
    old_drift: Mapping[str, Any] | None, version: str, settings: DriftSpec, now: dt.datetime
) -> bool:
    """Whether a new measurement is due: never measured, another version, or interval passed."""
    if not old_drift or old_drift.get("version") != version:
        return True
    measured = parse_time(old_drift.get("measuredAt"))
    return measured is None or (now - measured).total_seconds() >= settings.interval.seconds


def next_due_in(
    old_drift: Mapping[str, Any] | None, settings: DriftSpec, now: dt.datetime
) -> float | None:
    """Seconds until the next measurement is due (0 when due now; None when unknown)."""
    measured = parse_time((old_drift or {}).get("measuredAt"))
    if measured is None:
        return None
    return max(0.0, settings.interval.seconds - (now - measured).total_seconds())


def last_verdict(old: Mapping[str, Any] | None, settings: DriftSpec) -> str:
    """The verdict of the measurement in status, between two measurements."""
    if not old:
        return UNKNOWN
    if old.get("insufficient"):
        return INSUFFICIENT
    return DRIFTED if float(old.get("score") or 0.0) > settings.threshold else NOT_DRIFTED


def verdict(report: DriftReport | None, settings: DriftSpec) -> str:
    """DRIFTED only with enough samples and a score above the threshold."""
    if report is None:
        return UNKNOWN
    if report.insufficient:
        return INSUFFICIENT
    return DRIFTED if report.score > settings.threshold else NOT_DRIFTED


def _round(x: float) -> float:
    return round(float(x), SCORE_DIGITS) if math.isfinite(x) else 0.0


def drift_status(report: DriftReport, version: str, now: dt.datetime) -> dict[str, Any]:
    """status.drift, in the CRD's field names."""
    status: dict[str, Any] = {
        "method": report.method,
        "score": _round(report.score),
        "features": {k: _round(v) for k, v in sorted(report.features.items())},
        "samples": int(report.samples),
        "insufficient": bool(report.insufficient),
        "version": version,
        "measuredAt": rfc3339(now),
    }
    if report.prediction is not None:
        status["prediction"] = _round(report.prediction)
    return status


def top_features(report: DriftReport, n: int = TOP_FEATURES) -> str:
    return ", ".join(f"{name}={score:.3f}" for name, score in report.top(n))


def drifted_condition(
    verdict_: str, report: DriftReport | None, settings: DriftSpec, detail: str = ""
) -> Cond:
    """The Drifted condition for a verdict."""
    window = settings.window.text
    if verdict_ == DRIFTED and report is not None:
        pred = "" if report.prediction is None else f"; prediction {report.prediction:.3f}"
        return cond.true(
            cond.REASON_DRIFT_DETECTED,
            f"{settings.method} {report.score:.3f} > threshold {settings.threshold:g} over "
            f"{report.samples} requests in {window}; top features: "
            f"{top_features(report)}{pred}",
        )
    if verdict_ == NOT_DRIFTED and report is not None:
        return cond.false(
            cond.REASON_NO_DRIFT,
            f"{settings.method} {report.score:.3f} <= threshold {settings.threshold:g} over "
            f"{report.samples} requests in {window}; highest: {top_features(report)}",
        )
    if verdict_ == INSUFFICIENT and report is not None:
        return cond.unknown(
            cond.REASON_INSUFFICIENT_DATA,
            f"{report.samples} requests in {window}, fewer than minSamples "
            f"{settings.min_samples}; drift is not judged on so little data",
        )
    return cond.unknown(cond.REASON_DRIFT_UNKNOWN, detail or "drift could not be measured")


def flip_events(
    old: Sequence[Mapping[str, Any]], new: Sequence[Mapping[str, Any]]
) -> list[EventSpec]:
    """An Event when Drifted changes status (not on every measurement)."""
    before = cond.get_condition(old, cond.DRIFTED)
    after = cond.get_condition(new, cond.DRIFTED)
    if after is None or (before is not None and before.get("status") == after.get("status")):
        return []
    if after["status"] == cond.TRUE:
        return [EventSpec("Warning", after["reason"], after["message"])]
    if before is not None and before.get("status") == cond.TRUE:
        return [EventSpec("Normal", cond.REASON_DRIFT_CLEARED, after["message"])]
    return []
