"""Live quality of the stable version into status.performance, PerformanceDegraded and its
Events (a pipeline part).

The engine takes a measurement when one is due (every
spec.monitoring.performance.interval, or at once for a new stable version,
metric or window) and hands it over in `Observed.performance`; this part
records it, exactly as drift.py records drift. Between two measurements the
verdict is read back from status.performance, so the retraining part always
has one. Nothing is measured while no version serves yet.
"""

from __future__ import annotations

from modelops_operator.api import conditions as cond
from modelops_operator.api.spec import SpecError
from modelops_operator.quality import verdict as quality
from modelops_operator.reconcile.draft import Draft, Inputs

MESSAGE_LIMIT = 900  # the condition's message stays readable in `kubectl describe`


def report(inputs: Inputs, draft: Draft) -> Draft:
    """The part: status.performance, PerformanceDegraded, its flip Events, the verdict, the next measurement."""
    try:
        settings = inputs.spec.performance
    except SpecError as exc:
        # Only an object stored under an older CRD gets here; say which field.
        return draft.with_condition(
            inputs,
            cond.PERFORMANCE_DEGRADED,
            cond.unknown(cond.REASON_PERFORMANCE_UNKNOWN, str(exc)),
        )
    if settings is None or not (inputs.old_status.get("stable") or {}).get("version"):
        return draft  # not monitored, or nothing serves yet: no predictions to judge
    measurement = inputs.observed.performance
    old = inputs.old_status.get("performance")
    before = draft.conditions
    if measurement is None:
        verdict = quality.last_verdict(old, settings)
        return draft.but(performance_verdict=verdict).wake_in(
            quality.next_due_in(old, settings, inputs.now) or None
        )
    if measurement.report is None:
        # Unknown never triggers; the condition says why, and the next interval retries.
        value = quality.degraded_condition(
            quality.UNKNOWN, None, settings, (measurement.error or "")[:MESSAGE_LIMIT]
        )
        draft = draft.but(performance_verdict=quality.UNKNOWN).wake_in(settings.interval.seconds)
    else:
        version_quality = measurement.report.versions.get(measurement.version)
        verdict = quality.judge(version_quality, settings)
        value = quality.degraded_condition(verdict, measurement, settings)
        status = quality.performance_status(
            version_quality, measurement.version, settings, inputs.now
        )
        draft = (
            draft.with_status(performance=status)
            .but(performance_verdict=verdict)
            .wake_in(settings.interval.seconds)
        )
    draft = draft.with_condition(inputs, cond.PERFORMANCE_DEGRADED, value)
    return draft.tell(*quality.flip_events(before, draft.conditions))
