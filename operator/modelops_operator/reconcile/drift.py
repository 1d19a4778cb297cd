"""Drift of the stable track into status.drift, the Drifted condition and its Events (a pipeline part).

The engine takes a drift measurement when one is due (every
spec.monitoring.drift.interval, or at once for a new stable version) and
hands it over in `Observed.drift`; this part records it. Between two
measurements the verdict is read back from status.drift, so the retraining
part always has one. Nothing is measured while no version serves yet.
"""

from __future__ import annotations

from modelops_operator.api import conditions as cond
from modelops_operator.api.spec import SpecError
from modelops_operator.drift import verdict as drift
from modelops_operator.reconcile.draft import Draft, Inputs

MESSAGE_LIMIT = 900  # the condition's message stays readable in `kubectl describe`


def report(inputs: Inputs, draft: Draft) -> Draft:
    """The part: status.drift, Drifted, its flip Events, the verdict, the next measurement."""
    try:
        settings = inputs.spec.drift
    except SpecError as exc:
        # Only an object stored under an older CRD gets here; say which field.
        return draft.with_condition(
            inputs, cond.DRIFTED, cond.unknown(cond.REASON_DRIFT_UNKNOWN, str(exc))
        )
    if settings is None or not (inputs.old_status.get("stable") or {}).get("version"):
        return draft  # not monitored, or nothing serves yet: no traffic to measure
    measurement = inputs.observed.drift
    old_drift = inputs.old_status.get("drift")
    before = draft.conditions
    if measurement is None:
        verdict = drift.last_verdict(old_drift, settings)
        return draft.but(drift_verdict=verdict).wake_in(
            drift.next_due_in(old_drift, settings, inputs.now) or None
        )
    if measurement.report is None:
        # Unknown never triggers; the condition says why, and the next interval retries.
        value = drift.drifted_condition(
            drift.UNKNOWN, None, settings, (measurement.error or "")[:MESSAGE_LIMIT]
        )
        draft = draft.but(drift_verdict=drift.UNKNOWN).wake_in(settings.interval.seconds)
    else:
        verdict = drift.verdict(measurement.report, settings)
        value = drift.drifted_condition(verdict, measurement.report, settings)
        status = drift.drift_status(measurement.report, measurement.version, inputs.now)
        draft = (
            draft.with_status(drift=status)
            .but(drift_verdict=verdict)
            .wake_in(settings.interval.seconds)
        )
    draft = draft.with_condition(inputs, cond.DRIFTED, value)
    return draft.tell(*drift.flip_events(before, draft.conditions))
