"""The state one reconcile passes from part to part (pure).

Every part of the pipeline has the same signature, `part(inputs, draft) ->
draft`: it reads the inputs (spec, observed world, clock, site policy) and
the decisions of the parts before it, and returns a new draft with its own
decisions added. Nothing is modified in place, so a part can be
table-tested alone, and the order of the parts (pipeline.PARTS) is the only
coupling between them.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from functools import cached_property
from typing import Any

from modelops_operator.api import conditions as cond
from modelops_operator.api.conditions import Cond, Condition
from modelops_operator.api.objects import EventSpec
from modelops_operator.api.spec import Spec
from modelops_operator.api.times import rfc3339
from modelops_operator.drift.verdict import UNKNOWN
from modelops_operator.reconcile.plan import ChildRef, Observed, Plan, Policy
from modelops_operator.rollout.decision import RolloutDecision

Release = dict[str, Any]


@dataclass(frozen=True)
class Inputs:
    """What every part reads: the spec, the observed world, the clock and the site's policy."""

    spec: Spec
    observed: Observed
    now: dt.datetime
    policy: Policy = field(default_factory=Policy)

    @cached_property
    def ts(self) -> str:
        return rfc3339(self.now)

    @property
    def generation(self) -> int:
        return self.observed.owner.generation

    @cached_property
    def old_status(self) -> dict[str, Any]:
        return dict(self.observed.status or {})

    @cached_property
    def old_conditions(self) -> tuple[Condition, ...]:
        return tuple(self.old_status.get("conditions") or ())


@dataclass(frozen=True)
class Draft:
    """What the parts have decided so far."""

    # The new status, except conditions and history (kept apart, finished last).
    status: Mapping[str, Any]
    conditions: tuple[Condition, ...]
    history: tuple[Mapping[str, Any], ...]
    apply: tuple[dict[str, Any], ...] = ()
    delete: tuple[ChildRef, ...] = ()
    create: tuple[dict[str, Any], ...] = ()
    events: tuple[EventSpec, ...] = ()
    requeue_after: float | None = None
    outcomes: tuple[str, ...] = ()
    retraining_outcome: str | None = None
    # Passed from part to part.
    version: str | None = None  # the concrete version the spec asks for (None: unresolved)
    stable: Release | None = None
    previous: Release | None = None
    problem: Cond | None = None  # what makes the object Degraded while stable keeps serving
    rollout: RolloutDecision | None = None  # the canary state machine's decision, if it ran
    replicas: int = 0  # what the stable Deployment is given
    phase: str = ""
    summary: str = ""
    drift_verdict: str = UNKNOWN
    performance_verdict: str = UNKNOWN  # quality.verdict's; only Degraded may start retraining

    @classmethod
    def start(cls, inputs: Inputs) -> Draft:
        old = inputs.old_status
        return cls(
            status={k: v for k, v in old.items() if k not in ("conditions", "history")},
            conditions=inputs.old_conditions,
            history=tuple(old.get("history") or ()),
            stable=old.get("stable"),
            previous=old.get("previous"),
            replicas=inputs.spec.replicas,
        )

    def but(self, **changes: Any) -> Draft:
        """A copy with some fields replaced."""
        return replace(self, **changes)

    def with_status(self, **fields: Any) -> Draft:
        """A copy whose status has these fields set (None removes a field)."""
        status = dict(self.status)
        for key, value in fields.items():
            if value is None:
                status.pop(key, None)
            else:
                status[key] = value
        return replace(self, status=status)

    def with_condition(self, inputs: Inputs, ctype: str, value: Cond) -> Draft:
        conditions = cond.set_condition(
            self.conditions, ctype, value, now=inputs.ts, generation=inputs.generation
        )
        return replace(self, conditions=tuple(conditions))

    def tell(self, *events: EventSpec) -> Draft:
        return replace(self, events=self.events + tuple(events))

    def wake_in(self, seconds: float | None) -> Draft:
        """Ask to be reconciled again within `seconds` (the earliest request wins)."""
        if seconds is None:
            return self
        if self.requeue_after is not None and self.requeue_after <= seconds:
            return self
        return replace(self, requeue_after=seconds)

    def plan(self, history_limit: int) -> Plan:
        status = dict(self.status)
        status["conditions"] = list(self.conditions)
        status["history"] = list(self.history[-history_limit:])
        return Plan(
            apply=self.apply,
            delete=self.delete,
            create=self.create,
            status=status,
            events=self.events,
            requeue_after=self.requeue_after,
            outcomes=self.outcomes,
            retraining_outcome=self.retraining_outcome,
        )
