"""The operator's canary metrics (prefix modelops_operator_canary_ / _rollouts_ / _analysis_).

Updated by the engine after each reconcile that carried out a canary plan:
* modelops_operator_canary_weight{namespace, name}: traffic percent on the canary now;
* modelops_operator_rollouts_total{outcome}: rollouts ended (Promoted, RolledBack, Superseded);
* modelops_operator_analysis_checks_total{check, verdict}: analysis checks run, by verdict.
"""

from __future__ import annotations

import contextlib
from collections.abc import Iterable, Mapping
from typing import Any

from prometheus_client import Counter, Gauge

CANARY_WEIGHT = Gauge(
    "modelops_operator_canary_weight",
    "Percent of traffic the operator currently routes to the canary of a ModelDeployment.",
    ["namespace", "name"],
)
ROLLOUTS = Counter(
    "modelops_operator_rollouts_total",
    "Canary rollouts that ended, by outcome (Promoted, RolledBack, Superseded).",
    ["outcome"],
)
ANALYSIS_CHECKS = Counter(
    "modelops_operator_analysis_checks_total",
    "Canary analysis checks run, by check name and verdict (Pass, Fail, Inconclusive).",
    ["check", "verdict"],
)


def record(
    namespace: str,
    name: str,
    status: Mapping[str, Any],
    outcomes: Iterable[str],
    results: Iterable[Any] | None,
) -> None:
    canary = status.get("canary") or {}
    CANARY_WEIGHT.labels(namespace=namespace, name=name).set(int(canary.get("weight") or 0))
    for outcome in outcomes:
        ROLLOUTS.labels(outcome=outcome).inc()
    for result in results or ():
        ANALYSIS_CHECKS.labels(check=result.name, verdict=result.verdict).inc()


def forget(namespace: str, name: str) -> None:
    with contextlib.suppress(KeyError):  # never recorded: nothing to forget
        CANARY_WEIGHT.remove(namespace, name)
