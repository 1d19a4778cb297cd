"""A real Prometheus (Debian's `prometheus` binary) for the e2e tests and the benchmarks.

Each served process is a static target carrying the labels Kubernetes pod
discovery + relabelling would give it (namespace, deployment, track;
charts/modelops-operator/templates/podmonitor.yaml, docs/operator.md), so the
operator's built-in queries run unchanged. Scrapes every second.
"""

from __future__ import annotations

import contextlib
import json
import os
import shutil
import signal
import subprocess
import tempfile
import time
from collections.abc import Iterator
from pathlib import Path

from modelops_testkit import SetupError
from modelops_testkit.net import free_port, http_open

PROMETHEUS = os.environ.get("MODELOPS_PROMETHEUS_BIN") or shutil.which("prometheus")


class PrometheusServer:
    def __init__(self, workdir: Path, targets: dict[str, tuple[str, dict[str, str]]]) -> None:
        if not PROMETHEUS:
            raise SetupError(
                "a real Prometheus is needed: `apt-get install prometheus` "
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
                raise SetupError(f"prometheus exited:\n{self.log_path.read_text()[-3000:]}")
            with contextlib.suppress(OSError), http_open(f"{self.address}/-/ready", timeout=1) as r:
                if r.status == 200:
                    return
            time.sleep(0.2)
        self.stop()
        raise SetupError(f"prometheus not ready in 60 s:\n{self.log_path.read_text()[-3000:]}")

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
