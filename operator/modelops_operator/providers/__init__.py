"""Metrics providers: where canary analysis gets its numbers.

The protocol is `analysis.MetricsProvider` (two methods: `requests` and
`measure`). `provider_for` builds one from `spec.rollout.analysis` and refuses
a spec it cannot serve with a clear error (which the analysis turns into an
inconclusive check, never a pass).

`MODELOPS_METRICS_PROVIDER_FILE` (an environment variable of the operator
process) replaces every provider with the file-backed one in file.py. It is
the test and demo seam: cluster tests inject canary health at the protocol
boundary without running Prometheus. Production deployments leave it unset.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from typing import Any

from modelops_operator.api.durations import parse_duration
from modelops_operator.rollout.analysis import MetricsProvider

FILE_PROVIDER_ENV = "MODELOPS_METRICS_PROVIDER_FILE"


class ProviderNotConfigured(ValueError):
    """The spec lists checks but names no metrics backend."""


def provider_for(spec: Mapping[str, Any], env: Mapping[str, str] | None = None) -> MetricsProvider:
    env = os.environ if env is None else env
    if env.get(FILE_PROVIDER_ENV):
        from modelops_operator.providers.file import FileProvider

        return FileProvider(env[FILE_PROVIDER_ENV])
    analysis = (spec.get("rollout") or {}).get("analysis") or {}
    prometheus = analysis.get("prometheus") or {}
    if not prometheus.get("address"):
        raise ProviderNotConfigured(
            "spec.rollout.analysis.prometheus.address is required to run the canary checks"
        )
    from modelops_operator.providers.prometheus import PrometheusProvider

    timeout = parse_duration(
        prometheus.get("timeout") or "10s", field="spec.rollout.analysis.prometheus.timeout"
    )
    return PrometheusProvider(prometheus["address"], timeout=timeout)
