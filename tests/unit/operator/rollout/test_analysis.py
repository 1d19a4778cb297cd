"""Analysis verdicts, table-tested: pass, fail, and every way to be inconclusive."""

from __future__ import annotations

import math

import pytest

from modelops_operator.api.spec import Spec
from modelops_operator.rollout import analysis
from modelops_operator.rollout.analysis import (
    FAIL,
    INCONCLUSIVE,
    PASS,
    AnalysisContext,
    CheckResult,
    MetricValue,
)

CTX = AnalysisContext(namespace="ml", deployment="churn", track="canary", window_seconds=60)


@pytest.mark.parametrize(
    ("check", "value", "verdict", "text"),
    [
        ({"name": "error-rate", "max": 0.01}, 0.0, PASS, "error-rate 0 <= max 0.01"),
        ({"name": "error-rate", "max": 0.01}, 0.01, PASS, "<= max 0.01"),
        ({"name": "error-rate", "max": 0.01}, 0.3, FAIL, "error-rate 0.3 > max 0.01"),
        ({"name": "latency-p99", "max": 0.25}, math.inf, FAIL, "inf > max 0.25"),
        ({"name": "score", "min": 0.7}, 0.69, FAIL, "score 0.69 < min 0.7"),
        ({"name": "score", "min": 0.7, "max": 1}, 0.8, PASS, ">= min 0.7 and <= max 1"),
        ({"name": "score", "min": 0.7}, -math.inf, FAIL, "< min"),
        ({"name": "error-rate", "max": 0.01}, None, INCONCLUSIVE, "no data"),
        ({"name": "error-rate", "max": 0.01}, math.nan, INCONCLUSIVE, "NaN"),
    ],
)
def test_verdict_table(check, value, verdict, text):
    got, message = analysis.verdict(check, value)
    assert got == verdict
    assert text in message


class TableProvider:
    """A provider answering from a dict; a value that is an exception is raised."""

    def __init__(self, requests, values):
        self.requests_value = requests
        self.values = values
        self.measured: list[str] = []

    def requests(self, ctx):
        if isinstance(self.requests_value, Exception):
            raise self.requests_value
        return MetricValue("requests-query", self.requests_value)

    def measure(self, check, ctx):
        self.measured.append(check["name"])
        value = self.values[check["name"]]
        if isinstance(value, Exception):
            raise value
        return MetricValue(f"q-{check['name']}", value)


METRICS = [{"name": "error-rate", "max": 0.01}, {"name": "latency-p99", "max": 0.25}]


def verdicts(results):
    return [(r.name, r.verdict) for r in results]


def test_all_within_bounds_pass():
    provider = TableProvider(500, {"error-rate": 0.0, "latency-p99": 0.1})
    results = analysis.run(provider, METRICS, CTX, min_requests=100)
    assert verdicts(results) == [("error-rate", PASS), ("latency-p99", PASS)]
    assert results[0].query == "q-error-rate"
    assert analysis.passed(results)


def test_too_few_requests_is_inconclusive_and_skips_the_checks():
    provider = TableProvider(99, {"error-rate": 0.0, "latency-p99": 0.1})
    results = analysis.run(provider, METRICS, CTX, min_requests=100)
    assert verdicts(results) == [("error-rate", INCONCLUSIVE), ("latency-p99", INCONCLUSIVE)]
    assert "99 canary requests" in results[0].message
    assert "minRequests 100" in results[0].message
    assert provider.measured == []
    assert not analysis.passed(results)


@pytest.mark.parametrize("requests", [None, math.nan])
def test_no_request_data_is_inconclusive(requests):
    results = analysis.run(TableProvider(requests, {}), METRICS, CTX, min_requests=1)
    assert {r.verdict for r in results} == {INCONCLUSIVE}
    assert "no canary requests" in results[0].message


def test_provider_unreachable_is_inconclusive_never_raises():
    provider = TableProvider(ConnectionRefusedError("connection refused"), {})
    results = analysis.run(provider, METRICS, CTX, min_requests=1)
    assert {r.verdict for r in results} == {INCONCLUSIVE}
    assert "metrics provider unavailable: connection refused" in results[0].message


def test_one_failing_query_is_inconclusive_the_others_still_judged():
    provider = TableProvider(500, {"error-rate": RuntimeError("bad query"), "latency-p99": 0.9})
    results = analysis.run(provider, METRICS, CTX, min_requests=1)
    assert verdicts(results) == [("error-rate", INCONCLUSIVE), ("latency-p99", FAIL)]
    assert analysis.worst(results).name == "latency-p99"  # a Fail explains more than a gap


def test_status_entry_omits_values_json_cannot_carry():
    nan = CheckResult("error-rate", "q", math.nan, INCONCLUSIVE, "m").to_status(
        step=1, measured_at="2026-11-23T12:00:00Z"
    )
    assert "value" not in nan
    ok = CheckResult("error-rate", "q", 0.5, FAIL, "m").to_status(step=1, measured_at="t")
    assert ok == {
        "name": "error-rate",
        "query": "q",
        "value": 0.5,
        "verdict": FAIL,
        "message": "m",
        "step": 1,
        "measuredAt": "t",
    }


def test_settings_defaults_follow_the_crd():
    settings = Spec({"rollout": {}}).analysis
    assert [m["name"] for m in settings.metrics] == ["error-rate", "latency-p99"]
    assert (settings.min_requests, settings.failure_limit) == (100, 2)
    spec = {"rollout": {"analysis": {"minRequests": 5, "failureLimit": 1, "metrics": []}}}
    settings = Spec(spec).analysis
    assert (settings.metrics, settings.min_requests, settings.failure_limit) == ((), 5, 1)


def test_no_checks_measured_nothing_and_is_inconclusive():
    # metrics: [] once promoted a canary through every step on "no checks configured".
    provider = TableProvider(500, {})
    results = analysis.run(provider, [], CTX, min_requests=1)
    assert verdicts(results) == [("analysis", INCONCLUSIVE)]
    assert "nothing was measured" in results[0].message
    assert not analysis.passed(results)


@pytest.mark.parametrize(
    ("requests", "why"),
    [
        (ConnectionRefusedError("connection refused"), "metrics provider unavailable"),
        (0, "0 canary requests"),
        (None, "no canary requests"),
    ],
    ids=["prometheus-unreachable", "zero-requests", "no-request-data"],
)
def test_no_checks_and_no_measurement_never_pass(requests, why):
    for metrics in ([], METRICS):
        results = analysis.run(TableProvider(requests, {}), metrics, CTX, min_requests=1)
        assert {r.verdict for r in results} == {INCONCLUSIVE}
        assert not analysis.passed(results)
        if metrics:
            assert why in results[0].message


def test_an_empty_result_list_is_not_a_pass():
    assert not analysis.passed([])
