"""The world of test_performance.py: its settings, the concept-shifted customers scored
through the Service and their outcomes, the reads of the ModelDeployment, the
background watch on Drifted, and waits that print the operator's state when
they fail.
"""

from __future__ import annotations

import json
import threading
import urllib.request
from typing import Any

from modelops_cli.demo.manifests import Settings
from modelops_cli.demo.stack import OPERATOR_NAMESPACE, LocalStack
from tests.node.support import eventually

SETTINGS = Settings(
    name="churn",
    replicas=2,
    steps=(50,),
    interval_seconds=10,
    min_requests=10,
    rate=8.0,
    fault_version="999",  # no fault injection in this story
    drift_window="60s",
    drift_interval="5s",
    drift_min_samples=200,
)
WINDOW = "15m"  # the performance window: every logged prediction of this test
CUSTOMERS = 4000  # of the shifted world, scored and then labelled
THRESHOLD = 0.7  # live AUC below it is degraded (as trained: about 0.8)
BATCH = 100  # records per /predict request, and outcomes per /feedback request


DIAGNOSE: list[LocalStack] = []  # the stack whose state a failed wait prints


def wait_for(check, timeout: float, what: str):
    """support.eventually, every second, printing the operator's state if it times out."""
    return eventually(check, timeout=timeout, interval=1.0, what=what, diagnose=diagnosis)


def diagnosis() -> str:
    """The ModelDeployment's status and the operator's last log lines, for a failed wait."""
    if not DIAGNOSE:
        return ""
    stack = DIAGNOSE[0]
    out = []
    for args in (
        ("get", "md", SETTINGS.name, "-n", SETTINGS.namespace, "-o", "jsonpath={.status}"),
        ("get", "pods,jobs", "-n", SETTINGS.namespace, "-o", "wide"),
        (
            "logs",
            "-n",
            OPERATOR_NAMESPACE,
            "-l",
            "app.kubernetes.io/name=modelops-operator",
            "--tail=60",
        ),
    ):
        try:
            out.append(f"$ kubectl {' '.join(args)}\n{stack.kubectl(*args, timeout=30)}")
        except Exception as exc:  # diagnostics only: never hide the failure itself
            out.append(f"$ kubectl {' '.join(args)}: {exc}")
    return "\n\n" + "\n".join(out)


def post(host: str, path: str, body: dict, headers: dict[str, str] | None = None) -> int:
    opener = urllib.request.build_opener(urllib.request.ProxyHandler({}))
    request = urllib.request.Request(
        f"http://{host}{path}",
        json.dumps(body).encode(),
        {"Content-Type": "application/json", **(headers or {})},
    )
    with opener.open(request, timeout=30) as response:
        response.read()
        return response.status


def shifted_world(host: str) -> list[dict[str, Any]]:
    """Score CUSTOMERS customers of the concept-shifted world; their outcomes, by request."""
    from modelops_features.churn import RAW_SCHEMA
    from modelops_features.synthetic import churn

    world = churn(CUSTOMERS, seed=8, concept=1.0)
    rows = json.loads(world[[*RAW_SCHEMA.names, "customer_id"]].to_json(orient="records"))
    outcomes = []
    for start in range(0, len(rows), BATCH):
        rid = f"shift-{start}"
        assert post(host, "/predict", {"records": rows[start : start + BATCH]},
                    {"X-Request-Id": rid}) == 200  # fmt: skip
        for i, y in enumerate(world["churned"][start : start + BATCH]):
            outcomes.append({"request_id": rid, "record": i, "outcome": int(y)})
    return outcomes


def md(stack: LocalStack) -> dict[str, Any]:
    return stack.kube.get_model_deployment(SETTINGS.namespace, SETTINGS.name) or {}


def condition(body: dict, ctype: str) -> dict[str, Any]:
    for c in (body.get("status") or {}).get("conditions") or []:
        if c["type"] == ctype:
            return c
    return {}


class DriftWatch:
    """Samples the Drifted condition in the background (it must never be True before phase 4)."""

    def __init__(self, stack: LocalStack) -> None:
        self.stack, self.seen, self._stop = stack, [], threading.Event()
        self.thread = threading.Thread(target=self._run, daemon=True)
        self.thread.start()

    def _run(self) -> None:
        while not self._stop.wait(1.0):
            drifted = condition(md(self.stack), "Drifted")
            if drifted:
                self.seen.append((drifted["status"], drifted["reason"]))

    def stop(self) -> list[tuple[str, str]]:
        self._stop.set()
        self.thread.join(5)
        return self.seen
