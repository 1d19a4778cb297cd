"""A real Prometheus for the drift end-to-end tests (Debian's `prometheus` binary).

The served churn process is one static target carrying the labels that the
Kubernetes pod relabelling gives a stable pod (namespace, deployment, track;
charts/modelops-operator/templates/podmonitor.yaml), so the operator's drift
queries run unchanged. Scrapes every second.
"""

from __future__ import annotations

import contextlib
import json
import os
import shutil
import signal
import socket
import subprocess
import time
import urllib.request
from collections.abc import Iterator
from pathlib import Path

import pytest

PROMETHEUS = os.environ.get("MODELOPS_PROMETHEUS_BIN") or shutil.which("prometheus")


def http_open(url: str, data: bytes | None = None, timeout: float = 5.0):
    """urlopen without any environment proxy (loopback only)."""
    opener = urllib.request.build_opener(urllib.request.ProxyHandler({}))
    request = urllib.request.Request(url, data=data)
    if data is not None:
        request.add_header("Content-Type", "application/json")
    return opener.open(request, timeout=timeout)


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@contextlib.contextmanager
def prometheus(workdir: Path, target: str, labels: dict[str, str]) -> Iterator[str]:
    """Run Prometheus scraping `target` (host:port) with `labels`; yields its base URL."""
    if not PROMETHEUS:
        pytest.fail(
            "the drift e2e tests need a real Prometheus: `apt-get install prometheus` "
            "(Debian's package; make system-deps) or set MODELOPS_PROMETHEUS_BIN"
        )
    port = _free_port()
    config = workdir / "prometheus-drift.yml"
    config.write_text(
        json.dumps(  # YAML is a superset of JSON
            {
                "global": {"scrape_interval": "1s", "evaluation_interval": "1s"},
                "scrape_configs": [
                    {
                        "job_name": "churn",
                        "scrape_interval": "1s",
                        "scrape_timeout": "1s",
                        "static_configs": [{"targets": [target], "labels": labels}],
                    }
                ],
            }
        )
    )
    log_path = workdir / "prometheus-drift.log"
    with log_path.open("wb") as log:
        proc = subprocess.Popen(
            [
                PROMETHEUS,
                f"--config.file={config}",
                f"--storage.tsdb.path={workdir / 'tsdb-drift'}",
                f"--web.listen-address=127.0.0.1:{port}",
                "--storage.tsdb.retention.time=1h",
            ],
            stdout=log,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
    address = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 60
        while True:
            if proc.poll() is not None:
                pytest.fail(f"prometheus exited:\n{log_path.read_text()[-3000:]}")
            with contextlib.suppress(OSError), http_open(f"{address}/-/ready", timeout=1) as r:
                if r.status == 200:
                    break
            if time.monotonic() > deadline:
                pytest.fail(f"prometheus not ready in 60 s:\n{log_path.read_text()[-3000:]}")
            time.sleep(0.2)
        yield address
    finally:
        if proc.poll() is None:
            os.killpg(proc.pid, signal.SIGTERM)
            try:
                proc.wait(15)
            except subprocess.TimeoutExpired:
                os.killpg(proc.pid, signal.SIGKILL)
                proc.wait(5)
