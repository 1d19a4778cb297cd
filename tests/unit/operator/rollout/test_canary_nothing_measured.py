"""A canary step whose analysis measured nothing never advances (reconcile, pure).

No checks, every check inconclusive, or no results at all (the engine's path
when a spec without checks has no metrics backend): each counts as an
inconclusive analysis against failureLimit, so the weight stays at the first
step and the rollout rolls back at the limit, never promotes.
"""

from __future__ import annotations

import pytest

from modelops_operator.rollout import analysis
from modelops_operator.rollout.analysis import INCONCLUSIVE, AnalysisContext, CheckResult
from tests.unit.operator.rollout.world import World, history, run_to_step_one, spec

UNREACHABLE = (
    CheckResult("error-rate", "", None, INCONCLUSIVE, "metrics provider unavailable: refused"),
    CheckResult("latency-p99", "", None, INCONCLUSIVE, "metrics provider unavailable: refused"),
)
CTX = AnalysisContext(namespace="ml", deployment="churn", track="canary", window_seconds=30)
NO_TRAFFIC = (
    CheckResult("error-rate", "q", 0.0, INCONCLUSIVE, "0 canary requests, fewer than 10"),
)


@pytest.mark.parametrize(
    ("analysis_spec", "results", "reason"),
    [
        ({"metrics": []}, (), "nothing was measured"),
        ({"metrics": []}, None, "nothing was measured"),
        ({}, UNREACHABLE, "metrics provider unavailable"),
        ({}, NO_TRAFFIC, "0 canary requests"),
    ],
    ids=["no-checks-no-results", "no-checks-run", "prometheus-unreachable", "no-traffic"],
)
def test_nothing_measured_holds_the_first_step_then_rolls_back(analysis_spec, results, reason):
    world = World(spec(**analysis_spec))
    run_to_step_one(world)
    if results is None:
        # What analysis.run returns for an empty check list.
        results = tuple(analysis.run(_NeverCalled(), [], CTX, min_requests=10))
    world.reconcile(results, advance=30)
    assert world.status["canary"]["weight"] == 10, "an inconclusive step holds its weight"
    assert world.status["canary"]["failures"] == 1
    passed = next(c for c in world.status["conditions"] if c["type"] == "AnalysisPassed")
    assert passed["status"] == "False"
    assert reason in passed["message"]
    world.reconcile(results, advance=30)
    assert world.status["phase"] == "RolledBack"
    assert history(world)[-1] == ("4", "RolledBack")
    assert reason in world.status["rejected"]["reason"]


class _NeverCalled:
    def requests(self, ctx):
        raise AssertionError("an analysis without checks must not need the provider")

    def measure(self, check, ctx):
        raise AssertionError("an analysis without checks must not need the provider")
