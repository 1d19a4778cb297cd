"""Reading the cluster into the timeline: one `Sample` per poll, new Events.

Three sources, each read the way a user would: the ModelDeployment's status
(what the operator decided), its pods (what runs), Prometheus (what the
operator judges by), plus the load generator's own counts per model version
(what callers got). A failing source leaves its fields empty for that sample;
it never stops the demo.
"""

from __future__ import annotations

import contextlib
import json
import math
import urllib.error
import urllib.parse
import urllib.request
from collections.abc import Callable, Mapping
from typing import Any

from .timeline import Event, Sample, TrackMetrics, TrackTraffic

LABEL_DEPLOYMENT = "modelops.io/deployment"
LABEL_TRACK = "modelops.io/track"
RATE_WINDOW = "30s"


def prometheus_queries(namespace: str, name: str) -> dict[str, str]:
    """PromQL per figure, by track, over the serving pods' own metrics."""
    sel = f'namespace="{namespace}",deployment="{name}",endpoint="predict"'
    requests = f"sum by (track) (rate(modelops_requests_total{{{sel}}}[{RATE_WINDOW}]))"
    errors = f'sum by (track) (rate(modelops_requests_total{{{sel},status=~"5.."}}[{RATE_WINDOW}]))'
    return {
        "request_rate": requests,
        "error_rate": f"({errors} or {requests} * 0) / {requests}",
        "p99_seconds": "histogram_quantile(0.99, sum by (track, le) "
        f"(rate(modelops_request_duration_seconds_bucket{{{sel}}}[{RATE_WINDOW}])))",
    }


def query_prometheus(base_url: str, promql: str, timeout: float = 3.0) -> dict[str, float]:
    """An instant query; {track: value} for a vector grouped by track."""
    url = f"{base_url.rstrip('/')}/api/v1/query?{urllib.parse.urlencode({'query': promql})}"
    opener = urllib.request.build_opener(urllib.request.ProxyHandler({}))
    with opener.open(url, timeout=timeout) as response:
        body = json.loads(response.read())
    out: dict[str, float] = {}
    for item in (body.get("data") or {}).get("result") or []:
        track = (item.get("metric") or {}).get("track", "")
        value = float(item["value"][1])
        if not math.isnan(value):
            out[track] = value
    return out


def track_metrics(fetch: Callable[[str], dict[str, float]], queries: Mapping[str, str]):
    """{track: TrackMetrics} from one fetch per figure; a failed figure stays None."""
    result: dict[str, TrackMetrics] = {}
    for figure, promql in queries.items():
        try:
            values = fetch(promql)
        except (OSError, urllib.error.URLError, ValueError, KeyError):
            continue
        for track, value in values.items():
            setattr(result.setdefault(track, TrackMetrics()), figure, value)
    return result


def sample_from_status(t: float, act: str | None, body: Mapping[str, Any] | None) -> Sample:
    """The ModelDeployment's status as a Sample (pods, traffic and metrics filled later)."""
    sample = Sample(t=t, act=act)
    if not body:
        return sample
    status = body.get("status") or {}
    spec = body.get("spec") or {}
    canary = status.get("canary") or {}
    drift = status.get("drift") or {}
    retraining = status.get("retraining") or {}
    sample.phase = status.get("phase")
    sample.stable_version = (status.get("stable") or {}).get("version")
    sample.canary_version = canary.get("version")
    sample.weight = int(canary.get("weight") or 0)
    sample.step = canary.get("step")
    sample.checks = list(canary.get("checks") or [])
    sample.drift_score = drift.get("score")
    sample.drift_features = dict(drift.get("features") or {})
    sample.drift_samples = drift.get("samples")
    sample.drift_threshold = ((spec.get("monitoring") or {}).get("drift") or {}).get("threshold")
    sample.conditions = {
        c["type"]: c.get("status", "Unknown") for c in status.get("conditions") or [] if "type" in c
    }
    sample.retraining_job = retraining.get("job")
    sample.retraining_state = retraining.get("state")
    sample.candidate_version = (retraining.get("candidate") or {}).get("version")
    return sample


def ready_pods(pods: list[Mapping[str, Any]]) -> dict[str, int]:
    """Ready, not terminating pods per track."""
    counts: dict[str, int] = {}
    for pod in pods:
        meta = pod.get("metadata") or {}
        track = (meta.get("labels") or {}).get(LABEL_TRACK)
        if not track or meta.get("deletionTimestamp"):
            continue
        conditions = (pod.get("status") or {}).get("conditions") or []
        ready = any(c.get("type") == "Ready" and c.get("status") == "True" for c in conditions)
        counts[track] = counts.get(track, 0) + int(ready)
    return counts


OPERATOR_COMPONENT = "modelops-operator"


def event_source(item: Mapping[str, Any]) -> str:
    """The string "operator" for the operator's own Events, else the reporting component
    (kubelet, job-controller, ...), so pod noise is never taken for a decision."""
    component = item.get("reportingComponent") or (item.get("source") or {}).get("component")
    if component == OPERATOR_COMPONENT:
        return "operator"
    return component or "kubernetes"


def event_from(item: Mapping[str, Any], t: float) -> Event:
    involved = item.get("involvedObject") or {}
    return Event(
        t=t,
        source=event_source(item),
        reason=item.get("reason") or "",
        message=item.get("message") or "",
        type=item.get("type") or "Normal",
        object=f"{involved.get('kind', '?')}/{involved.get('name', '?')}",
    )


class Observer:
    """Polls one ModelDeployment; `sample()` once a second, `events()` as often."""

    def __init__(
        self,
        kube: Any,
        namespace: str,
        name: str,
        *,
        prometheus_url: str | None,
        drain_traffic: Callable[[], dict[str, TrackTraffic]] | None = None,
    ) -> None:
        self.kube, self.namespace, self.name = kube, namespace, name
        self.prometheus_url = prometheus_url
        self.drain_traffic = drain_traffic
        self.queries = prometheus_queries(namespace, name)
        self._seen_events: set[str] = set()
        self.errors: dict[str, str] = {}  # source -> last error, for the view and logs

    def sample(self, t: float, act: str | None) -> Sample:
        body = self._read(
            "status", lambda: self.kube.get_model_deployment(self.namespace, self.name)
        )
        sample = sample_from_status(t, act, body)
        pods = self._read(
            "pods",
            lambda: self.kube.request(
                "GET",
                f"/api/v1/namespaces/{self.namespace}/pods",
                query={"labelSelector": f"{LABEL_DEPLOYMENT}={self.name}"},
            ).get("items", []),
        )
        sample.ready_pods = ready_pods(pods or [])
        if self.prometheus_url:
            url = self.prometheus_url
            sample.metrics = track_metrics(lambda q: query_prometheus(url, q), self.queries)
        if self.drain_traffic:
            sample.traffic = self.drain_traffic()
        return sample

    def events(self, t: float) -> list[Event]:
        """Events in the namespace not returned before, oldest first."""
        answer = self._read(
            "events",
            lambda: self.kube.request("GET", f"/api/v1/namespaces/{self.namespace}/events"),
        )
        items = sorted(
            (answer or {}).get("items") or [],
            key=lambda e: e.get("lastTimestamp") or e.get("eventTime") or "",
        )
        new = []
        for item in items:
            key = f"{item['metadata'].get('uid')}/{item.get('count', 1)}"
            if key in self._seen_events:
                continue
            self._seen_events.add(key)
            new.append(event_from(item, t))
        return new

    def _read(self, source: str, read: Callable[[], Any]) -> Any:
        try:
            value = read()
        except Exception as exc:  # one failing source must not stop the demo
            self.errors[source] = str(exc)[:300]
            return None
        with contextlib.suppress(KeyError):
            del self.errors[source]
        return value
