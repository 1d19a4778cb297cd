"""A scripted Prometheus for the drift and retraining tests.

``FakePrometheus``: a real HTTP server on loopback that answers the
Prometheus instant-query API (`/api/v1/query`) with the bucket counts the
test sets, in exactly the shape Prometheus gives for the operator's three
drift queries. The operator (a separate process) reaches it over HTTP with
its real client. It records the queries it was asked. (The Jobs are played
by tests/plugins/jobs.py.)
"""

from __future__ import annotations

import json
import math
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qs, urlparse


class FakePrometheus:
    """Answers the operator's drift queries from per-feature counts set by the test."""

    def __init__(self) -> None:
        self.numeric: dict[str, tuple[list[float], list[float]]] = {}  # feature -> (edges, counts)
        self.categorical: dict[str, dict[str, float]] = {}
        self.prediction: tuple[list[float], list[float]] | None = None
        self.queries: list[str] = []
        self.down = False
        fake = self

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self) -> None:
                url = urlparse(self.path)
                expr = parse_qs(url.query).get("query", [""])[0]
                fake.queries.append(expr)
                if fake.down:
                    self._send(503, {"status": "error", "error": "scripted outage"})
                    return
                self._send(200, {"status": "success", "data": fake.answer(expr)})

            def _send(self, code: int, body: Any) -> None:
                raw = json.dumps(body).encode()
                self.send_response(code)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(raw)))
                self.end_headers()
                self.wfile.write(raw)

            def log_message(self, *_: Any) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.address = f"http://127.0.0.1:{self.server.server_address[1]}"
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self.thread.start()

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()

    def set_counts(self, profile: dict[str, Any], counts: dict[str, list[float]]) -> None:
        """Per-feature counts in the profile's bucket order (numeric or categorical)."""
        for name, values in counts.items():
            ref = profile["features"][name]
            if ref["kind"] == "numeric":
                self.numeric[name] = (list(ref["edges"]), list(values))
            else:
                self.categorical[name] = dict(zip(ref["categories"], values, strict=True))

    def answer(self, expr: str) -> dict[str, Any]:
        result: list[dict[str, Any]] = []
        if "modelops_feature_value_bucket" in expr:
            for feature, (edges, counts) in self.numeric.items():
                result += _cumulative({"feature": feature}, edges, counts)
        elif "modelops_feature_category_total" in expr:
            for feature, by_value in self.categorical.items():
                for value, count in by_value.items():
                    result.append(_sample({"feature": feature, "value": value}, count))
        elif "modelops_prediction_bucket" in expr and self.prediction is not None:
            result += _cumulative({}, *self.prediction)
        return {"resultType": "vector", "result": result}


def _go_float(x: float) -> str:
    return "+Inf" if math.isinf(x) else repr(float(x)).removesuffix(".0")


def _sample(labels: dict[str, str], value: float) -> dict[str, Any]:
    return {"metric": labels, "value": [1700000000.0, repr(float(value))]}


def _cumulative(labels: dict[str, str], edges: list[float], counts: list[float]) -> list[dict]:
    out, total = [], 0.0
    for edge, count in zip([*edges, math.inf], counts, strict=True):
        total += count
        out.append(_sample({**labels, "le": _go_float(edge)}, total))
    return out
