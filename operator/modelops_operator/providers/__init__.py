"""Providers: where the numbers the operator judges come from (the I/O seam of analysis and drift).

Three small protocols, each with a factory that refuses a spec it cannot serve
with an error naming the field (no silent fallback):

* `rollout.analysis.MetricsProvider` (`requests`, `measure`) for canary
  analysis, built by `metrics_provider_for`; a provider error becomes an
  inconclusive check, never a pass;
* `drift.counts.DriftSource` (`histograms`) for drift, built by
  `drift_source_for`; an error makes the drift verdict Unknown, which never
  starts retraining;
* `quality.source.QualitySource` (`window_quality`) for live performance,
  built by `quality_source_for`: the inference log and feedback in the log's
  store (quality.py); an error makes PerformanceDegraded Unknown, which never
  starts retraining either.

Prometheus (prometheus.py) serves both. `MODELOPS_METRICS_PROVIDER_FILE` (an
environment variable of the operator process) replaces the canary analysis'
provider and the live-quality source with the file-backed one in file.py:
the test and demo seam that injects canary health and labelled quality at the
protocol boundary without running Prometheus or writing logs. Drift always
reads Prometheus. Production deployments leave it unset.
"""

from __future__ import annotations

import os
from collections.abc import Mapping

from modelops_operator.api.durations import parse_duration
from modelops_operator.api.spec import Spec
from modelops_operator.drift.counts import DriftSource
from modelops_operator.quality.source import QualitySource
from modelops_operator.rollout.analysis import MetricsProvider

FILE_PROVIDER_ENV = "MODELOPS_METRICS_PROVIDER_FILE"


class ProviderNotConfigured(ValueError):
    """The spec asks for measurements but names no backend."""


def metrics_provider_for(spec: Spec, env: Mapping[str, str] | None = None) -> MetricsProvider:
    """The canary analysis' provider for `spec`."""
    env = os.environ if env is None else env
    if env.get(FILE_PROVIDER_ENV):
        from modelops_operator.providers.file import FileProvider

        return FileProvider(env[FILE_PROVIDER_ENV])
    prometheus = spec.analysis.prometheus
    if prometheus is None:
        raise ProviderNotConfigured(
            "spec.rollout.analysis.prometheus.address is required to run the canary checks"
        )
    from modelops_operator.providers.prometheus import PrometheusProvider

    timeout = parse_duration(prometheus.timeout, field="spec.rollout.analysis.prometheus.timeout")
    return PrometheusProvider(prometheus.address, timeout=timeout)


def drift_source_for(spec: Spec) -> DriftSource:
    """The drift source for `spec`: its monitoring Prometheus, else the analysis one."""
    address = spec.drift_prometheus
    if address is None:
        raise ProviderNotConfigured("spec.monitoring.prometheus.address is not set")
    from modelops_operator.providers.prometheus import PrometheusProvider

    return PrometheusProvider(address)


def quality_source_for(spec: Spec, env: Mapping[str, str] | None = None) -> QualitySource:
    """The live-quality source for `spec`: the file seam when set, else the log's store."""
    env = os.environ if env is None else env
    if env.get(FILE_PROVIDER_ENV):
        from modelops_operator.providers.file import FileProvider

        return FileProvider(env[FILE_PROVIDER_ENV])
    from modelops_operator.providers.quality import LogQualitySource

    return LogQualitySource()
