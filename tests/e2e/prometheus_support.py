"""A real Prometheus for the end-to-end tests (Debian's `prometheus` binary).

Each served process is a static target carrying the labels Kubernetes pod
discovery + relabelling would give it (namespace, deployment, track;
charts/modelops-operator/templates/podmonitor.yaml, docs/operator.md), so the
operator's built-in queries run unchanged. Scrapes every second. Used by the
canary and the drift e2e tests.
"""

from __future__ import annotations

import contextlib
import json
import os
import shutil
import signal
import socket
import subprocess
import tempfile
import time
import urllib.request
from collections.abc import Iterator
from pathlib import Path

import pytest

PROMETHEUS = os.environ.get("MODELOPS_PROMETHEUS_BIN") or shutil.which("prometheus")


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def http_open(url: str, data: bytes | None = None, timeout: float = 5.0):
    """urlopen without any environment proxy (loopback only)."""
    opener = urllib.request.build_opener(urllib.request.ProxyHandler({}))
    request = urllib.request.Request(url, data=data)
    if data is not None:
        request.add_header("Content-Type", "application/json")
    return opener.open(request, timeout=timeout)


class PrometheusServer:
    def __init__(self, workdir: Path, targets: dict[str, tuple[str, dict[str, str]]]) -> None:
        if not PROMETHEUS:
            pytest.fail(
                "the e2e tests need a real Prometheus: `apt-get install prometheus` "
                "(Debian's package, installed by tools/system-deps.sh; it is not started by "
                "the install) or set MODELOPS_PROMETHEUS_BIN"
            )
        self.port = free_port()
        self.address = f"http://127.0.0.1:{self.port}"
        # A directory of its own: two servers in one test directory never share a TSDB.
        workdir = Path(tempfile.mkdtemp(prefix="prometheus-", dir=workdir))
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
            with contextlib.suppress(OSError), http_open(f"{self.address}/-/ready", timeout=1) as r:
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
