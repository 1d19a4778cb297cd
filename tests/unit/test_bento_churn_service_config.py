"""The churn service's BentoML settings that keep per-request overhead down (issue 9)."""

from __future__ import annotations

import re

from modelops_bentos.churn import service
from modelops_bentos.common.service import TRACING_ENV, tracing_config


def test_api_routes_are_untraced_by_default_and_only_them() -> None:
    patterns = tracing_config(service.API_ENDPOINTS, {})["excluded_urls"]
    assert len(patterns) == len(service.API_ENDPOINTS)
    for endpoint in service.API_ENDPOINTS:
        assert any(re.search(p, f"http://127.0.0.1:3000/{endpoint}") for p in patterns)
    for path in ("/metrics", "/readyz", "/livez", "/healthz", "/docs.json"):
        assert not any(re.search(p, f"http://127.0.0.1:3000{path}") for p in patterns), path


def test_tracing_comes_back_with_the_environment_switch() -> None:
    for value in ("true", "1", "YES"):
        assert tracing_config(service.API_ENDPOINTS, {TRACING_ENV: value}) == {}
    assert "excluded_urls" in tracing_config(service.API_ENDPOINTS, {TRACING_ENV: "false"})


def test_service_config_turns_off_the_access_log_and_keeps_one_worker() -> None:
    config = service.Churn.config
    assert config["logging"]["access"]["enabled"] is False
    assert config["workers"] == 1
    assert "excluded_urls" in config["tracing"]
