"""spec.retraining as the operator reads it: when a retraining Job may start
(triggers, cooldown, attempts), its template and the gates handed to it.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from modelops_operator.api.spec_defaults import Duration, duration, field, job_template


@dataclass(frozen=True)
class RetrainingSpec:
    """spec.retraining; present means retraining Jobs may be started."""

    job_template: Mapping[str, Any]
    cooldown: Duration
    max_attempts: int
    gates: Mapping[str, Any]
    trigger_on_drift: bool
    trigger_on_performance: bool = True


def parse_retraining(retraining: Any) -> RetrainingSpec | None:
    """Retraining settings from spec.retraining, or None when it asks for no retraining."""
    if not retraining:
        return None
    template = job_template(retraining, "spec.retraining.jobTemplate", "a batch/v1 Job template")
    return RetrainingSpec(
        job_template=template,
        cooldown=duration(retraining, "cooldown", "spec.retraining.cooldown"),
        max_attempts=int(field(retraining, "maxAttempts", "spec.retraining.maxAttempts")),
        gates=dict(retraining.get("gates") or {}),
        trigger_on_drift=bool(
            field(retraining, "triggerOnDrift", "spec.retraining.triggerOnDrift")
        ),
        trigger_on_performance=bool(
            field(retraining, "triggerOnPerformance", "spec.retraining.triggerOnPerformance")
        ),
    )
