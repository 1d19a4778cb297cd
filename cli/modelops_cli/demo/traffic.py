"""Steady traffic to a ModelDeployment's Service, counted per model version.

The demo (and the node tests, and benchmarks/real_loop.py) send /predict
requests to the Service's ClusterIP, so the cluster's own routing (kube-proxy's
rules over the pods of both tracks) decides which pod answers — the load
generator never picks a track. Every answer carries the model version in the
`X-Modelops-Model-Version` header, which is how requests are attributed to a
version (and so to a track) without asking the cluster.

Each request opens a new connection: a kept-alive connection would stay pinned
to one pod by conntrack and hide the Service's balancing (and a pod that goes
away would break it, counting an error the cluster did not make).

Records come from the features package's seeded synthetic generator; switching
the `shift` makes the traffic drift (covariate shift), which is how act three
starts.
"""

from __future__ import annotations

import http.client
import itertools
import json
import math
import threading
import time
from collections import defaultdict
from dataclasses import dataclass, field
from typing import Any

from .timeline import TrackTraffic

VERSION_HEADER = "X-Modelops-Model-Version"
NO_VERSION = "none"  # transport failures and answers without the header
RECORDS_PER_POOL = 2000


def records(n: int, seed: int, shift: float) -> list[dict[str, Any]]:
    """`n` request records from the synthetic churn generator (JSON-ready)."""
    from modelops_features import synthetic
    from modelops_features.churn import TARGET

    frame = synthetic.churn(n, seed=seed, shift=shift).drop(columns=[TARGET])
    out = []
    for row in frame.to_dict(orient="records"):
        out.append({k: _plain(v) for k, v in row.items()})
    return out


def _plain(value: Any) -> Any:
    # pandas' missing values (NaN, pd.NA) become JSON null; numpy scalars plain numbers.
    if value is None:
        return None
    try:
        if value != value:  # NaN
            return None
    except TypeError:  # pd.NA refuses comparison
        return None
    return value.item() if hasattr(value, "item") else value


def percentile(values: list[float], q: float) -> float | None:
    """The q-th percentile (0..100) by nearest rank; None for no values."""
    if not values:
        return None
    ordered = sorted(values)
    rank = max(0, min(len(ordered) - 1, math.ceil(q / 100 * len(ordered)) - 1))
    return ordered[rank]


@dataclass
class _Window:
    requests: int = 0
    ok: int = 0
    errors: int = 0
    latencies_ms: list[float] = field(default_factory=list)

    def add(self, status: int, latency_ms: float) -> None:
        self.requests += 1
        if 200 <= status < 300:
            self.ok += 1
        elif status >= 500 or status == 0:
            self.errors += 1
        self.latencies_ms.append(latency_ms)

    def summary(self) -> TrackTraffic:
        return TrackTraffic(
            requests=self.requests,
            ok=self.ok,
            errors=self.errors,
            p50_ms=percentile(self.latencies_ms, 50),
            p99_ms=percentile(self.latencies_ms, 99),
        )


class LoadGenerator:
    """`rate` requests per second from `threads` senders to http://host:port/predict.

    `drain()` returns what was seen per model version since the previous drain
    (the live view's and the timeline's per-second figures); `totals` keeps the
    counts of the whole run per version.
    """

    def __init__(
        self,
        host: str,
        port: int = 80,
        *,
        rate: float = 20.0,
        threads: int = 4,
        timeout: float = 5.0,
        seed: int = 11,
    ) -> None:
        self.host, self.port, self.timeout = host, port, timeout
        self.rate, self.threads = rate, threads
        self._seed = seed
        self._lock = threading.Lock()
        self._window: dict[str, _Window] = defaultdict(_Window)
        self.totals: dict[str, TrackTraffic] = defaultdict(TrackTraffic)
        self._stop = threading.Event()
        self._workers: list[threading.Thread] = []
        self._bodies: list[bytes] = []
        self._cycle: itertools.cycle | None = None
        self.shift = 0.0
        self.set_shift(0.0)

    # -- traffic shape -------------------------------------------------------

    def set_shift(self, shift: float) -> None:
        """Send records drawn with this covariate shift from now on (0 = as trained)."""
        pool = records(RECORDS_PER_POOL, seed=self._seed + int(shift * 1000), shift=shift)
        bodies = [json.dumps({"records": [r]}).encode() for r in pool]
        with self._lock:
            self._bodies = bodies
            self._cycle = itertools.cycle(bodies)
            self.shift = shift

    def next_body(self) -> bytes:
        with self._lock:
            assert self._cycle is not None
            return next(self._cycle)

    # -- lifecycle -----------------------------------------------------------

    def start(self) -> LoadGenerator:
        self._stop.clear()
        period = self.threads / self.rate
        for index in range(self.threads):
            worker = threading.Thread(
                target=self._run,
                args=(period, index * period / self.threads),
                name=f"load-{index}",
                daemon=True,
            )
            worker.start()
            self._workers.append(worker)
        return self

    def stop(self) -> None:
        self._stop.set()
        for worker in self._workers:
            worker.join(self.timeout + 1)
        self._workers = []

    def __enter__(self) -> LoadGenerator:
        return self.start()

    def __exit__(self, *exc_info: Any) -> None:
        self.stop()

    # -- results -------------------------------------------------------------

    def drain(self) -> dict[str, TrackTraffic]:
        with self._lock:
            window, self._window = self._window, defaultdict(_Window)
        return {version: w.summary() for version, w in window.items()}

    # -- sending -------------------------------------------------------------

    def _run(self, period: float, offset: float) -> None:
        next_at = time.monotonic() + offset
        while not self._stop.wait(max(0.0, next_at - time.monotonic())):
            next_at += period
            if next_at < time.monotonic() - 1.0:
                # Far behind (a slow answer): skip the backlog rather than burst.
                next_at = time.monotonic() + period
            version, status, latency_ms = self.send(self.next_body())
            self._record(version, status, latency_ms)

    def send(self, body: bytes) -> tuple[str, int, float]:
        """One POST /predict on a fresh connection: (version, status, milliseconds).

        Status 0 means the request got no HTTP answer at all (refused, reset,
        timed out).
        """
        started = time.perf_counter()
        connection = http.client.HTTPConnection(self.host, self.port, timeout=self.timeout)
        try:
            connection.request(
                "POST",
                "/predict",
                body=body,
                headers={"Content-Type": "application/json", "Connection": "close"},
            )
            response = connection.getresponse()
            response.read()
            version = response.getheader(VERSION_HEADER) or NO_VERSION
            return version, response.status, (time.perf_counter() - started) * 1000
        except (OSError, http.client.HTTPException):
            return NO_VERSION, 0, (time.perf_counter() - started) * 1000
        finally:
            connection.close()

    def _record(self, version: str, status: int, latency_ms: float) -> None:
        with self._lock:
            self._window[version].add(status, latency_ms)
            total = self.totals[version]
            total.requests += 1
            if 200 <= status < 300:
                total.ok += 1
            elif status >= 500 or status == 0:
                total.errors += 1
