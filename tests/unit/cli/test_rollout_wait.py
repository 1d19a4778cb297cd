"""`modelops rollout status --wait`: when it stops and with which code (pure parts).

The situations the operator produces are tabled with their exit codes in
tests/unit/operator/reconcile/test_conditions_table.py; these cases are the
ones that must *not* end the wait: a status of an older generation and an
action the operator has not acted on yet.
"""

from __future__ import annotations

from click.testing import CliRunner

from modelops_cli import rollout_wait
from modelops_cli.main import cli


def condition(ctype: str, status: str, reason: str, generation: int = 3, message: str = "m"):
    return {
        "type": ctype,
        "status": status,
        "reason": reason,
        "message": message,
        "observedGeneration": generation,
        "lastTransitionTime": "2026-12-06T00:00:00Z",
    }


def body(*conditions, generation=3, observed=3, annotations=None, **status):
    return {
        "metadata": {"name": "churn", "generation": generation, "annotations": annotations or {}},
        "status": {"observedGeneration": observed, "conditions": list(conditions), **status},
    }


ROLLED_BACK = (
    condition("Ready", "False", "VersionRejected"),
    condition("Progressing", "False", "RolledBack"),
    condition("Degraded", "True", "RolledBack", message="error-rate 0.3 > max 0.01"),
)
SERVING = (
    condition("Ready", "True", "Available"),
    condition("Progressing", "False", "Stable"),
    condition("Degraded", "False", "Healthy"),
)


def test_a_rollback_ends_the_wait_with_its_code_and_the_reason():
    verdict = rollout_wait.verdict(body(*ROLLED_BACK, rejected={"version": "2"}))
    assert verdict.done and verdict.code == rollout_wait.ROLLED_BACK == 3
    assert verdict.line == "churn: version 2 rolled back: error-rate 0.3 > max 0.01"


def test_the_previous_generations_outcome_is_not_reported():
    # The spec moved to generation 4; status still describes generation 3's rollback.
    verdict = rollout_wait.verdict(body(*ROLLED_BACK, generation=4, observed=3))
    assert not verdict.done
    assert verdict.line == "Waiting for the operator to observe generation 4"


def test_a_condition_of_an_older_generation_is_not_reported():
    stale = (condition("Ready", "True", "Available", generation=2), *SERVING[1:])
    verdict = rollout_wait.verdict(body(*stale))
    assert not verdict.done and "observe generation 3" in verdict.line


def test_a_promote_the_operator_has_not_acted_on_keeps_waiting():
    # A retry of a rejected version: annotations do not move the generation.
    pending = body(
        *ROLLED_BACK, annotations={"modelops.io/promote": "t2"}, actions={"promote": "t1"}
    )
    verdict = rollout_wait.verdict(pending)
    assert not verdict.done
    assert verdict.line == "Waiting for the operator to act on modelops.io/promote=t2"
    acted = body(*ROLLED_BACK, annotations={"modelops.io/promote": "t2"}, actions={"promote": "t2"})
    assert rollout_wait.verdict(acted).code == rollout_wait.ROLLED_BACK


def test_no_conditions_yet_keeps_waiting():
    assert not rollout_wait.verdict(body()).done
    assert not rollout_wait.verdict({"metadata": {"name": "churn", "generation": 1}}).done


def test_scaled_to_zero_is_rolled_out():
    scaled = (condition("Ready", "False", "ScaledToZero"), *SERVING[1:])
    assert rollout_wait.verdict(body(*scaled)).code == rollout_wait.ROLLED_OUT


def test_follow_echoes_each_new_line_once_and_stops_at_the_end():
    canary = {"version": "2", "weight": 25, "step": 0, "failures": 0}
    moving = (
        condition("Ready", "False", "RolloutInProgress"),
        condition("Progressing", "True", "AnalysisRunning"),
        condition("Degraded", "False", "Healthy"),
    )
    bodies = [
        body(*SERVING, generation=4, observed=3),
        body(
            *[dict(c, observedGeneration=4) for c in moving],
            generation=4,
            observed=4,
            canary=canary,
        ),
        body(
            *[dict(c, observedGeneration=4) for c in moving],
            generation=4,
            observed=4,
            canary=canary,
        ),
        body(
            *[dict(c, observedGeneration=4) for c in SERVING],
            generation=4,
            observed=4,
            stable={"version": "2"},
        ),
        body(*ROLLED_BACK),  # never read: the wait ended
    ]
    lines: list[str] = []
    final = rollout_wait.follow(bodies, lines.append)
    assert final is not None and final.code == rollout_wait.ROLLED_OUT
    assert lines == [
        "Waiting for the operator to observe generation 4",
        "Waiting for churn rollout to finish: canary version 2 at weight 25% (step 1, failed analyses 0)",
        "churn: successfully rolled out, serving version 2",
    ]


def test_follow_returns_none_when_the_versions_run_out():
    assert rollout_wait.follow([body(*SERVING, generation=4)], lambda _line: None) is None


def test_a_bad_timeout_is_a_usage_error_naming_the_option():
    result = CliRunner().invoke(cli, ["rollout", "status", "churn", "--wait", "--timeout", "soon"])
    assert result.exit_code == 2
    assert "--timeout" in result.output and "soon" in result.output
