"""Real parts for the canary end-to-end tests: Prometheus, two churn servers, load.

* `PrometheusServer`: Debian's `prometheus` binary with a scrape config written
  here, scraping every second. Each churn server is a static target carrying
  the labels Kubernetes pod discovery + relabelling would give it (namespace,
  deployment, track; see docs/operator.md), so the operator's built-in
  queries run unchanged.
* `LoadGenerator`: a thread sending /predict requests, each to the canary
  server with the probability the operator's current weight says (read from
  status.canary.weight), else to the stable one, and noting when the canary
  first answered 5xx.
"""

from __future__ import annotations

import contextlib
import json
import os
import shutil
import signal
import socket
import subprocess
import threading
import time
import urllib.error
import urllib.request
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from modelops_bentos.churn.examples import SAMPLE_RECORD

PROMETHEUS = os.environ.get("MODELOPS_PROMETHEUS_BIN") or shutil.which("prometheus")


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def _open(url: str, data: bytes | None = None, timeout: float = 5.0):
    # Loopback only: an environment proxy must never be used.
    opener = urllib.request.build_opener(urllib.request.ProxyHandler({}))
    request = urllib.request.Request(url, data=data)
    if data is not None:
        request.add_header("Content-Type", "application/json")
    return opener.open(request, timeout=timeout)


class PrometheusServer:
    def __init__(self, workdir: Path, targets: dict[str, tuple[str, dict[str, str]]]) -> None:
        if not PROMETHEUS:
            pytest.fail(
                "the canary e2e tests need a real Prometheus: `apt-get install prometheus` "
                "(Debian's package; it is not started by the install) or set MODELOPS_PROMETHEUS_BIN"
            )
        self.port = free_port()
        self.address = f"http://127.0.0.1:{self.port}"
        config = workdir / "prometheus.yml"
        config.write_text(json.dumps(scrape_config(targets)))  # YAML is a superset of JSON
        self.log_path = workdir / "prometheus.log"
        log = self.log_path.open("wb")
        self.proc = subprocess.Popen(
            [
                PROMETHEUS,
                f"--config.file={config}",
                f"--storage.tsdb.path={workdir / 'tsdb'}",
                f"--web.listen-address=127.0.0.1:{self.port}",
                "--storage.tsdb.retention.time=1h",
            ],
            stdout=log,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
        log.close()
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                pytest.fail(f"prometheus exited:\n{self.log_path.read_text()[-3000:]}")
            with contextlib.suppress(OSError), _open(f"{self.address}/-/ready", timeout=1) as r:
                if r.status == 200:
                    return
            time.sleep(0.2)
        pytest.fail(f"prometheus not ready in 60 s:\n{self.log_path.read_text()[-3000:]}")

    def stop(self) -> None:
        if self.proc.poll() is None:
            os.killpg(self.proc.pid, signal.SIGTERM)
            try:
                self.proc.wait(15)
            except subprocess.TimeoutExpired:
                os.killpg(self.proc.pid, signal.SIGKILL)
                self.proc.wait(5)


def scrape_config(targets: dict[str, tuple[str, dict[str, str]]]) -> dict:
    """One job per server; `labels` stand in for relabelled Kubernetes pod labels."""
    return {
        "global": {"scrape_interval": "1s", "evaluation_interval": "1s"},
        "scrape_configs": [
            {
                "job_name": name,
                "scrape_interval": "1s",
                "scrape_timeout": "1s",
                "metrics_path": "/metrics",
                "static_configs": [{"targets": [hostport], "labels": labels}],
            }
            for name, (hostport, labels) in targets.items()
        ],
    }


@contextlib.contextmanager
def prometheus(workdir: Path, targets) -> Iterator[PrometheusServer]:
    server = PrometheusServer(workdir, targets)
    try:
        yield server
    finally:
        server.stop()


class LoadGenerator(threading.Thread):
    """Requests at `rate` per second, split between the tracks by `weight()`."""

    def __init__(self, stable_url: str, canary_url: str, weight: Callable[[], int], rate=40.0):
        super().__init__(name="load", daemon=True)
        self.stable_url, self.canary_url, self.weight = stable_url, canary_url, weight
        self.period = 1.0 / rate
        self.stop_flag = threading.Event()
        self.sent = {"stable": 0, "canary": 0}
        self.errors = {"stable": 0, "canary": 0}
        self.first_canary_error: float | None = None
        self._credit = 0.0
        self.body = json.dumps({"records": [SAMPLE_RECORD]}).encode()

    def _track(self) -> str:
        # Deterministic split: the canary's share of requests equals its weight.
        self._credit += max(0, min(100, self.weight())) / 100.0
        if self._credit >= 1.0:
            self._credit -= 1.0
            return "canary"
        return "stable"

    def run(self) -> None:
        next_at = time.monotonic()
        while not self.stop_flag.is_set():
            track = self._track()
            url = self.canary_url if track == "canary" else self.stable_url
            status = 0
            try:
                with _open(f"{url}/predict", self.body, timeout=5) as r:
                    status = r.status
            except urllib.error.HTTPError as exc:
                status = exc.code
            except OSError:
                status = 599
            self.sent[track] += 1
            if status >= 500:
                self.errors[track] += 1
                if track == "canary" and self.first_canary_error is None:
                    self.first_canary_error = time.monotonic()
            next_at += self.period
            self.stop_flag.wait(max(0.0, next_at - time.monotonic()))

    def stop(self) -> None:
        self.stop_flag.set()
        self.join(10)


class WeightWatcher(threading.Thread):
    """Reads status.canary.weight every 0.2 s; remembers every distinct value and when."""

    def __init__(self, read: Callable[[], dict]) -> None:
        super().__init__(name="weights", daemon=True)
        self.read = read
        self.current = 0
        self.changes: list[tuple[float, int, str | None]] = []
        self.stop_flag = threading.Event()

    def run(self) -> None:
        while not self.stop_flag.is_set():
            self.sample()
            self.stop_flag.wait(0.2)

    def sample(self) -> None:
        with contextlib.suppress(Exception):
            status = self.read().get("status") or {}
            weight = int((status.get("canary") or {}).get("weight") or 0)
            phase = status.get("phase")
            if not self.changes or self.changes[-1][1:] != (weight, phase):
                self.changes.append((time.monotonic(), weight, phase))
            self.current = weight

    def stop(self) -> None:
        self.stop_flag.set()
        self.join(5)
        # The test may see the final phase between two of our polls and stop us
        # before we did: one last sample makes the end state part of `changes`
        # (its timestamp is then at most one poll late).
        self.sample()
