"""The Prometheus adapter: the only module of the operator that talks to Prometheus.

It speaks the HTTP API (`/api/v1/query`) and turns every way a query can go
wrong -- connection refused, timeout, HTTP error, a Prometheus error body, a
result that is not a vector -- into one exception, `PrometheusUnavailable`.
Callers (canary analysis, drift monitoring) treat that as *inconclusive*,
never as a pass, so the adapter must never swallow an error into an empty or
zero result.

The standard library's urllib is enough here: the queries are small, issued
from kopf's handler threads, and a new dependency would buy nothing.
"""

from __future__ import annotations

import json
import math
import urllib.error
import urllib.parse
import urllib.request
from dataclasses import dataclass, field

DEFAULT_TIMEOUT_SECONDS = 5.0


class PrometheusUnavailable(RuntimeError):
    """The query could not be answered; the message says why (address, query, cause)."""


@dataclass(frozen=True)
class Sample:
    """One element of an instant vector: its labels and its value (may be NaN)."""

    labels: dict[str, str] = field(default_factory=dict)
    value: float = math.nan


class PrometheusClient:
    """A small, synchronous client for instant queries.

    `query` returns the instant vector (or a one-element list for a scalar);
    an empty list means Prometheus answered "no series", which callers must
    read as "no data" -- distinct from `PrometheusUnavailable`.
    """

    def __init__(self, address: str, timeout: float = DEFAULT_TIMEOUT_SECONDS) -> None:
        if not address.startswith(("http://", "https://")):
            raise ValueError(f"prometheus address must be an http(s) URL, got {address!r}")
        self.address = address.rstrip("/")
        self.timeout = timeout

    def query(self, expr: str, at: float | None = None) -> list[Sample]:
        params = {"query": expr}
        if at is not None:
            params["time"] = f"{at:.3f}"
        body = self._get("/api/v1/query", params, expr)
        return _parse_result(body, self.address, expr)

    def scalar(self, expr: str, at: float | None = None) -> float | None:
        """The single value of a query expected to yield at most one series.

        None when there is no series (no data); NaN is passed through so the
        caller can decide (a 0/0 error ratio is NaN: no requests at all).
        """
        samples = self.query(expr, at)
        if not samples:
            return None
        if len(samples) > 1:
            raise PrometheusUnavailable(
                f"{self.address}: query {expr!r} returned {len(samples)} series, expected one"
            )
        return samples[0].value

    def _get(self, path: str, params: dict[str, str], expr: str) -> dict:
        url = f"{self.address}{path}?{urllib.parse.urlencode(params)}"
        # Prometheus addresses are cluster-internal (or loopback in tests):
        # an environment HTTP proxy must never be used for them.
        opener = urllib.request.build_opener(urllib.request.ProxyHandler({}))
        try:
            with opener.open(url, timeout=self.timeout) as response:
                raw = response.read()
        except urllib.error.HTTPError as exc:
            detail = _error_detail(exc.read())
            raise PrometheusUnavailable(
                f"{self.address}: query {expr!r} failed with HTTP {exc.code}: {detail}"
            ) from exc
        except (urllib.error.URLError, TimeoutError, OSError) as exc:
            reason = getattr(exc, "reason", exc)
            raise PrometheusUnavailable(f"{self.address}: unreachable ({reason})") from exc
        try:
            return json.loads(raw)
        except ValueError as exc:
            raise PrometheusUnavailable(
                f"{self.address}: query {expr!r} answered with a non-JSON body"
            ) from exc


def _error_detail(raw: bytes) -> str:
    try:
        body = json.loads(raw)
        return f"{body.get('errorType', 'error')}: {body.get('error', '')}"
    except ValueError:
        return raw[:200].decode("utf-8", "replace")


def _parse_result(body: dict, address: str, expr: str) -> list[Sample]:
    if body.get("status") != "success":
        raise PrometheusUnavailable(
            f"{address}: query {expr!r} failed: {body.get('errorType')}: {body.get('error')}"
        )
    data = body.get("data") or {}
    kind = data.get("resultType")
    result = data.get("result")
    if kind == "vector":
        return [Sample(dict(s.get("metric", {})), _number(s["value"][1])) for s in result]
    if kind == "scalar":
        return [Sample({}, _number(result[1]))]
    raise PrometheusUnavailable(
        f"{address}: query {expr!r} returned a {kind!r} result; an instant vector was expected"
    )


def _number(text: str) -> float:
    # Prometheus encodes values as strings, including "NaN", "+Inf" and "-Inf";
    # float() understands all three.
    return float(text)
