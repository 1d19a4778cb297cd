"""The Prometheus provider: canary checks and drift histograms from the bento's metrics.

Series come from the churn bento (bentos/README.md): `modelops_requests_total`
{endpoint, status} and `modelops_request_duration_seconds` {endpoint}. The
bento does not know its track; Prometheus adds it when scraping. The
queries select on three target labels that the scrape configuration must set
(docs/operator.md shows the relabelling for Kubernetes pod discovery):

    namespace   <- __meta_kubernetes_namespace
    deployment  <- __meta_kubernetes_pod_label_modelops_io_deployment
    track       <- __meta_kubernetes_pod_label_modelops_io_track

Built-in checks over the last analysis interval (the window):
* error-rate: share of 5xx among all requests (4xx are the caller's fault);
* latency-p99: histogram_quantile(0.99) of the request duration, in seconds.
Custom checks run the user's PromQL after substituting {{namespace}},
{{deployment}}, {{track}} and {{interval}}.

Drift reads the stable track's feature histograms over the drift window:
one grouped query per family (numeric buckets by feature and le, categories
by feature and value, prediction buckets by le), so its cost depends on the
number of buckets, never on the number of requests served.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from modelops_operator.adapters.prometheus import DEFAULT_TIMEOUT_SECONDS, PrometheusClient
from modelops_operator.drift.counts import BucketSamples, DriftScope
from modelops_operator.rollout.analysis import AnalysisContext, MetricValue


def window(seconds: float) -> str:
    """A PromQL range no shorter than 1s, in whole seconds."""
    return f"{max(1, round(seconds))}s"


def selector(ctx: AnalysisContext, extra: str = "") -> str:
    parts = [
        f'namespace="{ctx.namespace}"',
        f'deployment="{ctx.deployment}"',
        f'track="{ctx.track}"',
    ]
    if extra:
        parts.append(extra)
    return "{" + ", ".join(parts) + "}"


def requests_query(ctx: AnalysisContext) -> str:
    return f"sum(increase(modelops_requests_total{selector(ctx)}[{window(ctx.window_seconds)}]))"


def error_rate_query(ctx: AnalysisContext) -> str:
    w = window(ctx.window_seconds)
    server_errors = selector(ctx, 'status=~"5.."')
    errors = f"sum(increase(modelops_requests_total{server_errors}[{w}]))"
    # `or vector(0)`: no 5xx series at all means zero errors, not "no data".
    return f"({errors} or vector(0)) / sum(increase(modelops_requests_total{selector(ctx)}[{w}]))"


def latency_p99_query(ctx: AnalysisContext) -> str:
    w = window(ctx.window_seconds)
    return (
        "histogram_quantile(0.99, sum by (le) "
        f"(rate(modelops_request_duration_seconds_bucket{selector(ctx)}[{w}])))"
    )


def custom_query(template: str, ctx: AnalysisContext) -> str:
    return (
        template.replace("{{namespace}}", ctx.namespace)
        .replace("{{deployment}}", ctx.deployment)
        .replace("{{track}}", ctx.track)
        .replace("{{interval}}", window(ctx.window_seconds))
    )


BUILTIN = {"error-rate": error_rate_query, "latency-p99": latency_p99_query}


def query_for(check: Mapping[str, Any], ctx: AnalysisContext) -> str:
    if check.get("query"):
        return custom_query(check["query"], ctx)
    builder = BUILTIN.get(check["name"])
    if builder is None:
        raise ValueError(
            f"metrics[{check['name']}].query is required: only {', '.join(BUILTIN)} are built in"
        )
    return builder(ctx)


# --- drift ---------------------------------------------------------------------------


def _selector(model: str, version: str, namespace: str, deployment: str) -> str:
    # The model and version labels come from the service, the others from the
    # scrape relabelling of the pod labels (charts/.../podmonitor.yaml). The
    # version label pins the profile: counts of another version use other edges.
    labels = {
        "model": model,
        "version": version,
        "namespace": namespace,
        "deployment": deployment,
        "track": "stable",
    }
    return ",".join(f'{k}="{_escape(v)}"' for k, v in labels.items())


def _escape(value: str) -> str:
    return value.replace("\\", "\\\\").replace('"', '\\"')


def drift_queries(scope: DriftScope) -> dict[str, str]:
    """The three PromQL queries of one drift check (each answers with bucket counts only)."""
    sel = _selector(scope.model, scope.version, scope.namespace, scope.deployment)
    window = scope.window
    return {
        "numeric": f"sum by (feature, le) (increase(modelops_feature_value_bucket{{{sel}}}[{window}]))",
        "categorical": (
            f"sum by (feature, value) (increase(modelops_feature_category_total{{{sel}}}[{window}]))"
        ),
        "prediction": f"sum by (le) (increase(modelops_prediction_bucket{{{sel}}}[{window}]))",
    }


class PrometheusProvider:
    """Instant queries through the Prometheus adapter (errors: PrometheusUnavailable)."""

    def __init__(self, address: str, timeout: float = DEFAULT_TIMEOUT_SECONDS) -> None:
        self.client = PrometheusClient(address, timeout=timeout)

    def requests(self, ctx: AnalysisContext) -> MetricValue:
        expr = requests_query(ctx)
        return MetricValue(expr, self.client.scalar(expr))

    def measure(self, check: Mapping[str, Any], ctx: AnalysisContext) -> MetricValue:
        expr = query_for(check, ctx)
        return MetricValue(expr, self.client.scalar(expr))

    def histograms(self, scope: DriftScope) -> BucketSamples:
        answers = {
            family: tuple((s.labels, s.value) for s in self.client.query(expr))
            for family, expr in drift_queries(scope).items()
        }
        return BucketSamples(**answers)
