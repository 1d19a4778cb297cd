"""Providers: the factories, the Prometheus queries (canary and drift), the file-backed seam."""

from __future__ import annotations

import json

import pytest

from modelops_operator.api.spec import Spec
from modelops_operator.drift.counts import DriftScope
from modelops_operator.providers import (
    ProviderNotConfigured,
    drift_source_for,
    metrics_provider_for,
)
from modelops_operator.providers import prometheus as prom
from modelops_operator.providers.file import FileProvider
from modelops_operator.rollout.analysis import AnalysisContext, run

CTX = AnalysisContext(namespace="ml", deployment="churn", track="canary", window_seconds=30)
SELECTOR = '{namespace="ml", deployment="churn", track="canary"}'


def test_builtin_queries_select_the_track_and_the_window():
    assert prom.requests_query(CTX) == f"sum(increase(modelops_requests_total{SELECTOR}[30s]))"
    error = prom.error_rate_query(CTX)
    assert 'status=~"5.."' in error
    assert "or vector(0)" in error
    assert error.endswith(f"/ sum(increase(modelops_requests_total{SELECTOR}[30s]))")
    assert prom.latency_p99_query(CTX) == (
        "histogram_quantile(0.99, sum by (le) "
        f"(rate(modelops_request_duration_seconds_bucket{SELECTOR}[30s])))"
    )


def test_custom_query_placeholders_are_substituted():
    check = {"name": "p", "query": 'x{track="{{track}}",ns="{{namespace}}"}[{{interval}}]'}
    assert prom.query_for(check, CTX) == 'x{track="canary",ns="ml"}[30s]'


def test_unknown_check_without_query_is_refused_by_name():
    with pytest.raises(ValueError, match=r"metrics\[auc\]\.query is required"):
        prom.query_for({"name": "auc", "min": 0.7}, CTX)


def test_factory_needs_a_prometheus_address():
    with pytest.raises(ProviderNotConfigured, match=r"prometheus\.address"):
        metrics_provider_for(Spec({"rollout": {"analysis": {}}}), env={})
    provider = metrics_provider_for(
        Spec({"rollout": {"analysis": {"prometheus": {"address": "http://127.0.0.1:9"}}}}), env={}
    )
    assert isinstance(provider, prom.PrometheusProvider)


def test_unreachable_prometheus_makes_every_check_inconclusive():
    # Port 9 (discard) on loopback refuses connections on these machines.
    provider = prom.PrometheusProvider("http://127.0.0.1:9", timeout=2)
    results = run(provider, [{"name": "error-rate", "max": 0.01}], CTX, min_requests=1)
    assert [r.verdict for r in results] == ["Inconclusive"]
    assert "unreachable" in results[0].message


def test_file_provider_is_selected_by_env_and_read_on_every_call(tmp_path):
    path = tmp_path / "metrics.json"
    provider = metrics_provider_for(Spec({}), env={"MODELOPS_METRICS_PROVIDER_FILE": str(path)})
    assert isinstance(provider, FileProvider)
    metrics = [{"name": "error-rate", "max": 0.01}]
    path.write_text(json.dumps({"ml/churn": {"requests": 50, "values": {"error-rate": 0.2}}}))
    assert [r.verdict for r in run(provider, metrics, CTX, min_requests=10)] == ["Fail"]
    path.write_text(json.dumps({"ml/churn": {"requests": 50, "values": {"error-rate": 0.0}}}))
    assert [r.verdict for r in run(provider, metrics, CTX, min_requests=10)] == ["Pass"]
    path.write_text(json.dumps({"ml/churn": {"unavailable": "prometheus down"}}))
    results = run(provider, metrics, CTX, min_requests=10)
    assert [r.verdict for r in results] == ["Inconclusive"]
    assert "prometheus down" in results[0].message
    path.write_text("{not json")
    assert [r.verdict for r in run(provider, metrics, CTX, min_requests=10)] == ["Inconclusive"]


# --- drift ---------------------------------------------------------------------------------

SCOPE = DriftScope(model="churn", version="3", namespace="ml", deployment="churn", window="1h")


def test_drift_queries_group_all_features_in_one_query_per_family() -> None:
    q = prom.drift_queries(SCOPE)
    sel = 'model="churn",version="3",namespace="ml",deployment="churn",track="stable"'
    assert q["numeric"] == (
        f"sum by (feature, le) (increase(modelops_feature_value_bucket{{{sel}}}[1h]))"
    )
    assert q["categorical"] == (
        f"sum by (feature, value) (increase(modelops_feature_category_total{{{sel}}}[1h]))"
    )
    assert q["prediction"] == f"sum by (le) (increase(modelops_prediction_bucket{{{sel}}}[1h]))"


def test_drift_queries_escape_label_values() -> None:
    q = prom.drift_queries(DriftScope('we"ird', "1", "ml", "x", "5m"))
    assert 'model="we\\"ird"' in q["numeric"]


def test_drift_reads_the_monitoring_prometheus_else_the_analysis_one() -> None:
    monitoring = {"monitoring": {"prometheus": {"address": "http://a"}, "drift": {}}}
    assert drift_source_for(Spec(monitoring)).client.address == "http://a"
    analysis = {"rollout": {"analysis": {"prometheus": {"address": "http://b"}}}}
    assert drift_source_for(Spec(analysis)).client.address == "http://b"
    with pytest.raises(ProviderNotConfigured, match=r"spec\.monitoring\.prometheus\.address"):
        drift_source_for(Spec({"monitoring": {"drift": {}}}))


def test_the_file_seam_never_replaces_drift(tmp_path, monkeypatch) -> None:
    monkeypatch.setenv("MODELOPS_METRICS_PROVIDER_FILE", str(tmp_path / "m.json"))
    spec = Spec({"monitoring": {"prometheus": {"address": "http://a"}, "drift": {}}})
    assert isinstance(drift_source_for(spec), prom.PrometheusProvider)
