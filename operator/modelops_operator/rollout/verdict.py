"""Analysis verdicts for a canary step (pure): when one is due and what it means.

The metrics provider measures (analysis.py); this module turns a step's
check results into the rollout's next move — advance to the next step,
promote after the last one, hold the step after a tolerated failure, or roll
back once `failureLimit` failed or inconclusive analyses have accumulated.
Inconclusive counts as a failure here because not enough traffic is never a
pass, and neither is an analysis that measured nothing (no checks, every
check inconclusive, no metrics backend): only measured evidence advances.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from modelops_operator.api import conditions as cond
from modelops_operator.api import names
from modelops_operator.api.conditions import Cond
from modelops_operator.api.objects import DeploymentState
from modelops_operator.api.spec import Spec
from modelops_operator.api.times import parse_time
from modelops_operator.rollout import analysis
from modelops_operator.rollout.decision import describe
from modelops_operator.rollout.state import canary_ready, is_promoting

# The moves a verdict can ask of the state machine.
ADVANCE = "Advance"
PROMOTE = "Promote"
HOLD = "Hold"
ROLL_BACK = "RollBack"


@dataclass(frozen=True)
class StepVerdict:
    """The move a step's analysis asks for, the AnalysisPassed condition it sets, and the
    canary status after it (checks recorded, step or failures moved on)."""

    move: str  # ADVANCE, PROMOTE, HOLD or ROLL_BACK
    condition: Cond
    why: str  # the promotion reason, or the failure summary for HOLD and ROLL_BACK
    canary: dict[str, Any]


def analysis_due(
    spec: Spec,
    status: Mapping[str, Any],
    deployments: Mapping[str, DeploymentState],
    now: dt.datetime,
) -> bool:
    """True when the current step's interval is over and its canary pods are available.

    The engine asks this before reconciling, to query the metrics provider
    only when a verdict is needed. Raises SpecError for a rollout it cannot read.
    """
    canary = status.get("canary")
    if not canary or is_promoting(status) or not canary.get("weight"):
        return False
    if not canary_ready(deployments.get(names.TRACK_CANARY), canary):
        return False
    started = parse_time(canary.get("stepStartedAt"))
    return started is None or (now - started).total_seconds() >= spec.interval.seconds


def judge(
    spec: Spec, canary: Mapping[str, Any], results: Sequence[analysis.CheckResult], ts: str
) -> StepVerdict:
    """The verdict on the current step, with the canary status it leaves (a new dict)."""
    rollout, limit = spec.rollout, spec.analysis.failure_limit
    # No results (a spec without checks whose provider could not even be built)
    # is an analysis that measured nothing: inconclusive, and it says so.
    results = list(results) or [analysis.nothing_measured()]
    step = canary["step"]
    judged = {**canary, "checks": [r.to_status(step=step, measured_at=ts) for r in results]}
    if analysis.passed(results):
        condition = cond.true(
            cond.REASON_ANALYSIS_PASSED,
            f"step {step + 1}/{len(rollout.steps)} passed: "
            + "; ".join(r.message for r in results),
        )
        if step + 1 >= len(rollout.steps):
            return StepVerdict(PROMOTE, condition, "every step passed its analysis", judged)
        judged.update(step=step + 1, weight=rollout.steps[step + 1], stepStartedAt=ts)
        return StepVerdict(ADVANCE, condition, describe(judged, rollout), judged)
    worst = analysis.worst(results)
    reason_text = worst.message if worst else "analysis failed"
    failures = int(canary.get("failures") or 0) + 1
    judged["failures"] = failures
    summary = f"{reason_text} (failed or inconclusive analyses: {failures}/{limit})"
    condition = cond.false(cond.REASON_ANALYSIS_FAILED, summary)
    if failures >= limit:
        return StepVerdict(ROLL_BACK, condition, summary, judged)
    # Tolerated: stay at this step and measure again after another interval.
    judged["stepStartedAt"] = ts
    return StepVerdict(HOLD, condition, summary, judged)
