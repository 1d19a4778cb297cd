"""Canary analysis: checks in, verdicts out.

A check is one entry of `spec.rollout.analysis.metrics` (error-rate,
latency-p99, or a custom PromQL query with min / max). A metrics provider
(providers/) measures it; this module turns the measurement into a verdict:

* Pass: a number within [min, max].
* Fail: a number outside the bounds (+Inf is outside any max).
* Inconclusive: no data, NaN (0/0: no requests at all), the provider failed
  (Prometheus unreachable, bad query), or the canary saw fewer than
  `minRequests` requests in the step. Never a pass: a canary that nobody
  called has proven nothing.

An analysis with no checks at all (`metrics: []`, which the CRD refuses but an
object stored under an older CRD may still carry) measured nothing, so it is
one Inconclusive result too: a step passes only on evidence, never on the
absence of any.

`run` is the only function that calls the provider; it catches every
provider error, so a broken metrics backend can make a rollout roll back
(through failureLimit) but can never crash the operator.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any, Protocol

PASS = "Pass"
FAIL = "Fail"
INCONCLUSIVE = "Inconclusive"
VERDICTS = (PASS, FAIL, INCONCLUSIVE)

BUILTIN_CHECKS = ("error-rate", "latency-p99")
# The name of the result standing for an analysis that had nothing to check.
NO_CHECKS = "analysis"


@dataclass(frozen=True)
class AnalysisContext:
    """What a provider needs to scope its queries to one track of one ModelDeployment."""

    namespace: str
    deployment: str
    track: str
    window_seconds: float


@dataclass(frozen=True)
class MetricValue:
    """A provider's answer: the query it ran and the number (None: no data)."""

    query: str
    value: float | None


class MetricsProvider(Protocol):
    """Measures checks for a track. Raise any exception when the backend cannot answer."""

    def requests(self, ctx: AnalysisContext) -> MetricValue:
        """Requests the track served within the window."""
        ...

    def measure(self, check: Mapping[str, Any], ctx: AnalysisContext) -> MetricValue:
        """The value of one check for the track within the window."""
        ...


@dataclass(frozen=True)
class CheckResult:
    name: str
    query: str
    value: float | None
    verdict: str
    message: str

    def to_status(self, *, step: int, measured_at: str) -> dict[str, Any]:
        """The status.canary.checks entry. JSON has no NaN/Inf, so those values are left out."""
        entry: dict[str, Any] = {
            "name": self.name,
            "query": self.query,
            "verdict": self.verdict,
            "message": self.message,
            "step": step,
            "measuredAt": measured_at,
        }
        if self.value is not None and math.isfinite(self.value):
            entry["value"] = self.value
        return entry


def _fmt(value: float) -> str:
    return f"{value:.4g}"


def verdict(check: Mapping[str, Any], value: float | None) -> tuple[str, str]:
    """(verdict, message) of one measured value against the check's bounds."""
    name = check["name"]
    if value is None:
        return INCONCLUSIVE, f"{name}: no data"
    if math.isnan(value):
        return INCONCLUSIVE, f"{name}: no value (NaN, e.g. no requests in the window)"
    low, high = check.get("min"), check.get("max")
    if high is not None and value > float(high):
        return FAIL, f"{name} {_fmt(value)} > max {_fmt(float(high))}"
    if low is not None and value < float(low):
        return FAIL, f"{name} {_fmt(value)} < min {_fmt(float(low))}"
    bounds = " and ".join(
        part
        for part in (
            f">= min {_fmt(float(low))}" if low is not None else "",
            f"<= max {_fmt(float(high))}" if high is not None else "",
        )
        if part
    )
    return PASS, f"{name} {_fmt(value)} {bounds}".rstrip()


def nothing_measured() -> CheckResult:
    """The result of an analysis without checks: inconclusive, so it can never pass a step."""
    return CheckResult(
        NO_CHECKS,
        "",
        None,
        INCONCLUSIVE,
        "no checks configured (spec.rollout.analysis.metrics is empty): nothing was measured, "
        "which is never a pass",
    )


def run(
    provider: MetricsProvider,
    metrics: Sequence[Mapping[str, Any]],
    ctx: AnalysisContext,
    min_requests: int,
) -> list[CheckResult]:
    """Measure every check once. Never raises: provider errors become Inconclusive."""
    if not metrics:
        return [nothing_measured()]
    try:
        traffic = provider.requests(ctx)
    except Exception as exc:  # any backend failure is inconclusive, never fatal
        message = f"metrics provider unavailable: {exc}"
        return [CheckResult(m["name"], "", None, INCONCLUSIVE, message) for m in metrics]
    count = traffic.value
    if count is None or math.isnan(count) or count < min_requests:
        seen = "no" if count is None or math.isnan(count) else f"{count:.0f}"
        message = (
            f"{seen} {ctx.track} requests in the last {ctx.window_seconds:g}s, "
            f"fewer than minRequests {min_requests}: not enough traffic to judge"
        )
        return [
            CheckResult(m["name"], traffic.query, count, INCONCLUSIVE, message) for m in metrics
        ]
    results = []
    for check in metrics:
        try:
            measured = provider.measure(check, ctx)
        except Exception as exc:
            results.append(
                CheckResult(check["name"], "", None, INCONCLUSIVE, f"{check['name']}: {exc}")
            )
            continue
        outcome, message = verdict(check, measured.value)
        results.append(CheckResult(check["name"], measured.query, measured.value, outcome, message))
    return results


def passed(results: Sequence[CheckResult]) -> bool:
    """A step passes only when there were checks and every one of them passed.

    No results at all means nothing was measured: not a pass (the issue this
    guards against promoted a canary through every step on "no checks").
    """
    return bool(results) and all(r.verdict == PASS for r in results)


def worst(results: Sequence[CheckResult]) -> CheckResult | None:
    """The result that explains a failed step: the first Fail, else the first Inconclusive."""
    for wanted in (FAIL, INCONCLUSIVE):
        for result in results:
            if result.verdict == wanted:
                return result
    return None
