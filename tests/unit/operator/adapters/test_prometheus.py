"""The Prometheus adapter over real HTTP (a local stub server speaking the API's shapes).

Every failure mode must surface as PrometheusUnavailable (inconclusive), never
as an empty or zero result; "no series" must stay distinguishable from both.
"""

from __future__ import annotations

import json
import math
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest

from modelops_operator.adapters.prometheus import PrometheusClient, PrometheusUnavailable

ANSWERS: dict[str, tuple[int, bytes]] = {
    "vector": (
        200,
        json.dumps(
            {
                "status": "success",
                "data": {
                    "resultType": "vector",
                    "result": [
                        {"metric": {"track": "canary"}, "value": [1.0, "0.25"]},
                        {"metric": {"track": "stable"}, "value": [1.0, "NaN"]},
                    ],
                },
            }
        ).encode(),
    ),
    "one": (
        200,
        json.dumps(
            {
                "status": "success",
                "data": {
                    "resultType": "vector",
                    "result": [{"metric": {}, "value": [1.0, "+Inf"]}],
                },
            }
        ).encode(),
    ),
    "empty": (
        200,
        json.dumps({"status": "success", "data": {"resultType": "vector", "result": []}}).encode(),
    ),
    "scalar": (
        200,
        json.dumps(
            {"status": "success", "data": {"resultType": "scalar", "result": [1.0, "3"]}}
        ).encode(),
    ),
    "matrix": (
        200,
        json.dumps({"status": "success", "data": {"resultType": "matrix", "result": []}}).encode(),
    ),
    "bad": (
        400,
        json.dumps(
            {"status": "error", "errorType": "bad_data", "error": "parse error at char 3"}
        ).encode(),
    ),
    "html": (200, b"<html>proxy</html>"),
}


class _Handler(BaseHTTPRequestHandler):
    def do_GET(self) -> None:
        from urllib.parse import parse_qs, urlparse

        query = parse_qs(urlparse(self.path).query)["query"][0]
        status, body = ANSWERS[query]
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, *args: object) -> None:
        pass


@pytest.fixture(scope="module")
def prom() -> PrometheusClient:
    server = ThreadingHTTPServer(("127.0.0.1", 0), _Handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield PrometheusClient(f"http://127.0.0.1:{server.server_address[1]}", timeout=2)
    server.shutdown()


def test_vector_keeps_labels_and_nan(prom: PrometheusClient) -> None:
    samples = prom.query("vector")
    assert [s.labels for s in samples] == [{"track": "canary"}, {"track": "stable"}]
    assert samples[0].value == 0.25
    assert math.isnan(samples[1].value)


@pytest.mark.parametrize(
    ("expr", "expected"),
    [("one", math.inf), ("empty", None), ("scalar", 3.0)],
)
def test_scalar(prom: PrometheusClient, expr: str, expected: float | None) -> None:
    assert prom.scalar(expr) == expected


@pytest.mark.parametrize(
    ("expr", "fragment"),
    [
        ("bad", "HTTP 400: bad_data: parse error"),
        ("matrix", "'matrix' result"),
        ("html", "non-JSON"),
        ("vector", "returned 2 series"),
    ],
)
def test_errors_are_unavailable_with_reason(
    prom: PrometheusClient, expr: str, fragment: str
) -> None:
    with pytest.raises(PrometheusUnavailable, match=fragment.replace("(", r"\(")):
        prom.scalar(expr)


def test_unreachable_is_unavailable() -> None:
    # Port 9 (discard) on loopback: nothing listens there in tests.
    client = PrometheusClient("http://127.0.0.1:9", timeout=1)
    with pytest.raises(PrometheusUnavailable, match="unreachable"):
        client.query("up")


def test_address_must_be_http() -> None:
    with pytest.raises(ValueError, match="http"):
        PrometheusClient("prometheus:9090")
