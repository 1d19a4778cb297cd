"""The demo's load generator (against a real local HTTP server) and the pure
parts of its observer (status -> Sample, pods -> ready counts, Prometheus
answers -> per-track metrics)."""

from __future__ import annotations

import http.server
import json
import threading
import time

import pytest

from modelops_cli.demo import observe, traffic
from modelops_cli.demo.timeline import TrackMetrics


class _Handler(http.server.BaseHTTPRequestHandler):
    # Odd requests answer as version 1, even ones as version 2 failing with 500.
    counter = 0
    lock = threading.Lock()

    def do_POST(self):  # the http.server API names it
        length = int(self.headers["Content-Length"])
        body = json.loads(self.rfile.read(length))
        assert set(body) == {"records"} and len(body["records"]) == 1
        with self.lock:
            type(self).counter += 1
            n = type(self).counter
        status, version = (200, "1") if n % 2 else (500, "2")
        self.send_response(status)
        self.send_header(traffic.VERSION_HEADER, version)
        self.send_header("Content-Length", "2")
        self.end_headers()
        self.wfile.write(b"{}")

    def log_message(self, *args):
        pass


@pytest.fixture
def server():
    httpd = http.server.ThreadingHTTPServer(("127.0.0.1", 0), _Handler)
    thread = threading.Thread(target=httpd.serve_forever, daemon=True)
    thread.start()
    yield httpd
    httpd.shutdown()


def test_records_are_json_ready_and_shift_moves_them():
    plain = traffic.records(500, seed=1, shift=0.0)
    shifted = traffic.records(500, seed=1, shift=1.0)
    json.dumps(plain)  # no NaN, no numpy scalars
    assert {"customer_id", "tenure_months", "plan", "region"} <= set(plain[0])
    assert "churned" not in plain[0]
    mean = lambda rs: sum(r["monthly_spend"] for r in rs) / len(rs)  # noqa: E731
    assert mean(shifted) > 1.3 * mean(plain)


def test_load_generator_counts_per_version(server):
    gen = traffic.LoadGenerator("127.0.0.1", server.server_address[1], rate=100, threads=2)
    with gen:
        deadline = time.monotonic() + 10
        while sum(t.requests for t in gen.totals.values()) < 40 and time.monotonic() < deadline:
            time.sleep(0.05)
    window = gen.drain()
    assert window["1"].ok == window["1"].requests > 0
    assert window["2"].errors == window["2"].requests > 0
    assert abs(window["1"].requests - window["2"].requests) <= 2
    assert window["1"].p99_ms is not None and window["1"].p99_ms >= window["1"].p50_ms
    assert gen.drain() == {}  # drained


def test_transport_failure_counts_as_error_without_version():
    gen = traffic.LoadGenerator("127.0.0.1", 9, timeout=1)  # discard port: refused
    version, status, _ = gen.send(b"{}")
    assert (version, status) == (traffic.NO_VERSION, 0)


@pytest.mark.parametrize(
    ("values", "q", "expected"),
    [([], 50, None), ([5.0], 99, 5.0), ([1, 2, 3, 4], 50, 2), (list(range(1, 101)), 99, 99)],
)
def test_percentile(values, q, expected):
    assert traffic.percentile(values, q) == expected


def test_sample_from_status_reads_every_field():
    body = {
        "spec": {"monitoring": {"drift": {"threshold": 0.2}}},
        "status": {
            "phase": "Progressing",
            "stable": {"version": "1"},
            "canary": {"version": "2", "weight": 25, "step": 0},
            "drift": {"score": 0.31, "features": {"tenure": 0.31}, "samples": 900},
            "conditions": [{"type": "Drifted", "status": "True"}],
            "retraining": {"job": "j", "state": "Running", "candidate": {"version": "4"}},
        },
    }
    s = observe.sample_from_status(3.0, "promote", body)
    assert (s.phase, s.stable_version, s.canary_version, s.weight, s.step) == (
        "Progressing",
        "1",
        "2",
        25,
        0,
    )
    assert (s.drift_score, s.drift_threshold, s.drift_samples) == (0.31, 0.2, 900)
    assert s.conditions == {"Drifted": "True"}
    assert (s.retraining_job, s.retraining_state, s.candidate_version) == ("j", "Running", "4")
    empty = observe.sample_from_status(1.0, None, None)
    assert empty.phase is None and empty.weight == 0


def _pod(track, ready, terminating=False):
    meta = {"labels": {observe.LABEL_TRACK: track}}
    if terminating:
        meta["deletionTimestamp"] = "2026-12-05T00:00:00Z"
    status = {"conditions": [{"type": "Ready", "status": "True" if ready else "False"}]}
    return {"metadata": meta, "status": status}


def test_ready_pods_skip_unready_and_terminating():
    pods = [
        _pod("stable", True),
        _pod("stable", True),
        _pod("stable", True, terminating=True),
        _pod("canary", False),
        _pod("canary", True),
    ]
    assert observe.ready_pods(pods) == {"stable": 2, "canary": 1}


def test_track_metrics_tolerates_a_failing_query():
    answers = {"request_rate": {"stable": 15.0, "canary": 5.0}, "p99_seconds": {"canary": 0.02}}

    def fetch(promql):
        for figure, query in observe.prometheus_queries("ml", "churn").items():
            if query == promql:
                if figure not in answers:
                    raise OSError("connection refused")
                return answers[figure]
        raise AssertionError(promql)

    metrics = observe.track_metrics(fetch, observe.prometheus_queries("ml", "churn"))
    assert metrics == {
        "stable": TrackMetrics(request_rate=15.0),
        "canary": TrackMetrics(request_rate=5.0, p99_seconds=0.02),
    }


def test_prometheus_queries_select_the_deployment_and_endpoint():
    queries = observe.prometheus_queries("ml", "churn")
    for promql in queries.values():
        assert 'namespace="ml",deployment="churn",endpoint="predict"' in promql
        assert "by (track" in promql


@pytest.mark.parametrize(
    ("item", "source"),
    [
        ({"reportingComponent": "modelops-operator"}, "operator"),
        ({"source": {"component": "modelops-operator"}}, "operator"),
        ({"reportingComponent": "", "source": {"component": "kubelet"}}, "kubelet"),
        ({}, "kubernetes"),
    ],
)
def test_event_source_tells_the_operator_from_the_rest(item, source):
    assert observe.event_source(item) == source
