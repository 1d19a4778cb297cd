"""A Prometheus on the host for test_performance.py: Debian's prometheus scraping the
operator pod and evaluating the chart's PrometheusRule groups as rule files, so
the test can read which alerts fire.
"""

from __future__ import annotations

import json
import subprocess
import urllib.request
from pathlib import Path
from typing import Any

import pytest
import yaml

from modelops_testkit.prometheus import PROMETHEUS
from tests.chart_tools import by_kind, render
from tests.node.perf_world import wait_for


class AlertingPrometheus:
    """Debian's prometheus scraping the operator pod (honouring its namespace/deployment
    labels, as the chart's ServiceMonitor does) and evaluating the chart's rules."""

    def __init__(self, workdir: Path, operator_target: str) -> None:
        if not PROMETHEUS:
            pytest.fail(
                "a real Prometheus is needed: `apt-get install prometheus` (tools/system-deps.sh)",
                pytrace=False,
            )
        rules = by_kind(render(workdir, alert_values()), "PrometheusRule")
        assert len(rules) == 1, "the chart rendered no PrometheusRule with alerts.enabled"
        (workdir / "rules.yml").write_text(yaml.safe_dump({"groups": rules[0]["spec"]["groups"]}))
        config = {
            "global": {"scrape_interval": "1s", "evaluation_interval": "1s"},
            "rule_files": [str(workdir / "rules.yml")],
            "scrape_configs": [
                {
                    "job_name": "modelops-operator",
                    "honor_labels": True,
                    "scrape_timeout": "1s",
                    "static_configs": [{"targets": [operator_target]}],
                }
            ],
        }
        (workdir / "prometheus.yml").write_text(json.dumps(config))
        from modelops_testkit.net import free_port

        self.port = free_port()
        self.address = f"http://127.0.0.1:{self.port}"
        self.log = (workdir / "prometheus.log").open("wb")
        self.proc = subprocess.Popen(
            [
                PROMETHEUS,
                f"--config.file={workdir / 'prometheus.yml'}",
                f"--storage.tsdb.path={workdir / 'tsdb'}",
                f"--web.listen-address=127.0.0.1:{self.port}",
            ],
            stdout=self.log,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
        wait_for(lambda: self._get("/-/ready") is not None, 60, "the host Prometheus ready")

    def _get(self, path: str) -> bytes | None:
        opener = urllib.request.build_opener(urllib.request.ProxyHandler({}))
        try:
            with opener.open(self.address + path, timeout=3) as response:
                return response.read()
        except OSError:
            return None

    def firing(self) -> dict[str, dict[str, str]]:
        """Firing alerts by name (their labels)."""
        body = self._get("/api/v1/alerts")
        alerts = json.loads(body)["data"]["alerts"] if body else []
        return {a["labels"]["alertname"]: a["labels"] for a in alerts if a["state"] == "firing"}

    def stop(self) -> None:
        self.proc.terminate()
        try:
            self.proc.wait(15)
        except subprocess.TimeoutExpired:
            self.proc.kill()
        self.log.close()


def alert_values() -> dict[str, Any]:
    # The operator's job is this test's own; the alerts fire after 1 s instead of minutes.
    return {
        "alerts": {
            "enabled": True,
            "operatorJob": "modelops-operator",
            "drift": {"for": "1s"},
            "performance": {"for": "1s"},
        }
    }
