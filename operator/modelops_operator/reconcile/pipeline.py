"""The pure heart of the operator: reconcile(spec, observed, now) -> Plan.

No I/O happens here. The engine (runtime/engine.py) gathers an `Observed`
through the adapters and providers, calls `reconcile`, writes the plan's
status in one guarded patch, and only then acts on it (children, Jobs) and
tells (Events). Everything the operator decides -- which version is stable,
the rollout's next step, the drift and performance verdicts, whether a retraining Job starts,
the conditions, the events, the history -- is decided here, so it can be
table-tested exactly.

The decision is made by parts that share one signature, `part(inputs,
draft) -> draft` (draft.py), run in this order:

1. release.decide     which release is stable; strategies and the canary state machine
2. health.report      phase, Ready / Progressing / Degraded from the stable Deployment
3. children.children  the Deployments, Service and router objects to apply or delete
4. health.tell        Events for health transitions; the serving fields of status
5. drift.report       status.drift, Drifted and its Events, from a measurement that was due
6. performance.report status.performance, PerformanceDegraded and its Events, likewise
7. retraining.report  status.retraining, Retraining, its Events and the Job to create
8. batch.report       status.batch, its Events, a batch run's Job and the schedule's CronJob

A part never writes what another part owns, and status keeps every field no
part changed (a re-reconcile of a settled object is a fixed point: the plan's
status equals the observed one, and nothing is written).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Mapping
from typing import Any

from modelops_operator.api.spec import Spec
from modelops_operator.reconcile import (
    batch,
    children,
    drift,
    health,
    performance,
    release,
    retraining,
)
from modelops_operator.reconcile.draft import Draft, Inputs
from modelops_operator.reconcile.plan import Observed, Plan, Policy

HISTORY_LIMIT = 10

Part = Callable[[Inputs, Draft], Draft]
PARTS: tuple[Part, ...] = (
    release.decide,
    health.report,
    children.children,
    health.tell,
    drift.report,
    performance.report,
    retraining.report,
    batch.report,
)


def reconcile(
    spec: Spec | Mapping[str, Any],
    observed: Observed,
    now: dt.datetime,
    policy: Policy | None = None,
) -> Plan:
    """Decide the status, children, Jobs and Events for one ModelDeployment.

    `spec` is typed (api/spec.py); a raw spec mapping is read through it.
    """
    inputs = Inputs(Spec.of(spec), observed, now, policy or Policy())
    draft = Draft.start(inputs)
    for part in PARTS:
        draft = part(inputs, draft)
    return draft.plan(HISTORY_LIMIT)
