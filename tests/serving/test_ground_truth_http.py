"""A real `bentoml serve`: what is still queued when SIGTERM arrives is written before exit."""

from __future__ import annotations

import json
import signal
import urllib.request
from pathlib import Path

from modelops_features import groundtruth
from modelops_features import inference_log as il
from modelops_registry.datalog import DataLog
from tests.serving.conftest import TrainedModel, bentoml_server

RECORD = {"tenure_months": 30, "monthly_spend": 20.0, "total_spend": 600.0, "orders": 9,
          "support_tickets": 0, "plan": "standard", "region": "east", "customer_id": "c-http"}  # fmt: skip


def post(url: str, body: dict, request_id: str) -> tuple[int, dict, str]:
    request = urllib.request.Request(
        url,
        data=json.dumps(body).encode(),
        headers={"Content-Type": "application/json", "X-Request-Id": request_id},
    )
    with urllib.request.urlopen(request, timeout=30) as resp:
        return resp.status, json.loads(resp.read()), resp.headers["X-Request-Id"]


def test_sigterm_flushes_the_queued_log_and_feedback(
    churn_model: TrainedModel, tmp_path: Path
) -> None:
    store = tmp_path / "logs"
    env = {
        "MODELOPS_LOG_URI": f"file://{store}",
        "MODELOPS_LOG_SAMPLE": "1",
        # Nothing is written while serving: only the shutdown flush can write.
        "MODELOPS_LOG_FLUSH_SECONDS": "3600",
        "MODELOPS_LOG_SHUTDOWN_SECONDS": "20",
    }
    with bentoml_server(churn_model, tmp_path, env_extra=env) as server:
        for i in range(5):
            status, _, echoed = post(f"{server.url}/predict", {"records": [RECORD]}, f"http-{i}")
            assert (status, echoed) == (200, f"http-{i}")
        status, body, _ = post(
            f"{server.url}/feedback", {"outcomes": [{"request_id": "http-0", "outcome": 1}]}, "fb"
        )
        assert (status, body["accepted"]) == (200, 1)
        assert not list(store.rglob("*.parquet"))
        server.process.send_signal(signal.SIGTERM)  # what the kubelet sends the container
        code = server.process.wait(timeout=60)
        log_text = server.log_tail()
    # One process (modelops_bentos.one_process) exits 0 after the shutdown, as
    # `bentoml serve` did: uvicorn's re-raised SIGTERM does not kill it.
    assert code == 0, log_text
    data = DataLog(f"file://{store}")
    log = groundtruth.read_stream(data, "churn", il.LOG_STREAM, None, None)
    feedback = groundtruth.read_stream(data, "churn", il.FEEDBACK_STREAM, None, None)
    assert sorted(log.data["request_id"].tolist()) == [f"http-{i}" for i in range(5)], log_text
    assert feedback.rows == 1
    assert groundtruth.join(log, feedback).labelled.sum() == 1
