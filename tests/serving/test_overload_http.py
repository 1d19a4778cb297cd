"""Overload over real HTTP: wrk at ten times a worker's capacity against `bentoml serve`.

One churn worker is saturated at 16 connections (benchmarks/serving_overload.py,
docs/serving-performance.md "Overload"); wrk keeps 160 connections busy for a
few seconds, every connection sending its next 1-record /predict as soon as the
last is answered, with MODELOPS_MAX_QUEUE_MS at 20 ms so the bound is certain
to be crossed. A probe on one more connection records each answer's status
and latency meanwhile (wrk cannot split its latency by status).

Asserted, structurally: only 200 and 503 come back (no other 5xx, no socket
error or timeout); 503s are present, carry Retry-After and the one error
shape, and come back no slower than the admitted requests; the admitted p99
stays far below the 30 s request timeout; health and /metrics answer during
the load and count the shed requests; the worker survives and answers every
request once the load is gone (after what wrk left queued has drained, for a
caller that honours Retry-After). How fast, exactly, is the benchmark's business.
"""

from __future__ import annotations

import http.client
import json
import re
import shutil
import statistics
import subprocess
import threading
import time
import urllib.request

import pytest

from modelops_bentos.churn.examples import SAMPLE_RECORD
from modelops_testkit import wrk
from tests.plugins.bentos import bentoml_server

BODY = json.dumps({"records": [SAMPLE_RECORD]}).encode()
CONNECTIONS = 160  # ten times the 16 at which one worker is saturated
SECONDS = 6
TIMEOUT_S = 30  # BentoML's traffic.timeout for the services (common/service.py)


class Probe(threading.Thread):
    """One request at a time on its own keep-alive connection, beside wrk."""

    def __init__(self, port: int) -> None:
        super().__init__(daemon=True)
        self.port = port
        self.samples: list[tuple[int, float]] = []  # (status, seconds)
        self.shed_answer: tuple[dict[str, str], bytes] | None = None
        self.stop = threading.Event()

    def run(self) -> None:
        conn = http.client.HTTPConnection("127.0.0.1", self.port, timeout=TIMEOUT_S * 2)
        while not self.stop.is_set():
            started = time.perf_counter()
            conn.request("POST", "/predict", BODY, {"Content-Type": "application/json"})
            response = conn.getresponse()
            body = response.read()
            self.samples.append((response.status, time.perf_counter() - started))
            if response.status == 503 and self.shed_answer is None:
                self.shed_answer = ({k.lower(): v for k, v in response.getheaders()}, body)
            time.sleep(0.01)  # a sample of the load, not more load


@pytest.fixture(scope="module")
def overloadable_server(churn_model, tmp_path_factory):
    env = {"MODELOPS_MAX_QUEUE_MS": "20"}
    with bentoml_server(churn_model, tmp_path_factory.mktemp("overload-logs"), env_extra=env) as s:
        yield s


def run_wrk(url: str, script) -> dict[str, int]:
    if shutil.which("wrk") is None:
        pytest.fail("wrk is missing: install it with tools/system-deps.sh (Debian: apt-get install wrk)")  # fmt: skip
    cmd = ["wrk", "-t1", f"-c{CONNECTIONS}", f"-d{SECONDS}s", "--timeout", f"{TIMEOUT_S}s",
           "-s", str(script), f"{url}/predict"]  # fmt: skip
    out = subprocess.run(cmd, capture_output=True, text=True, check=True, timeout=120).stdout
    got = wrk.status_counts(out)
    assert got is not None, out
    return got


def get(url: str) -> tuple[int, str]:
    with urllib.request.urlopen(url, timeout=TIMEOUT_S) as response:
        return response.status, response.read().decode()


def test_ten_times_capacity_is_shed_fast_and_nothing_else_fails(overloadable_server, tmp_path):
    server = overloadable_server
    port = int(server.url.rsplit(":", 1)[1])
    script = wrk.status_script(BODY.decode(), tmp_path / "overload.lua")
    probe = Probe(port)
    during: list[tuple[int, str]] = []

    def health_during_load() -> None:
        time.sleep(SECONDS / 2)
        during.append(get(f"{server.url}/readyz"))
        during.append(get(f"{server.url}/metrics"))

    checker = threading.Thread(target=health_during_load)
    probe.start()
    checker.start()
    counts = run_wrk(server.url, script)
    probe.stop.set()
    probe.join(timeout=TIMEOUT_S * 2)
    checker.join(timeout=TIMEOUT_S * 2)

    assert counts["other"] == 0 and counts["socket_errors"] == 0, counts
    assert counts["shed"] > 0, f"ten times capacity must be shed: {counts}"
    assert counts["ok"] > 0, f"admitted requests are answered under overload: {counts}"
    statuses = {status for status, _ in probe.samples}
    assert statuses <= {200, 503}, statuses

    admitted = [s for status, s in probe.samples if status == 200]
    shed = [s for status, s in probe.samples if status == 503]
    assert admitted and shed, f"the probe saw both answers: {len(admitted)} / {len(shed)}"
    admitted_p99 = max(admitted) if len(admitted) < 100 else statistics.quantiles(admitted, n=100)[98]  # fmt: skip
    assert admitted_p99 < TIMEOUT_S / 6, (
        f"admitted p99 {admitted_p99:.1f} s: the queue is not bounded"
    )
    assert statistics.median(shed) <= admitted_p99, "a 503 waits no longer than admitted work"

    headers, body = probe.shed_answer
    assert headers["retry-after"] == "1" and headers.get("x-request-id")
    error = json.loads(body)
    assert "MODELOPS_MAX_QUEUE_MS" in error["error"]
    assert error["detail"] == [{"loc": ["server"], "type": "overloaded"}]

    readyz, metrics = during
    assert readyz[0] == 200 and metrics[0] == 200, "health and /metrics are never shed"
    shed_total = re.search(r'modelops_shed_requests_total\{[^}]*endpoint="predict"[^}]*\} (\S+)', metrics[1])  # fmt: skip
    assert shed_total and float(shed_total.group(1)) > 0, "shed requests are counted"


def test_the_worker_answers_normally_once_the_load_is_gone(overloadable_server):
    server = overloadable_server
    assert server.process.poll() is None, "the server survived the overload"
    conn = http.client.HTTPConnection("127.0.0.1", int(server.url.rsplit(":", 1)[1]), timeout=30)

    def post() -> tuple[int, str | None]:
        conn.request("POST", "/predict", BODY, {"Content-Type": "application/json"})
        response = conn.getresponse()
        response.read()
        return response.status, response.getheader("retry-after")

    # What wrk left queued drains first; a caller honouring Retry-After gets in.
    first = []
    for _ in range(10):
        status, retry_after = post()
        first.append(status)
        if status != 503:
            break
        time.sleep(float(retry_after or 1))
    assert first[-1] == 200, f"not answered after the load: {first}"
    statuses = [post()[0] for _ in range(20)]
    assert statuses == [200] * 20, statuses
